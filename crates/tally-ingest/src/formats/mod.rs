//! The framings tally reads. Each reader walks its input and hands every record, with
//! its position and its verbatim bytes, to a sink; a record that cannot even be parsed
//! still reaches the sink (as a [`ParseFailure`]) so it can be quarantined.

mod csv;
mod json_array;
mod json_lines;

pub(crate) use self::csv::read_csv;
pub(crate) use json_array::read_json_array;
pub(crate) use json_lines::{parse_json_record as read_one_json, read_json_lines};

use tally_models::FieldValue;
use tally_storage::Position;

/// Why a record could not be turned into fields at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    /// The field at fault, empty when it is the record as a whole.
    pub field: String,
    pub message: String,
}

impl ParseFailure {
    pub(crate) fn record(message: impl Into<String>) -> Self {
        ParseFailure {
            field: String::new(),
            message: message.into(),
        }
    }
}

/// One record as read from its input.
#[derive(Debug)]
pub struct RawRecord<'a> {
    pub position: Position,
    /// The bytes exactly as they arrived (a CSV row is written back from its cells).
    pub raw: &'a [u8],
    pub value: Result<FieldValue<'a>, ParseFailure>,
}

/// Where a reader sends records; an `Err` stops the reader.
pub(crate) type Sink<'s> = dyn FnMut(RawRecord<'_>) -> crate::Result<()> + 's;
