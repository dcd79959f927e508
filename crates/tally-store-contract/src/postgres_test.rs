//! Fresh, empty PostgreSQL databases for tests, on the server `TALLY_TEST_POSTGRES_URL`
//! names (`cargo xtask test` starts one and sets it). A test that needs PostgreSQL and
//! finds no server fails with a message that says how to get one: never a silent skip.
//!
//! ```text
//! let database = tally_store_contract::postgres_test::fresh_database();
//! let store = PostgresStore::open(database.url(), PostgresOptions::default())?;
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable that names the tests' server.
pub const URL_VARIABLE: &str = "TALLY_TEST_POSTGRES_URL";

/// What a test that needs PostgreSQL says when it has none.
pub const NO_SERVER: &str = "TALLY_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL \
     server. Run the tests with `cargo xtask test` (it starts a throwaway server, installing \
     Debian's `postgresql` package when missing), or start one and set \
     TALLY_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DATABASE (a user that may create \
     databases)";

/// A database created for one test, dropped (with its connections) when this drops.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl TestDatabase {
    /// The database's URL: the server's, with this database's name.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // WITH (FORCE) ends the connections a store's pool still holds.
        if let Ok(mut client) = connect(&self.server_url) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The server's URL from `TALLY_TEST_POSTGRES_URL`.
///
/// # Panics
/// When it is not set, with [`NO_SERVER`].
pub fn server_url() -> String {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{NO_SERVER}"),
    }
}

/// Creates an empty database with a name no other test (of any process) uses.
///
/// # Panics
/// When `TALLY_TEST_POSTGRES_URL` is not set, or its server does not answer or refuses
/// to create the database: the message says which.
pub fn fresh_database() -> TestDatabase {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server_url = server_url();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "tally_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = connect(&server_url)
        .unwrap_or_else(|error| panic!("{URL_VARIABLE}: the server does not answer: {error}"));
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap_or_else(|error| panic!("{URL_VARIABLE}: CREATE DATABASE {name}: {error}"));
    TestDatabase {
        url: with_database(&server_url, &name),
        name,
        server_url,
    }
}

fn connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Client::connect(url, postgres::NoTls)
}

/// `url` naming the database `name` instead of its own (its query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_the_new_database_and_keeps_its_options() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgresql://u:p@db/x?sslmode=disable", "t2"),
            "postgresql://u:p@db/t2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://db:5433", "t3"),
            "postgres://db:5433/t3"
        );
    }

    #[test]
    fn each_test_gets_its_own_empty_database_gone_after_it() {
        let first = fresh_database();
        let second = fresh_database();
        assert_ne!(first.name(), second.name());
        let mut client = connect(first.url()).unwrap();
        let row = client
            .query_one(
                "SELECT current_database(), (SELECT count(*) FROM pg_tables \
                 WHERE schemaname = 'public')",
                &[],
            )
            .unwrap();
        assert_eq!(row.get::<_, String>(0), first.name());
        assert_eq!(row.get::<_, i64>(1), 0);
        drop(client);
        let name = first.name().to_owned();
        drop(first);
        let mut server = connect(&server_url()).unwrap();
        let left = server
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .unwrap();
        assert_eq!(left.get::<_, i64>(0), 0, "{name} was dropped");
    }
}
