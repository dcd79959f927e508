//! User engagement: active, new and returning users per day, week or month, sessions
//! and their lengths, and retention cohorts by the week users were first seen. Read from
//! the engagement tables the ingest keeps (a row per user and active day, a row per
//! session), never from raw events.
//!
//! A user is a `user_id` within its project. Weeks start on Monday, days and months at
//! midnight UTC. A session without an end is closed by inactivity once `timeout` has
//! passed since its last activity: its length is then from its first to its last
//! activity; until then it is open, counted in `sessions` but not in the lengths.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use tally_store::{EngagementReader, Filter};

use crate::Result;

/// The default inactivity after which a session without an end is closed.
pub const DEFAULT_SESSION_TIMEOUT_MINUTES: u64 = 30;

/// How many periods the view covers when the filter gives no range.
const DEFAULT_PERIODS: i64 = 30;
/// How many weeks of cohorts the cohort view covers when the filter gives no range.
const DEFAULT_COHORT_WEEKS: i64 = 12;

const DAY: i64 = 86_400;

/// How long one row of the engagement view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementGranularity {
    #[default]
    Day,
    Week,
    Month,
}

impl EngagementGranularity {
    /// The value for a query word (`day`, `week`, `month`).
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "day" => Some(EngagementGranularity::Day),
            "week" => Some(EngagementGranularity::Week),
            "month" => Some(EngagementGranularity::Month),
            _ => None,
        }
    }

    /// The start (epoch seconds) of the period holding day `day` (epoch seconds).
    fn period_of(self, day: i64) -> i64 {
        let day = day.div_euclid(DAY) * DAY;
        match self {
            EngagementGranularity::Day => day,
            // 1970-01-01 was a Thursday: Mondays are 4 days after multiples of a week.
            EngagementGranularity::Week => day - (day / DAY - 4).rem_euclid(7) * DAY,
            EngagementGranularity::Month => {
                let date = date_of(day);
                day - i64::from(date.day0()) * DAY
            }
        }
    }

    /// The start of the period after the one starting at `start`.
    fn next(self, start: i64) -> i64 {
        match self {
            EngagementGranularity::Day => start + DAY,
            EngagementGranularity::Week => start + 7 * DAY,
            EngagementGranularity::Month => {
                let date = date_of(start);
                let (year, month) = if date.month() == 12 {
                    (date.year() + 1, 1)
                } else {
                    (date.year(), date.month() + 1)
                };
                NaiveDate::from_ymd_opt(year, month, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(start + 31 * DAY, |d| d.and_utc().timestamp())
            }
        }
    }

    /// The start of the period `count` periods before the one starting at `start`.
    fn back(self, start: i64, count: i64) -> i64 {
        match self {
            EngagementGranularity::Day => start - count * DAY,
            EngagementGranularity::Week => start - count * 7 * DAY,
            EngagementGranularity::Month => {
                let date = date_of(start);
                let months = i64::from(date.year()) * 12 + i64::from(date.month0()) - count;
                let year = i32::try_from(months.div_euclid(12)).unwrap_or(1970);
                let month = u32::try_from(months.rem_euclid(12) + 1).unwrap_or(1);
                NaiveDate::from_ymd_opt(year, month, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(start, |d| d.and_utc().timestamp())
            }
        }
    }
}

fn date_of(seconds: i64) -> NaiveDate {
    DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .date_naive()
}

fn day_text(seconds: i64) -> String {
    date_of(seconds).format("%Y-%m-%d").to_string()
}

/// What the engagement view is computed with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngagementOptions {
    /// The instant the view is computed at: the default window ends with its period,
    /// and sessions idle since more than `session_timeout` before it are closed.
    pub now: DateTime<Utc>,
    pub session_timeout: Duration,
}

impl EngagementOptions {
    pub fn at(now: DateTime<Utc>) -> Self {
        EngagementOptions {
            now,
            session_timeout: Duration::minutes(DEFAULT_SESSION_TIMEOUT_MINUTES as i64),
        }
    }
}

/// The engagement view: one row per period, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Engagement {
    pub granularity: EngagementGranularity,
    pub session_timeout_minutes: i64,
    pub periods: Vec<EngagementPeriod>,
}

/// One period's users and sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngagementPeriod {
    /// The first day of the period, `YYYY-MM-DD`.
    pub date: String,
    /// Users with at least one event in the period.
    pub active_users: u64,
    /// Active users first seen in the period.
    pub new_users: u64,
    /// Active users first seen before the period.
    pub returning_users: u64,
    /// Sessions that started in the period.
    pub sessions: u64,
    /// Of those, the ones neither ended nor idle for the timeout yet.
    pub open_sessions: u64,
    /// `sessions / active_users` (0 without active users).
    pub sessions_per_user: f64,
    /// Lengths of the period's closed sessions, in seconds (linear interpolation between
    /// the closest ranks); `None` without closed sessions.
    pub avg_session_s: Option<f64>,
    pub p50_session_s: Option<f64>,
    pub p90_session_s: Option<f64>,
    pub p99_session_s: Option<f64>,
}

/// The periods the view covers, `[start, end)` in epoch seconds: those holding the
/// filter's range, else the last 30 periods up to the one holding `now`.
fn window(
    filter: &Filter,
    granularity: EngagementGranularity,
    now: DateTime<Utc>,
    default_periods: i64,
) -> (i64, i64) {
    let end_instant = filter.to.unwrap_or(now + Duration::seconds(1)) - Duration::milliseconds(1);
    let last = granularity.period_of(end_instant.timestamp().div_euclid(DAY) * DAY);
    let start = match filter.from {
        Some(from) => granularity.period_of(from.timestamp()),
        None => granularity.back(last, default_periods - 1),
    };
    (start, granularity.next(last).max(start))
}

/// The periods' starts in `[start, end)`.
fn periods(granularity: EngagementGranularity, start: i64, end: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        out.push(at);
        at = granularity.next(at);
    }
    out
}

/// The `q` quantile of sorted `values`, interpolated linearly between the closest ranks.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q * last as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let fraction = rank - below as f64;
    Some(sorted[below] + (sorted[above.min(last)] - sorted[below]) * fraction)
}

/// The engagement of the filter's project (all projects when it names none) per period.
///
/// # Errors
/// The store fails.
pub fn engagement(
    reader: &dyn EngagementReader,
    filter: &Filter,
    granularity: EngagementGranularity,
    options: &EngagementOptions,
) -> Result<Engagement> {
    let (start, end) = window(filter, granularity, options.now, DEFAULT_PERIODS);
    let starts = periods(granularity, start, end);
    let index_of = |seconds: i64| starts.binary_search(&granularity.period_of(seconds)).ok();
    let project = filter.project.as_deref();

    let mut active: Vec<HashSet<(String, String)>> = vec![HashSet::new(); starts.len()];
    let mut new: Vec<HashSet<(String, String)>> = vec![HashSet::new(); starts.len()];
    for row in reader.user_days(project, start, end)? {
        let Some(index) = index_of(row.day) else {
            continue;
        };
        let first_here = granularity.period_of(row.first_day) == starts[index];
        let user = (row.project, row.user);
        if first_here {
            new[index].insert(user.clone());
        }
        active[index].insert(user);
    }

    let timeout_ms = options.session_timeout.num_milliseconds();
    let now_ms = options.now.timestamp_millis();
    let mut sessions = vec![0_u64; starts.len()];
    let mut open = vec![0_u64; starts.len()];
    let mut lengths: Vec<Vec<f64>> = vec![Vec::new(); starts.len()];
    for session in reader.engagement_sessions(project, start * 1000, end * 1000)? {
        let Some(index) = index_of(session.start_ms.div_euclid(1000)) else {
            continue;
        };
        sessions[index] += 1;
        let closed_at = match session.end_ms {
            Some(end) => Some(end),
            None if now_ms - session.last_ms >= timeout_ms => Some(session.last_ms),
            None => None,
        };
        match closed_at {
            Some(closed) => lengths[index].push((closed - session.start_ms) as f64 / 1000.0),
            None => open[index] += 1,
        }
    }

    let rows = starts
        .iter()
        .enumerate()
        .map(|(index, &at)| {
            let active_users = active[index].len() as u64;
            let new_users = new[index].len() as u64;
            let lengths = &mut lengths[index];
            lengths.sort_by(f64::total_cmp);
            EngagementPeriod {
                date: day_text(at),
                active_users,
                new_users,
                returning_users: active_users - new_users,
                sessions: sessions[index],
                open_sessions: open[index],
                sessions_per_user: if active_users == 0 {
                    0.0
                } else {
                    sessions[index] as f64 / active_users as f64
                },
                avg_session_s: (!lengths.is_empty())
                    .then(|| lengths.iter().sum::<f64>() / lengths.len() as f64),
                p50_session_s: quantile(lengths, 0.5),
                p90_session_s: quantile(lengths, 0.9),
                p99_session_s: quantile(lengths, 0.99),
            }
        })
        .collect();
    Ok(Engagement {
        granularity,
        session_timeout_minutes: options.session_timeout.num_minutes(),
        periods: rows,
    })
}

/// Retention cohorts: users grouped by the week (Monday, UTC) they were first seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohorts {
    pub cohorts: Vec<Cohort>,
}

/// The users first seen in one week, and how many of them were active in each week
/// from then to the end of the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The Monday of the week, `YYYY-MM-DD`.
    pub week: String,
    pub users: u64,
    /// Per week since the cohort's (0 is its own), the users of the cohort active in it.
    pub active: Vec<u64>,
    /// `active` over `users`.
    pub retention: Vec<f64>,
}

/// The cohorts first seen in the weeks holding the filter's range (else the last 12
/// weeks), each followed to the end of the range.
///
/// # Errors
/// The store fails.
pub fn cohorts(
    reader: &dyn EngagementReader,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Cohorts> {
    let weekly = EngagementGranularity::Week;
    let (start, end) = window(filter, weekly, now, DEFAULT_COHORT_WEEKS);
    let weeks = periods(weekly, start, end);
    // Per cohort week, its users and, per week, those of them active.
    let mut members: BTreeMap<i64, HashSet<(String, String)>> =
        weeks.iter().map(|&w| (w, HashSet::new())).collect();
    let mut active: HashMap<(i64, i64), HashSet<(String, String)>> = HashMap::new();
    for row in reader.user_days(filter.project.as_deref(), start, end)? {
        let cohort = weekly.period_of(row.first_day);
        if cohort < start {
            continue;
        }
        let user = (row.project, row.user);
        members.entry(cohort).or_default().insert(user.clone());
        active
            .entry((cohort, weekly.period_of(row.day)))
            .or_default()
            .insert(user);
    }
    let cohorts = members
        .into_iter()
        .map(|(week, users)| {
            let size = users.len() as u64;
            let active: Vec<u64> = weeks
                .iter()
                .filter(|&&later| later >= week)
                .map(|&later| active.get(&(week, later)).map_or(0, |s| s.len() as u64))
                .collect();
            let retention = active
                .iter()
                .map(|&n| {
                    if size == 0 {
                        0.0
                    } else {
                        n as f64 / size as f64
                    }
                })
                .collect();
            Cohort {
                week: day_text(week),
                users: size,
                active,
                retention,
            }
        })
        .collect();
    Ok(Cohorts { cohorts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(date: &str) -> i64 {
        NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    #[test]
    fn periods_start_on_days_mondays_and_first_days() {
        let wednesday = seconds("2026-12-09") + 3600;
        assert_eq!(
            EngagementGranularity::Week.period_of(wednesday),
            seconds("2026-12-07")
        );
        assert_eq!(
            EngagementGranularity::Month.period_of(wednesday),
            seconds("2026-12-01")
        );
        assert_eq!(
            EngagementGranularity::Month.next(seconds("2026-12-01")),
            seconds("2027-01-01")
        );
        assert_eq!(
            EngagementGranularity::Month.back(seconds("2026-01-01"), 2),
            seconds("2025-11-01")
        );
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.99), Some(4.0));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 10.0], 0.5), Some(2.5));
    }
}
