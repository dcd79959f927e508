//! The experiment routes under `/api/analytics/experiments`: list and define, one
//! definition, assign a user, stop, analyze, and the power calculator. A key limited to
//! projects sees and changes only the experiments of the one it works in (`?project=`,
//! else its only one); global experiments only keys not limited to projects. Keys are
//! unique within a project, so the same key may name an experiment of each project
//! (and a global one): a key limited to projects learns nothing of the others'.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tally_predict::experiment::{self, ExperimentSpec, PowerQuestion};

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::{Analytics, parse_instant};

const KEY: Param = Param {
    name: "key",
    in_path: true,
    description: "the experiment key",
};

const PROJECT: Param = Param {
    name: "project",
    in_path: false,
    description: "the project whose experiments to work with (default: for a key limited to projects its only one, else every project's and the global ones)",
};

const ANALYSIS_PARAMS: &[Param] = &[
    KEY,
    Param {
        name: "project",
        in_path: false,
        description: "only outcomes of this project",
    },
    Param {
        name: "from",
        in_path: false,
        description: "outcomes from this instant (RFC 3339) or day (YYYY-MM-DD), inclusive",
    },
    Param {
        name: "to",
        in_path: false,
        description: "outcomes until this instant (exclusive) or day (YYYY-MM-DD, inclusive)",
    },
];

const POWER_PARAMS: &[Param] = &[
    Param {
        name: "variance",
        in_path: false,
        description: "per-user variance of the metric (a rate p: p(1-p)); or give baseline_rate",
    },
    Param {
        name: "baseline_rate",
        in_path: false,
        description: "a conversion rate in (0, 1): variance p(1-p) and relative MDE",
    },
    Param {
        name: "baseline_mean",
        in_path: false,
        description: "the control mean, for the relative MDE",
    },
    Param {
        name: "n",
        in_path: false,
        description: "users per variant: answers the MDE",
    },
    Param {
        name: "mde",
        in_path: false,
        description: "absolute minimum detectable effect: answers the users per variant",
    },
    Param {
        name: "alpha",
        in_path: false,
        description: "two-sided significance level (default 0.05)",
    },
    Param {
        name: "power",
        in_path: false,
        description: "power (default 0.8)",
    },
];

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/api/analytics/experiments".into(),
            access: Access::Read,
            summary: "Every experiment: stored definitions and those only outcome events name, with status".into(),
            params: &[PROJECT],
            produces: Produces::Json("Experiment[]"),
            body: None,
            handler: get(list),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/experiments/create".into(),
            access: Access::Admin,
            summary: "Define an experiment: key, variants (\"control:50,treatment:50\" or [{name, weight}]), coverage, hypothesis, primary_metric, guardrail_metrics, lower_is_better, seed, start, project (default: the key's only project; none: global)".into(),
            params: &[],
            produces: Produces::Json("Experiment"),
            body: Some("a JSON object with key and variants"),
            handler: post(create),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/experiments/power".into(),
            access: Access::Read,
            summary: "Power calculator: the MDE for n users per variant, or the users per variant for an MDE".into(),
            params: POWER_PARAMS,
            produces: Produces::Json("PowerPlan"),
            body: None,
            handler: get(power),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/experiments/{key}".into(),
            access: Access::Read,
            summary: "One experiment's definition and status".into(),
            params: &[KEY, PROJECT],
            produces: Produces::Json("Experiment"),
            body: None,
            handler: get(one),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/experiments/{key}/assign".into(),
            access: Access::Read,
            summary: "The variant a user is assigned to (GrowthBook hash v2; null outside coverage)".into(),
            params: &[
                KEY,
                Param {
                    name: "user",
                    in_path: false,
                    description: "the user id",
                },
                PROJECT,
            ],
            produces: Produces::Json("Assignment"),
            body: None,
            handler: get(assign),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/experiments/{key}/analysis".into(),
            access: Access::Read,
            summary: "The analysis: assignment check, sample-ratio check, per metric Welch or two-proportion tests against the control with Holm-adjusted p-values and verdicts".into(),
            params: ANALYSIS_PARAMS,
            produces: Produces::Json("ExperimentAnalysis"),
            body: None,
            handler: get(analysis),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/experiments/{key}/stop".into(),
            access: Access::Admin,
            summary: "Stop an experiment: later outcomes are not part of it".into(),
            params: &[KEY, PROJECT],
            produces: Produces::Json("Experiment"),
            body: None,
            handler: post(stop),
        },
    ]
}

/// An experiment error as an API answer.
fn api_error(error: crate::Error) -> ApiError {
    match error {
        crate::Error::Predict(error) => {
            let message = error.to_string();
            match error {
                experiment::Error::Invalid(_) => ApiError::bad_request("bad_experiment", message),
                experiment::Error::Exists(_) => {
                    ApiError::new(StatusCode::CONFLICT, "experiment_exists", message)
                }
                experiment::Error::Unknown(_) => {
                    ApiError::new(StatusCode::NOT_FOUND, "unknown_experiment", message)
                }
                experiment::Error::NotRunning(_) => {
                    ApiError::new(StatusCode::CONFLICT, "experiment_not_running", message)
                }
                other => ApiError::internal(&other),
            }
        }
        other => other.into(),
    }
}

/// Runs a facade call on a blocking thread and answers its value as JSON.
async fn blocking<T: serde::Serialize + Send + 'static>(
    analytics: Analytics,
    call: impl FnOnce(&Analytics) -> crate::Result<T> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let value = tokio::task::spawn_blocking(move || call(&analytics))
        .await?
        .map_err(api_error)?;
    Ok(Json(serde_json::to_value(value)?))
}

/// The facade as the caller sees experiments: in the project `asked` (for a key
/// limited to projects, else its only one); a caller not limited to projects without
/// one everywhere.
fn scoped(
    state: &AppState,
    principal: &Principal,
    asked: Option<&str>,
) -> Result<Analytics, ApiError> {
    let project = principal.project(asked.map(str::to_owned), "use")?;
    Ok(state.analytics.limited_to_project(project))
}

/// The path's experiment key, or a JSON 400 naming what was wrong with it.
fn key_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(key)| key)
        .map_err(|e| ApiError::bad_request("bad_path", format!("key: {}", e.body_text())))
}

fn number(pairs: &QueryParams, name: &str) -> Result<Option<f64>, ApiError> {
    pairs
        .get(name)
        .map(|text| {
            text.parse::<f64>().map_err(|_| {
                ApiError::bad_request(
                    "bad_query",
                    format!("{name} must be a number, got {text:?}"),
                )
            })
        })
        .transpose()
}

async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, pairs.get("project"))?;
    blocking(analytics, |analytics| analytics.experiments()).await
}

async fn one(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    key: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let key = key_path(key)?;
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, pairs.get("project"))?;
    blocking(analytics, move |analytics| analytics.experiment(&key)).await
}

async fn assign(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    key: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let key = key_path(key)?;
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, pairs.get("project"))?;
    let user = pairs
        .get("user")
        .ok_or_else(|| ApiError::bad_request("bad_query", "user is required: ?user=USER_ID"))?
        .to_owned();
    blocking(analytics, move |analytics| {
        analytics.assign_experiment(&key, &user)
    })
    .await
}

async fn analysis(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    key: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let key = key_path(key)?;
    let filter = QueryParams::parse(query)?.filter(&principal)?;
    // For a caller not limited to projects, `project` narrows the outcomes (of a global
    // experiment) or picks that project's definition.
    let analytics = if principal.is_limited() {
        scoped(&state, &principal, filter.project.as_deref())?
    } else {
        state.analytics.clone()
    };
    blocking(analytics, move |analytics| {
        analytics.analyze_experiment(&key, &filter)
    })
    .await
}

/// The body, if any, is read and ignored: a body left unread would make the server
/// close the connection the client may be about to reuse.
async fn stop(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    key: Result<Path<String>, PathRejection>,
    query: QueryPairs,
    _body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let key = key_path(key)?;
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, pairs.get("project"))?;
    blocking(analytics, move |analytics| analytics.stop_experiment(&key)).await
}

async fn power(State(state): State<AppState>, query: QueryPairs) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let rate = number(&pairs, "baseline_rate")?;
    let variance = match (number(&pairs, "variance")?, rate) {
        (Some(variance), _) => variance,
        (None, Some(p)) => p * (1.0 - p),
        (None, None) => {
            return Err(ApiError::bad_request(
                "bad_query",
                "give variance (per-user variance of the metric) or baseline_rate",
            ));
        }
    };
    let question = match (number(&pairs, "n")?, number(&pairs, "mde")?) {
        (Some(n), None) => PowerQuestion::MdeForUsers(n),
        (None, Some(mde)) => PowerQuestion::UsersForMde(mde),
        _ => {
            return Err(ApiError::bad_request(
                "bad_query",
                "give exactly one of n (users per variant) or mde (absolute effect)",
            ));
        }
    };
    let baseline = number(&pairs, "baseline_mean")?.or(rate);
    let alpha = number(&pairs, "alpha")?.unwrap_or(0.05);
    let power = number(&pairs, "power")?.unwrap_or(0.8);
    blocking(state.analytics, move |analytics| {
        analytics.experiment_power(question, variance, baseline, alpha, power)
    })
    .await
}

/// The body of `POST /api/analytics/experiments/create`, and the project it names.
fn spec(body: &[u8]) -> Result<(ExperimentSpec, Option<String>), ApiError> {
    let bad = |message: String| ApiError::bad_request("bad_experiment", message);
    let object: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the body must be a JSON object: {e}")))?;
    let Value::Object(object) = object else {
        return Err(bad("the body must be a JSON object".into()));
    };
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(bad(format!("{name} must be a string, got {other}"))),
        }
    };
    let list = |name: &str| -> Result<Option<Vec<String>>, ApiError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("{name} must be a list of strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(bad(format!("{name} must be a list of strings"))),
        }
    };
    let variants = match object.get("variants") {
        Some(Value::String(text)) => {
            experiment::parse_variants(text).map_err(|e| bad(e.to_string()))?
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let name = item.get("name").and_then(Value::as_str);
                let weight = item.get("weight").map_or(Some(1.0), Value::as_f64);
                match (name, weight) {
                    (Some(name), Some(weight)) => Ok((name.to_owned(), weight)),
                    _ => Err(bad(format!(
                        "variant {item}: expected {{\"name\": ..., \"weight\": number}}"
                    ))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(bad(
                "variants is required: \"control:50,treatment:50\" or [{\"name\", \"weight\"}]"
                    .into(),
            ));
        }
    };
    let coverage = match object.get("coverage") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_f64()
                .ok_or_else(|| bad(format!("coverage must be a number, got {value}")))?,
        ),
    };
    let started_at = text("start")?
        .map(|s| parse_instant(&s, "start", false))
        .transpose()
        .map_err(|e| bad(e.to_string()))?;
    let spec = ExperimentSpec {
        key: text("key")?.ok_or_else(|| bad("key is required".into()))?,
        variants,
        coverage,
        seed: text("seed")?,
        hypothesis: text("hypothesis")?,
        primary_metric: text("primary_metric")?,
        guardrail_metrics: list("guardrail_metrics")?.unwrap_or_default(),
        lower_is_better: list("lower_is_better")?,
        started_at,
    };
    // Read as ingest stores project names (NFC, no bidirectional controls, 1 to 128
    // characters), so the experiment's outcomes and `?project=` find it.
    let project = text("project")?
        .map(|name| {
            tally_models::project_name(&name)
                .map(String::from)
                .map_err(|e| bad(format!("project {name:?}: {}", e.message)))
        })
        .transpose()?;
    Ok((spec, project))
}

/// A key limited to projects defines experiments of its project (the body's `project`,
/// else its only one); another caller of the body's `project`, or global without one.
async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (spec, project) = spec(&body)?;
    let project = principal.project(project, "use")?;
    let analytics = state.analytics.limited_to_project(project);
    let Json(created) = blocking(analytics, move |analytics| {
        analytics.create_experiment(spec)
    })
    .await?;
    Ok(Json(json!({"created": true, "experiment": created})))
}
