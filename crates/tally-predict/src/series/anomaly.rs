//! Anomalies: a point is one when it lies outside the band of the seasonal baseline
//! (`baseline.rs`); the other detectors (z-score, IQR fences, rolling robust z) know no
//! rhythm, so they only corroborate. Each anomalous point is one record with the
//! detectors that agree, its expected value and band, and a severity. Partial first
//! and last periods are left out. Costs and failure rates above the band become insight
//! records.

use serde::Serialize;

use super::baseline::{self, BASELINE_MIN_POINTS, Baseline, BaselineForm, MAD_TO_SD};
use super::describe::{mean, median, median_absolute_deviation, quantile, sample_sd};
use super::source::{Polarity, Series};

/// A detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyMethod {
    /// `(x − mean) / sd` over the whole series; flagged past `z_threshold`.
    ZScore,
    /// Distance past the Tukey fences in IQRs: `(x − Q3) / IQR` above, `(Q1 − x) / IQR`
    /// below; flagged past `iqr_multiplier`.
    Iqr,
    /// `(x − median) / (1.4826 MAD)` of the previous `rolling_window` points; flagged
    /// past `robust_threshold`.
    RollingRobust,
    /// `(x − expected) / noise sd` against the seasonal baseline (trend and hour-of-day
    /// and day-of-week profiles); flagged past `baseline_threshold`. The judge of
    /// anomalies.
    Seasonal,
}

impl AnomalyMethod {
    /// The detector's name in plain words.
    pub fn label(self) -> &'static str {
        match self {
            AnomalyMethod::ZScore => "z-score",
            AnomalyMethod::Iqr => "IQR fences",
            AnomalyMethod::RollingRobust => "recent median",
            AnomalyMethod::Seasonal => "seasonal baseline",
        }
    }

    /// The judge first, then the corroborating detectors.
    pub const ALL: [AnomalyMethod; 4] = [
        AnomalyMethod::Seasonal,
        AnomalyMethod::ZScore,
        AnomalyMethod::Iqr,
        AnomalyMethod::RollingRobust,
    ];
}

/// Thresholds of the detectors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnomalyConfig {
    pub z_threshold: f64,
    pub iqr_multiplier: f64,
    pub robust_threshold: f64,
    /// How many noise standard deviations from the seasonal baseline make an anomaly.
    pub baseline_threshold: f64,
    /// Points before each point that the rolling detector compares it with.
    pub rolling_window: usize,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            z_threshold: 3.0,
            iqr_multiplier: 1.5,
            robust_threshold: 3.5,
            baseline_threshold: 5.0,
            rolling_window: 24,
        }
    }
}

/// How far outside its band an anomaly lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Past the threshold, under twice it.
    Low,
    /// Two to four times the threshold.
    Medium,
    /// Four times the threshold or more.
    High,
}

impl Severity {
    fn of(score: f64, threshold: f64) -> Severity {
        let times = score.abs() / threshold;
        if times >= 4.0 {
            Severity::High
        } else if times >= 2.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// One anomalous point: outside the seasonal baseline's band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub timestamp: String,
    pub value: f64,
    /// The baseline's value for this point.
    pub expected: f64,
    /// The band ordinary values fall in: expected ± threshold × noise sd.
    pub lower: f64,
    pub upper: f64,
    /// `(value − expected) / noise sd`; negative below the band.
    pub score: f64,
    pub severity: Severity,
    /// The seasonal baseline, then every other detector that flags the point on the
    /// same side.
    pub detectors: Vec<AnomalyMethod>,
}

/// The kind of an insight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    CostSpike,
    FailureSurge,
}

/// An anomaly worth telling someone about, with the numbers that triggered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    pub kind: InsightKind,
    pub metric: String,
    pub timestamp: String,
    pub value: f64,
    pub expected: f64,
    /// `value / expected`, when `expected` is above 0.
    pub ratio: Option<f64>,
    pub score: f64,
    pub severity: Severity,
    /// The detectors that flagged the point.
    pub detectors: Vec<AnomalyMethod>,
    pub message: String,
}

/// The anomalies and insights of a series, and what they were measured against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyReport {
    pub metric: String,
    pub config: AnomalyConfig,
    /// Points with a value.
    pub points: usize,
    /// The partial first or last periods, left out.
    pub partial_periods: Vec<String>,
    /// The seasonal baseline; `None` with fewer than [`BASELINE_MIN_POINTS`] whole
    /// points (then `note` says so and nothing is flagged).
    pub baseline: Option<Baseline>,
    pub note: Option<String>,
    pub anomalies: Vec<Anomaly>,
    pub insights: Vec<Insight>,
    /// Every point's score per detector (`None` where the point has no value, is left
    /// out, or the detector has no baseline), in point order.
    pub scores: Vec<MethodScores>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodScores {
    pub method: AnomalyMethod,
    pub scores: Vec<Option<f64>>,
}

/// Scores and the baseline ("expected") of each point, for one detector.
type Scored = Vec<Option<(f64, f64)>>;

fn z_scores(values: &[Option<f64>]) -> Scored {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (Some(center), Some(sd)) = (mean(&present), sample_sd(&present)) else {
        return vec![None; values.len()];
    };
    values
        .iter()
        .map(|v| v.and_then(|v| (sd > 0.0).then(|| ((v - center) / sd, center))))
        .collect()
}

fn iqr_scores(values: &[Option<f64>]) -> Scored {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (Some(q1), Some(q3)) = (quantile(&present, 0.25), quantile(&present, 0.75)) else {
        return vec![None; values.len()];
    };
    let iqr = q3 - q1;
    values
        .iter()
        .map(|v| {
            v.and_then(|v| {
                (iqr > 0.0).then(|| {
                    if v > q3 {
                        ((v - q3) / iqr, q3)
                    } else if v < q1 {
                        (-(q1 - v) / iqr, q1)
                    } else {
                        (0.0, v)
                    }
                })
            })
        })
        .collect()
}

/// The score of a point that differs from a reference with no spread at all (a
/// failure rate leaving a flat 0, say): past every threshold, but finite.
pub const FLAT_BASELINE_SCORE: f64 = 100.0;

/// The center and scale robust z-scores are measured with: the median, and 1.4826 MAD
/// (or, when more than half the reference is one value and the MAD is 0, the mean
/// absolute deviation times sqrt(pi / 2), also consistent for normal data).
#[derive(Debug, Clone, Copy)]
struct RobustBaseline {
    center: f64,
    scale: f64,
}

impl RobustBaseline {
    fn of(reference: &[f64]) -> Option<RobustBaseline> {
        let center = median(reference)?;
        let mut scale = median_absolute_deviation(reference)? * MAD_TO_SD;
        if scale == 0.0 {
            let deviations: Vec<f64> = reference.iter().map(|r| (r - center).abs()).collect();
            scale = mean(&deviations)? * 1.253_314_137_315_500_3;
        }
        Some(RobustBaseline { center, scale })
    }

    /// The robust z of `value` and the center. A reference with no spread scores a
    /// different value ±[`FLAT_BASELINE_SCORE`] and an equal one 0.
    fn score(self, value: f64) -> (f64, f64) {
        let RobustBaseline { center, scale } = self;
        if scale > 0.0 {
            ((value - center) / scale, center)
        } else if value == center {
            (0.0, center)
        } else {
            (FLAT_BASELINE_SCORE.copysign(value - center), center)
        }
    }
}

fn rolling_robust_scores(values: &[Option<f64>], window: usize) -> Scored {
    let window = window.max(3);
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = (*v)?;
            let reference: Vec<f64> = values[i.saturating_sub(window)..i]
                .iter()
                .flatten()
                .copied()
                .collect();
            if reference.len() < 3 {
                return None;
            }
            Some(RobustBaseline::of(&reference)?.score(v))
        })
        .collect()
}

fn threshold(method: AnomalyMethod, config: &AnomalyConfig) -> f64 {
    match method {
        AnomalyMethod::ZScore => config.z_threshold,
        AnomalyMethod::Iqr => config.iqr_multiplier,
        AnomalyMethod::RollingRobust => config.robust_threshold,
        AnomalyMethod::Seasonal => config.baseline_threshold,
    }
}

/// The scores of one detector over the points `used` marks.
fn scores(
    values: &[Option<f64>],
    method: AnomalyMethod,
    config: &AnomalyConfig,
    baseline: Option<&Baseline>,
) -> Scored {
    match method {
        AnomalyMethod::ZScore => z_scores(values),
        AnomalyMethod::Iqr => iqr_scores(values),
        AnomalyMethod::RollingRobust => rolling_robust_scores(values, config.rolling_window),
        AnomalyMethod::Seasonal => match baseline {
            Some(baseline) => values
                .iter()
                .zip(&baseline.expected)
                .map(|(v, e)| {
                    let (value, (expected, sd)) = ((*v)?, (*e)?);
                    let score = if sd > 0.0 {
                        (value - expected) / sd
                    } else if value == expected {
                        0.0
                    } else {
                        FLAT_BASELINE_SCORE.copysign(value - expected)
                    };
                    Some((score, expected))
                })
                .collect(),
            None => vec![None; values.len()],
        },
    }
}

/// Anomalies of a series: every point outside the seasonal baseline's band, once, with
/// the other detectors that agree. The partial first and last periods
/// ([`Series::partial_first`], [`Series::partial_last`]) are left out of every detector.
pub fn anomalies(series: &Series, config: &AnomalyConfig) -> AnomalyReport {
    let n = series.points.len();
    let used: Vec<bool> = (0..n)
        .map(|i| !(i == 0 && series.partial_first || i + 1 == n && series.partial_last))
        .collect();
    let values: Vec<Option<f64>> = series
        .points
        .iter()
        .zip(&used)
        .map(|(p, used)| p.value.filter(|_| *used))
        .collect();
    let baseline = baseline::fit(series, &used);
    let all: Vec<(AnomalyMethod, Scored)> = AnomalyMethod::ALL
        .into_iter()
        .map(|method| (method, scores(&values, method, config, baseline.as_ref())))
        .collect();
    let judge = config.baseline_threshold;
    let mut found = Vec::new();
    let scored = |method: AnomalyMethod| all.iter().find(|(m, _)| *m == method).map(|(_, s)| s);
    if let (Some(seasonal), Some(rolling)) = (
        scored(AnomalyMethod::Seasonal),
        scored(AnomalyMethod::RollingRobust),
    ) {
        for (i, score) in seasonal.iter().enumerate() {
            let (Some((score, expected)), Some(value)) = (score, values[i]) else {
                continue;
            };
            // A point leaving a stretch with no spread at all (errors after none) is a
            // change even where the baseline's noise, widened by the change, hides it.
            let leaves_flat = rolling[i].is_some_and(|(r, _)| r.abs() == FLAT_BASELINE_SCORE);
            if score.abs() <= judge && !leaves_flat {
                continue;
            }
            let half_width = baseline
                .as_ref()
                .and_then(|b| b.expected[i])
                .map_or(0.0, |(_, sd)| judge * sd);
            let detectors = all
                .iter()
                .filter(|(method, scored)| {
                    scored[i].is_some_and(|(other, _)| {
                        other.abs() > threshold(*method, config) && other.signum() == score.signum()
                    })
                })
                .map(|(method, _)| *method)
                .collect();
            found.push(Anomaly {
                timestamp: series.points[i].time(),
                value,
                expected: *expected,
                // Volumes are never negative.
                lower: match baseline.as_ref().map(|b| b.form) {
                    Some(BaselineForm::Multiplicative) => (expected - half_width).max(0.0),
                    _ => expected - half_width,
                },
                upper: expected + half_width,
                score: *score,
                severity: if leaves_flat {
                    Severity::High
                } else {
                    Severity::of(*score, judge)
                },
                detectors,
            });
        }
    }
    let present = series.points.iter().filter(|p| p.value.is_some()).count();
    let note = baseline.is_none().then(|| {
        format!(
            "not enough data: {} whole points with a value, need {BASELINE_MIN_POINTS}",
            values.iter().flatten().count()
        )
    });
    AnomalyReport {
        metric: series.metric.clone(),
        config: *config,
        points: present,
        partial_periods: (0..n)
            .filter(|&i| !used[i])
            .map(|i| series.points[i].time())
            .collect(),
        insights: insights(series, &found),
        baseline,
        note,
        anomalies: found,
        scores: all
            .into_iter()
            .map(|(method, scored)| MethodScores {
                method,
                scores: scored.iter().map(|s| s.map(|(score, _)| score)).collect(),
            })
            .collect(),
    }
}

/// Cost spikes (`cost`) and failure surges (`error_rate`, `request_error_rate`,
/// `errors`): anomalies above the band, one record per point.
fn insights(series: &Series, found: &[Anomaly]) -> Vec<Insight> {
    let kind = match series.metric.as_str() {
        "cost" => InsightKind::CostSpike,
        "error_rate" | "request_error_rate" | "errors" => InsightKind::FailureSurge,
        _ => return Vec::new(),
    };
    if series.polarity != Polarity::LowerIsBetter {
        return Vec::new();
    }
    found
        .iter()
        .filter(|a| a.score > 0.0)
        .map(|a| {
            let ratio = (a.expected > 0.0).then(|| a.value / a.expected);
            let times = ratio.map_or(String::new(), |r| format!(" ({r:.1}x)"));
            let message = match kind {
                InsightKind::CostSpike => format!(
                    "cost spike at {}: ${:.2} against ${:.2} expected{times}",
                    a.timestamp, a.value, a.expected
                ),
                InsightKind::FailureSurge => format!(
                    "failure surge at {}: {} {:.4} against {:.4} expected{times}",
                    a.timestamp, series.metric, a.value, a.expected
                ),
            };
            Insight {
                kind,
                metric: series.metric.clone(),
                timestamp: a.timestamp.clone(),
                value: a.value,
                expected: a.expected,
                ratio,
                score: a.score,
                severity: a.severity,
                detectors: a.detectors.clone(),
                message,
            }
        })
        .collect()
}
