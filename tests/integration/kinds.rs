//! Every kind's happy path: a realistic record of each kind is accepted, stored once, and
//! shows up in the summary where it should.

use crate::support::TestDb;

const RECORDS: &str = r#"{"kind":"execution","id":"x1","ts":"2026-10-01T10:00:00Z","project":"p","tool":"web_search","duration_ms":1200.5,"success":true,"agent_id":"a1","task_id":"t1","user_id":"u1","session_id":"s1","model":"gpt-4o","input_tokens":1000,"output_tokens":200,"cache_read_tokens":400,"cache_write_tokens":100,"reasoning_tokens":50,"cost_usd":0.0045,"effort":"low","browser_used":true,"region":"eu"}
{"kind":"execution","id":"x2","ts":1790000000000,"project":"p","tool":"code_edit","duration_ms":80,"success":false,"error":"timeout"}
{"kind":"run","id":"r1","ts":"2026-10-01T10:05:00+02:00","project":"p","duration_s":240.5,"mode":"3loop","qa_status":"passed","models":[{"model":"gpt-4o","input_tokens":3000,"output_tokens":500,"cost_usd":0.0125},{"model":"claude-haiku-4","input_tokens":100,"output_tokens":20}]}
{"kind":"run","id":"r2","ts":"2026-10-02T10:05:00Z","project":"p","duration_s":100,"mode":"2loop","qa_status":"warning"}
{"kind":"job","id":"j1a","ts":"2026-10-01T10:00:00Z","project":"p","job_id":"job-1","status":"queued","run_id":"r1"}
{"kind":"job","id":"j1b","ts":"2026-10-01T10:01:00Z","project":"p","job_id":"job-1","status":"completed","run_id":"r1"}
{"kind":"job","id":"j2a","ts":"2026-10-01T10:01:00Z","project":"p","job_id":"job-2","status":"running"}
{"kind":"session","id":"s1","ts":"2026-10-01T18:00:00Z","project":"tutor","user_id":"ana","duration_s":1500,"exchanges":14,"quality":0.82,"topics":["algebra","fractions"],"quality_breakdown":{"relevance":0.9,"clarity":0.7}}
{"kind":"skill","id":"k1","ts":"2026-10-01T18:10:00Z","project":"tutor","user_id":"ana","skill":"explain","completed":true,"session_id":"s1","phase":"planning","duration_ms":900,"rating":5,"query":"why is 1/2 > 1/3?"}
{"kind":"outcome","id":"o1","ts":"2026-10-01T18:20:00Z","project":"tutor","experiment":"onboarding-v2","user_id":"ana","variant":"treatment","metrics":{"completed":true,"duration_ms":5120,"rating":4}}
{"kind":"agent_status","id":"a1","ts":"2026-10-01T10:00:00Z","agent_id":"agent-1","active_tasks":3,"queued_tasks":2,"capacity":4,"cpu_pct":55.5,"mem_pct":40}
{"kind":"request","id":"q1","ts":"2026-10-01T10:00:00Z","endpoint":"/api/chat","method":"POST","status":200,"latency_ms":35.2,"user_id":"ana"}
{"kind":"action","id":"c1","ts":"2026-10-01T10:00:00Z","user_id":"ana","action":"open_lesson","attrs":{"lesson":"fractions-1"}}
{"kind":"system","id":"y1","ts":"2026-10-01T10:00:00Z","host":"web-1","cpu_pct":12.5,"load1":0.7}
{"kind":"error","id":"e1","ts":"2026-10-01T10:00:00Z","source":"api","message":"upstream timed out","severity":"warning"}
"#;

#[test]
fn one_record_of_every_kind_is_stored_once() {
    let db = TestDb::new();
    let report = db.ingest("kinds.jsonl", RECORDS);
    assert_eq!(
        (report.accepted, report.duplicates, report.rejected),
        (15, 0, 0),
        "{:?}",
        report.errors
    );
    let again = db.ingest("kinds.jsonl", RECORDS);
    assert_eq!((again.accepted, again.duplicates), (0, 15));
    assert_eq!(db.events(), 15);
}

#[test]
fn the_summary_adds_executions_and_runs_and_counts_jobs_by_latest_status() {
    let db = TestDb::new();
    db.ingest("kinds.jsonl", RECORDS);
    let s = db
        .analytics
        .summary(&tally_api::Filter {
            project: Some("p".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((s.total_executions, s.success_rate), (2, 0.5));
    assert_eq!((s.total_runs, s.runs_2loop, s.runs_3loop), (2, 1, 1));
    // Execution tokens are input + output (cached and reasoning are subsets); run tokens
    // are the sum over the run's models.
    assert_eq!(s.total_tokens, 1200 + 3500 + 120);
    // The run's claude-haiku-4 usage sent no cost: tally prices it from its table
    // (100 input tokens at $1/M, 20 output tokens at $5/M).
    let haiku = 100.0 * 1.0 / 1e6 + 20.0 * 5.0 / 1e6;
    assert!(
        (s.total_cost - (0.0045 + 0.0125 + haiku)).abs() < 1e-12,
        "{}",
        s.total_cost
    );
    assert!((s.avg_cost_per_run - (0.0125 + haiku) / 2.0).abs() < 1e-12);
    assert!((s.avg_duration_seconds - 170.25).abs() < 1e-9);
    assert_eq!(
        (
            s.total_jobs,
            s.jobs_completed,
            s.jobs_running,
            s.jobs_queued
        ),
        (2, 1, 1, 0)
    );
    let qa = s.qa_summary;
    assert_eq!(
        (qa.total_qa_runs, qa.qa_passed, qa.qa_warning, qa.qa_not_run),
        (2, 1, 1, 0)
    );
    assert_eq!(qa.pass_rate, 0.5);
    let everything = db.analytics.summary(&tally_api::Filter::default()).unwrap();
    assert_eq!(everything.total_executions, 2);
    // A project without data is refused, not answered with zeros.
    let nothing = db
        .analytics
        .summary(&tally_api::Filter {
            project: Some("nope".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        matches!(&nothing, tally_api::Error::UnknownProject { project, .. } if project == "nope"),
        "{nothing}"
    );
}

#[test]
fn records_without_ids_are_idempotent_by_content() {
    let db = TestDb::new();
    let a = r#"{"kind":"action","ts":"2026-10-01T10:00:00Z","user_id":"u","action":"click","attrs":{"b":1,"a":2}}"#;
    // The same record with other field order, spacing and offset.
    let b = r#"{ "attrs":{"a":2,"b":1}, "action":"click", "user_id":"u", "ts":"2026-10-01T12:00:00+02:00", "kind":"action" }"#;
    let report = db.ingest("a.jsonl", format!("{a}\n{b}\n"));
    assert_eq!((report.accepted, report.duplicates), (1, 1));
    let other = db.ingest("b.jsonl", a.replace("click", "scroll"));
    assert_eq!(other.accepted, 1);
}

#[test]
fn gzip_input_is_read_like_plain() {
    use std::io::Write;
    let db = TestDb::new();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(RECORDS.as_bytes()).unwrap();
    let gz = encoder.finish().unwrap();
    let report = db.ingest("kinds.jsonl.gz", gz);
    assert_eq!(report.accepted, 15);
}
