//! Reading a block by columns for a filter: the columns the filter names are read
//! first, for every row, and the other columns only at the rows that pass. A block in
//! which a few rows match costs a pass over a few columns instead of a decode of every
//! row, and texts are copied for the kept rows alone.

use std::borrow::Cow;
use std::ops::Range;

use super::codec::{Col, ExecutionRow, Reader, borrowed, open};
use super::summary::Wanted;
use crate::Result;

/// What a page asks of a block's rows.
#[derive(Debug, Clone)]
pub(crate) struct Selection<'a> {
    /// The part of the write order (`seq`).
    pub seqs: Range<i64>,
    /// The event times, epoch milliseconds.
    pub ts: Range<i64>,
    pub wanted: Wanted<'a>,
}

impl Selection<'_> {
    /// Whether `row` is selected: what [`decode_selected`] keeps, row by row.
    #[cfg(test)]
    pub fn matches(&self, row: &ExecutionRow<'_>) -> bool {
        self.seqs.contains(&row.seq) && self.ts.contains(&row.ts) && self.wanted.matches(row)
    }
}

/// The rows of a block that `selection` selects, in block order: the same rows as
/// `decode_matching(data, |row| selection.matches(row))`.
///
/// # Errors
/// [`crate::Error::Corrupt`] when the bytes are not a block this build wrote.
pub(crate) fn decode_selected(
    data: &[u8],
    selection: &Selection<'_>,
) -> Result<Vec<ExecutionRow<'static>>> {
    let (events, columns) = open(data)?;
    let column = |col: Col| columns[col as usize].clone();
    let (seqs, times, mut keep) = positions(events, column(Col::Seq), column(Col::Ts), selection)?;
    let wanted = &selection.wanted;
    if let Some(project) = wanted.project {
        narrow(&mut keep, column(Col::Project), |r| Ok(r.int()? == project))?;
    }
    if let Some(tool) = wanted.tool {
        narrow(&mut keep, column(Col::Tool), |r| Ok(r.int()? == tool))?;
    }
    if let Some(model) = wanted.model {
        narrow(&mut keep, column(Col::Model), |r| {
            Ok(r.opt()? == Some(model))
        })?;
    }
    if let Some(agent) = wanted.agent {
        narrow(&mut keep, column(Col::Agent), |r| {
            Ok(r.opt()? == Some(agent))
        })?;
    }
    if let Some(success) = wanted.success {
        narrow(&mut keep, column(Col::Flags), |r| {
            Ok((r.int()? & 1 != 0) == success)
        })?;
    }
    if let Some(task) = wanted.task {
        let mut last = Vec::new();
        narrow(&mut keep, column(Col::Task), |r| {
            Ok(r.front_coded(&mut last)? && last == task.as_bytes())
        })?;
    }
    let kept: Vec<usize> = (0..events).filter(|&i| keep[i]).collect();
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<Row> = kept.iter().map(|&i| blank(seqs[i], times[i])).collect();
    for (col, read) in VALUES {
        let mut reader = columns[col as usize].clone();
        let mut at = 0;
        for (row, &i) in rows.iter_mut().zip(&kept) {
            match col {
                Col::Attrs => reader.skip_texts(i - at)?,
                _ => reader.skip_varints(i - at)?,
            }
            read(row, &mut reader)?;
            at = i + 1;
        }
    }
    for (col, set) in TEXTS {
        // Front-coded: each text is read to know the next one.
        let mut reader = columns[col as usize].clone();
        let mut last = Vec::new();
        let mut at = 0;
        for (row, &i) in rows.iter_mut().zip(&kept) {
            for _ in at..i {
                reader.front_coded(&mut last)?;
            }
            let has = reader.front_coded(&mut last)?;
            set(
                row,
                borrowed(has, &last)?.map(|t| Cow::Owned(t.into_owned())),
            );
            at = i + 1;
        }
    }
    Ok(rows)
}

/// Every row's `seq` and `ts`, and whether both are in the selection's ranges.
fn positions(
    events: usize,
    mut seq_column: Reader<'_>,
    mut ts_column: Reader<'_>,
    selection: &Selection<'_>,
) -> Result<(Vec<i64>, Vec<i64>, Vec<bool>)> {
    // Every row takes a byte of each of these columns: a count beyond is refused by
    // the first read past the end, and never allocated for.
    let rows = events.min(seq_column.len());
    let (mut seqs, mut times, mut keep) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    let (mut seq, mut ts) = (0i64, 0i64);
    for i in 0..events {
        let (seq_step, ts_step) = (seq_column.int()?, ts_column.int()?);
        if i == 0 {
            (seq, ts) = (seq_step, ts_step);
        } else {
            seq = seq.wrapping_add(seq_step);
            ts = ts.wrapping_add(ts_step);
        }
        seqs.push(seq);
        times.push(ts);
        keep.push(selection.seqs.contains(&seq) && selection.ts.contains(&ts));
    }
    Ok((seqs, times, keep))
}

/// Clears `keep` where `test` fails, reading the column's value of every row (none
/// when no row is kept any more).
fn narrow(
    keep: &mut [bool],
    mut column: Reader<'_>,
    mut test: impl FnMut(&mut Reader<'_>) -> Result<bool>,
) -> Result<()> {
    if !keep.contains(&true) {
        return Ok(());
    }
    for kept in keep.iter_mut() {
        let pass = test(&mut column)?;
        *kept &= pass;
    }
    Ok(())
}

type Row = ExecutionRow<'static>;
type ReadValue = fn(&mut Row, &mut Reader<'_>) -> Result<()>;
type SetText = fn(&mut Row, Option<Cow<'static, str>>);

/// The columns read at the kept rows (after `seq` and `ts`), and where each value goes.
const VALUES: [(Col, ReadValue); 15] = [
    (Col::Project, |row, r| {
        row.project = r.int()?;
        Ok(())
    }),
    (Col::Agent, |row, r| {
        row.agent = r.opt()?;
        Ok(())
    }),
    (Col::User, |row, r| {
        row.user = r.opt()?;
        Ok(())
    }),
    (Col::Tool, |row, r| {
        row.tool = r.int()?;
        Ok(())
    }),
    (Col::Model, |row, r| {
        row.model = r.opt()?;
        Ok(())
    }),
    (Col::Duration, |row, r| {
        row.duration_us = r.int()?;
        Ok(())
    }),
    (Col::Flags, |row, r| {
        let flags = r.int()?;
        row.success = flags & 1 != 0;
        row.flags = flags >> 1;
        Ok(())
    }),
    (Col::Cost, |row, r| {
        row.cost_nusd = r.opt()?;
        Ok(())
    }),
    (Col::InputTokens, |row, r| {
        row.tokens[0] = r.opt()?;
        Ok(())
    }),
    (Col::OutputTokens, |row, r| {
        row.tokens[1] = r.opt()?;
        Ok(())
    }),
    (Col::CacheReadTokens, |row, r| {
        row.tokens[2] = r.opt()?;
        Ok(())
    }),
    (Col::CacheWriteTokens, |row, r| {
        row.tokens[3] = r.opt()?;
        Ok(())
    }),
    (Col::ReasoningTokens, |row, r| {
        row.tokens[4] = r.opt()?;
        Ok(())
    }),
    (Col::Error, |row, r| {
        row.error = r.opt()?;
        Ok(())
    }),
    (Col::Attrs, |row, r| {
        row.attrs = r.text()?.map(|t| Cow::Owned(t.to_owned()));
        Ok(())
    }),
];

/// The front-coded text columns, and where each text goes.
const TEXTS: [(Col, SetText); 3] = [
    (Col::Id, |row, text| row.id = text),
    (Col::Task, |row, text| row.task = text),
    (Col::Session, |row, text| row.session = text),
];

/// A row with its place and nothing else, to be filled column by column.
fn blank(seq: i64, ts: i64) -> Row {
    ExecutionRow {
        seq,
        ts,
        project: 0,
        id: None,
        agent: None,
        task: None,
        user: None,
        session: None,
        tool: 0,
        model: None,
        duration_us: 0,
        success: false,
        flags: 0,
        cost_nusd: None,
        tokens: [None; 5],
        error: None,
        attrs: None,
    }
}
