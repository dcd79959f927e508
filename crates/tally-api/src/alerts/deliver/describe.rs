//! Words and figures the Slack body and the email share.

use crate::alerts::NotificationEvent;

/// `FIRING`, `RESOLVED` or `TEST`: how a subject or header names the transition.
pub(super) fn event_word(event: NotificationEvent) -> &'static str {
    match event {
        NotificationEvent::Firing => "FIRING",
        NotificationEvent::Resolved => "RESOLVED",
        NotificationEvent::Test => "TEST",
    }
}

/// `firing`, `resolved` or `test`: the `X-Tally-Event` header.
pub(super) fn event_name(event: NotificationEvent) -> &'static str {
    match event {
        NotificationEvent::Firing => "firing",
        NotificationEvent::Resolved => "resolved",
        NotificationEvent::Test => "test",
    }
}

/// A figure to read: at most four decimals, no trailing zeros (`0.74`, `120`, `0.0001`).
pub(super) fn figure(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}
