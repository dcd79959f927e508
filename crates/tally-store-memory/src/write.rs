//! The write path: a batch's new events are stored and folded, the fold's deltas fanned
//! out to the rollup rows of the project and of all projects at every resolution, the
//! new sessions folded into the learner summary, then the rejects quarantined, as the
//! SQLite store does in one transaction.

use chrono::{DateTime, Utc};
use tally_models::{Event, EventBody, EventId, JobStatus};
use tally_store::rollup_fanout::rows_of;
use tally_store::rollup_fold::RollupDelta;
use tally_store::{
    Batch, Dim, Error, EventStore, QuarantinedRecord, Rejection, Result, WriteOutcome,
};

use crate::MemoryStore;
use crate::state::{JobRow, LedgerId, State, StoredEvent, SummaryBucket};

impl EventStore for MemoryStore {
    fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome> {
        let outcomes = self.write_batches(&[batch])?;
        Ok(outcomes.into_iter().next().unwrap_or_default())
    }

    fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        // All or nothing: what could refuse the write is checked before anything changes.
        if batches
            .iter()
            .any(|batch| batch.events.iter().any(|event| event.id.is_none()))
        {
            return Err(Error::MissingId);
        }
        let mut state = self.write();
        Ok(state.write_batches(batches, Utc::now()))
    }
}

impl State {
    fn write_batches(&mut self, batches: &[Batch<'_>], now: DateTime<Utc>) -> Vec<WriteOutcome> {
        let mut outcomes = vec![WriteOutcome::default(); batches.len()];
        // The store folds every batch itself: a prepared fold holds the same deltas.
        let mut delta = RollupDelta::new(now);
        let first_seq = self.next_seq;
        for (batch, outcome) in batches.iter().zip(&mut outcomes) {
            for event in batch.events {
                let project = self.dict.assign(Dim::Project, &event.project);
                let id = match &event.id {
                    Some(EventId::Given(id)) => LedgerId::Given(id.to_string()),
                    Some(EventId::Derived(hash)) => LedgerId::Derived(*hash),
                    None => continue,
                };
                if !self.ledger.insert((project, id)) {
                    outcome.duplicates += 1;
                    continue;
                }
                let seq = self.next_seq;
                self.next_seq += 1;
                self.name_raw_dimensions(event);
                // Codes from the store's own dictionary cannot fail.
                let _ = delta.fold(&mut self.dict, seq, project, event);
                let mut stored = event.clone();
                // Kept to the millisecond, as SQLite keeps `ts`.
                stored.ts = DateTime::from_timestamp_millis(event.ts.timestamp_millis())
                    .unwrap_or(event.ts);
                self.events.insert(
                    seq,
                    StoredEvent {
                        project,
                        event: stored,
                    },
                );
                outcome.accepted += 1;
            }
        }
        self.apply(&delta);
        self.fold_new_sessions(first_seq);
        let received = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        for (batch, outcome) in batches.iter().zip(&mut outcomes) {
            for reject in batch.rejects {
                self.quarantine(reject, received);
                outcome.quarantined += 1;
            }
            for id in batch.resolved_quarantine {
                self.quarantine.remove(id);
            }
        }
        outcomes
    }

    /// Codes the values the raw tables keep by code and reads answer in code order (a
    /// session's topics, an outcome's metrics), or list (the experiments outcomes named).
    fn name_raw_dimensions(&mut self, event: &Event) {
        match &event.body {
            EventBody::Session(s) => {
                for topic in &s.topics {
                    self.dict.assign(Dim::Topic, topic);
                }
            }
            EventBody::Outcome(o) => {
                self.dict.assign(Dim::Experiment, &o.experiment);
                for metric in o.metrics.keys() {
                    self.dict.assign(Dim::Metric, metric);
                }
            }
            _ => {}
        }
    }

    /// Merges a batch's deltas into the rollup rows and the state tables.
    fn apply(&mut self, delta: &RollupDelta) {
        for (key, measures) in &delta.deltas {
            for row in rows_of(*key) {
                self.rollups
                    .entry(row)
                    .or_default()
                    .entry(key.key)
                    .or_default()
                    .merge(measures);
            }
        }
        for job in &delta.jobs {
            let finished = matches!(
                job.status,
                JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
            );
            let at = |wanted: bool| wanted.then_some(job.ts);
            let change = JobRow {
                status: job.status,
                status_ts: job.ts,
                queued_ts: at(job.status == JobStatus::Queued),
                running_ts: at(job.status == JobStatus::Running),
                finished_ts: at(finished),
            };
            self.jobs
                .entry((job.project, job.job_id.clone()))
                .and_modify(|held| {
                    // Changes at one instant are ordered by status, so the state does not
                    // depend on arrival order.
                    if (change.status_ts, change.status.code())
                        > (held.status_ts, held.status.code())
                    {
                        held.status = change.status;
                    }
                    held.status_ts = held.status_ts.max(change.status_ts);
                    held.queued_ts = earliest(held.queued_ts, change.queued_ts);
                    held.running_ts = earliest(held.running_ts, change.running_ts);
                    held.finished_ts = held.finished_ts.max(change.finished_ts);
                })
                .or_insert(change);
        }
        for (&key, load) in &delta.agent_load {
            let held = self.agent_load.entry(key).or_default();
            held.snapshots += load.snapshots;
            held.active += load.active;
            held.queued += load.queued;
            held.capacity += load.capacity;
            held.peak_active = held.peak_active.max(load.peak_active);
        }
        for (&key, latest) in &delta.agent_latest {
            self.agent_latest
                .entry(key)
                .and_modify(|held| {
                    if (latest.ts, latest.seq) > (held.ts, held.seq) {
                        *held = *latest;
                    }
                })
                .or_insert(*latest);
        }
        for (&key, cell) in &delta.minutes {
            let held = self.minutes.entry(key).or_default();
            held.n += cell.n;
            held.errors += cell.errors;
            held.latency.merge(&cell.latency);
        }
        self.recent_users.extend(delta.users.iter().copied());
        self.engagement.apply(delta);
    }

    /// Folds the sessions stored from `first_seq` on into the learner summary; the
    /// learners they belong to take one new revision.
    fn fold_new_sessions(&mut self, first_seq: i64) {
        let revision = self.next_revision();
        let mut folded = Vec::new();
        for stored in self.events.range(first_seq..).map(|(_, s)| s) {
            if let EventBody::Session(s) = &stored.event.body {
                folded.push((
                    stored.project,
                    stored.event.ts.timestamp_millis(),
                    s.clone(),
                ));
            }
        }
        for (project, ts, session) in folded {
            let quarter = tally_store::learner_history::quarter_of(ts);
            let user = session.user_id.to_string();
            let bucket = self
                .learner_activity
                .entry((user.clone(), quarter, project))
                .or_insert(SummaryBucket {
                    first_ts: ts,
                    last_ts: ts,
                    ..SummaryBucket::default()
                });
            bucket.sessions += 1;
            bucket.exchanges += u128::from(session.exchanges);
            bucket.duration_us += i128::from(seconds_to_micros(session.duration_s));
            bucket.quality_sum += session.quality.unwrap_or(0.0);
            bucket.rated += u64::from(session.quality.is_some());
            bucket.excellent += u64::from(session.quality.is_some_and(|q| q >= 0.9));
            bucket.first_ts = bucket.first_ts.min(ts);
            bucket.last_ts = bucket.last_ts.max(ts);
            let mut topics: Vec<&str> = session.topics.iter().map(|t| t.as_str()).collect();
            topics.sort_unstable();
            topics.dedup();
            for topic in topics {
                let held = self
                    .learner_topics
                    .entry((user.clone(), quarter, project, topic.to_owned()))
                    .or_default();
                held.sessions += 1;
                held.rated += u64::from(session.quality.is_some());
                held.quality_sum += session.quality.unwrap_or(0.0);
            }
            let learner = self.learners.entry(user).or_insert(crate::state::Learner {
                revision,
                sessions: 0,
                last_ts: ts,
            });
            learner.revision = revision;
            learner.sessions += 1;
            learner.last_ts = learner.last_ts.max(ts);
        }
    }

    /// Puts a reject in quarantine, or counts it on the entry it repeats: the same bytes
    /// at the same place of the same source, rejected for the same reason.
    fn quarantine(&mut self, reject: &Rejection, received: DateTime<Utc>) {
        let repeated = self.quarantine.values_mut().find(|held| {
            let r = &held.rejection;
            r.source == reject.source
                && r.position == reject.position
                && r.rule == reject.rule
                && r.format == reject.format
                && r.header == reject.header
                && r.field == reject.field
                && r.raw == reject.raw
        });
        match repeated {
            Some(held) => {
                held.rejections += 1;
                held.last_received_at = received;
                held.rejection.message = reject.message.clone();
                held.rejection.record_id = reject.record_id.clone();
            }
            None => {
                // As SQLite numbers an `INTEGER PRIMARY KEY`: one above the highest held.
                let id = self
                    .quarantine
                    .keys()
                    .next_back()
                    .map_or(1, |last| last + 1);
                self.quarantine.insert(
                    id,
                    QuarantinedRecord {
                        quarantine_id: id,
                        received_at: received,
                        last_received_at: received,
                        rejections: 1,
                        rejection: reject.clone(),
                    },
                );
            }
        }
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn micros(ms: f64) -> i64 {
    (ms * 1000.0).round() as i64
}

pub(crate) fn seconds_to_micros(s: f64) -> i64 {
    (s * 1e6).round() as i64
}
