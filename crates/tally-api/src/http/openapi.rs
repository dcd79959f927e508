//! `GET /api/openapi.json`: an OpenAPI 3 document generated from the route table, so
//! every route the router has is in it.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::auth::Access;
use super::{AppState, Produces, Route};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn operation(route: &Route) -> Value {
    let parameters: Vec<Value> = route
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": if p.in_path { "path" } else { "query" },
                "required": p.in_path,
                "description": p.description,
                "schema": {"type": "string"},
            })
        })
        .collect();
    let ok = |media: &str, schema: Value| {
        (
            "200",
            json!({"description": "OK", "content": {media: {"schema": schema}}}),
        )
    };
    let (status, success) = match route.produces {
        Produces::Json(name) if name.ends_with("[]") => ok(
            "application/json",
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{}", name.trim_end_matches("[]"))}}),
        ),
        Produces::Json("object") => ok("application/json", json!({"type": "object"})),
        Produces::Json(name) => ok(
            "application/json",
            json!({"$ref": format!("#/components/schemas/{name}")}),
        ),
        Produces::Html => ok("text/html", json!({"type": "string"})),
        Produces::Csv => ok("text/csv", json!({"type": "string"})),
        Produces::Download => ok(
            "application/octet-stream",
            json!({"type": "string", "format": "binary"}),
        ),
        Produces::Css => ok("text/css", json!({"type": "string"})),
        Produces::JavaScript => ok("text/javascript", json!({"type": "string"})),
        Produces::EventStream => ok("text/event-stream", json!({"type": "string"})),
        Produces::OpenMetrics => ok(crate::telemetry::CONTENT_TYPE, json!({"type": "string"})),
        Produces::Redirect(to) => ("307", json!({"description": format!("Redirects to {to}")})),
    };
    let mut responses = Map::new();
    responses.insert(status.into(), success);
    let mut op = Map::new();
    op.insert("summary".into(), route.summary.clone().into());
    op.insert(
        "operationId".into(),
        format!(
            "{}{}",
            route.method.as_str().to_ascii_lowercase(),
            route
                .path
                .split(['/', '{', '}', '-', '.'])
                .filter(|s| !s.is_empty())
                .map(|s| format!("_{s}"))
                .collect::<String>()
        )
        .into(),
    );
    if !parameters.is_empty() {
        op.insert("parameters".into(), parameters.into());
    }
    if let Some(body) = route.body {
        op.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "description": body,
                "content": {
                    "application/json": {"schema": {}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                }
            }),
        );
        responses.insert("413".into(), error_response("body or batch too large"));
    }
    if !route.params.is_empty() || route.body.is_some() {
        responses.insert("400".into(), error_response("bad request"));
    }
    if route.access == Access::Public {
        op.insert("security".into(), json!([]));
    } else {
        let scopes: Vec<_> = route.access.scopes().iter().map(|s| s.as_str()).collect();
        op.insert(
            "description".into(),
            format!(
                "Needs a key with scope {} once any key exists.",
                scopes.join(" or ")
            )
            .into(),
        );
        responses.insert("401".into(), error_response("missing or invalid key"));
        responses.insert(
            "403".into(),
            error_response("the key's scope or projects do not allow this"),
        );
    }
    responses.insert("default".into(), error_response("error"));
    op.insert("responses".into(), responses.into());
    Value::Object(op)
}

/// The document for `routes`.
pub fn document(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let entry = paths
            .entry(route.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[route.method.as_str().to_ascii_lowercase()] = operation(route);
    }
    let mut document = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "tally",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Analytics for AI agents: ingestion, views, exports and the dashboard."
        },
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message", "details"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "details": {}
                        }
                    }}
                },
                "IngestReport": {
                    "type": "object",
                    "properties": {
                        "accepted": {"type": "integer"},
                        "duplicates": {"type": "integer"},
                        "rejected": {"type": "integer"},
                        "errors": {"type": "array", "items": {
                            "type": "object",
                            "properties": {
                                "line": {"type": "integer"},
                                "index": {"type": "integer"},
                                "id": {"type": "string", "nullable": true},
                                "field": {"type": "string"},
                                "message": {"type": "string"}
                            }
                        }},
                        "errors_omitted": {"type": "integer"},
                        "quarantine_omitted": {"type": "integer", "description": "rejections counted but not kept in quarantine (past the first 10,000 of an input)"}
                    }
                },
                "AnalyticsSummary": {"type": "object", "description": "seed STAGE 11 AnalyticsSummary fields, plus total_executions and success_rate"},
                "Health": {"type": "object"},
                "Export": {"type": "object"},
                "EventsPage": {
                    "type": "object",
                    "required": ["events", "next_cursor"],
                    "properties": {
                        "events": {"type": "array", "items": {
                            "type": "object",
                            "description": "a stored event in the wire format (docs/events.md), id included: the given one or derived:<32 hex digits>"
                        }},
                        "next_cursor": {"type": "string", "nullable": true, "description": "pass as cursor= for the next page; null after the last"}
                    }
                },
            }
        }
    });
    let schemas = &mut document["components"]["schemas"];
    for route in routes {
        if let Produces::Json(name) = route.produces {
            let name = name.trim_end_matches("[]");
            if name != "object" && schemas.get(name).is_none() {
                schemas[name] = json!({"type": "object"});
            }
        }
    }
    document
}

pub async fn serve(State(state): State<AppState>) -> Response {
    let mut response = state.openapi.as_str().to_owned().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
