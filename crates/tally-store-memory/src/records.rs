//! The records the other ports keep: quarantine reads, API keys, experiments and their
//! outcomes, the success predictor's models.

use chrono::{DateTime, Utc};
use tally_models::{EventBody, MetricValue};
use tally_store::{
    ApiKeyRecord, Dim, Error, ExperimentRecord, ExperimentStore, Filter, KeyStore, NewApiKey,
    NewPredictModel, OutcomeRecord, PredictModelInfo, PredictModelStore, QuarantineStore,
    QuarantinedRecord, Result,
};

use crate::MemoryStore;

/// `t` to the millisecond, as the SQLite store keeps instants.
pub(crate) fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

impl QuarantineStore for MemoryStore {
    fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>> {
        Ok(self
            .read()
            .quarantine
            .range(after_id.saturating_add(1)..)
            .take(limit)
            .map(|(_, record)| record.clone())
            .collect())
    }

    fn quarantine_len(&self) -> Result<u64> {
        Ok(self.read().quarantine.len() as u64)
    }
}

impl KeyStore for MemoryStore {
    fn create_key(&self, key: &NewApiKey) -> Result<i64> {
        let mut state = self.write();
        let id = state.keys.last().map_or(1, |last| last.id + 1);
        state.keys.push(ApiKeyRecord {
            id,
            name: key.name.clone(),
            scope: key.scope,
            projects: key.projects.clone(),
            prefix: key.prefix.clone(),
            hash: key.hash,
            created_at: to_millis(key.created_at),
            revoked_at: None,
        });
        Ok(id)
    }

    fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        Ok(self.read().keys.clone())
    }

    fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>> {
        Ok(self
            .read()
            .keys
            .iter()
            .filter(|key| key.prefix == prefix && key.revoked_at.is_none())
            .cloned()
            .collect())
    }

    fn any_active_key(&self) -> Result<bool> {
        Ok(self.read().keys.iter().any(|key| key.revoked_at.is_none()))
    }

    fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut state = self.write();
        match state
            .keys
            .iter_mut()
            .find(|key| key.id == id && key.revoked_at.is_none())
        {
            Some(key) => {
                key.revoked_at = Some(to_millis(at));
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl ExperimentStore for MemoryStore {
    fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool> {
        let mut state = self.write();
        let id = (experiment.key.clone(), experiment.project.clone());
        if state.experiments.contains_key(&id) {
            return Ok(false);
        }
        let stored = ExperimentRecord {
            created_at: to_millis(experiment.created_at),
            started_at: experiment.started_at.map(to_millis),
            stopped_at: experiment.stopped_at.map(to_millis),
            ..experiment.clone()
        };
        state.experiments.insert(id, stored);
        Ok(true)
    }

    fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        Ok(self.read().experiments.values().cloned().collect())
    }

    fn experiment(&self, project: Option<&str>, key: &str) -> Result<Option<ExperimentRecord>> {
        let id = (key.to_owned(), project.map(str::to_owned));
        Ok(self.read().experiments.get(&id).cloned())
    }

    fn stop_experiment(&self, project: Option<&str>, key: &str, at: DateTime<Utc>) -> Result<bool> {
        let id = (key.to_owned(), project.map(str::to_owned));
        let mut state = self.write();
        match state.experiments.get_mut(&id) {
            Some(experiment) if experiment.stopped_at.is_none() => {
                experiment.stopped_at = Some(to_millis(at));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn experiment_keys_seen(&self) -> Result<Vec<String>> {
        let mut keys = self.read().dict.values(Dim::Experiment).to_vec();
        keys.sort();
        Ok(keys)
    }

    fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>> {
        let state = self.read();
        let Some(project) = state.project_code(filter.project.as_deref()) else {
            return Ok(Vec::new());
        };
        let metric_code = |name: &str| state.dict.get(Dim::Metric, name).unwrap_or(i64::MAX);
        Ok(state
            .events_in(project, filter.from, filter.to)
            .filter_map(|(_, stored)| match &stored.event.body {
                EventBody::Outcome(o) if o.experiment == experiment => {
                    let mut metrics: Vec<(String, f64, bool)> = o
                        .metrics
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.clone(),
                                value.as_f64(),
                                matches!(value, MetricValue::Bool(_)),
                            )
                        })
                        .collect();
                    // The SQLite store reads them back in the metric dictionary's order.
                    metrics.sort_by_key(|(name, _, _)| metric_code(name));
                    Some(OutcomeRecord {
                        ts: stored.event.ts,
                        user_id: o.user_id.clone(),
                        variant: o.variant.clone(),
                        metrics,
                    })
                }
                _ => None,
            })
            .collect())
    }
}

impl PredictModelStore for MemoryStore {
    fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64> {
        for (field, value) in [("n_train", model.n_train), ("n_holdout", model.n_holdout)] {
            if i64::try_from(value).is_err() {
                return Err(Error::Corrupt(format!(
                    "predict model {field}: {value} is too large"
                )));
            }
        }
        let mut state = self.write();
        let version = state.models.last().map_or(1, |(info, _)| info.version + 1);
        let info = PredictModelInfo {
            version,
            created_at: to_millis(model.created_at),
            window_from: to_millis(model.window_from),
            window_to: to_millis(model.window_to),
            n_train: model.n_train,
            n_holdout: model.n_holdout,
            params: model.params.clone(),
            metrics: model.metrics.clone(),
        };
        state.models.push((info, model.model.clone()));
        Ok(version)
    }

    fn predict_models(&self) -> Result<Vec<PredictModelInfo>> {
        Ok(self
            .read()
            .models
            .iter()
            .map(|(info, _)| info.clone())
            .collect())
    }

    fn predict_model(&self, version: Option<i64>) -> Result<Option<(PredictModelInfo, Vec<u8>)>> {
        let state = self.read();
        let found = match version {
            None => state.models.last(),
            Some(version) => state
                .models
                .iter()
                .find(|(info, _)| info.version == version),
        };
        Ok(found.cloned())
    }
}
