//! Quality of a probabilistic classifier on labelled data, computed as scikit-learn
//! computes them: ROC AUC (`roc_auc_score`), log loss (`log_loss`), Brier score
//! (`brier_score_loss`) and a reliability table (`calibration_curve`, uniform bins).
//! Each takes one label and one predicted P(class 1) per row.

use serde::Serialize;

/// Area under the ROC curve: the probability that a random positive row is scored above
/// a random negative one, ties counting one half (average ranks, the Mann-Whitney U).
/// `None` when the lengths differ or either class is absent.
pub fn roc_auc(y: &[bool], p: &[f64]) -> Option<f64> {
    if y.len() != p.len() {
        return None;
    }
    let positives = y.iter().filter(|&&label| label).count();
    let negatives = y.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_unstable_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Sum of the positives' ranks (1-based), tied scores sharing their average rank.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && p[order[end]] == p[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| y[i]).count();
        rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let positives = positives as f64;
    let u = rank_sum - positives * (positives + 1.0) / 2.0;
    Some(u / (positives * negatives as f64))
}

/// Mean negative log-likelihood, natural log, each row's probability of its own class
/// clipped to [ε, 1 − ε] with ε the f64 machine epsilon (scikit-learn ≥ 1.5).
/// `None` when the lengths differ or there are no rows.
pub fn log_loss(y: &[bool], p: &[f64]) -> Option<f64> {
    if y.len() != p.len() || y.is_empty() {
        return None;
    }
    let eps = f64::EPSILON;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&label, &p)| {
            let own = if label { p } else { 1.0 - p };
            -own.clamp(eps, 1.0 - eps).ln()
        })
        .sum();
    Some(total / y.len() as f64)
}

/// Mean squared difference between P(class 1) and the 0/1 label.
/// `None` when the lengths differ or there are no rows.
pub fn brier_score(y: &[bool], p: &[f64]) -> Option<f64> {
    if y.len() != p.len() || y.is_empty() {
        return None;
    }
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&label, &p)| (p - f64::from(u8::from(label))).powi(2))
        .sum();
    Some(total / y.len() as f64)
}

/// One row of a reliability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// The bin's range of predicted probabilities: `(lower, upper]` (the first also
    /// holds `lower`).
    pub lower: f64,
    pub upper: f64,
    /// Rows predicted in the bin.
    pub count: usize,
    /// Their mean predicted probability (`calibration_curve`'s `prob_pred`).
    pub mean_predicted: f64,
    /// Their fraction of positives (`prob_true`).
    pub observed_rate: f64,
}

/// Rows grouped by predicted probability into `bins` equal-width bins over [0, 1], as
/// `calibration_curve(strategy="uniform")` bins them (a probability on an inner edge
/// belongs to the lower bin); empty bins are left out, as scikit-learn leaves them out.
/// Empty when `bins` is 0, the lengths differ, or a probability is outside [0, 1].
pub fn calibration_table(y: &[bool], p: &[f64], bins: usize) -> Vec<CalibrationBin> {
    if bins == 0 || y.len() != p.len() || p.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Vec::new();
    }
    // numpy's linspace(0, 1, bins + 1): start + i * step, the last edge exactly 1.
    let step = 1.0 / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { 1.0 } else { i as f64 * step })
        .collect();
    let inner = &edges[1..bins];
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for (&label, &p) in y.iter().zip(p) {
        let bin = inner.partition_point(|&edge| edge < p);
        let entry = &mut sums[bin];
        entry.0 += 1;
        entry.1 += p;
        entry.2 += usize::from(label);
    }
    sums.iter()
        .enumerate()
        .filter(|(_, (count, _, _))| *count > 0)
        .map(|(bin, &(count, sum, positives))| CalibrationBin {
            lower: edges[bin],
            upper: edges[bin + 1],
            count,
            mean_predicted: sum / count as f64,
            observed_rate: positives as f64 / count as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_a_perfect_ranking_is_one_and_ties_count_half() {
        assert_eq!(
            roc_auc(&[false, false, true, true], &[0.1, 0.2, 0.3, 0.9]),
            Some(1.0)
        );
        assert_eq!(roc_auc(&[true, false], &[0.5, 0.5]), Some(0.5));
        // sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(
            roc_auc(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]),
            Some(0.75)
        );
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None);
    }

    #[test]
    fn log_loss_clips_certain_mistakes() {
        // sklearn: log_loss([1, 0], [0.0, 1.0]) == -ln(eps)
        let loss = log_loss(&[true, false], &[0.0, 1.0]).unwrap();
        assert!((loss + f64::EPSILON.ln()).abs() < 1e-9, "{loss}");
        let loss = log_loss(&[true, false], &[0.9, 0.2]).unwrap();
        assert!((loss - (-(0.9f64.ln()) - 0.8f64.ln()) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn brier_is_the_mean_squared_error() {
        assert_eq!(
            brier_score(&[true, false], &[0.75, 0.5]),
            Some((0.0625 + 0.25) / 2.0)
        );
        assert_eq!(brier_score(&[], &[]), None);
    }

    #[test]
    fn calibration_bins_put_edges_in_the_lower_bin_and_skip_empty_ones() {
        let table = calibration_table(&[true, false, true, false], &[0.5, 0.5, 0.9, 0.0], 2);
        assert_eq!(table.len(), 2);
        assert_eq!((table[0].count, table[0].mean_predicted), (3, 1.0 / 3.0));
        assert_eq!(table[0].observed_rate, 1.0 / 3.0);
        assert_eq!(
            (table[1].lower, table[1].upper, table[1].count),
            (0.5, 1.0, 1)
        );
        assert!(calibration_table(&[true], &[0.1], 5).len() == 1);
    }
}
