//! Export: stored events read back as they were sent, and written back to the same
//! store.

use tally_models::{
    Action, AttrValue, CostSource, Event, EventBody, EventId, JobStatus, Kind, QaStatus, Severity,
    SystemMetrics, Usd,
};
use tally_store::rollup::{Family, ProjectScope, RollupQuery};
use tally_store::{Filter, WriteOutcome};

use super::{project, write};
use crate::events::{
    Exec, agent_status, at, error, execution, job, outcome, request, run, session, skill,
};
use crate::{NewStore, Store};

/// One event of every kind, with what export changes: a derived id, a computed cost,
/// durations finer than a microsecond, a topic named twice.
pub(super) fn every_kind() -> Vec<Event> {
    let mut with_attrs = execution(
        "x1",
        "p1",
        at(60),
        &Exec {
            duration_ms: 12.3456789,
            ..Exec::default()
        },
    );
    with_attrs
        .attrs
        .insert("region".to_owned(), AttrValue::Str("eu".to_owned()));
    with_attrs
        .attrs
        .insert("retries".to_owned(), AttrValue::Int(2));
    let mut derived = execution("unused", "p1", at(61), &Exec::default());
    derived.id = Some(EventId::Derived(0xfeed));
    let mut computed = execution("x3", "p2", at(62), &Exec::default());
    if let EventBody::Execution(x) = &mut computed.body {
        x.cost_source = CostSource::Computed;
        x.cost_usd = Some(Usd::from_nanos(7_000));
    }
    let plain = |id: &str, body| Event {
        id: Some(EventId::Given(id.into())),
        ts: at(70),
        project: "p1".into(),
        attrs: Default::default(),
        body,
    };
    vec![
        with_attrs,
        derived,
        computed,
        run(
            "r1",
            "p1",
            at(63),
            1.2345678,
            Some("2loop"),
            QaStatus::Passed,
            &[("gpt-4o", 10, 5, Some(1_000)), ("claude", 3, 2, None)],
        ),
        job("j1", "p2", at(64), "job-1", JobStatus::Running),
        session(
            "s1",
            "p1",
            at(65),
            "u1",
            90.5,
            3,
            Some(0.8),
            &["sql", "rust", "sql"],
        ),
        skill("k1", "p1", at(66), "u1", "search", true, Some("s1")),
        outcome(
            "o1",
            "p1",
            at(67),
            "checkout",
            "u1",
            "control",
            &[("converted", 1.0, true), ("latency", 12.5, false)],
        ),
        agent_status("a1", "p2", at(68), "agent-a", 2, 1, 4),
        request("q1", "p1", at(69), "/v1/chat", 503, 87.654321, Some("u1")),
        error("e1", "p1", at(69), Severity::Critical),
        plain(
            "act1",
            EventBody::Action(Action {
                user_id: "u1".to_owned(),
                action: "open".to_owned(),
                session_id: Some("s1".to_owned()),
            }),
        ),
        plain(
            "sys1",
            EventBody::System(SystemMetrics {
                host: "web-1".to_owned(),
                cpu_pct: Some(12.5),
                mem_pct: None,
                disk_pct: Some(70.0),
                load1: Some(0.5),
            }),
        ),
    ]
}

fn exported(store: &dyn Store, filter: &Filter) -> Vec<Event> {
    let mut out = Vec::new();
    let count = store
        .export_events(filter, &mut |event| {
            out.push(event);
            Ok(())
        })
        .expect("the export runs");
    assert_eq!(count, out.len() as u64);
    out
}

pub fn an_export_writes_back_to_the_same_store(new: NewStore<'_>) {
    let store = new();
    let sent = every_kind();
    write(&*store, &sent);
    let out = exported(&*store, &Filter::default());
    assert_eq!(out.len(), sent.len());
    // Executions first, then kind by kind.
    let kinds: Vec<Kind> = out.iter().map(Event::kind).collect();
    let mut in_order = kinds.clone();
    in_order.sort_by_key(|kind| Kind::ALL.iter().position(|k| k == kind));
    assert_eq!(kinds, in_order);
    // Given ids kept, the derived one left out (ingest derives it again).
    assert_eq!(out[0].id, sent[0].id);
    assert_eq!(out[0].attrs, sent[0].attrs);
    assert_eq!(out[1].id, None);
    // A cost tally computed is left out (ingest computes it again).
    match &out[2].body {
        EventBody::Execution(x) => {
            assert_eq!(x.cost_usd, None);
            assert_eq!(x.cost_source, CostSource::Reported);
        }
        other => panic!("an execution, not {other:?}"),
    }
    // Durations as stored, to the microsecond.
    match &out[0].body {
        EventBody::Execution(x) => assert_eq!(x.duration_ms, 12.346),
        other => panic!("an execution, not {other:?}"),
    }
    let session = out.iter().find(|e| e.kind() == Kind::Session).unwrap();
    match &session.body {
        EventBody::Session(s) => {
            assert_eq!(s.duration_s, 90.5);
            let mut topics = s.topics.clone();
            topics.sort();
            assert_eq!(
                topics,
                vec!["rust".to_owned(), "sql".to_owned()],
                "each topic once"
            );
        }
        other => panic!("a session, not {other:?}"),
    }

    // Written back as ingest writes it (the id derived and the cost computed again),
    // every event is a duplicate.
    let mut again = out.clone();
    again[1].id = sent[1].id.clone();
    again[2] = sent[2].clone();
    assert_eq!(
        write(&*store, &again),
        WriteOutcome {
            duplicates: sent.len() as u64,
            ..WriteOutcome::default()
        }
    );
    // Written to a fresh store, it exports the same and answers the same.
    let copy = new();
    write(&*copy, &again);
    assert_eq!(exported(&*copy, &Filter::default()), out);
    assert_eq!(
        copy.totals(&Filter::default()).unwrap(),
        store.totals(&Filter::default()).unwrap()
    );
    let executions = RollupQuery {
        family: Family::Executions,
        projects: ProjectScope::Each,
        from: None,
        to: None,
        by: None,
    };
    let n = |s: &dyn Store| -> Vec<_> {
        s.rollups(&executions)
            .unwrap()
            .into_iter()
            .map(|r| (r.project, r.measures.n, r.measures.cost_nusd))
            .collect()
    };
    assert_eq!(n(&*copy), n(&*store));

    // A filter narrows it; executions alone.
    let p2 = exported(&*store, &project("p2"));
    assert_eq!(
        p2.iter().map(Event::kind).collect::<Vec<_>>(),
        vec![Kind::Execution, Kind::Job, Kind::AgentStatus]
    );
    let range = Filter {
        from: Some(at(62)),
        to: Some(at(64)),
        ..Filter::default()
    };
    assert_eq!(exported(&*store, &range).len(), 2, "x3 and r1");
    assert!(exported(&*store, &project("none")).is_empty());
    let mut executions = Vec::new();
    let count = store
        .export_executions(&Filter::default(), &mut |event| {
            executions.push(event);
            Ok(())
        })
        .unwrap();
    assert_eq!(count, 3);
    assert_eq!(executions, out[..3].to_vec());
}
