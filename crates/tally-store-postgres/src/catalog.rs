//! Cheap facts about what the database holds: project names, the span of the stored
//! events, and the write-order mark (`seq`, drawn from the sequence every server
//! shares).

use chrono::{DateTime, Utc};
use tally_store::rollup::{ALL_PROJECTS, Family, Resolution};

use crate::retention::RAW_TABLES;
use crate::{Dim, PostgresStore, Result};

impl PostgresStore {
    /// The names of every project that has stored events, sorted: the projects of the
    /// ledger (a dictionary code alone may be left by a write that failed).
    ///
    /// # Errors
    /// Any database failure.
    pub fn project_names(&self) -> Result<Vec<String>> {
        let rows = self.conn()?.query(
            "SELECT d.value FROM tally.dict d
             WHERE d.dim = $1 AND EXISTS (SELECT 1 FROM tally.ledger l WHERE l.project = d.value)
             ORDER BY d.value",
            &[&i16::from(Dim::Project as u8)],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// The months the stored events of `project` (of every project: `None`) span, from
    /// the monthly event counts: the start of the first month, the end of the last.
    ///
    /// # Errors
    /// Any database failure.
    pub fn stored_span(
        &self,
        project: Option<&str>,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        let mut client = self.conn()?;
        let project = match project {
            None => ALL_PROJECTS,
            Some(name) => match self.dict.find(&mut *client, Dim::Project, name)? {
                Some(code) => code,
                None => return Ok(None),
            },
        };
        let row = client.query_one(
            "SELECT min(bucket), max(bucket) FROM tally.rollup
             WHERE family = $1 AND resolution = $2 AND project = $3",
            &[
                &i16::from(Family::Events.code()),
                &(Resolution::Month as i16),
                &project,
            ],
        )?;
        let (first, last): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        Ok(first.zip(last).and_then(|(first, last)| {
            Some((
                DateTime::from_timestamp(first, 0)?,
                DateTime::from_timestamp(Resolution::Month.next(last), 0)?,
            ))
        }))
    }

    /// The `seq` the next event stored (by any server) will get at the earliest: past
    /// the last one stored. A resent event draws a number from the sequence that it
    /// does not keep, so the sequence alone would move on a resend; it is read only when
    /// the ledger is empty.
    ///
    /// # Errors
    /// Any database failure.
    pub fn next_seq(&self) -> Result<i64> {
        let row = self.conn()?.query_one(
            "SELECT (SELECT max(seq) + 1 FROM tally.ledger),
                    (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END
                     FROM tally.event_seq)",
            &[],
        )?;
        let (stored, drawn): (Option<i64>, i64) = (row.get(0), row.get(1));
        Ok(stored.unwrap_or(drawn))
    }

    /// How many events stored with `seq >= from_seq` have a `ts` before `before`.
    ///
    /// # Errors
    /// Any database failure.
    pub fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64> {
        let sql = RAW_TABLES
            .iter()
            .map(|table| {
                format!("(SELECT count(*) FROM tally.{table} WHERE seq >= $1 AND ts < $2)")
            })
            .collect::<Vec<_>>()
            .join(" + ");
        let n: i64 = self
            .conn()?
            .query_one(
                &format!("SELECT {sql}"),
                &[&from_seq, &before.timestamp_millis()],
            )?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
