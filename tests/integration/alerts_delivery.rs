//! Alert delivery over real sockets: a webhook receiver in this process checks bodies,
//! signatures, delivery ids, retries and refusals; an SMTP sink (aiosmtpd, started from the
//! oracles' Python) receives the emails. The retry waits are milliseconds here.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tally_api::Config;
use tally_api::alerts::{
    ChannelConfig, DeliveryLog, DeliverySettings, Dispatcher, Notification, NotificationEvent,
    Notify, Report, RetryPolicy, RuleKind, Severity, SmtpConfig, SmtpSecurity, WebhookFormat,
};
use tally_store::DeliveryAttempt;

use crate::support::{ORACLES_HINT, python};

/// One request the receiver read.
#[derive(Debug, Clone)]
struct Received {
    /// Header names lowercased.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// An HTTP receiver on a loopback port answering each request with the next status of
/// its script (the last one repeated), optionally holding every answer until released.
struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(script: &[(u16, &[(&str, &str)])]) -> Receiver {
        Receiver::start_gated(script, None)
    }

    /// Answers only once `gate` is dropped (its `recv` then returns at once).
    fn start_gated(
        script: &[(u16, &[(&str, &str)])],
        gate: Option<mpsc::Receiver<()>>,
    ) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let answers: Vec<(u16, Vec<(String, String)>)> = script
            .iter()
            .map(|(status, headers)| {
                let headers = headers
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                (*status, headers)
            })
            .collect();
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                seen.lock().unwrap().push(request);
                if let Some(gate) = &gate {
                    let _ = gate.recv();
                }
                let (status, headers) = &answers[index.min(answers.len() - 1)];
                let mut answer = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n"
                );
                for (name, value) in headers {
                    answer.push_str(&format!("{name}: {value}\r\n"));
                }
                answer.push_str("\r\nok");
                let _ = (&stream).write_all(answer.as_bytes());
            }
        });
        Receiver { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    assert!(line.starts_with("POST /hook HTTP/1.1"), "{line:?}");
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { headers, body })
}

/// The delivery log of these tests: every attempt, in order.
#[derive(Default)]
struct Attempts(Mutex<Vec<DeliveryAttempt>>);

impl DeliveryLog for Attempts {
    fn record(&self, attempt: &DeliveryAttempt) {
        self.0.lock().unwrap().push(attempt.clone());
    }
}

impl Attempts {
    /// `(attempt, outcome)` of each attempt, in order.
    fn outcomes(&self) -> Vec<(u32, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|a| (a.attempt, a.outcome.clone()))
            .collect()
    }
}

fn webhook(url: &str, format: WebhookFormat, secret: Option<&str>) -> ChannelConfig {
    ChannelConfig {
        webhook: Some(url.to_owned()),
        format,
        secret: secret.map(str::to_owned),
        email: Vec::new(),
    }
}

/// Settings as `tally.toml` would give them, with waits of milliseconds.
fn settings(channels: Vec<(&str, ChannelConfig)>, smtp: Option<SmtpConfig>) -> DeliverySettings {
    let config = Config {
        channels: channels
            .into_iter()
            .map(|(name, channel)| (name.to_owned(), channel))
            .collect(),
        smtp,
        ..Config::default()
    };
    let mut settings = DeliverySettings::from_config(&config);
    settings.retry = RetryPolicy {
        first_delay: Duration::from_millis(5),
        max_attempts: 5,
        retry_after_cap: Duration::from_millis(20),
    };
    settings.dashboard_url = Some("https://tally.example.com/".to_owned());
    settings
}

fn notification(id: i64, channels: &[&str]) -> Notification {
    Notification {
        id,
        rule: "budget-70".to_owned(),
        kind: RuleKind::Budget,
        severity: Severity::Warning,
        event: NotificationEvent::Firing,
        at: Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).unwrap(),
        value: Some(0.74),
        threshold: 0.7,
        summary: "74 % of the monthly budget spent <b>& counting</b>".to_owned(),
        scope: BTreeMap::from([("project".to_owned(), "support-bot".to_owned())]),
        channels: channels.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// Sends one notification and waits until every delivery ended.
fn deliver(settings: DeliverySettings, notification: Notification) -> Arc<Attempts> {
    let attempts = Arc::new(Attempts::default());
    let dispatcher = Dispatcher::start(settings, Arc::clone(&attempts)).unwrap();
    dispatcher.notify(notification);
    dispatcher.close();
    attempts
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn generic_webhook_carries_the_notification_signed() {
    let receiver = Receiver::start(&[(200, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Generic, Some("s3cret"));
    let attempts = deliver(
        settings(vec![("ops", channel)], None),
        notification(42, &["ops"]),
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["x-tally-delivery"], "42");
    assert_eq!(request.headers["x-tally-event"], "firing");
    assert_eq!(
        request.headers["x-tally-signature"],
        format!("sha256={}", hmac_hex("s3cret", &request.body))
    );
    let mut body = request.json();
    assert_eq!(
        body["tally"]["dashboard"], "https://tally.example.com/",
        "{body}"
    );
    body.as_object_mut().unwrap().remove("tally");
    assert_eq!(
        body,
        json!({
            "id": 42, "rule": "budget-70", "kind": "budget", "severity": "warning",
            "event": "firing", "at": "2026-12-07T18:00:00Z", "value": 0.74, "threshold": 0.7,
            "summary": "74 % of the monthly budget spent <b>& counting</b>",
            "scope": {"project": "support-bot"},
        })
    );
    let logged = attempts.0.lock().unwrap().clone();
    assert_eq!(logged.len(), 1);
    assert_eq!(
        (
            logged[0].transition,
            logged[0].channel.as_str(),
            logged[0].medium.as_str(),
            logged[0].attempt,
            logged[0].outcome.as_str(),
            logged[0].detail.as_str()
        ),
        (42, "ops", "webhook", 1, "delivered", "HTTP 200: ok")
    );
}

#[test]
fn slack_webhook_is_text_and_blocks_and_unsigned_without_a_secret() {
    let receiver = Receiver::start(&[(200, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Slack, None);
    let mut resolved = notification(43, &["chat"]);
    resolved.event = NotificationEvent::Resolved;
    let attempts = deliver(settings(vec![("chat", channel)], None), resolved);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].headers.contains_key("x-tally-signature"));
    assert_eq!(requests[0].headers["x-tally-event"], "resolved");
    let body = requests[0].json();
    assert_eq!(
        body["text"],
        "RESOLVED: budget-70 (warning): 74 % of the monthly budget spent <b>& counting</b>"
    );
    let types: Vec<&str> = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["header", "section", "context"]);
    assert_eq!(body["blocks"][0]["text"]["text"], "RESOLVED: budget-70");
    assert_eq!(
        body["blocks"][1]["fields"][2]["text"], "*Value*\n0.74",
        "{body}"
    );
    assert_eq!(attempts.outcomes(), [(1, "delivered".to_owned())]);
}

#[test]
fn server_errors_are_retried_until_delivered_once() {
    let receiver = Receiver::start(&[(500, &[]), (503, &[]), (200, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Generic, Some("s3cret"));
    let attempts = deliver(
        settings(vec![("ops", channel)], None),
        notification(44, &["ops"]),
    );
    assert_eq!(
        attempts.outcomes(),
        [
            (1, "retrying".to_owned()),
            (2, "retrying".to_owned()),
            (3, "delivered".to_owned())
        ]
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    // The same bytes, signature and delivery id each time: receivers deduplicate on it.
    for request in &requests {
        assert_eq!(request.body, requests[0].body);
        assert_eq!(request.headers["x-tally-delivery"], "44");
        assert_eq!(
            request.headers["x-tally-signature"],
            requests[0].headers["x-tally-signature"]
        );
    }
    let details: Vec<String> = attempts
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.detail.clone())
        .collect();
    assert_eq!(details, ["HTTP 500: ok", "HTTP 503: ok", "HTTP 200: ok"]);
}

#[test]
fn too_many_requests_is_retried() {
    let receiver = Receiver::start(&[(429, &[("Retry-After", "3600")]), (204, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Generic, None);
    // Retry-After asks for an hour; the cap (20 ms here) bounds the wait.
    let attempts = deliver(
        settings(vec![("ops", channel)], None),
        notification(45, &["ops"]),
    );
    assert_eq!(
        attempts.outcomes(),
        [(1, "retrying".to_owned()), (2, "delivered".to_owned())]
    );
}

#[test]
fn a_client_error_fails_at_once() {
    let receiver = Receiver::start(&[(400, &[]), (200, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Slack, None);
    let attempts = deliver(
        settings(vec![("ops", channel)], None),
        notification(46, &["ops"]),
    );
    assert_eq!(attempts.outcomes(), [(1, "failed".to_owned())]);
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(attempts.0.lock().unwrap()[0].detail, "HTTP 400: ok");
}

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_unreachable_receiver_is_retried_then_given_up() {
    let url = format!("http://127.0.0.1:{}/hook", dead_port());
    let channel = webhook(&url, WebhookFormat::Generic, None);
    let attempts = deliver(
        settings(vec![("ops", channel)], None),
        notification(47, &["ops"]),
    );
    let outcomes = attempts.outcomes();
    assert_eq!(
        outcomes,
        [
            (1, "retrying".to_owned()),
            (2, "retrying".to_owned()),
            (3, "retrying".to_owned()),
            (4, "retrying".to_owned()),
            (5, "failed".to_owned())
        ]
    );
    let detail = attempts.0.lock().unwrap()[4].detail.clone();
    assert!(detail.contains("refused"), "{detail}");
}

#[test]
fn a_hanging_receiver_never_blocks_notify() {
    let (release, gate) = mpsc::channel();
    let receiver = Receiver::start_gated(&[(200, &[])], Some(gate));
    let mut settings = settings(
        vec![(
            "ops",
            webhook(&receiver.url(), WebhookFormat::Generic, None),
        )],
        None,
    );
    settings.queue_capacity = 1;
    settings.workers = 1;
    settings.request_timeout = Duration::from_secs(600);
    let attempts = Arc::new(Attempts::default());
    let dispatcher = Dispatcher::start(settings, Arc::clone(&attempts)).unwrap();
    // While the receiver holds its answer, at most four notifications are in the
    // dispatcher (the one being sent, one for the worker, one the scheduler holds, one
    // queued): the rest are dropped and counted, and `notify` returns each time.
    for id in 1..=20 {
        dispatcher.notify(notification(id, &["ops"]));
    }
    let dropped = dispatcher.stats().dropped_total;
    assert!((16..=19).contains(&dropped), "dropped {dropped}");
    drop(release);
    let stats = dispatcher.stats();
    dispatcher.close();
    let delivered = attempts
        .outcomes()
        .iter()
        .filter(|(_, outcome)| outcome == "delivered")
        .count() as u64;
    assert_eq!(delivered + stats.dropped_total, 20);
    assert_eq!(receiver.requests().len() as u64, delivered);
}

#[test]
fn a_report_goes_to_a_webhook_as_markdown() {
    let receiver = Receiver::start(&[(200, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Generic, Some("k"));
    let attempts = Arc::new(Attempts::default());
    let dispatcher = Dispatcher::start(
        settings(vec![("ops", channel)], None),
        Arc::clone(&attempts),
    )
    .unwrap();
    let report = Report {
        subject: "Weekly costs".to_owned(),
        html: "<h1>Weekly costs</h1>".to_owned(),
        markdown: "# Weekly costs\n\n| project | cost |".to_owned(),
    };
    let unknown = dispatcher.send_report("pager", report.clone()).unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "delivery: no channel \"pager\" (configured: ops)"
    );
    dispatcher.send_report("ops", report).unwrap();
    dispatcher.close();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.headers["x-tally-event"], "report");
    assert!(request.headers["x-tally-delivery"].starts_with("report-"));
    assert_eq!(
        request.headers["x-tally-signature"],
        format!("sha256={}", hmac_hex("k", &request.body))
    );
    let body = request.json();
    assert_eq!(
        (&body["subject"], &body["markdown"]),
        (
            &json!("Weekly costs"),
            &json!("# Weekly costs\n\n| project | cost |")
        )
    );
    // Reports are not transitions: nothing for the alert history's delivery log.
    assert!(attempts.outcomes().is_empty());
}

/// aiosmtpd on a loopback port, writing what it receives into a Maildir; stopped on drop.
struct SmtpSink {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let port = dead_port();
        let mut child = python()
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python does not run ({e}): {ORACLES_HINT}"));
        // Ready once it accepts connections; an early exit says why.
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                panic!("the aiosmtpd SMTP sink exited ({status}): {stderr}\n{ORACLES_HINT}");
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink {
            child,
            port,
            maildir,
            _dir: dir,
        }
    }

    fn config(&self) -> SmtpConfig {
        let config = Config::parse(
            &format!(
                "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"tally <alerts@example.com>\"\nstarttls = \"none\"\n",
                self.port
            ),
            "test",
        )
        .unwrap();
        let smtp = config.smtp.unwrap();
        assert_eq!(smtp.starttls, SmtpSecurity::None);
        smtp
    }

    /// Every message received, as text.
    fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A header's value, unfolded (a long header goes on over lines that start with a space).
fn header(message: &str, name: &str) -> String {
    let head = message.split("\n\n").next().unwrap_or_default();
    let unfolded = head.replace("\n ", " ").replace("\n\t", "\t");
    unfolded
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in:\n{message}"))
        .to_owned()
}

fn email_channel(addresses: &[&str]) -> ChannelConfig {
    ChannelConfig {
        email: addresses.iter().map(|a| (*a).to_owned()).collect(),
        ..ChannelConfig::default()
    }
}

#[test]
fn emails_reach_an_smtp_server() {
    let sink = SmtpSink::start();
    let settings = settings(
        vec![(
            "ops",
            email_channel(&["ops@example.com", "Oncall <oncall@example.com>"]),
        )],
        Some(sink.config()),
    );
    let attempts = Arc::new(Attempts::default());
    let dispatcher = Dispatcher::start(settings, Arc::clone(&attempts)).unwrap();
    dispatcher.notify(notification(50, &["ops"]));
    dispatcher
        .send_report(
            "ops",
            Report {
                subject: "Weekly costs".to_owned(),
                html: "<h1>Weekly costs</h1>".to_owned(),
                markdown: "# Weekly costs".to_owned(),
            },
        )
        .unwrap();
    dispatcher.close();
    assert_eq!(attempts.outcomes(), [(1, "delivered".to_owned())]);
    assert_eq!(attempts.0.lock().unwrap()[0].medium, "email");

    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let alert = messages
        .iter()
        .find(|m| m.contains("FIRING"))
        .expect("the alert email");
    assert_eq!(
        header(alert, "Subject"),
        "[tally] FIRING budget-70: 74 % of the monthly budget spent <b>& counting</b>"
    );
    assert_eq!(header(alert, "From"), "tally <alerts@example.com>");
    assert_eq!(header(alert, "X-MailFrom"), "alerts@example.com");
    assert_eq!(
        header(alert, "X-RcptTo"),
        "ops@example.com, oncall@example.com"
    );
    assert!(alert.contains("multipart/alternative"), "{alert}");
    assert!(alert.contains("FIRING: budget-70\n") || alert.contains("FIRING: budget-70\r\n"));
    assert!(
        alert.contains("<p>74 % of the monthly budget spent &lt;b&gt;&amp; counting&lt;/b&gt;</p>"),
        "{alert}"
    );
    assert!(!alert.contains("<b>& counting</b></p>"), "{alert}");
    let report = messages
        .iter()
        .find(|m| m.contains("Weekly costs"))
        .expect("the report email");
    assert_eq!(header(report, "Subject"), "[tally] Weekly costs");
    assert!(report.contains("<h1>Weekly costs</h1>"), "{report}");
}

#[test]
fn an_unreachable_smtp_server_is_retried_then_given_up() {
    let config = Config::parse(
        &format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"alerts@example.com\"\nstarttls = \"none\"\n",
            dead_port()
        ),
        "test",
    )
    .unwrap();
    let attempts = deliver(
        settings(
            vec![("ops", email_channel(&["ops@example.com"]))],
            config.smtp,
        ),
        notification(51, &["ops"]),
    );
    assert_eq!(
        attempts.outcomes(),
        [
            (1, "retrying".to_owned()),
            (2, "retrying".to_owned()),
            (3, "retrying".to_owned()),
            (4, "retrying".to_owned()),
            (5, "failed".to_owned())
        ]
    );
}

#[test]
fn a_channel_no_longer_configured_is_logged_as_failed() {
    let receiver = Receiver::start(&[(200, &[])]);
    let channel = webhook(&receiver.url(), WebhookFormat::Generic, None);
    let attempts = deliver(
        settings(vec![("ops", channel)], None),
        notification(52, &["gone", "ops"]),
    );
    let logged: Vec<(String, String, String)> = attempts
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|a| (a.channel.clone(), a.medium.clone(), a.outcome.clone()))
        .collect();
    assert_eq!(
        logged,
        [
            ("gone".to_owned(), "channel".to_owned(), "failed".to_owned()),
            (
                "ops".to_owned(),
                "webhook".to_owned(),
                "delivered".to_owned()
            )
        ]
    );
    assert_eq!(receiver.requests().len(), 1);
}

/// Waits until the receiver has `n` requests; deliveries run on their own threads.
fn wait_for_requests(receiver: &Receiver, n: usize) -> Vec<Received> {
    for _ in 0..3000 {
        let requests = receiver.requests();
        if requests.len() >= n {
            return requests;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "the receiver got {:?}, not {n} requests",
        receiver.requests().len()
    );
}

#[test]
fn tally_serve_sends_a_signed_webhook_when_an_ingest_crosses_a_budget() {
    let receiver = Receiver::start(&[(200, &[])]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tally.toml");
    std::fs::write(
        &config,
        format!(
            "[analytics]\nmonthly_budget = 1.0\n\n[[alerts]]\nname = \"budget-70\"\nrule = \"budget\"\n\
             threshold = 0.7\nproject = \"support-bot\"\nchannels = [\"ops\"]\n\n\
             [channels.ops]\nwebhook = \"{}\"\nsecret = \"s3cret\"\n",
            receiver.url()
        ),
    )
    .unwrap();
    let db = crate::support::TestDb::new();
    let mut served = crate::http_serve::serve_at(
        crate::support::tally()
            .arg("--db")
            .arg(db.path())
            .arg("--config")
            .arg(&config),
        &[],
    );
    // $0.50 of a $1 budget: quiet. Another $0.50 crosses 70 %.
    let first = crate::support::execution_now("e1", "support-bot");
    assert_eq!(
        served
            .http
            .post("/api/analytics/events", None, first)
            .status,
        200
    );
    let second = crate::support::execution_now("e2", "support-bot");
    assert_eq!(
        served
            .http
            .post("/api/analytics/events", None, second)
            .status,
        200
    );
    let requests = wait_for_requests(&receiver, 1);
    let hook = &requests[0];
    assert_eq!(hook.headers["x-tally-event"], "firing");
    assert_eq!(
        hook.headers["x-tally-signature"],
        format!("sha256={}", hmac_hex("s3cret", &hook.body))
    );
    let body = hook.json();
    assert_eq!(body["rule"], "budget-70");
    assert_eq!(body["scope"]["project"], "support-bot");
    assert_eq!(body["value"].as_f64(), Some(1.0));
    assert_eq!(hook.headers["x-tally-delivery"], body["id"].to_string());
    // One transition, one webhook: later evaluations find it firing already.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.requests().len(), 1);
    let _ = served.child.kill();
    let _ = served.child.wait();
}

#[test]
fn a_scheduled_report_goes_to_its_directory_and_through_its_channel_by_webhook_and_email() {
    use tally_api::{Analytics, DemoConfig, SqliteOptions};

    let receiver = Receiver::start(&[(200, &[])]);
    let sink = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("reports");
    let config = Config::parse(
        &format!(
            "[[reports.schedule]]\nkind = \"executive\"\nevery = \"daily\"\nat = \"08:00\"\n\
             format = \"html\"\ndirectory = \"{}\"\nchannels = [\"ops\"]\n\n\
             [channels.ops]\nwebhook = \"{}\"\nemail = [\"lead@example.com\"]\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"tally <reports@example.com>\"\nstarttls = \"none\"\n",
            directory.display(),
            receiver.url(),
            sink.port
        ),
        "tally.toml",
    )
    .unwrap();
    let db_path = dir.path().join("tally.db");
    let analytics =
        Analytics::open_with(&db_path, config.clone(), SqliteOptions::default()).unwrap();
    analytics
        .demo(
            &DemoConfig {
                events: 2000,
                days: 7,
                seed: 3,
                end: "2026-11-16T00:00:00Z".parse().unwrap(),
            },
            &mut (),
        )
        .unwrap();
    let attempts = Arc::new(Attempts::default());
    let dispatcher = Arc::new(
        Dispatcher::start(
            DeliverySettings::from_config(&config),
            Arc::clone(&attempts),
        )
        .unwrap(),
    );
    let scheduler =
        tally_api::report::schedule::Scheduler::from_config(analytics.clone(), Some(&dispatcher))
            .unwrap();
    // The first run arms the schedule; the next 08:00 delivers.
    scheduler.run_due("2026-11-15T09:00:00Z".parse().unwrap());
    let ran = scheduler.run_due("2026-11-16T08:30:00Z".parse().unwrap());
    assert_eq!(ran.len(), 1, "{ran:?}");
    drop(scheduler);
    let Ok(dispatcher) = Arc::try_unwrap(dispatcher) else {
        panic!("the scheduler still holds the dispatcher");
    };
    dispatcher.close();

    let file = directory.join("executive-all-2026-11-16.html");
    let html = std::fs::read_to_string(&file).unwrap();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers["x-tally-event"], "report");
    let body = requests[0].json();
    assert_eq!(
        body["subject"],
        "executive report, all projects, 2026-11-16"
    );
    let markdown = body["markdown"].as_str().unwrap();
    assert!(markdown.contains("<!-- kpi total_runs = "), "{markdown}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let email = &messages[0];
    assert!(header(email, "Subject").contains("executive report, all projects, 2026-11-16"));
    assert!(header(email, "To").contains("lead@example.com"));
    // The email's HTML part is the file's report.
    let kpi = html
        .split("data-kpi=\"total_runs\"")
        .nth(1)
        .and_then(|rest| rest.split("data-value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(
        markdown.contains(&format!("<!-- kpi total_runs = {kpi} -->")),
        "{kpi}"
    );
}
