//! `GET /api/analytics/reports/{kind}`: the executive, technical, learning and
//! experiments reports as HTML (default), Markdown or JSON, over the usual filters and
//! within the caller's projects.

use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::{ReportFormat, ReportKind};

const REPORT_PARAMS: &[Param] = &[
    Param {
        name: "kind",
        in_path: true,
        description: "executive, technical, learning or experiments",
    },
    Param {
        name: "project",
        in_path: false,
        description: "only this project",
    },
    Param {
        name: "from",
        in_path: false,
        description: "from this instant (RFC 3339) or day (YYYY-MM-DD), inclusive; default 30 days before `to`",
    },
    Param {
        name: "to",
        in_path: false,
        description: "until this instant (exclusive) or day (YYYY-MM-DD, inclusive); default now",
    },
    Param {
        name: "format",
        in_path: false,
        description: "html (default: a standalone page), md (Markdown), json (the report's data) or pdf (a download)",
    },
];

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: Method::GET,
        path: "/api/analytics/reports/{kind}".into(),
        access: Access::Read,
        summary: "A report over the period against the one before it: KPIs with their change, charts, tables and findings; the same figures as HTML, Markdown, JSON or PDF".into(),
        params: REPORT_PARAMS,
        produces: Produces::Download,
        body: None,
        handler: get(report),
    }]
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| name(*x)).collect()
}

async fn report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    kind: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let Path(kind) =
        kind.map_err(|e| ApiError::bad_request("bad_path", format!("kind: {}", e.body_text())))?;
    let kinds = names(&ReportKind::ALL, ReportKind::name);
    let Some(kind) = ReportKind::from_name(&kind) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_report",
            format!("no report {kind:?}; the reports are {}", kinds.join(", ")),
        )
        .with_details(json!({"kind": kind, "kinds": kinds})));
    };
    let params = QueryParams::parse(query)?;
    let filter = params.filter(&principal)?;
    let asked = params.get("format").unwrap_or("html");
    let Some(format) = ReportFormat::from_name(asked) else {
        let formats = names(&ReportFormat::ALL, ReportFormat::name);
        return Err(ApiError::bad_request(
            "bad_query",
            format!("format must be {}, got {asked:?}", formats.join(", ")),
        )
        .with_details(json!({"format": asked, "formats": formats})));
    };
    let analytics = state.analytics.with_cancel(crate::cancel::current());
    let body =
        tokio::task::spawn_blocking(move || analytics.report_document(kind, &filter, format))
            .await??;
    Ok(report_response(
        body,
        format,
        &format!("tally-{}-report.{}", kind.name(), format.name()),
    ))
}

/// A report's answer: its content type; a PDF is a download named `file`.
pub(super) fn report_response(body: Vec<u8>, format: ReportFormat, file: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if format == ReportFormat::Pdf {
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}
