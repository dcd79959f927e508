//! `tally predict`: train the skill success predictor on stored events, predict for a
//! context, list the stored models; and, without a database, fit a forest on a feature
//! CSV and score one.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;
use tally_api::{
    Analytics, ForestParams, ModelInfo, RandomForest, SkillQuery, TrainReport, TrainRequest,
    fit_feature_csv, parse_instant, score_feature_csv,
};

#[derive(Debug, Subcommand)]
pub enum PredictCommand {
    /// Train on the stored skill events of a window (the most recent 20 % held out for
    /// the metrics) and store the model with a new version.
    Train {
        /// Days of the window.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// End of the window, exclusive (RFC 3339 or YYYY-MM-DD; default now): to replay
        /// a past training.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The probability that a user completes a skill, by the latest stored model.
    Skill {
        #[arg(long)]
        user: String,
        #[arg(long)]
        skill: String,
        /// The workflow phase (planning, execution, review, debugging, ...).
        #[arg(long)]
        phase: Option<String>,
        /// The session the invocation belongs to (for the session length; none: 0).
        #[arg(long)]
        session: Option<String>,
        /// The instant of the invocation (RFC 3339 or YYYY-MM-DD; default now).
        #[arg(long)]
        at: Option<String>,
        /// The model version (default: the latest).
        #[arg(long)]
        version: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The stored models: version, window, sizes and holdout metrics.
    Models {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fit a random forest on a labelled feature CSV and write it as a JSON file.
    Fit {
        /// The feature CSV, with a `label` column (0/1).
        #[arg(long)]
        csv: PathBuf,
        /// The model file to write.
        #[arg(long)]
        out: PathBuf,
        /// Trees in the forest.
        #[arg(long, default_value_t = 100)]
        trees: usize,
        /// Seed of the bootstrap samples and feature draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Print one probability per row of a feature CSV, one per line, in input order.
    Score {
        /// A model file written by `tally predict fit`.
        #[arg(long)]
        model: PathBuf,
        /// The feature CSV (a `label` column is ignored).
        #[arg(long)]
        csv: PathBuf,
    },
}

/// Runs the subcommands that need no database (`fit`, `score`); `None` for the others.
pub fn run_without_database(command: &PredictCommand) -> anyhow::Result<Option<ExitCode>> {
    match command {
        PredictCommand::Fit {
            csv,
            out,
            trees,
            seed,
        } => {
            let params = ForestParams {
                n_trees: *trees,
                seed: *seed,
                ..ForestParams::default()
            };
            let input = File::open(csv).with_context(|| format!("opening {}", csv.display()))?;
            let forest = fit_feature_csv(BufReader::new(input), &params)
                .with_context(|| format!("fitting on {}", csv.display()))?;
            let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = BufWriter::new(file);
            serde_json::to_writer(&mut writer, &forest)?;
            writer.flush()?;
            println!(
                "fitted {} trees on {} features; wrote {}",
                forest.n_trees(),
                forest.n_features(),
                out.display()
            );
            Ok(Some(ExitCode::SUCCESS))
        }
        PredictCommand::Score { model, csv } => {
            let file = File::open(model).with_context(|| format!("opening {}", model.display()))?;
            let forest: RandomForest =
                serde_json::from_reader(BufReader::new(file)).with_context(|| {
                    format!(
                        "{} is not a model written by tally predict fit",
                        model.display()
                    )
                })?;
            let input = File::open(csv).with_context(|| format!("opening {}", csv.display()))?;
            let probabilities = score_feature_csv(&forest, BufReader::new(input))
                .with_context(|| format!("scoring {}", csv.display()))?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            for p in probabilities {
                writeln!(out, "{p}")?;
            }
            out.flush()?;
            Ok(Some(ExitCode::SUCCESS))
        }
        _ => Ok(None),
    }
}

pub fn run(analytics: &Analytics, command: PredictCommand) -> anyhow::Result<ExitCode> {
    match command {
        PredictCommand::Train { days, at, json } => {
            let at = at.map(|t| parse_instant(&t, "--at", false)).transpose()?;
            let report = analytics.train_predictor(TrainRequest {
                days: Some(days),
                at,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
        }
        PredictCommand::Skill {
            user,
            skill,
            phase,
            session,
            at,
            version,
            json,
        } => {
            let at = match at {
                Some(text) => parse_instant(&text, "--at", false)?,
                None => analytics.view_options().now,
            };
            let prediction = analytics.predict_skill(&SkillQuery {
                user,
                skill,
                phase,
                session,
                at,
                version,
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&prediction)?);
            } else {
                let f = &prediction.features;
                println!(
                    "P(complete) = {:.3}  ({} doing {} at {}, model v{})",
                    prediction.probability,
                    prediction.user,
                    prediction.skill,
                    instant(prediction.at),
                    prediction.model_version
                );
                println!(
                    "features: hour {} day {} invocations_24h {} completion_24h {:.3} phase {} \
                     session {:.1} min familiarity {:.3}",
                    f.hour_of_day,
                    f.day_of_week,
                    f.invocation_count_24h,
                    f.avg_completion_rate_24h,
                    f.workflow_phase,
                    f.session_length_minutes,
                    f.user_skill_familiarity
                );
            }
        }
        PredictCommand::Models { json } => {
            let models = analytics.predictor_models()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&models)?);
            } else {
                print_models(&models);
            }
        }
        PredictCommand::Fit { .. } | PredictCommand::Score { .. } => {
            if let Some(code) = run_without_database(&command)? {
                return Ok(code);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An instant as people read it: RFC 3339 to the second, UTC.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn print_report(report: &TrainReport) {
    let m = &report.metrics;
    println!(
        "model v{}: trained on {} invocations of {} .. {}, scored on the latest {} (from {})",
        report.version,
        report.n_train,
        instant(report.window_from),
        instant(report.window_to),
        report.n_holdout,
        instant(m.holdout_from)
    );
    println!(
        "holdout: ROC AUC {:.3}  log loss {:.3}  Brier {:.3}  completion rate {:.3}",
        m.roc_auc, m.log_loss, m.brier_score, m.base_rate
    );
    println!("feature importances:");
    for importance in &m.feature_importances {
        println!("  {:<26} {:.3}", importance.feature, importance.importance);
    }
    println!("calibration (predicted -> observed, rows):");
    for bin in &m.calibration {
        println!(
            "  {:.1}-{:.1}  {:.3} -> {:.3}  {}",
            bin.lower, bin.upper, bin.mean_predicted, bin.observed_rate, bin.count
        );
    }
}

fn print_models(models: &[ModelInfo]) {
    if models.is_empty() {
        println!("no stored models: train one with `tally predict train`");
        return;
    }
    println!(
        "{:>7}  {:<20}  {:<20}  {:>7}  {:>7}  {:>7}",
        "version", "created", "window to", "train", "holdout", "ROC AUC"
    );
    for model in models {
        let auc = model.metrics["roc_auc"]
            .as_f64()
            .map_or("-".to_owned(), |v| format!("{v:.3}"));
        println!(
            "{:>7}  {:<20}  {:<20}  {:>7}  {:>7}  {:>7}",
            model.version,
            instant(model.created_at),
            instant(model.window_to),
            model.n_train,
            model.n_holdout,
            auc
        );
    }
}
