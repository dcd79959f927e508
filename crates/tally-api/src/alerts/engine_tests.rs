//! The engine over a real SQLite file: transitions, one notification each, cooldown,
//! failing observations, disabled rules, restarts and two servers on one database.

use std::sync::{Arc, Barrier, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::{
    AlertEngine, AlertRule, Notification, NotificationEvent, Notify, Observation, RuleSource,
};
use crate::{Analytics, Config, Error, SqliteOptions};

/// Keeps what it is told, in order.
#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<Notification>>);

impl Notify for Recorded {
    fn notify(&self, notification: Notification) {
        self.0.lock().unwrap().push(notification);
    }
}

impl Recorded {
    fn events(&self) -> Vec<(String, NotificationEvent)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|n| (n.rule.clone(), n.event))
            .collect()
    }
}

const CONFIG: &str = r#"
[[alerts]]
name = "spend"
rule = "budget"
threshold = 0.7
project = "p1"
cooldown_minutes = 30

[[alerts]]
name = "quiet"
rule = "silence"
threshold = 10
enabled = false
"#;

fn open(dir: &tempfile::TempDir) -> Analytics {
    let config = Config::parse(CONFIG, "tally.toml").unwrap();
    Analytics::open_with(
        dir.path().join("tally.db"),
        config,
        SqliteOptions::default(),
    )
    .unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 5, 12, 0, 0).unwrap()
}

fn minutes(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

fn observation(firing: bool) -> Observation {
    Observation {
        value: Some(if firing { 0.8 } else { 0.5 }),
        threshold: 0.7,
        firing,
        summary: format!("share {}", if firing { 0.8 } else { 0.5 }),
        events: None,
        test: None,
    }
}

fn firing(_: &AlertRule) -> crate::Result<Observation> {
    Ok(observation(true))
}

fn quiet(_: &AlertRule) -> crate::Result<Observation> {
    Ok(observation(false))
}

fn history(analytics: &Analytics) -> Vec<(String, bool)> {
    analytics
        .alert_history(Some("spend"), None, 100, None)
        .unwrap()
        .transitions
        .into_iter()
        .rev()
        .map(|t| (t.event, t.notified))
        .collect()
}

#[test]
fn each_transition_is_recorded_and_notified_once() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = open(&dir);
    let notify = Arc::new(Recorded::default());
    let engine = AlertEngine::new(&analytics, notify.clone());
    let round = engine.evaluate_all(minutes(0), quiet).unwrap();
    assert_eq!(round.len(), 1, "the disabled rule is skipped: {round:?}");
    assert!(notify.events().is_empty());
    engine.evaluate_all(minutes(1), firing).unwrap();
    engine.evaluate_all(minutes(2), firing).unwrap();
    let firing_now = analytics.firing_alerts(None).unwrap();
    assert_eq!(firing_now.len(), 1);
    let state = firing_now[0].state.clone().unwrap();
    assert_eq!(
        (state.since, state.last_evaluated_at),
        (minutes(1), minutes(2))
    );
    engine.evaluate_all(minutes(3), quiet).unwrap();
    engine.evaluate_all(minutes(4), quiet).unwrap();
    assert_eq!(
        notify.events(),
        vec![
            ("spend".to_owned(), NotificationEvent::Firing),
            ("spend".to_owned(), NotificationEvent::Resolved)
        ]
    );
    assert_eq!(
        history(&analytics),
        vec![("firing".to_owned(), true), ("resolved".to_owned(), true)]
    );
    let told = notify.0.lock().unwrap();
    let ids: Vec<i64> = analytics
        .alert_history(None, None, 10, None)
        .unwrap()
        .transitions
        .iter()
        .rev()
        .map(|t| t.id)
        .collect();
    assert_eq!(told.iter().map(|n| n.id).collect::<Vec<_>>(), ids);
    assert_eq!(told[0].scope["project"], "p1");
    assert!(analytics.firing_alerts(None).unwrap().is_empty());
}

#[test]
fn a_rule_firing_again_within_its_cooldown_is_recorded_but_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = open(&dir);
    let notify = Arc::new(Recorded::default());
    let engine = AlertEngine::new(&analytics, notify.clone());
    engine.evaluate_all(minutes(0), firing).unwrap();
    engine.evaluate_all(minutes(5), quiet).unwrap();
    // 10 minutes after the last notification, within the 30 minutes' cooldown.
    engine.evaluate_all(minutes(15), firing).unwrap();
    // Nobody heard it fire: its resolution is silent too.
    engine.evaluate_all(minutes(20), quiet).unwrap();
    // 35 minutes after the last notification (at minute 5).
    engine.evaluate_all(minutes(40), firing).unwrap();
    assert_eq!(
        history(&analytics),
        vec![
            ("firing".to_owned(), true),
            ("resolved".to_owned(), true),
            ("firing".to_owned(), false),
            ("resolved".to_owned(), false),
            ("firing".to_owned(), true),
        ]
    );
    assert_eq!(notify.events().len(), 3);
}

#[test]
fn a_failing_observation_keeps_the_state_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = open(&dir);
    analytics
        .create_alert_rule(
            serde_json::from_str(r#"{"name":"stored","rule":"budget","threshold":0.9}"#).unwrap(),
            None,
        )
        .unwrap();
    let notify = Arc::new(Recorded::default());
    let engine = AlertEngine::new(&analytics, notify.clone());
    engine.evaluate_all(minutes(0), firing).unwrap();
    let round = engine
        .evaluate_all(minutes(1), |rule| {
            if rule.name == "spend" {
                Err(Error::NoData("the views cannot answer".into()))
            } else {
                Ok(observation(false))
            }
        })
        .unwrap();
    assert_eq!(round[0].rule, "spend");
    assert_eq!(round[0].error.as_deref(), Some("the views cannot answer"));
    assert_eq!(
        round[1].transition.map(|t| t.0),
        Some(NotificationEvent::Resolved)
    );
    let spend = analytics.alert_rule("spend", None).unwrap();
    let state = spend.state.unwrap();
    assert_eq!(
        (state.status.as_str(), state.last_evaluated_at),
        ("firing", minutes(0))
    );
    assert_eq!(history(&analytics).len(), 1);
}

#[test]
fn state_and_history_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let analytics = open(&dir);
        let engine = AlertEngine::new(&analytics, Arc::new(Recorded::default()));
        engine.evaluate_all(minutes(0), firing).unwrap();
    }
    let analytics = open(&dir);
    let notify = Arc::new(Recorded::default());
    let engine = AlertEngine::new(&analytics, notify.clone());
    engine.evaluate_all(minutes(1), firing).unwrap();
    assert!(
        notify.events().is_empty(),
        "still firing: nothing new to tell"
    );
    engine.evaluate_all(minutes(2), quiet).unwrap();
    assert_eq!(
        notify.events(),
        vec![("spend".to_owned(), NotificationEvent::Resolved)]
    );
    assert_eq!(
        history(&analytics),
        vec![("firing".to_owned(), true), ("resolved".to_owned(), true)]
    );
}

#[test]
fn of_two_servers_on_one_database_exactly_one_notifies() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(&dir), open(&dir));
    let (told_a, told_b) = (Arc::new(Recorded::default()), Arc::new(Recorded::default()));
    let engines = [
        AlertEngine::new(&a, told_a.clone()),
        AlertEngine::new(&b, told_b.clone()),
    ];
    for (round, at) in [(true, minutes(0)), (false, minutes(1))] {
        // Both read the states before either writes: they race to move the rule.
        let barrier = Barrier::new(2);
        std::thread::scope(|scope| {
            for engine in &engines {
                let barrier = &barrier;
                scope.spawn(move || {
                    engine
                        .evaluate_all(at, |_| {
                            barrier.wait();
                            Ok(observation(round))
                        })
                        .unwrap()
                });
            }
        });
    }
    let mut told = told_a.events();
    told.extend(told_b.events());
    told.sort_by_key(|(_, event)| *event == NotificationEvent::Resolved);
    assert_eq!(
        told,
        vec![
            ("spend".to_owned(), NotificationEvent::Firing),
            ("spend".to_owned(), NotificationEvent::Resolved)
        ]
    );
    assert_eq!(
        history(&a),
        vec![("firing".to_owned(), true), ("resolved".to_owned(), true)]
    );
}

#[test]
fn stored_rules_cannot_take_or_change_a_tally_toml_rule() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = open(&dir);
    let spend: AlertRule =
        serde_json::from_str(r#"{"name":"spend","rule":"budget","threshold":0.5}"#).unwrap();
    let conflict = analytics
        .create_alert_rule(spend.clone(), None)
        .unwrap_err();
    assert_eq!(
        conflict.to_string(),
        "alert rule \"spend\" is defined in tally.toml ([[alerts]]): change it there"
    );
    assert!(matches!(
        analytics.update_alert_rule("spend", spend, None),
        Err(Error::AlertConflict(_))
    ));
    assert!(matches!(
        analytics.delete_alert_rule("spend", None),
        Err(Error::AlertConflict(_))
    ));
    let rules = analytics.alert_rules(None).unwrap();
    assert_eq!(rules.len(), 2);
    assert!(rules.iter().all(|r| r.source == RuleSource::Config));
    let bad = analytics
        .create_alert_rule(
            serde_json::from_str(
                r#"{"name":"x","rule":"budget","threshold":0.5,"channels":["ops"]}"#,
            )
            .unwrap(),
            None,
        )
        .unwrap_err();
    assert!(
        matches!(&bad, Error::AlertInvalid { field, .. } if field == "channels"),
        "{bad:?}"
    );
}

#[test]
fn a_failure_is_logged_when_it_starts_or_changes_not_at_every_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let analytics = open(&dir);
    let engine = AlertEngine::new(&analytics, Arc::new(Recorded::default()));
    assert!(engine.failure_is_news("spend", "unknown project p9"));
    assert!(!engine.failure_is_news("spend", "unknown project p9"));
    assert!(engine.failure_is_news("other", "unknown project p9"));
    assert!(engine.failure_is_news("spend", "the store is unavailable"));
    assert!(engine.recovered("spend"));
    assert!(!engine.recovered("spend"));
    assert!(engine.failure_is_news("spend", "the store is unavailable"));
}
