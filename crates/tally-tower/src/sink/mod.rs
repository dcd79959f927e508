//! Where batches of request records go: the [`Sink`] trait, a tally server over HTTP
//! (`http.rs`) and a tally opened in the same process (`embedded.rs`).

#[cfg(feature = "embedded")]
mod embedded;
mod http;

#[cfg(feature = "embedded")]
pub use embedded::EmbeddedSink;
pub use http::HttpSink;

/// A destination for batches of `request` records. Called from the recorder's sender
/// thread only, so it may block.
pub trait Sink: Send + 'static {
    /// Stores `records`, JSON Lines of `request` records with ids (a batch sent again
    /// after a lost answer is stored once).
    ///
    /// # Errors
    ///
    /// [`SinkError::Unavailable`] when trying again may succeed (the batch is retried
    /// with backoff), [`SinkError::Refused`] when it cannot (the batch is dropped).
    fn send(&mut self, records: &[u8]) -> Result<Delivery, SinkError>;
}

/// What the destination made of a batch it took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Records refused as invalid (tally keeps them in its quarantine).
    pub rejected: u64,
}

/// A batch the destination did not take.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Down, slow, overloaded or failing for now: worth another attempt.
    #[error("tally is unavailable: {0}")]
    Unavailable(String),
    /// Refused for good (a missing or wrong key, a project the key may not write).
    #[error("tally refused the batch: {0}")]
    Refused(String),
}
