//! The fast path for JSON records of the common shape: an `execution` object whose
//! fields are all known (no `attrs`, no unknown fields), written plainly. A scanner made
//! for that one shape reads such a record straight into slots by name, without building
//! the [`FieldValue`] map and without the quadratic duplicate check; each slot is then
//! read by its place, through the same value rules as the general path (`number`,
//! `integer`, `text`, `timestamp`, ...).
//!
//! Anything the fast path does not take — another shape, a duplicate field, an escape
//! sequence, a nested value, a broken rule — returns `None`, and the caller decodes the
//! record on the general path (serde_json), which gives the exact error. So a record
//! decodes the same either way; property tests check it, on valid and broken JSON.
//!
//! Why not serde_json here too: read through serde's derived visitor, these 330-byte
//! lines took 15 % of an ingest's CPU time, half of the producer thread's parsing, and
//! simd-json and sonic-rs were slower still on lines this short. The scanner only has
//! to recognise flat objects of strings without escapes, plain numbers, booleans and
//! nulls, and to decline everything else.

use std::borrow::Cow;

use compact_str::CompactString;

use super::{
    ValidationContext, boolean, check_tokens, integer, number, project_name, text, timestamp, word,
};
use crate::bounds::{MAX_COST_USD, MAX_DURATION_MS, MAX_TOKENS};
use crate::error::{FieldError, Rule};
use crate::event::{Attrs, CostSource, Event, EventBody, EventId, Execution, TokenUsage, Usd};
use crate::value::FieldValue;

/// The envelope's fields.
const ENVELOPE: [&str; 4] = ["kind", "ts", "id", "project"];

/// The envelope and every field of an `execution`.
const FIELDS: [&str; ENVELOPE.len() + Execution::FIELDS.len()] = {
    let mut all = [""; ENVELOPE.len() + Execution::FIELDS.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < ENVELOPE.len() {
            ENVELOPE[i]
        } else {
            Execution::FIELDS[i - ENVELOPE.len()]
        };
        i += 1;
    }
    all
};

/// Where a name of [`FIELDS`] is, by its length and first byte (0 for none, else the
/// index plus one): no two names share both, which the build checks.
static FIELD_AT: [[u8; 128]; 32] = {
    let mut table = [[0u8; 128]; 32];
    let mut i = 0;
    while i < FIELDS.len() {
        let name = FIELDS[i].as_bytes();
        let cell = &mut table[name.len()][name[0] as usize];
        assert!(
            *cell == 0,
            "two field names share a length and a first byte"
        );
        *cell = i as u8 + 1;
        i += 1;
    }
    table
};

/// The index in [`FIELDS`] of the field named `name`.
fn field_index(name: &[u8]) -> Option<usize> {
    let first = usize::from(*name.first()?);
    let at = usize::from(*FIELD_AT.get(name.len())?.get(first)?);
    let index = at.checked_sub(1)?;
    same_bytes(FIELDS[index].as_bytes(), name).then_some(index)
}

/// Whether `a` and `b` are equal, compared a word or two at a time when short: for
/// names of a few bytes a `memcmp` call costs more than the compare.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let word =
        |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let half =
        |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default());
    // Overlapping words cover the lengths between their multiples.
    match len {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8),
        17..=24 => {
            word(a, 0) == word(b, 0)
                && word(a, 8) == word(b, 8)
                && word(a, len - 8) == word(b, len - 8)
        }
        _ => a == b,
    }
}

/// The slot of a field by its name, found at compile time.
macro_rules! slot {
    ($name:literal) => {
        const { slot_of($name) }
    };
}

/// The slot of the field named `name`; a name not in [`FIELDS`] fails the build.
const fn slot_of(name: &str) -> Slot {
    let mut i = 0;
    while i < FIELDS.len() {
        let field = FIELDS[i].as_bytes();
        if field.len() == name.len() {
            let mut at = 0;
            while at < field.len() && field[at] == name.as_bytes()[at] {
                at += 1;
            }
            if at == field.len() {
                return Slot {
                    name: FIELDS[i],
                    at: i,
                };
            }
        }
        i += 1;
    }
    panic!("not a field of the typed record")
}

/// A field's name (for the rules' messages) and its place among the slots.
#[derive(Clone, Copy)]
struct Slot {
    name: &'static str,
    at: usize,
}

/// A value as the scanner read it: borrowed and `Copy`, so filling and dropping the
/// slots costs nothing per field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scalar<'a> {
    /// Not sent.
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
}

/// One `execution` record's fields as sent, a slot per name of [`FIELDS`].
struct ExecutionRecord<'a> {
    slots: [Scalar<'a>; FIELDS.len()],
}

impl<'a> ExecutionRecord<'a> {
    /// A field's value as the general path's rules read it; `None` when absent or null.
    fn value(&self, slot: Slot) -> Option<FieldValue<'a>> {
        Some(match self.slots[slot.at] {
            Scalar::Absent | Scalar::Null => return None,
            Scalar::Bool(b) => FieldValue::Bool(b),
            Scalar::Int(i) => FieldValue::Int(i),
            Scalar::UInt(u) => FieldValue::UInt(u),
            Scalar::Float(x) => FieldValue::Float(x),
            Scalar::Str(s) => FieldValue::Str(Cow::Borrowed(s)),
        })
    }

    fn required(&self, slot: Slot) -> Result<FieldValue<'a>, FieldError> {
        self.value(slot)
            .ok_or_else(|| FieldError::new(slot.name, Rule::Missing, "is required"))
    }

    // The readers below take the common case straight from the scalar, where the rule
    // plainly holds, and hand anything else to the rule itself: a `FieldValue` per field
    // costs a call to its drop glue.

    /// A required string.
    fn req_text(&self, slot: Slot, max_chars: usize) -> Result<CompactString, FieldError> {
        match self.slots[slot.at] {
            // What `text` lets through without counting characters.
            Scalar::Str(s) if !s.is_empty() && s.len() <= max_chars => Ok(CompactString::new(s)),
            _ => text(&slot.name, &self.required(slot)?, max_chars).map(CompactString::new),
        }
    }

    /// An optional string; empty text counts as absent (as `Fields::opt_text`).
    fn opt_text(&self, slot: Slot, max_chars: usize) -> Result<Option<CompactString>, FieldError> {
        match self.slots[slot.at] {
            Scalar::Absent | Scalar::Null | Scalar::Str("") => Ok(None),
            _ => self.req_text(slot, max_chars).map(Some),
        }
    }

    fn req_number(&self, slot: Slot, min: f64, max: f64) -> Result<f64, FieldError> {
        match self.slots[slot.at] {
            Scalar::Float(x) if x.is_finite() && x >= min && x <= max => Ok(x),
            _ => number(&slot.name, &self.required(slot)?, min, max),
        }
    }

    fn opt_number(&self, slot: Slot, min: f64, max: f64) -> Result<Option<f64>, FieldError> {
        match self.slots[slot.at] {
            Scalar::Absent | Scalar::Null => Ok(None),
            _ => self.req_number(slot, min, max).map(Some),
        }
    }

    /// An optional integer in `[0, max]`.
    fn opt_count(&self, slot: Slot, max: u64) -> Result<Option<u64>, FieldError> {
        match self.slots[slot.at] {
            Scalar::Absent | Scalar::Null => Ok(None),
            Scalar::Int(i) if i >= 0 && i as u64 <= max => Ok(Some(i as u64)),
            _ => integer(&slot.name, &self.required(slot)?, 0, max).map(Some),
        }
    }

    fn req_bool(&self, slot: Slot) -> Result<bool, FieldError> {
        match self.slots[slot.at] {
            Scalar::Bool(b) => Ok(b),
            _ => boolean(&slot.name, &self.required(slot)?),
        }
    }

    fn opt_bool(&self, slot: Slot) -> Result<Option<bool>, FieldError> {
        match self.slots[slot.at] {
            Scalar::Absent | Scalar::Null => Ok(None),
            _ => self.req_bool(slot).map(Some),
        }
    }

    /// The event, when the record is an `execution` that keeps every rule. The fields
    /// and rules are those of `decode_event` and `execution` in `decode.rs`, each read
    /// from its slot instead of being looked up by name; which rule fails first does
    /// not matter here, as any failure is left to the general path.
    fn decode(&self, ctx: &ValidationContext) -> Option<Event> {
        // Only an execution can have all its fields among the slots: any other kind
        // needs a field the scanner does not take.
        if self.slots[slot!("kind").at] != Scalar::Str("execution") {
            return None;
        }
        let limits = ctx.limits;
        let max_chars = limits.max_string_chars;
        let ts_slot = slot!("ts");
        let ts = timestamp(&ts_slot.name, &self.required(ts_slot).ok()?, ctx).ok()?;
        let id = self
            .opt_text(slot!("id"), limits.max_id_chars)
            .ok()?
            .map(EventId::Given);
        let project_slot = slot!("project");
        let project = match self.value(project_slot) {
            None => CompactString::const_new("default"),
            Some(value) => project_name(&value, limits.max_id_chars).ok()?,
        };
        let tokens = TokenUsage {
            input_tokens: self.opt_count(slot!("input_tokens"), MAX_TOKENS).ok()?,
            output_tokens: self.opt_count(slot!("output_tokens"), MAX_TOKENS).ok()?,
            cache_read_tokens: self
                .opt_count(slot!("cache_read_tokens"), MAX_TOKENS)
                .ok()?,
            cache_write_tokens: self
                .opt_count(slot!("cache_write_tokens"), MAX_TOKENS)
                .ok()?,
            reasoning_tokens: self.opt_count(slot!("reasoning_tokens"), MAX_TOKENS).ok()?,
        };
        check_tokens(&tokens).ok()?;
        let effort_slot = slot!("effort");
        let execution = Execution {
            tool: self.req_text(slot!("tool"), max_chars).ok()?,
            duration_ms: self
                .req_number(slot!("duration_ms"), 0.0, MAX_DURATION_MS)
                .ok()?,
            success: self.req_bool(slot!("success")).ok()?,
            agent_id: self.opt_text(slot!("agent_id"), max_chars).ok()?,
            task_id: self.opt_text(slot!("task_id"), max_chars).ok()?,
            user_id: self.opt_text(slot!("user_id"), max_chars).ok()?,
            session_id: self.opt_text(slot!("session_id"), max_chars).ok()?,
            model: self.opt_text(slot!("model"), max_chars).ok()?,
            tokens,
            cost_usd: self
                .opt_number(slot!("cost_usd"), 0.0, MAX_COST_USD)
                .ok()?
                .map(Usd),
            cost_source: CostSource::Reported,
            effort: self
                .value(effort_slot)
                .map(|v| word(&effort_slot.name, &v))
                .transpose()
                .ok()?,
            browser_used: self.opt_bool(slot!("browser_used")).ok()?.unwrap_or(false),
            error: self.opt_text(slot!("error"), max_chars).ok()?,
        };
        Some(Event {
            id,
            ts,
            project,
            attrs: Attrs::new(),
            body: EventBody::Execution(execution),
        })
    }

    /// Reads `text` when it is one flat JSON object of known fields, each given once, as
    /// a string without escapes, a non-negative number, `true`, `false` or `null`; a
    /// `null` is kept as [`Scalar::Null`], which the rules read as absent.
    ///
    /// The slots are filled in place: the record is a few hundred bytes, which
    /// returning it would copy.
    fn scan(&mut self, text: &'a str) -> Option<()> {
        let mut scanner = Scanner { text, at: 0 };
        scanner.expect(b'{')?;
        if scanner.peek_token()? == b'}' {
            scanner.at += 1;
        } else {
            scanner.expect(b'"')?;
            loop {
                let slot = &mut self.slots[scanner.field_name()?];
                if *slot != Scalar::Absent {
                    return None;
                }
                *slot = scanner.value()?;
                // Most encoders separate fields by `, `: one compare instead of three
                // token reads.
                if scanner.skip(b", \"") {
                    continue;
                }
                match scanner.next_token()? {
                    b',' => scanner.expect(b'"')?,
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        scanner.skip_whitespace();
        (scanner.at == text.len()).then_some(())
    }
}

/// Whether `byte` ends a plain run of string text: a quote, a backslash or a control
/// character.
fn ends_plain_run(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// The length of the run of plain string text at the start of `bytes`.
///
/// Eight bytes at a time: byte by byte, this search was the scanner's largest cost
/// (about 14 instructions per character). In `(x - 0x01…) & !x & 0x80…` a byte's high bit is set
/// where `x` has a zero byte, exactly for the lowest one (borrows only run upwards from
/// a hit), so the lowest flag of the three tests below is the first stop.
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let stops = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGH;
        if stops != 0 {
            return at + (stops.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| ends_plain_run(b))
        .map_or(bytes.len(), |len| at + len)
}

/// 10^0 to 10^15, each exact as a double.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A cursor over one record's text.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while matches!(bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, left in place.
    fn peek_token(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.text.as_bytes().get(self.at).copied()
    }

    /// The next byte that is not whitespace, consumed.
    fn next_token(&mut self) -> Option<u8> {
        let byte = self.peek_token()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next_token()? == byte).then_some(())
    }

    /// Skips `bytes` if the text goes on with them.
    fn skip(&mut self, bytes: &[u8; 3]) -> bool {
        let next = self.text.as_bytes().get(self.at..self.at + bytes.len());
        let found = next == Some(bytes);
        if found {
            self.at += bytes.len();
        }
        found
    }

    /// The slot of a field whose name's opening quote was read, with the `:` after it.
    fn field_name(&mut self) -> Option<usize> {
        let rest = &self.text.as_bytes()[self.at..];
        // A name with an escape is for the general path, like any unknown name.
        let len = plain_run(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let index = field_index(&rest[..len])?;
        self.at += len + 1;
        // Most encoders write `": "`.
        if rest.get(len + 1..len + 3) == Some(b": ") {
            self.at += 2;
        } else {
            self.expect(b':')?;
        }
        Some(index)
    }

    /// The rest of a string whose opening quote was read, when it has no escapes and no
    /// control characters (those are for the general path).
    #[inline]
    fn plain_string(&mut self) -> Option<&'a str> {
        let rest = &self.text.as_bytes()[self.at..];
        let len = plain_run(rest);
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        // Both ends are ASCII, so they are character boundaries.
        let text = &self.text[self.at..self.at + len];
        self.at += len + 1;
        Some(text)
    }

    fn value(&mut self) -> Option<Scalar<'a>> {
        match self.next_token()? {
            b'"' => Some(Scalar::Str(self.plain_string()?)),
            b't' => self.literal("rue", Scalar::Bool(true)),
            b'f' => self.literal("alse", Scalar::Bool(false)),
            b'n' => self.literal("ull", Scalar::Null),
            b'0'..=b'9' => {
                self.at -= 1;
                self.number()
            }
            _ => None,
        }
    }

    fn literal(&mut self, rest: &str, value: Scalar<'a>) -> Option<Scalar<'a>> {
        let bytes = self.text.as_bytes().get(self.at..self.at + rest.len())?;
        self.at += rest.len();
        (bytes == rest.as_bytes()).then_some(value)
    }

    /// A non-negative JSON number, as serde_json reads it: an integer without fraction
    /// or exponent is an integer (`Int` when it fits an `i64`, else `UInt`), any other a
    /// float, correctly rounded (serde_json's `float_roundtrip`, as `str::parse`).
    /// Integers beyond 19 digits, which serde_json reads as floats, are declined.
    fn number(&mut self) -> Option<Scalar<'a>> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        // The value of the digits read, exact while there are at most 19 of them.
        let mut mantissa = 0u64;
        let mut digits = |at: &mut usize| {
            let from = *at;
            while let Some(&digit) = bytes.get(*at).filter(|b| b.is_ascii_digit()) {
                mantissa = mantissa
                    .wrapping_mul(10)
                    .wrapping_add(u64::from(digit - b'0'));
                *at += 1;
            }
            *at - from
        };
        let mut at = start;
        if bytes[at] == b'0' {
            at += 1;
        } else {
            digits(&mut at);
        }
        let integer_digits = at - start;
        let mut fraction_digits = 0;
        let mut exponent = false;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            fraction_digits = digits(&mut at);
            if fraction_digits == 0 {
                return None;
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if digits(&mut at) == 0 {
                return None;
            }
            exponent = true;
        }
        self.at = at;
        if exponent || fraction_digits > 0 {
            // Up to 15 digits, the digits and the power of ten are exact doubles, and
            // one division rounds their quotient correctly (the fast path of every
            // correct parser); anything longer goes to the full parser.
            if !exponent && integer_digits + fraction_digits <= 15 {
                return Some(Scalar::Float(
                    mantissa as f64 / POWERS_OF_TEN[fraction_digits],
                ));
            }
            let x: f64 = self.text[start..at].parse().ok()?;
            return x.is_finite().then_some(Scalar::Float(x));
        }
        if integer_digits > 19 {
            return None;
        }
        Some(match i64::try_from(mantissa) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::UInt(mantissa),
        })
    }
}

impl Event {
    /// Decodes a JSON record of the common shape (see the module docs), or returns
    /// `None` when it needs the general path: parse it into a [`FieldValue`] and call
    /// [`Event::decode`], which then also names what is wrong with it.
    pub fn decode_json_fast(text: &str, ctx: &ValidationContext) -> Option<Event> {
        let mut record = ExecutionRecord {
            slots: [Scalar::Absent; FIELDS.len()],
        };
        record.scan(text)?;
        record.decode(ctx)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    use crate::{Event, FieldValue, ValidationContext};

    fn ctx() -> ValidationContext {
        ValidationContext::at(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
    }

    /// The general path: parse into fields, then validate.
    fn general(json: &str) -> Option<Event> {
        let value: FieldValue<'_> = serde_json::from_str(json).ok()?;
        Event::decode(value, &ctx()).ok()
    }

    const TYPICAL: &str = r#"{"kind": "execution", "id": "e1", "ts": "2026-10-01T00:00:00Z", "project": "proj_1", "agent_id": "agent_3", "task_id": "t0", "tool": "tool_7", "model": "gpt-4o", "duration_ms": 1096.3, "success": false, "cost_usd": 0.0182, "input_tokens": 3140, "output_tokens": 1035, "effort": "low", "browser_used": false, "error": "timeout"}"#;

    #[test]
    fn a_typical_execution_takes_the_typed_path_and_decodes_the_same() {
        let typed = Event::decode_json_fast(TYPICAL, &ctx()).expect("typed path");
        assert_eq!(Some(typed), general(TYPICAL));
        // An escape is left to the general path, which reads the same event.
        let escaped = TYPICAL.replace("tool_7", "tool\\u005f7");
        assert_eq!(Event::decode_json_fast(&escaped, &ctx()), None);
        assert_eq!(general(&escaped), general(TYPICAL));
    }

    #[test]
    fn other_shapes_are_left_to_the_general_path() {
        let with = |extra: &str| TYPICAL.replacen('{', &format!("{{{extra}, "), 1);
        for (why, json) in [
            ("attrs", with(r#""attrs": {"n": 1}"#)),
            ("an unknown field", with(r#""region": "eu""#)),
            ("a duplicate field", with(r#""tool": "other""#)),
            ("a broken rule", TYPICAL.replace("1096.3", "-1")),
            (
                "another kind",
                TYPICAL.replace("\"execution\"", "\"action\""),
            ),
            ("not JSON", TYPICAL.replace('}', "")),
            (
                "an array",
                r#"["execution", "2026-10-01T00:00:00Z"]"#.to_owned(),
            ),
        ] {
            assert_eq!(
                Event::decode_json_fast(&json, &ctx()),
                None,
                "{why}: {json}"
            );
        }
    }

    #[test]
    fn every_field_is_found_by_its_name_only() {
        for (i, name) in super::FIELDS.iter().enumerate() {
            assert_eq!(super::field_index(name.as_bytes()), Some(i), "{name}");
            let other = name.replacen(|_| true, "x", 1);
            assert_eq!(super::field_index(other.as_bytes()), None);
            assert_eq!(super::field_index(format!("{name}s").as_bytes()), None);
        }
        assert_eq!(super::field_index(b""), None);
        assert_eq!(super::field_index(b"kinx"), None);
    }

    #[test]
    fn plain_json_variations_take_the_typed_path() {
        let spaced = TYPICAL.replace(": ", " :\t").replace(", ", "\r\n, ");
        for json in [
            spaced.as_str(),
            &TYPICAL.replace("1096.3", "1.0963e3"),
            &TYPICAL.replace("1096.3", "1096"),
            &TYPICAL.replace("\"error\": \"timeout\"", "\"error\": null"),
            &format!("  {TYPICAL}\t"),
        ] {
            let typed = Event::decode_json_fast(json, &ctx());
            assert!(typed.is_some(), "{json}");
            assert_eq!(typed, general(json), "{json}");
        }
    }

    #[test]
    fn json_the_scanner_does_not_take_is_left_to_the_general_path() {
        for json in [
            TYPICAL.replace('}', ",}"),
            TYPICAL.replace("1096.3", "01096.3"),
            TYPICAL.replace("1096.3", "1096."),
            TYPICAL.replace("1096.3", "1e400"),
            TYPICAL.replace("1096.3", "-0"),
            TYPICAL.replace("3140", "31400000000000000000000"),
            TYPICAL.replace("timeout", "time\\nout"),
            TYPICAL.replace("timeout", "time\tout"),
            TYPICAL.replace("false,", "fals,"),
            TYPICAL.replace("\"error\": \"timeout\"", "\"error\": [\"timeout\"]"),
            TYPICAL.replace("\"tool\"", "\"to\\u006fl\""),
            format!("{TYPICAL} x"),
            format!("{TYPICAL}{TYPICAL}"),
            TYPICAL.replace(", ", " "),
            "{".to_owned(),
            "{}".to_owned(),
            String::new(),
        ] {
            assert_eq!(Event::decode_json_fast(&json, &ctx()), None, "{json}");
        }
    }

    proptest! {
        /// The word-at-a-time search stops where a byte-by-byte one does.
        #[test]
        fn plain_runs_end_at_the_first_stop(bytes in prop::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x21, 0x7eu8..=0xff, any::<u8>()], 0..40)
        ) {
            let expected = bytes.iter().position(|&b| super::ends_plain_run(b)).unwrap_or(bytes.len());
            prop_assert_eq!(super::plain_run(&bytes), expected);
        }
    }

    proptest! {
        /// Numbers are read as `str::parse` reads them, to the bit.
        #[test]
        fn numbers_are_read_as_parse_reads_them(
            text in r"(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?"
        ) {
            let mut scanner = super::Scanner { text: &text, at: 0 };
            let read = scanner.number();
            if text.contains(['.', 'e', 'E']) {
                let x: f64 = text.parse().unwrap();
                let expected = x.is_finite().then_some(x.to_bits());
                let got = match read {
                    Some(super::Scalar::Float(x)) => Some(x.to_bits()),
                    _ => None,
                };
                prop_assert_eq!(got, expected, "{}", text);
            } else if text.len() <= 19 {
                let n: u64 = text.parse().unwrap();
                let expected = i64::try_from(n).map_or(super::Scalar::UInt(n), super::Scalar::Int);
                prop_assert_eq!(read, Some(expected), "{}", text);
            }
            prop_assert!(read.is_none() || scanner.at == text.len());
        }
    }

    proptest! {
        /// The word-at-a-time compare agrees with `==`, on bytes that differ anywhere.
        #[test]
        fn same_bytes_is_equality(
            a in prop::collection::vec(0u8..4, 0..30),
            other in prop::collection::vec(0u8..4, 0..30),
            change in any::<prop::sample::Index>(),
        ) {
            prop_assert!(super::same_bytes(&a, &a.clone()));
            prop_assert_eq!(super::same_bytes(&a, &other), a == other);
            if !a.is_empty() {
                let mut b = a.clone();
                let at = change.index(b.len());
                b[at] ^= 1;
                prop_assert!(!super::same_bytes(&a, &b));
            }
        }
    }

    /// Text broken in one place: a byte removed, or a byte that matters to JSON added.
    fn broken(json: String) -> impl Strategy<Value = String> {
        let len = json.len();
        (
            0..=len,
            prop::sample::select(b" ,:{}[]\"\\0123456789.-+eEtfnul\x01".to_vec()),
            any::<bool>(),
        )
            .prop_map(move |(at, byte, remove)| {
                let mut bytes = json.clone().into_bytes();
                if remove && at < len {
                    bytes.remove(at);
                } else {
                    bytes.insert(at, byte);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
    }

    /// A field of the typed record, `attrs`, or an unknown one.
    fn field_name() -> impl Strategy<Value = &'static str> {
        let mut names = super::FIELDS.to_vec();
        names.extend(["attrs", "region"]);
        prop::sample::select(names)
    }

    /// Values valid for some field and invalid for others, written as JSON.
    fn field_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"execution\"".to_owned()),
            Just("\"action\"".to_owned()),
            Just("\"2026-10-01T00:00:00Z\"".to_owned()),
            Just("\"2026-10-01T02:00:00+02:00\"".to_owned()),
            Just("1790000000000".to_owned()),
            Just("\"low\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("\"caf\u{e9}\"".to_owned()),
            Just("\"cafe\u{301}\"".to_owned()),
            Just("\"a\u{202e}b\"".to_owned()),
            Just("\"a\\\"b\"".to_owned()),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("[1]".to_owned()),
            Just("{\"n\": 1}".to_owned()),
            Just("\"NaN\"".to_owned()),
            (0u64..20_000).prop_map(|n| n.to_string()),
            // Near the per-record bounds (tokens, cost, duration).
            prop::sample::select(vec![
                "1000000000",
                "1000000001",
                "1000000",
                "1000000.5",
                "31536000000",
                "31536000001",
                "9223372036854775807",
                "18446744073709551615",
                "1e300",
            ])
            .prop_map(str::to_owned),
            (-5i64..0).prop_map(|n| n.to_string()),
            (0.0f64..5e4).prop_map(|x| format!("{x}")),
            (0.0f64..5e4).prop_map(|x| format!("{x:e}")),
            "[a-z_]{1,12}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    /// A typical record with some fields replaced, removed or added, in any order.
    fn record() -> impl Strategy<Value = String> {
        let base: Vec<(String, String)> = serde_json::from_str::<serde_json::Value>(TYPICAL)
            .unwrap()
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        (
            prop::collection::vec((field_name(), field_value()), 0..3),
            prop::collection::vec(prop::bool::weighted(0.95), base.len()),
            any::<prop::sample::Index>(),
        )
            .prop_map(move |(changes, keep, rotate)| {
                let mut fields: Vec<(String, String)> = base
                    .iter()
                    .zip(&keep)
                    .filter(|(_, keep)| **keep)
                    .map(|(field, _)| field.clone())
                    .collect();
                for (name, value) in changes {
                    match fields.iter_mut().find(|(n, _)| n == name) {
                        Some(field) if value.len() % 2 == 0 => field.1 = value,
                        _ => fields.push((name.to_owned(), value)),
                    }
                }
                if !fields.is_empty() {
                    let at = rotate.index(fields.len());
                    fields.rotate_left(at);
                }
                let body: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("\"{name}\": {value}"))
                    .collect();
                format!("{{{}}}", body.join(", "))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the record, the typed path either declines it or agrees with the
        /// general path, which then accepts it too.
        #[test]
        fn the_typed_path_agrees_with_the_general_path(json in record()) {
            if let Some(typed) = Event::decode_json_fast(&json, &ctx()) {
                prop_assert_eq!(Some(typed), general(&json), "{}", json);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever the broken text, the scanner declines it or reads it as serde_json
        /// and the rules do.
        #[test]
        fn broken_json_is_never_read_differently(json in record().prop_flat_map(broken)) {
            if let Some(typed) = Event::decode_json_fast(&json, &ctx()) {
                prop_assert_eq!(Some(typed), general(&json), "{}", json);
            }
        }
    }

    #[test]
    fn most_valid_variations_take_the_typed_path() {
        // Without this, the property above would hold for a path that declines all.
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut typed, mut valid) = (0, 0);
        for _ in 0..500 {
            let json = record().new_tree(&mut runner).unwrap().current();
            if general(&json).is_some() {
                valid += 1;
                typed += usize::from(Event::decode_json_fast(&json, &ctx()).is_some());
            }
        }
        assert!(
            valid > 50 && typed * 2 > valid,
            "{typed} typed of {valid} valid"
        );
    }
}
