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

#[test]
fn the_csv_export_is_one_file_per_kind_that_ingests_again() {
    use std::io::Read;
    let end = Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
    let source = TestDb::new();
    source
        .analytics
        .demo(
            &DemoConfig {
                events: 3000,
                days: 5,
                seed: 9,
                end,
            },
            &mut (),
        )
        .unwrap();
    source.ingest(
        "formula.jsonl",
        r#"{"kind":"error","id":"f1","ts":"2026-10-15T10:00:00Z","source":"=HYPERLINK(\"http://x\")","message":"-1 is fine, @SUM is not","severity":"warning"}"#,
    );
    let mut zipped = Vec::new();
    let written = source
        .analytics
        .export(ExportFormat::CsvZip, &Filter::default(), &mut zipped)
        .unwrap();
    assert_eq!(written, source.events());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    assert!(
        names.contains(&"execution.csv".to_owned()) && names.contains(&"session.csv".to_owned()),
        "{names:?}"
    );

    let copy = TestDb::new();
    let mut rows = 0;
    for name in &names {
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        if name == "error.csv" {
            assert!(
                text.contains("'=HYPERLINK"),
                "formula not made inert: {text}"
            );
            assert!(text.contains("'-1 is fine"), "{text}");
        }
        let kind = name.trim_end_matches(".csv");
        let options = IngestOptions {
            now: Some(end),
            format: Some(tally_api::InputFormat::Csv),
            csv_kind: Some(tally_api::Kind::from_word(kind).unwrap()),
            ..IngestOptions::default()
        };
        let report = copy
            .analytics
            .ingest_with(
                &Input::Bytes {
                    name: name.clone(),
                    data: text.into_bytes().into(),
                },
                &options,
                &mut (),
            )
            .unwrap();
        assert_eq!(report.rejected, 0, "{name}: {:?}", report.errors.first());
        rows += report.accepted;
    }
    assert_eq!(rows, written);
    let (a, b) = (source.analytics.as_of(end), copy.analytics.as_of(end));
    let all = Filter::default();
    assert_eq!(a.models(&all).unwrap(), b.models(&all).unwrap());
    assert_eq!(a.tools(&all).unwrap(), b.tools(&all).unwrap());
}

#[test]
fn the_parquet_export_holds_the_rows_of_the_json_export() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let end = Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
    let db = TestDb::new();
    db.analytics
        .demo(
            &DemoConfig {
                events: 4000,
                days: 5,
                seed: 11,
                end,
            },
            &mut (),
        )
        .unwrap();
    let dir = db.dir.path().join("parquet");
    let written = db
        .analytics
        .export_parquet(&Filter::default(), &dir)
        .unwrap();
    assert_eq!(written, db.events());
    let jsonl = db.dir.path().join("events.jsonl");
    let mut file = std::fs::File::create(&jsonl).unwrap();
    db.analytics
        .export(ExportFormat::JsonLines, &Filter::default(), &mut file)
        .unwrap();

    // Read back with the parquet crate: every event is a row.
    let mut rows = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let reader =
            SerializedFileReader::new(std::fs::File::open(entry.unwrap().path()).unwrap()).unwrap();
        rows += reader.metadata().file_metadata().num_rows();
    }
    assert_eq!(rows as u64, written);

    // And with DuckDB, value by value against the JSON Lines export.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oracles/parquet_rows.py");
    let output = crate::support::python()
        .arg(script)
        .arg(&dir)
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "DuckDB disagrees (or cannot run: {}):\n{}{}",
        crate::support::ORACLES_HINT,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(counts["execution"].as_u64().unwrap() > 1000, "{counts}");
}

#[test]
fn the_events_export_streams_over_http() {
    use crate::support::TestServer;
    let server = TestServer::start();
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                r#"{{"kind":"execution","id":"h{i}","ts":"2026-10-01T00:00:00Z","project":"p{}","tool":"t","duration_ms":5,"success":true}}"#,
                i % 2
            )
        })
        .collect();
    server.db.ingest("many.jsonl", lines.join("\n"));
    let answer = server.http.get("/api/analytics/export/events", None);
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-disposition")
            .unwrap()
            .contains(".jsonl")
    );
    let body = String::from_utf8(answer.body.clone()).unwrap();
    assert_eq!(body.lines().count(), 3000);
    let answer = server
        .http
        .get("/api/analytics/export/events?format=json&project=p1", None);
    let events: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 1500);
    let answer = server
        .http
        .get("/api/analytics/export/events?format=csv", None);
    let archive = zip::ZipArchive::new(std::io::Cursor::new(answer.body.clone())).unwrap();
    assert_eq!(
        archive.file_names().collect::<Vec<_>>(),
        vec!["execution.csv"]
    );
    let answer = server
        .http
        .get("/api/analytics/export/events?format=yaml", None);
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (400, "bad_query")
    );
}

/// Cells a spreadsheet would run stay inert in the CSV export, and the export still
/// ingests back to the same records: into the same database every row is a duplicate
/// (no project or id renamed by the `'`), into a fresh one the JSON export is equal.
#[test]
fn the_csv_export_round_trips_formula_cells() {
    use std::io::Read;
    let end = Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
    let payloads = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+SUM(A1)",
        "-2+3",
        "@cmd",
        "\tlead",
        "\rlead",
        "'quoted",
        "''twice",
        "'=not a formula",
        "-3.5",
    ];
    let source = TestDb::new();
    let mut lines = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        let text = serde_json::to_string(payload).unwrap();
        lines.push(format!(
            r#"{{"kind":"error","id":{text},"ts":"2026-10-15T10:00:0{i}Z","project":{text},"source":{text},"message":{text}}}"#
        ));
        lines.push(format!(
            r#"{{"kind":"execution","id":"x{i}","ts":"2026-10-15T11:00:0{i}Z","project":{text},"tool":{text},"agent_id":{text},"duration_ms":5,"success":false,"error":{text}}}"#
        ));
    }
    let report = source.ingest("formulas.jsonl", lines.join("\n"));
    assert_eq!(report.accepted as usize, payloads.len() * 2, "{report:?}");
    let mut zipped = Vec::new();
    source
        .analytics
        .export(ExportFormat::CsvZip, &Filter::default(), &mut zipped)
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    let files: Vec<(String, String)> = (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().to_owned(), text)
        })
        .collect();
    // No cell starts with a formula trigger; a leading `'` is always doubled.
    for (name, text) in &files {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                let live = cell.starts_with(['=', '+', '@', '\t', '\r'])
                    || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                assert!(!live, "{name}: live cell {cell:?}");
                if let Some(rest) = cell.strip_prefix('\'') {
                    assert!(!rest.is_empty(), "{name}: {cell:?}");
                }
            }
        }
    }
    let ingest_csv = |db: &TestDb, name: &str, text: &str| {
        let options = IngestOptions {
            now: Some(end),
            format: Some(tally_api::InputFormat::Csv),
            csv_kind: Some(tally_api::Kind::from_word(name.trim_end_matches(".csv")).unwrap()),
            ..IngestOptions::default()
        };
        let input = Input::Bytes {
            name: name.to_owned(),
            data: text.as_bytes().into(),
        };
        db.analytics.ingest_with(&input, &options, &mut ()).unwrap()
    };
    for (name, text) in &files {
        let again = ingest_csv(&source, name, text);
        assert_eq!(
            (again.accepted, again.rejected),
            (0, 0),
            "{name}: re-ingesting the export stored new records: {again:?}"
        );
    }
    let copy = TestDb::new();
    for (name, text) in &files {
        assert_eq!(ingest_csv(&copy, name, text).rejected, 0, "{name}");
    }
    let jsonl = |db: &TestDb| {
        let mut out = Vec::new();
        db.analytics
            .export(ExportFormat::JsonLines, &Filter::default(), &mut out)
            .unwrap();
        let mut lines: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(jsonl(&source), jsonl(&copy));
}
