//! The SQLite store passes the storage contract, on a real file.

use tally_store_contract::Subject;
use tally_store_sqlite::{SqliteOptions, SqliteStore};

fn on_disk() -> Subject {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path().join("contract.db"), SqliteOptions::default())
        .expect("the store opens");
    Subject::keeping(store, dir)
}

tally_store_contract::contract_tests!(on_disk);
