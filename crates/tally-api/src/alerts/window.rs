//! What a rate or percentile rule counts over its window, and over the baseline before
//! it, read from the cheapest tier that answers it exactly enough:
//!
//! - requests and executions of a project (or of all), window up to a day: the minute
//!   tier, exact to the minute (it holds events that arrived within a day of their time);
//! - the same over a longer window: the hourly rollups, the start rounded down to the hour;
//! - one tool's or one model's executions: the daily rollups for the whole UTC days in the
//!   window and the raw executions of the part days at either end (less than two days of
//!   the project's executions, at most [`MAX_RAW_EXECUTIONS`] read).

use chrono::{DateTime, Duration, Utc};
use tally_models::{EventBody, Kind, LatencySketch};
use tally_store::rollup::{Family, ProjectScope, RollupQuery};
use tally_store::{Filter, Store};

use crate::{Error, Result};

/// The longest window the minute tier answers: it keeps a day.
pub const MINUTE_TIER_MINUTES: u32 = 24 * 60;
/// The most raw executions one evaluation of a tool's or model's rate reads at the
/// window's edges.
pub const MAX_RAW_EXECUTIONS: u64 = 2_000_000;

/// What a window's events are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// `request` events; failures are those answered 5xx.
    Requests,
    /// Executions of every tool; failures are the unsuccessful ones.
    Executions,
    Tool(&'a str),
    /// Executions that called the model.
    Model(&'a str),
}

/// Events, failures and latencies counted over `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub events: u64,
    pub failures: u64,
    /// Request latencies (requests only), milliseconds.
    pub latency: LatencySketch,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Counts {
    fn add(&mut self, events: u64, failures: u64) {
        self.events += events;
        self.failures += failures;
    }
}

fn floor(t: DateTime<Utc>, step: i64) -> DateTime<Utc> {
    let seconds = t.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(step), 0).unwrap_or(t)
}

fn ceil(t: DateTime<Utc>, step: i64) -> DateTime<Utc> {
    let down = floor(t, step);
    if down == t {
        t
    } else {
        down + Duration::seconds(step)
    }
}

/// The period a subject's rollup rows are kept at: hours, or days for a tool or model.
fn step(subject: Subject<'_>) -> i64 {
    match subject {
        Subject::Requests | Subject::Executions => 3600,
        Subject::Tool(_) | Subject::Model(_) => 86_400,
    }
}

/// The subject's events over the `minutes` before `now`.
///
/// # Errors
/// The store fails, or a tool's or model's edges hold more than [`MAX_RAW_EXECUTIONS`].
pub fn window(
    store: &dyn Store,
    project: Option<&str>,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    minutes: u32,
) -> Result<Counts> {
    match subject {
        Subject::Requests | Subject::Executions if minutes <= MINUTE_TIER_MINUTES => {
            from_minutes(store, project, subject, now, minutes)
        }
        Subject::Requests | Subject::Executions => {
            let from = floor(now - Duration::minutes(i64::from(minutes)), 3600);
            from_rollups(store, project, subject, from, now)
        }
        Subject::Tool(_) | Subject::Model(_) => {
            let from = now - Duration::minutes(i64::from(minutes));
            let (first_day, last_day) = (ceil(from, 86_400), floor(now, 86_400));
            if first_day >= last_day {
                return from_raw(store, project, subject, from, now);
            }
            let mut counts = from_rollups(store, project, subject, first_day, last_day)?;
            for (a, b) in [(from, first_day), (last_day, now)] {
                if a < b {
                    let edge = from_raw(store, project, subject, a, b)?;
                    counts.add(edge.events, edge.failures);
                }
            }
            counts.from = from;
            counts.to = now;
            Ok(counts)
        }
    }
}

/// The subject's events over the `days` before the window that starts at `window_from`,
/// in whole periods of its rollups (the window's first part period is in neither).
///
/// # Errors
/// The store fails.
pub fn baseline(
    store: &dyn Store,
    project: Option<&str>,
    subject: Subject<'_>,
    window_from: DateTime<Utc>,
    days: u32,
) -> Result<Counts> {
    let to = floor(window_from, step(subject));
    from_rollups(
        store,
        project,
        subject,
        to - Duration::days(i64::from(days)),
        to,
    )
}

/// Requests or executions from the minute tier: the minute of `now` and the ones
/// before it, `minutes` in all (as the real-time windows count).
fn from_minutes(
    store: &dyn Store,
    project: Option<&str>,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    minutes: u32,
) -> Result<Counts> {
    let kind = match subject {
        Subject::Requests => Kind::Request,
        _ => Kind::Execution,
    };
    let now_minute = now.timestamp().div_euclid(60) * 60;
    let first = now_minute - 60 * (i64::from(minutes) - 1);
    let from = DateTime::from_timestamp(first, 0).unwrap_or(now);
    let mut counts = Counts {
        from,
        to: now,
        ..Counts::default()
    };
    for row in store.minutes(project, from)? {
        if row.kind == kind && row.minute >= first && row.minute <= now_minute {
            counts.add(row.n, row.errors);
            if kind == Kind::Request {
                counts.latency.merge(&row.latency);
            }
        }
    }
    Ok(counts)
}

/// The subject's rollup rows covering `[from, to)` (widened to whole periods of the
/// family's finest resolution).
fn from_rollups(
    store: &dyn Store,
    project: Option<&str>,
    subject: Subject<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Counts> {
    let (family, name) = match subject {
        Subject::Requests => (Family::Requests, None),
        Subject::Executions => (Family::Executions, None),
        Subject::Tool(tool) => (Family::ExecutionsByTool, Some(tool)),
        Subject::Model(model) => (Family::ExecutionsByModel, Some(model)),
    };
    let rows = store.rollups(&RollupQuery {
        family,
        projects: ProjectScope::from_option(project),
        from: Some(from),
        to: Some(to),
        by: None,
    })?;
    let mut counts = Counts {
        from,
        to,
        ..Counts::default()
    };
    for row in rows {
        if name.is_some() && row.name.as_deref() != name {
            continue;
        }
        let m = &row.measures;
        counts.add(m.n, m.n - m.ok.min(m.n));
        if subject == Subject::Requests {
            counts.latency.merge(&m.latency);
        }
    }
    Ok(counts)
}

/// One tool's or model's executions over `[from, to)`, from the raw rows.
fn from_raw(
    store: &dyn Store,
    project: Option<&str>,
    subject: Subject<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Counts> {
    let mut counts = Counts {
        from,
        to,
        ..Counts::default()
    };
    let mut read = 0u64;
    let filter = Filter {
        project: project.map(str::to_owned),
        from: Some(from),
        to: Some(to),
    };
    let outcome = store.export_executions(&filter, &mut |event| {
        read += 1;
        if read > MAX_RAW_EXECUTIONS {
            return Err(tally_store::Error::Sink("raw execution limit".to_owned()));
        }
        if let EventBody::Execution(x) = &event.body {
            let matches = match subject {
                Subject::Tool(tool) => x.tool == tool,
                Subject::Model(model) => x.model.as_deref() == Some(model),
                Subject::Requests | Subject::Executions => true,
            };
            if matches {
                counts.add(1, u64::from(!x.success));
            }
        }
        Ok(())
    });
    match outcome {
        Ok(_) => Ok(counts),
        Err(tally_store::Error::Sink(_)) if read > MAX_RAW_EXECUTIONS => {
            Err(Error::Filter(format!(
                "window_minutes: the part days at the window's edges hold more than \
             {MAX_RAW_EXECUTIONS} executions, the most a tool's or model's rate reads from raw \
             rows; limit the rule to a project or shorten the window"
            )))
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn periods_round_to_their_steps() {
        let t = at("2026-12-07T18:35:10Z");
        assert_eq!(floor(t, 3600), at("2026-12-07T18:00:00Z"));
        assert_eq!(ceil(t, 86_400), at("2026-12-08T00:00:00Z"));
        let midnight = at("2026-12-07T00:00:00Z");
        assert_eq!(ceil(midnight, 86_400), midnight);
    }
}
