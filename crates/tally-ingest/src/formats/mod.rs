//! The framings tally reads. Each reader walks its input and hands every record, with
//! its position and its verbatim bytes, to a sink; a record that cannot even be parsed
//! still reaches the sink (as a [`ParseFailure`]) so it can be quarantined.

mod csv;
mod json_array;
mod json_lines;
mod limit;

pub(crate) use self::csv::read_csv;
pub(crate) use json_array::read_json_array;
pub(crate) use json_lines::{json_text, read_json_lines};

use tally_models::{Event, FieldError, FieldValue, ValidationContext, record_id_hint};
use tally_store::Position;

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
    pub value: Result<RecordValue<'a>, ParseFailure>,
}

/// A record's content as its reader hands it on.
#[derive(Debug)]
pub enum RecordValue<'a> {
    /// A JSON record's text (valid UTF-8, not parsed yet), so that a record of the
    /// common shape can be read typed ([`Event::decode_json_fast`]).
    Json(&'a str),
    /// Fields parsed already (a CSV row).
    Fields(FieldValue<'a>),
}

/// Why a record was not accepted.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It could not be parsed at all.
    Unreadable(ParseFailure),
    /// It broke a rule of the wire format; `record_id` is the id it carried, if any.
    Invalid {
        record_id: Option<String>,
        error: FieldError,
    },
}

/// Validates a record as read: JSON of the common shape on the typed path, anything
/// else parsed into fields first.
pub(crate) fn decode_record(
    value: Result<RecordValue<'_>, ParseFailure>,
    ctx: &ValidationContext,
) -> Result<Event, Refused> {
    let fields = match value.map_err(Refused::Unreadable)? {
        RecordValue::Json(text) => match Event::decode_json_fast(text, ctx) {
            Some(event) => return Ok(event),
            None => json_lines::parse_json_text(text).map_err(Refused::Unreadable)?,
        },
        RecordValue::Fields(fields) => fields,
    };
    let id_hint = record_id_hint(&fields);
    Event::decode(fields, ctx).map_err(|error| Refused::Invalid {
        record_id: id_hint.map(|id| id.chars().take(128).collect()),
        error,
    })
}

/// Where a reader sends records; an `Err` stops the reader.
pub(crate) type Sink<'s> = dyn FnMut(RawRecord<'_>) -> crate::Result<()> + 's;
