//! The health of the write path: the last write failure (disk full, a read-only file,
//! a lock held too long) and its time, kept until a write succeeds, so that a health
//! check says `degraded` while writes fail although reads still answer.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Error, Result};

/// Writes are failing: since when, the latest failure and its error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteFailure {
    /// The storage error of the latest failed write.
    pub error: String,
    pub last_failure_at: DateTime<Utc>,
    /// The first failure since the last write that succeeded.
    pub failing_since: DateTime<Utc>,
    /// Failed writes since the last that succeeded.
    pub failures: u64,
}

/// What the facade remembers of its writes.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth(Mutex<Option<WriteFailure>>);

/// The storage failure behind a write's error; `None` for bad input.
fn storage_failure(error: &Error) -> Option<String> {
    match error {
        Error::Storage(error) => Some(error.to_string()),
        Error::Ingest(tally_ingest::Error::Storage(error))
        | Error::Predict(tally_predict::Error::Storage(error))
        | Error::Learning(tally_learning::Error::Storage(error)) => Some(error.to_string()),
        _ => None,
    }
}

impl WriteHealth {
    /// Records how a write ended: a success clears the failure, a storage failure is
    /// remembered; an error of the input says nothing about the store.
    pub(crate) fn observe<T>(&self, result: &Result<T>, now: DateTime<Utc>) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(_) => *state = None,
            Err(error) => {
                let Some(message) = storage_failure(error) else {
                    return;
                };
                tracing::warn!(error = message, "a write failed");
                *state = Some(match state.take() {
                    Some(before) => WriteFailure {
                        error: message,
                        last_failure_at: now,
                        failing_since: before.failing_since,
                        failures: before.failures + 1,
                    },
                    None => WriteFailure {
                        error: message,
                        last_failure_at: now,
                        failing_since: now,
                        failures: 1,
                    },
                });
            }
        }
    }

    pub(crate) fn failure(&self) -> Option<WriteFailure> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Analytics, Config, Input, SqliteOptions};

    fn record(id: &str) -> Input {
        let body = format!(
            r#"{{"kind":"execution","id":"{id}","ts":"2026-10-01T00:00:00Z","tool":"t","duration_ms":5,"success":true}}"#
        );
        Input::Bytes {
            name: "t".into(),
            data: body.as_bytes().into(),
        }
    }

    #[test]
    fn a_failing_write_is_remembered_until_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let options = SqliteOptions {
            busy_timeout: Duration::from_millis(20),
            ..SqliteOptions::default()
        };
        let analytics = Analytics::open_with(&path, Config::default(), options).unwrap();
        analytics.ingest(&record("a")).unwrap();
        assert_eq!(analytics.write_failure(), None);
        // Another process holds the write lock: writes fail, reads still answer.
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        for id in ["b", "c"] {
            let error = analytics.ingest(&record(id)).unwrap_err();
            assert!(error.to_string().contains("locked"), "{error}");
        }
        let failure = analytics.write_failure().unwrap();
        assert_eq!(failure.failures, 2);
        assert!(failure.error.contains("locked"), "{failure:?}");
        assert!(failure.failing_since <= failure.last_failure_at);
        assert_eq!(
            analytics
                .summary(&Default::default())
                .unwrap()
                .total_executions,
            1
        );
        // Bad input is not a failure of the store.
        let bad = Input::Path("/nonexistent/input.jsonl".into());
        assert!(analytics.ingest(&bad).is_err());
        assert_eq!(analytics.write_failure().unwrap().failures, 2);
        other.execute_batch("COMMIT").unwrap();
        analytics.ingest(&record("d")).unwrap();
        assert_eq!(analytics.write_failure(), None);
    }

    #[test]
    fn every_kind_of_write_is_observed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let options = SqliteOptions {
            busy_timeout: Duration::from_millis(20),
            ..SqliteOptions::default()
        };
        let analytics = Analytics::open_with(&path, Config::default(), options).unwrap();
        analytics.ingest(&record("a")).unwrap();
        let spec = |key: &str| crate::experiment::ExperimentSpec {
            key: key.to_owned(),
            variants: vec![("a".into(), 1.0), ("b".into(), 1.0)],
            ..Default::default()
        };
        analytics.create_experiment(spec("running")).unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let key = crate::KeySpec {
            scope: crate::KeyScope::Read,
            projects: Vec::new(),
            name: None,
        };
        /// A write and whether it failed.
        type Write<'a> = (&'a str, Box<dyn Fn() -> bool + 'a>);
        let writes: [Write<'_>; 7] = [
            ("key", Box::new(|| analytics.create_key(&key).is_err())),
            ("revoke", Box::new(|| analytics.revoke_key(1).is_err())),
            (
                "time zone",
                Box::new(|| {
                    analytics
                        .set_learner_time_zone("ana", "Europe/Paris")
                        .is_err()
                }),
            ),
            (
                "goal",
                Box::new(|| {
                    analytics
                        .create_learning_goal("ana", "sessions", 3.0, None, None)
                        .is_err()
                }),
            ),
            (
                "experiment",
                Box::new(|| analytics.create_experiment(spec("new")).is_err()),
            ),
            (
                "stop",
                Box::new(|| analytics.stop_experiment("running").is_err()),
            ),
            ("retention", Box::new(|| analytics.run_retention().is_err())),
        ];
        for (failures, (what, write)) in (1..).zip(&writes) {
            assert!(write(), "{what} did not fail");
            let failure = analytics.write_failure();
            assert_eq!(failure.map(|f| f.failures), Some(failures), "{what}");
        }
        other.execute_batch("COMMIT").unwrap();
        analytics
            .set_learner_time_zone("ana", "Europe/Paris")
            .unwrap();
        assert_eq!(analytics.write_failure(), None);
    }
}
