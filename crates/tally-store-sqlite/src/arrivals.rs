//! What arrived since a point in the write order: the `seq` mark before a write, and
//! how many of the events stored after it are older than an instant (records that a
//! configured retention will delete at its next run).

use rusqlite::{Connection, params};

use super::execution_block;
use super::schema::RAW_TABLES;
use crate::Result;

/// The `seq` the next stored event will get.
pub(super) fn next_seq(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
            r.get(0)
        })?,
    )
}

/// Events stored with `seq >= from_seq` whose `ts` (epoch ms) is before `before`.
pub(super) fn stored_before(conn: &Connection, from_seq: i64, before: i64) -> Result<u64> {
    let mut count = 0u64;
    for table in RAW_TABLES {
        let n: i64 = conn.query_row(
            &format!("SELECT count(*) FROM {table} WHERE seq >= ?1 AND ts < ?2"),
            params![from_seq, before],
            |r| r.get(0),
        )?;
        count += u64::try_from(n).unwrap_or(0);
    }
    count += execution_block::count_since_before(conn, from_seq, before)?;
    Ok(count)
}
