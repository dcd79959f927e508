//! A tower layer that records every request an axum or tower service answers as one
//! tally `request` event (route template, method, status, latency, user and session),
//! and sends the events in batches, from a background thread, into a tally opened in
//! the same process or to a tally server over HTTP. The host's requests never wait for
//! tally and never fail because of it: events go through a bounded queue, and what does
//! not fit, or cannot be delivered after a few attempts, is dropped and counted
//! (`docs/tower.md`).
//!
//! ```no_run
//! use tally_tower::{Config, HttpSink, Recorder};
//!
//! let recorder = Recorder::start(
//!     Config::for_project("shop"),
//!     HttpSink::new("http://127.0.0.1:7878"),
//! );
//! let app: axum::Router = axum::Router::new()
//!     .route("/users/{id}", axum::routing::get(|| async { "hello" }))
//!     .layer(recorder.layer());
//! # drop(app);
//! ```

mod config;
mod event;
mod layer;
mod recorder;
mod sink;
mod stats;

pub use config::Config;
pub use layer::{ResponseFuture, TallyLayer, TallyService};
pub use recorder::Recorder;
#[cfg(feature = "embedded")]
pub use sink::EmbeddedSink;
pub use sink::{Delivery, HttpSink, Sink, SinkError};
pub use stats::Stats;
