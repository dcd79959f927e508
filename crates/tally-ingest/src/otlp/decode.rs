//! OTLP/HTTP request bodies: decompression bounded by a limit on the inflated size, then
//! binary protobuf or OTLP/JSON into an `ExportTraceServiceRequest`.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::{Number, Value};

/// How a request body is encoded (its `Content-Type`); answers use the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`: binary protobuf.
    Protobuf,
    /// `application/json`: OTLP/JSON.
    Json,
}

impl Encoding {
    /// The encoding of a `Content-Type` value; `None` for another media type. A request
    /// without a content type is taken as protobuf, the OTLP/HTTP default.
    pub fn from_content_type(value: Option<&str>) -> Option<Encoding> {
        let media = value
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match media.as_str() {
            "" | "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    /// The `Content-Type` of an answer in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// How a request body is compressed (its `Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Identity,
    Gzip,
    /// `deflate`: zlib-wrapped as HTTP says, or raw deflate as some senders write it.
    Deflate,
}

impl Compression {
    /// The compression of a `Content-Encoding` value; `None` for an unsupported one.
    pub fn from_content_encoding(value: Option<&str>) -> Option<Compression> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "identity") => Some(Compression::Identity),
            Some("gzip" | "x-gzip") => Some(Compression::Gzip),
            Some("deflate") => Some(Compression::Deflate),
            Some(_) => None,
        }
    }
}

/// Why a request body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body, once decompressed, is larger than the limit.
    #[error("the request is larger than the limit of {limit} bytes once decompressed")]
    TooLarge { limit: usize },
    /// The body is not a valid request (corrupt compression, bad protobuf or JSON).
    #[error("{0}")]
    Invalid(String),
}

/// Decompresses `body`, refusing it as soon as more than `limit` bytes come out: a
/// gzip bomb is stopped after `limit` bytes, never inflated whole.
///
/// # Errors
/// [`DecodeError::TooLarge`] past the limit, [`DecodeError::Invalid`] for corrupt data.
pub fn inflate(
    body: &[u8],
    compression: Compression,
    limit: usize,
) -> Result<Cow<'_, [u8]>, DecodeError> {
    let reader: Box<dyn Read + '_> = match compression {
        Compression::Identity if body.len() > limit => {
            return Err(DecodeError::TooLarge { limit });
        }
        Compression::Identity => return Ok(Cow::Borrowed(body)),
        Compression::Gzip => Box::new(MultiGzDecoder::new(body)),
        Compression::Deflate if is_zlib(body) => Box::new(ZlibDecoder::new(body)),
        Compression::Deflate => Box::new(DeflateDecoder::new(body)),
    };
    let mut inflated = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut inflated)
        .map_err(|e| DecodeError::Invalid(format!("the compressed body is corrupt: {e}")))?;
    if inflated.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(Cow::Owned(inflated))
}

/// Whether `body` starts with a zlib header (RFC 1950): method 8 and a valid check.
fn is_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Decodes an `ExportTraceServiceRequest` from a body as it arrived.
///
/// # Errors
/// See [`inflate`]; [`DecodeError::Invalid`] when the content is not a request.
pub fn decode_traces(
    body: &[u8],
    encoding: Encoding,
    compression: Compression,
    limit: usize,
) -> Result<ExportTraceServiceRequest, DecodeError> {
    let body = inflate(body, compression, limit)?;
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(&body[..]).map_err(|e| {
            DecodeError::Invalid(format!("not an OTLP ExportTraceServiceRequest: {e}"))
        }),
        Encoding::Json => decode_json(&body),
    }
}

/// OTLP/JSON into a request, through `opentelemetry-proto`'s serde mapping.
fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest, DecodeError> {
    let invalid = |e: serde_json::Error| {
        DecodeError::Invalid(format!("not an OTLP/JSON ExportTraceServiceRequest: {e}"))
    };
    let mut value: Value = serde_json::from_slice(body).map_err(invalid)?;
    if !value.is_object() {
        return Err(DecodeError::Invalid(
            "not an OTLP/JSON ExportTraceServiceRequest: the body must be a JSON object".into(),
        ));
    }
    relax(&mut value);
    serde_json::from_value(value).map_err(invalid)
}

/// Rewrites what OTLP/JSON allows but `opentelemetry-proto`'s serde mapping refuses into
/// the form that mapping reads:
/// - enums written by name (`"kind": "SPAN_KIND_CLIENT"`, `"code": "STATUS_CODE_ERROR"`)
///   or as digit strings: the mapping takes integers only. In a trace request the keys
///   `kind` and `code` are only ever `Span.kind` and `Status.code` (attribute names are
///   values, not keys), so they are rewritten wherever they occur;
/// - `null`, the protobuf JSON spelling of a field's default: the mapping refuses it for
///   strings, numbers and lists, so such fields are removed;
/// - `doubleValue` written as a string (`"1.5"`): the mapping takes numbers only
///   (`"NaN"` and the infinities, which JSON numbers cannot hold, are dropped);
/// - `arrayValue` and `kvlistValue` without `values`: the mapping requires the field.
///
/// Upper-case hex ids and 64-bit integers as numbers or strings the mapping reads as
/// they are; unknown fields it ignores.
fn relax(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            for (key, field) in map.iter_mut() {
                match (key.as_str(), &*field) {
                    ("kind", Value::String(name)) => *field = enum_number(name, span_kind),
                    ("code", Value::String(name)) => *field = enum_number(name, status_code),
                    ("doubleValue", Value::String(text)) => {
                        *field = text
                            .trim()
                            .parse::<f64>()
                            .ok()
                            .and_then(Number::from_f64)
                            .map_or(Value::Null, Value::Number);
                    }
                    ("arrayValue" | "kvlistValue", Value::Object(_)) => {
                        relax(field);
                        if let Value::Object(inner) = field {
                            inner
                                .entry("values")
                                .or_insert_with(|| Value::Array(Vec::new()));
                        }
                    }
                    _ => relax(field),
                }
            }
            map.retain(|_, v| !v.is_null());
        }
        Value::Array(items) => items.iter_mut().for_each(relax),
        _ => {}
    }
}

/// An enum written as its name or as a digit string, as its number (0, the
/// unspecified value, for a name the schema does not have).
fn enum_number(name: &str, by_name: fn(&str) -> Option<i32>) -> Value {
    let number = name
        .trim()
        .parse::<i32>()
        .ok()
        .or_else(|| by_name(name))
        .unwrap_or(0);
    Value::Number(number.into())
}

fn span_kind(name: &str) -> Option<i32> {
    opentelemetry_proto::tonic::trace::v1::span::SpanKind::from_str_name(name).map(|k| k as i32)
}

fn status_code(name: &str) -> Option<i32> {
    opentelemetry_proto::tonic::trace::v1::status::StatusCode::from_str_name(name).map(|c| c as i32)
}
