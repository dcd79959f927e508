//! Two `tally serve` processes on one PostgreSQL database, clients posting to both at
//! once: every event stored once whichever server got it first, exact totals that both
//! servers agree on, and rollups equal to a recomputation from the stored raw events.

use chrono::{Duration, Utc};
use serde_json::Value;
use tally_store_contract::checks::stored_rollups_equal_their_raw_events;
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};

use crate::http_serve::{serve_at, terminate};
use crate::support::{Http, tally};

const CHUNKS: usize = 4;
const BATCHES_PER_CHUNK: usize = 10;
const EVENTS_PER_BATCH: usize = 100;

/// Event `n`: one of three projects, three tools and two models, spread over the last
/// three days, costing `n + 1` micro-dollars.
fn event(n: usize) -> String {
    let project = ["alpha", "beta", "gamma"][n % 3];
    let tool = ["search", "browse", "code"][n % 3 / 2 + n % 2];
    let model = ["gpt-4o", "claude-3-5-sonnet"][n % 2];
    let ts = Utc::now() - Duration::minutes((n as i64 * 7) % (3 * 24 * 60));
    format!(
        r#"{{"kind":"execution","id":"e-{n}","project":"{project}","ts":"{}","tool":"{tool}","model":"{model}","duration_ms":{},"success":{},"cost_usd":{},"input_tokens":{},"output_tokens":{}}}"#,
        ts.to_rfc3339(),
        5 + n % 400,
        n % 5 != 0,
        (n + 1) as f64 / 1e6,
        10 + n % 90,
        n % 50,
    )
}

/// Posts chunk `chunk`'s batches to `http`, forwards or backwards; the accepted and
/// duplicate counts the server answered.
fn post_chunk(http: &Http, chunk: usize, backwards: bool) -> (u64, u64) {
    let mut batches: Vec<usize> = (0..BATCHES_PER_CHUNK).collect();
    if backwards {
        batches.reverse();
    }
    let (mut accepted, mut duplicates) = (0, 0);
    for batch in batches {
        let first = (chunk * BATCHES_PER_CHUNK + batch) * EVENTS_PER_BATCH;
        let body: Vec<String> = (first..first + EVENTS_PER_BATCH).map(event).collect();
        let answer = http.post("/api/analytics/events", None, body.join("\n"));
        assert_eq!(answer.status, 200, "{}", answer.text());
        let report = answer.json();
        accepted += report["accepted"].as_u64().expect("accepted");
        duplicates += report["duplicates"].as_u64().expect("duplicates");
    }
    (accepted, duplicates)
}

/// The summary a server answers, without the time it was made at.
fn summary(http: &Http, query: &str) -> Value {
    let answer = http.get(&format!("/api/analytics/summary{query}"), None);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let mut summary = answer.json();
    summary
        .as_object_mut()
        .expect("an object")
        .remove("generated_at");
    summary
}

#[test]
fn two_servers_on_one_database_store_each_event_once_and_agree_on_exact_totals() {
    let database = TestDatabase::create();
    let mut a = serve_at(tally().arg("--db").arg(database.url()), &[]);
    let mut b = serve_at(tally().arg("--db").arg(database.url()), &[]);
    // Every chunk goes to both servers at once, in opposite batch orders.
    let counts: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let posting: Vec<_> = (0..CHUNKS)
            .flat_map(|chunk| {
                let (a, b) = (&a.http, &b.http);
                [
                    scope.spawn(move || post_chunk(a, chunk, false)),
                    scope.spawn(move || post_chunk(b, chunk, true)),
                ]
            })
            .collect();
        posting
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    let events = CHUNKS * BATCHES_PER_CHUNK * EVENTS_PER_BATCH;
    let accepted: u64 = counts.iter().map(|c| c.0).sum();
    let duplicates: u64 = counts.iter().map(|c| c.1).sum();
    assert_eq!((accepted, duplicates), (events as u64, events as u64));

    let cost_nanos: u64 = (1..=events as u64).map(|n| n * 1000).sum();
    let summaries: Vec<Value> = [&a.http, &b.http]
        .iter()
        .map(|http| summary(http, ""))
        .collect();
    assert_eq!(summaries[0], summaries[1], "both servers answer the same");
    let totals = &summaries[0];
    assert_eq!(totals["total_executions"], events as u64, "{totals}");
    let cost = totals["total_cost"].as_f64().expect("total_cost");
    assert!(
        (cost - cost_nanos as f64 / 1e9).abs() < 1e-9,
        "{cost} against {}",
        cost_nanos as f64 / 1e9
    );
    for (index, project) in ["alpha", "beta", "gamma"].into_iter().enumerate() {
        let query = format!("?project={project}");
        let per_project = summary(&a.http, &query);
        assert_eq!(per_project, summary(&b.http, &query), "{project}");
        let expected = (0..events).filter(|n| n % 3 == index).count();
        assert_eq!(
            per_project["total_executions"], expected as u64,
            "{project}"
        );
    }

    terminate(&a.child);
    terminate(&b.child);
    assert!(a.child.wait().expect("a stops").success());
    assert!(b.child.wait().expect("b stops").success());
    let store = PostgresStore::open(database.url(), PostgresOptions::default()).expect("open");
    stored_rollups_equal_their_raw_events(&store);
}
