//! API keys in SQLite (`api_key`), and the cheap health probe the server reports.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Row, params};

use super::SqliteStore;
use crate::{ApiKeyRecord, Error, KeyScope, NewApiKey, Result, StoreHealth};

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

const COLUMNS: &str = "id, name, scope, projects, prefix, hash, created_at, revoked_at";

fn record(r: &Row<'_>) -> rusqlite::Result<(ApiKeyRecord, String, String, Vec<u8>)> {
    let revoked: Option<i64> = r.get(7)?;
    let record = ApiKeyRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        scope: KeyScope::Admin,
        projects: Vec::new(),
        prefix: r.get(4)?,
        hash: [0; 32],
        created_at: instant(r.get(6)?),
        revoked_at: revoked.map(instant),
    };
    Ok((record, r.get(2)?, r.get(3)?, r.get(5)?))
}

fn finish(
    (mut record, scope, projects, hash): (ApiKeyRecord, String, String, Vec<u8>),
) -> Result<ApiKeyRecord> {
    let corrupt = |what: &str| Error::Corrupt(format!("api_key {}: {what}", record.id));
    record.scope = KeyScope::from_word(&scope).ok_or_else(|| corrupt("unknown scope"))?;
    record.projects = serde_json::from_str(&projects).map_err(|_| corrupt("bad projects"))?;
    record.hash = hash.try_into().map_err(|_| corrupt("bad hash length"))?;
    Ok(record)
}

impl SqliteStore {
    pub(crate) fn create_key(&self, key: &NewApiKey) -> Result<i64> {
        let projects = serde_json::to_string(&key.projects)
            .map_err(|e| Error::Corrupt(format!("projects: {e}")))?;
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO api_key (name, scope, projects, prefix, hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.name,
                key.scope.as_str(),
                projects,
                key.prefix,
                key.hash.as_slice(),
                key.created_at.timestamp_millis()
            ],
        )?;
        Ok(writer.conn.last_insert_rowid())
    }

    pub(crate) fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_key ORDER BY id"))?;
        let rows = statement.query_map([], record)?;
        rows.map(|r| finish(r?)).collect()
    }

    pub(crate) fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_key WHERE prefix = ?1 AND revoked_at IS NULL"
        ))?;
        let rows = statement.query_map([prefix], record)?;
        rows.map(|r| finish(r?)).collect()
    }

    pub(crate) fn any_active_key(&self) -> Result<bool> {
        let conn = self.reader()?;
        Ok(conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM api_key WHERE revoked_at IS NULL)")?
            .query_row([], |r| r.get(0))?)
    }

    pub(crate) fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let writer = self.writer();
        let changed = writer.conn.execute(
            "UPDATE api_key SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, at.timestamp_millis()],
        )?;
        Ok(changed > 0)
    }
}

impl SqliteStore {
    /// Proves the database answers a query, and reports its schema version and size on
    /// disk without scanning any table.
    ///
    /// # Errors
    /// The database does not answer.
    pub fn health(&self) -> Result<StoreHealth> {
        let schema_version: i64 = self
            .reader()?
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let file_bytes = ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut path = self.path().as_os_str().to_owned();
                path.push(suffix);
                std::fs::metadata(path).ok()
            })
            .map(|m| m.len())
            .sum();
        Ok(StoreHealth {
            schema_version,
            file_bytes,
        })
    }
}
