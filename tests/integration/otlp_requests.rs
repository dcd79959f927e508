//! Requests from any instrumented web framework: a real Flask application with the stock
//! OpenTelemetry Flask instrumentation exports its server spans to a real `tally serve`,
//! under both generations of HTTP attribute names, and they are stored as `request`
//! events by route template; bad server spans are refused naming the field.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::http_serve::serve;
use crate::support::{TestDb, TestServer, python_oracle};

/// The stored `request` events of `project`, from the event export.
fn requests(http: &crate::support::Http, project: &str) -> Vec<Value> {
    let answer = http.get(
        &format!("/api/analytics/export/events?project={project}&format=jsonl"),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer
        .text()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|event| event["kind"] == "request")
        .collect()
}

#[test]
fn a_flask_apps_requests_arrive_by_route_template_with_statuses_and_latencies() {
    let db = TestDb::new();
    let served = serve(&db, &[]);
    for (service, semconv) in [("shop-legacy", "old"), ("shop-stable", "new")] {
        let sent = python_oracle(
            "otlp_flask_app.py",
            &json!({"endpoint": served.http.base, "service": service, "semconv": semconv, "requests": 6}),
        );
        assert!(
            sent["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r == "SUCCESS"),
            "{sent}"
        );
        let stored = requests(&served.http, service);
        let served_requests = sent["served"].as_array().unwrap();
        assert_eq!(stored.len(), served_requests.len(), "{stored:?}");

        // (method, endpoint, status) → requests, on both sides.
        let mut expected: BTreeMap<(String, String, u64), u64> = BTreeMap::new();
        for request in served_requests {
            let endpoint = request["route"].as_str().unwrap_or("(no route)").to_owned();
            let key = (
                request["method"].as_str().unwrap().to_owned(),
                endpoint,
                request["status"].as_u64().unwrap(),
            );
            *expected.entry(key).or_default() += 1;
        }
        let mut got: BTreeMap<(String, String, u64), u64> = BTreeMap::new();
        for event in &stored {
            let key = (
                event["method"].as_str().unwrap().to_owned(),
                event["endpoint"].as_str().unwrap().to_owned(),
                event["status"].as_u64().unwrap(),
            );
            *got.entry(key).or_default() += 1;
            assert!(event["latency_ms"].as_f64().unwrap() >= 0.0, "{event}");
            assert!(
                !event["endpoint"].as_str().unwrap().contains("100"),
                "a raw path with an id: {event}"
            );
        }
        assert_eq!(got, expected, "{semconv} names");
        assert!(
            expected.contains_key(&("GET".into(), "/users/<user_id>".into(), 200))
                && expected.contains_key(&("GET".into(), "/fail/<code>".into(), 503))
                && expected.contains_key(&("GET".into(), "(no route)".into(), 404)),
            "{expected:?}"
        );

        // The latency is the span's: the slow route slept before answering.
        let slow = stored
            .iter()
            .find(|event| event["endpoint"] == "/slow")
            .unwrap();
        assert!(
            slow["latency_ms"].as_f64().unwrap() >= sent["slow_ms"].as_f64().unwrap(),
            "{slow}"
        );
        // The user the application put on its span.
        let users: Vec<&str> = stored
            .iter()
            .filter(|event| event["endpoint"] == "/users/<user_id>")
            .map(|event| event["user_id"].as_str().unwrap())
            .collect();
        assert_eq!(users.len(), 6);
        assert!(
            users.iter().all(|u| ["u-0", "u-1", "u-2"].contains(u)),
            "{users:?}"
        );

        // Request analytics: the per-endpoint view and the request series.
        let endpoints = served
            .http
            .get(&format!("/api/analytics/requests?project={service}"), None);
        assert_eq!(endpoints.status, 200, "{}", endpoints.text());
        let endpoints = endpoints.json();
        let row = |endpoint: &str| {
            endpoints["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["endpoint"] == endpoint)
                .unwrap_or_else(|| panic!("no {endpoint} in {endpoints}"))
                .clone()
        };
        assert_eq!(row("/users/<user_id>")["requests"], 6, "{endpoints}");
        assert_eq!(row("/fail/<code>")["server_errors"], 6, "{endpoints}");
        assert_eq!(row("(no route)")["requests"], 6, "{endpoints}");
        assert!(
            row("/slow")["p95_latency_ms"].as_f64().unwrap()
                >= sent["slow_ms"].as_f64().unwrap() * 0.99,
            "{endpoints}"
        );
        assert_eq!(
            endpoints["total_requests"].as_u64().unwrap(),
            served_requests.len() as u64
        );
    }
    // Sent again (an exporter's retry), nothing is stored twice.
    assert_eq!(db.analytics.quarantine_len().unwrap(), 0);
}

/// An HTTP server span in OTLP/JSON, as the JavaScript SDK writes it.
fn server_span(id: u8, attributes: Value, end_before_start: bool) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (start, end) = if end_before_start {
        (now - 1_000_000_000, now - 2_000_000_000)
    } else {
        (now - 2_000_000_000, now - 1_000_000_000)
    };
    json!({
        "traceId": "C0".repeat(16),
        "spanId": format!("{id:02X}").repeat(8),
        "name": "GET /items/:id",
        "kind": "SPAN_KIND_SERVER",
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": end.to_string(),
        "attributes": attributes,
    })
}

#[test]
fn bad_server_spans_are_refused_naming_the_field_and_quarantined() {
    let server = TestServer::start();
    let text = |key: &str, value: &str| json!({"key": key, "value": {"stringValue": value}});
    let int = |key: &str, value: i64| json!({"key": key, "value": {"intValue": value}});
    let good = server_span(
        1,
        json!([
            text("http.request.method", "GET"),
            text("http.route", "/items/:id"),
            int("http.response.status_code", 200)
        ]),
        false,
    );
    let bad_status = server_span(
        2,
        json!([
            text("http.method", "GET"),
            text("http.route", "/items/:id"),
            int("http.status_code", 999)
        ]),
        false,
    );
    let backwards = server_span(
        3,
        json!([
            text("http.request.method", "GET"),
            text("http.route", "/items/:id"),
            int("http.response.status_code", 200)
        ]),
        true,
    );
    let no_method = server_span(
        4,
        json!([
            text("http.route", "/items/:id"),
            int("http.response.status_code", 200)
        ]),
        false,
    );
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [text("service.name", "express-app")]},
        "scopeSpans": [{"scope": {"name": "@opentelemetry/instrumentation-http"},
                        "spans": [good, bad_status, backwards, no_method]}],
    }]});
    let answer = server.http.post_with("/v1/traces", &[], body.to_string());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], "3", "{partial}");
    let message = partial["errorMessage"].as_str().unwrap();
    for field in ["status", "latency_ms", "method"] {
        assert!(message.contains(field), "{field} missing from {message}");
    }
    assert_eq!(server.db.events(), 1);
    assert_eq!(server.db.analytics.quarantine_len().unwrap(), 3);
    let stored = requests(&server.http, "express-app");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["endpoint"], "/items/:id");
    assert_eq!(stored[0]["status"], 200);
    assert_eq!(stored[0]["latency_ms"], 1000.0);
}
