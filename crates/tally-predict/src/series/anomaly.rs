//! Anomaly detectors, each giving every point a score and flagging those past its
//! threshold: z-score, IQR fences, rolling robust z (median and MAD of the points
//! before) and a seasonal detector (robust z of what is left once the hour-of-day or
//! day-of-week profile is removed). Flagged costs and failure rates above normal become
//! insight records.

use serde::Serialize;

use super::describe::{mean, median, median_absolute_deviation, quantile, sample_sd};
use super::source::{Polarity, Series};

/// MAD times this estimates the standard deviation of normal data (1 / 0.6745).
const MAD_TO_SD: f64 = 1.482_602_218_505_602;

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
    /// Robust z of `x − profile(slot)` over the whole series (the slot's median is the
    /// profile); flagged past `robust_threshold`.
    Seasonal,
}

impl AnomalyMethod {
    pub const ALL: [AnomalyMethod; 4] = [
        AnomalyMethod::ZScore,
        AnomalyMethod::Iqr,
        AnomalyMethod::RollingRobust,
        AnomalyMethod::Seasonal,
    ];
}

/// Thresholds of the detectors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnomalyConfig {
    pub z_threshold: f64,
    pub iqr_multiplier: f64,
    pub robust_threshold: f64,
    /// Points before each point that the rolling detector compares it with.
    pub rolling_window: usize,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            z_threshold: 3.0,
            iqr_multiplier: 1.5,
            robust_threshold: 3.5,
            rolling_window: 24,
        }
    }
}

/// A point a detector flagged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedPoint {
    pub timestamp: String,
    pub value: f64,
    /// Signed for z-scores (negative: below normal); IQR scores are signed the same way.
    pub score: f64,
    pub method: AnomalyMethod,
    /// What the detector took as normal for this point (mean, median, fence or
    /// profile).
    pub expected: f64,
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
    /// The detectors that flagged the point.
    pub methods: Vec<AnomalyMethod>,
    pub message: String,
}

/// Scores, flagged points and insights of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyReport {
    pub metric: String,
    pub config: AnomalyConfig,
    /// Points with a value.
    pub points: usize,
    pub flagged: Vec<FlaggedPoint>,
    pub insights: Vec<Insight>,
    /// Every point's score per detector (`None` where the point has no value or the
    /// detector has no baseline), in point order.
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

/// Robust z of each residual from the slot profile, against every residual: the
/// baseline is computed once, so the detector is n log n.
fn seasonal_scores(values: &[Option<f64>], season_length: usize) -> Scored {
    let mut slots: Vec<Vec<f64>> = vec![Vec::new(); season_length];
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            slots[i % season_length].push(*v);
        }
    }
    let profile: Vec<Option<f64>> = slots.iter().map(|s| median(s)).collect();
    let residuals: Vec<Option<f64>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Some(v.as_ref()? - profile[i % season_length]?))
        .collect();
    let reference: Vec<f64> = residuals.iter().flatten().copied().collect();
    let Some(baseline) = RobustBaseline::of(&reference) else {
        return vec![None; values.len()];
    };
    residuals
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (score, center) = baseline.score((*r)?);
            Some((score, center + profile[i % season_length]?))
        })
        .collect()
}

fn threshold(method: AnomalyMethod, config: &AnomalyConfig) -> f64 {
    match method {
        AnomalyMethod::ZScore => config.z_threshold,
        AnomalyMethod::Iqr => config.iqr_multiplier,
        AnomalyMethod::RollingRobust | AnomalyMethod::Seasonal => config.robust_threshold,
    }
}

/// The season the seasonal detector removes: the series' own (24 hours, 7 days), or
/// none for other steps (then the detector is skipped).
fn scores(series: &Series, method: AnomalyMethod, config: &AnomalyConfig) -> Option<Scored> {
    let values: Vec<Option<f64>> = series.points.iter().map(|p| p.value).collect();
    Some(match method {
        AnomalyMethod::ZScore => z_scores(&values),
        AnomalyMethod::Iqr => iqr_scores(&values),
        AnomalyMethod::RollingRobust => rolling_robust_scores(&values, config.rolling_window),
        AnomalyMethod::Seasonal => {
            let m = series.season_length()?;
            if values.len() < 2 * m {
                return None;
            }
            seasonal_scores(&values, m)
        }
    })
}

/// Runs every detector over a series.
pub fn anomalies(series: &Series, config: &AnomalyConfig) -> AnomalyReport {
    let mut flagged = Vec::new();
    let mut all_scores = Vec::new();
    for method in AnomalyMethod::ALL {
        let Some(scored) = scores(series, method, config) else {
            continue;
        };
        let limit = threshold(method, config);
        for (point, score) in series.points.iter().zip(&scored) {
            if let (Some(value), Some((score, expected))) = (point.value, score) {
                if score.abs() > limit {
                    flagged.push(FlaggedPoint {
                        timestamp: point.time(),
                        value,
                        score: *score,
                        method,
                        expected: *expected,
                    });
                }
            }
        }
        all_scores.push(MethodScores {
            method,
            scores: scored.iter().map(|s| s.map(|(score, _)| score)).collect(),
        });
    }
    flagged.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    AnomalyReport {
        metric: series.metric.clone(),
        config: *config,
        points: series.points.iter().filter(|p| p.value.is_some()).count(),
        insights: insights(series, &flagged),
        flagged,
        scores: all_scores,
    }
}

/// Cost spikes (`cost`) and failure surges (`error_rate`, `request_error_rate`,
/// `errors`): points flagged above normal by the rolling or seasonal detector (those
/// that compare a point with its own recent or seasonal normal), one record per point.
fn insights(series: &Series, flagged: &[FlaggedPoint]) -> Vec<Insight> {
    let kind = match series.metric.as_str() {
        "cost" => InsightKind::CostSpike,
        "error_rate" | "request_error_rate" | "errors" => InsightKind::FailureSurge,
        _ => return Vec::new(),
    };
    if series.polarity != Polarity::LowerIsBetter {
        return Vec::new();
    }
    let mut out: Vec<Insight> = Vec::new();
    for point in flagged.iter().filter(|f| {
        f.score > 0.0
            && matches!(
                f.method,
                AnomalyMethod::RollingRobust | AnomalyMethod::Seasonal
            )
    }) {
        // `flagged` is in time order, so a point's other detectors follow it directly.
        if let Some(existing) = out.last_mut().filter(|i| i.timestamp == point.timestamp) {
            existing.methods.push(point.method);
            existing.score = existing.score.max(point.score);
            continue;
        }
        let ratio = (point.expected > 0.0).then(|| point.value / point.expected);
        let message = match kind {
            InsightKind::CostSpike => format!(
                "cost spike at {}: ${:.4} against ${:.4} expected{}",
                point.timestamp,
                point.value,
                point.expected,
                ratio.map_or(String::new(), |r| format!(" ({r:.1}x)"))
            ),
            InsightKind::FailureSurge => format!(
                "failure surge at {}: {} {:.4} against {:.4} expected",
                point.timestamp, series.metric, point.value, point.expected
            ),
        };
        out.push(Insight {
            kind,
            metric: series.metric.clone(),
            timestamp: point.timestamp.clone(),
            value: point.value,
            expected: point.expected,
            ratio,
            score: point.score,
            methods: vec![point.method],
            message,
        });
    }
    out
}
