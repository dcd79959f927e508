//! What each subcommand does, and how its result is printed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use tally_api::http::{Server, ServerOptions};
use tally_api::{
    Analytics, AnalyticsSummary, Compare, Config, DemoConfig, Filter, FilterNames, Granularity,
    IngestOptions, IngestReport, Input, InputFormat, KeyScope, KeySpec, Kind, ReportFormat,
    ReportKind, SqliteOptions, View,
};

use crate::args::{
    Cli, Command, DemoArgs, FilterArgs, IngestArgs, KeysCommand, QuarantineCommand, QueryArgs,
    RetentionCommand, ServeArgs, SummaryArgs,
};
use crate::progress::TerminalProgress;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Restore { backup, force } = &cli.command {
        // Restoring needs the database closed: this process must not open it first.
        return restore(&cli.db, backup, *force);
    }
    if let Command::Predict(command) = &cli.command {
        // Fitting and scoring feature CSVs touch no database.
        if let Some(code) = crate::predict::run_without_database(command)? {
            return Ok(code);
        }
    }
    let config = load_config(cli.config.as_deref())?;
    // A location whose backend keeps no file (`memory:`) has no file to miss.
    let file = match Analytics::database_file(&cli.db) {
        Ok(file) => Some(file),
        Err(tally_api::Error::NoFile(_)) => None,
        Err(error) => return Err(error.into()),
    };
    if let Some(file) = &file {
        if !creates_database(&cli.command) && !file.exists() {
            bail!(
                "no database at {}: run `tally demo` or `tally ingest`, or pass --db",
                shown(file)
            );
        }
    }
    let location = file
        .as_deref()
        .map_or_else(|| Analytics::shown_location(&cli.db), shown);
    let analytics = match Analytics::open_with(&cli.db, config, SqliteOptions::default()) {
        Ok(analytics) => analytics,
        Err(tally_api::Error::NotADatabase { path }) => bail!(
            "{path} is not a tally database (a damaged file, or another kind of file): \
             restore a backup (`tally restore BACKUP --db {path}`) or point --db at another file"
        ),
        Err(error) => {
            return Err(anyhow::Error::from(error).context(format!("opening database {location}")));
        }
    };
    match cli.command {
        Command::Ingest(args) => ingest(&analytics, args),
        Command::Demo(args) => demo(&analytics, &cli.db, args),
        Command::Summary(args) => summary(&analytics, args),
        Command::Query(args) => query(&analytics, args),
        Command::Retention(RetentionCommand::Run { json }) => retention(&analytics, json),
        Command::Quarantine(command) => quarantine(&analytics, command),
        Command::Serve(args) => serve(analytics, args),
        Command::MigrateFrom(args) => crate::migrate::migrate_from(&analytics, &cli.db, args),
        Command::Backup { out, json } => backup(&analytics, &out, json),
        Command::Health { json } => health(&analytics, json),
        Command::Report {
            kind,
            format,
            out,
            filter,
        } => report(
            &analytics,
            &kind,
            format.as_deref(),
            out.as_deref(),
            &filter,
        ),
        Command::Events(args) => crate::events::events(&analytics, &args),
        Command::Export {
            format,
            analytics: sections,
            out,
            filter: args,
        } => crate::export::export(
            &analytics,
            format.as_deref(),
            out.as_deref(),
            sections,
            &filter(&args)?,
        ),
        Command::Restore { .. } => unreachable!("handled before the database is opened"),
        Command::Keys(command) => keys(&analytics, command),
        Command::Trend(args) => crate::series::trend(&analytics, args),
        Command::Forecast(args) => crate::series::forecast(&analytics, args),
        Command::Anomalies(args) => crate::series::anomalies(&analytics, args),
        Command::Experiment(command) => crate::experiment::run(&analytics, command),
        Command::Learning(command) => crate::learning::run(&analytics, command),
        Command::Goals(command) => crate::goals::run(&analytics, command),
        Command::Predict(command) => crate::predict::run(&analytics, command),
        Command::Alerts(command) => crate::alerts::run(&analytics, command),
        Command::Dashboards(command) => crate::dashboards::run(&analytics, command),
    }
}

/// Whether a command writes, and so may start a new database; every other command
/// reads and refuses a missing one rather than answer zeros from an empty new file.
fn creates_database(command: &Command) -> bool {
    use crate::experiment::ExperimentCommand;
    use crate::goals::GoalsCommand;
    use crate::learning::LearningCommand;
    matches!(
        command,
        Command::Ingest(_)
            | Command::Demo(_)
            | Command::MigrateFrom(_)
            | Command::Serve(_)
            | Command::Keys(KeysCommand::Create { .. })
            | Command::Alerts(crate::args::AlertsCommand::Create { .. })
            | Command::Dashboards(
                crate::dashboards::DashboardsCommand::Create { .. }
                    | crate::dashboards::DashboardsCommand::Import { .. }
            )
            | Command::Experiment(ExperimentCommand::Create { .. })
            | Command::Goals(GoalsCommand::Create { .. })
            | Command::Learning(LearningCommand::TimeZone { .. })
    )
}

/// A path as a user would type it: `./tally.db` for a bare file name.
fn shown(path: &Path) -> String {
    match path.components().next() {
        Some(std::path::Component::Normal(_)) => format!("./{}", path.display()),
        _ => path.display().to_string(),
    }
}

fn load_config(explicit: Option<&Path>) -> anyhow::Result<Config> {
    match explicit {
        Some(path) => Ok(Config::load(path)?),
        None if Path::new("tally.toml").exists() => Ok(Config::load(Path::new("tally.toml"))?),
        None => Ok(Config::default()),
    }
}

/// The ingest report, for people or as JSON, with a warning about records already past
/// the configured retention.
fn print_ingest_report(
    total: &IngestReport,
    json: bool,
    warning: Option<&str>,
) -> anyhow::Result<()> {
    if json {
        let mut value = serde_json::to_value(total)?;
        if let Some(warning) = warning {
            value["warnings"] = serde_json::json!([warning]);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "accepted {}, duplicates {}, rejected {}",
        total.accepted, total.duplicates, total.rejected
    );
    if let Some(warning) = warning {
        println!("warning: {warning}");
    }
    for error in &total.errors {
        println!("  {error}");
    }
    if total.errors_omitted > 0 {
        println!(
            "  … and {} more (see `tally quarantine list`)",
            total.errors_omitted
        );
    }
    if total.quarantine_omitted > 0 {
        println!(
            "  {} rejections were counted but not kept in quarantine (past the first {} of an input)",
            total.quarantine_omitted,
            IngestOptions::default().max_quarantined
        );
    }
    Ok(())
}

fn ingest(analytics: &Analytics, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let format = args
        .format
        .as_deref()
        .map(str::parse::<InputFormat>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let csv_kind = match args.kind.as_deref() {
        None => None,
        Some(word) => Some(Kind::from_word(word).with_context(|| {
            let kinds: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            format!(
                "--kind {word:?} is not a kind; expected one of {}",
                kinds.join(", ")
            )
        })?),
    };
    let options = IngestOptions {
        format,
        csv_kind,
        batch_size: args.batch_size,
        ..IngestOptions::default()
    };
    let inputs: Vec<Input> = if args.inputs.is_empty() {
        vec![Input::Stdin]
    } else {
        args.inputs
            .iter()
            .map(|p| {
                if p == Path::new("-") {
                    Input::Stdin
                } else {
                    Input::Path(p.clone())
                }
            })
            .collect()
    };
    let mut total = IngestReport::default();
    let mut progress = TerminalProgress::new(args.log_batches);
    for input in &inputs {
        let mut report = match analytics.ingest_with(input, &options, &mut progress) {
            Ok(report) => report,
            Err(error) => {
                // What was committed before the failure stays stored: say so.
                if let Some(stored) = error.stored_before() {
                    total.merge(stored.clone());
                    print_ingest_report(&total, args.json, None)?;
                }
                return Err(error.into());
            }
        };
        if inputs.len() > 1 {
            for error in &mut report.errors {
                error.source = Some(input.name());
            }
        }
        total.merge(report);
    }
    let warning = past_retention_warning(analytics, total.past_retention);
    print_ingest_report(&total, args.json, warning.as_deref())?;
    Ok(if args.strict && total.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What a user must know when accepted records are already past the retention.
fn past_retention_warning(analytics: &Analytics, records: u64) -> Option<String> {
    if records == 0 {
        return None;
    }
    let retention = &analytics.config().retention;
    let limits: Vec<String> = [
        ("raw_days", retention.raw_days),
        ("hourly_days", retention.hourly_days),
    ]
    .into_iter()
    .filter_map(|(name, days)| days.map(|days| format!("{name} = {days}")))
    .collect();
    Some(format!(
        "{records} accepted records are older than the configured retention ({}): the next \
         retention run deletes them (`tally retention run`; `tally serve` runs it at start \
         and hourly)",
        limits.join(", ")
    ))
}

fn demo(analytics: &Analytics, db: &Path, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let config = DemoConfig {
        events: args.events,
        days: args.days,
        seed: args.seed,
        end: Utc::now(),
    };
    let report = analytics.demo(&config, &mut TerminalProgress::new(false))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "wrote {} demo events ({} already there) over {} days into {}",
            report.accepted,
            report.duplicates,
            args.days,
            db.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn filter(args: &FilterArgs) -> anyhow::Result<Filter> {
    Ok(tally_api::parse_filter(
        args.project.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
        FilterNames {
            project: "--project",
            from: "--from",
            to: "--to",
        },
    )?)
}

/// A view with its comparison, printed as JSON or as the comparison table.
fn compared(
    analytics: &Analytics,
    view: View,
    filter: &Filter,
    granularity: Granularity,
    compare: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(compare) = Compare::from_name(compare) else {
        bail!("--compare must be previous, wow or mom, got {compare:?}");
    };
    let value = analytics.view_compared(view, filter, granularity, compare)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", crate::compare::render(&value));
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(analytics: &Analytics, args: SummaryArgs) -> anyhow::Result<ExitCode> {
    if let Some(compare) = &args.compare {
        let filter = filter(&args.filter)?;
        return compared(
            analytics,
            View::Summary,
            &filter,
            Granularity::Day,
            compare,
            args.json,
        );
    }
    let summary = analytics.summary(&filter(&args.filter)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

fn query(analytics: &Analytics, args: QueryArgs) -> anyhow::Result<ExitCode> {
    if let Some(value) = engagement_query(analytics, &args)? {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            print!("{}", crate::render::render(&value));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(view) = View::from_name(&args.name) else {
        let mut names: Vec<&str> = View::ALL.iter().map(|v| v.name()).collect();
        names.extend(["engagement", "cohorts"]);
        bail!(
            "unknown view {:?}; expected one of {}",
            args.name,
            names.join(", ")
        );
    };
    let granularity = match args.granularity.as_str() {
        "day" => Granularity::Day,
        "hour" => Granularity::Hour,
        other => bail!("--granularity must be day or hour, got {other:?}"),
    };
    let filter = filter(&args.filter)?;
    if let Some(compare) = &args.compare {
        return compared(analytics, view, &filter, granularity, compare, args.json);
    }
    if view == View::Summary && !args.json {
        print_summary(&analytics.summary(&filter)?);
        return Ok(ExitCode::SUCCESS);
    }
    let value = analytics.view(view, &filter, granularity)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", crate::render::render(&value));
    }
    Ok(ExitCode::SUCCESS)
}

/// `engagement` (per day, week or month) and `cohorts` (by first-seen week), which
/// take periods of their own; `None` for any other view name.
fn engagement_query(
    analytics: &Analytics,
    args: &QueryArgs,
) -> anyhow::Result<Option<serde_json::Value>> {
    let value = match args.name.as_str() {
        "engagement" => {
            let granularity = tally_api::EngagementGranularity::from_word(&args.granularity)
                .with_context(|| {
                    format!(
                        "--granularity must be day, week or month for engagement, got {:?}",
                        args.granularity
                    )
                })?;
            serde_json::to_value(analytics.engagement(&filter(&args.filter)?, granularity)?)?
        }
        "cohorts" => serde_json::to_value(analytics.engagement_cohorts(&filter(&args.filter)?)?)?,
        _ => return Ok(None),
    };
    Ok(Some(value))
}

fn report(
    analytics: &Analytics,
    kind: &str,
    format: Option<&str>,
    out: Option<&Path>,
    args: &FilterArgs,
) -> anyhow::Result<ExitCode> {
    let Some(kind) = ReportKind::from_name(kind) else {
        let names: Vec<&str> = ReportKind::ALL.iter().map(|k| k.name()).collect();
        bail!(
            "unknown report kind {kind:?}; expected one of {}",
            names.join(", ")
        );
    };
    let by_name = out
        .and_then(|path| path.extension())
        .and_then(|ext| ReportFormat::from_name(&ext.to_string_lossy()));
    let format = match format {
        Some(name) => ReportFormat::from_name(name).with_context(|| {
            format!(
                "--format {name:?} is not a report format; expected {}",
                ReportFormat::names()
            )
        })?,
        None => by_name.unwrap_or(ReportFormat::Html),
    };
    if format == ReportFormat::Pdf {
        crate::learning::refuse_binary_on_terminal(out, "pdf", "FILE.pdf")?;
    }
    let document = analytics.report_document(kind, &filter(args)?, format)?;
    match out {
        Some(out) => {
            std::fs::write(out, document).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote the {} report ({}) to {}",
                kind.name(),
                format.name(),
                out.display()
            );
        }
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), &document)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn backup(analytics: &Analytics, out: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let outcome = analytics
        .backup(out)
        .with_context(|| format!("backing up to {}", out.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        println!(
            "backed up {} pages ({:.1} MiB) to {}",
            outcome.pages,
            outcome.bytes as f64 / (1024.0 * 1024.0),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn health(analytics: &Analytics, json: bool) -> anyhow::Result<ExitCode> {
    let health = analytics.health()?;
    let backend = analytics.backend()?;
    let mut report = serde_json::json!({
        "status": "ok",
        "backend": backend.backend,
        "schema_version": health.schema_version,
        "db_size_bytes": health.file_bytes,
    });
    if let Some(version) = &backend.server_version {
        report["server_version"] = serde_json::json!(version);
    }
    if let Some(database) = &backend.database {
        report["database"] = serde_json::json!(database);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let server = match (&backend.server_version, &backend.database) {
        (Some(version), Some(database)) => format!(", database {database} on server {version}"),
        _ => String::new(),
    };
    println!(
        "ok: {} store{server}, schema version {}, {:.1} MiB",
        backend.backend,
        health.schema_version,
        health.file_bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(ExitCode::SUCCESS)
}

fn restore(db: &Path, backup: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if db.exists() && !force {
        let events = Analytics::open(db)?.stats()?.events;
        if events > 0 {
            bail!(
                "{} holds {events} events; `tally restore --force` replaces them with the backup",
                db.display()
            );
        }
    }
    let outcome = Analytics::restore(backup, db).with_context(|| {
        format!(
            "restoring {} into {}",
            backup.display(),
            Analytics::shown_location(db)
        )
    })?;
    println!(
        "restored {} ({} pages) into {}",
        backup.display(),
        outcome.pages,
        db.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn retention(analytics: &Analytics, json: bool) -> anyhow::Result<ExitCode> {
    let outcome = analytics.run_retention()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else if !analytics.config().retention.is_configured() {
        println!(
            "retention is off: nothing is deleted for age until [retention] raw_days or \
             hourly_days is set in tally.toml"
        );
    } else {
        println!(
            "deleted {} raw rows, {} rollup rows, {} minute rows",
            outcome.raw_rows_deleted, outcome.rollup_rows_deleted, outcome.minute_rows_deleted
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(s: &AnalyticsSummary) {
    use crate::render::{grouped, grouped_integer};
    let qa = &s.qa_summary;
    let count = |n: u64| grouped_integer(u128::from(n));
    let usd = |x: f64| format!("${}", grouped(x, 2));
    let percent = |ratio: f64, of: u64| {
        if of == 0 {
            "no data".to_owned()
        } else {
            format!("{:.1} %", ratio * 100.0)
        }
    };
    println!(
        "executions   {} ({} successful)",
        count(s.total_executions),
        percent(s.success_rate, s.total_executions)
    );
    if s.total_runs == 0 {
        println!("runs         0");
    } else {
        println!(
            "runs         {} (2loop {}, 3loop {}), avg {} s, avg {}",
            count(s.total_runs),
            count(s.runs_2loop),
            count(s.runs_3loop),
            grouped(s.avg_duration_seconds, 1),
            usd(s.avg_cost_per_run)
        );
    }
    println!(
        "jobs         {} (completed {}, failed {}, cancelled {}, running {}, queued {})",
        count(s.total_jobs),
        count(s.jobs_completed),
        count(s.jobs_failed),
        count(s.jobs_cancelled),
        count(s.jobs_running),
        count(s.jobs_queued)
    );
    println!("tokens       {}", grouped_integer(s.total_tokens));
    println!("cost         {}", usd(s.total_cost));
    println!(
        "qa           pass rate {} (passed {}, warning {}, failed {}, error {}, not run {})",
        percent(qa.pass_rate, qa.total_qa_runs),
        count(qa.qa_passed),
        count(qa.qa_warning),
        count(qa.qa_failed),
        count(qa.qa_error),
        count(qa.qa_not_run)
    );
    match (s.monthly_budget, s.budget_remaining) {
        (Some(budget), Some(remaining)) => {
            println!(
                "this month   {} of {} budget, {} left",
                usd(s.current_month_cost),
                usd(budget),
                usd(remaining)
            );
        }
        _ => println!("this month   {} (no budget set)", usd(s.current_month_cost)),
    }
}

fn quarantine(analytics: &Analytics, command: QuarantineCommand) -> anyhow::Result<ExitCode> {
    match command {
        QuarantineCommand::List { limit, json } => {
            let records = analytics.quarantined(0, limit)?;
            let total = analytics.quarantine_len()?;
            if json {
                let rows: Vec<_> = records
                    .iter()
                    .map(|q| {
                        let r = &q.rejection;
                        serde_json::json!({
                            "quarantine_id": q.quarantine_id,
                            "received_at": q.received_at.to_rfc3339(),
                            "last_received_at": q.last_received_at.to_rfc3339(),
                            "rejections": q.rejections,
                            "source": r.source,
                            "position": r.position,
                            "id": r.record_id,
                            "field": r.field,
                            "rule": r.rule,
                            "message": r.message,
                            "raw": String::from_utf8_lossy(&r.raw),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"total": total, "records": rows})
                    )?
                );
            } else {
                println!("{total} records in quarantine");
                for q in &records {
                    let r = &q.rejection;
                    let position = match r.position {
                        tally_api::Position::Line(l) => format!("line {l}"),
                        tally_api::Position::Index(i) => format!("index {i}"),
                    };
                    let field = if r.field.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", r.field)
                    };
                    let repeats = if q.rejections > 1 {
                        format!(
                            " (rejected {} times, last at {})",
                            q.rejections,
                            q.last_received_at.to_rfc3339()
                        )
                    } else {
                        String::new()
                    };
                    println!(
                        "#{} {} {}: {field}{}{repeats}",
                        q.quarantine_id, r.source, position, r.message
                    );
                }
            }
        }
        QuarantineCommand::Retry { ids, json } => {
            let only = (!ids.is_empty()).then_some(ids.as_slice());
            let report = analytics.retry_quarantine(only, &IngestOptions::default())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "resolved {} ({} were already stored), still rejected {}",
                    report.resolved, report.duplicates, report.still_rejected
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(analytics: Analytics, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut server_config = analytics.config().server.clone();
    if let Some(addr) = args.addr {
        server_config.addr = addr;
    }
    if let Some(limit) = args.max_body_bytes {
        server_config.max_body_bytes = limit;
    }
    let mut options = ServerOptions::from_config(&server_config)?;
    options.delivery = tally_api::alerts::dispatcher(&analytics)?.map(std::sync::Arc::new);
    if args.demo {
        if analytics.stats()?.events == 0 {
            let config = DemoConfig {
                end: Utc::now(),
                ..DemoConfig::default()
            };
            let report = analytics.demo(&config, &mut TerminalProgress::new(false))?;
            println!("wrote {} demo events", report.accepted);
        } else {
            println!("the database already holds data; --demo adds none");
        }
    }
    let server = Server::bind(analytics, &options)?;
    server.run_until_signal(|addr| {
        println!("listening on http://{addr}");
        println!("dashboard: http://{addr}/analytics");
    })?;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn keys(analytics: &Analytics, command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Create {
            scope,
            projects,
            name,
            json,
        } => {
            let scope = KeyScope::from_word(&scope).with_context(|| {
                format!("--scope {scope:?} is not a scope; expected ingest, read or admin")
            })?;
            let created = analytics.create_key(&KeySpec {
                scope,
                projects,
                name,
            })?;
            if json {
                let mut value = serde_json::to_value(&created.record)?;
                value["key"] = created.secret.clone().into();
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                println!("{}", created.secret);
                eprintln!(
                    "key #{} (scope {}{}): shown this once, only its hash is stored",
                    created.record.id,
                    scope.as_str(),
                    if created.record.projects.is_empty() {
                        String::new()
                    } else {
                        format!(", projects {}", created.record.projects.join(", "))
                    }
                );
            }
        }
        KeysCommand::List { json } => {
            let keys = analytics.keys()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else if keys.is_empty() {
                println!("no keys: the HTTP API is open on loopback only");
            } else {
                println!(
                    "{:>4}  {:<7} {:<16} {:<20} {:<24} state",
                    "id", "scope", "prefix", "name", "projects"
                );
                for key in &keys {
                    let projects = if key.projects.is_empty() {
                        "all".to_owned()
                    } else {
                        key.projects.join(",")
                    };
                    let state = match key.revoked_at {
                        Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                        None => format!("active since {}", key.created_at.format("%Y-%m-%d")),
                    };
                    println!(
                        "{:>4}  {:<7} {:<16} {:<20} {:<24} {state}",
                        key.id,
                        key.scope.as_str(),
                        format!("{}…", key.prefix),
                        key.name.as_deref().unwrap_or("-"),
                        projects
                    );
                }
            }
        }
        KeysCommand::Revoke { id } => {
            if analytics.revoke_key(id)? {
                println!("revoked key #{id}");
            } else {
                bail!("no active key #{id} (see `tally keys list`)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
