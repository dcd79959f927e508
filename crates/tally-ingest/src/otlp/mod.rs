//! OpenTelemetry traces (OTLP) in: decoding request bodies (`decode.rs`), mapping GenAI
//! spans onto `execution` records (`mapping.rs`) and HTTP server spans onto `request`
//! records (`http_server.rs`), and the protocol's answers. No HTTP
//! here: the server's route hands bodies and headers' values in.

mod decode;
mod http_server;
mod mapping;
#[cfg(test)]
mod tests;

pub use decode::{Compression, DecodeError, Encoding, decode_traces, inflate};
pub use http_server::NO_ROUTE;
pub use mapping::{Mapped, Routing, SpanCategory, SpanRef, map_traces};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

/// The answer to an export: empty when every span was taken, else a partial success
/// naming how many spans were refused and why.
pub fn export_response(encoding: Encoding, rejected_spans: u64, message: &str) -> Vec<u8> {
    let response = ExportTraceServiceResponse {
        partial_success: (rejected_spans > 0 || !message.is_empty()).then(|| {
            ExportTracePartialSuccess {
                rejected_spans: i64::try_from(rejected_spans).unwrap_or(i64::MAX),
                error_message: message.to_owned(),
            }
        }),
    };
    match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        // Written by hand: the serde mapping writes an absent partial success as
        // `null`, and OTLP/JSON writes 64-bit integers as strings.
        Encoding::Json => match response.partial_success {
            None => b"{}".to_vec(),
            Some(partial) => serde_json::json!({"partialSuccess": {
                "rejectedSpans": partial.rejected_spans.to_string(),
                "errorMessage": partial.error_message,
            }})
            .to_string()
            .into_bytes(),
        },
    }
}

/// The body of an OTLP/HTTP error answer: `google.rpc.Status` in protobuf; in JSON
/// its fields, `code` and `message`, beside tally's own `error` object (readers of
/// either ignore the other's fields).
pub fn status_body(
    encoding: Encoding,
    code: i32,
    message: &str,
    error: serde_json::Value,
) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => RpcStatus {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        Encoding::Json => serde_json::json!({"code": code, "message": message, "error": error})
            .to_string()
            .into_bytes(),
    }
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

impl RpcStatus {
    /// Reads a protobuf `google.rpc.Status` (what a sender does with an error answer).
    pub fn from_protobuf(bytes: &[u8]) -> Option<RpcStatus> {
        RpcStatus::decode(bytes).ok()
    }
}

/// `google.rpc.Code` values the answers use.
pub mod rpc_code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}
