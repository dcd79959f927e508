//! CSV with a header row of field names, one kind per file.
//!
//! Cells are untyped text that validation reads as each field's type; empty cells are
//! absent fields; `topics` is split on `;`; `models`, `metrics`, `quality_breakdown`
//! and `attrs` are JSON (see `tally_models::csv_cell`). A file without a `kind` column
//! takes its kind from the caller. A cell an export made inert (`'=…`, `''…`) loses
//! that one `'` (see `tally_models::without_inert_prefix`).

use std::borrow::Cow;
use std::io::BufRead;

use tally_models::{CsvCell, FieldValue, Kind, csv_cell, without_inert_prefix};
use tally_store::Position;

use super::limit::{Capped, READ_AHEAD, RecordTooLong};
use super::{ParseFailure, RawRecord, RecordValue};
use crate::{Error, Result};

/// Reads CSV records, none longer than `max_record` bytes: a longer one is rejected
/// and ends the input (there is no telling where it would end). Hands each record on
/// with the header line (written back as CSV) for the quarantine.
pub(crate) fn read_csv(
    reader: &mut dyn BufRead,
    name: &str,
    default_kind: Option<Kind>,
    max_record: usize,
    sink: &mut dyn FnMut(RawRecord<'_>, &str) -> Result<()>,
) -> Result<()> {
    let input_error = |message: String| Error::Input {
        source_name: name.to_owned(),
        message,
    };
    let (capped, record_start) = Capped::new(reader, max_record);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(READ_AHEAD as usize / 2)
        .from_reader(capped);
    let header = csv
        .byte_headers()
        .map_err(|e| input_error(format!("reading the CSV header: {e}")))?
        .clone();
    let mut names = Vec::with_capacity(header.len());
    for (column, cell) in header.iter().enumerate() {
        let text = std::str::from_utf8(cell).map_err(|_| {
            input_error(format!("CSV header column {}: not valid UTF-8", column + 1))
        })?;
        let text = if column == 0 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        names.push(text.trim().to_owned());
    }
    let has_kind = names.iter().any(|n| n == "kind");
    let kind_word = match (has_kind, default_kind) {
        (true, _) => None,
        (false, Some(kind)) => Some(kind.as_str()),
        (false, None) => {
            return Err(input_error(
                "CSV has no `kind` column; name the kind of its records (`--kind`)".to_owned(),
            ));
        }
    };
    let header_line = String::from_utf8_lossy(&write_row(header.iter())).into_owned();
    let mut record = csv::ByteRecord::new();
    loop {
        let next = csv.position().clone();
        record_start.set(next.byte());
        match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                if let csv::ErrorKind::Io(io) = e.kind() {
                    if RecordTooLong::is(io) {
                        let message = format!(
                            "record is longer than the {max_record}-byte limit; the rest of the input from here is not read"
                        );
                        return sink(
                            RawRecord {
                                position: Position::Line(next.line()),
                                raw: &[],
                                value: Err(ParseFailure::record(message)),
                            },
                            &header_line,
                        );
                    }
                    return Err(input_error(e.to_string()));
                }
                let failure = ParseFailure::record(format!("not valid CSV: {e}"));
                sink(
                    RawRecord {
                        position: Position::Line(line),
                        raw: &[],
                        value: Err(failure),
                    },
                    &header_line,
                )?;
                continue;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let raw = write_row(record.iter());
        let value = if record.len() != names.len() {
            Err(ParseFailure::record(format!(
                "row has {} cells, the header {}",
                record.len(),
                names.len()
            )))
        } else {
            fields(&names, &record, kind_word).map(RecordValue::Fields)
        };
        sink(
            RawRecord {
                position: Position::Line(line),
                raw: &raw,
                value,
            },
            &header_line,
        )?;
    }
}

fn fields<'r>(
    names: &'r [String],
    record: &'r csv::ByteRecord,
    kind: Option<&'static str>,
) -> Result<FieldValue<'r>, ParseFailure> {
    let mut fields = Vec::with_capacity(names.len() + 1);
    if let Some(kind) = kind {
        fields.push((
            Cow::Borrowed("kind"),
            FieldValue::Untyped(Cow::Borrowed(kind)),
        ));
    }
    for (name, cell) in names.iter().zip(record.iter()) {
        let text = std::str::from_utf8(cell).map_err(|e| ParseFailure {
            field: name.clone(),
            message: format!(
                "not valid UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
        })?;
        // An exported cell made inert reads back as it was.
        let text = without_inert_prefix(text);
        if text.is_empty() {
            continue;
        }
        let value = match csv_cell(name) {
            CsvCell::Text => FieldValue::Untyped(Cow::Borrowed(text)),
            CsvCell::List => FieldValue::List(
                text.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| FieldValue::Untyped(Cow::Borrowed(t)))
                    .collect(),
            ),
            CsvCell::Json => {
                serde_json::from_str::<FieldValue<'_>>(text).map_err(|e| ParseFailure {
                    field: name.clone(),
                    message: format!("must be JSON in a CSV cell: {e}"),
                })?
            }
        };
        fields.push((Cow::Borrowed(name.as_str()), value));
    }
    Ok(FieldValue::Map(fields))
}

/// One row written back as CSV (quoting as needed; bytes kept as they are).
fn write_row<'a>(cells: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(cells);
    let mut bytes = writer.into_inner().unwrap_or_default();
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}
