//! What `tally serve` and `tally alerts` evaluate and deliver with: the one place that
//! names the observation of a rule and the delivery of notifications.

use chrono::{DateTime, Utc};

use super::deliver::{DeliverySettings, Dispatcher};
use super::{AlertRule, Observation};
use crate::{Analytics, Result};

/// Measures a rule as of `now`.
///
/// # Errors
/// The rule's scope names what has no data, or the store fails.
pub fn observe_rule(
    analytics: &Analytics,
    rule: &AlertRule,
    now: DateTime<Utc>,
) -> Result<Observation> {
    super::observe(analytics, rule, now)
}

/// The dispatcher of the configured channels, each attempt logged in the database's
/// delivery log; `None` when no channel is configured.
///
/// # Errors
/// `[smtp]` asks for TLS and it cannot be set up, or a thread cannot be started.
pub fn dispatcher(analytics: &Analytics) -> Result<Option<Dispatcher>> {
    let config = analytics.config();
    if config.channels.is_empty() {
        return Ok(None);
    }
    Dispatcher::start(
        DeliverySettings::from_config(config),
        analytics.store.clone(),
    )
    .map(Some)
}
