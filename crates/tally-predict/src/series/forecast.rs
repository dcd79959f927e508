//! Forecasts: the least-squares line, simple exponential smoothing (a level) and
//! additive Holt-Winters (level, trend and season), each with a 95 % prediction
//! interval; the model is chosen by back-testing on the last points, scored by MASE.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::source::{Series, rfc3339};
use super::trend::least_squares;
use crate::{Error, Result};

/// The normal quantile of a two-sided 95 % interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// Which model made a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastModel {
    Linear,
    /// Simple exponential smoothing: a level, no trend or season.
    Level,
    HoltWinters,
}

impl ForecastModel {
    /// The model's name in plain words.
    pub fn label(self) -> &'static str {
        match self {
            ForecastModel::Linear => "straight line",
            ForecastModel::Level => "smoothed level",
            ForecastModel::HoltWinters => "trend and season (Holt-Winters)",
        }
    }
}

/// One forecast step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastPoint {
    pub timestamp: String,
    /// Steps ahead of the last point, from 1.
    pub step: usize,
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A model's score on the held-out points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Backtest {
    pub model: ForecastModel,
    /// Mean absolute error over the held-out points divided by the in-sample mean
    /// absolute error of the (seasonal) naive forecast.
    pub mase: f64,
    pub held_out: usize,
}

/// What `tally forecast` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub model: ForecastModel,
    pub horizon: usize,
    /// The season length Holt-Winters used, when it was a candidate.
    pub season_length: Option<usize>,
    /// The chosen model's back-test score.
    pub mase: Option<f64>,
    pub backtests: Vec<Backtest>,
    /// The Holt-Winters parameters, when it was chosen.
    pub holt_winters: Option<HoltWintersParameters>,
    pub points: Vec<ForecastPoint>,
}

/// Point forecasts and the half-width of their 95 % interval, per step.
#[derive(Debug, Clone, PartialEq)]
struct Projection {
    values: Vec<f64>,
    half_widths: Vec<f64>,
}

/// The least-squares line projected `horizon` steps past the last of `values`, with the
/// prediction interval `t(0.975, n-2) s sqrt(1 + 1/n + (x - mean x)^2 / Sxx)`.
///
/// # Errors
/// Fewer than three values.
pub fn linear_forecast(values: &[f64], horizon: usize) -> Result<Vec<(f64, f64, f64)>> {
    let projection = linear(values, horizon)?;
    Ok(bounds(&projection))
}

fn bounds(projection: &Projection) -> Vec<(f64, f64, f64)> {
    projection
        .values
        .iter()
        .zip(&projection.half_widths)
        .map(|(v, w)| (*v, v - w, v + w))
        .collect()
}

fn linear(values: &[f64], horizon: usize) -> Result<Projection> {
    let xs: Vec<f64> = (0..values.len()).map(|i| i as f64).collect();
    let fit = least_squares(&xs, values)?;
    let n = values.len() as f64;
    let x_mean = (n - 1.0) / 2.0;
    let sxx: f64 = xs.iter().map(|x| (x - x_mean).powi(2)).sum();
    let sse: f64 = xs
        .iter()
        .zip(values)
        .map(|(x, y)| (y - fit.intercept - fit.slope * x).powi(2))
        .sum();
    let s = (sse / (n - 2.0)).sqrt();
    let t = StudentsT::new(0.0, 1.0, n - 2.0)
        .map_err(|e| Error::Input(format!("Student's t: {e}")))?
        .inverse_cdf(0.975);
    let mut projection = Projection {
        values: Vec::with_capacity(horizon),
        half_widths: Vec::with_capacity(horizon),
    };
    for h in 1..=horizon {
        let x = n - 1.0 + h as f64;
        projection.values.push(fit.intercept + fit.slope * x);
        projection
            .half_widths
            .push(t * s * (1.0 + 1.0 / n + (x - x_mean).powi(2) / sxx).sqrt());
    }
    Ok(projection)
}

/// Additive Holt-Winters smoothing weights and initial state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoltWintersParameters {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub season_length: usize,
    pub initial_level: f64,
    pub initial_trend: f64,
    /// The season's initial offsets, for the first `season_length` observations.
    pub initial_seasonal: Vec<f64>,
}

/// A fitted Holt-Winters model: its final state and one-step errors.
#[derive(Debug, Clone, PartialEq)]
pub struct HoltWintersFit {
    pub level: f64,
    pub trend: f64,
    /// The last `season_length` seasonal offsets, oldest first.
    pub season: Vec<f64>,
    /// Sum of squared one-step-ahead errors.
    pub sse: f64,
    pub observations: usize,
}

impl HoltWintersParameters {
    /// Runs the recursions over `values` (the same equations as statsmodels'
    /// `ExponentialSmoothing(trend="add", seasonal="add")`):
    ///
    /// ```text
    /// l_t = α (y_t − s_{t−m}) + (1 − α)(l_{t−1} + b_{t−1})
    /// b_t = β (l_t − l_{t−1}) + (1 − β) b_{t−1}
    /// s_t = γ (y_t − l_{t−1} − b_{t−1}) + (1 − γ) s_{t−m}
    /// ```
    ///
    /// As in statsmodels, the seasonal offset of the last observation's slot is not
    /// updated by that observation.
    pub fn fit(&self, values: &[f64]) -> HoltWintersFit {
        let m = self.season_length;
        let mut season = self.initial_seasonal.clone();
        season.reserve(values.len());
        let (mut level, mut trend) = (self.initial_level, self.initial_trend);
        let mut sse = 0.0;
        for (t, &y) in values.iter().enumerate() {
            let offset = season[t];
            sse += (y - (level + trend + offset)).powi(2);
            let next_level = self.alpha * (y - offset) + (1.0 - self.alpha) * (level + trend);
            let next_trend = self.beta * (next_level - level) + (1.0 - self.beta) * trend;
            // statsmodels' convention, kept so forecasts match it: the last
            // observation's seasonal update is not carried into the forecasts (its slot
            // keeps the offset of one season earlier).
            if t + 1 < values.len() {
                season.push(self.gamma * (y - level - trend) + (1.0 - self.gamma) * offset);
            } else {
                season.push(offset);
            }
            level = next_level;
            trend = next_trend;
        }
        HoltWintersFit {
            level,
            trend,
            season: season[season.len() - m..].to_vec(),
            sse,
            observations: values.len(),
        }
    }

    /// The classic initial state: the first season's mean as level, the mean change
    /// between the first two seasons per step as trend, and the first season's
    /// deviations from its mean as offsets.
    ///
    /// # Errors
    /// Fewer than two seasons of values.
    pub fn initial_state(values: &[f64], season_length: usize) -> Result<(f64, f64, Vec<f64>)> {
        let m = season_length;
        if m < 2 || values.len() < 2 * m {
            return Err(Error::TooShort {
                what: "Holt-Winters (two seasons)",
                needed: 2 * m.max(2),
                got: values.len(),
            });
        }
        let first = values[..m].iter().sum::<f64>() / m as f64;
        let second = values[m..2 * m].iter().sum::<f64>() / m as f64;
        let seasonal = values[..m].iter().map(|v| v - first).collect();
        Ok((first, (second - first) / m as f64, seasonal))
    }
}

impl HoltWintersFit {
    /// Point forecasts `l + h b + s_{n − m + 1 + (h − 1) mod m}` for `h` in
    /// `1..=horizon`.
    pub fn forecast(&self, horizon: usize) -> Vec<f64> {
        let m = self.season.len();
        (1..=horizon)
            .map(|h| self.level + h as f64 * self.trend + self.season[(h - 1) % m])
            .collect()
    }
}

/// Holt-Winters forecasts with explicit parameters.
pub fn holt_winters_forecast(
    values: &[f64],
    parameters: &HoltWintersParameters,
    horizon: usize,
) -> Vec<f64> {
    parameters.fit(values).forecast(horizon)
}

/// The smoothing weights tried when fitting: every combination, keeping the one with
/// the least one-step squared error.
const ALPHAS: [f64; 6] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8];
const BETAS: [f64; 4] = [0.01, 0.05, 0.1, 0.2];
const GAMMAS: [f64; 4] = [0.05, 0.1, 0.3, 0.5];

/// Coordinate search from `start`: each weight moves by its step while that lowers
/// `cost`, and the steps halve when no move does (ten halvings). Weights stay in
/// `[0.001, 1]`.
fn refine(start: &mut [f64], steps: &mut [f64], cost: impl Fn(&[f64]) -> f64) {
    let mut best = cost(start);
    let mut halvings = 0;
    while halvings < 10 {
        let mut improved = false;
        for k in 0..start.len() {
            for direction in [-1.0, 1.0] {
                let mut candidate = start.to_vec();
                candidate[k] = (candidate[k] + direction * steps[k]).clamp(0.001, 1.0);
                let value = cost(&candidate);
                if value < best {
                    best = value;
                    start.copy_from_slice(&candidate);
                    improved = true;
                }
            }
        }
        if !improved {
            for step in steps.iter_mut() {
                *step /= 2.0;
            }
            halvings += 1;
        }
    }
}

fn fit_holt_winters(values: &[f64], season_length: usize) -> Result<HoltWintersParameters> {
    let (initial_level, initial_trend, initial_seasonal) =
        HoltWintersParameters::initial_state(values, season_length)?;
    let with = |alpha: f64, beta: f64, gamma: f64| HoltWintersParameters {
        alpha,
        beta,
        gamma,
        season_length,
        initial_level,
        initial_trend,
        initial_seasonal: initial_seasonal.clone(),
    };
    let mut best: Option<(f64, [f64; 3])> = None;
    for alpha in ALPHAS {
        for beta in BETAS {
            for gamma in GAMMAS {
                let sse = with(alpha, beta, gamma).fit(values).sse;
                if best.as_ref().is_none_or(|(b, _)| sse < *b) {
                    best = Some((sse, [alpha, beta, gamma]));
                }
            }
        }
    }
    let (_, mut weights) = best.ok_or(Error::TooShort {
        what: "Holt-Winters",
        needed: 2 * season_length,
        got: values.len(),
    })?;
    refine(&mut weights, &mut [0.05, 0.02, 0.05], |w| {
        with(w[0], w[1], w[2]).fit(values).sse
    });
    Ok(with(weights[0], weights[1], weights[2]))
}

/// Simple exponential smoothing `l_t = α y_t + (1 − α) l_{t−1}` from `l_0 = y_0`: the
/// final level and the sum of squared one-step errors.
fn smooth_level(values: &[f64], alpha: f64) -> (f64, f64) {
    let mut level = values.first().copied().unwrap_or(0.0);
    let mut sse = 0.0;
    for &y in values {
        sse += (y - level).powi(2);
        level = alpha * y + (1.0 - alpha) * level;
    }
    (level, sse)
}

/// The smoothed level projected flat, `α` chosen by least one-step squared error; the
/// interval `ŷ ± 1.96 σ √(1 + (h − 1) α²)`.
fn level(values: &[f64], horizon: usize) -> Projection {
    let mut alpha = [ALPHAS
        .into_iter()
        .chain([1.0])
        .min_by(|a, b| {
            smooth_level(values, *a)
                .1
                .total_cmp(&smooth_level(values, *b).1)
        })
        .unwrap_or(0.5)];
    refine(&mut alpha, &mut [0.05], |a| smooth_level(values, a[0]).1);
    let (last, sse) = smooth_level(values, alpha[0]);
    let sigma = (sse / values.len().max(1) as f64).sqrt();
    Projection {
        values: vec![last; horizon],
        half_widths: (1..=horizon)
            .map(|h| Z_95 * sigma * (1.0 + (h - 1) as f64 * alpha[0] * alpha[0]).sqrt())
            .collect(),
    }
}

/// Holt-Winters projection with the additive-model interval: the one-step error
/// variance `σ²` grows as `σ² (1 + Σ_{j<h} c_j²)`, `c_j = α (1 + j β) + γ [j mod m = 0]`.
fn holt_winters(
    values: &[f64],
    season_length: usize,
    horizon: usize,
) -> Result<(Projection, HoltWintersParameters)> {
    let parameters = fit_holt_winters(values, season_length)?;
    let fit = parameters.fit(values);
    let sigma = (fit.sse / values.len() as f64).sqrt();
    let mut half_widths = Vec::with_capacity(horizon);
    let mut accumulated = 1.0;
    for h in 1..=horizon {
        if h > 1 {
            let j = (h - 1) as f64;
            let seasonal = if (h - 1) % season_length == 0 {
                parameters.gamma
            } else {
                0.0
            };
            let c = parameters.alpha * (1.0 + j * parameters.beta) + seasonal;
            accumulated += c * c;
        }
        half_widths.push(Z_95 * sigma * accumulated.sqrt());
    }
    Ok((
        Projection {
            values: fit.forecast(horizon),
            half_widths,
        },
        parameters,
    ))
}

/// The in-sample mean absolute error of the naive forecast at lag `lag`.
fn naive_scale(values: &[f64], lag: usize) -> Option<f64> {
    if values.len() <= lag {
        return None;
    }
    let errors: Vec<f64> = values
        .windows(lag + 1)
        .map(|w| (w[lag] - w[0]).abs())
        .collect();
    let scale = errors.iter().sum::<f64>() / errors.len() as f64;
    (scale > 0.0).then_some(scale)
}

fn backtest(
    values: &[f64],
    held_out: usize,
    season_length: Option<usize>,
    model: ForecastModel,
) -> Option<Backtest> {
    let (train, test) = values.split_at(values.len() - held_out);
    let predicted = match (model, season_length) {
        (ForecastModel::Linear, _) => linear(train, held_out).ok()?.values,
        (ForecastModel::Level, _) => level(train, held_out).values,
        (ForecastModel::HoltWinters, Some(m)) => holt_winters(train, m, held_out).ok()?.0.values,
        (ForecastModel::HoltWinters, None) => return None,
    };
    let mae = predicted
        .iter()
        .zip(test)
        .map(|(p, y)| (p - y).abs())
        .sum::<f64>()
        / held_out as f64;
    let scale = naive_scale(train, season_length.unwrap_or(1))
        .or_else(|| naive_scale(train, 1))
        .unwrap_or(1.0);
    Some(Backtest {
        model,
        mase: mae / scale,
        held_out,
    })
}

/// The least autocorrelation a cycle found in the values must have.
const MIN_CYCLE_AUTOCORRELATION: f64 = 0.3;

/// A cycle in values whose step has no calendar season (years, say): the lag, up to a
/// third of the series, where the autocorrelation of the residuals from the
/// least-squares line peaks after first turning negative, if it reaches
/// [`MIN_CYCLE_AUTOCORRELATION`].
fn detected_season(values: &[f64]) -> Option<usize> {
    let n = values.len();
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let fit = least_squares(&xs, values).ok()?;
    let residuals: Vec<f64> = values
        .iter()
        .enumerate()
        .map(|(i, y)| y - fit.intercept - fit.slope * i as f64)
        .collect();
    let centre = residuals.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = residuals.iter().map(|r| r - centre).collect();
    let variance: f64 = centred.iter().map(|r| r * r).sum();
    if variance <= 0.0 {
        return None;
    }
    let autocorrelation = |lag: usize| {
        centred[lag..]
            .iter()
            .zip(&centred)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / variance
    };
    let last = n / 3;
    let negative = (1..=last).find(|&lag| autocorrelation(lag) < 0.0)?;
    let (lag, peak) = (negative..last)
        .map(|lag| (lag, autocorrelation(lag)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (lag >= 2 && peak >= MIN_CYCLE_AUTOCORRELATION).then_some(lag)
}

/// Forecasts `horizon` steps past the series' last point. Missing values are
/// interpolated first. Both models are back-tested on the last `min(max(horizon,
/// season), n / 4)` points, fitted on the points before; the one with the lower MASE
/// forecasts from the whole series (Holt-Winters only competes with two full seasons
/// in the training part).
///
/// # Errors
/// A horizon of 0, or fewer than eight points with values.
pub fn forecast(series: &Series, horizon: usize) -> Result<Forecast> {
    if horizon == 0 {
        return Err(Error::Input("the horizon must be at least 1 step".into()));
    }
    let values = series.filled_values().unwrap_or_default();
    let present = series.points.iter().filter(|p| p.value.is_some()).count();
    if present < 8 {
        return Err(Error::TooShort {
            what: "a forecast",
            needed: 8,
            got: present,
        });
    }
    let season_length = series.season_length().or_else(|| detected_season(&values));
    let held_out = horizon
        .max(season_length.unwrap_or(1))
        .min(values.len() / 4)
        .max(1);
    let backtests: Vec<Backtest> = [
        ForecastModel::Linear,
        ForecastModel::Level,
        ForecastModel::HoltWinters,
    ]
    .into_iter()
    .filter_map(|model| backtest(&values, held_out, season_length, model))
    .collect();
    let chosen = backtests
        .iter()
        .min_by(|a, b| a.mase.total_cmp(&b.mase))
        .copied();
    let model = chosen.map_or(ForecastModel::Linear, |b| b.model);
    let (projection, holt_winters_parameters) = match (model, season_length) {
        (ForecastModel::HoltWinters, Some(m)) => {
            let (projection, parameters) = holt_winters(&values, m, horizon)?;
            (projection, Some(parameters))
        }
        (ForecastModel::Level, _) => (level(&values, horizon), None),
        _ => (linear(&values, horizon)?, None),
    };
    let last = series.points.last().map_or(0, |p| p.timestamp);
    let points = bounds(&projection)
        .into_iter()
        .enumerate()
        .map(|(i, (value, lower, upper))| ForecastPoint {
            timestamp: rfc3339(last + series.step_seconds * (i as i64 + 1)),
            step: i + 1,
            value,
            lower,
            upper,
        })
        .collect();
    Ok(Forecast {
        model,
        horizon,
        season_length,
        mase: chosen.map(|b| b.mase),
        backtests,
        holt_winters: holt_winters_parameters,
        points,
    })
}
