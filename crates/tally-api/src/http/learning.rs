//! The learning routes under `/api/analytics/learning/...`: learners, progress, and one
//! learner's streak, topic mastery, goals, achievements and insights, each answered as of `?at=`
//! (default now). Every route works in one project (`?project=`, else the key's only one)
//! or, for a key not limited to projects that names none, in all of them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams, download};
use super::{AppState, Param, Produces, Route};
use crate::{Analytics, LearningExport, LearningExportFormat, LearningPeriod, parse_instant};

const USER: Param = Param {
    name: "user",
    in_path: true,
    description: "the learner's user id",
};

const AT: Param = Param {
    name: "at",
    in_path: false,
    description: "answer as of this instant (RFC 3339) or the end of this day (YYYY-MM-DD); default now",
};

const PROJECT: Param = Param {
    name: "project",
    in_path: false,
    description: "only this project's sessions and goals (a key limited to one project: that one)",
};

const LEARNER_PARAMS: &[Param] = &[USER, PROJECT, AT];

const LEARNERS_PARAMS: &[Param] = &[PROJECT];

const GOAL_PARAMS: &[Param] = &[
    USER,
    Param {
        name: "id",
        in_path: true,
        description: "the goal id",
    },
    PROJECT,
];

const REPORT_PARAMS: &[Param] = &[
    USER,
    PROJECT,
    Param {
        name: "period",
        in_path: false,
        description: "week (ISO, default) or month: the last complete one before `at`, in the learner's time zone",
    },
    Param {
        name: "format",
        in_path: false,
        description: "html (default), markdown, json or pdf (a download)",
    },
    AT,
];

const EXPORT_PARAMS: &[Param] = &[
    USER,
    PROJECT,
    Param {
        name: "what",
        in_path: false,
        description: "progress, goals or achievements",
    },
    Param {
        name: "format",
        in_path: false,
        description: "json (default) or csv (formula cells made inert)",
    },
    Param {
        name: "from",
        in_path: false,
        description: "start of the range, inclusive (RFC 3339 or YYYY-MM-DD)",
    },
    Param {
        name: "to",
        in_path: false,
        description: "end of the range, exclusive (a day YYYY-MM-DD is included); default now",
    },
    Param {
        name: "period",
        in_path: false,
        description: "progress per day (default), week (ISO) or month",
    },
];

const PROGRESS_PARAMS: &[Param] = &[
    Param {
        name: "user",
        in_path: false,
        description: "one learner (default: every learner)",
    },
    PROJECT,
    Param {
        name: "period",
        in_path: false,
        description: "day, week (ISO) or month, in the learner's time zone (default week)",
    },
    AT,
];

pub fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/learners".into(),
            access: Access::Read,
            summary: "Every user with at least one session: {\"learners\": [user, ...]}".into(),
            params: LEARNERS_PARAMS,
            produces: Produces::Json("Learners"),
            body: None,
            handler: get(learners),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/progress".into(),
            access: Access::Read,
            summary: "Sessions, exchanges, minutes, average quality and topics, overall and per local day, ISO week or month".into(),
            params: PROGRESS_PARAMS,
            produces: Produces::Json("LearningProgress"),
            body: None,
            handler: get(progress),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/streak".into(),
            access: Access::Read,
            summary: "A learner's current and longest streak in days, with the grace period and freezes".into(),
            params: LEARNER_PARAMS,
            produces: Produces::Json("LearningStreak"),
            body: None,
            handler: get(streak),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/mastery".into(),
            access: Access::Read,
            summary: "A learner's mastery score, level and share per topic".into(),
            params: LEARNER_PARAMS,
            produces: Produces::Json("LearningMastery"),
            body: None,
            handler: get(mastery),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/goals".into(),
            access: Access::Read,
            summary: "A learner's goals with progress, milestones and status".into(),
            params: LEARNER_PARAMS,
            produces: Produces::Json("LearningGoal[]"),
            body: None,
            handler: get(goals),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/learning/users/{user}/goals/create".into(),
            access: Access::Ingest,
            summary: "Set a goal: {\"kind\": streak|sessions|exchanges|quality|topics|minutes, \"target\", \"title\"?, \"deadline\"?}".into(),
            params: &[USER, PROJECT],
            produces: Produces::Json("LearningGoal"),
            body: Some("a JSON object with kind and target"),
            handler: post(create_goal),
        },
        Route {
            method: Method::POST,
            path: "/api/analytics/learning/users/{user}/goals/{id}/update".into(),
            access: Access::Ingest,
            summary: "Change a goal: any of \"target\", \"title\", \"deadline\", \"state\" (active, paused, abandoned)".into(),
            params: GOAL_PARAMS,
            produces: Produces::Json("LearningGoal"),
            body: Some("a JSON object with the fields to change"),
            handler: post(update_goal),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/achievements".into(),
            access: Access::Read,
            summary: "A learner's unlocked achievements with points and rarity, and the next ones within reach".into(),
            params: LEARNER_PARAMS,
            produces: Produces::Json("LearningAchievements"),
            body: None,
            handler: get(achievements),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/dashboard".into(),
            access: Access::Read,
            summary: "Everything the learner page shows: streak, goals, achievements, weekly progress, topics, the 12-week heatmap and quality trend".into(),
            params: LEARNER_PARAMS,
            produces: Produces::Json("LearnerDashboard"),
            body: None,
            handler: get(dashboard),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/export".into(),
            access: Access::Read,
            summary: "A learner's progress, goals or achievements over a date range, as a JSON or CSV download".into(),
            params: EXPORT_PARAMS,
            produces: Produces::Download,
            body: None,
            handler: get(export),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/report".into(),
            access: Access::Read,
            summary: "A learner's weekly or monthly progress report against the period before: sessions, minutes, quality, streak, goals, achievements, topics".into(),
            params: REPORT_PARAMS,
            produces: Produces::Download,
            body: None,
            handler: get(report),
        },
        Route {
            method: Method::GET,
            path: "/api/analytics/learning/users/{user}/insights".into(),
            access: Access::Read,
            summary: "Findings about a learner, most urgent first, with the numbers that triggered them".into(),
            params: LEARNER_PARAMS,
            produces: Produces::Json("LearnerInsight[]"),
            body: None,
            handler: get(insights),
        },
    ]
}

fn period(pairs: &QueryParams, default: &str) -> Result<LearningPeriod, ApiError> {
    match pairs.get("period").unwrap_or(default) {
        "day" => Ok(LearningPeriod::Day),
        "week" => Ok(LearningPeriod::IsoWeek),
        "month" => Ok(LearningPeriod::Month),
        other => Err(ApiError::bad_request(
            "bad_query",
            format!("period must be day, week or month, got {other:?}"),
        )),
    }
}

pub(super) fn at(pairs: &QueryParams) -> Result<Option<DateTime<Utc>>, ApiError> {
    pairs
        .get("at")
        .map(|text| parse_instant(text, "at", true))
        .transpose()
        .map_err(ApiError::from)
}

/// The facade limited to the project the caller works in: `?project=`, else the key's
/// only project; every project for a key not limited to projects that names none.
pub(super) async fn scoped(
    state: &AppState,
    principal: &Principal,
    pairs: &QueryParams,
    verb: &str,
) -> Result<Analytics, ApiError> {
    let asked = pairs.get("project").map(str::to_owned);
    let project = principal.project(asked.clone(), verb)?;
    let analytics = state.analytics.limited_to_project(project);
    if verb == "read" && asked.is_some() {
        // A project asked by name that has no data is an error, never an empty answer.
        let checked = analytics.clone();
        tokio::task::spawn_blocking(move || checked.check_project_limit()).await??;
    }
    Ok(analytics)
}

/// Runs a facade call on a blocking thread and answers its value as JSON.
pub(super) async fn blocking<T: serde::Serialize + Send + 'static>(
    analytics: Analytics,
    call: impl FnOnce(&Analytics) -> crate::Result<T> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let value = tokio::task::spawn_blocking(move || call(&analytics)).await??;
    Ok(Json(serde_json::to_value(value)?))
}

async fn learners(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let analytics = scoped(&state, &principal, &QueryParams::parse(query)?, "read").await?;
    blocking(analytics, |analytics| {
        Ok(serde_json::json!({ "learners": analytics.learners()? }))
    })
    .await
}

async fn progress(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, &pairs, "read").await?;
    let period = period(&pairs, "week")?;
    let user = pairs.get("user").map(str::to_owned);
    let at = at(&pairs)?;
    blocking(analytics, move |analytics| {
        analytics.learning_progress(user.as_deref(), period, at)
    })
    .await
}

/// A learner's view as of `?at=` (now by default): one facade call on a blocking thread.
async fn learner_view<T: serde::Serialize + Send + 'static>(
    state: &AppState,
    principal: &Principal,
    user: String,
    query: QueryPairs,
    view: fn(&Analytics, &str, Option<DateTime<Utc>>) -> crate::Result<T>,
) -> Result<Json<Value>, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(state, principal, &pairs, "read").await?;
    let at = at(&pairs)?;
    blocking(analytics, move |analytics| view(analytics, &user, at)).await
}

/// The path's learner, or a JSON 400 naming what was wrong with it.
pub(super) fn learner_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(user)| user)
        .map_err(|e| ApiError::bad_request("bad_path", format!("user: {}", e.body_text())))
}

async fn streak(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    learner_view(&state, &principal, user, query, Analytics::learning_streak).await
}

async fn mastery(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    learner_view(&state, &principal, user, query, Analytics::learning_mastery).await
}

async fn goals(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    learner_view(&state, &principal, user, query, Analytics::learning_goals).await
}

async fn achievements(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    learner_view(
        &state,
        &principal,
        user,
        query,
        Analytics::learning_achievements,
    )
    .await
}

async fn dashboard(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    learner_view(
        &state,
        &principal,
        user,
        query,
        Analytics::learner_dashboard,
    )
    .await
}

async fn export(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let user = learner_path(user)?;
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, &pairs, "read").await?;
    let instant = |name: &'static str, end_of_day: bool| {
        pairs
            .get(name)
            .map(|text| parse_instant(text, name, end_of_day))
            .transpose()
            .map_err(ApiError::from)
    };
    let export = LearningExport {
        kind: pairs.get("what").unwrap_or("progress").parse()?,
        format: pairs.get("format").unwrap_or("json").parse()?,
        from: instant("from", false)?,
        to: instant("to", true)?,
        period: period(&pairs, "day")?,
        user,
    };
    let (content_type, extension) = match export.format {
        LearningExportFormat::Json => ("application/json", "json"),
        LearningExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let safe_user = safe_name(&export.user);
    let what = pairs.get("what").unwrap_or("progress").to_owned();
    let body = tokio::task::spawn_blocking(move || analytics.learning_export(&export))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(download(
        content_type,
        &format!("tally-learning-{safe_user}-{what}.{extension}"),
        body,
    ))
}

/// A user name as a file name: letters, digits, `-` and `_` kept, the rest `_`.
fn safe_name(user: &str) -> String {
    user.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let user = learner_path(user)?;
    let pairs = QueryParams::parse(query)?;
    let analytics = scoped(&state, &principal, &pairs, "read").await?;
    let period: crate::LearnerReportPeriod = pairs.get("period").unwrap_or("week").parse()?;
    let format: crate::LearnerReportFormat = pairs.get("format").unwrap_or("html").parse()?;
    let at = at(&pairs)?;
    let file = format!(
        "tally-learner-{}-{}.{}",
        safe_name(&user),
        match period {
            crate::LearnerReportPeriod::Week => "week",
            crate::LearnerReportPeriod::Month => "month",
        },
        format.name()
    );
    let body = tokio::task::spawn_blocking(move || {
        analytics.learner_report_document(&user, period, at, format)
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(super::reports::report_response(body, format, &file))
}

async fn insights(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    learner_view(
        &state,
        &principal,
        user,
        query,
        Analytics::learning_insights,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGoal {
    kind: String,
    target: f64,
    title: Option<String>,
    deadline: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalChange {
    target: Option<f64>,
    title: Option<String>,
    deadline: Option<String>,
    state: Option<String>,
}

fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request("bad_goal", e.to_string()))
}

fn deadline(text: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    text.map(|t| parse_instant(t, "deadline", true))
        .transpose()
        .map_err(ApiError::from)
}

async fn create_goal(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    user: Result<Path<String>, PathRejection>,
    query: QueryPairs,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let user = learner_path(user)?;
    let analytics = scoped(&state, &principal, &QueryParams::parse(query)?, "use").await?;
    let goal: NewGoal = body(&bytes)?;
    let due = deadline(goal.deadline.as_deref())?;
    blocking(analytics, move |analytics| {
        analytics.create_learning_goal(&user, &goal.kind, goal.target, goal.title, due)
    })
    .await
}

async fn update_goal(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: QueryPairs,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Path((user, id)) = path.map_err(|e| ApiError::bad_request("bad_path", e.body_text()))?;
    let id: i64 = id.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_path",
            format!("id: the goal id must be an integer, got {id:?}"),
        )
    })?;
    let analytics = scoped(&state, &principal, &QueryParams::parse(query)?, "use").await?;
    let change: GoalChange = body(&bytes)?;
    if let Some(state) = change.state.as_deref() {
        if !["active", "paused", "abandoned"].contains(&state) {
            return Err(ApiError::bad_request(
                "bad_goal",
                format!("state must be active, paused or abandoned, got {state:?}"),
            ));
        }
    }
    let due = deadline(change.deadline.as_deref())?;
    blocking(analytics, move |analytics| {
        let mut goal =
            analytics.update_learning_goal(&user, id, change.target, change.title, due)?;
        if let Some(state) = change.state.as_deref() {
            if state != goal.goal.state {
                goal = analytics.set_learning_goal_state(&user, id, state)?;
            }
        }
        Ok(goal)
    })
    .await
}
