//! Whether a failure rate is significantly above its own baseline: the one-sided exact
//! binomial test of the window's failures against the baseline's rate.

use statrs::distribution::{Binomial, DiscreteCDF};

use super::notification::BaselineTest;

/// The test's name, as observations, notifications and the docs show it.
pub const BINOMIAL_TEST: &str = "exact binomial test, one-sided (greater)";

/// `P(X >= failures)` for `X ~ Binomial(events, baseline_rate)`: how likely the window's
/// failures, or more, are if the rate were still the baseline's. Equal to
/// `scipy.stats.binomtest(failures, events, baseline_rate, alternative="greater").pvalue`.
/// The baseline rate is taken as known (its own sampling error is not counted), which
/// suits a baseline of many more events than the window.
pub fn binomial_p_value(failures: u64, events: u64, baseline_rate: f64) -> f64 {
    if failures == 0 || baseline_rate >= 1.0 {
        return 1.0;
    }
    if baseline_rate <= 0.0 {
        // Failures the baseline never had cannot come from its rate.
        return 0.0;
    }
    match Binomial::new(baseline_rate, events) {
        // P(X >= k) = P(X > k - 1); statrs computes it directly (a regularized beta),
        // so small p-values keep their precision.
        Ok(binomial) => binomial.sf(failures - 1),
        Err(_) => 1.0,
    }
}

/// The window's failures tested against the baseline's rate.
pub fn test_against_baseline(
    failures: u64,
    events: u64,
    baseline_failures: u64,
    baseline_events: u64,
) -> Option<BaselineTest> {
    (baseline_events > 0).then(|| {
        let baseline_rate = baseline_failures as f64 / baseline_events as f64;
        BaselineTest {
            name: BINOMIAL_TEST.to_owned(),
            baseline_rate,
            p_value: binomial_p_value(failures, events, baseline_rate),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_of_the_test() {
        assert_eq!(binomial_p_value(0, 50, 0.1), 1.0);
        assert_eq!(binomial_p_value(3, 50, 0.0), 0.0);
        assert_eq!(binomial_p_value(50, 50, 1.0), 1.0);
        // Every event failing, at a rate of one half: 0.5^10.
        assert!((binomial_p_value(10, 10, 0.5) - 0.5f64.powi(10)).abs() < 1e-15);
        // One failure or more in one event at rate p: p.
        assert!((binomial_p_value(1, 1, 0.3) - 0.3).abs() < 1e-15);
        assert!(test_against_baseline(3, 10, 0, 0).is_none());
        let test = test_against_baseline(3, 10, 10, 100).unwrap();
        assert_eq!(test.baseline_rate, 0.1);
        assert_eq!(test.name, BINOMIAL_TEST);
    }
}
