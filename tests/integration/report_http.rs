//! `GET /api/analytics/reports/{kind}`: HTML, Markdown and JSON carry the same KPIs,
//! tables and findings, equal to the views' numbers; unknown kinds and formats are
//! refused naming the choices; a key limited to a project reads only its project.

use std::collections::BTreeMap;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::Value;
use tally_api::{DemoConfig, KeyScope, KeySpec, ReportKind};

use crate::support::{TestDb, TestServer};

/// `(data-kpi, data-value)` of every KPI of an HTML report.
fn html_kpis(html: &str) -> BTreeMap<String, f64> {
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

/// `<!-- kpi ID = VALUE -->` of every KPI of a Markdown report.
fn markdown_kpis(markdown: &str) -> BTreeMap<String, f64> {
    markdown
        .split("<!-- kpi ")
        .skip(1)
        .map(|rest| {
            let (id, rest) = rest.split_once(" = ").unwrap();
            let value = &rest[..rest.find(" -->").unwrap()];
            (id.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn json_kpis(report: &Value) -> BTreeMap<String, f64> {
    report["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_str().unwrap().to_owned(),
                k["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Markdown as plain text: backslash escapes and the entities of `&`, `<`, `>` undone.
fn unmarked(text: &str) -> String {
    text.replace('\\', "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn demo_server() -> (TestServer, chrono::DateTime<Utc>) {
    let db = TestDb::new();
    let end = Utc::now();
    db.analytics
        .demo(
            &DemoConfig {
                events: 6000,
                days: 20,
                seed: 11,
                end,
            },
            &mut (),
        )
        .unwrap();
    (TestServer::on(db, |_| {}), end)
}

#[test]
fn html_markdown_and_json_carry_the_same_figures_as_the_views() {
    let (server, end) = demo_server();
    let range = format!(
        "from={}&to={}",
        (end - Duration::days(14)).to_rfc3339_opts(SecondsFormat::Secs, true),
        end.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let summary = server
        .http
        .get(&format!("/api/analytics/summary?{range}"), None)
        .json();
    let pipeline = server
        .http
        .get(&format!("/api/analytics/pipeline?{range}"), None)
        .json();
    for kind in ReportKind::ALL {
        let path = format!("/api/analytics/reports/{}?{range}", kind.name());
        let html = server.http.get(&path, None);
        assert_eq!(html.status, 200, "{}", html.text());
        assert_eq!(
            html.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let markdown = server.http.get(&format!("{path}&format=md"), None);
        assert_eq!(markdown.status, 200, "{}", markdown.text());
        assert_eq!(
            markdown.header("content-type"),
            Some("text/markdown; charset=utf-8")
        );
        let json = server.http.get(&format!("{path}&format=json"), None);
        assert_eq!(json.header("content-type"), Some("application/json"));
        let (html, markdown, report) = (html.text(), markdown.text(), json.json());
        let kpis = json_kpis(&report);
        assert!(!kpis.is_empty(), "{} report has KPIs", kind.name());
        assert_eq!(
            html_kpis(&html),
            kpis,
            "{} report: HTML vs JSON",
            kind.name()
        );
        assert_eq!(
            markdown_kpis(&markdown),
            kpis,
            "{} report: Markdown vs JSON",
            kind.name()
        );
        // Each KPI as shown, with its change, in all three.
        for k in report["kpis"].as_array().unwrap() {
            let shown = k["shown"].as_str().unwrap();
            assert!(html.contains(&format!(">{shown}<")), "{shown} in the HTML");
            let line = unmarked(&markdown)
                .lines()
                .find(|l| l.contains(&format!("<!-- kpi {} =", k["id"].as_str().unwrap())))
                .unwrap()
                .to_owned();
            assert!(line.contains(&format!(": {shown}")), "{line}");
            if k["change"]["status"] == "moved" {
                let amount = k["change"]["amount"].as_f64().unwrap();
                let figure = format!("{amount:.1}");
                assert!(line.contains(&figure), "{line} shows the change {figure}");
                assert!(html.contains(&figure));
            }
        }
        // Every finding and every table row, in all three.
        let findings = report["findings"].as_array().unwrap();
        let listed: Vec<String> = unmarked(&markdown)
            .split("## Findings\n\n")
            .nth(1)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("- ").map(str::to_owned))
            .collect();
        if findings.is_empty() {
            assert_eq!(listed, ["Nothing stands out in this period."]);
        } else {
            let expected: Vec<&str> = findings.iter().map(|f| f.as_str().unwrap()).collect();
            assert_eq!(listed, expected, "{} report findings", kind.name());
        }
        for finding in findings {
            let escaped = finding
                .as_str()
                .unwrap()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#x27;");
            assert!(html.contains(&format!("<li>{escaped}</li>")), "{escaped}");
        }
        let plain = unmarked(&markdown);
        for section in report["sections"].as_array().unwrap() {
            for block in section["blocks"].as_array().unwrap() {
                if block["type"] != "table" {
                    continue;
                }
                for row in block["rows"].as_array().unwrap() {
                    let cells: Vec<&str> = row
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap())
                        .collect();
                    let line = format!("| {} |", cells.join(" | "));
                    assert!(plain.contains(&line), "{line} in the Markdown");
                    let html_row: String = cells.iter().map(|c| format!("<td>{c}</td>")).collect();
                    assert!(
                        html.contains(&html_row)
                            || cells.iter().any(|c| c.contains(['&', '<', '>', '"', '\''])),
                        "{html_row} in the HTML"
                    );
                }
            }
        }
        // The views' own numbers.
        let expected = |id: &str| match id {
            "total_cost" => summary["total_cost"].as_f64(),
            "total_runs" => summary["total_runs"].as_f64(),
            "total_executions" => summary["total_executions"].as_f64(),
            "success_rate" => summary["success_rate"].as_f64(),
            "qa_pass_rate" => summary["qa_summary"]["pass_rate"].as_f64(),
            "total_tokens" => summary["total_tokens"].as_f64(),
            "avg_duration_seconds" => summary["avg_duration_seconds"].as_f64(),
            "jobs_failed" => summary["jobs_failed"].as_f64(),
            "queue_wait_p95" => Some(
                pipeline["queue_wait"]["p95_seconds"]
                    .as_f64()
                    .unwrap_or(0.0),
            ),
            _ => None,
        };
        if matches!(kind, ReportKind::Executive | ReportKind::Technical) {
            for (id, value) in &kpis {
                assert_eq!(Some(*value), expected(id), "{} report, {id}", kind.name());
            }
        }
        if kind == ReportKind::Experiments {
            let listed = server.http.get("/api/analytics/experiments", None).json();
            assert_eq!(kpis["experiments"], listed.as_array().unwrap().len() as f64);
        }
        assert_eq!(report["kind"], kind.name());
    }
}

#[test]
fn unknown_kinds_and_formats_are_refused_naming_the_choices() {
    let server = TestServer::start();
    let answer = server.http.get("/api/analytics/reports/weekly", None);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error_code(), "unknown_report");
    let error = answer.json();
    assert_eq!(
        error["error"]["message"],
        "no report \"weekly\"; the reports are executive, technical, learning, experiments"
    );
    assert_eq!(error["error"]["details"]["kind"], "weekly");
    let answer = server
        .http
        .get("/api/analytics/reports/executive?format=docx", None);
    assert_eq!(answer.status, 400);
    let error = answer.json();
    assert_eq!(
        error["error"]["message"],
        "format must be html, md, json, pdf, got \"docx\""
    );
    assert_eq!(
        error["error"]["details"]["formats"],
        serde_json::json!(["html", "md", "json", "pdf"])
    );
    let answer = server
        .http
        .get("/api/analytics/reports/executive?kind=technical", None);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error_code(), "unknown_parameter");
    let answer = server
        .http
        .get("/api/analytics/reports/executive?project=nowhere", None);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error_code(), "unknown_project");
}

#[test]
fn a_key_limited_to_a_project_reads_only_its_reports() {
    let (server, end) = demo_server();
    let key = server
        .db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Read,
            projects: vec!["support-bot".to_owned()],
            name: None,
        })
        .unwrap()
        .secret;
    for kind in ReportKind::ALL {
        let path = format!("/api/analytics/reports/{}?format=json", kind.name());
        let report = server.http.get(&path, Some(&key));
        assert_eq!(report.status, 200, "{}", report.text());
        let report = report.json();
        assert_eq!(report["project"], "support-bot");
        let text = report.to_string();
        for other in ["code-review", "tutor-app", "research-agent"] {
            assert!(
                !text.contains(other),
                "{} report names {other}",
                kind.name()
            );
        }
        let refused = server
            .http
            .get(&format!("{path}&project=code-review"), Some(&key));
        assert_eq!(refused.status, 403, "{}", refused.text());
    }
    let range = format!(
        "from={}&to={}",
        (end - Duration::days(7)).to_rfc3339_opts(SecondsFormat::Secs, true),
        end.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let own = server
        .http
        .get(
            &format!("/api/analytics/reports/executive?format=json&{range}"),
            Some(&key),
        )
        .json();
    let summary = server
        .http
        .get(
            &format!("/api/analytics/summary?project=support-bot&{range}"),
            Some(&key),
        )
        .json();
    assert_eq!(own["kpis"][0]["id"], "total_cost", "{own}");
    assert!(summary["total_cost"].is_number(), "{summary}");
    assert_eq!(own["kpis"][0]["value"], summary["total_cost"]);
}
