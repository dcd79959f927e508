//! Bodies, signatures, backoff and `[smtp]` checked as data; delivery over real sockets
//! is tested end to end in `tests/integration/alerts_delivery.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::describe::figure;
use super::email::{notification_email, report_email};
use super::retry::parse_retry_after;
use super::*;
use crate::Config;
use crate::alerts::{
    ChannelConfig, Notification, NotificationEvent, RuleKind, Severity, WebhookFormat,
};

fn notification(summary: &str) -> Notification {
    Notification {
        id: 42,
        rule: "budget-70".to_owned(),
        kind: RuleKind::Budget,
        severity: Severity::Critical,
        event: NotificationEvent::Firing,
        at: Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).unwrap(),
        value: Some(0.74),
        threshold: 0.7,
        summary: summary.to_owned(),
        scope: BTreeMap::from([("project".to_owned(), "support-bot".to_owned())]),
        channels: vec!["ops".to_owned()],
    }
}

#[test]
fn signature_is_hmac_sha256_hex_of_the_body() {
    // RFC 4231-style known answer (the HMAC-SHA256 example every library documents).
    assert_eq!(
        signature("key", b"The quick brown fox jumps over the lazy dog"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    assert_ne!(signature("key", b"{}"), signature("other", b"{}"));
}

#[test]
fn generic_body_is_the_notification_plus_tally() {
    let body = webhook::notification_body(
        &notification("74 % of the monthly budget spent"),
        Some("https://tally.example.com/"),
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({
            "id": 42,
            "rule": "budget-70",
            "kind": "budget",
            "severity": "critical",
            "event": "firing",
            "at": "2026-12-07T18:00:00Z",
            "value": 0.74,
            "threshold": 0.7,
            "summary": "74 % of the monthly budget spent",
            "scope": {"project": "support-bot"},
            "tally": {
                "version": env!("CARGO_PKG_VERSION"),
                "payload_version": 1,
                "dashboard": "https://tally.example.com/",
            },
        })
    );
    let without: Value =
        serde_json::from_slice(&webhook::notification_body(&notification("x"), None)).unwrap();
    assert!(without["tally"].get("dashboard").is_none(), "{without}");
}

#[test]
fn slack_body_is_text_and_block_kit() {
    let body = slack::notification_body(
        &notification("spent <@U123> & more"),
        Some("https://tally.example.com/"),
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body["text"],
        "FIRING: budget-70 (critical): spent <@U123> & more"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(
        blocks[0],
        json!({"type": "header", "text": {"type": "plain_text", "text": "FIRING: budget-70"}})
    );
    assert_eq!(blocks[1]["type"], "section");
    // Escaped, so a summary cannot mention people or make links.
    assert_eq!(
        blocks[1]["text"],
        json!({"type": "mrkdwn", "text": "spent &lt;@U123&gt; &amp; more"})
    );
    let fields: Vec<&str> = blocks[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["type"], "mrkdwn");
            f["text"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        fields,
        [
            "*Rule*\nbudget",
            "*Severity*\ncritical",
            "*Value*\n0.74",
            "*Threshold*\n0.7",
            "*Project*\nsupport-bot",
            "*At*\n2026-12-07T18:00:00+00:00",
        ]
    );
    assert_eq!(
        blocks[2],
        json!({"type": "context", "elements": [{"type": "mrkdwn",
            "text": "tally · transition 42 · <https://tally.example.com/|Open the dashboard>"}]})
    );
    let mut long = notification("x");
    long.rule = "r".repeat(200);
    let body: Value = serde_json::from_slice(&slack::notification_body(&long, None)).unwrap();
    let header = body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(header.chars().count(), 150, "{header}");
    assert!(header.ends_with('…'));
}

#[test]
fn report_bodies_carry_the_markdown() {
    let report = Report {
        subject: "Weekly cost report".to_owned(),
        html: "<h1>Cost</h1>".to_owned(),
        markdown: "# Cost\n| a | b |".to_owned(),
    };
    let generic: Value = serde_json::from_slice(&webhook::report_body(&report, None)).unwrap();
    assert_eq!(
        (&generic["event"], &generic["subject"], &generic["markdown"]),
        (
            &json!("report"),
            &json!("Weekly cost report"),
            &json!("# Cost\n| a | b |")
        )
    );
    let slack: Value = serde_json::from_slice(&slack::report_body(&report)).unwrap();
    assert_eq!(slack["text"], "Weekly cost report");
    assert_eq!(slack["blocks"][1]["text"]["text"], "# Cost\n| a | b |");
    let email = report_email(&report);
    assert_eq!(
        (
            email.subject.as_str(),
            email.html.as_str(),
            email.text.as_str()
        ),
        (
            "[tally] Weekly cost report",
            "<h1>Cost</h1>",
            "# Cost\n| a | b |"
        )
    );
}

#[test]
fn email_names_the_transition_and_escapes_html() {
    let email = notification_email(
        &notification("<script>alert(1)</script> & 74 %\r\nBcc: x@example.com"),
        Some("https://tally.example.com/?a=1&b=\"2\""),
    );
    assert_eq!(
        email.subject,
        "[tally] FIRING budget-70: <script>alert(1)</script> & 74 %  Bcc: x@example.com"
    );
    assert!(
        email
            .html
            .contains("<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; 74 %"),
        "{}",
        email.html
    );
    assert!(!email.html.contains("<script>"), "{}", email.html);
    assert!(
        email
            .html
            .contains("<a href=\"https://tally.example.com/?a=1&amp;b=&quot;2&quot;\">"),
        "{}",
        email.html
    );
    assert!(
        email
            .html
            .contains("<tr><th align=\"left\">project</th><td>support-bot</td></tr>"),
        "{}",
        email.html
    );
    assert!(
        email.text.starts_with("FIRING: budget-70\n\n<script>"),
        "{}",
        email.text
    );
    assert!(
        email.text.contains("Value: 0.74\nThreshold: 0.7\n"),
        "{}",
        email.text
    );
}

#[test]
fn backoff_doubles_with_jitter_and_honours_retry_after_up_to_its_cap() {
    let policy = RetryPolicy {
        first_delay: Duration::from_millis(100),
        max_attempts: 5,
        retry_after_cap: Duration::from_secs(2),
    };
    for (attempt, step_ms) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
        for _ in 0..50 {
            let wait = policy.delay(attempt, None);
            let step = Duration::from_millis(step_ms);
            assert!(
                wait >= step / 2 && wait <= step,
                "attempt {attempt}: {wait:?}"
            );
        }
    }
    assert_eq!(
        policy.delay(1, Some(Duration::from_secs(3600))),
        Duration::from_secs(2)
    );
    let asked = policy.delay(1, Some(Duration::from_millis(700)));
    assert_eq!(asked, Duration::from_millis(700));
    assert!(policy.retries_after(4));
    assert!(!policy.retries_after(5));
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).unwrap();
    assert_eq!(
        parse_retry_after(" 30 ", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Mon, 07 Dec 2026 18:01:00 GMT", now),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("Mon, 07 Dec 2026 17:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
}

#[test]
fn figures_read_plainly() {
    for (value, text) in [
        (0.74, "0.74"),
        (120.0, "120"),
        (0.1 + 0.2, "0.3"),
        (-0.00001, "0"),
    ] {
        assert_eq!(figure(value), text);
    }
}

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, "t").map_err(|e| e.to_string())
}

const SMTP: &str = r#"
    [smtp]
    host = "127.0.0.1"
    port = 2525
    username = "tally"
    password = "hunter2"
    from = "tally <alerts@example.com>"
    starttls = "none"
    timeout_secs = 5
    [channels.ops]
    email = ["ops@example.com", "Oncall <oncall@example.com>"]
"#;

#[test]
fn smtp_section_parses_and_is_checked() {
    let config = parse(SMTP).unwrap();
    let smtp = config.smtp.as_ref().unwrap();
    assert_eq!(
        (smtp.port_or_default(), smtp.starttls, smtp.timeout_secs),
        (2525, SmtpSecurity::None, 5.0)
    );
    for (from, to, expected) in [
        (
            "starttls = \"none\"",
            "starttls = \"ssl\"",
            "unknown variant `ssl`",
        ),
        (
            "from = \"tally <alerts@example.com>\"",
            "from = \"alerts\"",
            "smtp.from: \"alerts\" is not an email address",
        ),
        (
            "password = \"hunter2\"\n",
            "",
            "smtp.username, smtp.password: set both or neither",
        ),
        ("port = 2525", "port = 0", "smtp.port: must be 1 to 65535"),
        (
            "timeout_secs = 5",
            "timeout_secs = 0",
            "smtp.timeout_secs must be a number of seconds above 0",
        ),
        (
            "\"ops@example.com\"",
            "\"ops at example.com\"",
            "channels.ops.email[0]: \"ops at example.com\" is not an email address",
        ),
        (
            "host = \"127.0.0.1\"",
            "host = \"\"",
            "smtp.host: must name",
        ),
        ("timeout_secs = 5", "timeout = 5", "unknown field `timeout`"),
    ] {
        assert!(SMTP.contains(from), "{from}");
        let error = parse(&SMTP.replace(from, to)).unwrap_err();
        assert!(error.contains(expected), "{to}: {error}");
    }
    let defaults =
        parse("[smtp]\nhost = \"mail.example.com\"\nfrom = \"a@example.com\"\n").unwrap();
    let smtp = defaults.smtp.unwrap();
    assert_eq!(
        (smtp.starttls, smtp.port_or_default(), smtp.timeout_secs),
        (SmtpSecurity::Starttls, 587, 10.0)
    );
}

#[test]
fn email_channels_need_smtp() {
    let error = parse("[channels.ops]\nemail = [\"ops@example.com\"]\n").unwrap_err();
    assert_eq!(
        error,
        "config t: channels.ops.email: sending email needs an [smtp] section (host, from)"
    );
}

#[test]
fn secrets_are_neither_shown_nor_serialized() {
    let mut config = parse(SMTP).unwrap();
    config.channels.insert(
        "slack".to_owned(),
        ChannelConfig {
            webhook: Some("https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX".to_owned()),
            format: WebhookFormat::Slack,
            secret: Some("s3cret".to_owned()),
            email: Vec::new(),
        },
    );
    config.channels.insert(
        "basic".to_owned(),
        ChannelConfig {
            webhook: Some("https://tally:pw0rd@hooks.example.com".to_owned()),
            ..ChannelConfig::default()
        },
    );
    let shown = format!("{config:?}");
    for secret in ["hunter2", "s3cret", "XXXXSECRETXXXX", "pw0rd"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("\"https://hooks.slack.com/…\""), "{shown}");
    assert!(shown.contains("\"https://hooks.example.com\""), "{shown}");
    let serialized = serde_json::to_string(&config.channels).unwrap();
    assert!(!serialized.contains("s3cret"), "{serialized}");
    let settings = DeliverySettings::from_config(&config);
    let dispatcher = Dispatcher::start(settings, std::sync::Arc::new(NoLog)).unwrap();
    let shown = format!("{dispatcher:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("hunter2"),
        "{shown}"
    );
    dispatcher.close();
}

struct NoLog;

impl DeliveryLog for NoLog {
    fn record(&self, _: &tally_store::DeliveryAttempt) {}
}
