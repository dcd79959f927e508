//! Quantisation of the training matrix: every feature once into at most [`MAX_BINS`]
//! ordered bins, so that a node's split search is a histogram pass instead of a sort.
//!
//! A feature with at most `MAX_BINS` distinct values (the integer features: hour, day,
//! phase, counts) gets one bin per value, which makes its splits exact. A feature with
//! more gets quantile bins: distinct values are grouped in order so each bin holds about
//! `rows / MAX_BINS` rows (a value is never split across bins). Each bin's upper edge is
//! the midpoint between its largest value and the next bin's smallest (as scikit-learn
//! places thresholds), so a tree stores real-valued thresholds and predicts on raw floats:
//! `x <= edge` is exactly "in this bin or a lower one" for every training value.

use ndarray::ArrayView2;

/// The most bins a feature is cut into (bin codes are one byte).
pub(crate) const MAX_BINS: usize = 256;

/// The training matrix as bin codes, column by column, with each feature's bin edges.
#[derive(Debug)]
pub(crate) struct Binned {
    /// `codes[feature * rows + row]`.
    codes: Vec<u8>,
    rows: usize,
    /// Per feature, the upper edge of every bin but the last: value `x` falls in bin `b`
    /// when `edges[b - 1] < x <= edges[b]`.
    edges: Vec<Vec<f64>>,
}

impl Binned {
    /// Quantises `x` (rows × features). Every value must be finite (checked by the caller).
    pub(crate) fn new(x: &ArrayView2<'_, f64>) -> Binned {
        let (rows, features) = x.dim();
        let mut codes = vec![0u8; rows * features];
        let mut edges = Vec::with_capacity(features);
        let mut sorted = Vec::with_capacity(rows);
        for (feature, column) in x.columns().into_iter().enumerate() {
            sorted.clear();
            sorted.extend(column.iter().copied());
            sorted.sort_unstable_by(f64::total_cmp);
            let feature_edges = bin_edges(&sorted);
            let out = &mut codes[feature * rows..(feature + 1) * rows];
            for (code, &value) in out.iter_mut().zip(column.iter()) {
                *code = bin_of(&feature_edges, value);
            }
            edges.push(feature_edges);
        }
        Binned { codes, rows, edges }
    }

    /// The bin codes of `feature`, indexed by row.
    pub(crate) fn column(&self, feature: usize) -> &[u8] {
        &self.codes[feature * self.rows..(feature + 1) * self.rows]
    }

    /// How many features the matrix has.
    pub(crate) fn features(&self) -> usize {
        self.edges.len()
    }

    /// How many bins `feature` has.
    pub(crate) fn bins(&self, feature: usize) -> usize {
        self.edges[feature].len() + 1
    }

    /// The threshold that sends bins `0..=bin` left: the upper edge of `bin`.
    pub(crate) fn threshold(&self, feature: usize, bin: usize) -> f64 {
        self.edges[feature][bin]
    }
}

/// The bin of `value` given a feature's upper edges.
fn bin_of(edges: &[f64], value: f64) -> u8 {
    // At most MAX_BINS - 1 edges, so the position fits a byte.
    edges.partition_point(|&edge| edge < value) as u8
}

/// Upper edges of the bins of a sorted column (see the module documentation).
fn bin_edges(sorted: &[f64]) -> Vec<f64> {
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for &value in sorted {
        match distinct.last_mut() {
            Some((last, count)) if *last == value => *count += 1,
            _ => distinct.push((value, 1)),
        }
    }
    let mut edges = Vec::new();
    if distinct.len() <= MAX_BINS {
        for pair in distinct.windows(2) {
            edges.push(midpoint(pair[0].0, pair[1].0));
        }
        return edges;
    }
    let rows = sorted.len();
    let mut cumulative = 0usize;
    for (i, &(value, count)) in distinct.iter().enumerate() {
        cumulative += count;
        let Some(&(next, _)) = distinct.get(i + 1) else {
            break;
        };
        if edges.len() + 1 >= MAX_BINS {
            break;
        }
        // Close the bin once it reaches the next quantile of the rows.
        if cumulative * MAX_BINS >= (edges.len() + 1) * rows {
            edges.push(midpoint(value, next));
        }
    }
    edges
}

/// A threshold between two consecutive distinct values `low < high` that keeps `low` on
/// the left and `high` on the right, as scikit-learn computes it.
fn midpoint(low: f64, high: f64) -> f64 {
    let mid = low / 2.0 + high / 2.0;
    if mid >= high || !mid.is_finite() {
        low
    } else {
        mid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn few_distinct_values_are_binned_exactly() {
        let x = Array2::from_shape_vec((5, 1), vec![3.0, 1.0, 2.0, 1.0, 3.0]).unwrap();
        let binned = Binned::new(&x.view());
        assert_eq!(binned.bins(0), 3);
        assert_eq!(binned.column(0), &[2, 0, 1, 0, 2]);
        assert_eq!(binned.threshold(0, 0), 1.5);
        assert_eq!(binned.threshold(0, 1), 2.5);
    }

    #[test]
    fn many_distinct_values_get_quantile_bins_consistent_with_edges() {
        let values: Vec<f64> = (0..10_000)
            .map(|i| ((i * 7919) % 10_007) as f64 / 3.0)
            .collect();
        let x = Array2::from_shape_vec((values.len(), 1), values.clone()).unwrap();
        let binned = Binned::new(&x.view());
        assert_eq!(binned.bins(0), MAX_BINS);
        let mut per_bin = vec![0usize; MAX_BINS];
        for (&code, &value) in binned.column(0).iter().zip(&values) {
            let code = usize::from(code);
            per_bin[code] += 1;
            if code > 0 {
                assert!(value > binned.threshold(0, code - 1));
            }
            if code + 1 < MAX_BINS {
                assert!(value <= binned.threshold(0, code));
            }
        }
        let (least, most) = (per_bin.iter().min().unwrap(), per_bin.iter().max().unwrap());
        assert!(*least >= 30 && *most <= 50, "bins of {least}..{most} rows");
    }

    #[test]
    fn a_constant_feature_has_one_bin() {
        let x = Array2::from_elem((4, 1), 2.5);
        let binned = Binned::new(&x.view());
        assert_eq!(binned.bins(0), 1);
        assert_eq!(binned.column(0), &[0, 0, 0, 0]);
    }
}
