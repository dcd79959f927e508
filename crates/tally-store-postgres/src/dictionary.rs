//! The dictionary: low-cardinality strings (projects, tools, models...) as the small
//! codes the rollup and state tables are keyed by. Codes are assigned by the database
//! (`tally.dict`), so every server sharing it uses the same ones, and never change, so
//! each server caches them for good. New codes are assigned in their own committed
//! statement, before the write that uses them: a code is never lost with a rolled-back
//! write, and no write waits on another's dictionary insert.

use std::sync::{Mutex, PoisonError};

use postgres::GenericClient;
use rustc_hash::FxHashMap;
use tally_store::Dim;

use crate::Result;

/// The codes this server has seen, both ways.
#[derive(Debug, Default)]
pub(crate) struct Dictionary {
    inner: Mutex<Codes>,
}

#[derive(Debug, Default)]
struct Codes {
    by_value: FxHashMap<(u8, String), i64>,
    by_code: FxHashMap<i64, String>,
}

impl Dictionary {
    /// The codes of `values` (assigned in the database when new), in their order.
    ///
    /// # Errors
    /// The database could not assign or read the codes.
    pub(crate) fn codes(
        &self,
        client: &mut impl GenericClient,
        values: &[(Dim, &str)],
    ) -> Result<Vec<i64>> {
        let missing: Vec<(i16, String)> = {
            let codes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            values
                .iter()
                .filter(|(dim, value)| {
                    !codes
                        .by_value
                        .contains_key(&(*dim as u8, (*value).to_owned()))
                })
                .map(|(dim, value)| (i16::from(*dim as u8), (*value).to_owned()))
                .collect()
        };
        if !missing.is_empty() {
            let (dims, names): (Vec<i16>, Vec<String>) = missing.into_iter().unzip();
            client.execute(
                "INSERT INTO tally.dict (dim, value)
                 SELECT * FROM unnest($1::smallint[], $2::text[])
                 ON CONFLICT DO NOTHING",
                &[&dims, &names],
            )?;
            let rows = client.query(
                "SELECT d.dim, d.value, d.code FROM tally.dict d
                 JOIN unnest($1::smallint[], $2::text[]) AS v(dim, value)
                   ON d.dim = v.dim AND d.value = v.value",
                &[&dims, &names],
            )?;
            let mut codes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            for row in rows {
                let dim: i16 = row.get(0);
                let value: String = row.get(1);
                let code: i64 = row.get(2);
                codes.by_code.insert(code, value.clone());
                codes.by_value.insert((dim as u8, value), code);
            }
        }
        let codes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        values
            .iter()
            .map(|(dim, value)| {
                codes
                    .by_value
                    .get(&(*dim as u8, (*value).to_owned()))
                    .copied()
                    .ok_or_else(|| {
                        crate::Error::Corrupt(format!("no dictionary code for {dim:?} {value:?}"))
                    })
            })
            .collect()
    }

    /// The code of `value`, if one was ever assigned (a read never assigns one).
    ///
    /// # Errors
    /// The database could not be read.
    pub(crate) fn find(
        &self,
        client: &mut impl GenericClient,
        dim: Dim,
        value: &str,
    ) -> Result<Option<i64>> {
        let key = (dim as u8, value.to_owned());
        if let Some(code) = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_value
            .get(&key)
        {
            return Ok(Some(*code));
        }
        let row = client.query_opt(
            "SELECT code FROM tally.dict WHERE dim = $1 AND value = $2",
            &[&i16::from(dim as u8), &value],
        )?;
        let Some(row) = row else { return Ok(None) };
        let code: i64 = row.get(0);
        let mut codes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        codes.by_code.insert(code, key.1.clone());
        codes.by_value.insert(key, code);
        Ok(Some(code))
    }

    /// The value of each of `codes` (`None` for 0 and unknown codes), reading the ones
    /// this server has not seen.
    ///
    /// # Errors
    /// The database could not be read.
    pub(crate) fn names(
        &self,
        client: &mut impl GenericClient,
        codes: &[i64],
    ) -> Result<Vec<Option<String>>> {
        let unseen: Vec<i64> = {
            let known = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            codes
                .iter()
                .copied()
                .filter(|c| *c != 0 && !known.by_code.contains_key(c))
                .collect()
        };
        if !unseen.is_empty() {
            let rows = client.query(
                "SELECT dim, value, code FROM tally.dict WHERE code = ANY($1)",
                &[&unseen],
            )?;
            let mut known = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            for row in rows {
                let dim: i16 = row.get(0);
                let value: String = row.get(1);
                let code: i64 = row.get(2);
                known.by_code.insert(code, value.clone());
                known.by_value.insert((dim as u8, value), code);
            }
        }
        let known = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(codes
            .iter()
            .map(|c| known.by_code.get(c).cloned())
            .collect())
    }
}
