//! The idempotency ledger's write side: which events of a write are new, and their
//! `seq` numbers.
//!
//! Entries go in by groups of [`GROUP`] in one multi-row `INSERT ... ON CONFLICT DO
//! NOTHING`: run once per entry, the statement cost about as much to start, bind and
//! reset as its B-tree insert. Each entry of a group is given a provisional `seq` (the
//! next numbers in order); when the statement inserts every entry, the common case, those
//! are the final numbers. When some are already there, each entry is looked up: it is new
//! when it holds its own provisional number, and the new ones are renumbered so that
//! `seq` stays gapless.

use std::sync::LazyLock;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, ToSql, Transaction};

use crate::Result;

/// Entries per multi-row insert.
pub(super) const GROUP: usize = 32;

static GROUP_INSERT: LazyLock<String> = LazyLock::new(|| {
    let rows = vec!["(?, ?, ?)"; GROUP].join(", ");
    format!("INSERT INTO event_ids (project, id, seq) VALUES {rows} ON CONFLICT DO NOTHING")
});

/// An event's id as the ledger keys it: TEXT when the client gave it, a 16-byte BLOB
/// when derived from the content.
#[derive(Debug, Clone, Copy)]
pub(super) enum LedgerId<'e> {
    Given(&'e str),
    Derived([u8; 16]),
}

impl ToSql for LedgerId<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            LedgerId::Given(id) => ValueRef::Text(id.as_bytes()),
            LedgerId::Derived(hash) => ValueRef::Blob(hash),
        }))
    }
}

/// The ledger statements of one transaction, prepared on first use.
pub(super) struct LedgerWriter<'t, 'c> {
    tx: &'t Transaction<'c>,
    one: Option<CachedStatement<'t>>,
    group: Option<CachedStatement<'t>>,
}

impl<'t, 'c> LedgerWriter<'t, 'c> {
    pub(super) fn new(tx: &'t Transaction<'c>) -> Self {
        LedgerWriter {
            tx,
            one: None,
            group: None,
        }
    }

    /// Inserts the entries `(project code, id)`; the new ones take `seq` numbers from
    /// `next_seq` on, in order. `is_new` is filled with whether each entry was new.
    /// Returns how many were.
    pub(super) fn record(
        &mut self,
        entries: &[(i64, LedgerId<'_>)],
        next_seq: i64,
        is_new: &mut Vec<bool>,
    ) -> Result<i64> {
        is_new.clear();
        if entries.len() == GROUP {
            return self.record_group(entries, next_seq, is_new);
        }
        let mut seq = next_seq;
        for (project, id) in entries {
            let inserted = self.insert_one(*project, id, seq)?;
            is_new.push(inserted);
            seq += i64::from(inserted);
        }
        Ok(seq - next_seq)
    }

    fn insert_one(&mut self, project: i64, id: &LedgerId<'_>, seq: i64) -> Result<bool> {
        let tx = self.tx;
        let statement = match &mut self.one {
            Some(statement) => statement,
            None => self.one.insert(tx.prepare_cached(
                "INSERT INTO event_ids (project, id, seq) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?),
        };
        Ok(statement.execute(rusqlite::params![project, id, seq])? == 1)
    }

    fn record_group(
        &mut self,
        entries: &[(i64, LedgerId<'_>)],
        next_seq: i64,
        is_new: &mut Vec<bool>,
    ) -> Result<i64> {
        let tx = self.tx;
        let statement = match &mut self.group {
            Some(statement) => statement,
            None => self.group.insert(tx.prepare_cached(&GROUP_INSERT)?),
        };
        for (i, (project, id)) in entries.iter().enumerate() {
            let at = 3 * i + 1;
            statement.raw_bind_parameter(at, project)?;
            statement.raw_bind_parameter(at + 1, id)?;
            statement.raw_bind_parameter(at + 2, next_seq + i as i64)?;
        }
        let inserted = statement.raw_execute()?;
        if inserted == entries.len() {
            is_new.resize(entries.len(), true);
            return Ok(inserted as i64);
        }
        // Some were there already (or came twice): an entry is new when it holds its own
        // provisional number. All are looked up before any is renumbered.
        let mut lookup =
            tx.prepare_cached("SELECT seq FROM event_ids WHERE id = ?1 AND project = ?2")?;
        for (i, (project, id)) in entries.iter().enumerate() {
            let held: i64 = lookup.query_row(rusqlite::params![id, project], |row| row.get(0))?;
            is_new.push(held == next_seq + i as i64);
        }
        let mut renumber =
            tx.prepare_cached("UPDATE event_ids SET seq = ?1 WHERE id = ?2 AND project = ?3")?;
        let mut seq = next_seq;
        for (i, (project, id)) in entries.iter().enumerate() {
            if !is_new[i] {
                continue;
            }
            if seq != next_seq + i as i64 {
                renumber.execute(rusqlite::params![seq, id, project])?;
            }
            seq += 1;
        }
        Ok(seq - next_seq)
    }
}
