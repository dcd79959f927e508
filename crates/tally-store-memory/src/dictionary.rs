//! Small codes for dimension values, as the SQLite store's dictionary hands them out:
//! per dimension, 1, 2, ... in first-seen order. Rollup keys and facet values are codes.

use std::collections::HashMap;

use tally_store::rollup_fold::Codes;
use tally_store::{DIMS, Dim, Result};

#[derive(Debug)]
pub(crate) struct Dictionary {
    codes: Vec<HashMap<String, i64>>,
    /// Per dimension, the value of code `i + 1` at `i`.
    values: Vec<Vec<String>>,
}

impl Default for Dictionary {
    fn default() -> Self {
        Dictionary {
            codes: vec![HashMap::new(); DIMS],
            values: vec![Vec::new(); DIMS],
        }
    }
}

impl Dictionary {
    /// The code of `value`, the next free one when it is new.
    pub(crate) fn assign(&mut self, dim: Dim, value: &str) -> i64 {
        if let Some(&code) = self.codes[dim as usize].get(value) {
            return code;
        }
        let values = &mut self.values[dim as usize];
        values.push(value.to_owned());
        let code = values.len() as i64;
        self.codes[dim as usize].insert(value.to_owned(), code);
        code
    }

    /// The code of `value`, if it was ever stored.
    pub(crate) fn get(&self, dim: Dim, value: &str) -> Option<i64> {
        self.codes[dim as usize].get(value).copied()
    }

    /// The value of `code`.
    pub(crate) fn name(&self, dim: Dim, code: i64) -> Option<&str> {
        let index = usize::try_from(code).ok()?.checked_sub(1)?;
        self.values[dim as usize].get(index).map(String::as_str)
    }

    /// Every value of `dim`, in code order.
    pub(crate) fn values(&self, dim: Dim) -> &[String] {
        &self.values[dim as usize]
    }
}

impl Codes for Dictionary {
    fn code(&mut self, dim: Dim, value: &str) -> Result<i64> {
        Ok(self.assign(dim, value))
    }
}
