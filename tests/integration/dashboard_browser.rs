//! The dashboard in a real browser: headless Chromium loads `/analytics` over demo data
//! served by the real `tally serve --demo`; the KPI values in the rendered DOM must equal
//! `/api/analytics/summary`'s, sections without a route must say "not available", the
//! tools, agents, experiments and learners pages show what their routes answer, and a
//! screenshot is written to `dashboard.png` in Cargo's target directory. Playwright
//! (`tests/oracles/dashboard_walk.py`, driving the same Chromium) clicks through every
//! page with filters set, follows chart points and table rows to `/analytics/events`, and
//! writes `dashboard-PAGE-WIDTH.png` at 1440 and 390 px wide; an empty database gets the
//! getting-started panel.

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
        let drawn = element(chart, ">");
        assert!(
            drawn.contains("data-chart=\"uplot\""),
            "{chart} not drawn: {drawn}"
        );
    }
    // The forecast chart draws the series and the forecast band.
    let forecast = element("chart-forecast", ">");
    assert!(
        forecast.contains("data-series=\"history forecast upper lower anomalies\"")
            && forecast.contains("data-band=\"true\""),
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
    learner.push("data-series=\"rolling daily\"".to_owned());
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
    let projects: Vec<String> = served
        .http
        .get("/api/analytics/projects", None)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project_name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!projects.is_empty());
    let profile = tempfile::tempdir().unwrap();
    // The events explorer is a dashboard page like the others: the strip and the
    // project suggestions too.
    for page in ["", "/tools", "/learners", "/events"] {
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
        let suggestions = dom
            .split("<datalist id=\"project-list\">")
            .nth(1)
            .and_then(|rest| rest.split("</datalist>").next())
            .unwrap_or_else(|| panic!("{page}: no project list"));
        for project in &projects {
            assert!(
                suggestions.contains(&format!("<option value=\"{project}\">")),
                "{page}: {project} not suggested: {suggestions}"
            );
        }
    }
    let _ = served.child.kill();
    let _ = served.child.wait();
}

/// The query parameters of a URL (the dashboard's values need no percent-decoding).
fn query_of(url: &str) -> (String, Vec<(String, String)>) {
    let path_start = url.find("/analytics").unwrap_or(0);
    let (path, query) = url[path_start..].split_once('?').unwrap_or((url, ""));
    let pairs = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (path.to_owned(), pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Playwright clicks through every page of the demo at 1440 and 390 px with a project
/// and a date range set: the filters stay in the URL, the inputs and the nav links; no
/// console error, no "undefined", no chart stretched or wider than its panel; a drag
/// zooms a chart and a double-click resets it; chart points, table rows and the demo's
/// anomaly lead to `/analytics/events` with the matching filters; the long risk table
/// shows its top rows until "show all".
#[test]
fn every_page_keeps_the_filters_and_links_figures_to_their_events() {
    let db = TestDb::new();
    let mut served = serve(&db, &["--demo"]);
    let base = served.http.base.clone();
    let projects = served.http.get("/api/analytics/projects", None).json();
    let project = projects[0]["project_name"].as_str().unwrap().to_owned();
    let timeseries = served.http.get("/api/analytics/timeseries", None).json();
    let days = timeseries["daily"].as_array().unwrap();
    assert!(days.len() > 14, "demo data missing: {timeseries}");
    let from = days[7]["date"].as_str().unwrap().to_owned();
    let to = days.last().unwrap()["date"].as_str().unwrap().to_owned();
    let query = format!("project={project}&from={from}&to={to}");
    // The demo's planted spike: an anomaly of the cost series on any day the test runs
    // (`series::the_demo_has_no_anomalies_on_ordinary_days_and_its_cost_spike_is_found`
    // checks it on every weekday).
    let anomalies = served
        .http
        .get("/api/analytics/anomalies?metric=cost", None)
        .json();
    let spikes: Vec<String> = anomalies["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["timestamp"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !spikes.is_empty(),
        "no anomaly in the demo's cost: {anomalies}"
    );
    let shots = crate::support::target_dir();
    let seen = crate::support::python_oracle(
        "dashboard_walk.py",
        &serde_json::json!({"base": base, "query": query, "shots": shots, "anomaly_metric": "cost"}),
    );
    let _ = served.child.kill();
    let _ = served.child.wait();

    let pages = seen["pages"].as_array().unwrap();
    let mut visited: Vec<(String, u64)> = Vec::new();
    for page in pages {
        let name = page["page"].as_str().unwrap();
        let width = page["width"].as_u64().unwrap();
        let at = format!("{name} at {width} px");
        visited.push((name.to_owned(), width));
        let (_, params) = query_of(page["url"].as_str().unwrap());
        for (filter, value) in [("project", &project), ("from", &from), ("to", &to)] {
            assert_eq!(
                param(&params, filter),
                Some(value.as_str()),
                "{at}: URL {}",
                page["url"]
            );
            assert_eq!(
                page["inputs"][filter],
                value.as_str(),
                "{at}: the {filter} input"
            );
        }
        for (nav, href) in page["nav"].as_object().unwrap() {
            assert!(
                href.as_str().unwrap().ends_with(&format!("?{query}")),
                "{at}: the {nav} link drops the filters: {href}"
            );
        }
        assert_eq!(
            page["errors"],
            serde_json::json!([]),
            "{at}: console errors"
        );
        let text = page["text"].as_str().unwrap();
        assert!(
            !text.contains("undefined"),
            "{at} shows \"undefined\":\n{text}"
        );
        assert!(!text.contains("NaN"), "{at} shows NaN:\n{text}");
        assert_eq!(page["overflow"], 0, "{at}: the page scrolls sideways");
        for chart in page["charts"].as_array().unwrap() {
            let id = chart["id"].as_str().unwrap();
            assert_eq!(chart["stretched"], false, "{at}: {id} is stretched");
            if chart["kind"] == "uplot" {
                assert_eq!(
                    chart["css"], chart["pixels"],
                    "{at}: {id} is scaled: {chart}"
                );
                assert_eq!(
                    chart["css"][0], chart["container"],
                    "{at}: {id} does not fill its panel: {chart}"
                );
            }
        }
        let drawn = |id: &str| {
            page["charts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id)
                .unwrap_or_else(|| panic!("{at}: no chart {id}"))
                .clone()
        };
        if name == "overview" {
            for id in ["chart-cost", "chart-runs", "chart-forecast"] {
                assert_eq!(drawn(id)["kind"], "uplot", "{at}: {id} not drawn");
            }
            assert_eq!(
                drawn("chart-forecast")["band"],
                "true",
                "{at}: no forecast band"
            );
        }
        if name == "learners" {
            assert_eq!(drawn("learner-quality")["kind"], "uplot", "{at}");
        }
    }
    for width in [1440, 390] {
        for name in [
            "overview",
            "tools",
            "agents",
            "experiments",
            "learners",
            "traces",
        ] {
            assert!(
                visited.contains(&(name.to_owned(), width)),
                "{name} at {width} px not visited: {visited:?}"
            );
            let shot = shots.join(format!("dashboard-{name}-{width}.png"));
            let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
            assert!(
                size > 10_000,
                "screenshot {} is {size} bytes",
                shot.display()
            );
        }
    }

    let drill = &seen["drill"];
    let events = |what: &str| {
        let url = drill[what]
            .as_str()
            .unwrap_or_else(|| panic!("no {what}: {drill}"));
        let (path, params) = query_of(url);
        assert_eq!(path, "/analytics/events", "{what}: {url}");
        assert_eq!(
            param(&params, "project"),
            Some(project.as_str()),
            "{what}: {url}"
        );
        params
    };
    // A chart point: the events of that one day, inside the range shown.
    let point = events("chart");
    let day = param(&point, "from").unwrap().to_owned();
    assert_eq!(param(&point, "to"), Some(day.as_str()), "{point:?}");
    assert!(day >= from && day <= to, "{day} outside {from}..{to}");
    let row = events("project_row");
    assert_eq!(
        (param(&row, "from"), param(&row, "to")),
        (Some(from.as_str()), Some(to.as_str()))
    );
    let model = drill["model_first"].as_str().unwrap();
    assert_eq!(param(&events("model_row"), "model"), Some(model));
    let tools = events("tool_row");
    assert_eq!(param(&tools, "tool"), drill["tool_first"].as_str());
    assert_eq!(param(&tools, "kind"), Some("execution"));
    assert_eq!(
        param(&events("agent_row"), "agent"),
        drill["agent_first"].as_str()
    );

    // Dragging across the cost chart zooms into it without leaving the page; a
    // double-click shows the whole range again.
    let zoom = &seen["zoom"];
    assert_eq!(zoom["before"], "false", "{zoom}");
    assert_eq!(zoom["dragged"], "true", "{zoom}");
    assert_eq!(zoom["url_after_drag"], "/analytics", "{zoom}");
    assert_eq!(zoom["reset"], "false", "{zoom}");

    // The first listed anomaly is marked on the chart and opens the events of its day.
    let anomaly = &seen["anomaly"];
    assert_eq!(anomaly["day"], spikes[0].as_str(), "{anomaly}");
    assert_eq!(anomaly["marked"], spikes.len().to_string(), "{anomaly}");
    let (path, params) = query_of(anomaly["url"].as_str().unwrap());
    assert_eq!(path, "/analytics/events", "{anomaly}");
    assert_eq!(param(&params, "from"), Some(&spikes[0][..10]), "{anomaly}");
    assert_eq!(param(&params, "to"), Some(&spikes[0][..10]), "{anomaly}");

    // A day of the learner's heatmap: the sessions of that day, with the page's project.
    let cell = events("heatmap");
    let day = drill["heatmap_day"].as_str().unwrap();
    assert_eq!(
        (param(&cell, "from"), param(&cell, "to")),
        (Some(day), Some(day)),
        "{cell:?}"
    );
    assert_eq!(param(&cell, "kind"), Some("session"), "{cell:?}");

    let show = &seen["show_all"];
    assert!(
        show["rows"].as_u64().unwrap() > 10,
        "risk table is short: {show}"
    );
    assert_eq!(show["toggle"], true, "{show}");
    assert_eq!(show["visible_before"], 10, "{show}");
    assert_eq!(show["visible_after"], show["rows"], "{show}");
}

/// An empty database: a getting-started panel (a curl example, `tally demo`, the wire
/// format, served by the server itself) instead of zeros.
#[test]
fn an_empty_database_shows_how_to_start() {
    let db = TestDb::new();
    let mut served = serve(&db, &[]);
    let seen = crate::support::python_oracle(
        "dashboard_walk.py",
        &serde_json::json!({
            "base": served.http.base,
            "shots": crate::support::target_dir(),
            "empty": true,
        }),
    );
    let _ = served.child.kill();
    let _ = served.child.wait();
    assert_eq!(seen["panel"], true, "{seen}");
    assert_eq!(seen["kpis_visible"], false, "zero KPIs shown: {seen}");
    let panel = seen["panel_text"].as_str().unwrap();
    for expected in [
        "curl -s http://",
        "/api/analytics/events",
        "\"kind\":\"execution\"",
        "tally demo",
        "the event wire format",
    ] {
        assert!(panel.contains(expected), "no {expected:?} in:\n{panel}");
    }
    let text = seen["text"].as_str().unwrap();
    assert!(
        !text.contains("0.0%") && !text.contains("undefined"),
        "{text}"
    );
    assert_eq!(seen["link"], "/analytics/docs/events");
    assert!(
        seen["docs_url"]
            .as_str()
            .unwrap()
            .ends_with("/analytics/docs/events")
    );
    let docs = seen["docs_text"].as_str().unwrap();
    assert!(
        docs.contains("# Event wire format") && docs.contains("### `execution`"),
        "{docs}"
    );
    assert_eq!(seen["errors"], serde_json::json!([]), "console errors");
}
