//! `GET /api/analytics/live`: Server-Sent Events of the batches committed, for the
//! dashboard to refresh on. A `ready` event first (the projects the stream hears), then
//! a `commit` event per committed batch of the caller's projects, coalesced to at most
//! one per [`MIN_GAP`] (the records per project summed, `batches` counted), and a
//! keep-alive comment every [`KEEP_ALIVE`]. A key limited to projects hears only its
//! projects' commits. At most `max_live_streams` streams at once (then 503); streams end
//! when the server stops, so they never hold a shutdown up.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::{Method, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, broadcast, watch};
use tokio::time::Instant;

use super::auth::{Access, Principal};
use super::error::ApiError;
use super::query::{QueryPairs, QueryParams};
use super::{AppState, Param, Produces, Route};
use crate::live::{Commit, LiveFeed};

/// The shortest time between two `commit` events of one stream.
pub const MIN_GAP: Duration = Duration::from_millis(250);
/// How often an idle stream sends a comment, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

const PARAMS: &[Param] = &[
    Param {
        name: "project",
        in_path: false,
        description: "only this project's commits (default: every project the key may read)",
    },
    Param {
        name: "max_events",
        in_path: false,
        description: "end the stream after this many events, the ready event included (default: never)",
    },
];

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: Method::GET,
        path: "/api/analytics/live".into(),
        access: Access::Read,
        summary: "Server-Sent Events: a ready event, then one commit event per committed batch (coalesced, at most 4 a second) naming the projects touched and their records".into(),
        params: PARAMS,
        produces: Produces::EventStream,
        body: None,
        handler: get(live),
    }]
}

/// What a stream has heard and not yet sent.
#[derive(Debug, Default)]
struct Pending {
    projects: BTreeMap<String, u64>,
    batches: u64,
    skipped: u64,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.batches == 0 && self.skipped == 0
    }
}

/// One client's stream.
struct Listener {
    commits: broadcast::Receiver<Arc<Commit>>,
    feed: LiveFeed,
    /// `None`: every project.
    projects: Option<Vec<String>>,
    closing: watch::Receiver<bool>,
    last_sent: Option<Instant>,
    remaining: Option<u64>,
    ready_sent: bool,
    _place: OwnedSemaphorePermit,
}

/// Why a stream stops waiting.
enum Wake {
    Heard(Result<Arc<Commit>, RecvError>),
    Closing,
    Due,
    /// Woken for nothing (the closing flag set to what it was).
    Nothing,
}

impl Listener {
    fn take(&mut self, heard: Result<Arc<Commit>, RecvError>, pending: &mut Pending) -> bool {
        match heard {
            Ok(commit) => {
                let mut touched = false;
                for (project, records) in &commit.projects {
                    if self.projects.as_ref().is_none_or(|p| p.contains(project)) {
                        *pending.projects.entry(project.clone()).or_insert(0) += records;
                        touched = true;
                    }
                }
                if touched {
                    pending.batches += 1;
                }
                true
            }
            Err(RecvError::Lagged(n)) => {
                // The stream may have missed some of its projects' commits: it says so.
                self.feed.note_skipped(n);
                pending.skipped += n;
                true
            }
            Err(RecvError::Closed) => false,
        }
    }

    async fn wake(&mut self, deadline: Option<Instant>) -> Wake {
        let due = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            changed = self.closing.changed() => match changed {
                Ok(()) if !*self.closing.borrow() => Wake::Nothing,
                _ => Wake::Closing,
            },
            () = due => Wake::Due,
            heard = self.commits.recv() => Wake::Heard(heard),
        }
    }

    /// The next event, `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        if self.remaining == Some(0) || *self.closing.borrow() {
            return None;
        }
        if !self.ready_sent {
            self.ready_sent = true;
            self.count();
            return Some(
                Event::default()
                    .event("ready")
                    .data(json!({ "projects": self.projects }).to_string()),
            );
        }
        let mut pending = Pending::default();
        while pending.is_empty() {
            match self.wake(None).await {
                Wake::Heard(heard) => {
                    if !self.take(heard, &mut pending) {
                        return None;
                    }
                }
                Wake::Closing => return None,
                Wake::Due | Wake::Nothing => {}
            }
        }
        if let Some(last) = self.last_sent {
            let deadline = last + MIN_GAP;
            loop {
                match self.wake(Some(deadline)).await {
                    Wake::Heard(heard) => {
                        if !self.take(heard, &mut pending) {
                            break;
                        }
                    }
                    Wake::Closing => return None,
                    Wake::Due => break,
                    Wake::Nothing => {}
                }
            }
        }
        self.last_sent = Some(Instant::now());
        self.count();
        Some(
            Event::default().event("commit").data(
                json!({
                    "projects": pending.projects,
                    "batches": pending.batches,
                    "skipped": pending.skipped,
                })
                .to_string(),
            ),
        )
    }

    fn count(&mut self) {
        if let Some(n) = &mut self.remaining {
            *n = n.saturating_sub(1);
        }
    }
}

async fn live(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let pairs = QueryParams::parse(query)?;
    let projects = match pairs.get("project") {
        Some(asked) => principal
            .project(Some(asked.to_owned()), "read")?
            .map(|p| vec![p]),
        None => principal.allowed_projects(),
    };
    let remaining = pairs
        .get("max_events")
        .map(|text| {
            text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::bad_request(
                    "bad_query",
                    format!("max_events: must be a whole number above 0, got {text:?}"),
                )
                .with_details(json!({ "field": "max_events" }))
            })
        })
        .transpose()?;
    let place = Arc::clone(&state.live_places)
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_streams",
                format!(
                    "{} live streams are open, the most this server keeps ([server] max_live_streams); the dashboard falls back to polling",
                    state.max_live_streams
                ),
            )
            .with_details(json!({ "limit": state.max_live_streams }))
        })?;
    let feed = state.analytics.live().clone();
    let listener = Listener {
        commits: feed.subscribe(),
        feed,
        projects,
        closing: state.closing.subscribe(),
        last_sent: None,
        remaining,
        ready_sent: false,
        _place: place,
    };
    let stream = futures_util::stream::unfold(listener, |mut listener| async move {
        let event = listener.next().await?;
        Some((Ok::<_, Infallible>(event), listener))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response())
}
