//! The time budget of every request: its body must arrive within the body read timeout
//! (else 408, and the connection is closed), and its answer must start within the
//! request timeout (else 503). Each request carries a cancellation flag
//! (`crate::cancel`), set when it runs out of time or is dropped unfinished (a
//! shutdown, a client gone): the blocking work it started (series reads and analyses,
//! exports) stops at its next check instead of running on; the bounds of `bounds.rs`
//! keep the time to that check short.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;

use super::error::ApiError;

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// From the headers to the body's last byte.
    pub body: Duration,
    /// From the headers to the start of the answer.
    pub request: Duration,
}

/// The error a body stream ends with once its deadline passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
struct BodyTimeout(Duration);

/// The body, ending in an error once `limit` has passed; `expired` records that it did.
fn with_deadline(body: Body, limit: Duration, expired: Arc<AtomicBool>) -> Body {
    let deadline = tokio::time::Instant::now() + limit;
    let frames = body.into_data_stream();
    let stream = futures_util::stream::unfold(Some(frames), move |frames| {
        let expired = Arc::clone(&expired);
        async move {
            let mut frames = frames?;
            match tokio::time::timeout_at(deadline, frames.next()).await {
                Ok(Some(frame)) => Some((frame, Some(frames))),
                Ok(None) => None,
                Err(_) => {
                    expired.store(true, Ordering::Relaxed);
                    Some((Err(axum::Error::new(BodyTimeout(limit))), None))
                }
            }
        }
    });
    Body::from_stream(stream)
}

/// Seconds as clients read them in messages.
fn seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The middleware: see the module documentation.
pub async fn enforce(State(budget): State<Budget>, request: Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(
        parts,
        with_deadline(body, budget.body, Arc::clone(&expired)),
    );
    let cancel = crate::Cancel::new();
    let unfinished = crate::cancel::CancelOnDrop::new(cancel.clone());
    let answer = crate::cancel::scope(
        cancel.clone(),
        tokio::time::timeout(budget.request, next.run(request)),
    )
    .await;
    if answer.is_err() {
        cancel.cancel();
    }
    unfinished.finished();
    if expired.load(Ordering::Relaxed) {
        let mut response = ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} s",
                seconds(budget.body)
            ),
        )
        .with_details(json!({"body_read_timeout_secs": seconds(budget.body)}))
        .into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    match answer {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                seconds = seconds(budget.request),
                "a request ran out of its time budget"
            );
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                format!(
                    "the answer did not start within {} s: ask for a smaller range",
                    seconds(budget.request)
                ),
            )
            .with_details(json!({"request_timeout_secs": seconds(budget.request)}))
            .into_response();
            // The body may be partly unread.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use std::io::{Read, Write};
    use tokio::sync::mpsc;

    use super::{Budget, enforce};

    #[tokio::test]
    async fn a_request_out_of_time_cancels_its_work() {
        // The handler hands out its request's flag, then never answers.
        let (flags, mut handed) = mpsc::unbounded_channel();
        let router = Router::new()
            .route(
                "/slow",
                get(move || {
                    let _ = flags.send(crate::cancel::current());
                    std::future::pending::<&'static str>()
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Budget {
                    body: Duration::from_secs(60),
                    request: Duration::from_millis(50),
                },
                enforce,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let answer = tokio::task::spawn_blocking(move || {
            let mut client = std::net::TcpStream::connect(addr).unwrap();
            client
                .write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).unwrap();
            answer
        })
        .await
        .unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 503"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let flag = handed.recv().await.unwrap();
        assert!(flag.is_cancelled());
    }
}
