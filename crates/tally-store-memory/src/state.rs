//! What the store holds: the raw events, the rollup and state tables the fold feeds, the
//! learner summary, the quarantine and the records the other ports keep.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use tally_models::{Event, JobStatus};
use tally_store::engagement::{DayActivity, SessionSpan};
use tally_store::rollup::{ALL_PROJECTS, Family, Measures, Resolution};
pub(crate) use tally_store::rollup_fanout::RowKey;
use tally_store::rollup_fold::{AgentLatest, AgentLoad, MinuteCell};
use tally_store::{
    AlertStateRecord, AlertTransitionRecord, ApiKeyRecord, DeliveryAttempt, Dim, ExperimentRecord,
    GoalRecord, PredictModelInfo, QuarantinedRecord, StoredAlertRule, StoredDashboard,
};

use crate::dictionary::Dictionary;

/// An event's key in the idempotency ledger: a given id and a derived one never meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LedgerId {
    Given(String),
    Derived(u128),
}

/// A stored event and its project's code.
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub(crate) project: i64,
    pub(crate) event: Event,
}

/// A job's state from its latest change (`job_state`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobRow {
    pub(crate) status: JobStatus,
    pub(crate) status_ts: i64,
    pub(crate) queued_ts: Option<i64>,
    pub(crate) running_ts: Option<i64>,
    pub(crate) finished_ts: Option<i64>,
}

/// One learner's sessions of one 15-minute bucket in one project.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SummaryBucket {
    pub(crate) sessions: u64,
    pub(crate) exchanges: u128,
    pub(crate) duration_us: i128,
    pub(crate) quality_sum: f64,
    pub(crate) rated: u64,
    pub(crate) excellent: u64,
    pub(crate) first_ts: i64,
    pub(crate) last_ts: i64,
}

/// The sessions of a summary bucket that named one topic.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TopicBucket {
    pub(crate) sessions: u64,
    pub(crate) rated: u64,
    pub(crate) quality_sum: f64,
}

/// One learner's totals, and the revision of their last change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Learner {
    pub(crate) revision: i64,
    pub(crate) sessions: u64,
    pub(crate) last_ts: i64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) dict: Dictionary,
    pub(crate) ledger: HashSet<(i64, LedgerId)>,
    pub(crate) next_seq: i64,
    /// The raw tier, by `seq`.
    pub(crate) events: BTreeMap<i64, StoredEvent>,
    /// The rollup rows, each holding every key of its period.
    pub(crate) rollups: BTreeMap<RowKey, BTreeMap<i64, Measures>>,
    /// By project code and job id.
    pub(crate) jobs: BTreeMap<(i64, String), JobRow>,
    /// By project, agent and hour.
    pub(crate) agent_load: BTreeMap<(i64, i64, i64), AgentLoad>,
    /// By project and agent.
    pub(crate) agent_latest: BTreeMap<(i64, i64), AgentLatest>,
    /// By minute, project and kind code.
    pub(crate) minutes: BTreeMap<(i64, i64, u8), MinuteCell>,
    /// `(minute, project, user)` seen.
    pub(crate) recent_users: BTreeSet<(i64, i64, i64)>,
    /// The engagement tables (`engagement.rs`).
    pub(crate) engagement: Engagement,
    /// The learner summary by user, quarter (15-minute bucket) and project.
    pub(crate) learner_activity: BTreeMap<(String, i64, i64), SummaryBucket>,
    /// By user, quarter, project and topic.
    pub(crate) learner_topics: BTreeMap<(String, i64, i64, String), TopicBucket>,
    pub(crate) learners: BTreeMap<String, Learner>,
    pub(crate) time_zones: BTreeMap<String, String>,
    pub(crate) opted_out: BTreeSet<String>,
    /// By id.
    pub(crate) goals: BTreeMap<i64, GoalRecord>,
    pub(crate) quarantine: BTreeMap<i64, QuarantinedRecord>,
    pub(crate) keys: Vec<ApiKeyRecord>,
    /// By key, then project (`None`, a global one, first, as SQLite orders NULL).
    pub(crate) experiments: BTreeMap<(String, Option<String>), ExperimentRecord>,
    pub(crate) models: Vec<(PredictModelInfo, Vec<u8>)>,
    pub(crate) alerts: AlertTables,
    /// Saved dashboards, by id.
    pub(crate) dashboards: BTreeMap<String, StoredDashboard>,
}

/// The engagement tables, as SQLite keeps them.
#[derive(Debug, Default)]
pub(crate) struct Engagement {
    /// By project and user code: the first day (epoch seconds) they were active.
    pub(crate) first_days: BTreeMap<(i64, i64), i64>,
    /// By project, day and user code.
    pub(crate) days: BTreeMap<(i64, i64, i64), DayActivity>,
    /// By project and session key.
    pub(crate) sessions: BTreeMap<(i64, String), SessionSpan>,
}

/// The alerts port's records.
#[derive(Debug, Default)]
pub(crate) struct AlertTables {
    /// By name.
    pub(crate) rules: BTreeMap<String, StoredAlertRule>,
    /// By rule name.
    pub(crate) states: BTreeMap<String, AlertStateRecord>,
    /// By id; ids are never reused.
    pub(crate) history: BTreeMap<i64, AlertTransitionRecord>,
    pub(crate) last_transition_id: i64,
    pub(crate) deliveries: Vec<DeliveryAttempt>,
}

impl Default for State {
    fn default() -> Self {
        State {
            dict: Dictionary::default(),
            ledger: HashSet::new(),
            next_seq: 1,
            events: BTreeMap::new(),
            rollups: BTreeMap::new(),
            jobs: BTreeMap::new(),
            agent_load: BTreeMap::new(),
            agent_latest: BTreeMap::new(),
            minutes: BTreeMap::new(),
            recent_users: BTreeSet::new(),
            engagement: Engagement::default(),
            learner_activity: BTreeMap::new(),
            learner_topics: BTreeMap::new(),
            learners: BTreeMap::new(),
            time_zones: BTreeMap::new(),
            opted_out: BTreeSet::new(),
            goals: BTreeMap::new(),
            quarantine: BTreeMap::new(),
            keys: Vec::new(),
            experiments: BTreeMap::new(),
            models: Vec::new(),
            alerts: AlertTables::default(),
            dashboards: BTreeMap::new(),
        }
    }
}

/// Which projects a read covers: `None` when the named project has no data (the read
/// then answers nothing), `Some(None)` for every project.
pub(crate) type ProjectCode = Option<Option<i64>>;

impl State {
    pub(crate) fn project_code(&self, project: Option<&str>) -> ProjectCode {
        match project {
            None => Some(None),
            Some(name) => self.dict.get(Dim::Project, name).map(Some),
        }
    }

    /// The stored events, in arrival order, of the project (`None`: all) with `ts` in
    /// `[from, to)`.
    pub(crate) fn events_in<'s>(
        &'s self,
        project: Option<i64>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> impl Iterator<Item = (i64, &'s StoredEvent)> + 's {
        // Compared in epoch milliseconds, as stored.
        let from = from.map(|t| t.timestamp_millis());
        let to = to.map(|t| t.timestamp_millis());
        self.events
            .iter()
            .filter(move |(_, s)| {
                let ts = s.event.ts.timestamp_millis();
                project.is_none_or(|p| p == s.project)
                    && from.is_none_or(|f| ts >= f)
                    && to.is_none_or(|t| ts < t)
            })
            .map(|(&seq, s)| (seq, s))
    }

    /// The next learner revision: above every stored one.
    pub(crate) fn next_revision(&self) -> i64 {
        self.learners
            .values()
            .map(|l| l.revision)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Raises `user`'s learner revision (when they have sessions), so caches of what is
    /// derived from them refresh.
    pub(crate) fn touch_learner(&mut self, user: &str) {
        let revision = self.next_revision();
        if let Some(learner) = self.learners.get_mut(user) {
            learner.revision = revision;
        }
    }

    /// The months the stored events of `project` span, from the monthly event counts.
    pub(crate) fn stored_span(
        &self,
        project: Option<&str>,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let code = match project {
            None => ALL_PROJECTS,
            Some(name) => self.dict.get(Dim::Project, name)?,
        };
        let mut months = self
            .rollups
            .range(
                (Family::Events, Resolution::Month, code, i64::MIN)
                    ..=(Family::Events, Resolution::Month, code, i64::MAX),
            )
            .map(|(&(_, _, _, bucket), _)| bucket);
        let first = months.next()?;
        let last = months.next_back().unwrap_or(first);
        Some((
            DateTime::from_timestamp(first, 0)?,
            DateTime::from_timestamp(Resolution::Month.next(last), 0)?,
        ))
    }
}
