//! Reading the quarantine back.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, params};

use crate::{Position, QuarantinedRecord, RecordFormat, Rejection, Result};

pub(super) fn quarantined(
    conn: &Connection,
    after_id: i64,
    limit: usize,
) -> Result<Vec<QuarantinedRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT quarantine_id, received_at, source, position_kind, position, format, header, record_id, field, rule, message, raw,
                last_received_at, rejections
         FROM quarantine WHERE quarantine_id > ?1 ORDER BY quarantine_id LIMIT ?2",
    )?;
    let rows = statement.query_map(
        params![after_id, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| {
            let position: i64 = r.get(4)?;
            let position = u64::try_from(position).unwrap_or(0);
            let position_kind: String = r.get(3)?;
            let format: String = r.get(5)?;
            let rejections: i64 = r.get(13)?;
            Ok(QuarantinedRecord {
                quarantine_id: r.get(0)?,
                received_at: from_millis(r.get(1)?),
                last_received_at: from_millis(r.get(12)?),
                rejections: u64::try_from(rejections).unwrap_or(1),
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

fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(super) fn len(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
