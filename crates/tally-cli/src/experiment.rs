//! `tally experiment`: define, assign, list, stop and analyze A/B tests, and the power
//! calculator.

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use tally_api::experiment::{
    Analysis, ExperimentSpec, Listing, MetricKind, MetricRole, PowerQuestion, Verdict,
    parse_variants,
};
use tally_api::{Analytics, FilterNames, parse_filter, parse_instant};

use crate::args::{FilterArgs, ProjectArg};

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Define an experiment.
    Create {
        #[command(flatten)]
        project: ProjectArg,
        /// Its key (the `experiment` field of outcome events).
        #[arg(long)]
        experiment: String,
        /// Variants and weights, the control first: control:50,treatment:50.
        #[arg(long)]
        variants: String,
        /// The primary metric (an outcome metric name).
        #[arg(long)]
        metric: Option<String>,
        /// A guardrail metric (repeat for several).
        #[arg(long = "guardrail")]
        guardrails: Vec<String>,
        /// A metric where lower is better (repeat; default: guessed from the names,
        /// durations, latencies, costs and errors).
        #[arg(long = "lower-is-better")]
        lower_is_better: Vec<String>,
        /// Share of users in the experiment, in (0, 1].
        #[arg(long)]
        coverage: Option<f64>,
        /// What the experiment should show.
        #[arg(long)]
        hypothesis: Option<String>,
        /// Hashing seed (default: the key).
        #[arg(long)]
        seed: Option<String>,
        /// Outcomes before this instant (RFC 3339 or YYYY-MM-DD) are not part of it.
        #[arg(long)]
        start: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the variant a user is assigned to (`excluded` outside coverage).
    Assign {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        experiment: String,
        #[arg(long)]
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List experiments: defined ones and those only outcome events name.
    List {
        #[command(flatten)]
        project: ProjectArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop an experiment: later outcomes are not part of it.
    Stop {
        #[command(flatten)]
        project: ProjectArg,
        #[arg(long)]
        experiment: String,
    },
    /// Analyze an experiment's outcomes: SRM check, tests per metric, verdicts.
    Analyze {
        #[arg(long)]
        experiment: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Power calculator: the MDE for --n users per variant, or the users for --mde.
    Power {
        /// Per-user variance of the metric.
        #[arg(long)]
        variance: Option<f64>,
        /// A conversion rate: variance p(1-p).
        #[arg(long)]
        baseline_rate: Option<f64>,
        /// Users per variant.
        #[arg(long)]
        n: Option<f64>,
        /// Absolute minimum detectable effect.
        #[arg(long)]
        mde: Option<f64>,
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        #[arg(long, default_value_t = 0.8)]
        power: f64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(analytics: &Analytics, command: ExperimentCommand) -> anyhow::Result<ExitCode> {
    match command {
        ExperimentCommand::Create {
            project,
            experiment,
            variants,
            metric,
            guardrails,
            lower_is_better,
            coverage,
            hypothesis,
            seed,
            start,
            json,
        } => {
            let spec = ExperimentSpec {
                key: experiment,
                variants: parse_variants(&variants)?,
                coverage,
                seed,
                hypothesis,
                primary_metric: metric,
                guardrail_metrics: guardrails,
                lower_is_better: (!lower_is_better.is_empty()).then_some(lower_is_better),
                started_at: start
                    .map(|s| parse_instant(&s, "--start", false))
                    .transpose()?,
            };
            let created = project.scoped(analytics)?.create_experiment(spec)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                let variants: Vec<String> = created
                    .variants
                    .iter()
                    .map(|v| format!("{} {:.1} %", v.name, v.weight * 100.0))
                    .collect();
                println!(
                    "created experiment {}: {}",
                    created.key,
                    variants.join(", ")
                );
            }
        }
        ExperimentCommand::Assign {
            project,
            experiment,
            user,
            json,
        } => {
            let assignment = project
                .scoped(analytics)?
                .assign_experiment(&experiment, &user)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&assignment)?);
            } else {
                println!("{}", assignment.variant.as_deref().unwrap_or("excluded"));
            }
        }
        ExperimentCommand::List { project, json } => {
            let listings = project.scoped(analytics)?.experiments()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listings)?);
            } else {
                print_listings(&listings);
            }
        }
        ExperimentCommand::Stop {
            project,
            experiment,
        } => {
            let stopped = project.scoped(analytics)?.stop_experiment(&experiment)?;
            println!("stopped experiment {}", stopped.key);
        }
        ExperimentCommand::Analyze {
            experiment,
            filter,
            json,
        } => {
            let filter = parse_filter(
                filter.project.as_deref(),
                filter.from.as_deref(),
                filter.to.as_deref(),
                FilterNames {
                    project: "--project",
                    from: "--from",
                    to: "--to",
                },
            )?;
            let analysis = analytics.analyze_experiment(&experiment, &filter)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&analysis)?);
            } else {
                print_analysis(&analysis);
            }
        }
        ExperimentCommand::Power {
            variance,
            baseline_rate,
            n,
            mde,
            alpha,
            power,
            json,
        } => {
            let Some(variance) = variance.or(baseline_rate.map(|p| p * (1.0 - p))) else {
                bail!("give --variance (per-user variance of the metric) or --baseline-rate");
            };
            let question = match (n, mde) {
                (Some(n), None) => PowerQuestion::MdeForUsers(n),
                (None, Some(mde)) => PowerQuestion::UsersForMde(mde),
                _ => bail!("give exactly one of --n (users per variant) or --mde"),
            };
            let plan =
                analytics.experiment_power(question, variance, baseline_rate, alpha, power)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                println!(
                    "{} users per variant detect an absolute effect of {:.6}{} (alpha {}, power {})",
                    plan.n_per_variant,
                    plan.mde,
                    plan.relative_mde
                        .map(|r| format!(" ({:.2} % relative)", r * 100.0))
                        .unwrap_or_default(),
                    plan.alpha,
                    plan.power
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_listings(listings: &[Listing]) {
    if listings.is_empty() {
        println!("no experiments: define one with `tally experiment create`");
        return;
    }
    println!(
        "{:<28} {:<10} {:<8} variants",
        "experiment", "status", "defined"
    );
    for listing in listings {
        let variants: Vec<String> = listing
            .experiment
            .variants
            .iter()
            .map(|v| format!("{}:{}", v.name, (v.weight * 1000.0).round() / 10.0))
            .collect();
        let status = serde_json::to_value(listing.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "{:<28} {:<10} {:<8} {}",
            listing.experiment.key,
            status,
            if listing.experiment.defined {
                "yes"
            } else {
                "no"
            },
            variants.join(",")
        );
    }
}

fn number(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{x:.4}"))
}

fn print_analysis(analysis: &Analysis) {
    let check = &analysis.assignment;
    println!(
        "experiment {} (control {}): {} outcomes, {} mismatched with the assignment and left out",
        analysis.experiment, analysis.control, check.outcomes, check.mismatched
    );
    let users: Vec<String> = analysis
        .srm
        .variants
        .iter()
        .map(|v| format!("{} {} (expected {:.0})", v.variant, v.users, v.expected))
        .collect();
    println!(
        "sample ratio: {}; chi2 {:.3}, p {:.4}{}",
        users.join(", "),
        analysis.srm.chi2,
        analysis.srm.p_value,
        if analysis.srm.mismatch {
            " MISMATCH: no winner is called"
        } else {
            ""
        }
    );
    for metric in &analysis.metrics {
        println!();
        println!(
            "{} ({}, {}{})",
            metric.metric,
            match metric.kind {
                MetricKind::Continuous => "a measured value",
                MetricKind::Binary => "a yes/no rate",
            },
            match metric.role {
                MetricRole::Primary => "primary",
                MetricRole::Guardrail => "guardrail",
                MetricRole::Secondary => "secondary",
            },
            if metric.lower_is_better {
                ", lower is better"
            } else {
                ""
            }
        );
        for v in &metric.variants {
            println!(
                "  {:<16} n {:>8}  mean {:>12}  variance {:>12}",
                v.variant,
                v.n,
                number(v.mean),
                number(v.variance)
            );
        }
        for c in &metric.comparisons {
            let verdict = match c.verdict {
                Verdict::Win => "WIN",
                Verdict::Loss => "LOSS",
                Verdict::Inconclusive => "inconclusive",
                Verdict::NotEnoughData => "not enough data",
            };
            println!(
                "  {} vs {}: diff {} [{}, {}], lift {} [{}, {}], p {} (Holm {}): {} ({})",
                c.variant,
                c.baseline,
                number(c.diff),
                number(c.ci_low),
                number(c.ci_high),
                number(c.rel_lift),
                number(c.rel_ci_low),
                number(c.rel_ci_high),
                number(c.p_value),
                number(c.p_adjusted),
                verdict,
                c.reason
            );
        }
    }
}
