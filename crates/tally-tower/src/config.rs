//! What the layer records and how its events are sent: the project, the endpoint of a
//! request no route matched, the headers naming the user and the session, and the
//! queue, batch and retry sizes.

use std::time::Duration;

use http::HeaderName;

/// The layer's settings; `Config::for_project` gives the defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// The tally project every event belongs to.
    pub project: String,
    /// The endpoint of a request without a route template (axum's `MatchedPath`
    /// absent: no route matched, or the layer wraps the router from outside). Raw paths
    /// are never recorded: they carry ids.
    pub fallback_endpoint: String,
    /// The request header holding the user's id, if any.
    pub user_header: Option<HeaderName>,
    /// The request header holding the session's id, if any.
    pub session_header: Option<HeaderName>,
    /// Events waiting to be sent at most; past it a request's event is dropped (counted
    /// in [`Stats::dropped_queue_full`](crate::Stats)).
    pub queue_capacity: usize,
    /// Events sent in one batch at most.
    pub batch_size: usize,
    /// How long the first event of a batch waits for others before the batch is sent.
    pub flush_interval: Duration,
    /// Attempts to deliver a batch before its events are dropped (counted).
    pub max_attempts: u32,
    /// The wait after the first failed attempt, doubled after each further one.
    pub retry_backoff: Duration,
}

impl Config {
    /// The defaults for `project`: fallback endpoint `(no route)`, no user or session
    /// header, a queue of 10,000 events, batches of 500 sent at least every second, 4
    /// attempts 200 ms, 400 ms and 800 ms apart.
    pub fn for_project(project: impl Into<String>) -> Config {
        Config {
            project: project.into(),
            fallback_endpoint: "(no route)".to_owned(),
            user_header: None,
            session_header: None,
            queue_capacity: 10_000,
            batch_size: 500,
            flush_interval: Duration::from_secs(1),
            max_attempts: 4,
            retry_backoff: Duration::from_millis(200),
        }
    }

    /// The user's id read from `header`.
    pub fn user_header(mut self, header: HeaderName) -> Config {
        self.user_header = Some(header);
        self
    }

    /// The session's id read from `header`.
    pub fn session_header(mut self, header: HeaderName) -> Config {
        self.session_header = Some(header);
        self
    }
}
