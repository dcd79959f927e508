//! HTTP server spans onto `request` records: a span of kind `SERVER` with HTTP
//! attributes (the current semantic conventions or their older names) is one request
//! the application served, whatever framework's instrumentation made it (the table of
//! `docs/otlp.md`, "Mapping onto `request`").

use std::borrow::Cow;

use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde::Serialize;
use serde_json::Value;

use super::mapping::{AttrMap, Attributes, MAX_TEXT, SESSION, USER, clip, id_hex};

/// The endpoint of a request whose span names no route. Raw paths are never used:
/// they carry ids and whatever a scanner probes, which would make one endpoint per
/// request.
pub const NO_ROUTE: &str = "(no route)";

/// The method, current name first.
const METHOD: &[&str] = &["http.request.method", "http.method"];
/// The status code, current name first.
const STATUS: &[&str] = &["http.response.status_code", "http.status_code"];

/// The methods kept as sent; any other is `_OTHER`, as the conventions say, so a client
/// cannot make one method per request.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Whether a span is a request an HTTP server served: kind `SERVER` with a route or a
/// method, under either generation of names.
pub fn is_http_server(span: &Span, attributes: Attributes<'_>) -> bool {
    span.kind == SpanKind::Server as i32
        && (attributes.get("http.route").is_some()
            || METHOD.iter().any(|key| attributes.get(key).is_some()))
}

/// What an HTTP server span is mapped with, beside the span itself.
pub struct ServerSpan<'a> {
    pub span: &'a Span,
    pub attributes: Attributes<'a>,
    pub project: &'a str,
    pub service: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub trace_id: &'a str,
    pub span_id: &'a str,
}

impl ServerSpan<'_> {
    /// The `request` record. A value that breaks a rule (a status that is not a number
    /// in 100..599, an end before the start, no method or status at all) is written as
    /// sent, so that validation refuses the record naming that field.
    pub fn record(&self) -> RequestRecord<'_> {
        let a = self.attributes;
        let span = self.span;
        let endpoint = a.text("http.route").map_or_else(
            || NO_ROUTE.to_owned(),
            |route| clip(route.trim(), MAX_TEXT).into_owned(),
        );
        let method = a.first_text(METHOD).map(|method| {
            let upper = method.trim().to_ascii_uppercase();
            if KNOWN_METHODS.contains(&upper.as_str()) {
                upper
            } else {
                "_OTHER".to_owned()
            }
        });
        let latency_ms = (i128::from(span.end_time_unix_nano)
            - i128::from(span.start_time_unix_nano)) as f64
            / 1e6;
        let mut attrs = Vec::with_capacity(6);
        attrs.push(("otel.trace_id", Cow::Borrowed(self.trace_id)));
        attrs.push(("otel.span_id", Cow::Borrowed(self.span_id)));
        if let Some(parent) = id_hex(&span.parent_span_id, 8) {
            attrs.push(("otel.parent_span_id", Cow::Owned(parent)));
        }
        attrs.push(("otel.span_name", clip(&span.name, MAX_TEXT)));
        if let Some(scope) = self.scope.filter(|s| !s.is_empty()) {
            attrs.push(("otel.scope.name", Cow::Borrowed(scope)));
        }
        if let Some(service) = self.service {
            attrs.push(("service.name", Cow::Borrowed(service)));
        }
        RequestRecord {
            kind: "request",
            id: format!("{}-{}-request", self.trace_id, self.span_id),
            project: self.project,
            ts: span.start_time_unix_nano / 1_000_000,
            endpoint,
            method,
            status: a.first_number(STATUS),
            latency_ms,
            user_id: a.first_text(USER).map(|s| clip(&s, MAX_TEXT).into_owned()),
            session_id: a
                .first_text(SESSION)
                .map(|s| clip(&s, MAX_TEXT).into_owned()),
            attrs: AttrMap(attrs),
        }
    }
}

/// A `request` record in the wire format (`docs/events.md`).
#[derive(Serialize)]
pub struct RequestRecord<'a> {
    kind: &'static str,
    id: String,
    project: &'a str,
    /// Epoch milliseconds of the span's start.
    ts: u64,
    endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Value>,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    attrs: AttrMap<'a>,
}
