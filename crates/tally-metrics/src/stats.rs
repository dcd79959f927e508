//! The small statistics the views need: least-squares slope and percentiles of exact
//! samples. Checked against numpy and scipy in the oracle tests.

/// The least-squares slope of `y` on `x`; `None` with fewer than two distinct `x`.
pub fn least_squares_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The `q`-quantile of `values` by linear interpolation between closest ranks (numpy's
/// default `percentile` method); `None` when empty.
pub fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    Some(values[below] + (values[above] - values[below]) * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_and_percentiles() {
        assert_eq!(
            least_squares_slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]),
            Some(2.0)
        );
        assert_eq!(least_squares_slope(&[(1.0, 1.0), (1.0, 3.0)]), None);
        assert_eq!(least_squares_slope(&[(1.0, 1.0)]), None);
        assert_eq!(percentile(&mut [4.0, 1.0, 2.0, 3.0], 0.5), Some(2.5));
        assert_eq!(
            percentile(&mut [4.0, 1.0, 2.0, 3.0], 0.95),
            Some(3.8499999999999996)
        );
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
