//! Alert rules, states moved by compare-and-set, transition history and deliveries.

use tally_store::{AlertStateRecord, AlertTransitionRecord, DeliveryAttempt, StoredAlertRule};

use crate::NewStore;
use crate::events::at;

fn rule(name: &str, definition: &str, created: i64, updated: i64) -> StoredAlertRule {
    StoredAlertRule {
        name: name.to_owned(),
        definition: definition.to_owned(),
        created_at: at(created),
        updated_at: at(updated),
    }
}

fn state(rule: &str, status: &str, since: i64, notified: Option<i64>) -> AlertStateRecord {
    AlertStateRecord {
        rule: rule.to_owned(),
        status: status.to_owned(),
        since: at(since),
        last_value: Some(0.75),
        last_evaluated_at: at(since + 1),
        last_notified_at: notified.map(at),
    }
}

fn transition(
    rule: &str,
    event: &str,
    minute: i64,
    project: Option<&str>,
) -> AlertTransitionRecord {
    AlertTransitionRecord {
        id: 0,
        rule: rule.to_owned(),
        event: event.to_owned(),
        at: at(minute),
        value: Some(0.75),
        threshold: 0.7,
        summary: format!("{rule} {event}"),
        project: project.map(str::to_owned),
        notified: event == "firing",
    }
}

pub fn alert_rules_are_put_replaced_and_deleted(new: NewStore<'_>) {
    let store = new();
    assert!(store.alert_rules().unwrap().is_empty());
    store.put_alert_rule(&rule("b", "{\"v\":1}", 1, 1)).unwrap();
    store.put_alert_rule(&rule("a", "{\"v\":2}", 2, 2)).unwrap();
    store.put_alert_rule(&rule("b", "{\"v\":3}", 9, 5)).unwrap();
    assert_eq!(
        store.alert_rules().unwrap(),
        vec![rule("a", "{\"v\":2}", 2, 2), rule("b", "{\"v\":3}", 1, 5)],
        "by name; a replaced rule keeps its created_at"
    );
    assert!(
        store
            .advance_alert(None, &state("b", "ok", 5, None), None)
            .unwrap()
            .is_some()
    );
    assert!(store.delete_alert_rule("b").unwrap());
    assert!(!store.delete_alert_rule("b").unwrap(), "deleted once");
    assert!(!store.delete_alert_rule("never").unwrap());
    assert_eq!(
        store.alert_rules().unwrap(),
        vec![rule("a", "{\"v\":2}", 2, 2)]
    );
    assert!(
        store.alert_states().unwrap().is_empty(),
        "a deleted rule's state goes with it"
    );
}

pub fn alert_states_move_only_from_the_expected_status(new: NewStore<'_>) {
    let store = new();
    let ok = state("r", "ok", 10, None);
    assert_eq!(store.advance_alert(None, &ok, None).unwrap(), Some(0));
    assert_eq!(
        store.advance_alert(None, &ok, None).unwrap(),
        None,
        "a state is stored already"
    );
    assert_eq!(store.alert_states().unwrap(), vec![ok.clone()]);
    let firing = state("r", "firing", 20, Some(20));
    let fired = transition("r", "firing", 20, Some("p1"));
    assert_eq!(
        store
            .advance_alert(Some("firing"), &firing, Some(&fired))
            .unwrap(),
        None,
        "the stored status is ok, not firing"
    );
    assert!(store.alert_history(None, None, 10).unwrap().is_empty());
    let id = store
        .advance_alert(Some("ok"), &firing, Some(&fired))
        .unwrap()
        .expect("moved from ok");
    assert!(id > 0);
    assert_eq!(
        store
            .advance_alert(Some("ok"), &firing, Some(&fired))
            .unwrap(),
        None,
        "a second server expecting ok moves nothing"
    );
    assert_eq!(store.alert_states().unwrap(), vec![firing.clone()]);
    let history = store.alert_history(None, None, 10).unwrap();
    assert_eq!(history, vec![AlertTransitionRecord { id, ..fired }]);
    // The same status again records the evaluation only.
    let still = AlertStateRecord {
        last_value: None,
        last_evaluated_at: at(30),
        ..firing.clone()
    };
    assert_eq!(
        store.advance_alert(Some("firing"), &still, None).unwrap(),
        Some(0)
    );
    assert_eq!(store.alert_states().unwrap(), vec![still]);
    assert_eq!(store.alert_history(None, None, 10).unwrap().len(), 1);
}

pub fn alert_history_pages_newest_first_and_keeps_deliveries(new: NewStore<'_>) {
    let store = new();
    let mut ids = Vec::new();
    for minute in 0..7_i64 {
        let (rule, project) = if minute % 2 == 0 {
            ("even", Some("p1"))
        } else {
            ("odd", None)
        };
        let event = if minute < 4 { "firing" } else { "resolved" };
        let next = state(
            rule,
            if event == "firing" { "firing" } else { "ok" },
            minute,
            None,
        );
        let expected = store
            .alert_states()
            .unwrap()
            .into_iter()
            .find(|s| s.rule == rule)
            .map(|s| s.status);
        let id = store
            .advance_alert(
                expected.as_deref(),
                &next,
                Some(&transition(rule, event, minute, project)),
            )
            .unwrap()
            .expect("moved");
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    let newest: Vec<i64> = ids.iter().rev().copied().collect();
    let page = |rule, before, limit| -> Vec<i64> {
        store
            .alert_history(rule, before, limit)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(page(None, None, 100), newest);
    assert_eq!(page(None, None, 3), newest[..3]);
    assert_eq!(page(None, Some(newest[2]), 3), newest[3..6]);
    assert_eq!(page(None, Some(ids[0]), 3), Vec::<i64>::new());
    let even: Vec<i64> = newest.iter().copied().step_by(2).collect();
    assert_eq!(page(Some("even"), None, 100), even);
    assert_eq!(page(Some("even"), Some(even[1]), 1), even[2..3]);
    let first = store.alert_history(Some("even"), None, 100).unwrap();
    assert!(first.iter().all(|t| t.project.as_deref() == Some("p1")));
    // A deleted rule's history stays.
    assert!(!store.delete_alert_rule("odd").unwrap());
    assert_eq!(page(Some("odd"), None, 100).len(), 3);

    let attempt = |transition: i64, number: u32, outcome: &str| DeliveryAttempt {
        transition,
        channel: "ops".to_owned(),
        medium: "webhook".to_owned(),
        attempt: number,
        at: at(100 + i64::from(number)),
        outcome: outcome.to_owned(),
        detail: format!("HTTP {number}"),
    };
    store
        .record_delivery(&attempt(ids[1], 1, "retrying"))
        .unwrap();
    store
        .record_delivery(&attempt(ids[0], 1, "delivered"))
        .unwrap();
    store
        .record_delivery(&attempt(ids[1], 2, "delivered"))
        .unwrap();
    assert_eq!(
        store.deliveries(ids[1]).unwrap(),
        vec![
            attempt(ids[1], 1, "retrying"),
            attempt(ids[1], 2, "delivered")
        ]
    );
    assert_eq!(
        store.deliveries(ids[0]).unwrap(),
        vec![attempt(ids[0], 1, "delivered")]
    );
    assert!(store.deliveries(ids[6] + 1).unwrap().is_empty());
}

/// Several handles on one database (servers sharing it) race to move the same rule
/// from `ok` to `firing`, each from many threads: exactly one moves it, and the history
/// holds one transition.
pub fn one_of_many_servers_moves_an_alert(stores: &[&(dyn crate::Store + Sync)]) {
    let first = stores[0];
    assert_eq!(
        first
            .advance_alert(None, &state("race", "ok", 0, None), None)
            .unwrap(),
        Some(0)
    );
    let firing = state("race", "firing", 60, Some(60));
    let fired = transition("race", "firing", 60, None);
    let moved: Vec<Option<i64>> = std::thread::scope(|scope| {
        let racing: Vec<_> = stores
            .iter()
            .flat_map(|store| std::iter::repeat_n(*store, 4))
            .map(|store| {
                let (firing, fired) = (&firing, &fired);
                scope.spawn(move || {
                    store
                        .advance_alert(Some("ok"), firing, Some(fired))
                        .unwrap()
                })
            })
            .collect();
        racing.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<i64> = moved.into_iter().flatten().collect();
    assert_eq!(winners.len(), 1, "exactly one server moves the rule");
    for store in stores {
        assert_eq!(store.alert_states().unwrap(), vec![firing.clone()]);
        let history = store.alert_history(Some("race"), None, 100).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].id, winners[0]);
    }
}
