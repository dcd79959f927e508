//! `GET /api/analytics/traces/{trace_id}`: one trace's spans as a tree (the list of
//! traces is the `traces` view, served with the others by `query.rs`).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use serde_json::Value;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: Method::GET,
        path: "/api/analytics/traces/{trace_id}".into(),
        access: Access::Read,
        summary: "One trace's spans as a tree (start offsets and durations for a waterfall), from the executions OTLP spans became".into(),
        params: &[
            Param {
                name: "trace_id",
                in_path: true,
                description: "the trace id, 32 hex digits",
            },
            Param {
                name: "project",
                in_path: false,
                description: "only this project",
            },
        ],
        produces: Produces::Json("TraceTree"),
        body: None,
        handler: get(trace),
    }]
}

async fn trace(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(trace_id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "bad_trace_id",
            format!("trace id {trace_id:?}: expected 32 hex digits"),
        ));
    }
    let filter = QueryParams::parse(query)?.filter(&principal)?;
    let analytics = state.analytics.clone();
    let id = trace_id.clone();
    let tree = tokio::task::spawn_blocking(move || analytics.trace(&filter, &id)).await??;
    match tree {
        Some(tree) => Ok(Json(serde_json::to_value(tree)?)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_trace",
            format!("no span of trace {trace_id} is stored (in the projects this key may read)"),
        )),
    }
}
