//! The ports, implemented by the store's own methods: each answers as the method of the
//! same name does, its error turned into the ports' (a driver failure boxed as
//! [`tally_store::Error::Backend`]).

use std::path::Path;

use chrono::{DateTime, Utc};
use tally_models::Event;
use tally_store::event_page::{EventPage, EventQuery};
use tally_store::rollup::{RollupQuery, RollupRow};
use tally_store::{
    Activity, AgentLoadRow, AgentState, AlertStateRecord, AlertStore, AlertTransitionRecord,
    ApiKeyRecord, BackupOutcome, Batch, Catalog, DeliveryAttempt, EngagementReader, EventPages,
    EventStore, ExperimentRecord, ExperimentStore, Export, Filter, GoalRecord, JobState, KeyStore,
    LearningReader, LearningSession, LearningWriter, Maintenance, MinuteRow, NewApiKey,
    NewPredictModel, OutcomeRecord, PredictModelInfo, PredictModelStore, QuarantineStore,
    QuarantinedRecord, RawSeriesQuery, RawSeriesRow, Result, Retention, RetentionOutcome,
    RollupReader, SeriesReader, SessionRow, SkillHistoryReader, SkillInvocation, SkillRow,
    SkillRowsQuery, SkillTally, StoreHealth, StoreStats, StoredAlertRule, Totals, TotalsReader,
    UserDayRow, WriteOutcome, WriterStats,
};

use crate::SqliteStore;

impl EventStore for SqliteStore {
    fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome> {
        Ok(SqliteStore::write_batch(self, batch)?)
    }

    fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        Ok(SqliteStore::write_batches(self, batches)?)
    }
}

impl EngagementReader for SqliteStore {
    fn user_days(
        &self,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<UserDayRow>> {
        Ok(SqliteStore::user_days(self, project, from_day, to_day)?)
    }

    fn engagement_sessions(
        &self,
        project: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SessionRow>> {
        Ok(SqliteStore::engagement_sessions(
            self, project, from_ms, to_ms,
        )?)
    }
}

impl QuarantineStore for SqliteStore {
    fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>> {
        Ok(SqliteStore::quarantined(self, after_id, limit)?)
    }

    fn quarantine_len(&self) -> Result<u64> {
        Ok(SqliteStore::quarantine_len(self)?)
    }
}

impl TotalsReader for SqliteStore {
    fn totals(&self, filter: &Filter) -> Result<Totals> {
        Ok(SqliteStore::totals(self, filter)?)
    }
}

impl RollupReader for SqliteStore {
    fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
        Ok(SqliteStore::rollups(self, query)?)
    }

    fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>> {
        Ok(SqliteStore::job_states(self, filter)?)
    }

    fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>> {
        Ok(SqliteStore::agent_states(self, project)?)
    }

    fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
        Ok(SqliteStore::agent_load(self, filter)?)
    }

    fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>> {
        Ok(SqliteStore::minutes(self, project, since)?)
    }

    fn error_classes(&self) -> Result<Vec<(i64, String)>> {
        Ok(SqliteStore::error_classes(self)?)
    }

    fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64> {
        Ok(SqliteStore::active_users(self, project, since)?)
    }
}

impl Retention for SqliteStore {
    fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome> {
        Ok(SqliteStore::delete_expired(
            self,
            raw_before,
            rollups_before,
            minutes_before,
        )?)
    }
}

impl SeriesReader for SqliteStore {
    fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>> {
        Ok(SqliteStore::raw_series(self, query)?)
    }
}

impl LearningReader for SqliteStore {
    fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        Ok(SqliteStore::learning_sessions(self, user, project, until)?)
    }

    fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>> {
        Ok(SqliteStore::skill_invocations(self, user, project, until)?)
    }

    fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        Ok(SqliteStore::learners(self, project)?)
    }

    fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>> {
        Ok(SqliteStore::learner_activity(self, user, project, until)?)
    }

    fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>> {
        Ok(SqliteStore::all_learner_activity(self, project, until)?)
    }

    fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>> {
        Ok(SqliteStore::learner_revisions(self, since)?)
    }

    fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        Ok(SqliteStore::learner_time_zone(self, user)?)
    }

    fn learner_time_zones(&self) -> Result<Vec<(String, String)>> {
        Ok(SqliteStore::learner_time_zones(self)?)
    }

    fn opted_out_learners(&self) -> Result<Vec<String>> {
        Ok(SqliteStore::opted_out_learners(self)?)
    }

    fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        Ok(SqliteStore::goals(self, user)?)
    }
}

impl LearningWriter for SqliteStore {
    fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        Ok(SqliteStore::set_learner_time_zone(self, user, time_zone)?)
    }

    fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()> {
        Ok(SqliteStore::set_learner_opt_out(self, user, opted_out)?)
    }

    fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        Ok(SqliteStore::create_goal(self, goal)?)
    }

    fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
        Ok(SqliteStore::update_goal(self, goal)?)
    }
}

impl SkillHistoryReader for SqliteStore {
    fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> Result<()>,
    ) -> Result<()> {
        Ok(SqliteStore::skill_rows(self, query, visit)?)
    }

    fn skill_tallies(&self, before: DateTime<Utc>, user: Option<&str>) -> Result<Vec<SkillTally>> {
        Ok(SqliteStore::skill_tallies(self, before, user)?)
    }

    fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        Ok(SqliteStore::skill_session_starts(
            self,
            before,
            active_until,
            session,
        )?)
    }
}

impl PredictModelStore for SqliteStore {
    fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64> {
        Ok(SqliteStore::save_predict_model(self, model)?)
    }

    fn predict_models(&self) -> Result<Vec<PredictModelInfo>> {
        Ok(SqliteStore::predict_models(self)?)
    }

    fn predict_model(&self, version: Option<i64>) -> Result<Option<(PredictModelInfo, Vec<u8>)>> {
        Ok(SqliteStore::predict_model(self, version)?)
    }
}

impl KeyStore for SqliteStore {
    fn create_key(&self, key: &NewApiKey) -> Result<i64> {
        Ok(SqliteStore::create_key(self, key)?)
    }

    fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        Ok(SqliteStore::keys(self)?)
    }

    fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>> {
        Ok(SqliteStore::active_keys_with_prefix(self, prefix)?)
    }

    fn any_active_key(&self) -> Result<bool> {
        Ok(SqliteStore::any_active_key(self)?)
    }

    fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        Ok(SqliteStore::revoke_key(self, id, at)?)
    }
}

impl ExperimentStore for SqliteStore {
    fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool> {
        Ok(SqliteStore::create_experiment(self, experiment)?)
    }

    fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        Ok(SqliteStore::experiments(self)?)
    }

    fn experiment(&self, project: Option<&str>, key: &str) -> Result<Option<ExperimentRecord>> {
        Ok(SqliteStore::experiment(self, project, key)?)
    }

    fn stop_experiment(&self, project: Option<&str>, key: &str, at: DateTime<Utc>) -> Result<bool> {
        Ok(SqliteStore::stop_experiment(self, project, key, at)?)
    }

    fn experiment_keys_seen(&self) -> Result<Vec<String>> {
        Ok(SqliteStore::experiment_keys_seen(self)?)
    }

    fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>> {
        Ok(SqliteStore::outcomes(self, experiment, filter)?)
    }
}

impl Maintenance for SqliteStore {
    fn stats(&self) -> Result<StoreStats> {
        Ok(SqliteStore::stats(self)?)
    }

    fn health(&self) -> Result<StoreHealth> {
        Ok(SqliteStore::health(self)?)
    }

    fn writer_stats(&self) -> Option<WriterStats> {
        Some(SqliteStore::writer_stats(self))
    }

    fn integrity_check(&self) -> Result<String> {
        Ok(SqliteStore::integrity_check(self)?)
    }

    fn backup_to(&self, dest: &Path) -> Result<BackupOutcome> {
        Ok(SqliteStore::backup_to(self, dest)?)
    }

    fn checkpoint(&self) -> Result<()> {
        Ok(SqliteStore::checkpoint(self)?)
    }
}

impl Catalog for SqliteStore {
    fn project_names(&self) -> Result<Vec<String>> {
        Ok(SqliteStore::project_names(self)?)
    }

    fn stored_span(&self, project: Option<&str>) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        Ok(SqliteStore::stored_span(self, project)?)
    }

    fn next_seq(&self) -> Result<i64> {
        Ok(SqliteStore::next_seq(self)?)
    }

    fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64> {
        Ok(SqliteStore::stored_before(self, from_seq, before)?)
    }
}

impl EventPages for SqliteStore {
    fn event_page(&self, query: &EventQuery) -> Result<EventPage> {
        Ok(SqliteStore::event_page(self, query)?)
    }
}

impl Export for SqliteStore {
    fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64> {
        Ok(SqliteStore::export_events(self, filter, sink)?)
    }

    fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64> {
        Ok(SqliteStore::export_executions(self, filter, sink)?)
    }
}

impl AlertStore for SqliteStore {
    fn alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        Ok(SqliteStore::alert_rules(self)?)
    }

    fn put_alert_rule(&self, rule: &StoredAlertRule) -> Result<()> {
        Ok(SqliteStore::put_alert_rule(self, rule)?)
    }

    fn delete_alert_rule(&self, name: &str) -> Result<bool> {
        Ok(SqliteStore::delete_alert_rule(self, name)?)
    }

    fn alert_states(&self) -> Result<Vec<AlertStateRecord>> {
        Ok(SqliteStore::alert_states(self)?)
    }

    fn advance_alert(
        &self,
        expected: Option<&str>,
        state: &AlertStateRecord,
        transition: Option<&AlertTransitionRecord>,
    ) -> Result<Option<i64>> {
        Ok(SqliteStore::advance_alert(
            self, expected, state, transition,
        )?)
    }

    fn alert_history(
        &self,
        rule: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AlertTransitionRecord>> {
        Ok(SqliteStore::alert_history(self, rule, before_id, limit)?)
    }

    fn record_delivery(&self, attempt: &DeliveryAttempt) -> Result<()> {
        Ok(SqliteStore::record_delivery(self, attempt)?)
    }

    fn deliveries(&self, transition: i64) -> Result<Vec<DeliveryAttempt>> {
        Ok(SqliteStore::deliveries(self, transition)?)
    }
}
