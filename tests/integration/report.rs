//! The HTML reports render on demo data, stand alone (no external resource), and show
//! the same figures as the API for the same period.

use chrono::{Duration, Utc};
use tally_api::{DemoConfig, Filter, ReportKind};

use crate::support::TestDb;

/// `(data-kpi, data-value)` of every KPI in a report.
fn kpis(html: &str) -> Vec<(String, f64)> {
    html.split("data-kpi=\"")
        .skip(1)
        .map(|rest| {
            let name = &rest[..rest.find('"').unwrap()];
            let value = rest.split("data-value=\"").nth(1).unwrap();
            let value = &value[..value.find('"').unwrap()];
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

#[test]
fn reports_show_the_figures_the_api_answers() {
    let db = TestDb::new();
    let end = Utc::now();
    db.analytics
        .demo(
            &DemoConfig {
                events: 6000,
                days: 20,
                seed: 7,
                end,
            },
            &mut (),
        )
        .unwrap();
    let analytics = db.analytics.as_of(end);
    let period = Filter {
        project: None,
        from: Some(end - Duration::days(tally_api::DEFAULT_REPORT_DAYS)),
        to: Some(end),
    };
    let summary = analytics.summary(&period).unwrap();
    let pipeline = analytics.pipeline(&period).unwrap();
    for kind in ReportKind::ALL {
        let html = analytics.report(kind, &Filter::default()).unwrap();
        assert!(html.starts_with("<!doctype html>"));
        // No resource is fetched: the only URL is the SVG namespace.
        let urls = html.matches("http").count();
        assert_eq!(
            urls,
            html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        assert!(!html.contains("<script"), "a report runs no script");
        assert!(html.contains("<svg"), "{} report has no chart", kind.name());
        let shown = kpis(&html);
        if kind == ReportKind::Learning {
            let series = |metric: &str| {
                analytics
                    .series(&tally_api::SeriesSource::Store(tally_api::SeriesQuery {
                        metric: metric.to_owned(),
                        filter: period.clone(),
                        granularity: tally_api::Granularity::Day,
                        tool: None,
                        model: None,
                        skill: None,
                        user: None,
                    }))
                    .unwrap()
                    .points
            };
            let sessions: f64 = series("sessions").iter().filter_map(|p| p.value).sum();
            let days = series("sessions")
                .iter()
                .filter(|p| p.value.unwrap_or(0.0) > 0.0)
                .count();
            let value = |name: &str| shown.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(value("sessions"), sessions);
            assert_eq!(value("active_days"), days as f64);
            assert!(sessions > 0.0, "the demo has learning sessions");
            let quality = value("quality");
            assert!((0.0..=1.0).contains(&quality) && quality > 0.0, "{quality}");
            continue;
        }
        assert_eq!(shown.len(), 6, "{shown:?}");
        if kind == ReportKind::Experiments {
            let listings = analytics.experiments().unwrap();
            let mut outcomes = 0;
            let mut wins = 0;
            for listing in &listings {
                let analysis = analytics
                    .analyze_experiment(&listing.experiment.key, &period)
                    .unwrap();
                outcomes += analysis.assignment.consistent;
                wins += analysis
                    .metrics
                    .iter()
                    .flat_map(|m| &m.comparisons)
                    .filter(|c| c.verdict == tally_api::experiment::Verdict::Win)
                    .count();
                assert!(html.contains(&format!("Experiment {}", listing.experiment.key)));
            }
            let value = |name: &str| shown.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(value("experiments"), listings.len() as f64);
            assert_eq!(value("outcomes"), outcomes as f64);
            assert_eq!(value("wins"), wins as f64);
            assert!(!listings.is_empty(), "the demo has an experiment");
            continue;
        }
        for (name, value) in shown {
            let expected = match name.as_str() {
                "total_cost" => summary.total_cost,
                "total_runs" => summary.total_runs as f64,
                "total_executions" => summary.total_executions as f64,
                "success_rate" => summary.success_rate,
                "qa_pass_rate" => summary.qa_summary.pass_rate,
                "total_tokens" => summary.total_tokens as f64,
                "avg_duration_seconds" => summary.avg_duration_seconds,
                "jobs_failed" => summary.jobs_failed as f64,
                "queue_wait_p95" => pipeline.queue_wait.p95_seconds.unwrap_or(0.0),
                other => panic!("unexpected KPI {other}"),
            };
            assert_eq!(value, expected, "{} report, {name}", kind.name());
        }
        // Every tool of the period is in the technical report's table.
        if kind == ReportKind::Technical {
            for tool in analytics.tools(&period).unwrap().iter().take(20) {
                assert!(html.contains(&format!("<td>{}</td>", tool.tool_name)));
            }
        }
    }
    assert!(summary.total_runs > 0 && summary.total_executions > 0);
}

#[test]
fn the_report_command_writes_a_file() {
    let db = TestDb::new();
    let out = db.dir.path().join("report.html");
    let output = db.tally(&[
        "report",
        "--kind",
        "technical",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("technical report")
    );
    let output = db.tally(&[
        "report",
        "--kind",
        "quarterly",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("[possible values: executive, technical, learning, experiments]")
    );
}

#[test]
fn the_report_command_writes_each_format() {
    let db = TestDb::new();
    let end = Utc::now();
    db.analytics
        .demo(
            &DemoConfig {
                events: 2000,
                days: 10,
                seed: 3,
                end,
            },
            &mut (),
        )
        .unwrap();
    let range = [
        "--from".to_owned(),
        (end - Duration::days(7)).to_rfc3339(),
        "--to".to_owned(),
        end.to_rfc3339(),
    ];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(range.iter().map(String::as_str));
        let output = db.tally(&all);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    // JSON on standard output: the figures of the API.
    let json: serde_json::Value =
        serde_json::from_str(&run(&["report", "--kind", "executive", "--format", "json"])).unwrap();
    let summary = db
        .analytics
        .summary(&Filter {
            project: None,
            from: Some(end - Duration::days(7)),
            to: Some(end),
        })
        .unwrap();
    assert_eq!(json["kpis"][0]["id"], "total_cost");
    assert_eq!(json["kpis"][0]["value"].as_f64(), Some(summary.total_cost));
    let markdown = run(&["report", "--kind", "executive", "--format", "md"]);
    assert!(
        markdown.starts_with("# tally · executive report\n"),
        "{markdown}"
    );
    assert!(markdown.contains(&format!("<!-- kpi total_cost = {} -->", summary.total_cost)));
    // Without --format, the name of --out decides.
    let out = db.dir.path().join("technical.md");
    run(&[
        "report",
        "--kind",
        "technical",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("# tally · technical report")
    );
    let output = db.tally(&["report", "--format", "docx"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("[possible values: html, md, json, pdf]")
    );
}
