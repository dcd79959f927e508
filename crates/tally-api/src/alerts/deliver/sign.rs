//! `X-Tally-Signature`: HMAC-SHA256 of a webhook body's exact bytes under the channel's secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header a signed webhook carries.
pub const SIGNATURE_HEADER: &str = "X-Tally-Signature";

/// `sha256=<lowercase hex HMAC-SHA256 of body keyed by secret>`: the value of
/// [`SIGNATURE_HEADER`]. A receiver recomputes it over the raw body it read (before any
/// JSON parsing) and compares in constant time.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", crate::keys::hex(&mac.finalize().into_bytes()))
}
