//! What an evaluation finds, what a transition tells the channels, and the channels
//! themselves (`[channels.NAME]`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rule::{RuleKind, Severity};

/// A rule's value now, as one evaluation measured it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The measured value, in the unit of the rule's threshold; `None` when there is
    /// nothing to measure yet (no budget set, too few events in the window).
    pub value: Option<f64>,
    pub threshold: f64,
    /// Whether the rule's condition holds now.
    pub firing: bool,
    /// One sentence a person reads: what was measured against what.
    pub summary: String,
    /// Events the value rests on (rate rules), when it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// The test behind a baseline comparison and its p-value, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<BaselineTest>,
}

/// A comparison of a rate with its own baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineTest {
    /// The test's name, as the docs and the notification show it.
    pub name: String,
    pub baseline_rate: f64,
    pub p_value: f64,
}

/// The two states a rule moves between; `resolved` is the move back to `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Ok,
    Firing,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Ok => "ok",
            AlertStatus::Firing => "firing",
        }
    }
}

/// A transition: what the channels hear.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// The transition's id in the alert history; deliveries are logged under it and
    /// receivers deduplicate on it (`X-Tally-Delivery` carries it with the attempt).
    pub id: i64,
    pub rule: String,
    pub kind: RuleKind,
    pub severity: Severity,
    /// `firing`, or `resolved` for the move back to ok.
    pub event: NotificationEvent,
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
    pub threshold: f64,
    pub summary: String,
    /// The rule's scope: `project`, `model`, `tool`, `agent` as set.
    pub scope: BTreeMap<String, String>,
    /// The channels to tell.
    #[serde(skip)]
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    Firing,
    Resolved,
    /// Sent by `tally alerts test`: the channel's wiring, not a state change.
    Test,
}

/// Hands notifications to the channels. Must not block: delivery (retries included)
/// happens elsewhere, so a failing receiver never holds up ingest or the API.
pub trait Notify: Send + Sync + std::fmt::Debug {
    fn notify(&self, notification: Notification);
}

/// `[channels.NAME]`: a webhook, an email address list, or both. Its `secret` is never
/// serialized nor shown by `Debug`, nor is its webhook's path (Slack's holds a token).
#[derive(Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// `http://` or `https://` URL that receives a `POST` per notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    #[serde(default)]
    pub format: WebhookFormat,
    /// When set, every webhook body is signed: `X-Tally-Signature: sha256=<hex HMAC-SHA256>`.
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
    /// Email recipients; needs `[smtp]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("webhook", &self.webhook.as_deref().map(origin_only))
            .field("format", &self.format)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email)
            .finish()
    }
}

/// `https://hooks.example.com/…`: a URL's scheme and host, without credentials or path.
fn origin_only(url: &str) -> String {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[host_start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let more = if authority.len() < rest.len() {
        "/…"
    } else {
        ""
    };
    format!("{}{host}{more}", &url[..host_start])
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// tally's JSON: the [`Notification`] fields.
    #[default]
    Generic,
    /// Slack's incoming-webhook shape (`text` and `blocks`).
    Slack,
}
