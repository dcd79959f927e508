//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tally: analytics for AI agents and the apps built on them.
#[derive(Debug, Parser)]
#[command(name = "tally", version, about)]
pub struct Cli {
    /// The database file.
    #[arg(long, global = true, env = "TALLY_DB", default_value = "tally.db")]
    pub db: PathBuf,
    /// Configuration file (default: ./tally.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// How log lines on stderr are written (their level: `TALLY_LOG`).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// Every report kind, so that `--help` lists them and a typo is refused with them.
fn report_kinds() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(tally_api::ReportKind::ALL.map(|kind| kind.name()))
}

/// Every report format, listed by `--help`.
fn report_formats() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(tally_api::ReportFormat::ALL.map(|f| f.name()))
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, coloured on a terminal unless `NO_COLOR` is set.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest telemetry from files or stdin (JSON Lines, JSON array or CSV; gzip too).
    Ingest(IngestArgs),
    /// Write realistic synthetic telemetry of every kind (deterministic for a seed).
    Demo(DemoArgs),
    /// The overall summary.
    Summary(SummaryArgs),
    /// Rejected records kept verbatim with their reasons.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// One aggregate view: projects, models, tools, agents, timeseries, qa, costs,
    /// budget, capacity, pipeline, risks, recommendations, realtime (or summary).
    Query(QueryArgs),
    /// Data retention.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// The stored events behind a number: filtered, newest first, a page at a time.
    Events(crate::events::EventsArgs),
    /// Every stored event in the wire format (ingests again): JSON Lines, a JSON array,
    /// a zip of one CSV file per kind, a directory of one Parquet file per kind, or XML;
    /// or, with --analytics or --format xlsx, the analytics sections (summary, projects,
    /// models, daily series, tools, learners' progress) as an XLSX workbook or XML.
    Export {
        /// jsonl, json, csv (a zip), parquet (a directory, with --out), xml or xlsx;
        /// default: what the name of --out ends with (.jsonl, .json, .zip, .parquet,
        /// .xml, .xlsx), else jsonl.
        #[arg(long)]
        format: Option<String>,
        /// The analytics sections instead of the events (xlsx, the default, or xml).
        #[arg(long)]
        analytics: bool,
        /// The file to write (default: standard output); its name must match the format.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// A report: standalone HTML (inline SVG charts, no network), Markdown, JSON or PDF.
    Report {
        /// What the report is about.
        #[arg(long, default_value = "executive", value_parser = report_kinds())]
        kind: String,
        /// html, md, json or pdf; default: what the name of --out ends with (.html, .md,
        /// .json, .pdf), else html.
        #[arg(long, value_parser = report_formats())]
        format: Option<String>,
        /// The file to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Copy the database to a new file while it is in use (SQLite online backup).
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Whether the store answers: its backend (sqlite, postgres, memory), schema version
    /// and size; for PostgreSQL the server's version and the database.
    Health {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replace the database (`--db`) with a backup. Stop `tally serve` first.
    Restore {
        /// The backup file.
        backup: PathBuf,
        /// Replace a database that holds events.
        #[arg(long)]
        force: bool,
    },
    /// Copy another store (a SQLite file or a postgres:// URL) into this one (`--db`),
    /// then check that every view of both agrees. Resumable: run it again after an
    /// interruption and it finishes the copy without counting anything twice.
    MigrateFrom(MigrateArgs),
    /// The HTTP API and dashboard.
    Serve(ServeArgs),
    /// API keys for the HTTP API.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Trend of a metric or CSV: least squares, Mann-Kendall, Sen's slope, seasonality.
    Trend(crate::series::TrendArgs),
    /// Forecast of a metric or CSV with 95 % prediction intervals.
    Forecast(crate::series::ForecastArgs),
    /// Anomalies of a metric or CSV, with cost spikes and failure surges.
    Anomalies(crate::series::AnomaliesArgs),
    /// A/B tests: create, assign, list, stop, analyze, power.
    #[command(subcommand)]
    Experiment(crate::experiment::ExperimentCommand),
    /// Learning analytics: progress, streaks, topic mastery, learner time zones.
    #[command(subcommand)]
    Learning(crate::learning::LearningCommand),
    /// Learning goals: create, list, update, pause, resume, abandon.
    #[command(subcommand)]
    Goals(crate::goals::GoalsCommand),
    /// The skill success predictor: train on stored skill events, predict, list models;
    /// fit and score feature CSVs.
    #[command(subcommand)]
    Predict(crate::predict::PredictCommand),
    /// Alert rules: create, list (with state), update, delete, test, history.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Saved dashboards: list, show, create, delete, export and import as JSON.
    #[command(subcommand)]
    Dashboards(crate::dashboards::DashboardsCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: `[server] addr` of the config, else 127.0.0.1:7878).
    /// Beyond loopback, at least one API key must exist.
    #[arg(long)]
    pub addr: Option<String>,
    /// Fill an empty database with demo data first.
    #[arg(long)]
    pub demo: bool,
    /// Largest request body in bytes (default: `[server] max_body_bytes`, 16 MiB).
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy from: a SQLite file (path, sqlite://PATH) or postgres://URL.
    pub source: PathBuf,
    /// Events per written batch.
    #[arg(long, default_value_t = 8192)]
    pub batch_size: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many events, as an interruption would (tests of resuming).
    #[arg(long, hide = true)]
    pub stop_after_events: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        /// What the key may do: ingest (POST routes), read (GET data routes) or admin.
        #[arg(long)]
        scope: String,
        /// Limit the key to this project (repeat for several).
        #[arg(long = "project")]
        projects: Vec<String>,
        /// A name to recognize the key by.
        #[arg(long)]
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke {
        /// The key's id (from `tally keys list`).
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files to read; `-` (or none) reads stdin.
    pub inputs: Vec<PathBuf>,
    /// Exit with status 1 when any record was rejected.
    #[arg(long)]
    pub strict: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The framing, when neither the name nor the content tells: jsonl, json or csv.
    #[arg(long)]
    pub format: Option<String>,
    /// The kind of the records of a CSV file without a `kind` column.
    #[arg(long)]
    pub kind: Option<String>,
    /// Records per batch, the unit each acknowledgement covers (a long ingest commits
    /// up to four batches in one transaction).
    #[arg(long, default_value_t = 8192)]
    pub batch_size: usize,
    /// Print a JSON line to stderr after each committed batch (what is durable so far).
    #[arg(long)]
    pub log_batches: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// About how many events to write.
    #[arg(long, default_value_t = 20_000)]
    pub events: u64,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The project a command about experiments or goals works in.
#[derive(Debug, Args)]
pub struct ProjectArg {
    /// Work in this project (its experiments or goals; what is created belongs to it);
    /// default: every project, and global experiments.
    #[arg(long)]
    pub project: Option<String>,
}

impl ProjectArg {
    /// The facade limited to the project, named as ingest stores project names.
    pub fn scoped(&self, analytics: &tally_api::Analytics) -> anyhow::Result<tally_api::Analytics> {
        let project = self
            .project
            .as_deref()
            .map(|p| tally_api::parse_project(p, "--project"))
            .transpose()?;
        Ok(analytics.limited_to_project(project))
    }
}

/// Filters shared by the query commands.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this project.
    #[arg(long)]
    pub project: Option<String>,
    /// From this instant (RFC 3339) or day (YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// Until this instant (exclusive) or day (YYYY-MM-DD, inclusive).
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Also each figure on the earlier range, with the change: previous (the same length
    /// before), wow (7 days earlier) or mom (one calendar month earlier); needs --from.
    #[arg(long, value_parser = crate::compare::NAMES)]
    pub compare: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined records.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate quarantined records again; those that pass are stored and leave quarantine.
    Retry {
        /// Only these quarantine ids (default: all).
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete raw events past `retention.raw_days` and rollups past `retention.hourly_days`
    /// (each only when set in tally.toml: retention is off until configured).
    Run {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The view.
    pub name: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Periods of `timeseries` (day or hour) and `engagement` (day, week or month).
    #[arg(long, default_value = "day")]
    pub granularity: String,
    /// Also each figure on the earlier range, with the change: previous, wow or mom
    /// (summary, projects, models, tools, agents, qa, requests); needs --from.
    #[arg(long, value_parser = crate::compare::NAMES)]
    pub compare: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Store a rule (tally.toml's `[[alerts]]` are read from the file).
    Create {
        #[command(flatten)]
        rule: AlertRuleArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every rule (tally.toml's and stored ones) with its state.
    List {
        /// Only the rules firing now.
        #[arg(long)]
        firing: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a stored rule: the fields given replace the rule's (`--json`: the whole rule).
    Update {
        /// The rule's name.
        #[arg(value_name = "NAME")]
        rule_name: String,
        #[command(flatten)]
        rule: AlertRuleArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a stored rule and its state; its history stays.
    Delete {
        /// The rule's name.
        name: String,
    },
    /// Send a test notification through the rule's channels.
    Test {
        /// The rule's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Transitions (firing, resolved), newest first.
    History {
        /// Only this rule's.
        #[arg(long)]
        rule: Option<String>,
        /// Older than this transition id (the previous page's last).
        #[arg(long)]
        before: Option<i64>,
        /// Transitions to show, 1 to 1000.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A rule's fields as flags, or the whole rule as JSON.
#[derive(Debug, Clone, Default, Args)]
pub struct AlertRuleArgs {
    /// The whole rule as JSON (`-` reads it from stdin); other flags are then refused.
    #[arg(long = "rule-json", value_name = "JSON")]
    pub rule_json: Option<String>,
    /// The rule's name (letters, digits, `-`, `_`, `.`).
    #[arg(long)]
    pub name: Option<String>,
    /// budget, projected_budget, cost_spike, token_spike, qa_failure_rate, failure_rate,
    /// request_error_rate, request_p95, agent_saturation or silence.
    #[arg(long)]
    pub rule: Option<String>,
    /// What makes the rule fire; its unit depends on the rule (docs/alerts.md).
    #[arg(long, allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub tool: Option<String>,
    #[arg(long)]
    pub agent: Option<String>,
    /// A `[channels.NAME]` of tally.toml (repeat for several).
    #[arg(long = "channel")]
    pub channels: Vec<String>,
    /// info, warning or critical.
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long)]
    pub window_minutes: Option<u32>,
    #[arg(long)]
    pub min_events: Option<u64>,
    #[arg(long)]
    pub baseline_days: Option<u32>,
    #[arg(long)]
    pub significance: Option<f64>,
    /// hourly or daily (spike rules).
    #[arg(long)]
    pub series: Option<String>,
    #[arg(long)]
    pub cooldown_minutes: Option<u32>,
    /// Store the rule turned off.
    #[arg(long)]
    pub disabled: bool,
    /// Turn a disabled rule back on (update).
    #[arg(long, conflicts_with = "disabled")]
    pub enabled: bool,
}
