//! The saved dashboards and the live updates in a real browser: Playwright drives
//! Debian's Chromium (`tests/oracles/dashboards_live.py`) against the real server. A
//! dashboard is created, widgets added, moved and removed, saved, and the reloaded page
//! shows it as kept (and so does the API); the overview shows a run ingested over HTTP
//! without a reload, through the live stream.

use serde_json::Value;

use crate::support::{TestServer, python_oracle};

fn run_now(id: &str) -> String {
    format!(
        r#"{{"kind":"run","id":"{id}","project":"alpha","ts":"{}","duration_s":3,"models":[{{"model":"gpt-4o","cost_usd":0.25,"input_tokens":100,"output_tokens":50}}]}}"#,
        chrono::Utc::now().to_rfc3339()
    )
}

#[test]
fn a_dashboard_made_in_the_browser_is_kept_across_a_reload() {
    let server = TestServer::start();
    server
        .http
        .post("/api/analytics/events", None, run_now("seed-run"));
    let seen = python_oracle(
        "dashboards_live.py",
        &serde_json::json!({"base": server.http.base, "mode": "edit"}),
    );
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    let listed: Vec<&str> = seen["listed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(listed, ["executive", "technical"], "{seen}");
    assert!(!seen["builtin_widgets"].as_array().unwrap().is_empty());
    assert_eq!(
        seen["added"],
        serde_json::json!(["summary", "models", "cost_series"])
    );
    assert_eq!(
        seen["moved"],
        serde_json::json!(["summary", "cost_series", "models"])
    );
    assert_eq!(
        seen["before_save"],
        serde_json::json!(["cost_series", "models"])
    );
    assert_eq!(seen["after_reload"], seen["before_save"], "{seen}");
    assert_eq!(seen["name"], "Browser board");
    assert_eq!(seen["chart"], "uplot", "the series widget is drawn: {seen}");
    let id = seen["selected"].as_str().unwrap();
    assert!(
        seen["url"].as_str().unwrap().contains(&format!("id={id}")),
        "{seen}"
    );
    let stored = server
        .http
        .get(&format!("/api/analytics/dashboard/{id}"), None)
        .json();
    let views: Vec<&str> = stored["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["view"].as_str().unwrap())
        .collect();
    assert_eq!(views, ["cost_series", "models"]);
    assert_eq!(stored["widgets"][0]["chart"], "bar");
}

#[test]
fn the_overview_shows_an_ingest_without_a_reload() {
    let server = TestServer::start();
    server
        .http
        .post("/api/analytics/events", None, run_now("seed-run"));
    let seen: Value = python_oracle(
        "dashboards_live.py",
        &serde_json::json!({"base": server.http.base, "mode": "live", "samples": 2}),
    );
    // The overview's forecast answers 422 (too little data) over two runs; nothing else fails.
    let errors: Vec<&Value> = seen["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e.as_str().unwrap().contains("status of 422"))
        .collect();
    assert!(errors.is_empty(), "{seen}");
    assert_eq!(seen["before"], "1", "{seen}");
    assert_eq!(seen["values"], serde_json::json!(["2", "3"]), "{seen}");
    assert_eq!(seen["same_page"], "same page", "no reload: {seen}");
    assert_eq!(
        seen["live"], "on",
        "through the stream, not the poll: {seen}"
    );
}
