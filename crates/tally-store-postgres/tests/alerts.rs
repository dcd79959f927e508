//! Servers sharing a database race to move one alert: the compare-and-set lets exactly
//! one of them move it.

use tally_store_contract::postgres_test::TestDatabase;
use tally_store_postgres::{PostgresOptions, PostgresStore};

#[test]
fn one_of_three_servers_moves_an_alert() {
    let database = TestDatabase::create();
    let open = || PostgresStore::open(database.url(), PostgresOptions::default()).expect("open");
    let (a, b, c) = (open(), open(), open());
    tally_store_contract::checks::one_of_many_servers_moves_an_alert(&[&a, &b, &c]);
}
