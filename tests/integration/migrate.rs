//! `tally migrate-from`: a store copied into another through the ports answers every
//! view as its source does; a copy stopped part-way and run again finishes without
//! counting anything twice; a copy that does not agree says which view and fails.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::tally;

/// A source store with records of every kind: the store-compat fixture (demo telemetry
/// of every kind, a rejected input, a goal, a learner's time zone, an experiment, an
/// API key), more demo telemetry, a revoked key, a rejected record sent twice and a
/// trained predictor model.
fn source_store(dir: &Path) -> PathBuf {
    let path = dir.join("source.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/store-compat/tally-0.1.0.db"),
        &path,
    )
    .unwrap();
    let run = |args: &[&str]| succeeded(&tally_at(&path, args));
    run(&["demo", "--events", "3000", "--days", "20", "--seed", "7"]);
    let created = run(&[
        "keys", "create", "--scope", "ingest", "--name", "old", "--json",
    ]);
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_i64()
        .unwrap();
    run(&["keys", "revoke", &id.to_string()]);
    let rejected = dir.join("rejected.jsonl");
    std::fs::write(&rejected, "{\"kind\":\"execution\",\"tool\":\"x\"}\n").unwrap();
    for _ in 0..2 {
        tally_at(&path, &["ingest", rejected.to_str().unwrap()]);
    }
    run(&["predict", "train", "--days", "30"]);
    run(&["learning", "opt-out", "--user", "learner-003"]);
    run(&[
        "alerts",
        "create",
        "--name",
        "spend",
        "--rule",
        "budget",
        "--threshold",
        "0.8",
    ]);
    path
}

fn tally_at(db: &Path, args: &[&str]) -> Output {
    tally().arg("--db").arg(db).args(args).output().unwrap()
}

/// The command's stdout; it must have succeeded.
fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn migrate(destination: &Path, source: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["migrate-from", source.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    tally_at(destination, &args)
}

fn copied(report: &Value, kind: &str) -> (u64, u64) {
    let counts = &report["copied"][kind];
    (
        counts["copied"].as_u64().unwrap(),
        counts["present"].as_u64().unwrap(),
    )
}

/// What `tally export` writes: every event in the wire format.
fn export(db: &Path) -> String {
    succeeded(&tally_at(db, &["export", "--format", "jsonl"]))
}

#[test]
fn a_sqlite_store_copied_into_another_answers_every_view_as_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_store(dir.path());
    let destination = dir.path().join("copy.db");
    let report: Value =
        serde_json::from_str(&succeeded(&migrate(&destination, &source, &[]))).unwrap();
    let check = &report["check"];
    assert_eq!(check["differing"], 0, "{check}");
    assert!(check["views"].as_u64().unwrap() > 150, "{check}");
    let events = succeeded(&tally_at(&source, &["query", "summary", "--json"]));
    let events: Value = serde_json::from_str(&events).unwrap();
    assert!(events["total_executions"].as_u64().unwrap() > 1000);
    assert_eq!(copied(&report, "keys"), (2, 0));
    assert_eq!(copied(&report, "experiments"), (1, 0));
    assert_eq!(copied(&report, "goals"), (1, 0));
    assert_eq!(copied(&report, "time_zones"), (1, 0));
    assert_eq!(copied(&report, "opt_outs"), (1, 0));
    let board = |db: &Path| {
        let text = succeeded(&tally_at(
            db,
            &["learning", "leaderboard", "--limit", "100", "--json"],
        ));
        serde_json::from_str::<Value>(&text).unwrap()["entries"].clone()
    };
    assert!(!board(&destination).to_string().contains("learner-003"));
    assert_eq!(board(&destination), board(&source));
    assert_eq!(copied(&report, "predictor_models"), (1, 0));
    assert_eq!(copied(&report, "alert_rules"), (1, 0));
    let rules = |db: &Path| succeeded(&tally_at(db, &["alerts", "list", "--json"]));
    assert_eq!(rules(&destination), rules(&source));
    assert_eq!(copied(&report, "quarantine").1, 0);
    assert!(copied(&report, "quarantine").0 >= 3, "{report}");
    // Independently of the command's own check: the same events, the same keys
    // (revocation included), the same quarantine counts.
    assert_eq!(export(&destination), export(&source));
    let keys = |db: &Path| succeeded(&tally_at(db, &["keys", "list", "--json"]));
    assert_eq!(keys(&destination), keys(&source));
    let quarantine = |db: &Path| {
        let listed = succeeded(&tally_at(db, &["quarantine", "list", "--json"]));
        let listed: Value = serde_json::from_str(&listed).unwrap();
        listed["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| (q["raw"].clone(), q["rejections"].clone()))
            .collect::<Vec<_>>()
    };
    let copied_quarantine = quarantine(&destination);
    assert_eq!(copied_quarantine, quarantine(&source));
    assert!(
        copied_quarantine.iter().any(|(_, n)| n == 2),
        "{copied_quarantine:?}"
    );
}

#[test]
fn a_copy_stopped_part_way_finishes_when_run_again_without_counting_twice() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_store(dir.path());
    let destination = dir.path().join("copy.db");
    let stopped = migrate(
        &destination,
        &source,
        &["--batch-size", "100", "--stop-after-events", "1000"],
    );
    assert_eq!(stopped.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(stderr.contains("stopped after 1000 events"), "{stderr}");
    let stats = |db: &Path| -> Value {
        let mut summary: Value =
            serde_json::from_str(&succeeded(&tally_at(db, &["query", "summary", "--json"])))
                .unwrap();
        summary["generated_at"].take();
        summary
    };
    let partial = stats(&destination);
    let full = stats(&source);
    assert!(
        partial["total_executions"].as_u64() < full["total_executions"].as_u64(),
        "{partial}"
    );

    let resumed: Value =
        serde_json::from_str(&succeeded(&migrate(&destination, &source, &[]))).unwrap();
    assert_eq!(resumed["check"]["differing"], 0, "{}", resumed["check"]);
    let (new, present) = copied(&resumed, "events");
    assert_eq!(present, 1000);
    assert!(new > 2000, "{resumed}");
    // The records before the events were copied by the stopped run.
    assert_eq!(copied(&resumed, "keys"), (0, 2));
    assert_eq!(copied(&resumed, "goals"), (0, 1));
    assert_eq!(stats(&destination), full);

    // A third run finds everything there.
    let again: Value =
        serde_json::from_str(&succeeded(&migrate(&destination, &source, &[]))).unwrap();
    assert_eq!(again["check"]["differing"], 0);
    for kind in [
        "events",
        "quarantine",
        "keys",
        "experiments",
        "goals",
        "time_zones",
        "opt_outs",
        "predictor_models",
        "alert_rules",
    ] {
        assert_eq!(copied(&again, kind).0, 0, "{kind}: {again}");
    }
    assert_eq!(copied(&again, "events").1, new + present);
    assert_eq!(export(&destination), export(&source));
}

#[test]
fn a_copy_that_differs_from_its_source_names_the_view_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_store(dir.path());
    let destination = dir.path().join("copy.db");
    succeeded(&migrate(&destination, &source, &[]));
    let extra = dir.path().join("extra.jsonl");
    std::fs::write(
        &extra,
        "{\"kind\":\"execution\",\"id\":\"only-in-the-copy\",\"ts\":\"2026-12-01T10:00:00Z\",\
         \"project\":\"demo\",\"tool\":\"web_search\",\"duration_ms\":5,\"success\":true}\n",
    )
    .unwrap();
    succeeded(&tally_at(
        &destination,
        &["ingest", extra.to_str().unwrap()],
    ));
    let out = tally_at(&destination, &["migrate-from", source.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("check failed:"), "{stdout}");
    assert!(stdout.contains("the first is summary/all"), "{stdout}");
}

#[test]
fn a_copy_from_nothing_or_from_itself_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tally.db");
    let refused = |source: &str, expected: &str| {
        let out = tally_at(&db, &["migrate-from", source]);
        assert_eq!(out.status.code(), Some(2), "{source}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{source}: {stderr}");
    };
    refused("memory:", "nothing to copy from it");
    refused(
        dir.path().join("missing.db").to_str().unwrap(),
        "no database at",
    );
    succeeded(&tally_at(&db, &["demo", "--events", "100"]));
    refused(db.to_str().unwrap(), "is the destination (--db) itself");
}

#[test]
fn a_sqlite_store_copied_into_postgres_and_back_answers_every_view_as_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_store(dir.path());
    let database = tally_store_contract::postgres_test::TestDatabase::create();
    let postgres = Path::new(database.url());
    let there: Value = serde_json::from_str(&succeeded(&migrate(postgres, &source, &[]))).unwrap();
    assert_eq!(there["check"]["differing"], 0, "{there}");
    assert!(there["check"]["views"].as_u64().unwrap() > 150, "{there}");
    let back_path = dir.path().join("back.db");
    let back: Value =
        serde_json::from_str(&succeeded(&migrate(&back_path, postgres, &[]))).unwrap();
    assert_eq!(back["check"]["differing"], 0, "{back}");
    assert_eq!(export(postgres), export(&source));
    assert_eq!(export(&back_path), export(&source));
}
