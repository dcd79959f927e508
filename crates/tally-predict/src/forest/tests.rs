//! The forest's unit tests: determinism, input errors, separable data, importances,
//! probabilities, stored models, the linfa traits and the feature CSV.

use ndarray::{Array1, Array2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::csv::{FEATURE_NAMES, read_feature_csv};
use super::*;
use crate::quality::roc_auc;

/// `rows` rows of `features` uniform features; the label is noisy in feature 0 only.
fn noisy(rows: usize, features: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((rows, features), |_| rng.random::<f64>());
    let y = x
        .rows()
        .into_iter()
        .map(|row| rng.random::<f64>() < 0.15 + 0.7 * row[0])
        .collect();
    (x, y)
}

fn params(n_trees: usize, seed: u64, threads: usize) -> ForestParams {
    ForestParams {
        n_trees,
        seed,
        threads,
        ..ForestParams::default()
    }
}

#[test]
fn a_seed_gives_the_same_forest_on_any_number_of_threads() {
    let (x, y) = noisy(2_000, 5, 1);
    let one = RandomForest::fit(&params(12, 7, 1), &x.view(), &y).unwrap();
    for threads in [2, 3, 0] {
        let other = RandomForest::fit(&params(12, 7, threads), &x.view(), &y).unwrap();
        assert_eq!(one.trees, other.trees, "{threads} threads");
        assert_eq!(one.importances, other.importances, "{threads} threads");
    }
    let reseeded = RandomForest::fit(&params(12, 8, 1), &x.view(), &y).unwrap();
    assert_ne!(one.trees, reseeded.trees);
}

#[test]
fn bad_input_is_an_error_naming_what_is_wrong() {
    let (x, y) = noisy(50, 3, 2);
    let p = ForestParams::default();
    let fit = |x: &Array2<f64>, y: &[bool], p: &ForestParams| RandomForest::fit(p, &x.view(), y);

    assert!(matches!(
        fit(&x, &[true; 50], &p),
        Err(Error::OneClass(true))
    ));
    assert!(matches!(
        fit(&x, &y[..49], &p),
        Err(Error::LengthMismatch {
            expected: 50,
            got: 49,
            ..
        })
    ));
    assert!(matches!(
        fit(&Array2::zeros((0, 3)), &[], &p),
        Err(Error::EmptyInput)
    ));

    let mut bad = x.clone();
    bad[[17, 2]] = f64::NAN;
    let error = fit(&bad, &y, &p).unwrap_err();
    assert!(
        matches!(
            error,
            Error::NonFinite {
                row: 17,
                column: 2,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "row 17, column 2 is NaN: expected a finite number"
    );
    bad[[17, 2]] = 0.5;
    bad[[3, 0]] = f64::INFINITY;
    assert!(matches!(
        fit(&bad, &y, &p),
        Err(Error::NonFinite {
            row: 3,
            column: 0,
            ..
        })
    ));

    for (bad_params, name) in [
        (
            ForestParams {
                n_trees: 0,
                ..p.clone()
            },
            "n_trees",
        ),
        (
            ForestParams {
                min_samples_leaf: 0,
                ..p.clone()
            },
            "min_samples_leaf",
        ),
        (
            ForestParams {
                max_features: MaxFeatures::Count(4),
                ..p.clone()
            },
            "max_features",
        ),
        (
            ForestParams {
                max_features: MaxFeatures::Fraction(0.0),
                ..p.clone()
            },
            "max_features",
        ),
    ] {
        let error = fit(&x, &y, &bad_params).unwrap_err();
        assert!(
            matches!(error, Error::ForestParameter { name: n, .. } if n == name),
            "{error}"
        );
    }
}

#[test]
fn separable_data_is_ranked_perfectly() {
    // Label = feature 1 > 0.5; features 0 and 2 are noise.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = Array2::from_shape_fn((600, 3), |_| rng.random::<f64>());
    let y: Vec<bool> = x.column(1).iter().map(|&v| v > 0.5).collect();
    let forest = RandomForest::fit(&params(30, 1, 0), &x.view(), &y).unwrap();
    let test = Array2::from_shape_fn((400, 3), |_| rng.random::<f64>());
    let truth: Vec<bool> = test.column(1).iter().map(|&v| v > 0.5).collect();
    let p = forest.predict_proba(&test.view());
    let auc = roc_auc(&truth, &p).unwrap();
    assert!(auc > 0.999, "AUC {auc}");
    assert_eq!(roc_auc(&y, &forest.predict_proba(&x.view())), Some(1.0));
}

#[test]
fn importances_sum_to_one_and_rank_the_informative_feature_first() {
    let (x, y) = noisy(3_000, 4, 4);
    let forest = RandomForest::fit(&params(40, 2, 0), &x.view(), &y).unwrap();
    let importances = forest.feature_importances();
    assert_eq!(importances.len(), 4);
    assert!((importances.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let best = (0..4).max_by(|&a, &b| importances[a].total_cmp(&importances[b]));
    assert_eq!(best, Some(0), "{importances:?}");
}

#[test]
fn min_samples_leaf_and_max_depth_bound_the_trees() {
    let (x, y) = noisy(1_000, 3, 5);
    let shallow = ForestParams {
        max_depth: Some(1),
        ..params(5, 1, 1)
    };
    let forest = RandomForest::fit(&shallow, &x.view(), &y).unwrap();
    assert!(forest.trees.iter().all(|tree| tree.len() <= 3));
    // 1,000 rows in leaves of at least 400: at most two leaves.
    let big_leaves = ForestParams {
        min_samples_leaf: 400,
        bootstrap: false,
        ..params(3, 1, 1)
    };
    let forest = RandomForest::fit(&big_leaves, &x.view(), &y).unwrap();
    assert!(
        forest.trees.iter().all(|tree| tree.len() <= 3),
        "{}",
        forest.n_nodes()
    );
}

#[test]
fn a_stored_model_reads_back_equal_and_a_damaged_one_is_refused() {
    let (x, y) = noisy(500, 3, 6);
    let forest = RandomForest::fit(&params(5, 1, 0), &x.view(), &y)
        .unwrap()
        .with_feature_names(&["a", "b", "c"])
        .unwrap();
    let json = serde_json::to_string(&forest).unwrap();
    let back: RandomForest = serde_json::from_str(&json).unwrap();
    // Exact: serde_json is built with `float_roundtrip`.
    assert_eq!(back, forest);
    assert_eq!(back.feature_names(), ["a", "b", "c"]);

    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["trees"][0]["nodes"][0][1] = 0.into();
    let damaged = serde_json::from_value::<RandomForest>(value).unwrap_err();
    assert!(
        damaged.to_string().contains("tree 0 is malformed"),
        "{damaged}"
    );
    assert!(forest.clone().with_feature_names(&["a"]).is_err());
}

#[test]
fn linfa_fit_and_predict_give_the_forest_and_its_probabilities() {
    use linfa::traits::{Fit, Predict};
    let (x, y) = noisy(800, 3, 7);
    let p = params(10, 3, 0);
    let dataset = linfa::Dataset::new(x.clone(), Array1::from(y.clone()))
        .with_feature_names(vec!["u", "v", "w"]);
    let model = p.fit(&dataset).unwrap();
    assert_eq!(model.feature_names(), ["u", "v", "w"]);
    let direct = RandomForest::fit(&p, &x.view(), &y).unwrap();
    let predicted: Array1<f64> = model.predict(&x);
    assert_eq!(predicted.to_vec(), direct.predict_proba(&x.view()));
}

#[test]
fn check_rows_refuses_narrow_or_non_finite_rows() {
    let (x, y) = noisy(200, 3, 8);
    let forest = RandomForest::fit(&params(3, 1, 0), &x.view(), &y).unwrap();
    assert!(forest.check_rows(&x.view()).is_ok());
    let narrow = Array2::<f64>::zeros((2, 2));
    assert!(matches!(
        forest.check_rows(&narrow.view()),
        Err(Error::LengthMismatch { .. })
    ));
    let mut bad = x.clone();
    bad[[5, 1]] = f64::NEG_INFINITY;
    assert!(matches!(
        forest.check_rows(&bad.view()),
        Err(Error::NonFinite {
            row: 5,
            column: 1,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Probabilities are in [0, 1], and the batch equals row-by-row prediction exactly.
    #[test]
    fn probabilities_are_in_range_and_batch_equals_rows(
        rows in 10usize..200,
        features in 1usize..5,
        seed in 0u64..1_000,
        leaf in 1usize..8,
        bootstrap in any::<bool>(),
    ) {
        let (x, mut y) = noisy(rows, features, seed);
        y[0] = true;
        y[1] = false;
        let p = ForestParams { min_samples_leaf: leaf, bootstrap, ..params(7, seed, 2) };
        let forest = RandomForest::fit(&p, &x.view(), &y).unwrap();
        let (probe, _) = noisy(300, features, seed + 1);
        let batch = forest.predict_proba(&probe.view());
        for (row, &batch_p) in probe.rows().into_iter().zip(&batch) {
            prop_assert!((0.0..=1.0).contains(&batch_p));
            prop_assert_eq!(forest.predict_proba_row(&row.to_vec()), batch_p);
        }
    }
}

const HEADER: &str = "hour_of_day,day_of_week,invocation_count_24h,avg_completion_rate_24h,workflow_phase,session_length_minutes,user_skill_familiarity";

/// Reads `text` and returns the rows' values and labels, or the error message.
fn check_csv(
    text: &str,
    require_label: bool,
    expected: Result<(Vec<f64>, Option<Vec<bool>>), &str>,
) {
    let got = read_feature_csv(text.as_bytes(), require_label)
        .map(|table| {
            assert_eq!(table.x.ncols(), FEATURE_NAMES.len());
            (table.x.iter().copied().collect::<Vec<_>>(), table.y)
        })
        .map_err(|e| e.to_string());
    assert_eq!(got, expected.map_err(str::to_owned), "{text}");
}

#[test]
fn feature_csv_reads_rows_and_names_the_line_and_column_of_errors() {
    let row = [13.0, 2.0, 5.0, 0.75, 1.0, 42.5, 0.3];
    check_csv(
        &format!("{HEADER},label\n13,2,5,0.75,1,42.5,0.3,1\n 13 ,2,5,0.75,1,42.5,0.3,0\n"),
        true,
        Ok(([row, row].concat(), Some(vec![true, false]))),
    );
    check_csv(
        &format!("{HEADER}\n13,2,5,0.75,1,42.5,0.3\n"),
        false,
        Ok((row.to_vec(), None)),
    );
    check_csv(
        &format!("{HEADER},label\n"),
        true,
        Ok((vec![], Some(vec![]))),
    );
    check_csv(
        &format!("{HEADER}\n13,2,5,0.75,1,42.5,0.3\n"),
        true,
        Err(&format!(
            "feature CSV line 1, column header: no label column: training expects {HEADER},label"
        )),
    );
    check_csv(
        "hour,day\n1,2\n",
        false,
        Err(&format!(
            "feature CSV line 1, column header: found \"hour,day\": expected {HEADER}[,label]"
        )),
    );
    check_csv(
        &format!("{HEADER},label\n13,2,5,0.75,1,42.5,0.3,1\n13,2,x,0.75,1,42.5,0.3,1\n"),
        true,
        Err("feature CSV line 3, column invocation_count_24h: \"x\": expected a finite number"),
    );
    check_csv(
        &format!("{HEADER},label\n13,2,5,0.75,1,NaN,0.3,1\n"),
        true,
        Err("feature CSV line 2, column session_length_minutes: \"NaN\": expected a finite number"),
    );
    check_csv(
        &format!("{HEADER},label\n13,2,5,0.75,1,42.5,0.3,2\n"),
        true,
        Err("feature CSV line 2, column label: \"2\": expected 0 or 1"),
    );
    check_csv(
        &format!("{HEADER},label\n13,2,5,0.75,1,42.5,1\n"),
        true,
        Err("feature CSV line 2, column record: 7 fields: expected 8"),
    );
}
