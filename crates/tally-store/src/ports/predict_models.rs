//! The port that keeps the success predictor's trained models.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;

/// A trained success-predictor model to store; the store assigns its version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPredictModel {
    pub created_at: DateTime<Utc>,
    /// The training window: `from` inclusive, `to` exclusive.
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub n_train: u64,
    pub n_holdout: u64,
    /// The training parameters, a JSON document.
    pub params: String,
    /// The holdout metrics, a JSON document.
    pub metrics: String,
    /// The serialized model.
    pub model: Vec<u8>,
}

/// A stored model's description, without the model itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictModelInfo {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub n_train: u64,
    pub n_holdout: u64,
    pub params: String,
    pub metrics: String,
}

/// Keeps the success predictor's trained models, numbered 1, 2, ... in training order.
pub trait PredictModelStore: Send + Sync {
    /// Stores a model and returns its version.
    ///
    /// # Errors
    /// Any storage failure.
    fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64>;

    /// Every stored model's description, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn predict_models(&self) -> Result<Vec<PredictModelInfo>>;

    /// A model by version (the latest when `None`) with its bytes; `None` when there
    /// is no such model.
    ///
    /// # Errors
    /// Any storage failure.
    fn predict_model(&self, version: Option<i64>) -> Result<Option<(PredictModelInfo, Vec<u8>)>>;
}
