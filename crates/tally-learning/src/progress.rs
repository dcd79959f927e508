//! Progress: totals of sessions, exchanges, quality, minutes and topics, overall and per
//! local day, ISO week or month.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;
use tally_store::Activity;

/// Totals over a set of sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub sessions: u64,
    pub exchanges: u128,
    /// Mean of the sessions' quality, over the sessions that reported one.
    pub average_quality: Option<f64>,
    pub minutes: f64,
    /// Distinct topics.
    pub topics: u64,
}

/// Sums `activity`.
pub fn totals<'a>(activity: impl IntoIterator<Item = &'a Activity>) -> Totals {
    let mut out = Totals {
        sessions: 0,
        exchanges: 0,
        average_quality: None,
        minutes: 0.0,
        topics: 0,
    };
    let (mut quality_sum, mut quality_n) = (0.0, 0u64);
    let mut duration_us = 0i128;
    let mut topics = BTreeSet::new();
    for a in activity {
        out.sessions += a.sessions;
        out.exchanges += a.exchanges;
        duration_us += a.duration_us;
        quality_sum += a.quality_sum;
        quality_n += a.rated;
        topics.extend(a.topics.iter().map(|t| t.topic.as_str()));
    }
    out.minutes = duration_us as f64 / 60e6;
    out.average_quality = (quality_n > 0).then(|| quality_sum / quality_n as f64);
    out.topics = topics.len() as u64;
    out
}

/// The local day in `zone` of an activity: that of its first session (a 15-minute UTC
/// bucket lies within one local day in every time zone).
pub fn local_day(activity: &Activity, zone: Tz) -> NaiveDate {
    activity.first.with_timezone(&zone).date_naive()
}

/// The length of the periods progress is cut into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// ISO 8601 weeks, Monday to Sunday.
    IsoWeek,
    Month,
}

impl Period {
    /// The first local day of the period holding `day`.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::IsoWeek => day
                .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
                .unwrap_or(day),
            Period::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first local day of the period after the one starting on `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start.succ_opt().unwrap_or(start),
            Period::IsoWeek => start.checked_add_days(Days::new(7)).unwrap_or(start),
            Period::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start),
        }
    }

    /// The period's name: `2026-10-05`, `2026-W41`, `2026-10`.
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Period::Day => start.to_string(),
            Period::IsoWeek => {
                let week = start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Period::Month => format!("{}-{:02}", start.year(), start.month()),
        }
    }
}

/// Progress in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodProgress {
    pub label: String,
    /// The period's first local day.
    pub start: NaiveDate,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Progress per period, oldest first, periods without sessions left out; days are local
/// days in `zone`.
pub fn by_period(activity: &[Activity], zone: Tz, period: Period) -> Vec<PeriodProgress> {
    by_local_day(activity.iter().map(|a| (local_day(a, zone), a)), period)
}

/// Progress per period of activity already placed on its learner's local day (so that
/// learners in different time zones can be summed), oldest first.
pub fn by_local_day<'a>(
    activity: impl IntoIterator<Item = (NaiveDate, &'a Activity)>,
    period: Period,
) -> Vec<PeriodProgress> {
    let mut groups: BTreeMap<NaiveDate, Vec<&Activity>> = BTreeMap::new();
    for (day, s) in activity {
        groups.entry(period.start(day)).or_default().push(s);
    }
    groups
        .into_iter()
        .map(|(start, group)| PeriodProgress {
            label: period.label(start),
            start,
            totals: totals(group),
        })
        .collect()
}
