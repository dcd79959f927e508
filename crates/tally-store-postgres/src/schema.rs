//! The versioned schema, in the `tally` schema of the database: migration N brings it
//! from version N-1 to N. Every server runs the migrations at start under one advisory
//! lock, so several starting at once migrate once.
//!
//! Layout notes (see `docs/ARCHITECTURE.md` and `docs/bi.md`): one raw table per kind,
//! keyed by `seq` (arrival order, one sequence across kinds), with strings as text so
//! that SQL tools read them as they are. The rollup and live-state tables are keyed by
//! dictionary codes (`dict`), as the backend-neutral fold in `tally-store` produces them.
//! Timestamps are epoch milliseconds (UTC), durations microseconds, money billionths of
//! a dollar: integers, so sums are exact; sums that could pass 64 bits are `numeric`.
//! `ledger` is the idempotency ledger: one row per `(project, id)`, given ids as text,
//! derived ids (`derived = true`) as the hex of their 128-bit hash.

use postgres::Transaction;

use crate::{Error, Result};

/// The advisory lock key migrations run under ("tally" in ASCII, then 1).
pub(crate) const MIGRATION_LOCK: i64 = 0x7461_6c6c_7901;

const MIGRATIONS: &[&str] = &[
    // 1: the raw tier, dictionary, ledger, quarantine, rollups, live state, learner
    // summary and the records (keys, experiments, goals, predictor models).
    r#"
    CREATE TABLE tally.dict (
        dim smallint NOT NULL,
        value text NOT NULL,
        code bigint NOT NULL GENERATED ALWAYS AS IDENTITY UNIQUE,
        PRIMARY KEY (dim, value)
    );

    CREATE SEQUENCE tally.event_seq;
    CREATE TABLE tally.ledger (
        project text NOT NULL,
        id text NOT NULL,
        derived boolean NOT NULL,
        seq bigint NOT NULL DEFAULT nextval('tally.event_seq'),
        PRIMARY KEY (project, id, derived)
    );
    CREATE UNIQUE INDEX ledger_by_seq ON tally.ledger (seq);

    CREATE TABLE tally.execution (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        agent_id text,
        task_id text,
        user_id text,
        session_id text,
        tool text NOT NULL,
        model text,
        duration_us bigint NOT NULL,
        success boolean NOT NULL,
        browser_used boolean NOT NULL,
        cost_computed boolean NOT NULL,   -- cost_nusd from the price table
        effort text,
        cost_nusd bigint,
        input_tokens bigint,
        output_tokens bigint,
        cache_read_tokens bigint,
        cache_write_tokens bigint,
        reasoning_tokens bigint,
        error text,
        attrs jsonb
    );
    CREATE INDEX execution_by_ts ON tally.execution USING brin (ts);

    CREATE TABLE tally.run (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        duration_us bigint NOT NULL,
        mode text,
        qa_status text NOT NULL,
        tokens bigint NOT NULL,
        cost_nusd bigint NOT NULL,
        attrs jsonb
    );
    CREATE INDEX run_by_ts ON tally.run USING brin (ts);
    CREATE TABLE tally.run_model (
        run_seq bigint NOT NULL,
        ordinal integer NOT NULL,
        model text NOT NULL,
        input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        cost_nusd bigint,
        PRIMARY KEY (run_seq, ordinal)
    );

    CREATE TABLE tally.job (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        job_id text NOT NULL,
        status text NOT NULL,
        run_id text,
        attrs jsonb
    );
    CREATE INDEX job_by_job ON tally.job (project, job_id, ts);

    CREATE TABLE tally.session (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        user_id text NOT NULL,
        duration_us bigint NOT NULL,
        exchanges bigint NOT NULL,
        quality double precision,
        relevance double precision,
        helpfulness double precision,
        engagement double precision,
        clarity double precision,
        accuracy double precision,
        attrs jsonb
    );
    CREATE INDEX session_by_user ON tally.session (user_id, project, ts);
    CREATE INDEX session_by_ts ON tally.session (ts);
    CREATE TABLE tally.session_topic (
        session_seq bigint NOT NULL,
        ordinal integer NOT NULL,
        topic text NOT NULL,
        PRIMARY KEY (session_seq, ordinal)
    );

    CREATE TABLE tally.skill (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        user_id text NOT NULL,
        skill text NOT NULL,
        completed boolean NOT NULL,
        session_id text,
        phase text,
        duration_us bigint,
        rating smallint,
        query text,
        attrs jsonb
    );
    CREATE INDEX skill_by_user ON tally.skill (user_id, project, ts);
    CREATE INDEX skill_by_ts ON tally.skill (ts);

    CREATE TABLE tally.outcome (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        experiment text NOT NULL,
        user_id text NOT NULL,
        variant text NOT NULL,
        attrs jsonb
    );
    CREATE INDEX outcome_by_experiment ON tally.outcome (experiment, project);
    CREATE TABLE tally.outcome_metric (
        outcome_seq bigint NOT NULL,
        metric text NOT NULL,
        value double precision NOT NULL,
        is_bool boolean NOT NULL,
        PRIMARY KEY (outcome_seq, metric)
    );

    CREATE TABLE tally.agent_status (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        agent_id text NOT NULL,
        active_tasks bigint NOT NULL,
        queued_tasks bigint NOT NULL,
        capacity bigint NOT NULL,
        cpu_pct double precision,
        mem_pct double precision,
        attrs jsonb
    );
    CREATE INDEX agent_status_by_ts ON tally.agent_status USING brin (ts);

    CREATE TABLE tally.request (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        endpoint text NOT NULL,
        method text NOT NULL,
        status integer NOT NULL,
        latency_us bigint NOT NULL,
        user_id text,
        session_id text,
        attrs jsonb
    );
    CREATE INDEX request_by_ts ON tally.request USING brin (ts);

    CREATE TABLE tally.action (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        user_id text NOT NULL,
        action text NOT NULL,
        session_id text,
        attrs jsonb
    );
    CREATE INDEX action_by_ts ON tally.action USING brin (ts);

    CREATE TABLE tally.system (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        host text NOT NULL,
        cpu_pct double precision,
        mem_pct double precision,
        disk_pct double precision,
        load1 double precision,
        attrs jsonb
    );
    CREATE INDEX system_by_ts ON tally.system USING brin (ts);

    CREATE TABLE tally.error (
        seq bigint PRIMARY KEY,
        ts bigint NOT NULL,
        project text NOT NULL,
        source text NOT NULL,
        message text NOT NULL,
        severity text NOT NULL,
        attrs jsonb
    );
    CREATE INDEX error_by_ts ON tally.error USING brin (ts);

    CREATE TABLE tally.quarantine (
        quarantine_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
        received_at bigint NOT NULL,
        last_received_at bigint NOT NULL,
        rejections bigint NOT NULL,
        source text NOT NULL,
        position_kind text NOT NULL,
        position bigint NOT NULL,
        format text NOT NULL,
        header text,
        record_id text,
        field text NOT NULL,
        rule text NOT NULL,
        message text NOT NULL,
        raw bytea NOT NULL
    );
    CREATE INDEX quarantine_by_place ON tally.quarantine (source, position, rule);

    -- The rollup tier: one row per family, resolution, project (dictionary code; 0 =
    -- every project), period start (epoch seconds) and key (tool/model/agent/endpoint
    -- code or enum code), as `tally_store::rollup` defines them.
    CREATE TABLE tally.rollup (
        family smallint NOT NULL,
        resolution smallint NOT NULL,     -- 0 hour, 1 day, 2 month
        project bigint NOT NULL,
        bucket bigint NOT NULL,
        key bigint NOT NULL,
        n bigint NOT NULL,
        ok bigint NOT NULL,
        input_tokens numeric NOT NULL,
        output_tokens numeric NOT NULL,
        cache_read_tokens numeric NOT NULL,
        cache_write_tokens numeric NOT NULL,
        reasoning_tokens numeric NOT NULL,
        cost_nusd numeric NOT NULL,
        computed_cost_nusd numeric NOT NULL,
        duration_us numeric NOT NULL,
        last_ts bigint NOT NULL,
        latency bytea,                    -- LatencySketch::encode, milliseconds
        facets bytea,                     -- Facets::encode (tool rows)
        PRIMARY KEY (family, resolution, project, bucket, key)
    );

    CREATE TABLE tally.job_state (
        project bigint NOT NULL,
        job_id text NOT NULL,
        status smallint NOT NULL,
        status_ts bigint NOT NULL,
        queued_ts bigint,
        running_ts bigint,
        finished_ts bigint,
        PRIMARY KEY (project, job_id)
    );
    CREATE INDEX job_state_by_status_ts ON tally.job_state (status_ts);

    CREATE TABLE tally.agent_state (
        project bigint NOT NULL,
        agent bigint NOT NULL,
        ts bigint NOT NULL,
        seq bigint NOT NULL,
        active_tasks bigint NOT NULL,
        queued_tasks bigint NOT NULL,
        capacity bigint NOT NULL,
        cpu_pct double precision,
        mem_pct double precision,
        PRIMARY KEY (project, agent)
    );

    CREATE TABLE tally.agent_load (
        project bigint NOT NULL,
        agent bigint NOT NULL,
        hour bigint NOT NULL,
        snapshots bigint NOT NULL,
        active_sum bigint NOT NULL,
        queued_sum bigint NOT NULL,
        capacity_sum bigint NOT NULL,
        peak_active bigint NOT NULL,
        PRIMARY KEY (project, agent, hour)
    );
    CREATE INDEX agent_load_by_hour ON tally.agent_load (hour);

    CREATE TABLE tally.rollup_minute (
        minute bigint NOT NULL,           -- epoch seconds, a multiple of 60
        project bigint NOT NULL,
        kind smallint NOT NULL,
        n bigint NOT NULL,
        errors bigint NOT NULL,
        latency bytea,
        PRIMARY KEY (minute, project, kind)
    );

    CREATE TABLE tally.recent_user (
        minute bigint NOT NULL,
        project bigint NOT NULL,
        user_code bigint NOT NULL,
        PRIMARY KEY (minute, project, user_code)
    );

    -- The learner summary, folded at ingest in the raw rows' transaction: per learner,
    -- 15-minute UTC bucket (`quarter` = floor(ts / 900,000 ms)) and project, the sums of
    -- their sessions and, per topic, of the sessions naming it. `learner` holds each
    -- learner's session count, first and last session and a revision, raised whenever
    -- their sessions, time zone or goals change (cache invalidation).
    CREATE TABLE tally.learner_activity (
        user_id text NOT NULL,
        quarter bigint NOT NULL,
        project text NOT NULL,
        sessions bigint NOT NULL,
        exchanges numeric NOT NULL,
        duration_us numeric NOT NULL,
        quality_sum double precision NOT NULL,
        rated bigint NOT NULL,
        excellent bigint NOT NULL,        -- rated sessions of quality >= 0.9
        first_ts bigint NOT NULL,
        last_ts bigint NOT NULL,
        PRIMARY KEY (user_id, quarter, project)
    );
    CREATE TABLE tally.learner_topic_activity (
        user_id text NOT NULL,
        quarter bigint NOT NULL,
        project text NOT NULL,
        topic text NOT NULL,
        sessions bigint NOT NULL,
        rated bigint NOT NULL,
        quality_sum double precision NOT NULL,
        PRIMARY KEY (user_id, quarter, project, topic)
    );
    CREATE SEQUENCE tally.learner_revision_seq;
    CREATE TABLE tally.learner (
        user_id text PRIMARY KEY,
        revision bigint NOT NULL,
        sessions bigint NOT NULL,
        first_ts bigint NOT NULL,
        last_ts bigint NOT NULL
    );
    CREATE INDEX learner_by_revision ON tally.learner (revision);

    CREATE TABLE tally.api_key (
        id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
        name text,
        scope text NOT NULL,
        projects text[] NOT NULL,
        prefix text NOT NULL,
        hash bytea NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint
    );
    CREATE INDEX api_key_by_prefix ON tally.api_key (prefix);

    -- `variants` is a list of [name, weight] pairs in bucket order (the first is the
    -- control); `guardrails` and `lower_is_better` lists of metric names. A key is unique
    -- within its project (global ones, project NULL, among themselves).
    CREATE TABLE tally.experiment (
        key text NOT NULL,
        project text,
        seed text NOT NULL,
        variants jsonb NOT NULL,
        coverage double precision NOT NULL,
        hypothesis text,
        primary_metric text,
        guardrails jsonb NOT NULL,
        lower_is_better jsonb NOT NULL,
        created_at bigint NOT NULL,
        started_at bigint,
        stopped_at bigint
    );
    CREATE UNIQUE INDEX experiment_by_project ON tally.experiment (coalesce(project, ''), key);

    CREATE TABLE tally.learner_setting (
        user_id text PRIMARY KEY,
        time_zone text NOT NULL
    );
    CREATE TABLE tally.learning_goal (
        id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
        user_id text NOT NULL,
        kind text NOT NULL,
        target double precision NOT NULL,
        title text NOT NULL,
        created_at bigint NOT NULL,
        deadline bigint,
        state text NOT NULL,
        project text
    );
    CREATE INDEX learning_goal_by_user ON tally.learning_goal (user_id, id);

    -- Trained success-predictor models, numbered in training order; the window is
    -- [window_from, window_to); `params` and `metrics` JSON documents.
    CREATE TABLE tally.predict_model (
        version bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
        created_at bigint NOT NULL,
        window_from bigint NOT NULL,
        window_to bigint NOT NULL,
        n_train bigint NOT NULL,
        n_holdout bigint NOT NULL,
        params text NOT NULL,
        metrics text NOT NULL,
        model bytea NOT NULL
    );
    "#,
    // 2: alert rules created through the API or CLI (their definition as JSON), each
    // rule's state, the history of its transitions (ids never reused, read in pages)
    // and every delivery attempt. A state moves by compare-and-set: an `UPDATE ...
    // WHERE status = expected` or an insert-if-absent, with its transition, in one
    // transaction, so of several servers exactly one moves it.
    r#"
    CREATE TABLE tally.alert_rule (
        name text PRIMARY KEY,
        definition text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE TABLE tally.alert_state (
        rule text PRIMARY KEY,
        status text NOT NULL,
        since bigint NOT NULL,
        last_value double precision,
        last_evaluated_at bigint NOT NULL,
        last_notified_at bigint
    );
    CREATE TABLE tally.alert_transition (
        id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
        rule text NOT NULL,
        event text NOT NULL,
        at bigint NOT NULL,
        value double precision,
        threshold double precision NOT NULL,
        summary text NOT NULL,
        project text,
        notified boolean NOT NULL
    );
    CREATE INDEX alert_transition_by_rule ON tally.alert_transition (rule, id);
    CREATE TABLE tally.alert_delivery (
        id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
        transition bigint NOT NULL,
        channel text NOT NULL,
        medium text NOT NULL,
        attempt integer NOT NULL,
        at bigint NOT NULL,
        outcome text NOT NULL,
        detail text NOT NULL
    );
    CREATE INDEX alert_delivery_by_transition ON tally.alert_delivery (transition, id);
    "#,
    // 3: engagement, kept at ingest in the raw rows' transaction by upserts (minima,
    // maxima and sums, so any number of servers writing in any order agree): per project
    // and user code the first day (epoch seconds UTC) they were active; per project, day
    // and user the day's first and last event (epoch ms) and its events; per project and
    // session key its first and last activity, its end and its user (the user of its
    // earliest event, `user_ts`). Engagement starts at the upgrade.
    r#"
    CREATE TABLE tally.engagement_user (
        project bigint NOT NULL,
        user_code bigint NOT NULL,
        first_day bigint NOT NULL,
        PRIMARY KEY (project, user_code)
    );
    CREATE TABLE tally.engagement_day (
        project bigint NOT NULL,
        day bigint NOT NULL,
        user_code bigint NOT NULL,
        first_ms bigint NOT NULL,
        last_ms bigint NOT NULL,
        events bigint NOT NULL,
        PRIMARY KEY (project, day, user_code)
    );
    CREATE INDEX engagement_day_by_day ON tally.engagement_day (day);
    CREATE TABLE tally.engagement_session (
        project bigint NOT NULL,
        session text NOT NULL,
        start_ms bigint NOT NULL,
        last_ms bigint NOT NULL,
        end_ms bigint,
        user_id text,
        user_ts bigint,
        PRIMARY KEY (project, session)
    );
    CREATE INDEX engagement_session_by_start ON tally.engagement_session (start_ms);
    "#,
    // 4: the learners who opted out of leaderboards (a row each; opting back in
    // deletes it).
    r#"
    CREATE TABLE tally.learner_opt_out (
        user_id text PRIMARY KEY
    );
    "#,
    // 5: ingest speed. The ledger's keys compare byte by byte (`COLLATE "C"`), not
    // through the database's locale: every event inserted probes its B-tree, and the
    // writers take keys in that order already. The tables the merge updates in place
    // leave a third of each page free, so that an updated row stays on its page (a HOT
    // update: no new index entry). Pages written before keep their fill until rewritten.
    r#"
    ALTER TABLE tally.ledger
        ALTER COLUMN project TYPE text COLLATE "C",
        ALTER COLUMN id TYPE text COLLATE "C";
    ALTER TABLE tally.rollup SET (fillfactor = 70);
    ALTER TABLE tally.rollup_minute SET (fillfactor = 70);
    ALTER TABLE tally.job_state SET (fillfactor = 70);
    ALTER TABLE tally.agent_state SET (fillfactor = 70);
    ALTER TABLE tally.agent_load SET (fillfactor = 70);
    ALTER TABLE tally.learner_activity SET (fillfactor = 70);
    ALTER TABLE tally.learner_topic_activity SET (fillfactor = 70);
    ALTER TABLE tally.learner SET (fillfactor = 70);
    "#,
    // 6: saved dashboards: a named layout of widgets (JSON), global or of one project.
    r#"
    CREATE TABLE IF NOT EXISTS tally.dashboard (
        id text PRIMARY KEY,
        project text,
        name text NOT NULL,
        definition text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`], each migration in its own transaction,
/// all under [`MIGRATION_LOCK`].
///
/// # Errors
/// A database newer than this build, or a failed migration (then rolled back).
pub(crate) fn migrate(client: &mut postgres::Client, shown: &str) -> Result<()> {
    // The lock comes first: `IF NOT EXISTS` does not keep two servers creating the
    // schema at once from meeting on the catalog's unique index.
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let outcome = client
        .batch_execute("CREATE SCHEMA IF NOT EXISTS tally")
        .map_err(Error::from)
        .and_then(|()| migrate_locked(client, shown));
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    outcome?;
    unlocked?;
    Ok(())
}

fn migrate_locked(client: &mut postgres::Client, shown: &str) -> Result<()> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS tally.schema_version (
             version bigint PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let found = version(&mut client.transaction()?)?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            location: shown.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    apply(client, found, SCHEMA_VERSION)
}

/// Runs the migrations that bring version `from` to `to`, each in its own transaction.
fn apply(client: &mut postgres::Client, from: i64, to: i64) -> Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= from || version > to {
            continue;
        }
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO tally.schema_version (version) VALUES ($1)",
            &[&version],
        )?;
        tx.commit()?;
        tracing::info!(version, "migrated database schema");
    }
    Ok(())
}

/// The schema version the database is at (0: none yet).
pub(crate) fn version(tx: &mut Transaction<'_>) -> Result<i64> {
    let row = tx.query_one(
        "SELECT coalesce(max(version), 0) FROM tally.schema_version",
        &[],
    )?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use tally_store_contract::events::{Exec, at, execution};
    use tally_store_contract::postgres_test::TestDatabase;

    use super::*;
    use crate::{Batch, PostgresOptions, PostgresStore};

    /// The version before the ingest-speed migration, 5 (`COLLATE "C"` ledger keys,
    /// fillfactor on the merged tables).
    const BEFORE_INGEST_SPEED: i64 = 4;

    #[test]
    fn a_database_of_the_previous_version_gets_c_ledger_keys_and_room_on_merged_pages() {
        let database = TestDatabase::create();
        let mut client =
            postgres::Client::connect(database.url(), postgres::NoTls).expect("connect");
        client
            .batch_execute(
                "CREATE SCHEMA tally;
                 CREATE TABLE tally.schema_version (
                     version bigint PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 )",
            )
            .expect("the version table");
        apply(&mut client, 0, BEFORE_INGEST_SPEED).expect("the earlier migrations");
        client
            .execute(
                "INSERT INTO tally.ledger (project, id, derived) VALUES ('alpha', 'a', false)",
                &[],
            )
            .expect("an entry stored before");

        let store =
            PostgresStore::open(database.url(), PostgresOptions::default()).expect("open migrates");
        let collations: Vec<(String, String)> = client
            .query(
                "SELECT a.attname::text, c.collname::text
                 FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
                 WHERE a.attrelid = 'tally.ledger'::regclass AND a.attname IN ('project', 'id')
                 ORDER BY 1",
                &[],
            )
            .expect("collations")
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        assert_eq!(
            collations,
            vec![("id".into(), "C".into()), ("project".into(), "C".into())]
        );
        let fillfactor: Vec<String> = client
            .query(
                "SELECT relname::text FROM pg_class
                 WHERE relnamespace = 'tally'::regnamespace
                   AND 'fillfactor=70' = ANY(reloptions) ORDER BY 1",
                &[],
            )
            .expect("reloptions")
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(
            fillfactor,
            [
                "agent_load",
                "agent_state",
                "job_state",
                "learner",
                "learner_activity",
                "learner_topic_activity",
                "rollup",
                "rollup_minute"
            ]
        );
        // The entry stored before the migration still makes its event a duplicate.
        let outcome = store
            .write_batch(Batch {
                events: &[
                    execution("a", "alpha", at(0), &Exec::default()),
                    execution("b", "alpha", at(0), &Exec::default()),
                ],
                ..Batch::default()
            })
            .expect("written");
        assert_eq!((outcome.accepted, outcome.duplicates), (1, 1));
    }
}
