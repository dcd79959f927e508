//! The rollup tier's write side: each freshly stored event is folded into in-memory
//! deltas, and the deltas are merged into the rollup and state tables at the end of
//! the batch, in the raw rows' transaction. Duplicates never reach the fold, so the
//! rollups count every stored event exactly once.

use chrono::{DateTime, Timelike, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Transaction, params};
use rustc_hash::{FxHashMap, FxHashSet};
use tally_models::{CostSource, Event, EventBody, JobStatus, LatencySketch, Severity};

use super::dictionary::{Dictionary, Dim};
use crate::rollup::{ALL_PROJECTS, Facet, Family, Measures, Resolution, RunMode, run_key};
use crate::{Error, Result};

/// How far back an event may lie, when it arrives, to count in the minute tier that
/// answers the real-time windows.
pub(super) const MINUTE_TIER_HORIZON_MS: i64 = 24 * 3600 * 1000;

/// The key a delta is gathered under: its bucket is of the family's finest resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DeltaKey {
    family: Family,
    project: i64,
    bucket: i64,
    key: i64,
}

/// A job's state change, folded into `job_state`.
#[derive(Debug, Clone, Copy)]
struct JobChange<'e> {
    project: i64,
    job_id: &'e str,
    status: JobStatus,
    ts: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct AgentLoad {
    snapshots: u64,
    active: u64,
    queued: u64,
    capacity: u64,
    peak_active: u64,
}

#[derive(Debug, Clone, Copy)]
struct AgentLatest {
    ts: i64,
    seq: i64,
    active: u64,
    queued: u64,
    capacity: u64,
    cpu_pct: Option<f64>,
    mem_pct: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct MinuteCell {
    n: u64,
    errors: u64,
    latency: LatencySketch,
}

/// What one batch adds to the rollup and state tables.
#[derive(Debug, Default)]
pub(super) struct RollupDelta<'e> {
    deltas: FxHashMap<DeltaKey, Measures>,
    jobs: Vec<JobChange<'e>>,
    agent_load: FxHashMap<(i64, i64, i64), AgentLoad>,
    agent_latest: FxHashMap<(i64, i64), AgentLatest>,
    minutes: FxHashMap<(i64, i64, u8), MinuteCell>,
    users: FxHashSet<(i64, i64, i64)>,
    /// Events at or after this instant (epoch ms) count in the minute tier.
    minute_horizon: i64,
}

impl<'e> RollupDelta<'e> {
    pub(super) fn new(now: DateTime<Utc>) -> Self {
        RollupDelta {
            minute_horizon: now.timestamp_millis() - MINUTE_TIER_HORIZON_MS,
            ..RollupDelta::default()
        }
    }

    fn measures(&mut self, family: Family, project: i64, ts: i64, key: i64) -> &mut Measures {
        self.deltas
            .entry(DeltaKey {
                family,
                project,
                bucket: family.finest().bucket(ts),
                key,
            })
            .or_default()
    }

    /// Folds one freshly stored event (its project's code is `project`).
    pub(super) fn fold(
        &mut self,
        tx: &Transaction<'_>,
        dict: &mut Dictionary,
        seq: i64,
        project: i64,
        event: &'e Event,
    ) -> Result<()> {
        let ts = event.ts.timestamp_millis();
        let kind = event.kind().code();
        let events = self.measures(Family::Events, project, ts, i64::from(kind));
        events.n += 1;
        events.last_ts = events.last_ts.max(ts);
        let mut minute = (ts >= self.minute_horizon).then_some((0.0, false));
        let mut user = None;
        match &event.body {
            EventBody::Execution(x) => {
                let model = dict
                    .code_opt(tx, Dim::Model, x.model.as_deref())?
                    .unwrap_or(0);
                let tool = dict.code(tx, Dim::Tool, &x.tool)?;
                let agent = dict
                    .code_opt(tx, Dim::Agent, x.agent_id.as_deref())?
                    .unwrap_or(0);
                let error = dict.code_opt(tx, Dim::ErrorClass, x.error.as_deref())?;
                let cost = x.cost_usd.map_or(0, |c| c.to_nanos());
                let computed = if x.cost_source == CostSource::Computed {
                    cost
                } else {
                    0
                };
                let duration_us = (x.duration_ms * 1000.0).round() as i64;
                // Durations are sketched overall and per tool; per model and per agent
                // the sums suffice.
                let add = |m: &mut Measures, sketch: bool| {
                    m.n += 1;
                    m.ok += u64::from(x.success);
                    m.duration_us += duration_us;
                    m.last_ts = m.last_ts.max(ts);
                    if sketch {
                        m.latency.add(x.duration_ms);
                    }
                    m.input_tokens += x.tokens.input_tokens.unwrap_or(0);
                    m.output_tokens += x.tokens.output_tokens.unwrap_or(0);
                    m.cache_read_tokens += x.tokens.cache_read_tokens.unwrap_or(0);
                    m.cache_write_tokens += x.tokens.cache_write_tokens.unwrap_or(0);
                    m.reasoning_tokens += x.tokens.reasoning_tokens.unwrap_or(0);
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
                minute = minute.map(|_| (x.duration_ms, failed));
                user = x.user_id.as_deref();
            }
            EventBody::Run(r) => {
                let mode = RunMode::of(r.mode.as_deref());
                let key = run_key(r.qa_status.code(), mode);
                let runs = self.measures(Family::Runs, project, ts, key);
                runs.n += 1;
                runs.duration_us += (r.duration_s * 1e6).round() as i64;
                runs.last_ts = runs.last_ts.max(ts);
                runs.latency.add(r.duration_s * 1000.0);
                for usage in &r.models {
                    runs.input_tokens += usage.input_tokens;
                    runs.output_tokens += usage.output_tokens;
                    runs.cost_nusd += usage.cost_usd.map_or(0, |c| c.to_nanos());
                }
                for usage in &r.models {
                    let model = dict.code(tx, Dim::Model, &usage.model)?;
                    let m = self.measures(Family::RunsByModel, project, ts, model);
                    m.n += 1;
                    m.input_tokens += usage.input_tokens;
                    m.output_tokens += usage.output_tokens;
                    m.cost_nusd += usage.cost_usd.map_or(0, |c| c.to_nanos());
                    m.last_ts = m.last_ts.max(ts);
                }
            }
            EventBody::Job(j) => {
                let m = self.measures(Family::Jobs, project, ts, i64::from(j.status.code()));
                m.n += 1;
                m.last_ts = m.last_ts.max(ts);
                self.jobs.push(JobChange {
                    project,
                    job_id: &j.job_id,
                    status: j.status,
                    ts,
                });
            }
            EventBody::Request(r) => {
                let endpoint = dict.code(tx, Dim::Endpoint, &r.endpoint)?;
                let m = self.measures(Family::Requests, project, ts, endpoint);
                m.n += 1;
                m.ok += u64::from(r.status < 500);
                m.duration_us += (r.latency_ms * 1000.0).round() as i64;
                m.last_ts = m.last_ts.max(ts);
                m.latency.add(r.latency_ms);
                minute = minute.map(|_| (r.latency_ms, r.status >= 500));
                user = r.user_id.as_deref();
            }
            EventBody::Error(e) => {
                let m = self.measures(Family::Errors, project, ts, i64::from(e.severity.code()));
                m.n += 1;
                m.last_ts = m.last_ts.max(ts);
                let serious = matches!(e.severity, Severity::Error | Severity::Critical);
                minute = minute.map(|_| (0.0, serious));
            }
            EventBody::AgentStatus(a) => {
                let agent = dict.code(tx, Dim::Agent, &a.agent_id)?;
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
                cell.latency.add(latency);
            }
            if let Some(user) = user {
                let user = dict.code(tx, Dim::User, user)?;
                self.users.insert((minute_start, project, user));
            }
        }
        Ok(())
    }

    /// Merges the deltas into the tables, inside the batch's transaction.
    pub(super) fn flush(self, tx: &Transaction<'_>, cache: &mut RollupCache) -> Result<()> {
        // Each delta goes straight into the cached rows it adds to; each touched row is
        // then written once.
        let mut touched: FxHashSet<RowKey> = FxHashSet::default();
        for (key, delta) in &self.deltas {
            for project in [key.project, ALL_PROJECTS] {
                for &resolution in key.family.resolutions(project == ALL_PROJECTS) {
                    let bucket = resolution.bucket(key.bucket * 1000);
                    let row_key = (key.family, resolution, project, bucket, key.key);
                    cache.row(tx, row_key)?.measures.merge(delta);
                    touched.insert(row_key);
                }
            }
        }
        let mut insert = tx.prepare_cached(
            "INSERT INTO rollup (n, ok, input_tokens, output_tokens, cache_read_tokens,
                cache_write_tokens, reasoning_tokens, cost_nusd, computed_cost_nusd, duration_us,
                last_ts, latency, facets, family, resolution, project, bucket, key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )?;
        // Rows already stored are updated in place: a replace would delete and insert.
        let mut update = tx.prepare_cached(
            "UPDATE rollup SET n = ?1, ok = ?2, input_tokens = ?3, output_tokens = ?4,
                cache_read_tokens = ?5, cache_write_tokens = ?6, reasoning_tokens = ?7,
                cost_nusd = ?8, computed_cost_nusd = ?9, duration_us = ?10, last_ts = ?11,
                latency = ?12, facets = ?13
             WHERE family = ?14 AND resolution = ?15 AND project = ?16 AND bucket = ?17 AND key = ?18",
        )?;
        for &key in &touched {
            let row = cache.row(tx, key)?;
            let (family, resolution, project, bucket, code) = key;
            let m = &row.measures;
            let values = params![
                to_i64(m.n),
                to_i64(m.ok),
                to_i64(m.input_tokens),
                to_i64(m.output_tokens),
                to_i64(m.cache_read_tokens),
                to_i64(m.cache_write_tokens),
                to_i64(m.reasoning_tokens),
                m.cost_nusd,
                m.computed_cost_nusd,
                m.duration_us,
                m.last_ts,
                (!m.latency.is_empty()).then(|| m.latency.encode()),
                (!m.facets.is_empty()).then(|| m.facets.encode()),
                family.code(),
                resolution as u8,
                project,
                bucket,
                code,
            ];
            if row.stored {
                update.execute(values)?;
            } else {
                insert.execute(values)?;
                row.stored = true;
            }
        }
        cache.trim(&touched);
        flush_jobs(tx, &self.jobs)?;
        flush_agents(tx, &self.agent_load, &self.agent_latest)?;
        flush_minutes(tx, &self.minutes, &self.users)?;
        Ok(())
    }
}

/// A rollup row's primary key: family, resolution, project, bucket, key.
type RowKey = (Family, Resolution, i64, i64, i64);

/// The writer's copy of the rollup rows it touched lately, decoded, so a batch merges
/// its deltas in memory and writes each row once instead of reading, decoding and
/// re-encoding it in SQL. It is only trusted while no other connection has written the
/// database (`PRAGMA data_version`), and dropped whenever a transaction fails or
/// retention deletes rows.
#[derive(Debug, Default)]
pub(super) struct RollupCache {
    rows: FxHashMap<RowKey, CachedRow>,
    data_version: Option<i64>,
}

/// A rollup row as the database holds it (or will, at the commit).
#[derive(Debug, Default)]
struct CachedRow {
    measures: Measures,
    /// Whether the row exists in the database (else the next write inserts it).
    stored: bool,
}

/// Rows kept between batches (a few kilobytes each at most).
const ROLLUP_CACHE_ROWS: usize = 20_000;

impl RollupCache {
    /// Called at the start of each write transaction: forgets everything if another
    /// connection committed since the last one.
    pub(super) fn begin(&mut self, tx: &Transaction<'_>) -> Result<()> {
        let version: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.data_version != Some(version) {
            self.rows.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Forgets every row (after a failed transaction or a deletion).
    pub(super) fn clear(&mut self) {
        self.rows.clear();
        self.data_version = None;
    }

    fn row(&mut self, tx: &Transaction<'_>, key: RowKey) -> Result<&mut CachedRow> {
        use std::collections::hash_map::Entry;
        match self.rows.entry(key) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => Ok(entry.insert(load(tx, key)?)),
        }
    }

    /// Past the size bound, keeps only the rows this batch touched: the current hours,
    /// days and months, which the next batch most likely touches again.
    fn trim(&mut self, touched: &FxHashSet<RowKey>) {
        if self.rows.len() > ROLLUP_CACHE_ROWS {
            self.rows.retain(|key, _| touched.contains(key));
        }
    }
}

fn load(tx: &Transaction<'_>, key: RowKey) -> Result<CachedRow> {
    let (family, resolution, project, bucket, code) = key;
    let mut st = tx.prepare_cached(
        "SELECT n, ok, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                reasoning_tokens, cost_nusd, computed_cost_nusd, duration_us, last_ts, latency, facets
         FROM rollup WHERE family = ?1 AND resolution = ?2 AND project = ?3 AND bucket = ?4 AND key = ?5",
    )?;
    let mut rows = st.query(params![
        family.code(),
        resolution as u8,
        project,
        bucket,
        code
    ])?;
    let Some(row) = rows.next()? else {
        return Ok(CachedRow::default());
    };
    let u = |i: usize| -> rusqlite::Result<u64> {
        Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
    };
    let mut m = Measures {
        n: u(0)?,
        ok: u(1)?,
        input_tokens: u(2)?,
        output_tokens: u(3)?,
        cache_read_tokens: u(4)?,
        cache_write_tokens: u(5)?,
        reasoning_tokens: u(6)?,
        cost_nusd: row.get(7)?,
        computed_cost_nusd: row.get(8)?,
        duration_us: row.get(9)?,
        last_ts: row.get(10)?,
        ..Measures::default()
    };
    let corrupt = |e: String| Error::Corrupt(format!("rollup row {key:?}: {e}"));
    if let ValueRef::Blob(bytes) = row.get_ref(11)? {
        m.latency
            .merge_encoded(bytes)
            .map_err(|e| corrupt(e.to_string()))?;
    }
    if let ValueRef::Blob(bytes) = row.get_ref(12)? {
        m.facets
            .merge_encoded(bytes)
            .map_err(|e| corrupt(e.to_owned()))?;
    }
    Ok(CachedRow {
        measures: m,
        stored: true,
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A job's state is the status of its latest change; changes at the same instant are
/// ordered by status (queued < running < completed < failed < cancelled), so the state
/// does not depend on arrival order.
fn flush_jobs(tx: &Transaction<'_>, jobs: &[JobChange<'_>]) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO job_state (project, job_id, status, status_ts, queued_ts, running_ts, finished_ts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO UPDATE SET
            status = CASE WHEN (excluded.status_ts, excluded.status) > (status_ts, status)
                          THEN excluded.status ELSE status END,
            status_ts = max(status_ts, excluded.status_ts),
            queued_ts = coalesce(min(queued_ts, excluded.queued_ts), queued_ts, excluded.queued_ts),
            running_ts = coalesce(min(running_ts, excluded.running_ts), running_ts, excluded.running_ts),
            finished_ts = coalesce(max(finished_ts, excluded.finished_ts), finished_ts, excluded.finished_ts)",
    )?;
    for job in jobs {
        let at = |wanted: bool| wanted.then_some(job.ts);
        let finished = matches!(
            job.status,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        );
        upsert.execute(params![
            job.project,
            job.job_id,
            job.status.code(),
            job.ts,
            at(job.status == JobStatus::Queued),
            at(job.status == JobStatus::Running),
            at(finished),
        ])?;
    }
    Ok(())
}

fn flush_agents(
    tx: &Transaction<'_>,
    load: &FxHashMap<(i64, i64, i64), AgentLoad>,
    latest: &FxHashMap<(i64, i64), AgentLatest>,
) -> Result<()> {
    let mut upsert_load = tx.prepare_cached(
        "INSERT INTO agent_load (project, agent, hour, snapshots, active_sum, queued_sum, capacity_sum, peak_active)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO UPDATE SET
            snapshots = snapshots + excluded.snapshots,
            active_sum = active_sum + excluded.active_sum,
            queued_sum = queued_sum + excluded.queued_sum,
            capacity_sum = capacity_sum + excluded.capacity_sum,
            peak_active = max(peak_active, excluded.peak_active)",
    )?;
    for (&(project, agent, hour), l) in load {
        upsert_load.execute(params![
            project,
            agent,
            hour,
            to_i64(l.snapshots),
            to_i64(l.active),
            to_i64(l.queued),
            to_i64(l.capacity),
            to_i64(l.peak_active),
        ])?;
    }
    let mut upsert_latest = tx.prepare_cached(
        "INSERT INTO agent_state (project, agent, ts, seq, active_tasks, queued_tasks, capacity, cpu_pct, mem_pct)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT DO UPDATE SET
            ts = excluded.ts, seq = excluded.seq, active_tasks = excluded.active_tasks,
            queued_tasks = excluded.queued_tasks, capacity = excluded.capacity,
            cpu_pct = excluded.cpu_pct, mem_pct = excluded.mem_pct
         WHERE (excluded.ts, excluded.seq) > (ts, seq)",
    )?;
    for (&(project, agent), a) in latest {
        upsert_latest.execute(params![
            project,
            agent,
            a.ts,
            a.seq,
            to_i64(a.active),
            to_i64(a.queued),
            to_i64(a.capacity),
            a.cpu_pct,
            a.mem_pct,
        ])?;
    }
    Ok(())
}

fn flush_minutes(
    tx: &Transaction<'_>,
    minutes: &FxHashMap<(i64, i64, u8), MinuteCell>,
    users: &FxHashSet<(i64, i64, i64)>,
) -> Result<()> {
    let mut select = tx.prepare_cached(
        "SELECT n, errors, latency FROM rollup_minute WHERE minute = ?1 AND project = ?2 AND kind = ?3",
    )?;
    let mut replace = tx.prepare_cached(
        "INSERT OR REPLACE INTO rollup_minute (minute, project, kind, n, errors, latency) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (&(minute, project, kind), cell) in minutes {
        let mut merged = cell.clone();
        let mut held = select.query(params![minute, project, kind])?;
        if let Some(row) = held.next()? {
            merged.n += u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            merged.errors += u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
            if let ValueRef::Blob(bytes) = row.get_ref(2)? {
                merged
                    .latency
                    .merge_encoded(bytes)
                    .map_err(|e| Error::Corrupt(format!("minute row: {e}")))?;
            }
        }
        replace.execute(params![
            minute,
            project,
            kind,
            to_i64(merged.n),
            to_i64(merged.errors),
            (!merged.latency.is_empty()).then(|| merged.latency.encode()),
        ])?;
    }
    let mut insert_user = tx.prepare_cached(
        "INSERT OR IGNORE INTO recent_user (minute, project, user) VALUES (?1, ?2, ?3)",
    )?;
    for &(minute, project, user) in users {
        insert_user.execute(params![minute, project, user])?;
    }
    Ok(())
}
