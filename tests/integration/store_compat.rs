//! A database written by the release before the storage ports were split from the
//! SQLite adapter (`tests/fixtures/store-compat/`: demo telemetry of every kind, a
//! rejected input, a goal, a learner's time zone, an experiment and an API key) opens
//! and answers every view exactly as that release did (`views.json`, recorded with it).

use std::path::Path;

use serde_json::Value;
use tally_api::Analytics;

use crate::store_compat_views::every_view;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/store-compat")
}

/// The views added since the release that wrote the fixture, by name prefix.
const NEWER_VIEWS: &[&str] = &["requests/"];

#[test]
fn a_database_of_the_previous_release_answers_every_view_as_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tally.db");
    std::fs::copy(fixtures().join("tally-0.1.0.db"), &path).unwrap();
    let analytics = Analytics::open(&path).unwrap();
    let views = every_view(&analytics);
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("views.json")).unwrap())
            .unwrap();
    let (Value::Object(views), Value::Object(golden)) = (views, golden) else {
        panic!("views are keyed by name");
    };
    let names = |map: &serde_json::Map<String, Value>| {
        let mut names = map.keys().cloned().collect::<Vec<_>>();
        names.sort();
        names
    };
    // Views added since that release are computed but have nothing to be compared with.
    let released = |name: &String| !NEWER_VIEWS.iter().any(|view| name.starts_with(view));
    let views_of_the_release: Vec<String> = names(&views).into_iter().filter(released).collect();
    assert_eq!(views_of_the_release, names(&golden));
    assert!(golden.len() > 90, "{} views", golden.len());
    let differing: Vec<String> = golden
        .iter()
        // A trend is an analysis of the stored series, whose rules change from release
        // to release (its words, its seasonal baseline); the series themselves are the
        // `timeseries` views, compared here.
        .filter(|(name, _)| !name.starts_with("trend/"))
        .filter(|(name, expected)| {
            without_file_layout(&views[*name]) != without_file_layout(expected)
        })
        .map(|(name, expected)| format!("{name}: got {} expected {expected}", views[name]))
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}

/// A view without the figures of the file's layout (its size in bytes and what is
/// derived from it, the schema version): migrations since the release change those
/// while every answer about the data stays the same.
fn without_file_layout(view: &Value) -> Value {
    const LAYOUT: [&str; 5] = [
        "bytes_used",
        "bytes_per_event",
        "estimated_monthly_cost",
        "db_size_bytes",
        "schema_version",
    ];
    match view {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !LAYOUT.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), without_file_layout(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_file_layout).collect()),
        other => other.clone(),
    }
}
