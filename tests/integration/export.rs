//! A full export is the wire format: ingesting it into a fresh database stores the same
//! events (every view agrees), and ingesting it into the source stores nothing new.

use chrono::{TimeZone, Utc};
use tally_api::{DemoConfig, ExportFormat, Filter, IngestOptions, Input};

use crate::support::TestDb;

#[test]
fn an_export_ingests_again_to_the_same_database() {
    let end = Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
    let source = TestDb::new();
    source
        .analytics
        .demo(
            &DemoConfig {
                events: 5000,
                days: 10,
                seed: 3,
                end,
            },
            &mut (),
        )
        .unwrap();
    // Records without ids and with computed costs, next to the demo's.
    source.ingest(
        "extra.jsonl",
        r#"{"kind":"execution","ts":"2026-10-15T10:00:00Z","project":"p","tool":"t","duration_ms":5,"success":true,"model":"gpt-4o","input_tokens":1000,"output_tokens":10,"attrs":{"region":"eu","retries":2,"ratio":0.5,"beta":true}}
{"kind":"action","ts":"2026-10-15T10:00:01Z","user_id":"u","action":"open","session_id":"s"}"#,
    );
    let mut jsonl = Vec::new();
    let written = source
        .analytics
        .export(ExportFormat::JsonLines, &Filter::default(), &mut jsonl)
        .unwrap();
    assert_eq!(written, source.events());

    let options = IngestOptions {
        now: Some(end),
        ..IngestOptions::default()
    };
    let copy = TestDb::new();
    let input = Input::Bytes {
        name: "export.jsonl".into(),
        data: jsonl.clone().into(),
    };
    let report = copy
        .analytics
        .ingest_with(&input, &options, &mut ())
        .unwrap();
    assert_eq!(
        (report.accepted, report.rejected),
        (written, 0),
        "{:?}",
        report.errors
    );
    let again = source
        .analytics
        .ingest_with(&input, &options, &mut ())
        .unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, written));

    let (a, b) = (source.analytics.as_of(end), copy.analytics.as_of(end));
    let all = Filter::default();
    assert_eq!(a.summary(&all).unwrap(), b.summary(&all).unwrap());
    assert_eq!(a.models(&all).unwrap(), b.models(&all).unwrap());
    assert_eq!(a.projects(&all).unwrap(), b.projects(&all).unwrap());
    assert_eq!(a.tools(&all).unwrap(), b.tools(&all).unwrap());
    // A second export of the copy is the same text.
    let mut second = Vec::new();
    copy.analytics
        .export(ExportFormat::JsonLines, &Filter::default(), &mut second)
        .unwrap();
    assert_eq!(
        String::from_utf8(second).unwrap(),
        String::from_utf8(jsonl).unwrap()
    );

    // The JSON array form holds the same events; a project filter narrows it.
    let mut array = Vec::new();
    let filter = Filter {
        project: Some("p".into()),
        ..Filter::default()
    };
    assert_eq!(
        source
            .analytics
            .export(ExportFormat::Json, &filter, &mut array)
            .unwrap(),
        1
    );
    let parsed: serde_json::Value = serde_json::from_slice(&array).unwrap();
    assert_eq!(parsed[0]["attrs"]["retries"], 2);
    assert!(
        parsed[0].get("cost_usd").is_none(),
        "a computed cost is left out: {parsed}"
    );
}
