//! Run times across DST changes and month ends, and the configuration's errors.

use chrono::{DateTime, Utc};

use super::Schedule;
use crate::config::Config;

fn schedule(toml: &str) -> Schedule {
    let config = Config::parse(
        &format!("[[reports.schedule]]\ndirectory = \"r\"\n{toml}"),
        "t",
    )
    .unwrap();
    Schedule::from_config(1, &config.reports.schedule[0]).unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The next `n` run times after `start`.
fn runs(s: &Schedule, start: &str, n: usize) -> Vec<String> {
    std::iter::successors(s.next_after(utc(start)), |t| s.next_after(*t))
        .take(n)
        .map(|t| t.to_rfc3339())
        .collect()
}

#[test]
fn daily_runs_keep_local_time_across_both_dst_changes() {
    let s = schedule(
        "kind = \"executive\"\nevery = \"daily\"\nat = \"08:00\"\ntimezone = \"Europe/Berlin\"",
    );
    // Berlin goes to summer time on 2026-03-29 and back on 2026-10-25.
    assert_eq!(
        runs(&s, "2026-03-27T12:00:00Z", 3),
        [
            "2026-03-28T07:00:00+00:00",
            "2026-03-29T06:00:00+00:00",
            "2026-03-30T06:00:00+00:00"
        ]
    );
    assert_eq!(
        runs(&s, "2026-10-24T00:00:00Z", 2),
        ["2026-10-24T06:00:00+00:00", "2026-10-25T07:00:00+00:00"]
    );
}

#[test]
fn a_skipped_local_time_runs_at_the_end_of_the_gap_and_a_repeated_one_once() {
    let s = schedule(
        "kind = \"technical\"\nevery = \"daily\"\nat = \"02:30\"\ntimezone = \"Europe/Berlin\"",
    );
    // 02:30 does not exist on 2026-03-29: 03:00 CEST, 01:00 UTC.
    assert_eq!(
        runs(&s, "2026-03-28T12:00:00Z", 2),
        ["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"]
    );
    // 02:30 happens twice on 2026-10-25: the first (CEST, 00:30 UTC), once.
    assert_eq!(
        runs(&s, "2026-10-24T12:00:00Z", 2),
        ["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]
    );
}

#[test]
fn weekly_and_monthly_runs_fall_on_their_days() {
    let weekly = schedule(
        "kind = \"executive\"\nevery = \"weekly\"\nweekday = \"mon\"\nat = \"08:00\"\ntimezone = \"America/New_York\"",
    );
    // 2026-11-01 is a Sunday, the day New York leaves summer time.
    assert_eq!(
        runs(&weekly, "2026-10-25T00:00:00Z", 3),
        [
            "2026-10-26T12:00:00+00:00",
            "2026-11-02T13:00:00+00:00",
            "2026-11-09T13:00:00+00:00"
        ]
    );
    let monthly = schedule("kind = \"executive\"\nevery = \"monthly\"\nday = 28\nat = \"23:30\"");
    assert_eq!(
        runs(&monthly, "2026-01-29T00:00:00Z", 3),
        [
            "2026-02-28T23:30:00+00:00",
            "2026-03-28T23:30:00+00:00",
            "2026-04-28T23:30:00+00:00"
        ]
    );
    // The period a run reports on starts at the run before it.
    assert_eq!(
        monthly.previous_before(utc("2026-03-28T23:30:00Z")),
        Some(utc("2026-02-28T23:30:00Z"))
    );
    // The first of the month in Berlin is the last day of the month before in UTC.
    let first = schedule(
        "kind = \"executive\"\nevery = \"monthly\"\nday = 1\nat = \"00:30\"\ntimezone = \"Europe/Berlin\"",
    );
    assert_eq!(
        runs(&first, "2026-12-15T00:00:00Z", 1),
        ["2026-12-31T23:30:00+00:00"]
    );
}

#[test]
fn the_latest_run_time_is_the_one_a_late_start_catches_up() {
    let s = schedule("kind = \"executive\"\nevery = \"daily\"\nat = \"06:00\"");
    // Three weeks down: one run, the latest.
    assert_eq!(
        s.latest_at_or_before(utc("2026-05-22T05:00:00Z")),
        Some(utc("2026-05-21T06:00:00Z"))
    );
    assert_eq!(
        s.latest_at_or_before(utc("2026-05-22T06:00:00Z")),
        Some(utc("2026-05-22T06:00:00Z"))
    );
}

/// The error a schedule's TOML (after `directory = "r"`) gets.
fn error(toml: &str) -> String {
    Config::parse(
        &format!("[[reports.schedule]]\ndirectory = \"r\"\n{toml}"),
        "t",
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn errors_name_the_schedule_and_the_field() {
    for (toml, expected) in [
        (
            "kind = \"weekly\"\nevery = \"daily\"",
            "config t: [[reports.schedule]] #1: kind must be executive, technical, learning, experiments, got \"weekly\"",
        ),
        (
            "kind = \"executive\"\nevery = \"hourly\"",
            "config t: [[reports.schedule]] #1: every must be daily, weekly or monthly, got \"hourly\"",
        ),
        (
            "kind = \"executive\"\nevery = \"daily\"\nat = \"8am\"",
            "config t: [[reports.schedule]] #1: at must be a local time HH:MM (00:00 to 23:59), got \"8am\"",
        ),
        (
            "kind = \"executive\"\nevery = \"weekly\"",
            "config t: [[reports.schedule]] #1: weekday is required for a weekly schedule (mon to sun)",
        ),
        (
            "kind = \"executive\"\nevery = \"monthly\"\nday = 31",
            "config t: [[reports.schedule]] #1: day must be 1 to 28 (a day every month has), got 31",
        ),
        (
            "kind = \"executive\"\nevery = \"daily\"\nday = 3",
            "config t: [[reports.schedule]] #1: day is for monthly schedules, this one is daily",
        ),
        (
            "kind = \"executive\"\nevery = \"daily\"\ntimezone = \"Mars/Olympus\"",
            "config t: [[reports.schedule]] #1: timezone must be an IANA name such as Europe/Berlin, got \"Mars/Olympus\"",
        ),
        (
            "kind = \"executive\"\nevery = \"daily\"\nformat = \"pdf\"",
            "config t: [[reports.schedule]] #1: format must be html, md or json, got \"pdf\"",
        ),
    ] {
        assert_eq!(error(toml), expected, "{toml}");
    }
    let second = Config::parse(
        "[[reports.schedule]]\nkind = \"executive\"\nevery = \"daily\"\ndirectory = \"r\"\n\
         [[reports.schedule]]\nkind = \"technical\"\nevery = \"weekly\"\nweekday = \"someday\"\ndirectory = \"r\"",
        "t",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        second,
        "config t: [[reports.schedule]] #2: weekday must be mon, tue, wed, thu, fri, sat or sun, got \"someday\""
    );
    let no_directory = Config::parse(
        "[[reports.schedule]]\nkind = \"executive\"\nevery = \"daily\"",
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(
        no_directory.contains("#1: directory is required"),
        "{no_directory}"
    );
}

#[test]
fn the_brief_example_parses() {
    let s = schedule(
        "kind = \"executive\"\nevery = \"weekly\"\nat = \"08:00\"\nweekday = \"mon\"\n\
         timezone = \"Europe/Berlin\"\nformat = \"md\"\nproject = \"support-bot\"",
    );
    assert_eq!(
        s.key(),
        "executive/support-bot/weekly-mon/08:00/Europe/Berlin/md"
    );
    assert_eq!(s.every, super::Every::Weekly(chrono::Weekday::Mon));
    assert_eq!(s.timezone, chrono_tz::Europe::Berlin);
    assert_eq!(s.format, crate::ReportFormat::Markdown);
    assert_eq!(s.project.as_deref(), Some("support-bot"));
    let channels = error("kind = \"executive\"\nevery = \"daily\"\nchannels = [\"ops\"]");
    assert_eq!(
        channels,
        "config t: [[reports.schedule]] #1: channels: no channel \"ops\" (configured: none)"
    );
}

#[test]
fn a_failed_run_moves_no_last_run_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("out");
    let config = Config::parse(
        &format!(
            "[[reports.schedule]]\nkind = \"executive\"\nevery = \"daily\"\nat = \"06:00\"\n\
             project = \"nobody\"\ndirectory = \"{}\"",
            directory.display()
        ),
        "t",
    )
    .unwrap();
    let analytics =
        crate::Analytics::open_with("memory:", config, crate::SqliteOptions::default()).unwrap();
    let scheduler = super::Scheduler::from_config(analytics, None).unwrap();
    let armed = utc("2026-05-01T12:00:00Z");
    assert_eq!(
        scheduler.run_due(armed),
        [super::Ran::Armed {
            number: 1,
            at: armed
        }]
    );
    // Not due yet: nothing to do.
    assert_eq!(scheduler.run_due(utc("2026-05-02T05:59:59Z")), []);
    let ran = scheduler.run_due(utc("2026-05-02T06:00:00Z"));
    let [super::Ran::Failed { number: 1, error }] = ran.as_slice() else {
        panic!("{ran:?}");
    };
    assert!(error.contains("\"nobody\""), "{error}");
    let state = super::StateFile::in_directory(&directory);
    let key = "executive/nobody/daily/06:00/UTC/html";
    assert_eq!(state.last_run(key).unwrap(), Some(armed));
    let files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, [std::ffi::OsString::from(super::STATE_FILE)]);
}

#[test]
fn file_names_keep_to_safe_characters() {
    let report = super::RenderedReport {
        kind: crate::ReportKind::Technical,
        project: Some("team a/b".to_owned()),
        format: crate::ReportFormat::Json,
        due: utc("2026-05-02T06:00:00Z"),
        local_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(),
        filter: crate::Filter::default(),
        body: String::new(),
    };
    assert_eq!(report.file_name(), "technical-team_a_b-2026-05-02.json");
}
