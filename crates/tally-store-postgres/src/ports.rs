//! The ports, implemented by the store's own methods: each answers as the method of the
//! same name does, its error turned into the ports' (a driver failure boxed as
//! [`tally_store::Error::Backend`]).

use std::path::Path;

use chrono::{DateTime, Utc};
use tally_models::Event;
use tally_store::rollup::{RollupQuery, RollupRow};
use tally_store::{
    Activity, AgentLoadRow, AgentState, AlertStateRecord, AlertStore, AlertTransitionRecord,
    ApiKeyRecord, BackupOutcome, Batch, Catalog, DeliveryAttempt, EngagementReader, EventStore,
    ExperimentRecord, ExperimentStore, Export, Filter, GoalRecord, JobState, KeyStore,
    LearningReader, LearningSession, LearningWriter, Maintenance, MinuteRow, NewApiKey,
    NewPredictModel, OutcomeRecord, PredictModelInfo, PredictModelStore, QuarantineStore,
    QuarantinedRecord, RawSeriesQuery, RawSeriesRow, Result, Retention, RetentionOutcome,
    RollupReader, SeriesReader, SessionRow, SkillHistoryReader, SkillInvocation, SkillRow,
    SkillRowsQuery, SkillTally, StoreHealth, StoreStats, StoredAlertRule, Totals, TotalsReader,
    UserDayRow, WriteOutcome,
};

use crate::PostgresStore;

impl EventStore for PostgresStore {
    fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome> {
        Ok(PostgresStore::write_batch(self, batch)?)
    }

    fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        Ok(PostgresStore::write_batches(self, batches)?)
    }
}

impl EngagementReader for PostgresStore {
    fn user_days(
        &self,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<UserDayRow>> {
        Ok(PostgresStore::user_days(self, project, from_day, to_day)?)
    }

    fn engagement_sessions(
        &self,
        project: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SessionRow>> {
        Ok(PostgresStore::engagement_sessions(
            self, project, from_ms, to_ms,
        )?)
    }
}

impl QuarantineStore for PostgresStore {
    fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>> {
        Ok(PostgresStore::quarantined(self, after_id, limit)?)
    }

    fn quarantine_len(&self) -> Result<u64> {
        Ok(PostgresStore::quarantine_len(self)?)
    }
}

impl TotalsReader for PostgresStore {
    fn totals(&self, filter: &Filter) -> Result<Totals> {
        Ok(PostgresStore::totals(self, filter)?)
    }
}

impl RollupReader for PostgresStore {
    fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
        Ok(PostgresStore::rollups(self, query)?)
    }

    fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>> {
        Ok(PostgresStore::job_states(self, filter)?)
    }

    fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>> {
        Ok(PostgresStore::agent_states(self, project)?)
    }

    fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
        Ok(PostgresStore::agent_load(self, filter)?)
    }

    fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>> {
        Ok(PostgresStore::minutes(self, project, since)?)
    }

    fn error_classes(&self) -> Result<Vec<(i64, String)>> {
        Ok(PostgresStore::error_classes(self)?)
    }

    fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64> {
        Ok(PostgresStore::active_users(self, project, since)?)
    }
}

impl Retention for PostgresStore {
    fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome> {
        Ok(PostgresStore::delete_expired(
            self,
            raw_before,
            rollups_before,
            minutes_before,
        )?)
    }
}

impl SeriesReader for PostgresStore {
    fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>> {
        Ok(PostgresStore::raw_series(self, query)?)
    }
}

impl LearningReader for PostgresStore {
    fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        Ok(PostgresStore::learning_sessions(
            self, user, project, until,
        )?)
    }

    fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>> {
        Ok(PostgresStore::skill_invocations(
            self, user, project, until,
        )?)
    }

    fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        Ok(PostgresStore::learners(self, project)?)
    }

    fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>> {
        Ok(PostgresStore::learner_activity(self, user, project, until)?)
    }

    fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>> {
        Ok(PostgresStore::all_learner_activity(self, project, until)?)
    }

    fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>> {
        Ok(PostgresStore::learner_revisions(self, since)?)
    }

    fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        Ok(PostgresStore::learner_time_zone(self, user)?)
    }

    fn learner_time_zones(&self) -> Result<Vec<(String, String)>> {
        Ok(PostgresStore::learner_time_zones(self)?)
    }

    fn opted_out_learners(&self) -> Result<Vec<String>> {
        Ok(PostgresStore::opted_out_learners(self)?)
    }

    fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        Ok(PostgresStore::goals(self, user)?)
    }
}

impl LearningWriter for PostgresStore {
    fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        Ok(PostgresStore::set_learner_time_zone(self, user, time_zone)?)
    }

    fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()> {
        Ok(PostgresStore::set_learner_opt_out(self, user, opted_out)?)
    }

    fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        Ok(PostgresStore::create_goal(self, goal)?)
    }

    fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
        Ok(PostgresStore::update_goal(self, goal)?)
    }
}

impl SkillHistoryReader for PostgresStore {
    fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> Result<()>,
    ) -> Result<()> {
        Ok(PostgresStore::skill_rows(self, query, visit)?)
    }

    fn skill_tallies(&self, before: DateTime<Utc>, user: Option<&str>) -> Result<Vec<SkillTally>> {
        Ok(PostgresStore::skill_tallies(self, before, user)?)
    }

    fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        Ok(PostgresStore::skill_session_starts(
            self,
            before,
            active_until,
            session,
        )?)
    }
}

impl PredictModelStore for PostgresStore {
    fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64> {
        Ok(PostgresStore::save_predict_model(self, model)?)
    }

    fn predict_models(&self) -> Result<Vec<PredictModelInfo>> {
        Ok(PostgresStore::predict_models(self)?)
    }

    fn predict_model(&self, version: Option<i64>) -> Result<Option<(PredictModelInfo, Vec<u8>)>> {
        Ok(PostgresStore::predict_model(self, version)?)
    }
}

impl KeyStore for PostgresStore {
    fn create_key(&self, key: &NewApiKey) -> Result<i64> {
        Ok(PostgresStore::create_key(self, key)?)
    }

    fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        Ok(PostgresStore::keys(self)?)
    }

    fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>> {
        Ok(PostgresStore::active_keys_with_prefix(self, prefix)?)
    }

    fn any_active_key(&self) -> Result<bool> {
        Ok(PostgresStore::any_active_key(self)?)
    }

    fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        Ok(PostgresStore::revoke_key(self, id, at)?)
    }
}

impl ExperimentStore for PostgresStore {
    fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool> {
        Ok(PostgresStore::create_experiment(self, experiment)?)
    }

    fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        Ok(PostgresStore::experiments(self)?)
    }

    fn experiment(&self, project: Option<&str>, key: &str) -> Result<Option<ExperimentRecord>> {
        Ok(PostgresStore::experiment(self, project, key)?)
    }

    fn stop_experiment(&self, project: Option<&str>, key: &str, at: DateTime<Utc>) -> Result<bool> {
        Ok(PostgresStore::stop_experiment(self, project, key, at)?)
    }

    fn experiment_keys_seen(&self) -> Result<Vec<String>> {
        Ok(PostgresStore::experiment_keys_seen(self)?)
    }

    fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>> {
        Ok(PostgresStore::outcomes(self, experiment, filter)?)
    }
}

impl Maintenance for PostgresStore {
    fn stats(&self) -> Result<StoreStats> {
        Ok(PostgresStore::stats(self)?)
    }

    fn health(&self) -> Result<StoreHealth> {
        Ok(PostgresStore::health(self)?)
    }

    fn integrity_check(&self) -> Result<String> {
        Ok(PostgresStore::integrity_check(self)?)
    }

    fn backup_to(&self, dest: &Path) -> Result<BackupOutcome> {
        Ok(PostgresStore::backup_to(self, dest)?)
    }

    fn checkpoint(&self) -> Result<()> {
        Ok(PostgresStore::checkpoint(self)?)
    }

    fn server_version(&self) -> Result<Option<String>> {
        Ok(PostgresStore::server_version(self)?)
    }
}

impl Catalog for PostgresStore {
    fn project_names(&self) -> Result<Vec<String>> {
        Ok(PostgresStore::project_names(self)?)
    }

    fn stored_span(&self, project: Option<&str>) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        Ok(PostgresStore::stored_span(self, project)?)
    }

    fn next_seq(&self) -> Result<i64> {
        Ok(PostgresStore::next_seq(self)?)
    }

    fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64> {
        Ok(PostgresStore::stored_before(self, from_seq, before)?)
    }
}

impl tally_store::EventPages for PostgresStore {
    fn event_page(
        &self,
        query: &tally_store::event_page::EventQuery,
    ) -> Result<tally_store::event_page::EventPage> {
        Ok(PostgresStore::event_page(self, query)?)
    }
}

impl Export for PostgresStore {
    fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64> {
        Ok(PostgresStore::export_events(self, filter, sink)?)
    }

    fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64> {
        Ok(PostgresStore::export_executions(self, filter, sink)?)
    }
}

impl AlertStore for PostgresStore {
    fn alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        Ok(PostgresStore::alert_rules(self)?)
    }

    fn put_alert_rule(&self, rule: &StoredAlertRule) -> Result<()> {
        Ok(PostgresStore::put_alert_rule(self, rule)?)
    }

    fn delete_alert_rule(&self, name: &str) -> Result<bool> {
        Ok(PostgresStore::delete_alert_rule(self, name)?)
    }

    fn alert_states(&self) -> Result<Vec<AlertStateRecord>> {
        Ok(PostgresStore::alert_states(self)?)
    }

    fn advance_alert(
        &self,
        expected: Option<&str>,
        state: &AlertStateRecord,
        transition: Option<&AlertTransitionRecord>,
    ) -> Result<Option<i64>> {
        Ok(PostgresStore::advance_alert(
            self, expected, state, transition,
        )?)
    }

    fn alert_history(
        &self,
        rule: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AlertTransitionRecord>> {
        Ok(PostgresStore::alert_history(self, rule, before_id, limit)?)
    }

    fn record_delivery(&self, attempt: &DeliveryAttempt) -> Result<()> {
        Ok(PostgresStore::record_delivery(self, attempt)?)
    }

    fn deliveries(&self, transition: i64) -> Result<Vec<DeliveryAttempt>> {
        Ok(PostgresStore::deliveries(self, transition)?)
    }
}
