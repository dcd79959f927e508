//! The frequentist statistics behind a verdict: Welch's t-test, the two-proportion
//! z-test, delta-method intervals for relative lift, Pearson's χ² goodness of fit (the
//! sample-ratio check), Holm's step-down correction, power and sample size, and the
//! mixture sequential probability ratio test (always-valid p-values).
//!
//! Tail probabilities are computed from the regularized incomplete beta and gamma
//! functions directly (never as `1 - cdf`), so small p-values keep their relative
//! precision; Student's t quantile is refined by Newton steps on that tail.

use statrs::distribution::{Continuous, StudentsT};
use statrs::function::beta::beta_reg;
use statrs::function::erf::{erfc, erfc_inv};
use statrs::function::gamma::gamma_ur;

/// n, mean and sample variance (ddof = 1) of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub n: u64,
    pub mean: f64,
    /// Unbiased sample variance; 0 when `n < 2`.
    pub variance: f64,
}

impl Sample {
    /// Two-pass mean and variance (stable for large offsets).
    pub fn of(values: &[f64]) -> Sample {
        let n = values.len();
        if n == 0 {
            return Sample {
                n: 0,
                mean: 0.0,
                variance: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = if n < 2 {
            0.0
        } else {
            let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            let drift: f64 = values.iter().map(|v| v - mean).sum();
            (squares - drift * drift / n as f64) / (n - 1) as f64
        };
        Sample {
            n: n as u64,
            mean,
            variance,
        }
    }
}

/// Why a comparison has no test result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insufficient {
    /// A group has fewer than two units (no variance estimate).
    TooFewUnits,
    /// Both groups are constant: the standard error is zero.
    ZeroVariance,
}

impl Insufficient {
    pub fn reason(self) -> &'static str {
        match self {
            Insufficient::TooFewUnits => "fewer than 2 users in a variant",
            Insufficient::ZeroVariance => "no variance in either variant",
        }
    }
}

/// Welch's unequal-variance t-test of `treatment - control`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchTest {
    pub diff: f64,
    pub standard_error: f64,
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided.
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Welch's t-test with a two-sided `level` (0.95) interval of the difference.
///
/// # Errors
/// [`Insufficient`] when a group has fewer than two units or both have no variance.
pub fn welch(control: &Sample, treatment: &Sample, level: f64) -> Result<WelchTest, Insufficient> {
    if control.n < 2 || treatment.n < 2 {
        return Err(Insufficient::TooFewUnits);
    }
    let share_c = control.variance / control.n as f64;
    let share_t = treatment.variance / treatment.n as f64;
    let variance = share_c + share_t;
    if variance <= 0.0 {
        return Err(Insufficient::ZeroVariance);
    }
    let standard_error = variance.sqrt();
    let diff = treatment.mean - control.mean;
    let t = diff / standard_error;
    let df = variance * variance
        / (share_c * share_c / (control.n - 1) as f64
            + share_t * share_t / (treatment.n - 1) as f64);
    let margin = student_t_quantile(level, df) * standard_error;
    Ok(WelchTest {
        diff,
        standard_error,
        t,
        df,
        p_value: student_t_two_sided_p(t, df),
        ci_low: diff - margin,
        ci_high: diff + margin,
    })
}

/// The two-proportion z-test of `treatment - control` (pooled standard error for the
/// test, unpooled Wald interval for the difference).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionTest {
    pub diff: f64,
    pub z: f64,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The two-proportion z-test of `successes / n` per group.
///
/// # Errors
/// [`Insufficient`] when a group has fewer than two units or every unit of both groups
/// has the same outcome.
pub fn two_proportions(
    (successes_c, n_c): (u64, u64),
    (successes_t, n_t): (u64, u64),
    level: f64,
) -> Result<ProportionTest, Insufficient> {
    if n_c < 2 || n_t < 2 {
        return Err(Insufficient::TooFewUnits);
    }
    let (nc, nt) = (n_c as f64, n_t as f64);
    let (pc, pt) = (successes_c as f64 / nc, successes_t as f64 / nt);
    let pooled = (successes_c + successes_t) as f64 / (nc + nt);
    let pooled_variance = pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt);
    if pooled_variance <= 0.0 {
        return Err(Insufficient::ZeroVariance);
    }
    let diff = pt - pc;
    let z = diff / pooled_variance.sqrt();
    let margin =
        normal_quantile(0.5 + level / 2.0) * (pc * (1.0 - pc) / nc + pt * (1.0 - pt) / nt).sqrt();
    Ok(ProportionTest {
        diff,
        z,
        p_value: normal_two_sided_p(z),
        ci_low: diff - margin,
        ci_high: diff + margin,
    })
}

/// Relative lift `treatment / control - 1` and its delta-method normal interval, from
/// the means, the per-unit variances and the counts. `None` when the control mean is 0.
pub fn relative_lift(
    (mean_c, variance_c, n_c): (f64, f64, u64),
    (mean_t, variance_t, n_t): (f64, f64, u64),
    level: f64,
) -> Option<(f64, f64, f64)> {
    if mean_c == 0.0 || n_c == 0 || n_t == 0 {
        return None;
    }
    let lift = mean_t / mean_c - 1.0;
    let variance = variance_t / (n_t as f64 * mean_c * mean_c)
        + mean_t * mean_t * variance_c / (n_c as f64 * mean_c.powi(4));
    let margin = normal_quantile(0.5 + level / 2.0) * variance.sqrt();
    Some((lift, lift - margin, lift + margin))
}

/// Pearson's χ² goodness of fit of `observed` counts against `weights` (any scale):
/// `(chi2, degrees of freedom, p)`. `None` with fewer than two groups or no counts.
pub fn chi_square(observed: &[u64], weights: &[f64]) -> Option<(f64, u64, f64)> {
    let total: u64 = observed.iter().sum();
    let weight_total: f64 = weights.iter().sum();
    if observed.len() < 2 || observed.len() != weights.len() || total == 0 || weight_total <= 0.0 {
        return None;
    }
    let chi2: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let expected = total as f64 * w / weight_total;
            (o as f64 - expected).powi(2) / expected
        })
        .sum();
    let df = observed.len() as u64 - 1;
    Some((chi2, df, chi_square_survival(chi2, df as f64)))
}

/// `P(X > x)` for `X ~ χ²(df)`.
pub fn chi_square_survival(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}

/// Holm's step-down adjustment of a family of p-values (order kept).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * p_values[index]).min(1.0);
        running = running.max(scaled);
        adjusted[index] = running;
    }
    adjusted
}

/// Two-sided `P(|T| > |t|)` for Student's t with `df` degrees of freedom.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    beta_reg(df / 2.0, 0.5, df / (df + t * t))
}

/// The two-sided critical value: `x` with `P(|T| < x) = level`.
///
/// # Panics
/// When `df` is not a positive number.
pub fn student_t_quantile(level: f64, df: f64) -> f64 {
    let tail = 1.0 - level;
    if df > 1e12 {
        return normal_quantile(1.0 - tail / 2.0);
    }
    let distribution = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    let mut x = student_t_start(tail, df);
    for _ in 0..8 {
        let error = student_t_two_sided_p(x, df) - tail;
        let step = error / (2.0 * distribution.pdf(x));
        x += step;
        if step.abs() <= 1e-16 * x.abs() {
            break;
        }
    }
    x
}

/// A starting point for the Newton steps: the inverse of the incomplete beta.
fn student_t_start(tail: f64, df: f64) -> f64 {
    let y = statrs::function::beta::inv_beta_reg(df / 2.0, 0.5, tail);
    let start = (df * (1.0 - y) / y).sqrt();
    if start.is_finite() && start > 0.0 {
        start
    } else {
        normal_quantile(1.0 - tail / 2.0)
    }
}

/// The standard normal quantile.
pub fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
}

/// Two-sided `P(|Z| > |z|)` for the standard normal.
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// The minimum detectable absolute effect of a two-sided test at `alpha` with `power`,
/// for `n` users in each of two variants and a per-user variance.
pub fn minimum_detectable_effect(n_per_variant: f64, variance: f64, alpha: f64, power: f64) -> f64 {
    (normal_quantile(1.0 - alpha / 2.0) + normal_quantile(power))
        * (2.0 * variance / n_per_variant).sqrt()
}

/// Users needed in each of two variants to detect an absolute effect `mde` (the inverse
/// of [`minimum_detectable_effect`], before rounding up).
pub fn sample_size(mde: f64, variance: f64, alpha: f64, power: f64) -> f64 {
    let z = normal_quantile(1.0 - alpha / 2.0) + normal_quantile(power);
    2.0 * variance * z * z / (mde * mde)
}

/// The mixture SPRT's always-valid p-value for a difference `diff` with standard error
/// `standard_error`, a normal mixing distribution of variance `tau2` on the effect
/// (Johari et al., "Always Valid Inference"): `p = min(1, 1 / Λ)` with
/// `Λ = sqrt(V / (V + τ²)) · exp(τ² diff² / (2 V (V + τ²)))`, `V = se²`. Valid however
/// often it is looked at; running minimum over looks is left to the caller.
pub fn msprt_p_value(diff: f64, standard_error: f64, tau2: f64) -> f64 {
    let v = standard_error * standard_error;
    let log_lambda = 0.5 * (v / (v + tau2)).ln() + tau2 * diff * diff / (2.0 * v * (v + tau2));
    (-log_lambda).exp().min(1.0)
}
