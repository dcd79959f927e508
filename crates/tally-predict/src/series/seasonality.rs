//! Rolling averages and seasonal profiles: the mean by hour of day and by day of week,
//! with the Kruskal–Wallis test of whether the hour (or day) matters at all.

use chrono::{DateTime, Datelike, Timelike};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::describe::{average_ranks, mean, tie_sizes};
use super::source::{Point, Polarity, Series, rfc3339};
use crate::{Error, Result};

/// The trailing mean over the last `window` points with a value (missing points are
/// skipped; a point is `None` until the window has a value).
pub fn rolling_average(series: &Series, window: usize) -> Vec<Point> {
    let window = window.max(1);
    series
        .points
        .iter()
        .enumerate()
        .map(|(i, point)| {
            let from = (i + 1).saturating_sub(window);
            let values: Vec<f64> = series.points[from..=i]
                .iter()
                .filter_map(|p| p.value)
                .collect();
            Point {
                timestamp: point.timestamp,
                value: mean(&values),
            }
        })
        .collect()
}

/// The Kruskal–Wallis H test (tie-corrected), as scipy's `kruskal`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KruskalWallis {
    pub h: f64,
    pub degrees_of_freedom: f64,
    pub p_value: f64,
}

/// Kruskal–Wallis over the non-empty groups.
///
/// # Errors
/// Fewer than two non-empty groups, or every value equal.
pub fn kruskal_wallis(groups: &[Vec<f64>]) -> Result<KruskalWallis> {
    let groups: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    if groups.len() < 2 {
        return Err(Error::TooShort {
            what: "the Kruskal-Wallis test (groups)",
            needed: 2,
            got: groups.len(),
        });
    }
    let all: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let n = all.len() as f64;
    let ranks = average_ranks(&all);
    let mut offset = 0;
    let mut sum = 0.0;
    for group in &groups {
        let rank_sum: f64 = ranks[offset..offset + group.len()].iter().sum();
        sum += rank_sum * rank_sum / group.len() as f64;
        offset += group.len();
    }
    let h = 12.0 / (n * (n + 1.0)) * sum - 3.0 * (n + 1.0);
    let ties: f64 = tie_sizes(&all)
        .into_iter()
        .map(|t| (t as f64).powi(3) - t as f64)
        .sum();
    let correction = 1.0 - ties / (n.powi(3) - n);
    if correction <= 0.0 {
        return Err(Error::Input(
            "the Kruskal-Wallis test needs values that are not all equal".into(),
        ));
    }
    let h = h / correction;
    let degrees_of_freedom = (groups.len() - 1) as f64;
    let chi_squared = ChiSquared::new(degrees_of_freedom)
        .map_err(|e| Error::Input(format!("chi-squared: {e}")))?;
    Ok(KruskalWallis {
        h,
        degrees_of_freedom,
        p_value: chi_squared.sf(h),
    })
}

/// What a profile groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// 0..=23, UTC.
    HourOfDay,
    /// 0 = Monday ..= 6 = Sunday.
    DayOfWeek,
}

/// One slot of a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileSlot {
    pub slot: u32,
    pub label: String,
    pub points: usize,
    pub mean: Option<f64>,
}

/// A seasonal profile and the test of its effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub kind: ProfileKind,
    pub slots: Vec<ProfileSlot>,
    /// `None` when the test cannot run (under two slots with values, or all equal).
    pub kruskal_wallis: Option<KruskalWallis>,
    /// Whether the effect is significant at 5 %.
    pub significant: bool,
}

/// The profiles of a series and its best and worst day of the week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seasonality {
    /// Only for series finer than a day.
    pub hour_of_day: Option<Profile>,
    pub day_of_week: Option<Profile>,
    /// The weekday with the best mean, read against the metric's polarity; only with two
    /// weeks of every weekday and a significant weekday effect.
    pub best_day: Option<String>,
    pub worst_day: Option<String>,
    /// The trailing 7-point (days) or 24-point (hours) average.
    pub rolling_average: Vec<RollingPoint>,
    pub rolling_window: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollingPoint {
    pub timestamp: String,
    pub value: Option<f64>,
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn profile(series: &Series, kind: ProfileKind) -> Profile {
    let slots = match kind {
        ProfileKind::HourOfDay => 24,
        ProfileKind::DayOfWeek => 7,
    };
    let mut groups: Vec<Vec<f64>> = vec![Vec::new(); slots];
    for point in &series.points {
        let (Some(value), Some(time)) = (point.value, DateTime::from_timestamp(point.timestamp, 0))
        else {
            continue;
        };
        let slot = match kind {
            ProfileKind::HourOfDay => time.hour() as usize,
            ProfileKind::DayOfWeek => time.weekday().num_days_from_monday() as usize,
        };
        groups[slot].push(value);
    }
    let kruskal = kruskal_wallis(&groups).ok();
    Profile {
        kind,
        slots: groups
            .iter()
            .enumerate()
            .map(|(slot, values)| ProfileSlot {
                slot: slot as u32,
                label: match kind {
                    ProfileKind::HourOfDay => format!("{slot:02}:00"),
                    ProfileKind::DayOfWeek => WEEKDAYS[slot].to_owned(),
                },
                points: values.len(),
                mean: mean(values),
            })
            .collect(),
        significant: kruskal.is_some_and(|k| k.p_value < 0.05),
        kruskal_wallis: kruskal,
    }
}

/// Points per day: 24 for hours, 1 for days (and coarser steps).
fn slots_per_day(series: &Series) -> usize {
    usize::try_from(86_400 / series.step_seconds.max(1))
        .unwrap_or(1)
        .max(1)
}

/// Profiles, best and worst weekday, and the rolling average of a series.
pub fn seasonality(series: &Series) -> Seasonality {
    let hourly = series.step_seconds < 86_400;
    let day_of_week =
        (series.step_seconds <= 86_400).then(|| profile(series, ProfileKind::DayOfWeek));
    // A best or worst day is claimed only from two weeks of every weekday and a
    // significant weekday effect.
    let ranked: Vec<(usize, f64)> = day_of_week
        .as_ref()
        .filter(|p| {
            p.significant
                && p.slots
                    .iter()
                    .all(|s| s.points >= 2 * slots_per_day(series))
        })
        .map(|p| {
            p.slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.mean.map(|m| (i, m)))
                .collect()
        })
        .unwrap_or_default();
    let highest = ranked
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|r| r.0);
    let lowest = ranked
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|r| r.0);
    let (best, worst) = match series.polarity {
        Polarity::HigherIsBetter => (highest, lowest),
        Polarity::LowerIsBetter => (lowest, highest),
    };
    let weekday = |i: usize| WEEKDAYS[i].to_owned();
    let rolling_window = if hourly { 24 } else { 7 };
    Seasonality {
        hour_of_day: hourly.then(|| profile(series, ProfileKind::HourOfDay)),
        day_of_week,
        best_day: best.map(weekday),
        worst_day: worst.map(weekday),
        rolling_average: rolling_average(series, rolling_window)
            .into_iter()
            .map(|p| RollingPoint {
                timestamp: rfc3339(p.timestamp),
                value: p.value,
            })
            .collect(),
        rolling_window,
    }
}
