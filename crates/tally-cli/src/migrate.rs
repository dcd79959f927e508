//! `tally migrate-from SRC`: copies another store into the one `--db` names, then
//! checks that every view of both agrees.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tally_api::{
    Analytics, BatchCommitted, Comparison, MigrateOptions, MigrateReport, Progress, SqliteOptions,
};

use crate::args::MigrateArgs;

pub fn migrate_from(
    analytics: &Analytics,
    destination: &Path,
    args: MigrateArgs,
) -> anyhow::Result<ExitCode> {
    let source = open_source(&args.source, destination, analytics)?;
    let shown_source = Analytics::shown_location(&args.source);
    let shown_destination = Analytics::shown_location(destination);
    let mut progress = CopyProgress::new(source.stats()?.events);
    let options = MigrateOptions {
        batch_size: args.batch_size,
        stop_after_events: args.stop_after_events,
    };
    let report = analytics.migrate_from(&source, &options, &mut progress)?;
    let comparison = source.compare_views(analytics, Utc::now())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "source": shown_source,
                "destination": shown_destination,
                "copied": report,
                "check": comparison,
            }))?
        );
    } else {
        print_report(&shown_source, &shown_destination, &report);
        print_check(&comparison);
    }
    Ok(if comparison.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The source store, refused when it cannot hold anything to copy or is the
/// destination itself.
fn open_source(
    source: &Path,
    destination: &Path,
    analytics: &Analytics,
) -> anyhow::Result<Analytics> {
    let shown = Analytics::shown_location(source);
    if source.as_os_str() == "memory:" {
        bail!(
            "memory: is a new, empty store in every process: there is nothing to copy from it \
             (migrate from a SQLite file or a postgres:// URL)"
        );
    }
    match Analytics::database_file(source) {
        Ok(file) => {
            if !file.exists() {
                bail!("no database at {shown} to copy from");
            }
            if let Ok(destination) = Analytics::database_file(destination) {
                let same = |a: &Path, b: &Path| {
                    a.canonicalize()
                        .ok()
                        .zip(b.canonicalize().ok())
                        .is_some_and(|(a, b)| a == b)
                };
                if same(&file, &destination) {
                    bail!("{shown} is the destination (--db) itself: nothing to copy");
                }
            }
        }
        Err(tally_api::Error::NoFile(_)) => {
            if source == destination {
                bail!("{shown} is the destination (--db) itself: nothing to copy");
            }
        }
        Err(error) => return Err(error.into()),
    }
    Analytics::open_with(source, analytics.config().clone(), SqliteOptions::default())
        .map_err(|error| anyhow::Error::from(error).context(format!("opening the source {shown}")))
}

fn print_report(source: &str, destination: &str, report: &MigrateReport) {
    println!("copied {source} into {destination}:");
    let kinds = [
        ("events", report.events),
        ("quarantine entries", report.quarantine),
        ("API keys", report.keys),
        ("experiments", report.experiments),
        ("learning goals", report.goals),
        ("learner time zones", report.time_zones),
        ("leaderboard opt-outs", report.opt_outs),
        ("predictor models", report.predictor_models),
        ("alert rules", report.alert_rules),
    ];
    for (name, copied) in kinds {
        println!(
            "  {name:<20} {:>10} new, {} already there",
            copied.copied, copied.present
        );
    }
}

fn print_check(comparison: &Comparison) {
    match &comparison.first_difference {
        None => println!(
            "checked: all {} views agree, and both exports hold the same {} events",
            comparison.views, comparison.events
        ),
        Some(difference) => {
            println!(
                "check failed: {} of {} views differ; the first is {}",
                comparison.differing, comparison.views, difference.view
            );
            println!("  source:      {}", difference.source);
            println!("  destination: {}", difference.destination);
        }
    }
}

/// A bar of the events copied so far, when stderr is a terminal.
struct CopyProgress {
    total: u64,
    bar: Option<ProgressBar>,
}

impl CopyProgress {
    fn new(total: u64) -> Self {
        CopyProgress { total, bar: None }
    }
}

impl Progress for CopyProgress {
    fn started(&mut self, _source: &str, _total_bytes: Option<u64>) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let style = ProgressStyle::with_template(
            "copying events [{bar:30}] {pos}/{len} ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        self.bar = Some(ProgressBar::new(self.total).with_style(style));
    }

    fn committed(&mut self, batch: &BatchCommitted<'_>) {
        if let Some(bar) = &self.bar {
            bar.set_position(batch.report.accepted + batch.report.duplicates);
        }
    }

    fn finished(&mut self, _source: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
