//! API keys (`tally.api_key`): created, listed, found by prefix, revoked. Every server
//! reads them from the database on each call, so a key created or revoked on one is
//! known to all at once.

use chrono::{DateTime, Utc};
use postgres::Row;

use crate::{ApiKeyRecord, Error, KeyScope, NewApiKey, PostgresStore, Result, from_ms, ms};

const COLUMNS: &str = "id, name, scope, projects, prefix, hash, created_at, revoked_at";

fn record(row: &Row) -> Result<ApiKeyRecord> {
    let id: i64 = row.try_get(0)?;
    let corrupt = |what: &str| Error::Corrupt(format!("api_key {id}: {what}"));
    let scope: String = row.try_get(2)?;
    let hash: Vec<u8> = row.try_get(5)?;
    let revoked_at: Option<i64> = row.try_get(7)?;
    Ok(ApiKeyRecord {
        id,
        name: row.try_get(1)?,
        scope: KeyScope::from_word(&scope).ok_or_else(|| corrupt("scope: unknown"))?,
        projects: row.try_get(3)?,
        prefix: row.try_get(4)?,
        hash: hash.try_into().map_err(|_| corrupt("hash: not 32 bytes"))?,
        created_at: from_ms(row.try_get(6)?)?,
        revoked_at: revoked_at.map(from_ms).transpose()?,
    })
}

impl PostgresStore {
    pub fn create_key(&self, key: &NewApiKey) -> Result<i64> {
        let row = self.conn()?.query_one(
            "INSERT INTO tally.api_key (name, scope, projects, prefix, hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING id",
            &[
                &key.name,
                &key.scope.as_str(),
                &key.projects,
                &key.prefix,
                &key.hash.as_slice(),
                &ms(key.created_at),
            ],
        )?;
        Ok(row.try_get(0)?)
    }

    pub fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let rows = self.conn()?.query(
            &format!("SELECT {COLUMNS} FROM tally.api_key ORDER BY id"),
            &[],
        )?;
        rows.iter().map(record).collect()
    }

    pub fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {COLUMNS} FROM tally.api_key
                 WHERE prefix = $1 AND revoked_at IS NULL ORDER BY id"
            ),
            &[&prefix],
        )?;
        rows.iter().map(record).collect()
    }

    pub fn any_active_key(&self) -> Result<bool> {
        let row = self.conn()?.query_one(
            "SELECT EXISTS (SELECT 1 FROM tally.api_key WHERE revoked_at IS NULL)",
            &[],
        )?;
        Ok(row.try_get(0)?)
    }

    pub fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let changed = self.conn()?.execute(
            "UPDATE tally.api_key SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &ms(at)],
        )?;
        Ok(changed > 0)
    }
}
