//! JSON errors: every failure is `{"error": {"code", "message", "details"}}` with the
//! status that fits, never a stack trace.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::Principal;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable snake_case code clients can match on.
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    /// A failure of the server itself: logged in full, answered plainly.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the server failed to answer: {error}"),
        )
    }
}

impl From<crate::Error> for ApiError {
    fn from(error: crate::Error) -> Self {
        match error {
            crate::Error::Filter(message) => ApiError::bad_request("bad_query", message),
            error @ crate::Error::Cancelled => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cancelled",
                error.to_string(),
            ),
            error @ crate::Error::TooManyPoints { points, limit, .. } => {
                ApiError::bad_request("too_many_points", error.to_string())
                    .with_details(json!({"points": points, "limit": limit}))
            }
            crate::Error::Learning(error @ tally_learning::Error::InvalidGoal(_)) => {
                ApiError::bad_request("bad_goal", error.to_string())
            }
            crate::Error::Learning(error @ tally_learning::Error::UnknownGoal { .. }) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_goal", error.to_string())
            }
            crate::Error::Learning(error @ tally_learning::Error::TooManyGoals { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "too_many_goals", error.to_string())
            }
            crate::Error::Learning(tally_learning::Error::UnknownTimeZone(name)) => {
                ApiError::bad_request(
                    "bad_time_zone",
                    format!(
                        "unknown time zone {name:?}: expected an IANA name such as Europe/Berlin"
                    ),
                )
            }
            crate::Error::UnknownProject { project, known } => unknown_project(project, known),
            error @ crate::Error::NoData(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_little_data",
                error.to_string(),
            ),
            other => ApiError::internal(&other),
        }
    }
}

/// The answer to a project without data, naming the projects that have.
fn unknown_project(project: String, known: Vec<String>) -> ApiError {
    let message = crate::Error::UnknownProject {
        project: project.clone(),
        known: known.clone(),
    }
    .to_string();
    ApiError::new(StatusCode::NOT_FOUND, "unknown_project", message)
        .with_details(json!({"project": project, "projects": known}))
}

/// What an `unknown_project` answer carries for [`within_callers_projects`].
#[derive(Debug, Clone)]
struct UnknownProject {
    project: String,
    known: Vec<String>,
}

impl UnknownProject {
    fn of(error: &ApiError) -> Option<UnknownProject> {
        if error.code != "unknown_project" {
            return None;
        }
        let names = error.details["projects"].as_array()?;
        Some(UnknownProject {
            project: error.details["project"].as_str()?.to_owned(),
            known: names
                .iter()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect(),
        })
    }
}

/// Narrows an `unknown_project` answer to the projects the caller's key may read, so
/// that a key limited to projects never learns the names of others.
pub async fn within_callers_projects(request: Request, next: Next) -> Response {
    let visible = request
        .extensions()
        .get::<Principal>()
        .and_then(Principal::allowed_projects);
    let response = next.run(request).await;
    match (visible, response.extensions().get::<UnknownProject>()) {
        (Some(visible), Some(unknown)) => {
            let known = unknown
                .known
                .iter()
                .filter(|name| visible.contains(name))
                .cloned()
                .collect();
            unknown_project(unknown.project.clone(), known).into_response()
        }
        _ => response,
    }
}

/// Every route but ingest, health, exports and the OpenAPI document while
/// `[analytics] enabled = false`.
pub async fn analytics_disabled() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "analytics_disabled",
        "analytics are turned off on this server ([analytics] enabled = false in tally.toml); \
         ingest, health and exports still answer",
    )
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::internal(&error)
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        ApiError::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unknown_project = UnknownProject::of(&self);
        let body = json!({
            "error": {"code": self.code, "message": self.message, "details": self.details}
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(unknown) = unknown_project {
            response.extensions_mut().insert(unknown);
        }
        response
    }
}

/// Any path the router does not know.
pub async fn route_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        format!(
            "no route {}; the routes are listed at /api/openapi.json",
            uri.path()
        ),
    )
}

/// A known path asked with a method it does not take.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take {method}", uri.path()),
    )
}

/// Gives every error answer the JSON shape: the framework's own refusals (a path segment
/// that is not UTF-8, a query that cannot be decoded) come as plain text.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // Only plain text (or nothing) is rewritten: JSON is already the shape, and other
    // types are answers of their own (OTLP's protobuf `google.rpc.Status`).
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("text/plain"));
    if !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => "internal",
        _ => "request_refused",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}
