//! The PostgreSQL store passes the storage contract, each check on a fresh database of
//! the test server (`TALLY_TEST_POSTGRES_URL`).

use tally_store_contract::Subject;
use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};

tally_store_contract::contract_tests!(|| {
    let database = TestDatabase::create();
    let store = PostgresStore::open(database.url(), PostgresOptions::default())
        .unwrap_or_else(|e| panic!("open {}: {e}", database.url()));
    Subject::keeping(store, database)
});
