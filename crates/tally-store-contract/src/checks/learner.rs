//! Learner state: sessions, time zones, goals, revisions, activity.

use tally_store::{Activity, GoalRecord, LearningSession, TopicActivity};

use super::write;
use crate::NewStore;
use crate::events::{at, session, skill};

fn goal(user: &str, kind: &str, target: f64) -> GoalRecord {
    GoalRecord {
        id: 0,
        user: user.to_owned(),
        kind: kind.to_owned(),
        target,
        title: format!("{kind} to {target}"),
        created_at: at(0),
        deadline: Some(at(86_400 * 30)),
        state: "active".to_owned(),
        project: Some("p1".to_owned()),
    }
}

pub fn learner_state_keeps_time_zones_goals_and_activity(new: NewStore<'_>) {
    let store = new();
    write(
        &*store,
        &[
            session(
                "s1",
                "p1",
                at(3600),
                "u1",
                60.0,
                4,
                Some(0.95),
                &["rust", "async", "rust"],
            ),
            session("s2", "p2", at(7200), "u1", 30.5, 2, None, &[]),
            session("s3", "p1", at(3700), "u2", 10.0, 1, Some(0.5), &["go"]),
            skill("k1", "p1", at(3650), "u1", "search", true, Some("s1")),
            skill("k2", "p2", at(3640), "u1", "edit", false, None),
        ],
    );
    let first = LearningSession {
        ts: at(3600),
        duration_us: 60_000_000,
        exchanges: 4,
        quality: Some(0.95),
        topics: vec!["async".to_owned(), "rust".to_owned()],
    };
    let second = LearningSession {
        ts: at(7200),
        duration_us: 30_500_000,
        exchanges: 2,
        quality: None,
        topics: Vec::new(),
    };
    assert_eq!(
        store.learning_sessions("u1", None, None).unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store.learning_sessions("u1", Some("p1"), None).unwrap(),
        vec![first.clone()]
    );
    assert_eq!(
        store.learning_sessions("u1", None, Some(at(3600))).unwrap(),
        vec![first.clone()],
        "`until` is inclusive"
    );
    assert!(
        store
            .learning_sessions("nobody", None, None)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .learning_sessions("u1", Some("none"), None)
            .unwrap()
            .is_empty()
    );

    let invocations = store.skill_invocations("u1", None, None).unwrap();
    let skills: Vec<_> = invocations
        .iter()
        .map(|k| (k.ts, k.skill.as_str(), k.completed, k.rating))
        .collect();
    assert_eq!(
        skills,
        vec![
            (at(3640), "edit", false, Some(4)),
            (at(3650), "search", true, Some(4))
        ]
    );
    assert_eq!(
        store
            .skill_invocations("u1", Some("p1"), None)
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        store.learners(None).unwrap(),
        vec!["u1".to_owned(), "u2".to_owned()]
    );
    assert_eq!(store.learners(Some("p2")).unwrap(), vec!["u1".to_owned()]);
    assert!(store.learners(Some("none")).unwrap().is_empty());

    // While every raw session is kept, activity is one entry per session.
    assert_eq!(
        store.learner_activity("u1", None, None).unwrap(),
        vec![Activity::from(&first), Activity::from(&second)]
    );
    assert_eq!(
        store.learner_activity("u1", Some("p2"), None).unwrap(),
        vec![Activity::from(&second)]
    );
    // The summary: one bucket per learner and quarter hour.
    let summary = store.all_learner_activity(None, None).unwrap();
    let users: Vec<_> = summary
        .iter()
        .map(|(user, list)| (user.as_str(), list.len()))
        .collect();
    assert_eq!(users, vec![("u1", 2), ("u2", 1)]);
    let bucket = &summary[0].1[0];
    assert_eq!((bucket.first, bucket.last), (at(3600), at(3600)));
    assert_eq!(
        (bucket.sessions, bucket.exchanges, bucket.duration_us),
        (1, 4, 60_000_000)
    );
    assert_eq!((bucket.rated, bucket.excellent), (1, 1));
    assert!((bucket.quality_sum - 0.95).abs() < 1e-12);
    assert_eq!(
        bucket.topics,
        vec![
            TopicActivity {
                topic: "async".to_owned(),
                sessions: 1,
                rated: 1,
                quality_sum: 0.95
            },
            TopicActivity {
                topic: "rust".to_owned(),
                sessions: 1,
                rated: 1,
                quality_sum: 0.95
            },
        ]
    );
    assert_eq!(
        store.all_learner_activity(Some("p2"), None).unwrap().len(),
        1
    );
    assert_eq!(
        store.all_learner_activity(None, Some(at(3650))).unwrap()[0]
            .1
            .len(),
        1,
        "a bucket counts once its last session is at or before `until`"
    );

    // Time zones.
    assert_eq!(store.learner_time_zone("u1").unwrap(), None);
    let revisions = store.learner_revisions(0).unwrap();
    assert_eq!(
        revisions
            .iter()
            .map(|(u, _)| u.as_str())
            .collect::<Vec<_>>()
            .len(),
        2
    );
    let latest = revisions.iter().map(|(_, r)| *r).max().unwrap();
    store.set_learner_time_zone("u1", "Europe/Paris").unwrap();
    store.set_learner_time_zone("u1", "Asia/Tokyo").unwrap();
    store.set_learner_time_zone("u3", "UTC").unwrap();
    assert_eq!(
        store.learner_time_zone("u1").unwrap().as_deref(),
        Some("Asia/Tokyo")
    );
    let mut zones = store.learner_time_zones().unwrap();
    zones.sort();
    assert_eq!(
        zones,
        vec![
            ("u1".to_owned(), "Asia/Tokyo".to_owned()),
            ("u3".to_owned(), "UTC".to_owned())
        ]
    );
    // A change raises the learner's revision above every other.
    let changed = store.learner_revisions(latest).unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].0, "u1");
    assert!(changed[0].1 > latest);

    // Goals.
    let sessions_goal = goal("u1", "sessions", 10.0);
    let streak_goal = goal("u1", "streak", 5.0);
    let first_id = store.create_goal(&sessions_goal).unwrap();
    let second_id = store.create_goal(&streak_goal).unwrap();
    let other_id = store.create_goal(&goal("u2", "minutes", 60.0)).unwrap();
    assert!(first_id < second_id && second_id < other_id);
    let with_id = |goal: &GoalRecord, id| GoalRecord { id, ..goal.clone() };
    assert_eq!(
        store.goals("u1").unwrap(),
        vec![
            with_id(&sessions_goal, first_id),
            with_id(&streak_goal, second_id)
        ]
    );
    let paused = GoalRecord {
        state: "paused".to_owned(),
        target: 12.0,
        title: "twelve sessions".to_owned(),
        deadline: None,
        ..with_id(&sessions_goal, first_id)
    };
    assert!(store.update_goal(&paused).unwrap());
    assert!(
        !store
            .update_goal(&with_id(&sessions_goal, other_id + 100))
            .unwrap()
    );
    assert_eq!(store.goals("u1").unwrap()[0], paused);
    assert!(store.goals("nobody").unwrap().is_empty());
    let after_goals = store.learner_revisions(changed[0].1).unwrap();
    assert!(after_goals.iter().any(|(user, _)| user == "u1"));
}

pub fn learner_opt_outs_are_set_and_withdrawn(new: NewStore<'_>) {
    let store = new();
    assert_eq!(store.opted_out_learners().unwrap(), Vec::<String>::new());
    store.set_learner_opt_out("zoe", true).unwrap();
    store.set_learner_opt_out("adam", true).unwrap();
    // Opting out twice is opting out once; opting in without having opted out is nothing.
    store.set_learner_opt_out("zoe", true).unwrap();
    store.set_learner_opt_out("nobody", false).unwrap();
    store.set_learner_opt_out("café", true).unwrap();
    assert_eq!(
        store.opted_out_learners().unwrap(),
        ["adam", "café", "zoe"].map(String::from)
    );
    store.set_learner_opt_out("adam", false).unwrap();
    assert_eq!(
        store.opted_out_learners().unwrap(),
        ["café", "zoe"].map(String::from)
    );
    // Settings of one kind leave the other alone.
    store.set_learner_time_zone("zoe", "Europe/Paris").unwrap();
    assert_eq!(
        store.opted_out_learners().unwrap(),
        ["café", "zoe"].map(String::from)
    );
    assert_eq!(
        store.learner_time_zone("zoe").unwrap().as_deref(),
        Some("Europe/Paris")
    );
}
