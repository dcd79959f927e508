//! OTLP/HTTP end to end: the real OpenTelemetry Python SDK and OpenLLMetry's OpenAI
//! instrumentation exporting to a real `tally serve`, and OTLP/JSON bodies as the
//! JavaScript SDK writes them against the real server (retries, partial success, limits,
//! errors, keys, routing).

use std::io::Write;

use serde_json::{Value, json};
use tally_api::{KeyScope, KeySpec};
use tally_ingest::otlp::RpcStatus;

use crate::http_serve::serve;
use crate::support::{Answer, TestDb, TestServer, python_oracle};

/// POSTs `body` to `path` with the given headers.
fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut request = agent.post(format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send(body).unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response.into_body().read_to_vec().unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/json");
const PROTOBUF: (&str, &str) = ("Content-Type", "application/x-protobuf");

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn key(db: &TestDb, scope: KeyScope, projects: &[&str]) -> String {
    db.analytics
        .create_key(&KeySpec {
            scope,
            projects: projects.iter().map(|p| (*p).to_owned()).collect(),
            name: None,
        })
        .unwrap()
        .secret
}

/// Nanoseconds since the epoch, `seconds_ago` before now, as OTLP/JSON writes them.
fn nanos_ago(seconds_ago: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (now.as_nanos() - u128::from(seconds_ago) * 1_000_000_000).to_string()
}

fn attribute(key: &str, value: Value) -> Value {
    match value {
        Value::String(s) => json!({"key": key, "value": {"stringValue": s}}),
        // 64-bit integers as JSON numbers, which OTLP/JSON allows beside strings.
        Value::Number(n) => json!({"key": key, "value": {"intValue": n}}),
        other => json!({"key": key, "value": {"boolValue": other}}),
    }
}

/// A span in OTLP/JSON: upper-case hex ids, enum names, times as strings.
fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, attributes: &[(&str, Value)]) -> Value {
    json!({
        "traceId": format!("{trace:02X}").repeat(16),
        "spanId": format!("{id:02X}").repeat(8),
        "parentSpanId": parent.map(|p| format!("{p:02X}").repeat(8)).unwrap_or_default(),
        "name": name,
        "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": nanos_ago(60),
        "endTimeUnixNano": nanos_ago(59),
        "attributes": attributes.iter().map(|(k, v)| attribute(k, v.clone())).collect::<Vec<_>>(),
        "status": {"code": "STATUS_CODE_OK"},
    })
}

fn chat(trace: u8, id: u8, input: i64, output: i64) -> Value {
    span(
        trace,
        id,
        None,
        "chat gpt-4o-mini",
        &[
            ("gen_ai.operation.name", json!("chat")),
            ("gen_ai.request.model", json!("gpt-4o-mini")),
            ("gen_ai.usage.input_tokens", json!(input)),
            ("gen_ai.usage.output_tokens", json!(output)),
        ],
    )
}

/// An OTLP/JSON export of `spans` from a service with these resource attributes.
fn export(resource: &[(&str, Value)], spans: Vec<Value>) -> Vec<u8> {
    json!({"resourceSpans": [{
        "resource": {"attributes": resource.iter().map(|(k, v)| attribute(k, v.clone())).collect::<Vec<_>>()},
        "scopeSpans": [{"scope": {"name": "js-sdk"}, "spans": spans}],
    }]})
    .to_string()
    .into_bytes()
}

fn view(server: &TestServer, name: &str, project: &str) -> Vec<Value> {
    let answer = server
        .http
        .get(&format!("/api/analytics/{name}?project={project}"), None);
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json().as_array().unwrap().clone()
}

fn find<'v>(rows: &'v [Value], field: &str, name: &str) -> &'v Value {
    rows.iter()
        .find(|row| row[field] == name)
        .unwrap_or_else(|| panic!("no {field} {name:?} in {rows:?}"))
}

#[test]
fn python_sdk_agent_traces_equal_the_views() {
    let db = TestDb::new();
    let served = serve(&db, &[]);
    for (service, compression, seed) in [("support-bot", "gzip", 1), ("research-bot", "none", 2)] {
        let sent = python_oracle(
            "otlp_sdk_agent.py",
            &json!({
                "endpoint": served.http.base, "key": null, "service": service,
                "traces": 40, "compression": compression, "seed": seed,
            }),
        );
        assert_eq!(sent["results"], Value::from(vec!["SUCCESS"; 4]), "{sent}");
        let get = |name: &str| {
            let answer = served
                .http
                .get(&format!("/api/analytics/{name}?project={service}"), None);
            assert_eq!(answer.status, 200, "{}", answer.text());
            answer.json().as_array().unwrap().clone()
        };
        let models = get("models");
        let sent_models = sent["models"].as_object().unwrap();
        assert_eq!(models.len(), sent_models.len(), "{models:?}");
        for (model, expected) in sent_models {
            let row = find(&models, "model_name", model);
            assert_eq!(row["executions"], expected["calls"], "{row}");
            assert_eq!(row["input_tokens"], expected["input_tokens"], "{row}");
            assert_eq!(row["output_tokens"], expected["output_tokens"], "{row}");
            assert_eq!(
                row["cache_read_tokens"], expected["cache_read_tokens"],
                "{row}"
            );
            // Dated names are priced as their model (`gpt-4o-mini-2024-07-18`).
            assert!(row["total_cost"].as_f64().unwrap() > 0.0, "{row}");
            assert_eq!(row["computed_cost"], row["total_cost"], "{row}");
        }
        let tools = get("tools");
        let sent_tools = sent["tools"].as_object().unwrap();
        assert_eq!(tools.len(), sent_tools.len(), "{tools:?}");
        for (tool, expected) in sent_tools {
            let row = find(&tools, "tool_name", tool);
            assert_eq!(row["total_executions"], expected["executions"], "{row}");
            assert_eq!(row["failed_executions"], expected["failed"], "{row}");
        }
        let agents = get("agents");
        for (agent, executions) in sent["agents"].as_object().unwrap() {
            assert_eq!(find(&agents, "agent_id", agent)["executions"], *executions);
        }
    }
}

#[test]
fn openllmetry_openai_calls_become_priced_model_calls() {
    let db = TestDb::new();
    let served = serve(&db, &[]);
    let sent = python_oracle(
        "otlp_openllmetry.py",
        &json!({"endpoint": served.http.base, "key": null, "service": "shop-assistant", "calls": 3}),
    );
    assert_eq!(sent["results"], Value::from(vec!["SUCCESS"; 3]), "{sent}");
    let answer = served
        .http
        .get("/api/analytics/models?project=shop-assistant", None);
    let models = answer.json();
    let row = find(
        models.as_array().unwrap(),
        "model_name",
        sent["model"].as_str().unwrap(),
    );
    assert_eq!(row["executions"], 3, "{row}");
    assert_eq!(row["input_tokens"], sent["input_tokens"], "{row}");
    assert_eq!(row["output_tokens"], sent["output_tokens"], "{row}");
    // 126 input tokens at $0.15/M and 21 output at $0.60/M (gpt-4o-mini's list price).
    let expected = (126.0 * 0.15 + 21.0 * 0.6) / 1e6;
    assert!(
        (row["total_cost"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{row}"
    );
}

#[test]
fn otlp_json_is_stored_once_however_often_it_is_retried() {
    let server = TestServer::start();
    let base = server.http.base.clone();
    let body = export(
        &[("service.name", json!("js-app"))],
        vec![
            chat(0xA1, 0x01, 100, 10),
            chat(0xA1, 0x02, 50, 5),
            span(
                0xA1,
                0x03,
                None,
                "GET /",
                &[("http.request.method", json!("GET"))],
            ),
        ],
    );
    let first = post(&base, "/v1/traces", &[JSON], &body);
    assert_eq!((first.status, first.text().as_str()), (200, "{}"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    let events = server.db.events();
    assert_eq!(events, 2, "the HTTP span is ignored");
    let again = post(
        &base,
        "/v1/traces",
        &[JSON, ("Content-Encoding", "gzip")],
        &gzip(&body),
    );
    assert_eq!((again.status, again.text().as_str()), (200, "{}"));
    assert_eq!(server.db.events(), events);
    let models = view(&server, "models", "js-app");
    let row = find(&models, "model_name", "gpt-4o-mini");
    assert_eq!(
        (row["executions"].as_u64(), row["input_tokens"].as_u64()),
        (Some(2), Some(150))
    );
    assert_eq!(row["priced"], true);
}

#[test]
fn a_model_without_a_price_is_reported_unpriced_not_free() {
    let server = TestServer::start();
    let mut unknown = chat(0xD1, 0x01, 1000, 100);
    unknown["attributes"][1] = attribute("gen_ai.request.model", json!("acme-llm-7b"));
    let answer = post(
        &server.http.base,
        "/v1/traces",
        &[JSON],
        &export(
            &[("service.name", json!("js-app"))],
            vec![unknown, chat(0xD1, 0x02, 1000, 100)],
        ),
    );
    assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
    let models = view(&server, "models", "js-app");
    let unknown = find(&models, "model_name", "acme-llm-7b");
    assert_eq!(
        (unknown["priced"].as_bool(), unknown["total_cost"].as_f64()),
        (Some(false), Some(0.0))
    );
    let known = find(&models, "model_name", "gpt-4o-mini");
    assert_eq!(known["priced"], true);
    assert!(known["total_cost"].as_f64().unwrap() > 0.0);
    let output = server.db.tally(&["query", "models", "--project", "js-app"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("priced") && text.contains("false"), "{text}");
}

#[test]
fn impossible_spans_are_a_partial_success_and_quarantined() {
    let server = TestServer::start();
    let mut backwards = chat(0xB1, 0x02, 10, 1);
    backwards["endTimeUnixNano"] = json!(nanos_ago(120));
    let mut cached = chat(0xB1, 0x04, 10, 1);
    cached["attributes"]
        .as_array_mut()
        .unwrap()
        .push(attribute("gen_ai.usage.cache_read.input_tokens", json!(11)));
    let body = export(
        &[("service.name", json!("js-app"))],
        vec![
            chat(0xB1, 0x01, 10, 1),
            backwards,
            chat(0xB1, 0x03, -4, 1),
            cached,
        ],
    );
    let answer = post(&server.http.base, "/v1/traces", &[JSON], &body);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let partial = &answer.json()["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], "3", "{partial}");
    let message = partial["errorMessage"].as_str().unwrap();
    for field in ["duration_ms", "input_tokens", "cache_read_tokens"] {
        assert!(message.contains(field), "{field} missing from {message}");
    }
    assert!(message.contains(&"02".repeat(8)), "{message}");
    assert_eq!(server.db.events(), 1);
    assert_eq!(server.db.analytics.quarantine_len().unwrap(), 3);
}

#[test]
fn bad_requests_are_400_with_a_status_and_bombs_413() {
    let server = TestServer::start_with(|options| options.max_body_bytes = 1 << 20);
    let base = server.http.base.clone();
    let answer = post(
        &base,
        "/v1/traces",
        &[PROTOBUF],
        b"\x0a\xff\xff\xff\xff\x0f garbage",
    );
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(
        answer.header("content-type"),
        Some("application/x-protobuf")
    );
    let status = RpcStatus::from_protobuf(&answer.body).unwrap();
    assert_eq!(status.code, 3, "INVALID_ARGUMENT");
    assert!(
        status.message.contains("ExportTraceServiceRequest"),
        "{status:?}"
    );

    let answer = post(&base, "/v1/traces", &[JSON], b"{\"resourceSpans\": 5}");
    assert_eq!(answer.status, 400);
    let json = answer.json();
    assert_eq!(json["code"], 3, "{json}");
    assert_eq!(json["error"]["code"], "invalid_otlp", "{json}");

    // 64 MiB of zeros in about 64 KiB: refused once 1 MiB has come out.
    let bomb = gzip(&vec![0; 64 << 20]);
    let answer = post(
        &base,
        "/v1/traces",
        &[PROTOBUF, ("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_eq!(answer.status, 413);
    assert_eq!(RpcStatus::from_protobuf(&answer.body).unwrap().code, 8);

    let answer = post(&base, "/v1/traces", &[("Content-Type", "text/csv")], b"a,b");
    assert_eq!(answer.status, 415);
    let answer = post(
        &base,
        "/v1/traces",
        &[JSON, ("Content-Encoding", "br")],
        b"{}",
    );
    assert_eq!(answer.status, 415);
    assert_eq!(server.db.events(), 0);
}

#[test]
fn metrics_and_logs_are_accepted_unanalysed() {
    let server = TestServer::start();
    for path in ["/v1/metrics", "/v1/logs"] {
        let answer = post(
            &server.http.base,
            path,
            &[JSON],
            b"{\"resourceMetrics\": []}",
        );
        assert_eq!(
            (answer.status, answer.text().as_str()),
            (200, "{}"),
            "{path}"
        );
        let answer = post(&server.http.base, path, &[PROTOBUF], b"");
        assert_eq!((answer.status, answer.body.len()), (200, 0), "{path}");
    }
}

#[test]
fn keys_scopes_and_project_limited_keys() {
    let db = TestDb::new();
    let ingest = key(&db, KeyScope::Ingest, &[]);
    let read = key(&db, KeyScope::Read, &[]);
    let alpha = key(&db, KeyScope::Ingest, &["alpha"]);
    let alpha_beta = key(&db, KeyScope::Ingest, &["alpha", "beta"]);
    let server = TestServer::on(db, |_| {});
    let base = server.http.base.clone();
    let body = |trace: u8, service: &str| {
        export(
            &[("service.name", json!(service))],
            vec![chat(trace, 1, 5, 1)],
        )
    };
    let bearer = |key: &str| format!("Bearer {key}");

    let answer = post(&base, "/v1/traces", &[JSON], &body(1, "gamma"));
    assert_eq!(answer.status, 401);
    let answer = post(
        &base,
        "/v1/traces",
        &[JSON, ("Authorization", &bearer(&read))],
        &body(1, "gamma"),
    );
    assert_eq!(answer.status, 403);
    let answer = post(
        &base,
        "/v1/traces",
        &[JSON, ("Authorization", &bearer(&ingest))],
        &body(1, "gamma"),
    );
    assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
    // A key limited to one project writes there, whatever the spans or headers say.
    let answer = post(
        &base,
        "/v1/traces",
        &[
            JSON,
            ("Authorization", &bearer(&alpha)),
            ("x-tally-project", "beta"),
        ],
        &body(2, "gamma"),
    );
    assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
    // A key limited to several: spans routed elsewhere are refused, not stored.
    let answer = post(
        &base,
        "/v1/traces",
        &[JSON, ("Authorization", &bearer(&alpha_beta))],
        &body(3, "gamma"),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["partialSuccess"]["rejectedSpans"], "1");
    let answer = post(
        &base,
        "/v1/traces",
        &[
            JSON,
            ("Authorization", &bearer(&alpha_beta)),
            ("x-tally-project", "beta"),
        ],
        &body(4, "gamma"),
    );
    assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
    let projects: Vec<_> = server
        .db
        .analytics
        .projects(&Default::default())
        .unwrap()
        .into_iter()
        .map(|p| (p.project_name, p.total_executions))
        .collect();
    assert_eq!(
        projects.iter().filter(|(_, n)| *n > 0).count(),
        3,
        "{projects:?}"
    );
    for (project, executions) in [("gamma", 1), ("alpha", 1), ("beta", 1)] {
        assert!(
            projects.contains(&(project.to_owned(), executions)),
            "{project}: {projects:?}"
        );
    }
}

/// Request headers, resource attributes, and the project they route to.
type RoutingCase<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, Value)], &'a str);

#[test]
fn projects_are_routed_by_header_then_resource_attributes() {
    let server = TestServer::start();
    let base = server.http.base.clone();
    let cases: [RoutingCase<'_>; 5] = [
        (
            &[("x-tally-project", "from-header")],
            &[("tally.project", json!("from-resource"))],
            "from-header",
        ),
        (
            &[],
            &[
                ("service.name", json!("svc")),
                ("tally.project", json!("from-resource")),
            ],
            "from-resource",
        ),
        (
            &[],
            &[
                ("service.name", json!("svc")),
                ("openinference.project.name", json!("phoenix")),
            ],
            "phoenix",
        ),
        (&[], &[("service.name", json!("svc"))], "svc"),
        (
            &[],
            &[("service.name", json!("unknown_service:node"))],
            "default",
        ),
    ];
    for (i, (headers, resource, project)) in cases.iter().enumerate() {
        let mut all = vec![JSON];
        all.extend_from_slice(headers);
        let trace = 0x10 + i as u8;
        let answer = post(
            &base,
            "/v1/traces",
            &all,
            &export(resource, vec![chat(trace, 1, 7, 1)]),
        );
        assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
        let models = view(&server, "models", project);
        assert_eq!(models.len(), 1, "{project}: {models:?}");
        assert_eq!(models[0]["input_tokens"], 7, "{project}");
    }
}

/// A span at `start_ms`..`end_ms` after a fixed instant a minute ago.
fn timed(mut span: Value, base: u128, start_ms: u128, end_ms: u128) -> Value {
    span["startTimeUnixNano"] = json!((base + start_ms * 1_000_000).to_string());
    span["endTimeUnixNano"] = json!((base + end_ms * 1_000_000).to_string());
    span
}

/// invoke_agent > chat, execute_tool (failing), chat: a trace of four spans.
fn agent_trace(trace: u8, base: u128) -> Vec<Value> {
    let mut tool = span(
        trace,
        3,
        Some(1),
        "execute_tool web_search",
        &[
            ("gen_ai.operation.name", json!("execute_tool")),
            ("gen_ai.tool.name", json!("web_search")),
        ],
    );
    tool["status"] = json!({"code": "STATUS_CODE_ERROR", "message": "timed out"});
    let mut second = chat(trace, 4, 200, 20);
    second["parentSpanId"] = json!("01".repeat(8));
    let mut first = chat(trace, 2, 100, 10);
    first["parentSpanId"] = json!("01".repeat(8));
    vec![
        timed(first, base, 10, 400),
        timed(tool, base, 400, 900),
        timed(second, base, 900, 1500),
        timed(
            span(
                trace,
                1,
                None,
                "invoke_agent triage",
                &[
                    ("gen_ai.operation.name", json!("invoke_agent")),
                    ("gen_ai.agent.name", json!("triage")),
                ],
            ),
            base,
            0,
            1600,
        ),
    ]
}

#[test]
fn traces_are_listed_and_shown_as_trees_to_those_who_may_read_them() {
    let db = TestDb::new();
    let alpha_read = key(&db, KeyScope::Read, &["alpha"]);
    let ingest = key(&db, KeyScope::Ingest, &[]);
    let admin = key(&db, KeyScope::Admin, &[]);
    let db_path = db.path();
    let server = TestServer::on(db, |_| {});
    let base_url = server.http.base.clone();
    let base: u128 = nanos_ago(60).parse().unwrap();
    for (trace, project) in [(0xC1, "alpha"), (0xC2, "beta")] {
        let answer = post(
            &base_url,
            "/v1/traces",
            &[
                JSON,
                ("Authorization", &format!("Bearer {ingest}")),
                ("x-tally-project", project),
            ],
            &export(&[], agent_trace(trace, base)),
        );
        assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
    }
    let alpha_trace = "c1".repeat(16);
    let beta_trace = "c2".repeat(16);

    let list = server
        .http
        .get("/api/analytics/traces", Some(&alpha_read))
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(
        list.len(),
        1,
        "a key for alpha sees only alpha's traces: {list:?}"
    );
    let summary = &list[0];
    assert_eq!(summary["trace_id"], alpha_trace);
    assert_eq!(summary["root_name"], "invoke_agent triage");
    assert_eq!(summary["project"], "alpha");
    assert_eq!(summary["spans"], 4);
    assert_eq!(summary["failed_spans"], 1);
    assert_eq!(summary["status"], "error");
    assert_eq!(summary["duration_ms"], 1600.0);
    assert_eq!(
        (
            summary["input_tokens"].as_u64(),
            summary["output_tokens"].as_u64()
        ),
        (Some(300), Some(30))
    );
    let expected_cost = (300.0 * 0.15 + 30.0 * 0.6) / 1e6;
    assert!(
        (summary["cost_usd"].as_f64().unwrap() - expected_cost).abs() < 1e-12,
        "{summary}"
    );

    let tree = server.http.get(
        &format!("/api/analytics/traces/{}", alpha_trace.to_uppercase()),
        Some(&alpha_read),
    );
    assert_eq!(tree.status, 200, "{}", tree.text());
    let tree = tree.json();
    let roots = tree["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{tree}");
    assert_eq!(roots[0]["span_kind"], "agent");
    let children: Vec<_> = roots[0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["tool"].as_str().unwrap(),
                c["offset_ms"].as_f64().unwrap(),
                c["success"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        children,
        [
            ("chat", 10.0, true),
            ("web_search", 400.0, false),
            ("chat", 900.0, true)
        ]
    );
    assert_eq!(roots[0]["children"][0]["agent_id"], "triage");

    let hidden = server.http.get(
        &format!("/api/analytics/traces/{beta_trace}"),
        Some(&alpha_read),
    );
    assert_eq!(hidden.status, 404, "{}", hidden.text());
    let forbidden = server.http.get(
        &format!("/api/analytics/traces/{beta_trace}?project=beta"),
        Some(&alpha_read),
    );
    assert_eq!(forbidden.status, 403);
    let shown = server
        .http
        .get(&format!("/api/analytics/traces/{beta_trace}"), Some(&admin));
    assert_eq!(shown.status, 200);
    let bad = server.http.get("/api/analytics/traces/xyz", Some(&admin));
    assert_eq!(bad.status, 400);

    let output = crate::support::tally()
        .arg("--db")
        .arg(&db_path)
        .args(["query", "traces", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cli: Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<_> = cli
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.contains(&alpha_trace.as_str()) && ids.contains(&beta_trace.as_str()),
        "{ids:?}"
    );
}

#[test]
fn the_traces_page_draws_a_waterfall_in_a_real_browser() {
    let db = TestDb::new();
    let served = serve(&db, &[]);
    let base: u128 = nanos_ago(60).parse().unwrap();
    let answer = post(
        &served.http.base,
        "/v1/traces",
        &[JSON],
        &export(
            &[("service.name", json!("support-bot"))],
            agent_trace(0xE1, base),
        ),
    );
    assert_eq!((answer.status, answer.text().as_str()), (200, "{}"));
    let profile = tempfile::tempdir().unwrap();
    let dom = crate::dashboard_browser::chromium(
        profile.path(),
        &[
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            format!("{}/analytics/traces", served.http.base),
        ],
    );
    assert!(
        dom.contains("data-loaded=\"true\""),
        "never finished loading:\n{dom}"
    );
    assert!(
        dom.contains(&format!("data-trace=\"{}\"", "e1".repeat(16))),
        "{dom}"
    );
    assert_eq!(dom.matches("class=\"wf-row\"").count(), 4, "{dom}");
    assert_eq!(dom.matches("wf-bar failed").count(), 1, "{dom}");
    assert!(dom.contains("Trace: invoke_agent triage"), "{dom}");
}
