//! The `tally_bi` views that SQL tools read: their daily rollups agree with the raw
//! views they summarize, in dollars and names, and a role granted `tally_bi` alone reads
//! them and nothing of `tally`.

use chrono::{TimeZone, Utc};
use postgres::error::SqlState;
use tally_models::Event;
use tally_store::Batch;
use tally_store_contract::events::{Exec, execution};
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};

/// Execution `n`: two projects, three tools, two models, each on three days; it costs
/// `n + 1` thousandths of a dollar.
fn event(n: u32) -> Event {
    let ts = Utc
        .with_ymd_and_hms(2026, 11, 1 + (n / 3) % 3, n % 24, 0, 0)
        .single()
        .expect("a time");
    execution(
        &format!("x{n}"),
        ["alpha", "beta"][n as usize % 2],
        ts,
        &Exec {
            tool: ["search", "browse", "code"][n as usize % 3].to_owned(),
            model: Some(["gpt-4o", "o3"][n as usize % 2].to_owned()),
            duration_ms: f64::from(10 + n),
            success: n % 4 != 0,
            cost_nanos: Some(i64::from(n + 1) * 1_000_000),
            ..Exec::default()
        },
    )
}

#[test]
fn daily_rollups_agree_with_the_raw_views_and_a_reader_sees_only_tally_bi() {
    let database = TestDatabase::create();
    let store = PostgresStore::open(database.url(), PostgresOptions::default()).expect("open");
    let events: Vec<Event> = (0..300).map(event).collect();
    store
        .write_batch(Batch {
            events: &events,
            ..Batch::default()
        })
        .expect("write");
    let mut client = postgres::Client::connect(database.url(), postgres::NoTls).expect("connect");

    let daily = client
        .query(
            "SELECT project, day::text, tool, executions, successes, cost_usd::text
             FROM tally_bi.daily_executions_by_tool ORDER BY 1, 2, 3",
            &[],
        )
        .expect("daily");
    let raw = client
        .query(
            "SELECT project, (ts AT TIME ZONE 'UTC')::date::text, tool, count(*),
                    count(*) FILTER (WHERE success), sum(cost_usd)::text
             FROM tally_bi.executions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            &[],
        )
        .expect("raw");
    let rows = |rows: &[postgres::Row]| -> Vec<(String, String, String, i64, i64, f64)> {
        rows.iter()
            .map(|r| {
                let cost: String = r.get(5);
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    cost.parse().expect("a number"),
                )
            })
            .collect()
    };
    let (daily, raw) = (rows(&daily), rows(&raw));
    assert_eq!(daily.len(), 2 * 3 * 3, "{daily:?}");
    assert_eq!(daily, raw);
    let total: f64 = daily.iter().map(|r| r.5).sum();
    let expected: f64 = (1..=300).map(|n| f64::from(n) / 1000.0).sum();
    assert!(
        (total - expected).abs() < 1e-9,
        "{total} against {expected}"
    );

    // Roles belong to the whole server: one name per test process.
    let role = format!("tally_bi_reader_{}", std::process::id());
    client
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN;
             GRANT USAGE ON SCHEMA tally_bi TO {role};
             GRANT SELECT ON ALL TABLES IN SCHEMA tally_bi TO {role};"
        ))
        .expect("the read-only role of docs/bi.md");
    let reader_url =
        database
            .url()
            .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let mut reader = postgres::Client::connect(&reader_url, postgres::NoTls).expect("reader");
    let count: i64 = reader
        .query_one("SELECT count(*) FROM tally_bi.executions", &[])
        .expect("the reader reads tally_bi")
        .get(0);
    assert_eq!(count, 300);
    let refused = reader
        .query("SELECT count(*) FROM tally.execution", &[])
        .expect_err("the reader cannot read tally's own tables");
    assert_eq!(
        refused.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{refused:?}"
    );
    let refused = reader
        .execute("DELETE FROM tally_bi.executions", &[])
        .expect_err("the reader changes nothing");
    assert_eq!(
        refused.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{refused:?}"
    );
    drop(reader);
    client
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .expect("drop the role");
}
