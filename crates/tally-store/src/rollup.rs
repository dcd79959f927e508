//! The rollup tier's vocabulary: which families are rolled up, at which resolutions,
//! and the mergeable measures each rollup row holds. No SQL here.
//!
//! A rollup row is `(family, resolution, project, bucket, key) → Measures`. Rows exist
//! for each project and, with `project` = [`ALL_PROJECTS`], for all projects together,
//! at hour, day and month resolution, so a question over any range reads the few
//! coarsest rows that cover it exactly.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;
use tally_models::LatencySketch;

/// The `project` code of rows that hold every project together.
pub const ALL_PROJECTS: i64 = 0;

/// What a family of rollup rows counts, and what its `key` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[repr(u8)]
pub enum Family {
    /// `execution` events; key 0. Latency: `duration_ms`.
    Executions = 1,
    /// `execution` events by `model` (dictionary code, 0 = none).
    ExecutionsByModel = 2,
    /// `execution` events by `tool`; latency and risk facets.
    ExecutionsByTool = 3,
    /// `execution` events by `agent_id` (0 = none).
    ExecutionsByAgent = 4,
    /// `run` events by [`run_key`] (QA status and mode); latency: `duration_s` in ms.
    Runs = 5,
    /// Each model of each run; `n` counts runs using the model.
    RunsByModel = 6,
    /// `job` state changes by status code.
    Jobs = 7,
    /// `request` events by `endpoint`; `ok` = status below 500; latency: `latency_ms`.
    Requests = 8,
    /// Events of every kind by kind code, by month only: what it answers is how many
    /// events are stored, and the other families count each kind by hour and day.
    Events = 9,
    /// `error` events by severity code.
    Errors = 10,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::Executions,
        Family::ExecutionsByModel,
        Family::ExecutionsByTool,
        Family::ExecutionsByAgent,
        Family::Runs,
        Family::RunsByModel,
        Family::Jobs,
        Family::Requests,
        Family::Events,
        Family::Errors,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// Whether the family is keyed by a tool, model or agent. Those skip the hour: with
    /// dozens of projects times dozens of tools, hour rows would hold about as many rows
    /// as there are events, and the views over them (profiles over 30 days, breakdowns)
    /// read days anyway. Their per-project rows also skip the month (a month of one
    /// project is 31 day rows per key); the all-projects rows keep it, so questions
    /// over everything read one row per key and month.
    fn keyed_by_dimension(self) -> bool {
        matches!(
            self,
            Family::ExecutionsByModel
                | Family::ExecutionsByTool
                | Family::ExecutionsByAgent
                | Family::RunsByModel
        )
    }

    /// The resolutions this family is rolled up at, for one project's rows or for the
    /// all-projects rows.
    pub fn resolutions(self, all_projects: bool) -> &'static [Resolution] {
        if self == Family::Events {
            return &[Resolution::Month];
        }
        match (self.keyed_by_dimension(), all_projects) {
            (true, true) => &[Resolution::Day, Resolution::Month],
            (true, false) => &[Resolution::Day],
            (false, _) => &Resolution::ALL,
        }
    }

    /// The finest resolution rolled up: ranges are widened to whole periods of it.
    pub fn finest(self) -> Resolution {
        self.resolutions(true)[0]
    }

    /// The coarsest resolution rolled up for one project's rows or the all-projects rows.
    pub fn coarsest(self, all_projects: bool) -> Resolution {
        let resolutions = self.resolutions(all_projects);
        resolutions[resolutions.len() - 1]
    }
}

/// How runs are keyed in [`Family::Runs`]: QA status code times 4 plus the mode class.
pub fn run_key(qa_code: u8, mode: RunMode) -> i64 {
    i64::from(qa_code) * 4 + mode as i64
}

/// The run modes the seed counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RunMode {
    Other = 0,
    TwoLoop = 1,
    ThreeLoop = 2,
}

impl RunMode {
    pub fn of(mode: Option<&str>) -> RunMode {
        match mode {
            Some("2loop") => RunMode::TwoLoop,
            Some("3loop") => RunMode::ThreeLoop,
            _ => RunMode::Other,
        }
    }

    /// The QA status code and mode of a [`Family::Runs`] key.
    pub fn split_key(key: i64) -> (u8, RunMode) {
        let mode = match key % 4 {
            1 => RunMode::TwoLoop,
            2 => RunMode::ThreeLoop,
            _ => RunMode::Other,
        };
        (u8::try_from(key / 4).unwrap_or(u8::MAX), mode)
    }
}

/// The length of a rollup row's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Resolution {
    Hour = 0,
    Day = 1,
    Month = 2,
}

impl Resolution {
    pub const ALL: [Resolution; 3] = [Resolution::Hour, Resolution::Day, Resolution::Month];

    /// The start (epoch seconds, UTC) of the period that contains `ts_ms`.
    pub fn bucket(self, ts_ms: i64) -> i64 {
        let seconds = ts_ms.div_euclid(1000);
        match self {
            Resolution::Hour => seconds - seconds.rem_euclid(3600),
            Resolution::Day => seconds - seconds.rem_euclid(86_400),
            Resolution::Month => {
                // The day's start less the days into its month: one date conversion,
                // not two, as every event of a family keyed by month comes through here.
                let day = seconds.div_euclid(86_400);
                let date = DateTime::from_timestamp(day * 86_400, 0).unwrap_or_default();
                (day - i64::from(date.day0())) * 86_400
            }
        }
    }

    /// The start of the period after the one starting at `bucket`.
    pub fn next(self, bucket: i64) -> i64 {
        match self {
            Resolution::Hour => bucket + 3600,
            Resolution::Day => bucket + 86_400,
            Resolution::Month => {
                let start = DateTime::from_timestamp(bucket, 0).unwrap_or_default();
                let (year, month) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                month_start(year, month)
            }
        }
    }
}

fn month_start(year: i32, month: u32) -> i64 {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp())
}

/// A dimension along which execution failures are broken down for risk analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Facet {
    /// Hour of day (UTC), 0..=23.
    HourOfDay = 0,
    /// Model dictionary code (0 = none).
    Model = 1,
    /// Effort code + 1 (0 = not given).
    Effort = 2,
    /// 1 when a browser was used.
    BrowserUsed = 3,
    /// Error class dictionary code; failures only.
    ErrorClass = 4,
}

impl Facet {
    pub fn from_code(code: u8) -> Option<Facet> {
        Some(match code {
            0 => Facet::HourOfDay,
            1 => Facet::Model,
            2 => Facet::Effort,
            3 => Facet::BrowserUsed,
            4 => Facet::ErrorClass,
            _ => return None,
        })
    }
}

/// One facet cell: `((facet, value), (executions, failures))`.
pub type FacetCell = ((Facet, i64), (u64, u64));

/// Executions and failures per facet value: where a tool's failures concentrate.
///
/// The cells are a vector sorted by `(facet, value)`, one per key: a tool's day holds
/// a few dozen, which the write path merges row into row and encodes in order, both in
/// one pass. [`Facets::add`], called five times per execution while a batch is folded,
/// finds its cell by binary search, so a batch's delta reaches the writer with one cell
/// per key (appending and sorting there instead cost the writer, the busier thread, a
/// search per appended cell).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    /// Sorted by key, one cell per key.
    cells: Vec<FacetCell>,
}

impl Facets {
    /// Counts one execution (and whether it failed) under a facet value, in place.
    pub fn add(&mut self, facet: Facet, value: i64, failed: bool) {
        self.add_counts((facet, value), 1, u64::from(failed));
    }

    /// Adds counts to the cell of `key`.
    fn add_counts(&mut self, key: (Facet, i64), n: u64, failures: u64) {
        match self.cells.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(at) => {
                let cell = &mut self.cells[at].1;
                cell.0 += n;
                cell.1 += failures;
            }
            Err(at) => self.cells.insert(at, (key, (n, failures))),
        }
    }

    pub fn merge(&mut self, other: &Facets) {
        // Both sides are sorted: when `other` only holds keys already here (the usual
        // case for a row that has seen a day of its tool), one pass adds it in place.
        let mut at = 0;
        for (i, &(key, (n, failures))) in other.cells.iter().enumerate() {
            while at < self.cells.len() && self.cells[at].0 < key {
                at += 1;
            }
            match self.cells.get_mut(at) {
                Some((held, cell)) if *held == key => {
                    cell.0 += n;
                    cell.1 += failures;
                }
                _ => {
                    for &(key, (n, failures)) in &other.cells[i..] {
                        self.add_counts(key, n, failures);
                    }
                    return;
                }
            }
        }
    }

    /// Merges `other` with each value replaced by `map(facet, value)`.
    pub fn merge_mapped(&mut self, other: &Facets, map: impl Fn(Facet, i64) -> i64) {
        for &((facet, value), (n, failures)) in &other.cells {
            self.add_counts((facet, map(facet, value)), n, failures);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Forgets every cell, keeping the memory.
    pub fn clear(&mut self) {
        self.cells.clear();
    }

    /// The executions and failures of one facet value.
    #[cfg(test)]
    pub fn get(&self, facet: Facet, value: i64) -> Option<(u64, u64)> {
        let at = self
            .cells
            .binary_search_by_key(&(facet, value), |(k, _)| *k)
            .ok()?;
        Some(self.cells[at].1)
    }

    /// The cells in `(facet, value)` order.
    pub fn sorted(&self) -> &[FacetCell] {
        &self.cells
    }

    /// Varint triples `(facet, zigzag value, executions, failures)` after a count.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends [`Facets::encode`]'s bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let cells = &self.cells;
        out.reserve(1 + cells.len() * 6);
        varint::put(out, cells.len() as u64);
        for &((facet, value), (n, failures)) in cells.iter() {
            out.push(facet as u8);
            varint::put(out, varint::zigzag(value));
            varint::put(out, n);
            varint::put(out, failures);
        }
    }

    /// Merges encoded facets into these.
    ///
    /// # Errors
    /// The bytes are not encoded facets; then these facets are unchanged.
    pub fn merge_encoded(&mut self, mut bytes: &[u8]) -> Result<(), &'static str> {
        let len = varint::take(&mut bytes)?;
        let mut decoded = Facets {
            cells: Vec::with_capacity(len.min(4096) as usize),
        };
        for _ in 0..len {
            let (&code, rest) = bytes.split_first().ok_or("truncated facets")?;
            bytes = rest;
            let facet = Facet::from_code(code).ok_or("unknown facet")?;
            let value = varint::unzigzag(varint::take(&mut bytes)?);
            let (n, failures) = (varint::take(&mut bytes)?, varint::take(&mut bytes)?);
            decoded.cells.push(((facet, value), (n, failures)));
        }
        if !bytes.is_empty() {
            return Err("trailing bytes after facets");
        }
        // Written in order with one cell per key; anything else is refused rather
        // than trusted.
        if !decoded.cells.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            return Err("facets out of order");
        }
        if self.cells.is_empty() {
            *self = decoded;
        } else {
            self.merge(&decoded);
        }
        Ok(())
    }
}

/// LEB128 varints and zigzag, the integer encoding of the rollup and block codecs.
pub mod varint {
    pub fn zigzag(n: i64) -> u64 {
        ((n << 1) ^ (n >> 63)) as u64
    }

    pub fn unzigzag(n: u64) -> i64 {
        ((n >> 1) as i64) ^ -((n & 1) as i64)
    }

    pub fn put(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// [`zigzag`] for 128-bit sums; equal to it on every `i64`, so values written
    /// 64-bit read back the same.
    pub fn zigzag_wide(n: i128) -> u128 {
        ((n << 1) ^ (n >> 127)) as u128
    }

    pub fn unzigzag_wide(n: u128) -> i128 {
        ((n >> 1) as i128) ^ -((n & 1) as i128)
    }

    /// [`put`] for 128-bit sums: the same LEB128 bytes for any value below 2^64.
    pub fn put_wide(out: &mut Vec<u8>, mut n: u128) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    pub fn take_wide(bytes: &mut &[u8]) -> Result<u128, &'static str> {
        let mut n: u128 = 0;
        for shift in (0..128).step_by(7) {
            let (&byte, rest) = bytes.split_first().ok_or("truncated varint")?;
            *bytes = rest;
            n |= u128::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(n);
            }
        }
        Err("varint too long")
    }

    pub fn take(bytes: &mut &[u8]) -> Result<u64, &'static str> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first().ok_or("truncated varint")?;
            *bytes = rest;
            n |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(n);
            }
        }
        Err("varint too long")
    }
}

/// The measures of one rollup row. Every field merges by addition (or max, for
/// `last_ts`), so rows of any split of the input add up to the same figures.
///
/// Token, money and duration sums are 128-bit: with each record's values bounded
/// (`tally_models::bounds`), no number of records can make them wrap, so plain `+` is
/// exact. The counts stay 64-bit: each record adds at most one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measures {
    /// Events counted.
    pub n: u64,
    /// Successes: executions that succeeded, requests answered below status 500; 0 for
    /// the other families.
    pub ok: u64,
    pub input_tokens: u128,
    pub output_tokens: u128,
    pub cache_read_tokens: u128,
    pub cache_write_tokens: u128,
    pub reasoning_tokens: u128,
    /// Cost in billionths of a dollar, reported and computed.
    pub cost_nusd: i128,
    /// The part of `cost_nusd` tally computed from its price table.
    pub computed_cost_nusd: i128,
    /// Sum of durations in microseconds.
    pub duration_us: i128,
    /// The latest event time (epoch ms).
    pub last_ts: i64,
    /// Durations or latencies in milliseconds.
    pub latency: LatencySketch,
    pub facets: Facets,
}

impl Measures {
    /// Zeroes every measure, keeping the sketch's and the facets' memory for reuse.
    pub fn clear(&mut self) {
        let mut latency = std::mem::take(&mut self.latency);
        let mut facets = std::mem::take(&mut self.facets);
        latency.clear();
        facets.clear();
        *self = Measures {
            latency,
            facets,
            ..Measures::default()
        };
    }

    pub fn merge(&mut self, other: &Measures) {
        self.merge_sums(other);
        self.facets.merge(&other.facets);
    }

    /// Merges everything but the facets.
    pub fn merge_sums(&mut self, other: &Measures) {
        self.n += other.n;
        self.ok += other.ok;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.cost_nusd += other.cost_nusd;
        self.computed_cost_nusd += other.computed_cost_nusd;
        self.duration_us += other.duration_us;
        self.last_ts = self.last_ts.max(other.last_ts);
        self.latency.merge(&other.latency);
    }

    /// Input plus output tokens (cached and reasoning tokens are inside these).
    pub fn tokens(&self) -> u128 {
        self.input_tokens + self.output_tokens
    }
}

/// Which rollup rows a question reads. `from` is inclusive, `to` exclusive; both are
/// widened to whole periods of the family's finest resolution (a partial hour, or day
/// for day-resolution families, counts whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupQuery<'a> {
    pub family: Family,
    pub projects: ProjectScope<'a>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `Some`: rows no coarser than this, to group by period; `None`: the coarsest
    /// rows that cover the range.
    pub by: Option<Resolution>,
}

/// Which projects' rows a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectScope<'a> {
    /// Every project together (the overall rows).
    All,
    /// One project.
    One(&'a str),
    /// Each project apart, every row naming its project.
    Each,
}

impl<'a> ProjectScope<'a> {
    /// One project when named, else all together.
    pub fn from_option(project: Option<&'a str>) -> Self {
        project.map_or(ProjectScope::All, ProjectScope::One)
    }
}

/// One rollup row as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    /// The row's project, when the query read [`ProjectScope::Each`].
    pub project: Option<String>,
    pub resolution: Resolution,
    /// Start of the row's period, epoch seconds UTC.
    pub bucket: i64,
    /// The key's code (dictionary code or enum code, see [`Family`]).
    pub key: i64,
    /// The key's dictionary value, for families keyed by a dictionary dimension.
    pub name: Option<String>,
    pub measures: Measures,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        let t = Utc
            .with_ymd_and_hms(2026, 12, 31, 23, 59, 59)
            .unwrap()
            .timestamp_millis();
        let hour = Utc
            .with_ymd_and_hms(2026, 12, 31, 23, 0, 0)
            .unwrap()
            .timestamp();
        let day = Utc
            .with_ymd_and_hms(2026, 12, 31, 0, 0, 0)
            .unwrap()
            .timestamp();
        let month = Utc
            .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let next_month = Utc
            .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(Resolution::Hour.bucket(t), hour);
        assert_eq!(Resolution::Day.bucket(t), day);
        assert_eq!(Resolution::Month.bucket(t), month);
        assert_eq!(Resolution::Month.next(month), next_month);
        assert_eq!(Resolution::Day.next(day), next_month);
    }

    proptest::proptest! {
        /// The month bucket is the first of the month, as the calendar says, for any
        /// instant from 1900 to 2200.
        #[test]
        fn month_buckets_start_the_calendar_month(ts_ms in -2_208_988_800_000i64..7_258_118_400_000) {
            let at = DateTime::from_timestamp_millis(ts_ms).unwrap();
            proptest::prop_assert_eq!(
                Resolution::Month.bucket(ts_ms),
                month_start(at.year(), at.month())
            );
        }
    }

    #[test]
    fn facets_round_trip_and_merge() {
        let mut a = Facets::default();
        a.add(Facet::HourOfDay, 13, true);
        a.add(Facet::Model, -1, false);
        let mut b = Facets::default();
        b.add(Facet::HourOfDay, 13, false);
        let mut merged = b.clone();
        merged.merge_encoded(&a.encode()).unwrap();
        a.merge(&b);
        assert_eq!(merged, a);
        assert_eq!(a.get(Facet::HourOfDay, 13), Some((2, 1)));
        assert!(Facets::default().merge_encoded(&[1, 9]).is_err());
    }

    /// Cells as `(facet code, value, failed)`: few distinct keys, so merges meet both
    /// shared and new ones.
    fn cells() -> impl proptest::strategy::Strategy<Value = Vec<(u8, i64, bool)>> {
        use proptest::prelude::*;
        prop::collection::vec((0u8..5, -3i64..12, any::<bool>()), 0..40)
    }

    fn facets_of(cells: &[(u8, i64, bool)]) -> Facets {
        let mut facets = Facets::default();
        for &(code, value, failed) in cells {
            facets.add(Facet::from_code(code).unwrap(), value, failed);
        }
        facets
    }

    proptest::proptest! {
        /// Adding, merging and decoding agree with a plain ordered map of the cells,
        /// whatever the split of the cells between the two sides.
        #[test]
        fn facets_agree_with_an_ordered_map(a in cells(), b in cells()) {
            let mut model = std::collections::BTreeMap::<(Facet, i64), (u64, u64)>::new();
            for &(code, value, failed) in a.iter().chain(&b) {
                let cell = model.entry((Facet::from_code(code).unwrap(), value)).or_default();
                cell.0 += 1;
                cell.1 += u64::from(failed);
            }
            let expected: Vec<_> = model.into_iter().collect();
            let mut merged = facets_of(&a);
            merged.merge(&facets_of(&b));
            proptest::prop_assert_eq!(merged.sorted(), &expected[..]);
            let mut decoded = facets_of(&b);
            decoded.merge_encoded(&facets_of(&a).encode()).unwrap();
            proptest::prop_assert_eq!(decoded.sorted(), &expected[..]);
            let mut mapped = facets_of(&a);
            mapped.merge_mapped(&facets_of(&b), |_, value| value);
            proptest::prop_assert_eq!(mapped.sorted(), &expected[..]);
            proptest::prop_assert_eq!(&merged, &mapped);
        }
    }

    #[test]
    fn stored_facets_out_of_order_are_refused() {
        let mut later_first = Facets::default();
        later_first.add(Facet::Model, 7, false);
        let mut bytes = later_first.encode();
        let mut earlier = Facets::default();
        earlier.add(Facet::HourOfDay, 3, true);
        // Two cells, the later key first: the count byte, then both cells.
        bytes[0] = 2;
        bytes.extend_from_slice(&earlier.encode()[1..]);
        let mut into = Facets::default();
        assert_eq!(into.merge_encoded(&bytes), Err("facets out of order"));
        assert!(into.is_empty());
        let mut twice = later_first.encode();
        twice[0] = 2;
        twice.extend_from_slice(&later_first.encode()[1..]);
        assert_eq!(into.merge_encoded(&twice), Err("facets out of order"));
    }

    #[test]
    fn run_keys_split_back() {
        for qa in 0..5 {
            for mode in [RunMode::Other, RunMode::TwoLoop, RunMode::ThreeLoop] {
                assert_eq!(RunMode::split_key(run_key(qa, mode)), (qa, mode));
            }
        }
    }
}
