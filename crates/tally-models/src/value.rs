//! `FieldValue`: a record as it arrived, before validation, independent of its format.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A value as a parser read it. JSON gives typed values; CSV gives [`FieldValue::Untyped`]
/// text that validation reads as whatever type the field has.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    /// Text from a source without types (a CSV cell), read as the field's own type.
    Untyped(Cow<'a, str>),
    List(Vec<FieldValue<'a>>),
    /// An object, fields in the order they came (duplicates kept, so they can be refused).
    Map(Vec<(Cow<'a, str>, FieldValue<'a>)>),
}

impl FieldValue<'_> {
    /// The value's type in words, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Null => "null",
            FieldValue::Bool(_) => "bool",
            FieldValue::Int(_) | FieldValue::UInt(_) | FieldValue::Float(_) => "number",
            FieldValue::Str(_) => "string",
            FieldValue::Untyped(_) => "text",
            FieldValue::List(_) => "array",
            FieldValue::Map(_) => "object",
        }
    }

    /// Copies borrowed text so the value outlives its input buffer.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Null => FieldValue::Null,
            FieldValue::Bool(b) => FieldValue::Bool(b),
            FieldValue::Int(i) => FieldValue::Int(i),
            FieldValue::UInt(u) => FieldValue::UInt(u),
            FieldValue::Float(f) => FieldValue::Float(f),
            FieldValue::Str(s) => FieldValue::Str(Cow::Owned(s.into_owned())),
            FieldValue::Untyped(s) => FieldValue::Untyped(Cow::Owned(s.into_owned())),
            FieldValue::List(l) => {
                FieldValue::List(l.into_iter().map(FieldValue::into_owned).collect())
            }
            FieldValue::Map(m) => FieldValue::Map(
                m.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }
}

/// A short rendering of a value for error messages (`got -3`, `got string "NaN"`).
pub(crate) struct Shown<'v, 'a>(pub &'v FieldValue<'a>);

impl fmt::Display for Shown<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn clip(s: &str) -> String {
            let mut out: String = s.chars().take(40).collect();
            if out.len() < s.len() {
                out.push('…');
            }
            out
        }
        match self.0 {
            FieldValue::Null => f.write_str("null"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::UInt(u) => write!(f, "{u}"),
            // Very large or small magnitudes in exponent form, not hundreds of digits.
            FieldValue::Float(x) if *x != 0.0 && !(1e-6..1e21).contains(&x.abs()) => {
                write!(f, "{x:e}")
            }
            FieldValue::Float(x) => write!(f, "{x}"),
            FieldValue::Str(s) => write!(f, "string {:?}", clip(s)),
            FieldValue::Untyped(s) => write!(f, "{:?}", clip(s)),
            FieldValue::List(l) => write!(f, "an array of {}", l.len()),
            FieldValue::Map(m) => write!(f, "an object of {} fields", m.len()),
        }
    }
}

// Generic in both lifetimes so that a field of type `Option<FieldValue<'a>>` can borrow
// (`#[serde(borrow)]` in `typed_json.rs`).
impl<'de: 'a, 'a> Deserialize<'de> for FieldValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldValueVisitor)
    }
}

struct FieldValueVisitor;

impl<'de> Visitor<'de> for FieldValueVisitor {
    type Value = FieldValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(FieldValue::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(FieldValue::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(FieldValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(FieldValue::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => FieldValue::Int(i),
            Err(_) => FieldValue::UInt(v),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(FieldValue::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(FieldValue::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(FieldValue::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(FieldValue::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(FieldValue::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16).min(64));
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            fields.push((key.0, map.next_value()?));
        }
        Ok(FieldValue::Map(fields))
    }
}

/// A map key that borrows from the input when it has no escapes.
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
