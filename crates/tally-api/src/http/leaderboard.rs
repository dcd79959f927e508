//! Leaderboards, the achievements catalogue and the leaderboard opt-out under
//! `/api/analytics/learning/...` (`docs/learning.md`, "Leaderboards"). Each works in one
//! project as the other learning routes do: `?project=`, else the key's only one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::Method;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::learning::{at, blocking, learner_path, scoped};
use super::params::one_of;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::{
    DEFAULT_LEADERBOARD, LeaderboardBy, MAX_LEADERBOARD, category_from_name, category_names,
};

const PROJECT: Param = Param {
    name: "project",
    in_path: false,
    description: "only this project's learners and sessions (a key limited to one project: that one)",
};
const AT: Param = Param {
    name: "at",
    in_path: false,
    description: "answer as of this instant (RFC 3339) or the end of this day (YYYY-MM-DD); default now",
};

const LEADERBOARD_PARAMS: &[Param] = &[
    PROJECT,
    Param {
        name: "by",
        in_path: false,
        description: "streak (current, in active days; default), sessions or points (of the achievements unlocked)",
    },
    Param {
        name: "limit",
        in_path: false,
        description: "the best this many (1 to 100, default 10)",
    },
    AT,
];

const CATALOGUE_PARAMS: &[Param] = &[
    Param {
        name: "learner",
        in_path: false,
        description: "a learner whose state and progress toward each achievement to add",
    },
    Param {
        name: "category",
        in_path: false,
        description: "only this category: streak, sessions, quality, topics, goals or milestones",
    },
    PROJECT,
    AT,
];

const OPT_OUT_PARAMS: &[Param] = &[
    Param {
        name: "user",
        in_path: true,
        description: "the learner's user id",
    },
    PROJECT,
];

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/leaderboard".into(),
            access: Access::Read,
            summary: "The project's learners ranked by current streak, sessions or points; ties share a rank, ordered by user id; learners who opted out never appear".into(),
            params: LEADERBOARD_PARAMS,
            produces: Produces::Json("Leaderboard"),
            body: None,
            handler: get(leaderboard),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/achievements/catalogue".into(),
            access: Access::Read,
            summary: "Every achievement, locked ones included, with a learner's progress toward each when `learner` is given".into(),
            params: CATALOGUE_PARAMS,
            produces: Produces::Json("AchievementCatalogue"),
            body: None,
            handler: get(catalogue),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/learning/users/{user}/leaderboard".into(),
            access: Access::Ingest,
            summary: "Opt a learner out of leaderboards or back in: {\"opt_out\": true|false}".into(),
            params: OPT_OUT_PARAMS,
            produces: Produces::Json("LeaderboardOptOut"),
            body: Some("a JSON object with opt_out"),
            handler: post(opt_out),
        },
    ]
}

async fn leaderboard(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let names = LeaderboardBy::ALL.map(LeaderboardBy::name);
    let by = match pairs.get("by") {
        None => LeaderboardBy::Streak,
        Some(name) => {
            LeaderboardBy::from_name(one_of("by", name, &names)?).unwrap_or(LeaderboardBy::Streak)
        }
    };
    let limit = match pairs.get("limit") {
        None => DEFAULT_LEADERBOARD,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LEADERBOARD).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!("limit: expected a number from 1 to {MAX_LEADERBOARD}, got {text:?}"),
                )
                .with_details(json!({"parameter": "limit", "value": text}))
            })?,
    };
    let at = at(&pairs)?;
    let analytics = scoped(&state, &principal, &pairs, "read").await?;
    blocking(analytics, move |analytics| {
        analytics.learning_leaderboard(by, limit, at)
    })
    .await
}

async fn catalogue(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let category = match pairs.get("category") {
        None => None,
        Some(name) => {
            let names = category_names();
            let accepted: Vec<&str> = names.iter().map(String::as_str).collect();
            category_from_name(one_of("category", name, &accepted)?)
        }
    };
    let learner = pairs.get("learner").map(str::to_owned);
    let at = at(&pairs)?;
    let analytics = scoped(&state, &principal, &pairs, "read").await?;
    blocking(analytics, move |analytics| {
        analytics.achievement_catalogue(learner.as_deref(), category, at)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptOut {
    opt_out: bool,
}

async fn opt_out(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    let analytics = scoped(&state, &principal, &QueryParams::parse(query)?, "use").await?;
    let asked: OptOut = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("bad_opt_out", format!("body: {e}")))?;
    let known = {
        let (analytics, user) = (analytics.clone(), user.clone());
        tokio::task::spawn_blocking(move || analytics.knows_learner(&user)).await??
    };
    if !known {
        // A key limited to a project changes only its own learners.
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_learner",
            format!("user {user:?}: no learner of this project"),
        ));
    }
    blocking(analytics, move |analytics| {
        analytics.set_learner_opt_out(&user, asked.opt_out)?;
        Ok(json!({"user": user, "opted_out": analytics.learner_opted_out(&user)?}))
    })
    .await
}
