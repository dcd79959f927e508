//! `tally export`: the format from `--format` or the name of `--out`, a name that
//! matches what is written, no binary on a terminal, and progress while it runs. With
//! `--analytics` (or `--format xlsx`) it writes the analytics sections instead of the
//! events.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tally_api::{Analytics, ExportFormat, Filter, SectionsFormat};

use crate::progress::{ExportProgress, ProgressWriter};

/// What `--format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Stream(ExportFormat),
    /// A directory of Parquet files.
    Parquet,
    /// The analytics sections (summary, projects, models, daily series, tools,
    /// learners' progress), not the events.
    Sections(SectionsFormat),
}

impl Format {
    /// `analytics`: `xml` names the sections' document rather than the events'.
    fn parse(name: &str, analytics: bool) -> anyhow::Result<Format> {
        let format = match name {
            "parquet" => Format::Parquet,
            "xlsx" => Format::Sections(SectionsFormat::Xlsx),
            "xml" if analytics => Format::Sections(SectionsFormat::Xml),
            _ => match ExportFormat::from_name(name) {
                Some(format) => Format::Stream(format),
                None => bail!(
                    "unknown export format {name:?}; expected jsonl, json, csv, parquet, xml \
                     or xlsx"
                ),
            },
        };
        if analytics && !matches!(format, Format::Sections(_)) {
            bail!("--analytics writes xlsx or xml, not {name}");
        }
        Ok(format)
    }

    fn name(self) -> &'static str {
        match self {
            Format::Stream(ExportFormat::JsonLines) => "jsonl",
            Format::Stream(ExportFormat::Json) => "json",
            Format::Stream(ExportFormat::CsvZip) => "csv",
            Format::Stream(ExportFormat::Xml) => "xml",
            Format::Parquet => "parquet",
            Format::Sections(format) => format.name(),
        }
    }

    /// The name ending a file of this format has.
    fn extension(self) -> &'static str {
        match self {
            Format::Stream(ExportFormat::JsonLines) => "jsonl",
            Format::Stream(ExportFormat::Json) => "json",
            Format::Stream(ExportFormat::CsvZip) => "zip",
            Format::Stream(ExportFormat::Xml) => "xml",
            Format::Parquet => "parquet",
            Format::Sections(format) => format.name(),
        }
    }

    /// The format a file name promises, when its extension is one tally writes or
    /// that names a format (`.csv`: one CSV file, which tally does not write).
    fn of_name(path: &Path, analytics: bool) -> Option<Result<Format, &'static str>> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match extension.as_str() {
            "jsonl" | "ndjson" => Ok(Format::Stream(ExportFormat::JsonLines)),
            "json" => Ok(Format::Stream(ExportFormat::Json)),
            "zip" => Ok(Format::Stream(ExportFormat::CsvZip)),
            "xml" if analytics => Ok(Format::Sections(SectionsFormat::Xml)),
            "xml" => Ok(Format::Stream(ExportFormat::Xml)),
            "xlsx" => Ok(Format::Sections(SectionsFormat::Xlsx)),
            "parquet" => Ok(Format::Parquet),
            "csv" => Err("csv"),
            _ => return None,
        })
    }
}

/// Chooses the format: `--format`, else the extension of `--out`, else JSON Lines (the
/// XLSX workbook with `analytics`); refuses an `--out` whose name promises something
/// else.
fn choose(format: Option<&str>, out: Option<&Path>, analytics: bool) -> anyhow::Result<Format> {
    let named = out.and_then(|out| Format::of_name(out, analytics));
    let format = match (format, &named) {
        (Some(name), _) => Format::parse(name, analytics)?,
        (None, Some(Ok(format))) if !analytics || matches!(format, Format::Sections(_)) => *format,
        (None, _) if analytics => Format::Sections(SectionsFormat::Xlsx),
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
        Format::Stream(ExportFormat::Xml) => "an XML document of the events",
        Format::Parquet => "a directory of Parquet files",
        Format::Sections(SectionsFormat::Xlsx) => "an XLSX workbook of the analytics sections",
        Format::Sections(SectionsFormat::Xml) => "an XML document of the analytics sections",
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
    analytics_sections: bool,
    filter: &Filter,
) -> anyhow::Result<ExitCode> {
    match choose(format, out, analytics_sections)? {
        Format::Sections(format) => {
            if format == SectionsFormat::Xlsx {
                crate::learning::refuse_binary_on_terminal(out, "xlsx", "FILE.xlsx")?;
            }
            let document = analytics.export_analytics(format, filter)?;
            match out {
                Some(path) => {
                    std::fs::write(path, &document)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "exported the analytics sections ({}) to {}",
                        format.name(),
                        path.display()
                    );
                }
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), &document)?,
            }
        }
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
        assert_eq!(
            choose(None, Some(Path::new("all.zip")), false).unwrap(),
            zip
        );
        assert_eq!(
            choose(Some("csv"), Some(Path::new("all.zip")), false).unwrap(),
            zip
        );
        assert_eq!(
            choose(None, Some(Path::new("out")), false).unwrap(),
            Format::Stream(ExportFormat::JsonLines)
        );
        assert_eq!(
            choose(Some("parquet"), Some(Path::new("dir")), false).unwrap(),
            Format::Parquet
        );
        let error = choose(Some("csv"), Some(Path::new("all.csv")), false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "--out all.csv is named like csv but --format csv writes a zip archive of one CSV \
             file per kind: name it all.zip"
        );
        let error = choose(Some("json"), Some(Path::new("x.jsonl")), false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("name it x.json"), "{error}");
        assert!(choose(None, Some(Path::new("all.csv")), false).is_err());
    }

    #[test]
    fn xlsx_and_analytics_write_the_sections() {
        let xlsx = Format::Sections(SectionsFormat::Xlsx);
        assert_eq!(
            choose(None, Some(Path::new("a.xlsx")), false).unwrap(),
            xlsx
        );
        assert_eq!(choose(Some("xlsx"), None, false).unwrap(), xlsx);
        assert_eq!(choose(None, None, true).unwrap(), xlsx);
        assert_eq!(
            choose(None, Some(Path::new("a.xml")), false).unwrap(),
            Format::Stream(ExportFormat::Xml)
        );
        assert_eq!(
            choose(None, Some(Path::new("a.xml")), true).unwrap(),
            Format::Sections(SectionsFormat::Xml)
        );
        let error = choose(Some("jsonl"), None, true).unwrap_err().to_string();
        assert_eq!(error, "--analytics writes xlsx or xml, not jsonl");
        let error = choose(Some("xlsx"), Some(Path::new("a.xml")), false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("name it a.xlsx"), "{error}");
    }
}
