//! Maintenance of a store that keeps nothing on disk: there is no file to size, check,
//! copy or checkpoint.

use std::path::Path;

use tally_store::{BackupOutcome, Error, Maintenance, Result, StoreHealth, StoreStats};

use crate::MemoryStore;

impl Maintenance for MemoryStore {
    fn stats(&self) -> Result<StoreStats> {
        Ok(StoreStats {
            bytes_used: 0,
            events: self.read().events.len() as u64,
            schema_version: 0,
        })
    }

    fn health(&self) -> Result<StoreHealth> {
        Ok(StoreHealth {
            schema_version: 0,
            file_bytes: 0,
        })
    }

    fn integrity_check(&self) -> Result<String> {
        Ok("ok".to_owned())
    }

    fn backup_to(&self, dest: &Path) -> Result<BackupOutcome> {
        Err(Error::Backup(format!(
            "the memory: store keeps nothing on disk to copy to {}",
            dest.display()
        )))
    }

    fn checkpoint(&self) -> Result<()> {
        Ok(())
    }
}
