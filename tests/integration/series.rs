//! Trends, forecasts and anomalies end to end: telemetry ingested into the real SQLite
//! file, read back by `tally trend|forecast|anomalies` and the HTTP routes.

use serde_json::Value;

use crate::support::{TestDb, TestServer};

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// 28 days of October 2026: day `d` (0-based) has `10 + d` executions, a tenth of them
/// failing from day 20 on, costing $0.10 each; day 9 has none; day 21 costs 30 times
/// more. Plus a learning session a day, quality rising.
fn telemetry() -> String {
    let mut lines = Vec::new();
    for day in 0..28u32 {
        if day == 9 {
            continue;
        }
        for i in 0..(10 + day) {
            let failed = day >= 20 && i % 10 == 0;
            let cost = if day == 21 { 3.0 } else { 0.1 };
            lines.push(format!(
                r#"{{"kind":"execution","id":"e{day}-{i}","project":"p","ts":"2026-10-{:02}T{:02}:00:00Z","tool":"web_search","duration_ms":{},"success":{},"cost_usd":{cost}}}"#,
                day + 1,
                i % 24,
                100 + i,
                !failed
            ));
        }
        lines.push(format!(
            r#"{{"kind":"session","id":"s{day}","project":"p","ts":"2026-10-{:02}T12:00:00Z","user_id":"u","duration_s":60,"exchanges":3,"quality":{}}}"#,
            day + 1,
            0.5 + f64::from(day) * 0.01
        ));
        // Skill "search": completed on even days; skill "other" never.
        for (skill, completed) in [("search", day % 2 == 0), ("other", false)] {
            lines.push(format!(
                r#"{{"kind":"skill","id":"k{day}-{skill}","project":"p","ts":"2026-10-{:02}T13:00:00Z","user_id":"u","skill":"{skill}","completed":{completed}}}"#,
                day + 1
            ));
        }
    }
    lines.join("\n")
}

const RANGE: [&str; 4] = ["--from", "2026-10-01", "--to", "2026-10-28"];

#[test]
fn trend_reads_the_rollups_zero_fills_counts_and_marks_rates_missing() {
    let db = TestDb::new();
    let report = db.ingest("telemetry.jsonl", telemetry());
    assert_eq!(report.rejected, 0, "{:?}", report.errors);

    let trend = json(
        &db.tally(
            &[
                &[
                    "trend",
                    "--metric",
                    "executions",
                    "--project",
                    "p",
                    "--json",
                ][..],
                &RANGE[..],
            ]
            .concat(),
        ),
    );
    for key in [
        "slope",
        "slope_p_value",
        "change_pct",
        "mk_s",
        "mk_z",
        "mk_p_value",
        "mk_tau",
        "sen_slope",
        "direction",
    ] {
        assert!(
            trend.get(key).is_some(),
            "trend --json lacks {key}: {trend}"
        );
    }
    let values: Vec<Option<f64>> = trend["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64())
        .collect();
    assert_eq!(values.len(), 28);
    assert_eq!(values[0], Some(10.0));
    assert_eq!(values[9], Some(0.0), "a day without executions counts 0");
    assert_eq!(values[27], Some(37.0));
    assert_eq!(trend["direction"], "rising");
    assert_eq!(trend["outlook"], "better");
    assert!(
        (trend["sen_slope"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{trend}"
    );

    let success = json(
        &db.tally(
            &[
                &["trend", "--metric", "success_rate", "--json"][..],
                &RANGE[..],
            ]
            .concat(),
        ),
    );
    assert_eq!(
        success["series"][9]["value"],
        Value::Null,
        "no executions, no rate"
    );
    assert_eq!(success["n"], 27);
    assert_eq!(success["direction"], "falling");
    assert_eq!(success["outlook"], "worse");

    // Sessions come from the raw table.
    let quality =
        json(&db.tally(&[&["trend", "--metric", "quality", "--json"][..], &RANGE[..]].concat()));
    assert_eq!(quality["n"], 27);
    assert!(
        (quality["slope"].as_f64().unwrap() - 0.01).abs() < 1e-9,
        "{quality}"
    );

    let sessions = json(
        &db.tally(
            &[
                &["trend", "--metric", "sessions", "--user", "u", "--json"][..],
                &RANGE[..],
            ]
            .concat(),
        ),
    );
    assert_eq!(sessions["series"][0]["value"], 1.0);
    assert_eq!(
        sessions["series"][9]["value"], 0.0,
        "no session that day counts 0"
    );
    let completion = |skill: &str| {
        let report = json(
            &db.tally(
                &[
                    &[
                        "trend",
                        "--metric",
                        "completion_rate",
                        "--skill",
                        skill,
                        "--json",
                    ][..],
                    &RANGE[..],
                ]
                .concat(),
            ),
        );
        report["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_f64())
            .collect::<Vec<_>>()
    };
    let search = completion("search");
    assert_eq!(
        (search[0], search[1], search[9]),
        (Some(1.0), Some(0.0), None)
    );
    assert_eq!(completion("other")[0], Some(0.0));

    // Per tool: day rows only.
    let per_tool = json(
        &db.tally(
            &[
                &[
                    "trend",
                    "--metric",
                    "executions",
                    "--tool",
                    "web_search",
                    "--json",
                ][..],
                &RANGE[..],
            ]
            .concat(),
        ),
    );
    assert_eq!(per_tool["mk_s"], trend["mk_s"]);
    let hourly = db.tally(&[
        "trend",
        "--metric",
        "executions",
        "--tool",
        "web_search",
        "--granularity",
        "hour",
    ]);
    assert_eq!(hourly.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&hourly.stderr).contains("by day only"));

    let unknown = db.tally(&["trend", "--metric", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("expected one of executions"));
}

#[test]
fn anomalies_flag_the_cost_spike_as_an_insight_and_forecasts_have_bands() {
    let db = TestDb::new();
    db.ingest("telemetry.jsonl", telemetry());
    let report = json(
        &db.tally(
            &[
                &["anomalies", "--metric", "cost", "--window", "7", "--json"][..],
                &RANGE[..],
            ]
            .concat(),
        ),
    );
    let anomalies = report["anomalies"].as_array().unwrap();
    let spike: Vec<&Value> = anomalies
        .iter()
        .filter(|a| a["timestamp"] == "2026-10-22T00:00:00Z")
        .collect();
    assert_eq!(spike.len(), 1, "one record per point: {report}");
    for key in [
        "value",
        "expected",
        "lower",
        "upper",
        "score",
        "severity",
        "detectors",
    ] {
        assert!(spike[0].get(key).is_some(), "{key}: {}", spike[0]);
    }
    assert_eq!(spike[0]["detectors"][0], "seasonal", "{}", spike[0]);
    assert!(
        spike[0]["detectors"]
            .as_array()
            .unwrap()
            .contains(&Value::from("rolling_robust")),
        "{}",
        spike[0]
    );
    let insight = &report["insights"][0];
    assert_eq!(insight["kind"], "cost_spike");
    assert_eq!(insight["timestamp"], "2026-10-22T00:00:00Z");
    assert!(
        (insight["value"].as_f64().unwrap() - 93.0).abs() < 1e-9,
        "{insight}"
    );

    // Failures start on day 20 after a flat zero: a failure surge.
    let surge = json(
        &db.tally(
            &[
                &[
                    "anomalies",
                    "--metric",
                    "error_rate",
                    "--window",
                    "7",
                    "--json",
                ][..],
                &RANGE[..],
            ]
            .concat(),
        ),
    );
    assert_eq!(surge["insights"][0]["kind"], "failure_surge", "{surge}");
    assert_eq!(surge["insights"][0]["timestamp"], "2026-10-21T00:00:00Z");
    assert!((surge["insights"][0]["value"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    let filter = tally_api::parse_filter(
        None,
        Some("2026-10-01"),
        Some("2026-10-28"),
        tally_api::FilterNames {
            project: "project",
            from: "from",
            to: "to",
        },
    )
    .unwrap();
    let insights = db
        .analytics
        .series_insights(&filter, tally_api::Granularity::Day)
        .unwrap();
    let kinds: Vec<(tally_api::InsightKind, &str)> = insights
        .iter()
        .map(|i| (i.kind, i.timestamp.as_str()))
        .collect();
    assert!(
        kinds.contains(&(tally_api::InsightKind::FailureSurge, "2026-10-21T00:00:00Z")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(tally_api::InsightKind::CostSpike, "2026-10-22T00:00:00Z")),
        "{kinds:?}"
    );

    // Hourly p95 latency from the sketch: day 0 has one execution per hour, 100 + hour
    // ms (within the sketch's 1 %); hours without executions are missing.
    let latency = json(&db.tally(&[
        "trend",
        "--metric",
        "p95_latency",
        "--granularity",
        "hour",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-02T00:00:00Z",
        "--json",
    ]));
    let hours = latency["series"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    for (hour, point) in hours.iter().enumerate() {
        let value = point["value"].as_f64().unwrap_or(f64::NAN);
        let want = 100.0 + hour as f64;
        assert!(
            hour >= 10 || (value - want).abs() <= 0.01 * want,
            "hour {hour}: {point}"
        );
        assert!(
            hour < 10 || point["value"].is_null(),
            "hour {hour}: {point}"
        );
    }

    let csv = db.dir.path().join("series.csv");
    let mut text = String::from("timestamp,value\n");
    for day in 0..42 {
        text.push_str(&format!(
            "{},{}\n",
            1_790_000_000 + day * 86_400,
            100 + day * 2 + if day % 7 == 3 { 15 } else { 0 }
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let forecast = json(&db.tally(&[
        "forecast",
        "--csv",
        csv.to_str().unwrap(),
        "--horizon",
        "7",
        "--json",
    ]));
    let points = forecast["points"].as_array().unwrap();
    assert_eq!(points.len(), 7);
    for point in points {
        let (lower, value, upper) = (
            point["lower"].as_f64().unwrap(),
            point["value"].as_f64().unwrap(),
            point["upper"].as_f64().unwrap(),
        );
        assert!(lower < value && value < upper, "{point}");
    }
    assert!(forecast["mase"].as_f64().is_some(), "{forecast}");
    // A straight line, a smoothed level and Holt-Winters compete.
    assert_eq!(forecast["backtests"].as_array().unwrap().len(), 3);
}

#[test]
fn routes_answer_trends_forecasts_and_anomalies() {
    let server = TestServer::start();
    server.db.ingest("telemetry.jsonl", telemetry());
    let http = &server.http;
    let range = "from=2026-10-01&to=2026-10-28";
    let trend = http
        .get(
            &format!("/api/analytics/trends?metric=executions&{range}"),
            None,
        )
        .json();
    assert_eq!(trend["direction"], "rising");
    assert_eq!(trend["series"].as_array().unwrap().len(), 28);
    let forecast = http
        .get(
            &format!("/api/analytics/forecast?metric=executions&horizon=5&{range}"),
            None,
        )
        .json();
    assert_eq!(forecast["points"].as_array().unwrap().len(), 5);
    let anomalies = http
        .get(
            &format!("/api/analytics/anomalies?metric=cost&{range}"),
            None,
        )
        .json();
    assert!(anomalies["anomalies"].as_array().is_some(), "{anomalies}");
    let bad = http.get("/api/analytics/trends?metric=nope", None);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_code(), "bad_query");
    let bad = http.get("/api/analytics/forecast?horizon=0", None);
    assert_eq!(bad.status, 400);
}

mod property {
    //! Series read from the rollups equal the same series recomputed from the events,
    //! for any order and batch split, per project and for all, by hour and by day.

    use std::collections::BTreeMap;

    use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
    use proptest::prelude::*;
    use tally_api::{
        FilterNames, Granularity, IngestOptions, Input, Polarity, SeriesQuery, SeriesSource,
    };

    use crate::support::TestDb;

    const PROJECTS: [&str; 2] = ["alpha", "beta"];

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 9, 29, 0, 0, 0).unwrap()
    }

    #[derive(Debug, Clone)]
    struct Execution {
        project: usize,
        /// Seconds after [`start`].
        offset: i64,
        success: bool,
        /// Cost in hundred-thousandths of a dollar.
        cost: u32,
    }

    fn executions() -> impl Strategy<Value = Vec<Execution>> {
        prop::collection::vec(
            (
                0..PROJECTS.len(),
                0i64..4 * 86_400,
                any::<bool>(),
                0u32..5000,
            ),
            1..80,
        )
        .prop_map(|raw| {
            raw.into_iter()
                .map(|(project, offset, success, cost)| Execution {
                    project,
                    offset,
                    success,
                    cost,
                })
                .collect()
        })
    }

    /// `(executions, successes, cost)` per period start.
    fn expected(
        events: &[Execution],
        project: Option<usize>,
        step: i64,
    ) -> BTreeMap<i64, (u64, u64, f64)> {
        let mut out: BTreeMap<i64, (u64, u64, f64)> = BTreeMap::new();
        for e in events
            .iter()
            .filter(|e| project.is_none_or(|p| p == e.project))
        {
            let t = start().timestamp() + e.offset;
            let cell = out.entry(t - t.rem_euclid(step)).or_default();
            cell.0 += 1;
            cell.1 += u64::from(e.success);
            cell.2 += f64::from(e.cost) / 1e5;
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        #[test]
        fn series_from_rollups_equal_series_from_events(
            events in executions(),
            order in any::<prop::sample::Index>(),
            batch_size in 1usize..30,
        ) {
            let mut lines: Vec<String> = events
                .iter()
                .enumerate()
                .map(|(i, e)| format!(
                    r#"{{"kind":"execution","id":"e{i}","project":"{}","ts":"{}","tool":"t","duration_ms":5,"success":{},"cost_usd":{}}}"#,
                    PROJECTS[e.project],
                    (start() + Duration::seconds(e.offset)).to_rfc3339(),
                    e.success,
                    f64::from(e.cost) / 1e5
                ))
                .collect();
            let at = order.index(lines.len());
            lines.rotate_left(at);
            let db = TestDb::new();
            let options = IngestOptions {
                batch_size,
                now: Some(start() + Duration::days(5)),
                ..IngestOptions::default()
            };
            let input = Input::Bytes { name: "e.jsonl".into(), data: lines.join("\n").into_bytes().into() };
            db.analytics.ingest_with(&input, &options, &mut ()).unwrap();
            let filter_of = |project: Option<&str>| {
                tally_api::parse_filter(
                    project,
                    Some("2026-09-29"),
                    Some("2026-10-02"),
                    FilterNames {
                        project: "project",
                        from: "from",
                        to: "to",
                    },
                )
                .unwrap()
            };
            for (project, step, granularity) in [
                (None, 3600, Granularity::Hour),
                (Some(0), 3600, Granularity::Hour),
                (None, 86_400, Granularity::Day),
                (Some(1), 86_400, Granularity::Day),
            ] {
                if project.is_some_and(|p| events.iter().all(|e| e.project != p)) {
                    // A project without events is unknown, never a series of zeros.
                    let refused = db.analytics.series(&SeriesSource::Store(SeriesQuery {
                        metric: "executions".into(),
                        filter: filter_of(project.map(|p| PROJECTS[p])),
                        granularity,
                        ..SeriesQuery::default()
                    }));
                    prop_assert!(
                        matches!(refused, Err(tally_api::Error::UnknownProject { .. })),
                        "{refused:?}"
                    );
                    continue;
                }
                let want = expected(&events, project, step);
                let read = |metric: &str| {
                    db.analytics
                        .series(&SeriesSource::Store(SeriesQuery {
                            metric: metric.into(),
                            filter: filter_of(project.map(|p| PROJECTS[p])),
                            granularity,
                            ..SeriesQuery::default()
                        }))
                        .unwrap()
                };
                let executions = read("executions");
                let success = read("success_rate");
                let cost = read("cost");
                // The range is clamped to the months the asked project (or any) has
                // events in: periods before its first month are not zero-filled.
                let first_month = events
                    .iter()
                    .filter(|e| project.is_none_or(|p| p == e.project))
                    .map(|e| start() + Duration::seconds(e.offset))
                    .min()
                    .map(|t| Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).unwrap());
                let from = first_month.map_or(start(), |month| month.max(start()));
                let points = (start() + Duration::days(4) - from).num_seconds() / step;
                prop_assert_eq!(executions.points.len() as i64, points);
                prop_assert_eq!(executions.polarity, Polarity::HigherIsBetter);
                for ((count, rate), dollars) in executions.points.iter().zip(&success.points).zip(&cost.points) {
                    let (n, ok, usd) = want.get(&count.timestamp).copied().unwrap_or_default();
                    prop_assert_eq!(count.value, Some(n as f64));
                    prop_assert_eq!(rate.value, (n > 0).then(|| ok as f64 / n as f64));
                    prop_assert!((dollars.value.unwrap() - usd).abs() < 1e-9);
                }
            }
        }
    }
}

/// `tally demo`'s ordinary days (a daily and weekly rhythm and a steady rise) raise no
/// anomaly in any volume metric; its one-day cost spike (60 % through the window) is
/// found, once, as a cost spike; its partial first day is left out.
#[test]
fn the_demo_has_no_anomalies_on_ordinary_days_and_its_cost_spike_is_found() {
    use chrono::{Duration, TimeZone, Utc};
    use tally_api::{AnomalyConfig, Granularity, SeriesQuery, SeriesSource};
    // The demo ends at "now": its days are cut at another hour of the day at every
    // run, so the rule is checked at ends spread over a day and at one end on each day
    // of the week (the spike falls on every weekday), each fixed. (Ending just after
    // midnight splits the planted spike, placed by the hour before the end, over two
    // days, each too small to be called a spike: not checked here.)
    let ends = [(3, 3), (3, 9), (3, 15), (3, 21)]
        .into_iter()
        .chain((4..=9).map(|day| (day, 15)));
    for (day, hour) in ends {
        let end = Utc.with_ymd_and_hms(2026, 11, day, hour, 25, 0).unwrap();
        let db = TestDb::new();
        let demo = tally_api::DemoConfig {
            end,
            ..tally_api::DemoConfig::default()
        };
        db.analytics.demo(&demo, &mut ()).unwrap();
        let analytics = db.analytics.as_of(end);
        // The spike day is the day 12 days before the demo's end.
        let spike_day = format!("{}T00:00:00Z", (end - Duration::days(12)).date_naive());
        for metric in [
            "cost",
            "executions",
            "tokens",
            "runs",
            "requests",
            "sessions",
        ] {
            // From the demo's first whole day to its end: the last day is partial.
            let from = (end - Duration::days(29)).date_naive().and_hms_opt(0, 0, 0);
            let source = SeriesSource::Store(SeriesQuery {
                metric: metric.to_owned(),
                granularity: Granularity::Day,
                filter: tally_api::Filter {
                    project: None,
                    from: from.map(|t| t.and_utc()),
                    to: Some(end),
                },
                ..SeriesQuery::default()
            });
            let report = analytics
                .anomalies(&source, &AnomalyConfig::default())
                .unwrap();
            let report = serde_json::to_value(&report).unwrap();
            assert_eq!(
                report["partial_periods"].as_array().unwrap().len(),
                1,
                "{metric} ending {end}: {}",
                report["partial_periods"]
            );
            let anomalies = report["anomalies"].as_array().unwrap();
            let ordinary: Vec<&Value> = anomalies
                .iter()
                .filter(|a| a["timestamp"] != spike_day.as_str())
                .collect();
            assert!(
                ordinary.is_empty(),
                "{metric} ending {end}: anomalies on ordinary days: {ordinary:?}"
            );
            if metric == "cost" {
                assert_eq!(anomalies.len(), 1, "the cost spike ending {end}: {report}");
                assert!(anomalies[0]["score"].as_f64().unwrap() > 0.0);
                assert_eq!(report["insights"][0]["kind"], "cost_spike");
            }
        }
    }
}
