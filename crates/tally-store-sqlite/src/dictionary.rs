//! Dictionary encoding of low-cardinality strings (project, tool, model, agent, ...).
//!
//! Each dimension has its own small code space, so codes stay one or two bytes on disk.
//! Codes are never changed or deleted, so a cached code is always valid; a cache miss
//! reads or extends `dict` inside the caller's write transaction.

use rusqlite::{OptionalExtension, Transaction, params};
use rustc_hash::FxHashMap;

use crate::Result;
use crate::rollup_fold::Codes;

pub use tally_store::{DIMS, Dim};

/// The write side's cache of `dict`: value to code, per dimension. Looked up several
/// times per event on the write path, so it uses the Fx hash (short keys, no untrusted
/// collision attacks: the keys are dimension values the store already accepted).
#[derive(Debug, Default)]
pub struct Dictionary {
    codes: Vec<FxHashMap<String, i64>>,
    /// Entries added by the open transaction, dropped again if it rolls back.
    pending: Vec<(Dim, String)>,
}

impl Dictionary {
    pub fn new() -> Self {
        Dictionary {
            codes: (0..DIMS).map(|_| FxHashMap::default()).collect(),
            pending: Vec::new(),
        }
    }

    /// The code of `value`, assigning the next free one in `tx` when it is new.
    pub fn code(&mut self, tx: &Transaction<'_>, dim: Dim, value: &str) -> Result<i64> {
        if let Some(&code) = self.codes[dim as usize].get(value) {
            return Ok(code);
        }
        let existing: Option<i64> = tx
            .prepare_cached("SELECT code FROM dict WHERE dim = ?1 AND value = ?2")?
            .query_row(params![dim as u8, value], |r| r.get(0))
            .optional()?;
        let code = match existing {
            Some(code) => code,
            None => {
                let code: i64 = tx
                    .prepare_cached("SELECT coalesce(max(code), 0) + 1 FROM dict WHERE dim = ?1")?
                    .query_row(params![dim as u8], |r| r.get(0))?;
                tx.prepare_cached("INSERT INTO dict (dim, code, value) VALUES (?1, ?2, ?3)")?
                    .execute(params![dim as u8, code, value])?;
                code
            }
        };
        self.codes[dim as usize].insert(value.to_owned(), code);
        self.pending.push((dim, value.to_owned()));
        Ok(code)
    }

    /// The optional variant of [`Dictionary::code`].
    pub fn code_opt(
        &mut self,
        tx: &Transaction<'_>,
        dim: Dim,
        value: Option<&str>,
    ) -> Result<Option<i64>> {
        value.map(|v| self.code(tx, dim, v)).transpose()
    }

    /// The transaction committed: its new entries are now durable.
    pub fn commit(&mut self) {
        self.pending.clear();
    }

    /// The transaction rolled back: forget the entries it would have added.
    pub fn rollback(&mut self) {
        for (dim, value) in self.pending.drain(..) {
            self.codes[dim as usize].remove(&value);
        }
    }
}

/// The dictionary as the rollup fold's code source, inside a write transaction.
pub(super) struct DictionaryCodes<'a, 't> {
    pub tx: &'a Transaction<'t>,
    pub dict: &'a mut Dictionary,
}

impl Codes for DictionaryCodes<'_, '_> {
    fn code(&mut self, dim: Dim, value: &str) -> tally_store::Result<i64> {
        Ok(self.dict.code(self.tx, dim, value)?)
    }
}
