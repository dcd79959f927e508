//! `tally trend`, `tally forecast` and `tally anomalies`: a stored metric or a
//! `timestamp,value` CSV, analysed through the facade and printed as text or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use tally_api::{
    Analytics, AnomalyConfig, FilterNames, Granularity, Polarity, ProfileKind, SeriesQuery,
    SeriesSource, metric_names,
};

use crate::args::FilterArgs;

/// Where the series comes from, shared by the three commands.
#[derive(Debug, Args)]
pub struct SeriesArgs {
    /// The stored metric: executions, success_rate, error_rate, cost, tokens,
    /// p95_latency, requests, request_error_rate, request_p95_latency, runs, errors,
    /// sessions, quality, completion_rate.
    #[arg(long, conflicts_with = "csv")]
    pub metric: Option<String>,
    /// A `timestamp,value` CSV instead of a stored metric.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// With --csv: a rise of the values is bad news (cost, latency, errors).
    #[arg(long, requires = "csv")]
    pub lower_is_better: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Period length: day or hour (tool and model series are kept by day only).
    #[arg(long, default_value = "day")]
    pub granularity: String,
    /// Only this tool (execution metrics).
    #[arg(long)]
    pub tool: Option<String>,
    /// Only this model (execution metrics).
    #[arg(long)]
    pub model: Option<String>,
    /// Only this skill (completion_rate).
    #[arg(long)]
    pub skill: Option<String>,
    /// Only this user (sessions, quality, completion_rate).
    #[arg(long)]
    pub user: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TrendArgs {
    #[command(flatten)]
    pub series: SeriesArgs,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub series: SeriesArgs,
    /// Steps ahead (days or hours).
    #[arg(long, default_value_t = 14)]
    pub horizon: usize,
}

#[derive(Debug, Args)]
pub struct AnomaliesArgs {
    #[command(flatten)]
    pub series: SeriesArgs,
    /// Points before each point the rolling detector compares it with.
    #[arg(long, default_value_t = 24)]
    pub window: usize,
}

fn source(args: &SeriesArgs) -> anyhow::Result<SeriesSource> {
    if let Some(path) = &args.csv {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let polarity = if args.lower_is_better {
            Polarity::LowerIsBetter
        } else {
            Polarity::HigherIsBetter
        };
        return Ok(SeriesSource::Csv { text, polarity });
    }
    let Some(metric) = args.metric.clone() else {
        bail!(
            "give --metric NAME or --csv FILE; metrics: {}",
            metric_names().join(", ")
        );
    };
    let granularity = match args.granularity.as_str() {
        "day" => Granularity::Day,
        "hour" => Granularity::Hour,
        other => bail!("--granularity must be day or hour, got {other:?}"),
    };
    let filter = tally_api::parse_filter(
        args.filter.project.as_deref(),
        args.filter.from.as_deref(),
        args.filter.to.as_deref(),
        FilterNames {
            project: "--project",
            from: "--from",
            to: "--to",
        },
    )?;
    Ok(SeriesSource::Store(SeriesQuery {
        metric,
        filter,
        granularity,
        tool: args.tool.clone(),
        model: args.model.clone(),
        skill: args.skill.clone(),
        user: args.user.clone(),
    }))
}

/// A value with thousands separators and at most four significant decimals.
fn plain(value: f64) -> String {
    let decimals = if value.abs() >= 100.0 { 2 } else { 4 };
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
}

pub fn trend(analytics: &Analytics, args: TrendArgs) -> anyhow::Result<ExitCode> {
    let report = analytics.trend(&source(&args.series)?)?;
    if args.series.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let t = &report.trend;
    println!(
        "{}: {} points, {} to {}",
        report.metric,
        t.n,
        t.first_timestamp.as_deref().unwrap_or("-"),
        t.last_timestamp.as_deref().unwrap_or("-")
    );
    println!("{}", t.summary);
    println!(
        "least squares  slope {:.6} per step (stderr {:.6}, p {:.4})",
        t.slope, t.slope_stderr, t.slope_p_value
    );
    println!("change         {}%", number(t.change_pct));
    println!(
        "Mann-Kendall   S {} z {:.4} p {:.4} tau {:.4}",
        t.mk_s, t.mk_z, t.mk_p_value, t.mk_tau
    );
    println!("Sen's slope    {:.6} per step", t.sen_slope);
    let seasons = &report.seasonality;
    for profile in [&seasons.hour_of_day, &seasons.day_of_week]
        .into_iter()
        .flatten()
    {
        if let Some(kw) = profile.kruskal_wallis {
            println!(
                "{} effect: Kruskal-Wallis H {:.3}, p {:.4}{}",
                match profile.kind {
                    ProfileKind::HourOfDay => "hour-of-day",
                    ProfileKind::DayOfWeek => "day-of-week",
                },
                kw.h,
                kw.p_value,
                if profile.significant {
                    " (significant)"
                } else {
                    ""
                }
            );
        }
    }
    if let (Some(best), Some(worst)) = (&seasons.best_day, &seasons.worst_day) {
        println!("best day {best}, worst day {worst}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn forecast(analytics: &Analytics, args: ForecastArgs) -> anyhow::Result<ExitCode> {
    let report = analytics.forecast(&source(&args.series)?, args.horizon)?;
    if args.series.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let f = &report.forecast;
    println!(
        "{}: {} forecast, MASE {} ({})",
        report.metric,
        report.model_label,
        number(f.mase),
        f.backtests
            .iter()
            .map(|b| format!("{} {:.3}", b.model.label(), b.mase))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "{:<22} {:>14} {:>14} {:>14}",
        "timestamp", "forecast", "lower 95%", "upper 95%"
    );
    for point in &f.points {
        println!(
            "{:<22} {:>14} {:>14} {:>14}",
            point.timestamp,
            plain(point.value),
            plain(point.lower),
            plain(point.upper)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn anomalies(analytics: &Analytics, args: AnomaliesArgs) -> anyhow::Result<ExitCode> {
    let config = AnomalyConfig {
        rolling_window: args.window,
        ..AnomalyConfig::default()
    };
    let report = analytics.anomalies(&source(&args.series)?, &config)?;
    if args.series.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let r = &report.report;
    println!(
        "{}: {} points, {} {}",
        r.metric,
        r.points,
        r.anomalies.len(),
        if r.anomalies.len() == 1 {
            "anomaly"
        } else {
            "anomalies"
        }
    );
    if let Some(note) = &r.note {
        println!("{note}");
    }
    if !r.partial_periods.is_empty() {
        println!(
            "left out (partial periods): {}",
            r.partial_periods.join(", ")
        );
    }
    if !r.anomalies.is_empty() {
        println!(
            "{:<22} {:>14} {:>14} {:>25} {:>8}  found by",
            "timestamp", "value", "expected", "usual range", "severity"
        );
    }
    for a in &r.anomalies {
        let detectors: Vec<&str> = a.detectors.iter().map(|d| d.label()).collect();
        println!(
            "{:<22} {:>14} {:>14} {:>25} {:>8}  {}",
            a.timestamp,
            plain(a.value),
            plain(a.expected),
            format!("{} to {}", plain(a.lower), plain(a.upper)),
            crate::render::words(&a.severity),
            detectors.join(", ")
        );
    }
    for insight in &r.insights {
        println!("{}", insight.message);
    }
    Ok(ExitCode::SUCCESS)
}
