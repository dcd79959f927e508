//! The time series routes: `/api/analytics/trends`, `/forecast` and `/anomalies` over a
//! stored metric, with the view filters plus `metric`, `granularity`, `tool`, `model`,
//! `skill`, `user` and (forecasts) `horizon`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::Method;
use axum::routing::get;
use serde_json::Value;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::{AnomalyConfig, SeriesQuery, SeriesSource};

/// The default forecast horizon, in steps.
const DEFAULT_HORIZON: usize = 14;
/// The longest forecast horizon a request may ask for.
const MAX_HORIZON: usize = 24 * 31;

const SERIES_PARAMS: &[Param] = &[
    Param {
        name: "metric",
        in_path: false,
        description: "executions (default), success_rate, error_rate, cost, tokens, p95_latency, requests, request_error_rate, request_p95_latency, runs, errors, sessions, quality, completion_rate",
    },
    Param {
        name: "project",
        in_path: false,
        description: "only this project",
    },
    Param {
        name: "from",
        in_path: false,
        description: "from this instant (RFC 3339) or day (YYYY-MM-DD), inclusive; default: 90 days or 14 days of hours back",
    },
    Param {
        name: "to",
        in_path: false,
        description: "until this instant (exclusive) or day (YYYY-MM-DD, inclusive)",
    },
    Param {
        name: "granularity",
        in_path: false,
        description: "day (default) or hour",
    },
    Param {
        name: "tool",
        in_path: false,
        description: "only this tool (execution metrics, by day)",
    },
    Param {
        name: "model",
        in_path: false,
        description: "only this model (execution metrics, by day)",
    },
    Param {
        name: "skill",
        in_path: false,
        description: "only this skill (completion_rate)",
    },
    Param {
        name: "user",
        in_path: false,
        description: "only this user (sessions, quality, completion_rate)",
    },
    Param {
        name: "horizon",
        in_path: false,
        description: "forecast steps ahead (default 14; forecast only)",
    },
];

/// Which question a route asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    Trends,
    Forecast,
    Anomalies,
}

pub fn routes() -> Vec<Route> {
    [
        (
            Question::Trends,
            "trends",
            "Trend of a metric: least squares (slope, stderr, p-value), change %, Mann-Kendall, Sen's slope, direction, profiles and rolling average",
            "TrendReport",
        ),
        (
            Question::Forecast,
            "forecast",
            "Forecast of a metric with 95 % prediction intervals (straight line, smoothed level or Holt-Winters, chosen by back-testing; MASE reported)",
            "ForecastReport",
        ),
        (
            Question::Anomalies,
            "anomalies",
            "Anomalies of a metric (z-score, IQR, rolling robust z, seasonal) with a score per point, cost spikes and failure surges",
            "AnomaliesReport",
        ),
    ]
    .into_iter()
    .map(|(question, name, summary, schema)| Route {
        method: Method::GET,
        path: format!("/api/analytics/{name}"),
        access: Access::Read,
        summary: summary.into(),
        params: SERIES_PARAMS,
        produces: Produces::Json(schema),
        body: None,
        handler: get(
            move |state: State<AppState>,
                  principal: Extension<Principal>,
                  query: QueryPairs| {
                answer(state, principal, query, question)
            },
        ),
    })
    .collect()
}

async fn answer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
    question: Question,
) -> Result<Json<Value>, ApiError> {
    let params = QueryParams::parse(query)?;
    let value = |name: &str| params.get(name).map(str::to_owned);
    let filter = params.filter(&principal)?;
    let granularity = params.granularity()?;
    let horizon = match value("horizon") {
        None => DEFAULT_HORIZON,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|h| (1..=MAX_HORIZON).contains(h))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!("horizon must be a whole number of steps from 1 to {MAX_HORIZON}, got {text:?}"),
                )
            })?,
    };
    let source = SeriesSource::Store(SeriesQuery {
        metric: value("metric").unwrap_or_else(|| "executions".into()),
        filter,
        granularity,
        tool: value("tool"),
        model: value("model"),
        skill: value("skill"),
        user: value("user"),
    });
    let analytics = state.analytics.with_cancel(crate::cancel::current());
    let answer = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        Ok(match question {
            Question::Trends => serde_json::to_value(analytics.trend(&source)?)?,
            Question::Forecast => serde_json::to_value(analytics.forecast(&source, horizon)?)?,
            Question::Anomalies => {
                serde_json::to_value(analytics.anomalies(&source, &AnomalyConfig::default())?)?
            }
        })
    })
    .await??;
    Ok(Json(answer))
}
