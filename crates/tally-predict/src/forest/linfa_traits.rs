//! The forest behind linfa's traits: [`Fit`] on [`ForestParams`] for a dataset of `f64`
//! records and `bool` targets, and [`PredictInplace`] giving P(class 1) per row (so
//! `model.predict(&records)` returns an `Array1<f64>` of probabilities; threshold it for
//! classes).

use linfa::DatasetBase;
use linfa::dataset::AsSingleTargets;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, ArrayBase, Data, Ix2};

use super::{ForestParams, RandomForest};
use crate::Error;

impl<D, T> Fit<ArrayBase<D, Ix2>, T, Error> for ForestParams
where
    D: Data<Elem = f64>,
    T: AsSingleTargets<Elem = bool>,
{
    type Object = RandomForest;

    /// [`RandomForest::fit`] on the dataset's records and targets; the dataset's feature
    /// names, when it has one per column, name the model's features.
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<RandomForest, Error> {
        let targets = dataset.as_single_targets();
        let labels: Vec<bool> = targets.iter().copied().collect();
        let forest = RandomForest::fit(self, &dataset.records().view(), &labels)?;
        let names = dataset.feature_names();
        if names.len() == forest.n_features() {
            forest.with_feature_names(names)
        } else {
            Ok(forest)
        }
    }
}

impl<D> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for RandomForest
where
    D: Data<Elem = f64>,
{
    /// Writes P(class 1) of each row into `y`.
    ///
    /// # Panics
    /// When `y` has not one entry per row, or rows have fewer than `n_features` columns.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        assert_eq!(x.nrows(), y.len(), "one target per record");
        for (target, p) in y.iter_mut().zip(self.predict_proba(&x.view())) {
            *target = p;
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}
