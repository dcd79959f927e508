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
/// Bins are held densely (`counts[i]` is bin `offset + i`), so adding, merging and
/// decoding touch plain slices; the encoding is sparse.
#[derive(Debug, Clone, Default)]
pub struct LatencySketch {
    zeros: u64,
    offset: i32,
    counts: Vec<u64>,
    count: u64,
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

fn bin_of(value: f64) -> i32 {
    // ceil(ln v / ln γ); values are bounded (finite f64), so the index fits an i32.
    (value.ln() / gamma().ln()).ceil() as i32
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
        self.offset = 0;
        self.counts.clear();
        self.count = 0;
    }

    /// The non-empty bins, by index.
    fn bins(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (self.offset + i as i32, *n))
    }

    /// The slot of `bin`, growing the dense range to hold it.
    fn slot(&mut self, bin: i32) -> &mut u64 {
        self.cover(bin, bin);
        &mut self.counts[(bin - self.offset) as usize]
    }

    /// Adds one value. Negative and NaN values count as zero.
    pub fn add(&mut self, value: f64) {
        self.add_n(value, 1);
    }

    /// Adds `n` occurrences of a value.
    pub fn add_n(&mut self, value: f64, n: u64) {
        if n == 0 {
            return;
        }
        self.count += n;
        if value > MIN_INDEXABLE && value.is_finite() {
            *self.slot(bin_of(value)) += n;
        } else if value.is_infinite() && value > 0.0 {
            *self.slot(bin_of(f64::MAX)) += n;
        } else {
            self.zeros += n;
        }
    }

    /// Adds every value of `other` to this sketch; the result equals the sketch of the
    /// union of both inputs, whatever the order of merges.
    pub fn merge(&mut self, other: &LatencySketch) {
        self.count += other.count;
        self.zeros += other.zeros;
        if other.counts.is_empty() {
            return;
        }
        let last = other.offset + other.counts.len() as i32 - 1;
        self.cover(other.offset, last);
        let start = (other.offset - self.offset) as usize;
        for (into, n) in self.counts[start..].iter_mut().zip(&other.counts) {
            *into += n;
        }
    }

    /// Grows the dense range, in one step, to hold bins `first..=last`.
    fn cover(&mut self, first: i32, last: i32) {
        if self.counts.is_empty() {
            self.offset = first;
            self.counts.resize((last - first) as usize + 1, 0);
            return;
        }
        let end = self.offset + self.counts.len() as i32;
        if first < self.offset {
            let mut grown = vec![0; (end.max(last + 1) - first) as usize];
            let at = (self.offset - first) as usize;
            grown[at..at + self.counts.len()].copy_from_slice(&self.counts);
            self.counts = grown;
            self.offset = first;
        } else if last >= end {
            self.counts.resize((last - self.offset) as usize + 1, 0);
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
        let bins = self.counts.iter().filter(|n| **n > 0).count();
        let mut out = Vec::with_capacity(12 + bins * 3);
        out.push(ENCODING_V1);
        put_varint(&mut out, self.zeros);
        put_varint(&mut out, bins as u64);
        let mut previous: Option<usize> = None;
        for (i, &n) in self.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            match previous {
                None => put_varint(&mut out, zigzag(self.offset + i as i32)),
                Some(p) => put_varint(&mut out, (i - p) as u64),
            }
            put_varint(&mut out, n);
            previous = Some(i);
        }
        out
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
        if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
            self.cover(first.0, last.0);
        }
        for (bin, n) in bins {
            self.counts[(bin - self.offset) as usize] += n;
            self.count += n;
        }
        Ok(())
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

    proptest! {
        #[test]
        fn quantiles_within_relative_accuracy(values in prop::collection::vec(0.0f64..1e7, 1..400)) {
            check_accuracy(&values);
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
