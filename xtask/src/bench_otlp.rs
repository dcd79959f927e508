//! `cargo xtask bench otlp`: spans per second through `POST /v1/traces` (binary
//! protobuf, 512 spans per request, gzip) against tally's own JSON Lines path
//! (`POST /api/analytics/events`) for the same executions, in the same run, each on a
//! fresh database behind the release `tally serve`, one client sending back to back.
//!
//! The JSON Lines bodies are the records the OTLP mapping makes of the same requests,
//! so both paths store identical executions; the ratio is the cost of decompression,
//! protobuf decoding and mapping on top of the ordinary ingest.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use tally_ingest::otlp::{Routing, map_traces};

use crate::bench_http::{Served, agent, start};
use crate::{flag, tally_binary, target_dir};

const SPANS_PER_REQUEST: usize = 512;

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

/// Request `r`: 128 agent traces of four spans (invoke_agent > chat, execute_tool,
/// chat), as an agent SDK exports them, starting a minute ago.
fn request(r: u64, start_ns: u64) -> ExportTraceServiceRequest {
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST);
    for t in 0..(SPANS_PER_REQUEST / 4) as u64 {
        let trace = r * 1_000 + t;
        let trace_id = [trace.to_be_bytes(), 0x7a11_u64.to_be_bytes()].concat();
        let span_id = |s: u64| ((trace << 8) | (s + 1)).to_be_bytes().to_vec();
        let at = start_ns + t * 1_000_000;
        let span = |s: u64, parent: Option<u64>, name: &str, attributes: Vec<KeyValue>| Span {
            trace_id: trace_id.clone(),
            span_id: span_id(s),
            parent_span_id: parent.map(span_id).unwrap_or_default(),
            name: name.into(),
            kind: 3,
            start_time_unix_nano: at + s * 100_000,
            end_time_unix_nano: at + s * 100_000 + 80_000_000,
            attributes,
            status: (s == 2 && t % 10 == 0).then(|| Status {
                code: 2,
                message: "timed out".into(),
            }),
            ..Span::default()
        };
        let chat = |s: u64| {
            span(
                s,
                Some(0),
                "chat gpt-4o-mini",
                vec![
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.provider.name", "openai"),
                    text("gen_ai.request.model", "gpt-4o-mini"),
                    text("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                    int("gen_ai.usage.input_tokens", 1200 + (trace % 97) as i64),
                    int("gen_ai.usage.output_tokens", 300 + (trace % 31) as i64),
                    text("gen_ai.conversation.id", &format!("conv-{}", trace / 8)),
                ],
            )
        };
        spans.push(chat(1));
        spans.push(span(
            2,
            Some(0),
            "execute_tool web_search",
            vec![
                text("gen_ai.operation.name", "execute_tool"),
                text(
                    "gen_ai.tool.name",
                    ["web_search", "read_file", "run_sql"][(trace % 3) as usize],
                ),
            ],
        ));
        spans.push(chat(3));
        spans.push(span(
            0,
            None,
            "invoke_agent triage",
            vec![
                text("gen_ai.operation.name", "invoke_agent"),
                text(
                    "gen_ai.agent.name",
                    ["triage", "researcher"][(trace % 2) as usize],
                ),
            ],
        ));
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "bench-agent")],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "bench".into(),
                    ..InstrumentationScope::default()
                }),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn gzip(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

/// POSTs every body to `url` back to back; the time taken.
fn send(
    served: &Served,
    path: &str,
    headers: &[(&str, &str)],
    bodies: &[Vec<u8>],
    ok: impl Fn(&[u8]) -> bool,
) -> anyhow::Result<Duration> {
    let agent = agent();
    let url = format!("{}{path}", served.base);
    let started = Instant::now();
    for body in bodies {
        let mut request = agent.post(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send(&body[..])?;
        let status = response.status();
        let answer = response.into_body().read_to_vec()?;
        if status != 200 || !ok(&answer) {
            bail!(
                "{url}: status {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
    }
    Ok(started.elapsed())
}

pub fn otlp(args: &[&str]) -> anyhow::Result<()> {
    let requests: u64 = flag(args, "--requests").unwrap_or("200").parse()?;
    let tally = tally_binary()?;
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let start_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)?
        .as_nanos()
        .checked_sub(60_000_000_000)
        .context("clock")?;
    let start_ns = u64::try_from(start_ns)?;
    let mut otlp_bodies = Vec::new();
    let mut jsonl_bodies = Vec::new();
    let (mut protobuf_bytes, mut jsonl_bytes) = (0usize, 0usize);
    for r in 0..requests {
        let request = request(r, start_ns + r * 200_000_000);
        let mapped = map_traces(&request, Routing::default());
        if mapped.kept.len() != SPANS_PER_REQUEST {
            bail!("request {r}: {} spans kept", mapped.kept.len());
        }
        let protobuf = request.encode_to_vec();
        protobuf_bytes += protobuf.len();
        jsonl_bytes += mapped.records.len();
        otlp_bodies.push(gzip(&protobuf)?);
        jsonl_bodies.push(mapped.records);
    }
    let spans = requests * SPANS_PER_REQUEST as u64;
    let gzip_bytes: usize = otlp_bodies.iter().map(Vec::len).sum();

    let otlp_db = dir.join("otlp.db");
    let served = start(&tally, &otlp_db)?;
    let otlp_time = send(
        &served,
        "/v1/traces",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "gzip"),
        ],
        &otlp_bodies,
        <[u8]>::is_empty,
    )?;
    drop(served);
    let jsonl_db = dir.join("jsonl.db");
    let served = start(&tally, &jsonl_db)?;
    let jsonl_time = send(
        &served,
        "/api/analytics/events",
        &[("Content-Type", "application/x-ndjson")],
        &jsonl_bodies,
        |answer| {
            serde_json::from_slice::<serde_json::Value>(answer)
                .is_ok_and(|report| report["rejected"] == 0)
        },
    )?;
    drop(served);
    for db in [&otlp_db, &jsonl_db] {
        let stored = tally_api::Analytics::open(db)?.stats()?.events;
        if stored != spans {
            bail!("{}: stored {stored} events, expected {spans}", db.display());
        }
    }
    let otlp_rate = spans as f64 / otlp_time.as_secs_f64();
    let jsonl_rate = spans as f64 / jsonl_time.as_secs_f64();
    println!(
        "{requests} requests of {SPANS_PER_REQUEST} GenAI spans ({spans} spans; protobuf {:.0} KiB a request, gzip {:.0} KiB; the same executions as JSON Lines {:.0} KiB)",
        protobuf_bytes as f64 / requests as f64 / 1024.0,
        gzip_bytes as f64 / requests as f64 / 1024.0,
        jsonl_bytes as f64 / requests as f64 / 1024.0,
    );
    println!(
        "  POST /v1/traces (protobuf, gzip):        {:.2} s, {otlp_rate:.0} spans/s",
        otlp_time.as_secs_f64()
    );
    println!(
        "  POST /api/analytics/events (JSON Lines): {:.2} s, {jsonl_rate:.0} spans/s",
        jsonl_time.as_secs_f64()
    );
    let ratio = otlp_rate / jsonl_rate;
    println!(
        "  OTLP / JSON Lines: {ratio:.2}x (target at least 0.5x: {})",
        if ratio >= 0.5 { "met" } else { "MISSED" }
    );
    Ok(())
}
