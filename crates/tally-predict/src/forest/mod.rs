//! The success predictor: a random forest classifier that outputs P(class 1), as
//! scikit-learn's `RandomForestClassifier` does (bootstrap counts as sample weights, a
//! random feature subset per split, Gini impurity, leaves holding class frequencies,
//! probabilities averaged over trees, impurity-decrease importances).
//!
//! The trees are our own rather than `linfa-trees`: that crate draws no feature subset
//! per split, takes no sample weights (so a bootstrap would have to copy rows), and sorts
//! the node's values at every node. Here each feature is quantised once (`bins.rs`) and a
//! split is found from a histogram of the node's bin codes (`tree.rs`), which is what
//! makes training fast. The linfa traits are implemented over this model (`linfa_traits.rs`).
//!
//! Data are an [`ndarray::ArrayView2`] of rows × features (any memory layout) and one
//! `bool` label per row. A fit is deterministic for a seed whatever the thread count:
//! tree `i` draws from a ChaCha8 stream `i` of the seed, and trees are kept in index order.

mod bins;
pub mod csv;
mod linfa_traits;
mod tree;

#[cfg(test)]
mod tests;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use bins::Binned;
use tree::{GrowParams, Tree};

/// How many features each split draws from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MaxFeatures {
    /// ⌊√features⌋, at least 1 (scikit-learn's classifier default).
    Sqrt,
    /// Every feature (bagged trees).
    All,
    /// Exactly this many (1 ..= features).
    Count(usize),
    /// ⌊fraction × features⌋, at least 1; the fraction in (0, 1].
    Fraction(f64),
}

/// The forest's training parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Trees in the forest (default 100).
    pub n_trees: usize,
    /// Features drawn at each split (default [`MaxFeatures::Sqrt`]).
    pub max_features: MaxFeatures,
    /// Fewest distinct training rows in a leaf (default 5).
    pub min_samples_leaf: usize,
    /// Deepest a leaf may be (root at depth 0); `None` grows until leaves are pure or small.
    pub max_depth: Option<usize>,
    /// Each tree trains on a bootstrap sample (row counts as weights) when true (default).
    pub bootstrap: bool,
    /// Seed of every random draw: bootstrap samples and feature subsets.
    pub seed: u64,
    /// Training threads; 0 uses every core.
    pub threads: usize,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 100,
            max_features: MaxFeatures::Sqrt,
            min_samples_leaf: 5,
            max_depth: None,
            bootstrap: true,
            seed: 0,
            threads: 0,
        }
    }
}

impl ForestParams {
    /// How many features a split draws from, out of `features`.
    fn features_per_split(&self, features: usize) -> Result<usize> {
        let invalid = |message: String| Error::ForestParameter {
            name: "max_features",
            message,
        };
        match self.max_features {
            MaxFeatures::Sqrt => Ok(((features as f64).sqrt() as usize).max(1)),
            MaxFeatures::All => Ok(features),
            MaxFeatures::Count(n) if (1..=features).contains(&n) => Ok(n),
            MaxFeatures::Count(n) => Err(invalid(format!(
                "{n} features per split: expected 1 to {features}"
            ))),
            MaxFeatures::Fraction(f) if f > 0.0 && f <= 1.0 => {
                Ok(((f * features as f64) as usize).max(1))
            }
            MaxFeatures::Fraction(f) => Err(invalid(format!(
                "fraction {f}: expected more than 0 and at most 1"
            ))),
        }
    }

    fn check(&self) -> Result<()> {
        if self.n_trees == 0 {
            return Err(Error::ForestParameter {
                name: "n_trees",
                message: "0 trees: expected at least 1".into(),
            });
        }
        if self.min_samples_leaf == 0 {
            return Err(Error::ForestParameter {
                name: "min_samples_leaf",
                message: "0: expected at least 1".into(),
            });
        }
        Ok(())
    }

    /// Threads to train with: `threads`, or every core for 0, never more than trees.
    fn thread_count(&self) -> usize {
        let threads = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            self.threads
        };
        threads.clamp(1, self.n_trees)
    }
}

/// A trained forest. Serialize it with any serde format to store it; a stored model is
/// checked when it is read back (tree structure and feature counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredForest")]
pub struct RandomForest {
    params: ForestParams,
    feature_names: Vec<String>,
    n_features: usize,
    importances: Vec<f64>,
    trees: Vec<Tree>,
}

/// The serialized form, validated into a [`RandomForest`].
#[derive(Deserialize)]
struct StoredForest {
    params: ForestParams,
    feature_names: Vec<String>,
    n_features: usize,
    importances: Vec<f64>,
    trees: Vec<Tree>,
}

impl TryFrom<StoredForest> for RandomForest {
    type Error = String;

    fn try_from(stored: StoredForest) -> std::result::Result<Self, String> {
        let features = stored.n_features;
        if stored.feature_names.len() != features || stored.importances.len() != features {
            return Err(format!(
                "{} feature names and {} importances for {features} features",
                stored.feature_names.len(),
                stored.importances.len()
            ));
        }
        if stored.trees.is_empty() {
            return Err("a forest without trees".into());
        }
        for (i, tree) in stored.trees.iter().enumerate() {
            if !tree.is_well_formed() || tree.max_feature().is_some_and(|f| f >= features) {
                return Err(format!("tree {i} is malformed"));
            }
        }
        Ok(RandomForest {
            params: stored.params,
            feature_names: stored.feature_names,
            n_features: features,
            importances: stored.importances,
            trees: stored.trees,
        })
    }
}

impl RandomForest {
    /// Trains a forest on `x` (rows × features, any layout) and one label per row.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without rows or features, [`Error::LengthMismatch`] when `y`
    /// has not one label per row, [`Error::OneClass`] when every label is the same,
    /// [`Error::NonFinite`] naming the first NaN or infinite value's row and column (0-based),
    /// [`Error::ForestParameter`] for parameters out of range.
    pub fn fit(params: &ForestParams, x: &ArrayView2<'_, f64>, y: &[bool]) -> Result<RandomForest> {
        params.check()?;
        let (rows, features) = x.dim();
        if rows == 0 || features == 0 {
            return Err(Error::EmptyInput);
        }
        if y.len() != rows {
            return Err(Error::LengthMismatch {
                what: "labels",
                expected: rows,
                got: y.len(),
            });
        }
        if u32::try_from(rows).is_err() {
            return Err(Error::LengthMismatch {
                what: "training rows",
                expected: u32::MAX as usize,
                got: rows,
            });
        }
        if let Some(&first) = y.first()
            && y.iter().all(|&label| label == first)
        {
            return Err(Error::OneClass(first));
        }
        check_finite(x)?;
        let grow = GrowParams {
            max_features: params.features_per_split(features)?,
            min_samples_leaf: params.min_samples_leaf,
            max_depth: params.max_depth,
            bootstrap: params.bootstrap,
        };
        let binned = Binned::new(x);
        let grown = grow_trees(params, &binned, y, grow);
        let mut importances = vec![0.0; features];
        let mut contributing = 0usize;
        for (_, tree_importances) in &grown {
            let total: f64 = tree_importances.iter().sum();
            if total > 0.0 {
                contributing += 1;
                for (sum, value) in importances.iter_mut().zip(tree_importances) {
                    *sum += value / total;
                }
            }
        }
        if contributing > 0 {
            let total: f64 = importances.iter().sum();
            for value in &mut importances {
                *value /= total;
            }
        }
        Ok(RandomForest {
            params: params.clone(),
            feature_names: (0..features).map(|i| format!("x{i}")).collect(),
            n_features: features,
            importances,
            trees: grown.into_iter().map(|(tree, _)| tree).collect(),
        })
    }

    /// Names the feature columns (for reports and stored models).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one name per feature.
    pub fn with_feature_names<S: AsRef<str>>(mut self, names: &[S]) -> Result<RandomForest> {
        if names.len() != self.n_features {
            return Err(Error::LengthMismatch {
                what: "feature names",
                expected: self.n_features,
                got: names.len(),
            });
        }
        self.feature_names = names.iter().map(|n| n.as_ref().to_owned()).collect();
        Ok(self)
    }

    /// P(class 1) for one row of raw feature values: the mean over trees of the class-1
    /// frequency of the leaf the row reaches. A NaN value takes the right branch.
    ///
    /// # Panics
    /// When `row` is shorter than [`RandomForest::n_features`]; check widths of untrusted
    /// input with [`RandomForest::check_rows`].
    pub fn predict_proba_row(&self, row: &[f64]) -> f64 {
        assert!(
            row.len() >= self.n_features,
            "a row of {} values for a forest of {} features",
            row.len(),
            self.n_features
        );
        let sum: f64 = self.trees.iter().map(|tree| tree.predict(row)).sum();
        sum / self.trees.len() as f64
    }

    /// P(class 1) for every row of `x`, in order; equal to [`RandomForest::predict_proba_row`]
    /// on each row. Uses every core for large inputs.
    ///
    /// # Panics
    /// When `x` has fewer columns than [`RandomForest::n_features`].
    pub fn predict_proba(&self, x: &ArrayView2<'_, f64>) -> Vec<f64> {
        assert!(
            x.ncols() >= self.n_features,
            "rows of {} values for a forest of {} features",
            x.ncols(),
            self.n_features
        );
        let rows = x.nrows();
        let mut out = vec![0.0; rows];
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = rows.div_ceil(threads).max(1024);
        if rows <= chunk {
            self.predict_chunk(x, 0, &mut out);
            return out;
        }
        std::thread::scope(|scope| {
            for (index, part) in out.chunks_mut(chunk).enumerate() {
                let first = index * chunk;
                scope.spawn(move || self.predict_chunk(x, first, part));
            }
        });
        out
    }

    /// Fills `out` with the probabilities of rows `first..first + out.len()`, tree by tree
    /// (so each tree stays in cache), summing in the same order as `predict_proba_row`.
    fn predict_chunk(&self, x: &ArrayView2<'_, f64>, first: usize, out: &mut [f64]) {
        let width = self.n_features;
        let mut rows = vec![0.0; out.len() * width];
        for (i, values) in rows.chunks_mut(width).enumerate() {
            for (value, &source) in values.iter_mut().zip(x.row(first + i).iter()) {
                *value = source;
            }
        }
        for tree in &self.trees {
            for (sum, row) in out.iter_mut().zip(rows.chunks(width)) {
                *sum += tree.predict(row);
            }
        }
        let trees = self.trees.len() as f64;
        for sum in out {
            *sum /= trees;
        }
    }

    /// Checks rows before prediction: at least [`RandomForest::n_features`] columns and
    /// finite values.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for too few columns, [`Error::NonFinite`] naming the
    /// first NaN or infinite value.
    pub fn check_rows(&self, x: &ArrayView2<'_, f64>) -> Result<()> {
        if x.ncols() < self.n_features {
            return Err(Error::LengthMismatch {
                what: "feature columns",
                expected: self.n_features,
                got: x.ncols(),
            });
        }
        let mut columns = x.view();
        columns.slice_axis_inplace(ndarray::Axis(1), ndarray::Slice::from(..self.n_features));
        check_finite(&columns)
    }

    /// Mean decrease in impurity per feature, normalised to sum to 1 (each tree's
    /// decreases normalised, averaged over trees, normalised again, as scikit-learn's
    /// `feature_importances_`); all zero when no tree split.
    pub fn feature_importances(&self) -> &[f64] {
        &self.importances
    }

    /// The parameters it was trained with.
    pub fn params(&self) -> &ForestParams {
        &self.params
    }

    /// One name per feature column: `x0`, `x1`, … unless set with
    /// [`RandomForest::with_feature_names`] (or by a linfa dataset's names).
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Columns a row must have.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Trees in the forest.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Nodes over all trees (the model's size).
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(Tree::len).sum()
    }
}

/// The first non-finite value of `x`, as an error naming its row and column.
fn check_finite(x: &ArrayView2<'_, f64>) -> Result<()> {
    for (row, values) in x.rows().into_iter().enumerate() {
        if let Some((column, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { row, column, value });
        }
    }
    Ok(())
}

/// Grows every tree on `params.thread_count()` threads; tree `i` uses stream `i` of the
/// seed, so the result does not depend on which thread grew which tree.
fn grow_trees(
    params: &ForestParams,
    binned: &Binned,
    y: &[bool],
    grow: GrowParams,
) -> Vec<(Tree, Vec<f64>)> {
    let next = AtomicUsize::new(0);
    let grown: Mutex<Vec<Option<(Tree, Vec<f64>)>>> = Mutex::new(vec![None; params.n_trees]);
    std::thread::scope(|scope| {
        for _ in 0..params.thread_count() {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= params.n_trees {
                        break;
                    }
                    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
                    rng.set_stream(index as u64);
                    let result = tree::grow(binned, y, grow, &mut rng);
                    // A poisoned lock means another tree's thread panicked; the scope
                    // re-raises that panic, so this value is never used.
                    if let Ok(mut slots) = grown.lock() {
                        slots[index] = Some(result);
                    }
                }
            });
        }
    });
    grown
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}
