//! `GET /metrics` as Prometheus reads it: the OpenMetrics text over HTTP with its
//! access rules, and a real Prometheus server (Debian's `prometheus` package, started
//! here on a loopback port) scraping the real `tally serve` and answering, through its
//! query API, the number of events tally accepted.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tally_api::{KeyScope, KeySpec};

use crate::http_serve::serve_at;
use crate::support::{Http, TestDb, TestServer, execution_now, tally};

/// Where the test finds Prometheus (Debian's `prometheus` package).
const PROMETHEUS: &str = "/usr/bin/prometheus";

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A key of `scope`, limited to `projects` when some are given.
fn key(db: &TestDb, scope: KeyScope, projects: &[&str]) -> String {
    db.analytics
        .create_key(&KeySpec {
            scope,
            projects: projects.iter().map(|p| (*p).to_owned()).collect(),
            name: None,
        })
        .unwrap()
        .secret
}

/// The value of the sample line `series` (name and labels as written) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_answer_openmetrics_text_to_read_keys_and_refuse_keys_limited_to_projects() {
    let db = TestDb::new();
    let admin = key(&db, KeyScope::Admin, &[]);
    let read = key(&db, KeyScope::Read, &[]);
    let ingest = key(&db, KeyScope::Ingest, &[]);
    let alpha_read = key(&db, KeyScope::Read, &["alpha"]);
    let server = TestServer::on(db, |_| {});
    let body = [
        execution_now("a1", "alpha"),
        execution_now("a2", "alpha"),
        execution_now("b1", "beta"),
    ]
    .join("\n");
    let stored = server
        .http
        .post("/api/analytics/events", Some(&admin), &body);
    assert_eq!(stored.status, 200, "{}", stored.text());
    // A resend: duplicates, not accepted again.
    server
        .http
        .post("/api/analytics/events", Some(&admin), &body);
    // A view under a path with a query: counted under its route template.
    let view = server
        .http
        .get("/api/analytics/summary?project=alpha", Some(&read));
    assert_eq!(view.status, 200, "{}", view.text());

    let answer = server.http.get("/metrics", Some(&read));
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some(OPENMETRICS));
    let text = answer.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"tally_events_accepted_total{kind="execution",source="json"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"tally_events_duplicate_total{kind="execution",source="json"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"tally_http_requests_total{route="/api/analytics/summary",method="GET",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("project=alpha"), "a raw path leaked: {text}");
    assert!(
        text.contains(r#"tally_cost_month_to_date_usd"#)
            && text.contains(r#"tally_tool_success_ratio{tool="web_search"} 1"#),
        "{text}"
    );

    // Scopes: read and admin pass; ingest is refused; no key is unauthorized.
    assert_eq!(server.http.get("/metrics", Some(&admin)).status, 200);
    let refused = server.http.get("/metrics", Some(&ingest));
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (403, "forbidden_scope")
    );
    assert_eq!(server.http.get("/metrics", None).status, 401);
    // The series cover every project and the server: a key limited to one is refused.
    let limited = server.http.get("/metrics", Some(&alpha_read));
    assert_eq!(
        (limited.status, limited.error_code().as_str()),
        (403, "forbidden_project"),
        "{}",
        limited.text()
    );
    assert!(!limited.text().contains("beta"));
}

/// A running Prometheus server, stopped when dropped.
struct Prometheus {
    child: Child,
    api: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Prometheus scraping `target` (`HOST:PORT`) every second with `key`, its
/// data and log under `dir`.
fn start_prometheus(dir: &Path, target: &str, key: &str) -> Prometheus {
    assert!(
        Path::new(PROMETHEUS).exists(),
        "{PROMETHEUS} is missing: the Prometheus test needs it. Install it with \
         `apt-get update && apt-get install -y prometheus` (Debian); `cargo xtask test` does it \
         when it runs as root"
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: tally\n    metrics_path: /metrics\n    \
             authorization:\n      credentials: {key}\n    \
             static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(PROMETHEUS)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Prometheus {
        child,
        api: format!("http://{listen}"),
    }
}

/// What Prometheus answers to an instant query: the one sample's value, or why not.
fn query(agent: &ureq::Agent, api: &str, promql: &str) -> Result<String, String> {
    let mut response = agent
        .get(format!("{api}/api/v1/query"))
        .query("query", promql)
        .call()
        .map_err(|e| format!("no answer: {e}"))?;
    let body: serde_json::Value = response
        .body_mut()
        .read_json()
        .map_err(|e| format!("not JSON: {e}"))?;
    match body["data"]["result"][0]["value"][1].as_str() {
        Some(value) => Ok(value.to_owned()),
        None => Err(format!("no sample yet: {body}")),
    }
}

#[test]
fn a_real_prometheus_scrapes_the_number_of_events_tally_accepted() {
    const EVENTS: usize = 37;
    let db = TestDb::new();
    let admin = key(&db, KeyScope::Admin, &[]);
    let read = key(&db, KeyScope::Read, &[]);
    let served = serve_at(tally().arg("--db").arg(db.path()), &[]);
    let body: Vec<String> = (0..EVENTS)
        .map(|i| execution_now(&format!("e{i}"), "alpha"))
        .collect();
    let stored = served
        .http
        .post("/api/analytics/events", Some(&admin), body.join("\n"));
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json()["accepted"], EVENTS);
    // Sent again: duplicates, which the accepted counter does not count.
    served
        .http
        .post("/api/analytics/events", Some(&admin), body.join("\n"));

    let dir = tempfile::tempdir().unwrap();
    let target = served.http.base.trim_start_matches("http://").to_owned();
    let prometheus = start_prometheus(dir.path(), &target, &read);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    // Prometheus needs a moment to start and a scrape or two: ask until it answers,
    // for at most a minute.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = query(&agent, &prometheus.api, "sum(tally_events_accepted_total)");
    while last.as_deref() != Ok(&EVENTS.to_string()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        last = query(&agent, &prometheus.api, "sum(tally_events_accepted_total)");
    }
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    let tail: String = log.lines().rev().take(15).collect::<Vec<_>>().join("\n");
    assert_eq!(
        last,
        Ok(EVENTS.to_string()),
        "Prometheus did not report sum(tally_events_accepted_total) = {EVENTS} within a \
         minute; its last answer is above. Its log, last lines first:\n{tail}"
    );
    // The scrape itself succeeded (Prometheus's own `up` series for the target).
    assert_eq!(
        query(&agent, &prometheus.api, r#"up{job="tally"}"#),
        Ok("1".to_owned())
    );
    // And what it holds is what tally's own answer says.
    let text = Http::new(target.parse().unwrap())
        .get("/metrics", Some(&read))
        .text();
    assert_eq!(
        sample(
            &text,
            r#"tally_events_duplicate_total{kind="execution",source="json"}"#
        ),
        Some(EVENTS as f64)
    );
}
