//! XLSX, XML and PDF exports from the real server and the real `tally` binary, read back
//! by other programs: the workbook with openpyxl, the XML validated against the served
//! schema with xmlschema, the PDFs' text extracted with poppler's `pdftotext`. Each
//! carries the same numbers as the JSON export; a formula-like project name stays text
//! in the workbook and comes back unchanged from the XML.

use std::path::Path;
use std::process::Command;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use tally_api::{DemoConfig, Input, ReportKind};

use crate::support::{ORACLES_HINT, TestDb, TestServer, python};

/// A project name a spreadsheet would run and XML must escape.
const FORMULA: &str = "=HYPERLINK(\"http://x\",\"<b>&amp\")";

fn demo_server() -> (TestServer, chrono::DateTime<Utc>) {
    let db = TestDb::new();
    let end = Utc::now();
    db.analytics
        .demo(
            &DemoConfig {
                events: 4000,
                days: 12,
                seed: 5,
                end,
            },
            &mut (),
        )
        .unwrap();
    let ts = (end - Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let record = json!({
        "kind": "execution", "id": "formula-1", "ts": ts, "project": FORMULA,
        "tool": "web_search", "duration_ms": 12, "success": true, "cost_usd": 0.5
    });
    let report = db
        .analytics
        .ingest(&Input::Bytes {
            name: "formula.jsonl".into(),
            data: record.to_string().into_bytes().into(),
        })
        .unwrap();
    assert_eq!(report.accepted, 1, "{report:?}");
    (TestServer::on(db, |_| {}), end)
}

/// Runs an oracle script with arguments; its JSON output.
fn oracle(script: &str, args: &[&Path]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oracles")
        .join(script);
    let output = python()
        .arg(path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python does not run ({e}): {ORACLES_HINT}"));
    assert!(
        output.status.success(),
        "{script} failed ({ORACLES_HINT}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The text of a PDF, whitespace collapsed to single spaces.
fn pdf_text(path: &Path) -> String {
    let output = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "pdftotext does not run ({e}): install Debian's poppler-utils \
                 (`cargo xtask test` does)"
            )
        });
    assert!(
        output.status.success(),
        "pdftotext refused {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

fn save(dir: &Path, name: &str, body: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// A sheet's rows as header -> cell maps.
fn records(sheet: &Value) -> Vec<serde_json::Map<String, Value>> {
    let rows = sheet["rows"].as_array().unwrap();
    let header: Vec<String> = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect();
    rows[1..]
        .iter()
        .map(|row| {
            header
                .iter()
                .cloned()
                .zip(row.as_array().unwrap().iter().cloned())
                .collect()
        })
        .collect()
}

#[test]
fn the_workbook_holds_the_json_exports_numbers_and_formulas_stay_text() {
    let (server, _) = demo_server();
    let dir = tempfile::tempdir().unwrap();
    let json = server.http.get("/api/analytics/export/json", None).json();
    let answer = server
        .http
        .get("/api/analytics/export/sections?format=xlsx", None);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let disposition = answer.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"tally-analytics-")
            && disposition.ends_with(".xlsx\""),
        "{disposition}"
    );
    let book = oracle(
        "xlsx_sheets.py",
        &[&save(dir.path(), "a.xlsx", &answer.body)],
    );
    assert_eq!(
        book["sheets"],
        json!([
            "Summary",
            "Projects",
            "Models",
            "Daily series",
            "Tools",
            "Learners progress"
        ])
    );
    for (name, sheet) in book["data"].as_object().unwrap() {
        assert_eq!(sheet["frozen"], "A2", "{name}: the header row is frozen");
        assert_eq!(sheet["header_bold"], true, "{name}: the header is bold");
        assert!(
            sheet["widths"].as_object().unwrap().len() >= 2,
            "{name}: column widths are set"
        );
    }

    // Summary: one metric per row, typed.
    let summary = &book["data"]["Summary"];
    let metric = |name: &str| {
        let rows = summary["rows"].as_array().unwrap();
        let at = rows
            .iter()
            .position(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no {name} in {rows:?}"));
        (
            rows[at][1].clone(),
            summary["types"][at][1].clone(),
            summary["formats"][at][1].clone(),
        )
    };
    let expected = &json["summary"];
    let (cost, kind, format) = metric("Total Cost (USD)");
    assert!(close(number(&cost), number(&expected["total_cost"])));
    assert_eq!(kind, "n");
    assert!(format.as_str().unwrap().contains('$'), "money: {format}");
    let (runs, _, _) = metric("Total Runs");
    assert_eq!(number(&runs), number(&expected["total_runs"]));
    let (executions, _, _) = metric("Total Executions");
    assert_eq!(number(&executions), number(&expected["total_executions"]));
    let (rate, _, format) = metric("Success Rate");
    assert!(close(number(&rate), number(&expected["success_rate"])));
    assert!(format.as_str().unwrap().contains('%'), "percent: {format}");
    let (generated, kind, _) = metric("Generated At");
    assert_eq!(kind, "d", "instants are dates: {generated}");

    // Projects and models: the JSON export's rows, in order, with their costs.
    let projects = records(&book["data"]["Projects"]);
    let want = json["projects"].as_array().unwrap();
    assert_eq!(projects.len(), want.len());
    for (got, want) in projects.iter().zip(want) {
        assert_eq!(got["Project"], want["project_name"]);
        assert!(close(
            number(&got["Total Cost (USD)"]),
            number(&want["total_cost"])
        ));
        assert_eq!(number(&got["Runs"]), number(&want["runs_count"]));
    }
    let at = projects
        .iter()
        .position(|p| p["Project"] == FORMULA)
        .expect("the formula-named project is listed");
    let cell_type = &book["data"]["Projects"]["types"][at + 1][0];
    assert_eq!(cell_type, "s", "a formula-like name stays a string cell");
    let models = records(&book["data"]["Models"]);
    let want = json["models"].as_array().unwrap();
    assert_eq!(models.len(), want.len());
    assert!(!models.is_empty());
    for (got, want) in models.iter().zip(want) {
        assert_eq!(got["Model"], want["model_name"]);
        assert!(close(
            number(&got["Total Cost (USD)"]),
            number(&want["total_cost"])
        ));
        assert!(close(
            number(&got["Cost Share"]),
            number(&want["cost_share"])
        ));
    }

    // The daily series: real dates, the same costs.
    let days = records(&book["data"]["Daily series"]);
    let want = json["timeseries"]["daily"].as_array().unwrap();
    assert_eq!(days.len(), want.len());
    for (got, want) in days.iter().zip(want) {
        let day = got["Day"]["datetime"].as_str().unwrap();
        assert_eq!(&day[..10], want["date"].as_str().unwrap());
        assert!(close(number(&got["Cost (USD)"]), number(&want["cost"])));
        assert_eq!(number(&got["Executions"]), number(&want["executions"]));
    }

    // Tools and learners, against their own views.
    let tools = records(&book["data"]["Tools"]);
    let want = server.http.get("/api/analytics/tools", None).json();
    let want = want.as_array().unwrap();
    assert_eq!(tools.len(), want.len());
    for (got, want) in tools.iter().zip(want) {
        assert_eq!(got["Tool"], want["tool_name"]);
        assert_eq!(
            number(&got["Executions"]),
            number(&want["total_executions"])
        );
    }
    let learners = records(&book["data"]["Learners progress"]);
    let progress = server
        .http
        .get("/api/analytics/learning/progress", None)
        .json();
    assert!(!learners.is_empty());
    let sessions: f64 = learners.iter().map(|l| number(&l["Sessions"])).sum();
    assert_eq!(sessions, number(&progress["overall"]["sessions"]));
}

#[test]
fn xml_exports_are_valid_against_the_served_schema_and_read_back() {
    let (server, _) = demo_server();
    let dir = tempfile::tempdir().unwrap();
    let schema = server.http.get("/api/analytics/export/schema.xsd", None);
    assert_eq!(schema.status, 200);
    assert_eq!(schema.header("content-type"), Some("application/xml"));
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/tally-export.xsd"))
            .unwrap();
    assert_eq!(
        schema.body, committed,
        "the served schema is the committed one"
    );
    let schema = save(dir.path(), "tally-export.xsd", &schema.body);

    let json = server.http.get("/api/analytics/export/json", None).json();
    let answer = server
        .http
        .get("/api/analytics/export/sections?format=xml", None);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/xml"));
    assert!(
        answer
            .header("content-disposition")
            .unwrap()
            .ends_with(".xml\"")
    );
    let text = answer.text();
    assert!(
        !text.contains(FORMULA) && text.contains("&lt;b&gt;&amp;amp"),
        "the name is escaped"
    );
    let document = oracle(
        "xml_read.py",
        &[&schema, &save(dir.path(), "a.xml", &answer.body)],
    );
    assert_eq!(document["root"], "analytics");
    let summary = &document["children"]["summary"][0]["fields"];
    let parsed = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
    assert!(close(
        parsed(&summary["total_cost"]),
        number(&json["summary"]["total_cost"])
    ));
    assert_eq!(
        parsed(&summary["total_executions"]),
        number(&json["summary"]["total_executions"])
    );
    let projects = document["children"]["projects"].as_array().unwrap();
    let want = json["projects"].as_array().unwrap();
    assert_eq!(projects.len(), want.len());
    for (got, want) in projects.iter().zip(want) {
        assert_eq!(got["fields"]["project_name"], want["project_name"]);
        assert!(close(
            parsed(&got["fields"]["total_cost"]),
            number(&want["total_cost"])
        ));
    }
    assert!(
        projects
            .iter()
            .any(|p| p["fields"]["project_name"] == FORMULA),
        "the formula-like name reads back unchanged"
    );
    let days = document["children"]["daily"].as_array().unwrap();
    let want = json["timeseries"]["daily"].as_array().unwrap();
    assert_eq!(days.len(), want.len());
    for (got, want) in days.iter().zip(want) {
        assert_eq!(got["fields"]["date"], want["date"]);
        assert!(close(parsed(&got["fields"]["cost"]), number(&want["cost"])));
    }

    // The events: every event of the JSON Lines export, field by field.
    let events = server
        .http
        .get("/api/analytics/export/events?format=xml", None);
    assert_eq!(events.status, 200);
    assert_eq!(events.header("content-type"), Some("application/xml"));
    let document = oracle(
        "xml_read.py",
        &[&schema, &save(dir.path(), "events.xml", &events.body)],
    );
    let lines = server.http.get("/api/analytics/export/events", None).text();
    let expected: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got = document["children"]["event"].as_array().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got.len() > 1000);
    for (got, want) in got.iter().zip(&expected) {
        let want = want.as_object().unwrap();
        assert_eq!(got["attrs"]["kind"], want["kind"]);
        assert_eq!(got["attrs"].get("id"), want.get("id"));
        assert_eq!(got["attrs"]["project"], want["project"]);
        for (field, value) in want {
            let empty = value.as_object().is_some_and(serde_json::Map::is_empty);
            if ["kind", "id", "ts", "project"].contains(&field.as_str()) || empty {
                continue;
            }
            let text = got["fields"][field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} missing from {got}"));
            let same = match value {
                Value::String(s) => text == s,
                Value::Number(n) => close(text.parse().unwrap(), n.as_f64().unwrap()),
                Value::Bool(b) => text == b.to_string(),
                Value::Array(items) if field == "topics" => {
                    let joined: Vec<&str> = items.iter().map(|t| t.as_str().unwrap()).collect();
                    text == joined.join(";")
                }
                other => serde_json::from_str::<Value>(text).unwrap() == *other,
            };
            assert!(same, "{field}: {text:?} against {value}");
        }
    }
}

#[test]
fn pdf_reports_carry_the_json_reports_figures_as_text() {
    let (server, end) = demo_server();
    let dir = tempfile::tempdir().unwrap();
    let range = format!(
        "from={}&to={}",
        (end - Duration::days(10)).to_rfc3339_opts(SecondsFormat::Secs, true),
        end.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    for kind in ReportKind::ALL {
        let path = format!("/api/analytics/reports/{}?{range}", kind.name());
        let pdf = server.http.get(&format!("{path}&format=pdf"), None);
        assert_eq!(pdf.status, 200, "{}", pdf.text());
        assert_eq!(pdf.header("content-type"), Some("application/pdf"));
        assert_eq!(
            pdf.header("content-disposition"),
            Some(format!("attachment; filename=\"tally-{}-report.pdf\"", kind.name()).as_str())
        );
        assert!(pdf.body.starts_with(b"%PDF-"));
        let text = pdf_text(&save(
            dir.path(),
            &format!("{}.pdf", kind.name()),
            &pdf.body,
        ));
        let report = server.http.get(&format!("{path}&format=json"), None).json();
        assert!(text.contains(report["title"].as_str().unwrap()), "{text}");
        for kpi in report["kpis"].as_array().unwrap() {
            let shown = kpi["shown"].as_str().unwrap();
            assert!(
                text.contains(shown),
                "{}: KPI {shown} in {text}",
                kind.name()
            );
        }
        for finding in report["findings"].as_array().unwrap() {
            let finding = finding.as_str().unwrap();
            assert!(
                text.contains(finding),
                "{}: {finding} in {text}",
                kind.name()
            );
        }
        let mut charts = 0;
        for section in report["sections"].as_array().unwrap() {
            assert!(text.contains(section["title"].as_str().unwrap()));
            for block in section["blocks"].as_array().unwrap() {
                match block["type"].as_str().unwrap() {
                    "line_chart" | "bar_chart"
                        if !block["points"].as_array().unwrap().is_empty() =>
                    {
                        charts += 1;
                    }
                    "table" => {
                        // Short cells are never cut to fit their column.
                        for row in block["rows"].as_array().unwrap() {
                            for cell in row.as_array().unwrap() {
                                let cell = cell.as_str().unwrap();
                                if !cell.is_empty() && cell.chars().count() <= 8 {
                                    assert!(text.contains(cell), "cell {cell} in {text}");
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        // Each chart draws its largest value on its axis.
        if charts > 0 {
            assert!(pdf.body.windows(2).any(|w| w == b" l"), "lines are drawn");
        }
    }

    // The learner report, over HTTP and from the binary.
    let learners = server
        .http
        .get("/api/analytics/learning/learners", None)
        .json();
    let user = learners["learners"][0].as_str().unwrap().to_owned();
    let path = format!("/api/analytics/learning/users/{user}/report?period=week");
    let pdf = server.http.get(&format!("{path}&format=pdf"), None);
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let text = pdf_text(&save(dir.path(), "learner.pdf", &pdf.body));
    let report = server.http.get(&format!("{path}&format=json"), None).json();
    assert!(
        text.contains(&format!("{user} · weekly progress")),
        "{text}"
    );
    assert!(text.contains("SESSIONS") && text.contains("Sessions per day"));
    let sessions = format!(" {} ", report["totals"]["sessions"]);
    let minutes = format!(" {:.0} ", number(&report["totals"]["minutes"]));
    assert!(
        text.contains(&sessions) && text.contains(&minutes),
        "{text}"
    );
    // Each topic's row: name, sessions, mastery.
    let rows: Vec<String> = report["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {} {:.2}",
                t["topic"].as_str().unwrap(),
                t["sessions"],
                number(&t["mastery"])
            )
        })
        .collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(text.contains(row.as_str()), "{row} in {text}");
    }
    let db = server.stop();
    let out = dir.path().join("cli-learner.pdf");
    let run = db.tally(&[
        "learning",
        "report",
        "--user",
        &user,
        "--format",
        "pdf",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cli = pdf_text(&out);
    for row in &rows {
        assert!(cli.contains(row.as_str()), "{row} in {cli}");
    }

    let out = dir.path().join("cli-executive.pdf");
    let run = db.tally(&[
        "report",
        "--kind",
        "executive",
        "--format",
        "pdf",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(pdf_text(&out).contains("tally · executive report"));
}

#[test]
fn the_binary_exports_xlsx_and_xml_and_unknown_formats_are_refused_with_the_choices() {
    let (server, _) = demo_server();
    let dir = tempfile::tempdir().unwrap();
    let schema = save(
        dir.path(),
        "tally-export.xsd",
        &server
            .http
            .get("/api/analytics/export/schema.xsd", None)
            .body,
    );
    for (path, formats) in [
        (
            "/api/analytics/export/sections?format=pdf",
            json!(["xlsx", "xml"]),
        ),
        (
            "/api/analytics/export/events?format=xlsx",
            json!(["jsonl", "json", "csv", "xml"]),
        ),
        (
            "/api/analytics/reports/executive?format=docx",
            json!(["html", "md", "json", "pdf"]),
        ),
    ] {
        let answer = server.http.get(path, None);
        assert_eq!(answer.status, 400, "{path}: {}", answer.text());
        let error = answer.json();
        assert_eq!(error["error"]["details"]["formats"], formats, "{path}");
    }
    let answer = server
        .http
        .get("/api/analytics/learning/users/u1/report?format=docx", None);
    assert_eq!(answer.status, 400);
    assert!(
        answer.text().contains("html, md, json, pdf"),
        "{}",
        answer.text()
    );

    let db = server.stop();
    let workbook = dir.path().join("all.xlsx");
    let run = db.tally(&["export", "--out", workbook.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let book = oracle("xlsx_sheets.py", &[&workbook]);
    assert_eq!(book["sheets"][0], "Summary");

    let events = dir.path().join("events.xml");
    let run = db.tally(&[
        "export",
        "--format",
        "xml",
        "--out",
        events.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let document = oracle("xml_read.py", &[&schema, &events]);
    assert_eq!(document["root"], "events");
    assert_eq!(
        document["children"]["event"].as_array().unwrap().len() as u64,
        db.events()
    );

    let sections = dir.path().join("sections.xml");
    let run = db.tally(&["export", "--analytics", "--out", sections.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let document = oracle("xml_read.py", &[&schema, &sections]);
    assert_eq!(document["root"], "analytics");

    let run = db.tally(&["export", "--format", "xlsx", "--out", "x.xml"]);
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("name it x.xlsx"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_key_limited_to_a_project_exports_only_its_project() {
    use tally_api::{KeyScope, KeySpec};
    let (server, _) = demo_server();
    let dir = tempfile::tempdir().unwrap();
    let key = server
        .db
        .analytics
        .create_key(&KeySpec {
            scope: KeyScope::Read,
            projects: vec!["tutor-app".to_owned()],
            name: None,
        })
        .unwrap()
        .secret;
    let schema = save(
        dir.path(),
        "tally-export.xsd",
        &server
            .http
            .get("/api/analytics/export/schema.xsd", None)
            .body,
    );
    let answer = server
        .http
        .get("/api/analytics/export/sections?format=xml", Some(&key));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let document = oracle(
        "xml_read.py",
        &[&schema, &save(dir.path(), "own.xml", &answer.body)],
    );
    assert_eq!(document["attrs"]["project"], "tutor-app");
    let projects = document["children"]["projects"].as_array().unwrap();
    assert!(
        projects
            .iter()
            .all(|p| p["fields"]["project_name"] == "tutor-app"),
        "{projects:?}"
    );
    // The learners are those with sessions in that project.
    let own = server
        .http
        .get("/api/analytics/learning/progress", Some(&key))
        .json();
    let sessions: f64 = document["children"]["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["fields"]["sessions"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    assert_eq!(sessions, number(&own["overall"]["sessions"]));
    let refused = server.http.get(
        "/api/analytics/export/sections?format=xlsx&project=code-review",
        Some(&key),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
}
