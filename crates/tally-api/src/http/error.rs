//! JSON errors: every failure is `{"error": {"code", "message", "details"}}` with the
//! status that fits, never a stack trace.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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
            other => ApiError::internal(&other),
        }
    }
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
        let body = json!({
            "error": {"code": self.code, "message": self.message, "details": self.details}
        });
        (self.status, Json(body)).into_response()
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
