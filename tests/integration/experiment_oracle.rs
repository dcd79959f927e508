//! The experiment statistics equal scipy's and statsmodels' on generated cases (small
//! and large samples, unequal variances, tiny and large effects) to 1e-9 relative:
//! Welch's t, df, p and interval, the t quantile, the delta-method lift interval, the
//! two-proportion z-test and Wald interval, χ² goodness of fit, Holm, power.

use serde_json::{Value, json};

use crate::support::python_oracle;
use tally_predict::experiment::stats::{self, Sample};

fn oracle(cases: &Value) -> Value {
    python_oracle("experiments.py", cases)
}

/// Equal to 1e-9 relative (an absolute 1e-15 around zero).
fn close(got: f64, want: &Value, what: &str) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: oracle gave {want}"));
    let tolerance = 1e-9 * want.abs().max(1e-6);
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got} vs {want} (relative error {:e})",
        ((got - want) / want).abs()
    );
}

/// splitmix64: a small deterministic generator, so the cases are the same every run.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SIZES: [usize; 9] = [2, 3, 5, 12, 40, 150, 1_000, 4_000, 12_000];

#[test]
fn experiment_statistics_equal_scipy_and_statsmodels() {
    let mut generator = Generator(7);
    let mut welch_cases: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for i in 0..240 {
        let (n_c, n_t) = (SIZES[i % 9], SIZES[(i * 7 + 3) % 9]);
        let mean = 1.0 + 200.0 * generator.uniform();
        let (sd_c, sd_t) = (
            0.05 + 40.0 * generator.uniform(),
            0.05 + 40.0 * generator.uniform(),
        );
        let effect = match i % 4 {
            0 => 0.0,
            1 => 0.01 * mean,
            2 => 0.2 * mean,
            _ => sd_c,
        };
        let control = (0..n_c).map(|_| generator.normal(mean, sd_c)).collect();
        let treatment = (0..n_t)
            .map(|_| generator.normal(mean + effect, sd_t))
            .collect();
        welch_cases.push((control, treatment));
    }
    let mut proportion_cases: Vec<[u64; 4]> = Vec::new();
    for i in 0..220 {
        let n_c = 2 + generator.below([20, 500, 20_000, 200_000][i % 4]);
        let n_t = 2 + generator.below([20, 500, 20_000, 200_000][(i + 1) % 4]);
        let p = 0.01 + 0.98 * generator.uniform();
        let lift = [0.0, 0.02, 0.1][i % 3];
        let draws = |n: u64, p: f64, g: &mut Generator| {
            let p = p.min(0.999);
            (0..n).filter(|_| g.uniform() < p).count() as u64
        };
        let (x_c, x_t) = (
            draws(n_c, p, &mut generator),
            draws(n_t, p + lift, &mut generator),
        );
        if (x_c + x_t) == 0 || (x_c + x_t) == n_c + n_t {
            continue;
        }
        proportion_cases.push([x_c, n_c, x_t, n_t]);
    }
    let mut chi_cases: Vec<(Vec<u64>, Vec<f64>)> = Vec::new();
    for i in 0..220 {
        let groups = 2 + (i % 4);
        let weights: Vec<f64> = (0..groups)
            .map(|_| 1.0 + 9.0 * generator.uniform())
            .collect();
        let total = 10 + generator.below(200_000);
        let weight_sum: f64 = weights.iter().sum();
        let skew = [0.0, 0.003, 0.03, 0.2][i % 4];
        let observed: Vec<u64> = weights
            .iter()
            .enumerate()
            .map(|(g, w)| {
                let expected = total as f64 * w / weight_sum;
                let noise = generator.normal(0.0, expected.sqrt());
                let tilt = if g == 0 { 1.0 + skew } else { 1.0 };
                (expected * tilt + noise).round().max(1.0) as u64
            })
            .collect();
        chi_cases.push((observed, weights));
    }
    let holm_cases: Vec<Vec<f64>> = (0..60)
        .map(|i| {
            (0..1 + i % 6)
                .map(|_| generator.uniform().powi(1 + (i % 5)))
                .collect()
        })
        .collect();
    let power_cases: Vec<[f64; 4]> = (0..60)
        .map(|i| {
            [
                10.0 + generator.below(1_000_000) as f64,
                0.01 + 100.0 * generator.uniform(),
                [0.05, 0.01, 0.1][i % 3],
                [0.8, 0.9, 0.5][i % 3],
            ]
        })
        .collect();
    assert!(welch_cases.len() >= 200 && proportion_cases.len() >= 200 && chi_cases.len() >= 200);

    let want = oracle(&json!({
        "welch": welch_cases,
        "proportions": proportion_cases,
        "chisquare": chi_cases,
        "holm": holm_cases,
        "power": power_cases,
    }));
    for (name, sent) in [
        ("welch", welch_cases.len()),
        ("proportions", proportion_cases.len()),
        ("chisquare", chi_cases.len()),
        ("holm", holm_cases.len()),
        ("power", power_cases.len()),
    ] {
        assert_eq!(want[name].as_array().map(Vec::len), Some(sent), "{name}");
    }

    for (i, ((control, treatment), want)) in welch_cases
        .iter()
        .zip(want["welch"].as_array().unwrap())
        .enumerate()
    {
        let (c, t) = (Sample::of(control), Sample::of(treatment));
        let test = stats::welch(&c, &t, 0.95).unwrap();
        let what = |name: &str| format!("welch case {i} (n {} vs {}): {name}", c.n, t.n);
        close(test.t, &want["t"], &what("t"));
        close(test.df, &want["df"], &what("df"));
        close(test.p_value, &want["p"], &what("p"));
        close(test.ci_low, &want["ci_low"], &what("ci_low"));
        close(test.ci_high, &want["ci_high"], &what("ci_high"));
        close(
            stats::student_t_quantile(0.95, test.df),
            &want["t_crit"],
            &what("t quantile"),
        );
        let (lift, low, high) =
            stats::relative_lift((c.mean, c.variance, c.n), (t.mean, t.variance, t.n), 0.95)
                .unwrap();
        close(lift, &want["lift"], &what("lift"));
        close(low, &want["lift_low"], &what("lift low"));
        close(high, &want["lift_high"], &what("lift high"));
    }
    for (case, want) in proportion_cases
        .iter()
        .zip(want["proportions"].as_array().unwrap())
    {
        let &[x_c, n_c, x_t, n_t] = case;
        let test = stats::two_proportions((x_c, n_c), (x_t, n_t), 0.95).unwrap();
        let what = |name: &str| format!("proportions {case:?}: {name}");
        close(test.z, &want["z"], &what("z"));
        close(test.p_value, &want["p"], &what("p"));
        close(test.ci_low, &want["ci_low"], &what("ci_low"));
        close(test.ci_high, &want["ci_high"], &what("ci_high"));
    }
    for ((observed, weights), want) in chi_cases.iter().zip(want["chisquare"].as_array().unwrap()) {
        let (chi2, df, p) = stats::chi_square(observed, weights).unwrap();
        assert_eq!(df, observed.len() as u64 - 1);
        close(chi2, &want["chi2"], &format!("chi2 {observed:?}"));
        close(p, &want["p"], &format!("chi2 p {observed:?}"));
    }
    for (p_values, want) in holm_cases.iter().zip(want["holm"].as_array().unwrap()) {
        for (got, want) in stats::holm(p_values).iter().zip(want.as_array().unwrap()) {
            close(*got, want, &format!("holm {p_values:?}"));
        }
    }
    for (&[n, variance, alpha, power], want) in
        power_cases.iter().zip(want["power"].as_array().unwrap())
    {
        let mde = stats::minimum_detectable_effect(n, variance, alpha, power);
        close(mde, &want["mde"], "mde");
        close(
            stats::sample_size(mde, variance, alpha, power),
            &want["n"],
            "sample size",
        );
    }
}
