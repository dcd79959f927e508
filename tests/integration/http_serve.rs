//! `tally serve` as a user runs it: the real binary, its printed address, `--demo`, and
//! graceful shutdown on SIGTERM with an ingest in flight.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Http, TestDb, TestServer, execution_now, tally};

/// A running `tally serve` and the address it printed.
pub struct Served {
    pub child: Child,
    pub http: Http,
    pub lines: Vec<String>,
}

/// A server a test forgot to stop, or left behind by a failing assertion, is stopped.
impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `tally --db DB serve --addr 127.0.0.1:0 ARGS` and waits for its address.
pub fn serve(db: &TestDb, args: &[&str]) -> Served {
    serve_at(tally().arg("--db").arg(db.path()), args)
}

/// Starts `COMMAND serve --addr 127.0.0.1:0 ARGS` (`COMMAND` is `tally` with its global
/// options) and waits for its address.
#[expect(
    clippy::zombie_processes,
    reason = "the child is handed to the caller, who stops and waits for it"
)]
pub fn serve_at(command: &mut std::process::Command, args: &[&str]) -> Served {
    let mut child = command
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            let status = child.wait();
            panic!("tally serve exited ({status:?}) before listening: {lines:?}");
        }
        let line = line.trim_end().to_owned();
        lines.push(line.clone());
        if let Some(addr) = line.strip_prefix("listening on http://") {
            let http = Http::new(addr.parse().unwrap());
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
            return Served { child, http, lines };
        }
    }
}

pub fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn serve_demo_fills_an_empty_database_and_stops_on_sigterm() {
    let db = TestDb::new();
    let mut served = serve(&db, &["--demo"]);
    assert!(
        served
            .lines
            .iter()
            .any(|l| l.starts_with("wrote ") && l.ends_with(" demo events")),
        "{:?}",
        served.lines
    );
    let health = served.http.get("/api/analytics/health", None);
    assert_eq!(health.status, 200);
    let summary = served.http.get("/api/analytics/summary", None).json();
    assert!(summary["total_runs"].as_u64().unwrap() > 100, "{summary}");
    terminate(&served.child);
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status}");
    // A second --demo over a database with data adds nothing.
    let events = db.events();
    let mut again = serve(&db, &["--demo"]);
    assert!(
        again.lines.iter().any(|l| l.contains("already holds data")),
        "{:?}",
        again.lines
    );
    terminate(&again.child);
    assert!(again.child.wait().unwrap().success());
    assert_eq!(db.events(), events);
}

#[test]
fn an_ingest_in_flight_finishes_and_commits_when_the_server_stops() {
    const RECORDS: u64 = 200_000;
    let server = TestServer::start_with(|o| {
        o.max_body_bytes = 128 * 1024 * 1024;
        o.max_batch_records = 1_000_000;
        // A debug build on a busy machine may need long for 200,000 records.
        o.request_timeout = Duration::from_secs(600);
        o.shutdown_grace = Duration::from_secs(600);
    });
    let body: Vec<String> = (0..RECORDS)
        .map(|i| execution_now(&format!("e{i}"), "p"))
        .collect();
    let body = body.join("\n");
    let http = Http::new(
        server
            .http
            .base
            .trim_start_matches("http://")
            .parse()
            .unwrap(),
    );
    let client = std::thread::spawn(move || {
        let answer = http.post("/api/analytics/events", None, body);
        (answer, Instant::now())
    });
    // Wait until the ingest is committing batches, then stop the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.db.analytics.stats().unwrap().events == 0 {
        assert!(Instant::now() < deadline, "the ingest never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let stopping = Instant::now();
    let db = server.stop();
    let (answer, answered) = client.join().unwrap();
    assert!(
        answered > stopping,
        "the ingest finished before the stop; the test proves nothing"
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["accepted"], RECORDS);
    let reopened = tally_api::Analytics::open(db.path()).unwrap();
    assert_eq!(reopened.stats().unwrap().events, RECORDS);
}
