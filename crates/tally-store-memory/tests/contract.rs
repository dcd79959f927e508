//! The memory store passes the storage contract.

use tally_store_contract::Subject;
use tally_store_memory::MemoryStore;

tally_store_contract::contract_tests!(|| Subject::new(MemoryStore::new()));
