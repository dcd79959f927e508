//! The storage ports: what the ingest and metrics tiers ask of a store.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_models::{Event, JobStatus, Kind, LatencySketch, QaStatus};

use crate::Result;
use crate::rollup::{RollupQuery, RollupRow};

/// Where a rejected record stood in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// 1-based line of a JSON Lines file, or of a CSV file (the header is line 1).
    Line(u64),
    /// 0-based index in a JSON array.
    Index(u64),
}

/// The input format a record came in, so a quarantined record can be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFormat {
    Json,
    Csv,
}

impl RecordFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordFormat::Json => "json",
            RecordFormat::Csv => "csv",
        }
    }
}

/// A record that failed validation, kept verbatim with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where it came from (`events.jsonl`, `-` for stdin, `http`).
    pub source: String,
    pub position: Position,
    pub format: RecordFormat,
    /// For CSV: the header line, without which the row cannot be read again.
    pub header: Option<String>,
    /// The record's `id`, if it had a readable one.
    pub record_id: Option<String>,
    pub field: String,
    pub rule: String,
    pub message: String,
    /// The record's bytes exactly as they arrived (possibly not UTF-8).
    pub raw: Vec<u8>,
}

/// A rejection as stored in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedRecord {
    /// The quarantine's own key, for `quarantine retry`.
    pub quarantine_id: i64,
    /// When it was first rejected.
    pub received_at: DateTime<Utc>,
    /// When it was last rejected: the same bytes at the same place of the same source,
    /// rejected for the same reason, are one entry.
    pub last_received_at: DateTime<Utc>,
    /// How many times it was rejected.
    pub rejections: u64,
    /// The latest rejection (its message as given then).
    pub rejection: Rejection,
}

/// One unit of durable work: the good events and the rejects of a batch, and the
/// quarantine entries that this batch resolves (a retry), committed together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Batch<'a> {
    pub events: &'a [Event],
    pub rejects: &'a [Rejection],
    pub resolved_quarantine: &'a [i64],
    /// The rollup deltas of `events`, folded ahead of the write (on an ingest's
    /// producer thread); the store folds the events itself when this is `None`.
    pub prepared: Option<&'a crate::PreparedRollups>,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WriteOutcome {
    /// Events stored for the first time.
    pub accepted: u64,
    /// Events whose `(project, id)` was already stored; not stored again.
    pub duplicates: u64,
    /// Rejects put in quarantine (a repeat of an entry counts on that entry).
    pub quarantined: u64,
}

impl std::ops::AddAssign for WriteOutcome {
    fn add_assign(&mut self, other: WriteOutcome) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
    }
}

/// Writes batches durably. A batch is all or nothing: when `write_batch` returns `Ok`,
/// every event and reject in it survives a crash of the process.
pub trait EventStore: Send + Sync {
    /// # Errors
    /// Any storage failure; then nothing of the batch was stored.
    fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome>;

    /// Writes several batches in one atomic step (one transaction where the store has
    /// them), one outcome per batch in order: an ingest whose writer fell behind commits
    /// what queued up together, paying the per-commit costs once.
    ///
    /// # Errors
    /// Any storage failure; then nothing of any of the batches was stored.
    fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        batches.iter().map(|b| self.write_batch(*b)).collect()
    }
}

/// Reads the quarantine.
pub trait QuarantineStore: Send + Sync {
    /// Quarantined records in arrival order, at most `limit`, after `after_id`.
    ///
    /// # Errors
    /// Any storage failure.
    fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>>;

    /// How many records wait in quarantine.
    ///
    /// # Errors
    /// Any storage failure.
    fn quarantine_len(&self) -> Result<u64>;
}

/// Which events a question is about. `to` is exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub project: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Sums over `execution` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ExecutionTotals {
    pub count: u64,
    pub successes: u64,
    /// Sums are 128-bit: bounded per record, they cannot wrap (see `Measures`).
    pub tokens: u128,
    pub cost_nanos: i128,
    pub duration_us: i128,
}

/// Sums over `run` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RunTotals {
    pub count: u64,
    pub tokens: u128,
    pub cost_nanos: i128,
    pub duration_us: i128,
    pub mode_2loop: u64,
    pub mode_3loop: u64,
    /// Runs per QA status, indexed by [`QaStatus::code`].
    pub qa: [u64; QaStatus::ALL.len()],
}

/// Jobs counted once each, by the status of their latest record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JobTotals {
    pub distinct: u64,
    /// Jobs per latest status, indexed by [`JobStatus::code`].
    pub by_status: [u64; JobStatus::ALL.len()],
}

/// The raw sums the overall summary is composed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub executions: ExecutionTotals,
    pub runs: RunTotals,
    pub jobs: JobTotals,
}

/// Answers aggregate questions over stored events.
pub trait TotalsReader: Send + Sync {
    /// # Errors
    /// Any storage failure.
    fn totals(&self, filter: &Filter) -> Result<Totals>;
}

/// Size and content figures of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StoreStats {
    /// Bytes of the database in use (pages in use times page size).
    pub bytes_used: u64,
    /// Stored events of every kind.
    pub events: u64,
    pub schema_version: i64,
}

/// A job's current state, from its latest state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobState {
    pub project: String,
    pub job_id: String,
    pub status: JobStatus,
    /// When the current status was reached (epoch ms).
    pub status_ts: i64,
    /// First time the job was seen queued, running, and last time finished (epoch ms).
    pub queued_ts: Option<i64>,
    pub running_ts: Option<i64>,
    pub finished_ts: Option<i64>,
}

/// An agent's latest load snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentState {
    pub project: String,
    pub agent_id: String,
    pub ts: DateTime<Utc>,
    pub active_tasks: u64,
    pub queued_tasks: u64,
    pub capacity: u64,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
}

/// An agent's load snapshots within one hour, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AgentLoadSums {
    pub snapshots: u64,
    pub active_sum: u64,
    pub queued_sum: u64,
    pub capacity_sum: u64,
    pub peak_active: u64,
}

/// One agent's load in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLoadRow {
    pub agent_id: String,
    /// Start of the hour, epoch seconds.
    pub hour: i64,
    pub sums: AgentLoadSums,
}

/// Events of one kind within one minute (the minute tier of the real-time windows).
#[derive(Debug, Clone, PartialEq)]
pub struct MinuteRow {
    /// Start of the minute, epoch seconds.
    pub minute: i64,
    pub kind: Kind,
    pub n: u64,
    /// Failed executions, requests answered 5xx, `error` events of severity error or
    /// critical.
    pub errors: u64,
    /// Execution durations and request latencies, milliseconds.
    pub latency: LatencySketch,
}

/// Reads the rollup tier and the live state tables.
pub trait RollupReader: Send + Sync {
    /// The rollup rows that cover `query`'s range exactly once.
    ///
    /// # Errors
    /// Any storage failure.
    fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>>;

    /// Jobs whose current status was reached within the filter's range.
    ///
    /// # Errors
    /// Any storage failure.
    fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>>;

    /// Every agent's latest snapshot (of the filter's project, if any).
    ///
    /// # Errors
    /// Any storage failure.
    fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>>;

    /// Hourly agent load within the filter's range.
    ///
    /// # Errors
    /// Any storage failure.
    fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>>;

    /// Minute rows since `since` (summed over projects unless one is named).
    ///
    /// # Errors
    /// Any storage failure.
    fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>>;

    /// The error classes executions reported, by their codes in risk facets.
    ///
    /// # Errors
    /// Any storage failure.
    fn error_classes(&self) -> Result<Vec<(i64, String)>>;

    /// Distinct users seen since `since`.
    ///
    /// # Errors
    /// Any storage failure.
    fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64>;
}

/// What a retention run deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RetentionOutcome {
    pub raw_rows_deleted: u64,
    pub rollup_rows_deleted: u64,
    pub minute_rows_deleted: u64,
}

/// Deletes data past its age.
pub trait Retention: Send + Sync {
    /// Deletes raw events before `raw_before`, hour and day rollups (and agent load)
    /// before `rollups_before`, month rollups of months that ended before it, and
    /// minute-tier rows before `minutes_before`. Rollup figures of the kept range do
    /// not change.
    ///
    /// # Errors
    /// Any storage failure.
    fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome>;
}

/// A measure of the raw tables that the rollup tier does not keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawMeasure {
    /// `session` events counted.
    Sessions,
    /// `session` events and the sum of their `quality` (sessions without one are not
    /// valued).
    SessionQuality,
    /// `skill` events and how many of them completed.
    SkillCompletion,
}

/// Which raw rows a series reads, and how long its periods are.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeriesQuery<'a> {
    pub measure: RawMeasure,
    /// Project and range (`from` inclusive, `to` exclusive).
    pub filter: &'a Filter,
    /// Period length in seconds (3600 or 86 400); periods start at multiples of it.
    pub step_seconds: i64,
    /// Only this skill ([`RawMeasure::SkillCompletion`]).
    pub skill: Option<&'a str>,
    /// Only this user.
    pub user: Option<&'a str>,
}

/// One period of a raw series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RawSeriesRow {
    /// Start of the period, epoch seconds UTC.
    pub bucket: i64,
    /// Rows in the period.
    pub rows: u64,
    /// Rows that carry the measured value (all of them for counts and completion).
    pub valued: u64,
    /// Sum of the measured value over the valued rows (quality, or 1 per completion).
    pub sum: f64,
}

/// Period series over the raw tables, for measures without rollups. They reach back
/// only as far as raw retention keeps events.
pub trait SeriesReader: Send + Sync {
    /// The non-empty periods of `query`, in time order.
    ///
    /// # Errors
    /// Any storage failure.
    fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>>;
}

/// One stored `session` event, as the learning tier reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearningSession {
    pub ts: DateTime<Utc>,
    pub duration_us: i64,
    pub exchanges: u64,
    /// Average quality in [0, 1], when the event had one.
    pub quality: Option<f64>,
    /// Topic names, sorted.
    pub topics: Vec<String>,
}

/// A learner's sessions that started in one 15-minute UTC bucket (from the learner
/// summary, once raw retention removed them), or one session (while its raw row is
/// kept): the learning tier's input. Every sum is exact; only the times of the sessions
/// between `first` and `last` are lost in a bucket of more than one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// Start of the earliest session.
    pub first: DateTime<Utc>,
    /// Start of the latest session (`first` for one session).
    pub last: DateTime<Utc>,
    pub sessions: u64,
    /// Sums are 128-bit: bounded per session, they cannot wrap however many are added.
    pub exchanges: u128,
    pub duration_us: i128,
    /// Sum of the reported qualities.
    pub quality_sum: f64,
    /// Sessions that reported a quality.
    pub rated: u64,
    /// Sessions of quality >= 0.9.
    pub excellent: u64,
    /// Per topic, sorted by name.
    pub topics: Vec<TopicActivity>,
}

/// The sessions of an [`Activity`] that named one topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicActivity {
    pub topic: String,
    pub sessions: u64,
    pub rated: u64,
    pub quality_sum: f64,
}

impl Activity {
    /// Mean quality of the rated sessions, `None` when none reported one.
    pub fn average_quality(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.quality_sum / self.rated as f64)
    }
}

impl From<&LearningSession> for Activity {
    fn from(s: &LearningSession) -> Activity {
        let rated = u64::from(s.quality.is_some());
        let quality_sum = s.quality.unwrap_or(0.0);
        Activity {
            first: s.ts,
            last: s.ts,
            sessions: 1,
            exchanges: u128::from(s.exchanges),
            duration_us: i128::from(s.duration_us),
            quality_sum,
            rated,
            excellent: u64::from(s.quality.is_some_and(|q| q >= 0.9)),
            topics: s
                .topics
                .iter()
                .map(|topic| TopicActivity {
                    topic: topic.clone(),
                    sessions: 1,
                    rated,
                    quality_sum,
                })
                .collect(),
        }
    }
}

/// One stored `skill` event, as the learning tier reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillInvocation {
    pub ts: DateTime<Utc>,
    pub skill: String,
    pub completed: bool,
    pub rating: Option<u8>,
}

/// A stored learning goal definition; its progress is computed from events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalRecord {
    pub id: i64,
    pub user: String,
    /// `streak`, `sessions`, `exchanges`, `quality`, `topics` or `minutes`.
    pub kind: String,
    pub target: f64,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    /// `active`, `paused` or `abandoned`.
    pub state: String,
    /// The project it was set in, counted over that project's sessions; `None`: global,
    /// counted over every project's.
    pub project: Option<String>,
}

/// Reads what learners did (`session`, `skill` events) and keeps their settings and goals.
pub trait LearningReader: Send + Sync {
    /// The sessions of `user` (in `project`, or all projects when `None`) at or before
    /// `until` (all when `None`), oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>>;

    /// The skill invocations of `user`, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>>;

    /// Every user with at least one session, by name.
    ///
    /// # Errors
    /// Any storage failure.
    fn learners(&self, project: Option<&str>) -> Result<Vec<String>>;

    /// `user`'s activity (in `project`, or all projects) up to `until`, oldest first:
    /// one [`Activity`] per session while its raw row is kept, one per 15-minute bucket
    /// of the learner summary where retention removed some (a bucket counts once its last
    /// session is at or before `until`).
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>>;

    /// Every learner's activity from the summary alone (15-minute buckets whose last
    /// session is at or before `until`), grouped by user name, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>>;

    /// The learners whose sessions, time zone or goals changed since revision `since`,
    /// with their revision now; the highest revision is the store's learner revision.
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>>;

    /// The IANA time zone set for `user`, `None` when none was set.
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_time_zone(&self, user: &str) -> Result<Option<String>>;

    /// Every stored `(user, IANA time zone)` setting.
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_time_zones(&self) -> Result<Vec<(String, String)>>;

    /// Sets the IANA time zone of `user` (the caller validates the name).
    ///
    /// # Errors
    /// Any storage failure.
    fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()>;

    /// Stores a new goal (its `id` is ignored) and returns its id.
    ///
    /// # Errors
    /// Any storage failure.
    fn create_goal(&self, goal: &GoalRecord) -> Result<i64>;

    /// The goals of `user`, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn goals(&self, user: &str) -> Result<Vec<GoalRecord>>;

    /// Replaces the stored goal with `goal.id`; `false` when there is none.
    ///
    /// # Errors
    /// Any storage failure.
    fn update_goal(&self, goal: &GoalRecord) -> Result<bool>;
}

/// One stored `skill` event with the context the success predictor reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillRow {
    /// Arrival order: breaks ties between rows of the same instant.
    pub seq: i64,
    pub ts: DateTime<Utc>,
    pub user: String,
    pub skill: String,
    pub completed: bool,
    pub session: Option<String>,
    pub phase: Option<String>,
}

/// Which `skill` rows to read: `from` inclusive, `to` exclusive, of every project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkillRowsQuery<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only this user's rows.
    pub user: Option<&'a str>,
}

/// A user's invocations of one skill and how many completed, before some instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillTally {
    pub user: String,
    pub skill: String,
    pub invocations: u64,
    pub completed: u64,
}

/// Reads stored skill invocations for the success predictor: a window's rows in time
/// order, and the history before it in aggregate.
pub trait SkillHistoryReader: Send + Sync {
    /// Calls `visit` with every row of `query`, ordered by `(ts, seq)`, without holding
    /// them all in memory. An error from `visit` stops the read and is returned.
    ///
    /// # Errors
    /// Any storage failure, or the error `visit` returned.
    fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> Result<()>,
    ) -> Result<()>;

    /// Per user and skill, the invocations strictly before `before` (of `user` only,
    /// when given).
    ///
    /// # Errors
    /// Any storage failure.
    fn skill_tallies(&self, before: DateTime<Utc>, user: Option<&str>) -> Result<Vec<SkillTally>>;

    /// The first invocation instant of each session that has an invocation in
    /// `[before, active_until)`, counting only invocations strictly before `before`:
    /// the starts of the sessions that were already running at `before`. With
    /// `session`, that session's first invocation before `before`, whatever its later
    /// activity.
    ///
    /// # Errors
    /// Any storage failure.
    fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>>;
}

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
