//! The `tally` command as a user runs it.

use serde_json::Value;

use crate::support::{TestDb, execution};

fn json(output: &std::process::Output) -> Value {
    assert!(
        output.status.code().is_some(),
        "tally was killed: {output:?}"
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn ingest_reports_json_and_strict_fails_on_rejections() {
    let db = TestDb::new();
    let file = db.dir.path().join("in.jsonl");
    let bad = r#"{"kind":"execution","id":"x9","ts":"2026-10-01T00:00:00Z","tool":"t","duration_ms":-3,"success":true}"#;
    std::fs::write(&file, format!("{}\n{bad}\nnot json\n", execution("x1"))).unwrap();
    let output = db.tally(&["ingest", "--json", file.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let report = json(&output);
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(report["rejected"], 2);
    assert_eq!(
        report["errors"][0],
        serde_json::json!({"line": 2, "id": "x9", "field": "duration_ms", "message": "must be a number in [0, 31536000000], got -3"})
    );
    assert_eq!(report["errors"][1]["line"], 3);
    assert_eq!(report["errors"][1]["id"], Value::Null);

    let again = db.tally(&["ingest", "--strict", "--json", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(json(&again)["duplicates"], 1);

    // Re-ingesting stores nothing new: the two rejections are counted again on their
    // quarantine entries.
    let listed = json(&db.tally(&["quarantine", "list", "--json"]));
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["records"][0]["raw"], bad);
    assert_eq!(listed["records"][0]["rejections"], 2);
    assert_eq!(listed["records"][1]["rejections"], 2);
    let text = db.tally(&["quarantine", "list"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(
            "line 2: duration_ms: must be a number in [0, 31536000000], got -3 (rejected 2 times, last at "
        ),
        "{text:?}"
    );
    let retried = json(&db.tally(&["quarantine", "retry", "--json"]));
    assert_eq!(retried["still_rejected"], 2);
}

#[test]
fn ingest_reads_stdin_and_csv_with_a_kind() {
    use std::io::Write;
    let db = TestDb::new();
    let mut child = crate::support::tally()
        .arg("--db")
        .arg(db.path())
        .args(["ingest", "--json", "--kind", "action", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ts,user_id,action\n2026-10-01T00:00:00Z,ana,login\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(json(&output)["accepted"], 1, "{output:?}");
}

#[test]
fn demo_then_summary_shows_every_part() {
    let db = TestDb::new();
    let demo = db.tally(&["demo", "--events", "3000", "--days", "10", "--json"]);
    assert!(demo.status.success(), "{demo:?}");
    assert!(json(&demo)["accepted"].as_u64().unwrap() > 2500);
    let summary = json(&db.tally(&["summary", "--json"]));
    for field in [
        "total_runs",
        "total_jobs",
        "total_tokens",
        "total_cost",
        "avg_cost_per_run",
        "avg_duration_seconds",
        "jobs_completed",
        "jobs_failed",
        "jobs_cancelled",
        "jobs_running",
        "jobs_queued",
        "runs_2loop",
        "runs_3loop",
        "qa_summary",
        "monthly_budget",
        "current_month_cost",
        "budget_remaining",
        "generated_at",
        "total_executions",
        "success_rate",
    ] {
        assert!(
            summary.get(field).is_some(),
            "summary lacks {field}: {summary}"
        );
    }
    assert!(summary["total_executions"].as_u64().unwrap() > 1000);
    assert!(summary["total_runs"].as_u64().unwrap() > 0);
    assert!(summary["total_jobs"].as_u64().unwrap() > 0);
    assert!(summary["qa_summary"]["pass_rate"].as_f64().unwrap() > 0.0);
    // Same seed, same data: a second demo adds nothing.
    let again = json(&db.tally(&["demo", "--events", "3000", "--days", "10", "--json"]));
    assert_eq!(again["accepted"], 0);
}

#[test]
fn config_budget_shows_in_the_summary_and_typos_are_refused() {
    let db = TestDb::new();
    let config = db.dir.path().join("tally.toml");
    std::fs::write(&config, "[analytics]\nmonthly_budget = 50.0\n").unwrap();
    let summary = json(&db.tally(&["--config", config.to_str().unwrap(), "summary", "--json"]));
    assert_eq!(summary["monthly_budget"], 50.0);
    assert_eq!(summary["budget_remaining"], 50.0);
    std::fs::write(&config, "[analytics]\nmonthly_budjet = 50.0\n").unwrap();
    let refused = db.tally(&["--config", config.to_str().unwrap(), "summary"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown field `monthly_budjet`"));
}

/// Runs `tally` on a database of demo data with its stdout read by `reader`, which may
/// stop early; returns the exit status and what tally wrote to stderr.
fn run_with_reader(
    demo_events: &str,
    args: &[&str],
    reader: impl FnOnce(std::process::ChildStdout),
) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    use std::process::Stdio;

    let db = TestDb::new();
    let demo = db.tally(&["demo", "--events", demo_events, "--days", "3"]);
    assert!(demo.status.success(), "{demo:?}");
    let mut child = crate::support::tally()
        .arg("--db")
        .arg(db.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    reader(child.stdout.take().unwrap());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap(), stderr)
}

#[test]
fn a_reader_that_stops_early_ends_tally_quietly() {
    // Like `head -c 100`: read a little, then close the pipe; the export's writer
    // meets the closed pipe as an error.
    let (status, stderr) = run_with_reader("3000", &["export", "--format", "json"], |mut out| {
        let mut first = [0u8; 100];
        std::io::Read::read_exact(&mut out, &mut first).unwrap();
    });
    assert_eq!(status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_reader_gone_before_tally_prints_ends_it_quietly() {
    // The pipe closes while tally opens the database, before it prints (`println!`).
    let (status, stderr) = run_with_reader("500", &["summary", "--json"], drop);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // 0 only if tally had printed before the pipe closed.
    assert!(
        matches!(status.code(), Some(141 | 0)),
        "{status:?}: {stderr}"
    );
}

/// `--db` names a backend: a path and `sqlite://PATH` are the same SQLite file, an
/// unknown scheme is refused, and `memory:` opens an empty store in the process (no
/// "no database at" for a backend without a file, and no file made).
#[test]
fn the_database_location_names_its_backend() {
    let db = TestDb::new();
    db.ingest("in.jsonl", format!("{}\n", execution("x1")));
    let url = format!("sqlite://{}", db.path().display());
    let by_url = crate::support::tally()
        .args(["--db", &url, "summary", "--json"])
        .output()
        .unwrap();
    assert!(by_url.status.success(), "{by_url:?}");
    let summary = |output: &std::process::Output| {
        let mut summary = json(output);
        summary["generated_at"] = Value::Null;
        summary
    };
    assert_eq!(summary(&by_url)["total_executions"], 1);
    assert_eq!(summary(&by_url), summary(&db.tally(&["summary", "--json"])));
    let refused = |location: &str| {
        let output = crate::support::tally()
            .current_dir(db.dir.path())
            .args(["--db", location, "summary"])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{location}: {output:?}");
        String::from_utf8_lossy(&output.stderr).trim().to_owned()
    };
    assert_eq!(
        refused("mysql://localhost/tally"),
        "error: unsupported database location \"mysql://localhost/tally\": expected a \
         file path, sqlite://PATH, memory: or postgres://..."
    );
    let in_memory = crate::support::tally()
        .current_dir(db.dir.path())
        .args(["--db", "memory:", "summary", "--json"])
        .output()
        .unwrap();
    assert!(in_memory.status.success(), "{in_memory:?}");
    assert_eq!(summary(&in_memory)["total_executions"], 0);
    assert!(!db.dir.path().join("memory:").exists());
}

/// `tally query` tables for people: number columns right-aligned with thousands
/// separators, money with the same decimals down a column; the summary's money and
/// counts read the same way.
#[test]
fn query_tables_right_align_grouped_numbers() {
    let db = TestDb::new();
    let demo = db.tally(&["demo", "--events", "3000", "--days", "10", "--json"]);
    assert!(demo.status.success(), "{demo:?}");
    let models = json(&db.tally(&["query", "models", "--json"]));
    let output = db.tally(&["query", "models"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let header = lines[0];
    let rows = &lines[1..];
    assert_eq!(rows.len(), models.as_array().unwrap().len(), "{text}");
    // A right-aligned column ends where its title ends.
    let column_end = |title: &str| header.find(title).unwrap() + title.len();
    for (title, money) in [
        ("total_tokens", false),
        ("total_cost", true),
        ("usage_count", false),
    ] {
        let end = column_end(title);
        let mut decimals = Vec::new();
        for (row, model) in rows.iter().zip(models.as_array().unwrap()) {
            let cell = row[..end].rsplit(' ').next().unwrap();
            assert!(
                !cell.is_empty(),
                "{title} not right-aligned in {row:?}\n{text}"
            );
            assert_eq!(
                row.as_bytes().get(end).copied().unwrap_or(b' '),
                b' ',
                "{row:?}"
            );
            let expected = model[title].as_f64().unwrap();
            let digits: String = cell.chars().filter(|c| *c != ',' && *c != '$').collect();
            let shown: f64 = digits
                .parse()
                .unwrap_or_else(|_| panic!("{title}: {cell:?}"));
            let places = digits.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(
                (shown - expected).abs() <= 0.5 * 10f64.powi(-(places as i32)) + 1e-9,
                "{title}: {cell} for {expected}"
            );
            if expected >= 1000.0 {
                assert!(
                    cell.contains(','),
                    "{title}: {cell} has no thousands separator"
                );
            }
            assert_eq!(cell.starts_with('$'), money, "{title}: {cell}");
            decimals.push(places);
        }
        decimals.dedup();
        assert_eq!(
            decimals.len(),
            1,
            "{title}: mixed decimals in one column\n{text}"
        );
    }
    let summary = String::from_utf8_lossy(&db.tally(&["summary"]).stdout).into_owned();
    let cost = summary
        .lines()
        .find(|line| line.starts_with("cost"))
        .unwrap()
        .to_owned();
    let tokens = summary.lines().find(|l| l.starts_with("tokens")).unwrap();
    assert!(
        cost.split_once('.')
            .is_some_and(|(_, cents)| cents.len() == 2),
        "{cost}"
    );
    assert!(tokens.contains(','), "{tokens}");
}
