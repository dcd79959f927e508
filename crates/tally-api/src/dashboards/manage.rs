//! What the API and CLI do with dashboards: list, read, create, replace and delete, a
//! key limited to projects seeing and changing only its projects' dashboards (the
//! built-in ones are listed for every caller and change for none).

use chrono::Utc;
use rand::RngCore;
use tally_store::StoredDashboard;

use super::builtin::builtins;
use super::{BUILTIN_IDS, Dashboard, DashboardError, DashboardSpec, definition};
use crate::{Analytics, Error, Result};

/// Which projects' dashboards a caller sees: `None` every one; else the global ones
/// stay hidden and only these projects' are seen.
pub type Visible<'a> = Option<&'a [String]>;

fn visible_to(project: Option<&String>, visible: Visible<'_>) -> bool {
    visible.is_none_or(|projects| project.is_some_and(|p| projects.contains(p)))
}

fn forbidden(field: &str, message: String) -> Error {
    Error::Dashboard(DashboardError::Forbidden {
        field: field.to_owned(),
        message,
    })
}

/// A fresh id: `d-` and 10 hex digits.
fn new_id() -> String {
    let n = rand::rng().next_u64();
    format!("d-{:010x}", n & 0xff_ffff_ffff)
}

/// The spec's project as the caller may use it (a key limited to one project gets
/// it by default), every widget naming no other project.
fn checked_project(spec: &DashboardSpec, visible: Visible<'_>) -> Result<Option<String>> {
    let project = match (visible, &spec.project) {
        (None, project) => project.clone(),
        (Some(projects), Some(p)) if projects.contains(p) => Some(p.clone()),
        (Some(projects), Some(p)) => {
            return Err(forbidden(
                "project",
                format!(
                    "this key may not use project {p:?}; allowed: {}",
                    projects.join(", ")
                ),
            ));
        }
        (Some([only]), None) => Some(only.clone()),
        (Some(projects), None) => {
            return Err(forbidden(
                "project",
                format!(
                    "this key is limited to several projects: name one of {}",
                    projects.join(", ")
                ),
            ));
        }
    };
    if let Some(owner) = &project {
        for (i, widget) in spec.widgets.iter().enumerate() {
            if let Some(named) = &widget.filters.project
                && named != owner
            {
                return Err(forbidden(
                    &format!("widgets[{i}].filters.project"),
                    format!(
                        "a widget of a dashboard of project {owner:?} may not show project {named:?}"
                    ),
                ));
            }
        }
    }
    Ok(project)
}

fn read_only(id: &str) -> Error {
    Error::Dashboard(DashboardError::Conflict(format!(
        "dashboard {id:?} is built in and read-only: export it and import a copy under another id to change it"
    )))
}

impl Analytics {
    /// The built-in dashboards, then the stored ones the caller sees, by id.
    ///
    /// # Errors
    /// The store fails.
    pub fn dashboards(&self, visible: Visible<'_>) -> Result<Vec<Dashboard>> {
        let mut all = builtins();
        for stored in self.store.dashboards()? {
            if visible_to(stored.project.as_ref(), visible) {
                all.push(Dashboard::from_stored(stored)?);
            }
        }
        Ok(all)
    }

    /// One dashboard the caller sees.
    ///
    /// # Errors
    /// [`DashboardError::Unknown`] (also for one the caller may not see), or the store
    /// fails.
    pub fn dashboard(&self, id: &str, visible: Visible<'_>) -> Result<Dashboard> {
        if let Some(builtin) = builtins().into_iter().find(|d| d.id == id) {
            return Ok(builtin);
        }
        match self.store.dashboard(id)? {
            Some(stored) if visible_to(stored.project.as_ref(), visible) => {
                Ok(Dashboard::from_stored(stored)?)
            }
            _ => Err(DashboardError::Unknown(id.to_owned()).into()),
        }
    }

    /// Stores a new dashboard (under its own id, else a new one).
    ///
    /// # Errors
    /// [`DashboardError::Forbidden`] for a project the caller may not use,
    /// [`DashboardError::Conflict`] for an id taken, or the store fails.
    pub fn create_dashboard(&self, spec: DashboardSpec, visible: Visible<'_>) -> Result<Dashboard> {
        let project = checked_project(&spec, visible)?;
        let now = Utc::now();
        let mut stored = StoredDashboard {
            id: spec.id.clone().unwrap_or_else(new_id),
            project,
            name: spec.name,
            definition: definition(&spec.widgets),
            created_at: now,
            updated_at: now,
        };
        if BUILTIN_IDS.contains(&stored.id.as_str()) {
            return Err(read_only(&stored.id));
        }
        while !self.store.create_dashboard(&stored)? {
            if spec.id.is_some() {
                // Whether another project's dashboard holds the id is not told.
                return Err(Error::Dashboard(DashboardError::Conflict(format!(
                    "dashboard id {:?} is taken: replace it (PUT) or pick another id",
                    stored.id
                ))));
            }
            stored.id = new_id();
        }
        self.dashboard(&stored.id, None)
    }

    /// Replaces a stored dashboard's name, project and widgets.
    ///
    /// # Errors
    /// [`DashboardError::Unknown`], [`DashboardError::Conflict`] for a built-in one,
    /// [`DashboardError::Invalid`] for an id in the body that is not this one,
    /// [`DashboardError::Forbidden`], or the store fails.
    pub fn update_dashboard(
        &self,
        id: &str,
        spec: DashboardSpec,
        visible: Visible<'_>,
    ) -> Result<Dashboard> {
        if BUILTIN_IDS.contains(&id) {
            return Err(read_only(id));
        }
        let existing = self.dashboard(id, visible)?;
        if spec.id.as_deref().is_some_and(|given| given != id) {
            return Err(Error::Dashboard(DashboardError::Invalid {
                field: "id".into(),
                message: format!("the body names another dashboard than {id:?}"),
            }));
        }
        let project = checked_project(&spec, visible)?;
        let stored = StoredDashboard {
            id: id.to_owned(),
            project,
            name: spec.name,
            definition: definition(&spec.widgets),
            created_at: existing.created_at.unwrap_or_else(Utc::now),
            updated_at: Utc::now(),
        };
        if !self.store.update_dashboard(&stored)? {
            return Err(DashboardError::Unknown(id.to_owned()).into());
        }
        self.dashboard(id, None)
    }

    /// Deletes a stored dashboard.
    ///
    /// # Errors
    /// [`DashboardError::Unknown`], [`DashboardError::Conflict`] for a built-in one, or
    /// the store fails.
    pub fn delete_dashboard(&self, id: &str, visible: Visible<'_>) -> Result<()> {
        if BUILTIN_IDS.contains(&id) {
            return Err(read_only(id));
        }
        self.dashboard(id, visible)?;
        if self.store.delete_dashboard(id)? {
            Ok(())
        } else {
            Err(DashboardError::Unknown(id.to_owned()).into())
        }
    }
}
