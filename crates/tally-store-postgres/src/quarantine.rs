//! Reading the quarantine back, in arrival order.

use crate::{
    Error, Position, PostgresStore, QuarantinedRecord, RecordFormat, Rejection, Result, from_ms,
};

impl PostgresStore {
    /// Quarantined records after `after_id`, at most `limit`, in arrival order.
    ///
    /// # Errors
    /// Any database failure.
    pub fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>> {
        let rows = self.conn()?.query(
            "SELECT quarantine_id, received_at, last_received_at, rejections, source,
                    position_kind, position, format, header, record_id, field, rule, message, raw
             FROM tally.quarantine WHERE quarantine_id > $1 ORDER BY quarantine_id LIMIT $2",
            &[&after_id, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        rows.iter()
            .map(|r| {
                let quarantine_id: i64 = r.get(0);
                let position = u64::try_from(r.get::<_, i64>(6)).map_err(|_| {
                    Error::Corrupt(format!(
                        "quarantine entry {quarantine_id}: negative position"
                    ))
                })?;
                let position_kind: &str = r.get(5);
                let format: &str = r.get(7);
                Ok(QuarantinedRecord {
                    quarantine_id,
                    received_at: from_ms(r.get(1))?,
                    last_received_at: from_ms(r.get(2))?,
                    rejections: u64::try_from(r.get::<_, i64>(3)).unwrap_or(1),
                    rejection: Rejection {
                        source: r.get(4),
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
                        header: r.get(8),
                        record_id: r.get(9),
                        field: r.get(10),
                        rule: r.get(11),
                        message: r.get(12),
                        raw: r.get(13),
                    },
                })
            })
            .collect()
    }

    /// How many records wait in quarantine.
    ///
    /// # Errors
    /// Any database failure.
    pub fn quarantine_len(&self) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT count(*) FROM tally.quarantine", &[])?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
