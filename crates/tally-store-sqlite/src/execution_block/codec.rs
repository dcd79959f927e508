//! The byte layout of an execution block: the stored form of up to
//! [`super::MAX_BLOCK_EVENTS`] `execution` events, one column after another.
//!
//! ```text
//! block  := version:u8  events:varint  columns:varint(bitset)  column*
//! column := length:varint  values          (only the columns whose bit is set)
//! ```
//!
//! Every value is a LEB128 varint. Integers are zigzag-encoded; `seq` and `ts` are
//! stored as differences from the row before. Optional values add one, so 0 is "none";
//! a column that is none in every row of the block is left out. Texts (`id`, `task`,
//! `session`) are front-coded against the column's previous text, because consecutive
//! ids and task names mostly share a prefix (`e1041`, `e1042`).
//!
//! Why by hand: the layout is twenty small columns of varints, about a hundred lines;
//! the columnar-format crates (Parquet, Arrow IPC) cost more per block in headers and
//! code than the data they would hold, and need an allocation per column per read.

use std::borrow::Cow;

use super::summary::SummaryBuilder;
use crate::rollup::varint::{self, unzigzag, zigzag};
use crate::{Error, Result};

/// The layout version written in a block's first byte.
const VERSION: u8 = 1;

/// One stored execution, with strings as dictionary codes where the raw tables use them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExecutionRow<'a> {
    pub seq: i64,
    /// Epoch milliseconds, UTC.
    pub ts: i64,
    pub project: i64,
    /// The id the client gave; `None` for derived ids (they are kept in the ledger).
    pub id: Option<Cow<'a, str>>,
    pub agent: Option<i64>,
    pub task: Option<Cow<'a, str>>,
    pub user: Option<i64>,
    pub session: Option<Cow<'a, str>>,
    pub tool: i64,
    pub model: Option<i64>,
    pub duration_us: i64,
    pub success: bool,
    /// Bit 0: browser used; bit 1: cost computed from the price table; bits 2..4:
    /// effort code + 1 (0 = not given).
    pub flags: i64,
    pub cost_nusd: Option<i64>,
    /// Input, output, cache read, cache write and reasoning tokens.
    pub tokens: [Option<i64>; 5],
    pub error: Option<i64>,
    /// The attrs as JSON text.
    pub attrs: Option<Cow<'a, str>>,
}

/// The columns, in block order.
#[derive(Clone, Copy)]
pub(super) enum Col {
    Seq,
    Ts,
    Project,
    Id,
    Agent,
    Task,
    User,
    Session,
    Tool,
    Model,
    Duration,
    Flags,
    Cost,
    InputTokens,
    OutputTokens,
    CacheReadTokens,
    CacheWriteTokens,
    ReasoningTokens,
    Error,
    Attrs,
}

pub(super) const COLUMNS: usize = Col::Attrs as usize + 1;

/// Columns every row has a value in: a block without one of them is damaged.
const REQUIRED: [Col; 6] = [
    Col::Seq,
    Col::Ts,
    Col::Project,
    Col::Tool,
    Col::Duration,
    Col::Flags,
];

pub(super) const TOKEN_COLUMNS: [Col; 5] = [
    Col::InputTokens,
    Col::OutputTokens,
    Col::CacheReadTokens,
    Col::CacheWriteTokens,
    Col::ReasoningTokens,
];

/// A block being written: rows are appended column by column, so a block of any size
/// costs no allocation per row once its buffers have grown.
#[derive(Debug, Default)]
pub(crate) struct BlockEncoder {
    columns: [Vec<u8>; COLUMNS],
    /// Which columns have a value in some row.
    present: u32,
    /// The last text of each front-coded column.
    last_text: [Vec<u8>; 3],
    events: usize,
    first_seq: i64,
    last_seq: i64,
    last_ts: i64,
    ts_min: i64,
    ts_max: i64,
    summary: SummaryBuilder,
}

/// A finished block and what its table row says about it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EncodedBlock {
    pub first_seq: i64,
    pub last_seq: i64,
    pub ts_min: i64,
    pub ts_max: i64,
    pub events: usize,
    pub data: Vec<u8>,
    /// What the explorer reads to skip the block (`summary.rs`).
    pub summary: Vec<u8>,
}

impl BlockEncoder {
    pub fn len(&self) -> usize {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Appends a row. Rows must come in increasing `seq`.
    pub fn push(&mut self, row: &ExecutionRow<'_>) {
        if self.events == 0 {
            self.first_seq = row.seq;
            self.ts_min = row.ts;
            self.ts_max = row.ts;
            self.put_int(Col::Seq, row.seq);
            self.put_int(Col::Ts, row.ts);
        } else {
            self.put_int(Col::Seq, row.seq.wrapping_sub(self.last_seq));
            self.put_int(Col::Ts, row.ts.wrapping_sub(self.last_ts));
            self.ts_min = self.ts_min.min(row.ts);
            self.ts_max = self.ts_max.max(row.ts);
        }
        self.last_seq = row.seq;
        self.last_ts = row.ts;
        self.put_int(Col::Project, row.project);
        self.put_front_coded(Col::Id, 0, row.id.as_deref());
        self.put_opt(Col::Agent, row.agent);
        self.put_front_coded(Col::Task, 1, row.task.as_deref());
        self.put_opt(Col::User, row.user);
        self.put_front_coded(Col::Session, 2, row.session.as_deref());
        self.put_int(Col::Tool, row.tool);
        self.put_opt(Col::Model, row.model);
        self.put_int(Col::Duration, row.duration_us);
        self.put_int(Col::Flags, (row.flags << 1) | i64::from(row.success));
        self.put_opt(Col::Cost, row.cost_nusd);
        for (col, value) in TOKEN_COLUMNS.into_iter().zip(row.tokens) {
            self.put_opt(col, value);
        }
        self.put_opt(Col::Error, row.error);
        self.put_text(Col::Attrs, row.attrs.as_deref());
        self.summary.push(row);
        self.events += 1;
    }

    /// Drops the rows pushed since the last block, keeping the buffers.
    pub fn clear(&mut self) {
        self.columns.iter_mut().for_each(Vec::clear);
        self.last_text.iter_mut().for_each(Vec::clear);
        self.present = 0;
        self.events = 0;
        self.summary = SummaryBuilder::default();
    }

    /// The block so far, leaving the encoder empty for the next one.
    pub fn finish(&mut self) -> EncodedBlock {
        let mut data = Vec::with_capacity(self.columns.iter().map(Vec::len).sum::<usize>() + 32);
        data.push(VERSION);
        varint::put(&mut data, self.events as u64);
        varint::put(&mut data, u64::from(self.present));
        for (i, column) in self.columns.iter().enumerate() {
            if self.present & (1 << i) != 0 {
                varint::put(&mut data, column.len() as u64);
                data.extend_from_slice(column);
            }
        }
        let block = EncodedBlock {
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            ts_min: self.ts_min,
            ts_max: self.ts_max,
            events: self.events,
            data,
            summary: self.summary.finish(self.events),
        };
        self.clear();
        block
    }

    fn put_int(&mut self, col: Col, value: i64) {
        self.present |= 1 << col as u32;
        varint::put(&mut self.columns[col as usize], zigzag(value));
    }

    fn put_opt(&mut self, col: Col, value: Option<i64>) {
        let out = &mut self.columns[col as usize];
        match value {
            Some(value) => {
                self.present |= 1 << col as u32;
                varint::put(out, zigzag(value).wrapping_add(1));
            }
            None => out.push(0),
        }
    }

    fn put_text(&mut self, col: Col, text: Option<&str>) {
        let out = &mut self.columns[col as usize];
        match text {
            Some(text) => {
                self.present |= 1 << col as u32;
                varint::put(out, text.len() as u64 + 1);
                out.extend_from_slice(text.as_bytes());
            }
            None => out.push(0),
        }
    }

    /// `0` for none; otherwise the suffix length + 1, the shared prefix length, and the
    /// suffix.
    fn put_front_coded(&mut self, col: Col, slot: usize, text: Option<&str>) {
        let out = &mut self.columns[col as usize];
        let Some(text) = text else {
            out.push(0);
            return;
        };
        self.present |= 1 << col as u32;
        let last = &mut self.last_text[slot];
        let shared = last
            .iter()
            .zip(text.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let suffix = &text.as_bytes()[shared..];
        varint::put(out, suffix.len() as u64 + 1);
        varint::put(out, shared as u64);
        out.extend_from_slice(suffix);
        last.truncate(shared);
        last.extend_from_slice(suffix);
    }
}

/// Reads a block back into rows.
///
/// # Errors
/// [`Error::Corrupt`] when the bytes are not a block this build wrote.
pub(crate) fn decode(data: &[u8]) -> Result<Vec<ExecutionRow<'static>>> {
    decode_matching(data, &mut |_| true)
}

/// Reads back the rows of a block that `keep` accepts. A row is shown to `keep` with
/// its texts borrowed, and copied only when kept, so a filter that keeps few rows
/// costs no allocation for the others.
///
/// # Errors
/// [`Error::Corrupt`] when the bytes are not a block this build wrote.
pub(crate) fn decode_matching(
    data: &[u8],
    keep: &mut dyn FnMut(&ExecutionRow<'_>) -> bool,
) -> Result<Vec<ExecutionRow<'static>>> {
    let (events, mut columns) = open(data)?;
    // Bounded by the data: every row takes at least one byte of every required column.
    let mut rows = Vec::new();
    let mut last_text: [Vec<u8>; 3] = Default::default();
    let (mut seq, mut ts) = (0i64, 0i64);
    for i in 0..events {
        let c = &mut columns;
        let (seq_step, ts_step) = (c[Col::Seq as usize].int()?, c[Col::Ts as usize].int()?);
        if i == 0 {
            (seq, ts) = (seq_step, ts_step);
        } else {
            seq = seq.wrapping_add(seq_step);
            ts = ts.wrapping_add(ts_step);
        }
        let flags = c[Col::Flags as usize].int()?;
        let mut tokens = [None; 5];
        for (slot, col) in tokens.iter_mut().zip(TOKEN_COLUMNS) {
            *slot = c[col as usize].opt()?;
        }
        let project = c[Col::Project as usize].int()?;
        let has_id = c[Col::Id as usize].front_coded(&mut last_text[0])?;
        let agent = c[Col::Agent as usize].opt()?;
        let has_task = c[Col::Task as usize].front_coded(&mut last_text[1])?;
        let user = c[Col::User as usize].opt()?;
        let has_session = c[Col::Session as usize].front_coded(&mut last_text[2])?;
        let row = ExecutionRow {
            seq,
            ts,
            project,
            id: borrowed(has_id, &last_text[0])?,
            agent,
            task: borrowed(has_task, &last_text[1])?,
            user,
            session: borrowed(has_session, &last_text[2])?,
            tool: c[Col::Tool as usize].int()?,
            model: c[Col::Model as usize].opt()?,
            duration_us: c[Col::Duration as usize].int()?,
            success: flags & 1 != 0,
            flags: flags >> 1,
            cost_nusd: c[Col::Cost as usize].opt()?,
            tokens,
            error: c[Col::Error as usize].opt()?,
            attrs: c[Col::Attrs as usize].text()?.map(Cow::Borrowed),
        };
        if keep(&row) {
            rows.push(row.into_owned());
        }
    }
    if let Some(i) = columns.iter().position(|c| !c.is_done()) {
        return Err(corrupt(format!("column {i} is longer than its rows")));
    }
    Ok(rows)
}

/// A block's row count and a reader on each of its columns (absent columns empty).
///
/// # Errors
/// [`Error::Corrupt`] when the header is not one this build wrote.
pub(super) fn open(data: &[u8]) -> Result<(usize, [Reader<'_>; COLUMNS])> {
    let mut header = Reader::new(data);
    let version = header.byte()?;
    if version != VERSION {
        return Err(corrupt(format!("unknown layout version {version}")));
    }
    let events = usize::try_from(header.varint()?).map_err(|_| corrupt("event count"))?;
    let present = header.varint()?;
    if present >> COLUMNS != 0 {
        return Err(corrupt("unknown columns"));
    }
    let mut columns: [Reader<'_>; COLUMNS] = std::array::from_fn(|_| Reader::new(&[]));
    for (i, column) in columns.iter_mut().enumerate() {
        if present & (1 << i) != 0 {
            let len = usize::try_from(header.varint()?).map_err(|_| corrupt("column length"))?;
            *column = Reader::new(header.take(len)?);
        }
    }
    if !header.is_done() {
        return Err(corrupt("bytes after the last column"));
    }
    if let Some(col) = REQUIRED.iter().find(|&&c| present & (1 << c as u32) == 0) {
        return Err(corrupt(format!(
            "required column {} missing",
            *col as usize
        )));
    }
    Ok((events, columns))
}

/// A front-coded column's text of this row, when it has one.
pub(super) fn borrowed(present: bool, bytes: &[u8]) -> Result<Option<Cow<'_, str>>> {
    if !present {
        return Ok(None);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt("text is not UTF-8"))?;
    Ok(Some(Cow::Borrowed(text)))
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("execution block: {what}"))
}

/// A cursor over a column; an absent column reads as all none.
#[derive(Clone)]
pub(super) struct Reader<'d> {
    data: &'d [u8],
    at: usize,
}

impl<'d> Reader<'d> {
    fn new(data: &'d [u8]) -> Self {
        Reader { data, at: 0 }
    }

    /// The column's length in bytes.
    pub(super) fn len(&self) -> usize {
        self.data.len()
    }

    pub(super) fn is_done(&self) -> bool {
        self.at == self.data.len()
    }

    fn absent(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> Result<u8> {
        let byte = *self.data.get(self.at).ok_or_else(|| corrupt("truncated"))?;
        self.at += 1;
        Ok(byte)
    }

    pub(super) fn take(&mut self, len: usize) -> Result<&'d [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| corrupt("truncated"))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    #[inline]
    pub(super) fn varint(&mut self) -> Result<u64> {
        // Most values of a block fit in one byte.
        if let Some(&byte) = self.data.get(self.at)
            && byte < 0x80
        {
            self.at += 1;
            return Ok(u64::from(byte));
        }
        let mut rest = &self.data[self.at..];
        let n = varint::take(&mut rest).map_err(corrupt)?;
        self.at = self.data.len() - rest.len();
        Ok(n)
    }

    pub(super) fn int(&mut self) -> Result<i64> {
        Ok(unzigzag(self.varint()?))
    }

    pub(super) fn opt(&mut self) -> Result<Option<i64>> {
        if self.absent() {
            return Ok(None);
        }
        Ok(match self.varint()? {
            0 => None,
            n => Some(unzigzag(n - 1)),
        })
    }

    pub(super) fn text(&mut self) -> Result<Option<&'d str>> {
        if self.absent() {
            return Ok(None);
        }
        match self.varint()? {
            0 => Ok(None),
            n => {
                let len = usize::try_from(n - 1).map_err(|_| corrupt("text length"))?;
                let bytes = self.take(len)?;
                Ok(Some(
                    std::str::from_utf8(bytes).map_err(|_| corrupt("text is not UTF-8"))?,
                ))
            }
        }
    }

    /// Passes over the next `n` varints unread; an absent column has none to pass.
    pub(super) fn skip_varints(&mut self, n: usize) -> Result<()> {
        if n == 0 || self.absent() {
            return Ok(());
        }
        let mut left = n;
        for (i, &byte) in self.data[self.at..].iter().enumerate() {
            if byte & 0x80 == 0 {
                left -= 1;
                if left == 0 {
                    self.at += i + 1;
                    return Ok(());
                }
            }
        }
        Err(corrupt("truncated"))
    }

    /// Passes over the next `n` texts unread.
    pub(super) fn skip_texts(&mut self, n: usize) -> Result<()> {
        for _ in 0..n {
            if self.absent() {
                return Ok(());
            }
            if let Some(len) = self.varint()?.checked_sub(1) {
                self.take(usize::try_from(len).map_err(|_| corrupt("text length"))?)?;
            }
        }
        Ok(())
    }

    /// Reads the next text into `last` (the column's text before, to be front-coded
    /// against); false when the row has none.
    pub(super) fn front_coded(&mut self, last: &mut Vec<u8>) -> Result<bool> {
        if self.absent() {
            return Ok(false);
        }
        let suffix_len = match self.varint()? {
            0 => return Ok(false),
            n => usize::try_from(n - 1).map_err(|_| corrupt("text length"))?,
        };
        let shared = usize::try_from(self.varint()?).map_err(|_| corrupt("prefix length"))?;
        if shared > last.len() {
            return Err(corrupt("prefix longer than the text before"));
        }
        last.truncate(shared);
        last.extend_from_slice(self.take(suffix_len)?);
        Ok(true)
    }
}

impl ExecutionRow<'_> {
    /// The row with its texts copied.
    pub(crate) fn into_owned(self) -> ExecutionRow<'static> {
        let own = |text: Option<Cow<'_, str>>| text.map(|t| Cow::Owned(t.into_owned()));
        ExecutionRow {
            seq: self.seq,
            ts: self.ts,
            project: self.project,
            id: own(self.id),
            agent: self.agent,
            task: own(self.task),
            user: self.user,
            session: own(self.session),
            tool: self.tool,
            model: self.model,
            duration_us: self.duration_us,
            success: self.success,
            flags: self.flags,
            cost_nusd: self.cost_nusd,
            tokens: self.tokens,
            error: self.error,
            attrs: own(self.attrs),
        }
    }
}
