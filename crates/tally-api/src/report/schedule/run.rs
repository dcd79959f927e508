//! Running schedules: [`Scheduler::run_due`] writes every report whose run time has
//! come since its last run (once, however many runs were missed while the server was
//! down), and [`Scheduler::run`] repeats it at each next run time of a [`Clock`].
//!
//! A schedule without a recorded last run is armed: its first run is its first run
//! time after that moment, so configuring a schedule never backfills reports.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tally_store::Filter;

use super::Schedule;
use super::sink::{ChannelSink, DirectorySink, RenderedReport, ReportSink};
use super::state::StateFile;
use crate::alerts::Dispatcher;
use crate::{Analytics, Result};

/// The longest a [`SystemClock`] sleeps before the scheduler looks again: a wall clock
/// set forward, or a suspended machine, is noticed within it.
const MAX_SLEEP: StdDuration = StdDuration::from_secs(60);

/// Where the scheduler reads the time and how it waits for a run time.
pub trait Clock: std::fmt::Debug + Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Completes once the clock reads `when` or later, or sooner (the scheduler reads
    /// the time again either way).
    fn wait_until(&self, when: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn wait_until(&self, when: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let wait = (when - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(MAX_SLEEP);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that reads what it was last set to, for tests and programs that drive time
/// themselves; setting it wakes a scheduler waiting for that time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    time: Arc<tokio::sync::watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> ManualClock {
        ManualClock {
            time: Arc::new(tokio::sync::watch::channel(now).0),
        }
    }

    pub fn set(&self, now: DateTime<Utc>) {
        self.time.send_replace(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.time.borrow()
    }

    fn wait_until(&self, when: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut time = self.time.subscribe();
        Box::pin(async move {
            while *time.borrow_and_update() < when {
                if time.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

/// What a pass of [`Scheduler::run_due`] did with one schedule (numbered from 1 as in
/// the configuration).
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    /// First seen: runs from its next run time after `at`.
    Armed { number: usize, at: DateTime<Utc> },
    /// The report for run time `due` was delivered to `to`.
    Delivered {
        number: usize,
        due: DateTime<Utc>,
        to: Vec<String>,
    },
    /// It failed; it is tried again at the next wake-up.
    Failed { number: usize, error: String },
}

#[derive(Debug, Clone)]
struct Plan {
    schedule: Schedule,
    sinks: Vec<Arc<dyn ReportSink>>,
}

/// The configured schedules of one server and where their reports go.
#[derive(Debug, Clone)]
pub struct Scheduler {
    analytics: Analytics,
    plans: Vec<Plan>,
}

impl Scheduler {
    /// Each schedule writing into its directory.
    pub fn new(analytics: Analytics, schedules: Vec<Schedule>) -> Scheduler {
        let plans = schedules
            .into_iter()
            .map(|schedule| Plan {
                sinks: vec![Arc::new(DirectorySink {
                    directory: schedule.directory.clone(),
                })],
                schedule,
            })
            .collect();
        Scheduler { analytics, plans }
    }

    /// The schedules of the facade's configuration (`[[reports.schedule]]`), each
    /// writing into its directory and sending through its channels with `delivery`.
    ///
    /// # Errors
    /// A schedule is invalid (the configuration checks them when it is read), or names
    /// channels and there is no dispatcher.
    pub fn from_config(
        analytics: Analytics,
        delivery: Option<&Arc<Dispatcher>>,
    ) -> Result<Scheduler> {
        let schedules = analytics
            .config()
            .reports
            .schedule
            .iter()
            .enumerate()
            .map(|(i, raw)| Schedule::from_config(i + 1, raw))
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(|message| crate::Error::Config {
                path: "tally.toml".to_owned(),
                message,
            })?;
        let channels: Vec<(usize, String)> = schedules
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.channels.iter().map(move |c| (i + 1, c.clone())))
            .collect();
        let mut scheduler = Scheduler::new(analytics.clone(), schedules);
        for (number, channel) in channels {
            let Some(dispatcher) = delivery else {
                return Err(crate::Error::Config {
                    path: "tally.toml".to_owned(),
                    message: format!(
                        "[[reports.schedule]] #{number}: channels: {channel:?} needs the \
                         channels' dispatcher, which this server was started without"
                    ),
                });
            };
            scheduler.add_sink(
                number,
                Arc::new(ChannelSink {
                    analytics: analytics.clone(),
                    dispatcher: dispatcher.clone(),
                    channel,
                }),
            );
        }
        Ok(scheduler)
    }

    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    /// Sends schedule `number`'s reports (from 1) to `sink` as well.
    pub fn add_sink(&mut self, number: usize, sink: Arc<dyn ReportSink>) {
        if let Some(plan) = number.checked_sub(1).and_then(|i| self.plans.get_mut(i)) {
            plan.sinks.push(sink);
        }
    }

    /// Runs every schedule due at `now`: at most one report per schedule, for its
    /// latest run time since its last run. Blocks on the store and the sinks.
    pub fn run_due(&self, now: DateTime<Utc>) -> Vec<Ran> {
        self.plans
            .iter()
            .enumerate()
            .filter_map(|(i, plan)| match self.run_one(plan, now) {
                Ok(ran) => ran.map(|ran| ran.numbered(i + 1)),
                Err(error) => Some(Ran::Failed {
                    number: i + 1,
                    error: error.to_string(),
                }),
            })
            .collect()
    }

    fn run_one(&self, plan: &Plan, now: DateTime<Utc>) -> Result<Option<Ran>> {
        let schedule = &plan.schedule;
        let state = StateFile::in_directory(&schedule.directory);
        let key = schedule.key();
        let Some(last) = state.last_run(&key)? else {
            state.set_last_run(&key, now)?;
            return Ok(Some(Ran::Armed { number: 0, at: now }));
        };
        let Some(due) = schedule.latest_at_or_before(now).filter(|due| *due > last) else {
            return Ok(None);
        };
        let from = schedule
            .previous_before(due)
            .unwrap_or(due - Duration::days(1));
        let filter = Filter {
            project: schedule.project.clone(),
            from: Some(from),
            to: Some(due),
        };
        let body =
            self.analytics
                .as_of(due)
                .report_text(schedule.kind, &filter, schedule.format)?;
        let report = RenderedReport {
            kind: schedule.kind,
            project: schedule.project.clone(),
            format: schedule.format,
            due,
            local_date: due.with_timezone(&schedule.timezone).date_naive(),
            filter,
            body,
        };
        let to = plan
            .sinks
            .iter()
            .map(|sink| sink.deliver(&report))
            .collect::<Result<Vec<_>>>()?;
        state.set_last_run(&key, due)?;
        Ok(Some(Ran::Delivered { number: 0, due, to }))
    }

    /// The earliest run time of any schedule after `now`.
    pub fn next_wake(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.plans
            .iter()
            .filter_map(|plan| plan.schedule.next_after(now))
            .min()
    }

    /// Runs due schedules now and then at each next run time of `clock`, off the async
    /// threads; every run and failure is logged.
    pub async fn run(self, clock: Arc<dyn Clock>) {
        tracing::info!(
            schedules = self.plans.len(),
            "scheduled reports on ([[reports.schedule]] in tally.toml)"
        );
        loop {
            let now = clock.now();
            let scheduler = self.clone();
            match tokio::task::spawn_blocking(move || scheduler.run_due(now)).await {
                Ok(runs) => runs.iter().for_each(log),
                Err(error) => tracing::error!(%error, "scheduled reports task failed"),
            }
            let Some(next) = self.next_wake(now) else {
                return;
            };
            clock.wait_until(next).await;
        }
    }
}

impl Ran {
    fn numbered(self, n: usize) -> Ran {
        match self {
            Ran::Armed { at, .. } => Ran::Armed { number: n, at },
            Ran::Delivered { due, to, .. } => Ran::Delivered { number: n, due, to },
            Ran::Failed { error, .. } => Ran::Failed { number: n, error },
        }
    }
}

fn log(ran: &Ran) {
    match ran {
        Ran::Armed { number, at } => {
            tracing::info!(schedule = number, %at, "report schedule armed: first run at its next run time");
        }
        Ran::Delivered { number, due, to } => {
            tracing::info!(schedule = number, %due, to = %to.join(", "), "scheduled report written");
        }
        Ran::Failed { number, error } => {
            tracing::error!(schedule = number, %error, "scheduled report failed; tried again at the next wake-up");
        }
    }
}
