//! Stored models: their descriptions (parameters and holdout metrics as JSON) and
//! reading one back as a forest.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tally_store::{PredictModelInfo, PredictModelStore};

use crate::{Error, RandomForest, Result};

/// A stored model's description.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub n_train: u64,
    pub n_holdout: u64,
    /// [`super::train::TrainParams`] as stored.
    pub params: Value,
    /// [`super::train::HoldoutMetrics`] as stored.
    pub metrics: Value,
}

impl ModelInfo {
    fn from_stored(stored: PredictModelInfo) -> Result<ModelInfo> {
        let version = stored.version;
        let parse = |what: &str, text: &str| {
            serde_json::from_str(text).map_err(|e| Error::ModelFormat {
                version,
                message: format!("{what}: {e}"),
            })
        };
        Ok(ModelInfo {
            params: parse("params", &stored.params)?,
            metrics: parse("metrics", &stored.metrics)?,
            version,
            created_at: stored.created_at,
            window_from: stored.window_from,
            window_to: stored.window_to,
            n_train: stored.n_train,
            n_holdout: stored.n_holdout,
        })
    }
}

/// Every stored model's description, oldest first.
///
/// # Errors
/// A storage failure or a stored description that is not JSON.
pub fn models(store: &dyn PredictModelStore) -> Result<Vec<ModelInfo>> {
    store
        .predict_models()?
        .into_iter()
        .map(ModelInfo::from_stored)
        .collect()
}

/// The description of model `version` (the latest when `None`).
///
/// # Errors
/// [`Error::NoModel`] when there is no such model, or see [`models`].
pub fn model_info(store: &dyn PredictModelStore, version: Option<i64>) -> Result<ModelInfo> {
    load(store, version).map(|(info, _)| info)
}

/// Model `version` (the latest when `None`) with its forest.
///
/// # Errors
/// [`Error::NoModel`] when there is no such model, [`Error::ModelFormat`] when its bytes
/// are not a forest over the seven features, or a storage failure.
pub fn load(
    store: &dyn PredictModelStore,
    version: Option<i64>,
) -> Result<(ModelInfo, RandomForest)> {
    let (stored, bytes) = store
        .predict_model(version)?
        .ok_or(Error::NoModel(version))?;
    let version = stored.version;
    let forest = RandomForest::from_bytes(&bytes).map_err(|e| Error::ModelFormat {
        version,
        message: e.to_string(),
    })?;
    if forest.n_features() != super::features::FEATURE_COUNT {
        return Err(Error::ModelFormat {
            version,
            message: format!(
                "{} features, expected {}",
                forest.n_features(),
                super::features::FEATURE_COUNT
            ),
        });
    }
    Ok((ModelInfo::from_stored(stored)?, forest))
}
