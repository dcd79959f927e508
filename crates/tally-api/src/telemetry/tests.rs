//! The telemetry series through the facade: counts by kind and source, the scrape
//! text, the business gauges against the views, the Grafana dashboard's expressions.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tally_ingest::{IngestOptions, Input};
use tally_store::Filter;

use super::*;
use crate::Analytics;

/// Every series `docs/http.md` documents, as its `# TYPE` line names it.
pub(crate) const DOCUMENTED: [(&str, &str); 12] = [
    ("tally_events_accepted", "counter"),
    ("tally_events_duplicate", "counter"),
    ("tally_events_rejected", "counter"),
    ("tally_http_requests", "counter"),
    ("tally_http_request_duration_seconds", "histogram"),
    ("tally_alerts_firing", "gauge"),
    ("tally_writer_queue_depth", "gauge"),
    ("tally_writer_commit_duration_seconds", "histogram"),
    ("tally_database_size_bytes", "gauge"),
    ("tally_cost_month_to_date_usd", "gauge"),
    ("tally_tokens_month_to_date", "gauge"),
    ("tally_tool_success_ratio", "gauge"),
];

fn execution(ts: &str, project: &str, model: &str, cost: f64, success: bool) -> String {
    format!(
        r#"{{"kind":"execution","ts":"{ts}","project":"{project}","tool":"search","duration_ms":5,"success":{success},"model":"{model}","input_tokens":100,"output_tokens":20,"cost_usd":{cost}}}"#
    )
}

fn run(ts: &str) -> String {
    format!(
        r#"{{"kind":"run","ts":"{ts}","project":"a","duration_s":3,"models":[{{"model":"m1","input_tokens":7,"output_tokens":3,"cost_usd":0.5}}]}}"#
    )
}

fn ingest(analytics: &Analytics, source: IngestSource, lines: &[String]) {
    let input = Input::Bytes {
        name: "t".into(),
        data: lines.join("\n").into_bytes().into(),
    };
    analytics
        .ingest_from(source, &input, &IngestOptions::default(), &mut ())
        .unwrap();
}

/// The value of the sample line `name{labels}` in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn sqlite() -> (tempfile::TempDir, Analytics) {
    let dir = tempfile::tempdir().unwrap();
    let analytics = Analytics::open(dir.path().join("t.db")).unwrap();
    (dir, analytics)
}

#[test]
fn a_batch_of_one_outcome_is_split_by_kind_exactly() {
    let (_dir, analytics) = sqlite();
    let lines = [
        execution("2026-10-01T00:00:00Z", "a", "m1", 0.1, true),
        execution("2026-10-01T00:00:01Z", "a", "m1", 0.1, true),
        run("2026-10-01T00:00:02Z"),
        r#"{"kind":"execution","ts":"2026-10-01T00:00:03Z","tool":"x","duration_ms":-1,"success":true}"#
            .to_owned(),
    ];
    ingest(&analytics, IngestSource::Json, &lines);
    // The same records again: all duplicates (and the bad one rejected again).
    ingest(&analytics, IngestSource::Json, &lines);
    let text = analytics.prometheus_text().unwrap();
    let value = |s: &str| sample(&text, s).unwrap_or_else(|| panic!("{s} missing:\n{text}"));
    assert_eq!(
        value(r#"tally_events_accepted_total{kind="execution",source="json"}"#),
        2.0
    );
    assert_eq!(
        value(r#"tally_events_accepted_total{kind="run",source="json"}"#),
        1.0
    );
    assert_eq!(
        value(r#"tally_events_duplicate_total{kind="execution",source="json"}"#),
        2.0
    );
    assert_eq!(
        value(r#"tally_events_duplicate_total{kind="run",source="json"}"#),
        1.0
    );
    assert_eq!(
        value(r#"tally_events_rejected_total{kind="unknown",source="json"}"#),
        2.0
    );
    // Commits were timed: the histogram counts at least the two ingests' writes.
    assert!(value("tally_writer_commit_duration_seconds_count") >= 2.0);
    assert_eq!(value("tally_writer_queue_depth"), 0.0);
    assert!(value("tally_database_size_bytes") > 0.0);
}

#[test]
fn a_mixed_batch_holding_new_and_duplicate_events_is_counted_as_unknown_kind() {
    let (_dir, analytics) = sqlite();
    let first = execution("2026-10-01T00:00:00Z", "a", "m1", 0.1, true);
    ingest(&analytics, IngestSource::File, std::slice::from_ref(&first));
    ingest(
        &analytics,
        IngestSource::File,
        &[first, run("2026-10-01T00:00:02Z")],
    );
    let text = analytics.prometheus_text().unwrap();
    assert_eq!(
        sample(
            &text,
            r#"tally_events_accepted_total{kind="execution",source="file"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"tally_events_accepted_total{kind="unknown",source="file"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"tally_events_duplicate_total{kind="unknown",source="file"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn the_text_holds_every_documented_series_with_help_and_type_and_ends_with_eof() {
    let (_dir, analytics) = sqlite();
    // A new record, a duplicate and a rejected one: each event counter has a series.
    let record = execution("2026-10-01T00:00:00Z", "a", "m1", 0.1, true);
    ingest(
        &analytics,
        IngestSource::Json,
        std::slice::from_ref(&record),
    );
    ingest(&analytics, IngestSource::Json, &[record, "{}".to_owned()]);
    analytics
        .telemetry()
        .observe_request("/metrics", "GET", 200, Duration::from_millis(3));
    let text = analytics
        .as_of(Utc.with_ymd_and_hms(2026, 10, 15, 0, 0, 0).unwrap())
        .prometheus_text()
        .unwrap();
    for (name, kind) in DOCUMENTED {
        assert!(
            text.contains(&format!("\n# TYPE {name} {kind}\n"))
                || text.starts_with(&format!("# HELP {name} ")),
            "no `# TYPE {name} {kind}` in:\n{text}"
        );
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no `# HELP {name}` in:\n{text}"
        );
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1);
    assert!(
        text.contains(r#"tally_http_requests_total{route="/metrics",method="GET",status="200"} 1"#)
    );
    assert!(
        text.contains(
            r#"tally_http_request_duration_seconds_bucket{le="0.005",route="/metrics"} 1"#
        ) || text.contains(
            r#"tally_http_request_duration_seconds_bucket{route="/metrics",le="0.005"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn the_alerts_gauge_is_the_one_the_engine_sets() {
    let analytics = Analytics::open("memory:").unwrap();
    assert_eq!(
        sample(&analytics.prometheus_text().unwrap(), "tally_alerts_firing"),
        Some(0.0)
    );
    analytics.clone().telemetry().alerts_firing().set(2);
    assert_eq!(
        sample(&analytics.prometheus_text().unwrap(), "tally_alerts_firing"),
        Some(2.0)
    );
}

#[test]
fn business_gauges_are_the_month_to_date_figures_of_the_views() {
    let (_dir, analytics) = sqlite();
    let analytics = analytics.as_of(Utc.with_ymd_and_hms(2026, 10, 15, 0, 0, 0).unwrap());
    ingest(
        &analytics,
        IngestSource::Json,
        &[
            // Last month: not counted.
            execution("2026-09-30T23:59:59Z", "a", "m1", 9.0, true),
            execution("2026-10-01T00:00:00Z", "a", "m1", 0.25, true),
            execution("2026-10-02T00:00:00Z", "a", "m2", 1.0, false),
            execution("2026-10-03T00:00:00Z", "b", "m1", 2.0, true),
            execution("2026-10-04T00:00:00Z", "a", "m1", 0.5, false),
            run("2026-10-05T00:00:00Z"),
        ],
    );
    let text = analytics.prometheus_text().unwrap();
    let cost = |project: &str, model: &str| {
        sample(
            &text,
            &format!(r#"tally_cost_month_to_date_usd{{project="{project}",model="{model}"}}"#),
        )
    };
    // a/m1: two executions (0.25 + 0.5) and the run's 0.5.
    assert_eq!(cost("a", "m1"), Some(1.25));
    assert_eq!(cost("a", "m2"), Some(1.0));
    assert_eq!(cost("b", "m1"), Some(2.0));
    // Each project's cost per model is the models view's for the month.
    for project in ["a", "b"] {
        let month = Filter {
            project: Some(project.to_owned()),
            from: Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()),
            to: None,
        };
        for model in analytics.models(&month).unwrap() {
            assert_eq!(cost(project, &model.model_name), Some(model.total_cost));
            assert_eq!(
                sample(
                    &text,
                    &format!(
                        r#"tally_tokens_month_to_date{{project="{project}",model="{}"}}"#,
                        model.model_name
                    )
                ),
                Some(model.total_tokens as f64)
            );
        }
    }
    // search: 4 executions this month, 2 succeeded.
    assert_eq!(
        sample(&text, r#"tally_tool_success_ratio{tool="search"}"#),
        Some(0.5)
    );
}

#[test]
fn business_gauges_are_left_out_when_analytics_is_off() {
    let mut config = crate::Config::default();
    config.analytics.enabled = false;
    let analytics = Analytics::open_with(
        "memory:",
        config,
        tally_store_sqlite::SqliteOptions::default(),
    )
    .unwrap();
    ingest(
        &analytics,
        IngestSource::Json,
        &[execution("2026-10-01T00:00:00Z", "a", "m1", 0.1, true)],
    );
    let text = analytics.prometheus_text().unwrap();
    assert!(!text.contains("tally_cost_month_to_date_usd"), "{text}");
    assert!(
        text.contains("# TYPE tally_events_accepted counter"),
        "{text}"
    );
}

#[test]
fn clones_share_one_set_of_series() {
    let analytics = Analytics::open("memory:").unwrap();
    let clone = analytics.as_of(Utc::now());
    assert!(Arc::ptr_eq(&analytics.telemetry, &clone.telemetry));
}

#[test]
fn the_grafana_dashboard_reads_only_documented_series() {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/grafana/tally.json")).unwrap();
    let documented: Vec<String> = DOCUMENTED
        .iter()
        .flat_map(|(name, kind)| match *kind {
            "counter" => vec![format!("{name}_total")],
            "histogram" => ["bucket", "sum", "count"]
                .iter()
                .map(|suffix| format!("{name}_{suffix}"))
                .collect(),
            _ => vec![(*name).to_owned()],
        })
        .collect();
    let mut read = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            for (at, _) in expr.match_indices("tally_") {
                let name: String = expr[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    documented.contains(&name),
                    "panel {:?} reads {name}, which is not documented",
                    panel["title"]
                );
                read += 1;
            }
        }
    }
    assert!(read >= 15, "{read}");
}
