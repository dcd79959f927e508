//! `[[reports.schedule]]` in the real server: a schedule is armed at its first start,
//! its last run survives a restart, runs missed while the server was down give one
//! report at start, and the next run time of the (test) clock gives the next report,
//! each the report the API answers for its period.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tally_api::report::schedule::{ManualClock, STATE_FILE};
use tally_api::{Analytics, Config, DemoConfig, Filter, ReportFormat, ReportKind, SqliteOptions};

use crate::support::{TestDb, TestServer};

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Waits until `path` exists; the scheduler writes it on its own thread.
fn wait_for(path: &Path) {
    for _ in 0..3000 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the scheduler wrote no {}", path.display());
}

fn last_run(directory: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(directory.join(STATE_FILE)).unwrap()).unwrap()
}

fn reports(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// The server over `dir`'s database with the schedule's configuration and `clock`.
fn server(dir: tempfile::TempDir, config: &Config, clock: &ManualClock) -> TestServer {
    let analytics = Analytics::open_with(
        dir.path().join("tally.db"),
        config.clone(),
        SqliteOptions::default(),
    )
    .unwrap();
    let clock = clock.clone();
    TestServer::on(TestDb { dir, analytics }, move |options| {
        options.clock = std::sync::Arc::new(clock);
    })
}

#[test]
fn a_due_schedule_writes_its_report_once_across_restarts_and_at_each_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let directory: PathBuf = dir.path().join("reports");
    let config = Config::parse(
        &format!(
            r#"
            [[reports.schedule]]
            kind = "executive"
            every = "weekly"
            weekday = "mon"
            at = "08:00"
            timezone = "Europe/Berlin"
            format = "md"
            project = "support-bot"
            directory = "{}"
            "#,
            directory.display()
        ),
        "tally.toml",
    )
    .unwrap();
    // Mondays 08:00 in Berlin are 07:00 UTC in November.
    let demo_end = utc("2026-11-16T00:00:00Z");
    Analytics::open(dir.path().join("tally.db"))
        .unwrap()
        .demo(
            &DemoConfig {
                events: 4000,
                days: 21,
                seed: 5,
                end: demo_end,
            },
            &mut (),
        )
        .unwrap();

    // First start, on a Sunday: the schedule is armed, nothing is written.
    let clock = ManualClock::new(utc("2026-11-01T10:00:00Z"));
    let first = server(dir, &config, &clock);
    wait_for(&directory.join(STATE_FILE));
    let dir = first.stop().dir;
    let key = "executive/support-bot/weekly-mon/08:00/Europe/Berlin/md";
    assert_eq!(last_run(&directory)[key], "2026-11-01T10:00:00Z");
    assert_eq!(reports(&directory), Vec::<String>::new());

    // Down for two weeks and a day: three Mondays passed, one report, the latest.
    let clock = ManualClock::new(utc("2026-11-16T09:00:00Z"));
    let second = server(dir, &config, &clock);
    let written = directory.join("executive-support-bot-2026-11-16.md");
    wait_for(&written);
    let due = utc("2026-11-16T07:00:00Z");
    let expected = second
        .db
        .analytics
        .as_of(due)
        .report_text(
            ReportKind::Executive,
            &Filter {
                project: Some("support-bot".to_owned()),
                from: Some(utc("2026-11-09T07:00:00Z")),
                to: Some(due),
            },
            ReportFormat::Markdown,
        )
        .unwrap();
    assert_eq!(std::fs::read_to_string(&written).unwrap(), expected);
    assert!(expected.contains("<!-- kpi total_runs = "), "{expected}");
    assert!(
        !expected.contains("<!-- kpi total_runs = 0 -->"),
        "the week before holds runs: {expected}"
    );

    // The clock reaches the next Monday 08:00: the next report.
    clock.set(utc("2026-11-23T07:00:00Z"));
    wait_for(&directory.join("executive-support-bot-2026-11-23.md"));
    let _kept = second.stop();
    assert_eq!(
        reports(&directory),
        [
            "executive-support-bot-2026-11-16.md",
            "executive-support-bot-2026-11-23.md"
        ]
    );
    assert_eq!(last_run(&directory)[key], "2026-11-23T07:00:00Z");
}
