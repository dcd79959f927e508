//! The store the views read, and the events the tables are made of.

use chrono::{DateTime, TimeZone, Utc};
use tally_metrics::ViewOptions;
use tally_models::{Event, JobStatus, QaStatus};
use tally_store::{Batch, EventStore, Filter};
use tally_store_contract::events::{self, Exec};
use tally_store_memory::MemoryStore;

/// A store holding `events`.
pub fn store(events: &[Event]) -> MemoryStore {
    let store = MemoryStore::new();
    store
        .write_batch(Batch {
            events,
            ..Batch::default()
        })
        .expect("the events are written");
    store
}

/// `day` of October 2026 at `hour:minute` UTC (day 0 is September 30).
pub fn oct(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    match day {
        0 => Utc.with_ymd_and_hms(2026, 9, 30, hour, minute, 0).unwrap(),
        day => Utc
            .with_ymd_and_hms(2026, 10, day, hour, minute, 0)
            .unwrap(),
    }
}

/// The instant every view is computed at: 2026-10-02 12:00 UTC.
pub fn options() -> ViewOptions {
    ViewOptions::at(oct(2, 12, 0))
}

pub fn filter(
    project: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Filter {
    Filter {
        project: project.map(str::to_owned),
        from,
        to,
    }
}

/// An execution: $0.002 and 10 + 5 tokens unless `x` says otherwise.
pub fn exec(id: &str, project: &str, at: DateTime<Utc>, x: Exec) -> Event {
    events::execution(id, project, at, &x)
}

pub fn ok() -> Exec {
    Exec::default()
}

pub fn failed() -> Exec {
    Exec {
        success: false,
        ..Exec::default()
    }
}

/// A run with one model, `cost` in nano-dollars.
#[allow(clippy::too_many_arguments)]
pub fn run(
    id: &str,
    project: &str,
    at: DateTime<Utc>,
    seconds: f64,
    mode: Option<&str>,
    qa: QaStatus,
    model: Option<(&str, u64, u64, i64)>,
) -> Event {
    let models: Vec<_> = model
        .map(|(name, input, output, cost)| (name, input, output, Some(cost)))
        .into_iter()
        .collect();
    events::run(id, project, at, seconds, mode, qa, &models)
}

pub fn job(id: &str, project: &str, at: DateTime<Utc>, job_id: &str, status: JobStatus) -> Event {
    events::job(id, project, at, job_id, status)
}

/// Whether `a` and `b` agree within `relative` of `b` (for sketched percentiles).
pub fn close(a: Option<f64>, b: f64, relative: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= b.abs() * relative)
}
