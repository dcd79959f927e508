"""The summary's figures over one time range, computed independently by DuckDB over a
JSON Lines file of executions and runs: what a comparison's previous values must equal.

usage: duckdb_period.py EVENTS.jsonl FROM TO  (RFC 3339; FROM inclusive, TO exclusive)
-> prints one JSON document on stdout
"""
import json
import sys

import duckdb

events, start, end = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
con.execute(
    """
    CREATE TABLE ev AS SELECT * FROM read_json(?, format = 'newline_delimited',
        columns = {
            kind: 'VARCHAR', ts: 'TIMESTAMPTZ', success: 'BOOLEAN',
            input_tokens: 'BIGINT', output_tokens: 'BIGINT', cost_usd: 'DOUBLE',
            duration_s: 'DOUBLE', mode: 'VARCHAR', qa_status: 'VARCHAR',
            models: 'STRUCT(model VARCHAR, input_tokens BIGINT, output_tokens BIGINT, cost_usd DOUBLE)[]'
        })
    WHERE ts >= ?::TIMESTAMPTZ AND ts < ?::TIMESTAMPTZ
    """,
    [events, start, end],
)
executions, successes, exec_tokens, exec_cost = con.execute(
    """SELECT count(*), coalesce(sum(success::INT), 0),
              coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0),
              coalesce(sum(round(coalesce(cost_usd, 0) * 1e9)::BIGINT), 0)
       FROM ev WHERE kind = 'execution'"""
).fetchone()
runs, run_duration, runs_2loop, runs_3loop = con.execute(
    """SELECT count(*), coalesce(sum(duration_s), 0),
              count(*) FILTER (WHERE mode = '2loop'), count(*) FILTER (WHERE mode = '3loop')
       FROM ev WHERE kind = 'run'"""
).fetchone()
run_tokens, run_cost = con.execute(
    """SELECT coalesce(sum(u.m.input_tokens + u.m.output_tokens), 0),
              coalesce(sum(round(u.m.cost_usd * 1e9)::BIGINT), 0)
       FROM ev e, unnest(e.models) AS u(m) WHERE e.kind = 'run'"""
).fetchone()
qa = dict(
    con.execute(
        "SELECT coalesce(qa_status, 'not_run'), count(*) FROM ev WHERE kind = 'run' GROUP BY 1"
    ).fetchall()
)
judged = qa.get("passed", 0) + qa.get("warning", 0) + qa.get("failed", 0)
print(
    json.dumps(
        {
            "total_executions": executions,
            "success_rate": successes / executions if executions else None,
            "total_runs": runs,
            "runs_2loop": runs_2loop,
            "runs_3loop": runs_3loop,
            "total_tokens": exec_tokens + run_tokens,
            "total_cost_nanos": exec_cost + run_cost,
            "avg_duration_seconds": run_duration / runs if runs else None,
            "qa_passed": qa.get("passed", 0),
            "qa_warning": qa.get("warning", 0),
            "qa_failed": qa.get("failed", 0),
            "qa_error": qa.get("error", 0),
            "qa_not_run": qa.get("not_run", 0),
            "pass_rate": qa.get("passed", 0) / judged if judged else None,
        },
        default=float,
    )
)
