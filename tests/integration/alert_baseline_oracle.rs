//! The test a `failure_rate` rule compares its window with its baseline by (the
//! one-sided exact binomial test) equals `scipy.stats.binomtest(..., alternative="greater")`
//! to 1e-9 relative.

use serde_json::json;
use tally_api::alerts::binomial_p_value;

use crate::support::python_oracle;

#[test]
fn the_baseline_test_equals_scipys_binomtest() {
    let cases: Vec<(u64, u64, f64)> = vec![
        (12, 40, 0.05),
        (12, 40, 0.3),
        (1, 1, 0.3),
        (0, 20, 0.1),
        (20, 20, 0.5),
        (3, 50, 0.0),
        (50, 50, 1.0),
        (7, 1000, 0.002),
        (150, 1000, 0.1),
        (60, 200, 0.3),
        (5, 10_000, 0.0001),
        (480, 100_000, 0.004),
    ];
    let want = python_oracle("binomtest.py", &json!(cases));
    for (&(failures, events, rate), want) in cases.iter().zip(want.as_array().unwrap()) {
        let want = want.as_f64().unwrap();
        let got = binomial_p_value(failures, events, rate);
        let tolerance = 1e-9 * want.abs().max(1e-300);
        assert!(
            (got - want).abs() <= tolerance,
            "{failures} of {events} against {rate}: {got} vs scipy's {want}"
        );
    }
}
