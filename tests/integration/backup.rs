//! Backups taken while ingests go on restore to a consistent database: integrity `ok`,
//! whole batches only, and rollups that agree with the raw rows of the snapshot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tally_api::{Analytics, Filter, IngestOptions, Input};

use crate::support::{TestDb, now, tally};

fn batch(writer: usize, round: usize) -> String {
    (0..10)
        .map(|i| {
            format!(
                r#"{{"kind":"execution","id":"w{writer}-{round}-{i}","ts":"2026-10-{:02}T{:02}:00:00Z","project":"p{}","tool":"t{}","model":"gpt-4o","duration_ms":{},"success":{},"input_tokens":100,"output_tokens":20}}"#,
                1 + (round % 28),
                i,
                writer,
                i % 3,
                10 + i * 7,
                i % 4 != 0
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_backup_under_write_load_restores_to_a_consistent_database() {
    let db = TestDb::new();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let analytics = db.analytics.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let options = IngestOptions {
                    batch_size: 10,
                    now: Some(now()),
                    ..IngestOptions::default()
                };
                let mut round = 0;
                while !stop.load(Ordering::Relaxed) || round < 30 {
                    let input = Input::Bytes {
                        name: "load.jsonl".into(),
                        data: batch(writer, round).into_bytes().into(),
                    };
                    analytics.ingest_with(&input, &options, &mut ()).unwrap();
                    round += 1;
                }
                round
            })
        })
        .collect();
    // Let the writers get going, then back up in the middle of their work.
    while db.events() < 200 {
        std::thread::yield_now();
    }
    let copy = db.dir.path().join("copy.db");
    let outcome = db.analytics.backup(&copy).unwrap();
    stop.store(true, Ordering::Relaxed);
    let rounds: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(outcome.pages > 0);
    assert_eq!(db.events(), rounds as u64 * 10);

    // Restore through the real command into a fresh location.
    let restored = db.dir.path().join("restored.db");
    let output = tally()
        .arg("--db")
        .arg(&restored)
        .arg("restore")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A fixed clock, so both summaries carry the same `generated_at`.
    let analytics = Analytics::open(&restored).unwrap().as_of(now());
    assert_eq!(analytics.integrity_check().unwrap(), "ok");
    let events = analytics.stats().unwrap().events;
    assert!(events >= 200 && events <= db.events(), "{events}");
    assert_eq!(events % 10, 0, "a batch was cut in two: {events} events");
    // The rollups of the snapshot agree with its raw rows.
    for project in [None, Some("p0".to_owned())] {
        let filter = Filter {
            project,
            ..Filter::default()
        };
        assert_eq!(
            analytics.summary(&filter).unwrap(),
            analytics.summary_from_raw(&filter).unwrap()
        );
    }
    assert_eq!(
        analytics
            .summary(&Filter::default())
            .unwrap()
            .total_executions,
        events
    );
}

#[test]
fn backup_and_restore_refuse_to_overwrite() {
    let db = TestDb::new();
    db.ingest("one.jsonl", batch(0, 0));
    let existing = db.dir.path().join("existing.db");
    std::fs::write(&existing, b"keep me").unwrap();
    let output = db.tally(&["backup", "--out", existing.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("exists already"));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    let copy = db.dir.path().join("copy.db");
    assert!(
        db.tally(&["backup", "--out", copy.to_str().unwrap()])
            .status
            .success()
    );
    let output = db.tally(&["restore", copy.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--force"));
    // A file that is not a tally backup is refused before anything is replaced.
    let output = db.tally(&["restore", "--force", existing.to_str().unwrap()]);
    assert!(!output.status.success());
    assert_eq!(db.events(), 10);
}
