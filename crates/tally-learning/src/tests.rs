//! The learning rules pinned on data: streaks across gaps, grace, freezes, time zones and
//! daylight-saving changes; progress periods; mastery scores.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use tally_store::{Activity, LearningSession};

use crate::LearningConfig;
use crate::mastery::{Level, mastery};
use crate::progress::{Period, by_period, totals};
use crate::streak::streak;

/// One activity per session, as the store answers while raw rows are kept.
fn acts(sessions: &[LearningSession]) -> Vec<Activity> {
    sessions.iter().map(Activity::from).collect()
}

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn config(grace_hours: i64, freezes: u8) -> LearningConfig {
    LearningConfig {
        grace: Duration::hours(grace_hours),
        freezes,
        ..LearningConfig::default()
    }
}

/// `(current, longest)` streak of sessions at `times` as of `at`.
fn check(zone: Tz, config: &LearningConfig, times: &[&str], at: &str, expected: (u32, u32)) {
    let times: Vec<_> = times.iter().map(|x| t(x)).collect();
    let got = streak(&times, zone, t(at), config);
    assert_eq!(
        (got.current_days, got.longest_days),
        expected,
        "times {times:?} at {at}"
    );
}

const UTC: Tz = Tz::UTC;

#[test]
fn daily_sessions_make_a_streak_and_same_day_sessions_count_once() {
    let c = LearningConfig::default();
    check(UTC, &c, &[], "2026-10-01T00:00:00Z", (0, 0));
    check(
        UTC,
        &c,
        &[
            "2026-10-01T10:00:00Z",
            "2026-10-02T10:00:00Z",
            "2026-10-02T18:00:00Z",
            "2026-10-03T10:00:00Z",
        ],
        "2026-10-03T12:00:00Z",
        (3, 3),
    );
}

#[test]
fn a_gap_longer_than_grace_and_freezes_breaks_the_streak() {
    let times = [
        "2026-10-01T10:00:00Z",
        "2026-10-02T10:00:00Z",
        "2026-10-03T10:00:00Z",
        // 4, 5, 6 missed: three days, more than two freezes
        "2026-10-07T10:00:00Z",
        "2026-10-08T10:00:00Z",
    ];
    check(
        UTC,
        &LearningConfig::default(),
        &times,
        "2026-10-08T11:00:00Z",
        (2, 3),
    );
}

#[test]
fn freezes_bridge_one_missed_day_each() {
    let times = [
        "2026-10-01T10:00:00Z",
        "2026-10-02T10:00:00Z",
        // 3 and 4 missed
        "2026-10-05T10:00:00Z",
    ];
    let at = "2026-10-05T11:00:00Z";
    check(UTC, &config(36, 2), &times, at, (3, 3));
    check(UTC, &config(36, 1), &times, at, (1, 2));
    let got = streak(&times.map(t), UTC, t(at), &config(36, 2));
    assert_eq!(got.freezes_used, 2);
}

#[test]
fn the_grace_period_is_measured_in_hours_between_sessions() {
    // 34 h apart, 2 October missed: grace alone keeps the streak.
    check(
        UTC,
        &config(36, 0),
        &["2026-10-01T22:00:00Z", "2026-10-03T08:00:00Z"],
        "2026-10-03T09:00:00Z",
        (2, 2),
    );
    // 46 h apart: beyond grace, and no freeze to spend.
    check(
        UTC,
        &config(36, 0),
        &["2026-10-01T10:00:00Z", "2026-10-03T08:00:00Z"],
        "2026-10-03T09:00:00Z",
        (1, 1),
    );
    // Calendar-adjacent days always link, even 47 h apart.
    check(
        UTC,
        &config(36, 0),
        &["2026-10-01T00:30:00Z", "2026-10-02T23:30:00Z"],
        "2026-10-02T23:45:00Z",
        (2, 2),
    );
}

#[test]
fn streaks_are_answered_as_of_an_instant() {
    let times = [
        "2026-10-01T10:00:00Z",
        "2026-10-02T10:00:00Z",
        "2026-10-03T10:00:00Z",
        "2026-10-20T10:00:00Z",
    ];
    // 34 h after the last session: alive through grace.
    check(UTC, &config(36, 0), &times, "2026-10-04T20:00:00Z", (3, 3));
    // 4 October missed and 61 h gone, no freezes: broken.
    check(UTC, &config(36, 0), &times, "2026-10-05T23:00:00Z", (0, 3));
    // Two missed days, two freezes: alive; a third missed day ends it.
    check(UTC, &config(36, 2), &times, "2026-10-06T23:00:00Z", (3, 3));
    check(UTC, &config(36, 2), &times, "2026-10-07T00:30:00Z", (0, 3));
    // The later session is ignored before it happens, counted after.
    check(UTC, &config(36, 2), &times, "2026-10-20T10:00:00Z", (1, 3));
    let risky = streak(
        &times.map(t),
        UTC,
        t("2026-10-06T23:00:00Z"),
        &config(36, 2),
    );
    assert!(risky.at_risk);
    assert_eq!(risky.missed_days_now, 2);
    let safe = streak(
        &times.map(t),
        UTC,
        t("2026-10-03T12:00:00Z"),
        &config(36, 2),
    );
    assert!(!safe.at_risk);
}

#[test]
fn days_are_the_learners_local_days() {
    let times = ["2026-10-01T23:30:00Z", "2026-10-02T00:30:00Z"];
    check(UTC, &config(36, 0), &times, "2026-10-02T01:00:00Z", (2, 2));
    // 19:30 and 20:30 on 1 October in New York: one day.
    let ny: Tz = "America/New_York".parse().unwrap();
    check(ny, &config(36, 0), &times, "2026-10-02T01:00:00Z", (1, 1));
    let got = streak(&times.map(t), ny, t("2026-10-02T01:00:00Z"), &config(36, 0));
    assert_eq!(got.last_active_date.unwrap().to_string(), "2026-10-01");
}

#[test]
fn daylight_saving_changes_do_not_move_days() {
    // New York falls back on 1 November 2026: noon to noon is 25 h across it, beyond a
    // 24 h grace, yet the days are adjacent.
    let ny: Tz = "America/New_York".parse().unwrap();
    check(
        ny,
        &config(24, 0),
        &[
            "2026-10-31T16:00:00Z",
            "2026-11-01T17:00:00Z",
            "2026-11-02T17:00:00Z",
        ],
        "2026-11-02T18:00:00Z",
        (3, 3),
    );
    // Berlin springs forward on 29 March 2026 (a 23 h day). 23:30 on the 28th to 00:30 on
    // the 30th is 24 h, with the 29th missed: a 24 h grace bridges it, 23 h does not.
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let times = ["2026-03-28T22:30:00Z", "2026-03-29T22:30:00Z"];
    check(
        berlin,
        &config(24, 0),
        &times,
        "2026-03-29T23:00:00Z",
        (2, 2),
    );
    check(
        berlin,
        &config(23, 0),
        &times,
        "2026-03-29T23:00:00Z",
        (1, 1),
    );
}

proptest! {
    #[test]
    fn longest_is_at_least_current_and_adding_a_session_never_shortens_it(
        hours in prop::collection::vec(0i64..2_000, 0..40),
        extra in 0i64..2_100,
        grace in 0i64..72,
        freezes in 0u8..=2,
        zone_index in 0usize..3,
    ) {
        let zone: Tz = ["UTC", "America/New_York", "Asia/Kolkata"][zone_index].parse().unwrap();
        let base = t("2026-01-01T00:00:00Z");
        let c = config(grace, freezes);
        let times: Vec<_> = hours.iter().map(|h| base + Duration::hours(*h)).collect();
        let at = base + Duration::hours(2_100);
        let before = streak(&times, zone, at, &c);
        prop_assert!(before.longest_days >= before.current_days);
        let mut more = times.clone();
        more.push(base + Duration::hours(extra));
        let after = streak(&more, zone, at, &c);
        prop_assert!(after.longest_days >= after.current_days);
        prop_assert!(after.longest_days >= before.longest_days);
        // The running longest agrees with the streak of each prefix.
        let mut sorted = times.clone();
        sorted.sort_unstable();
        let running = crate::streak::longest_after_each(&sorted, zone, &c);
        for (i, longest) in running.iter().enumerate() {
            let far = base + Duration::days(3_650);
            prop_assert_eq!(*longest, streak(&sorted[..=i], zone, far, &c).longest_days);
        }
        // Order of arrival does not matter.
        more.reverse();
        prop_assert_eq!(streak(&more, zone, at, &c), after);
    }
}

fn session(ts: &str, minutes: i64, quality: Option<f64>, topics: &[&str]) -> LearningSession {
    LearningSession {
        ts: t(ts),
        duration_us: minutes * 60_000_000,
        exchanges: 3,
        quality,
        topics: topics.iter().map(|x| (*x).to_owned()).collect(),
    }
}

#[test]
fn totals_sum_sessions_and_average_reported_quality() {
    let sessions = [
        session("2026-10-01T10:00:00Z", 30, Some(0.5), &["rust"]),
        session("2026-10-02T10:00:00Z", 15, None, &["rust", "sql"]),
        session("2026-10-03T10:00:00Z", 15, Some(1.0), &[]),
    ];
    let got = totals(&acts(&sessions));
    assert_eq!(
        (
            got.sessions,
            got.exchanges,
            got.average_quality,
            got.minutes,
            got.topics
        ),
        (3, 9, Some(0.75), 60.0, 2)
    );
}

#[test]
fn periods_are_cut_in_the_learners_time_zone() {
    // Sunday 4 October 23:30 UTC is Monday 5 October 08:30 in Tokyo.
    let sessions = [
        session("2026-10-04T23:30:00Z", 10, None, &[]),
        session("2026-10-05T10:00:00Z", 10, None, &[]),
        session("2026-10-31T20:00:00Z", 10, None, &[]),
    ];
    let labels = |zone: Tz, period: Period| -> Vec<(String, u64)> {
        by_period(&acts(&sessions), zone, period)
            .into_iter()
            .map(|p| (p.label, p.totals.sessions))
            .collect()
    };
    let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
    let s = |x: &str, n| (x.to_owned(), n);
    assert_eq!(
        labels(UTC, Period::IsoWeek),
        vec![s("2026-W40", 1), s("2026-W41", 1), s("2026-W44", 1)]
    );
    assert_eq!(
        labels(tokyo, Period::IsoWeek),
        vec![s("2026-W41", 2), s("2026-W44", 1)]
    );
    assert_eq!(labels(UTC, Period::Month), vec![s("2026-10", 3)]);
    assert_eq!(
        labels(tokyo, Period::Month),
        vec![s("2026-10", 2), s("2026-11", 1)]
    );
    assert_eq!(
        labels(tokyo, Period::Day),
        vec![s("2026-10-05", 2), s("2026-11-01", 1)]
    );
}

#[test]
fn mastery_weighs_quality_by_evidence_and_recency() {
    let sessions = [
        session("2026-10-01T10:00:00Z", 10, Some(1.0), &["rust"]),
        session("2026-10-01T11:00:00Z", 10, Some(1.0), &["rust"]),
        session("2026-10-01T12:00:00Z", 10, Some(1.0), &["rust", "sql"]),
        session("2026-10-01T12:30:00Z", 10, None, &["sql"]),
    ];
    let c = LearningConfig::default();
    let shape = |at: &str| -> Vec<(String, f64, Level, bool, u64)> {
        mastery(&acts(&sessions), t(at), &c)
            .into_iter()
            .map(|m| {
                (
                    m.topic,
                    (m.score * 1e6).round() / 1e6,
                    m.level,
                    m.mastered,
                    m.interactions,
                )
            })
            .collect()
    };
    // Three sessions of quality 1, the last just now: 1 × 3/4 × 1; the 12:30 session
    // has not happened yet.
    assert_eq!(
        shape("2026-10-01T12:00:00Z"),
        vec![
            ("rust".to_owned(), 0.75, Level::Advanced, true, 3),
            ("sql".to_owned(), 0.5, Level::Intermediate, false, 1),
        ]
    );
    // Thirty days idle (one half-life) halve it.
    let later = mastery(&acts(&sessions), t("2026-10-31T12:00:00Z"), &c);
    assert!((later[0].score - 0.375).abs() < 1e-3, "{later:?}");
    assert!(!later[0].mastered);
    assert_eq!(later[0].share, 0.6);
}

#[test]
fn levels_band_the_score() {
    let got: Vec<Level> = [0.0, 0.2, 0.45, 0.7, 0.9].map(Level::of).to_vec();
    assert_eq!(
        got,
        vec![
            Level::Novice,
            Level::Beginner,
            Level::Intermediate,
            Level::Advanced,
            Level::Expert
        ]
    );
}

#[test]
fn config_ranges_are_checked() {
    assert!(LearningConfig::default().validate().is_ok());
    assert!(config(36, 3).validate().is_err());
    assert!(config(-1, 0).validate().is_err());
    assert!(crate::time_zone("Mars/Olympus").is_err());
    assert_eq!(
        crate::time_zone("Europe/Berlin").unwrap(),
        chrono_tz::Europe::Berlin
    );
}

fn goal(kind: &str, target: f64, deadline: Option<&str>, state: &str) -> tally_store::GoalRecord {
    tally_store::GoalRecord {
        id: 1,
        user: "ana".into(),
        kind: kind.into(),
        target,
        title: "t".into(),
        created_at: t("2026-10-02T00:00:00Z"),
        deadline: deadline.map(t),
        state: state.into(),
        project: None,
    }
}

/// `(status, value, percent, milestones, completed_at)` of a goal as of `at`.
fn check_goal(
    goal: &tally_store::GoalRecord,
    at: &str,
    expected: (crate::goals::GoalStatus, f64, f64, Vec<u8>, Option<&str>),
) {
    let sessions = [
        session("2026-10-01T10:00:00Z", 30, Some(0.9), &["rust"]),
        session("2026-10-02T10:00:00Z", 30, Some(0.6), &["rust"]),
        session("2026-10-03T10:00:00Z", 30, Some(0.8), &["sql"]),
        session("2026-10-04T10:00:00Z", 30, Some(1.0), &["go"]),
        session("2026-10-05T10:00:00Z", 30, Some(0.9), &["go"]),
    ];
    let got = crate::goals::evaluate(
        goal,
        &acts(&sessions),
        UTC,
        t(at),
        &LearningConfig::default(),
    )
    .unwrap();
    assert_eq!(
        (
            got.status,
            got.value,
            got.percent,
            got.milestones,
            got.completed_at
        ),
        (
            expected.0,
            expected.1,
            expected.2,
            expected.3,
            expected.4.map(t)
        ),
        "{goal:?} at {at}"
    );
}

#[test]
fn goals_count_the_sessions_since_they_were_set() {
    use crate::goals::GoalStatus::*;
    // Sessions since 2 October: 4 of them; the one on 1 October does not count.
    check_goal(
        &goal("sessions", 8.0, None, "active"),
        "2026-10-06T00:00:00Z",
        (Active, 4.0, 50.0, vec![25, 50], None),
    );
    check_goal(
        &goal("sessions", 3.0, None, "active"),
        "2026-10-06T00:00:00Z",
        (
            Completed,
            4.0,
            100.0,
            vec![25, 50, 75, 100],
            Some("2026-10-04T10:00:00Z"),
        ),
    );
    check_goal(
        &goal("topics", 3.0, None, "active"),
        "2026-10-03T12:00:00Z",
        (Active, 2.0, 2.0 / 3.0 * 100.0, vec![25, 50], None),
    );
    check_goal(
        &goal("minutes", 120.0, None, "paused"),
        "2026-10-03T12:00:00Z",
        (Paused, 60.0, 50.0, vec![25, 50], None),
    );
    check_goal(
        &goal("streak", 3.0, None, "active"),
        "2026-10-06T00:00:00Z",
        (
            Completed,
            4.0,
            100.0,
            vec![25, 50, 75, 100],
            Some("2026-10-04T10:00:00Z"),
        ),
    );
    // Average quality passes 0.75 on 4 October (0.6, 0.7, then 0.8) and stays completed.
    check_goal(
        &goal("quality", 0.75, None, "active"),
        "2026-10-06T00:00:00Z",
        (
            Completed,
            0.825,
            100.0,
            vec![25, 50, 75, 100],
            Some("2026-10-04T10:00:00Z"),
        ),
    );
}

#[test]
fn goals_fail_when_the_deadline_passes_and_stay_abandoned() {
    use crate::goals::GoalStatus::*;
    let due = Some("2026-10-03T23:00:00Z");
    check_goal(
        &goal("sessions", 4.0, due, "active"),
        "2026-10-03T12:00:00Z",
        (Active, 2.0, 50.0, vec![25, 50], None),
    );
    // Sessions after the deadline do not count.
    check_goal(
        &goal("sessions", 4.0, due, "active"),
        "2026-10-06T00:00:00Z",
        (Failed, 2.0, 50.0, vec![25, 50], None),
    );
    check_goal(
        &goal("sessions", 2.0, due, "active"),
        "2026-10-06T00:00:00Z",
        (
            Completed,
            2.0,
            100.0,
            vec![25, 50, 75, 100],
            Some("2026-10-03T10:00:00Z"),
        ),
    );
    check_goal(
        &goal("sessions", 2.0, None, "abandoned"),
        "2026-10-06T00:00:00Z",
        (
            Abandoned,
            4.0,
            100.0,
            vec![25, 50, 75, 100],
            Some("2026-10-03T10:00:00Z"),
        ),
    );
}

#[test]
fn goal_types_and_targets_are_checked() {
    assert!(crate::goals::validate("sessions", 10.0).is_ok());
    assert!(crate::goals::validate("pages", 10.0).is_err());
    assert!(crate::goals::validate("sessions", 0.0).is_err());
    assert!(crate::goals::validate("quality", 1.5).is_err());
}

#[test]
fn achievements_unlock_once_at_the_session_that_earned_them() {
    use crate::achievements::{CATALOG, evaluate};
    let mut sessions = vec![
        session("2026-10-01T10:00:00Z", 30, Some(0.95), &["rust"]),
        session("2026-10-02T10:00:00Z", 30, Some(0.5), &["sql"]),
        session("2026-10-02T12:00:00Z", 30, Some(0.5), &["sql"]),
        session("2026-10-03T10:00:00Z", 30, Some(0.5), &["go"]),
    ];
    let c = LearningConfig::default();
    let at = t("2026-10-10T00:00:00Z");
    let goals = [t("2026-10-05T00:00:00Z")];
    let unlocked = |sessions: &[LearningSession]| -> Vec<(&'static str, DateTime<Utc>)> {
        evaluate(&acts(sessions), &goals, UTC, at, &c)
            .into_iter()
            .filter_map(|e| e.unlocked_at.map(|ts| (e.achievement.id, ts)))
            .collect()
    };
    let expected = vec![
        ("streak_3", t("2026-10-03T10:00:00Z")),
        ("sessions_1", t("2026-10-01T10:00:00Z")),
        ("excellent_1", t("2026-10-01T10:00:00Z")),
        ("topics_3", t("2026-10-03T10:00:00Z")),
        ("goals_1", t("2026-10-05T00:00:00Z")),
    ];
    assert_eq!(unlocked(&sessions), expected);
    sessions.reverse();
    assert_eq!(unlocked(&sessions), expected);
    // Before the third day only the first ones are unlocked; progress towards the rest.
    let early = evaluate(&acts(&sessions), &goals, UTC, t("2026-10-02T23:00:00Z"), &c);
    let streak3 = early
        .iter()
        .find(|e| e.achievement.id == "streak_3")
        .unwrap();
    assert_eq!((streak3.unlocked_at, streak3.value), (None, 2.0));
    assert!((streak3.percent - 200.0 / 3.0).abs() < 1e-9);
    assert!(CATALOG.len() >= 20);
    let ids: std::collections::BTreeSet<_> = CATALOG.iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), CATALOG.len());
}

#[test]
fn rarity_bands_the_share_of_holders() {
    use crate::achievements::Rarity::{self, *};
    let got: Vec<Rarity> = [0.6, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005]
        .map(Rarity::of)
        .to_vec();
    assert_eq!(
        got,
        vec![Common, Common, Uncommon, Rare, Rare, Epic, Epic, Legendary]
    );
}

#[test]
fn insights_carry_the_numbers_that_triggered_them() {
    use crate::insights::{InsightKind, Priority, insights};
    // Daily sessions through September with falling quality at the end, then quiet.
    let start = t("2026-09-01T10:00:00Z");
    let sessions: Vec<LearningSession> = (0..30)
        .map(|d| LearningSession {
            ts: start + Duration::days(d),
            duration_us: 600_000_000,
            exchanges: 5,
            quality: Some(if d < 25 { 0.9 } else { 0.6 }),
            topics: vec!["rust".into()],
        })
        .collect();
    let c = LearningConfig::default();
    let at = t("2026-10-05T12:00:00Z");
    let achievements = crate::achievements::evaluate(&acts(&sessions), &[], UTC, at, &c);
    let got = insights(&acts(&sessions), &achievements, UTC, at, &c);
    let kinds: Vec<(InsightKind, Priority)> = got.iter().map(|i| (i.kind, i.priority)).collect();
    assert_eq!(
        kinds[..2],
        [
            (InsightKind::UnusualDrop, Priority::High),
            (InsightKind::QualityTrend, Priority::Medium),
        ],
        "{got:?}"
    );
    assert!(kinds[2..].iter().all(|(_, p)| *p == Priority::Low));
    assert_eq!(got[0].numbers["last_7_days"], 2.0);
    assert_eq!(got[0].numbers["weekly_mean_before"], 7.0);
    assert!((got[1].numbers["change"] + 0.3).abs() < 1e-9);
    // Two days missed, both freezes spent: the 30-day streak is at risk, and achievements
    // unlocked in the last week are reported.
    let at = t("2026-10-03T20:00:00Z");
    let achievements = crate::achievements::evaluate(&acts(&sessions), &[], UTC, at, &c);
    let got = insights(&acts(&sessions), &achievements, UTC, at, &c);
    let first = &got[0];
    assert_eq!(first.kind, InsightKind::StreakAtRisk, "{got:?}");
    assert_eq!(first.numbers["current_days"], 30.0);
    assert!(got.iter().any(|i| i.kind == InsightKind::MilestoneReached && i.title == "Unlocked Monthly habit"));
}

#[test]
fn goal_suggestions_follow_the_learners_history() {
    use crate::goals::{Difficulty, GoalKind, suggest};
    let c = LearningConfig::default();
    let at = t("2026-10-29T00:00:00Z");
    assert!(suggest(&[], UTC, at, &c).is_empty());
    // Eight sessions of 30 minutes and quality 0.7 in the last 28 days, 4 days in a row.
    let sessions: Vec<LearningSession> = (0..8)
        .map(|i| LearningSession {
            ts: t("2026-10-20T10:00:00Z") + Duration::hours(12 * i),
            duration_us: 1_800_000_000,
            exchanges: 4,
            quality: Some(0.7),
            topics: vec![],
        })
        .collect();
    let got: Vec<(GoalKind, f64, Difficulty)> = suggest(&acts(&sessions), UTC, at, &c)
        .into_iter()
        .map(|s| (s.kind, s.target, s.difficulty))
        .collect();
    assert_eq!(
        got,
        vec![
            (GoalKind::Sessions, 3.0, Difficulty::Easy),
            (GoalKind::Streak, 5.0, Difficulty::Medium),
            (GoalKind::Minutes, 66.0, Difficulty::Medium),
            (GoalKind::Topics, 2.0, Difficulty::Medium),
            (GoalKind::Quality, 0.75, Difficulty::Hard),
        ]
    );
}

/// Sessions folded into 15-minute UTC buckets, as the learner summary keeps them.
fn buckets(sessions: &[LearningSession]) -> Vec<Activity> {
    let mut groups: std::collections::BTreeMap<i64, Vec<&LearningSession>> = Default::default();
    for s in sessions {
        groups
            .entry(s.ts.timestamp_millis().div_euclid(900_000))
            .or_default()
            .push(s);
    }
    groups
        .into_values()
        .map(|group| {
            let mut bucket = Activity::from(group[0]);
            for s in &group[1..] {
                let one = Activity::from(*s);
                bucket.first = bucket.first.min(one.first);
                bucket.last = bucket.last.max(one.last);
                bucket.sessions += 1;
                bucket.exchanges += one.exchanges;
                bucket.duration_us += one.duration_us;
                bucket.quality_sum += one.quality_sum;
                bucket.rated += one.rated;
                bucket.excellent += one.excellent;
                for topic in one.topics {
                    match bucket.topics.iter_mut().find(|t| t.topic == topic.topic) {
                        Some(t) => {
                            t.sessions += 1;
                            t.rated += topic.rated;
                            t.quality_sum += topic.quality_sum;
                        }
                        None => bucket.topics.push(topic),
                    }
                }
            }
            bucket.topics.sort_by(|a, b| a.topic.cmp(&b.topic));
            bucket
        })
        .collect()
}

proptest! {
    #[test]
    fn the_summary_buckets_give_the_same_progress_and_streaks(
        minutes in prop::collection::vec(0i64..60 * 24 * 40, 1..60),
        grace in 0i64..48,
        freezes in 0u8..=2,
        zone_index in 0usize..4,
    ) {
        let zone: Tz = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"][zone_index]
            .parse()
            .unwrap();
        let base = t("2026-01-01T00:00:00Z");
        let mut sessions: Vec<LearningSession> = minutes
            .iter()
            .enumerate()
            .map(|(i, m)| LearningSession {
                ts: base + Duration::minutes(*m),
                duration_us: 60_000_000 * (1 + i as i64 % 7),
                exchanges: 1 + i as u64 % 5,
                quality: (i % 3 != 0).then_some((i % 10) as f64 / 10.0),
                topics: vec![["rust", "sql", "go"][i % 3].to_owned()],
            })
            .collect();
        sessions.sort_by_key(|s| s.ts);
        let c = config(grace, freezes);
        let at = base + Duration::days(41);
        let exact = acts(&sessions);
        let summary = buckets(&sessions);
        for period in [Period::Day, Period::IsoWeek, Period::Month] {
            let a = by_period(&exact, zone, period);
            let b = by_period(&summary, zone, period);
            prop_assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                prop_assert_eq!(&x.label, &y.label);
                prop_assert_eq!(x.totals.sessions, y.totals.sessions);
                prop_assert_eq!(x.totals.exchanges, y.totals.exchanges);
                prop_assert_eq!(x.totals.topics, y.totals.topics);
                prop_assert!((x.totals.minutes - y.totals.minutes).abs() < 1e-9);
            }
        }
        prop_assert_eq!(
            crate::streak::of_activity(&exact, zone, at, &c),
            crate::streak::of_activity(&summary, zone, at, &c)
        );
    }
}

#[test]
fn the_heatmap_lays_local_days_in_weeks_and_the_trend_rolls_over_seven_days() {
    use crate::calendar::{heatmap, quality_trend};
    use chrono::NaiveDate;
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    // Thursday 1 October: two sessions; Friday 2 October 23:30 UTC is Saturday in Tokyo.
    let sessions = [
        session("2026-10-01T10:00:00Z", 30, Some(0.4), &[]),
        session("2026-10-01T11:00:00Z", 30, Some(0.6), &[]),
        session("2026-10-02T23:30:00Z", 10, Some(1.0), &[]),
        session("2026-10-09T10:00:00Z", 10, None, &[]),
    ];
    let activity = acts(&sessions);
    let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
    let grid = heatmap(&activity, tokyo, day("2026-10-10"), 2);
    // Two ISO weeks from Monday 28 September to Saturday 10 October.
    assert_eq!(grid.len(), 13);
    assert_eq!(grid[0].date, day("2026-09-28"));
    let shape: Vec<(NaiveDate, u32, u32, u64, u8)> = grid
        .iter()
        .filter(|d| d.sessions > 0)
        .map(|d| (d.date, d.week, d.weekday, d.sessions, d.level))
        .collect();
    assert_eq!(
        shape,
        vec![
            (day("2026-10-01"), 0, 3, 2, 4),
            (day("2026-10-03"), 0, 5, 1, 2),
            (day("2026-10-09"), 1, 4, 1, 2),
        ]
    );
    let trend = quality_trend(&activity, UTC, day("2026-10-01"), day("2026-10-09"));
    let points: Vec<(Option<f64>, Option<f64>)> = trend
        .iter()
        .map(|q| {
            (
                q.average_quality,
                q.rolling_average.map(|r| (r * 1e9).round() / 1e9),
            )
        })
        .collect();
    assert_eq!(points[0], (Some(0.5), Some(0.5)));
    // 2 October: (0.4 + 0.6 + 1.0) / 3 over the week.
    assert_eq!(points[1], (Some(1.0), Some(0.666666667)));
    // 8 October still sees 2 October; 9 October's window starts on 3 October.
    assert_eq!(points[7], (None, Some(1.0)));
    assert_eq!(points[8], (None, None));
}
