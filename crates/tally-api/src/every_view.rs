//! Every view of the facade, one by one, as JSON: what `tally migrate-from` compares on
//! both stores after a copy, and the store-compat test against the answers a release
//! recorded. An error is captured as `{"error": message}`: it must agree as well.

use serde::Serialize;
use serde_json::{Value, json};
use tally_learning::progress::Period;
use tally_metrics::Granularity;
use tally_store::Filter;

use crate::{Analytics, Result, SeriesQuery, SeriesSource, View, metric_names};

/// What the per-project, per-learner and per-experiment views are asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewScope {
    pub projects: Vec<String>,
    pub learners: Vec<String>,
    pub experiments: Vec<String>,
}

impl ViewScope {
    /// Every project with data, every learner, every experiment (defined, or named by
    /// outcome events) of the store behind `analytics`.
    ///
    /// # Errors
    /// The store fails.
    pub fn of(analytics: &Analytics) -> Result<ViewScope> {
        let store = &analytics.store;
        let mut experiments: Vec<String> = store
            .experiments()?
            .into_iter()
            .map(|e| e.key)
            .chain(store.experiment_keys_seen()?)
            .collect();
        experiments.sort();
        experiments.dedup();
        Ok(ViewScope {
            projects: store.project_names()?,
            learners: store.learners(None)?,
            experiments,
        })
    }
}

/// A view's JSON, or its error's message.
fn capture<T: Serialize>(answer: Result<T>) -> Value {
    match answer.map(serde_json::to_value) {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => json!({ "error": format!("serializing the view: {error}") }),
        Err(error) => json!({ "error": error.to_string() }),
    }
}

impl Analytics {
    /// Calls `sink` with every view's name and JSON in a fixed order: each aggregate
    /// view (and the hourly series, and the summary from raw rows) over everything
    /// and per project of `scope`, each metric's trend, the quarantine, stats,
    /// integrity, keys, learners, the learning views per learner (named
    /// `learner/NAME/VIEW`), progress of everyone, experiments and each one's
    /// definition and analysis (`experiment/KEY/VIEW`), predictor models. Not the
    /// export: it is every event, which a caller compares as a stream.
    ///
    /// # Errors
    /// The sink's error; a view's error is captured in its JSON.
    pub fn each_view(
        &self,
        scope: &ViewScope,
        sink: &mut dyn FnMut(String, Value) -> Result<()>,
    ) -> Result<()> {
        let mut filters = vec![("all".to_owned(), Filter::default())];
        for project in &scope.projects {
            let filter = Filter {
                project: Some(project.clone()),
                ..Filter::default()
            };
            filters.push((project.clone(), filter));
        }
        for (name, filter) in &filters {
            for view in View::ALL {
                sink(
                    format!("{}/{name}", view.name()),
                    capture(self.view(view, filter, Granularity::Day)),
                )?;
            }
            sink(
                format!("timeseries-hour/{name}"),
                capture(self.view(View::Timeseries, filter, Granularity::Hour)),
            )?;
            sink(
                format!("summary-from-raw/{name}"),
                capture(self.summary_from_raw(filter)),
            )?;
        }
        for metric in metric_names() {
            let source = SeriesSource::Store(SeriesQuery {
                metric: metric.to_owned(),
                ..SeriesQuery::default()
            });
            sink(format!("trend/{metric}"), capture(self.trend(&source)))?;
        }
        sink("quarantine".to_owned(), capture(self.quarantine_json()))?;
        sink("quarantine-len".to_owned(), capture(self.quarantine_len()))?;
        sink("stats".to_owned(), capture(self.stats()))?;
        sink("integrity".to_owned(), capture(self.integrity_check()))?;
        sink("keys".to_owned(), capture(self.keys()))?;
        sink("learners".to_owned(), capture(self.learners()))?;
        for learner in &scope.learners {
            self.each_learner_view(learner, sink)?;
        }
        for experiment in &scope.experiments {
            let name = |view: &str| format!("experiment/{experiment}/{view}");
            sink(name("experiment"), capture(self.experiment(experiment)))?;
            sink(
                name("experiment-analysis"),
                capture(self.analyze_experiment(experiment, &Filter::default())),
            )?;
        }
        sink(
            "learning-progress/everyone".to_owned(),
            capture(self.learning_progress(None, Period::Day, None)),
        )?;
        sink("experiments".to_owned(), capture(self.experiments()))?;
        sink(
            "predictor-models".to_owned(),
            capture(self.predictor_models()),
        )
    }

    fn each_learner_view(
        &self,
        learner: &str,
        sink: &mut dyn FnMut(String, Value) -> Result<()>,
    ) -> Result<()> {
        let name = |view: &str| format!("learner/{learner}/{view}");
        for period in [Period::Day, Period::IsoWeek, Period::Month] {
            sink(
                name(&format!("learning-progress/{period:?}")),
                capture(self.learning_progress(Some(learner), period, None)),
            )?;
        }
        sink(
            name("learning-streak"),
            capture(self.learning_streak(learner, None)),
        )?;
        sink(
            name("learner-dashboard"),
            capture(self.learner_dashboard(learner, None)),
        )?;
        sink(
            name("learning-mastery"),
            capture(self.learning_mastery(learner, None)),
        )?;
        sink(
            name("learning-goals"),
            capture(self.learning_goals(learner, None)),
        )?;
        sink(
            name("learning-achievements"),
            capture(self.learning_achievements(learner, None)),
        )?;
        sink(
            name("learning-insights"),
            capture(self.learning_insights(learner, None)),
        )?;
        sink(
            name("learning-goal-suggestions"),
            capture(self.suggest_learning_goals(learner, None)),
        )
    }

    /// The quarantine's first 100 entries as the views show them.
    fn quarantine_json(&self) -> Result<Vec<Value>> {
        Ok(self
            .quarantined(0, 100)?
            .iter()
            .map(|q| {
                json!({
                    "id": q.quarantine_id,
                    "received_at": q.received_at,
                    "last_received_at": q.last_received_at,
                    "rejections": q.rejections,
                    "source": q.rejection.source,
                    "position": q.rejection.position,
                    "record_id": q.rejection.record_id,
                    "field": q.rejection.field,
                    "rule": q.rejection.rule,
                    "message": q.rejection.message,
                    "raw": String::from_utf8_lossy(&q.rejection.raw),
                })
            })
            .collect())
    }
}
