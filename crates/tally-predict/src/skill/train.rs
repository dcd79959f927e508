//! Training on a window of stored invocations: features in time order, the most recent
//! share held out, a random forest fitted on the rest, its holdout metrics, and the
//! model stored with a new version.
//!
//! A window trains only with at least [`MIN_ROWS`] invocations, at least
//! [`MIN_PER_CLASS`] of them completed and as many not completed, and both outcomes in
//! the training part and in the holdout; otherwise [`Error::TooLittleData`] says which
//! condition failed and nothing is stored.

use chrono::{DateTime, Duration, Utc};
use ndarray::{Array2, Axis};
use serde::Serialize;
use tally_store::{NewPredictModel, PredictModelStore, SkillHistoryReader};

use super::features::{Dataset, FEATURE_COUNT, FEATURES};
use super::history::window_dataset;
use crate::quality::{CalibrationBin, brier_score, calibration_table, log_loss, roc_auc};
use crate::{Error, ForestParams, RandomForest, Result};

/// The training window's default length.
pub const DEFAULT_DAYS: u32 = 30;
/// The share of the window's invocations, the most recent, held out for the metrics.
pub const HOLDOUT_SHARE: f64 = 0.2;
/// Fewest invocations a window must hold.
pub const MIN_ROWS: usize = 200;
/// Fewest completed, and fewest not completed, invocations a window must hold.
pub const MIN_PER_CLASS: usize = 20;
/// Equal-width bins of the calibration table.
pub const CALIBRATION_BINS: usize = 10;

/// What to train on and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// The window is the `days` days before `at`: `[at - days, at)`.
    pub days: u32,
    pub at: DateTime<Utc>,
    pub holdout_share: f64,
    pub forest: ForestParams,
}

impl TrainConfig {
    /// The default window ending at `at`, 100 trees, seed 0.
    pub fn ending_at(at: DateTime<Utc>) -> TrainConfig {
        TrainConfig {
            days: DEFAULT_DAYS,
            at,
            holdout_share: HOLDOUT_SHARE,
            forest: ForestParams::default(),
        }
    }
}

/// The parameters stored with a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainParams {
    pub days: u32,
    pub holdout_share: f64,
    pub features: [&'static str; FEATURE_COUNT],
    pub forest: ForestParams,
}

/// Completed and not completed invocations of the training part and the holdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClassBalance {
    pub train_completed: usize,
    pub train_failed: usize,
    pub holdout_completed: usize,
    pub holdout_failed: usize,
}

/// A feature's share of the forest's impurity decrease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureImportance {
    pub feature: &'static str,
    pub importance: f64,
}

/// How the model did on the holdout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutMetrics {
    pub roc_auc: f64,
    pub log_loss: f64,
    pub brier_score: f64,
    /// The holdout's completion share: the Brier score of always predicting it is
    /// `base_rate · (1 - base_rate)`.
    pub base_rate: f64,
    pub calibration: Vec<CalibrationBin>,
    pub feature_importances: Vec<FeatureImportance>,
    pub class_balance: ClassBalance,
    /// The first instant of the holdout.
    pub holdout_from: DateTime<Utc>,
}

/// A trained and stored model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub n_train: usize,
    pub n_holdout: usize,
    pub params: TrainParams,
    pub metrics: HoldoutMetrics,
    /// Size of the stored model.
    pub model_bytes: usize,
}

/// The longest training window: ten years of skill events.
pub const MAX_DAYS: u32 = 3650;

/// Trains on the window of `config`, stores the model and returns its report.
///
/// # Errors
/// [`Error::TooLittleData`] (nothing stored), an invalid `holdout_share` or forest
/// parameter, or a storage failure.
pub fn train(
    reader: &dyn SkillHistoryReader,
    store: &dyn PredictModelStore,
    config: &TrainConfig,
    now: DateTime<Utc>,
) -> Result<TrainReport> {
    if !(config.holdout_share > 0.0 && config.holdout_share < 1.0) {
        return Err(Error::Input(format!(
            "holdout share {}: expected more than 0 and less than 1",
            config.holdout_share
        )));
    }
    if !(1..=MAX_DAYS).contains(&config.days) {
        return Err(Error::Input(format!(
            "days: expected 1 to {MAX_DAYS} (ten years), got {}",
            config.days
        )));
    }
    let window_to = config.at;
    let window_from = window_to - Duration::days(i64::from(config.days));
    let dataset = window_dataset(reader, window_from, window_to)?;
    let too_little = |detail: String| Error::TooLittleData {
        from: window_from,
        to: window_to,
        detail,
    };
    let (rows, completed) = (dataset.len(), dataset.completed());
    if rows < MIN_ROWS || completed < MIN_PER_CLASS || rows - completed < MIN_PER_CLASS {
        return Err(too_little(format!(
            "{rows} invocations, {completed} completed and {} not; training needs at least \
             {MIN_ROWS}, with at least {MIN_PER_CLASS} of each outcome",
            rows - completed
        )));
    }
    let n_holdout = ((rows as f64 * config.holdout_share).round() as usize).clamp(1, rows - 1);
    let n_train = rows - n_holdout;
    let balance = class_balance(&dataset, n_train);
    if balance.train_completed == 0 || balance.train_failed == 0 {
        return Err(too_little(format!(
            "the training part (the oldest {n_train} invocations) has only one outcome"
        )));
    }
    if balance.holdout_completed == 0 || balance.holdout_failed == 0 {
        return Err(too_little(format!(
            "the holdout (the most recent {n_holdout} invocations) has only one outcome, so \
             the model cannot be scored"
        )));
    }

    let x = matrix(&dataset)?;
    let (train_x, holdout_x) = x.view().split_at(Axis(0), n_train);
    let (train_y, holdout_y) = dataset.labels.split_at(n_train);
    let forest =
        RandomForest::fit(&config.forest, &train_x, train_y)?.with_feature_names(&FEATURES)?;
    let p = forest.predict_proba(&holdout_x);
    let undefined = |what: &str| Error::Input(format!("{what} of the holdout is undefined"));
    let metrics = HoldoutMetrics {
        roc_auc: roc_auc(holdout_y, &p).ok_or_else(|| undefined("ROC AUC"))?,
        log_loss: log_loss(holdout_y, &p).ok_or_else(|| undefined("log loss"))?,
        brier_score: brier_score(holdout_y, &p).ok_or_else(|| undefined("Brier score"))?,
        base_rate: balance.holdout_completed as f64 / n_holdout as f64,
        calibration: calibration_table(holdout_y, &p, CALIBRATION_BINS),
        feature_importances: FEATURES
            .iter()
            .zip(forest.feature_importances())
            .map(|(&feature, &importance)| FeatureImportance {
                feature,
                importance,
            })
            .collect(),
        class_balance: balance,
        holdout_from: dataset.times[n_train],
    };
    let params = TrainParams {
        days: config.days,
        holdout_share: config.holdout_share,
        features: FEATURES,
        forest: config.forest.clone(),
    };
    let json = |what: &str, error: serde_json::Error| {
        Error::Input(format!("cannot serialize the {what}: {error}"))
    };
    let model = forest.to_bytes();
    let model_bytes = model.len();
    let version = store.save_predict_model(&NewPredictModel {
        created_at: now,
        window_from,
        window_to,
        n_train: n_train as u64,
        n_holdout: n_holdout as u64,
        params: serde_json::to_string(&params).map_err(|e| json("parameters", e))?,
        metrics: serde_json::to_string(&metrics).map_err(|e| json("metrics", e))?,
        model,
    })?;
    Ok(TrainReport {
        version,
        created_at: now,
        window_from,
        window_to,
        n_train,
        n_holdout,
        params,
        metrics,
        model_bytes,
    })
}

fn class_balance(dataset: &Dataset, n_train: usize) -> ClassBalance {
    let count = |labels: &[bool]| labels.iter().filter(|&&done| done).count();
    let (train, holdout) = dataset.labels.split_at(n_train);
    ClassBalance {
        train_completed: count(train),
        train_failed: train.len() - count(train),
        holdout_completed: count(holdout),
        holdout_failed: holdout.len() - count(holdout),
    }
}

/// The dataset's rows as a rows × features matrix.
fn matrix(dataset: &Dataset) -> Result<Array2<f64>> {
    let flat: Vec<f64> = dataset.rows.iter().flatten().copied().collect();
    Array2::from_shape_vec((dataset.len(), FEATURE_COUNT), flat)
        .map_err(|e| Error::Input(format!("feature matrix: {e}")))
}
