//! The `GET` routes: every view of [`View::ALL`] under each of its names, health, and
//! the JSON and CSV exports. Every view takes the filters `project`, `from`, `to`; the
//! comparable ones also `compare` (`crate::compare`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use tally_store::Filter;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::export::CsvExport;
use super::{AppState, Param, Produces, Route};
use crate::{Compare, ExportFormat, FilterNames, Granularity, SectionsFormat, View, parse_filter};

/// The OpenAPI schema name of a view's answer.
fn schema(view: View) -> &'static str {
    match view {
        View::Summary => "AnalyticsSummary",
        View::Projects => "ProjectSummary[]",
        View::Models => "ModelSummary[]",
        View::Tools => "ToolProfile[]",
        View::Agents => "AgentSummary[]",
        View::Timeseries => "TimeSeries",
        View::Qa => "QASummary",
        View::Costs => "Costs",
        View::Budget => "Budget",
        View::Capacity => "Capacity",
        View::Pipeline => "Pipeline",
        View::Risks => "RiskPattern[]",
        View::Recommendations => "Recommendation[]",
        View::Realtime => "Realtime",
        View::Traces => "TraceSummary[]",
        View::Requests => "Requests",
    }
}

/// The views the JSON export gathers, in the seed's order.
const JSON_EXPORT: &[View] = &[
    View::Summary,
    View::Projects,
    View::Models,
    View::Timeseries,
    View::Qa,
    View::Budget,
];

/// A CSV table's columns: (header, record field).
type Columns = &'static [(&'static str, &'static str)];

/// The CSV export's tables after the overall summary: a view, its section title and its
/// columns (header, field).
const CSV_TABLES: &[(View, &str, Columns)] = &[
    (
        View::Projects,
        "PER-PROJECT SUMMARY",
        &[
            ("Project", "project_name"),
            ("Runs", "runs_count"),
            ("Last Run", "last_run_time"),
            ("Total Tokens", "total_tokens"),
            ("Total Cost (USD)", "total_cost"),
            ("Avg Duration (s)", "avg_duration_seconds"),
            ("QA Passed", "qa_passed"),
            ("QA Warning", "qa_warning"),
            ("QA Failed", "qa_failed"),
            ("QA Not Run", "qa_not_run"),
        ],
    ),
    (
        View::Models,
        "PER-MODEL SUMMARY",
        &[
            ("Model", "model_name"),
            ("Total Tokens", "total_tokens"),
            ("Total Cost (USD)", "total_cost"),
            ("Usage Count", "usage_count"),
            ("Cost Share", "cost_share"),
        ],
    ),
];

const PROJECT: Param = Param {
    name: "project",
    in_path: false,
    description: "only this project",
};
const FROM: Param = Param {
    name: "from",
    in_path: false,
    description: "from this instant (RFC 3339) or day (YYYY-MM-DD), inclusive",
};
const TO: Param = Param {
    name: "to",
    in_path: false,
    description: "until this instant (exclusive) or day (YYYY-MM-DD, inclusive)",
};
const GRANULARITY: Param = Param {
    name: "granularity",
    in_path: false,
    description: "day (default) or hour",
};
const FILTER_PARAMS: &[Param] = &[PROJECT, FROM, TO];
const EVENT_EXPORT_PARAMS: &[Param] = &[
    PROJECT,
    FROM,
    TO,
    Param {
        name: "format",
        in_path: false,
        description: "jsonl (default), json, csv (a zip of one CSV file per kind) or xml (schema: /api/analytics/export/schema.xsd)",
    },
];
const SECTIONS_EXPORT_PARAMS: &[Param] = &[
    PROJECT,
    FROM,
    TO,
    Param {
        name: "format",
        in_path: false,
        description: "xlsx (default: a workbook, one sheet per section) or xml (schema: /api/analytics/export/schema.xsd)",
    },
];
const TIMESERIES_PARAMS: &[Param] = &[PROJECT, FROM, TO, GRANULARITY];
const COMPARE: Param = Param {
    name: "compare",
    in_path: false,
    description: "previous, wow or mom: each figure also on the earlier range (the same length before, 7 days or one calendar month earlier), with its change; needs from",
};
const COMPARED_PARAMS: &[Param] = &[PROJECT, FROM, TO, COMPARE];

pub fn routes() -> Vec<Route> {
    let mut routes: Vec<Route> = View::ALL
        .into_iter()
        .flat_map(|view| view.routes().iter().map(move |name| (view, *name)))
        .map(|(view, name)| Route {
            method: Method::GET,
            path: format!("/api/analytics/{name}"),
            access: Access::Read,
            summary: view.description().into(),
            params: if view == View::Timeseries {
                TIMESERIES_PARAMS
            } else if crate::compare::comparable(view) {
                COMPARED_PARAMS
            } else {
                FILTER_PARAMS
            },
            produces: Produces::Json(schema(view)),
            body: None,
            handler: get(
                move |state: State<AppState>,
                      principal: Extension<Principal>,
                      query: QueryPairs| {
                    serve_view(state, principal, query, view)
                },
            ),
        })
        .collect();
    routes.extend([
        Route {
            method: Method::GET,
            path: "/api/analytics/health".into(),
            access: Access::Public,
            summary: "Storage reachable, writes ok or failing (status degraded, with the last failure), schema version, uptime and database size".into(),
            params: &[],
            produces: Produces::Json("Health"),
            body: None,
            handler: get(health),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/export/json".into(),
            access: Access::Read,
            summary: "Every view as one JSON download (summary, projects, models, timeseries as available)".into(),
            params: FILTER_PARAMS,
            produces: Produces::Json("Export"),
            body: None,
            handler: get(export_json),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/export/events".into(),
            access: Access::Read,
            summary: "Every stored event the filter selects, in the wire format, streamed: format=jsonl (default), json, csv (a zip of one CSV per kind) or xml".into(),
            params: EVENT_EXPORT_PARAMS,
            produces: Produces::Download,
            body: None,
            handler: get(export_events),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/export/csv".into(),
            access: Access::Read,
            summary: "A CSV download in sections: OVERALL SUMMARY, PER-PROJECT SUMMARY, PER-MODEL SUMMARY (as available); formula cells made inert".into(),
            params: FILTER_PARAMS,
            produces: Produces::Csv,
            body: None,
            handler: get(export_csv),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/export/sections".into(),
            access: Access::Read,
            summary: "The summary, projects, models, daily series, tools and learners' progress as an XLSX workbook (format=xlsx, one sheet per section, typed cells) or an XML document (format=xml)".into(),
            params: SECTIONS_EXPORT_PARAMS,
            produces: Produces::Download,
            body: None,
            handler: get(export_sections),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/export/schema.xsd".into(),
            access: Access::Public,
            summary: "The XML Schema of the XML exports (events and sections)".into(),
            params: &[],
            produces: Produces::Download,
            body: None,
            handler: get(export_schema),
        },
    ]);
    routes
}

/// A request's query string as axum extracts it.
pub(super) type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// Runs a facade call on a blocking thread and answers its value as JSON; `error` turns
/// the facade's error into the route's answer.
pub(super) async fn blocking_json<T: serde::Serialize + Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&crate::Analytics) -> crate::Result<T> + Send + 'static,
    error: fn(crate::Error) -> ApiError,
) -> Result<Json<Value>, ApiError> {
    let analytics = state.analytics.with_cancel(crate::cancel::current());
    let value = tokio::task::spawn_blocking(move || call(&analytics))
        .await?
        .map_err(error)?;
    Ok(Json(serde_json::to_value(value)?))
}

/// A request's query string: the last non-empty value of each name.
pub(super) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(super) fn parse(query: QueryPairs) -> Result<QueryParams, ApiError> {
        let Query(mut pairs) =
            query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
        // Every route reads `project` as ingest stores project names.
        for (name, value) in &mut pairs {
            if name == "project" && !value.is_empty() {
                *value = crate::filter::parse_project(value, "project")?;
            }
        }
        Ok(QueryParams(pairs))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// `project`, `from`, `to`, narrowed to what the caller may read.
    pub(super) fn filter(&self, principal: &Principal) -> Result<Filter, ApiError> {
        let filter = parse_filter(
            self.get("project"),
            self.get("from"),
            self.get("to"),
            FilterNames {
                project: "project",
                from: "from",
                to: "to",
            },
        )?;
        principal.read_filter(filter)
    }

    /// `compare`: previous, wow or mom, when given.
    pub(super) fn compare(&self) -> Result<Option<Compare>, ApiError> {
        let Some(value) = self.get("compare") else {
            return Ok(None);
        };
        let name = super::params::one_of("compare", value, &Compare::names())?;
        Ok(Compare::from_name(name))
    }

    /// `granularity`: day (default) or hour.
    pub(super) fn granularity(&self) -> Result<Granularity, ApiError> {
        match self.get("granularity") {
            None | Some("day") => Ok(Granularity::Day),
            Some("hour") => Ok(Granularity::Hour),
            Some(other) => Err(ApiError::bad_request(
                "bad_query",
                format!("granularity must be day or hour, got {other:?}"),
            )),
        }
    }
}

/// The filter of a request's query string, narrowed to what the caller may read, and
/// the time series granularity.
fn filter(principal: &Principal, query: QueryPairs) -> Result<(Filter, Granularity), ApiError> {
    let params = QueryParams::parse(query)?;
    Ok((params.filter(principal)?, params.granularity()?))
}

/// Runs views on a blocking thread.
async fn run_views(
    state: &AppState,
    (filter, granularity): (Filter, Granularity),
    views: Vec<View>,
) -> Result<Vec<Value>, ApiError> {
    let analytics = state.analytics.with_cancel(crate::cancel::current());
    tokio::task::spawn_blocking(move || {
        views
            .into_iter()
            .map(|view| Ok(analytics.view(view, &filter, granularity)?))
            .collect()
    })
    .await?
}

async fn serve_view(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
    view: View,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(query)?;
    let (filter, granularity) = (params.filter(&principal)?, params.granularity()?);
    let Some(compare) = params.compare()? else {
        let mut values = run_views(&state, (filter, granularity), vec![view]).await?;
        return Ok(Json(values.pop().unwrap_or(Value::Null)));
    };
    blocking_json(
        &state,
        move |analytics| analytics.view_compared(view, &filter, granularity, compare),
        ApiError::from,
    )
    .await
}

async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let analytics = state.analytics.clone();
    let health = tokio::task::spawn_blocking(move || {
        let health = analytics.health()?;
        Ok::<_, crate::Error>((health, analytics.backend()?))
    })
    .await?;
    let uptime = state.started.elapsed().as_secs_f64();
    // Reads answer; writes may not: `degraded` with the failure until a write succeeds.
    let (status, writes) = match state.analytics.write_failure() {
        None => ("ok", json!({"status": "ok"})),
        Some(failure) => (
            "degraded",
            json!({
                "status": "failing",
                "error": failure.error,
                "last_failure_at": failure.last_failure_at,
                "failing_since": failure.failing_since,
                "failures": failure.failures,
            }),
        ),
    };
    match health {
        Ok((health, backend)) => {
            let mut body = json!({
                "status": status,
                "storage": "reachable",
                "backend": backend.backend,
                "writes": writes,
                "schema_version": health.schema_version,
                "uptime_seconds": (uptime * 1000.0).round() / 1000.0,
                "db_size_bytes": health.file_bytes,
                "version": env!("CARGO_PKG_VERSION"),
            });
            if let Some(version) = backend.server_version {
                body["server_version"] = json!(version);
            }
            if let Some(database) = backend.database {
                body["database"] = json!(database);
            }
            Ok(Json(body))
        }
        Err(error) => {
            tracing::error!(%error, "health check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unreachable",
                format!("the database does not answer: {error}"),
            )
            .with_details(json!({"uptime_seconds": uptime})))
        }
    }
}

/// A download: the content type and `Content-Disposition: attachment`.
pub(super) fn download(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A `Write` that hands what is written to the response body in 64 KiB chunks; it fails
/// once the client is gone, which stops the export.
struct ChunkWriter {
    sender: tokio::sync::mpsc::Sender<axum::body::Bytes>,
    buffer: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl std::io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = axum::body::Bytes::from(std::mem::take(&mut self.buffer));
        self.sender
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

/// Streams a full export: the export runs on a blocking thread and feeds the body as it
/// goes, so memory stays flat whatever the size. An error after the first bytes can no
/// longer change the status: it is logged and the body ends early.
async fn export_events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query)?;
    let filter = params.filter(&principal)?;
    let name = params.get("format").unwrap_or("jsonl");
    let Some(format) = ExportFormat::from_name(name) else {
        let formats = ["jsonl", "json", "csv", "xml"];
        return Err(ApiError::bad_request(
            "bad_query",
            format!("format must be {}, got {name:?}", formats.join(", ")),
        )
        .with_details(json!({"format": name, "formats": formats})));
    };
    let (content_type, extension) = match format {
        ExportFormat::JsonLines => ("application/x-ndjson", "jsonl"),
        ExportFormat::Json => ("application/json", "json"),
        ExportFormat::CsvZip => ("application/zip", "zip"),
        ExportFormat::Xml => ("application/xml", "xml"),
    };
    // Checked before the answer starts: once streaming, the status can no longer say it.
    let analytics = state.analytics.clone();
    let checked = filter.clone();
    tokio::task::spawn_blocking(move || analytics.check_project(&checked)).await??;
    let (sender, receiver) = tokio::sync::mpsc::channel::<axum::body::Bytes>(8);
    let analytics = state.analytics.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter {
            sender,
            buffer: Vec::with_capacity(CHUNK),
        };
        match analytics.export(format, &filter, &mut writer) {
            Ok(events) => tracing::info!(events, "exported events over HTTP"),
            Err(error) => tracing::warn!(%error, "event export ended early"),
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, std::io::Error>(chunk), receiver))
    });
    let mut response = axum::body::Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let file = format!(
        "attachment; filename=\"tally-events-{}.{extension}\"",
        file_stamp()
    );
    if let Ok(value) = HeaderValue::from_str(&file) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn file_stamp() -> String {
    chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string()
}

async fn export_json(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let filter = filter(&principal, query)?;
    let values = run_views(&state, filter, JSON_EXPORT.to_vec()).await?;
    let mut document = Map::new();
    for (view, value) in JSON_EXPORT.iter().zip(values) {
        document.insert(view.name().into(), value);
    }
    let body = serde_json::to_vec_pretty(&Value::Object(document))?;
    Ok(download(
        "application/json",
        &format!("tally-analytics-{}.json", file_stamp()),
        body,
    ))
}

/// The sections export: an XLSX workbook or an XML document, built on a blocking thread.
async fn export_sections(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let params = QueryParams::parse(query)?;
    let filter = params.filter(&principal)?;
    let name = params.get("format").unwrap_or("xlsx");
    let Some(format) = SectionsFormat::from_name(name) else {
        return Err(bad_sections_format(name));
    };
    let analytics = state.analytics.with_cancel(crate::cancel::current());
    let body =
        tokio::task::spawn_blocking(move || analytics.export_analytics(format, &filter)).await??;
    Ok(download(
        format.content_type(),
        &format!("tally-analytics-{}.{}", file_stamp(), format.name()),
        body,
    ))
}

fn bad_sections_format(asked: &str) -> ApiError {
    let formats = SectionsFormat::ALL.map(SectionsFormat::name);
    ApiError::bad_request(
        "bad_query",
        format!("format must be {}, got {asked:?}", formats.join(" or ")),
    )
    .with_details(json!({"format": asked, "formats": formats}))
}

async fn export_schema() -> Response {
    let mut response = crate::export::xml::SCHEMA.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

async fn export_csv(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let (filter, granularity) = filter(&principal, query)?;
    let analytics = state.analytics.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let mut csv = CsvExport::new();
        csv.summary(&analytics.summary(&filter)?, &filter)
            .map_err(|e| ApiError::internal(&e))?;
        for (view, title, columns) in CSV_TABLES {
            let records = analytics.view(*view, &filter, granularity)?;
            csv.table(title, columns, &records)
                .map_err(|e| ApiError::internal(&e))?;
        }
        Ok(csv.finish())
    })
    .await??;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("tally-analytics-{}.csv", file_stamp()),
        body,
    ))
}
