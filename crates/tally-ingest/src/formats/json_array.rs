//! A JSON array of records (or a single JSON object), read element by element.

use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use tally_store::Position;

use super::json_lines::json_text;
use super::limit::{READ_AHEAD, RecordTooLong};
use super::{ParseFailure, RawRecord, RecordValue, Sink};
use crate::{Error, Result};

/// Most bytes of a broken array's remainder kept in quarantine.
const MAX_REMAINDER: u64 = 16 * 1024 * 1024;

/// Keeps a copy of the bytes read since the last element, so that a syntax error can
/// quarantine exactly what was not yet accounted for; refuses to read on once that is
/// longer than a record may be (an element without end is never buffered whole).
struct Recorder<'r> {
    inner: &'r mut dyn BufRead,
    recorded: Rc<RefCell<Vec<u8>>>,
    max_record: usize,
}

impl Read for Recorder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let held = self.recorded.borrow().len();
        let room = (self.max_record + READ_AHEAD as usize).saturating_sub(held);
        if room == 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                RecordTooLong {
                    max_record: self.max_record,
                },
            ));
        }
        let len = buf.len().min(room);
        let n = self.inner.read(&mut buf[..len])?;
        self.recorded.borrow_mut().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

pub(crate) fn read_json_array(
    reader: &mut dyn BufRead,
    name: &str,
    max_record: usize,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let recorded = Rc::new(RefCell::new(Vec::new()));
    let mut elements = Elements {
        sink,
        recorded: Rc::clone(&recorded),
        index: 0,
        stopped: None,
    };
    let outcome = {
        let mut de = serde_json::Deserializer::from_reader(Recorder {
            inner: reader,
            recorded: Rc::clone(&recorded),
            max_record,
        });
        let result = (&mut elements).deserialize(&mut de);
        result.and_then(|()| de.end())
    };
    if let Some(stop) = elements.stopped.take() {
        return Err(stop);
    }
    let Err(error) = outcome else { return Ok(()) };
    // The input broke mid-array: quarantine what was read since the last good element
    // and the rest of the input, as one record at the index where it broke.
    let mut raw = std::mem::take(&mut *recorded.borrow_mut());
    reader
        .take(MAX_REMAINDER)
        .read_to_end(&mut raw)
        .map_err(|error| Error::Io {
            source_name: name.to_owned(),
            error,
        })?;
    let message = format!(
        "not valid JSON: {error}; the rest of the input from here is kept in quarantine (at most {MAX_REMAINDER} bytes)"
    );
    (elements.sink)(RawRecord {
        position: Position::Index(elements.index),
        raw: &raw,
        value: Err(ParseFailure::record(message)),
    })
}

struct Elements<'s, 'k> {
    sink: &'s mut Sink<'k>,
    recorded: Rc<RefCell<Vec<u8>>>,
    index: u64,
    /// The sink's own error, which must not be mistaken for bad JSON.
    stopped: Option<Error>,
}

impl Elements<'_, '_> {
    fn emit<E: serde::de::Error>(&mut self, raw: &RawValue) -> Result<(), E> {
        let text = raw.get().as_bytes();
        let record = RawRecord {
            position: Position::Index(self.index),
            raw: text,
            value: json_text(text).map(RecordValue::Json),
        };
        self.recorded.borrow_mut().clear();
        self.index += 1;
        (self.sink)(record).map_err(|stop| {
            self.stopped = Some(stop);
            E::custom("ingest stopped")
        })
    }
}

impl<'de> DeserializeSeed<'de> for &mut Elements<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records or one record object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.recorded.borrow_mut().clear();
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.emit(&raw)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        // A lone object is one record; read it whole, then hand it on.
        let value: serde_json::Map<String, serde_json::Value> =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let text = serde_json::to_string(&value).map_err(serde::de::Error::custom)?;
        let raw = RawValue::from_string(text).map_err(serde::de::Error::custom)?;
        self.emit(&raw)
    }
}
