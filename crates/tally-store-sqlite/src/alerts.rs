//! Alert rules, states, transition history and delivery attempts in SQLite (migration
//! 14). A state moves by compare-and-set inside an immediate transaction, so of two
//! processes sharing the file exactly one moves it.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, Row, params};
use tally_store::{AlertStateRecord, AlertTransitionRecord, DeliveryAttempt, StoredAlertRule};

use super::SqliteStore;
use crate::Result;

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

fn rule_row(r: &Row<'_>) -> rusqlite::Result<StoredAlertRule> {
    Ok(StoredAlertRule {
        name: r.get(0)?,
        definition: r.get(1)?,
        created_at: instant(r.get(2)?),
        updated_at: instant(r.get(3)?),
    })
}

fn state_row(r: &Row<'_>) -> rusqlite::Result<AlertStateRecord> {
    let notified: Option<i64> = r.get(5)?;
    Ok(AlertStateRecord {
        rule: r.get(0)?,
        status: r.get(1)?,
        since: instant(r.get(2)?),
        last_value: r.get(3)?,
        last_evaluated_at: instant(r.get(4)?),
        last_notified_at: notified.map(instant),
    })
}

fn transition_row(r: &Row<'_>) -> rusqlite::Result<AlertTransitionRecord> {
    let notified: i64 = r.get(8)?;
    Ok(AlertTransitionRecord {
        id: r.get(0)?,
        rule: r.get(1)?,
        event: r.get(2)?,
        at: instant(r.get(3)?),
        value: r.get(4)?,
        threshold: r.get(5)?,
        summary: r.get(6)?,
        project: r.get(7)?,
        notified: notified != 0,
    })
}

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        transition: r.get(0)?,
        channel: r.get(1)?,
        medium: r.get(2)?,
        attempt: r.get(3)?,
        at: instant(r.get(4)?),
        outcome: r.get(5)?,
        detail: r.get(6)?,
    })
}

impl SqliteStore {
    pub(crate) fn alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT name, definition, created_at, updated_at FROM alert_rule ORDER BY name",
        )?;
        let rules = statement
            .query_map([], rule_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rules)
    }

    pub(crate) fn put_alert_rule(&self, rule: &StoredAlertRule) -> Result<()> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO alert_rule (name, definition, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,
                                              updated_at = excluded.updated_at",
            params![
                rule.name,
                rule.definition,
                rule.created_at.timestamp_millis(),
                rule.updated_at.timestamp_millis()
            ],
        )?;
        Ok(())
    }

    pub(crate) fn delete_alert_rule(&self, name: &str) -> Result<bool> {
        let mut writer = self.writer();
        let tx = writer.conn.transaction()?;
        let deleted = tx.execute("DELETE FROM alert_rule WHERE name = ?1", [name])?;
        tx.execute("DELETE FROM alert_state WHERE rule = ?1", [name])?;
        tx.commit()?;
        Ok(deleted > 0)
    }

    pub(crate) fn alert_states(&self) -> Result<Vec<AlertStateRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT rule, status, since, last_value, last_evaluated_at, last_notified_at
             FROM alert_state ORDER BY rule",
        )?;
        let states = statement
            .query_map([], state_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(states)
    }

    pub(crate) fn advance_alert(
        &self,
        expected: Option<&str>,
        state: &AlertStateRecord,
        transition: Option<&AlertTransitionRecord>,
    ) -> Result<Option<i64>> {
        let mut writer = self.writer();
        // Immediate: the write lock is taken before the stored status is read, so
        // another process cannot move the rule in between.
        let tx = writer
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT status FROM alert_state WHERE rule = ?1",
                [&state.rule],
                |r| r.get(0),
            )
            .optional()?;
        if stored.as_deref() != expected {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO alert_state
                 (rule, status, since, last_value, last_evaluated_at, last_notified_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (rule) DO UPDATE SET status = excluded.status,
                 since = excluded.since, last_value = excluded.last_value,
                 last_evaluated_at = excluded.last_evaluated_at,
                 last_notified_at = excluded.last_notified_at",
            params![
                state.rule,
                state.status,
                state.since.timestamp_millis(),
                state.last_value,
                state.last_evaluated_at.timestamp_millis(),
                state.last_notified_at.map(|t| t.timestamp_millis()),
            ],
        )?;
        let id = match transition {
            None => 0,
            Some(t) => {
                tx.execute(
                    "INSERT INTO alert_transition
                         (rule, event, at, value, threshold, summary, project, notified)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        t.rule,
                        t.event,
                        t.at.timestamp_millis(),
                        t.value,
                        t.threshold,
                        t.summary,
                        t.project,
                        i64::from(t.notified),
                    ],
                )?;
                tx.last_insert_rowid()
            }
        };
        tx.commit()?;
        Ok(Some(id))
    }

    pub(crate) fn alert_history(
        &self,
        rule: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AlertTransitionRecord>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT id, rule, event, at, value, threshold, summary, project, notified
             FROM alert_transition
             WHERE (?1 IS NULL OR rule = ?1) AND (?2 IS NULL OR id < ?2)
             ORDER BY id DESC LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let history = statement
            .query_map(params![rule, before_id, limit], transition_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(history)
    }

    pub(crate) fn record_delivery(&self, attempt: &DeliveryAttempt) -> Result<()> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO alert_delivery (transition, channel, medium, attempt, at, outcome, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                attempt.transition,
                attempt.channel,
                attempt.medium,
                attempt.attempt,
                attempt.at.timestamp_millis(),
                attempt.outcome,
                attempt.detail,
            ],
        )?;
        Ok(())
    }

    pub(crate) fn deliveries(&self, transition: i64) -> Result<Vec<DeliveryAttempt>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT transition, channel, medium, attempt, at, outcome, detail
             FROM alert_delivery WHERE transition = ?1 ORDER BY rowid",
        )?;
        let attempts = statement
            .query_map([transition], delivery_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(attempts)
    }
}
