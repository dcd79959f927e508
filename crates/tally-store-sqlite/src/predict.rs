//! The success predictor's reads and model store in SQLite: `skill` rows of a window in
//! time order, per user-and-skill tallies and session starts before it, and the
//! `predict_model` table (migration 6).

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Dim, SqliteStore};
use crate::{
    Error, NewPredictModel, PredictModelInfo, Result, SkillRow, SkillRowsQuery, SkillTally,
};

fn instant(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

/// A count read back from SQLite, where it is signed.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The columns of a `skill` row with its dimensions decoded; `?1`..`?3` are the user,
/// skill and phase dimensions.
const ROW_SELECT: &str = "SELECT k.seq, k.ts, u.value, n.value, k.completed, k.session, p.value
     FROM skill k
     JOIN dict u ON u.dim = ?1 AND u.code = k.user
     JOIN dict n ON n.dim = ?2 AND n.code = k.skill
     LEFT JOIN dict p ON p.dim = ?3 AND p.code = k.phase";

fn skill_row(r: &Row<'_>) -> rusqlite::Result<SkillRow> {
    let completed: i64 = r.get(4)?;
    Ok(SkillRow {
        seq: r.get(0)?,
        ts: instant(r.get(1)?),
        user: r.get(2)?,
        skill: r.get(3)?,
        completed: completed != 0,
        session: r.get(5)?,
        phase: r.get(6)?,
    })
}

impl SqliteStore {
    pub(crate) fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> tally_store::Result<()>,
    ) -> Result<()> {
        let conn = self.reader()?;
        let dims = [Dim::User as u8, Dim::Skill as u8, Dim::Phase as u8];
        let (from, to) = (query.from.timestamp_millis(), query.to.timestamp_millis());
        let Some(user) = query.user else {
            let mut statement = conn.prepare_cached(&format!(
                "{ROW_SELECT}
                 WHERE k.ts >= ?4 AND k.ts < ?5
                 ORDER BY k.ts, k.seq"
            ))?;
            let mut rows = statement.query(params![dims[0], dims[1], dims[2], from, to])?;
            while let Some(row) = rows.next()? {
                visit(skill_row(row)?)?;
            }
            return Ok(());
        };
        // One user: `project IN (...)` lets SQLite walk `skill_by_user` per project; a
        // user's rows are few, so they are merged across projects here.
        let mut statement = conn.prepare_cached(&format!(
            "{ROW_SELECT}
             WHERE k.project IN (SELECT code FROM dict WHERE dim = ?6)
               AND k.user = (SELECT code FROM dict WHERE dim = ?1 AND value = ?7)
               AND k.ts >= ?4 AND k.ts < ?5"
        ))?;
        let mut rows = statement
            .query_map(
                params![
                    dims[0],
                    dims[1],
                    dims[2],
                    from,
                    to,
                    Dim::Project as u8,
                    user
                ],
                skill_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.sort_by_key(|r| (r.ts, r.seq));
        Ok(rows.into_iter().try_for_each(visit)?)
    }

    pub(crate) fn skill_tallies(
        &self,
        before: DateTime<Utc>,
        user: Option<&str>,
    ) -> Result<Vec<SkillTally>> {
        let conn = self.reader()?;
        let select = "SELECT u.value, n.value, COUNT(*), TOTAL(k.completed != 0)
             FROM skill k
             JOIN dict u ON u.dim = ?1 AND u.code = k.user
             JOIN dict n ON n.dim = ?2 AND n.code = k.skill";
        let tally = |r: &Row<'_>| {
            let completed: f64 = r.get(3)?;
            Ok(SkillTally {
                user: r.get(0)?,
                skill: r.get(1)?,
                invocations: count(r.get(2)?),
                completed: completed as u64,
            })
        };
        let (user_dim, skill_dim) = (Dim::User as u8, Dim::Skill as u8);
        let before = before.timestamp_millis();
        let tallies = match user {
            Some(user) => conn
                .prepare_cached(&format!(
                    "{select}
                     WHERE k.project IN (SELECT code FROM dict WHERE dim = ?4)
                       AND k.user = (SELECT code FROM dict WHERE dim = ?1 AND value = ?5)
                       AND k.ts < ?3
                     GROUP BY k.user, k.skill"
                ))?
                .query_map(
                    params![user_dim, skill_dim, before, Dim::Project as u8, user],
                    tally,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            None => conn
                .prepare_cached(&format!(
                    "{select} WHERE k.ts < ?3 GROUP BY k.user, k.skill"
                ))?
                .query_map(params![user_dim, skill_dim, before], tally)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        Ok(tallies)
    }

    pub(crate) fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        let conn = self.reader()?;
        let start = |r: &Row<'_>| Ok((r.get(0)?, instant(r.get(1)?)));
        let before = before.timestamp_millis();
        let starts = match session {
            Some(session) => conn
                .prepare_cached(
                    "SELECT session, MIN(ts) FROM skill
                     WHERE session = ?1 AND ts < ?2
                     GROUP BY session",
                )?
                .query_map(params![session, before], start)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            None => conn
                .prepare_cached(
                    "SELECT session, MIN(ts) FROM skill
                     WHERE ts < ?1 AND session IN (
                         SELECT session FROM skill
                         WHERE ts >= ?1 AND ts < ?2 AND session IS NOT NULL)
                     GROUP BY session",
                )?
                .query_map(params![before, active_until.timestamp_millis()], start)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        Ok(starts)
    }
}

const MODEL_COLUMNS: &str =
    "version, created_at, window_from, window_to, n_train, n_holdout, params, metrics";

fn model_info(r: &Row<'_>) -> rusqlite::Result<PredictModelInfo> {
    Ok(PredictModelInfo {
        version: r.get(0)?,
        created_at: instant(r.get(1)?),
        window_from: instant(r.get(2)?),
        window_to: instant(r.get(3)?),
        n_train: count(r.get(4)?),
        n_holdout: count(r.get(5)?),
        params: r.get(6)?,
        metrics: r.get(7)?,
    })
}

fn signed(value: u64, field: &str) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| Error::Corrupt(format!("predict model {field}: {value} is too large")))
}

impl SqliteStore {
    pub(crate) fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64> {
        let writer = self.writer();
        writer.conn.execute(
            "INSERT INTO predict_model
                 (created_at, window_from, window_to, n_train, n_holdout, params, metrics, model)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                model.created_at.timestamp_millis(),
                model.window_from.timestamp_millis(),
                model.window_to.timestamp_millis(),
                signed(model.n_train, "n_train")?,
                signed(model.n_holdout, "n_holdout")?,
                model.params,
                model.metrics,
                model.model,
            ],
        )?;
        Ok(writer.conn.last_insert_rowid())
    }

    pub(crate) fn predict_models(&self) -> Result<Vec<PredictModelInfo>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {MODEL_COLUMNS} FROM predict_model ORDER BY version"
        ))?;
        let models = statement
            .query_map([], model_info)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(models)
    }

    pub(crate) fn predict_model(
        &self,
        version: Option<i64>,
    ) -> Result<Option<(PredictModelInfo, Vec<u8>)>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {MODEL_COLUMNS}, model FROM predict_model
             WHERE ?1 IS NULL OR version = ?1
             ORDER BY version DESC LIMIT 1"
        ))?;
        let found = statement
            .query_row([version], |r| Ok((model_info(r)?, r.get::<_, Vec<u8>>(8)?)))
            .optional()?;
        Ok(found)
    }
}

#[cfg(test)]
#[path = "predict_tests.rs"]
mod tests;
