//! `GET /metrics` for Prometheus (OpenMetrics text, `crate::telemetry`), and the
//! middleware that counts every request by route template, method and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, routing};

use super::{Access, AppState, Produces, Route};
use crate::http::{ApiError, Principal};
use crate::telemetry::{CONTENT_TYPE, Telemetry};

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: Method::GET,
        path: "/metrics".into(),
        access: Access::Read,
        summary: "tally's operation and month-to-date business series for Prometheus, in the OpenMetrics text format (docs/http.md); a key limited to projects gets 403".into(),
        params: &[],
        produces: Produces::OpenMetrics,
        body: None,
        handler: routing::get(serve),
    }]
}

/// The scrape. The series cover every project and the server itself, so a key limited
/// to projects may not read them.
async fn serve(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, ApiError> {
    if principal.is_limited() {
        return Err(ApiError::forbidden(
            "forbidden_project",
            "/metrics holds every project's figures and the server's own: use a key not limited to projects",
        ));
    }
    let analytics = state.analytics.with_cancel(crate::cancel::current());
    let text = tokio::task::spawn_blocking(move || analytics.prometheus_text()).await??;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// Counts each request once its answer's headers are ready: route template (or
/// `(no route)`, never the path a client sent), method, status and duration.
pub async fn count_request(
    State(telemetry): State<std::sync::Arc<Telemetry>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    // Only the methods tally answers are named, so a client cannot add series.
    let method = match method {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => method.as_str().to_owned(),
        _ => "other".to_owned(),
    };
    telemetry.observe_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
