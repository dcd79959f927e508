//! Saved dashboards: a named layout of widgets, each a view of the API with its filters
//! and a chart kind (`widget.rs`), stored through [`tally_store::DashboardStore`] as
//! JSON; the built-in executive and technical dashboards are the same kind of data,
//! read-only (`builtin.rs`). What the API and CLI do with them is in `manage.rs`.
//!
//! Bounds: at most [`MAX_WIDGETS`] widgets, a name of at most [`MAX_NAME_CHARS`]
//! characters, a widget title of at most [`MAX_TITLE_CHARS`], a filter value of at most
//! [`MAX_TEXT_CHARS`]; an id is 1 to [`MAX_ID_CHARS`] of `a-z 0-9 - _`.

mod builtin;
mod manage;
mod widget;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use tally_store::StoredDashboard;

pub use builtin::BUILTIN_IDS;
pub use manage::Visible;
pub use widget::{Chart, FilterName, Filters, Period, QaStatus, View, Widget};

use widget::{invalid, object, text};

/// Most widgets on one dashboard.
pub const MAX_WIDGETS: usize = 24;
/// Longest dashboard name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest widget title, in characters.
pub const MAX_TITLE_CHARS: usize = 80;
/// Longest filter value (a project, model, tool, agent or user), in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest dashboard id.
pub const MAX_ID_CHARS: usize = 64;

/// What is wrong with a dashboard or a change to one.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The body is not a valid dashboard; `field` names what is wrong (`widgets[1].chart`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The dashboard (or a widget) names a project the caller's key may not use.
    #[error("{field}: {message}")]
    Forbidden { field: String, message: String },
    /// No dashboard of this id (or none the caller may see).
    #[error("no dashboard {0:?}")]
    Unknown(String),
    /// The id is taken, or the dashboard is a built-in one (read-only).
    #[error("{0}")]
    Conflict(String),
}

/// A dashboard as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub id: String,
    pub name: String,
    /// The project it belongs to; `None`: global.
    pub project: Option<String>,
    /// A built-in dashboard: always listed, read-only.
    pub builtin: bool,
    pub widgets: Vec<Widget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A dashboard as a client sends it to create or replace one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSpec {
    /// Kept on import; a new one is made when absent.
    pub id: Option<String>,
    pub name: String,
    pub project: Option<String>,
    pub widgets: Vec<Widget>,
}

/// Whether `id` is a valid dashboard id.
fn check_id(id: &str, field: &str) -> Result<(), DashboardError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("1 to {MAX_ID_CHARS} characters of a-z, 0-9, - and _, got {id:?}"),
        ))
    }
}

impl DashboardSpec {
    /// A dashboard from a JSON body. An exported dashboard reads back as it was: its
    /// `builtin`, `created_at` and `updated_at` are taken and ignored.
    ///
    /// # Errors
    /// [`DashboardError::Invalid`] naming the field that is wrong.
    pub fn from_json(value: &Value) -> Result<DashboardSpec, DashboardError> {
        let map = object(
            value,
            "",
            &[
                "id",
                "name",
                "project",
                "widgets",
                "builtin",
                "created_at",
                "updated_at",
            ],
        )?;
        let id = match map.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => {
                check_id(id, "id")?;
                Some(id.clone())
            }
            Some(_) => return Err(invalid("id", "expected a string")),
        };
        let name = text(
            map.get("name").ok_or_else(|| invalid("name", "missing"))?,
            "name",
            MAX_NAME_CHARS,
        )?;
        let project = match map.get("project") {
            None | Some(Value::Null) => None,
            Some(value) => Some(text(value, "project", MAX_TEXT_CHARS)?),
        };
        let widgets = match map.get("widgets") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > MAX_WIDGETS {
                    return Err(invalid(
                        "widgets",
                        format!(
                            "at most {MAX_WIDGETS} widgets on a dashboard, got {}",
                            items.len()
                        ),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Widget::from_json(item, &format!("widgets[{i}]")))
                    .collect::<Result<_, _>>()?
            }
            Some(_) => return Err(invalid("widgets", "expected an array")),
        };
        Ok(DashboardSpec {
            id,
            name,
            project,
            widgets,
        })
    }
}

/// The stored layout: the widgets.
fn definition(widgets: &[Widget]) -> String {
    json!({ "widgets": widgets }).to_string()
}

impl Dashboard {
    /// A stored dashboard read back (its definition was validated when stored).
    fn from_stored(stored: StoredDashboard) -> Result<Dashboard, DashboardError> {
        let value: Value = serde_json::from_str(&stored.definition).map_err(|e| {
            invalid(
                "definition",
                format!("stored dashboard {:?} is not JSON: {e}", stored.id),
            )
        })?;
        let widgets = match value.get("widgets") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Widget::from_json(item, &format!("widgets[{i}]")))
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        Ok(Dashboard {
            id: stored.id,
            name: stored.name,
            project: stored.project,
            builtin: false,
            widgets,
            created_at: Some(stored.created_at),
            updated_at: Some(stored.updated_at),
        })
    }
}

#[cfg(test)]
mod tests;
