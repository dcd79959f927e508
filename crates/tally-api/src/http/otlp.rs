//! OTLP/HTTP: `POST /v1/traces` (GenAI spans stored as executions, HTTP server spans as
//! requests, through the ingest pipeline), and `/v1/metrics` and `/v1/logs`, answered
//! 200 and not yet analysed, so that SDKs exporting every signal log no errors. Decoding and mapping live in
//! `tally_ingest::otlp`; this module is the transport. See `docs/otlp.md`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tally_ingest::otlp::{self, Compression, DecodeError, Encoding, Mapped, Routing, rpc_code};
use tally_ingest::{IngestOptions, IngestReport, Input, InputFormat};

use super::auth::{Access, Principal};
use super::ingest::{declared_length, held_place, read_up_to};
use super::{AppState, Produces, Route};

pub fn routes() -> Vec<Route> {
    let signal = |path: &str, summary: &str| Route {
        method: Method::POST,
        path: path.into(),
        access: Access::Ingest,
        summary: summary.into(),
        params: &[],
        produces: Produces::Json("object"),
        body: Some("an OTLP export request, binary protobuf or OTLP/JSON"),
        handler: post(not_analysed),
    };
    vec![
        Route {
            method: Method::POST,
            path: "/v1/traces".into(),
            access: Access::Ingest,
            summary: "OTLP/HTTP trace export (protobuf or OTLP/JSON, gzip or deflate): GenAI spans are stored as executions, HTTP server spans as requests, other spans ignored; answers an ExportTraceServiceResponse (docs/otlp.md)".into(),
            params: &[],
            produces: Produces::Json("ExportTraceServiceResponse"),
            body: Some("an OTLP ExportTraceServiceRequest, binary protobuf (application/x-protobuf) or OTLP/JSON (application/json)"),
            handler: post(traces),
        },
        signal(
            "/v1/metrics",
            "OTLP/HTTP metrics export: accepted and answered 200, not analysed yet",
        ),
        signal(
            "/v1/logs",
            "OTLP/HTTP logs export: accepted and answered 200, not analysed yet",
        ),
    ]
}

/// Seconds a sender is asked to wait when the store failed (a lock, a full disk).
const RETRY_AFTER_SECONDS: &str = "2";

/// An answer in the request's encoding.
fn answer(encoding: Encoding, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

/// An error answer: a `google.rpc.Status` (with tally's error object beside it in JSON).
fn failure(
    encoding: Encoding,
    status: StatusCode,
    rpc: i32,
    code: &str,
    message: &str,
    details: serde_json::Value,
) -> Response {
    let error = json!({"code": code, "message": message, "details": details});
    let mut response = answer(
        encoding,
        status,
        otlp::status_body(encoding, rpc, message, error),
    );
    if matches!(
        status,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
    ) {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    response
}

/// The encoding and compression a request declares, or the 415 answer.
fn declared(headers: &HeaderMap) -> Result<(Encoding, Compression), Box<Response>> {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(encoding) = Encoding::from_content_type(value(header::CONTENT_TYPE)) else {
        let message = "send application/x-protobuf or application/json";
        return Err(Box::new(failure(
            Encoding::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            rpc_code::INVALID_ARGUMENT,
            "unsupported_media_type",
            message,
            serde_json::Value::Null,
        )));
    };
    let Some(compression) = Compression::from_content_encoding(value(header::CONTENT_ENCODING))
    else {
        return Err(Box::new(failure(
            encoding,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            rpc_code::INVALID_ARGUMENT,
            "unsupported_encoding",
            "Content-Encoding must be gzip, deflate or identity",
            serde_json::Value::Null,
        )));
    };
    Ok((encoding, compression))
}

/// The answer of a body larger than `limit` bytes.
fn too_large(encoding: Encoding, limit: usize) -> Response {
    failure(
        encoding,
        StatusCode::PAYLOAD_TOO_LARGE,
        rpc_code::RESOURCE_EXHAUSTED,
        "body_too_large",
        &format!(
            "the request is larger than the limit of {limit} bytes (measured decompressed); export smaller batches"
        ),
        json!({"limit_bytes": limit}),
    )
}

/// The project a request header names, if any.
fn header_project(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-tally-project")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

async fn traces(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (encoding, compression) = match declared(&headers) {
        Ok(declared) => declared,
        Err(response) => return *response,
    };
    let limit = state.max_body_bytes;
    let (body, seen) = match read_up_to(body, limit, declared_length(&headers)).await {
        Ok(read) => read,
        Err(error) => {
            return failure(
                encoding,
                StatusCode::BAD_REQUEST,
                rpc_code::INVALID_ARGUMENT,
                error.code,
                &error.message,
                serde_json::Value::Null,
            );
        }
    };
    if seen > limit {
        return too_large(encoding, limit);
    }
    let allowed_projects = principal.allowed_projects();
    let key_project = match allowed_projects.as_deref() {
        Some([only]) => Some(only.clone()),
        _ => None,
    };
    let header_project = header_project(&headers);
    let analytics = state.analytics.clone();
    let max_records = state.max_batch_records;
    // Decoding, mapping and the write run on a blocking thread: a large body takes
    // milliseconds of CPU to decode, which the async threads must not spend.
    let place = held_place();
    let outcome = tokio::task::spawn_blocking(move || -> Result<Outcome, Failure> {
        // The request's place is held until the write ends, even past a timeout.
        let _place = place;
        let request = otlp::decode_traces(&body, encoding, compression, limit)?;
        let mapped = otlp::map_traces(
            &request,
            Routing {
                key_project: key_project.as_deref(),
                header_project: header_project.as_deref(),
            },
        );
        drop(request);
        if mapped.kept.len() > max_records {
            return Ok(Outcome::TooMany(mapped.kept.len()));
        }
        let report = if mapped.kept.is_empty() {
            IngestReport::default()
        } else {
            let options = IngestOptions {
                format: Some(InputFormat::JsonLines),
                allowed_projects,
                ..IngestOptions::default()
            };
            let input = Input::Bytes {
                name: "otlp".to_owned(),
                data: Arc::from(&mapped.records[..]),
            };
            analytics
                .ingest_from(
                    crate::telemetry::IngestSource::Otlp,
                    &input,
                    &options,
                    &mut (),
                )
                .map_err(Failure::Store)?
        };
        Ok(Outcome::Stored { mapped, report })
    })
    .await;
    match outcome {
        Ok(Ok(Outcome::Stored { mapped, report })) => stored(encoding, &mapped, &report),
        Ok(Ok(Outcome::TooMany(spans))) => failure(
            encoding,
            StatusCode::PAYLOAD_TOO_LARGE,
            rpc_code::RESOURCE_EXHAUSTED,
            "too_many_records",
            &format!(
                "the request holds {spans} GenAI and HTTP server spans, more than the limit of {max_records} per request; export smaller batches"
            ),
            json!({"records": spans, "limit_records": max_records}),
        ),
        Ok(Err(Failure::Decode(DecodeError::TooLarge { limit }))) => too_large(encoding, limit),
        Ok(Err(Failure::Decode(DecodeError::Invalid(message)))) => failure(
            encoding,
            StatusCode::BAD_REQUEST,
            rpc_code::INVALID_ARGUMENT,
            "invalid_otlp",
            &message,
            serde_json::Value::Null,
        ),
        // A store failure may pass (a lock held by another process, a full disk):
        // the sender is asked to retry rather than told its data is bad.
        Ok(Err(Failure::Store(error))) => {
            tracing::error!(%error, "storing OTLP spans failed");
            failure(
                encoding,
                StatusCode::SERVICE_UNAVAILABLE,
                rpc_code::UNAVAILABLE,
                "store_unavailable",
                &format!("storing the spans failed; retry later: {error}"),
                serde_json::Value::Null,
            )
        }
        Err(error) => {
            tracing::error!(%error, "the OTLP export task failed");
            failure(
                encoding,
                StatusCode::SERVICE_UNAVAILABLE,
                rpc_code::UNAVAILABLE,
                "store_unavailable",
                "storing the spans failed; retry later",
                serde_json::Value::Null,
            )
        }
    }
}

/// What became of an export.
enum Outcome {
    Stored {
        mapped: Mapped,
        report: IngestReport,
    },
    TooMany(usize),
}

enum Failure {
    Decode(DecodeError),
    Store(crate::Error),
}

impl From<DecodeError> for Failure {
    fn from(error: DecodeError) -> Self {
        Failure::Decode(error)
    }
}

/// Most refusals named one by one in a partial success's message.
const NAMED_REFUSALS: usize = 5;

/// The answer of a stored export: empty when every span was taken (or ignored), else a
/// partial success counting the refused spans and naming the first few.
fn stored(encoding: Encoding, mapped: &Mapped, report: &IngestReport) -> Response {
    let rejected = report.rejected + mapped.refused.len() as u64;
    tracing::debug!(
        spans = mapped.spans(),
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected,
        ignored = mapped.ignored,
        "OTLP traces"
    );
    let mut reasons: Vec<String> = mapped
        .refused
        .iter()
        .take(NAMED_REFUSALS)
        .cloned()
        .collect();
    for error in report
        .errors
        .iter()
        .take(NAMED_REFUSALS - reasons.len().min(NAMED_REFUSALS))
    {
        let span = error
            .line
            .and_then(|line| usize::try_from(line).ok())
            .and_then(|line| mapped.kept.get(line.wrapping_sub(1)));
        let what = match span {
            Some(span) => format!(
                "span {} of trace {} ({:?})",
                span.span_id, span.trace_id, span.name
            ),
            None => "a span".to_owned(),
        };
        reasons.push(if error.field.is_empty() {
            format!("{what}: {}", error.message)
        } else {
            format!("{what}: {}: {}", error.field, error.message)
        });
    }
    let message = if rejected == 0 {
        String::new()
    } else {
        let more = rejected.saturating_sub(reasons.len() as u64);
        let mut message = format!("{rejected} spans rejected: {}", reasons.join("; "));
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        message
    };
    answer(
        encoding,
        StatusCode::OK,
        otlp::export_response(encoding, rejected, &message),
    )
}

/// `/v1/metrics` and `/v1/logs`: the body is read (bounded like any other) and
/// answered with an empty export response, `{}` in JSON.
async fn not_analysed(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let (encoding, _) = match declared(&headers) {
        Ok(declared) => declared,
        Err(response) => return *response,
    };
    let limit = state.max_body_bytes;
    match read_up_to(body, limit, declared_length(&headers)).await {
        Ok((_, seen)) if seen > limit => too_large(encoding, limit),
        _ => answer(
            encoding,
            StatusCode::OK,
            otlp::export_response(encoding, 0, ""),
        ),
    }
}
