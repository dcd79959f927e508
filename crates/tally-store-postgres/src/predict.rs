//! Trained success-predictor models (`tally.predict_model`), numbered in training order
//! by the table's identity column: every server numbers from the same sequence.

use postgres::Row;

use crate::{Error, NewPredictModel, PostgresStore, PredictModelInfo, Result, from_ms, ms};

const COLUMNS: &str =
    "version, created_at, window_from, window_to, n_train, n_holdout, params, metrics";

fn info(row: &Row) -> Result<PredictModelInfo> {
    let version: i64 = row.try_get(0)?;
    let count = |index: usize, field: &str| -> Result<u64> {
        let value: i64 = row.try_get(index)?;
        u64::try_from(value).map_err(|_| {
            Error::Corrupt(format!(
                "predict model {version}: {field}: {value} is negative"
            ))
        })
    };
    Ok(PredictModelInfo {
        version,
        created_at: from_ms(row.try_get(1)?)?,
        window_from: from_ms(row.try_get(2)?)?,
        window_to: from_ms(row.try_get(3)?)?,
        n_train: count(4, "n_train")?,
        n_holdout: count(5, "n_holdout")?,
        params: row.try_get(6)?,
        metrics: row.try_get(7)?,
    })
}

fn signed(value: u64, field: &str) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| Error::Corrupt(format!("predict model {field}: {value} is too large")))
}

impl PostgresStore {
    pub fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64> {
        let row = self.conn()?.query_one(
            "INSERT INTO tally.predict_model
                 (created_at, window_from, window_to, n_train, n_holdout, params, metrics, model)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING version",
            &[
                &ms(model.created_at),
                &ms(model.window_from),
                &ms(model.window_to),
                &signed(model.n_train, "n_train")?,
                &signed(model.n_holdout, "n_holdout")?,
                &model.params,
                &model.metrics,
                &model.model,
            ],
        )?;
        Ok(row.try_get(0)?)
    }

    pub fn predict_models(&self) -> Result<Vec<PredictModelInfo>> {
        let rows = self.conn()?.query(
            &format!("SELECT {COLUMNS} FROM tally.predict_model ORDER BY version"),
            &[],
        )?;
        rows.iter().map(info).collect()
    }

    /// The model `version`, or the latest with `None`.
    pub fn predict_model(
        &self,
        version: Option<i64>,
    ) -> Result<Option<(PredictModelInfo, Vec<u8>)>> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {COLUMNS}, model FROM tally.predict_model
                 WHERE $1::bigint IS NULL OR version = $1
                 ORDER BY version DESC LIMIT 1"
            ),
            &[&version],
        )?;
        row.map(|row| Ok((info(&row)?, row.try_get(8)?)))
            .transpose()
    }
}
