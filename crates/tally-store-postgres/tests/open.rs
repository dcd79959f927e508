//! Opening a database: the schema is created once however many servers start at once,
//! and the `tally_bi` views are there for SQL tools.

use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore, SCHEMA_VERSION};

#[test]
fn servers_starting_at_once_migrate_once_and_install_the_views() {
    let database = TestDatabase::create();
    let stores: Vec<PostgresStore> = std::thread::scope(|scope| {
        let opening: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| PostgresStore::open(database.url(), PostgresOptions::default()))
            })
            .collect();
        opening
            .into_iter()
            .map(|handle| handle.join().expect("open thread").expect("open"))
            .collect()
    });
    assert_eq!(stores.len(), 4);
    let mut client = postgres::Client::connect(database.url(), postgres::NoTls).expect("connect");
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM tally.schema_version ORDER BY version",
            &[],
        )
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    let views: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.views
             WHERE table_schema = 'tally_bi' ORDER BY 1",
            &[],
        )
        .expect("views")
        .iter()
        .map(|row| row.get(0))
        .collect();
    for view in [
        "daily_executions",
        "daily_executions_by_model",
        "daily_executions_by_tool",
        "daily_runs",
        "executions",
        "jobs",
        "runs",
        "sessions",
    ] {
        assert!(
            views.iter().any(|v| v == view),
            "{view} missing from {views:?}"
        );
    }
}

#[test]
fn a_schema_newer_than_this_build_is_refused_with_its_versions() {
    let database = TestDatabase::create();
    drop(PostgresStore::open(database.url(), PostgresOptions::default()).expect("open"));
    let mut client = postgres::Client::connect(database.url(), postgres::NoTls).expect("connect");
    client
        .execute(
            "INSERT INTO tally.schema_version (version) VALUES ($1)",
            &[&(SCHEMA_VERSION + 1)],
        )
        .expect("raise version");
    let error = PostgresStore::open(database.url(), PostgresOptions::default())
        .expect_err("a newer schema is refused");
    let message = error.to_string();
    assert!(
        message.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{message}"
    );
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    let error = PostgresStore::open(
        "postgres://tally:s3cret@127.0.0.1:1/tally?connect_timeout=2",
        PostgresOptions {
            connect_timeout: std::time::Duration::from_secs(3),
            ..PostgresOptions::default()
        },
    )
    .expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(
        message.contains("postgres://tally:***@127.0.0.1:1/tally"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
}
