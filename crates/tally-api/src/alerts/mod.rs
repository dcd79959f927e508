//! Alerts: rules over the views, evaluated as data arrives and on a timer, each with a
//! state (ok → firing → resolved) and a history, and the channels that hear of each
//! transition.
//!
//! Files: `rule.rs` (the rule shape `[[alerts]]`, the API and the CLI share),
//! `notification.rs` (an evaluation's observation, a transition's notification, the
//! channels' configuration and the [`Notify`] seam between the engine and delivery),
//! `deliver/` (the [`Dispatcher`]: webhooks, Slack, signatures, retries, SMTP email).

mod deliver;
mod notification;
mod rule;

pub use deliver::{
    DELIVERY_HEADER, DeliveryLog, DeliverySettings, DeliveryStats, Dispatcher, EVENT_HEADER,
    PAYLOAD_VERSION, QUEUE_CAPACITY, Report, RetryPolicy, SIGNATURE_HEADER, SmtpConfig,
    SmtpSecurity, WORKERS, signature, validate_delivery,
};
pub use notification::{
    AlertStatus, BaselineTest, ChannelConfig, Notification, NotificationEvent, Notify, Observation,
    WebhookFormat,
};
pub use rule::{
    AlertRule, DEFAULT_COOLDOWN_MINUTES, DEFAULT_MIN_EVENTS, DEFAULT_SIGNIFICANCE, MAX_RULE_NAME,
    MAX_WINDOW_MINUTES, RuleKind, ScopeField, Severity, SpikeSeries,
};
