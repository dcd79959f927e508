//! JSON Lines: one object per line; a bad line is one rejected record.

use std::io::BufRead;

use tally_models::FieldValue;
use tally_store::Position;

use super::{ParseFailure, RawRecord, RecordValue, Sink};
use crate::{Error, Result};

/// Reads `reader` line by line. Lines longer than `max_record` bytes are rejected
/// (their first `max_record` bytes are kept) without being buffered whole.
pub(crate) fn read_json_lines(
    reader: &mut dyn BufRead,
    name: &str,
    max_record: usize,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        line.clear();
        let Line { total, content } =
            read_line_limited(reader, &mut line, max_record).map_err(|error| Error::Io {
                source_name: name.to_owned(),
                error,
            })?;
        if total == 0 {
            return Ok(());
        }
        number += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        let mut text: &[u8] = &line;
        if number == 1 {
            text = text
                .strip_prefix(b"\xEF\xBB\xBF".as_slice())
                .unwrap_or(text);
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let oversized = content > max_record;
        let raw = if oversized {
            &text[..text.len().min(max_record)]
        } else {
            text
        };
        let value = if oversized {
            Err(ParseFailure::record(format!(
                "record is {content} bytes, more than the {max_record}-byte limit; its first {max_record} bytes are kept"
            )))
        } else {
            json_text(text).map(RecordValue::Json)
        };
        sink(RawRecord {
            position: Position::Line(number),
            raw,
            value,
        })?;
    }
}

/// A JSON record's bytes as text, checking UTF-8 first so the message can say where it
/// breaks.
pub(crate) fn json_text(bytes: &[u8]) -> Result<&str, ParseFailure> {
    std::str::from_utf8(bytes).map_err(|e| {
        ParseFailure::record(format!(
            "not valid UTF-8: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })
}

/// Parses one JSON record into fields.
pub(crate) fn parse_json_text(text: &str) -> Result<FieldValue<'_>, ParseFailure> {
    serde_json::from_str(text).map_err(|e| ParseFailure::record(format!("not valid JSON: {e}")))
}

/// The length of a line as read: with its line end, and without (`\n` or `\r\n`).
struct Line {
    total: usize,
    content: usize,
}

/// Appends one line (with its `\n`) to `out`, keeping at most `limit + 1` bytes.
fn read_line_limited(
    reader: &mut dyn BufRead,
    out: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Line> {
    let mut total = 0;
    let mut last_two = [0u8; 2];
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(Line {
                total,
                content: total,
            });
        }
        let (chunk, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let room = (limit + 1).saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        total += used;
        for &b in chunk.iter().rev().take(2).rev() {
            last_two = [last_two[1], b];
        }
        reader.consume(used);
        if done {
            let ending = if last_two == *b"\r\n" { 2 } else { 1 };
            return Ok(Line {
                total,
                content: total - ending,
            });
        }
    }
}
