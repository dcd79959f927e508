//! `tally export`: the format from `--format` or the name of `--out`, a name that
//! matches what is written, no binary on a terminal, and progress while it runs.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tally_api::{Analytics, ExportFormat, Filter};

use crate::progress::{ExportProgress, ProgressWriter};

/// What `--format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Stream(ExportFormat),
    /// A directory of Parquet files.
    Parquet,
}

impl Format {
    fn parse(name: &str) -> anyhow::Result<Format> {
        if name == "parquet" {
            return Ok(Format::Parquet);
        }
        match ExportFormat::from_name(name) {
            Some(format) => Ok(Format::Stream(format)),
            None => bail!("unknown export format {name:?}; expected jsonl, json, csv or parquet"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Stream(ExportFormat::JsonLines) => "jsonl",
            Format::Stream(ExportFormat::Json) => "json",
            Format::Stream(ExportFormat::CsvZip) => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The name ending a file of this format has.
    fn extension(self) -> &'static str {
        match self {
            Format::Stream(ExportFormat::JsonLines) => "jsonl",
            Format::Stream(ExportFormat::Json) => "json",
            Format::Stream(ExportFormat::CsvZip) => "zip",
            Format::Parquet => "parquet",
        }
    }

    /// The format a file name promises, when its extension is one tally writes or
    /// that names a format (`.csv`: one CSV file, which tally does not write).
    fn of_name(path: &Path) -> Option<Result<Format, &'static str>> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match extension.as_str() {
            "jsonl" | "ndjson" => Ok(Format::Stream(ExportFormat::JsonLines)),
            "json" => Ok(Format::Stream(ExportFormat::Json)),
            "zip" => Ok(Format::Stream(ExportFormat::CsvZip)),
            "parquet" => Ok(Format::Parquet),
            "csv" => Err("csv"),
            _ => return None,
        })
    }
}

/// Chooses the format: `--format`, else the extension of `--out`, else JSON Lines;
/// refuses an `--out` whose name promises something else.
fn choose(format: Option<&str>, out: Option<&Path>) -> anyhow::Result<Format> {
    let named = out.and_then(Format::of_name);
    let format = match (format, &named) {
        (Some(name), _) => Format::parse(name)?,
        (None, Some(Ok(format))) => *format,
        (None, _) => Format::Stream(ExportFormat::JsonLines),
    };
    let Some(out) = out else {
        return Ok(format);
    };
    let promised = match named {
        Some(Ok(promised)) if promised == format => return Ok(format),
        None => return Ok(format),
        Some(Ok(promised)) => promised.name(),
        Some(Err(word)) => word,
    };
    let suggestion = out.with_extension(format.extension());
    let what = match format {
        Format::Stream(ExportFormat::CsvZip) => "a zip archive of one CSV file per kind",
        Format::Stream(ExportFormat::Json) => "a JSON array",
        Format::Stream(ExportFormat::JsonLines) => "JSON Lines",
        Format::Parquet => "a directory of Parquet files",
    };
    bail!(
        "--out {} is named like {promised} but --format {} writes {what}: name it {}",
        out.display(),
        format.name(),
        suggestion.display()
    )
}

pub fn export(
    analytics: &Analytics,
    format: Option<&str>,
    out: Option<&Path>,
    filter: &Filter,
) -> anyhow::Result<ExitCode> {
    match choose(format, out)? {
        Format::Parquet => {
            let Some(dir) = out else {
                bail!("--format parquet writes a directory of files: give it with --out DIR");
            };
            if dir.exists() && !dir.is_dir() {
                bail!(
                    "--out {} is a file, and --format parquet writes a directory of files \
                     (one per kind): give a directory that does not exist yet or is empty",
                    dir.display()
                );
            }
            let progress = ExportProgress::start(dir, false);
            let written = analytics
                .export_parquet(filter, dir)
                .with_context(|| format!("writing Parquet files into {}", dir.display()))?;
            progress.finish();
            eprintln!("exported {written} events to {}", dir.display());
        }
        Format::Stream(format) => match out {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let progress = ExportProgress::start(path, true);
                let mut writer = ProgressWriter::new(std::io::BufWriter::new(file), &progress);
                let written = analytics
                    .export(format, filter, &mut writer)
                    .with_context(|| format!("writing {}", path.display()))?;
                progress.finish();
                eprintln!("exported {written} events to {}", path.display());
            }
            None => {
                if format == ExportFormat::CsvZip && std::io::stdout().is_terminal() {
                    bail!(
                        "--format csv writes a zip archive, which a terminal cannot show: \
                         give --out FILE.zip or redirect the output to a file"
                    );
                }
                let stdout = std::io::stdout().lock();
                analytics.export(format, filter, &mut std::io::BufWriter::new(stdout))?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_of_out_chooses_or_must_match_the_format() {
        let zip = Format::Stream(ExportFormat::CsvZip);
        assert_eq!(choose(None, Some(Path::new("all.zip"))).unwrap(), zip);
        assert_eq!(
            choose(Some("csv"), Some(Path::new("all.zip"))).unwrap(),
            zip
        );
        assert_eq!(
            choose(None, Some(Path::new("out"))).unwrap(),
            Format::Stream(ExportFormat::JsonLines)
        );
        assert_eq!(
            choose(Some("parquet"), Some(Path::new("dir"))).unwrap(),
            Format::Parquet
        );
        let error = choose(Some("csv"), Some(Path::new("all.csv")))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "--out all.csv is named like csv but --format csv writes a zip archive of one CSV \
             file per kind: name it all.zip"
        );
        let error = choose(Some("json"), Some(Path::new("x.jsonl")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("name it x.json"), "{error}");
        assert!(choose(None, Some(Path::new("all.csv"))).is_err());
    }
}
