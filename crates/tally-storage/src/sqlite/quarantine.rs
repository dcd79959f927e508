//! Reading the quarantine back.

use chrono::{TimeZone, Utc};
use rusqlite::{Connection, params};

use crate::{Position, QuarantinedRecord, RecordFormat, Rejection, Result};

pub(super) fn quarantined(
    conn: &Connection,
    after_id: i64,
    limit: usize,
) -> Result<Vec<QuarantinedRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT quarantine_id, received_at, source, position_kind, position, format, header, record_id, field, rule, message, raw
         FROM quarantine WHERE quarantine_id > ?1 ORDER BY quarantine_id LIMIT ?2",
    )?;
    let rows = statement.query_map(
        params![after_id, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            let position: i64 = r.get(4)?;
            let position = u64::try_from(position).unwrap_or(0);
            let position_kind: String = r.get(3)?;
            let format: String = r.get(5)?;
            Ok(QuarantinedRecord {
                quarantine_id: r.get(0)?,
                received_at: Utc
                    .timestamp_millis_opt(r.get(1)?)
                    .single()
                    .unwrap_or_default(),
                rejection: Rejection {
                    source: r.get(2)?,
                    position: if position_kind == "index" {
                        Position::Index(position)
                    } else {
                        Position::Line(position)
                    },
                    format: if format == "csv" {
                        RecordFormat::Csv
                    } else {
                        RecordFormat::Json
                    },
                    header: r.get(6)?,
                    record_id: r.get(7)?,
                    field: r.get(8)?,
                    rule: r.get(9)?,
                    message: r.get(10)?,
                    raw: r.get(11)?,
                },
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn len(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
