//! Delivery: the [`Dispatcher`] that hands each notification (and each scheduled report)
//! to its channels — webhooks (tally's JSON or Slack's), signed when the channel has a
//! secret, and email through SMTP — off the caller's thread, retrying with backoff, every
//! attempt logged.
//!
//! Files: `dispatcher.rs` (the queue, the workers, the retry schedule), `webhook.rs` (the
//! generic body and one `POST`), `slack.rs` (Slack's body), `sign.rs` (the signature),
//! `email.rs` (`[smtp]`, the message, one send), `retry.rs` (backoff), `describe.rs`
//! (words the bodies share), `delivery_log.rs` (where attempts are written).

mod delivery_log;
mod describe;
mod dispatcher;
mod email;
mod retry;
mod sign;
mod slack;
mod webhook;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use delivery_log::DeliveryLog;
pub use dispatcher::{DeliverySettings, DeliveryStats, Dispatcher, QUEUE_CAPACITY, WORKERS};
pub use email::{SmtpConfig, SmtpSecurity, validate_delivery};
pub use retry::RetryPolicy;
pub use sign::{SIGNATURE_HEADER, signature};
pub use webhook::{DELIVERY_HEADER, EVENT_HEADER, PAYLOAD_VERSION};

/// A report sent through a channel: webhooks get the Markdown, email the HTML (with the
/// Markdown as its plain-text part).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub subject: String,
    pub html: String,
    pub markdown: String,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Delivered(String),
    /// A failure that may pass: a timeout, a refused connection, 429, 5xx, SMTP 4xx.
    Retry {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// A failure retrying cannot mend: another 4xx, SMTP 5xx.
    Failed(String),
}
