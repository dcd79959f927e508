//! The analysis of an experiment from its outcome events: assignment check, sample-ratio
//! check, and per metric the variants' figures and each variant against the control.
//!
//! The unit is the user: a user's value of a continuous metric is the mean over their
//! outcomes, of a binary (boolean) metric whether any outcome had it true. Outcomes
//! whose reported variant is not the user's assignment are counted and left out.

use std::collections::BTreeMap;

use serde::Serialize;
use tally_store::OutcomeRecord;

use super::definition::{Experiment, Status};
use super::stats::{self, Insufficient, Sample};

/// Confidence level of every interval.
pub const LEVEL: f64 = 0.95;
/// Significance threshold on Holm-adjusted p-values.
pub const ALPHA: f64 = 0.05;
/// The mixture SPRT's mixing standard deviation, as a share of the control mean.
pub const SEQUENTIAL_MIXING_SHARE: f64 = 0.1;
/// The sample-ratio check fails below this p-value.
pub const SRM_ALPHA: f64 = 0.001;

/// The whole answer of `tally experiment analyze --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub experiment: String,
    pub status: Status,
    /// The control every comparison is against.
    pub control: String,
    pub assignment: AssignmentCheck,
    pub srm: SampleRatio,
    pub metrics: Vec<MetricAnalysis>,
}

/// How the reported variants agree with the deterministic assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignmentCheck {
    /// Outcome events read.
    pub outcomes: u64,
    /// Outcome events analyzed (their variant is the user's assignment).
    pub consistent: u64,
    /// Outcome events left out: the variant is not the user's assignment, not a variant
    /// of the experiment, or coverage leaves the user out.
    pub mismatched: u64,
    /// Mismatched outcome events by the variant they reported.
    pub mismatched_by_variant: BTreeMap<String, u64>,
}

/// Pearson's χ² of users per variant against the weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleRatio {
    pub chi2: f64,
    pub df: u64,
    pub p_value: f64,
    /// `p_value < 0.001`: the split is not what the weights promise; no winner is called.
    pub mismatch: bool,
    pub variants: Vec<VariantUsers>,
}

/// Users of one variant, against what its weight expects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantUsers {
    pub variant: String,
    pub weight: f64,
    pub users: u64,
    pub expected: f64,
}

/// A metric's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Continuous,
    /// Every value is a boolean: compared as proportions.
    Binary,
}

/// A metric's part in the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricRole {
    Primary,
    Guardrail,
    Secondary,
}

/// One metric over every variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricAnalysis {
    pub metric: String,
    pub kind: MetricKind,
    pub role: MetricRole,
    pub lower_is_better: bool,
    pub variants: Vec<VariantFigures>,
    pub comparisons: Vec<Comparison>,
}

/// A variant's users with the metric, their mean and sample variance (`null` when
/// there are no users, resp. fewer than two).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantFigures {
    pub variant: String,
    pub n: u64,
    pub mean: Option<f64>,
    pub variance: Option<f64>,
}

/// The verdict on one variant against the control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly better (Holm-adjusted p < 0.05) and the split is sound.
    Win,
    /// Significantly worse and the split is sound.
    Loss,
    Inconclusive,
    NotEnoughData,
}

/// One variant against the control. Figures that cannot be computed are `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub variant: String,
    pub baseline: String,
    pub diff: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rel_lift: Option<f64>,
    pub rel_ci_low: Option<f64>,
    pub rel_ci_high: Option<f64>,
    /// t of Welch's test, or z of the two-proportion test.
    pub t: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom; `null` for the z-test.
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    /// Holm-adjusted over this metric's comparisons.
    pub p_adjusted: Option<f64>,
    /// The mixture SPRT's always-valid p-value (normal mixture with standard deviation
    /// 10 % of the control mean): valid however often the test is looked at.
    pub p_sequential: Option<f64>,
    pub verdict: Verdict,
    /// Why the verdict is what it is.
    pub reason: String,
}

/// A finite number, else `None` (JSON never carries NaN or infinity).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Per user: their variant index, and per metric (sum, count, any true, all boolean).
#[derive(Debug, Default)]
struct UserValues {
    variant: usize,
    metrics: BTreeMap<String, (f64, u64, bool)>,
}

/// Analyzes `outcomes` of `experiment` at `now` (for the status).
pub fn analyze(
    experiment: &Experiment,
    outcomes: &[OutcomeRecord],
    now: chrono::DateTime<chrono::Utc>,
) -> Analysis {
    let mut users: BTreeMap<&str, UserValues> = BTreeMap::new();
    let mut all_boolean: BTreeMap<&str, bool> = BTreeMap::new();
    let mut check = AssignmentCheck {
        outcomes: outcomes.len() as u64,
        consistent: 0,
        mismatched: 0,
        mismatched_by_variant: BTreeMap::new(),
    };
    for outcome in outcomes {
        let assigned = experiment
            .variants
            .iter()
            .position(|v| v.name == outcome.variant)
            .filter(|_| {
                experiment.assign(&outcome.user_id).map(|v| v.name.as_str())
                    == Some(outcome.variant.as_str())
            });
        let Some(variant) = assigned else {
            check.mismatched += 1;
            *check
                .mismatched_by_variant
                .entry(outcome.variant.clone())
                .or_default() += 1;
            continue;
        };
        check.consistent += 1;
        let user = users.entry(&outcome.user_id).or_default();
        user.variant = variant;
        for (metric, value, is_bool) in &outcome.metrics {
            let entry = user.metrics.entry(metric.clone()).or_default();
            entry.0 += value;
            entry.1 += 1;
            entry.2 |= *value != 0.0;
            let boolean = all_boolean.entry(metric).or_insert(true);
            *boolean &= *is_bool;
        }
    }

    let mut user_counts = vec![0u64; experiment.variants.len()];
    for user in users.values() {
        user_counts[user.variant] += 1;
    }
    let srm = sample_ratio(experiment, &user_counts);

    let mut metrics: Vec<MetricAnalysis> = all_boolean
        .iter()
        .map(|(&metric, &boolean)| {
            let kind = if boolean {
                MetricKind::Binary
            } else {
                MetricKind::Continuous
            };
            let mut values: Vec<Vec<f64>> = vec![Vec::new(); experiment.variants.len()];
            for user in users.values() {
                if let Some(&(sum, count, any)) = user.metrics.get(metric) {
                    values[user.variant].push(match kind {
                        MetricKind::Binary => f64::from(u8::from(any)),
                        MetricKind::Continuous => sum / count as f64,
                    });
                }
            }
            metric_analysis(experiment, metric, kind, &values, srm.mismatch)
        })
        .collect();
    metrics.sort_by_key(|m| m.role as u8);

    Analysis {
        experiment: experiment.key.clone(),
        status: experiment.status(now),
        control: experiment.control().name.clone(),
        assignment: check,
        srm,
        metrics,
    }
}

fn sample_ratio(experiment: &Experiment, user_counts: &[u64]) -> SampleRatio {
    let weights: Vec<f64> = experiment.variants.iter().map(|v| v.weight).collect();
    let total: u64 = user_counts.iter().sum();
    let (chi2, df, p_value) = stats::chi_square(user_counts, &weights).unwrap_or((
        0.0,
        experiment.variants.len().saturating_sub(1) as u64,
        1.0,
    ));
    SampleRatio {
        chi2,
        df,
        p_value,
        mismatch: p_value < SRM_ALPHA,
        variants: experiment
            .variants
            .iter()
            .zip(user_counts)
            .map(|(v, &users)| VariantUsers {
                variant: v.name.clone(),
                weight: v.weight,
                users,
                expected: total as f64 * v.weight,
            })
            .collect(),
    }
}

fn metric_analysis(
    experiment: &Experiment,
    metric: &str,
    kind: MetricKind,
    values: &[Vec<f64>],
    srm_failed: bool,
) -> MetricAnalysis {
    let samples: Vec<Sample> = values.iter().map(|v| Sample::of(v)).collect();
    let lower_is_better = experiment.is_lower_better(metric);
    let control = &samples[0];
    let mut comparisons: Vec<Comparison> = experiment
        .variants
        .iter()
        .zip(&samples)
        .skip(1)
        .map(|(variant, sample)| compare(kind, control, sample, &variant.name, experiment))
        .collect();

    let tested: Vec<usize> = (0..comparisons.len())
        .filter(|&i| comparisons[i].p_value.is_some())
        .collect();
    let p_values: Vec<f64> = tested
        .iter()
        .filter_map(|&i| comparisons[i].p_value)
        .collect();
    for (&i, adjusted) in tested.iter().zip(stats::holm(&p_values)) {
        let comparison = &mut comparisons[i];
        comparison.p_adjusted = finite(adjusted);
        let diff = comparison.diff.unwrap_or(0.0);
        let better = if lower_is_better {
            diff < 0.0
        } else {
            diff > 0.0
        };
        (comparison.verdict, comparison.reason) = if srm_failed {
            (
                Verdict::Inconclusive,
                "sample ratio mismatch (p < 0.001): the split is broken, no winner is called"
                    .into(),
            )
        } else if adjusted < ALPHA && better {
            (
                Verdict::Win,
                format!(
                    "better than {} at Holm-adjusted p < {ALPHA}",
                    comparison.baseline
                ),
            )
        } else if adjusted < ALPHA {
            (
                Verdict::Loss,
                format!(
                    "worse than {} at Holm-adjusted p < {ALPHA}",
                    comparison.baseline
                ),
            )
        } else {
            (
                Verdict::Inconclusive,
                format!("no significant difference (Holm-adjusted p >= {ALPHA})"),
            )
        };
    }

    let role = if experiment.primary_metric.as_deref() == Some(metric) {
        MetricRole::Primary
    } else if experiment.guardrail_metrics.iter().any(|m| m == metric) {
        MetricRole::Guardrail
    } else {
        MetricRole::Secondary
    };
    MetricAnalysis {
        metric: metric.to_owned(),
        kind,
        role,
        lower_is_better,
        variants: experiment
            .variants
            .iter()
            .zip(&samples)
            .map(|(v, s)| VariantFigures {
                variant: v.name.clone(),
                n: s.n,
                mean: if s.n > 0 { finite(s.mean) } else { None },
                variance: if s.n > 1 { finite(s.variance) } else { None },
            })
            .collect(),
        comparisons,
    }
}

fn compare(
    kind: MetricKind,
    control: &Sample,
    treatment: &Sample,
    variant: &str,
    experiment: &Experiment,
) -> Comparison {
    let mut comparison = Comparison {
        variant: variant.to_owned(),
        baseline: experiment.control().name.clone(),
        diff: None,
        ci_low: None,
        ci_high: None,
        rel_lift: None,
        rel_ci_low: None,
        rel_ci_high: None,
        t: None,
        df: None,
        p_value: None,
        p_adjusted: None,
        p_sequential: None,
        verdict: Verdict::NotEnoughData,
        reason: String::new(),
    };
    if control.n > 0 && treatment.n > 0 {
        comparison.diff = finite(treatment.mean - control.mean);
    }
    let (test, variances) = match kind {
        MetricKind::Continuous => (
            stats::welch(control, treatment, LEVEL)
                .map(|w| (w.diff, w.ci_low, w.ci_high, w.t, Some(w.df), w.p_value)),
            (control.variance, treatment.variance),
        ),
        MetricKind::Binary => {
            let successes = |s: &Sample| (s.mean * s.n as f64).round() as u64;
            let bernoulli = |s: &Sample| s.mean * (1.0 - s.mean);
            (
                stats::two_proportions(
                    (successes(control), control.n),
                    (successes(treatment), treatment.n),
                    LEVEL,
                )
                .map(|z| (z.diff, z.ci_low, z.ci_high, z.z, None, z.p_value)),
                (bernoulli(control), bernoulli(treatment)),
            )
        }
    };
    match test {
        Ok((diff, low, high, t, df, p)) => {
            comparison.diff = finite(diff);
            comparison.ci_low = finite(low);
            comparison.ci_high = finite(high);
            comparison.t = finite(t);
            comparison.df = df.and_then(finite);
            comparison.p_value = finite(p);
            let standard_error = match kind {
                MetricKind::Continuous => (control.variance / control.n as f64
                    + treatment.variance / treatment.n as f64)
                    .sqrt(),
                MetricKind::Binary => {
                    (variances.0 / control.n as f64 + variances.1 / treatment.n as f64).sqrt()
                }
            };
            let mixing_sd = SEQUENTIAL_MIXING_SHARE * control.mean;
            if standard_error > 0.0 {
                comparison.p_sequential = finite(stats::msprt_p_value(
                    diff,
                    standard_error,
                    mixing_sd * mixing_sd,
                ));
            }
            if let Some((lift, low, high)) = stats::relative_lift(
                (control.mean, variances.0, control.n),
                (treatment.mean, variances.1, treatment.n),
                LEVEL,
            ) {
                comparison.rel_lift = finite(lift);
                comparison.rel_ci_low = finite(low);
                comparison.rel_ci_high = finite(high);
            }
        }
        Err(insufficient) => {
            comparison.reason = match insufficient {
                Insufficient::TooFewUnits => format!(
                    "{} (control {}, {variant} {})",
                    insufficient.reason(),
                    control.n,
                    treatment.n
                ),
                Insufficient::ZeroVariance => insufficient.reason().to_owned(),
            };
        }
    }
    comparison
}
