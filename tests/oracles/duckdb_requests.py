"""Per-endpoint requests computed independently by DuckDB over the same JSON Lines file.

usage: duckdb_requests.py EVENTS.jsonl  -> one JSON document: per endpoint its requests,
server errors (status 500 and above) and the latency at ranks floor(q x (n - 1)) for
q = 0.5, 0.95, 0.99 (0-based, ascending), which the sketch answers within 1 %.
"""
import json
import sys

import duckdb

con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
rows = con.execute(
    """
    SELECT endpoint, count(*) AS requests, count(*) FILTER (WHERE status >= 500) AS server_errors,
           list_sort(list(latency_ms)) AS sorted
    FROM read_json(?, format = 'newline_delimited',
                   columns = {kind: 'VARCHAR', endpoint: 'VARCHAR', status: 'INTEGER', latency_ms: 'DOUBLE'})
    WHERE kind = 'request' GROUP BY endpoint ORDER BY endpoint
    """,
    [sys.argv[1]],
).fetchall()
out = {}
for endpoint, requests, errors, ranked in rows:
    at = lambda q: ranked[int(q * (requests - 1))]
    out[endpoint] = {
        "requests": requests,
        "server_errors": errors,
        "p50": at(0.5),
        "p95": at(0.95),
        "p99": at(0.99),
    }
print(json.dumps(out))
