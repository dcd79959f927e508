//! The analytics export as an Excel workbook (`rust_xlsxwriter`): one sheet per section,
//! typed cells (numbers as numbers, days and instants as dates), money, percent and
//! count formats, a bold header row frozen in place, and columns as wide as their
//! content. Text is always written as a string cell, so a project named `=HYPERLINK(…)`
//! stays text and never runs as a formula.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::sections::{Cell, CellType, SectionKind, Sections};
use crate::{Error, Result};

fn xlsx_error(error: XlsxError) -> Error {
    Error::Io(std::io::Error::other(error))
}

/// The cell format of a column type.
fn format_of(kind: CellType) -> Format {
    match kind {
        CellType::Text => Format::new(),
        CellType::Integer => Format::new().set_num_format("#,##0"),
        CellType::Number => Format::new().set_num_format("#,##0.00"),
        CellType::Money => Format::new().set_num_format("$#,##0.00"),
        CellType::Percent => Format::new().set_num_format("0.0%"),
        CellType::Date => Format::new().set_num_format("yyyy-mm-dd"),
        CellType::Instant => Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
    }
}

/// How many characters a cell shows, for the column's width.
fn shown_width(cell: &Cell, kind: CellType) -> usize {
    match cell {
        Cell::Empty => 0,
        Cell::Text(text) => text.chars().count(),
        Cell::Number(n) => match kind {
            CellType::Integer => format!("{n:.0}").len() + 3,
            _ => format!("{n:.2}").len() + 3,
        },
        Cell::Date(_) => 10,
        Cell::Instant(_) => 19,
    }
}

/// Instants are written in UTC without the zone (spreadsheets have none).
fn naive(instant: &DateTime<Utc>) -> chrono::NaiveDateTime {
    instant.naive_utc()
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    cell: &Cell,
    format: &Format,
) -> std::result::Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(text) => {
            sheet.write_string(row, column, text)?;
        }
        Cell::Number(n) => {
            sheet.write_number_with_format(row, column, *n, format)?;
        }
        Cell::Date(day) => {
            sheet.write_datetime_with_format(row, column, day, format)?;
        }
        Cell::Instant(instant) => {
            sheet.write_datetime_with_format(row, column, naive(instant), format)?;
        }
    }
    Ok(())
}

/// Widths in characters, clamped to something readable.
fn set_widths(sheet: &mut Worksheet, widths: &[usize]) -> std::result::Result<(), XlsxError> {
    for (column, width) in widths.iter().enumerate() {
        let width = (*width).clamp(8, 60) + 2;
        sheet.set_column_width(column as u16, width as f64)?;
    }
    Ok(())
}

/// The summary sheet: the filter, then one metric per row (`Metric`, `Value`).
fn summary_sheet(
    sheet: &mut Worksheet,
    sections: &Sections,
    row: &[Cell],
    bold: &Format,
) -> std::result::Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, "Metric", bold)?;
    sheet.write_string_with_format(0, 1, "Value", bold)?;
    let mut widths = vec![6usize, 5];
    let instant = |t: Option<DateTime<Utc>>| t.map_or(Cell::Empty, Cell::Instant);
    let filter_rows = [
        (
            "Project",
            Cell::Text(sections.project.clone().unwrap_or_else(|| "all".into())),
            CellType::Text,
        ),
        ("From", instant(sections.from), CellType::Instant),
        ("To (exclusive)", instant(sections.to), CellType::Instant),
    ];
    let metrics = SectionKind::Summary
        .columns()
        .iter()
        .zip(row)
        .map(|(column, cell)| (column.header, cell.clone(), column.kind));
    for (i, (name, cell, kind)) in filter_rows.into_iter().chain(metrics).enumerate() {
        let at = i as u32 + 1;
        sheet.write_string(at, 0, name)?;
        write_cell(sheet, at, 1, &cell, &format_of(kind))?;
        widths[0] = widths[0].max(name.chars().count());
        widths[1] = widths[1].max(shown_width(&cell, kind));
    }
    set_widths(sheet, &widths)
}

/// A table sheet: the header row, then one row per record.
fn table_sheet(
    sheet: &mut Worksheet,
    kind: SectionKind,
    rows: &[Vec<Cell>],
    bold: &Format,
) -> std::result::Result<(), XlsxError> {
    let columns = kind.columns();
    let formats: Vec<Format> = columns.iter().map(|c| format_of(c.kind)).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.header.chars().count()).collect();
    for (i, column) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, column.header, bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (i, cell) in row.iter().enumerate() {
            write_cell(sheet, r as u32 + 1, i as u16, cell, &formats[i])?;
            widths[i] = widths[i].max(shown_width(cell, columns[i].kind));
        }
    }
    set_widths(sheet, &widths)
}

/// The workbook's bytes.
///
/// # Errors
/// The workbook cannot be written (a value Excel cannot hold).
pub fn workbook(sections: &Sections) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for section in &sections.sections {
        let sheet = book.add_worksheet();
        sheet.set_name(section.kind.title()).map_err(xlsx_error)?;
        match section.kind {
            SectionKind::Summary => {
                let row = section.rows.first().map_or(&[][..], Vec::as_slice);
                summary_sheet(sheet, sections, row, &bold)
            }
            kind => table_sheet(sheet, kind, &section.rows, &bold),
        }
        .map_err(xlsx_error)?;
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}
