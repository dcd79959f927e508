//! A tally server over HTTP: each batch is one `POST /api/analytics/events` of JSON
//! Lines, with the API key (scope `ingest`) as a bearer token.

use std::time::Duration;

use super::{Delivery, Sink, SinkError};

/// Sends batches to a tally server (`tally serve`).
#[derive(Debug)]
pub struct HttpSink {
    agent: ureq::Agent,
    url: String,
    key: Option<String>,
}

impl HttpSink {
    /// Sends to the server at `base_url` (such as `http://127.0.0.1:7878`), with a
    /// 10-second limit on each request.
    pub fn new(base_url: &str) -> HttpSink {
        HttpSink::with_timeout(base_url, Duration::from_secs(10))
    }

    /// Sends to the server at `base_url`, giving up on a request after `timeout`.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> HttpSink {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .new_agent();
        HttpSink {
            agent,
            url: format!("{}/api/analytics/events", base_url.trim_end_matches('/')),
            key: None,
        }
    }

    /// Authenticates with an API key of scope `ingest`.
    pub fn key(mut self, key: impl Into<String>) -> HttpSink {
        self.key = Some(key.into());
        self
    }
}

impl Sink for HttpSink {
    fn send(&mut self, records: &[u8]) -> Result<Delivery, SinkError> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", "application/x-ndjson");
        if let Some(key) = &self.key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let mut response = request
            .send(records)
            .map_err(|error| SinkError::Unavailable(error.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| SinkError::Unavailable(format!("reading the answer: {error}")))?;
        match status {
            200 => {
                let report: serde_json::Value = serde_json::from_str(&body).map_err(|error| {
                    SinkError::Unavailable(format!("the answer is not an ingest report: {error}"))
                })?;
                Ok(Delivery {
                    rejected: report["rejected"].as_u64().unwrap_or(0),
                })
            }
            408 | 429 | 500.. => Err(SinkError::Unavailable(format!("{status}: {body}"))),
            _ => Err(SinkError::Refused(format!("{status}: {body}"))),
        }
    }
}
