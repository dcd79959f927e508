//! `execution` events, the high-volume kind, are stored in blocks: one table row holds
//! the events of one write (up to [`MAX_BLOCK_EVENTS`]), column-encoded.
//!
//! A row per event would cost SQLite a statement, 20 bound values and a 20-column
//! record header for every event; a block costs one insert per write and under half
//! the bytes (see `docs/ARCHITECTURE.md`). Small writes (one HTTP request, say) top
//! up the newest block while it is small, so a trickle of single events still ends up
//! in blocks of [`SMALL_BLOCK_EVENTS`] and more.

mod codec;
mod select;
mod summary;
#[cfg(test)]
mod tests;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

#[cfg(test)]
use codec::decode_matching;
pub(crate) use codec::{BlockEncoder, EncodedBlock, ExecutionRow, decode};
pub(crate) use select::{Selection, decode_selected};
pub(crate) use summary::{Wanted, may_hold};

use crate::Result;

/// A block holds at most this many events.
pub(crate) const MAX_BLOCK_EVENTS: usize = 16_384;

/// A write whose events fit in the newest block together with it, when that block
/// holds fewer than this many, is merged into it instead of starting a new block. Small
/// enough that such a block (about 26 bytes an event) fits in its B-tree page without
/// overflow pages, so topping it up rewrites one page.
pub(crate) const SMALL_BLOCK_EVENTS: usize = 64;

/// The blocks of one write transaction, filled as its events are accepted.
#[derive(Debug, Default)]
pub(crate) struct BlockWriter {
    encoder: BlockEncoder,
    full: Vec<EncodedBlock>,
}

impl BlockWriter {
    /// Appends an accepted event; rows come in increasing `seq`.
    pub fn push(&mut self, row: &ExecutionRow<'_>) {
        self.encoder.push(row);
        if self.encoder.len() == MAX_BLOCK_EVENTS {
            self.full.push(self.encoder.finish());
        }
    }

    /// Stores what was pushed in `tx`, leaving the writer empty for the next write.
    pub fn store(&mut self, tx: &Transaction<'_>) -> Result<()> {
        self.store_full(tx)?;
        if self.encoder.is_empty() {
            return Ok(());
        }
        let block = self.encoder.finish();
        if block.events < SMALL_BLOCK_EVENTS
            && let Some(merged) = merge_into_newest(tx, &block)?
        {
            return update(tx, &merged);
        }
        insert(tx, &block)
    }

    /// Stores the blocks that are full, so a long write holds at most one in memory.
    fn store_full(&mut self, tx: &Transaction<'_>) -> Result<()> {
        for block in self.full.drain(..) {
            insert(tx, &block)?;
        }
        Ok(())
    }

    /// Forgets what was pushed (its transaction rolled back).
    pub fn clear(&mut self) {
        self.full.clear();
        self.encoder.clear();
    }
}

/// The newest block with `block`'s events appended, when together they stay small.
fn merge_into_newest(tx: &Transaction<'_>, block: &EncodedBlock) -> Result<Option<EncodedBlock>> {
    let newest: Option<(i64, i64, i64)> = tx
        .prepare_cached(
            "SELECT first_seq, last_seq, events FROM execution_block ORDER BY first_seq DESC LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((first_seq, last_seq, events)) = newest else {
        return Ok(None);
    };
    if events as usize + block.events > SMALL_BLOCK_EVENTS || last_seq >= block.first_seq {
        return Ok(None);
    }
    let data: Vec<u8> = tx
        .prepare_cached("SELECT data FROM execution_block WHERE first_seq = ?1")?
        .query_row([first_seq], |r| r.get(0))?;
    let mut encoder = BlockEncoder::default();
    for row in decode(&data)?.iter().chain(&decode(&block.data)?) {
        encoder.push(row);
    }
    Ok(Some(encoder.finish()))
}

/// Stores a new block.
fn insert(tx: &Transaction<'_>, block: &EncodedBlock) -> Result<()> {
    put(
        tx,
        "INSERT INTO execution_block (first_seq, last_seq, ts_min, ts_max, events, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        block,
    )
}

/// Rewrites the block that starts at `block.first_seq` in place.
fn update(tx: &Transaction<'_>, block: &EncodedBlock) -> Result<()> {
    put(
        tx,
        "UPDATE execution_block SET last_seq = ?2, ts_min = ?3, ts_max = ?4, events = ?5, data = ?6
         WHERE first_seq = ?1",
        block,
    )
}

/// Runs `sql` with the block's columns as parameters 1 to 6, in table order, and
/// stores its summary.
fn put(tx: &Transaction<'_>, sql: &str, block: &EncodedBlock) -> Result<()> {
    tx.prepare_cached(sql)?.execute(params![
        block.first_seq,
        block.last_seq,
        block.ts_min,
        block.ts_max,
        block.events as i64,
        block.data
    ])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO execution_block_summary (first_seq, summary) VALUES (?1, ?2)",
    )?
    .execute(params![block.first_seq, block.summary])?;
    Ok(())
}

/// Deletes the block keyed `first_seq` and its summary.
fn delete(tx: &Transaction<'_>, first_seq: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM execution_block WHERE first_seq = ?1")?
        .execute([first_seq])?;
    tx.prepare_cached("DELETE FROM execution_block_summary WHERE first_seq = ?1")?
        .execute([first_seq])?;
    Ok(())
}

/// Replaces the block keyed `first_seq` with `block` (which may start later).
fn replace(tx: &Transaction<'_>, first_seq: i64, block: &EncodedBlock) -> Result<()> {
    delete(tx, first_seq)?;
    insert(tx, block)
}

/// The table of block summaries: created with the blocks (a database converted to
/// blocks by migration 8 gets summaries as it converts), else by migration 15.
pub(crate) const SUMMARY_TABLE: &str = "
    CREATE TABLE IF NOT EXISTS execution_block_summary (
        first_seq INTEGER PRIMARY KEY,
        summary BLOB NOT NULL
    ) STRICT;";

/// Summarizes every block that has no summary (migration 15: blocks written before
/// summaries were), one block in memory at a time.
pub(super) fn summarize_blocks(tx: &Transaction<'_>) -> Result<()> {
    let missing: Vec<i64> = tx
        .prepare(
            "SELECT first_seq FROM execution_block
             WHERE first_seq NOT IN (SELECT first_seq FROM execution_block_summary)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut read = tx.prepare("SELECT data FROM execution_block WHERE first_seq = ?1")?;
    let mut write =
        tx.prepare("INSERT INTO execution_block_summary (first_seq, summary) VALUES (?1, ?2)")?;
    for first_seq in missing {
        let data: Vec<u8> = read.query_row([first_seq], |r| r.get(0))?;
        let mut encoder = BlockEncoder::default();
        for row in decode(&data)? {
            encoder.push(&row);
        }
        write.execute(params![first_seq, encoder.finish().summary])?;
    }
    Ok(())
}

/// Calls `visit` with every stored execution whose `ts` is in `[from, to)`, in `seq`
/// order, a block at a time (memory stays flat whatever the table's size).
pub(crate) fn scan(
    conn: &Connection,
    from: Option<i64>,
    to: Option<i64>,
    visit: &mut dyn FnMut(ExecutionRow<'static>) -> Result<()>,
) -> Result<()> {
    let (from, to) = (from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
    let mut st = conn.prepare_cached(
        "SELECT data FROM execution_block WHERE ts_max >= ?1 AND ts_min < ?2 ORDER BY first_seq",
    )?;
    let mut blocks = st.query(params![from, to])?;
    while let Some(block) = blocks.next()? {
        let data: Vec<u8> = block.get(0)?;
        for row in decode(&data)? {
            if (from..to).contains(&row.ts) {
                visit(row)?;
            }
        }
    }
    Ok(())
}

/// The number of stored executions.
pub(crate) fn count(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT coalesce(sum(events), 0) FROM execution_block",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Executions stored with `seq >= from_seq` whose `ts` (epoch ms) is before `before`.
pub(crate) fn count_since_before(conn: &Connection, from_seq: i64, before: i64) -> Result<u64> {
    let mut st = conn.prepare_cached(
        "SELECT first_seq, last_seq, ts_max, events, data FROM execution_block
         WHERE last_seq >= ?1 AND ts_min < ?2",
    )?;
    let mut blocks = st.query(params![from_seq, before])?;
    let mut count = 0u64;
    while let Some(block) = blocks.next()? {
        let (first_seq, ts_max, events): (i64, i64, i64) =
            (block.get(0)?, block.get(2)?, block.get(3)?);
        if first_seq >= from_seq && ts_max < before {
            count += u64::try_from(events).unwrap_or(0);
            continue;
        }
        let data: Vec<u8> = block.get(4)?;
        count += decode(&data)?
            .iter()
            .filter(|row| row.seq >= from_seq && row.ts < before)
            .count() as u64;
    }
    Ok(count)
}

/// Deletes the executions before `cutoff` (epoch ms): whole blocks when all of their
/// events are older, re-encoded blocks when some are. Returns how many were deleted.
pub(crate) fn delete_before(tx: &Transaction<'_>, cutoff: i64) -> Result<u64> {
    let expired: Vec<(i64, i64, i64, Vec<u8>)> = tx
        .prepare("SELECT first_seq, ts_max, events, data FROM execution_block WHERE ts_min < ?1")?
        .query_map([cutoff], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut deleted = 0;
    for (first_seq, ts_max, events, data) in expired {
        if ts_max < cutoff {
            delete(tx, first_seq)?;
            deleted += u64::try_from(events).unwrap_or(0);
            continue;
        }
        let rows = decode(&data)?;
        let mut encoder = BlockEncoder::default();
        for row in rows.iter().filter(|row| row.ts >= cutoff) {
            encoder.push(row);
        }
        deleted += (rows.len() - encoder.len()) as u64;
        replace(tx, first_seq, &encoder.finish())?;
    }
    Ok(deleted)
}

/// Moves the rows of the per-event `execution` table (schema 7 and before) into blocks
/// and drops the table; the ids come from the ledger, as export read them.
pub(super) fn convert_row_table(tx: &Transaction<'_>) -> Result<()> {
    let mut writer = BlockWriter::default();
    {
        let mut st = tx.prepare(
            "SELECT e.seq, e.ts, e.project, CASE typeof(l.id) WHEN 'text' THEN l.id END, e.agent, e.task,
                    e.user, e.session, e.tool, e.model, e.duration_us, e.success, e.flags, e.cost_nusd,
                    e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens,
                    e.reasoning_tokens, e.error, e.attrs
             FROM execution e LEFT JOIN event_ids l ON l.seq = e.seq ORDER BY e.seq",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            writer.push(&ExecutionRow {
                seq: r.get(0)?,
                ts: r.get(1)?,
                project: r.get(2)?,
                id: r.get::<_, Option<String>>(3)?.map(Into::into),
                agent: r.get(4)?,
                task: r.get::<_, Option<String>>(5)?.map(Into::into),
                user: r.get(6)?,
                session: r.get::<_, Option<String>>(7)?.map(Into::into),
                tool: r.get(8)?,
                model: r.get(9)?,
                duration_us: r.get(10)?,
                success: r.get(11)?,
                flags: r.get(12)?,
                cost_nusd: r.get(13)?,
                tokens: [r.get(14)?, r.get(15)?, r.get(16)?, r.get(17)?, r.get(18)?],
                error: r.get(19)?,
                attrs: r.get::<_, Option<String>>(20)?.map(Into::into),
            });
            writer.store_full(tx)?;
        }
    }
    // Blocks of the conversion are full-sized: no merging with each other.
    if !writer.encoder.is_empty() {
        let last = writer.encoder.finish();
        writer.full.push(last);
    }
    writer.store(tx)?;
    tx.execute_batch("DROP TABLE execution")?;
    Ok(())
}
