//! What a new user meets in the first hour: no silent zeros (a missing database, an
//! unknown project, an analysis of nothing), no silent deletion (retention off until
//! configured, reported at ingest when on), honest logs, and the small refusals that
//! say what to do instead.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};

use chrono::{Duration, Utc};
use serde_json::Value;
use tally_api::http::{Server, ServerOptions};
use tally_api::{Analytics, Config, SqliteOptions};

use crate::support::{Http, TestDb, execution_now, tally};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An execution of `project` that happened `days_ago` days ago.
fn execution_days_ago(id: &str, project: &str, days_ago: i64) -> String {
    format!(
        r#"{{"kind":"execution","id":"{id}","project":"{project}","ts":"{}","tool":"web_search","duration_ms":5,"success":true}}"#,
        (Utc::now() - Duration::days(days_ago)).to_rfc3339()
    )
}

/// Two projects with data written through the real path.
fn two_projects() -> TestDb {
    let db = TestDb::new();
    let body = format!(
        "{}\n{}\n",
        execution_now("a1", "alpha"),
        execution_now("b1", "beta")
    );
    let report = db.analytics.ingest(&tally_api::Input::Bytes {
        name: "t".into(),
        data: body.as_bytes().into(),
    });
    assert_eq!(report.unwrap().accepted, 2);
    db
}

#[test]
fn commands_that_only_read_refuse_a_missing_database_and_create_none() {
    let dir = tempfile::tempdir().unwrap();
    let reads: &[&[&str]] = &[
        &["summary"],
        &["query", "tools"],
        &["export"],
        &["report", "--out", "r.html"],
        &["trend", "--metric", "executions"],
        &["quarantine", "list"],
        &["keys", "list"],
        &["backup", "--out", "b.db"],
        &["retention", "run"],
        &["learning", "progress"],
        &["experiment", "list"],
    ];
    for args in reads {
        let output = tally()
            .current_dir(dir.path())
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert_eq!(
            stderr(&output).trim(),
            "error: no database at ./tally.db: run `tally demo` or `tally ingest`, or pass --db",
            "{args:?}"
        );
        assert!(!dir.path().join("tally.db").exists(), "{args:?} created it");
    }
    // Commands that write start one.
    let mut ingest = tally()
        .current_dir(dir.path())
        .arg("ingest")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    ingest
        .stdin
        .take()
        .unwrap()
        .write_all(execution_now("x", "default").as_bytes())
        .unwrap();
    assert!(ingest.wait_with_output().unwrap().status.success());
    let summary = tally()
        .current_dir(dir.path())
        .arg("summary")
        .output()
        .unwrap();
    assert!(summary.status.success(), "{summary:?}");
}

#[test]
fn an_unknown_project_is_refused_with_the_projects_that_have_data() {
    let db = two_projects();
    for args in [
        &["summary", "--project", "alpah"][..],
        &["query", "tools", "--project", "alpah"],
        &["export", "--project", "alpah"],
        &["trend", "--metric", "executions", "--project", "alpah"],
    ] {
        let output = db.tally(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert_eq!(
            stderr(&output).trim(),
            r#"error: unknown project "alpah"; projects with data: alpha, beta"#,
            "{args:?}"
        );
    }
    assert!(
        db.tally(&["summary", "--project", "alpha"])
            .status
            .success()
    );

    let key = db
        .analytics
        .create_key(&tally_api::KeySpec {
            scope: tally_api::KeyScope::Read,
            projects: vec!["alpha".into(), "ghost".into()],
            name: None,
        })
        .unwrap()
        .secret;
    let server = Server::bind(db.analytics.clone(), &options()).unwrap();
    let handle = server.spawn().unwrap();
    let http = Http::new(handle.addr());
    let admin = db
        .analytics
        .create_key(&tally_api::KeySpec {
            scope: tally_api::KeyScope::Admin,
            projects: Vec::new(),
            name: None,
        })
        .unwrap()
        .secret;
    let unknown = http.get("/api/analytics/summary?project=alpah", Some(&admin));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), "unknown_project");
    assert_eq!(
        unknown.json()["error"]["details"],
        serde_json::json!({"project": "alpah", "projects": ["alpha", "beta"]})
    );
    // A key limited to projects hears only of those.
    let ghost = http.get("/api/analytics/tools?project=ghost", Some(&key));
    assert_eq!(ghost.status, 404);
    assert_eq!(
        ghost.json()["error"]["details"]["projects"],
        serde_json::json!(["alpha"])
    );
    assert!(!ghost.text().contains("beta"), "{}", ghost.text());
    // Routes that stream, and the learning routes, say so too instead of answering empty.
    for path in [
        "/api/analytics/export/events?project=alpah",
        "/api/analytics/learning/learners?project=alpah",
        "/api/analytics/learning/users/ana/streak?project=alpah",
    ] {
        let answer = http.get(path, Some(&admin));
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert_eq!(answer.error_code(), "unknown_project", "{path}");
    }
    handle.stop().unwrap();
}

#[test]
fn analyses_of_nothing_say_so_instead_of_finding_a_trend() {
    let db = two_projects();
    // No error events at all: 90 zeros are not a stable trend.
    for command in ["trend", "forecast", "anomalies"] {
        let output = db.tally(&[command, "--metric", "errors", "--project", "alpha"]);
        assert_eq!(output.status.code(), Some(2), "{command}: {output:?}");
        let message = stderr(&output);
        assert!(
            message.contains(r#"no data: errors of project "alpha" has no recorded value"#),
            "{command}: {message}"
        );
        assert!(!stdout(&output).contains("Stable"), "{command}");
    }
    // A summary of no runs says "no data", not 0.0 %.
    let summary = stdout(&db.tally(&["summary", "--project", "alpha"]));
    assert!(summary.contains("pass rate no data"), "{summary}");
    assert!(!summary.contains("pass rate 0.0"), "{summary}");

    let server = Server::bind(db.analytics.clone(), &options()).unwrap();
    let handle = server.spawn().unwrap();
    let http = Http::new(handle.addr());
    let trend = http.get("/api/analytics/trends?metric=errors&project=alpha", None);
    assert_eq!(trend.status, 422, "{}", trend.text());
    assert_eq!(trend.error_code(), "too_little_data");
    handle.stop().unwrap();
}

fn options() -> ServerOptions {
    ServerOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1024 * 1024,
        max_batch_records: 100_000,
        retention_every: tally_api::http::RETENTION_EVERY,
        ..ServerOptions::default()
    }
}

/// A running `tally serve` whose log lines on stderr the test reads.
struct Serving {
    child: Child,
    http: Http,
    log: BufReader<std::process::ChildStderr>,
}

impl Serving {
    /// `tally --db DB ARGS serve --addr 127.0.0.1:0` with `TALLY_LOG` set to
    /// `log_filter` (empty: unset, the default).
    fn start(db: &TestDb, before_serve: &[&str], log_filter: &str) -> Serving {
        let mut command = tally();
        if log_filter.is_empty() {
            command.env_remove("TALLY_LOG");
        } else {
            command.env("TALLY_LOG", log_filter);
        }
        let mut child = command
            .arg("--db")
            .arg(db.path())
            .args(before_serve)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let log = BufReader::new(child.stderr.take().unwrap());
        let http = loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "tally serve exited before listening: {:?}",
                child.wait()
            );
            if let Some(addr) = line.trim_end().strip_prefix("listening on http://") {
                break Http::new(addr.parse().unwrap());
            }
        };
        std::thread::spawn(move || for _ in out.lines() {});
        Serving { child, http, log }
    }

    /// Reads log lines until one contains `needle`; panics should the server end first.
    fn wait_for(&mut self, needle: &str) -> String {
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            if self.log.read_line(&mut line).unwrap() == 0 {
                panic!("the log ended without {needle:?}: {seen:#?}");
            }
            if line.contains(needle) {
                return line;
            }
            seen.push(line);
        }
    }

    fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn export_ids(db: &TestDb) -> Vec<String> {
    let output = db.tally(&["export"]);
    assert!(output.status.success(), "{output:?}");
    stdout(&output)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn ingest_stdin(db: &TestDb, extra: &[&str], body: &str) -> std::process::Output {
    let mut child = tally()
        .arg("--db")
        .arg(db.path())
        .args(extra)
        .arg("ingest")
        .args(["--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn an_old_event_survives_serve_without_retention_and_is_reported_with_it() {
    let body = format!(
        "{}\n{}\n",
        execution_days_ago("old", "p", 48),
        execution_days_ago("new", "p", 1)
    );
    // Without configuration nothing is deleted for age.
    let db = TestDb::new();
    let output = ingest_stdin(&db, &[], &body);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["accepted"], 2);
    assert!(report.get("past_retention").is_none(), "{report}");
    assert!(report.get("warnings").is_none(), "{report}");
    let mut serving = Serving::start(&db, &[], "tally_api=debug");
    serving.wait_for("retention off");
    serving.wait_for("retention ran; nothing past its limits");
    serving.stop();
    assert_eq!(export_ids(&db), ["old", "new"]);

    // With a retention, the ingest says what it will delete, and serve logs it.
    let db = TestDb::new();
    let config = db.dir.path().join("tally.toml");
    std::fs::write(&config, "[retention]\nraw_days = 30\n").unwrap();
    let config = config.to_str().unwrap();
    let output = ingest_stdin(&db, &["--config", config], &body);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["past_retention"], 1);
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with(
            "1 accepted records are older than the configured retention (raw_days = 30)"
        ),
        "{warning}"
    );
    let text = tally()
        .arg("--db")
        .arg(db.path())
        .args(["--config", config, "ingest", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(execution_days_ago("older", "p", 40).as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        stdout(&text)
            .contains("warning: 1 accepted records are older than the configured retention"),
        "{}",
        stdout(&text)
    );
    let mut serving = Serving::start(&db, &["--config", config], "tally_api=info");
    let line = serving.wait_for("retention deleted data older than its limits");
    assert!(line.contains("raw_rows_deleted=2"), "{line}");
    serving.stop();
    assert_eq!(export_ids(&db), ["new"]);
}

#[test]
fn each_request_is_one_log_line_with_its_route_and_never_its_key() {
    let db = TestDb::new();
    db.ingest("t", execution_now("x", "p"));
    let key = db
        .analytics
        .create_key(&tally_api::KeySpec {
            scope: tally_api::KeyScope::Admin,
            projects: Vec::new(),
            name: None,
        })
        .unwrap()
        .secret;
    let mut serving = Serving::start(&db, &["--log-format", "json"], "");
    let answer = serving.http.get(
        "/api/analytics/learning/users/someone/streak?at=2026-11-01",
        Some(&key),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let line = serving.wait_for(r#""message":"request""#);
    let record: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(record["level"], "INFO");
    let fields = &record["fields"];
    assert_eq!(fields["method"], "GET");
    assert_eq!(
        fields["route"],
        "/api/analytics/learning/users/{user}/streak"
    );
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["bytes"], answer.body.len() as u64);
    // Milliseconds to a tenth.
    let ms = fields["ms"].as_f64().unwrap();
    assert_eq!((ms * 10.0).round() / 10.0, ms, "{line}");
    assert!(
        fields["ms"]
            .to_string()
            .split('.')
            .nth(1)
            .is_none_or(|d| d.len() == 1),
        "{line}"
    );
    assert!(
        !line.contains(&key) && !line.contains("someone") && !line.contains("at=2026"),
        "{line}"
    );
    serving.stop();

    // Text logs to a pipe carry no colour codes.
    let mut serving = Serving::start(&db, &[], "");
    serving.http.get("/api/analytics/health", None);
    let line = serving.wait_for("request");
    assert!(!line.contains('\u{1b}'), "{line:?}");
    assert!(line.contains("route=/api/analytics/health"), "{line}");
    serving.stop();
}

#[test]
fn analytics_off_answers_a_clear_503_while_ingest_and_health_stay_on() {
    let db = TestDb::new();
    let config = Config::parse("[analytics]\nenabled = false\n", "t").unwrap();
    let analytics = Analytics::open_with(db.path(), config, SqliteOptions::default()).unwrap();
    let handle = Server::bind(analytics, &options())
        .unwrap()
        .spawn()
        .unwrap();
    let http = Http::new(handle.addr());
    for path in [
        "/api/analytics/summary",
        "/analytics",
        "/api/analytics/learning/learners",
    ] {
        let answer = http.get(path, None);
        assert_eq!(answer.status, 503, "{path}");
        assert_eq!(answer.error_code(), "analytics_disabled", "{path}");
    }
    assert_eq!(
        http.post("/api/analytics/events", None, execution_now("x", "p"))
            .status,
        200
    );
    assert_eq!(http.get("/api/analytics/health", None).status, 200);
    assert_eq!(http.get("/api/analytics/export/events", None).status, 200);
    handle.stop().unwrap();
}

#[test]
fn report_help_names_every_kind() {
    let output = tally().args(["report", "--help"]).output().unwrap();
    let help = stdout(&output);
    for kind in tally_api::ReportKind::ALL {
        assert!(help.contains(kind.name()), "{kind:?} missing from {help}");
    }
    let db = two_projects();
    let typo = db.tally(&["report", "--kind", "learnin", "--out", "x.html"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("executive, technical, learning, experiments"),
        "{}",
        stderr(&typo)
    );
}

#[test]
fn an_export_is_named_for_what_it_writes_and_failures_name_the_path_once() {
    let db = two_projects();
    let dir = db.dir.path();
    let csv = dir.join("all.csv");
    let output = db.tally(&["export", "--format", "csv", "--out", csv.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("--format csv writes a zip archive of one CSV file per kind: name it"),
        "{}",
        stderr(&output)
    );
    assert!(!csv.exists());
    // The name chooses the format when --format is not given.
    let zip = dir.join("all.zip");
    assert!(
        db.tally(&["export", "--out", zip.to_str().unwrap()])
            .status
            .success()
    );
    assert!(std::fs::read(&zip).unwrap().starts_with(b"PK"));

    let existing = dir.join("existing");
    std::fs::write(&existing, "x").unwrap();
    let path = existing.to_str().unwrap();
    let output = db.tally(&["export", "--format", "parquet", "--out", path]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.matches(path).count(), 1, "{message}");
    assert!(
        message.contains("is a file") && message.contains("directory"),
        "{message}"
    );
    assert!(!message.contains("os error 17"), "{message}");
}

#[test]
fn a_corrupt_database_is_named_once_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, vec![b'x'; 8192]).unwrap();
    let output = tally()
        .arg("--db")
        .arg(&bad)
        .arg("summary")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert_eq!(
        message.matches(bad.to_str().unwrap()).count(),
        2,
        "{message}"
    );
    assert!(message.contains("is not a tally database"), "{message}");
    assert!(message.contains("tally restore"), "{message}");
    assert!(message.contains("point --db at another file"), "{message}");
}

#[test]
fn variant_weights_must_add_up_to_100() {
    let db = TestDb::new();
    let output = db.tally(&[
        "experiment",
        "create",
        "--experiment",
        "e",
        "--variants",
        "control:50,treatment:40",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the weights add up to 90, not 100"),
        "{}",
        stderr(&output)
    );
    let listed = db.tally(&["experiment", "list", "--json"]);
    assert!(!stdout(&listed).contains("\"e\""), "{}", stdout(&listed));
}

#[test]
fn serve_takes_a_host_name_and_a_busy_port_suggests_another() {
    let db = TestDb::new();
    let mut child = tally()
        .arg("--db")
        .arg(db.path())
        .args(["serve", "--addr", "localhost:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    let _ = child.kill();
    let _ = child.wait();

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let output = db.tally(&["serve", "--addr", &addr]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        format!(
            "error: server: address {addr} in use: another tally? pass --addr 127.0.0.1:PORT with a free port"
        )
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn the_events_route_takes_gzip_and_limits_the_decompressed_size() {
    let db = TestDb::new();
    let handle = Server::bind(db.analytics.clone(), &options())
        .unwrap()
        .spawn()
        .unwrap();
    let http = Http::new(handle.addr());
    let body = format!(
        "{}\n{}\n",
        execution_now("g1", "p"),
        execution_now("g2", "p")
    );
    let answer = http.post_with(
        "/api/analytics/events",
        &[("Content-Encoding", "gzip")],
        gzip(body.as_bytes()),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["accepted"], 2);

    // 64 MiB of zeros in 64 KiB: past the 1 MiB limit once decompressed.
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(bomb.len() < 1024 * 1024);
    let answer = http.post_with(
        "/api/analytics/events",
        &[("Content-Encoding", "gzip")],
        bomb,
    );
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_eq!(answer.error_code(), "body_too_large");

    let answer = http.post_with(
        "/api/analytics/events",
        &[("Content-Encoding", "br")],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 415);
    assert_eq!(answer.error_code(), "unsupported_encoding");
    handle.stop().unwrap();
    assert_eq!(db.events(), 2);
}

#[test]
fn the_dashboard_says_no_data_for_rates_and_averages_of_nothing() {
    // Executions only: no run, so no QA verdict and no average per run.
    let db = TestDb::new();
    db.ingest("t", crate::support::execution("x"));
    let mut served = crate::http_serve::serve(&db, &[]);
    let profile = tempfile::tempdir().unwrap();
    let dom = crate::dashboard_browser::chromium(
        profile.path(),
        &[
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            format!("{}/analytics", served.http.base),
        ],
    );
    let _ = served.child.kill();
    let _ = served.child.wait();
    assert!(dom.contains("data-loaded=\"true\""), "{dom}");
    let shown = crate::dashboard_browser::kpis(&dom);
    for name in ["qa_pass_rate", "avg_cost_per_run", "avg_duration_seconds"] {
        let (_, value, text) = shown
            .iter()
            .find(|(kpi, _, _)| kpi == name)
            .unwrap_or_else(|| panic!("no KPI {name}: {shown:?}"));
        assert_eq!(
            (value.as_str(), text.as_str()),
            ("null", "no data"),
            "{name}"
        );
    }
}
