//! Decoding and mapping pinned on requests built here; the real SDKs' requests are
//! tested end to end in `tests/integration/otlp.rs`.

use std::io::Write;

use flate2::Compression as Level;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use proptest::prelude::*;
use prost::Message;
use serde_json::Value;

use super::*;

const TRACE: [u8; 16] = [0xab; 16];
const START: u64 = 1_790_000_000_000_000_000;

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn span(id: u8, parent: Option<u8>, name: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: TRACE.to_vec(),
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: START + u64::from(id) * 1_000_000,
        end_time_unix_nano: START + u64::from(id) * 1_000_000 + 250_000_000,
        attributes,
        ..Span::default()
    }
}

fn request(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "agent-sdk".into(),
                    ..InstrumentationScope::default()
                }),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// The records of a mapping, parsed.
fn records(mapped: &Mapped) -> Vec<Value> {
    std::str::from_utf8(&mapped.records)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// invoke_agent > chat > execute_tool > chat, plus an HTTP span the SDK made.
fn agent_trace() -> ExportTraceServiceRequest {
    let mut failing_tool = span(
        3,
        Some(1),
        "execute_tool web_search",
        vec![
            text("gen_ai.operation.name", "execute_tool"),
            text("gen_ai.tool.name", "web_search"),
        ],
    );
    failing_tool.status = Some(Status {
        code: 2,
        message: "timed out".into(),
    });
    failing_tool.events.push(span::Event {
        name: "exception".into(),
        attributes: vec![text("exception.type", "TimeoutError")],
        ..span::Event::default()
    });
    request(
        vec![text("service.name", "support-bot")],
        vec![
            span(
                1,
                None,
                "invoke_agent triage",
                vec![
                    text("gen_ai.operation.name", "invoke_agent"),
                    text("gen_ai.agent.name", "triage"),
                    // Totals of the children, which must not be counted again.
                    int("gen_ai.usage.input_tokens", 999),
                    text("gen_ai.request.model", "gpt-4o-mini"),
                    text("gen_ai.conversation.id", "conv-7"),
                ],
            ),
            span(
                2,
                Some(1),
                "chat gpt-4o-mini",
                vec![
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.provider.name", "openai"),
                    text("gen_ai.request.model", "gpt-4o-mini"),
                    text("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                    int("gen_ai.usage.input_tokens", 120),
                    int("gen_ai.usage.output_tokens", 30),
                    int("gen_ai.usage.cache_read.input_tokens", 20),
                    text("user.id", "u-1"),
                ],
            ),
            failing_tool,
            span(
                4,
                Some(1),
                "chat",
                vec![
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.request.model", "gpt-4o-mini"),
                    // The deprecated names.
                    int("gen_ai.usage.prompt_tokens", 200),
                    int("gen_ai.usage.completion_tokens", 40),
                ],
            ),
            span(
                5,
                Some(2),
                "POST",
                vec![text("http.request.method", "POST")],
            ),
        ],
    )
}

#[test]
fn an_agent_trace_becomes_executions_with_usage_from_model_calls_only() {
    let mapped = map_traces(&agent_trace(), Routing::default());
    assert_eq!((mapped.kept.len(), mapped.ignored), (4, 1));
    assert!(mapped.refused.is_empty());
    let records = records(&mapped);
    let trace = "ab".repeat(16);
    let agent = &records[0];
    assert_eq!(agent["id"], format!("{trace}-{}", "01".repeat(8)));
    assert_eq!(agent["task_id"], trace);
    assert_eq!(agent["project"], "support-bot");
    assert_eq!(agent["tool"], "invoke_agent");
    assert_eq!(agent["agent_id"], "triage");
    assert_eq!(agent["session_id"], "conv-7");
    assert_eq!(agent["duration_ms"], 250.0);
    assert_eq!(agent["ts"], START / 1_000_000 + 1);
    assert_eq!(agent["success"], true);
    assert!(agent.get("input_tokens").is_none(), "{agent}");
    assert!(agent.get("model").is_none(), "{agent}");
    assert_eq!(agent["attrs"]["tally.span_kind"], "agent");

    let chat = &records[1];
    assert_eq!(chat["tool"], "chat");
    assert_eq!(
        chat["agent_id"], "triage",
        "inherited from the invoke_agent parent"
    );
    assert_eq!(chat["model"], "gpt-4o-mini-2024-07-18");
    assert_eq!(chat["input_tokens"], 120);
    assert_eq!(chat["output_tokens"], 30);
    assert_eq!(chat["cache_read_tokens"], 20);
    assert_eq!(chat["user_id"], "u-1");
    assert_eq!(chat["attrs"]["gen_ai.provider.name"], "openai");
    assert_eq!(chat["attrs"]["otel.parent_span_id"], "01".repeat(8));
    assert_eq!(chat["attrs"]["otel.scope.name"], "agent-sdk");
    assert_eq!(chat["attrs"]["service.name"], "support-bot");
    assert!(
        chat.get("cost_usd").is_none(),
        "priced by the pipeline, not here"
    );

    let tool = &records[2];
    assert_eq!(tool["tool"], "web_search");
    assert_eq!(tool["success"], false);
    assert_eq!(tool["error"], "TimeoutError");
    assert!(tool.get("input_tokens").is_none());

    let second_chat = &records[3];
    assert_eq!(second_chat["input_tokens"], 200);
    assert_eq!(second_chat["output_tokens"], 40);
    assert_eq!(second_chat["model"], "gpt-4o-mini");
}

#[test]
fn projects_are_routed_by_key_header_then_resource() {
    let routed = |routing: Routing<'_>, resource: Vec<KeyValue>| {
        let spans = vec![span(
            1,
            None,
            "chat",
            vec![text("gen_ai.operation.name", "chat")],
        )];
        records(&map_traces(&request(resource, spans), routing))[0]["project"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let all = || {
        vec![
            text("service.name", "svc"),
            text("openinference.project.name", "phoenix-project"),
            text("tally.project", "tally-project"),
        ]
    };
    let key = Routing {
        key_project: Some("keyed"),
        header_project: Some("header"),
    };
    assert_eq!(routed(key, all()), "keyed");
    let header = Routing {
        key_project: None,
        header_project: Some("header"),
    };
    assert_eq!(routed(header, all()), "header");
    assert_eq!(routed(Routing::default(), all()), "tally-project");
    assert_eq!(
        routed(Routing::default(), all()[..2].to_vec()),
        "phoenix-project"
    );
    assert_eq!(routed(Routing::default(), all()[..1].to_vec()), "svc");
    assert_eq!(
        routed(
            Routing::default(),
            vec![text("service.name", "unknown_service:python")]
        ),
        "default"
    );
    assert_eq!(routed(Routing::default(), Vec::new()), "default");
}

#[test]
fn every_naming_generation_of_usage_is_read() {
    let one = |attributes: Vec<KeyValue>| {
        records(&map_traces(
            &request(Vec::new(), vec![span(1, None, "llm", attributes)]),
            Routing::default(),
        ))
        .remove(0)
    };
    let openinference = one(vec![
        text("openinference.span.kind", "LLM"),
        text("llm.model_name", "claude-sonnet-4-5"),
        int("llm.token_count.prompt", 1000),
        int("llm.token_count.completion", 300),
        int("llm.token_count.prompt_details.cache_read", 400),
        int("llm.token_count.completion_details.reasoning", 100),
        text("llm.cost.total", "0.0125"),
        text("session.id", "s-9"),
        text("langfuse.user.id", "lf-user"),
    ]);
    assert_eq!(openinference["model"], "claude-sonnet-4-5");
    assert_eq!(openinference["input_tokens"], 1000);
    assert_eq!(openinference["output_tokens"], 300);
    assert_eq!(openinference["cache_read_tokens"], 400);
    assert_eq!(openinference["reasoning_tokens"], 100);
    assert_eq!(openinference["cost_usd"], 0.0125);
    assert_eq!(openinference["session_id"], "s-9");
    assert_eq!(openinference["user_id"], "lf-user");

    let vercel = one(vec![
        text("ai.operationId", "ai.generateText.doGenerate"),
        text("ai.model.id", "gpt-4o"),
        int("ai.usage.promptTokens", 50),
        int("ai.usage.completionTokens", 5),
    ]);
    assert_eq!(vercel["model"], "gpt-4o");
    assert_eq!(vercel["tool"], "ai.generateText.doGenerate");
    assert_eq!(
        (
            vercel["input_tokens"].as_i64(),
            vercel["output_tokens"].as_i64()
        ),
        (Some(50), Some(5))
    );

    let semconv = one(vec![
        text("gen_ai.operation.name", "chat"),
        int("gen_ai.usage.input_tokens", 10),
        int("gen_ai.usage.cache_creation.input_tokens", 4),
        int("gen_ai.usage.reasoning.output_tokens", 2),
        int("gen_ai.usage.output_tokens", 3),
        text("error.type", "rate_limited"),
        text("enduser.id", "end-user"),
    ]);
    assert_eq!(semconv["cache_write_tokens"], 4);
    assert_eq!(semconv["reasoning_tokens"], 2);
    assert_eq!(semconv["success"], false);
    assert_eq!(semconv["error"], "rate_limited");
    assert_eq!(semconv["user_id"], "end-user");

    let openllmetry_tool = one(vec![
        text("traceloop.span.kind", "tool"),
        text("traceloop.entity.name", "lookup_order"),
    ]);
    assert_eq!(openllmetry_tool["tool"], "lookup_order");
    assert_eq!(openllmetry_tool["attrs"]["tally.span_kind"], "tool");

    let chain = one(vec![
        text("openinference.span.kind", "CHAIN"),
        int("llm.token_count.prompt", 77),
    ]);
    assert!(
        chain.get("input_tokens").is_none(),
        "a chain repeats its children's sums"
    );
}

#[test]
fn bad_values_are_passed_on_for_validation_to_refuse_by_name() {
    let mut backwards = span(
        1,
        None,
        "chat",
        vec![
            text("gen_ai.operation.name", "chat"),
            int("gen_ai.usage.input_tokens", -5),
        ],
    );
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 1_000_000;
    let record = records(&map_traces(
        &request(Vec::new(), vec![backwards]),
        Routing::default(),
    ))
    .remove(0);
    assert_eq!(record["duration_ms"], -1.0);
    assert_eq!(record["input_tokens"], -5);
}

#[test]
fn malformed_ids_are_refused_and_other_spans_ignored() {
    let mut no_trace = span(1, None, "chat", vec![text("gen_ai.operation.name", "chat")]);
    no_trace.trace_id.clear();
    let mut zero_span = span(2, None, "chat", vec![text("gen_ai.operation.name", "chat")]);
    zero_span.span_id = vec![0; 8];
    let database = span(3, None, "SELECT", vec![text("db.system", "postgresql")]);
    let mapped = map_traces(
        &request(Vec::new(), vec![no_trace, zero_span, database]),
        Routing::default(),
    );
    assert_eq!(
        (mapped.kept.len(), mapped.refused.len(), mapped.ignored),
        (0, 2, 1)
    );
    assert!(
        mapped.refused[0].contains("trace_id must be 16 bytes"),
        "{:?}",
        mapped.refused
    );
    assert_eq!(mapped.spans(), 3);
}

/// The OTLP/JSON of [`agent_trace`]'s first two spans as the JavaScript SDK writes it,
/// with what the serde mapping would refuse on its own.
const JS_SDK_JSON: &str = r#"{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "support-bot"}}], "droppedAttributesCount": 0},
    "scopeSpans": [{
      "scope": {"name": "agent-sdk", "version": null},
      "spans": [{
        "traceId": "ABABABABABABABABABABABABABABABAB",
        "spanId": "0101010101010101",
        "parentSpanId": "",
        "name": "invoke_agent triage",
        "kind": "SPAN_KIND_INTERNAL",
        "startTimeUnixNano": "1790000000001000000",
        "endTimeUnixNano": 1790000000251000000,
        "attributes": [
          {"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
          {"key": "gen_ai.agent.name", "value": {"stringValue": "triage"}},
          {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 999}},
          {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
          {"key": "gen_ai.conversation.id", "value": {"stringValue": "conv-7"}},
          {"key": "tags", "value": {"arrayValue": {}}}
        ],
        "status": {"code": "STATUS_CODE_UNSET"},
        "somethingNew": {"ignored": true}
      }, {
        "traceId": "abababababababababababababababab",
        "spanId": "0202020202020202",
        "parentSpanId": "0101010101010101",
        "name": "chat gpt-4o-mini",
        "kind": 3,
        "startTimeUnixNano": 1790000000002000000,
        "endTimeUnixNano": "1790000000252000000",
        "attributes": [
          {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
          {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
          {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
          {"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4o-mini-2024-07-18"}},
          {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "120"}},
          {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 30}},
          {"key": "gen_ai.usage.cache_read.input_tokens", "value": {"intValue": "20"}},
          {"key": "user.id", "value": {"stringValue": "u-1"}},
          {"key": "temperature", "value": {"doubleValue": "0.5"}}
        ],
        "status": {"code": 0}
      }]
    }]
  }]
}"#;

#[test]
fn otlp_json_reads_like_protobuf() {
    let json = decode_traces(
        JS_SDK_JSON.as_bytes(),
        Encoding::Json,
        Compression::Identity,
        1 << 20,
    )
    .unwrap();
    let mut expected = agent_trace();
    let spans = &mut expected.resource_spans[0].scope_spans[0].spans;
    spans.truncate(2);
    let from_json = records(&map_traces(&json, Routing::default()));
    let from_proto = records(&map_traces(&expected, Routing::default()));
    assert_eq!(from_json, from_proto);
    let spans = &json.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans[0].kind, span::SpanKind::Internal as i32);
    assert_eq!(spans[1].kind, span::SpanKind::Client as i32);
    assert!(matches!(
        decode_traces(b"{}", Encoding::Json, Compression::Identity, 100),
        Ok(request) if request.resource_spans.is_empty()
    ));
    for bad in ["[]", "{", "{\"resourceSpans\": 5}", ""] {
        assert!(
            matches!(
                decode_traces(bad.as_bytes(), Encoding::Json, Compression::Identity, 100),
                Err(DecodeError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
}

fn compress(data: &[u8], compression: Compression) -> Vec<u8> {
    match compression {
        Compression::Identity => data.to_vec(),
        Compression::Gzip => {
            let mut encoder = GzEncoder::new(Vec::new(), Level::default());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
        Compression::Deflate => {
            let mut encoder = ZlibEncoder::new(Vec::new(), Level::default());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
    }
}

#[test]
fn compressed_bodies_decode_and_bombs_stop_at_the_limit() {
    let body = agent_trace().encode_to_vec();
    for compression in [
        Compression::Identity,
        Compression::Gzip,
        Compression::Deflate,
    ] {
        let decoded = decode_traces(
            &compress(&body, compression),
            Encoding::Protobuf,
            compression,
            1 << 20,
        )
        .unwrap();
        assert_eq!(decoded, agent_trace(), "{compression:?}");
    }
    let mut raw = DeflateEncoder::new(Vec::new(), Level::default());
    raw.write_all(&body).unwrap();
    let raw = raw.finish().unwrap();
    assert_eq!(
        decode_traces(&raw, Encoding::Protobuf, Compression::Deflate, 1 << 20).unwrap(),
        agent_trace(),
        "raw deflate, as some senders write it"
    );
    // 64 MiB of zeros in about 64 KiB of gzip.
    let bomb = compress(&vec![0; 64 << 20], Compression::Gzip);
    assert!(bomb.len() < 1 << 20);
    assert_eq!(
        inflate(&bomb, Compression::Gzip, 1 << 20).unwrap_err(),
        DecodeError::TooLarge { limit: 1 << 20 }
    );
    assert_eq!(
        inflate(&body, Compression::Identity, body.len() - 1).unwrap_err(),
        DecodeError::TooLarge {
            limit: body.len() - 1
        }
    );
    assert!(matches!(
        inflate(b"\x1f\x8b not gzip", Compression::Gzip, 100),
        Err(DecodeError::Invalid(_))
    ));
}

#[test]
fn answers_are_empty_when_all_is_taken() {
    assert!(export_response(Encoding::Protobuf, 0, "").is_empty());
    assert_eq!(export_response(Encoding::Json, 0, ""), b"{}");
    let partial: Value =
        serde_json::from_slice(&export_response(Encoding::Json, 2, "two bad")).unwrap();
    assert_eq!(
        partial,
        serde_json::json!({"partialSuccess": {"rejectedSpans": "2", "errorMessage": "two bad"}})
    );
    let status = RpcStatus::decode(
        &status_body(
            Encoding::Protobuf,
            rpc_code::INVALID_ARGUMENT,
            "bad",
            Value::Null,
        )[..],
    )
    .unwrap();
    assert_eq!((status.code, status.message.as_str()), (3, "bad"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes in any encoding and compression are decoded or refused, never a
    /// panic; whatever decodes maps every span to exactly one of kept, ignored or refused.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        encoding in prop_oneof![Just(Encoding::Protobuf), Just(Encoding::Json)],
        compression in prop_oneof![
            Just(Compression::Identity), Just(Compression::Gzip), Just(Compression::Deflate)
        ],
    ) {
        if let Ok(request) = decode_traces(&bytes, encoding, compression, 1 << 16) {
            let spans: usize = request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            let mapped = map_traces(&request, Routing::default());
            prop_assert_eq!(mapped.spans(), spans as u64);
            prop_assert_eq!(records(&mapped).len(), mapped.kept.len());
        }
    }

    /// Damaged copies of a real request (a byte changed, the end cut) never panic.
    #[test]
    fn damaged_requests_never_panic(at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut body = agent_trace().encode_to_vec();
        let i = at.index(body.len());
        body[i] = byte;
        body.truncate(cut.index(body.len() + 1));
        if let Ok(request) = decode_traces(&body, Encoding::Protobuf, Compression::Identity, 1 << 16) {
            let mapped = map_traces(&request, Routing::default());
            prop_assert_eq!(records(&mapped).len(), mapped.kept.len());
        }
    }
}

fn server(id: u8, name: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        kind: span::SpanKind::Server as i32,
        ..span(id, None, name, attributes)
    }
}

#[test]
fn http_server_spans_become_requests_under_either_generation_of_names() {
    let current = server(
        1,
        "GET /users/<id>",
        vec![
            text("http.request.method", "GET"),
            text("http.route", "/users/<id>"),
            text("url.path", "/users/42"),
            int("http.response.status_code", 404),
            text("enduser.id", "u-7"),
            text("session.id", "s-3"),
        ],
    );
    let older = server(
        2,
        "POST /orders/{order_id}",
        vec![
            text("http.method", "post"),
            text("http.route", "/orders/{order_id}"),
            text("http.target", "/orders/9f1c?x=1"),
            // Sent as a string by some SDKs.
            text("http.status_code", "201"),
            text("user.id", "u-8"),
        ],
    );
    let mapped = map_traces(
        &request(vec![text("service.name", "shop")], vec![current, older]),
        Routing::default(),
    );
    assert_eq!((mapped.kept.len(), mapped.ignored), (2, 0));
    let records = records(&mapped);
    let trace = "ab".repeat(16);
    let first = &records[0];
    assert_eq!(first["kind"], "request");
    assert_eq!(first["id"], format!("{trace}-{}-request", "01".repeat(8)));
    assert_eq!(first["project"], "shop");
    assert_eq!(first["endpoint"], "/users/<id>");
    assert_eq!(first["method"], "GET");
    assert_eq!(first["status"], 404);
    assert_eq!(first["latency_ms"], 250.0);
    assert_eq!(first["ts"], START / 1_000_000 + 1);
    assert_eq!(first["user_id"], "u-7");
    assert_eq!(first["session_id"], "s-3");
    assert_eq!(first["attrs"]["otel.trace_id"], trace);
    assert_eq!(first["attrs"]["otel.span_name"], "GET /users/<id>");
    assert_eq!(first["attrs"]["service.name"], "shop");
    assert!(
        !first.to_string().contains("/users/42"),
        "the raw path is never kept: {first}"
    );

    let second = &records[1];
    assert_eq!(second["endpoint"], "/orders/{order_id}");
    assert_eq!(second["method"], "POST");
    assert_eq!(second["status"], 201);
    assert_eq!(second["user_id"], "u-8");
    assert!(second.get("session_id").is_none(), "{second}");
}

#[test]
fn a_request_without_a_route_is_one_endpoint_whatever_its_path() {
    let unmatched = |id: u8, path: &str| {
        server(
            id,
            "GET",
            vec![
                text("http.request.method", "GET"),
                text("url.path", path),
                int("http.response.status_code", 404),
            ],
        )
    };
    let mut odd_method = unmatched(3, "/x");
    odd_method.attributes[0] = text("http.request.method", "PURGE-7f3a");
    let mapped = map_traces(
        &request(
            Vec::new(),
            vec![
                unmatched(1, "/wp-admin/setup.php"),
                unmatched(2, "/users/0b5e2c8e-2f6c-4f43-9a1e-1d2a1b7a9e10"),
                odd_method,
            ],
        ),
        Routing::default(),
    );
    let records = records(&mapped);
    assert_eq!(records.len(), 3);
    for record in &records {
        assert_eq!(record["endpoint"], NO_ROUTE, "{record}");
    }
    assert_eq!(records[2]["method"], "_OTHER", "methods are a closed set");
}

#[test]
fn only_server_spans_with_http_attributes_are_requests() {
    let client = span(
        1,
        None,
        "GET",
        vec![
            text("http.request.method", "GET"),
            int("http.response.status_code", 200),
        ],
    );
    let grpc = server(2, "Greeter/SayHello", vec![text("rpc.system", "grpc")]);
    let mapped = map_traces(&request(Vec::new(), vec![client, grpc]), Routing::default());
    assert_eq!((mapped.kept.len(), mapped.ignored), (0, 2));
}

#[test]
fn bad_request_values_are_passed_on_for_validation_to_refuse_by_name() {
    let mut backwards = server(
        1,
        "GET /a",
        vec![
            text("http.route", "/a"),
            text("http.request.method", "GET"),
            text("http.response.status_code", "teapot"),
        ],
    );
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 2_000_000;
    let no_status = server(2, "GET /b", vec![text("http.route", "/b")]);
    let records = records(&map_traces(
        &request(Vec::new(), vec![backwards, no_status]),
        Routing::default(),
    ));
    assert_eq!(records[0]["status"], "teapot");
    assert_eq!(records[0]["latency_ms"], -2.0);
    assert!(records[1].get("status").is_none(), "{}", records[1]);
    assert!(records[1].get("method").is_none(), "{}", records[1]);
}

#[test]
fn a_genai_server_span_is_both_an_execution_and_a_request() {
    let both = server(
        1,
        "POST /chat",
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.request.model", "gpt-4o-mini"),
            text("http.request.method", "POST"),
            text("http.route", "/chat"),
            int("http.response.status_code", 200),
        ],
    );
    let mapped = map_traces(&request(Vec::new(), vec![both]), Routing::default());
    assert_eq!(mapped.spans(), 1);
    let records = records(&mapped);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["execution", "request"]);
    assert_ne!(records[0]["id"], records[1]["id"], "both are stored");
    assert_eq!(records[1]["endpoint"], "/chat");
}
