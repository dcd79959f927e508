//! `GET /api/analytics/events`: the events explorer, one page of stored events newest
//! first, resumed by `cursor` (see `crate::events`).

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::Method;
use axum::routing::get;
use serde_json::{Value, json};
use tally_store::Filter;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams, blocking_json};
use super::{AppState, Param, Produces, Route};

const fn param(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        in_path: false,
        description,
    }
}

const PARAMS: &[Param] = &[
    param(
        "kind",
        "only this kind (execution, run, job, session, skill, outcome, agent_status, request, action, system, error)",
    ),
    param("project", "only this project"),
    param("tool", "only executions of this tool"),
    param(
        "model",
        "only executions of this model and runs that used it",
    ),
    param("agent", "only executions and agent statuses of this agent"),
    param(
        "success",
        "true or false: only executions that succeeded, or failed",
    ),
    param(
        "from",
        "event time from this instant (RFC 3339) or day (YYYY-MM-DD), inclusive",
    ),
    param(
        "to",
        "event time until this instant (exclusive) or day (YYYY-MM-DD, inclusive)",
    ),
    param(
        "trace",
        "only the spans of this trace (executions whose task_id is the trace id)",
    ),
    param("limit", "events per page, 1 to 500 (default 50)"),
    param(
        "cursor",
        "the next_cursor of the previous page, as given: the page below it",
    ),
];

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: Method::GET,
        path: "/api/analytics/events".into(),
        access: Access::Read,
        summary: "Stored events in the wire format with their ids, newest first, filtered, one page at a time (next_cursor resumes; a page reads a bounded number of events, so a rare filter may answer fewer than limit with a cursor to go on)".into(),
        params: PARAMS,
        produces: Produces::Json("EventsPage"),
        body: None,
        handler: get(events),
    }]
}

async fn events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(query)?;
    let mut query =
        crate::parse_event_query(|name| params.get(name), str::to_owned).map_err(|bad| {
            ApiError::bad_request("bad_query", bad.message)
                .with_details(json!({"parameter": bad.parameter}))
        })?;
    query.project = principal
        .read_filter(Filter {
            project: query.project.take(),
            ..Filter::default()
        })?
        .project;
    blocking_json(
        &state,
        move |analytics| analytics.events(&query),
        Into::into,
    )
    .await
}
