//! The HTTP API end to end: the real server on an ephemeral loopback port, a real
//! client. Ingestion (array, JSON Lines, track and session routes), bad bodies, limits,
//! views with filters, exports, errors, health and the OpenAPI document.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{TestServer, execution_now};

#[test]
fn events_take_an_array_or_json_lines_and_answer_the_cli_report() {
    let server = TestServer::start();
    let http = &server.http;
    let bad = r#"{"kind":"execution","id":"x9","ts":"2026-10-01T00:00:00Z","tool":"t","duration_ms":-3,"success":true}"#;
    let array = format!("[{}, {bad}]", execution_now("a1", "p"));
    let answer = http.post("/api/analytics/events", None, &array);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json(),
        json!({"accepted": 1, "duplicates": 0, "rejected": 1, "errors": [
            {"index": 1, "id": "x9", "field": "duration_ms", "message": "must be a number in [0, 31536000000], got -3"}
        ]})
    );
    let lines = format!(
        "{}\r\n{}\n\nnot json\n",
        execution_now("a1", "p"),
        execution_now("a2", "p")
    );
    let answer = http.post("/api/analytics/events", None, &lines);
    let report = answer.json();
    assert_eq!(
        (
            &report["accepted"],
            &report["duplicates"],
            &report["rejected"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{report}"
    );
    assert_eq!(report["errors"][0]["line"], 4);
    assert_eq!(server.db.events(), 2);
    assert_eq!(server.db.analytics.quarantine_len().unwrap(), 2);
}

/// (body, status, error code) for bodies the API refuses as a whole.
#[test]
fn bodies_refused_as_a_whole_get_json_errors() {
    let server = TestServer::start();
    let gzip = [0x1f_u8, 0x8b, 8, 0, 0, 0, 0, 0];
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("/api/analytics/events", b"".to_vec(), 400, "empty_body"),
        (
            "/api/analytics/events",
            b"  \n ".to_vec(),
            400,
            "empty_body",
        ),
        // A gzip body that ends after its header.
        ("/api/analytics/events", gzip.to_vec(), 400, "bad_gzip"),
        (
            "/api/analytics/track/action",
            b"[1]".to_vec(),
            400,
            "not_an_object",
        ),
        (
            "/api/analytics/track/action",
            b"{oops".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "/api/analytics/track/action",
            b"".to_vec(),
            400,
            "empty_body",
        ),
        (
            "/api/analytics/track/nonsense",
            b"{}".to_vec(),
            404,
            "unknown_kind",
        ),
        (
            "/api/analytics/track/error",
            b"{}".to_vec(),
            422,
            "invalid_record",
        ),
    ];
    for (path, body, status, code) in cases {
        let answer = server.http.post(path, None, &body);
        assert_eq!(
            (answer.status, answer.error_code().as_str()),
            (status, code),
            "{path} {:?}: {}",
            String::from_utf8_lossy(&body),
            answer.text()
        );
    }
    assert_eq!(server.db.events(), 0);
}

#[test]
fn oversize_bodies_and_batches_get_413_with_a_json_error() {
    let server = TestServer::start_with(|o| {
        o.max_body_bytes = 64 * 1024;
        o.max_batch_records = 10;
    });
    let http = &server.http;
    // Several times the limit: the server reads it to its end and answers, the
    // connection is not dropped under the client.
    let big = format!("[\"{}\"]", "x".repeat(1024 * 1024));
    let answer = http.post("/api/analytics/events", None, &big);
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_eq!(answer.error_code(), "body_too_large");
    assert_eq!(answer.json()["error"]["details"]["limit_bytes"], 64 * 1024);

    let eleven: Vec<String> = (0..11)
        .map(|i| execution_now(&format!("r{i}"), "p"))
        .collect();
    let answer = http.post("/api/analytics/events", None, eleven.join("\n"));
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (413, "too_many_records")
    );
    let answer = http.post(
        "/api/analytics/events",
        None,
        format!("[{}]", eleven.join(",")),
    );
    assert_eq!(answer.json()["error"]["details"]["records"], 11);
    assert_eq!(server.db.events(), 0);
    // The same connection pool keeps working, and ten records are fine.
    let answer = http.post("/api/analytics/events", None, eleven[..10].join("\n"));
    assert_eq!(answer.json()["accepted"], 10);
}

#[test]
fn track_and_session_routes_map_onto_v1_kinds() {
    let server = TestServer::start();
    let http = &server.http;
    let cases = [
        (
            "action",
            r#"{"user_id":"u1","action":"login","details":{"method":"oauth"}}"#,
        ),
        (
            "api-request",
            r#"{"endpoint":"/x","method":"GET","status_code":200,"response_time":12.5}"#,
        ),
        (
            "cognitive-process",
            r#"{"membrane_type":"reasoning","processing_time":45.2,"input_tokens":100,"output_tokens":150,"success":true}"#,
        ),
        (
            "system-metrics",
            r#"{"host":"h1","cpu_usage":40,"memory_usage":61.5}"#,
        ),
        (
            "error",
            r#"{"error_type":"db","error_message":"timeout","severity":"warning"}"#,
        ),
        (
            "run",
            r#"{"duration_s":12,"mode":"2loop","qa_status":"passed"}"#,
        ),
        (
            "agent-status",
            r#"{"agent_id":"a","active_tasks":1,"queued_tasks":0,"capacity":4}"#,
        ),
    ];
    for (route, body) in cases {
        let answer = http.post(&format!("/api/analytics/track/{route}"), None, body);
        assert_eq!(answer.status, 200, "{route}: {}", answer.text());
        assert_eq!(answer.json()["accepted"], 1, "{route}");
    }
    let started = http.post("/api/analytics/session/start", None, r#"{"user_id":"u1"}"#);
    let id = started.json()["session_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    let ended = http.post(
        &format!("/api/analytics/session/{id}/end"),
        None,
        r#"{"user_id":"u1","exchanges":4}"#,
    );
    assert_eq!(ended.json()["session_id"], id.as_str());
    assert_eq!(server.db.events(), cases.len() as u64 + 2);
    let summary = http.get("/api/analytics/summary", None).json();
    assert_eq!(
        (
            summary["total_runs"].as_u64(),
            summary["total_executions"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

#[test]
fn summary_takes_project_and_time_filters_like_the_cli() {
    let server = TestServer::start();
    let http = &server.http;
    let body = [
        execution_now("a", "alpha"),
        execution_now("b", "beta"),
        r#"{"kind":"execution","id":"old","project":"alpha","ts":"2026-01-15T00:00:00Z","tool":"t","duration_ms":5,"success":true}"#.to_owned(),
    ]
    .join("\n");
    assert_eq!(
        http.post("/api/analytics/events", None, body).json()["accepted"],
        3
    );
    let executions = |query: &str| {
        let answer = http.get(&format!("/api/analytics/summary{query}"), None);
        assert_eq!(answer.status, 200, "{query}: {}", answer.text());
        answer.json()["total_executions"].as_u64().unwrap()
    };
    assert_eq!(executions(""), 3);
    assert_eq!(executions("?project=alpha"), 2);
    assert_eq!(executions("?project=alpha&from=2026-02-01"), 1);
    assert_eq!(executions("?project=alpha&to=2026-01-15"), 1);
    assert_eq!(executions("?project=alpha&to=2026-01-15T00:00:00Z"), 0);
    let nobody = http.get("/api/analytics/summary?project=nobody", None);
    assert_eq!(
        (nobody.status, nobody.error_code().as_str()),
        (404, "unknown_project")
    );
    assert_eq!(executions("?project="), 3);
    let cli = server.db.tally(&[
        "summary",
        "--json",
        "--project",
        "alpha",
        "--to",
        "2026-01-15",
    ]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(cli["total_executions"], 1);
    for (query, message) in [
        (
            "?from=yesterday",
            r#"from "yesterday": expected RFC 3339 (2026-10-01T00:00:00Z) or a day (2026-10-01)"#,
        ),
        ("?from=2026-02-02&to=2026-02-01", "from must be before to"),
    ] {
        let answer = http.get(&format!("/api/analytics/summary{query}"), None);
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json()["error"]["message"], message);
    }
}

#[test]
fn exports_are_downloads_and_csv_cells_cannot_run_as_formulas() {
    let server = TestServer::start();
    let http = &server.http;
    let project = "=HYPERLINK(\\\"http://evil\\\")";
    http.post("/api/analytics/events", None, execution_now("a", project));
    let encoded = "%3DHYPERLINK(%22http%3A%2F%2Fevil%22)";

    let csv = http.get(
        &format!("/api/analytics/export/csv?project={encoded}"),
        None,
    );
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let disposition = csv.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"tally-analytics-"),
        "{disposition}"
    );
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("OVERALL SUMMARY"));
    assert_eq!(lines.next(), Some("Metric,Value"));
    assert_eq!(
        lines.next(),
        Some(r#"Project,"'=HYPERLINK(""http://evil"")""#)
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            let first = cell.chars().next();
            let number = cell.parse::<f64>().is_ok();
            assert!(
                number || !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
                "live formula cell {cell:?} in\n{text}"
            );
        }
    }
    assert!(text.contains("Total Executions,1\n"), "{text}");

    let json = http.get("/api/analytics/export/json", None);
    assert_eq!(json.status, 200);
    assert!(
        json.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(json.json()["summary"]["total_executions"], 1);
}

#[test]
fn unknown_routes_and_methods_answer_json_errors() {
    let server = TestServer::start();
    let http = &server.http;
    for path in [
        "/nope",
        "/api/analytics/nope",
        "/api/analytics/projects-x",
        "/analytics/x",
    ] {
        let answer = http.get(path, None);
        assert_eq!(
            (answer.status, answer.error_code().as_str()),
            (404, "route_not_found"),
            "{path}"
        );
    }
    let answer = http.request("DELETE", "/api/analytics/summary");
    assert_eq!(
        (answer.status, answer.error_code().as_str()),
        (405, "method_not_allowed")
    );
    let answer = http.get("/api/analytics/session/start", None);
    assert_eq!(answer.status, 405);
}

#[test]
fn the_root_leads_to_the_dashboard() {
    let server = TestServer::start();
    let agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let answer = agent.get(format!("{}/", server.http.base)).call().unwrap();
    assert_eq!(answer.status(), 307);
    assert_eq!(answer.headers()["location"], "/analytics");
    let followed = server.http.get("/", None);
    assert_eq!(followed.status, 200);
    assert!(followed.text().contains("<html"), "{}", followed.text());
}

#[test]
fn health_reports_storage_schema_uptime_and_size() {
    let server = TestServer::start();
    let health = server.http.get("/api/analytics/health", None);
    assert_eq!(health.status, 200);
    let health = health.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["storage"], "reachable");
    assert_eq!(
        health["schema_version"].as_i64(),
        Some(server.db.analytics.stats().unwrap().schema_version)
    );
    assert!(health["uptime_seconds"].as_f64().unwrap() >= 0.0);
    assert!(health["db_size_bytes"].as_u64().unwrap() > 0);
}

/// Every route the server answers, as (method, OpenAPI path, a concrete path to call).
const ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/api/analytics/summary", "/api/analytics/summary"),
    ("get", "/api/analytics/projects", "/api/analytics/projects"),
    ("get", "/api/analytics/models", "/api/analytics/models"),
    ("get", "/api/analytics/tools", "/api/analytics/tools"),
    ("get", "/api/analytics/learning", "/api/analytics/learning"),
    ("get", "/api/analytics/agents", "/api/analytics/agents"),
    (
        "get",
        "/api/analytics/timeseries",
        "/api/analytics/timeseries",
    ),
    ("get", "/api/analytics/qa", "/api/analytics/qa"),
    ("get", "/api/analytics/costs", "/api/analytics/costs"),
    ("get", "/api/analytics/budget", "/api/analytics/budget"),
    ("get", "/api/analytics/capacity", "/api/analytics/capacity"),
    ("get", "/api/analytics/pipeline", "/api/analytics/pipeline"),
    ("get", "/api/analytics/risks", "/api/analytics/risks"),
    (
        "get",
        "/api/analytics/recommendations",
        "/api/analytics/recommendations",
    ),
    (
        "get",
        "/api/analytics/real-time",
        "/api/analytics/real-time",
    ),
    ("get", "/api/analytics/realtime", "/api/analytics/realtime"),
    ("get", "/api/analytics/requests", "/api/analytics/requests"),
    (
        "get",
        "/api/analytics/engagement",
        "/api/analytics/engagement",
    ),
    (
        "get",
        "/api/analytics/engagement/cohorts",
        "/api/analytics/engagement/cohorts",
    ),
    ("get", "/api/analytics/traces", "/api/analytics/traces"),
    (
        "get",
        "/api/analytics/traces/{trace_id}",
        "/api/analytics/traces/0123456789abcdef0123456789abcdef",
    ),
    ("post", "/v1/traces", "/v1/traces"),
    ("post", "/v1/metrics", "/v1/metrics"),
    ("post", "/v1/logs", "/v1/logs"),
    ("get", "/api/analytics/health", "/api/analytics/health"),
    (
        "get",
        "/api/analytics/export/events",
        "/api/analytics/export/events",
    ),
    ("get", "/api/analytics/trends", "/api/analytics/trends"),
    ("get", "/api/analytics/forecast", "/api/analytics/forecast"),
    (
        "get",
        "/api/analytics/anomalies",
        "/api/analytics/anomalies",
    ),
    (
        "get",
        "/api/analytics/export/json",
        "/api/analytics/export/json",
    ),
    (
        "get",
        "/api/analytics/export/csv",
        "/api/analytics/export/csv",
    ),
    (
        "get",
        "/api/analytics/export/sections",
        "/api/analytics/export/sections",
    ),
    (
        "get",
        "/api/analytics/export/schema.xsd",
        "/api/analytics/export/schema.xsd",
    ),
    (
        "get",
        "/api/analytics/reports/{kind}",
        "/api/analytics/reports/executive",
    ),
    ("post", "/api/analytics/events", "/api/analytics/events"),
    ("get", "/api/analytics/events", "/api/analytics/events"),
    (
        "post",
        "/api/analytics/track/{kind}",
        "/api/analytics/track/action",
    ),
    (
        "post",
        "/api/analytics/session/start",
        "/api/analytics/session/start",
    ),
    (
        "post",
        "/api/analytics/session/{id}/end",
        "/api/analytics/session/s1/end",
    ),
    (
        "get",
        "/api/analytics/experiments",
        "/api/analytics/experiments",
    ),
    (
        "post",
        "/api/analytics/experiments/create",
        "/api/analytics/experiments/create",
    ),
    (
        "get",
        "/api/analytics/experiments/power",
        "/api/analytics/experiments/power",
    ),
    (
        "get",
        "/api/analytics/experiments/{key}",
        "/api/analytics/experiments/e1",
    ),
    (
        "get",
        "/api/analytics/experiments/{key}/assign",
        "/api/analytics/experiments/e1/assign?user=u",
    ),
    (
        "get",
        "/api/analytics/experiments/{key}/analysis",
        "/api/analytics/experiments/e1/analysis",
    ),
    (
        "post",
        "/api/analytics/experiments/{key}/stop",
        "/api/analytics/experiments/e1/stop",
    ),
    (
        "get",
        "/api/analytics/learning/learners",
        "/api/analytics/learning/learners",
    ),
    (
        "get",
        "/api/analytics/learning/progress",
        "/api/analytics/learning/progress?period=month",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/streak",
        "/api/analytics/learning/users/u/streak?at=2026-10-01",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/mastery",
        "/api/analytics/learning/users/u/mastery",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/goals",
        "/api/analytics/learning/users/u/goals",
    ),
    (
        "post",
        "/api/analytics/learning/users/{user}/goals/create",
        "/api/analytics/learning/users/u/goals/create",
    ),
    (
        "post",
        "/api/analytics/learning/users/{user}/goals/{id}/update",
        "/api/analytics/learning/users/u/goals/1/update",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/achievements",
        "/api/analytics/learning/users/u/achievements",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/insights",
        "/api/analytics/learning/users/u/insights",
    ),
    (
        "post",
        "/api/analytics/predict/train",
        "/api/analytics/predict/train",
    ),
    (
        "get",
        "/api/analytics/predict/skill",
        "/api/analytics/predict/skill?user=u&skill=s",
    ),
    (
        "get",
        "/api/analytics/predict/models",
        "/api/analytics/predict/models",
    ),
    (
        "get",
        "/api/analytics/predict/models/{version}",
        "/api/analytics/predict/models/1",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/dashboard",
        "/api/analytics/learning/users/u/dashboard",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/export",
        "/api/analytics/learning/users/u/export?what=goals&format=csv",
    ),
    (
        "get",
        "/api/analytics/learning/users/{user}/report",
        "/api/analytics/learning/users/u/report?period=month",
    ),
    (
        "get",
        "/api/analytics/learning/leaderboard",
        "/api/analytics/learning/leaderboard?by=points",
    ),
    (
        "get",
        "/api/analytics/learning/achievements/catalogue",
        "/api/analytics/learning/achievements/catalogue?category=goals",
    ),
    (
        "post",
        "/api/analytics/learning/users/{user}/leaderboard",
        "/api/analytics/learning/users/u/leaderboard",
    ),
    ("get", "/api/alerts", "/api/alerts"),
    ("post", "/api/alerts", "/api/alerts"),
    ("get", "/api/alerts/history", "/api/alerts/history"),
    ("get", "/api/alerts/firing", "/api/alerts/firing"),
    ("get", "/api/alerts/{name}", "/api/alerts/x"),
    ("put", "/api/alerts/{name}", "/api/alerts/x"),
    ("delete", "/api/alerts/{name}", "/api/alerts/x"),
    ("post", "/api/alerts/{name}/test", "/api/alerts/x/test"),
    ("get", "/api/openapi.json", "/api/openapi.json"),
    ("get", "/metrics", "/metrics"),
    ("get", "/", "/"),
    ("get", "/analytics", "/analytics"),
    ("get", "/analytics/tools", "/analytics/tools"),
    ("get", "/analytics/agents", "/analytics/agents"),
    ("get", "/analytics/experiments", "/analytics/experiments"),
    ("get", "/analytics/learners", "/analytics/learners"),
    ("get", "/analytics/traces", "/analytics/traces"),
    ("get", "/analytics/events", "/analytics/events"),
    (
        "get",
        "/analytics/assets/events.js",
        "/analytics/assets/events.js",
    ),
    (
        "get",
        "/analytics/assets/compare.js",
        "/analytics/assets/compare.js",
    ),
    (
        "get",
        "/analytics/assets/leaderboard.js",
        "/analytics/assets/leaderboard.js",
    ),
    (
        "get",
        "/analytics/assets/dashboard.css",
        "/analytics/assets/dashboard.css",
    ),
    (
        "get",
        "/analytics/assets/dashboard.js",
        "/analytics/assets/dashboard.js",
    ),
    (
        "get",
        "/analytics/assets/uplot.js",
        "/analytics/assets/uplot.js",
    ),
    (
        "get",
        "/analytics/assets/uplot.css",
        "/analytics/assets/uplot.css",
    ),
    ("get", "/analytics/docs/events", "/analytics/docs/events"),
    ("get", "/analytics/dashboards", "/analytics/dashboards"),
    (
        "get",
        "/analytics/assets/dashboards.js",
        "/analytics/assets/dashboards.js",
    ),
    (
        "get",
        "/analytics/assets/live.js",
        "/analytics/assets/live.js",
    ),
    (
        "get",
        "/api/analytics/dashboards",
        "/api/analytics/dashboards",
    ),
    (
        "post",
        "/api/analytics/dashboard",
        "/api/analytics/dashboard",
    ),
    (
        "get",
        "/api/analytics/dashboard/{id}",
        "/api/analytics/dashboard/executive",
    ),
    (
        "put",
        "/api/analytics/dashboard/{id}",
        "/api/analytics/dashboard/executive",
    ),
    (
        "delete",
        "/api/analytics/dashboard/{id}",
        "/api/analytics/dashboard/executive",
    ),
    (
        "get",
        "/api/analytics/live",
        "/api/analytics/live?max_events=1",
    ),
];

#[test]
fn openapi_lists_exactly_the_routes_the_router_answers() {
    let server = TestServer::start();
    let http = &server.http;
    let document = http.get("/api/openapi.json", None).json();
    assert_eq!(document["openapi"], "3.0.3");
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    // Every route the router has (the concrete paths all reach a handler, not the
    // fallback) is documented, and nothing else is.
    let known: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, known);
    for (method, _, concrete) in ROUTES {
        let answer = match *method {
            "get" => http.get(concrete, None),
            "post" => http.post(concrete, None, r#"{"user_id":"u"}"#),
            other => http.send(&other.to_ascii_uppercase(), concrete, None, "{}"),
        };
        assert_ne!(answer.status, 405, "{method} {concrete}");
        if answer.status == 404 {
            assert_ne!(
                answer.error_code(),
                "route_not_found",
                "{method} {concrete}"
            );
        }
    }
    // Every $ref points at a schema of the document.
    let text = document.to_string();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}
