//! `LatencySketch`: a mergeable quantile sketch with 1 % relative error (DDSketch).
//!
//! Written here rather than taken from a crate because rollup rows hold many thousands
//! of sketches: what matters is a compact, sparse binary encoding that merges exactly
//! and decodes fast, which the published DDSketch crates (dense bin stores, serde
//! only) do not offer. The algorithm is Masson, Rim and Lee, "DDSketch" (VLDB 2019):
//! a value `v > 0` falls in bin `ceil(log_γ v)` with `γ = (1 + α) / (1 − α)`, and the
//! bin answers `2γ^i / (γ + 1)`, within `α` of every value in it.

/// The relative accuracy of every quantile: 1 %.
pub const SKETCH_RELATIVE_ACCURACY: f64 = 0.01;

/// Values at or below this (in the unit the caller uses, e.g. milliseconds) are counted
/// as zero. A microsecond when values are milliseconds.
const MIN_INDEXABLE: f64 = 1e-3;

/// The format byte that starts an encoded sketch.
const ENCODING_V1: u8 = 1;

/// A mergeable sketch of non-negative values answering quantiles within 1 % of the
/// true value (for the rank `floor(q · (n − 1))` of the sorted values).
///
/// A sketch of a few values (a batch's share of one rollup row, typically a handful)
/// keeps its bins as a short sorted list; one that outgrows [`SPARSE_MAX_BINS`] holds
/// them densely (`counts[i]` is bin `offset + i`), so adding and merging touch plain
/// slices. Dense bins span every index between the lowest and highest value: for a
/// few values far apart that was kilobytes of zeros, allocated, merged and freed per
/// row of every batch. The encoding is sparse either way.
#[derive(Debug, Clone, Default)]
pub struct LatencySketch {
    zeros: u64,
    count: u64,
    bins: Bins,
}

/// The most non-empty bins a sketch keeps as a sorted list before it turns dense.
const SPARSE_MAX_BINS: usize = 24;

#[derive(Debug, Clone)]
enum Bins {
    /// `(index, count)` of each non-empty bin, by index.
    Sparse(Vec<(i32, u64)>),
    /// `counts[i]` is bin `offset + i`; empty holds nothing.
    Dense { offset: i32, counts: Vec<u64> },
}

impl Default for Bins {
    fn default() -> Self {
        Bins::Sparse(Vec::new())
    }
}

impl PartialEq for LatencySketch {
    fn eq(&self, other: &Self) -> bool {
        self.zeros == other.zeros && self.count == other.count && self.bins().eq(other.bins())
    }
}

impl Eq for LatencySketch {}

fn gamma() -> f64 {
    (1.0 + SKETCH_RELATIVE_ACCURACY) / (1.0 - SKETCH_RELATIVE_ACCURACY)
}

/// `ln γ`, written out: `f64::ln` is not `const`, and computing it per value was a
/// second logarithm for every value added (a test checks it equals `gamma().ln()`).
const LN_GAMMA: f64 = 0.020_000_666_706_669_435;

fn bin_of(value: f64) -> i32 {
    // ceil(ln v / ln γ); values are bounded (finite f64), so the index fits an i32.
    (value.ln() / LN_GAMMA).ceil() as i32
}

/// A value placed in its bin once, to be added to several sketches (an execution's
/// duration goes into its overall, its tool's and its minute's sketch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SketchValue(Option<i32>);

impl SketchValue {
    /// Negative and NaN values count as zero.
    pub fn new(value: f64) -> Self {
        SketchValue(if value > MIN_INDEXABLE && value.is_finite() {
            Some(bin_of(value))
        } else if value.is_infinite() && value > 0.0 {
            Some(bin_of(f64::MAX))
        } else {
            None
        })
    }
}

fn value_of(bin: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(bin) / (g + 1.0)
}

/// Why an encoded sketch could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt latency sketch: {0}")]
pub struct SketchDecodeError(&'static str);

impl LatencySketch {
    pub fn new() -> Self {
        LatencySketch::default()
    }

    /// Empties the sketch, keeping its memory for reuse.
    pub fn clear(&mut self) {
        self.zeros = 0;
        self.count = 0;
        match &mut self.bins {
            Bins::Sparse(bins) => bins.clear(),
            Bins::Dense { offset, counts } => {
                *offset = 0;
                counts.clear();
            }
        }
    }

    /// The non-empty bins, by index.
    fn bins(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        let (sparse, dense): (&[(i32, u64)], _) = match &self.bins {
            Bins::Sparse(bins) => (bins, None),
            Bins::Dense { offset, counts } => (&[], Some((*offset, counts))),
        };
        let dense = dense.into_iter().flat_map(|(offset, counts)| {
            counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(move |(i, n)| (offset + i as i32, *n))
        });
        sparse.iter().copied().chain(dense)
    }

    /// Adds `n` to bin `bin`.
    fn add_to_bin(&mut self, bin: i32, n: u64) {
        if n == 0 {
            // A sparse list holds no empty bins.
            return;
        }
        match &mut self.bins {
            Bins::Sparse(bins) => match bins.binary_search_by_key(&bin, |&(i, _)| i) {
                Ok(at) => bins[at].1 += n,
                Err(at) if bins.len() < SPARSE_MAX_BINS => bins.insert(at, (bin, n)),
                Err(_) => {
                    self.make_dense(bin, bin);
                    self.add_to_bin(bin, n);
                }
            },
            Bins::Dense { offset, counts } => {
                cover(offset, counts, bin, bin);
                counts[(bin - *offset) as usize] += n;
            }
        }
    }

    /// Turns the bins dense, spanning at least `first..=last` besides the bins held.
    fn make_dense(&mut self, first: i32, last: i32) {
        let Bins::Sparse(held) = &self.bins else {
            return;
        };
        let (mut offset, mut counts) = (0, Vec::new());
        let low = held.first().map_or(first, |&(bin, _)| bin.min(first));
        let high = held.last().map_or(last, |&(bin, _)| bin.max(last));
        cover(&mut offset, &mut counts, low, high);
        for &(bin, n) in held {
            counts[(bin - offset) as usize] += n;
        }
        self.bins = Bins::Dense { offset, counts };
    }

    /// Adds one value. Negative and NaN values count as zero.
    pub fn add(&mut self, value: f64) {
        self.add_n(value, 1);
    }

    /// Adds `n` occurrences of a value.
    pub fn add_n(&mut self, value: f64, n: u64) {
        self.add_placed(SketchValue::new(value), n);
    }

    /// Adds `n` occurrences of a value already placed in its bin.
    pub fn add_placed(&mut self, value: SketchValue, n: u64) {
        if n == 0 {
            return;
        }
        self.count += n;
        match value.0 {
            Some(bin) => self.add_to_bin(bin, n),
            None => self.zeros += n,
        }
    }

    /// Adds every value of `other` to this sketch; the result equals the sketch of the
    /// union of both inputs, whatever the order of merges.
    pub fn merge(&mut self, other: &LatencySketch) {
        self.count += other.count;
        self.zeros += other.zeros;
        match &other.bins {
            Bins::Sparse(bins) => {
                for &(bin, n) in bins {
                    self.add_to_bin(bin, n);
                }
            }
            Bins::Dense {
                offset: other_offset,
                counts: other_counts,
            } => {
                if other_counts.is_empty() {
                    return;
                }
                let last = other_offset + other_counts.len() as i32 - 1;
                self.make_dense(*other_offset, last);
                if let Bins::Dense { offset, counts } = &mut self.bins {
                    cover(offset, counts, *other_offset, last);
                    let start = (other_offset - *offset) as usize;
                    for (into, n) in counts[start..].iter_mut().zip(other_counts) {
                        *into += n;
                    }
                }
            }
        }
    }

    /// How many values the sketch holds.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `q`-quantile (`q` in [0, 1]), `None` when the sketch is empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        // The rank the estimate is accurate for: floor(q (n - 1)), 0-based.
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        if rank < self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        let mut last = None;
        for (bin, n) in self.bins() {
            seen += n;
            last = Some(bin);
            if seen > rank {
                return Some(value_of(bin));
            }
        }
        last.map(value_of)
    }

    /// The sketch as bytes: a format byte, the count of zeros, the number of non-empty
    /// bins, then each bin as (gap to the previous index, count), all LEB128 varints
    /// (zigzag for the first index). Dozens of bytes for a typical hour of latencies.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends [`LatencySketch::encode`]'s bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let bins = self.bins().count();
        out.reserve(12 + bins * 3);
        out.push(ENCODING_V1);
        put_varint(out, self.zeros);
        put_varint(out, bins as u64);
        let mut previous: Option<i32> = None;
        for (bin, n) in self.bins() {
            match previous {
                None => put_varint(out, zigzag(bin)),
                Some(p) => put_varint(out, (bin - p) as u64),
            }
            put_varint(out, n);
            previous = Some(bin);
        }
    }

    /// Reads a sketch written by [`LatencySketch::encode`].
    ///
    /// # Errors
    /// The bytes are not an encoded sketch.
    pub fn decode(bytes: &[u8]) -> Result<LatencySketch, SketchDecodeError> {
        let mut sketch = LatencySketch::default();
        sketch.merge_encoded(bytes)?;
        Ok(sketch)
    }

    /// Merges an encoded sketch into this one without building it first.
    ///
    /// # Errors
    /// The bytes are not an encoded sketch; then this sketch is unchanged.
    pub fn merge_encoded(&mut self, bytes: &[u8]) -> Result<(), SketchDecodeError> {
        let (&format, mut rest) = bytes.split_first().ok_or(SketchDecodeError("empty"))?;
        if format != ENCODING_V1 {
            return Err(SketchDecodeError("unknown format"));
        }
        let zeros = take_varint(&mut rest)?;
        let len = take_varint(&mut rest)?;
        // Read everything before changing anything, so a corrupt blob changes nothing.
        let mut bins = Vec::with_capacity(len.min(4096) as usize);
        let mut previous: Option<i64> = None;
        for _ in 0..len {
            let raw = take_varint(&mut rest)?;
            let bin = match previous {
                None => unzigzag(raw),
                Some(p) => p + i64::try_from(raw).map_err(|_| SketchDecodeError("bin gap"))?,
            };
            let bin32 = i32::try_from(bin).map_err(|_| SketchDecodeError("bin index"))?;
            bins.push((bin32, take_varint(&mut rest)?));
            previous = Some(bin);
        }
        if !rest.is_empty() {
            return Err(SketchDecodeError("trailing bytes"));
        }
        self.zeros += zeros;
        self.count += zeros;
        if bins.len() > SPARSE_MAX_BINS {
            if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
                self.make_dense(first.0, last.0);
            }
        }
        for (bin, n) in bins {
            self.add_to_bin(bin, n);
            self.count += n;
        }
        Ok(())
    }
}

/// Grows the dense bins `counts` (bin `offset + i` at `i`), in one step, to hold bins
/// `first..=last`.
fn cover(offset: &mut i32, counts: &mut Vec<u64>, first: i32, last: i32) {
    if counts.is_empty() {
        *offset = first;
        counts.resize((last - first) as usize + 1, 0);
        return;
    }
    let end = *offset + counts.len() as i32;
    if first < *offset {
        let mut grown = vec![0; (end.max(last + 1) - first) as usize];
        let at = (*offset - first) as usize;
        grown[at..at + counts.len()].copy_from_slice(counts);
        *counts = grown;
        *offset = first;
    } else if last >= end {
        counts.resize((last - *offset) as usize + 1, 0);
    }
}

fn zigzag(n: i32) -> u64 {
    u64::from(((n << 1) ^ (n >> 31)) as u32)
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Result<u64, SketchDecodeError> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or(SketchDecodeError("truncated"))?;
        *bytes = rest;
        n |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(n);
        }
    }
    Err(SketchDecodeError("varint too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(sorted: &[f64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
    }

    fn check_accuracy(values: &[f64]) {
        let mut sketch = LatencySketch::new();
        for &v in values {
            sketch.add(v);
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let want = exact(&sorted, q);
            let got = sketch.quantile(q).unwrap();
            if want <= MIN_INDEXABLE {
                assert_eq!(got, 0.0, "q={q}");
            } else {
                let error = (got - want).abs() / want;
                assert!(
                    error <= SKETCH_RELATIVE_ACCURACY + 1e-12,
                    "q={q} want {want} got {got}"
                );
            }
        }
    }

    #[test]
    fn ln_gamma_is_the_log_of_gamma() {
        assert_eq!(LN_GAMMA, gamma().ln());
    }

    #[test]
    fn empty_sketch_has_no_quantile() {
        assert_eq!(LatencySketch::new().quantile(0.5), None);
        assert_eq!(
            LatencySketch::decode(&LatencySketch::new().encode())
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn zeros_and_tiny_values_answer_zero() {
        check_accuracy(&[0.0, 0.0, 0.0005, 3.0]);
    }

    #[test]
    fn corrupt_bytes_are_an_error() {
        for bytes in [
            &[][..],
            &[9][..],
            &[1, 0x80][..],
            &[1, 0, 1, 4][..],
            &[1, 0, 0, 7][..],
        ] {
            assert!(LatencySketch::decode(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn a_stored_bin_of_count_zero_is_no_bin() {
        // Format, no zeros, two bins: bin 5 holding 0, then bin 6 holding 3.
        let sketch = LatencySketch::decode(&[1, 0, 2, 10, 0, 1, 3]).unwrap();
        let mut expected = LatencySketch::new();
        expected.add_to_bin(6, 3);
        expected.count = 3;
        assert_eq!(sketch, expected);
        assert_eq!(sketch.encode(), expected.encode());
        assert_eq!(LatencySketch::decode(&sketch.encode()).unwrap(), sketch);
    }

    proptest! {
        #[test]
        fn quantiles_within_relative_accuracy(values in prop::collection::vec(0.0f64..1e7, 1..400)) {
            check_accuracy(&values);
        }

        /// Sketches of few and of many values, merged either way round and through
        /// their encoding, hold the same bins as one sketch of all the values.
        #[test]
        fn sparse_and_dense_bins_merge_alike(
            a in prop::collection::vec(0.0f64..1e5, 0..(3 * SPARSE_MAX_BINS)),
            b in prop::collection::vec(0.0f64..1e5, 0..(3 * SPARSE_MAX_BINS)),
        ) {
            let sketch = |values: &[f64]| {
                let mut s = LatencySketch::new();
                values.iter().for_each(|&v| s.add(v));
                s
            };
            let union: Vec<f64> = a.iter().chain(&b).copied().collect();
            let (left, right, all) = (sketch(&a), sketch(&b), sketch(&union));
            for (into, from) in [(&left, &right), (&right, &left)] {
                let mut merged = into.clone();
                merged.merge(from);
                prop_assert_eq!(&merged, &all);
                let mut decoded = into.clone();
                decoded.merge_encoded(&from.encode()).unwrap();
                prop_assert_eq!(&decoded, &all);
            }
            prop_assert_eq!(all.encode(), LatencySketch::decode(&all.encode()).unwrap().encode());
            for q in [0.0, 0.5, 0.99, 1.0] {
                prop_assert_eq!(all.quantile(q), LatencySketch::decode(&all.encode()).unwrap().quantile(q));
            }
        }

        #[test]
        fn merge_equals_sketch_of_union(a in prop::collection::vec(0.0f64..1e6, 0..100), b in prop::collection::vec(0.0f64..1e6, 0..100)) {
            let mut left = LatencySketch::new();
            a.iter().for_each(|&v| left.add(v));
            let mut right = LatencySketch::new();
            b.iter().for_each(|&v| right.add(v));
            let mut union = LatencySketch::new();
            a.iter().chain(&b).for_each(|&v| union.add(v));
            let mut merged = left.clone();
            merged.merge_encoded(&right.encode()).unwrap();
            prop_assert_eq!(&merged, &union);
            left.merge(&right);
            prop_assert_eq!(&left, &union);
            prop_assert_eq!(LatencySketch::decode(&union.encode()).unwrap(), union);
        }
    }
}
