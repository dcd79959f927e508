//! Shared helpers: a fresh database, a fixed clock, ingesting text, running `tally`.

use std::path::PathBuf;
use std::process::{Command, Output};

use chrono::{DateTime, TimeZone, Utc};
use tally_api::{Analytics, IngestOptions, IngestReport, Input};

/// The validation clock of the tests: records up to 2026-11-02 are accepted.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

pub fn options() -> IngestOptions {
    IngestOptions {
        now: Some(now()),
        ..IngestOptions::default()
    }
}

/// A database in its own temporary directory.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub analytics: Analytics,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let analytics = Analytics::open(dir.path().join("tally.db")).unwrap();
        TestDb { dir, analytics }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("tally.db")
    }

    pub fn ingest(&self, name: &str, body: impl AsRef<[u8]>) -> IngestReport {
        let input = Input::Bytes {
            name: name.to_owned(),
            data: body.as_ref().into(),
        };
        self.analytics
            .ingest_with(&input, &options(), &mut ())
            .unwrap()
    }

    pub fn events(&self) -> u64 {
        self.analytics.stats().unwrap().events
    }

    /// Runs `tally --db <this db> ARGS`.
    pub fn tally(&self, args: &[&str]) -> Output {
        tally()
            .arg("--db")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap()
    }
}

/// The `tally` binary built for these tests.
pub fn tally() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tally"))
}

/// A valid execution record with this id.
pub fn execution(id: &str) -> String {
    format!(
        r#"{{"kind":"execution","id":"{id}","ts":"2026-10-01T00:00:00Z","tool":"web_search","duration_ms":5,"success":true}}"#
    )
}
