//! Killing the ingesting process with SIGKILL loses no acknowledged batch and leaves a
//! sound database.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use rusqlite::Connection;

use crate::support::{TestDb, tally};

#[test]
fn sigkill_mid_file_keeps_every_acknowledged_batch() {
    let db = TestDb::new();
    let total = 300_000i64;
    let file = db.dir.path().join("big.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for i in 1..=total {
        writeln!(
            out,
            r#"{{"kind":"execution","id":"e{i}","ts":"2026-10-01T00:00:00Z","project":"p{}","tool":"t{}","duration_ms":{i},"success":true}}"#,
            i % 7,
            i % 11
        )
        .unwrap();
    }
    out.flush().unwrap();
    drop(db.analytics);

    let mut child = tally()
        .arg("--db")
        .arg(db.dir.path().join("tally.db"))
        .args(["ingest", "--batch-size", "500", "--log-batches"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acknowledged_line = 0;
    let mut acks = 0;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let Ok(ack) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        acknowledged_line = ack["last_position"]["line"].as_i64().unwrap();
        acks += 1;
        if acks == 5 {
            break;
        }
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the ingest finished before it could be killed; make the file larger"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(acknowledged_line, 2500);

    let conn = Connection::open(db.dir.path().join("tally.db")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let stored: i64 = conn
        .query_row(
            "SELECT coalesce(sum(events), 0) FROM execution_block",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let acknowledged_present: i64 = conn
        .query_row(
            "SELECT count(*) FROM event_ids WHERE CAST(substr(id, 2) AS INTEGER) <= ?1",
            [acknowledged_line],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        acknowledged_present, acknowledged_line,
        "every acknowledged record is stored"
    );
    assert!(
        stored >= acknowledged_line && stored < total,
        "stored {stored}: whole batches only, and the kill came mid-file"
    );
    assert_eq!(stored % 500, 0, "batches are all or nothing");
}
