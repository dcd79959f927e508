//! A write that meets a real deadlock is tried again and stored once: a second
//! connection takes the merge lock, the write stores its ledger entry and waits for the
//! lock, then the second connection inserts the same ledger entry, waiting for the
//! write. The write's server process finds the cycle (its `deadlock_timeout` is the
//! shorter) and aborts it with 40P01; the store tries again.

use std::time::Duration;

use postgres::NoTls;
use tally_store_contract::events::{Exec, at, execution};
use tally_store_contract::postgres_test::TestDatabase;

use crate::{Batch, MERGE_LOCK, PostgresOptions, PostgresStore};

/// Waits until a session of the database waits for an advisory lock.
fn until_someone_waits_for_the_merge_lock(client: &mut postgres::Transaction<'_>) {
    for _ in 0..6_000 {
        let waiting: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                 WHERE d.datname = current_database() AND l.locktype = 'advisory'
                   AND NOT l.granted",
                &[],
            )
            .expect("the locks")
            .get(0);
        if waiting > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the write never waited for the merge lock");
}

#[test]
fn a_write_aborted_by_a_deadlock_is_retried_and_stored_once() {
    let database = TestDatabase::create();
    let mut other = postgres::Client::connect(database.url(), NoTls).expect("connected");
    // The store's sessions look for deadlocks after 3 s, the other one's after a
    // minute: the store's is the transaction the server aborts.
    other
        .batch_execute(
            "DO $$ BEGIN
                 EXECUTE format('ALTER DATABASE %I SET deadlock_timeout = ''3s''',
                                current_database());
             END $$",
        )
        .expect("deadlock_timeout set");
    let store = PostgresStore::open(database.url(), PostgresOptions::default()).expect("open");
    let event = [execution("k", "alpha", at(0), &Exec::default())];

    let mut holder = other.transaction().expect("a transaction");
    holder
        .batch_execute("SET LOCAL deadlock_timeout = '60s'")
        .expect("set");
    holder
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MERGE_LOCK])
        .expect("the merge lock");
    let outcome = std::thread::scope(|scope| {
        let write = scope.spawn(|| {
            store.write_batch(Batch {
                events: &event,
                ..Batch::default()
            })
        });
        until_someone_waits_for_the_merge_lock(&mut holder);
        // Waits for the write's transaction, which waits for this one: a cycle, which
        // the server breaks by aborting the write's. Only then does this insert go in.
        let inserted = holder
            .execute(
                "INSERT INTO tally.ledger (project, id, derived, seq)
                 VALUES ('alpha', 'k', false, 1000000) ON CONFLICT DO NOTHING",
                &[],
            )
            .expect("the other transaction is not the one aborted");
        assert_eq!(inserted, 1, "the write's first try was not rolled back");
        holder.rollback().expect("rolled back");
        write.join().expect("the write's thread")
    })
    .expect("the write, tried again, succeeds");
    assert_eq!((outcome.accepted, outcome.duplicates), (1, 0));

    let mut client = store.conn().expect("a connection");
    for table in ["ledger", "execution"] {
        let rows: i64 = client
            .query_one(&format!("SELECT count(*) FROM tally.{table}"), &[])
            .expect("counted")
            .get(0);
        assert_eq!(rows, 1, "{table}");
    }
    let row = client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE n <> 1) FROM tally.rollup",
            &[],
        )
        .expect("counted");
    let (rows, miscounted): (i64, i64) = (row.get(0), row.get(1));
    assert!(rows > 0, "no rollup row");
    assert_eq!(miscounted, 0, "a rollup row does not count the event once");
    let resent = store
        .write_batch(Batch {
            events: &event,
            ..Batch::default()
        })
        .expect("resent");
    assert_eq!((resent.accepted, resent.duplicates), (0, 1));
}
