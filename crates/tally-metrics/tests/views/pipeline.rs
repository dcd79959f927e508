//! The job pipeline: jobs by state, throughput, queue wait, run durations.

use tally_metrics::{JobsByState, QueueWait, Throughput, pipeline};
use tally_models::{JobStatus, QaStatus};

use crate::support::{close, filter, job, oct, options, run, store};

#[test]
fn jobs_throughput_waits_and_runs() {
    let events = [
        // j1: queued 09:00, running 09:05 (a 300 s wait), completed 11:30 (in the last hour).
        job("a", "p1", oct(2, 9, 0), "j1", JobStatus::Queued),
        job("b", "p1", oct(2, 9, 5), "j1", JobStatus::Running),
        job("c", "p1", oct(2, 11, 30), "j1", JobStatus::Completed),
        // j2 waits; j3 failed yesterday evening (in the last 24 hours).
        job("d", "p2", oct(2, 10, 0), "j2", JobStatus::Queued),
        job("e", "p1", oct(1, 20, 0), "j3", JobStatus::Failed),
        // j4 completed two days ago.
        job("f", "p1", oct(0, 20, 0), "j4", JobStatus::Completed),
        run(
            "r1",
            "p1",
            oct(1, 11, 0),
            120.0,
            None,
            QaStatus::Passed,
            None,
        ),
        run("r2", "p1", oct(2, 8, 0), 30.0, None, QaStatus::Passed, None),
    ];
    let store = store(&events);
    let view = pipeline(&store, &filter(None, None, None), &options()).unwrap();
    assert_eq!(
        view.jobs,
        JobsByState {
            queued: 1,
            running: 0,
            completed: 2,
            failed: 1,
            cancelled: 0,
            total: 4,
        }
    );
    assert_eq!(
        view.throughput,
        Throughput {
            completed_last_hour: 1,
            completed_last_24h: 1,
            // j1's completion and j3's failure.
            finished_per_hour_24h: 2.0 / 24.0,
        }
    );
    assert_eq!(
        view.queue_wait,
        QueueWait {
            jobs_measured: 1,
            avg_seconds: 300.0,
            p50_seconds: Some(300.0),
            p95_seconds: Some(300.0),
            max_seconds: Some(300.0),
        }
    );
    assert_eq!(view.run_durations.runs, 2);
    assert_eq!(view.run_durations.avg_duration_seconds, 75.0);
    // Rank floor(0.95 (2 - 1)) = 0 of 30 and 120 seconds.
    assert!(close(view.run_durations.p95_duration_seconds, 30.0, 0.01));
    // One project: p2 has only j2, waiting.
    let p2 = pipeline(&store, &filter(Some("p2"), None, None), &options()).unwrap();
    assert_eq!((p2.jobs.total, p2.jobs.queued), (1, 1));
    assert_eq!(p2.throughput.completed_last_24h, 0);
    assert_eq!(p2.run_durations.runs, 0);
    assert_eq!(p2.queue_wait.jobs_measured, 0);
}
