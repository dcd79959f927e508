//! The versioned schema: migration N brings a database from `user_version` N-1 to N.
//!
//! Layout notes (see `docs/ARCHITECTURE.md`): raw tables are keyed by `seq`, one
//! counter across all kinds, so rows append in arrival order and pages fill completely;
//! executions are stored in blocks of many events, keyed by their first `seq`.
//! Low-cardinality strings are codes into `dict`. Timestamps are epoch milliseconds
//! (UTC), durations microseconds, money billionths of a dollar: integers, so sums are
//! exact. `event_ids` is the idempotency ledger: one entry per `(id, project)`, holding
//! the `seq` of the row it produced. Given ids are TEXT, derived ids 16-byte BLOBs.

use rusqlite::Connection;

use crate::{Error, Result};

const MIGRATIONS: &[&str] = &[
    // 1: the raw tier, dictionary, idempotency ledger and quarantine.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) WITHOUT ROWID, STRICT;
    INSERT INTO meta (key, value) VALUES ('next_seq', 1);

    CREATE TABLE dict (
        dim INTEGER NOT NULL,
        code INTEGER NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (dim, code)
    ) WITHOUT ROWID, STRICT;
    CREATE UNIQUE INDEX dict_by_value ON dict (dim, value);

    CREATE TABLE event_ids (
        project INTEGER NOT NULL,
        id ANY NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (project, id)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE execution (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        agent INTEGER,
        task TEXT,
        user INTEGER,
        session TEXT,
        tool INTEGER NOT NULL,
        model INTEGER,
        duration_us INTEGER NOT NULL,
        success INTEGER NOT NULL,
        -- bit 0: browser_used; bit 1: cost computed from the price table;
        -- bits 2..4: effort code + 1 (0 = not given)
        flags INTEGER NOT NULL,
        cost_nusd INTEGER,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_tokens INTEGER,
        cache_write_tokens INTEGER,
        reasoning_tokens INTEGER,
        error INTEGER,
        attrs TEXT
    ) STRICT;

    CREATE TABLE run (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        duration_us INTEGER NOT NULL,
        mode INTEGER,
        qa_status INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        cost_nusd INTEGER NOT NULL,
        attrs TEXT
    ) STRICT;
    CREATE TABLE run_model (
        run_seq INTEGER NOT NULL,
        ordinal INTEGER NOT NULL,
        model INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_nusd INTEGER,
        PRIMARY KEY (run_seq, ordinal)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE job (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        job_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        run_id TEXT,
        attrs TEXT
    ) STRICT;
    CREATE INDEX job_by_job ON job (project, job_id, ts);

    CREATE TABLE session (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        user INTEGER NOT NULL,
        duration_us INTEGER NOT NULL,
        exchanges INTEGER NOT NULL,
        quality REAL,
        relevance REAL,
        helpfulness REAL,
        engagement REAL,
        clarity REAL,
        accuracy REAL,
        attrs TEXT
    ) STRICT;
    CREATE INDEX session_by_user ON session (project, user, ts);
    CREATE TABLE session_topic (
        session_seq INTEGER NOT NULL,
        topic INTEGER NOT NULL,
        PRIMARY KEY (session_seq, topic)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE skill (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        user INTEGER NOT NULL,
        skill INTEGER NOT NULL,
        completed INTEGER NOT NULL,
        session TEXT,
        phase INTEGER,
        duration_us INTEGER,
        rating INTEGER,
        query TEXT,
        attrs TEXT
    ) STRICT;
    CREATE INDEX skill_by_user ON skill (project, user, ts);

    CREATE TABLE outcome (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        experiment INTEGER NOT NULL,
        user INTEGER NOT NULL,
        variant INTEGER NOT NULL,
        attrs TEXT
    ) STRICT;
    CREATE INDEX outcome_by_experiment ON outcome (project, experiment);
    CREATE TABLE outcome_metric (
        outcome_seq INTEGER NOT NULL,
        metric INTEGER NOT NULL,
        value REAL NOT NULL,
        is_bool INTEGER NOT NULL,
        PRIMARY KEY (outcome_seq, metric)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE agent_status (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        agent INTEGER NOT NULL,
        active_tasks INTEGER NOT NULL,
        queued_tasks INTEGER NOT NULL,
        capacity INTEGER NOT NULL,
        cpu_pct REAL,
        mem_pct REAL,
        attrs TEXT
    ) STRICT;

    CREATE TABLE request (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        endpoint INTEGER NOT NULL,
        method INTEGER NOT NULL,
        status INTEGER NOT NULL,
        latency_us INTEGER NOT NULL,
        user INTEGER,
        session TEXT,
        attrs TEXT
    ) STRICT;

    CREATE TABLE action (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        user INTEGER NOT NULL,
        action INTEGER NOT NULL,
        session TEXT,
        attrs TEXT
    ) STRICT;

    CREATE TABLE system (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        host INTEGER NOT NULL,
        cpu_pct REAL,
        mem_pct REAL,
        disk_pct REAL,
        load1 REAL,
        attrs TEXT
    ) STRICT;

    CREATE TABLE error (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        project INTEGER NOT NULL,
        source INTEGER NOT NULL,
        message TEXT NOT NULL,
        severity INTEGER NOT NULL,
        attrs TEXT
    ) STRICT;

    CREATE TABLE quarantine (
        quarantine_id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        source TEXT NOT NULL,
        position_kind TEXT NOT NULL,
        position INTEGER NOT NULL,
        format TEXT NOT NULL,
        header TEXT,
        record_id TEXT,
        field TEXT NOT NULL,
        rule TEXT NOT NULL,
        message TEXT NOT NULL,
        raw BLOB NOT NULL
    ) STRICT;
    "#,
    // 2: the rollup tier (hour, day and month rows per project and for all projects),
    // live job and agent state, and the minute tier of the real-time windows.
    r#"
    CREATE TABLE rollup (
        family INTEGER NOT NULL,      -- tally_store::rollup::Family
        resolution INTEGER NOT NULL,  -- 0 hour, 1 day, 2 month
        project INTEGER NOT NULL,     -- dictionary code; 0 = every project
        bucket INTEGER NOT NULL,      -- start of the period, epoch seconds UTC
        key INTEGER NOT NULL,         -- tool/model/agent/endpoint code or enum code
        n INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_nusd INTEGER NOT NULL,
        computed_cost_nusd INTEGER NOT NULL,
        duration_us INTEGER NOT NULL,
        last_ts INTEGER NOT NULL,
        latency BLOB,                 -- LatencySketch, milliseconds
        facets BLOB,                  -- Facets (tool rows)
        PRIMARY KEY (family, resolution, project, bucket, key)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE job_state (
        project INTEGER NOT NULL,
        job_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        status_ts INTEGER NOT NULL,
        queued_ts INTEGER,
        running_ts INTEGER,
        finished_ts INTEGER,
        PRIMARY KEY (project, job_id)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE agent_state (
        project INTEGER NOT NULL,
        agent INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        active_tasks INTEGER NOT NULL,
        queued_tasks INTEGER NOT NULL,
        capacity INTEGER NOT NULL,
        cpu_pct REAL,
        mem_pct REAL,
        PRIMARY KEY (project, agent)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE agent_load (
        project INTEGER NOT NULL,
        agent INTEGER NOT NULL,
        hour INTEGER NOT NULL,
        snapshots INTEGER NOT NULL,
        active_sum INTEGER NOT NULL,
        queued_sum INTEGER NOT NULL,
        capacity_sum INTEGER NOT NULL,
        peak_active INTEGER NOT NULL,
        PRIMARY KEY (project, agent, hour)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE rollup_minute (
        minute INTEGER NOT NULL,      -- epoch seconds, a multiple of 60
        project INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        n INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        latency BLOB,
        PRIMARY KEY (minute, project, kind)
    ) WITHOUT ROWID, STRICT;

    CREATE TABLE recent_user (
        minute INTEGER NOT NULL,
        project INTEGER NOT NULL,
        user INTEGER NOT NULL,
        PRIMARY KEY (minute, project, user)
    ) WITHOUT ROWID, STRICT;
    "#,
    // 3: API keys, stored hashed (SHA-256 of a random 32-byte key); `prefix` is the
    // public start of the key that finds its row.
    r#"
    CREATE TABLE api_key (
        id INTEGER PRIMARY KEY,
        name TEXT,
        scope TEXT NOT NULL,
        projects TEXT NOT NULL,
        prefix TEXT NOT NULL,
        hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
    ) STRICT;
    CREATE INDEX api_key_by_prefix ON api_key (prefix);
    "#,
    // 4: experiment definitions. `variants` is a JSON list of [name, weight] pairs in
    // bucket order (the first is the control), `guardrails` and `lower_is_better` JSON
    // lists of metric names. Times are epoch milliseconds.
    r#"
    CREATE TABLE experiment (
        key TEXT PRIMARY KEY,
        seed TEXT NOT NULL,
        variants TEXT NOT NULL,
        coverage REAL NOT NULL,
        hypothesis TEXT,
        primary_metric TEXT,
        guardrails TEXT NOT NULL,
        lower_is_better TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        stopped_at INTEGER
    ) WITHOUT ROWID, STRICT;
    "#,
    // 5: learner settings: the IANA time zone learning progress and streaks are
    // counted in (UTC when a user has no row); learning goal definitions (their progress
    // is computed from events). Times are epoch milliseconds; `state` is `active`,
    // `paused` or `abandoned`.
    r#"
    CREATE TABLE learner_setting (
        user TEXT PRIMARY KEY,
        time_zone TEXT NOT NULL
    ) WITHOUT ROWID, STRICT;
    CREATE TABLE learning_goal (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        kind TEXT NOT NULL,
        target REAL NOT NULL,
        title TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deadline INTEGER,
        state TEXT NOT NULL
    ) STRICT;
    CREATE INDEX learning_goal_by_user ON learning_goal (user, id);
    "#,
    // 6: trained success-predictor models, numbered in training order. Times are epoch
    // milliseconds; the window is [window_from, window_to); `params` and `metrics` are
    // JSON documents; `model` the serialized model.
    r#"
    CREATE TABLE predict_model (
        version INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        window_from INTEGER NOT NULL,
        window_to INTEGER NOT NULL,
        n_train INTEGER NOT NULL,
        n_holdout INTEGER NOT NULL,
        params TEXT NOT NULL,
        metrics TEXT NOT NULL,
        model BLOB NOT NULL
    ) STRICT;
    "#,
    // 7: the learner summary, kept by retention like the rollups: per learner (user
    // code), 15-minute UTC bucket (`quarter` = floor(ts / 900,000 ms)) and project, the
    // sums of their sessions and, per topic, of the sessions naming it. Every UTC offset
    // in use is a multiple of 15 minutes, so a bucket lies within one local day in every
    // time zone and days can be cut in the learner's zone when asked, whatever zone is
    // set later. `learner` holds each learner's session count, first and last session and a
    // revision,
    // raised whenever their sessions, time zone or goals change (cache invalidation).
    // Folded at ingest in the raw rows' transaction from the sessions with `seq` above
    // `meta.learner_folded_seq`; filled here from the sessions already stored.
    r#"
    CREATE TABLE learner_activity (
        user INTEGER NOT NULL,
        quarter INTEGER NOT NULL,
        project INTEGER NOT NULL,
        sessions INTEGER NOT NULL,
        exchanges INTEGER NOT NULL,
        duration_us INTEGER NOT NULL,
        quality_sum REAL NOT NULL,
        rated INTEGER NOT NULL,
        excellent INTEGER NOT NULL,   -- rated sessions of quality >= 0.9
        first_ts INTEGER NOT NULL,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (user, quarter, project)
    ) WITHOUT ROWID, STRICT;
    CREATE TABLE learner_topic_activity (
        user INTEGER NOT NULL,
        quarter INTEGER NOT NULL,
        project INTEGER NOT NULL,
        topic INTEGER NOT NULL,
        sessions INTEGER NOT NULL,
        rated INTEGER NOT NULL,
        quality_sum REAL NOT NULL,
        PRIMARY KEY (user, quarter, project, topic)
    ) WITHOUT ROWID, STRICT;
    CREATE TABLE learner (
        user INTEGER PRIMARY KEY,
        revision INTEGER NOT NULL,
        sessions INTEGER NOT NULL,
        first_ts INTEGER NOT NULL,
        last_ts INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX learner_by_revision ON learner (revision);

    INSERT INTO learner_activity
    SELECT user, CASE WHEN ts >= 0 THEN ts / 900000 ELSE (ts - 899999) / 900000 END, project,
           count(*), sum(exchanges), sum(duration_us), total(quality), count(quality),
           count(CASE WHEN quality >= 0.9 THEN 1 END), min(ts), max(ts)
    FROM session WHERE true GROUP BY 1, 2, 3;
    INSERT INTO learner_topic_activity
    SELECT s.user, CASE WHEN s.ts >= 0 THEN s.ts / 900000 ELSE (s.ts - 899999) / 900000 END,
           s.project, t.topic, count(*), count(s.quality), total(s.quality)
    FROM session s JOIN session_topic t ON t.session_seq = s.seq GROUP BY 1, 2, 3, 4;
    INSERT INTO learner (user, revision, sessions, first_ts, last_ts)
    SELECT user, 1, count(*), min(ts), max(ts) FROM session GROUP BY user;
    INSERT INTO meta (key, value)
    SELECT 'learner_folded_seq', coalesce(max(seq), 0) FROM session;
    "#,
    // 8: executions in column-encoded blocks (`execution_block/`); the rows of the
    // `execution` table are moved by `convert_row_table`, which then drops it.
    r#"
    CREATE TABLE execution_block (
        first_seq INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        ts_min INTEGER NOT NULL,
        ts_max INTEGER NOT NULL,
        events INTEGER NOT NULL,
        data BLOB NOT NULL
    ) STRICT;
    "#,
    // 9: the ledger keyed by `(id, project)` instead of `(project, id)`. With a TEXT
    // column first SQLite compares keys on its string fast path, and ids rarely tie;
    // led by one of a handful of project codes, nearly every comparison tied and fell
    // to the general record compare.
    r#"
    CREATE TABLE event_ids_by_id (
        id ANY NOT NULL,
        project INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (id, project)
    ) WITHOUT ROWID, STRICT;
    INSERT INTO event_ids_by_id (id, project, seq)
    SELECT id, project, seq FROM event_ids ORDER BY id, project;
    DROP TABLE event_ids;
    ALTER TABLE event_ids_by_id RENAME TO event_ids;
    "#,
    // 10: one rollup row per family, resolution, project and period, holding every
    // key's measures (`rollup_codec.rs`): a write of a tool's day is one row instead of
    // one per tool. The rows are moved by `rollup_codec::convert_rows_by_key`.
    r#"
    ALTER TABLE rollup RENAME TO rollup_by_key;
    CREATE TABLE rollup (
        family INTEGER NOT NULL,      -- tally_store::rollup::Family
        resolution INTEGER NOT NULL,  -- 0 hour, 1 day, 2 month
        project INTEGER NOT NULL,     -- dictionary code; 0 = every project
        bucket INTEGER NOT NULL,      -- start of the period, epoch seconds UTC
        data BLOB NOT NULL,           -- every key's measures
        PRIMARY KEY (family, resolution, project, bucket)
    ) WITHOUT ROWID, STRICT;
    "#,
    // 11: a rejected record sent again (the same bytes at the same place of the same
    // source, for the same reason) is counted on its quarantine entry instead of
    // stored twice, so re-ingesting an input stores nothing new. Entries an older
    // version stored more than once are put together: the first kept, the rest counted.
    r#"
    ALTER TABLE quarantine ADD COLUMN last_received_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE quarantine ADD COLUMN rejections INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX quarantine_by_place ON quarantine (source, position, rule);
    UPDATE quarantine SET rejections = same.n, last_received_at = same.last
    FROM (SELECT min(quarantine_id) AS first, count(*) AS n, max(received_at) AS last
          FROM quarantine
          GROUP BY source, position, rule, position_kind, format, header, field, raw) AS same
    WHERE quarantine.quarantine_id = same.first;
    DELETE FROM quarantine WHERE quarantine_id NOT IN (
        SELECT min(quarantine_id) FROM quarantine
        GROUP BY source, position, rule, position_kind, format, header, field, raw);
    "#,
    // 12: experiment definitions and learning goals belong to a project (NULL: global,
    // set by a caller not limited to projects); keys limited to projects see and change
    // only their projects' ones.
    r#"
    ALTER TABLE experiment ADD COLUMN project TEXT;
    ALTER TABLE learning_goal ADD COLUMN project TEXT;
    "#,
    // 13: an experiment key is unique within its project (global ones among themselves),
    // so one project's keys say nothing of another's. Rows keep their project.
    r#"
    ALTER TABLE experiment RENAME TO experiment_by_key;
    CREATE TABLE experiment (
        key TEXT NOT NULL,
        seed TEXT NOT NULL,
        variants TEXT NOT NULL,
        coverage REAL NOT NULL,
        hypothesis TEXT,
        primary_metric TEXT,
        guardrails TEXT NOT NULL,
        lower_is_better TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        stopped_at INTEGER,
        project TEXT
    ) STRICT;
    CREATE UNIQUE INDEX experiment_by_project ON experiment (ifnull(project, ''), key);
    INSERT INTO experiment SELECT key, seed, variants, coverage, hypothesis, primary_metric,
        guardrails, lower_is_better, created_at, started_at, stopped_at, project
        FROM experiment_by_key;
    DROP TABLE experiment_by_key;
    "#,
    // 14: alert rules created through the API or CLI (their definition as JSON), each
    // rule's state, the history of its transitions (ids never reused, read in pages)
    // and every delivery attempt.
    r#"
    CREATE TABLE alert_rule (
        name TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE alert_state (
        rule TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        since INTEGER NOT NULL,
        last_value REAL,
        last_evaluated_at INTEGER NOT NULL,
        last_notified_at INTEGER
    ) STRICT;
    CREATE TABLE alert_transition (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        event TEXT NOT NULL,
        at INTEGER NOT NULL,
        value REAL,
        threshold REAL NOT NULL,
        summary TEXT NOT NULL,
        project TEXT,
        notified INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX alert_transition_by_rule ON alert_transition (rule, id);
    CREATE TABLE alert_delivery (
        transition INTEGER NOT NULL,
        channel TEXT NOT NULL,
        medium TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX alert_delivery_by_transition ON alert_delivery (transition);
    "#,
    // 15: what the events explorer reads. Each execution block's summary (its
    // projects, tools, models, agents, outcomes and a filter of its task ids), so a
    // filtered page skips blocks unread; written by `summarize_blocks` for the blocks
    // stored before. The ledger's given ids by `seq`, so the rows of the other kinds
    // come with their id (executions hold theirs in the block).
    r#"
    CREATE TABLE IF NOT EXISTS execution_block_summary (
        first_seq INTEGER PRIMARY KEY,
        summary BLOB NOT NULL
    ) STRICT;
    CREATE INDEX event_ids_given_by_seq ON event_ids (seq) WHERE typeof(id) = 'text';
    "#,
    // 16: engagement, kept at ingest in the raw rows' transaction: per project and user
    // code the first day (epoch seconds UTC) they were active; per project, day and user
    // the day's first and last event (epoch ms) and its events; per project and session
    // key its first and last activity, its end (epoch ms) and its user (the user of its
    // earliest event, `user_ts`). Events stored before this migration are not counted:
    // engagement starts at the upgrade (docs/metrics.md).
    r#"
    CREATE TABLE engagement_user (
        project INTEGER NOT NULL,
        user INTEGER NOT NULL,
        first_day INTEGER NOT NULL,
        PRIMARY KEY (project, user)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE engagement_day (
        project INTEGER NOT NULL,
        day INTEGER NOT NULL,
        user INTEGER NOT NULL,
        first_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        events INTEGER NOT NULL,
        PRIMARY KEY (project, day, user)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX engagement_day_by_day ON engagement_day (day);
    CREATE TABLE engagement_session (
        project INTEGER NOT NULL,
        session TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        end_ms INTEGER,
        user TEXT,
        user_ts INTEGER,
        PRIMARY KEY (project, session)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX engagement_session_by_start ON engagement_session (start_ms);
    "#,
    // 17: the learners who opted out of leaderboards (a row each; opting back in
    // deletes it).
    r#"
    CREATE TABLE learner_opt_out (
        user TEXT PRIMARY KEY
    ) STRICT, WITHOUT ROWID;
    "#,
    // 18: saved dashboards: a named layout of widgets (JSON), global or of one project.
    r#"
    CREATE TABLE IF NOT EXISTS dashboard (
        id TEXT PRIMARY KEY,
        project TEXT,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    "#,
];

/// The migration after whose SQL the execution rows move into blocks.
const EXECUTION_BLOCKS: i64 = 8;

/// The migration that re-sorts the ledger.
const LEDGER_BY_ID: i64 = 9;

/// The migration after whose SQL the rollup rows of each period are put together.
const ROLLUP_BY_PERIOD: i64 = 10;

/// The migration after whose SQL every execution block is summarized.
const BLOCK_SUMMARIES: i64 = 15;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The raw tables of every kind but `execution` (stored in `execution_block`), in
/// [`tally_models::Kind`] order.
pub const RAW_TABLES: [&str; 10] = [
    "run",
    "job",
    "session",
    "skill",
    "outcome",
    "agent_status",
    "request",
    "action",
    "system",
    "error",
];

/// Brings the database to [`SCHEMA_VERSION`], each migration in its own transaction.
///
/// # Errors
/// A database newer than this build, or a failed migration (then rolled back).
pub fn migrate(conn: &mut Connection, path: &str) -> Result<()> {
    migrate_to(conn, path, SCHEMA_VERSION)
}

/// Brings the database to schema `target` (an older one, in tests of migrations).
pub(super) fn migrate_to(conn: &mut Connection, path: &str, target: i64) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let upto = usize::try_from(target).unwrap_or(0).min(MIGRATIONS.len());
    let mut temp_on_disk = false;
    for (index, sql) in MIGRATIONS[..upto].iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        if version == EXECUTION_BLOCKS || version == LEDGER_BY_ID || version == BLOCK_SUMMARIES {
            // These migrations sort or index the whole ledger in passing: on disk, so
            // memory stays flat however many rows there are.
            conn.pragma_update(None, "temp_store", "FILE")?;
            temp_on_disk = true;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql)?;
        if version == EXECUTION_BLOCKS {
            tx.execute_batch(super::execution_block::SUMMARY_TABLE)?;
            super::execution_block::convert_row_table(&tx)?;
        }
        if version == BLOCK_SUMMARIES {
            super::execution_block::summarize_blocks(&tx)?;
        }
        if version == ROLLUP_BY_PERIOD {
            super::rollup_codec::convert_rows_by_key(&tx)?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "migrated database schema");
    }
    if temp_on_disk {
        conn.pragma_update(None, "temp_store", "MEMORY")?;
    }
    Ok(())
}
