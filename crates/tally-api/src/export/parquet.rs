//! The Parquet export: one file per kind in a directory, typed columns (text, 64-bit
//! integers, doubles, booleans, UTC millisecond timestamps), Snappy-compressed, written
//! in row groups of [`ROW_GROUP`] rows so memory stays flat.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::Value;
use tally_models::{Event, Kind};

use super::{cell, csv_columns};
use crate::{Error, Result};

/// Rows per row group.
pub const ROW_GROUP: usize = 65_536;

/// The Parquet type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Int,
    Float,
    Bool,
    Timestamp,
}

/// The type of `column` in `kind`'s file.
pub fn column_type(kind: Kind, column: &str) -> ColumnType {
    match column {
        "ts" => ColumnType::Timestamp,
        "success" | "browser_used" | "completed" => ColumnType::Bool,
        "duration_ms" | "cost_usd" | "duration_s" | "quality" | "cpu_pct" | "mem_pct"
        | "disk_pct" | "load1" | "latency_ms" => ColumnType::Float,
        "input_tokens" | "output_tokens" | "cache_read_tokens" | "cache_write_tokens"
        | "reasoning_tokens" | "exchanges" | "rating" | "active_tasks" | "queued_tasks"
        | "capacity" => ColumnType::Int,
        "status" if kind == Kind::Request => ColumnType::Int,
        _ => ColumnType::Text,
    }
}

/// Every column of `kind`'s file, in order.
pub fn columns(kind: Kind) -> Vec<&'static str> {
    ["id", "ts", "project"]
        .into_iter()
        .chain(csv_columns(kind).iter().copied())
        .chain(["attrs"])
        .collect()
}

fn schema(kind: Kind) -> String {
    let fields: Vec<String> = columns(kind)
        .into_iter()
        .map(|name| {
            let required = if matches!(name, "ts" | "project") {
                "REQUIRED"
            } else {
                "OPTIONAL"
            };
            let physical = match column_type(kind, name) {
                ColumnType::Text => "BYTE_ARRAY",
                ColumnType::Int | ColumnType::Timestamp => "INT64",
                ColumnType::Float => "DOUBLE",
                ColumnType::Bool => "BOOLEAN",
            };
            let logical = match column_type(kind, name) {
                ColumnType::Text => " (UTF8)",
                ColumnType::Timestamp => " (TIMESTAMP(MILLIS,true))",
                _ => "",
            };
            format!("{required} {physical} {name}{logical};")
        })
        .collect();
    format!("message {} {{ {} }}", kind.as_str(), fields.join(" "))
}

fn parquet_error(error: parquet::errors::ParquetError) -> Error {
    Error::Io(std::io::Error::other(error))
}

/// One column's values of the buffered rows.
enum Values {
    Text(Vec<ByteArray>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

struct Column {
    values: Values,
    /// 1 where the row has a value, 0 where it is null.
    defined: Vec<i16>,
    required: bool,
}

/// The file of one kind being written.
struct KindFile {
    kind: Kind,
    names: Vec<&'static str>,
    columns: Vec<Column>,
    rows: usize,
    writer: SerializedFileWriter<File>,
}

impl KindFile {
    fn create(dir: &Path, kind: Kind) -> Result<KindFile> {
        let schema = Arc::new(parse_message_type(&schema(kind)).map_err(parquet_error)?);
        let properties = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_created_by("tally".to_owned())
                .build(),
        );
        let path: PathBuf = dir.join(format!("{}.parquet", kind.as_str()));
        let file = File::create(&path)?;
        let writer = SerializedFileWriter::new(file, schema, properties).map_err(parquet_error)?;
        let names = columns(kind);
        let columns = names
            .iter()
            .map(|name| Column {
                values: match column_type(kind, name) {
                    ColumnType::Text => Values::Text(Vec::new()),
                    ColumnType::Int | ColumnType::Timestamp => Values::Int(Vec::new()),
                    ColumnType::Float => Values::Float(Vec::new()),
                    ColumnType::Bool => Values::Bool(Vec::new()),
                },
                defined: Vec::new(),
                required: matches!(*name, "ts" | "project"),
            })
            .collect();
        Ok(KindFile {
            kind,
            names,
            columns,
            rows: 0,
            writer,
        })
    }

    fn push(&mut self, event: &Event) -> Result<()> {
        let value = serde_json::to_value(event).map_err(std::io::Error::from)?;
        for (name, column) in self.names.iter().zip(&mut self.columns) {
            let field = value.get(*name).filter(|v| !v.is_null());
            let present = match (&mut column.values, field) {
                (Values::Int(values), _) if *name == "ts" => {
                    values.push(event.ts.timestamp_millis());
                    true
                }
                (_, None) => false,
                (Values::Text(values), Some(v)) => {
                    let text = cell(name, Some(v));
                    let empty = text.is_empty() && matches!(v, Value::Object(_));
                    if !empty {
                        values.push(ByteArray::from(text.into_bytes()));
                    }
                    !empty
                }
                (Values::Int(values), Some(v)) => match v.as_i64() {
                    Some(i) => {
                        values.push(i);
                        true
                    }
                    None => false,
                },
                (Values::Float(values), Some(v)) => match v.as_f64() {
                    Some(f) => {
                        values.push(f);
                        true
                    }
                    None => false,
                },
                (Values::Bool(values), Some(v)) => match v.as_bool() {
                    Some(b) => {
                        values.push(b);
                        true
                    }
                    None => false,
                },
            };
            column.defined.push(i16::from(present));
        }
        self.rows += 1;
        if self.rows == ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group().map_err(parquet_error)?;
        for column in &mut self.columns {
            let mut writer = group.next_column().map_err(parquet_error)?.ok_or_else(|| {
                Error::Io(std::io::Error::other("parquet schema has fewer columns"))
            })?;
            let levels = (!column.required).then_some(column.defined.as_slice());
            match &mut column.values {
                Values::Text(v) => writer.typed::<ByteArrayType>().write_batch(v, levels, None),
                Values::Int(v) => writer.typed::<Int64Type>().write_batch(v, levels, None),
                Values::Float(v) => writer.typed::<DoubleType>().write_batch(v, levels, None),
                Values::Bool(v) => writer.typed::<BoolType>().write_batch(v, levels, None),
            }
            .map_err(parquet_error)?;
            writer.close().map_err(parquet_error)?;
            match &mut column.values {
                Values::Text(v) => v.clear(),
                Values::Int(v) => v.clear(),
                Values::Float(v) => v.clear(),
                Values::Bool(v) => v.clear(),
            }
            column.defined.clear();
        }
        group.close().map_err(parquet_error)?;
        self.rows = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.writer.close().map_err(parquet_error)?;
        Ok(())
    }
}

/// Writes events (arriving kind by kind) into one Parquet file per kind under `dir`.
pub(super) struct ParquetDir<'d> {
    dir: &'d Path,
    current: Option<KindFile>,
}

impl<'d> ParquetDir<'d> {
    pub(super) fn new(dir: &'d Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(ParquetDir { dir, current: None })
    }

    pub(super) fn push(&mut self, event: &Event) -> Result<()> {
        if self.current.as_ref().is_none_or(|f| f.kind != event.kind()) {
            if let Some(done) = self.current.take() {
                done.finish()?;
            }
            self.current = Some(KindFile::create(self.dir, event.kind())?);
        }
        match &mut self.current {
            Some(file) => file.push(event),
            None => Ok(()),
        }
    }

    pub(super) fn finish(mut self) -> Result<()> {
        match self.current.take() {
            Some(file) => file.finish(),
            None => Ok(()),
        }
    }
}
