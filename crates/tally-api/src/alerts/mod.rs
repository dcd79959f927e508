//! Alerts: rules over the views, evaluated as data arrives and on a timer, each with a
//! state (ok → firing → resolved) and a history, and the channels that hear of each
//! transition.
//!
//! Files: `rule.rs` (the rule shape `[[alerts]]`, the API and the CLI share),
//! `notification.rs` (an evaluation's observation, a transition's notification, the
//! channels' configuration and the [`Notify`] seam between the engine and delivery),
//! `evaluate.rs` (what each rule measures: [`observe`]), `window.rs` (a rate rule's
//! window and baseline counts), `baseline.rs` (the test of a rate against its baseline).

mod baseline;
mod evaluate;
mod notification;
mod rule;
mod window;

pub use baseline::{BINOMIAL_TEST, binomial_p_value};
pub use evaluate::observe;
pub use notification::{
    AlertStatus, BaselineTest, ChannelConfig, Notification, NotificationEvent, Notify, Observation,
    WebhookFormat,
};
pub use rule::{
    AlertRule, DEFAULT_COOLDOWN_MINUTES, DEFAULT_MIN_EVENTS, DEFAULT_SIGNIFICANCE, MAX_RULE_NAME,
    MAX_WINDOW_MINUTES, RuleKind, ScopeField, Severity, SpikeSeries,
};
