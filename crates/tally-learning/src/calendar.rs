//! Day-by-day views of a learner's recent weeks: the activity heatmap (local days ×
//! ISO weeks, GitHub style) and the daily quality with its 7-day rolling average.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tally_store::Activity;

use crate::progress::{Period, local_day};

/// The instant local day `day` begins in `zone` (the first instant after a gap when a
/// daylight-saving change skips midnight).
pub fn day_start(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match zone.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // Midnight skipped: the day starts when the clocks jump, within two hours.
        None => (1..=8)
            .find_map(|q| {
                zone.from_local_datetime(&(midnight + chrono::Duration::minutes(15 * q)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

/// One local day of the heatmap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// 0 for the oldest week shown.
    pub week: u32,
    /// 0 Monday … 6 Sunday.
    pub weekday: u32,
    pub sessions: u64,
    pub minutes: f64,
    /// 0 (no session) to 4 (the busiest days shown): sessions against the busiest day,
    /// in quarters.
    pub level: u8,
}

/// One local day of the quality trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityDay {
    pub date: NaiveDate,
    /// Mean quality of the day's rated sessions.
    pub average_quality: Option<f64>,
    pub rated: u64,
    /// Mean quality of the rated sessions of this day and the six before it.
    pub rolling_average: Option<f64>,
}

#[derive(Default, Clone, Copy)]
struct DaySums {
    sessions: u64,
    duration_us: i128,
    quality_sum: f64,
    rated: u64,
}

fn per_day(
    activity: &[Activity],
    zone: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<NaiveDate, DaySums> {
    let mut days: BTreeMap<NaiveDate, DaySums> = BTreeMap::new();
    for a in activity {
        let day = local_day(a, zone);
        if day < from || day > to {
            continue;
        }
        let sums = days.entry(day).or_default();
        sums.sessions += a.sessions;
        sums.duration_us += a.duration_us;
        sums.quality_sum += a.quality_sum;
        sums.rated += a.rated;
    }
    days
}

/// Every local day of the `weeks` ISO weeks ending with the one holding `today`, up to
/// `today`, oldest first.
pub fn heatmap(activity: &[Activity], zone: Tz, today: NaiveDate, weeks: u32) -> Vec<CalendarDay> {
    let first = Period::IsoWeek
        .start(today)
        .checked_sub_days(Days::new(7 * u64::from(weeks.saturating_sub(1))))
        .unwrap_or(today);
    let days = per_day(activity, zone, first, today);
    let busiest = days.values().map(|d| d.sessions).max().unwrap_or(0);
    first
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|date| {
            let sums = days.get(&date).copied().unwrap_or_default();
            let level = if sums.sessions == 0 {
                0
            } else {
                // 1..=4 by the share of the busiest day's sessions.
                (1 + (sums.sessions * 4 - 1) / busiest.max(1)).min(4) as u8
            };
            CalendarDay {
                date,
                week: u32::try_from((date - first).num_days() / 7).unwrap_or(0),
                weekday: date.weekday().num_days_from_monday(),
                sessions: sums.sessions,
                minutes: sums.duration_us as f64 / 60e6,
                level,
            }
        })
        .collect()
}

/// Daily quality over the local days `from..=to`, with the rolling average over each
/// day and the six before it (the days before `from` count towards the first averages).
pub fn quality_trend(
    activity: &[Activity],
    zone: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<QualityDay> {
    let lead = from.checked_sub_days(Days::new(6)).unwrap_or(from);
    let days = per_day(activity, zone, lead, to);
    let mut window: std::collections::VecDeque<DaySums> = Default::default();
    let mut out = Vec::new();
    for date in lead.iter_days().take_while(|d| *d <= to) {
        let sums = days.get(&date).copied().unwrap_or_default();
        window.push_back(sums);
        if window.len() > 7 {
            window.pop_front();
        }
        if date < from {
            continue;
        }
        let (quality, rated) = window
            .iter()
            .fold((0.0, 0u64), |(q, n), d| (q + d.quality_sum, n + d.rated));
        out.push(QualityDay {
            date,
            average_quality: (sums.rated > 0).then(|| sums.quality_sum / sums.rated as f64),
            rated: sums.rated,
            rolling_average: (rated > 0).then(|| quality / rated as f64),
        });
    }
    out
}
