//! When a schedule runs: its local time on the days it runs, in its time zone. A local
//! time that does not exist (the hour skipped when clocks go forward) runs at the end of
//! the gap; one that exists twice (the hour repeated when clocks go back) runs at the
//! first.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use super::{Every, Schedule};

/// Days searched for an occurrence: a monthly schedule has one in every 31.
const SEARCH_DAYS: usize = 40;

impl Schedule {
    fn runs_on(&self, date: NaiveDate) -> bool {
        match self.every {
            Every::Daily => true,
            Every::Weekly(day) => date.weekday() == day,
            Every::Monthly(day) => date.day() == day,
        }
    }

    /// The instant of the schedule's local time on `date`.
    fn instant_on(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(self.at);
        let mut shifted = local;
        // A gap is at most a few hours; the first local minute after it exists.
        for _ in 0..=24 * 60 {
            if let Some(instant) = self.timezone.from_local_datetime(&shifted).earliest() {
                return instant.with_timezone(&Utc);
            }
            shifted += Duration::minutes(1);
        }
        local.and_utc()
    }

    /// The latest run time at or before `instant`.
    pub fn latest_at_or_before(&self, instant: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = instant.with_timezone(&self.timezone).date_naive();
        std::iter::successors(today.succ_opt(), NaiveDate::pred_opt)
            .take(SEARCH_DAYS)
            .filter(|d| self.runs_on(*d))
            .map(|d| self.instant_on(d))
            .find(|t| *t <= instant)
    }

    /// The first run time after `instant`.
    pub fn next_after(&self, instant: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = instant.with_timezone(&self.timezone).date_naive();
        std::iter::successors(today.pred_opt(), NaiveDate::succ_opt)
            .take(SEARCH_DAYS)
            .filter(|d| self.runs_on(*d))
            .map(|d| self.instant_on(d))
            .find(|t| *t > instant)
    }

    /// The run time before `due`: where the period a run reports on starts.
    pub fn previous_before(&self, due: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.latest_at_or_before(due - Duration::seconds(1))
    }
}
