//! Merging a write's rollup delta into the shared rollup and live-state tables, under
//! [`crate::MERGE_LOCK`]: per table, one read of the touched rows (keys as arrays, each
//! a primary-key probe: a lateral subquery with a limit, which the planner cannot turn
//! into a join scanning the table), the merge in Rust as the other stores merge, and one
//! upsert writing the merged rows back. Holding the lock, no other writer changes these
//! rows between the read and the write.

use postgres::Transaction;
use rustc_hash::FxHashMap;
use tally_models::{JobStatus, LatencySketch};
use tally_store::rollup::{Family, Measures, Resolution};
use tally_store::rollup_fanout::rows_of;
use tally_store::rollup_fold::{AgentLatest, AgentLoad, MinuteCell, RollupDelta};

use crate::{Error, Result};

/// Merges `delta` into the stored rows. The caller holds [`crate::MERGE_LOCK`].
pub(super) fn merge(tx: &mut Transaction<'_>, delta: &RollupDelta) -> Result<()> {
    merge_rollups(tx, delta)?;
    merge_jobs(tx, delta)?;
    merge_agent_load(tx, &delta.agent_load)?;
    merge_agent_state(tx, &delta.agent_latest)?;
    merge_minutes(tx, &delta.minutes)?;
    insert_recent_users(tx, delta)?;
    crate::engagement::merge(tx, delta)?;
    Ok(())
}

type RollupKey = (Family, Resolution, i64, i64, i64);

fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{what}: {error}"))
}

fn parse<T: std::str::FromStr>(what: &str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| corrupt(what, e))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn merge_rollups(tx: &mut Transaction<'_>, delta: &RollupDelta) -> Result<()> {
    // The delta fanned out to every row it adds to, one entry per stored row.
    let mut rows: FxHashMap<RollupKey, Measures> = FxHashMap::default();
    for (key, measures) in &delta.deltas {
        for (family, resolution, project, bucket) in rows_of(*key) {
            rows.entry((family, resolution, project, bucket, key.key))
                .or_default()
                .merge(measures);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<(RollupKey, Measures)> = rows.into_iter().collect();
    // In key order, so that writers never wait on each other's rows in a cycle.
    rows.sort_unstable_by_key(|&((f, r, p, b, k), _)| (f.code(), r as u8, p, b, k));
    let families: Vec<i16> = rows
        .iter()
        .map(|((f, ..), _)| i16::from(f.code()))
        .collect();
    let resolutions: Vec<i16> = rows.iter().map(|((_, r, ..), _)| *r as i16).collect();
    let projects: Vec<i64> = rows.iter().map(|((_, _, p, _, _), _)| *p).collect();
    let buckets: Vec<i64> = rows.iter().map(|((_, _, _, b, _), _)| *b).collect();
    let keys: Vec<i64> = rows.iter().map(|((.., k), _)| *k).collect();
    let held = tx.query(
        "SELECT k.i, r.n, r.ok, r.input_tokens::text, r.output_tokens::text,
                r.cache_read_tokens::text, r.cache_write_tokens::text, r.reasoning_tokens::text,
                r.cost_nusd::text, r.computed_cost_nusd::text, r.duration_us::text, r.last_ts,
                r.latency, r.facets
         FROM unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[])
              WITH ORDINALITY AS k(family, resolution, project, bucket, key, i)
         CROSS JOIN LATERAL (SELECT * FROM tally.rollup r
              WHERE r.family = k.family AND r.resolution = k.resolution
                AND r.project = k.project AND r.bucket = k.bucket AND r.key = k.key
              LIMIT 1) r",
        &[&families, &resolutions, &projects, &buckets, &keys],
    )?;
    for row in held {
        let index: i64 = row.get(0);
        let (key, measures) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| rows.get_mut(i))
            .ok_or_else(|| corrupt("rollup read", index))?;
        let what = format!("rollup row {key:?}");
        let stored = Measures {
            n: to_u64(row.get(1)),
            ok: to_u64(row.get(2)),
            input_tokens: parse(&what, row.get(3))?,
            output_tokens: parse(&what, row.get(4))?,
            cache_read_tokens: parse(&what, row.get(5))?,
            cache_write_tokens: parse(&what, row.get(6))?,
            reasoning_tokens: parse(&what, row.get(7))?,
            cost_nusd: parse(&what, row.get(8))?,
            computed_cost_nusd: parse(&what, row.get(9))?,
            duration_us: parse(&what, row.get(10))?,
            last_ts: row.get(11),
            ..Measures::default()
        };
        measures.merge_sums(&stored);
        if let Some(bytes) = row.get::<_, Option<&[u8]>>(12) {
            measures
                .latency
                .merge_encoded(bytes)
                .map_err(|e| corrupt(&what, e))?;
        }
        if let Some(bytes) = row.get::<_, Option<&[u8]>>(13) {
            measures
                .facets
                .merge_encoded(bytes)
                .map_err(|e| corrupt(&what, e))?;
        }
    }
    let text = |f: &dyn Fn(&Measures) -> String| -> Vec<String> {
        rows.iter().map(|(_, m)| f(m)).collect()
    };
    let n: Vec<i64> = rows.iter().map(|(_, m)| to_i64(m.n)).collect();
    let ok: Vec<i64> = rows.iter().map(|(_, m)| to_i64(m.ok)).collect();
    let input = text(&|m| m.input_tokens.to_string());
    let output = text(&|m| m.output_tokens.to_string());
    let cache_read = text(&|m| m.cache_read_tokens.to_string());
    let cache_write = text(&|m| m.cache_write_tokens.to_string());
    let reasoning = text(&|m| m.reasoning_tokens.to_string());
    let cost = text(&|m| m.cost_nusd.to_string());
    let computed = text(&|m| m.computed_cost_nusd.to_string());
    let duration = text(&|m| m.duration_us.to_string());
    let last_ts: Vec<i64> = rows.iter().map(|(_, m)| m.last_ts).collect();
    let latency: Vec<Option<Vec<u8>>> = rows
        .iter()
        .map(|(_, m)| (!m.latency.is_empty()).then(|| m.latency.encode()))
        .collect();
    let facets: Vec<Option<Vec<u8>>> = rows
        .iter()
        .map(|(_, m)| (!m.facets.is_empty()).then(|| m.facets.encode()))
        .collect();
    tx.execute(
        "INSERT INTO tally.rollup (family, resolution, project, bucket, key, n, ok,
             input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
             reasoning_tokens, cost_nusd, computed_cost_nusd, duration_us, last_ts,
             latency, facets)
         SELECT family, resolution, project, bucket, key, n, ok,
             input::numeric, output::numeric, cache_read::numeric, cache_write::numeric,
             reasoning::numeric, cost::numeric, computed::numeric, duration::numeric,
             last_ts, latency, facets
         FROM unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[],
             $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
             $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[], $17::bytea[],
             $18::bytea[])
             AS v(family, resolution, project, bucket, key, n, ok, input, output, cache_read,
                  cache_write, reasoning, cost, computed, duration, last_ts, latency, facets)
         ON CONFLICT (family, resolution, project, bucket, key) DO UPDATE SET
             n = excluded.n, ok = excluded.ok, input_tokens = excluded.input_tokens,
             output_tokens = excluded.output_tokens,
             cache_read_tokens = excluded.cache_read_tokens,
             cache_write_tokens = excluded.cache_write_tokens,
             reasoning_tokens = excluded.reasoning_tokens, cost_nusd = excluded.cost_nusd,
             computed_cost_nusd = excluded.computed_cost_nusd,
             duration_us = excluded.duration_us, last_ts = excluded.last_ts,
             latency = excluded.latency, facets = excluded.facets",
        &[
            &families,
            &resolutions,
            &projects,
            &buckets,
            &keys,
            &n,
            &ok,
            &input,
            &output,
            &cache_read,
            &cache_write,
            &reasoning,
            &cost,
            &computed,
            &duration,
            &last_ts,
            &latency,
            &facets,
        ],
    )?;
    Ok(())
}

/// A job's state as `job_state` keeps it.
#[derive(Debug, Clone, Copy)]
struct JobRow {
    status: JobStatus,
    status_ts: i64,
    queued_ts: Option<i64>,
    running_ts: Option<i64>,
    finished_ts: Option<i64>,
}

impl JobRow {
    fn of_change(status: JobStatus, ts: i64) -> JobRow {
        let finished = matches!(
            status,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        );
        let at = |wanted: bool| wanted.then_some(ts);
        JobRow {
            status,
            status_ts: ts,
            queued_ts: at(status == JobStatus::Queued),
            running_ts: at(status == JobStatus::Running),
            finished_ts: at(finished),
        }
    }

    /// Folds `change` in: changes at one instant are ordered by status, so the state
    /// does not depend on arrival order.
    fn merge(&mut self, change: &JobRow) {
        if (change.status_ts, change.status.code()) > (self.status_ts, self.status.code()) {
            self.status = change.status;
        }
        self.status_ts = self.status_ts.max(change.status_ts);
        self.queued_ts = earliest(self.queued_ts, change.queued_ts);
        self.running_ts = earliest(self.running_ts, change.running_ts);
        self.finished_ts = self.finished_ts.max(change.finished_ts);
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn merge_jobs(tx: &mut Transaction<'_>, delta: &RollupDelta) -> Result<()> {
    if delta.jobs.is_empty() {
        return Ok(());
    }
    let mut jobs: FxHashMap<(i64, &str), JobRow> = FxHashMap::default();
    for job in &delta.jobs {
        let change = JobRow::of_change(job.status, job.ts);
        jobs.entry((job.project, job.job_id.as_str()))
            .and_modify(|held| held.merge(&change))
            .or_insert(change);
    }
    let mut jobs: Vec<((i64, &str), JobRow)> = jobs.into_iter().collect();
    jobs.sort_unstable_by_key(|(key, _)| *key);
    let projects: Vec<i64> = jobs.iter().map(|((p, _), _)| *p).collect();
    let ids: Vec<&str> = jobs.iter().map(|((_, id), _)| *id).collect();
    let held = tx.query(
        "SELECT k.i, j.status, j.status_ts, j.queued_ts, j.running_ts, j.finished_ts
         FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS k(project, job_id, i)
         CROSS JOIN LATERAL (SELECT * FROM tally.job_state j
              WHERE j.project = k.project AND j.job_id = k.job_id LIMIT 1) j",
        &[&projects, &ids],
    )?;
    for row in held {
        let index: i64 = row.get(0);
        let (key, change) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| jobs.get_mut(i))
            .ok_or_else(|| corrupt("job state read", index))?;
        let code: i16 = row.get(1);
        let status = u8::try_from(code)
            .ok()
            .and_then(JobStatus::from_code)
            .ok_or_else(|| corrupt(&format!("job state {key:?}"), code))?;
        let mut stored = JobRow {
            status,
            status_ts: row.get(2),
            queued_ts: row.get(3),
            running_ts: row.get(4),
            finished_ts: row.get(5),
        };
        stored.merge(change);
        *change = stored;
    }
    let status: Vec<i16> = jobs
        .iter()
        .map(|(_, j)| i16::from(j.status.code()))
        .collect();
    let status_ts: Vec<i64> = jobs.iter().map(|(_, j)| j.status_ts).collect();
    let queued: Vec<Option<i64>> = jobs.iter().map(|(_, j)| j.queued_ts).collect();
    let running: Vec<Option<i64>> = jobs.iter().map(|(_, j)| j.running_ts).collect();
    let finished: Vec<Option<i64>> = jobs.iter().map(|(_, j)| j.finished_ts).collect();
    tx.execute(
        "INSERT INTO tally.job_state (project, job_id, status, status_ts, queued_ts,
             running_ts, finished_ts)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[],
             $5::bigint[], $6::bigint[], $7::bigint[])
         ON CONFLICT (project, job_id) DO UPDATE SET
             status = excluded.status, status_ts = excluded.status_ts,
             queued_ts = excluded.queued_ts, running_ts = excluded.running_ts,
             finished_ts = excluded.finished_ts",
        &[
            &projects, &ids, &status, &status_ts, &queued, &running, &finished,
        ],
    )?;
    Ok(())
}

fn merge_agent_load(
    tx: &mut Transaction<'_>,
    load: &FxHashMap<(i64, i64, i64), AgentLoad>,
) -> Result<()> {
    if load.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<((i64, i64, i64), AgentLoad)> = load.iter().map(|(k, v)| (*k, *v)).collect();
    rows.sort_unstable_by_key(|(key, _)| *key);
    let projects: Vec<i64> = rows.iter().map(|((p, _, _), _)| *p).collect();
    let agents: Vec<i64> = rows.iter().map(|((_, a, _), _)| *a).collect();
    let hours: Vec<i64> = rows.iter().map(|((_, _, h), _)| *h).collect();
    let held = tx.query(
        "SELECT k.i, l.snapshots, l.active_sum, l.queued_sum, l.capacity_sum, l.peak_active
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
              WITH ORDINALITY AS k(project, agent, hour, i)
         CROSS JOIN LATERAL (SELECT * FROM tally.agent_load l
              WHERE l.project = k.project AND l.agent = k.agent AND l.hour = k.hour
              LIMIT 1) l",
        &[&projects, &agents, &hours],
    )?;
    for row in held {
        let index: i64 = row.get(0);
        let (_, load) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| rows.get_mut(i))
            .ok_or_else(|| corrupt("agent load read", index))?;
        load.snapshots += to_u64(row.get(1));
        load.active += to_u64(row.get(2));
        load.queued += to_u64(row.get(3));
        load.capacity += to_u64(row.get(4));
        load.peak_active = load.peak_active.max(to_u64(row.get(5)));
    }
    let column =
        |f: fn(&AgentLoad) -> u64| -> Vec<i64> { rows.iter().map(|(_, l)| to_i64(f(l))).collect() };
    tx.execute(
        "INSERT INTO tally.agent_load (project, agent, hour, snapshots, active_sum,
             queued_sum, capacity_sum, peak_active)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
             $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
         ON CONFLICT (project, agent, hour) DO UPDATE SET
             snapshots = excluded.snapshots, active_sum = excluded.active_sum,
             queued_sum = excluded.queued_sum, capacity_sum = excluded.capacity_sum,
             peak_active = excluded.peak_active",
        &[
            &projects,
            &agents,
            &hours,
            &column(|l| l.snapshots),
            &column(|l| l.active),
            &column(|l| l.queued),
            &column(|l| l.capacity),
            &column(|l| l.peak_active),
        ],
    )?;
    Ok(())
}

fn merge_agent_state(
    tx: &mut Transaction<'_>,
    latest: &FxHashMap<(i64, i64), AgentLatest>,
) -> Result<()> {
    if latest.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<((i64, i64), AgentLatest)> = latest.iter().map(|(k, v)| (*k, *v)).collect();
    rows.sort_unstable_by_key(|(key, _)| *key);
    let projects: Vec<i64> = rows.iter().map(|((p, _), _)| *p).collect();
    let agents: Vec<i64> = rows.iter().map(|((_, a), _)| *a).collect();
    let held = tx.query(
        "SELECT k.i, s.ts, s.seq FROM unnest($1::bigint[], $2::bigint[])
              WITH ORDINALITY AS k(project, agent, i)
         CROSS JOIN LATERAL (SELECT * FROM tally.agent_state s
              WHERE s.project = k.project AND s.agent = k.agent LIMIT 1) s",
        &[&projects, &agents],
    )?;
    // The stored snapshot stays where it is the later one by (ts, seq).
    let mut newer = vec![true; rows.len()];
    for row in held {
        let index: i64 = row.get(0);
        let at = usize::try_from(index - 1)
            .ok()
            .filter(|i| *i < rows.len())
            .ok_or_else(|| corrupt("agent state read", index))?;
        let stored: (i64, i64) = (row.get(1), row.get(2));
        newer[at] = (rows[at].1.ts, rows[at].1.seq) > stored;
    }
    let rows: Vec<&((i64, i64), AgentLatest)> = rows
        .iter()
        .zip(&newer)
        .filter_map(|(row, newer)| newer.then_some(row))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let projects: Vec<i64> = rows.iter().map(|((p, _), _)| *p).collect();
    let agents: Vec<i64> = rows.iter().map(|((_, a), _)| *a).collect();
    let ts: Vec<i64> = rows.iter().map(|(_, a)| a.ts).collect();
    let seq: Vec<i64> = rows.iter().map(|(_, a)| a.seq).collect();
    let active: Vec<i64> = rows.iter().map(|(_, a)| to_i64(a.active)).collect();
    let queued: Vec<i64> = rows.iter().map(|(_, a)| to_i64(a.queued)).collect();
    let capacity: Vec<i64> = rows.iter().map(|(_, a)| to_i64(a.capacity)).collect();
    let cpu: Vec<Option<f64>> = rows.iter().map(|(_, a)| a.cpu_pct).collect();
    let mem: Vec<Option<f64>> = rows.iter().map(|(_, a)| a.mem_pct).collect();
    tx.execute(
        "INSERT INTO tally.agent_state (project, agent, ts, seq, active_tasks, queued_tasks,
             capacity, cpu_pct, mem_pct)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
             $5::bigint[], $6::bigint[], $7::bigint[], $8::float8[], $9::float8[])
         ON CONFLICT (project, agent) DO UPDATE SET
             ts = excluded.ts, seq = excluded.seq, active_tasks = excluded.active_tasks,
             queued_tasks = excluded.queued_tasks, capacity = excluded.capacity,
             cpu_pct = excluded.cpu_pct, mem_pct = excluded.mem_pct",
        &[
            &projects, &agents, &ts, &seq, &active, &queued, &capacity, &cpu, &mem,
        ],
    )?;
    Ok(())
}

fn merge_minutes(
    tx: &mut Transaction<'_>,
    minutes: &FxHashMap<(i64, i64, u8), MinuteCell>,
) -> Result<()> {
    if minutes.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<((i64, i64, u8), MinuteCell)> =
        minutes.iter().map(|(k, v)| (*k, v.clone())).collect();
    rows.sort_unstable_by_key(|(key, _)| *key);
    let minute: Vec<i64> = rows.iter().map(|((m, _, _), _)| *m).collect();
    let projects: Vec<i64> = rows.iter().map(|((_, p, _), _)| *p).collect();
    let kinds: Vec<i16> = rows.iter().map(|((_, _, k), _)| i16::from(*k)).collect();
    let held = tx.query(
        "SELECT k.i, m.n, m.errors, m.latency
         FROM unnest($1::bigint[], $2::bigint[], $3::smallint[])
              WITH ORDINALITY AS k(minute, project, kind, i)
         CROSS JOIN LATERAL (SELECT * FROM tally.rollup_minute m
              WHERE m.minute = k.minute AND m.project = k.project AND m.kind = k.kind
              LIMIT 1) m",
        &[&minute, &projects, &kinds],
    )?;
    for row in held {
        let index: i64 = row.get(0);
        let (key, cell) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| rows.get_mut(i))
            .ok_or_else(|| corrupt("minute read", index))?;
        cell.n += to_u64(row.get(1));
        cell.errors += to_u64(row.get(2));
        if let Some(bytes) = row.get::<_, Option<&[u8]>>(3) {
            cell.latency
                .merge_encoded(bytes)
                .map_err(|e| corrupt(&format!("minute row {key:?}"), e))?;
        }
    }
    let n: Vec<i64> = rows.iter().map(|(_, c)| to_i64(c.n)).collect();
    let errors: Vec<i64> = rows.iter().map(|(_, c)| to_i64(c.errors)).collect();
    let latency: Vec<Option<Vec<u8>>> = rows
        .iter()
        .map(|(_, c)| (!c.latency.is_empty()).then(|| LatencySketch::encode(&c.latency)))
        .collect();
    tx.execute(
        "INSERT INTO tally.rollup_minute (minute, project, kind, n, errors, latency)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::bigint[],
             $5::bigint[], $6::bytea[])
         ON CONFLICT (minute, project, kind) DO UPDATE SET
             n = excluded.n, errors = excluded.errors, latency = excluded.latency",
        &[&minute, &projects, &kinds, &n, &errors, &latency],
    )?;
    Ok(())
}

fn insert_recent_users(tx: &mut Transaction<'_>, delta: &RollupDelta) -> Result<()> {
    if delta.users.is_empty() {
        return Ok(());
    }
    let mut users: Vec<(i64, i64, i64)> = delta.users.iter().copied().collect();
    users.sort_unstable();
    let minute: Vec<i64> = users.iter().map(|u| u.0).collect();
    let projects: Vec<i64> = users.iter().map(|u| u.1).collect();
    let codes: Vec<i64> = users.iter().map(|u| u.2).collect();
    tx.execute(
        "INSERT INTO tally.recent_user (minute, project, user_code)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
         ON CONFLICT DO NOTHING",
        &[&minute, &projects, &codes],
    )?;
    Ok(())
}
