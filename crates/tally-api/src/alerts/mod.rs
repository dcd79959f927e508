//! Alerts: rules over the views, evaluated as data arrives and on a timer, each with a
//! state (ok → firing → resolved) and a history, and the channels that hear of each
//! transition.
//!
//! Files: `rule.rs` (the rule shape `[[alerts]]`, the API and the CLI share),
//! `notification.rs` (an evaluation's observation, a transition's notification, the
//! channels' configuration and the [`Notify`] seam between the engine and delivery),
//! `evaluate.rs` (what each rule measures: [`observe`]), `window.rs` (a rate rule's
//! window and baseline counts), `baseline.rs` (the test of a rate against its baseline),
//! `engine.rs` (the state machine, cooldown and history, over the store's
//! compare-and-set), `manage.rs` (what the API and CLI do with rules), `wiring.rs`
//! (what `tally serve` observes and delivers with), `schedule.rs` (the timer and the
//! evaluation after data arrives), `deliver/` (the [`Dispatcher`]: webhooks, Slack,
//! signatures, retries, SMTP email).

mod baseline;
mod deliver;
mod engine;
#[cfg(test)]
mod engine_tests;
mod evaluate;
mod manage;
mod notification;
mod rule;
mod schedule;
mod window;
mod wiring;

pub use baseline::{BINOMIAL_TEST, binomial_p_value};
pub use deliver::{
    DELIVERY_HEADER, DeliveryLog, DeliverySettings, DeliveryStats, Dispatcher, EVENT_HEADER,
    PAYLOAD_VERSION, QUEUE_CAPACITY, Report, RetryPolicy, SIGNATURE_HEADER, SmtpConfig,
    SmtpSecurity, WORKERS, signature, validate_delivery,
};
pub use engine::{AlertEngine, Evaluated, LogNotify, RuleSource, SourcedRule};
pub use evaluate::observe;
pub use manage::{
    AlertHistoryPage, AlertRuleView, DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE, SentTest, Visible,
};
pub use notification::{
    AlertStatus, BaselineTest, ChannelConfig, Notification, NotificationEvent, Notify, Observation,
    WebhookFormat,
};
pub use rule::{
    AlertRule, DEFAULT_COOLDOWN_MINUTES, DEFAULT_MIN_EVENTS, DEFAULT_SIGNIFICANCE, MAX_RULE_NAME,
    MAX_WINDOW_MINUTES, RuleKind, ScopeField, Severity, SpikeSeries,
};
pub use schedule::{AlertTrigger, MIN_ALERT_INTERVAL, evaluate_alerts};
pub use wiring::{dispatcher, observe_rule};
