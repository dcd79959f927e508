//! The alert engine: evaluates every enabled rule (`[[alerts]]` in tally.toml and the
//! rules stored through the API or CLI), moves each rule's state (ok → firing →
//! resolved back to ok) in the store, records each transition in the history and hands
//! one notification per transition to a [`Notify`].
//!
//! A state moves by compare-and-set (`AlertStore::advance_alert`): when several servers
//! share a database, each evaluates, and exactly one moves a rule and notifies.
//! A firing transition within `cooldown_minutes` of the rule's last notification is
//! recorded with `notified = false` and sends nothing; its `resolved` is then silent
//! too (nobody was told it fired). A rule whose observation fails keeps its state; the
//! failure is logged when it starts or changes, not at every evaluation.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tally_store::{AlertStateRecord, AlertTransitionRecord, Store};

use super::{AlertRule, AlertStatus, Notification, NotificationEvent, Notify, Observation};
use crate::{Analytics, Result};

/// Where a rule is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// `[[alerts]]` in tally.toml: changed only there.
    Config,
    /// Created through the API or CLI.
    Stored,
}

/// A rule and where it is defined.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedRule {
    pub rule: AlertRule,
    pub source: RuleSource,
}

/// What one evaluation round did to one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    pub rule: String,
    /// The transition made, with its id in the history; `None` when the status held,
    /// the observation failed or another server moved the rule first.
    pub transition: Option<(NotificationEvent, i64)>,
    /// Whether a notification was handed to the channels.
    pub notified: bool,
    /// Why the rule could not be observed.
    pub error: Option<String>,
}

/// Evaluates the rules of one database and tells a [`Notify`] of each transition.
#[derive(Debug, Clone)]
pub struct AlertEngine {
    store: Arc<dyn Store>,
    config_rules: Vec<AlertRule>,
    notify: Arc<dyn Notify>,
    /// The failure last logged for each rule that cannot be observed.
    failing: Arc<Mutex<HashMap<String, String>>>,
}

impl AlertEngine {
    /// The engine of `analytics`' database and configuration.
    pub fn new(analytics: &Analytics, notify: Arc<dyn Notify>) -> AlertEngine {
        AlertEngine {
            store: analytics.store.clone(),
            config_rules: analytics.config().alerts.clone(),
            notify,
            failing: Arc::default(),
        }
    }

    /// Every rule: tally.toml's, then the stored ones by name. A stored rule that
    /// cannot be read, or that takes a tally.toml rule's name, is logged and left out.
    ///
    /// # Errors
    /// The store fails.
    pub fn rules(&self) -> Result<Vec<SourcedRule>> {
        load_rules(&*self.store, &self.config_rules)
    }

    /// Evaluates every enabled rule as of `now`, with `observe` measuring each.
    ///
    /// # Errors
    /// The store fails (a failing observation is not an error: it is logged, reported
    /// in the rule's [`Evaluated`] and the rule keeps its state).
    pub fn evaluate_all(
        &self,
        now: DateTime<Utc>,
        observe: impl Fn(&AlertRule) -> Result<Observation>,
    ) -> Result<Vec<Evaluated>> {
        let rules = self.rules()?;
        let states: HashMap<String, AlertStateRecord> = self
            .store
            .alert_states()?
            .into_iter()
            .map(|s| (s.rule.clone(), s))
            .collect();
        let mut evaluated = Vec::new();
        for SourcedRule { rule, .. } in rules.into_iter().filter(|r| r.rule.enabled) {
            let state = states.get(&rule.name);
            let outcome = match observe(&rule) {
                Ok(observation) => {
                    if self.recovered(&rule.name) {
                        tracing::info!(rule = %rule.name, "alert rule can be evaluated again");
                    }
                    self.advance(&rule, state, &observation, now)?
                }
                Err(error) => {
                    if self.failure_is_news(&rule.name, &error.to_string()) {
                        tracing::warn!(rule = %rule.name, %error, "alert rule could not be evaluated; it keeps its state");
                    }
                    Evaluated {
                        rule: rule.name.clone(),
                        transition: None,
                        notified: false,
                        error: Some(error.to_string()),
                    }
                }
            };
            evaluated.push(outcome);
        }
        Ok(evaluated)
    }

    /// Records that `rule` failed with `error`; true when that was not the failure
    /// last logged for it (so a rule failing the same way at every evaluation is
    /// logged once).
    pub(super) fn failure_is_news(&self, rule: &str, error: &str) -> bool {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        failing.insert(rule.to_owned(), error.to_owned()).as_deref() != Some(error)
    }

    /// Forgets `rule`'s failure; true when it had one.
    pub(super) fn recovered(&self, rule: &str) -> bool {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        failing.remove(rule).is_some()
    }

    /// Moves one rule's state after an observation, and notifies of a transition.
    fn advance(
        &self,
        rule: &AlertRule,
        stored: Option<&AlertStateRecord>,
        observation: &Observation,
        now: DateTime<Utc>,
    ) -> Result<Evaluated> {
        let was = stored.map_or(AlertStatus::Ok, |s| parse_status(&s.status));
        let is = if observation.firing {
            AlertStatus::Firing
        } else {
            AlertStatus::Ok
        };
        let expected = stored.map(|s| s.status.as_str());
        let mut outcome = Evaluated {
            rule: rule.name.clone(),
            transition: None,
            notified: false,
            error: None,
        };
        if was == is {
            let state = AlertStateRecord {
                rule: rule.name.clone(),
                status: is.as_str().to_owned(),
                since: stored.map_or(now, |s| s.since),
                last_value: observation.value,
                last_evaluated_at: now,
                last_notified_at: stored.and_then(|s| s.last_notified_at),
            };
            self.store.advance_alert(expected, &state, None)?;
            return Ok(outcome);
        }
        let last_notified = stored.and_then(|s| s.last_notified_at);
        let (event, notified) = match is {
            AlertStatus::Firing => {
                let cooldown = Duration::minutes(i64::from(rule.cooldown_minutes()));
                let cooling = last_notified.is_some_and(|at| now - at < cooldown);
                (NotificationEvent::Firing, !cooling)
            }
            // Resolved is told when its firing was: notified at (or after) it began.
            AlertStatus::Ok => (
                NotificationEvent::Resolved,
                stored.is_some_and(|s| s.last_notified_at.is_some_and(|at| at >= s.since)),
            ),
        };
        let state = AlertStateRecord {
            rule: rule.name.clone(),
            status: is.as_str().to_owned(),
            since: now,
            last_value: observation.value,
            last_evaluated_at: now,
            last_notified_at: if notified { Some(now) } else { last_notified },
        };
        let transition = AlertTransitionRecord {
            id: 0,
            rule: rule.name.clone(),
            event: event_name(event).to_owned(),
            at: now,
            value: observation.value,
            threshold: observation.threshold,
            summary: observation.summary.clone(),
            project: rule.project.clone(),
            notified,
        };
        let Some(id) = self
            .store
            .advance_alert(expected, &state, Some(&transition))?
        else {
            tracing::debug!(rule = %rule.name, "another server moved this alert first");
            return Ok(outcome);
        };
        outcome.transition = Some((event, id));
        if notified {
            self.notify
                .notify(notification(rule, event, id, now, observation));
            outcome.notified = true;
        }
        tracing::info!(
            rule = %rule.name,
            event = event_name(event),
            id,
            notified,
            value = ?observation.value,
            threshold = observation.threshold,
            "alert {}",
            event_name(event)
        );
        Ok(outcome)
    }
}

/// tally.toml's rules, then the stored ones by name (see [`AlertEngine::rules`]).
pub(crate) fn load_rules(
    store: &dyn Store,
    config_rules: &[AlertRule],
) -> Result<Vec<SourcedRule>> {
    let mut rules: Vec<SourcedRule> = config_rules
        .iter()
        .map(|rule| SourcedRule {
            rule: rule.clone(),
            source: RuleSource::Config,
        })
        .collect();
    for stored in store.alert_rules()? {
        if config_rules.iter().any(|r| r.name == stored.name) {
            tracing::warn!(rule = %stored.name, "a stored alert rule takes the name of a tally.toml rule; tally.toml's is used");
            continue;
        }
        match serde_json::from_str::<AlertRule>(&stored.definition) {
            Ok(rule) => rules.push(SourcedRule {
                rule,
                source: RuleSource::Stored,
            }),
            Err(error) => {
                tracing::error!(rule = %stored.name, %error, "a stored alert rule cannot be read; it is not evaluated");
            }
        }
    }
    Ok(rules)
}

pub(crate) fn parse_status(status: &str) -> AlertStatus {
    if status == AlertStatus::Firing.as_str() {
        AlertStatus::Firing
    } else {
        AlertStatus::Ok
    }
}

pub(crate) fn event_name(event: NotificationEvent) -> &'static str {
    match event {
        NotificationEvent::Firing => "firing",
        NotificationEvent::Resolved => "resolved",
        NotificationEvent::Test => "test",
    }
}

/// The scope a rule is limited to, as notifications carry it.
pub(crate) fn scope_of(rule: &AlertRule) -> BTreeMap<String, String> {
    [
        ("project", &rule.project),
        ("model", &rule.model),
        ("tool", &rule.tool),
        ("agent", &rule.agent),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.clone().map(|v| (field.to_owned(), v)))
    .collect()
}

pub(crate) fn notification(
    rule: &AlertRule,
    event: NotificationEvent,
    id: i64,
    at: DateTime<Utc>,
    observation: &Observation,
) -> Notification {
    Notification {
        id,
        rule: rule.name.clone(),
        kind: rule.rule,
        severity: rule.severity,
        event,
        at,
        value: observation.value,
        threshold: observation.threshold,
        summary: observation.summary.clone(),
        scope: scope_of(rule),
        channels: rule.channels.clone(),
    }
}

/// Delivery for rules without channels, and for every rule until a dispatcher is
/// given: each notification is written to the log at info level.
#[derive(Debug, Default)]
pub struct LogNotify;

impl Notify for LogNotify {
    fn notify(&self, notification: Notification) {
        tracing::info!(
            id = notification.id,
            rule = %notification.rule,
            event = event_name(notification.event),
            severity = notification.severity.as_str(),
            value = ?notification.value,
            threshold = notification.threshold,
            channels = ?notification.channels,
            summary = %notification.summary,
            "alert notification"
        );
    }
}
