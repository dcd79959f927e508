//! tally's own statistics equal the reference implementations: the Wilson interval
//! behind tool confidence (statsmodels), the least-squares slope behind capacity
//! trends (scipy's `linregress`) and exact percentiles (numpy), to 1e-9 relative.

use serde_json::{Value, json};

use crate::support::python_oracle;
use tally_metrics::stats::{least_squares_slope, percentile};
use tally_metrics::wilson_interval;

fn oracle(cases: &Value) -> Value {
    python_oracle("stats.py", cases)
}

/// Equal to 1e-9 relative (an absolute 1e-15 around zero).
fn close(got: f64, want: f64, what: &str) {
    let tolerance = 1e-9 * want.abs().max(1e-6);
    assert!((got - want).abs() <= tolerance, "{what}: {got} vs {want}");
}

#[test]
fn statistics_equal_statsmodels_scipy_and_numpy() {
    let wilson: Vec<(u64, u64)> = vec![
        (0, 1),
        (1, 1),
        (3, 10),
        (17, 20),
        (95, 100),
        (999, 1000),
        (5123, 9000),
        (0, 50),
        (50, 50),
    ];
    let slopes: Vec<Vec<(f64, f64)>> = vec![
        vec![(0.0, 1.0), (1.0, 2.5), (2.0, 2.9), (3.0, 4.2)],
        (0..48)
            .map(|h| {
                (
                    f64::from(h),
                    0.2 + 0.01 * f64::from(h) + ((f64::from(h) * 1.7).sin() * 0.05),
                )
            })
            .collect(),
        vec![
            (493_000.0, 0.5),
            (493_001.0, 0.25),
            (493_002.0, 0.75),
            (493_004.0, 0.1),
        ],
    ];
    let percentiles: Vec<(Vec<f64>, f64)> = vec![
        (vec![3.0, 1.0, 2.0], 0.5),
        (vec![12.5, 3.25, 99.0, 4.0, 7.75], 0.95),
        ((1..=1000).map(|i| f64::from(i).sqrt()).collect(), 0.99),
        (vec![42.0], 0.5),
    ];
    let want = oracle(&json!({"wilson": wilson, "slopes": slopes, "percentiles": percentiles}));
    for ((s, n), interval) in wilson.iter().zip(want["wilson"].as_array().unwrap()) {
        let (low, high) = wilson_interval(*s, *n);
        close(
            low,
            interval[0].as_f64().unwrap(),
            &format!("wilson low {s}/{n}"),
        );
        close(
            high,
            interval[1].as_f64().unwrap(),
            &format!("wilson high {s}/{n}"),
        );
    }
    for (points, slope) in slopes.iter().zip(want["slopes"].as_array().unwrap()) {
        close(
            least_squares_slope(points).unwrap(),
            slope.as_f64().unwrap(),
            "slope",
        );
    }
    for ((values, q), p) in percentiles
        .iter()
        .zip(want["percentiles"].as_array().unwrap())
    {
        close(
            percentile(&mut values.clone(), *q).unwrap(),
            p.as_f64().unwrap(),
            &format!("percentile {q}"),
        );
    }
}
