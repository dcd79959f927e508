//! `GET /api/analytics/engagement` (active, new and returning users, sessions per day,
//! week or month) and `GET /api/analytics/engagement/cohorts` (retention by the week
//! users were first seen).

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::Method;
use axum::routing::get;
use serde_json::Value;
use tally_metrics::EngagementGranularity;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams, blocking_json};
use super::{AppState, Param, Produces, Route};

const PROJECT: Param = Param {
    name: "project",
    in_path: false,
    description: "only this project",
};
const FROM: Param = Param {
    name: "from",
    in_path: false,
    description: "from the period holding this instant (RFC 3339) or day (YYYY-MM-DD)",
};
const TO: Param = Param {
    name: "to",
    in_path: false,
    description: "until this instant (exclusive) or day (YYYY-MM-DD, inclusive), to the end of its period",
};

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/api/analytics/engagement".into(),
            access: Access::Read,
            summary: "Per day, week or month: active, new and returning users, sessions, sessions per user and session length percentiles".into(),
            params: &[
                PROJECT,
                FROM,
                TO,
                Param {
                    name: "granularity",
                    in_path: false,
                    description: "day (default), week (from Monday) or month",
                },
            ],
            produces: Produces::Json("Engagement"),
            body: None,
            handler: get(engagement),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/engagement/cohorts".into(),
            access: Access::Read,
            summary: "Retention cohorts: users by the week they were first seen, and how many of them were active in each week after".into(),
            params: &[PROJECT, FROM, TO],
            produces: Produces::Json("Cohorts"),
            body: None,
            handler: get(cohorts),
        },
    ]
}

async fn engagement(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(query)?;
    let filter = params.filter(&principal)?;
    let granularity = match params.get("granularity") {
        None => EngagementGranularity::Day,
        Some(word) => EngagementGranularity::from_word(word).ok_or_else(|| {
            ApiError::bad_request(
                "bad_query",
                format!("granularity must be day, week or month, got {word:?}"),
            )
        })?,
    };
    blocking_json(
        &state,
        move |analytics| analytics.engagement(&filter, granularity),
        Into::into,
    )
    .await
}

async fn cohorts(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let filter = QueryParams::parse(query)?.filter(&principal)?;
    blocking_json(
        &state,
        move |analytics| analytics.engagement_cohorts(&filter),
        Into::into,
    )
    .await
}
