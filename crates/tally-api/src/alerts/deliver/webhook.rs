//! Webhooks: tally's generic JSON body, and one `POST` of a rendered body with its
//! headers (signature, delivery id, event), classified as delivered, worth retrying or
//! failed.

use std::io::Read;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::retry::parse_retry_after;
use super::sign::{SIGNATURE_HEADER, signature};
use super::{Outcome, Report};
use crate::alerts::Notification;

/// The id receivers deduplicate retries on: the transition's id (`report-...` for a report).
pub const DELIVERY_HEADER: &str = "X-Tally-Delivery";
/// `firing`, `resolved`, `test` or `report`.
pub const EVENT_HEADER: &str = "X-Tally-Event";
/// Version of the generic body's shape, in its `tally.payload_version`.
pub const PAYLOAD_VERSION: u32 = 1;
/// Most of a receiver's answer kept in a delivery's log line.
const DETAIL_BYTES: u64 = 200;

/// A body ready to post, the same bytes on every attempt (so the signature and the
/// receiver's deduplication hold across retries).
#[derive(Debug, Clone)]
pub(super) struct WebhookRequest {
    pub url: String,
    pub body: Vec<u8>,
    pub event: &'static str,
    pub delivery: String,
    /// `sha256=...` when the channel has a secret.
    pub signature: Option<String>,
}

impl WebhookRequest {
    pub fn new(
        url: &str,
        secret: Option<&str>,
        body: Vec<u8>,
        event: &'static str,
        delivery: String,
    ) -> WebhookRequest {
        WebhookRequest {
            url: url.to_owned(),
            signature: secret.map(|secret| signature(secret, &body)),
            body,
            event,
            delivery,
        }
    }
}

/// The `tally` object of a generic body: who sent it and where to look.
fn tally_object(dashboard: Option<&str>) -> Value {
    let mut object = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "payload_version": PAYLOAD_VERSION,
    });
    if let Some(url) = dashboard {
        object["dashboard"] = json!(url);
    }
    object
}

/// The generic body of a transition: the [`Notification`]'s fields, plus `tally`.
pub(super) fn notification_body(notification: &Notification, dashboard: Option<&str>) -> Vec<u8> {
    let mut body = serde_json::to_value(notification).unwrap_or_else(|_| json!({}));
    body["tally"] = tally_object(dashboard);
    body.to_string().into_bytes()
}

/// The generic body of a report: its subject and Markdown text, plus `tally`.
pub(super) fn report_body(report: &Report, dashboard: Option<&str>) -> Vec<u8> {
    json!({
        "event": "report",
        "at": Utc::now(),
        "subject": report.subject,
        "markdown": report.markdown,
        "tally": tally_object(dashboard),
    })
    .to_string()
    .into_bytes()
}

/// A blocking client with a connect and an overall time limit, which follows no
/// redirect (a signed body goes where it was configured to, or nowhere).
pub(super) fn agent(connect_timeout: Duration, request_timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(connect_timeout))
        .timeout_global(Some(request_timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("tally/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Posts the body once. 2xx: delivered; 429, 5xx, a timeout or a connection that
/// failed: worth retrying (with the receiver's `Retry-After`); anything else: failed.
pub(super) fn post(agent: &ureq::Agent, request: &WebhookRequest) -> Outcome {
    let mut call = agent
        .post(&request.url)
        .header("Content-Type", "application/json")
        .header(DELIVERY_HEADER, &request.delivery)
        .header(EVENT_HEADER, request.event);
    if let Some(signature) = &request.signature {
        call = call.header(SIGNATURE_HEADER, signature);
    }
    let mut response = match call.send(&request.body[..]) {
        Ok(response) => response,
        Err(error) => {
            let detail = error.to_string();
            return match error {
                ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::HostNotFound
                | ureq::Error::ConnectionFailed
                | ureq::Error::Protocol(_) => Outcome::Retry {
                    detail,
                    retry_after: None,
                },
                _ => Outcome::Failed(detail),
            };
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, Utc::now()));
    let mut answer = Vec::new();
    let _ = response
        .body_mut()
        .as_reader()
        .take(DETAIL_BYTES)
        .read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let detail = if answer.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", answer.trim())
    };
    match status {
        200..=299 => Outcome::Delivered(detail),
        429 | 500..=599 => Outcome::Retry {
            detail,
            retry_after,
        },
        _ => Outcome::Failed(detail),
    }
}
