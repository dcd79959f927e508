//! The API-key port: keys are stored hashed, with a scope and optional projects.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Send telemetry (the `POST` routes).
    Ingest,
    /// Read views and exports (the `GET` data routes).
    Read,
    /// Everything.
    Admin,
}

impl KeyScope {
    pub const ALL: [KeyScope; 3] = [KeyScope::Ingest, KeyScope::Read, KeyScope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Ingest => "ingest",
            KeyScope::Read => "read",
            KeyScope::Admin => "admin",
        }
    }

    /// The scope named `word`, if any.
    pub fn from_word(word: &str) -> Option<KeyScope> {
        KeyScope::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// A key to store: everything but the secret itself, which is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: Option<String>,
    pub scope: KeyScope,
    /// Projects the key is limited to; empty means every project.
    pub projects: Vec<String>,
    /// The public start of the key, used to find its row.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub hash: [u8; 32],
    pub created_at: DateTime<Utc>,
}

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub name: Option<String>,
    pub scope: KeyScope,
    pub projects: Vec<String>,
    pub prefix: String,
    #[serde(skip)]
    pub hash: [u8; 32],
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores API keys.
pub trait KeyStore: Send + Sync {
    /// Stores a key and returns its id.
    ///
    /// # Errors
    /// Any storage failure.
    fn create_key(&self, key: &NewApiKey) -> Result<i64>;

    /// Every key, revoked ones included, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn keys(&self) -> Result<Vec<ApiKeyRecord>>;

    /// The active (not revoked) keys whose prefix is `prefix`.
    ///
    /// # Errors
    /// Any storage failure.
    fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>>;

    /// Whether any key is active.
    ///
    /// # Errors
    /// Any storage failure.
    fn any_active_key(&self) -> Result<bool>;

    /// Revokes a key; `false` when no active key has this id.
    ///
    /// # Errors
    /// Any storage failure.
    fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;
}
