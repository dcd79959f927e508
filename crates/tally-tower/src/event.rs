//! One recorded request, written as a `request` record of tally's wire format
//! (`docs/events.md`).

use std::sync::Arc;

use serde::Serialize;

/// A request as the layer saw it; its id is given when it is sent.
#[derive(Debug)]
pub(crate) struct RequestEvent {
    /// Epoch milliseconds of the request's arrival.
    pub(crate) ts: u64,
    pub(crate) endpoint: Arc<str>,
    pub(crate) method: &'static str,
    pub(crate) status: u16,
    pub(crate) latency_ms: f64,
    pub(crate) user_id: Option<String>,
    pub(crate) session_id: Option<String>,
    /// Unique within the recorder: with its prefix, the record's id, so that a batch
    /// sent again after a lost answer is stored once.
    pub(crate) sequence: u64,
}

/// The wire record of an event.
#[derive(Serialize)]
pub(crate) struct Record<'a> {
    kind: &'static str,
    id: String,
    project: &'a str,
    ts: u64,
    endpoint: &'a str,
    method: &'static str,
    status: u16,
    latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
}

impl RequestEvent {
    pub(crate) fn record<'a>(&'a self, project: &'a str, id_prefix: &str) -> Record<'a> {
        Record {
            kind: "request",
            id: format!("{id_prefix}-{}", self.sequence),
            project,
            ts: self.ts,
            endpoint: &self.endpoint,
            method: self.method,
            status: self.status,
            latency_ms: self.latency_ms,
            user_id: self.user_id.as_deref(),
            session_id: self.session_id.as_deref(),
        }
    }
}

/// The methods recorded as sent; any other is `_OTHER`, so that clients cannot make one
/// method per request.
pub(crate) fn method_name(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::HEAD => "HEAD",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::CONNECT => "CONNECT",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::TRACE => "TRACE",
        http::Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}
