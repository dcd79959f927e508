//! The job pipeline: jobs by state, throughput, queue wait and run durations.

use chrono::Duration;
use serde::Serialize;
use tally_models::JobStatus;
use tally_store::rollup::Family;
use tally_store::{Filter, RollupReader};

use crate::Result;
use crate::fold::{ViewOptions, by_key, ratio, total};
use crate::stats::percentile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JobsByState {
    pub queued: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Throughput {
    /// Jobs that reached `completed` in the last hour and the last 24 hours.
    pub completed_last_hour: u64,
    pub completed_last_24h: u64,
    /// Jobs that finished (completed, failed or cancelled) per hour, last 24 hours.
    pub finished_per_hour_24h: f64,
}

/// Seconds from a job's first `queued` to its first `running` change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueueWait {
    pub jobs_measured: u64,
    pub avg_seconds: f64,
    pub p50_seconds: Option<f64>,
    pub p95_seconds: Option<f64>,
    pub max_seconds: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunDurations {
    pub runs: u64,
    pub avg_duration_seconds: f64,
    pub p50_duration_seconds: Option<f64>,
    pub p95_duration_seconds: Option<f64>,
}

/// The `pipeline` view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    pub jobs: JobsByState,
    pub throughput: Throughput,
    pub queue_wait: QueueWait,
    pub run_durations: RunDurations,
    pub generated_at: String,
}

/// Jobs whose current state was reached in the filter's range, their queue waits,
/// throughput over the last 24 hours, and run durations in the range.
///
/// # Errors
/// A storage failure.
pub fn pipeline(
    reader: &dyn RollupReader,
    filter: &Filter,
    options: &ViewOptions,
) -> Result<Pipeline> {
    let mut jobs = JobsByState::default();
    let mut waits = Vec::new();
    for job in reader.job_states(filter)? {
        jobs.total += 1;
        match job.status {
            JobStatus::Queued => jobs.queued += 1,
            JobStatus::Running => jobs.running += 1,
            JobStatus::Completed => jobs.completed += 1,
            JobStatus::Failed => jobs.failed += 1,
            JobStatus::Cancelled => jobs.cancelled += 1,
        }
        if let (Some(queued), Some(running)) = (job.queued_ts, job.running_ts) {
            if running >= queued {
                waits.push((running - queued) as f64 / 1000.0);
            }
        }
    }
    let changes = |hours: i64| -> Result<Vec<(JobStatus, u64)>> {
        let window = Filter {
            project: filter.project.clone(),
            from: Some(options.now - Duration::hours(hours)),
            to: None,
        };
        Ok(by_key(reader, Family::Jobs, &window)?
            .into_iter()
            .filter_map(|(key, m)| {
                let status = JobStatus::from_code(u8::try_from(key.key).ok()?)?;
                Some((status, m.n))
            })
            .collect())
    };
    let count = |changes: &[(JobStatus, u64)], wanted: &[JobStatus]| -> u64 {
        changes
            .iter()
            .filter(|(s, _)| wanted.contains(s))
            .map(|(_, n)| n)
            .sum()
    };
    let last_hour = changes(1)?;
    let last_day = changes(24)?;
    let finished = [
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];
    let runs = total(reader, Family::Runs, filter)?;
    let seconds = |q: f64| runs.latency.quantile(q).map(|ms| ms / 1000.0);
    Ok(Pipeline {
        jobs,
        throughput: Throughput {
            completed_last_hour: count(&last_hour, &[JobStatus::Completed]),
            completed_last_24h: count(&last_day, &[JobStatus::Completed]),
            finished_per_hour_24h: count(&last_day, &finished) as f64 / 24.0,
        },
        queue_wait: QueueWait {
            jobs_measured: waits.len() as u64,
            avg_seconds: ratio(waits.iter().sum(), waits.len() as f64),
            p50_seconds: percentile(&mut waits, 0.5),
            p95_seconds: percentile(&mut waits, 0.95),
            max_seconds: percentile(&mut waits, 1.0),
        },
        run_durations: RunDurations {
            runs: runs.n,
            avg_duration_seconds: ratio(runs.duration_us as f64 / 1e6, runs.n as f64),
            p50_duration_seconds: seconds(0.5),
            p95_duration_seconds: seconds(0.95),
        },
        generated_at: options.generated_at(),
    })
}
