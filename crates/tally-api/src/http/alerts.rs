//! The alert routes under `/api/alerts`: rules with their state, create, read, update,
//! delete, a test notification, the history and what fires now. Reading needs scope
//! `read`, changing `admin`. A key limited to projects sees only the rules limited to
//! one of its projects (and their history), and creates or changes only such rules;
//! rules without a project are for keys not limited to projects. Rules from tally.toml
//! answer 409 to a change, naming the file.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::Analytics;
use crate::alerts::{AlertRule, AlertTrigger, DEFAULT_HISTORY_PAGE};

const NAME: Param = Param {
    name: "name",
    in_path: true,
    description: "the rule's name",
};

const HISTORY_PARAMS: &[Param] = &[
    Param {
        name: "rule",
        in_path: false,
        description: "only this rule's transitions",
    },
    Param {
        name: "before",
        in_path: false,
        description: "transitions older than this id (the previous page's next_before)",
    },
    Param {
        name: "limit",
        in_path: false,
        description: "transitions per page, 1 to 1000 (default 100)",
    },
];

const RULE_BODY: &str = "an alert rule as JSON: name, rule (budget, projected_budget, cost_spike, token_spike, qa_failure_rate, failure_rate, request_error_rate, request_p95, agent_saturation, silence), threshold, and optionally project, model, tool, agent, channels, severity, window_minutes, min_events, baseline_days, significance, series, cooldown_minutes, enabled";

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/api/alerts".into(),
            access: Access::Read,
            summary: "Every alert rule (tally.toml's and stored ones) with its state".into(),
            params: &[],
            produces: Produces::Json("AlertRule[]"),
            body: None,
            handler: get(list),
        },
        Route {
            method: Method::POST,
            path: "/api/alerts".into(),
            access: Access::Admin,
            summary: "Create an alert rule".into(),
            params: &[],
            produces: Produces::Json("AlertRule"),
            body: Some(RULE_BODY),
            handler: post(create),
        },
        Route {
            method: Method::GET,
            path: "/api/alerts/history".into(),
            access: Access::Read,
            summary: "Alert transitions (firing, resolved), newest first, in pages".into(),
            params: HISTORY_PARAMS,
            produces: Produces::Json("AlertHistory"),
            body: None,
            handler: get(history),
        },
        Route {
            method: Method::GET,
            path: "/api/alerts/firing".into(),
            access: Access::Read,
            summary: "The alert rules firing now".into(),
            params: &[],
            produces: Produces::Json("AlertRule[]"),
            body: None,
            handler: get(firing),
        },
        Route {
            method: Method::GET,
            path: "/api/alerts/{name}".into(),
            access: Access::Read,
            summary: "One alert rule with its state".into(),
            params: &[NAME],
            produces: Produces::Json("AlertRule"),
            body: None,
            handler: get(one),
        },
        Route {
            method: Method::PUT,
            path: "/api/alerts/{name}".into(),
            access: Access::Admin,
            summary: "Replace a stored alert rule (tally.toml's: 409)".into(),
            params: &[NAME],
            produces: Produces::Json("AlertRule"),
            body: Some(RULE_BODY),
            handler: put(update),
        },
        Route {
            method: Method::DELETE,
            path: "/api/alerts/{name}".into(),
            access: Access::Admin,
            summary:
                "Delete a stored alert rule and its state; its history stays (tally.toml's: 409)"
                    .into(),
            params: &[NAME],
            produces: Produces::Json("object"),
            body: None,
            handler: delete(remove),
        },
        Route {
            method: Method::POST,
            path: "/api/alerts/{name}/test".into(),
            access: Access::Admin,
            summary: "Send a test notification through the rule's channels".into(),
            params: &[NAME],
            produces: Produces::Json("AlertTest"),
            body: None,
            handler: post(test),
        },
    ]
}

/// Ingest routes poke the alert evaluation once they stored data.
pub async fn poke_after_ingest(
    State(trigger): State<AlertTrigger>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status().is_success() {
        trigger.poke();
    }
    response
}

/// An alert error as an API answer: what is wrong names the field.
fn api_error(error: crate::Error) -> ApiError {
    match error {
        crate::Error::AlertInvalid { field, message } => {
            ApiError::bad_request("bad_alert_rule", format!("{field}: {message}"))
                .with_details(json!({ "field": field }))
        }
        crate::Error::AlertForbidden(message) => ApiError::forbidden("forbidden_project", message)
            .with_details(json!({ "field": "project" })),
        error @ crate::Error::UnknownAlert(_) => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_alert_rule",
            error.to_string(),
        ),
        error @ crate::Error::AlertConflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "alert_rule_conflict",
            error.to_string(),
        ),
        other => other.into(),
    }
}

/// Runs a facade call on a blocking thread with the caller's projects, and answers its
/// value as JSON.
async fn blocking<T: serde::Serialize + Send + 'static>(
    state: AppState,
    principal: &Principal,
    call: impl FnOnce(&Analytics, Option<&[String]>) -> crate::Result<T> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let visible = principal.allowed_projects();
    let analytics = state.analytics;
    let value = tokio::task::spawn_blocking(move || call(&analytics, visible.as_deref()))
        .await?
        .map_err(api_error)?;
    Ok(Json(serde_json::to_value(value)?))
}

fn name_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(name)| name)
        .map_err(|e| ApiError::bad_request("bad_path", format!("name: {}", e.body_text())))
}

/// A rule from a JSON body; a field of the wrong type or an unknown one is named.
fn rule_body(body: &[u8]) -> Result<AlertRule, ApiError> {
    serde_json::from_slice::<AlertRule>(body).map_err(|e| {
        let message = e.to_string();
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .unwrap_or("body")
            .to_owned();
        ApiError::bad_request("bad_alert_rule", format!("{field}: {message}"))
            .with_details(json!({ "field": field }))
    })
}

async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    QueryParams::parse(query)?;
    blocking(state, &principal, |analytics, visible| {
        analytics.alert_rules(visible)
    })
    .await
}

async fn firing(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    QueryParams::parse(query)?;
    blocking(state, &principal, |analytics, visible| {
        analytics.firing_alerts(visible)
    })
    .await
}

async fn one(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let name = name_path(name)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics.alert_rule(&name, visible)
    })
    .await
}

async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let rule = rule_body(&body)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics.create_alert_rule(rule, visible)
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = name_path(name)?;
    let rule = rule_body(&body)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics.update_alert_rule(&name, rule, visible)
    })
    .await
}

async fn remove(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let name = name_path(name)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics
            .delete_alert_rule(&name, visible)
            .map(|()| json!({"deleted": name}))
    })
    .await
}

/// The body, if any, is read and ignored (see the experiments' `stop`).
async fn test(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    name: Result<Path<String>, PathRejection>,
    _body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let name = name_path(name)?;
    let notify = state.notify.clone();
    blocking(state, &principal, move |analytics, visible| {
        analytics.test_alert(&name, &*notify, visible)
    })
    .await
}

async fn history(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let number = |name: &str| -> Result<Option<i64>, ApiError> {
        pairs
            .get(name)
            .map(|text| {
                text.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(
                        "bad_query",
                        format!("{name}: must be a whole number, got {text:?}"),
                    )
                    .with_details(json!({ "field": name }))
                })
            })
            .transpose()
    };
    let before = number("before")?;
    let limit = match number("limit")? {
        None => DEFAULT_HISTORY_PAGE,
        Some(n) => usize::try_from(n).unwrap_or(0),
    };
    let rule = pairs.get("rule").map(str::to_owned);
    blocking(state, &principal, move |analytics, visible| {
        analytics.alert_history(rule.as_deref(), before, limit, visible)
    })
    .await
}
