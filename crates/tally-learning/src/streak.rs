//! Streaks: runs of active days, with a grace period and streak freezes, answered as of
//! an instant. The rule is written out in `docs/learning.md`.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use tally_store::Activity;

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

/// The first and last session start of an activity: within one local day.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The spans of `activity`, in its order.
pub fn spans(activity: &[Activity]) -> Vec<Span> {
    activity.iter().map(|a| (a.first, a.last)).collect()
}

/// The streaks of a learner whose sessions started at `times` (any order; those after
/// `at` are ignored), days counted in `zone`.
pub fn streak(
    times: &[DateTime<Utc>],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Streak {
    let spans: Vec<Span> = times.iter().map(|t| (*t, *t)).collect();
    streak_of_spans(&spans, zone, at, config)
}

/// The streaks of a learner's activity (any order; what ends after `at` is ignored).
pub fn of_activity(
    activity: &[Activity],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Streak {
    streak_of_spans(&spans(activity), zone, at, config)
}

/// The streaks of sessions grouped in spans, each within one local day: the sessions
/// of a span always link to each other (same day), so a chain only needs each span's
/// first and last session.
pub fn streak_of_spans(
    spans: &[Span],
    zone: Tz,
    at: DateTime<Utc>,
    config: &LearningConfig,
) -> Streak {
    let mut spans: Vec<Span> = spans.iter().copied().filter(|s| s.1 <= at).collect();
    spans.sort_unstable();
    let Some(&(_, last)) = spans.last() else {
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
    for &(first, end) in &spans {
        let new_day = previous.is_none_or(|p| {
            p.with_timezone(&zone).date_naive() != first.with_timezone(&zone).date_naive()
        });
        match previous.map(|p| link(p, first, zone, config)) {
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
        previous = Some(previous.map_or(end, |p| p.max(end)));
    }
    let last = previous.unwrap_or(last);
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
    let spans: Vec<Span> = times.iter().map(|t| (*t, *t)).collect();
    longest_after_each_span(&spans, zone, config)
}

/// [`longest_after_each`] over spans sorted by their first session.
pub fn longest_after_each_span(spans: &[Span], zone: Tz, config: &LearningConfig) -> Vec<u32> {
    let mut out = Vec::with_capacity(spans.len());
    let (mut longest, mut run) = (0, 0);
    let mut previous: Option<DateTime<Utc>> = None;
    for &(first, end) in spans {
        let day = first.with_timezone(&zone).date_naive();
        match previous {
            Some(p) if link(p, first, zone, config).is_none() => run = 1,
            Some(p) if p.with_timezone(&zone).date_naive() != day => run += 1,
            Some(_) => {}
            None => run = 1,
        }
        longest = longest.max(run);
        out.push(longest);
        previous = Some(previous.map_or(end, |p| p.max(end)));
    }
    out
}

/// The running current streak: feed spans oldest first; after each, `days` is the current
/// streak as of that span's last session.
#[derive(Debug, Clone, Default)]
pub struct RunningStreak {
    previous: Option<DateTime<Utc>>,
    pub days: u32,
}

impl RunningStreak {
    /// Adds the next span (sorted by first session).
    pub fn push(&mut self, (first, end): Span, zone: Tz, config: &LearningConfig) {
        match self.previous {
            Some(p) if link(p, first, zone, config).is_none() => self.days = 1,
            Some(p)
                if p.with_timezone(&zone).date_naive()
                    != first.with_timezone(&zone).date_naive() =>
            {
                self.days += 1
            }
            Some(_) => {}
            None => self.days = 1,
        }
        self.previous = Some(self.previous.map_or(end, |p| p.max(end)));
    }
}
