//! 8 writer and 8 reader threads share one database for 10 s: no error (in particular
//! no `database is locked`) reaches a caller, and the final counts are exact. Half the
//! writers share one `Analytics` (its writer lock), half open their own (SQLite's lock).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tally_api::{Filter, Input};

use crate::support::{TestDb, execution, options};

#[test]
fn eight_writers_and_eight_readers_for_ten_seconds() {
    let db = TestDb::new();
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let reads = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for writer in 0..8 {
            let analytics = if writer < 4 {
                db.analytics.clone()
            } else {
                tally_api::Analytics::open(db.path()).unwrap()
            };
            let (stop, written) = (&stop, &written);
            scope.spawn(move || {
                let mut batch = 0;
                while !stop.load(Ordering::Relaxed) {
                    let body: Vec<String> = (0..50)
                        .map(|i| execution(&format!("w{writer}-b{batch}-{i}")))
                        .collect();
                    let input = Input::Bytes {
                        name: format!("w{writer}"),
                        data: body.join("\n").into_bytes().into(),
                    };
                    let report = analytics
                        .ingest_with(&input, &options(), &mut ())
                        .expect("a write failed");
                    assert_eq!(report.accepted, 50);
                    written.fetch_add(report.accepted, Ordering::Relaxed);
                    batch += 1;
                }
            });
        }
        for _ in 0..8 {
            let (analytics, stop, reads) = (db.analytics.clone(), &stop, &reads);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let summary = analytics
                        .summary(&Filter::default())
                        .expect("a read failed");
                    assert_eq!(
                        summary.success_rate,
                        if summary.total_executions > 0 {
                            1.0
                        } else {
                            0.0
                        }
                    );
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let written = written.load(Ordering::Relaxed);
    assert!(written > 0 && reads.load(Ordering::Relaxed) > 0);
    assert_eq!(db.events(), written);
    assert_eq!(
        db.analytics
            .summary(&Filter::default())
            .unwrap()
            .total_executions,
        written
    );
}

/// Single-record writes from many threads at once are committed together (group
/// commit): each caller still gets its own outcome, a record sent by two threads is
/// stored once, and the rollups count every stored record exactly once.
#[test]
fn concurrent_single_record_writes_share_transactions_but_not_outcomes() {
    use tally_api::IngestOptions;
    let db = TestDb::new();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let analytics = db.analytics.clone();
            std::thread::spawn(move || {
                let options = IngestOptions {
                    now: Some(crate::support::now()),
                    ..IngestOptions::default()
                };
                let (mut accepted, mut duplicates) = (0, 0);
                for i in 0..150 {
                    // Ids below 50 are sent by every thread.
                    let id = if i < 50 {
                        format!("shared-{i}")
                    } else {
                        format!("t{t}-{i}")
                    };
                    let input = Input::Bytes {
                        name: "one.jsonl".into(),
                        data: execution(&id).into_bytes().into(),
                    };
                    let report = analytics.ingest_with(&input, &options, &mut ()).unwrap();
                    accepted += report.accepted;
                    duplicates += report.duplicates;
                }
                (accepted, duplicates)
            })
        })
        .collect();
    let (accepted, duplicates) = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .fold((0, 0), |(a, d), (x, y)| (a + x, d + y));
    assert_eq!((accepted, duplicates), (50 + 8 * 100, 7 * 50));
    assert_eq!(db.events(), 850);
    let analytics = db.analytics.as_of(crate::support::now());
    let summary = analytics.summary(&Filter::default()).unwrap();
    assert_eq!(summary.total_executions, 850);
    assert_eq!(
        summary,
        analytics.summary_from_raw(&Filter::default()).unwrap()
    );
}
