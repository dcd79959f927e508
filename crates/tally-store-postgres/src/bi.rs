//! The `tally_bi` schema: stable, documented views that SQL tools (Tableau, Power BI,
//! Metabase, Grafana) read with their stock PostgreSQL connectors, in plain units
//! (timestamps, seconds, dollars) and names (projects, tools, models as text), so that
//! the `tally` schema's layout may change without breaking a dashboard. The views are
//! re-created at every start, after the migrations and under their lock; a column is
//! only ever added to them. `docs/bi.md` documents each.

/// Views run with their owner's rights, so a role granted `tally_bi` alone reads them
/// and nothing of `tally`.
pub(crate) const VIEWS: &str = r#"
CREATE SCHEMA IF NOT EXISTS tally_bi;

CREATE OR REPLACE VIEW tally_bi.executions AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, agent_id, task_id, user_id, session_id,
       tool, model, duration_us / 1000.0 AS duration_ms, success, browser_used, effort,
       cost_nusd / 1e9::numeric AS cost_usd, cost_computed AS cost_from_price_table,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
       coalesce(input_tokens, 0) + coalesce(output_tokens, 0) AS total_tokens,
       error, attrs
FROM tally.execution;

CREATE OR REPLACE VIEW tally_bi.runs AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, duration_us / 1e6 AS duration_s, mode,
       qa_status, tokens, cost_nusd / 1e9::numeric AS cost_usd, attrs
FROM tally.run;

CREATE OR REPLACE VIEW tally_bi.run_models AS
SELECT r.seq AS run_seq, to_timestamp(r.ts / 1000.0) AS ts, r.project, m.ordinal, m.model,
       m.input_tokens, m.output_tokens, m.cost_nusd / 1e9::numeric AS cost_usd
FROM tally.run_model m JOIN tally.run r ON r.seq = m.run_seq;

CREATE OR REPLACE VIEW tally_bi.jobs AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, job_id, status, run_id, attrs
FROM tally.job;

CREATE OR REPLACE VIEW tally_bi.sessions AS
SELECT s.seq, to_timestamp(s.ts / 1000.0) AS ts, s.project, s.user_id,
       s.duration_us / 1e6 AS duration_s, s.exchanges, s.quality, s.relevance, s.helpfulness,
       s.engagement, s.clarity, s.accuracy,
       ARRAY(SELECT t.topic FROM tally.session_topic t WHERE t.session_seq = s.seq
             ORDER BY t.ordinal) AS topics,
       s.attrs
FROM tally.session s;

CREATE OR REPLACE VIEW tally_bi.skills AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, user_id, skill, completed, session_id,
       phase, duration_us / 1000.0 AS duration_ms, rating, query, attrs
FROM tally.skill;

CREATE OR REPLACE VIEW tally_bi.outcomes AS
SELECT o.seq, to_timestamp(o.ts / 1000.0) AS ts, o.project, o.experiment, o.user_id, o.variant,
       m.metric, m.value, m.is_bool
FROM tally.outcome o JOIN tally.outcome_metric m ON m.outcome_seq = o.seq;

CREATE OR REPLACE VIEW tally_bi.requests AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, endpoint, method, status,
       latency_us / 1000.0 AS latency_ms, user_id, session_id, attrs
FROM tally.request;

CREATE OR REPLACE VIEW tally_bi.errors AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, source, message, severity, attrs
FROM tally.error;

CREATE OR REPLACE VIEW tally_bi.agent_status AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, agent_id, active_tasks, queued_tasks,
       capacity, cpu_pct, mem_pct, attrs
FROM tally.agent_status;

CREATE OR REPLACE VIEW tally_bi.system_metrics AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, host, cpu_pct, mem_pct, disk_pct, load1, attrs
FROM tally.system;

CREATE OR REPLACE VIEW tally_bi.actions AS
SELECT seq, to_timestamp(ts / 1000.0) AS ts, project, user_id, action, session_id, attrs
FROM tally.action;

-- Daily rollups, maintained as events arrive: one row per project and UTC day (and per
-- model or tool), exact sums. Family and resolution codes: tally_store::rollup.
CREATE OR REPLACE VIEW tally_bi.daily_executions AS
SELECT p.value AS project, (to_timestamp(r.bucket) AT TIME ZONE 'UTC')::date AS day,
       r.n AS executions, r.ok AS successes,
       r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
       r.reasoning_tokens, r.input_tokens + r.output_tokens AS total_tokens,
       r.cost_nusd / 1e9 AS cost_usd, r.duration_us / 1e3 AS duration_ms_sum
FROM tally.rollup r JOIN tally.dict p ON p.dim = 0 AND p.code = r.project
WHERE r.family = 1 AND r.resolution = 1 AND r.project <> 0;

CREATE OR REPLACE VIEW tally_bi.daily_executions_by_model AS
SELECT p.value AS project, (to_timestamp(r.bucket) AT TIME ZONE 'UTC')::date AS day,
       k.value AS model, r.n AS executions, r.ok AS successes,
       r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
       r.reasoning_tokens, r.input_tokens + r.output_tokens AS total_tokens,
       r.cost_nusd / 1e9 AS cost_usd, r.duration_us / 1e3 AS duration_ms_sum
FROM tally.rollup r JOIN tally.dict p ON p.dim = 0 AND p.code = r.project
LEFT JOIN tally.dict k ON k.dim = 3 AND k.code = r.key
WHERE r.family = 2 AND r.resolution = 1 AND r.project <> 0;

CREATE OR REPLACE VIEW tally_bi.daily_executions_by_tool AS
SELECT p.value AS project, (to_timestamp(r.bucket) AT TIME ZONE 'UTC')::date AS day,
       k.value AS tool, r.n AS executions, r.ok AS successes,
       r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
       r.reasoning_tokens, r.input_tokens + r.output_tokens AS total_tokens,
       r.cost_nusd / 1e9 AS cost_usd, r.duration_us / 1e3 AS duration_ms_sum
FROM tally.rollup r JOIN tally.dict p ON p.dim = 0 AND p.code = r.project
JOIN tally.dict k ON k.dim = 2 AND k.code = r.key
WHERE r.family = 3 AND r.resolution = 1 AND r.project <> 0;

CREATE OR REPLACE VIEW tally_bi.daily_runs AS
SELECT p.value AS project, (to_timestamp(r.bucket) AT TIME ZONE 'UTC')::date AS day,
       (ARRAY['passed', 'warning', 'failed', 'error', 'not_run'])[r.key / 4 + 1] AS qa_status,
       (ARRAY['other', '2loop', '3loop'])[r.key % 4 + 1] AS mode,
       r.n AS runs, r.input_tokens + r.output_tokens AS total_tokens,
       r.cost_nusd / 1e9 AS cost_usd, r.duration_us / 1e6 AS duration_s_sum
FROM tally.rollup r JOIN tally.dict p ON p.dim = 0 AND p.code = r.project
WHERE r.family = 5 AND r.resolution = 1 AND r.project <> 0;
"#;
