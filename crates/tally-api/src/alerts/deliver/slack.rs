//! Slack's incoming-webhook body: `text` (the notification's fallback and push text) and
//! Block Kit `blocks` — a header, a section with the figures, a context line.

use serde_json::{Value, json};

use super::Report;
use super::describe::{event_word, figure};
use crate::alerts::Notification;

/// Slack's limits: a header's plain text, a section's text, a field's text, fields per section.
const HEADER_CHARS: usize = 150;
const SECTION_CHARS: usize = 3000;
const FIELD_CHARS: usize = 2000;
const MAX_FIELDS: usize = 10;

/// The body of a transition.
pub(super) fn notification_body(notification: &Notification, dashboard: Option<&str>) -> Vec<u8> {
    let headline = format!("{}: {}", event_word(notification.event), notification.rule);
    let mut fields = vec![
        ("Rule", notification.kind.as_str().to_owned()),
        ("Severity", notification.severity.as_str().to_owned()),
        ("Value", notification.value.map_or("n/a".to_owned(), figure)),
        ("Threshold", figure(notification.threshold)),
    ];
    fields.extend(
        notification
            .scope
            .iter()
            .map(|(field, value)| (scope_label(field), value.clone())),
    );
    fields.push(("At", notification.at.to_rfc3339()));
    fields.truncate(MAX_FIELDS);
    let mut context = format!("tally · transition {}", notification.id);
    if let Some(url) = dashboard {
        context.push_str(&format!(" · <{}|Open the dashboard>", escape(url)));
    }
    json!({
        "text": format!("{headline} ({}): {}", notification.severity.as_str(), notification.summary),
        "blocks": [
            header(&headline),
            {
                "type": "section",
                "text": mrkdwn(&escape(&notification.summary), SECTION_CHARS),
                "fields": fields
                    .iter()
                    .map(|(label, value)| mrkdwn(&format!("*{label}*\n{}", escape(value)), FIELD_CHARS))
                    .collect::<Vec<Value>>(),
            },
            {"type": "context", "elements": [mrkdwn(&context, SECTION_CHARS)]},
        ],
    })
    .to_string()
    .into_bytes()
}

/// The body of a report: its subject as the header, its Markdown text as the section
/// (cut to Slack's section limit; the full report goes by email or file).
pub(super) fn report_body(report: &Report) -> Vec<u8> {
    json!({
        "text": report.subject,
        "blocks": [
            header(&report.subject),
            {"type": "section", "text": mrkdwn(&escape(&report.markdown), SECTION_CHARS)},
        ],
    })
    .to_string()
    .into_bytes()
}

fn header(text: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": cut(text, HEADER_CHARS)}})
}

fn mrkdwn(text: &str, limit: usize) -> Value {
    json!({"type": "mrkdwn", "text": cut(text, limit)})
}

fn scope_label(field: &str) -> &'static str {
    match field {
        "project" => "Project",
        "model" => "Model",
        "tool" => "Tool",
        "agent" => "Agent",
        _ => "Scope",
    }
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` (so text cannot make links or mentions).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `limit` characters, the last one `…` when cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit - 1).collect();
    out.push('…');
    out
}
