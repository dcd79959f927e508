//! The facade's success-predictor methods: train on stored `skill` events and keep the
//! model, predict for a context, list the stored models; and the file-only pair, fit a
//! forest on a feature CSV and score one. The predictor lives in
//! `tally_predict::skill` and `tally_predict::forest`.

use std::io::Read;

use chrono::{DateTime, Utc};
use tally_predict::skill::{self, ModelInfo, Prediction, SkillQuery, TrainConfig, TrainReport};
use tally_predict::{ForestParams, RandomForest, read_feature_csv};

use crate::{Analytics, Result};

/// What `tally predict train` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrainRequest {
    /// Days of the window (default [`skill::train::DEFAULT_DAYS`]).
    pub days: Option<u32>,
    /// End of the window, exclusive (default: now).
    pub at: Option<DateTime<Utc>>,
}

impl Analytics {
    /// Trains the success predictor on the stored `skill` events of the window, holding
    /// out the most recent 20 %, and stores the model with a new version.
    ///
    /// # Errors
    /// Too little data in the window (nothing stored), or a storage failure.
    pub fn train_predictor(&self, request: TrainRequest) -> Result<TrainReport> {
        let now = self.view_options().now;
        let mut config = TrainConfig::ending_at(request.at.unwrap_or(now));
        if let Some(days) = request.days {
            config.days = days;
        }
        self.observe_write(skill::train(&*self.store, &*self.store, &config, now))
    }

    /// The probability that `query.user` completes `query.skill` at `query.at`, by the
    /// latest stored model (or `query.version`).
    ///
    /// # Errors
    /// No stored model, or a storage failure.
    pub fn predict_skill(&self, query: &SkillQuery) -> Result<Prediction> {
        Ok(skill::predict(&*self.store, &*self.store, query)?)
    }

    /// Every stored model's description, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub fn predictor_models(&self) -> Result<Vec<ModelInfo>> {
        Ok(skill::models(&*self.store)?)
    }

    /// One stored model's description (the latest when `version` is `None`).
    ///
    /// # Errors
    /// No such model, or a storage failure.
    pub fn predictor_model(&self, version: Option<i64>) -> Result<ModelInfo> {
        Ok(skill::model_info(&*self.store, version)?)
    }
}

/// Fits a forest on a labelled feature CSV (`tally predict fit`).
///
/// # Errors
/// A malformed CSV (line and column named), a single class, or bad parameters.
pub fn fit_feature_csv(csv: impl Read, params: &ForestParams) -> Result<RandomForest> {
    let table = read_feature_csv(csv, true)?;
    let labels = table.y.unwrap_or_default();
    let forest = RandomForest::fit(params, &table.x.view(), &labels)?
        .with_feature_names(&tally_predict::FEATURE_NAMES)?;
    Ok(forest)
}

/// One probability per row of a feature CSV, in input order (`tally predict score`).
///
/// # Errors
/// A malformed CSV (line and column named).
pub fn score_feature_csv(forest: &RandomForest, csv: impl Read) -> Result<Vec<f64>> {
    let table = read_feature_csv(csv, false)?;
    forest.check_rows(&table.x.view())?;
    Ok(forest.predict_proba(&table.x.view()))
}
