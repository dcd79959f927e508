"""Engagement computed independently by DuckDB over the same JSON Lines file.

usage: duckdb_engagement.py EVENTS.jsonl NOW TIMEOUT_MINUTES  -> one JSON document

Users are `user_id`s within their project, active on any event that names one. A
session is the events sharing a `session_id` in a project (executions, skills, requests,
actions), or one `session` event on its own (from `ts` for `duration_s`). It ends at its
latest `session_end` action; without one it closes at its last activity once NOW is
TIMEOUT_MINUTES past it, else it is open. Weeks start on Monday (UTC).
"""
import json
import sys

import duckdb

path, now, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
con.execute(
    """
    CREATE TABLE ev AS SELECT DISTINCT * FROM read_json(?, format = 'newline_delimited',
        columns = {
            kind: 'VARCHAR', id: 'VARCHAR', ts: 'TIMESTAMPTZ', project: 'VARCHAR',
            user_id: 'VARCHAR', session_id: 'VARCHAR', action: 'VARCHAR', duration_s: 'DOUBLE'
        })
    """,
    [path],
)
# Sessions: first and last activity, end, in epoch milliseconds.
con.execute(
    """
    CREATE TABLE spans AS
    SELECT project, session_id AS session,
           min(epoch_ms(ts)) AS start_ms, max(epoch_ms(ts)) AS last_ms,
           max(epoch_ms(ts)) FILTER (WHERE kind = 'action' AND action = 'session_end') AS end_ms
    FROM ev WHERE session_id IS NOT NULL AND kind IN ('execution', 'skill', 'request', 'action')
    GROUP BY project, session_id
    UNION ALL
    SELECT project, 'session-event:' || id, epoch_ms(ts),
           epoch_ms(ts) + round(duration_s * 1000)::BIGINT,
           epoch_ms(ts) + round(duration_s * 1000)::BIGINT
    FROM ev WHERE kind = 'session'
    """
)
con.execute(
    f"""
    CREATE TABLE sessions AS
    SELECT *, (coalesce(end_ms, CASE WHEN epoch_ms(TIMESTAMPTZ '{now}') - last_ms >= {timeout} * 60000
                                     THEN last_ms END) - start_ms) / 1000.0 AS length_s
    FROM spans
    """
)
con.execute(
    """
    CREATE TABLE activity AS
    SELECT DISTINCT project, user_id, ts::DATE AS day FROM ev WHERE user_id IS NOT NULL
    """
)
con.execute(
    "CREATE TABLE first_seen AS SELECT project, user_id, min(day) AS first_day FROM activity GROUP BY ALL"
)


def rows(sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, [str(v) if hasattr(v, "isoformat") else v for v in r])) for r in cur.fetchall()]


out = {}
for unit in ["day", "week", "month"]:
    users = rows(
        f"""
        SELECT date_trunc('{unit}', a.day)::DATE AS date,
               count(DISTINCT (a.project, a.user_id)) AS active_users,
               count(DISTINCT (a.project, a.user_id)) FILTER (
                   WHERE date_trunc('{unit}', f.first_day) = date_trunc('{unit}', a.day)) AS new_users
        FROM activity a JOIN first_seen f USING (project, user_id)
        GROUP BY 1 ORDER BY 1
        """
    )
    sessions = rows(
        f"""
        SELECT date_trunc('{unit}', epoch_ms(start_ms)::DATE)::DATE AS date,
               count(*) AS sessions,
               count(*) FILTER (WHERE length_s IS NULL) AS open_sessions,
               avg(length_s) AS avg_session_s,
               quantile_cont(length_s, 0.5) AS p50_session_s,
               quantile_cont(length_s, 0.9) AS p90_session_s,
               quantile_cont(length_s, 0.99) AS p99_session_s
        FROM sessions GROUP BY 1 ORDER BY 1
        """
    )
    out[unit] = {"users": users, "sessions": sessions}
out["cohorts"] = rows(
    """
    SELECT date_trunc('week', f.first_day)::DATE AS week,
           date_diff('week', date_trunc('week', f.first_day), date_trunc('week', a.day)) AS offset,
           count(DISTINCT (a.project, a.user_id)) AS active
    FROM activity a JOIN first_seen f USING (project, user_id)
    GROUP BY 1, 2 ORDER BY 1, 2
    """
)
out["cohort_sizes"] = rows(
    """
    SELECT date_trunc('week', first_day)::DATE AS week, count(*) AS users
    FROM first_seen GROUP BY 1 ORDER BY 1
    """
)
print(json.dumps(out))
