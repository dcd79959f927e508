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
        "duration_ms: must be a number in [0, 31536000000], got -3",
    );
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":"NaN","success":true}}"#),
        r#"duration_ms: must be a number in [0, 31536000000], got string "NaN""#,
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
        "input_tokens: must be an integer in [0, 1000000000], got 1.5",
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
        "models[0].input_tokens: must be an integer in [0, 1000000000], got -1",
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

mod rfc3339 {
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;

    use super::super::utc_rfc3339;

    fn chrono(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|ts| ts.with_timezone(&Utc))
    }

    /// Timestamps near the shape the fast reader takes: fields just in and out of
    /// range, leap years, other separators and offsets, fractions of 0 to 12 digits.
    fn stamp() -> impl Strategy<Value = (String, bool)> {
        (
            prop_oneof![0u32..=9999, 1896u32..2104],
            0u32..=13,
            0u32..=32,
            0u32..=25,
            0u32..=61,
            0u32..=61,
            prop::option::of("[0-9]{0,12}"),
            prop::sample::select(vec!['T', 't', ' ']),
            prop::sample::select(vec!["Z", "z", "+00:00", "-01:30", ""]),
        )
            .prop_map(|(y, mo, d, h, mi, s, fraction, sep, end)| {
                let fraction_len = fraction.as_ref().map(String::len);
                let fraction = fraction.map_or(String::new(), |f| format!(".{f}"));
                let text =
                    format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{fraction}{end}");
                let plain = sep == 'T'
                    && end == "Z"
                    && s < 60
                    && fraction_len.is_none_or(|len| (1..=9).contains(&len));
                (text, plain)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// The fast reader gives chrono's instant or leaves the text to chrono, and
        /// takes every valid timestamp of its shape.
        #[test]
        fn the_fast_reader_agrees_with_chrono((text, plain) in stamp()) {
            let fast = utc_rfc3339(&text);
            let slow = chrono(&text);
            prop_assert!(fast.is_none() || fast == slow, "{}: {:?} vs {:?}", text, fast, slow);
            prop_assert!(!plain || fast == slow, "{}: {:?} vs {:?}", text, fast, slow);
        }

        /// Whatever one byte of a valid timestamp becomes, the fast reader agrees.
        #[test]
        fn a_changed_byte_is_read_as_chrono_reads_it(
            at in 0usize..30,
            byte in prop_oneof![any::<u8>(), prop::sample::select(b"0123456789-:.TZ+ ".to_vec())],
        ) {
            let mut bytes = b"2024-02-29T23:59:59.123456789Z".to_vec();
            bytes[at] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                let fast = utc_rfc3339(&text);
                prop_assert!(fast.is_none() || fast == chrono(&text), "{}", text);
            }
        }
    }

    #[test]
    fn edge_cases_agree_with_chrono() {
        for text in [
            "2026-10-01T00:00:00Z",
            "2026-10-01T00:00:02.592000Z",
            "2024-02-29T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "1900-02-29T12:00:00Z",
            "2000-02-29T12:00:00Z",
            "2026-12-31T23:59:59.999999999Z",
            "2026-12-31T23:59:60Z",
            "2026-12-31T23:59:59.Z",
            "2026-12-31T23:59:59.1234567891Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "+026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Zz",
        ] {
            let fast = utc_rfc3339(text);
            assert!(fast.is_none() || fast == chrono(text), "{text}");
        }
        assert!(utc_rfc3339("2026-10-01T00:00:02.592000Z").is_some());
    }
}

/// Both paths: the general one, and the typed one where it takes the record.
fn decode_both(json: &str) -> Result<Event, String> {
    let ctx = ValidationContext::at(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
    let general = decode(json);
    if let Some(typed) = Event::decode_json_fast(json, &ctx) {
        assert_eq!(Ok(&typed), general.as_ref(), "the paths disagree on {json}");
    }
    general
}

#[test]
fn summed_measures_are_bounded_and_never_clamped() {
    let exec = |extra: &str| format!(r#"{{{EXEC},"duration_ms":1,"success":true{extra}}}"#);
    for (field, at_bound, beyond) in [
        ("input_tokens", "1000000000", "1000000001"),
        ("output_tokens", "1000000000", "9223372036854775807"),
        ("cache_read_tokens", "0", "9223372036854775808"),
        ("reasoning_tokens", "0", "18446744073709551615"),
        ("cost_usd", "1000000", "1e300"),
        ("cost_usd", "999999.999999999", "5e9"),
    ] {
        let extra = if field.starts_with("cache") {
            r#","input_tokens":1000000000"#
        } else if field.starts_with("reasoning") {
            r#","output_tokens":1000000000"#
        } else {
            ""
        };
        assert!(
            decode_both(&exec(&format!(r#"{extra},"{field}":{at_bound}"#))).is_ok(),
            "{field} = {at_bound}"
        );
        let refused = decode_both(&exec(&format!(r#"{extra},"{field}":{beyond}"#))).unwrap_err();
        assert!(
            refused.starts_with(&format!("{field}: must be "))
                && refused.contains(" in [0, 1000000"),
            "{field} = {beyond}: {refused}"
        );
    }
    check_err(
        &format!(r#"{{{EXEC},"duration_ms":5e15,"success":true}}"#),
        "duration_ms: must be a number in [0, 31536000000], got 5000000000000000",
    );
    assert!(
        decode_both(&format!(
            r#"{{{EXEC},"duration_ms":31536000000,"success":true}}"#
        ))
        .is_ok()
    );
    for (json, expected) in [
        (
            r#"{"kind":"run","ts":"2026-10-01T00:00:00Z","duration_s":31536001}"#,
            "duration_s: must be a number in [0, 31536000], got 31536001",
        ),
        (
            r#"{"kind":"run","ts":"2026-10-01T00:00:00Z","duration_s":1,"models":[{"model":"m","input_tokens":1000000001}]}"#,
            "models[0].input_tokens: must be an integer in [0, 1000000000], got 1000000001",
        ),
        (
            r#"{"kind":"run","ts":"2026-10-01T00:00:00Z","duration_s":1,"models":[{"model":"m","cost_usd":1000000.01}]}"#,
            "models[0].cost_usd: must be a number in [0, 1000000], got 1000000.01",
        ),
        (
            r#"{"kind":"session","ts":"2026-10-01T00:00:00Z","user_id":"u","duration_s":1,"exchanges":1000000001}"#,
            "exchanges: must be an integer in [0, 1000000000], got 1000000001",
        ),
        (
            r#"{"kind":"skill","ts":"2026-10-01T00:00:00Z","user_id":"u","skill":"s","completed":true,"duration_ms":1e11}"#,
            "duration_ms: must be a number in [0, 31536000000], got 100000000000",
        ),
        (
            r#"{"kind":"request","ts":"2026-10-01T00:00:00Z","endpoint":"/","method":"GET","status":200,"latency_ms":1e11}"#,
            "latency_ms: must be a number in [0, 31536000000], got 100000000000",
        ),
        (
            r#"{"kind":"agent_status","ts":"2026-10-01T00:00:00Z","agent_id":"a","active_tasks":1,"queued_tasks":9223372036854775807,"capacity":1}"#,
            "queued_tasks: must be an integer in [0, 1000000000], got 9223372036854775807",
        ),
        (
            r#"{"kind":"outcome","ts":"2026-10-01T00:00:00Z","experiment":"e","user_id":"u","variant":"a","metrics":{"revenue":-1e300}}"#,
            "metrics.revenue: must be a number in [-1000000000000000, 1000000000000000], got -1e300",
        ),
        (
            r#"{"kind":"system","ts":"2026-10-01T00:00:00Z","host":"h","load1":1e16}"#,
            "load1: must be a number in [0, 1000000000000000], got 10000000000000000",
        ),
    ] {
        check_err(json, expected);
    }
}

#[test]
fn project_names_are_normalized_and_never_empty_or_bidirectional() {
    let exec =
        |project: &str| format!(r#"{{{EXEC},"duration_ms":1,"success":true,"project":{project}}}"#);
    // Composed and decomposed accents name one project.
    let composed = decode_both(&exec("\"caf\u{e9}\"")).unwrap();
    let decomposed = decode_both(&exec("\"cafe\u{301}\"")).unwrap();
    assert_eq!(composed.project, "caf\u{e9}");
    assert_eq!(decomposed.project, "caf\u{e9}");
    assert_eq!(
        decode_both(&exec("\"\"")).unwrap_err(),
        "project: must be a non-empty string"
    );
    for control in ['\u{202E}', '\u{2066}', '\u{200F}'] {
        let refused = decode_both(&exec(&format!("\"alpha{control}beta\""))).unwrap_err();
        assert!(
            refused.starts_with(&format!(
                "project: must not contain bidirectional control characters, got U+{:04X}",
                u32::from(control)
            )),
            "{refused}"
        );
    }
    // Absent or null is the default project, as before.
    assert_eq!(decode_both(&exec("null")).unwrap().project, "default");
}
