//! The events explorer's pages: exactly the events a query selects, newest first, each
//! once however the pages fall, with events written between pages left to newer pages.

use tally_models::{CostSource, Event, EventBody, EventId, Kind, Usd};
use tally_store::event_page::{EventPage, EventQuery};

use super::export::every_kind;
use super::write;
use crate::events::{Exec, at, execution};
use crate::{NewStore, Store};

const TOOLS: [&str; 3] = ["search", "browse", "sql"];
const MODELS: [&str; 2] = ["gpt-4o", "claude"];

/// Varied executions: tools, models, agents, outcomes, projects, traces and times.
fn executions(first: usize, count: usize) -> Vec<Event> {
    (first..first + count)
        .map(|i| {
            let mut event = execution(
                &format!("ex{i}"),
                ["p1", "p2"][i % 2],
                at(i64::try_from(i % 97).unwrap_or(0) * 60),
                &Exec {
                    tool: TOOLS[i % 3].to_owned(),
                    model: (i % 5 != 0).then(|| MODELS[i % 2].to_owned()),
                    agent: Some(format!("agent-{}", i % 4)),
                    success: i % 7 != 0,
                    ..Exec::default()
                },
            );
            if let EventBody::Execution(x) = &mut event.body {
                x.task_id = Some(format!("{:032x}", i / 10).into());
            }
            event
        })
        .collect()
}

/// The label a test compares events by: the given id, or `derived`.
fn label(event: &Event) -> String {
    match &event.id {
        Some(EventId::Given(id)) => id.to_string(),
        _ => "derived".to_owned(),
    }
}

fn page(store: &dyn Store, query: &EventQuery) -> EventPage {
    store.event_page(query).expect("the page is read")
}

/// Every page of `query`, `limit` at a time, calling `between` after the first.
fn walk(store: &dyn Store, query: &EventQuery, mut between: impl FnMut(&dyn Store)) -> Vec<String> {
    let mut query = query.clone();
    let mut seen = Vec::new();
    let mut last_seq = i64::MAX;
    loop {
        let page = page(store, &query);
        assert!(page.events.len() <= query.limit, "{query:?}");
        for stored in &page.events {
            assert!(stored.seq < last_seq, "newest first, each once: {query:?}");
            last_seq = stored.seq;
            assert!(query.matches(&stored.event), "{query:?} gave {stored:?}");
            seen.push(label(&stored.event));
        }
        if query.before.is_none() {
            between(store);
        }
        match page.next {
            Some(next) => query.before = Some(next),
            None => return seen,
        }
    }
}

fn expected(sent: &[Event], query: &EventQuery) -> Vec<String> {
    sent.iter()
        .rev()
        .filter(|e| query.matches(e))
        .map(label)
        .collect()
}

pub fn event_pages_select_the_filtered_events_newest_first(new: NewStore<'_>) {
    let store = new();
    // Several writes, so executions sit in several blocks among the other kinds.
    let mut sent = executions(0, 120);
    sent.extend(every_kind());
    sent.extend(executions(120, 5));
    sent.extend(executions(125, 200));
    write(&*store, &sent[..120]);
    write(&*store, &sent[120..]);
    let base = EventQuery {
        limit: 7,
        ..EventQuery::default()
    };
    let queries = [
        base.clone(),
        EventQuery {
            kind: Some(Kind::Execution),
            ..base.clone()
        },
        EventQuery {
            kind: Some(Kind::Session),
            ..base.clone()
        },
        EventQuery {
            project: Some("p2".into()),
            ..base.clone()
        },
        EventQuery {
            project: Some("p1".into()),
            tool: Some("sql".into()),
            ..base.clone()
        },
        EventQuery {
            model: Some("gpt-4o".into()),
            ..base.clone()
        },
        EventQuery {
            agent: Some("agent-a".into()),
            ..base.clone()
        },
        EventQuery {
            agent: Some("agent-3".into()),
            success: Some(false),
            ..base.clone()
        },
        EventQuery {
            trace: Some(format!("{:032x}", 21)),
            ..base.clone()
        },
        EventQuery {
            from: Some(at(30 * 60)),
            to: Some(at(40 * 60)),
            ..base.clone()
        },
        EventQuery {
            tool: Some("no-such-tool".into()),
            ..base.clone()
        },
        EventQuery {
            project: Some("no-such-project".into()),
            ..base.clone()
        },
        EventQuery {
            limit: 500,
            ..base.clone()
        },
    ];
    for query in &queries {
        assert_eq!(
            walk(&*store, query, |_| {}),
            expected(&sent, query),
            "{query:?}"
        );
    }
    assert_eq!(expected(&sent, &queries[8]).len(), 10);

    // Events written between pages belong to newer pages: the walk sees the events
    // stored when it began, each once.
    let later = executions(1000, 40);
    let query = EventQuery {
        tool: Some("search".into()),
        limit: 5,
        ..EventQuery::default()
    };
    let seen = walk(&*store, &query, |store| {
        write(store, &later);
    });
    assert_eq!(seen, expected(&sent, &query));
    let mut all = sent.clone();
    all.extend(later);
    assert_eq!(walk(&*store, &query, |_| {}), expected(&all, &query));
}

pub fn event_pages_keep_computed_costs_and_given_ids(new: NewStore<'_>) {
    let store = new();
    let sent = every_kind();
    write(&*store, &sent);
    let page = page(
        &*store,
        &EventQuery {
            kind: Some(Kind::Execution),
            ..EventQuery::default()
        },
    );
    let labels: Vec<String> = page.events.iter().map(|s| label(&s.event)).collect();
    assert_eq!(labels, ["x3", "derived", "x1"]);
    assert_eq!(page.next, None);
    // The derived id is left out, as export does; the computed cost is kept, marked.
    assert_eq!(page.events[1].event.id, None);
    match &page.events[0].event.body {
        EventBody::Execution(x) => {
            assert_eq!(x.cost_usd, Some(Usd::from_nanos(7_000)));
            assert_eq!(x.cost_source, CostSource::Computed);
        }
        other => panic!("an execution, not {other:?}"),
    }
    // Every other kind comes back with its given id and as export reads it.
    let mut exported = Vec::new();
    store
        .export_events(&Default::default(), &mut |e| {
            exported.push(e);
            Ok(())
        })
        .expect("the export runs");
    let all = page_all(&*store);
    for event in exported.iter().filter(|e| e.kind() != Kind::Execution) {
        assert!(all.contains(event), "{event:?} not in the pages");
    }
}

fn page_all(store: &dyn Store) -> Vec<Event> {
    page(
        store,
        &EventQuery {
            limit: 500,
            ..EventQuery::default()
        },
    )
    .events
    .into_iter()
    .map(|s| s.event)
    .collect()
}

/// More events than the first window of the write order: a rare filter is found
/// across windows, and pages of a common one run through them.
pub fn event_pages_run_across_windows(new: NewStore<'_>) {
    let store = new();
    let sent = executions(0, 40_000);
    for chunk in sent.chunks(10_000) {
        write(&*store, chunk);
    }
    let rare = EventQuery {
        trace: Some(format!("{:032x}", 7)),
        ..EventQuery::default()
    };
    assert_eq!(walk(&*store, &rare, |_| {}), expected(&sent, &rare));
    let common = EventQuery {
        project: Some("p1".into()),
        tool: Some("browse".into()),
        success: Some(false),
        limit: 500,
        ..EventQuery::default()
    };
    assert_eq!(walk(&*store, &common, |_| {}), expected(&sent, &common));
}
