//! The tower `Layer` and `Service`: each request's route template, method, user and
//! session are read when it arrives, its status and latency when the inner service
//! answers, and the event is offered to the recorder's queue without waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::MatchedPath;
use http::{HeaderMap, HeaderName, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::event::{RequestEvent, method_name};
use crate::recorder::Shared;
use crate::stats::Stats;

/// Wraps a service so that every request it answers is recorded; made by
/// [`Recorder::layer`](crate::Recorder::layer).
#[derive(Debug, Clone)]
pub struct TallyLayer {
    pub(crate) shared: Arc<Shared>,
}

impl TallyLayer {
    /// What became of the requests recorded so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }
}

impl<S> Layer<S> for TallyLayer {
    type Service = TallyService<S>;

    fn layer(&self, inner: S) -> TallyService<S> {
        TallyService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// A service whose requests are recorded.
#[derive(Debug, Clone)]
pub struct TallyService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TallyService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let config = &self.shared.config;
        let endpoint = match request.extensions().get::<MatchedPath>() {
            Some(matched) => Arc::from(matched.as_str()),
            None => self.shared.fallback_endpoint.clone(),
        };
        let arrived = Arrived {
            at: Instant::now(),
            ts: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            endpoint,
            method: method_name(request.method()),
            user_id: header_text(request.headers(), config.user_header.as_ref()),
            session_id: header_text(request.headers(), config.session_header.as_ref()),
        };
        ResponseFuture {
            inner: self.inner.call(request),
            arrived: Some(arrived),
            shared: self.shared.clone(),
        }
    }
}

/// What is known of a request when it arrives.
#[derive(Debug)]
struct Arrived {
    at: Instant,
    ts: u64,
    endpoint: Arc<str>,
    method: &'static str,
    user_id: Option<String>,
    session_id: Option<String>,
}

/// The longest user or session id kept, as tally's wire format allows.
const MAX_ID_CHARS: usize = 1024;

/// A header's value as text: absent when missing, empty or not visible ASCII; cut to
/// what tally keeps.
fn header_text(headers: &HeaderMap, name: Option<&HeaderName>) -> Option<String> {
    let value = headers.get(name?)?.to_str().ok()?.trim();
    if value.is_empty() {
        return None;
    }
    Some(value.chars().take(MAX_ID_CHARS).collect())
}

pin_project_lite::pin_project! {
    /// The inner service's answer; records the request when it is ready.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        arrived: Option<Arrived>,
        shared: Arc<Shared>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(arrived) = this.arrived.take() {
            // An error of the inner service reaches the client as a failed request:
            // recorded as a 500.
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            this.shared.offer(RequestEvent {
                ts: arrived.ts,
                endpoint: arrived.endpoint,
                method: arrived.method,
                status,
                latency_ms: arrived.at.elapsed().as_secs_f64() * 1000.0,
                user_id: arrived.user_id,
                session_id: arrived.session_id,
                sequence: 0,
            });
        }
        Poll::Ready(result)
    }
}
