//! Folding events into rollup deltas: what a batch adds to each rollup row, keyed at
//! each family's finest resolution, and to the job, agent and minute tables.
//!
//! The fold needs dictionary codes for tools, models, agents and the like. The writer
//! folds with the real codes ([`Codes`] over its dictionary). An ingest's producer
//! thread folds a batch ahead of time with codes local to the batch
//! ([`PreparedRollups`]), so the writer only translates a few hundred symbols and
//! merges, instead of folding every event on its critical path. A prepared fold is only
//! used when every event of its batch turns out to be new; otherwise the writer folds
//! the new ones itself, so duplicates are never counted.

use chrono::{DateTime, Timelike, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use tally_models::{CostSource, Event, EventBody, JobStatus, LatencySketch, Severity, SketchValue};

use crate::Result;
use crate::dim::{DIMS, Dim};
use crate::engagement::{self, DayActivity, SessionSpan};
use crate::rollup::{Facet, Family, Measures, Resolution, RunMode, run_key};

/// Where the fold gets dictionary codes from: the small integers an adapter stores
/// low-cardinality strings as (a tool, a model, a project...). Codes are at least 1: 0
/// means "none". An adapter implements this over its dictionary; the fold calls it for
/// every dimension value an event carries.
pub trait Codes {
    /// The code of `value` in dimension `dim`, assigned on first use.
    ///
    /// # Errors
    /// The adapter could not assign or read the code.
    fn code(&mut self, dim: Dim, value: &str) -> Result<i64>;

    /// The code of `value` when there is one.
    ///
    /// # Errors
    /// As [`Codes::code`].
    fn code_opt(&mut self, dim: Dim, value: Option<&str>) -> Result<Option<i64>> {
        value.map(|v| self.code(dim, v)).transpose()
    }
}

/// Codes local to one batch: the position of each distinct `(dim, value)` plus one.
#[derive(Debug)]
struct LocalSymbols {
    /// Per dimension, value to local code.
    index: Vec<FxHashMap<String, i64>>,
    symbols: Vec<(Dim, String)>,
}

impl LocalSymbols {
    fn new() -> Self {
        LocalSymbols {
            index: (0..DIMS).map(|_| FxHashMap::default()).collect(),
            symbols: Vec::new(),
        }
    }
}

impl LocalSymbols {
    fn clear(&mut self) {
        self.index.iter_mut().for_each(FxHashMap::clear);
        self.symbols.clear();
    }
}

impl Codes for LocalSymbols {
    fn code(&mut self, dim: Dim, value: &str) -> Result<i64> {
        let index = &mut self.index[dim as usize];
        if let Some(&code) = index.get(value) {
            return Ok(code);
        }
        self.symbols.push((dim, value.to_owned()));
        let code = self.symbols.len() as i64;
        index.insert(value.to_owned(), code);
        Ok(code)
    }
}

/// A batch's rollup deltas folded ahead of the write, in codes local to the batch.
/// Reused from batch to batch ([`PreparedRollups::refold`]), so its tables are sized
/// once per ingest instead of once per batch.
#[derive(Debug)]
pub struct PreparedRollups {
    delta: RollupDelta,
    symbols: LocalSymbols,
    /// How many events were folded: the prepared fold fits a batch of that many.
    events: usize,
}

impl PreparedRollups {
    /// Folds `events` as if each were new, the i-th stored with sequence number i.
    pub fn fold(events: &[Event], now: DateTime<Utc>) -> Self {
        let mut prepared = PreparedRollups {
            delta: RollupDelta::new(now),
            symbols: LocalSymbols::new(),
            events: 0,
        };
        prepared.refold(events, now);
        prepared
    }

    /// Replaces what this holds with the fold of `events`.
    pub fn refold(&mut self, events: &[Event], now: DateTime<Utc>) {
        self.clear();
        self.delta.clear(now);
        let symbols = &mut self.symbols;
        for (index, event) in events.iter().enumerate() {
            // Local codes cannot fail.
            let Ok(project) = symbols.code(Dim::Project, &event.project) else {
                continue;
            };
            let _ = self.delta.fold(symbols, index as i64, project, event);
        }
        self.events = events.len();
    }

    /// Empties this: it then fits only an empty batch.
    pub fn clear(&mut self) {
        // An ingest holds a dozen of these in flight: keeping spare measures in each
        // would cost more memory than their reuse saves.
        self.delta.clear_dropping_measures(Utc::now());
        self.symbols.clear();
        self.events = 0;
    }

    /// The number of events folded.
    pub fn len(&self) -> usize {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Adds the prepared deltas to `into`, with real codes from `codes`, for a batch
    /// whose events were all stored, the first with sequence number `first_seq`.
    /// Only for such a batch: with a duplicate among its events, the adapter folds the
    /// new events itself ([`RollupDelta::fold`]), so duplicates are never counted.
    ///
    /// # Errors
    /// `codes` failed.
    pub fn add_to(
        &self,
        into: &mut RollupDelta,
        codes: &mut impl Codes,
        first_seq: i64,
    ) -> Result<()> {
        let mut real = Vec::with_capacity(self.symbols.symbols.len() + 1);
        real.push(0);
        for (dim, value) in &self.symbols.symbols {
            real.push(codes.code(*dim, value)?);
        }
        let code = |local: i64| real[usize::try_from(local).unwrap_or(0)];
        let delta = &self.delta;
        for (key, measures) in &delta.deltas {
            let dictionary_key = matches!(
                key.family,
                Family::ExecutionsByModel
                    | Family::ExecutionsByTool
                    | Family::ExecutionsByAgent
                    | Family::RunsByModel
                    | Family::Requests
            );
            let real_key = DeltaKey {
                family: key.family,
                project: code(key.project),
                bucket: key.bucket,
                key: if dictionary_key {
                    code(key.key)
                } else {
                    key.key
                },
            };
            let target = into.measures_at(real_key);
            target.merge_sums(measures);
            target
                .facets
                .merge_mapped(&measures.facets, |facet, value| match facet {
                    Facet::Model | Facet::ErrorClass => code(value),
                    Facet::HourOfDay | Facet::Effort | Facet::BrowserUsed => value,
                });
        }
        for job in &delta.jobs {
            into.jobs.push(JobChange {
                project: code(job.project),
                job_id: job.job_id.clone(),
                ..*job
            });
        }
        for (&(project, agent, hour), load) in &delta.agent_load {
            into.agent_load
                .entry((code(project), code(agent), hour))
                .or_default()
                .merge(load);
        }
        for (&(project, agent), latest) in &delta.agent_latest {
            let latest = AgentLatest {
                seq: first_seq + latest.seq,
                ..*latest
            };
            into.agent_latest
                .entry((code(project), code(agent)))
                .and_modify(|held| {
                    if (latest.ts, latest.seq) > (held.ts, held.seq) {
                        *held = latest;
                    }
                })
                .or_insert(latest);
        }
        for (&(minute, project, kind), cell) in &delta.minutes {
            let target = into
                .minutes
                .entry((minute, code(project), kind))
                .or_default();
            target.n += cell.n;
            target.errors += cell.errors;
            target.latency.merge(&cell.latency);
        }
        for &(minute, project, user) in &delta.users {
            into.users.insert((minute, code(project), code(user)));
        }
        for (&(project, user, day), activity) in &delta.user_days {
            into.add_user_day((code(project), code(user), day), activity);
        }
        for ((project, session), span) in &delta.sessions {
            into.add_session((code(*project), session.clone()), span);
        }
        Ok(())
    }
}

/// How far back an event may lie, when it arrives, to count in the minute tier that
/// answers the real-time windows.
pub const MINUTE_TIER_HORIZON_MS: i64 = 24 * 3600 * 1000;

/// The key a delta is gathered under: its bucket is of the family's finest resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeltaKey {
    pub family: Family,
    pub project: i64,
    pub bucket: i64,
    pub key: i64,
}

/// A job's state change, folded into the job states.
#[derive(Debug, Clone)]
pub struct JobChange {
    /// The project's code.
    pub project: i64,
    pub job_id: String,
    pub status: JobStatus,
    /// Epoch milliseconds.
    pub ts: i64,
}

/// What an agent's snapshots within one hour add to its load (sums and peak).
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentLoad {
    pub snapshots: u64,
    pub active: u64,
    pub queued: u64,
    pub capacity: u64,
    pub peak_active: u64,
}

/// An agent's latest snapshot of a batch: the latest by `(ts, seq)` wins.
#[derive(Debug, Clone, Copy)]
pub struct AgentLatest {
    pub ts: i64,
    pub seq: i64,
    pub active: u64,
    pub queued: u64,
    pub capacity: u64,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
}

/// What a batch adds to one minute of one kind of one project (the minute tier).
#[derive(Debug, Clone, Default)]
pub struct MinuteCell {
    pub n: u64,
    pub errors: u64,
    pub latency: LatencySketch,
}

/// What one batch adds to the rollup and state tables, in dictionary codes. An adapter
/// merges it into what it stores before the batch commits: each entry of `deltas` into
/// the rows [`crate::rollup_fanout::rows_of`] names.
#[derive(Debug, Default)]
pub struct RollupDelta {
    /// Measures per key, bucketed at the family's finest resolution.
    pub deltas: FxHashMap<DeltaKey, Measures>,
    /// Job state changes, in fold order.
    pub jobs: Vec<JobChange>,
    /// Per `(project, agent, hour start in epoch seconds)`.
    pub agent_load: FxHashMap<(i64, i64, i64), AgentLoad>,
    /// Per `(project, agent)`.
    pub agent_latest: FxHashMap<(i64, i64), AgentLatest>,
    /// Per `(minute start in epoch seconds, project, kind code)`.
    pub minutes: FxHashMap<(i64, i64, u8), MinuteCell>,
    /// `(minute start in epoch seconds, project, user)` seen.
    pub users: FxHashSet<(i64, i64, i64)>,
    /// Per `(project, user, day start in epoch seconds)`: the engagement day rows.
    pub user_days: FxHashMap<(i64, i64, i64), DayActivity>,
    /// Per `(project, session key)`: the engagement session rows.
    pub sessions: FxHashMap<(i64, String), SessionSpan>,
    /// Events at or after this instant (epoch ms) count in the minute tier.
    pub minute_horizon: i64,
    /// Emptied measures of earlier batches, reused for new keys: their sketches and
    /// facet tables keep their memory, so a batch does not allocate (and page-fault)
    /// them afresh.
    spare: Vec<Measures>,
}

impl RollupDelta {
    /// An empty delta; events more than a day before `now` skip the minute tier.
    pub fn new(now: DateTime<Utc>) -> Self {
        RollupDelta {
            // A batch of executions over a few hours of many projects, tools and agents
            // touches a few thousand keys: sized once rather than grown step by step.
            deltas: FxHashMap::with_capacity_and_hasher(4096, Default::default()),
            minute_horizon: now.timestamp_millis() - MINUTE_TIER_HORIZON_MS,
            ..RollupDelta::default()
        }
    }

    /// Forgets every delta and frees the measures' memory (the tables keep theirs).
    fn clear_dropping_measures(&mut self, now: DateTime<Utc>) {
        self.deltas.clear();
        self.spare = Vec::new();
        self.clear(now);
    }

    /// Forgets every delta, keeping the memory for the next batch.
    pub fn clear(&mut self, now: DateTime<Utc>) {
        self.spare
            .extend(self.deltas.drain().map(|(_, mut measures)| {
                measures.clear();
                measures
            }));
        self.jobs.clear();
        self.agent_load.clear();
        self.agent_latest.clear();
        self.minutes.clear();
        self.users.clear();
        self.user_days.clear();
        self.sessions.clear();
        self.minute_horizon = now.timestamp_millis() - MINUTE_TIER_HORIZON_MS;
    }

    fn add_user_day(&mut self, key: (i64, i64, i64), activity: &DayActivity) {
        self.user_days
            .entry(key)
            .and_modify(|held| held.merge(activity))
            .or_insert(*activity);
    }

    fn add_session(&mut self, key: (i64, String), span: &SessionSpan) {
        match self.sessions.get_mut(&key) {
            Some(held) => held.merge(span),
            None => {
                self.sessions.insert(key, span.clone());
            }
        }
    }

    fn measures(&mut self, family: Family, project: i64, ts: i64, key: i64) -> &mut Measures {
        self.measures_at(DeltaKey {
            family,
            project,
            bucket: family.finest().bucket(ts),
            key,
        })
    }

    /// The measures of `key`, a spare emptied one when the key is new.
    fn measures_at(&mut self, key: DeltaKey) -> &mut Measures {
        let spare = &mut self.spare;
        self.deltas
            .entry(key)
            .or_insert_with(|| spare.pop().unwrap_or_default())
    }

    /// Folds one freshly stored event (its project's code is `project`, its sequence
    /// number `seq`).
    ///
    /// # Errors
    /// `codes` failed.
    pub fn fold(
        &mut self,
        codes: &mut impl Codes,
        seq: i64,
        project: i64,
        event: &Event,
    ) -> Result<()> {
        let ts = event.ts.timestamp_millis();
        let kind = event.kind().code();
        let events = self.measures(Family::Events, project, ts, i64::from(kind));
        events.n += 1;
        events.last_ts = events.last_ts.max(ts);
        let mut minute = (ts >= self.minute_horizon).then_some((SketchValue::new(0.0), false));
        let mut user = None;
        match &event.body {
            EventBody::Execution(x) => {
                let model = codes.code_opt(Dim::Model, x.model.as_deref())?.unwrap_or(0);
                let tool = codes.code(Dim::Tool, &x.tool)?;
                let agent = codes
                    .code_opt(Dim::Agent, x.agent_id.as_deref())?
                    .unwrap_or(0);
                let error = codes.code_opt(Dim::ErrorClass, x.error.as_deref())?;
                let cost = i128::from(x.cost_usd.map_or(0, |c| c.to_nanos()));
                let computed = if x.cost_source == CostSource::Computed {
                    cost
                } else {
                    0
                };
                let duration_us = i128::from((x.duration_ms * 1000.0).round() as i64);
                let duration = SketchValue::new(x.duration_ms);
                // Durations are sketched overall and per tool; per model and per agent
                // the sums suffice.
                let add = |m: &mut Measures, sketch: bool| {
                    m.n += 1;
                    m.ok += u64::from(x.success);
                    m.duration_us += duration_us;
                    m.last_ts = m.last_ts.max(ts);
                    if sketch {
                        m.latency.add_placed(duration, 1);
                    }
                    m.input_tokens += u128::from(x.tokens.input_tokens.unwrap_or(0));
                    m.output_tokens += u128::from(x.tokens.output_tokens.unwrap_or(0));
                    m.cache_read_tokens += u128::from(x.tokens.cache_read_tokens.unwrap_or(0));
                    m.cache_write_tokens += u128::from(x.tokens.cache_write_tokens.unwrap_or(0));
                    m.reasoning_tokens += u128::from(x.tokens.reasoning_tokens.unwrap_or(0));
                    m.cost_nusd += cost;
                    m.computed_cost_nusd += computed;
                };
                add(self.measures(Family::Executions, project, ts, 0), true);
                add(
                    self.measures(Family::ExecutionsByModel, project, ts, model),
                    false,
                );
                add(
                    self.measures(Family::ExecutionsByAgent, project, ts, agent),
                    false,
                );
                let by_tool = self.measures(Family::ExecutionsByTool, project, ts, tool);
                add(by_tool, true);
                let failed = !x.success;
                let facets = &mut by_tool.facets;
                facets.add(Facet::HourOfDay, i64::from(event.ts.hour()), failed);
                facets.add(Facet::Model, model, failed);
                facets.add(
                    Facet::Effort,
                    x.effort.map_or(0, |e| i64::from(e.code()) + 1),
                    failed,
                );
                facets.add(Facet::BrowserUsed, i64::from(x.browser_used), failed);
                if let Some(error) = error.filter(|_| failed) {
                    facets.add(Facet::ErrorClass, error, true);
                }
                minute = minute.map(|_| (duration, failed));
                user = x.user_id.as_deref();
            }
            EventBody::Run(r) => {
                let mode = RunMode::of(r.mode.as_deref());
                let key = run_key(r.qa_status.code(), mode);
                let runs = self.measures(Family::Runs, project, ts, key);
                runs.n += 1;
                runs.duration_us += i128::from((r.duration_s * 1e6).round() as i64);
                runs.last_ts = runs.last_ts.max(ts);
                runs.latency.add(r.duration_s * 1000.0);
                for usage in &r.models {
                    runs.input_tokens += u128::from(usage.input_tokens);
                    runs.output_tokens += u128::from(usage.output_tokens);
                    runs.cost_nusd += i128::from(usage.cost_usd.map_or(0, |c| c.to_nanos()));
                }
                for usage in &r.models {
                    let model = codes.code(Dim::Model, &usage.model)?;
                    let m = self.measures(Family::RunsByModel, project, ts, model);
                    m.n += 1;
                    m.input_tokens += u128::from(usage.input_tokens);
                    m.output_tokens += u128::from(usage.output_tokens);
                    m.cost_nusd += i128::from(usage.cost_usd.map_or(0, |c| c.to_nanos()));
                    m.last_ts = m.last_ts.max(ts);
                }
            }
            EventBody::Job(j) => {
                let m = self.measures(Family::Jobs, project, ts, i64::from(j.status.code()));
                m.n += 1;
                m.last_ts = m.last_ts.max(ts);
                self.jobs.push(JobChange {
                    project,
                    job_id: j.job_id.clone(),
                    status: j.status,
                    ts,
                });
            }
            EventBody::Request(r) => {
                let endpoint = codes.code(Dim::Endpoint, &r.endpoint)?;
                let m = self.measures(Family::Requests, project, ts, endpoint);
                m.n += 1;
                m.ok += u64::from(r.status < 500);
                m.duration_us += i128::from((r.latency_ms * 1000.0).round() as i64);
                m.last_ts = m.last_ts.max(ts);
                let latency = SketchValue::new(r.latency_ms);
                m.latency.add_placed(latency, 1);
                minute = minute.map(|_| (latency, r.status >= 500));
                user = r.user_id.as_deref();
            }
            EventBody::Error(e) => {
                let m = self.measures(Family::Errors, project, ts, i64::from(e.severity.code()));
                m.n += 1;
                m.last_ts = m.last_ts.max(ts);
                let serious = matches!(e.severity, Severity::Error | Severity::Critical);
                minute = minute.map(|(latency, _)| (latency, serious));
            }
            EventBody::AgentStatus(a) => {
                let agent = codes.code(Dim::Agent, &a.agent_id)?;
                let hour = Resolution::Hour.bucket(ts);
                let load = self.agent_load.entry((project, agent, hour)).or_default();
                load.snapshots += 1;
                load.active += a.active_tasks;
                load.queued += a.queued_tasks;
                load.capacity += a.capacity;
                load.peak_active = load.peak_active.max(a.active_tasks);
                let latest = AgentLatest {
                    ts,
                    seq,
                    active: a.active_tasks,
                    queued: a.queued_tasks,
                    capacity: a.capacity,
                    cpu_pct: a.cpu_pct,
                    mem_pct: a.mem_pct,
                };
                self.agent_latest
                    .entry((project, agent))
                    .and_modify(|held| {
                        if (ts, seq) > (held.ts, held.seq) {
                            *held = latest;
                        }
                    })
                    .or_insert(latest);
            }
            EventBody::Session(s) => user = Some(&s.user_id),
            EventBody::Skill(s) => user = Some(&s.user_id),
            EventBody::Outcome(o) => user = Some(&o.user_id),
            EventBody::Action(a) => user = Some(&a.user_id),
            EventBody::System(_) => {}
        }
        if let Some((latency, error)) = minute {
            let minute_start = ts.div_euclid(60_000) * 60;
            let cell = self
                .minutes
                .entry((minute_start, project, kind))
                .or_default();
            cell.n += 1;
            cell.errors += u64::from(error);
            if matches!(event.body, EventBody::Execution(_) | EventBody::Request(_)) {
                cell.latency.add_placed(latency, 1);
            }
            if let Some(user) = user {
                let user = codes.code(Dim::User, user)?;
                self.users.insert((minute_start, project, user));
            }
        }
        if let Some((user, day, activity)) = engagement::day_activity_of(event) {
            let user = codes.code(Dim::User, user)?;
            self.add_user_day((project, user, day), &activity);
        }
        if let Some((session, span)) = engagement::session_of(event) {
            self.add_session((project, session), &span);
        }
        Ok(())
    }
}

impl AgentLoad {
    fn merge(&mut self, other: &AgentLoad) {
        self.snapshots += other.snapshots;
        self.active += other.active;
        self.queued += other.queued;
        self.capacity += other.capacity;
        self.peak_active = self.peak_active.max(other.peak_active);
    }
}
