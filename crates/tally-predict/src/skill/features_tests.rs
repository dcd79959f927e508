//! Each feature on hand-computed cases.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tally_store::{SkillRow, SkillTally};

use super::*;

/// 2026-10-04 is a Sunday.
fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 4, hour, minute, 0).unwrap()
}

fn row(
    ts: DateTime<Utc>,
    user: &str,
    skill: &str,
    completed: bool,
    session: Option<&str>,
) -> SkillRow {
    SkillRow {
        seq: 0,
        ts,
        user: user.into(),
        skill: skill.into(),
        completed,
        session: session.map(str::to_owned),
        phase: None,
    }
}

fn context<'a>(ts: DateTime<Utc>, user: &'a str, skill: &'a str) -> Context<'a> {
    Context {
        ts,
        user,
        skill,
        phase: None,
        session: None,
    }
}

fn features(history: &[SkillRow], context: &Context<'_>) -> Features {
    let mut builder = FeatureBuilder::default();
    for row in history {
        builder.observe(row);
    }
    builder.features(context)
}

fn check_close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-12, "{what}: {got}, expected {want}");
}

#[test]
fn hour_and_day_are_utc_monday_zero() {
    // 01:30 on Monday in Berlin (+02:00) is 23:30 on Sunday in UTC.
    let berlin = DateTime::parse_from_rfc3339("2026-10-05T01:30:00+02:00")
        .unwrap()
        .with_timezone(&Utc);
    let f = features(&[], &context(berlin, "ann", "refactor"));
    assert_eq!((f.hour_of_day, f.day_of_week), (23, 6));
    let monday = Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap();
    let f = features(&[], &context(monday, "ann", "refactor"));
    assert_eq!((f.hour_of_day, f.day_of_week), (0, 0));
}

#[test]
fn the_24_hours_count_and_rate_include_the_window_start_and_exclude_the_instant() {
    let t = at(12, 0);
    let day = Duration::hours(24);
    let history = [
        row(t - day - Duration::milliseconds(1), "ann", "a", true, None), // too old
        row(t - day, "ann", "a", false, None),                            // first in
        row(t - Duration::hours(2), "ann", "b", true, None),
        row(t - Duration::hours(1), "ann", "c", true, None),
        row(t - Duration::hours(1), "bob", "a", false, None), // another user
    ];
    let f = features(&history, &context(t, "ann", "a"));
    assert_eq!(f.invocation_count_24h, 3);
    check_close(f.avg_completion_rate_24h, 2.0 / 3.0, "rate of 3");
}

#[test]
fn without_recent_invocations_the_rate_is_the_users_smoothed_earlier_share() {
    let t = at(12, 0);
    let old = t - Duration::days(3);
    let history = [
        row(old, "ann", "a", true, None),
        row(old, "ann", "b", true, None),
        row(old, "ann", "a", false, None),
    ];
    let f = features(&history, &context(t, "ann", "a"));
    assert_eq!(f.invocation_count_24h, 0);
    check_close(
        f.avg_completion_rate_24h,
        (2.0 + 1.0) / (3.0 + 2.0),
        "smoothed",
    );
    // Tallies seeded from storage count the same as observed rows.
    let mut builder = FeatureBuilder::default();
    builder.seed_tallies([
        SkillTally {
            user: "ann".into(),
            skill: "a".into(),
            invocations: 2,
            completed: 1,
        },
        SkillTally {
            user: "ann".into(),
            skill: "b".into(),
            invocations: 1,
            completed: 1,
        },
    ]);
    assert_eq!(builder.features(&context(t, "ann", "a")), f);
    let new = features(&history, &context(t, "cid", "a"));
    assert_eq!(new.invocation_count_24h, 0);
    check_close(new.avg_completion_rate_24h, 0.5, "a new user");
}

#[test]
fn phases_have_fixed_codes_and_anything_else_is_other() {
    let cases = [
        (Some("planning"), 0),
        (Some("execution"), 1),
        (Some("Review"), 2),
        (Some(" debugging "), 3),
        (Some("documentation"), 4),
        (Some("testing"), 5),
        (Some("deployment"), 6),
        (Some("brainstorm"), 7),
        (Some(""), 7),
        (None, 7),
    ];
    for (phase, code) in cases {
        assert_eq!(phase_code(phase), code, "{phase:?}");
    }
    assert_eq!(OTHER_PHASE, 7);
    let f = features(
        &[],
        &Context {
            phase: Some("review"),
            ..context(at(9, 0), "ann", "a")
        },
    );
    assert_eq!(f.workflow_phase, 2);
}

#[test]
fn session_length_counts_from_the_sessions_first_earlier_invocation() {
    let history = [
        row(at(10, 0), "ann", "a", true, Some("s1")),
        row(at(10, 20), "ann", "b", false, Some("s1")),
        row(at(10, 30), "bob", "a", true, Some("s2")),
    ];
    let in_session = |session: Option<&'static str>, ts| Context {
        session,
        ..context(ts, "ann", "a")
    };
    let check = |session, ts, want: f64| {
        let f = features(&history, &in_session(session, ts));
        check_close(f.session_length_minutes, want, &format!("{session:?}"));
    };
    check(Some("s1"), at(10, 45), 45.0);
    check(Some("s1"), at(10, 0), 0.0); // the session's first instant
    check(Some("s2"), at(11, 0), 30.0); // a shared session id counts whoever began it
    check(Some("s3"), at(11, 0), 0.0); // a new session
    check(None, at(11, 0), 0.0);
    let mut builder = FeatureBuilder::default();
    builder.seed_session_starts([("s1".to_owned(), at(9, 0))]);
    builder.observe(&history[0]);
    let f = builder.features(&in_session(Some("s1"), at(9, 30)));
    check_close(f.session_length_minutes, 30.0, "seeded start");
}

#[test]
fn familiarity_is_a_count_weighted_smoothed_success_share() {
    let t = at(12, 0);
    let old = t - Duration::days(2);
    let check = |history: &[SkillRow], want: f64| {
        let f = features(history, &context(t, "ann", "a"));
        check_close(
            f.user_skill_familiarity,
            want,
            &format!("{} uses", history.len()),
        );
    };
    check(&[], 0.0);
    check(&[row(old, "ann", "a", true, None)], 1.0 / 4.0 * 2.0 / 3.0);
    check(
        &[
            row(old, "ann", "a", true, None),
            row(old, "ann", "a", false, None),
            row(old, "ann", "a", true, None),
            row(old, "ann", "b", true, None), // another skill
            row(old, "bob", "a", true, None), // another user
        ],
        3.0 / 6.0 * 3.0 / 5.0,
    );
    let many: Vec<SkillRow> = (0..1000)
        .map(|_| row(old, "ann", "a", true, None))
        .collect();
    let f = features(&many, &context(t, "ann", "a"));
    assert!(f.user_skill_familiarity > 0.99 && f.user_skill_familiarity < 1.0);
}

#[test]
fn invocations_of_one_instant_do_not_see_each_other() {
    let t = at(12, 0);
    let rows = [
        row(t - Duration::hours(1), "ann", "a", true, Some("s")),
        row(t, "ann", "a", false, Some("s")),
        row(t, "ann", "a", true, Some("s")),
        row(t + Duration::minutes(1), "ann", "a", true, Some("s")),
    ];
    let mut dataset = DatasetBuilder::new(FeatureBuilder::default(), t);
    for row in rows.iter().cloned() {
        dataset.push(row);
    }
    let dataset = dataset.finish();
    assert_eq!(dataset.len(), 3, "the first row is before emit_from");
    assert_eq!(dataset.rows[0], dataset.rows[1]);
    assert_eq!(dataset.rows[0][2], 1.0);
    assert_eq!(dataset.rows[2][2], 3.0);
    assert_eq!(dataset.labels, [false, true, true]);
    assert_eq!(dataset.completed(), 2);
    assert_eq!(
        dataset.rows[2],
        Features {
            hour_of_day: 12,
            day_of_week: 6,
            invocation_count_24h: 3,
            avg_completion_rate_24h: 2.0 / 3.0,
            workflow_phase: OTHER_PHASE,
            session_length_minutes: 61.0,
            user_skill_familiarity: 3.0 / 6.0 * 3.0 / 5.0,
        }
        .row()
    );
}
