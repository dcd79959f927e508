//! The success-predictor routes under `/api/analytics/predict`: train (admin), predict
//! for a context, list the stored models, one model. The predictor reads every project's
//! `skill` events, so a key limited to projects is refused.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tally_predict::skill::SkillQuery;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams, blocking_json};
use super::{AppState, Param, Produces, Route};
use crate::{TrainRequest, parse_instant};

const TRAIN_PARAMS: &[Param] = &[
    Param {
        name: "days",
        in_path: false,
        description: "days of the training window (default 30, at most 3650)",
    },
    Param {
        name: "at",
        in_path: false,
        description: "end of the window, exclusive (RFC 3339 or YYYY-MM-DD; default now)",
    },
];

const SKILL_PARAMS: &[Param] = &[
    Param {
        name: "user",
        in_path: false,
        description: "the user id (required)",
    },
    Param {
        name: "skill",
        in_path: false,
        description: "the skill (required)",
    },
    Param {
        name: "phase",
        in_path: false,
        description: "the workflow phase (planning, execution, review, ...)",
    },
    Param {
        name: "session",
        in_path: false,
        description: "the session id, for the session length (none: 0)",
    },
    Param {
        name: "at",
        in_path: false,
        description: "the instant of the invocation (RFC 3339; default now)",
    },
    Param {
        name: "version",
        in_path: false,
        description: "the model version (default: the latest)",
    },
];

const VERSION: Param = Param {
    name: "version",
    in_path: true,
    description: "the model version",
};

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::POST,
            path: "/api/analytics/predict/train".into(),
            access: Access::Admin,
            summary: "Train the skill success predictor on the stored skill events of a window (most recent 20 % held out) and store the model with its holdout metrics".into(),
            params: TRAIN_PARAMS,
            produces: Produces::Json("PredictTrainReport"),
            body: None,
            handler: post(train),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/predict/skill".into(),
            access: Access::Read,
            summary: "The probability that a user completes a skill in a context, with the model version and the features used".into(),
            params: SKILL_PARAMS,
            produces: Produces::Json("SkillPrediction"),
            body: None,
            handler: get(skill),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/predict/models".into(),
            access: Access::Read,
            summary: "Every stored success-predictor model: version, window, sizes, parameters and holdout metrics".into(),
            params: &[],
            produces: Produces::Json("PredictModel[]"),
            body: None,
            handler: get(models),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/predict/models/{version}".into(),
            access: Access::Read,
            summary: "One stored success-predictor model's description".into(),
            params: &[VERSION],
            produces: Produces::Json("PredictModel"),
            body: None,
            handler: get(model),
        },
    ]
}

/// A predictor error as an API answer.
fn api_error(error: crate::Error) -> ApiError {
    match error {
        crate::Error::Predict(error) => {
            let message = error.to_string();
            match error {
                tally_predict::Error::TooLittleData { .. } => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_little_data", message)
                }
                tally_predict::Error::NoModel(_) => {
                    ApiError::new(StatusCode::NOT_FOUND, "no_model", message)
                }
                tally_predict::Error::Input(_) => ApiError::bad_request("bad_query", message),
                other => ApiError::internal(&other),
            }
        }
        other => other.into(),
    }
}

/// The predictor reads every project: a key limited to some may not use it.
fn every_project(principal: &Principal) -> Result<(), ApiError> {
    match principal.allowed_projects() {
        None => Ok(()),
        Some(projects) => Err(ApiError::forbidden(
            "all_projects_required",
            format!(
                "the success predictor reads the skill events of every project; this key is \
                 limited to {}: use a key without project limits",
                projects.join(", ")
            ),
        )),
    }
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("bad_query", message)
}

fn number<T: std::str::FromStr>(pairs: &QueryParams, name: &str) -> Result<Option<T>, ApiError> {
    pairs
        .get(name)
        .map(|text| {
            text.parse::<T>()
                .map_err(|_| bad(format!("{name} must be a whole number, got {text:?}")))
        })
        .transpose()
}

fn instant(
    pairs: &QueryParams,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    pairs
        .get(name)
        .map(|text| parse_instant(text, name, false).map_err(|e| bad(e.to_string())))
        .transpose()
}

/// The body, if any, is read and ignored, so the connection stays reusable.
async fn train(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
    _body: Bytes,
) -> Result<Json<Value>, ApiError> {
    every_project(&principal)?;
    let pairs = QueryParams::parse(query)?;
    let request = TrainRequest {
        days: number(&pairs, "days")?,
        at: instant(&pairs, "at")?,
    };
    blocking_json(
        &state,
        move |analytics| analytics.train_predictor(request),
        api_error,
    )
    .await
}

async fn skill(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    every_project(&principal)?;
    let pairs = QueryParams::parse(query)?;
    let required = |name: &str| {
        pairs
            .get(name)
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("{name} is required: ?user=USER&skill=SKILL")))
    };
    let optional = |name: &str| pairs.get(name).map(str::to_owned);
    let at = instant(&pairs, "at")?;
    let (user, skill) = (required("user")?, required("skill")?);
    let (phase, session) = (optional("phase"), optional("session"));
    let version = number(&pairs, "version")?;
    blocking_json(
        &state,
        move |analytics| {
            analytics.predict_skill(&SkillQuery {
                at: at.unwrap_or(analytics.view_options().now),
                user,
                skill,
                phase,
                session,
                version,
            })
        },
        api_error,
    )
    .await
}

async fn models(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    every_project(&principal)?;
    blocking_json(&state, |analytics| analytics.predictor_models(), api_error).await
}

async fn model(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(version): Path<String>,
) -> Result<Json<Value>, ApiError> {
    every_project(&principal)?;
    let version: i64 = version
        .parse()
        .map_err(|_| bad(format!("version must be a whole number, got {version:?}")))?;
    blocking_json(
        &state,
        move |analytics| analytics.predictor_model(Some(version)),
        api_error,
    )
    .await
}
