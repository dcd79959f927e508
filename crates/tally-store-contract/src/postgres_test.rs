//! A fresh, empty PostgreSQL database per test, on the server `TALLY_TEST_POSTGRES_URL`
//! names (`cargo xtask test` starts one and sets it). Without the variable a test
//! fails, saying how to get a server: never a silent skip.

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the test server: a URL whose user may create databases.
pub const TEST_SERVER_VARIABLE: &str = "TALLY_TEST_POSTGRES_URL";

/// A database created for one test, dropped (with its connections) when this drops.
#[derive(Debug)]
pub struct TestDatabase {
    server: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database on the test server.
    ///
    /// # Panics
    /// `TALLY_TEST_POSTGRES_URL` is not set, or the server refuses: the message says how
    /// to start one.
    pub fn create() -> TestDatabase {
        let server = test_server_url();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "tally_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = connect(&server);
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a test database on {server}: {e}"));
        let url = with_database(&server, &name);
        TestDatabase { server, name, url }
    }

    /// The new database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The test server's URL.
///
/// # Panics
/// The variable is not set.
pub fn test_server_url() -> String {
    std::env::var(TEST_SERVER_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{TEST_SERVER_VARIABLE} is not set: the PostgreSQL tests need a server. Run the \
             tests with `cargo xtask test`, which starts one, or start PostgreSQL yourself \
             and set {TEST_SERVER_VARIABLE}=postgres://USER@HOST:PORT/postgres (a user that \
             may create databases)"
        )
    })
}

fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "{TEST_SERVER_VARIABLE}={url} does not answer ({e}): start the server, or run \
             the tests with `cargo xtask test`, which starts one"
        )
    })
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_end = base
        .find("://")
        .map(|at| at + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..authority_end])
}

#[cfg(test)]
mod tests {
    use super::{TestDatabase, connect, test_server_url, with_database};

    #[test]
    fn each_test_gets_its_own_empty_database_gone_after_it() {
        let first = TestDatabase::create();
        let second = TestDatabase::create();
        assert_ne!(first.name, second.name);
        let mut client = connect(first.url());
        let row = client
            .query_one(
                "SELECT current_database(), (SELECT count(*) FROM pg_tables \
                 WHERE schemaname = 'public')",
                &[],
            )
            .unwrap();
        assert_eq!(row.get::<_, String>(0), first.name);
        assert_eq!(row.get::<_, i64>(1), 0);
        drop(client);
        let name = first.name.clone();
        drop(first);
        let left = connect(&test_server_url())
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .unwrap();
        assert_eq!(left.get::<_, i64>(0), 0, "{name} was dropped");
    }

    #[test]
    fn the_database_of_a_url_is_replaced_and_its_options_kept() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5", "t1"),
            "postgres://u@h:5/t1"
        );
    }
}
