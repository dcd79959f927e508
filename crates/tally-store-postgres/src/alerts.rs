//! Alert rules, states, transition history and delivery attempts (migration 2). A state
//! moves by compare-and-set: `UPDATE ... WHERE status = expected`, or an insert that
//! does nothing when a row exists, with its transition in the same transaction. Under
//! read committed the second of two servers waits on the row lock, then finds the
//! status moved (or the row there) and changes nothing.

use postgres::Row;

use crate::{
    AlertStateRecord, AlertTransitionRecord, DeliveryAttempt, Error, PostgresStore, Result,
    StoredAlertRule, from_ms, ms,
};

fn rule_row(row: &Row) -> Result<StoredAlertRule> {
    Ok(StoredAlertRule {
        name: row.try_get(0)?,
        definition: row.try_get(1)?,
        created_at: from_ms(row.try_get(2)?)?,
        updated_at: from_ms(row.try_get(3)?)?,
    })
}

fn state_row(row: &Row) -> Result<AlertStateRecord> {
    let notified: Option<i64> = row.try_get(5)?;
    Ok(AlertStateRecord {
        rule: row.try_get(0)?,
        status: row.try_get(1)?,
        since: from_ms(row.try_get(2)?)?,
        last_value: row.try_get(3)?,
        last_evaluated_at: from_ms(row.try_get(4)?)?,
        last_notified_at: notified.map(from_ms).transpose()?,
    })
}

fn transition_row(row: &Row) -> Result<AlertTransitionRecord> {
    Ok(AlertTransitionRecord {
        id: row.try_get(0)?,
        rule: row.try_get(1)?,
        event: row.try_get(2)?,
        at: from_ms(row.try_get(3)?)?,
        value: row.try_get(4)?,
        threshold: row.try_get(5)?,
        summary: row.try_get(6)?,
        project: row.try_get(7)?,
        notified: row.try_get(8)?,
    })
}

fn delivery_row(row: &Row) -> Result<DeliveryAttempt> {
    let attempt: i32 = row.try_get(3)?;
    Ok(DeliveryAttempt {
        transition: row.try_get(0)?,
        channel: row.try_get(1)?,
        medium: row.try_get(2)?,
        attempt: u32::try_from(attempt)
            .map_err(|_| Error::Corrupt(format!("alert_delivery: attempt {attempt}")))?,
        at: from_ms(row.try_get(4)?)?,
        outcome: row.try_get(5)?,
        detail: row.try_get(6)?,
    })
}

impl PostgresStore {
    pub fn alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        let rows = self.conn()?.query(
            "SELECT name, definition, created_at, updated_at FROM tally.alert_rule ORDER BY name",
            &[],
        )?;
        rows.iter().map(rule_row).collect()
    }

    pub fn put_alert_rule(&self, rule: &StoredAlertRule) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO tally.alert_rule (name, definition, created_at, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,
                                              updated_at = excluded.updated_at",
            &[
                &rule.name,
                &rule.definition,
                &ms(rule.created_at),
                &ms(rule.updated_at),
            ],
        )?;
        Ok(())
    }

    pub fn delete_alert_rule(&self, name: &str) -> Result<bool> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        let deleted = tx.execute("DELETE FROM tally.alert_rule WHERE name = $1", &[&name])?;
        tx.execute("DELETE FROM tally.alert_state WHERE rule = $1", &[&name])?;
        tx.commit()?;
        Ok(deleted > 0)
    }

    pub fn alert_states(&self) -> Result<Vec<AlertStateRecord>> {
        let rows = self.conn()?.query(
            "SELECT rule, status, since, last_value, last_evaluated_at, last_notified_at
             FROM tally.alert_state ORDER BY rule",
            &[],
        )?;
        rows.iter().map(state_row).collect()
    }

    pub fn advance_alert(
        &self,
        expected: Option<&str>,
        state: &AlertStateRecord,
        transition: Option<&AlertTransitionRecord>,
    ) -> Result<Option<i64>> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        let notified = state.last_notified_at.map(ms);
        let moved = match expected {
            None => tx.execute(
                "INSERT INTO tally.alert_state
                     (rule, status, since, last_value, last_evaluated_at, last_notified_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (rule) DO NOTHING",
                &[
                    &state.rule,
                    &state.status,
                    &ms(state.since),
                    &state.last_value,
                    &ms(state.last_evaluated_at),
                    &notified,
                ],
            )?,
            Some(expected) => tx.execute(
                "UPDATE tally.alert_state
                 SET status = $2, since = $3, last_value = $4, last_evaluated_at = $5,
                     last_notified_at = $6
                 WHERE rule = $1 AND status = $7",
                &[
                    &state.rule,
                    &state.status,
                    &ms(state.since),
                    &state.last_value,
                    &ms(state.last_evaluated_at),
                    &notified,
                    &expected,
                ],
            )?,
        };
        if moved != 1 {
            return Ok(None);
        }
        let id = match transition {
            None => 0,
            Some(t) => tx
                .query_one(
                    "INSERT INTO tally.alert_transition
                         (rule, event, at, value, threshold, summary, project, notified)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     RETURNING id",
                    &[
                        &t.rule,
                        &t.event,
                        &ms(t.at),
                        &t.value,
                        &t.threshold,
                        &t.summary,
                        &t.project,
                        &t.notified,
                    ],
                )?
                .try_get(0)?,
        };
        tx.commit()?;
        Ok(Some(id))
    }

    pub fn alert_history(
        &self,
        rule: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AlertTransitionRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            "SELECT id, rule, event, at, value, threshold, summary, project, notified
             FROM tally.alert_transition
             WHERE ($1::text IS NULL OR rule = $1) AND ($2::bigint IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
            &[&rule, &before_id, &limit],
        )?;
        rows.iter().map(transition_row).collect()
    }

    pub fn record_delivery(&self, attempt: &DeliveryAttempt) -> Result<()> {
        let number = i32::try_from(attempt.attempt)
            .map_err(|_| Error::Corrupt(format!("alert_delivery: attempt {}", attempt.attempt)))?;
        self.conn()?.execute(
            "INSERT INTO tally.alert_delivery
                 (transition, channel, medium, attempt, at, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &attempt.transition,
                &attempt.channel,
                &attempt.medium,
                &number,
                &ms(attempt.at),
                &attempt.outcome,
                &attempt.detail,
            ],
        )?;
        Ok(())
    }

    pub fn deliveries(&self, transition: i64) -> Result<Vec<DeliveryAttempt>> {
        let rows = self.conn()?.query(
            "SELECT transition, channel, medium, attempt, at, outcome, detail
             FROM tally.alert_delivery WHERE transition = $1 ORDER BY id",
            &[&transition],
        )?;
        rows.iter().map(delivery_row).collect()
    }
}
