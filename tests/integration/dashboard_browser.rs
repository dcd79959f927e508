//! The dashboard in a real browser: headless Chromium loads `/analytics` over demo data
//! served by the real `tally serve --demo`; the KPI values in the rendered DOM must equal
//! `/api/analytics/summary`'s, sections without a route must say "not available", the
//! tools, agents, experiments and learners pages show what their routes answer, and a
//! screenshot is written to `dashboard.png` in Cargo's target directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http_serve::serve;
use crate::support::TestDb;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs headless Chromium with `args` and returns its stdout.
pub fn chromium(profile: &Path, args: &[String]) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the dashboard test needs it. Install it with \
         `apt-get update && apt-get install -y chromium` (Debian); `cargo xtask test` does it \
         when it runs as root"
    );
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The attribute `name` of an HTML start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// `data-kpi` → (`data-value`, text) of every KPI element in a DOM dump.
pub fn kpis(dom: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (at, _) in dom.match_indices("data-kpi=\"") {
        let open = dom[..at].rfind('<').unwrap();
        let close = at + dom[at..].find('>').unwrap();
        let tag = &dom[open..=close];
        let text_end = close + 1 + dom[close + 1..].find('<').unwrap();
        found.push((
            attribute(tag, "data-kpi").unwrap().to_owned(),
            attribute(tag, "data-value").unwrap_or("").to_owned(),
            dom[close + 1..text_end].to_owned(),
        ));
    }
    found
}

/// No "undefined" shown anywhere, and no chart stretched out of its aspect ratio.
fn plain_and_undistorted(page: &str, dom: &str) {
    if let Some(at) = dom.find("undefined") {
        panic!(
            "{page} shows \"undefined\": …{}…",
            &dom[at.saturating_sub(200)..(at + 50).min(dom.len())]
        );
    }
    assert!(
        !dom.contains("preserveAspectRatio=\"none\""),
        "{page}: a chart is stretched (preserveAspectRatio=\"none\")"
    );
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

#[test]
fn dashboard_kpis_in_a_real_browser_equal_the_summary() {
    let db = TestDb::new();
    let mut served = serve(&db, &["--demo"]);
    let base = served.http.base.clone();
    let profile = tempfile::tempdir().unwrap();
    let dom = chromium(
        profile.path(),
        &[
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            format!("{base}/analytics"),
        ],
    );
    let summary = served.http.get("/api/analytics/summary", None).json();
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never finished loading:\n{dom}"
    );
    plain_and_undistorted("overview", &dom);
    let qa = &summary["qa_summary"];
    let expected: Vec<(&str, &Value)> = vec![
        ("total_runs", &summary["total_runs"]),
        ("runs_2loop", &summary["runs_2loop"]),
        ("runs_3loop", &summary["runs_3loop"]),
        ("total_tokens", &summary["total_tokens"]),
        ("total_cost", &summary["total_cost"]),
        ("avg_cost_per_run", &summary["avg_cost_per_run"]),
        ("avg_duration_seconds", &summary["avg_duration_seconds"]),
        ("qa_pass_rate", &qa["pass_rate"]),
        ("qa_passed", &qa["qa_passed"]),
        ("total_qa_runs", &qa["total_qa_runs"]),
        ("total_jobs", &summary["total_jobs"]),
        ("jobs_completed", &summary["jobs_completed"]),
        ("jobs_failed", &summary["jobs_failed"]),
        ("qa_box_passed", &qa["qa_passed"]),
        ("qa_box_warning", &qa["qa_warning"]),
        ("qa_box_failed", &qa["qa_failed"]),
        ("qa_box_not_run", &qa["qa_not_run"]),
    ];
    let shown = kpis(&dom);
    assert_eq!(shown.len(), expected.len(), "{shown:?}");
    assert!(
        number(&summary["total_runs"]) > 100.0,
        "demo data missing: {summary}"
    );
    for (name, value) in expected {
        let (_, raw, text) = shown
            .iter()
            .find(|(kpi, _, _)| kpi == name)
            .unwrap_or_else(|| panic!("no KPI {name} in the DOM"));
        let raw: f64 = raw
            .parse()
            .unwrap_or_else(|_| panic!("KPI {name}: data-value {raw:?}"));
        assert_eq!(raw, number(value), "KPI {name}");
        // The text people see is the same figure, formatted.
        let digits: String = text
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let seen: f64 = digits
            .parse()
            .unwrap_or_else(|_| panic!("KPI {name}: text {text:?}"));
        let expected = match name {
            "qa_pass_rate" => number(value) * 100.0,
            _ => number(value),
        };
        // Rounded to the decimals shown: off by at most half the last digit.
        let decimals = digits.split_once('.').map_or(0, |(_, d)| d.len());
        let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9;
        assert!(
            (seen - expected).abs() <= tolerance,
            "KPI {name}: shows {text:?} for {expected}"
        );
    }
    // The tables list what the API answers, and the charts are drawn.
    let element = |id: &str, closing: &str| -> &str {
        let at = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no element {id}"));
        let end = dom[at..].find(closing).map_or(dom.len(), |e| at + e);
        &dom[at..end]
    };
    let section = |id: &str| element(id, "</section>");
    let projects = served.http.get("/api/analytics/projects", None).json();
    for project in projects.as_array().unwrap() {
        let name = project["project_name"].as_str().unwrap();
        assert!(
            section("projects").contains(name),
            "project {name} not shown"
        );
    }
    let models = served.http.get("/api/analytics/models", None).json();
    for model in models.as_array().unwrap() {
        let name = model["model_name"].as_str().unwrap();
        assert!(section("models").contains(name), "model {name} not shown");
    }
    for chart in ["chart-cost", "chart-runs"] {
        let drawn = element(chart, "</div>");
        assert!(drawn.contains("<svg"), "{chart} not drawn: {drawn}");
        assert!(!drawn.contains("not available"), "{chart}: {drawn}");
    }
    // The forecast chart draws the series and the forecast band.
    let forecast = element("chart-forecast", "</div>");
    assert!(
        forecast.contains("class=\"history\"") && forecast.contains("class=\"forecast-band\""),
        "forecast chart not drawn: {forecast}"
    );

    let screenshot: PathBuf = crate::support::target_dir().join("dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(
        profile.path(),
        &[
            "--virtual-time-budget=5000".into(),
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1400,1800".into(),
            format!("{base}/analytics"),
        ],
    );
    let size = std::fs::metadata(&screenshot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 20_000,
        "screenshot {} is {size} bytes",
        screenshot.display()
    );

    let tools = served.http.get("/api/analytics/tools", None).json();
    let agents = served.http.get("/api/analytics/capacity", None).json();
    let names = |list: &Value, field: &str| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_owned())
            .collect()
    };
    let experiments = served.http.get("/api/analytics/experiments", None).json();
    // Every experiment's analysis panel, each with the verdict the API gives.
    let mut panels = Vec::new();
    for key in names(&experiments, "key") {
        let analysis = served
            .http
            .get(&format!("/api/analytics/experiments/{key}/analysis"), None)
            .json();
        let verdict = analysis["metrics"][0]["comparisons"][0]["verdict"]
            .as_str()
            .unwrap()
            .replace('_', " ");
        panels.push(format!("data-experiment=\"{key}\""));
        panels.push(format!(">{verdict}<"));
    }
    // The first learner's streak and achievements.
    let learners = served
        .http
        .get("/api/analytics/learning/learners", None)
        .json();
    let first = learners["learners"][0].as_str().unwrap().to_owned();
    let streak = served
        .http
        .get(
            &format!("/api/analytics/learning/users/{first}/streak"),
            None,
        )
        .json();
    let achievements = served
        .http
        .get(
            &format!("/api/analytics/learning/users/{first}/achievements"),
            None,
        )
        .json();
    let mut learner = names(&achievements["achievements"], "name");
    learner.push(format!("data-streak=\"{}\"", streak["current_days"]));
    // The heatmap's cells, the rolling quality line and the topic bars.
    let page = served
        .http
        .get(
            &format!("/api/analytics/learning/users/{first}/dashboard"),
            None,
        )
        .json();
    let last_day = page["heatmap"].as_array().unwrap().last().unwrap().clone();
    learner.push(format!(
        "data-date=\"{}\" data-sessions=\"{}\"",
        last_day["date"].as_str().unwrap(),
        last_day["sessions"]
    ));
    learner.push("class=\"rolling\"".to_owned());
    learner.push(format!(
        "data-topic=\"{}\"",
        page["topics"][0]["topic"].as_str().unwrap()
    ));
    let expected_names = [
        ("tools", names(&tools, "tool_name")),
        ("agents", names(&agents["agents"], "agent_id")),
        ("experiments", panels),
        ("learners", learner),
    ];
    for (page, expected) in expected_names {
        let dom = chromium(
            profile.path(),
            &[
                "--virtual-time-budget=3000".into(),
                "--dump-dom".into(),
                format!("{base}/analytics/{page}"),
            ],
        );
        assert!(
            dom.contains("data-loaded=\"true\""),
            "{page} never finished loading"
        );
        assert!(!expected.is_empty(), "no {page} in the demo data");
        for name in expected {
            assert!(dom.contains(&name), "{page} page does not show {name}");
        }
        assert!(
            !dom.contains("not available"),
            "{page}: a section is missing"
        );
        plain_and_undistorted(page, &dom);
    }
    let _ = served.child.kill();
    let _ = served.child.wait();
}

/// A firing alert shows on every page, above the page's own content.
#[test]
fn firing_alerts_show_on_every_page() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tally.toml");
    // The demo spends more than $1 every month: the rule fires at its first evaluation.
    std::fs::write(
        &config,
        "[analytics]\nmonthly_budget = 1.0\n\n[[alerts]]\nname = \"budget-half\"\nrule = \"budget\"\nthreshold = 0.5\nseverity = \"critical\"\n",
    )
    .unwrap();
    let mut served = crate::http_serve::serve_at(
        crate::support::tally()
            .arg("--db")
            .arg(db.path())
            .arg("--config")
            .arg(&config),
        &["--demo"],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let firing = served.http.get("/api/alerts/firing", None).json();
        if firing.as_array().is_some_and(|rules| !rules.is_empty()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the budget rule never fired: {firing}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let base = served.http.base.clone();
    let profile = tempfile::tempdir().unwrap();
    for page in ["", "/tools", "/learners"] {
        let dom = chromium(
            profile.path(),
            &[
                "--virtual-time-budget=3000".into(),
                "--dump-dom".into(),
                format!("{base}/analytics{page}"),
            ],
        );
        assert!(
            dom.contains("data-loaded=\"true\""),
            "{page} never finished loading"
        );
        let strip = dom
            .split("id=\"alerts-firing\"")
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_else(|| panic!("{page}: no alerts strip"));
        assert!(
            !strip.contains(" hidden"),
            "{page}: the strip is hidden: {strip}"
        );
        assert!(strip.contains("1 alert firing"), "{page}: {strip}");
        assert!(
            strip.contains("data-rule=\"budget-half\"") && strip.contains("against 50.0%"),
            "{page}: {strip}"
        );
    }
    let _ = served.child.kill();
    let _ = served.child.wait();
}
