//! Every view of a database as one JSON document, computed at a fixed instant
//! (`Analytics::each_view`, and the export): what `store_compat.rs` compares against the
//! golden recorded from the release that wrote its fixture.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tally_api::{Analytics, ExportFormat, Filter, ViewScope};

/// The instant the views are computed at (the fixture was written just before it).
pub const AS_OF: &str = "2026-12-07T12:05:00Z";

/// The projects of the fixture.
pub const PROJECTS: [&str; 4] = ["code-review", "research-agent", "support-bot", "tutor-app"];

/// The learner the fixture gave a goal and a time zone.
pub const LEARNER: &str = "learner-006";

/// The experiment the fixture defined.
pub const EXPERIMENT: &str = "onboarding-v2";

/// Every view of the database behind `analytics`, by name (the names the release
/// recorded: its one learner's and one experiment's views without their prefix).
pub fn every_view(analytics: &Analytics) -> Value {
    let at: DateTime<Utc> = AS_OF.parse().unwrap();
    let analytics = analytics.as_of(at);
    let scope = ViewScope {
        projects: PROJECTS.map(str::to_owned).to_vec(),
        learners: vec![LEARNER.to_owned()],
        experiments: vec![EXPERIMENT.to_owned()],
    };
    let learner = format!("learner/{LEARNER}/");
    let experiment = format!("experiment/{EXPERIMENT}/");
    let mut out = Map::new();
    analytics
        .each_view(&scope, &mut |name, value| {
            let name = name
                .strip_prefix(&learner)
                .or_else(|| name.strip_prefix(&experiment))
                .map_or_else(|| name.clone(), str::to_owned);
            out.insert(name, value);
            Ok(())
        })
        .unwrap();
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
    out.insert(
        "export".to_owned(),
        exported.unwrap_or_else(|error| json!({ "error": error.to_string() })),
    );
    Value::Object(out)
}
