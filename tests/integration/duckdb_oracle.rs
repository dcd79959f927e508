//! The summary, QA, per-project, per-model and daily views equal what DuckDB computes
//! with plain SQL over the same JSON Lines file (`tests/oracles/duckdb_views.py`).

use std::fmt::Write;
use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use serde_json::Value;
use tally_api::{Filter, Granularity};

use crate::support::TestDb;

/// A small deterministic generator (xorshift64*), so the file is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Executions, runs (with per-model usage) and job changes of 3 projects over 10 days.
/// Every cost is given, so the figures do not depend on tally's price table.
fn events() -> String {
    let mut rng = Rng(0x7a11_7a11);
    let start = Utc.with_ymd_and_hms(2026, 10, 10, 0, 0, 0).unwrap();
    let projects = ["support-bot", "code-review", "tutor"];
    let models = ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini"];
    let mut out = String::new();
    for i in 0..3000 {
        let ts = (start + Duration::seconds(rng.below(10 * 86_400) as i64)).to_rfc3339();
        let project = rng.pick(&projects);
        match rng.below(10) {
            0..=5 => {
                let model = if rng.below(4) == 0 {
                    String::new()
                } else {
                    format!(r#","model":"{}""#, rng.pick(&models))
                };
                let _ = writeln!(
                    out,
                    r#"{{"kind":"execution","id":"x{i}","ts":"{ts}","project":"{project}","tool":"{}","duration_ms":{}.{},"success":{},"input_tokens":{},"output_tokens":{},"cost_usd":{}{model}}}"#,
                    rng.pick(&["web_search", "code_edit", "run_tests"]),
                    rng.below(20_000),
                    rng.below(10),
                    rng.below(10) < 8,
                    rng.below(8000),
                    rng.below(2000),
                    rng.below(100_000) as f64 / 1e6,
                );
            }
            6..=8 => {
                let usage: Vec<String> = (0..rng.below(3))
                    .map(|_| {
                        format!(
                            r#"{{"model":"{}","input_tokens":{},"output_tokens":{},"cost_usd":{}}}"#,
                            rng.pick(&models),
                            rng.below(9000),
                            rng.below(3000),
                            rng.below(500_000) as f64 / 1e6
                        )
                    })
                    .collect();
                let qa = match rng.below(6) {
                    5 => String::new(),
                    n => format!(
                        r#","qa_status":"{}""#,
                        ["passed", "passed", "warning", "failed", "error"][n as usize]
                    ),
                };
                let _ = writeln!(
                    out,
                    r#"{{"kind":"run","id":"r{i}","ts":"{ts}","project":"{project}","duration_s":{}.5,"mode":"{}","models":[{}]{qa}}}"#,
                    rng.below(600),
                    rng.pick(&["2loop", "3loop", "solo"]),
                    usage.join(",")
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    r#"{{"kind":"job","id":"j{i}","ts":"{ts}","project":"{project}","job_id":"job-{}","status":"{}"}}"#,
                    rng.below(80),
                    rng.pick(&["queued", "running", "completed", "failed", "cancelled"])
                );
            }
        }
    }
    out
}

fn duckdb(file: &Path) -> Value {
    crate::support::python_oracle_args("duckdb_views.py", &[file])
}

fn nanos(usd: f64) -> i64 {
    (usd * 1e9).round() as i64
}

fn int(value: &Value) -> i64 {
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f as i64))
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

#[test]
fn views_equal_duckdb_over_the_same_file() {
    let db = TestDb::new();
    let text = events();
    let file = db.dir.path().join("events.jsonl");
    std::fs::write(&file, &text).unwrap();
    let report = db.ingest("events.jsonl", &text);
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    let oracle = duckdb(&file);
    let analytics = db
        .analytics
        .as_of(Utc.with_ymd_and_hms(2026, 10, 21, 0, 0, 0).unwrap());
    let all = Filter::default();

    let s = analytics.summary(&all).unwrap();
    let d = &oracle["summary"];
    assert_eq!(s.total_executions as i64, int(&d["total_executions"]));
    assert_eq!(
        (s.success_rate * s.total_executions as f64).round() as i64,
        int(&d["successful_executions"])
    );
    assert_eq!(s.total_runs as i64, int(&d["total_runs"]));
    assert_eq!(s.total_tokens as i64, int(&d["total_tokens"]));
    assert_eq!(nanos(s.total_cost), int(&d["total_cost_nanos"]));
    let want = d["avg_duration_seconds"].as_f64().unwrap();
    assert!(
        (s.avg_duration_seconds - want).abs() <= 1e-9 * want,
        "{} vs {want}",
        s.avg_duration_seconds
    );
    assert_eq!(
        (s.runs_2loop as i64, s.runs_3loop as i64),
        (int(&d["runs_2loop"]), int(&d["runs_3loop"]))
    );
    let jobs = &d["jobs"];
    let job = |status: &str| jobs.get(status).map_or(0, int);
    assert_eq!(
        [
            s.jobs_queued,
            s.jobs_running,
            s.jobs_completed,
            s.jobs_failed,
            s.jobs_cancelled
        ]
        .map(|n| n as i64),
        [
            job("queued"),
            job("running"),
            job("completed"),
            job("failed"),
            job("cancelled")
        ]
    );

    let qa = analytics.qa(&all).unwrap();
    let q = |status: &str| oracle["qa"].get(status).map_or(0, int);
    assert_eq!(
        [
            qa.qa_passed,
            qa.qa_warning,
            qa.qa_failed,
            qa.qa_error,
            qa.qa_not_run
        ]
        .map(|n| n as i64),
        [
            q("passed"),
            q("warning"),
            q("failed"),
            q("error"),
            q("not_run")
        ]
    );

    let projects = analytics.projects(&all).unwrap();
    let expected = oracle["projects"].as_array().unwrap();
    assert_eq!(projects.len(), expected.len());
    for (p, e) in projects.iter().zip(expected) {
        assert_eq!(p.project_name, e["project_name"].as_str().unwrap());
        assert_eq!(
            [
                p.runs_count as i64,
                p.total_tokens as i64,
                nanos(p.total_cost),
                p.qa_passed as i64,
                p.qa_warning as i64,
                p.qa_failed as i64,
                p.qa_not_run as i64,
                p.total_executions as i64
            ],
            [
                int(&e["runs_count"]),
                int(&e["total_tokens"]),
                int(&e["total_cost_nanos"]),
                int(&e["qa_passed"]),
                int(&e["qa_warning"]),
                int(&e["qa_failed"]),
                int(&e["qa_not_run"]),
                int(&e["total_executions"])
            ],
            "project {}",
            p.project_name
        );
    }

    let mut models = analytics.models(&all).unwrap();
    models.sort_by(|a, b| a.model_name.cmp(&b.model_name));
    let expected = oracle["models"].as_array().unwrap();
    assert_eq!(models.len(), expected.len());
    for (m, e) in models.iter().zip(expected) {
        assert_eq!(m.model_name, e["model_name"].as_str().unwrap());
        assert_eq!(
            [
                m.usage_count as i64,
                m.total_tokens as i64,
                nanos(m.total_cost)
            ],
            [
                int(&e["usage_count"]),
                int(&e["total_tokens"]),
                int(&e["total_cost_nanos"])
            ],
            "model {}",
            m.model_name
        );
    }

    let window = Filter {
        from: Some(Utc.with_ymd_and_hms(2026, 10, 10, 0, 0, 0).unwrap()),
        to: Some(Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap()),
        ..Filter::default()
    };
    let series = analytics.timeseries(&window, Granularity::Day).unwrap();
    let points = series.points();
    let expected = oracle["daily"].as_array().unwrap();
    assert_eq!(
        points.len(),
        expected.len(),
        "every day of the window has events"
    );
    for (p, e) in points.iter().zip(expected) {
        assert_eq!(p.date.as_deref(), e["date"].as_str());
        assert_eq!(
            [
                p.runs as i64,
                p.executions as i64,
                p.tokens as i64,
                nanos(p.cost),
                p.qa_passed as i64
            ],
            [
                int(&e["runs"]),
                int(&e["executions"]),
                int(&e["tokens"]),
                int(&e["cost_nanos"]),
                int(&e["qa_passed"])
            ],
            "day {:?}",
            p.date
        );
    }
}
