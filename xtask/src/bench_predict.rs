//! `cargo xtask bench predict`: the success predictor's random forest against
//! scikit-learn's `RandomForestClassifier` on the reference skill data.
//!
//! Train and test files come from `tests/generators/gen_skills.py` (seeds 1 and 2). In the
//! same run, tally's forest is trained (release build, every core, and on one thread for
//! information) and scored, and a Python child trains scikit-learn with the same
//! parameters and `n_jobs=1`; the table shows fit and score times, test ROC AUC and log
//! loss, and the median latency of one `predict_proba_row`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use tally_predict::{ForestParams, RandomForest, quality, read_feature_csv};

use crate::{flag, root};

/// scikit-learn's side: fit on one core, score, print JSON.
const SKLEARN: &str = r#"
import json, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import log_loss, roc_auc_score
train, test, trees, leaf = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = np.loadtxt(train, delimiter=",", skiprows=1); b = np.loadtxt(test, delimiter=",", skiprows=1)
model = RandomForestClassifier(n_estimators=trees, min_samples_leaf=leaf, n_jobs=1, random_state=0)
t = time.perf_counter(); model.fit(a[:, :7], a[:, 7].astype(int)); fit = time.perf_counter() - t
t = time.perf_counter(); p = model.predict_proba(b[:, :7])[:, 1]; score = time.perf_counter() - t
row = b[:1, :7]; times = []
for _ in range(200):
    t = time.perf_counter(); model.predict_proba(row); times.append(time.perf_counter() - t)
print(json.dumps({"fit": fit, "score": score, "auc": roc_auc_score(b[:, 7], p),
                  "log_loss": log_loss(b[:, 7], p), "row": float(np.median(times))}))
"#;

pub fn predict(args: &[&str]) -> anyhow::Result<()> {
    let train_rows = count(args, "--train", 100_000)?;
    let test_rows = count(args, "--test", 50_000)?;
    let trees = count(args, "--trees", 100)?;
    let leaf = count(args, "--min-samples-leaf", 5)?;
    let dir = crate::target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let (train, _) = generate(&dir, "train", train_rows, 1)?;
    let (test, bayes) = generate(&dir, "test", test_rows, 2)?;
    let read = |path: &Path| -> anyhow::Result<(ndarray::Array2<f64>, Vec<bool>)> {
        let table = read_feature_csv(std::fs::File::open(path)?, true)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok((table.x, table.y.unwrap_or_default()))
    };
    let (train_x, train_y) = read(&train)?;
    let (test_x, test_y) = read(&test)?;

    let params = ForestParams {
        n_trees: trees,
        min_samples_leaf: leaf,
        ..ForestParams::default()
    };
    let start = Instant::now();
    let forest = RandomForest::fit(&params, &train_x.view(), &train_y)?;
    let fit_all = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let single = RandomForest::fit(
        &ForestParams {
            threads: 1,
            ..params.clone()
        },
        &train_x.view(),
        &train_y,
    )?;
    let fit_one = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let p = forest.predict_proba(&test_x.view());
    let score = start.elapsed().as_secs_f64();
    if single.predict_proba(&test_x.view()) != p
        || single.feature_importances() != forest.feature_importances()
    {
        bail!("the forest trained on one thread differs from the one trained on all cores");
    }
    let auc = quality::roc_auc(&test_y, &p).context("the test set has one class only")?;
    let loss = quality::log_loss(&test_y, &p).context("empty test set")?;
    let row_seconds = row_latency(&forest, &test_x);

    eprintln!("training scikit-learn (n_jobs=1) ...");
    let output = Command::new(crate::provision::oracle_python()?)
        .args(["-c", SKLEARN])
        .arg(&train)
        .arg(&test)
        .arg(trees.to_string())
        .arg(leaf.to_string())
        .output()
        .context("running python3")?;
    if !output.status.success() {
        bail!(
            "the scikit-learn side failed :\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let sk: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let field = |name: &str| {
        sk[name]
            .as_f64()
            .with_context(|| format!("scikit-learn printed no {name}"))
    };
    let (sk_fit, sk_score, sk_auc, sk_loss, sk_row) = (
        field("fit")?,
        field("score")?,
        field("auc")?,
        field("log_loss")?,
        field("row")?,
    );

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "random forest: {trees} trees, min_samples_leaf {leaf}, {train_rows} train / {test_rows} test rows, {} nodes; Bayes-optimal test AUC {bayes}",
        forest.n_nodes()
    );
    println!(
        "{:<28} {:>12} {:>12} {:>14}",
        "", "tally", "scikit-learn", "sklearn/tally"
    );
    println!(
        "{:<28} {:>12.2} {:>12.2} {:>14.2}",
        format!("fit s ({cores} cores | n_jobs=1)"),
        fit_all,
        sk_fit,
        sk_fit / fit_all
    );
    println!(
        "{:<28} {:>12.2} {:>12.2} {:>14.2}",
        "fit s (1 thread)",
        fit_one,
        sk_fit,
        sk_fit / fit_one
    );
    println!(
        "{:<28} {:>12.1} {:>12.1} {:>14.2}",
        format!("score {test_rows} rows ms"),
        score * 1e3,
        sk_score * 1e3,
        sk_score / score
    );
    println!(
        "{:<28} {:>12.1} {:>12.1} {:>14.1}",
        "one row µs (median)",
        row_seconds * 1e6,
        sk_row * 1e6,
        sk_row / row_seconds
    );
    println!(
        "{:<28} {:>12.4} {:>12.4} {:>14}",
        "test ROC AUC",
        auc,
        sk_auc,
        format!("{:+.4}", auc - sk_auc)
    );
    println!(
        "{:<28} {:>12.4} {:>12.4} {:>14}",
        "test log loss",
        loss,
        sk_loss,
        format!("{:+.4}", loss - sk_loss)
    );
    println!("(sklearn/tally > 1: tally is faster; AUC column 3: tally minus scikit-learn)");
    Ok(())
}

/// Median seconds of one `predict_proba_row` over the test rows, one call at a time.
fn row_latency(forest: &RandomForest, x: &ndarray::Array2<f64>) -> f64 {
    let calls = x.nrows().min(20_000);
    let mut times = Vec::with_capacity(calls);
    let mut sink = 0.0;
    for row in x.rows().into_iter().take(calls) {
        let values = row.to_vec();
        let start = Instant::now();
        sink += forest.predict_proba_row(std::hint::black_box(&values));
        times.push(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(sink);
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Writes the generator's file (rows, seed) and returns it with the Bayes AUC it printed.
fn generate(dir: &Path, name: &str, rows: usize, seed: u64) -> anyhow::Result<(PathBuf, String)> {
    let generator = root().join("tests/generators/gen_skills.py");
    if !generator.exists() {
        bail!(
            "{} not found: the reference generators live in tests/generators",
            generator.display()
        );
    }
    let file = dir.join(format!("skills-{name}-{rows}-{seed}.csv"));
    let output = Command::new(crate::provision::oracle_python()?)
        .arg(&generator)
        .arg(rows.to_string())
        .arg(&file)
        .arg(seed.to_string())
        .output()
        .context("running python3")?;
    if !output.status.success() {
        bail!(
            "{} failed (it needs numpy):\n{}",
            generator.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let bayes = text
        .split_whitespace()
        .last()
        .unwrap_or("unknown")
        .to_owned();
    Ok((file, bayes))
}

/// The number after `--name`, or `default`.
fn count(args: &[&str], name: &str, default: usize) -> anyhow::Result<usize> {
    flag(args, name).map_or(Ok(default), |v| {
        v.replace('_', "")
            .parse()
            .with_context(|| format!("{name} takes a number, got {v:?}"))
    })
}
