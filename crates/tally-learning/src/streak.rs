//! Streaks: runs of active days, with a grace period and streak freezes, answered as of
//! an instant. The rule is written out in `docs/learning.md`.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::LearningConfig;

/// A learner's streaks as of an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Streak {
    /// Active days in the streak still alive at the instant (0 when it is broken).
    pub current_days: u32,
    /// Active days in the longest streak up to the instant.
    pub longest_days: u32,
    /// The last local day with a session, if any.
    pub last_active_date: Option<NaiveDate>,
    /// Missed days bridged by freezes within the current streak.
    pub freezes_used: u32,
    /// Missed days since the last active day that a session today would need bridged;
    /// when this equals the freezes held the streak ends tomorrow.
    pub missed_days_now: u32,
    /// The current streak is alive, but only through the grace period or freezes: no
    /// session today yet and one more missed day would end it.
    pub at_risk: bool,
}

/// How two consecutive sessions relate.
fn link(
    earlier: DateTime<Utc>,
    later: DateTime<Utc>,
    zone: Tz,
    config: &LearningConfig,
) -> Option<u32> {
    let missed = missed_days(earlier, later, zone);
    if later - earlier <= config.grace {
        Some(0)
    } else if missed <= u32::from(config.freezes) {
        Some(missed)
    } else {
        None
    }
}

/// Local days strictly between the local days of `earlier` and `later`.
fn missed_days(earlier: DateTime<Utc>, later: DateTime<Utc>, zone: Tz) -> u32 {
    let from = earlier.with_timezone(&zone).date_naive();
    let to = later.with_timezone(&zone).date_naive();
    u32::try_from((to - from).num_days() - 1).unwrap_or(0)
}

/// The streaks of a learner whose sessions started at `times` (any order; those after
/// `at` are ignored), days counted in `zone`.
pub fn streak(
    times: &[DateTime<Utc>],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Streak {
    let mut times: Vec<DateTime<Utc>> = times.iter().copied().filter(|t| *t <= at).collect();
    times.sort_unstable();
    let Some(&last) = times.last() else {
        return Streak {
            current_days: 0,
            longest_days: 0,
            last_active_date: None,
            freezes_used: 0,
            missed_days_now: 0,
            at_risk: false,
        };
    };
    let mut longest = 0;
    let mut run_days = 0;
    let mut run_freezes = 0;
    let mut previous: Option<DateTime<Utc>> = None;
    for &t in &times {
        let new_day = previous.is_none_or(|p| {
            p.with_timezone(&zone).date_naive() != t.with_timezone(&zone).date_naive()
        });
        match previous.map(|p| link(p, t, zone, config)) {
            Some(Some(bridged)) => run_freezes += bridged,
            Some(None) => {
                run_days = 0;
                run_freezes = 0;
            }
            None => {}
        }
        if new_day {
            run_days += 1;
        }
        longest = longest.max(run_days);
        previous = Some(t);
    }
    let today = at.with_timezone(&zone).date_naive();
    let last_day = last.with_timezone(&zone).date_naive();
    let missed_now = missed_days(last, at, zone);
    let alive = link(last, at, zone, config).is_some();
    Streak {
        current_days: if alive { run_days } else { 0 },
        longest_days: longest,
        last_active_date: Some(last_day),
        freezes_used: if alive { run_freezes } else { 0 },
        missed_days_now: if last_day == today { 0 } else { missed_now },
        at_risk: alive && last_day != today && {
            let tomorrow_start = at + chrono::Duration::days(1);
            link(last, tomorrow_start, zone, config).is_none()
        },
    }
}

/// The longest streak (active days) after each of `times` (sorted oldest first): entry `i`
/// is the longest streak among `times[..=i]`, as of the end of time.
pub fn longest_after_each(times: &[DateTime<Utc>], zone: Tz, config: &LearningConfig) -> Vec<u32> {
    let mut out = Vec::with_capacity(times.len());
    let (mut longest, mut run) = (0, 0);
    let mut previous: Option<DateTime<Utc>> = None;
    for &t in times {
        let day = t.with_timezone(&zone).date_naive();
        match previous {
            Some(p) if link(p, t, zone, config).is_none() => run = 1,
            Some(p) if p.with_timezone(&zone).date_naive() != day => run += 1,
            Some(_) => {}
            None => run = 1,
        }
        longest = longest.max(run);
        out.push(longest);
        previous = Some(t);
    }
    out
}
