//! A database that cannot be written: a 0444 file in a 0555 directory is still read by
//! `summary`, `query` and `export` (as an unprivileged user, for whom the modes bind);
//! writes fail, and the health check says `degraded` with the failure until a write
//! succeeds.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::time::Duration;

use crate::support::{TestDb, TestServer, execution};

/// A database of `n` executions, closed, its file 0444 in a 0555 directory.
fn read_only_db(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let TestDb { dir, analytics } = TestDb::new();
    let path = dir.path().join("tally.db");
    let body: Vec<String> = (0..n).map(|i| execution(&format!("r{i}"))).collect();
    let input = tally_api::Input::Bytes {
        name: "ro".into(),
        data: body.join("\n").as_bytes().into(),
    };
    let report = analytics
        .ingest_with(&input, &crate::support::options(), &mut ())
        .unwrap();
    assert_eq!(report.accepted, n as u64);
    drop(analytics);
    assert!(
        !dir.path().join("tally.db-wal").exists(),
        "the WAL was not folded in"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    (dir, path)
}

/// Runs `tally --db PATH ARGS` as a user the file modes bind: this one, or `nobody` when
/// the tests run as root (from a copy of the binary in a directory anyone may enter, as
/// the build's own may be private).
fn tally_as_nobody(path: &std::path::Path, args: &[&str]) -> Output {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let bin = tempfile::tempdir().unwrap();
    let mut command = if root {
        let copy = bin.path().join("tally");
        std::fs::copy(env!("CARGO_BIN_EXE_tally"), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut command = std::process::Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(copy);
        command
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_tally"))
    };
    command.arg("--db").arg(path).args(args).output().unwrap()
}

fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_read_only_database_answers_summary_query_and_export() {
    let (dir, path) = read_only_db(3);
    let summary = stdout_json(&tally_as_nobody(&path, &["summary", "--json"]));
    assert_eq!(summary["total_executions"], 3);
    let tools = stdout_json(&tally_as_nobody(
        &path,
        &["query", "tools", "--json", "--from", "2026-09-01"],
    ));
    assert_eq!(tools[0]["tool_name"], "web_search", "{tools}");
    let export = tally_as_nobody(&path, &["export"]);
    assert!(export.status.success(), "{export:?}");
    assert_eq!(String::from_utf8_lossy(&export.stdout).lines().count(), 3);
    // Writing is refused with SQLite's reason, and nothing appeared beside the file.
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), execution("late")).unwrap();
    std::fs::set_permissions(input.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let ingest = tally_as_nobody(&path, &["ingest", &input.path().to_string_lossy()]);
    assert!(!ingest.status.success(), "{ingest:?}");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["tally.db"]);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn failing_writes_make_health_degraded_until_one_succeeds() {
    // A short busy timeout: a write waits that long for a lock another process holds.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tally.db");
    let options = tally_api::SqliteOptions {
        busy_timeout: Duration::from_millis(50),
        ..tally_api::SqliteOptions::default()
    };
    let analytics =
        tally_api::Analytics::open_with(&path, tally_api::Config::default(), options).unwrap();
    let server = TestServer::on(TestDb { dir, analytics }, |_| {});
    let http = &server.http;
    let health = http.get("/api/analytics/health", None).json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["writes"]["status"], "ok");
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let refused = http.post("/api/analytics/events", None, execution("w1"));
    assert!(refused.status >= 500, "{}", refused.text());
    let health = http.get("/api/analytics/health", None);
    assert_eq!(health.status, 200, "reads still answer");
    let health = health.json();
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["writes"]["status"], "failing");
    // The refused ingest, and perhaps the server's start-up retention pass, which runs
    // on its own task and may meet the same lock.
    let failures = health["writes"]["failures"].as_u64().unwrap();
    assert!((1..=2).contains(&failures), "{health}");
    let error = health["writes"]["error"].as_str().unwrap();
    assert!(error.contains("locked"), "{error}");
    other.execute_batch("COMMIT").unwrap();
    let accepted = http.post("/api/analytics/events", None, execution("w2"));
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(
        http.get("/api/analytics/health", None).json()["status"],
        "ok"
    );
}

#[test]
fn a_store_opened_read_only_reads_and_refuses_writes() {
    let db = TestDb::new();
    db.ingest("x", execution("a"));
    let path = db.path();
    let forced = tally_api::SqliteOptions {
        read_only: true,
        ..tally_api::SqliteOptions::default()
    };
    let analytics =
        tally_api::Analytics::open_with(&path, tally_api::Config::default(), forced).unwrap();
    assert_eq!(
        analytics
            .summary(&tally_api::Filter::default())
            .unwrap()
            .total_executions,
        1
    );
    let input = tally_api::Input::Bytes {
        name: "x".into(),
        data: execution("b").as_bytes().into(),
    };
    let error = analytics
        .ingest_with(&input, &crate::support::options(), &mut ())
        .unwrap_err();
    assert!(error.to_string().contains("readonly"), "{error}");
    assert!(analytics.write_failure().is_some());
    assert_eq!(db.events(), 1);
}
