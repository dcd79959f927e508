//! The rollup tier's write side: the deltas a transaction's new events add (see
//! `rollup_fold.rs`) are merged into the rollup and state tables before the commit, in
//! the raw rows' transaction. Duplicates never reach the fold, so the rollups count
//! every stored event exactly once.

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Transaction, params};
use rustc_hash::{FxHashMap, FxHashSet};
use tally_models::JobStatus;

use super::rollup_codec;
use crate::rollup::{Family, Measures, Resolution};
use crate::rollup_fanout::{RowKey, rows_of};
use crate::rollup_fold::{AgentLatest, AgentLoad, JobChange, MinuteCell, RollupDelta};
use crate::{Error, Result};

/// Merges a transaction's deltas into the tables, inside its transaction.
pub(super) fn flush(
    delta: &RollupDelta,
    tx: &Transaction<'_>,
    cache: &mut RollupCache,
) -> Result<()> {
    // Each delta goes straight into the cached rows it adds to; each touched row is
    // then written once.
    let mut touched = std::mem::take(&mut cache.touched);
    touched.clear();
    for (key, measures) in &delta.deltas {
        for row_key in rows_of(*key) {
            let row = cache.row(tx, row_key)?;
            row.measures(key.key).merge(measures);
            touched.insert(row_key);
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO rollup (data, family, resolution, project, bucket)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    // Rows already stored are updated in place: a replace would delete and insert.
    let mut update = tx.prepare_cached(
        "UPDATE rollup SET data = ?1
         WHERE family = ?2 AND resolution = ?3 AND project = ?4 AND bucket = ?5",
    )?;
    let mut data = std::mem::take(&mut cache.encoded);
    for &key in &touched {
        let row = cache.row(tx, key)?;
        let (family, resolution, project, bucket) = key;
        data.clear();
        rollup_codec::encode(&row.keys, &mut data);
        let values = params![data, family.code(), resolution as u8, project, bucket];
        if row.stored {
            update.execute(values)?;
        } else {
            insert.execute(values)?;
            row.stored = true;
            cache.raise_frontier(key);
        }
    }
    cache.encoded = data;
    cache.trim(&touched);
    cache.touched = touched;
    flush_jobs(tx, &delta.jobs)?;
    flush_agents(tx, &delta.agent_load, &delta.agent_latest)?;
    flush_minutes(tx, &delta.minutes, &delta.users)?;
    super::engagement::flush(delta, tx)?;
    Ok(())
}

/// The writer's copy of the rollup rows it touched lately, decoded, so a batch merges
/// its deltas in memory and writes each row once instead of reading, decoding and
/// re-encoding it in SQL. It is only trusted while no other connection has written the
/// database (`PRAGMA data_version`), and dropped whenever a transaction fails or
/// retention deletes rows.
#[derive(Debug, Default)]
pub(super) struct RollupCache {
    rows: FxHashMap<RowKey, CachedRow>,
    data_version: Option<i64>,
    /// The rows the last flush wrote; kept, like `delta` and `encoded`, so each write
    /// reuses the memory instead of allocating (and page-faulting) it afresh.
    touched: FxHashSet<RowKey>,
    delta: Option<RollupDelta>,
    encoded: Vec<u8>,
    /// Per `(family, resolution, project)`, a bucket no stored row lies beyond: read
    /// once (`max(bucket)`, one seek) and raised by every insert. A row past it cannot
    /// exist, so the new hours and days of a batch are inserted without first being
    /// looked up. Trusted and dropped with `rows`.
    frontier: FxHashMap<(Family, Resolution, i64), i64>,
}

/// A rollup row as the database holds it (or will, at the commit).
#[derive(Debug, Default)]
struct CachedRow {
    /// Each key's measures, by key.
    keys: Vec<(i64, Measures)>,
    /// Whether the row exists in the database (else the next write inserts it).
    stored: bool,
}

impl CachedRow {
    /// The measures of `key`, new and empty if the row has none yet.
    fn measures(&mut self, key: i64) -> &mut Measures {
        let at = match self.keys.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(at) => at,
            Err(at) => {
                self.keys.insert(at, (key, Measures::default()));
                at
            }
        };
        &mut self.keys[at].1
    }
}

/// Keys' measures kept between batches (a few kilobytes each at most).
const ROLLUP_CACHE_KEYS: usize = 20_000;

impl RollupCache {
    /// Called at the start of each write transaction: forgets everything if another
    /// connection committed since the last one.
    pub(super) fn begin(&mut self, tx: &Transaction<'_>) -> Result<()> {
        let version: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.data_version != Some(version) {
            self.forget_rows();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// An empty delta for a new transaction to fold into, judged at `now`.
    pub(super) fn take_delta(&mut self, now: DateTime<Utc>) -> RollupDelta {
        match self.delta.take() {
            Some(mut delta) => {
                delta.clear(now);
                delta
            }
            None => RollupDelta::new(now),
        }
    }

    /// Takes back a delta that was flushed, to reuse its memory.
    pub(super) fn put_delta(&mut self, delta: RollupDelta) {
        self.delta = Some(delta);
    }

    /// Forgets every row (after a failed transaction or a deletion).
    pub(super) fn clear(&mut self) {
        self.forget_rows();
        self.data_version = None;
    }

    fn forget_rows(&mut self) {
        self.rows.clear();
        self.frontier.clear();
    }

    fn row(&mut self, tx: &Transaction<'_>, key: RowKey) -> Result<&mut CachedRow> {
        use std::collections::hash_map::Entry;
        match self.rows.entry(key) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                let (family, resolution, project, bucket) = key;
                let frontier = match self.frontier.entry((family, resolution, project)) {
                    Entry::Occupied(known) => *known.get(),
                    Entry::Vacant(unknown) => *unknown.insert(stored_frontier(tx, key)?),
                };
                let row = if bucket > frontier {
                    CachedRow::default()
                } else {
                    load(tx, key)?
                };
                Ok(entry.insert(row))
            }
        }
    }

    /// Counts an inserted row in the frontier of its family, resolution and project.
    fn raise_frontier(&mut self, key: RowKey) {
        let (family, resolution, project, bucket) = key;
        if let Some(frontier) = self.frontier.get_mut(&(family, resolution, project)) {
            *frontier = (*frontier).max(bucket);
        }
    }

    /// Past the size bound, keeps only the rows this batch touched: the current hours,
    /// days and months, which the next batch most likely touches again.
    fn trim(&mut self, touched: &FxHashSet<RowKey>) {
        let keys: usize = self.rows.values().map(|row| row.keys.len()).sum();
        if keys > ROLLUP_CACHE_KEYS {
            self.rows.retain(|key, _| touched.contains(key));
        }
    }
}

/// The latest bucket stored for the key's family, resolution and project (`i64::MIN`
/// when there is none).
fn stored_frontier(tx: &Transaction<'_>, key: RowKey) -> Result<i64> {
    let (family, resolution, project, _) = key;
    let mut st = tx.prepare_cached(
        "SELECT max(bucket) FROM rollup WHERE family = ?1 AND resolution = ?2 AND project = ?3",
    )?;
    let latest: Option<i64> = st
        .query_row(params![family.code(), resolution as u8, project], |r| {
            r.get(0)
        })?;
    Ok(latest.unwrap_or(i64::MIN))
}

fn load(tx: &Transaction<'_>, key: RowKey) -> Result<CachedRow> {
    let (family, resolution, project, bucket) = key;
    let mut st = tx.prepare_cached(
        "SELECT data FROM rollup
         WHERE family = ?1 AND resolution = ?2 AND project = ?3 AND bucket = ?4",
    )?;
    let mut rows = st.query(params![family.code(), resolution as u8, project, bucket])?;
    let Some(row) = rows.next()? else {
        return Ok(CachedRow::default());
    };
    let corrupt = |e: &dyn std::fmt::Display| Error::Corrupt(format!("rollup row {key:?}: {e}"));
    let data = row.get_ref(0)?.as_blob().map_err(|e| corrupt(&e))?;
    let mut keys = Vec::new();
    rollup_codec::decode(data, |key, m| keys.push((key, m))).map_err(|e| corrupt(&e))?;
    Ok(CachedRow { keys, stored: true })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A job's state is the status of its latest change; changes at the same instant are
/// ordered by status (queued < running < completed < failed < cancelled), so the state
/// does not depend on arrival order.
fn flush_jobs(tx: &Transaction<'_>, jobs: &[JobChange]) -> Result<()> {
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
