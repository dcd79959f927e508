//! Measures the write path's rate: the demo's events (200,000 by default) written in
//! batches of 5,000 into a fresh database of the test server, then the time each part
//! of a write took, from the server's own statistics.
//!
//! ```text
//! TALLY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p tally-store-postgres --example ingest_rate [EVENTS]
//! ```

use std::time::Instant;

use tally_ingest::demo::{DemoConfig, generate};
use tally_models::Event;
use tally_store::Batch;
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};

const BATCH: usize = 5_000;

fn main() {
    let events: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let events: Vec<Event> = generate(&DemoConfig {
        events,
        ..DemoConfig::default()
    })
    .collect();
    let database = TestDatabase::create();
    let store = PostgresStore::open(database.url(), PostgresOptions::default())
        .unwrap_or_else(|e| panic!("open {}: {e}", database.url()));
    let started = Instant::now();
    let mut accepted = 0;
    for batch in events.chunks(BATCH) {
        accepted += store
            .write_batch(Batch {
                events: batch,
                ..Batch::default()
            })
            .unwrap_or_else(|e| panic!("write: {e}"))
            .accepted;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{accepted} of {} events in {elapsed:.2} s: {:.0} events/s",
        events.len(),
        accepted as f64 / elapsed
    );
    let resent = Instant::now();
    for batch in events.chunks(BATCH) {
        store
            .write_batch(Batch {
                events: batch,
                ..Batch::default()
            })
            .unwrap_or_else(|e| panic!("write: {e}"));
    }
    let elapsed = resent.elapsed().as_secs_f64();
    println!(
        "resent (all duplicates) in {elapsed:.2} s: {:.0} events/s",
        events.len() as f64 / elapsed
    );
    let stats = store.stats().unwrap_or_else(|e| panic!("stats: {e}"));
    println!(
        "{} bytes in the tally schema: {:.0} bytes per event",
        stats.bytes_used,
        stats.bytes_used as f64 / stats.events.max(1) as f64
    );
}
