//! The alerts port: rules created through the API or CLI, each rule's state, the
//! history of its transitions and the log of every delivery attempt. What a rule
//! means is the facade's business: the store keeps its definition as JSON text.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;

/// A rule as stored: its name and its definition (JSON the facade reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAlertRule {
    pub name: String,
    pub definition: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a rule stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertStateRecord {
    pub rule: String,
    /// `ok` or `firing`.
    pub status: String,
    /// When the rule entered its status.
    pub since: DateTime<Utc>,
    pub last_value: Option<f64>,
    pub last_evaluated_at: DateTime<Utc>,
    /// When its channels were last told (the cooldown counts from here).
    pub last_notified_at: Option<DateTime<Utc>>,
}

/// One transition of a rule: `firing` or `resolved`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertTransitionRecord {
    /// Assigned by the store, increasing.
    pub id: i64,
    pub rule: String,
    /// `firing` or `resolved`.
    pub event: String,
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
    pub threshold: f64,
    pub summary: String,
    /// The rule's project scope, if any (so a project-limited reader sees its own).
    pub project: Option<String>,
    /// Whether the channels were told (false: within the cooldown).
    pub notified: bool,
}

/// One attempt to deliver a transition to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    /// The transition delivered (its id in the history).
    pub transition: i64,
    pub channel: String,
    /// `webhook` or `email`; `channel` when the channel named is not configured.
    pub medium: String,
    /// 1 for the first try.
    pub attempt: u32,
    pub at: DateTime<Utc>,
    /// `delivered`, `retrying` or `failed` (the last attempt failed).
    pub outcome: String,
    /// What the receiver answered or why it could not be reached.
    pub detail: String,
}

/// Stores alert rules, states, history and deliveries.
pub trait AlertStore: Send + Sync {
    /// Every stored rule, by name.
    ///
    /// # Errors
    /// Any storage failure.
    fn alert_rules(&self) -> Result<Vec<StoredAlertRule>>;

    /// Inserts the rule, or replaces the definition of the rule of that name (keeping
    /// its `created_at`).
    ///
    /// # Errors
    /// Any storage failure.
    fn put_alert_rule(&self, rule: &StoredAlertRule) -> Result<()>;

    /// Deletes the rule and its state (its history stays). Whether it existed.
    ///
    /// # Errors
    /// Any storage failure.
    fn delete_alert_rule(&self, name: &str) -> Result<bool>;

    /// Every rule's state.
    ///
    /// # Errors
    /// Any storage failure.
    fn alert_states(&self) -> Result<Vec<AlertStateRecord>>;

    /// Writes a rule's new state, and its transition when there is one, in one
    /// transaction, provided the stored status is still `expected` (`None`: no state
    /// stored yet). Returns the transition's id, or `Ok(None)` when another server moved
    /// the rule first and nothing was written; without a transition, `Ok(Some(0))` once
    /// the state is written.
    ///
    /// # Errors
    /// Any storage failure.
    fn advance_alert(
        &self,
        expected: Option<&str>,
        state: &AlertStateRecord,
        transition: Option<&AlertTransitionRecord>,
    ) -> Result<Option<i64>>;

    /// Transitions newest first, of one rule or all, before an id (paging), at most `limit`.
    ///
    /// # Errors
    /// Any storage failure.
    fn alert_history(
        &self,
        rule: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AlertTransitionRecord>>;

    /// Appends a delivery attempt.
    ///
    /// # Errors
    /// Any storage failure.
    fn record_delivery(&self, attempt: &DeliveryAttempt) -> Result<()>;

    /// The attempts for a transition, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn deliveries(&self, transition: i64) -> Result<Vec<DeliveryAttempt>>;
}
