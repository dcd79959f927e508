//! API keys: created at random, shown once, stored as SHA-256, checked in constant time.

use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tally_store::{ApiKeyRecord, KeyScope, NewApiKey};

use crate::{Analytics, Error, Result};

/// Every key starts with this, so it is recognizable in logs and secret scanners.
pub const KEY_PREFIX: &str = "tally_";
/// Hex characters of the random part that are stored in clear to find the key's row.
const LOOKUP_HEX: usize = 8;

/// A key just created: the secret is only ever available here.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The whole key, to give to the client. Not stored anywhere.
    pub secret: String,
    pub record: ApiKeyRecord,
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub scope: KeyScope,
    /// Projects the key is limited to; empty means every project.
    pub projects: Vec<String>,
    pub name: Option<String>,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Compares two digests in time independent of where they differ.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// The stored lookup prefix of a well-formed key, `None` for anything else.
fn lookup_prefix(key: &str) -> Option<&str> {
    let random = key.strip_prefix(KEY_PREFIX)?;
    (random.len() == 64 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| &key[..KEY_PREFIX.len() + LOOKUP_HEX])
}

impl Analytics {
    /// Creates a key from 32 random bytes and stores its hash.
    ///
    /// # Errors
    /// A project name ingest would refuse (empty, too long, a bidirectional control),
    /// or the store fails.
    pub fn create_key(&self, spec: &KeySpec) -> Result<CreatedKey> {
        // Named as ingest stores them, so the key meets its projects' records.
        let projects = spec
            .projects
            .iter()
            .map(|p| {
                tally_models::project_name(p)
                    .map(String::from)
                    .map_err(|e| Error::Key(format!("project {p:?}: {}", e.message)))
            })
            .collect::<Result<Vec<String>>>()?;
        let mut random = [0u8; 32];
        rand::rng().fill_bytes(&mut random);
        let secret = format!("{KEY_PREFIX}{}", hex(&random));
        let new = NewApiKey {
            name: spec.name.clone(),
            scope: spec.scope,
            projects,
            prefix: secret[..KEY_PREFIX.len() + LOOKUP_HEX].to_owned(),
            hash: sha256(&secret),
            created_at: Utc::now(),
        };
        let id = self.observe_write(self.store.create_key(&new))?;
        Ok(CreatedKey {
            record: ApiKeyRecord {
                id,
                name: new.name,
                scope: new.scope,
                projects: new.projects,
                prefix: new.prefix,
                hash: new.hash,
                created_at: new.created_at,
                revoked_at: None,
            },
            secret,
        })
    }

    /// Every key, revoked ones included (never their secrets).
    ///
    /// # Errors
    /// The store fails.
    pub fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        Ok(self.store.keys()?)
    }

    /// Revokes a key; `false` when no active key has this id.
    ///
    /// # Errors
    /// The store fails.
    pub fn revoke_key(&self, id: i64) -> Result<bool> {
        self.observe_write(self.store.revoke_key(id, Utc::now()))
    }

    /// Whether any key is active (then the HTTP API requires one).
    ///
    /// # Errors
    /// The store fails.
    pub fn any_active_key(&self) -> Result<bool> {
        Ok(self.store.any_active_key()?)
    }

    /// The active key `key` is, if any.
    ///
    /// # Errors
    /// The store fails.
    pub fn authenticate(&self, key: &str) -> Result<Option<ApiKeyRecord>> {
        let Some(prefix) = lookup_prefix(key) else {
            return Ok(None);
        };
        let digest = sha256(key);
        Ok(self
            .store
            .active_keys_with_prefix(prefix)?
            .into_iter()
            .find(|record| same_digest(&record.hash, &digest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_only_by_their_whole_secret() {
        let dir = tempfile::tempdir().unwrap();
        let analytics = Analytics::open(dir.path().join("t.db")).unwrap();
        assert!(!analytics.any_active_key().unwrap());
        let spec = KeySpec {
            scope: KeyScope::Read,
            projects: vec!["a".into()],
            name: Some("ci".into()),
        };
        let created = analytics.create_key(&spec).unwrap();
        assert!(analytics.any_active_key().unwrap());
        let found = analytics.authenticate(&created.secret).unwrap().unwrap();
        assert_eq!((found.id, found.scope), (created.record.id, KeyScope::Read));
        assert_eq!(found.projects, ["a"]);
        let mut wrong = created.secret.clone();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(wrong.len() - 1.., last);
        for bad in [
            wrong.as_str(),
            "",
            "tally_",
            "Bearer x",
            &created.secret[..20],
        ] {
            assert_eq!(analytics.authenticate(bad).unwrap(), None, "{bad:?}");
        }
        assert!(analytics.revoke_key(created.record.id).unwrap());
        assert!(!analytics.revoke_key(created.record.id).unwrap());
        assert_eq!(analytics.authenticate(&created.secret).unwrap(), None);
        assert!(!analytics.any_active_key().unwrap());
        assert!(analytics.keys().unwrap()[0].revoked_at.is_some());
    }
}
