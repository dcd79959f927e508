"""Checks a Parquet export against the JSON Lines export of the same events, with DuckDB.

usage: parquet_rows.py DIR EVENTS.jsonl   -> prints {"kind": rows, ...}; exits 1 on a mismatch
"""
import json
import os
import sys

import duckdb

directory, jsonl = sys.argv[1], sys.argv[2]
JSON_COLUMNS = {"models", "metrics", "quality_breakdown", "attrs"}

expected = {}
for line in open(jsonl, encoding="utf-8"):
    event = json.loads(line)
    expected.setdefault(event["kind"], []).append(event)

con = duckdb.connect()
counts = {}
for name in sorted(os.listdir(directory)):
    kind = name.removesuffix(".parquet")
    path = os.path.join(directory, name)
    columns = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()]
    select = ", ".join(f"epoch_ms({c})" if c == "ts" else c for c in columns)
    rows = con.execute(f"SELECT {select} FROM read_parquet(?)", [path]).fetchall()
    want = expected.get(kind, [])
    if len(rows) != len(want):
        sys.exit(f"{kind}: {len(rows)} rows in Parquet, {len(want)} in JSON Lines")
    for got, event in zip(rows, want):
        for column, value in zip(columns, got):
            truth = event.get(column)
            if column == "ts":
                from datetime import datetime
                truth = round(datetime.fromisoformat(truth.replace("Z", "+00:00")).timestamp() * 1000)
            elif column in JSON_COLUMNS:
                value = json.loads(value) if value is not None else None
                if truth == {}:
                    truth = None
            elif column == "topics":
                truth = ";".join(truth) if truth else None
            if value != truth and not (isinstance(value, float) and truth is not None and abs(value - truth) <= 1e-9 * max(1, abs(truth))):
                sys.exit(f"{kind} {event.get('id')}: {column} is {value!r} in Parquet, {truth!r} in JSON Lines")
    counts[kind] = len(rows)
missing = set(expected) - set(counts)
if missing:
    sys.exit(f"kinds without a Parquet file: {sorted(missing)}")
print(json.dumps(counts))
