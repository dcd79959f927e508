//! Validation rules, one `check` per case: JSON text in, event or error message out.

use chrono::{TimeZone, Utc};

use crate::{Event, EventBody, FieldValue, ValidationContext};

fn decode(json: &str) -> Result<Event, String> {
    let ctx = ValidationContext::at(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
    let value: FieldValue<'_> = serde_json::from_str(json).unwrap();
    Event::decode(value, &ctx).map_err(|e| e.to_string())
}

fn check_err(json: &str, expected: &str) {
    assert_eq!(decode(json).unwrap_err(), expected, "input: {json}");
}

const EXEC: &str = r#""kind":"execution","ts":"2026-10-01T00:00:00Z","tool":"web_search""#;

#[test]
fn execution_happy_path_keeps_unknown_fields_in_attrs() {
    let e = decode(&format!(
        r#"{{{EXEC},"duration_ms":12.5,"success":true,"region":"eu","attrs":{{"n":1}}}}"#
    ))
    .unwrap();
    assert_eq!(e.project, "default");
    assert_eq!(e.attrs.len(), 2);
    let EventBody::Execution(x) = e.body else {
        panic!("not an execution")
    };
    assert_eq!(
        (x.tool.as_str(), x.duration_ms, x.success, x.browser_used),
        ("web_search", 12.5, true, false)
    );
}

#[test]
fn rules_name_the_field() {
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":-3,"success":true}}"#),
        "duration_ms: must be a number >= 0, got -3",
    );
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":"NaN","success":true}}"#),
        r#"duration_ms: must be a number >= 0, got string "NaN""#,
    );
    check_err(
        &format!(r#"{{{EXEC},"success":true}}"#),
        "duration_ms: is required",
    );
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":1,"success":"yes"}}"#),
        r#"success: must be true or false, got string "yes""#,
    );
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":1,"success":true,"effort":"max"}}"#),
        r#"effort: must be one of none, low, medium, high, got string "max""#,
    );
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":1,"success":true,"input_tokens":1.5}}"#),
        "input_tokens: must be an integer >= 0, got 1.5",
    );
    check_err(
        r#"{"kind":"nope","ts":0}"#,
        r#"kind: must be one of execution, run, job, session, skill, outcome, agent_status, request, action, system, error, got string "nope""#,
    );
    check_err(
        r#"[1]"#,
        ": a record must be an object of fields, got an array of 1",
    );
    check_err(
        r#"{"kind":"system","ts":"2026-10-01T00:00:00Z","host":"h"}"#,
        "cpu_pct: a system record needs at least one of cpu_pct, mem_pct, disk_pct, load1",
    );
}

#[test]
fn timestamps_are_bounded() {
    check_err(
        r#"{"kind":"action","ts":"1999-12-31T23:59:59Z","user_id":"u","action":"a"}"#,
        "ts: must not be before 2000-01-01, got 1999-12-31T23:59:59+00:00",
    );
    check_err(
        r#"{"kind":"action","ts":"2026-11-02T00:00:01Z","user_id":"u","action":"a"}"#,
        "ts: must be at most 24 h in the future (until 2026-11-02T00:00:00+00:00), got 2026-11-02T00:00:01+00:00",
    );
    let e = decode(r#"{"kind":"action","ts":1790000000000,"user_id":"u","action":"a"}"#).unwrap();
    assert_eq!(e.ts.timestamp_millis(), 1_790_000_000_000);
    let e =
        decode(r#"{"kind":"action","ts":"2026-10-01T02:00:00+02:00","user_id":"u","action":"a"}"#)
            .unwrap();
    assert_eq!(e.ts.to_rfc3339(), "2026-10-01T00:00:00+00:00");
}

#[test]
fn nested_fields_have_paths() {
    check_err(
        r#"{"kind":"run","ts":"2026-10-01T00:00:00Z","duration_s":3,"models":[{"model":"m","input_tokens":-1}]}"#,
        "models[0].input_tokens: must be an integer >= 0, got -1",
    );
    check_err(
        r#"{"kind":"session","ts":"2026-10-01T00:00:00Z","user_id":"u","duration_s":3,"exchanges":2,"quality_breakdown":{"wit":0.5}}"#,
        "quality_breakdown.wit: is not a field here; expected relevance, helpfulness, engagement, clarity, accuracy",
    );
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":1,"success":true,"attrs":{{"a":[1]}}}}"#),
        "attrs.a: attrs values must be a string, number or bool, got an array of 1",
    );
}

#[test]
fn duplicate_fields_are_refused() {
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":1,"duration_ms":2,"success":true}}"#),
        "duration_ms: is given twice in one record",
    );
}

#[test]
fn duplicate_unknown_fields_are_refused() {
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":1,"note":"a","success":true,"note":"b"}}"#),
        "note: is given twice in one record",
    );
}
