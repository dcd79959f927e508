//! Period comparisons: a view on the asked range and on an earlier one, with each
//! figure's previous value and change (`compare=previous|wow|mom`, `--compare`).
//!
//! The earlier range (`docs/http.md`, "Comparisons"):
//! - `previous`: the range of the same length that ends where the asked one starts;
//! - `wow`: both ends 7 days earlier;
//! - `mom`: both ends one calendar month earlier, at the same day and time; a day the
//!   earlier month lacks becomes its last day (31 March → 28 or 29 February), so a whole
//!   month is compared with the whole month before it.
//!
//! A comparison needs a range with a start (`from`); `to` defaults to now. Both views
//! are read from the rollups, so a comparison costs two views, flat in event count.

mod figures;

use chrono::{DateTime, Duration, Months, Utc};
use serde::Serialize;
use tally_metrics::Granularity;
use tally_store::Filter;

use crate::{Analytics, Error, Result, View};

pub use figures::{Change, FigureStatus, comparable};

/// Which earlier range a view is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    Previous,
    WeekOverWeek,
    MonthOverMonth,
}

impl Compare {
    pub const ALL: [Compare; 3] = [
        Compare::Previous,
        Compare::WeekOverWeek,
        Compare::MonthOverMonth,
    ];

    /// The name the `compare` parameter takes.
    pub fn name(self) -> &'static str {
        match self {
            Compare::Previous => "previous",
            Compare::WeekOverWeek => "wow",
            Compare::MonthOverMonth => "mom",
        }
    }

    pub fn from_name(name: &str) -> Option<Compare> {
        Compare::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The names `compare` takes, for messages.
    pub fn names() -> Vec<&'static str> {
        Compare::ALL.map(Compare::name).to_vec()
    }

    /// The earlier range for `[from, to)`.
    ///
    /// # Errors
    /// The earlier range starts before the calendar chrono knows (year −262143).
    pub fn earlier(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Range> {
        let out_of_range = || Error::Filter(format!("compare={}: no earlier range", self.name()));
        let back =
            |t: DateTime<Utc>, by: Duration| t.checked_sub_signed(by).ok_or_else(out_of_range);
        let (from, to) = match self {
            Compare::Previous => (back(from, to - from)?, from),
            Compare::WeekOverWeek => (back(from, Duration::days(7))?, back(to, Duration::days(7))?),
            Compare::MonthOverMonth => (
                from.checked_sub_months(Months::new(1))
                    .ok_or_else(out_of_range)?,
                to.checked_sub_months(Months::new(1))
                    .ok_or_else(out_of_range)?,
            ),
        };
        Ok(Range { from, to })
    }
}

/// A time range, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The ranges a comparison is between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Periods {
    /// `previous`, `wow` or `mom`.
    pub mode: &'static str,
    pub range: Range,
    pub previous_range: Range,
}

impl Analytics {
    /// The asked range of `filter` (`to` defaulting to now) and its earlier range.
    ///
    /// # Errors
    /// `filter` has no `from`.
    pub fn compared_periods(&self, filter: &Filter, compare: Compare) -> Result<Periods> {
        let Some(from) = filter.from else {
            return Err(Error::Filter(format!(
                "compare={} needs a range with a start: give from (to defaults to now)",
                compare.name()
            )));
        };
        let to = filter.to.unwrap_or(self.view_options().now);
        if to <= from {
            return Err(Error::Filter(format!(
                "compare={}: from must be before to (now, when to is not given)",
                compare.name()
            )));
        }
        let range = Range { from, to };
        Ok(Periods {
            mode: compare.name(),
            range,
            previous_range: compare.earlier(from, to)?,
        })
    }

    /// A view as JSON with its comparison: the view on the asked range, each compared
    /// figure annotated with its value on the earlier range and the change (see
    /// `docs/http.md`, "Comparisons").
    ///
    /// # Errors
    /// The view takes no comparison, the filter has no `from`, or the store fails.
    pub fn view_compared(
        &self,
        view: View,
        filter: &Filter,
        granularity: Granularity,
        compare: Compare,
    ) -> Result<serde_json::Value> {
        if !comparable(view) {
            return Err(Error::Filter(format!(
                "compare: the {} view takes no comparison (comparable: {})",
                view.name(),
                View::ALL
                    .into_iter()
                    .filter(|v| comparable(*v))
                    .map(View::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let periods = self.compared_periods(filter, compare)?;
        let current_filter = Filter {
            project: filter.project.clone(),
            from: Some(periods.range.from),
            to: Some(periods.range.to),
        };
        let previous_filter = Filter {
            project: filter.project.clone(),
            from: Some(periods.previous_range.from),
            to: Some(periods.previous_range.to),
        };
        let current = self.view(view, &current_filter, granularity)?;
        let previous = self.view(view, &previous_filter, granularity)?;
        Ok(figures::annotate(view, current, &previous, &periods))
    }
}

#[cfg(test)]
mod tests;
