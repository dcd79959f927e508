//! What the API and CLI do with alert rules: list them with their state, create,
//! update and delete stored rules (tally.toml's change only in the file), read the
//! history in pages, list what fires, and send a test notification.

use chrono::Utc;
use serde::Serialize;
use tally_store::{AlertStateRecord, AlertTransitionRecord, StoredAlertRule};

use super::engine::{RuleSource, SourcedRule, load_rules, scope_of};
use super::{AlertRule, AlertStatus, Notification, NotificationEvent, Notify};
use crate::{Analytics, Error, Result};

/// Most transitions one history read returns.
pub const MAX_HISTORY_PAGE: usize = 1000;
/// Transitions a history read returns when no limit is asked.
pub const DEFAULT_HISTORY_PAGE: usize = 100;

/// A rule, where it is defined and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRuleView {
    #[serde(flatten)]
    pub rule: AlertRule,
    pub source: RuleSource,
    /// `None` until the rule is first evaluated.
    pub state: Option<AlertStateRecord>,
}

impl AlertRuleView {
    pub fn is_firing(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(|s| s.status == AlertStatus::Firing.as_str())
    }
}

/// One page of the history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertHistoryPage {
    pub transitions: Vec<AlertTransitionRecord>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// A test notification as sent, with the channels it went to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentTest {
    #[serde(flatten)]
    pub notification: Notification,
    pub channels: Vec<String>,
}

/// Which projects' rules a caller sees: `None` every rule; else only rules limited to
/// one of these projects.
pub type Visible<'a> = Option<&'a [String]>;

fn visible_to(project: Option<&String>, visible: Visible<'_>) -> bool {
    visible.is_none_or(|projects| project.is_some_and(|p| projects.contains(p)))
}

fn invalid(message: &str) -> Error {
    let (field, rest) = message.split_once(": ").unwrap_or(("rule", message));
    Error::AlertInvalid {
        field: field.to_owned(),
        message: rest.to_owned(),
    }
}

impl Analytics {
    fn sourced_rules(&self) -> Result<Vec<SourcedRule>> {
        load_rules(&*self.store, &self.config().alerts)
    }

    /// Every rule the caller sees, tally.toml's first, with its state.
    ///
    /// # Errors
    /// The store fails.
    pub fn alert_rules(&self, visible: Visible<'_>) -> Result<Vec<AlertRuleView>> {
        let states = self.store.alert_states()?;
        Ok(self
            .sourced_rules()?
            .into_iter()
            .filter(|r| visible_to(r.rule.project.as_ref(), visible))
            .map(|SourcedRule { rule, source }| AlertRuleView {
                state: states.iter().find(|s| s.rule == rule.name).cloned(),
                rule,
                source,
            })
            .collect())
    }

    /// One rule the caller sees.
    ///
    /// # Errors
    /// [`Error::UnknownAlert`] (also for a rule the caller may not see), or the store fails.
    pub fn alert_rule(&self, name: &str, visible: Visible<'_>) -> Result<AlertRuleView> {
        self.alert_rules(visible)?
            .into_iter()
            .find(|r| r.rule.name == name)
            .ok_or_else(|| Error::UnknownAlert(name.to_owned()))
    }

    /// The rules that fire now.
    ///
    /// # Errors
    /// The store fails.
    pub fn firing_alerts(&self, visible: Visible<'_>) -> Result<Vec<AlertRuleView>> {
        Ok(self
            .alert_rules(visible)?
            .into_iter()
            .filter(AlertRuleView::is_firing)
            .collect())
    }

    /// Checks a rule as the API and CLI take it: valid, its channels configured, and
    /// limited to one of the caller's projects when the caller is limited.
    fn check_rule(&self, rule: &AlertRule, visible: Visible<'_>) -> Result<()> {
        rule.validate().map_err(|e| invalid(&e))?;
        let channels = &self.config().channels;
        if let Some(unknown) = rule.channels.iter().find(|c| !channels.contains_key(*c)) {
            let known: Vec<&str> = channels.keys().map(String::as_str).collect();
            return Err(Error::AlertInvalid {
                field: "channels".into(),
                message: format!(
                    "no channel {unknown:?} in the configuration (configured: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        }
        if let Some(projects) = visible
            && !visible_to(rule.project.as_ref(), visible)
        {
            return Err(Error::AlertForbidden(format!(
                "project: this key may only use rules limited to one of its projects: {}",
                projects.join(", ")
            )));
        }
        Ok(())
    }

    /// The error for a change to a tally.toml rule.
    fn defined_in_file(&self, name: &str) -> Error {
        let file = self.config().file.as_deref().unwrap_or("tally.toml");
        Error::AlertConflict(format!(
            "alert rule {name:?} is defined in {file} ([[alerts]]): change it there"
        ))
    }

    /// Stores a new rule.
    ///
    /// # Errors
    /// [`Error::AlertInvalid`] naming the field, [`Error::AlertConflict`] when a rule
    /// of that name exists, or the store fails.
    pub fn create_alert_rule(
        &self,
        rule: AlertRule,
        visible: Visible<'_>,
    ) -> Result<AlertRuleView> {
        self.check_rule(&rule, visible)?;
        if let Some(existing) = self
            .sourced_rules()?
            .into_iter()
            .find(|r| r.rule.name == rule.name)
        {
            return Err(match existing.source {
                RuleSource::Config => self.defined_in_file(&rule.name),
                RuleSource::Stored => Error::AlertConflict(format!(
                    "alert rule {:?} exists: update or delete it",
                    rule.name
                )),
            });
        }
        self.store_rule(&rule)?;
        self.alert_rule(&rule.name, None)
    }

    /// Replaces a stored rule's definition (the name stays).
    ///
    /// # Errors
    /// [`Error::UnknownAlert`], [`Error::AlertConflict`] for a tally.toml rule,
    /// [`Error::AlertInvalid`] naming the field, or the store fails.
    pub fn update_alert_rule(
        &self,
        name: &str,
        rule: AlertRule,
        visible: Visible<'_>,
    ) -> Result<AlertRuleView> {
        let existing = self.alert_rule(name, visible)?;
        if existing.source == RuleSource::Config {
            return Err(self.defined_in_file(name));
        }
        if rule.name != name {
            return Err(Error::AlertInvalid {
                field: "name".into(),
                message: format!(
                    "{:?} differs from the rule's name {name:?}: a rule is renamed by creating the new one and deleting the old",
                    rule.name
                ),
            });
        }
        self.check_rule(&rule, visible)?;
        self.store_rule(&rule)?;
        self.alert_rule(name, None)
    }

    fn store_rule(&self, rule: &AlertRule) -> Result<()> {
        let now = Utc::now();
        let definition = serde_json::to_string(rule).map_err(|e| invalid(&e.to_string()))?;
        self.store.put_alert_rule(&StoredAlertRule {
            name: rule.name.clone(),
            definition,
            created_at: now,
            updated_at: now,
        })?;
        Ok(())
    }

    /// Deletes a stored rule and its state; its history stays.
    ///
    /// # Errors
    /// [`Error::UnknownAlert`], [`Error::AlertConflict`] for a tally.toml rule, or the
    /// store fails.
    pub fn delete_alert_rule(&self, name: &str, visible: Visible<'_>) -> Result<()> {
        let existing = self.alert_rule(name, visible)?;
        if existing.source == RuleSource::Config {
            return Err(self.defined_in_file(name));
        }
        if !self.store.delete_alert_rule(name)? {
            return Err(Error::UnknownAlert(name.to_owned()));
        }
        Ok(())
    }

    /// Transitions newest first, of one rule or of every rule the caller sees, older
    /// than the transition `before` (paging), at most `limit` (1 to 1000).
    ///
    /// # Errors
    /// [`Error::AlertInvalid`] for a limit out of range, [`Error::UnknownAlert`] for a
    /// rule the caller may not see, or the store fails.
    pub fn alert_history(
        &self,
        rule: Option<&str>,
        before: Option<i64>,
        limit: usize,
        visible: Visible<'_>,
    ) -> Result<AlertHistoryPage> {
        if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
            return Err(Error::AlertInvalid {
                field: "limit".into(),
                message: format!("{limit} must be from 1 to {MAX_HISTORY_PAGE}"),
            });
        }
        if let (Some(name), Some(_)) = (rule, visible) {
            // A rule deleted since keeps its history: judged by what its transitions say.
            let seen = self.alert_rule(name, visible).is_ok()
                || self
                    .store
                    .alert_history(Some(name), None, 1)?
                    .first()
                    .is_some_and(|t| visible_to(t.project.as_ref(), visible));
            if !seen {
                return Err(Error::UnknownAlert(name.to_owned()));
            }
        }
        // One more than asked tells whether an older page exists. A caller limited to
        // projects skips others' transitions: read on until the page is full or the
        // history ends.
        let wanted = limit + 1;
        let batch = MAX_HISTORY_PAGE.min(wanted * 4);
        let mut transitions = Vec::new();
        let mut cursor = before;
        loop {
            let page = self.store.alert_history(rule, cursor, batch)?;
            let exhausted = page.len() < batch;
            cursor = page.last().map(|t| t.id).or(cursor);
            let room = wanted - transitions.len();
            transitions.extend(
                page.into_iter()
                    .filter(|t| visible_to(t.project.as_ref(), visible))
                    .take(room),
            );
            if transitions.len() == wanted || exhausted {
                break;
            }
        }
        let next_before = if transitions.len() == wanted {
            transitions.pop();
            transitions.last().map(|t| t.id)
        } else {
            None
        };
        Ok(AlertHistoryPage {
            transitions,
            next_before,
        })
    }

    /// Sends a `test` notification of a rule through its channels (no state changes,
    /// nothing is recorded in the history; its id is 0).
    ///
    /// # Errors
    /// [`Error::UnknownAlert`], or the store fails.
    pub fn test_alert(
        &self,
        name: &str,
        notify: &dyn Notify,
        visible: Visible<'_>,
    ) -> Result<SentTest> {
        let view = self.alert_rule(name, visible)?;
        let rule = view.rule;
        let notification = Notification {
            id: 0,
            rule: rule.name.clone(),
            kind: rule.rule,
            severity: rule.severity,
            event: NotificationEvent::Test,
            at: Utc::now(),
            value: view.state.as_ref().and_then(|s| s.last_value),
            threshold: rule.threshold,
            summary: format!(
                "test notification of alert rule {:?}: the channels are wired",
                rule.name
            ),
            scope: scope_of(&rule),
            channels: rule.channels.clone(),
        };
        notify.notify(notification.clone());
        Ok(SentTest {
            channels: notification.channels.clone(),
            notification,
        })
    }
}
