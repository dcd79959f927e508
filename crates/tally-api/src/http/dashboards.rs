//! The saved dashboard routes: `GET /api/analytics/dashboards` (the built-in ones and
//! the stored ones the key sees), `GET|PUT|DELETE /api/analytics/dashboard/{id}` and
//! `POST /api/analytics/dashboard` (create). Reading needs scope `read`, changing
//! `admin`. A key limited to projects sees and changes only its projects' dashboards,
//! and a widget may not name another project; the built-in dashboards answer 409 to a
//! change.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::Analytics;
use crate::dashboards::{DashboardError, DashboardSpec};

const ID: Param = Param {
    name: "id",
    in_path: true,
    description: "the dashboard's id (executive and technical are built in)",
};

const BODY: &str = "a dashboard as JSON: name, optionally id (a-z 0-9 - _), project, widgets: [{title, view, chart, filters: {project, model, tool, agent, qa_status, user, period}}] (see docs/dashboard.md)";

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/api/analytics/dashboards".into(),
            access: Access::Read,
            summary: "The built-in dashboards and the saved ones the key may see".into(),
            params: &[],
            produces: Produces::Json("Dashboard[]"),
            body: None,
            handler: get(list),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/dashboard".into(),
            access: Access::Admin,
            summary: "Save a new dashboard".into(),
            params: &[],
            produces: Produces::Json("Dashboard"),
            body: Some(BODY),
            handler: post(create),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/dashboard/{id}".into(),
            access: Access::Read,
            summary: "One dashboard with its widgets".into(),
            params: &[ID],
            produces: Produces::Json("Dashboard"),
            body: None,
            handler: get(one),
        },
        Route {
            method: Method::PUT,
            path: "/api/analytics/dashboard/{id}".into(),
            access: Access::Admin,
            summary: "Replace a saved dashboard's name, project and widgets (built-in: 409)".into(),
            params: &[ID],
            produces: Produces::Json("Dashboard"),
            body: Some(BODY),
            handler: put(update),
        },
        Route {
            method: Method::DELETE,
            path: "/api/analytics/dashboard/{id}".into(),
            access: Access::Admin,
            summary: "Delete a saved dashboard (built-in: 409)".into(),
            params: &[ID],
            produces: Produces::Json("object"),
            body: None,
            handler: delete(remove),
        },
    ]
}

/// A dashboard error as an API answer: what is wrong names the field.
fn api_error(error: crate::Error) -> ApiError {
    match error {
        crate::Error::Dashboard(error) => {
            let message = error.to_string();
            match error {
                DashboardError::Invalid { field, .. } => {
                    ApiError::bad_request("bad_dashboard", message)
                        .with_details(json!({ "field": field }))
                }
                DashboardError::Forbidden { field, .. } => {
                    ApiError::forbidden("forbidden_project", message)
                        .with_details(json!({ "field": field }))
                }
                DashboardError::Unknown(_) => {
                    ApiError::new(StatusCode::NOT_FOUND, "unknown_dashboard", message)
                }
                DashboardError::Conflict(_) => {
                    ApiError::new(StatusCode::CONFLICT, "dashboard_conflict", message)
                }
            }
        }
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

fn id_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|e| ApiError::bad_request("bad_path", format!("id: {}", e.body_text())))
}

/// A dashboard from a JSON body, what is wrong named by its field.
fn spec_body(body: &[u8]) -> Result<DashboardSpec, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("bad_dashboard", format!("body: not JSON: {e}"))
            .with_details(json!({ "field": "body" }))
    })?;
    DashboardSpec::from_json(&value).map_err(|e| api_error(e.into()))
}

async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    QueryParams::parse(query)?;
    blocking(state, &principal, |analytics, visible| {
        analytics.dashboards(visible)
    })
    .await
}

async fn one(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_path(id)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics.dashboard(&id, visible)
    })
    .await
}

async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let spec = spec_body(&body)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics.create_dashboard(spec, visible)
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = id_path(id)?;
    let spec = spec_body(&body)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics.update_dashboard(&id, spec, visible)
    })
    .await
}

async fn remove(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = id_path(id)?;
    blocking(state, &principal, move |analytics, visible| {
        analytics
            .delete_dashboard(&id, visible)
            .map(|()| json!({ "deleted": id }))
    })
    .await
}
