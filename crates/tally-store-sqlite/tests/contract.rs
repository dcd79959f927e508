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

/// Two stores on one file (two servers) race to move one alert: one moves it.
#[test]
fn one_of_two_stores_on_a_file_moves_an_alert() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("shared.db");
    let a = SqliteStore::open(&path, SqliteOptions::default()).expect("the store opens");
    let b = SqliteStore::open(&path, SqliteOptions::default()).expect("the store opens");
    tally_store_contract::checks::one_of_many_servers_moves_an_alert(&[&a, &b]);
}
