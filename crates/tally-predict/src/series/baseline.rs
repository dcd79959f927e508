//! The seasonal baseline anomalies are measured against: a robust straight trend
//! combined with an hour-of-day and a day-of-week profile learned from the series, and
//! the noise around it. Volumes (counts and sums) are modelled as trend × profiles with
//! noise growing as the square root of the expected value (and for counts of events
//! never below Poisson's √expected); other series as trend + profiles with constant
//! noise. The rule is in `docs/series.md`.

use chrono::{DateTime, Datelike, Timelike};
use serde::Serialize;

use super::describe::{mean, median};
use super::pair_slopes::median_pair_slope;
use super::seasonality::{ProfileKind, kruskal_wallis};
use super::source::{Metric, Series};

/// MAD times this estimates the standard deviation of normal data (1 / 0.6745).
pub(crate) const MAD_TO_SD: f64 = 1.482_602_218_505_602;

/// The fewest usable points a baseline is learned from.
pub const BASELINE_MIN_POINTS: usize = 8;

/// Past this many points the trend is fitted on block medians (Sen's slope is
/// quadratic in the points).
const TREND_MAX_POINTS: usize = 1_500;

/// Expected values below this share of the mean get the noise of this share: a night
/// hour expected at almost 0 is not held to almost no noise.
const NOISE_FLOOR_SHARE: f64 = 1.0 / 16.0;

/// How the trend and the profiles combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineForm {
    /// `trend × hour × weekday`, noise ∝ √expected (counts and sums).
    Multiplicative,
    /// `trend + hour + weekday`, constant noise (rates, latencies, CSV series).
    Additive,
}

/// What the baseline learned from the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    pub form: BaselineForm,
    /// The profiles used: only those with at least two cycles of every slot and a
    /// significant effect (Kruskal–Wallis p < 0.05).
    pub seasons: Vec<ProfileKind>,
    /// The trend's change per step (Sen's slope of the deseasonalised values).
    pub trend_per_step: f64,
    /// The robust standard deviation of the noise (at the mean expected value, for a
    /// multiplicative baseline).
    pub noise_sd: f64,
    /// Points the baseline was learned from.
    pub points: usize,
    /// Per point: the expected value and the noise standard deviation there (`None`
    /// for points left out).
    #[serde(skip)]
    pub(crate) expected: Vec<Option<(f64, f64)>>,
}

impl Baseline {
    /// The expected value and the noise standard deviation at point `index` (`None`
    /// for a point left out).
    pub fn expected_at(&self, index: usize) -> Option<(f64, f64)> {
        self.expected.get(index).copied().flatten()
    }
}

/// The calendar slot of each point for a profile: hour of day for series finer than a
/// day, weekday for series of a day or finer; `None` for other steps.
fn slots(series: &Series, kind: ProfileKind) -> Option<Vec<usize>> {
    let fits = match kind {
        ProfileKind::HourOfDay => series.step_seconds < 86_400 && 86_400 % series.step_seconds == 0,
        ProfileKind::DayOfWeek => {
            series.step_seconds <= 86_400 && 86_400 % series.step_seconds == 0
        }
    };
    if !fits {
        return None;
    }
    Some(
        series
            .points
            .iter()
            .map(|p| {
                let time = DateTime::from_timestamp(p.timestamp, 0).unwrap_or_default();
                match kind {
                    ProfileKind::HourOfDay => time.hour() as usize,
                    ProfileKind::DayOfWeek => time.weekday().num_days_from_monday() as usize,
                }
            })
            .collect(),
    )
}

fn slot_count(kind: ProfileKind) -> usize {
    match kind {
        ProfileKind::HourOfDay => 24,
        ProfileKind::DayOfWeek => 7,
    }
}

/// A seasonal component: each point's slot and each slot's offset (or factor).
struct Season {
    kind: ProfileKind,
    slot_of: Vec<usize>,
    effect: Vec<f64>,
    /// Per point: its slot's effect learned without the point itself, so a point is
    /// never judged against a profile it shaped.
    held_out: Vec<Option<f64>>,
}

/// The median of `sorted` without the element at `skip`; `None` when nothing is left.
fn median_without(sorted: &[f64], skip: usize) -> Option<f64> {
    let rest = sorted.len().checked_sub(1).filter(|r| *r > 0)?;
    let at = |p: usize| sorted[if p < skip { p } else { p + 1 }];
    let position = 0.5 * (rest - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    Some(at(below) + (at(above) - at(below)) * (position - below as f64))
}

/// Sen's slope of `(x, y)` and the median of `y − slope·x` as intercept, on block
/// medians past [`TREND_MAX_POINTS`].
fn robust_line(xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let block = xs.len().div_ceil(TREND_MAX_POINTS).max(1);
    let (bx, by): (Vec<f64>, Vec<f64>) = xs
        .chunks(block)
        .zip(ys.chunks(block))
        .filter_map(|(x, y)| Some((median(x)?, median(y)?)))
        .unzip();
    let slope = median_pair_slope(&bx, &by).unwrap_or(0.0);
    let offsets: Vec<f64> = bx.iter().zip(&by).map(|(x, y)| y - slope * x).collect();
    (slope, median(&offsets).unwrap_or(0.0))
}

/// Learns the baseline from the points `used` marks (present and whole). `None` below
/// [`BASELINE_MIN_POINTS`] such points.
pub(crate) fn fit(series: &Series, used: &[bool]) -> Option<Baseline> {
    let start = series.points.first()?.timestamp;
    let index: Vec<usize> = (0..series.points.len())
        .filter(|&i| used[i] && series.points[i].value.is_some())
        .collect();
    if index.len() < BASELINE_MIN_POINTS {
        return None;
    }
    let x = |i: usize| (series.points[i].timestamp - start) as f64 / series.step_seconds as f64;
    let y = |i: usize| series.points[i].value.unwrap_or(0.0);
    let xs: Vec<f64> = index.iter().map(|&i| x(i)).collect();
    let ys: Vec<f64> = index.iter().map(|&i| y(i)).collect();
    let metric = Metric::parse(&series.metric).ok();
    let volume = metric.is_some_and(Metric::zero_filled);
    let counts = metric.is_some_and(Metric::counts_events);
    let form = if volume && ys.iter().all(|v| *v >= 0.0) && median(&ys).is_some_and(|m| m > 0.0) {
        BaselineForm::Multiplicative
    } else {
        BaselineForm::Additive
    };
    let neutral = match form {
        BaselineForm::Multiplicative => 1.0,
        BaselineForm::Additive => 0.0,
    };
    let remove = |value: f64, effect: f64| match form {
        BaselineForm::Multiplicative if effect > 0.0 => value / effect,
        BaselineForm::Multiplicative => value,
        BaselineForm::Additive => value - effect,
    };
    let combine = |value: f64, effect: f64| match form {
        BaselineForm::Multiplicative => value * effect,
        BaselineForm::Additive => value + effect,
    };

    // The profiles worth using: every slot seen in two cycles, and a significant effect
    // on the detrended values.
    let (slope, intercept) = robust_line(&xs, &ys);
    let mut seasons: Vec<Season> = Vec::new();
    for kind in [ProfileKind::HourOfDay, ProfileKind::DayOfWeek] {
        let Some(slot_of) = slots(series, kind) else {
            continue;
        };
        let count = slot_count(kind);
        let cycle_seconds = match kind {
            ProfileKind::HourOfDay => 86_400,
            ProfileKind::DayOfWeek => 7 * 86_400,
        };
        let mut groups: Vec<Vec<f64>> = vec![Vec::new(); count];
        let mut cycles: Vec<Vec<i64>> = vec![Vec::new(); count];
        for (k, &i) in index.iter().enumerate() {
            groups[slot_of[i]].push(remove(ys[k], intercept + slope * xs[k]));
            let cycle = series.points[i].timestamp.div_euclid(cycle_seconds);
            if cycles[slot_of[i]].last() != Some(&cycle) {
                cycles[slot_of[i]].push(cycle);
            }
        }
        let whole = cycles.iter().all(|c| c.len() >= 2);
        let significant = kruskal_wallis(&groups).is_ok_and(|k| k.p_value < 0.05);
        if whole && significant {
            seasons.push(Season {
                kind,
                slot_of,
                effect: vec![neutral; count],
                held_out: vec![None; series.points.len()],
            });
        }
    }

    // Alternate: profiles from the detrended values, the trend from the deseasonalised.
    let (mut slope, mut intercept) = (slope, intercept);
    let seasonal = |seasons: &[Season], i: usize, skip: Option<usize>| {
        seasons
            .iter()
            .enumerate()
            .filter(|(s, _)| Some(*s) != skip)
            .fold(neutral, |acc, (_, season)| {
                combine(acc, season.effect[season.slot_of[i]])
            })
    };
    for _ in 0..3 {
        for s in 0..seasons.len() {
            let count = slot_count(seasons[s].kind);
            let mut groups: Vec<Vec<(f64, usize)>> = vec![Vec::new(); count];
            for (k, &i) in index.iter().enumerate() {
                let rest = combine(intercept + slope * xs[k], seasonal(&seasons, i, Some(s)));
                let value = match form {
                    BaselineForm::Multiplicative if rest > 0.0 => ys[k] / rest,
                    BaselineForm::Multiplicative => continue,
                    BaselineForm::Additive => ys[k] - rest,
                };
                groups[seasons[s].slot_of[i]].push((value, i));
            }
            for group in &mut groups {
                group.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let sorted: Vec<Vec<f64>> = groups
                .iter()
                .map(|g| g.iter().map(|(v, _)| *v).collect())
                .collect();
            let effect: Vec<f64> = sorted
                .iter()
                .map(|g| median(g).unwrap_or(neutral))
                .collect();
            // Centre the profile so the trend keeps the level.
            let centre = mean(&effect).unwrap_or(neutral);
            let centred = |e: f64| match form {
                BaselineForm::Multiplicative if centre > 0.0 => e / centre,
                BaselineForm::Multiplicative => neutral,
                BaselineForm::Additive => e - centre,
            };
            for (slot, group) in groups.iter().enumerate() {
                for (rank, (_, i)) in group.iter().enumerate() {
                    seasons[s].held_out[*i] = median_without(&sorted[slot], rank).map(centred);
                }
            }
            seasons[s].effect = effect.into_iter().map(centred).collect();
        }
        let adjusted: Vec<f64> = index
            .iter()
            .enumerate()
            .map(|(k, &i)| remove(ys[k], seasonal(&seasons, i, None)))
            .collect();
        (slope, intercept) = robust_line(&xs, &adjusted);
    }

    let expected_at = |i: usize| {
        let profile = seasons.iter().fold(neutral, |acc, season| {
            let effect = season.held_out[i].unwrap_or(season.effect[season.slot_of[i]]);
            combine(acc, effect)
        });
        let value = combine(intercept + slope * x(i), profile);
        match form {
            BaselineForm::Multiplicative => value.max(0.0),
            BaselineForm::Additive => value,
        }
    };
    let used_expected: Vec<f64> = index.iter().map(|&i| expected_at(i)).collect();
    let mean_expected = mean(&used_expected).unwrap_or(0.0);
    // The noise's relative size at a point: √(expected / mean expected) for volumes.
    let weight = |expected: f64| match form {
        BaselineForm::Multiplicative if mean_expected > 0.0 => {
            (expected.max(NOISE_FLOOR_SHARE * mean_expected) / mean_expected).sqrt()
        }
        _ => 1.0,
    };
    let standardized: Vec<f64> = index
        .iter()
        .zip(&used_expected)
        .map(|(&i, e)| (y(i) - e) / weight(*e))
        .collect();
    let centre = median(&standardized).unwrap_or(0.0);
    let deviations: Vec<f64> = standardized.iter().map(|u| (u - centre).abs()).collect();
    let mut noise_sd = median(&deviations).unwrap_or(0.0) * MAD_TO_SD;
    if noise_sd == 0.0 {
        // More than half the points sit exactly on the baseline.
        noise_sd = mean(&deviations).unwrap_or(0.0) * 1.253_314_137_315_500_3;
    }
    let expected = (0..series.points.len())
        .map(|i| {
            (used[i] && series.points[i].value.is_some()).then(|| {
                let e = expected_at(i);
                let sd = noise_sd * weight(e);
                // A count varies at least as a Poisson count does: a quiet series
                // whose residuals happen to be small is not held to less.
                (e, if counts { sd.max(e.sqrt()) } else { sd })
            })
        })
        .collect();
    Some(Baseline {
        form,
        seasons: seasons.iter().map(|s| s.kind).collect(),
        trend_per_step: slope,
        noise_sd,
        points: index.len(),
        expected,
    })
}
