//! Query parameters a route does not document are refused with 400, naming those it
//! takes: a misspelt or unsupported filter (`/tools?confidence_level=LOW`) must never be
//! silently ignored. The route table's `params` is the one list: the router checks
//! against it and the OpenAPI document shows it.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Param;
use super::error::ApiError;

/// The query parameters one route takes.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub path: String,
    pub params: &'static [Param],
}

impl Accepted {
    fn names(&self) -> Vec<&'static str> {
        self.params
            .iter()
            .filter(|p| !p.in_path)
            .map(|p| p.name)
            .collect()
    }
}

/// The middleware: see the module documentation. A query string that does not parse is
/// left to the handler, which answers it.
pub async fn refuse_unknown(
    State(accepted): State<Accepted>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(request.uri()) else {
        return next.run(request).await;
    };
    let names = accepted.names();
    let mut unknown: Vec<String> = Vec::new();
    for (name, _) in pairs {
        if !names.contains(&name.as_str()) && !unknown.contains(&name) {
            unknown.push(name);
        }
    }
    if unknown.is_empty() {
        return next.run(request).await;
    }
    let takes = if names.is_empty() {
        "takes no query parameters".to_owned()
    } else {
        format!("takes {}", names.join(", "))
    };
    let listed: Vec<String> = unknown.iter().map(|n| format!("{n:?}")).collect();
    let mut response = ApiError::bad_request(
        "unknown_parameter",
        format!(
            "unknown query parameter {}: {} {takes}",
            listed.join(", "),
            accepted.path
        ),
    )
    .with_details(json!({"unknown": unknown, "accepted": names}))
    .into_response();
    // A body sent with the request is left unread: the connection cannot carry another.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The value of an enumerated parameter: `value` when it is one of `accepted`, else a
/// 400 naming the parameter, the value and what it takes.
pub(super) fn one_of<'a>(
    name: &str,
    value: &'a str,
    accepted: &[&str],
) -> Result<&'a str, ApiError> {
    if accepted.contains(&value) {
        return Ok(value);
    }
    Err(ApiError::bad_request(
        "bad_query",
        format!("{name} must be {}, got {value:?}", accepted.join(", ")),
    )
    .with_details(json!({"parameter": name, "value": value, "accepted": accepted})))
}
