//! Every view of a database as one JSON document, computed at a fixed instant: what
//! `store_compat.rs` compares against the golden recorded from the release that wrote
//! its fixture.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tally_api::{
    Analytics, ExportFormat, Filter, Granularity, LearningPeriod, SeriesQuery, SeriesSource, View,
    metric_names,
};

/// The instant the views are computed at (the fixture was written just before it).
pub const AS_OF: &str = "2026-12-07T12:05:00Z";

/// The projects of the fixture.
pub const PROJECTS: [&str; 4] = ["code-review", "research-agent", "support-bot", "tutor-app"];

/// The learner the fixture gave a goal and a time zone.
pub const LEARNER: &str = "learner-006";

/// The experiment the fixture defined.
pub const EXPERIMENT: &str = "onboarding-v2";

/// A view's JSON, or its error's message: both must stay what they were.
fn capture<T: Serialize>(answer: tally_api::Result<T>) -> Value {
    match answer {
        Ok(value) => serde_json::to_value(value).unwrap(),
        Err(error) => json!({ "error": error.to_string() }),
    }
}

/// Every view of the database behind `analytics`, by name.
pub fn every_view(analytics: &Analytics) -> Value {
    let at: DateTime<Utc> = AS_OF.parse().unwrap();
    let analytics = analytics.as_of(at);
    let mut out = Map::new();
    let mut put = |name: String, value: Value| {
        out.insert(name, value);
    };
    let mut filters = vec![("all".to_owned(), Filter::default())];
    for project in PROJECTS {
        let filter = Filter {
            project: Some(project.to_owned()),
            ..Filter::default()
        };
        filters.push((project.to_owned(), filter));
    }
    for (scope, filter) in &filters {
        for view in View::ALL {
            put(
                format!("{}/{scope}", view.name()),
                capture(analytics.view(view, filter, Granularity::Day)),
            );
        }
        put(
            format!("timeseries-hour/{scope}"),
            capture(analytics.view(View::Timeseries, filter, Granularity::Hour)),
        );
        put(
            format!("summary-from-raw/{scope}"),
            capture(analytics.summary_from_raw(filter)),
        );
    }
    for metric in metric_names() {
        let source = SeriesSource::Store(SeriesQuery {
            metric: metric.to_owned(),
            ..SeriesQuery::default()
        });
        put(format!("trend/{metric}"), capture(analytics.trend(&source)));
    }
    let quarantine = analytics.quarantined(0, 100).map(|records| {
        records
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
            .collect::<Vec<_>>()
    });
    put("quarantine".to_owned(), capture(quarantine));
    put(
        "quarantine-len".to_owned(),
        capture(analytics.quarantine_len()),
    );
    put("stats".to_owned(), capture(analytics.stats()));
    put("integrity".to_owned(), capture(analytics.integrity_check()));
    put("keys".to_owned(), capture(analytics.keys()));
    put("learners".to_owned(), capture(analytics.learners()));
    for period in [
        LearningPeriod::Day,
        LearningPeriod::IsoWeek,
        LearningPeriod::Month,
    ] {
        put(
            format!("learning-progress/{period:?}"),
            capture(analytics.learning_progress(Some(LEARNER), period, None)),
        );
    }
    put(
        "learning-progress/everyone".to_owned(),
        capture(analytics.learning_progress(None, LearningPeriod::Day, None)),
    );
    put(
        "learning-streak".to_owned(),
        capture(analytics.learning_streak(LEARNER, None)),
    );
    put(
        "learner-dashboard".to_owned(),
        capture(analytics.learner_dashboard(LEARNER, None)),
    );
    put(
        "learning-mastery".to_owned(),
        capture(analytics.learning_mastery(LEARNER, None)),
    );
    put(
        "learning-goals".to_owned(),
        capture(analytics.learning_goals(LEARNER, None)),
    );
    put(
        "learning-achievements".to_owned(),
        capture(analytics.learning_achievements(LEARNER, None)),
    );
    put(
        "learning-insights".to_owned(),
        capture(analytics.learning_insights(LEARNER, None)),
    );
    put(
        "learning-goal-suggestions".to_owned(),
        capture(analytics.suggest_learning_goals(LEARNER, None)),
    );
    put("experiments".to_owned(), capture(analytics.experiments()));
    put(
        "experiment".to_owned(),
        capture(analytics.experiment(EXPERIMENT)),
    );
    put(
        "experiment-analysis".to_owned(),
        capture(analytics.analyze_experiment(EXPERIMENT, &Filter::default())),
    );
    put(
        "predictor-models".to_owned(),
        capture(analytics.predictor_models()),
    );
    let mut export = Vec::new();
    let exported = analytics
        .export(ExportFormat::JsonLines, &Filter::default(), &mut export)
        .map(|count| {
            let lines: Vec<Value> = String::from_utf8(export)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            json!({ "count": count, "events": lines })
        });
    put("export".to_owned(), capture(exported));
    Value::Object(out)
}
