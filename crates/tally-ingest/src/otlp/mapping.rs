//! Spans onto records: GenAI spans become `execution` records (which spans are kept,
//! and the field each execution field is read from: the table of `docs/otlp.md`), HTTP
//! server spans `request` records (`http_server.rs`). The records are written as JSON
//! Lines so that they go through the same validation, idempotency ledger,
//! quarantine and rollups as every other record.

use std::borrow::Cow;
use std::collections::HashMap;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Number, Value};

use super::http_server::{ServerSpan, is_http_server};

/// Where the spans of a request go, from what the transport knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Routing<'a> {
    /// The one project the caller's key is limited to.
    pub key_project: Option<&'a str>,
    /// The `x-tally-project` request header.
    pub header_project: Option<&'a str>,
}

/// What a span is, for tally: decides whether its usage counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanCategory {
    /// A model call: its usage and cost count.
    Llm,
    Embedding,
    Tool,
    Agent,
    /// A workflow, chain or task around other spans (their usage is not counted again).
    Chain,
}

impl SpanCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanCategory::Llm => "llm",
            SpanCategory::Embedding => "embedding",
            SpanCategory::Tool => "tool",
            SpanCategory::Agent => "agent",
            SpanCategory::Chain => "chain",
        }
    }

    fn counts_usage(self) -> bool {
        matches!(self, SpanCategory::Llm | SpanCategory::Embedding)
    }
}

/// A kept span, to name it in error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRef {
    pub trace_id: String,
    pub span_id: String,
    pub name: String,
}

/// A request's spans as records.
#[derive(Debug, Default)]
pub struct Mapped {
    /// The records of the kept spans, as JSON Lines: line `n` came from `kept[n - 1]`
    /// (an HTTP server span that is also a GenAI operation makes two lines).
    pub records: Vec<u8>,
    pub kept: Vec<SpanRef>,
    /// Spans with no GenAI or HTTP server meaning (HTTP clients, database...): counted,
    /// not stored, not refused.
    pub ignored: u64,
    /// Spans refused before they could become records (a malformed trace or span id),
    /// with the reason.
    pub refused: Vec<String>,
    /// Spans that made two records: a GenAI operation that was also a request served.
    pub two_records: u64,
}

impl Mapped {
    /// Every span of the request.
    pub fn spans(&self) -> u64 {
        self.kept.len() as u64 + self.ignored + self.refused.len() as u64 - self.two_records
    }
}

/// The longest text tally keeps in a string field (`docs/events.md`); longer names and
/// messages are cut rather than refused, since the sender cannot shorten them.
pub(super) const MAX_TEXT: usize = 1024;

/// Maps every span of `request`.
pub fn map_traces(request: &ExportTraceServiceRequest, routing: Routing<'_>) -> Mapped {
    let ancestry = Ancestry::of(request);
    let mut mapped = Mapped::default();
    let mut line = Vec::with_capacity(1024);
    for resource_spans in &request.resource_spans {
        let resource = Attributes(
            resource_spans
                .resource
                .as_ref()
                .map_or(&[][..], |r| &r.attributes[..]),
        );
        let project = project(routing, resource);
        let service = resource.text("service.name");
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans.scope.as_ref().map(|s| s.name.as_str());
            for span in &scope_spans.spans {
                let attributes = Attributes(&span.attributes);
                let category = classify(attributes);
                let served = is_http_server(span, attributes);
                if category.is_none() && !served {
                    mapped.ignored += 1;
                    continue;
                }
                let (Some(trace_id), Some(span_id)) =
                    (id_hex(&span.trace_id, 16), id_hex(&span.span_id, 8))
                else {
                    mapped.refused.push(format!(
                        "span {:?}: trace_id must be 16 bytes and span_id 8, not all zero (got {} and {} bytes)",
                        clip(&span.name, 128),
                        span.trace_id.len(),
                        span.span_id.len()
                    ));
                    continue;
                };
                if let Some(category) = category {
                    let context = SpanContext {
                        span,
                        attributes,
                        category,
                        project: &project,
                        service: service.as_deref(),
                        scope,
                        trace_id: &trace_id,
                        span_id: &span_id,
                        agent: ancestry.agent_of(span),
                    };
                    mapped.push(&mut line, &context.record(), span, &trace_id, &span_id);
                }
                // A server span that is also a GenAI operation is both: the execution
                // above, and the request it served.
                if served {
                    if category.is_some() {
                        mapped.two_records += 1;
                    }
                    let server = ServerSpan {
                        span,
                        attributes,
                        project: &project,
                        service: service.as_deref(),
                        scope,
                        trace_id: &trace_id,
                        span_id: &span_id,
                    };
                    mapped.push(&mut line, &server.record(), span, &trace_id, &span_id);
                }
            }
        }
    }
    mapped
}

impl Mapped {
    /// Appends one record as a JSON line, with the span it came from.
    fn push(
        &mut self,
        line: &mut Vec<u8>,
        record: &impl Serialize,
        span: &Span,
        trace_id: &str,
        span_id: &str,
    ) {
        line.clear();
        // Serializing strings, finite numbers and maps cannot fail.
        if serde_json::to_writer(&mut *line, record).is_ok() {
            self.records.extend_from_slice(line);
            self.records.push(b'\n');
            self.kept.push(SpanRef {
                trace_id: trace_id.to_owned(),
                span_id: span_id.to_owned(),
                name: clip(&span.name, 128).into_owned(),
            });
        }
    }
}

/// The project of a resource's spans: the key's one project, the request header,
/// `tally.project`, `openinference.project.name`, `service.name` (unless the SDK's
/// `unknown_service` placeholder), else `default`.
fn project(routing: Routing<'_>, resource: Attributes<'_>) -> String {
    if let Some(project) = routing.key_project.or(routing.header_project) {
        return project.to_owned();
    }
    resource
        .text("tally.project")
        .or_else(|| resource.text("openinference.project.name"))
        .or_else(|| {
            resource
                .text("service.name")
                .filter(|name| !name.starts_with("unknown_service"))
        })
        .map_or_else(|| "default".to_owned(), Cow::into_owned)
}

/// The lower-case hex of a trace or span id of `len` bytes, `None` when malformed.
pub(super) fn id_hex(id: &[u8], len: usize) -> Option<String> {
    if id.len() != len || id.iter().all(|&b| b == 0) {
        return None;
    }
    let mut hex = String::with_capacity(len * 2);
    for byte in id {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Some(hex)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether a span is kept, and as what: GenAI operations, OpenInference and OpenLLMetry
/// span kinds, the Vercel AI SDK's operations, or model and usage attributes.
fn classify(a: Attributes<'_>) -> Option<SpanCategory> {
    use SpanCategory::{Agent, Chain, Embedding, Llm, Tool};
    if let Some(operation) = a.text("gen_ai.operation.name") {
        return Some(match operation.as_ref() {
            "chat" | "text_completion" | "generate_content" | "completion" => Llm,
            "embeddings" | "embedding" => Embedding,
            "execute_tool" => Tool,
            "invoke_agent" | "create_agent" => Agent,
            _ if has_model_or_usage(a) => Llm,
            _ => Chain,
        });
    }
    if let Some(kind) = a.text("openinference.span.kind") {
        match kind.to_ascii_uppercase().as_str() {
            "LLM" => return Some(Llm),
            "EMBEDDING" => return Some(Embedding),
            "TOOL" => return Some(Tool),
            "AGENT" => return Some(Agent),
            "CHAIN" => return Some(Chain),
            _ => {}
        }
    }
    if let Some(kind) = a.text("traceloop.span.kind") {
        return Some(match kind.as_ref() {
            "tool" => Tool,
            "agent" => Agent,
            _ => Chain,
        });
    }
    if a.text("llm.request.type").is_some() {
        return Some(Llm);
    }
    if let Some(operation) = a.text("ai.operationId") {
        if operation.ends_with(".doEmbed") {
            return Some(Embedding);
        }
        if operation.ends_with(".doGenerate") || operation.ends_with(".doStream") {
            return Some(Llm);
        }
        if operation == "ai.toolCall" {
            return Some(Tool);
        }
        return Some(Chain);
    }
    has_model_or_usage(a).then_some(Llm)
}

fn has_model_or_usage(a: Attributes<'_>) -> bool {
    MODEL.iter().any(|key| a.get(key).is_some())
        || a.0.iter().any(|kv| {
            ["gen_ai.usage.", "llm.token_count.", "ai.usage."]
                .iter()
                .any(|prefix| kv.key.starts_with(prefix))
        })
}

/// The model, first found: response model, request model, OpenInference, Vercel.
const MODEL: &[&str] = &[
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.model_name",
    "ai.response.model",
    "ai.model.id",
];
/// The tool's name, first found; then the operation and the span's name.
const TOOL: &[&str] = &[
    "gen_ai.tool.name",
    "tool.name",
    "ai.toolCall.name",
    "traceloop.entity.name",
    "gen_ai.operation.name",
    "ai.operationId",
];
const AGENT: &[&str] = &["gen_ai.agent.id", "gen_ai.agent.name"];
pub(super) const SESSION: &[&str] = &[
    "gen_ai.conversation.id",
    "session.id",
    "langfuse.session.id",
];
pub(super) const USER: &[&str] = &["user.id", "langfuse.user.id", "enduser.id"];
const PROVIDER: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
    "ai.model.provider",
];
const INPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "ai.usage.inputTokens",
    "ai.usage.promptTokens",
];
const OUTPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "ai.usage.outputTokens",
    "ai.usage.completionTokens",
];
const CACHE_READ_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "ai.usage.cachedInputTokens",
];
const CACHE_WRITE_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
];
const REASONING_TOKENS: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.completion_details.reasoning",
    "ai.usage.reasoningTokens",
];
const COST: &[&str] = &["gen_ai.usage.cost", "llm.cost.total"];

/// A list of OTLP attributes, looked up by key.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attributes<'a>(pub(super) &'a [KeyValue]);

impl<'a> Attributes<'a> {
    pub(super) fn get(self, key: &str) -> Option<&'a AnyValue> {
        self.0
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    /// A string (or a number, written as text) that is not empty.
    pub(super) fn text(self, key: &str) -> Option<Cow<'a, str>> {
        match self.get(key)? {
            AnyValue::StringValue(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s)),
            AnyValue::IntValue(i) => Some(Cow::Owned(i.to_string())),
            AnyValue::DoubleValue(d) if d.is_finite() => Some(Cow::Owned(d.to_string())),
            _ => None,
        }
    }

    /// The first of `keys` that has a text.
    pub(super) fn first_text(self, keys: &[&str]) -> Option<Cow<'a, str>> {
        keys.iter().find_map(|key| self.text(key))
    }

    /// The first of `keys` that is set, as a JSON number when it is one (or a string
    /// holding one); otherwise as it is, so that validation refuses it by name.
    pub(super) fn first_number(self, keys: &[&str]) -> Option<Value> {
        keys.iter().find_map(|key| {
            Some(match self.get(key)? {
                AnyValue::IntValue(i) => Value::Number((*i).into()),
                AnyValue::DoubleValue(d) => {
                    Number::from_f64(*d).map_or_else(|| Value::String(d.to_string()), Value::Number)
                }
                AnyValue::StringValue(s) => {
                    let s = s.trim();
                    if let Ok(i) = s.parse::<i64>() {
                        Value::Number(i.into())
                    } else if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
                        Value::Number(n)
                    } else {
                        Value::String(clip(s, MAX_TEXT).into_owned())
                    }
                }
                AnyValue::BoolValue(b) => Value::Bool(*b),
                _ => Value::String("a list, map or bytes".into()),
            })
        })
    }
}

/// Cuts a text to `max` characters.
pub(super) fn clip(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((end, _)) => Cow::Owned(text[..end].to_owned()),
        None => Cow::Borrowed(text),
    }
}

/// Each span's parent and, for agent spans, the agent, so that a span without agent
/// attributes is credited to its nearest agent ancestor in the same request.
struct Ancestry<'a> {
    spans: HashMap<SpanKey<'a>, (&'a [u8], Option<Cow<'a, str>>)>,
}

/// A span by trace id and span id.
type SpanKey<'a> = (&'a [u8], &'a [u8]);

impl<'a> Ancestry<'a> {
    fn of(request: &'a ExportTraceServiceRequest) -> Self {
        let mut spans = HashMap::new();
        for span in request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            let attributes = Attributes(&span.attributes);
            let agent = (classify(attributes) == Some(SpanCategory::Agent))
                .then(|| agent_name(span, attributes));
            spans.insert(
                (&span.trace_id[..], &span.span_id[..]),
                (&span.parent_span_id[..], agent),
            );
        }
        Ancestry { spans }
    }

    /// The agent of the nearest agent ancestor of `span` (itself excluded).
    fn agent_of(&self, span: &Span) -> Option<Cow<'a, str>> {
        let mut parent = &span.parent_span_id[..];
        // At most as many steps as spans, so a cycle in bad data ends.
        for _ in 0..self.spans.len() {
            let (grandparent, agent) = self.spans.get(&(&span.trace_id[..], parent))?;
            if let Some(agent) = agent {
                return Some(agent.clone());
            }
            parent = grandparent;
        }
        None
    }
}

/// An agent span's agent: its id or name, else the span's name without the
/// `invoke_agent ` prefix the conventions put there.
fn agent_name<'a>(span: &'a Span, attributes: Attributes<'a>) -> Cow<'a, str> {
    attributes.first_text(AGENT).unwrap_or_else(|| {
        Cow::Borrowed(
            span.name
                .strip_prefix("invoke_agent ")
                .unwrap_or(&span.name)
                .trim(),
        )
    })
}

/// One span with what surrounds it.
struct SpanContext<'a> {
    span: &'a Span,
    attributes: Attributes<'a>,
    category: SpanCategory,
    project: &'a str,
    service: Option<&'a str>,
    scope: Option<&'a str>,
    trace_id: &'a str,
    span_id: &'a str,
    agent: Option<Cow<'a, str>>,
}

impl<'a> SpanContext<'a> {
    fn record(&self) -> Record<'_> {
        let a = self.attributes;
        let span = self.span;
        let usage = |keys: &[&str]| {
            if self.category.counts_usage() {
                a.first_number(keys)
            } else {
                None
            }
        };
        let error_type = a.text("error.type");
        let failed = span
            .status
            .as_ref()
            .is_some_and(|s| s.code == StatusCode::Error as i32)
            || error_type.is_some();
        let error = error_type
            .or_else(|| self.exception())
            .or_else(|| {
                span.status
                    .as_ref()
                    .filter(|s| s.code == StatusCode::Error as i32 && !s.message.is_empty())
                    .map(|s| Cow::Borrowed(s.message.as_str()))
            })
            .map(|e| clip(&e, MAX_TEXT).into_owned());
        let agent = match self.category {
            SpanCategory::Agent => Some(agent_name(span, a)),
            _ => a.first_text(AGENT).or_else(|| self.agent.clone()),
        };
        let tool = a
            .first_text(TOOL)
            .unwrap_or(Cow::Borrowed(span.name.as_str()));
        // Nanoseconds to milliseconds; an end before the start gives a negative
        // duration, which validation refuses and quarantines.
        let duration_ms = (i128::from(span.end_time_unix_nano)
            - i128::from(span.start_time_unix_nano)) as f64
            / 1e6;
        let mut attrs = Vec::with_capacity(8);
        attrs.push(("otel.span_id", Cow::Borrowed(self.span_id)));
        if let Some(parent) = id_hex(&span.parent_span_id, 8) {
            attrs.push(("otel.parent_span_id", Cow::Owned(parent)));
        }
        attrs.push(("otel.span_name", clip(&span.name, MAX_TEXT)));
        attrs.push(("tally.span_kind", Cow::Borrowed(self.category.as_str())));
        if let Some(operation) = a.text("gen_ai.operation.name") {
            attrs.push(("gen_ai.operation.name", operation));
        }
        if let Some(provider) = a.first_text(PROVIDER) {
            attrs.push(("gen_ai.provider.name", provider));
        }
        if let Some(scope) = self.scope.filter(|s| !s.is_empty()) {
            attrs.push(("otel.scope.name", Cow::Borrowed(scope)));
        }
        if let Some(service) = self.service {
            attrs.push(("service.name", Cow::Borrowed(service)));
        }
        Record {
            kind: "execution",
            id: format!("{}-{}", self.trace_id, self.span_id),
            project: self.project,
            ts: span.start_time_unix_nano / 1_000_000,
            tool: clip(&tool, MAX_TEXT).into_owned(),
            duration_ms,
            success: !failed,
            agent_id: agent.map(|agent| clip(&agent, MAX_TEXT).into_owned()),
            task_id: self.trace_id,
            session_id: a
                .first_text(SESSION)
                .map(|s| clip(&s, MAX_TEXT).into_owned()),
            user_id: a.first_text(USER).map(|s| clip(&s, MAX_TEXT).into_owned()),
            // An agent or chain span may name the model its children call: only a
            // model call is counted as a use of the model.
            model: a
                .first_text(MODEL)
                .filter(|_| self.category.counts_usage())
                .map(|s| clip(&s, MAX_TEXT).into_owned()),
            input_tokens: usage(INPUT_TOKENS),
            output_tokens: usage(OUTPUT_TOKENS),
            cache_read_tokens: usage(CACHE_READ_TOKENS),
            cache_write_tokens: usage(CACHE_WRITE_TOKENS),
            reasoning_tokens: usage(REASONING_TOKENS),
            cost_usd: usage(COST),
            error,
            attrs: AttrMap(attrs),
        }
    }

    /// The type (else the message) of the span's first `exception` event.
    fn exception(&self) -> Option<Cow<'a, str>> {
        let event = self.span.events.iter().find(|e| e.name == "exception")?;
        let attributes = Attributes(&event.attributes);
        attributes
            .text("exception.type")
            .or_else(|| attributes.text("exception.message"))
    }
}

/// An `execution` record in the wire format (`docs/events.md`).
#[derive(Serialize)]
struct Record<'a> {
    kind: &'static str,
    id: String,
    project: &'a str,
    /// Epoch milliseconds of the span's start.
    ts: u64,
    tool: String,
    duration_ms: f64,
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    task_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_tokens: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_tokens: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_read_tokens: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_write_tokens: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_tokens: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    attrs: AttrMap<'a>,
}

/// `attrs` as an object, in insertion order.
pub(super) struct AttrMap<'a>(pub(super) Vec<(&'static str, Cow<'a, str>)>);

impl Serialize for AttrMap<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}
