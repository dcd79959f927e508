//! A prediction for one context: its features from the stored invocations before the
//! instant, scored by a stored model.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_store::{PredictModelStore, SkillHistoryReader};

use super::features::{Context, Features};
use super::history::context_features;
use super::model::load;
use crate::Result;

/// What to predict for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillQuery {
    pub user: String,
    pub skill: String,
    pub phase: Option<String>,
    /// The session the invocation belongs to; none counts as a session length of 0.
    pub session: Option<String>,
    pub at: DateTime<Utc>,
    /// The model to use; the latest when `None`.
    pub version: Option<i64>,
}

/// The probability that the invocation completes, and what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub probability: f64,
    pub model_version: i64,
    pub user: String,
    pub skill: String,
    pub phase: Option<String>,
    pub session: Option<String>,
    pub at: DateTime<Utc>,
    pub features: Features,
}

/// Predicts whether an invocation in the query's context completes.
///
/// # Errors
/// [`crate::Error::NoModel`] without a (matching) stored model, a stored model that
/// cannot be read, or a storage failure.
pub fn predict(
    reader: &dyn SkillHistoryReader,
    store: &dyn PredictModelStore,
    query: &SkillQuery,
) -> Result<Prediction> {
    let (info, forest) = load(store, query.version)?;
    let features = context_features(
        reader,
        &Context {
            ts: query.at,
            user: &query.user,
            skill: &query.skill,
            phase: query.phase.as_deref(),
            session: query.session.as_deref(),
        },
    )?;
    Ok(Prediction {
        probability: forest.predict_proba_row(&features.row()),
        model_version: info.version,
        user: query.user.clone(),
        skill: query.skill.clone(),
        phase: query.phase.clone(),
        session: query.session.clone(),
        at: query.at,
        features,
    })
}
