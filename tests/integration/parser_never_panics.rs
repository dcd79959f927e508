//! Whatever bytes or JSON arrive, ingest answers with records or rejections, never a panic.

use proptest::prelude::*;
use serde_json::Value;
use tally_api::{IngestOptions, Input, InputFormat};

use crate::support::{TestDb, now};

/// Ingests `bytes`; bad records are rejections, and the only input-level failure is a
/// CSV header that cannot be read (then no row can be), which must say so.
fn ingest(db: &TestDb, bytes: Vec<u8>, format: InputFormat) -> tally_api::IngestReport {
    let options = IngestOptions {
        format: Some(format),
        csv_kind: Some(tally_api::Kind::Action),
        now: Some(now()),
        ..IngestOptions::default()
    };
    let input = Input::Bytes {
        name: "fuzz".into(),
        data: bytes.into(),
    };
    match db.analytics.ingest_with(&input, &options, &mut ()) {
        Ok(report) => report,
        Err(error)
            if format == InputFormat::Csv && error.to_string().starts_with("fuzz: CSV header") =>
        {
            tally_api::IngestReport::default()
        }
        Err(error) => panic!("ingest failed on bad bytes instead of rejecting them: {error}"),
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("execution"),
            Just("run"),
            Just("session"),
            Just("outcome"),
            Just("2026-10-01T00:00:00Z")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 32, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("kind".to_owned()),
                    Just("ts".to_owned()),
                    Just("tool".to_owned()),
                    Just("models".to_owned()),
                    Just("metrics".to_owned()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_in_every_framing(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let db = TestDb::new();
        for format in [InputFormat::JsonLines, InputFormat::JsonArray, InputFormat::Csv] {
            let report = ingest(&db, bytes.clone(), format);
            prop_assert_eq!(report.errors.len() as u64 + report.errors_omitted, report.rejected);
        }
    }

    #[test]
    fn arbitrary_json_values_as_records(values in proptest::collection::vec(json_value(), 1..8)) {
        let db = TestDb::new();
        let lines: Vec<String> = values.iter().map(Value::to_string).collect();
        let report = ingest(&db, lines.join("\n").into_bytes(), InputFormat::JsonLines);
        prop_assert_eq!(report.accepted + report.duplicates + report.rejected, values.len() as u64);
        let array = ingest(&db, Value::Array(values.clone()).to_string().into_bytes(), InputFormat::JsonArray);
        prop_assert_eq!(array.accepted + array.duplicates + array.rejected, values.len() as u64);
    }
}
