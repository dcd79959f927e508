//! The `POST` routes: `events` (a JSON array or JSON Lines body, answered with the same
//! report as `tally ingest --json`), the seed-style `track/{kind}` routes and
//! `session/start`, `session/{id}/end`, all mapped onto the v1 kinds. Bodies may be
//! gzip-compressed (`Content-Encoding: gzip`); the body limit holds after decompression.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use chrono::{SecondsFormat, Utc};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tally_ingest::{IngestOptions, IngestReport, Input, InputFormat};
use tokio::sync::OwnedSemaphorePermit;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::{AppState, Param, Produces, Route};

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::POST,
            path: "/api/analytics/events".into(),
            access: Access::Ingest,
            summary: "Ingest a JSON array or JSON Lines body of v1 records; answers the report of `tally ingest --json`".into(),
            params: &[],
            produces: Produces::Json("IngestReport"),
            body: Some("a JSON array of records, or JSON Lines (one record per line)"),
            handler: post(events),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/track/{kind}".into(),
            access: Access::Ingest,
            summary: "Track one record: `kind` is a v1 kind or a seed name (action, api-request, cognitive-process, system-metrics, error); `ts` defaults to now".into(),
            params: &[Param {
                name: "kind",
                in_path: true,
                description: "a v1 kind (execution, run, job, session, skill, outcome, agent_status, request, action, system, error) or a seed route name",
            }],
            produces: Produces::Json("IngestReport"),
            body: Some("one JSON object: the fields of the kind"),
            handler: post(track),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/session/start".into(),
            access: Access::Ingest,
            summary: "Start a user session: stored as an `action` record `session_start`; answers the session id".into(),
            params: &[],
            produces: Produces::Json("IngestReport"),
            body: Some("a JSON object with user_id and optionally session_id"),
            handler: post(session_start),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/session/{id}/end".into(),
            access: Access::Ingest,
            summary: "End a user session: stored as an `action` record `session_end`".into(),
            params: &[Param {
                name: "id",
                in_path: true,
                description: "the session id",
            }],
            produces: Produces::Json("IngestReport"),
            body: Some("a JSON object with user_id; other fields are kept in attrs"),
            handler: post(session_end),
        },
    ]
}

tokio::task_local! {
    /// The place of the ingest request being served.
    static PLACE: Arc<OwnedSemaphorePermit>;
}

/// Holds one of the `max_concurrent_ingests` places while an ingest request (JSON or
/// OTLP) is read, decoded and stored. A request without a place waits for one before
/// any of its body is read (its bytes stay in the socket), within the request's time
/// budget: the bodies in memory at once are bounded by the places, not by the
/// connections. The blocking work of a request shares its place ([`held_place`]), so a
/// request out of time frees its place only when its write has ended too.
pub async fn ingest_place(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // The semaphore is never closed, so acquiring fails only if it were.
    let Ok(place) = Arc::clone(&state.ingest_places).acquire_owned().await else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        )
        .into_response();
    };
    PLACE.scope(Arc::new(place), next.run(request)).await
}

/// A share of the current ingest request's place, for the blocking work it starts.
pub(super) fn held_place() -> Option<Arc<OwnedSemaphorePermit>> {
    PLACE.try_with(Arc::clone).ok()
}

/// The body length a request declares (`Content-Length`), 0 when it declares none.
pub(super) fn declared_length(headers: &HeaderMap) -> usize {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Reads the body up to `limit` bytes. A larger body is read to its end (up to a cap)
/// and discarded before the 413, so the client gets the answer instead of a reset
/// connection while still sending.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    // The body is read (or drained) before anything is refused, so that every refusal
    // reaches the client on a connection still in order.
    let (data, seen) = read_up_to(body, limit, declared_length(headers)).await?;
    if seen > limit {
        return Err(ApiError::too_large(
            "body_too_large",
            format!("the body is larger than the limit of {limit} bytes; send smaller batches"),
        )
        .with_details(json!({"limit_bytes": limit})));
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if let Some(media) = media.as_deref() {
        let accepted = [
            "application/json",
            "application/x-ndjson",
            "application/jsonl",
            "application/x-jsonlines",
            "text/plain",
            // What `curl -d` sends by default; the body is read as JSON all the same.
            "application/x-www-form-urlencoded",
            "",
        ];
        if !accepted.contains(&media) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "content type {media:?}: send application/json (an array or one object) or application/x-ndjson"
                ),
            ));
        }
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") if !data.starts_with(GZIP_MAGIC) => Ok(data),
        // gzip, or a gzip body sent without saying so (as `tally ingest` reads it).
        None | Some("identity" | "gzip" | "x-gzip") => {
            tokio::task::spawn_blocking(move || gunzip(&data, limit)).await?
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding {other:?}: send the body as gzip or uncompressed"),
        )),
    }
}

/// The first bytes of a gzip stream.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Decompresses a gzip body (one or more members), keeping at most `limit` bytes:
/// the limit holds for the decompressed body, so a small bomb cannot fill memory.
fn gunzip(data: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    use std::io::Read;
    let mut decoder = flate2::read::MultiGzDecoder::new(data)
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1));
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).map_err(|e| {
        ApiError::bad_request(
            "bad_gzip",
            format!("the gzip body cannot be decompressed: {e}"),
        )
    })?;
    if out.len() > limit {
        return Err(ApiError::too_large(
            "body_too_large",
            format!(
                "the decompressed body is larger than the limit of {limit} bytes; send smaller batches"
            ),
        )
        .with_details(json!({"limit_bytes": limit})));
    }
    Ok(Bytes::from(out))
}

/// Reads a body, keeping at most `limit` bytes; past the limit the rest is read and
/// discarded (up to a cap) so the client can finish sending and read the answer.
/// Returns what was kept and how many bytes were seen.
pub async fn read_up_to(
    mut body: Body,
    limit: usize,
    declared: usize,
) -> Result<(Bytes, usize), ApiError> {
    let drain_cap = limit.saturating_mul(4).max(64 * 1024 * 1024);
    // A declared length (within the limit) is reserved at once, so the buffer does not
    // grow by doubling to twice the body.
    let mut data = Vec::with_capacity(declared.min(limit));
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request("unreadable_body", format!("reading the body failed: {e}"))
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(chunk.len());
        if seen <= limit {
            data.extend_from_slice(&chunk);
        } else {
            data = Vec::new();
            if seen > drain_cap {
                break;
            }
        }
    }
    Ok((Bytes::from(data), seen))
}

/// Counts the records of a body without parsing them: non-blank lines of JSON Lines,
/// top-level elements of a JSON array.
fn count_records(body: &[u8], format: InputFormat) -> usize {
    match format {
        InputFormat::JsonArray => {
            let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
            let (mut count, mut element) = (0usize, false);
            for &b in body {
                if in_string {
                    match (escaped, b) {
                        (true, _) => escaped = false,
                        (false, b'\\') => escaped = true,
                        (false, b'"') => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'"' => {
                        in_string = true;
                        if depth == 1 {
                            element = true;
                        }
                    }
                    b'[' | b'{' => {
                        if depth == 1 {
                            element = true;
                        }
                        depth += 1;
                    }
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    b',' if depth == 1 => {
                        count += usize::from(element);
                        element = false;
                    }
                    b if depth == 1 && !b.is_ascii_whitespace() => element = true,
                    _ => {}
                }
            }
            count + usize::from(element)
        }
        _ => body
            .split(|&b| b == b'\n')
            .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
            .count(),
    }
}

/// Ingests a body of records for `principal` on a blocking thread.
async fn ingest_body(
    state: &AppState,
    principal: &Principal,
    name: &str,
    body: Bytes,
    format: InputFormat,
) -> Result<IngestReport, ApiError> {
    let records = count_records(&body, format);
    if records > state.max_batch_records {
        return Err(ApiError::too_large(
            "too_many_records",
            format!(
                "the body holds {records} records, more than the limit of {} per request; split it",
                state.max_batch_records
            ),
        )
        .with_details(json!({"records": records, "limit_records": state.max_batch_records})));
    }
    let options = IngestOptions {
        format: Some(format),
        allowed_projects: principal.allowed_projects(),
        ..IngestOptions::default()
    };
    let input = Input::Bytes {
        name: name.to_owned(),
        data: Arc::from(&body[..]),
    };
    // The input holds its own copy: the body's memory goes back now, not after the write.
    drop(body);
    let analytics = state.analytics.clone();
    let place = held_place();
    // The blocking task runs to its end even if the client goes away: what it commits
    // stays committed. It holds the request's place until then.
    let report = tokio::task::spawn_blocking(move || {
        let _place = place;
        analytics.ingest_from(
            crate::telemetry::IngestSource::Json,
            &input,
            &options,
            &mut (),
        )
    })
    .await??;
    tracing::debug!(
        name,
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected = report.rejected,
        "ingested"
    );
    Ok(report)
}

async fn events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestReport>, ApiError> {
    let body = read_body(&headers, body, state.max_body_bytes).await?;
    let first = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&body)
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    let format = match first {
        None => {
            return Err(ApiError::bad_request(
                "empty_body",
                "the body is empty: send a JSON array of records or JSON Lines",
            ));
        }
        Some(b'[') => InputFormat::JsonArray,
        // JSON Lines; a line that is not JSON is a rejected record, as in `tally ingest`.
        Some(_) => InputFormat::JsonLines,
    };
    Ok(Json(
        ingest_body(&state, &principal, "http", body, format).await?,
    ))
}

/// A seed route name or v1 kind, the v1 kind it maps to, and the seed's field names
/// renamed to v1 ones (when the v1 name is absent).
struct Mapping {
    route: &'static str,
    kind: &'static str,
    renames: &'static [(&'static str, &'static str)],
}

const MAPPINGS: &[Mapping] = &[
    Mapping {
        route: "action",
        kind: "action",
        renames: &[],
    },
    Mapping {
        route: "api-request",
        kind: "request",
        renames: &[
            ("status_code", "status"),
            ("response_time", "latency_ms"),
            ("response_time_ms", "latency_ms"),
        ],
    },
    Mapping {
        route: "cognitive-process",
        kind: "execution",
        renames: &[
            ("membrane_type", "tool"),
            ("processing_time", "duration_ms"),
            ("processing_time_ms", "duration_ms"),
        ],
    },
    Mapping {
        route: "system-metrics",
        kind: "system",
        renames: &[
            ("hostname", "host"),
            ("cpu_usage", "cpu_pct"),
            ("memory_usage", "mem_pct"),
            ("disk_usage", "disk_pct"),
        ],
    },
    Mapping {
        route: "error",
        kind: "error",
        renames: &[("error_type", "source"), ("error_message", "message")],
    },
];

/// The v1 kind and renames of a `track/{kind}` route.
fn mapping(route: &str) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
    if let Some(m) = MAPPINGS.iter().find(|m| m.route == route) {
        return Some((m.kind, m.renames));
    }
    let kind = tally_models::Kind::from_word(&route.replace('-', "_"))?;
    Some((kind.as_str(), &[]))
}

/// Reads a body that must be one JSON object.
fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "not_an_object",
            "the body must be one JSON object",
        )),
        Err(e) if body.iter().all(u8::is_ascii_whitespace) => Err(ApiError::bad_request(
            "empty_body",
            format!("the body is empty: send one JSON object ({e})"),
        )),
        Err(e) => Err(ApiError::bad_request(
            "invalid_json",
            format!("the body is not JSON: {e}"),
        )),
    }
}

/// Completes a tracked record: its kind, `ts` (now when absent), seed names renamed,
/// and `details` (the seed's free-form object) moved to `attrs`.
fn complete(
    mut record: Map<String, Value>,
    kind: &str,
    renames: &[(&str, &str)],
) -> Map<String, Value> {
    record.insert("kind".into(), Value::String(kind.into()));
    record
        .entry("ts")
        .or_insert_with(|| Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)));
    for (from, to) in renames {
        if !record.contains_key(*to) {
            if let Some(value) = record.remove(*from) {
                record.insert((*to).into(), value);
            }
        }
    }
    if !record.contains_key("attrs") {
        if let Some(details @ Value::Object(_)) = record.remove("details") {
            record.insert("attrs".into(), details);
        }
    }
    record
}

/// Stores one tracked record; a rejected one is answered 422 (and kept in quarantine).
async fn track_one(
    state: &AppState,
    principal: &Principal,
    name: &str,
    record: Map<String, Value>,
) -> Result<IngestReport, ApiError> {
    let line = serde_json::to_vec(&Value::Object(record))?;
    let report = ingest_body(
        state,
        principal,
        name,
        Bytes::from(line),
        InputFormat::JsonLines,
    )
    .await?;
    if report.rejected > 0 {
        let message = report
            .errors
            .first()
            .map(|e| {
                if e.field.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field, e.message)
                }
            })
            .unwrap_or_else(|| "the record was rejected".into());
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_record", message)
                .with_details(serde_json::to_value(&report)?),
        );
    }
    Ok(report)
}

async fn track(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(route): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestReport>, ApiError> {
    let body = read_body(&headers, body, state.max_body_bytes).await?;
    let Some((kind, renames)) = mapping(&route) else {
        let mut known: Vec<&str> = MAPPINGS.iter().map(|m| m.route).collect();
        known.extend(tally_models::Kind::ALL.iter().map(|k| k.as_str()));
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_kind",
            format!(
                "track/{route}: unknown kind; expected one of {}",
                known.join(", ")
            ),
        ));
    };
    let record = complete(object(&body)?, kind, renames);
    let name = format!("http:track/{route}");
    Ok(Json(track_one(&state, &principal, &name, record).await?))
}

fn session_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON object body, or an empty object when the body is empty.
async fn optional_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let body = read_body(headers, body, limit).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Map::new())
    } else {
        object(&body)
    }
}

async fn session_start(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let mut record = optional_object(&headers, body, state.max_body_bytes).await?;
    let id = match record.get("session_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => session_id(),
    };
    record.insert("session_id".into(), Value::String(id.clone()));
    record.insert("action".into(), Value::String("session_start".into()));
    let record = complete(record, "action", &[]);
    let report = track_one(&state, &principal, "http:session/start", record).await?;
    let mut answer = serde_json::to_value(&report)?;
    answer["session_id"] = Value::String(id);
    Ok(Json(answer))
}

async fn session_end(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let mut record = optional_object(&headers, body, state.max_body_bytes).await?;
    // The path names the session: a body naming another is refused, not overridden.
    if let Some(given) = record.get("session_id").filter(|v| v.as_str() != Some(&id)) {
        return Err(ApiError::bad_request(
            "conflicting_session_id",
            format!("session_id: the body names session {given}, the path {id:?}; leave it out or make them equal"),
        )
        .with_details(json!({"field": "session_id"})));
    }
    record.insert("session_id".into(), Value::String(id.clone()));
    record.insert("action".into(), Value::String("session_end".into()));
    let record = complete(record, "action", &[]);
    let report = track_one(&state, &principal, "http:session/end", record).await?;
    let mut answer = serde_json::to_value(&report)?;
    answer["session_id"] = Value::String(id);
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, format: InputFormat, expected: usize) {
        assert_eq!(count_records(body.as_bytes(), format), expected, "{body}");
    }

    #[test]
    fn records_are_counted_without_parsing() {
        let array = InputFormat::JsonArray;
        let lines = InputFormat::JsonLines;
        check("[]", array, 0);
        check("  [ ]  ", array, 0);
        check(r#"[{"a":1}]"#, array, 1);
        check(r#"[{"a":[1,2,{"b":","}]}, {"c":"]"} ,{}]"#, array, 3);
        check(r#"[{"a":"\"],"}, 3, "x"]"#, array, 3);
        check("{}\n\n{}\r\n  \n{}", lines, 3);
        check("", lines, 0);
    }

    #[test]
    fn seed_routes_map_onto_v1_kinds() {
        let record = |text: &str| object(text.as_bytes()).unwrap();
        let (kind, renames) = mapping("cognitive-process").unwrap();
        let done = complete(
            record(
                r#"{"membrane_type":"reasoning","processing_time":45.2,"success":true,"details":{"x":1}}"#,
            ),
            kind,
            renames,
        );
        assert_eq!(done["kind"], "execution");
        assert_eq!(done["tool"], "reasoning");
        assert_eq!(done["duration_ms"], 45.2);
        assert_eq!(done["attrs"], json!({"x": 1}));
        assert!(done["ts"].is_string());
        assert_eq!(mapping("agent-status").unwrap().0, "agent_status");
        assert_eq!(mapping("api-request").unwrap().0, "request");
        assert!(mapping("bogus").is_none());
    }
}
