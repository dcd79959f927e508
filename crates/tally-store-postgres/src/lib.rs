//! The PostgreSQL adapter of tally's storage ports: several tally servers on one
//! database, and SQL tools reading it. The sync `postgres` driver with an r2d2 pool,
//! the SQL, the schema and its migrations, the ledger and the dictionary live here; the
//! ports and the backend-neutral logic (the rollup fold, fan-out and range planning) in
//! `tally-store`.
//!
//! Why the sync `postgres` crate (rust-postgres) and r2d2: the ports are synchronous
//! (the facade runs store work on blocking threads), rust-postgres is the driver sqlx
//! and diesel's ecosystem builds on, with binary `COPY`, array parameters and
//! `sslmode` parsed from the URL; r2d2 is the pool the SQLite adapter already uses.
//!
//! Many writers in many processes: each write is one transaction. The idempotency
//! ledger's primary key `(project, id)` decides which events are new (`ON CONFLICT DO
//! NOTHING ... RETURNING`); their raw rows are copied in; the rollup, live-state and
//! learner-summary rows they change are merged under one transaction-scoped advisory
//! lock (`ROLLUP_LOCK`), read-modify-write, so concurrent writers on any number of
//! servers produce exactly the rows one writer would.

mod alerts;
mod bi;
mod catalog;
mod connect;
mod dashboards;
mod dictionary;
mod engagement;
mod error;
mod event_pages;
mod experiments;
mod export;
mod keys;
mod learning;
mod learning_write;
mod maintenance;
mod ports;
mod predict;
mod quarantine;
mod read;
mod retention;
mod rollup_read;
mod schema;
mod series_read;
mod skill_history;
#[cfg(test)]
mod tls_tests;
mod write;

use std::time::Duration;

use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

pub use connect::redact;
pub use error::{Error, Result};
pub use schema::SCHEMA_VERSION;
// The ports' vocabulary, by the paths the modules below name it (`crate::Filter`,
// `crate::rollup::Family`, ...).
use tally_store::*;

use dictionary::Dictionary;

type Manager = PostgresConnectionManager<tokio_postgres_rustls::MakeRustlsConnect>;

/// Settings of a [`PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections in the pool (readers and writers together).
    pub connections: u32,
    /// How long taking a connection from the pool may wait before failing.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            connections: 16,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// A tally database in PostgreSQL, shared by any number of tally servers.
pub struct PostgresStore {
    /// The URL without its password, as shown in messages.
    shown: String,
    /// `None` only while the store is dropped (see its `Drop`).
    pool: Option<Pool<Manager>>,
    dict: Dictionary,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`,
    /// with `sslmode=disable|prefer|require` and the other libpq keys rust-postgres
    /// reads) and brings its `tally` schema up to date.
    ///
    /// # Errors
    /// The URL is not one, the server cannot be reached or refuses the login, or its
    /// schema is newer than this build.
    pub fn open(url: &str, options: PostgresOptions) -> Result<Self> {
        let shown = redact(url);
        let manager = connect::manager(url, &shown)?;
        let pool = Pool::builder()
            .max_size(options.connections.max(2))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .build(manager)
            .map_err(|e| {
                Error::Config(format!(
                    "cannot connect to {shown}: {}",
                    connect::why(url, &shown, &e)
                ))
            })?;
        let store = PostgresStore {
            shown,
            pool: Some(pool),
            dict: Dictionary::default(),
        };
        let mut client = store.conn()?;
        schema::migrate(&mut client, &store.shown)?;
        install_bi_views(&mut client)?;
        drop(client);
        Ok(store)
    }

    /// The database's URL without its password.
    pub fn location(&self) -> &str {
        &self.shown
    }

    fn conn(&self) -> Result<PooledConnection<Manager>> {
        match &self.pool {
            Some(pool) => Ok(pool.get()?),
            None => Err(Error::Config(format!("{} is closed", self.shown))),
        }
    }
}

/// rust-postgres's sync client closes a connection by blocking on a runtime of its own,
/// which panics on a thread that drives async tasks: the last owner of a store may be
/// one (a server's task). So the pool is closed on a thread of its own.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let closed = std::thread::Builder::new()
                .name("tally-postgres-close".into())
                .spawn(move || drop(pool));
            if let Ok(handle) = closed {
                let _ = handle.join();
            }
        }
    }
}

/// (Re)creates the `tally_bi` views, under the migrations' lock: two servers starting
/// at once would otherwise meet on the catalog rows of the same views.
fn install_bi_views(client: &mut postgres::Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&schema::MIGRATION_LOCK],
    )?;
    tx.batch_execute(bi::VIEWS)?;
    tx.commit()?;
    Ok(())
}

/// The transaction-scoped advisory lock every write that merges shared rows (rollups,
/// live state, the learner summary and revisions) takes before reading them: writers
/// on every server merge one at a time, so the rows are exactly one writer's.
pub(crate) const MERGE_LOCK: i64 = 0x7461_6c6c_7902;

/// Epoch milliseconds of `t`, as the schema stores times.
pub(crate) fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// The time of epoch milliseconds `ms`.
///
/// # Errors
/// `ms` is out of chrono's range (not a time tally stores).
pub(crate) fn from_ms(ms: i64) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| Error::Corrupt(format!("time {ms} ms is out of range")))
}
