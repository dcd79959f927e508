//! The `tally` command: thin argument handling over `tally_api::Analytics`.

mod alerts;
mod args;
mod commands;
mod compare;
mod dashboards;
mod events;
mod experiment;
mod export;
mod goals;
mod leaderboard;
mod learning;
mod migrate;
mod predict;
mod progress;
mod render;
mod series;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the ingest path allocates and frees small strings on two threads, where
/// glibc's allocator costs ~15 % of parse time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    exit_quietly_when_stdout_closes();
    let cli = args::Cli::parse();
    install_logging(&cli);
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) if reader_went_away(&error) => ExitCode::from(STOPPED_BY_READER),
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr, filtered by `TALLY_LOG` (the server logs its start, stop,
/// requests and failures by default; other commands only warn), as text coloured only
/// on a terminal without `NO_COLOR`, or as one JSON object a line.
fn install_logging(cli: &args::Cli) {
    let default_filter = match cli.command {
        args::Command::Serve(_) => "warn,tally_api=info",
        _ => "warn",
    };
    // An empty `TALLY_LOG` is no setting (it would otherwise silence everything).
    let filter = std::env::var("TALLY_LOG")
        .ok()
        .filter(|text| !text.trim().is_empty())
        .and_then(|text| tracing_subscriber::EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| default_filter.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        args::LogFormat::Text => builder.with_ansi(colour_on_stderr()).init(),
        args::LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

/// Colour only for a person at a terminal who has not asked for none
/// (<https://no-color.org>: `NO_COLOR` set to anything but the empty string).
fn colour_on_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An error and its causes on one line, each said once: a cause whose text its
/// context already shows (`{e}` and `#[source]` on the same error) is not repeated.
fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The status a shell gives a process ended by `SIGPIPE`.
const STOPPED_BY_READER: u8 = 141;

/// Whether the command failed only because whoever read its output stopped reading.
fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `tally query tools | head` closes the pipe while tally still prints: `println!` then
/// panics with "failed printing to stdout: Broken pipe", and writers that return errors
/// fail with it (`reader_went_away`). Such a reader wanted no more, so tally stops
/// quietly with [`STOPPED_BY_READER`] (Rust ignores `SIGPIPE`, and restoring it would
/// need `unsafe`). Every other panic is reported as before.
fn exit_quietly_when_stdout_closes() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(STOPPED_BY_READER));
        }
        report(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("sqlite: {0}")]
    struct Wrapped(#[from] std::io::Error);

    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        let io = std::io::Error::other("file is not a database");
        let error = anyhow::Error::from(Wrapped(io)).context("opening database ./x.db");
        assert_eq!(
            describe(&error),
            "opening database ./x.db: sqlite: file is not a database"
        );
        let plain = anyhow::Error::from(std::io::Error::other("disk full")).context("writing out");
        assert_eq!(describe(&plain), "writing out: disk full");
    }
}
