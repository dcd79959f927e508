//! The bad-input table: each bad record, between two good ones, is rejected with the
//! exact error, quarantined verbatim, and does not stop its neighbours from landing.

use chrono::TimeZone;

use tally_api::Input;

use crate::support::{TestDb, execution};

const EXEC: &str = r#""kind":"execution","id":"bad","ts":"2026-10-01T00:00:00Z""#;
const T: &str = r#""ts":"2026-10-01T00:00:00Z""#;

/// `(record, field, message)`; the record's id is `bad` when it has one.
fn cases() -> Vec<(Vec<u8>, &'static str, String)> {
    let long = "x".repeat(1025);
    let big_attrs: String = (0..300)
        .map(|i| format!(r#""key{i:03}":"{}""#, "v".repeat(20)))
        .collect::<Vec<_>>()
        .join(",");
    let text = |s: String| s.into_bytes();
    let exec = |rest: &str| text(format!("{{{EXEC},{rest}}}"));
    let ok = r#""tool":"t","duration_ms":5,"success":true"#;
    vec![
        // Not a record at all.
        (b"not json".to_vec(), "", "not valid JSON: expected ident at line 1 column 2".into()),
        (br#"{"kind":"execution""#.to_vec(), "", "not valid JSON: EOF while parsing an object at line 1 column 19".into()),
        (b"[]".to_vec(), "", "a record must be an object of fields, got an array of 0".into()),
        (b"42".to_vec(), "", "a record must be an object of fields, got 42".into()),
        (b"{\"kind\":\"execution\",\"tool\":\"caf\xe9\"}".to_vec(), "", "not valid UTF-8: invalid byte at offset 31".into()),
        (text(format!(r#"{{"kind":"execution","x":"{}"}}"#, "y".repeat(1024 * 1024))), "", "record is 1048603 bytes, more than the 1048576-byte limit; its first 1048576 bytes are kept".into()),
        // The envelope.
        (b"{}".to_vec(), "kind", "is required".into()),
        (text(format!(r#"{{"kind":"telemetry",{T}}}"#)), "kind", r#"must be one of execution, run, job, session, skill, outcome, agent_status, request, action, system, error, got string "telemetry""#.into()),
        (text(format!(r#"{{"kind":7,{T}}}"#)), "kind", "must be a string, got 7".into()),
        (text(format!(r#"{{"kind":"execution",{ok}}}"#)), "ts", "is required".into()),
        (text(format!(r#"{{"kind":"execution","ts":"yesterday",{ok}}}"#)), "ts", r#"must be an RFC 3339 timestamp with offset or integer epoch milliseconds, got string "yesterday""#.into()),
        (text(format!(r#"{{"kind":"execution","ts":"2026-10-01T00:00:00",{ok}}}"#)), "ts", r#"must be an RFC 3339 timestamp with offset or integer epoch milliseconds, got string "2026-10-01T00:00:00""#.into()),
        (text(format!(r#"{{"kind":"execution","ts":1.5,{ok}}}"#)), "ts", "must be an RFC 3339 timestamp with offset or integer epoch milliseconds, got 1.5".into()),
        (text(format!(r#"{{"kind":"execution","ts":"1999-12-31T23:59:59Z",{ok}}}"#)), "ts", "must not be before 2000-01-01, got 1999-12-31T23:59:59+00:00".into()),
        (text(format!(r#"{{"kind":"execution","ts":"2026-11-03T00:00:00Z",{ok}}}"#)), "ts", "must be at most 24 h in the future (until 2026-11-02T00:00:00+00:00), got 2026-11-03T00:00:00+00:00".into()),
        (text(format!(r#"{{"kind":"execution","id":"{}",{T},{ok}}}"#, "i".repeat(129))), "id", "must be at most 128 characters, got 129".into()),
        (text(format!(r#"{{"kind":"execution","id":12,{T},{ok}}}"#)), "id", "must be a string, got 12".into()),
        (text(format!(r#"{{"kind":"execution","project":"{}",{T},{ok}}}"#, "p".repeat(129))), "project", "must be at most 128 characters, got 129".into()),
        (exec(&format!(r#"{ok},"attrs":"eu""#)), "attrs", r#"must be an object, got string "eu""#.into()),
        (exec(&format!(r#"{ok},"attrs":{{"a":{{"b":1}}}}"#)), "attrs.a", "attrs values must be a string, number or bool, got an object of 1 fields".into()),
        (exec(&format!(r#"{ok},"attrs":{{{big_attrs}}}"#)), "attrs", "must be at most 8192 bytes as JSON, got 9601".into()),
        (exec(&format!(r#"{ok},"attrs":{{"region":"{long}"}}"#)), "attrs.region", "must be at most 1024 characters, got 1025".into()),
        (exec(&format!(r#"{ok},"extra":[1,2]"#)), "extra", "attrs values must be a string, number or bool, got an array of 2".into()),
        (exec(&format!(r#"{ok},"region":"eu","attrs":{{"region":"us"}}"#)), "region", "is an unknown field kept in attrs, but attrs has the same key".into()),
        (exec(&format!(r#"{ok},"tool":"again""#)), "tool", "is given twice in one record".into()),
        // execution fields.
        (exec(r#""duration_ms":5,"success":true"#), "tool", "is required".into()),
        (exec(r#""tool":3,"duration_ms":5,"success":true"#), "tool", "must be a string, got 3".into()),
        (exec(r#""tool":"","duration_ms":5,"success":true"#), "tool", "must be a non-empty string".into()),
        (exec(&format!(r#""tool":"{long}","duration_ms":5,"success":true"#)), "tool", "must be at most 1024 characters, got 1025".into()),
        (exec(r#""tool":"t","duration_ms":-3,"success":true"#), "duration_ms", "must be a number in [0, 31536000000], got -3".into()),
        (exec(r#""tool":"t","duration_ms":"NaN","success":true"#), "duration_ms", r#"must be a number in [0, 31536000000], got string "NaN""#.into()),
        (exec(r#""tool":"t","duration_ms":"12","success":true"#), "duration_ms", r#"must be a number in [0, 31536000000], got string "12""#.into()),
        (exec(r#""tool":"t","duration_ms":true,"success":true"#), "duration_ms", "must be a number in [0, 31536000000], got true".into()),
        (exec(r#""tool":"t","duration_ms":5"#), "success", "is required".into()),
        (exec(r#""tool":"t","duration_ms":5,"success":"true""#), "success", r#"must be true or false, got string "true""#.into()),
        (exec(&format!(r#"{ok},"input_tokens":-1"#)), "input_tokens", "must be an integer in [0, 1000000000], got -1".into()),
        (exec(&format!(r#"{ok},"output_tokens":2.5"#)), "output_tokens", "must be an integer in [0, 1000000000], got 2.5".into()),
        (exec(&format!(r#"{ok},"input_tokens":10,"cache_read_tokens":8,"cache_write_tokens":4"#)), "cache_read_tokens", "cache_read_tokens + cache_write_tokens must not exceed input_tokens, which includes cached tokens; got 12 > 10".into()),
        (exec(&format!(r#"{ok},"output_tokens":10,"reasoning_tokens":11"#)), "reasoning_tokens", "must not exceed output_tokens, which includes reasoning tokens; got 11 > 10".into()),
        (exec(&format!(r#"{ok},"effort":"extreme""#)), "effort", r#"must be one of none, low, medium, high, got string "extreme""#.into()),
        (exec(&format!(r#"{ok},"cost_usd":-0.01"#)), "cost_usd", "must be a number in [0, 1000000], got -0.01".into()),
        (exec(&format!(r#"{ok},"browser_used":1"#)), "browser_used", "must be true or false, got 1".into()),
        // Per-record bounds: refused, never clamped.
        (exec(&format!(r#"{ok},"input_tokens":9223372036854775808"#)), "input_tokens", "must be an integer in [0, 1000000000], got 9223372036854775808".into()),
        (exec(&format!(r#"{ok},"output_tokens":9223372036854775807"#)), "output_tokens", "must be an integer in [0, 1000000000], got 9223372036854775807".into()),
        (exec(&format!(r#"{ok},"cost_usd":1e300"#)), "cost_usd", "must be a number in [0, 1000000], got 1e300".into()),
        (exec(r#""tool":"t","duration_ms":5e15,"success":true"#), "duration_ms", "must be a number in [0, 31536000000], got 5000000000000000".into()),
        (text(format!(r#"{{"kind":"run","id":"bad",{T},"duration_s":3,"models":[{{"model":"m","cost_usd":5e9}}]}}"#)), "models[0].cost_usd", "must be a number in [0, 1000000], got 5000000000".into()),
        // Project names.
        (text(format!(r#"{{"kind":"execution","id":"bad","project":"",{T},{ok}}}"#)), "project", "must be a non-empty string".into()),
        (text(format!("{{\"kind\":\"execution\",\"id\":\"bad\",\"project\":\"alpha\u{202e}ateb\",{T},{ok}}}")), "project", format!("must not contain bidirectional control characters, got U+202E in string {:?}", "alpha\u{202e}ateb")),
        // The other kinds.
        (text(format!(r#"{{"kind":"run","id":"bad",{T},"duration_s":3,"qa_status":"great"}}"#)), "qa_status", r#"must be one of passed, warning, failed, error, not_run, got string "great""#.into()),
        (text(format!(r#"{{"kind":"run","id":"bad",{T},"duration_s":3,"models":"gpt-4o"}}"#)), "models", r#"must be an array, got string "gpt-4o""#.into()),
        (text(format!(r#"{{"kind":"run","id":"bad",{T},"duration_s":3,"models":[{{"input_tokens":5}}]}}"#)), "models[0].model", "is required".into()),
        (text(format!(r#"{{"kind":"run","id":"bad",{T},"duration_s":3,"models":[{{"model":"m","tokens":5}}]}}"#)), "models[0].tokens", "is not a field here; expected model, input_tokens, output_tokens, cost_usd".into()),
        (text(format!(r#"{{"kind":"job","id":"bad",{T},"job_id":"j1"}}"#)), "status", "is required".into()),
        (text(format!(r#"{{"kind":"session","id":"bad",{T},"user_id":"u","duration_s":60,"exchanges":4,"quality":1.5}}"#)), "quality", "must be a number in [0, 1], got 1.5".into()),
        (text(format!(r#"{{"kind":"session","id":"bad",{T},"user_id":"u","duration_s":60,"exchanges":-1}}"#)), "exchanges", "must be an integer in [0, 1000000000], got -1".into()),
        (text(format!(r#"{{"kind":"session","id":"bad",{T},"user_id":"u","duration_s":60,"exchanges":1,"topics":"algebra"}}"#)), "topics", r#"must be an array, got string "algebra""#.into()),
        (text(format!(r#"{{"kind":"skill","id":"bad",{T},"user_id":"u","skill":"s","completed":true,"rating":6}}"#)), "rating", "must be an integer in [1, 5], got 6".into()),
        (text(format!(r#"{{"kind":"outcome","id":"bad",{T},"experiment":"e","user_id":"u","variant":"a","metrics":{{}}}}"#)), "metrics", "must hold at least one metric".into()),
        (text(format!(r#"{{"kind":"outcome","id":"bad",{T},"experiment":"e","user_id":"u","variant":"a","metrics":{{"rating":"4"}}}}"#)), "metrics.rating", r#"must be a number or a bool, got string "4""#.into()),
        (text(format!(r#"{{"kind":"agent_status","id":"bad",{T},"agent_id":"a","active_tasks":1,"queued_tasks":0,"capacity":0}}"#)), "capacity", "must be an integer in [1, 1000000000], got 0".into()),
        (text(format!(r#"{{"kind":"request","id":"bad",{T},"endpoint":"/x","method":"GET","status":700,"latency_ms":3}}"#)), "status", "must be an integer in [100, 599], got 700".into()),
        (text(format!(r#"{{"kind":"system","id":"bad",{T},"host":"h"}}"#)), "cpu_pct", "a system record needs at least one of cpu_pct, mem_pct, disk_pct, load1".into()),
        (text(format!(r#"{{"kind":"system","id":"bad",{T},"host":"h","cpu_pct":101}}"#)), "cpu_pct", "must be a number in [0, 100], got 101".into()),
        (text(format!(r#"{{"kind":"error","id":"bad",{T},"source":"api","message":"boom","severity":"fatal"}}"#)), "severity", r#"must be one of info, warning, error, critical, got string "fatal""#.into()),
        (text(format!(r#"{{"kind":"error","id":"bad",{T},"source":"api","message":"{}"}}"#, "m".repeat(4097))), "message", "must be at most 4096 characters, got 4097".into()),
    ]
}

#[test]
fn every_bad_record_is_named_quarantined_and_spares_its_batch() {
    let cases = cases();
    assert!(cases.len() >= 40, "the table keeps at least 40 cases");
    let mut failures = Vec::new();
    for (n, (record, field, message)) in cases.iter().enumerate() {
        let db = TestDb::new();
        let mut body = execution("good-1").into_bytes();
        body.push(b'\n');
        body.extend_from_slice(record);
        body.push(b'\n');
        body.extend_from_slice(execution("good-2").as_bytes());
        let report = db.ingest("cases.jsonl", &body);
        // The report names the id the record carried (its first 128 characters).
        let expected_id = serde_json::from_slice::<serde_json::Value>(record)
            .ok()
            .and_then(|v| {
                v.get("id")
                    .and_then(|id| id.as_str())
                    .map(|id| id.chars().take(128).collect::<String>())
            });
        let got = report
            .errors
            .first()
            .map(|e| (e.line, e.id.clone(), e.field.as_str(), e.message.as_str()));
        if (report.accepted, report.rejected, report.errors.len()) != (2, 1, 1)
            || got != Some((Some(2), expected_id.clone(), field, message.as_str()))
        {
            failures.push(format!("case {n}: expected ({field:?}, {message:?}, id {expected_id:?}), got {got:?} with {report:?}"));
            continue;
        }
        let quarantined = db.analytics.quarantined(0, 10).unwrap();
        let kept = &quarantined[0].rejection.raw;
        if quarantined.len() != 1
            || !(kept == record
                || (record.len() > 1024 * 1024
                    && record.starts_with(kept)
                    && kept.len() == 1024 * 1024))
        {
            failures.push(format!(
                "case {n}: quarantine does not hold the record verbatim"
            ));
        }
        if db.events() != 2 {
            failures.push(format!(
                "case {n}: {} events stored, expected the 2 good ones",
                db.events()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn duplicated_ids_in_one_batch_are_counted_not_stored_twice() {
    let db = TestDb::new();
    let body = [execution("same"), execution("same"), execution("other")].join("\n");
    let report = db.ingest("dup.jsonl", body);
    assert_eq!(
        (report.accepted, report.duplicates, report.rejected),
        (2, 1, 0)
    );
    assert!(report.errors.is_empty());
    assert_eq!(db.events(), 2);
}

#[test]
fn a_json_array_reports_indexes_and_a_break_keeps_the_rest() {
    let db = TestDb::new();
    let body = format!(
        "[{}, {{\"kind\":\"nope\",\"ts\":0}}, {}]",
        execution("a"),
        execution("b")
    );
    let report = db.ingest("arr.json", body);
    assert_eq!((report.accepted, report.rejected), (2, 1));
    assert_eq!(
        (report.errors[0].index, report.errors[0].line),
        (Some(1), None)
    );
    let broken = format!("[{}, {{\"kind\": ", execution("c"));
    let report = db.ingest("broken.json", &broken);
    assert_eq!((report.accepted, report.rejected), (1, 1));
    assert_eq!(report.errors[0].index, Some(1));
    assert!(
        report.errors[0]
            .message
            .starts_with("not valid JSON: EOF while parsing"),
        "{}",
        report.errors[0].message
    );
}

#[test]
fn csv_rows_name_their_line_and_column() {
    let db = TestDb::new();
    let body = "kind,id,ts,tool,duration_ms,success,region\n\
                execution,c1,2026-10-01T00:00:00Z,web,5,true,eu\n\
                execution,c2,2026-10-01T00:00:00Z,web,-5,true,eu\n\
                execution,c3,1790000000000,web,5,false,\n";
    let report = db.ingest("rows.csv", body);
    assert_eq!((report.accepted, report.rejected), (2, 1), "{report:?}");
    let error = &report.errors[0];
    assert_eq!(
        (error.line, error.id.as_deref(), error.field.as_str()),
        (Some(3), Some("c2"), "duration_ms")
    );
    assert_eq!(
        error.message,
        r#"must be a number in [0, 31536000000], got "-5""#
    );
}

/// The issue's reproduction: values that wrapped 64-bit sums are refused with the field
/// named, the rest of the batch is stored, and values at the bounds sum exactly.
#[test]
fn values_that_wrapped_the_sums_are_refused_and_totals_stay_exact() {
    let db = TestDb::new();
    let beyond = |id: &str| {
        format!(
            r#"{{"kind":"execution","id":"{id}","project":"alpha",{T},"tool":"t","duration_ms":5e15,"success":true,"cost_usd":5e9,"input_tokens":9223372036854775807,"output_tokens":9223372036854775807}}"#
        )
    };
    let at_bound = |id: &str| {
        format!(
            r#"{{"kind":"execution","id":"{id}","project":"alpha",{T},"tool":"t","duration_ms":31536000000,"success":true,"cost_usd":1000000,"input_tokens":1000000000,"output_tokens":1000000000}}"#
        )
    };
    let body = [beyond("w1"), at_bound("ok1"), beyond("w2"), at_bound("ok2")].join("\n");
    let report = db.ingest("wrap.jsonl", body);
    assert_eq!((report.accepted, report.rejected), (2, 2), "{report:?}");
    for error in &report.errors {
        assert_eq!(error.field, "duration_ms", "{error:?}");
    }
    let summary = db.analytics.summary(&tally_api::Filter::default()).unwrap();
    assert_eq!(summary.total_tokens, 4_000_000_000);
    assert_eq!(summary.total_cost, 2_000_000.0);
    let september = tally_api::Filter {
        from: Some(chrono::Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap()),
        ..tally_api::Filter::default()
    };
    let tools = db.analytics.tools(&september).unwrap();
    assert_eq!(tools[0].avg_duration_seconds, 31_536_000.0);
}

/// A hostile input's rejections are kept in quarantine up to the limit and counted past
/// it; the report says how many were not kept.
#[test]
fn the_quarantine_of_one_input_is_bounded_and_the_rest_counted() {
    let db = TestDb::new();
    let mut body = String::new();
    for _ in 0..10_050 {
        body.push_str("{}\n");
    }
    body.push_str(&execution("good"));
    let input = Input::Bytes {
        name: "empty-objects.jsonl".to_owned(),
        data: body.into_bytes().into(),
    };
    let report = db
        .analytics
        .ingest_with(&input, &crate::support::options(), &mut ())
        .unwrap();
    assert_eq!((report.accepted, report.rejected), (1, 10_050));
    assert_eq!(report.quarantine_omitted, 50);
    let kept = db.analytics.quarantined(0, 20_000).unwrap();
    assert_eq!(kept.len(), 10_000);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["quarantine_omitted"], 50);
}

fn gzip(text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

fn executions(n: usize) -> String {
    (0..n)
        .map(|i| execution(&format!("e{i}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A truncated `.gz` stores the records read whole before the break, prints the report
/// of what was stored and the error, and exits 2.
#[test]
fn a_truncated_gzip_input_reports_what_was_stored_and_the_error() {
    let db = TestDb::new();
    let mut compressed = gzip(executions(20_000).as_bytes());
    compressed.truncate(compressed.len() * 7 / 10);
    let path = db.dir.path().join("cut.jsonl.gz");
    std::fs::write(&path, compressed).unwrap();
    let out = db.tally(&["ingest", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the gzip input is truncated"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accepted = report["accepted"].as_u64().unwrap();
    assert!(accepted > 8192, "{report}");
    assert_eq!(accepted, db.events());
}

/// Bytes after a gzip member that do not start another are an error for that part
/// only: the member's records are stored and reported.
#[test]
fn trailing_garbage_after_a_gzip_member_spares_the_member() {
    let db = TestDb::new();
    let mut compressed = gzip(executions(100).as_bytes());
    compressed.extend_from_slice(b"this is not gzip");
    let path = db.dir.path().join("tail.jsonl.gz");
    std::fs::write(&path, compressed).unwrap();
    let out = db.tally(&["ingest", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("accepted 100, duplicates 0, rejected 0"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("followed by data that is not gzip"),
        "{stderr}"
    );
    assert_eq!(db.events(), 100);
}

/// A CSV record without an end is refused after a bounded read: the records before it
/// are stored, it is rejected, and reading stops there; input without any line end
/// (`/dev/zero`) is refused at its header.
#[test]
fn csv_records_are_capped_in_size() {
    let db = TestDb::new();
    let mut body = b"kind,id,ts,tool,duration_ms,success\nexecution,c1,2026-10-01T00:00:00Z,t,5,true\nexecution,c2,2026-10-01T00:00:00Z,\"".to_vec();
    body.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    let report = db.ingest("open-quote.csv", &body);
    assert_eq!((report.accepted, report.rejected), (1, 1), "{report:?}");
    assert_eq!(report.errors[0].line, Some(3));
    assert_eq!(
        report.errors[0].message,
        "record is longer than the 1048576-byte limit; the rest of the input from here is not read"
    );
    let zeros = Input::Bytes {
        name: "zeros".to_owned(),
        data: vec![0u8; 3 * 1024 * 1024].into(),
    };
    let error = db
        .analytics
        .ingest_with(&zeros, &crate::support::options(), &mut ())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("a record is longer than 1048576 bytes"),
        "{error}"
    );
    assert_eq!(db.events(), 1);
}

/// A JSON array element without an end is refused after a bounded read.
#[test]
fn json_array_elements_are_capped_in_size() {
    let db = TestDb::new();
    let mut body = format!("[{},\"", execution("a1")).into_bytes();
    body.extend(std::iter::repeat_n(b'x', 40 * 1024 * 1024));
    let report = db.ingest("open-string.json", &body);
    assert_eq!((report.accepted, report.rejected), (1, 1), "{report:?}");
    let kept = db.analytics.quarantined(0, 10).unwrap();
    // What was read since the last element, and at most 16 MiB after it.
    assert!(kept[0].rejection.raw.len() <= (1024 + 64 + 16 * 1024) * 1024);
}

/// Whatever the framing, bytes after the last gzip member are reported after its
/// records are stored.
#[test]
fn trailing_garbage_is_reported_in_every_framing() {
    let rows: Vec<String> = (0..5)
        .map(|i| format!("execution,g{i},2026-10-01T00:00:00Z,t,5,true"))
        .collect();
    let csv = format!("kind,id,ts,tool,duration_ms,success\n{}\n", rows.join("\n"));
    let array = format!(
        "[{}]",
        (0..5)
            .map(|i| execution(&format!("g{i}")))
            .collect::<Vec<_>>()
            .join(",")
    );
    for (name, text) in [("rows.csv.gz", csv), ("array.json.gz", array)] {
        let db = TestDb::new();
        let mut compressed = gzip(text.as_bytes());
        compressed.extend_from_slice(b"\0\0garbage");
        let path = db.dir.path().join(name);
        std::fs::write(&path, compressed).unwrap();
        let out = db.tally(&["ingest", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("followed by data that is not gzip"),
            "{name}: {stderr}"
        );
        assert_eq!(db.events(), 5, "{name}");
    }
}
