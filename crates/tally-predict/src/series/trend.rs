//! Trends: the least-squares line (as scipy's `linregress`), the Mann-Kendall test
//! with tie-corrected variance and Sen's slope (as pymannkendall's `original_test`),
//! the change over the window and the direction rule.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::describe::{median, tie_sizes};
use super::pair_slopes::median_pair_slope;
use super::source::{Polarity, Series};
use crate::{Error, Result};

/// The least-squares line `y = intercept + slope x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeastSquares {
    pub slope: f64,
    pub intercept: f64,
    /// Pearson's r.
    pub r_value: f64,
    /// Two-sided p-value of `slope = 0` (Student's t, n - 2 degrees of freedom).
    pub p_value: f64,
    pub slope_stderr: f64,
    pub intercept_stderr: f64,
}

/// Least squares of `ys` on `xs` with the moments scipy's `linregress` uses.
///
/// # Errors
/// Fewer than three points, lengths that differ, or all `xs` equal.
pub fn least_squares(xs: &[f64], ys: &[f64]) -> Result<LeastSquares> {
    if xs.len() != ys.len() {
        return Err(Error::Input(format!(
            "least squares needs as many x as y values, got {} and {}",
            xs.len(),
            ys.len()
        )));
    }
    let n = xs.len();
    if n < 3 {
        return Err(Error::TooShort {
            what: "a least-squares trend",
            needed: 3,
            got: n,
        });
    }
    let count = n as f64;
    let x_mean = xs.iter().sum::<f64>() / count;
    let y_mean = ys.iter().sum::<f64>() / count;
    let mut ss_x = 0.0;
    let mut ss_y = 0.0;
    let mut ss_xy = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        ss_x += (x - x_mean) * (x - x_mean);
        ss_y += (y - y_mean) * (y - y_mean);
        ss_xy += (x - x_mean) * (y - y_mean);
    }
    // scipy divides the sums of squares by n (np.cov with bias=1).
    let (ss_x, ss_y, ss_xy) = (ss_x / count, ss_y / count, ss_xy / count);
    if ss_x == 0.0 {
        return Err(Error::Input(
            "least squares needs x values that are not all equal".into(),
        ));
    }
    let r_value = if ss_y == 0.0 {
        0.0
    } else {
        (ss_xy / (ss_x * ss_y).sqrt()).clamp(-1.0, 1.0)
    };
    let slope = ss_xy / ss_x;
    let intercept = y_mean - slope * x_mean;
    let degrees = count - 2.0;
    let slope_stderr = ((1.0 - r_value * r_value) * ss_y / ss_x / degrees).sqrt();
    let intercept_stderr = slope_stderr * (ss_x + x_mean * x_mean).sqrt();
    let p_value = if r_value.abs() == 1.0 {
        0.0
    } else {
        let t = r_value * (degrees / ((1.0 - r_value) * (1.0 + r_value))).sqrt();
        let students = StudentsT::new(0.0, 1.0, degrees)
            .map_err(|e| Error::Input(format!("Student's t: {e}")))?;
        2.0 * students.sf(t.abs())
    };
    Ok(LeastSquares {
        slope,
        intercept,
        r_value,
        p_value,
        slope_stderr,
        intercept_stderr,
    })
}

/// The Mann-Kendall test of a monotonic trend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannKendall {
    /// `S`: the sum of the signs of every later-minus-earlier difference.
    pub s: f64,
    /// The variance of `S` under no trend, corrected for ties.
    pub var_s: f64,
    /// The normal score with continuity correction.
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p_value: f64,
    /// Kendall's tau: `S / (n (n - 1) / 2)`.
    pub tau: f64,
}

/// The Mann-Kendall test of `values` (in time order).
///
/// # Errors
/// Fewer than three values.
pub fn mann_kendall(values: &[f64]) -> Result<MannKendall> {
    let n = values.len();
    if n < 3 {
        return Err(Error::TooShort {
            what: "the Mann-Kendall test",
            needed: 3,
            got: n,
        });
    }
    let mut s = 0.0;
    for (i, earlier) in values.iter().enumerate() {
        for later in &values[i + 1..] {
            s += sign(later - earlier);
        }
    }
    let count = n as f64;
    let ties: f64 = tie_sizes(values)
        .into_iter()
        .map(|t| {
            let t = t as f64;
            t * (t - 1.0) * (2.0 * t + 5.0)
        })
        .sum();
    let var_s = (count * (count - 1.0) * (2.0 * count + 5.0) - ties) / 18.0;
    let z = if var_s <= 0.0 || s == 0.0 {
        0.0
    } else if s > 0.0 {
        (s - 1.0) / var_s.sqrt()
    } else {
        (s + 1.0) / var_s.sqrt()
    };
    let p_value = 2.0 * (1.0 - standard_normal().cdf(z.abs()));
    Ok(MannKendall {
        s,
        var_s,
        z,
        p_value,
        tau: s / (0.5 * count * (count - 1.0)),
    })
}

fn sign(difference: f64) -> f64 {
    if difference > 0.0 {
        1.0
    } else if difference < 0.0 {
        -1.0
    } else {
        0.0
    }
}

pub(crate) fn standard_normal() -> Normal {
    Normal::standard()
}

/// Sen's slope of `(x, y)` points: the median of the slopes between every pair, and
/// the intercept `median(y) - median(x) * slope`. The slopes are not stored (see
/// `pair_slopes.rs`), so memory stays flat in the number of points.
///
/// # Errors
/// Lengths that differ, or fewer than two points with distinct `x`.
pub fn sens_slope(xs: &[f64], ys: &[f64]) -> Result<(f64, f64)> {
    if xs.len() != ys.len() {
        return Err(Error::Input(format!(
            "Sen's slope needs as many x as y values, got {} and {}",
            xs.len(),
            ys.len()
        )));
    }
    let slope = median_pair_slope(xs, ys).ok_or(Error::TooShort {
        what: "Sen's slope",
        needed: 2,
        got: xs.len(),
    })?;
    let intercept = median(ys).unwrap_or(0.0) - median(xs).unwrap_or(0.0) * slope;
    Ok((slope, intercept))
}

/// Which way a metric is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Rising,
    Falling,
    Flat,
}

/// What the direction means for the metric: rising cost is worse, rising success
/// better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outlook {
    Better,
    Worse,
    Unchanged,
}

impl Outlook {
    /// The outlook of `direction` for a metric of `polarity`.
    pub fn of(direction: Direction, polarity: Polarity) -> Outlook {
        match (direction, polarity) {
            (Direction::Flat, _) => Outlook::Unchanged,
            (Direction::Rising, Polarity::HigherIsBetter)
            | (Direction::Falling, Polarity::LowerIsBetter) => Outlook::Better,
            _ => Outlook::Worse,
        }
    }
}

/// The significance level of the direction rule.
pub const DIRECTION_ALPHA: f64 = 0.05;
/// The smallest change over the window (percent) the direction rule calls a change.
pub const DIRECTION_MIN_CHANGE_PCT: f64 = 5.0;

/// Everything `tally trend` reports. Slopes are per step (hour or day, or the CSV's
/// step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// Points with a value (missing points are left out of every test).
    pub n: usize,
    pub step_seconds: i64,
    pub polarity: Polarity,
    pub slope: f64,
    pub intercept: f64,
    pub slope_stderr: f64,
    pub intercept_stderr: f64,
    pub slope_p_value: f64,
    pub r_value: f64,
    /// The fitted line's change from the first to the last step, in percent of its
    /// first value; `None` when that value is 0.
    pub change_pct: Option<f64>,
    pub mk_s: f64,
    pub mk_var_s: f64,
    pub mk_z: f64,
    pub mk_p_value: f64,
    pub mk_tau: f64,
    pub sen_slope: f64,
    pub sen_intercept: f64,
    pub direction: Direction,
    /// Whether the direction is good or bad news for the metric.
    pub outlook: Outlook,
    /// The finding in one sentence.
    pub summary: String,
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
}

/// The trend of a series.
///
/// Direction rule: `stable` unless the Mann-Kendall p-value is below
/// [`DIRECTION_ALPHA`] and the fitted change over the window is at least
/// [`DIRECTION_MIN_CHANGE_PCT`] percent in absolute value (or the line starts at 0 and
/// its slope is not 0); then the sign of the Mann-Kendall `S`, read against the
/// metric's polarity, says whether that is better or worse ([`Outlook`]). (`S`, not Sen's slope: a rate
/// that steps from 1.0 to 0.9 has a Sen's slope of 0, most pairs being ties.)
///
/// # Errors
/// Fewer than three points with a value.
pub fn trend(series: &Series) -> Result<Trend> {
    let (xs, ys) = series.present_xy();
    let fit = least_squares(&xs, &ys)?;
    let mk = mann_kendall(&ys)?;
    let (sen_slope, sen_intercept) = sens_slope(&xs, &ys)?;
    let first_x = xs.first().copied().unwrap_or(0.0);
    let last_x = xs.last().copied().unwrap_or(0.0);
    let start = fit.intercept + fit.slope * first_x;
    let end = fit.intercept + fit.slope * last_x;
    let change_pct = (start != 0.0).then(|| (end - start) / start.abs() * 100.0);
    let material = match change_pct {
        Some(change) => change.abs() >= DIRECTION_MIN_CHANGE_PCT,
        None => fit.slope != 0.0,
    };
    let direction = if mk.p_value < DIRECTION_ALPHA && material && mk.s != 0.0 {
        if mk.s > 0.0 {
            Direction::Rising
        } else {
            Direction::Falling
        }
    } else {
        Direction::Flat
    };
    let outlook = Outlook::of(direction, series.polarity);
    let change = change_pct.map_or(String::new(), |c| format!(" ({c:+.1} % over the window)"));
    let summary = match direction {
        Direction::Flat => format!(
            "{} is flat: no significant change over {} points",
            series.metric,
            ys.len()
        ),
        Direction::Rising | Direction::Falling => format!(
            "{} is {}{change}: {}",
            series.metric,
            if direction == Direction::Rising {
                "rising"
            } else {
                "falling"
            },
            if outlook == Outlook::Better {
                "better"
            } else {
                "worse"
            }
        ),
    };
    let present: Vec<_> = series.points.iter().filter(|p| p.value.is_some()).collect();
    Ok(Trend {
        n: ys.len(),
        step_seconds: series.step_seconds,
        polarity: series.polarity,
        slope: fit.slope,
        intercept: fit.intercept,
        slope_stderr: fit.slope_stderr,
        intercept_stderr: fit.intercept_stderr,
        slope_p_value: fit.p_value,
        r_value: fit.r_value,
        change_pct,
        mk_s: mk.s,
        mk_var_s: mk.var_s,
        mk_z: mk.z,
        mk_p_value: mk.p_value,
        mk_tau: mk.tau,
        sen_slope,
        sen_intercept,
        direction,
        outlook,
        summary,
        first_timestamp: present.first().map(|p| p.time()),
        last_timestamp: present.last().map(|p| p.time()),
    })
}
