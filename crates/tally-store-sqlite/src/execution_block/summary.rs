//! A block's summary: which projects, tools, models and agents its executions name,
//! whether some failed or succeeded, and a Bloom filter of their task ids (the trace id
//! of an OpenTelemetry span). The events explorer reads it to skip, unread, the blocks
//! that cannot hold what a filter asks for.
//!
//! ```text
//! summary := version:u8  outcomes:u8  project:[u8;32]  tool:[u8;32]  model:[u8;32]
//!            agent:[u8;32]  tasks:[u8]   (the rest, a power of two of bytes)
//! ```
//!
//! A code set is 256 bits, bit `code % 256`: exact for the first 255 values of a
//! dimension, a filter beyond. Task ids set two bits each, by a 64-bit FNV-1a hash
//! (fixed here: a stored summary must read the same with every build).

use super::codec::ExecutionRow;

const VERSION: u8 = 1;
const SET: usize = 32;
const HEADER: usize = 2 + 4 * SET;
const FAILED: u8 = 1;
const SUCCEEDED: u8 = 2;

/// Bloom bytes per block: about a byte per event, between these.
const MIN_TASK_BYTES: usize = 8;
const MAX_TASK_BYTES: usize = 8 * 1024;

/// What a filter asks of an execution, as dictionary codes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Wanted<'a> {
    pub project: Option<i64>,
    pub tool: Option<i64>,
    pub model: Option<i64>,
    pub agent: Option<i64>,
    pub success: Option<bool>,
    pub task: Option<&'a str>,
}

impl Wanted<'_> {
    /// Whether `row` is one of the wanted executions.
    #[cfg(test)]
    pub fn matches(&self, row: &ExecutionRow<'_>) -> bool {
        self.project.is_none_or(|p| p == row.project)
            && self.tool.is_none_or(|t| t == row.tool)
            && self.model.is_none_or(|m| Some(m) == row.model)
            && self.agent.is_none_or(|a| Some(a) == row.agent)
            && self.success.is_none_or(|s| s == row.success)
            && self.task.is_none_or(|t| row.task.as_deref() == Some(t))
    }
}

/// The summary of the rows given, built as they are pushed.
#[derive(Debug, Clone, Default)]
pub(crate) struct SummaryBuilder {
    outcomes: u8,
    sets: [[u8; SET]; 4],
    tasks: Vec<u64>,
}

impl SummaryBuilder {
    pub fn push(&mut self, row: &ExecutionRow<'_>) {
        self.outcomes |= if row.success { SUCCEEDED } else { FAILED };
        for (set, code) in
            self.sets
                .iter_mut()
                .zip([Some(row.project), Some(row.tool), row.model, row.agent])
        {
            if let Some(code) = code {
                let bit = code.rem_euclid(256) as usize;
                set[bit / 8] |= 1 << (bit % 8);
            }
        }
        if let Some(task) = &row.task {
            self.tasks.push(fnv1a(task.as_bytes()));
        }
    }

    /// The summary's bytes; the builder is left empty.
    pub fn finish(&mut self, events: usize) -> Vec<u8> {
        let bytes = events
            .next_power_of_two()
            .clamp(MIN_TASK_BYTES, MAX_TASK_BYTES);
        let mut out = Vec::with_capacity(HEADER + bytes);
        out.push(VERSION);
        out.push(self.outcomes);
        for set in &self.sets {
            out.extend_from_slice(set);
        }
        out.resize(HEADER + bytes, 0);
        let bloom = &mut out[HEADER..];
        for &hash in &self.tasks {
            for bit in bloom_bits(hash, bytes * 8) {
                bloom[bit / 8] |= 1 << (bit % 8);
            }
        }
        *self = SummaryBuilder::default();
        out
    }
}

/// Whether a block with this summary may hold an execution `wanted` selects; a summary
/// this build cannot read says it may.
pub(crate) fn may_hold(summary: &[u8], wanted: &Wanted<'_>) -> bool {
    if summary.len() <= HEADER || summary[0] != VERSION {
        return true;
    }
    let outcomes = summary[1];
    let outcome_ok = wanted
        .success
        .is_none_or(|s| outcomes & if s { SUCCEEDED } else { FAILED } != 0);
    let sets = [wanted.project, wanted.tool, wanted.model, wanted.agent];
    let sets_ok = sets.iter().enumerate().all(|(i, code)| {
        code.is_none_or(|code| {
            let bit = code.rem_euclid(256) as usize;
            summary[2 + i * SET + bit / 8] & (1 << (bit % 8)) != 0
        })
    });
    let bloom = &summary[HEADER..];
    let task_ok = wanted.task.is_none_or(|task| {
        bloom_bits(fnv1a(task.as_bytes()), bloom.len() * 8)
            .into_iter()
            .all(|bit| bloom[bit / 8] & (1 << (bit % 8)) != 0)
    });
    outcome_ok && sets_ok && task_ok
}

/// The two bits of a hash in a filter of `bits` bits (a power of two).
fn bloom_bits(hash: u64, bits: usize) -> [usize; 2] {
    let mask = bits as u64 - 1;
    [(hash & mask) as usize, ((hash >> 32) & mask) as usize]
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(project: i64, tool: i64, success: bool, task: &str) -> ExecutionRow<'static> {
        ExecutionRow {
            seq: 1,
            ts: 0,
            project,
            id: None,
            agent: Some(3),
            task: Some(task.to_owned().into()),
            user: None,
            session: None,
            tool,
            model: None,
            duration_us: 1,
            success,
            flags: 0,
            cost_nusd: None,
            tokens: [None; 5],
            error: None,
            attrs: None,
        }
    }

    #[test]
    fn a_summary_rules_out_what_its_block_lacks_and_never_what_it_holds() {
        let mut builder = SummaryBuilder::default();
        let rows: Vec<_> = (0..500)
            .map(|i| row(1 + i % 3, 10 + i % 7, i % 50 != 0, &format!("trace-{i}")))
            .collect();
        for r in &rows {
            builder.push(r);
        }
        let summary = builder.finish(rows.len());
        for r in &rows {
            let wanted = Wanted {
                project: Some(r.project),
                tool: Some(r.tool),
                success: Some(r.success),
                task: r.task.as_deref(),
                agent: Some(3),
                model: None,
            };
            assert!(may_hold(&summary, &wanted), "{r:?}");
        }
        let absent = [
            Wanted {
                project: Some(4),
                ..Wanted::default()
            },
            Wanted {
                tool: Some(9),
                ..Wanted::default()
            },
            Wanted {
                model: Some(1),
                ..Wanted::default()
            },
            Wanted {
                agent: Some(4),
                ..Wanted::default()
            },
        ];
        for wanted in &absent {
            assert!(!may_hold(&summary, wanted), "{wanted:?}");
        }
        let strangers = (0..1000)
            .filter(|i| {
                let task = format!("other-{i}");
                may_hold(
                    &summary,
                    &Wanted {
                        task: Some(&task),
                        ..Wanted::default()
                    },
                )
            })
            .count();
        assert!(strangers < 200, "{strangers} of 1000 unknown task ids pass");
        let all_ok = Wanted {
            success: Some(true),
            ..Wanted::default()
        };
        assert!(may_hold(&summary, &all_ok));
        let mut builder = SummaryBuilder::default();
        builder.push(&row(1, 10, true, "t"));
        let only_ok = builder.finish(1);
        assert!(!may_hold(
            &only_ok,
            &Wanted {
                success: Some(false),
                ..Wanted::default()
            }
        ));
    }
}
