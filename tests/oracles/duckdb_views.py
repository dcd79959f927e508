"""The views tally answers, computed independently by DuckDB over the same JSON Lines file.

usage: duckdb_views.py EVENTS.jsonl  -> prints one JSON document on stdout
"""
import json
import sys

import duckdb

con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(
    """
    CREATE TABLE ev AS SELECT * FROM read_json(?, format = 'newline_delimited',
        columns = {
            kind: 'VARCHAR', id: 'VARCHAR', ts: 'TIMESTAMPTZ', project: 'VARCHAR',
            tool: 'VARCHAR', model: 'VARCHAR', success: 'BOOLEAN', duration_ms: 'DOUBLE',
            input_tokens: 'BIGINT', output_tokens: 'BIGINT', cost_usd: 'DOUBLE',
            duration_s: 'DOUBLE', mode: 'VARCHAR', qa_status: 'VARCHAR',
            models: 'STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT, cost_usd DOUBLE)[]',
            job_id: 'VARCHAR', status: 'VARCHAR'
        })
    """,
    [sys.argv[1]],
)
con.execute("SET TimeZone = 'UTC'")
# Run models, one row each; costs summed in nanodollars like tally.
con.execute(
    """
    CREATE TABLE run_model AS
    SELECT e.project, e.ts, u.m.model AS model, u.m.input_tokens AS input_tokens,
           u.m.output_tokens AS output_tokens, round(u.m.cost_usd * 1e9)::BIGINT AS cost_nanos
    FROM ev e, unnest(e.models) AS u(m) WHERE e.kind = 'run'
    """
)
con.execute(
    """
    CREATE VIEW exec AS SELECT project, ts, tool, model, success, duration_ms,
        coalesce(input_tokens, 0) + coalesce(output_tokens, 0) AS tokens,
        coalesce(round(cost_usd * 1e9)::BIGINT, 0) AS cost_nanos
    FROM ev WHERE kind = 'execution'
    """
)
con.execute(
    """
    CREATE VIEW run AS SELECT e.project, e.ts, e.duration_s, e.mode, coalesce(e.qa_status, 'not_run') AS qa,
        coalesce((SELECT sum(r.input_tokens + r.output_tokens) FROM unnest(e.models) AS t(r)), 0) AS tokens,
        coalesce((SELECT sum(round(r.cost_usd * 1e9)::BIGINT) FROM unnest(e.models) AS t(r)), 0) AS cost_nanos
    FROM ev e WHERE e.kind = 'run'
    """
)


def one(sql):
    return con.execute(sql).fetchone()


def rows(sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


executions, successes, exec_tokens, exec_cost = one(
    "SELECT count(*), coalesce(sum(success::INT), 0), coalesce(sum(tokens), 0), coalesce(sum(cost_nanos), 0) FROM exec"
)
runs, run_tokens, run_cost, run_duration, runs_2loop, runs_3loop = one(
    """SELECT count(*), coalesce(sum(tokens), 0), coalesce(sum(cost_nanos), 0), coalesce(sum(duration_s), 0),
              count(*) FILTER (WHERE mode = '2loop'), count(*) FILTER (WHERE mode = '3loop') FROM run"""
)
qa = {r["qa"]: r["n"] for r in rows("SELECT qa, count(*) AS n FROM run GROUP BY qa")}
# A job counts once, by its latest change; ties at one instant go to the later status.
jobs = {
    r["status"]: r["n"]
    for r in rows(
        """SELECT status, count(*) AS n FROM (
               SELECT status, row_number() OVER (PARTITION BY project, job_id ORDER BY ts DESC,
                   CASE status WHEN 'queued' THEN 0 WHEN 'running' THEN 1 WHEN 'completed' THEN 2
                               WHEN 'failed' THEN 3 ELSE 4 END DESC) AS latest
               FROM ev WHERE kind = 'job') WHERE latest = 1 GROUP BY status"""
    )
}
summary = {
    "total_executions": executions,
    "successful_executions": successes,
    "total_runs": runs,
    "total_tokens": exec_tokens + run_tokens,
    "total_cost_nanos": exec_cost + run_cost,
    "avg_duration_seconds": run_duration / runs if runs else 0.0,
    "runs_2loop": runs_2loop,
    "runs_3loop": runs_3loop,
    "jobs": jobs,
}
projects = rows(
    """SELECT project AS project_name,
              coalesce(r.runs, 0) AS runs_count,
              coalesce(r.tokens, 0) + coalesce(x.tokens, 0) AS total_tokens,
              coalesce(r.cost, 0) + coalesce(x.cost, 0) AS total_cost_nanos,
              coalesce(r.passed, 0) AS qa_passed, coalesce(r.warning, 0) AS qa_warning,
              coalesce(r.failed, 0) AS qa_failed, coalesce(r.not_run, 0) AS qa_not_run,
              coalesce(x.n, 0) AS total_executions
       FROM (SELECT project, count(*) AS runs, sum(tokens) AS tokens, sum(cost_nanos) AS cost,
                    count(*) FILTER (WHERE qa = 'passed') AS passed, count(*) FILTER (WHERE qa = 'warning') AS warning,
                    count(*) FILTER (WHERE qa = 'failed') AS failed, count(*) FILTER (WHERE qa = 'not_run') AS not_run
             FROM run GROUP BY project) r
       FULL OUTER JOIN (SELECT project, count(*) AS n, sum(tokens) AS tokens, sum(cost_nanos) AS cost
                        FROM exec GROUP BY project) x USING (project)
       ORDER BY project_name"""
)
models = rows(
    """SELECT model AS model_name, sum(n) AS usage_count, sum(tokens) AS total_tokens, sum(cost) AS total_cost_nanos
       FROM (SELECT model, count(*) AS n, sum(tokens) AS tokens, sum(cost_nanos) AS cost FROM exec
             WHERE model IS NOT NULL GROUP BY model
             UNION ALL
             SELECT model, count(*), sum(input_tokens + output_tokens), sum(coalesce(cost_nanos, 0)) FROM run_model GROUP BY model)
       GROUP BY model ORDER BY model_name"""
)
daily = rows(
    """SELECT strftime(day, '%Y-%m-%d') AS date, sum(runs) AS runs, sum(executions) AS executions,
              sum(tokens) AS tokens, sum(cost) AS cost_nanos, sum(passed) AS qa_passed
       FROM (SELECT date_trunc('day', ts) AS day, count(*) AS runs, 0 AS executions, sum(tokens) AS tokens,
                    sum(cost_nanos) AS cost, count(*) FILTER (WHERE qa = 'passed') AS passed FROM run GROUP BY 1
             UNION ALL
             SELECT date_trunc('day', ts), 0, count(*), sum(tokens), sum(cost_nanos), 0 FROM exec GROUP BY 1)
       GROUP BY day ORDER BY date"""
)
print(json.dumps({"summary": summary, "qa": qa, "projects": projects, "models": models, "daily": daily}, default=float))
