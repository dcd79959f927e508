//! Copying one store into another through the ports alone (so between any two
//! adapters), resumably, and checking the copy by comparing every view of both.
//!
//! Every record kind is copied idempotently, so a copy interrupted and started again
//! finishes without counting anything twice: events are stored once per
//! `(project, id)` by every store; API keys are skipped when their prefix and hash are
//! there, experiments when their project has the key, goals, time zones and predictor
//! models when an equal one is there, stored alert rules when their name is there,
//! quarantine entries when the destination has the
//! entry (the same bytes at the same place of the same source, for the same reason).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tally_ingest::{IngestOptions, Ingestor, Progress};
use tally_models::Event;
use tally_store::{Batch, Filter, GoalRecord, NewApiKey, NewPredictModel, Rejection, Store};

use crate::every_view::ViewScope;
use crate::{Analytics, Error, Result};

/// How a copy runs.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// Events per written batch (a few batches commit together).
    pub batch_size: usize,
    /// Stop the event copy after this many events, as an interruption would: what a
    /// test of resuming uses. `None`: copy everything.
    pub stop_after_events: Option<u64>,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            batch_size: 8192,
            stop_after_events: None,
        }
    }
}

/// Records of one kind: how many were copied now, how many the destination had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Copied {
    pub copied: u64,
    pub present: u64,
}

impl Copied {
    fn count(&mut self, copied: bool) {
        if copied {
            self.copied += 1;
        } else {
            self.present += 1;
        }
    }
}

/// What a copy did, per record kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MigrateReport {
    pub events: Copied,
    pub quarantine: Copied,
    pub keys: Copied,
    pub experiments: Copied,
    pub goals: Copied,
    pub time_zones: Copied,
    /// Learners who opted out of leaderboards.
    pub opt_outs: Copied,
    pub predictor_models: Copied,
    /// Alert rules stored through the API or CLI (their states and history are not
    /// copied: the destination evaluates the rules afresh).
    pub alert_rules: Copied,
}

/// The first view whose answers differ, with both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewDifference {
    pub view: String,
    pub source: Value,
    pub destination: Value,
}

/// What comparing two stores view by view found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Views compared (the export counts as one).
    pub views: u64,
    /// Events the exports held (the source's).
    pub events: u64,
    /// Views whose answers differ.
    pub differing: u64,
    pub first_difference: Option<ViewDifference>,
}

impl Comparison {
    pub fn agrees(&self) -> bool {
        self.differing == 0
    }
}

/// Fields of a view that describe how a store lays its data out, not the data: they
/// differ between backends and releases while every answer about the data agrees.
const LAYOUT_FIELDS: [&str; 5] = [
    "bytes_used",
    "bytes_per_event",
    "estimated_monthly_cost",
    "db_size_bytes",
    "schema_version",
];

/// Fields of a quarantine entry the ports cannot carry into another store: its key in
/// that store and when it was received (the copy receives it).
const QUARANTINE_RECEIPT_FIELDS: [&str; 3] = ["id", "received_at", "last_received_at"];

impl Analytics {
    /// Copies every record of `source` into this facade's store through the ports:
    /// keys, experiments, goals, learner time zones and predictor models, then the
    /// events (streamed in arrival order, kind by kind, in batches: memory stays
    /// bounded), then the quarantine. Costs the events did not report are computed with
    /// this facade's prices, as ingest does.
    ///
    /// # Errors
    /// Either store fails, or `options.stop_after_events` stopped the copy; what was
    /// committed stays committed, and running the copy again finishes it.
    pub fn migrate_from(
        &self,
        source: &Analytics,
        options: &MigrateOptions,
        progress: &mut dyn Progress,
    ) -> Result<MigrateReport> {
        let from = &*source.store;
        let into = &*self.store;
        let mut report = MigrateReport {
            keys: self.observe_write(copy_keys(from, into))?,
            experiments: self.observe_write(copy_experiments(from, into))?,
            goals: self.observe_write(copy_goals(from, into))?,
            time_zones: self.observe_write(copy_time_zones(from, into))?,
            opt_outs: self.observe_write(copy_opt_outs(from, into))?,
            predictor_models: self.observe_write(copy_predict_models(from, into))?,
            alert_rules: self.observe_write(copy_alert_rules(from, into))?,
            ..MigrateReport::default()
        };
        report.events = self.copy_events(from, options, progress)?;
        report.quarantine = self.observe_write(copy_quarantine(from, into))?;
        Ok(report)
    }

    /// The events: exported on one thread, handed over a bounded channel to an ingest
    /// of this store (which derives the ids the export leaves out, prices the costs,
    /// folds the rollups and writes batches with `write_batches`).
    fn copy_events(
        &self,
        from: &dyn Store,
        options: &MigrateOptions,
        progress: &mut dyn Progress,
    ) -> Result<Copied> {
        let ingest_options = self.with_prices(&IngestOptions {
            batch_size: options.batch_size.max(1),
            ..IngestOptions::default()
        });
        let ingestor = Ingestor::new(&*self.store, ingest_options);
        let limit = options.stop_after_events.unwrap_or(u64::MAX);
        let (ingested, exported) = std::thread::scope(|scope| {
            let (sender, receiver) = crossbeam_channel::bounded::<Event>(options.batch_size.max(1));
            let exporter = scope.spawn(move || {
                let mut sent = 0_u64;
                from.export_events(&Filter::default(), &mut |event| {
                    if sent == limit {
                        return Err(tally_store::Error::Sink(STOPPED_AT_LIMIT.to_owned()));
                    }
                    sent += 1;
                    sender
                        .send(event)
                        .map_err(|_| tally_store::Error::Sink("the copy stopped".to_owned()))
                })
            });
            let ingested = ingestor.ingest_events("migrate", receiver, progress);
            (ingested, exporter.join())
        });
        let ingested = self.observe_write(ingested.map_err(Error::from))?;
        match exported {
            Ok(Ok(_)) => {}
            Ok(Err(tally_store::Error::Sink(message))) if message == STOPPED_AT_LIMIT => {
                return Err(Error::Migrate(format!(
                    "stopped after {limit} events as asked ({} new, {} already there); \
                     run the copy again to finish it",
                    ingested.accepted, ingested.duplicates
                )));
            }
            Ok(Err(error)) => return Err(Error::Storage(error)),
            Err(_) => return Err(Error::Migrate("the export of the source panicked".into())),
        }
        Ok(Copied {
            copied: ingested.accepted,
            present: ingested.duplicates,
        })
    }

    /// Compares every view of this facade's store and `other`'s at the instant `at`
    /// (see [`Analytics::each_view`], over the projects, learners and experiments of
    /// this one), and their exports event by event, leaving out what describes a
    /// store's layout rather than its data (sizes, schema version) and the quarantine's
    /// own keys and receipt times.
    ///
    /// # Errors
    /// Either store fails.
    pub fn compare_views(&self, other: &Analytics, at: DateTime<Utc>) -> Result<Comparison> {
        let mine = self.as_of(at);
        let theirs = other.as_of(at);
        let scope = ViewScope::of(&mine)?;
        let mut expected = Vec::new();
        mine.each_view(&scope, &mut |name, value| {
            expected.push((name, comparable(&value)));
            Ok(())
        })?;
        let mut comparison = Comparison {
            views: 0,
            events: 0,
            differing: 0,
            first_difference: None,
        };
        let mut expected = expected.into_iter();
        let mut note = |view: String, source: Value, destination: Value| {
            comparison.views += 1;
            if !agree(&source, &destination) {
                comparison.differing += 1;
                if comparison.first_difference.is_none() {
                    comparison.first_difference = Some(ViewDifference {
                        view,
                        source,
                        destination,
                    });
                }
            }
        };
        theirs.each_view(&scope, &mut |name, value| {
            let (expected_name, expected_value) = expected
                .next()
                .ok_or_else(|| Error::Migrate(format!("view {name} has no counterpart")))?;
            debug_assert_eq!(name, expected_name);
            note(name, expected_value, comparable(&value));
            Ok(())
        })?;
        let (events, export_difference) = compare_exports(&*self.store, &*other.store)?;
        match export_difference {
            Some((source, destination)) => note("export".to_owned(), source, destination),
            None => note("export".to_owned(), Value::Null, Value::Null),
        }
        comparison.events = events;
        Ok(comparison)
    }
}

/// How far apart two floating-point figures of the same view may be, relative to the
/// larger: databases add floats (qualities, ratings) in their own order, so sums of the
/// same values differ in their last bits. Counts, money and every integer compare exactly.
const FLOAT_TOLERANCE: f64 = 1e-12;

/// Whether two answers are the same: equal, but for floats within [`FLOAT_TOLERANCE`].
fn agree(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => {
                    x == y || (x - y).abs() <= FLOAT_TOLERANCE * x.abs().max(y.abs())
                }
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| agree(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| agree(value, other)))
        }
        _ => a == b,
    }
}

/// The sink's message when `stop_after_events` is reached.
const STOPPED_AT_LIMIT: &str = "stopped at the asked number of events";

/// `view` without the layout fields (anywhere) and, in quarantine entries, without
/// their receipt fields.
fn comparable(view: &Value) -> Value {
    match view {
        Value::Object(map) => {
            let receipt = map.contains_key("raw") && map.contains_key("rule");
            Value::Object(
                map.iter()
                    .filter(|(key, _)| !LAYOUT_FIELDS.contains(&key.as_str()))
                    .filter(|(key, _)| {
                        !(receipt && QUARANTINE_RECEIPT_FIELDS.contains(&key.as_str()))
                    })
                    .map(|(key, value)| (key.clone(), comparable(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

/// Both stores' exports side by side, one event at a time: how many the source has,
/// and the first pair that differs (`null` where one export ended).
fn compare_exports(
    source: &dyn Store,
    destination: &dyn Store,
) -> Result<(u64, Option<(Value, Value)>)> {
    let as_json = |event: &Event| serde_json::to_value(event).unwrap_or(Value::Null);
    std::thread::scope(|scope| {
        let (sender, receiver) = crossbeam_channel::bounded::<Event>(1024);
        let exporter = scope.spawn(move || {
            source.export_events(&Filter::default(), &mut |event| {
                sender
                    .send(event)
                    .map_err(|_| tally_store::Error::Sink("the comparison stopped".to_owned()))
            })
        });
        let mut difference = None;
        destination.export_events(&Filter::default(), &mut |event| {
            if difference.is_none() {
                let mine = receiver.recv().map_or(Value::Null, |e| as_json(&e));
                let theirs = as_json(&event);
                if mine != theirs {
                    difference = Some((mine, theirs));
                }
            }
            Ok(())
        })?;
        if difference.is_none() {
            if let Ok(extra) = receiver.recv() {
                difference = Some((as_json(&extra), Value::Null));
            }
        }
        drop(receiver);
        let events = match exporter.join() {
            Ok(Ok(events)) => events,
            // Stopped early: the receiver went away at a difference.
            Ok(Err(tally_store::Error::Sink(_))) if difference.is_some() => 0,
            Ok(Err(error)) => return Err(Error::Storage(error)),
            Err(_) => return Err(Error::Migrate("the export of the source panicked".into())),
        };
        Ok((events, difference))
    })
}

/// API keys in id order, each revoked as in the source.
fn copy_keys(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut copied = Copied::default();
    let existing = into.keys()?;
    for key in from.keys()? {
        let present = existing
            .iter()
            .find(|e| e.prefix == key.prefix && e.hash == key.hash);
        let (id, revoked) = match present {
            Some(present) => (present.id, present.revoked_at.is_some()),
            None => {
                let id = into.create_key(&NewApiKey {
                    name: key.name.clone(),
                    scope: key.scope,
                    projects: key.projects.clone(),
                    prefix: key.prefix.clone(),
                    hash: key.hash,
                    created_at: key.created_at,
                })?;
                (id, false)
            }
        };
        if let (Some(at), false) = (key.revoked_at, revoked) {
            into.revoke_key(id, at)?;
        }
        copied.count(present.is_none());
    }
    Ok(copied)
}

/// Stored alert rules, skipping a name the destination has.
fn copy_alert_rules(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut copied = Copied::default();
    let existing: HashSet<String> = into.alert_rules()?.into_iter().map(|r| r.name).collect();
    for rule in from.alert_rules()? {
        let new = !existing.contains(&rule.name);
        if new {
            into.put_alert_rule(&rule)?;
        }
        copied.count(new);
    }
    Ok(copied)
}

/// Experiment definitions, each stopped as in the source.
fn copy_experiments(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut copied = Copied::default();
    for experiment in from.experiments()? {
        let project = experiment.project.as_deref();
        let created = into.create_experiment(&experiment)?;
        if let Some(at) = experiment.stopped_at {
            let stored = into.experiment(project, &experiment.key)?;
            if stored.is_some_and(|s| s.stopped_at.is_none()) {
                into.stop_experiment(project, &experiment.key, at)?;
            }
        }
        copied.count(created);
    }
    Ok(copied)
}

/// Learning goals in the source's id order (so that a copy into an empty store keeps
/// their ids), skipping those an equal goal of the destination already stands for.
fn copy_goals(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut goals: Vec<GoalRecord> = Vec::new();
    for (user, _) in from.learner_revisions(0)? {
        goals.extend(from.goals(&user)?);
    }
    goals.sort_by_key(|goal| goal.id);
    let mut copied = Copied::default();
    let same = |a: &GoalRecord, b: &GoalRecord| {
        GoalRecord { id: 0, ..a.clone() } == GoalRecord { id: 0, ..b.clone() }
    };
    for goal in goals {
        let present = into.goals(&goal.user)?.iter().any(|g| same(g, &goal));
        if !present {
            into.create_goal(&goal)?;
        }
        copied.count(!present);
    }
    Ok(copied)
}

fn copy_time_zones(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut copied = Copied::default();
    for (user, zone) in from.learner_time_zones()? {
        let present = into.learner_time_zone(&user)?.as_deref() == Some(zone.as_str());
        if !present {
            into.set_learner_time_zone(&user, &zone)?;
        }
        copied.count(!present);
    }
    Ok(copied)
}

fn copy_opt_outs(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut copied = Copied::default();
    let present = into.opted_out_learners()?;
    for user in from.opted_out_learners()? {
        let already = present.contains(&user);
        if !already {
            into.set_learner_opt_out(&user, true)?;
        }
        copied.count(!already);
    }
    Ok(copied)
}

/// Predictor models in version order, one model's bytes in memory at a time.
fn copy_predict_models(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let existing = into.predict_models()?;
    let mut copied = Copied::default();
    for info in from.predict_models()? {
        let present = existing.iter().any(|e| {
            (
                e.created_at,
                e.window_from,
                e.window_to,
                e.n_train,
                e.n_holdout,
                &e.params,
                &e.metrics,
            ) == (
                info.created_at,
                info.window_from,
                info.window_to,
                info.n_train,
                info.n_holdout,
                &info.params,
                &info.metrics,
            )
        });
        if !present {
            let Some((info, model)) = from.predict_model(Some(info.version))? else {
                continue;
            };
            into.save_predict_model(&NewPredictModel {
                created_at: info.created_at,
                window_from: info.window_from,
                window_to: info.window_to,
                n_train: info.n_train,
                n_holdout: info.n_holdout,
                params: info.params,
                metrics: info.metrics,
                model,
            })?;
        }
        copied.count(!present);
    }
    Ok(copied)
}

/// Quarantine entries read this many at a time.
const QUARANTINE_PAGE: usize = 1000;

/// The quarantine in arrival order. An entry rejected n times is written n times in one
/// batch (each repeat counts on the entry), so it arrives whole or not at all.
fn copy_quarantine(from: &dyn Store, into: &dyn Store) -> tally_store::Result<Copied> {
    let mut present = HashSet::new();
    let mut after = 0;
    loop {
        let page = into.quarantined(after, QUARANTINE_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.quarantine_id;
        present.extend(page.iter().map(|q| entry_key(&q.rejection)));
    }
    let mut copied = Copied::default();
    let mut after = 0;
    loop {
        let page = from.quarantined(after, QUARANTINE_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.quarantine_id;
        for entry in page {
            let is_new = !present.contains(&entry_key(&entry.rejection));
            if is_new {
                let repeats = usize::try_from(entry.rejections.max(1)).unwrap_or(1);
                let rejects: Vec<Rejection> = vec![entry.rejection; repeats];
                into.write_batch(Batch {
                    rejects: &rejects,
                    ..Batch::default()
                })?;
            }
            copied.count(is_new);
        }
    }
    Ok(copied)
}

/// What makes a quarantine entry one: the same bytes at the same place of the same
/// source, rejected for the same reason (its message may differ).
fn entry_key(rejection: &Rejection) -> [u8; 32] {
    let mut hash = Sha256::new();
    let position = serde_json::to_vec(&rejection.position).unwrap_or_default();
    for part in [
        rejection.source.as_bytes(),
        &position,
        rejection.format.as_str().as_bytes(),
        rejection.header.as_deref().unwrap_or("\u{0}").as_bytes(),
        rejection.field.as_bytes(),
        rejection.rule.as_bytes(),
        &rejection.raw,
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

#[cfg(test)]
mod agreement_tests {
    use serde_json::json;

    use super::agree;

    #[test]
    fn floats_summed_in_another_order_agree_and_nothing_else_is_forgiven() {
        let sqlite = json!({"mean": 0.6598164335664336, "n": 16, "day": "2026-11-23"});
        let postgres = json!({"mean": 0.6598164335664335, "n": 16, "day": "2026-11-23"});
        assert!(agree(&sqlite, &postgres));
        assert!(!agree(&json!({"mean": 0.66}), &json!({"mean": 0.67})));
        assert!(!agree(&json!({"n": 16}), &json!({"n": 17})));
        assert!(!agree(&json!([1.0, 2.0]), &json!([1.0])));
        assert!(!agree(&json!({"a": 1}), &json!({"b": 1})));
        assert!(!agree(&json!({"cost": 1.5}), &json!({"cost": "1.5"})));
    }
}
