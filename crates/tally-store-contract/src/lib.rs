//! The contract every tally store adapter passes: one function per check, run against a
//! fresh store, and [`contract_tests!`], which makes each check a `#[test]` of the
//! adapter's crate:
//!
//! ```text
//! tally_store_contract::contract_tests!(|| Subject::new(MemoryStore::new()));
//! ```
//!
//! A check states what the ports promise (idempotency, quarantine, rollups equal to the
//! raw events whatever the batch split, order and resends, retention, keys,
//! experiments, predictor models, learner state, export, the catalog, alerts) without naming
//! an adapter, so a new backend is judged by the same words as the others.
//!
//! [`postgres_test`] gives tests (the PostgreSQL adapter's, the end-to-end ones) a
//! fresh database on the server `TALLY_TEST_POSTGRES_URL` names.

pub mod checks;
pub mod events;
pub mod postgres_test;

use std::any::Any;
use std::ops::Deref;

pub use tally_store::Store;

/// A fresh store under test, with whatever must outlive it (a temporary directory).
pub struct Subject {
    // Dropped before `_keep`: the store closes before its directory goes.
    store: Box<dyn Store>,
    _keep: Box<dyn Any>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject").finish_non_exhaustive()
    }
}

impl Subject {
    pub fn new(store: impl Store + 'static) -> Subject {
        Subject::keeping(store, ())
    }

    /// A store that lives in `keep` (a temporary directory), dropped after it.
    pub fn keeping(store: impl Store + 'static, keep: impl Any) -> Subject {
        Subject {
            store: Box::new(store),
            _keep: Box::new(keep),
        }
    }
}

impl Deref for Subject {
    type Target = dyn Store;

    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

/// How a check gets fresh stores.
pub type NewStore<'a> = &'a dyn Fn() -> Subject;

/// One `#[test]` per check of [`checks`], each given `$new` (a closure returning a
/// fresh [`Subject`]).
#[macro_export]
macro_rules! contract_tests {
    ($new:expr) => {
        $crate::contract_tests!(@each $new;
            resent_ids_are_duplicates_in_every_project_and_batch,
            a_batch_with_an_event_without_id_stores_nothing,
            quarantine_keeps_rejects_counts_repeats_and_resolves_by_retry,
            rollups_equal_the_raw_events_whatever_the_split_order_and_resends,
            retention_deletes_expired_rows_and_keeps_the_rest_exact,
            keys_are_created_found_by_prefix_and_revoked,
            experiments_are_created_once_stopped_once_and_read_their_outcomes,
            predictor_models_are_numbered_listed_and_loaded,
            learner_state_keeps_time_zones_goals_and_activity,
            learner_opt_outs_are_set_and_withdrawn,
            skill_history_reads_rows_in_order_tallies_and_session_starts,
            raw_series_count_per_period,
            an_export_writes_back_to_the_same_store,
            event_pages_select_the_filtered_events_newest_first,
            event_pages_keep_computed_costs_and_given_ids,
            event_pages_run_across_windows,
            the_catalog_knows_projects_span_and_write_order,
            alert_rules_are_put_replaced_and_deleted,
            alert_states_move_only_from_the_expected_status,
            alert_history_pages_newest_first_and_keeps_deliveries,
            engagement_rows_agree_whatever_the_split_order_and_resends,
            dashboards_are_created_once_replaced_and_deleted,
        );
    };
    (@each $new:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                let new = $new;
                $crate::checks::$check(&new);
            }
        )+
    };
}
