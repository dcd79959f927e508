//! Size, health and integrity of the `tally` schema. Backups and checkpoints are the
//! database server's business: `pg_dump`/`pg_restore`, and its own write-ahead log.

use std::path::Path;

use crate::retention::RAW_TABLES;
use crate::{BackupOutcome, Error, PostgresStore, Result, StoreHealth, StoreStats, schema};

/// Bytes of every table, index and TOAST relation of the `tally` schema (read from the
/// catalog, no table scanned).
const SCHEMA_BYTES: &str = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'tally' AND c.relkind IN ('r', 'm')";

/// What `integrity_check` looks for that PostgreSQL's constraints do not rule out: a
/// name for each problem, and the query counting its rows.
fn integrity_checks() -> Vec<(String, String)> {
    let mut checks = Vec::new();
    for table in RAW_TABLES {
        checks.push((
            format!("{table} rows without a ledger entry"),
            format!(
                "SELECT count(*) FROM tally.{table} r
                 WHERE NOT EXISTS (SELECT 1 FROM tally.ledger l WHERE l.seq = r.seq)"
            ),
        ));
    }
    checks.push((
        "seq stored in more than one raw table".to_owned(),
        format!(
            "SELECT count(*) FROM (SELECT seq FROM ({}) s GROUP BY seq HAVING count(*) > 1) d",
            RAW_TABLES
                .iter()
                .map(|table| format!("SELECT seq FROM tally.{table}"))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        ),
    ));
    for (child, parent_seq, parent) in [
        ("run_model", "run_seq", "run"),
        ("session_topic", "session_seq", "session"),
        ("outcome_metric", "outcome_seq", "outcome"),
    ] {
        checks.push((
            format!("{child} rows without their {parent}"),
            format!(
                "SELECT count(*) FROM tally.{child} c
                 WHERE NOT EXISTS (SELECT 1 FROM tally.{parent} p WHERE p.seq = c.{parent_seq})"
            ),
        ));
    }
    for (table, column) in [
        ("rollup", "project"),
        ("job_state", "project"),
        ("agent_state", "project"),
        ("agent_load", "project"),
        ("rollup_minute", "project"),
    ] {
        checks.push((
            format!("{table} rows of a project code the dictionary lacks"),
            format!(
                "SELECT count(*) FROM tally.{table} t
                 WHERE t.{column} <> 0 AND NOT EXISTS
                     (SELECT 1 FROM tally.dict d WHERE d.dim = 0 AND d.code = t.{column})"
            ),
        ));
    }
    checks.push((
        "rollup rows counting no event".to_owned(),
        "SELECT count(*) FROM tally.rollup WHERE n <= 0".to_owned(),
    ));
    checks.push((
        "ledger entries above the sequence".to_owned(),
        "SELECT count(*) FROM tally.ledger
         WHERE seq > (SELECT last_value FROM tally.event_seq)"
            .to_owned(),
    ));
    checks
}

impl PostgresStore {
    /// Bytes of the `tally` schema, stored events and schema version.
    ///
    /// # Errors
    /// Any database failure.
    pub fn stats(&self) -> Result<StoreStats> {
        let mut client = self.conn()?;
        let bytes: i64 = client.query_one(SCHEMA_BYTES, &[])?.get(0);
        let count = RAW_TABLES
            .iter()
            .map(|table| format!("(SELECT count(*) FROM tally.{table})"))
            .collect::<Vec<_>>()
            .join(" + ");
        let events: i64 = client.query_one(&format!("SELECT {count}"), &[])?.get(0);
        let schema_version = schema::version(&mut client.transaction()?)?;
        Ok(StoreStats {
            bytes_used: u64::try_from(bytes).unwrap_or(0),
            events: u64::try_from(events).unwrap_or(0),
            schema_version,
        })
    }

    /// The schema version and the bytes of the `tally` schema, from the catalog.
    ///
    /// # Errors
    /// The database does not answer.
    pub fn health(&self) -> Result<StoreHealth> {
        let mut client = self.conn()?;
        let bytes: i64 = client.query_one(SCHEMA_BYTES, &[])?.get(0);
        let schema_version = schema::version(&mut client.transaction()?)?;
        Ok(StoreHealth {
            schema_version,
            file_bytes: u64::try_from(bytes).unwrap_or(0),
        })
    }

    /// The server's version, as it reports it (`SHOW server_version`).
    ///
    /// # Errors
    /// Any database failure.
    pub fn server_version(&self) -> Result<Option<String>> {
        let row = self.conn()?.query_one("SHOW server_version", &[])?;
        Ok(Some(row.get(0)))
    }

    /// Checks what the schema's constraints leave open (every raw row has its ledger
    /// entry and one kind, child rows their parent, shared rows known project codes):
    /// `"ok"`, or one line per problem found.
    ///
    /// # Errors
    /// Any database failure.
    pub fn integrity_check(&self) -> Result<String> {
        let mut client = self.conn()?;
        let mut problems = Vec::new();
        for (problem, sql) in integrity_checks() {
            let n: i64 = client.query_one(&sql, &[])?.get(0);
            if n > 0 {
                problems.push(format!("{problem}: {n}"));
            }
        }
        Ok(if problems.is_empty() {
            "ok".to_owned()
        } else {
            problems.join("\n")
        })
    }

    /// Refuses: a PostgreSQL database is backed up with its own tools.
    ///
    /// # Errors
    /// Always [`Error::Backup`], naming the commands to use.
    pub fn backup_to(&self, dest: &Path) -> Result<BackupOutcome> {
        Err(Error::Backup(format!(
            "a PostgreSQL store is backed up with pg_dump, not by tally: \
             pg_dump --format=custom --schema=tally --file '{}' '{}' \
             (give the password as PGPASSWORD or in ~/.pgpass), \
             and restored with pg_restore --dbname '<url>' '{}'",
            dest.display(),
            self.shown,
            dest.display()
        )))
    }

    /// Nothing to do: PostgreSQL makes committed writes durable itself.
    ///
    /// # Errors
    /// None.
    pub fn checkpoint(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tally_store::Batch;
    use tally_store_contract::events::{Exec, at, execution, run};
    use tally_store_contract::postgres_test::TestDatabase;

    use crate::{Error, PostgresOptions, PostgresStore, SCHEMA_VERSION};

    fn store_with_events() -> (PostgresStore, TestDatabase) {
        let database = TestDatabase::create();
        let store = PostgresStore::open(database.url(), PostgresOptions::default())
            .expect("open the test database");
        store
            .write_batch(Batch {
                events: &[
                    execution("a", "alpha", at(0), &Exec::default()),
                    run(
                        "r",
                        "alpha",
                        at(0),
                        1.0,
                        None,
                        tally_models::QaStatus::Passed,
                        &[("m", 1, 1, None)],
                    ),
                ],
                ..Batch::default()
            })
            .expect("written");
        (store, database)
    }

    #[test]
    fn stats_and_health_report_the_schema() {
        let (store, _db) = store_with_events();
        let stats = store.stats().expect("stats");
        assert_eq!(stats.events, 2);
        assert_eq!(stats.schema_version, SCHEMA_VERSION);
        assert!(stats.bytes_used > 0);
        let health = store.health().expect("health");
        assert_eq!(health.schema_version, SCHEMA_VERSION);
        assert_eq!(health.file_bytes, stats.bytes_used);
        store.checkpoint().expect("nothing to do");
    }

    #[test]
    fn the_integrity_check_finds_raw_rows_without_ledger_entries_and_orphans() {
        let (store, _db) = store_with_events();
        assert_eq!(store.integrity_check().expect("checked"), "ok");
        let mut client = store.conn().expect("a connection");
        client
            .batch_execute(
                "DELETE FROM tally.ledger WHERE id = 'a';
                 DELETE FROM tally.run;",
            )
            .expect("broken on purpose");
        let verdict = store.integrity_check().expect("checked");
        assert!(
            verdict.contains("execution rows without a ledger entry: 1"),
            "{verdict}"
        );
        assert!(
            verdict.contains("run_model rows without their run: 1"),
            "{verdict}"
        );
    }

    #[test]
    fn a_backup_names_pg_dump_and_never_the_password() {
        let database = TestDatabase::create();
        let url = database.url().replacen("postgres@", "postgres:secret@", 1);
        let store =
            PostgresStore::open(&url, PostgresOptions::default()).expect("open the test database");
        let error = store
            .backup_to(std::path::Path::new("/tmp/tally.dump"))
            .expect_err("refused");
        let message = error.to_string();
        assert!(matches!(error, Error::Backup(_)), "{message}");
        assert!(
            message.contains("pg_dump") && message.contains("pg_restore"),
            "{message}"
        );
        assert!(message.contains("/tmp/tally.dump"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
