//! The checks, one function each, every one given a way to get fresh stores.

mod alerts;
mod catalog;
mod dashboards;
mod engagement;
mod event_pages;
mod export;
mod learner;
mod ledger;
mod records;
mod retention;
mod rollups;
mod series;

pub use alerts::{
    alert_history_pages_newest_first_and_keeps_deliveries,
    alert_rules_are_put_replaced_and_deleted, alert_states_move_only_from_the_expected_status,
    one_of_many_servers_moves_an_alert,
};
pub use catalog::the_catalog_knows_projects_span_and_write_order;
pub use dashboards::dashboards_are_created_once_replaced_and_deleted;
pub use engagement::engagement_rows_agree_whatever_the_split_order_and_resends;
pub use event_pages::{
    event_pages_keep_computed_costs_and_given_ids, event_pages_run_across_windows,
    event_pages_select_the_filtered_events_newest_first,
};
pub use export::an_export_writes_back_to_the_same_store;
pub use learner::{
    learner_opt_outs_are_set_and_withdrawn, learner_state_keeps_time_zones_goals_and_activity,
};
pub use ledger::{
    a_batch_with_an_event_without_id_stores_nothing,
    quarantine_keeps_rejects_counts_repeats_and_resolves_by_retry,
    resent_ids_are_duplicates_in_every_project_and_batch,
};
pub use records::{
    experiments_are_created_once_stopped_once_and_read_their_outcomes,
    keys_are_created_found_by_prefix_and_revoked, predictor_models_are_numbered_listed_and_loaded,
};
pub use retention::retention_deletes_expired_rows_and_keeps_the_rest_exact;
pub use rollups::{
    events_of_every_rolled_up_kind,
    rollups_equal_the_raw_events_whatever_the_split_order_and_resends,
    stored_rollups_equal_their_raw_events,
};
pub use series::{
    raw_series_count_per_period, skill_history_reads_rows_in_order_tallies_and_session_starts,
};

use tally_models::Event;
use tally_store::{Batch, Filter, WriteOutcome};

use crate::Store;

/// Writes `events` as one batch.
pub(crate) fn write(store: &dyn Store, events: &[Event]) -> WriteOutcome {
    store
        .write_batch(Batch {
            events,
            ..Batch::default()
        })
        .expect("the batch is written")
}

pub(crate) fn project(name: &str) -> Filter {
    Filter {
        project: Some(name.to_owned()),
        ..Filter::default()
    }
}
