//! The events explorer's query, shared by every adapter: which events a page selects
//! ([`EventQuery::matches`]), and how a page is read ([`read_page`]): the write order
//! (`seq`) walked down from the cursor in windows of growing size, each window asked of
//! the adapter, until the page is full, the oldest event is passed, or
//! [`SCAN_CAP`] positions were examined.
//!
//! The cursor is the `seq` below which the next page starts (keyset, never an offset),
//! so events written while a client pages through are never seen twice and never shift
//! what the following pages hold: they are newer than the first page.

use chrono::{DateTime, Utc};
use tally_models::{Event, EventBody, Kind};

use crate::Result;

/// The page size when none is asked.
pub const DEFAULT_LIMIT: usize = 50;

/// The largest page.
pub const MAX_LIMIT: usize = 500;

/// The most stored events one page reads (decodes or fetches). A rare filter that
/// finds fewer than its limit within them ends the page early, with a cursor where it
/// stopped, so no request reads the whole store. Blocks of executions that their
/// summaries rule out are skipped unread and not counted.
pub const READ_CAP: u64 = 1 << 18;

/// The most positions of the write order one page walks, read or skipped.
pub const SPAN_CAP: i64 = 1 << 24;

/// The first window asked of the adapter; each further one is twice as large.
const FIRST_WINDOW: i64 = 1 << 14;

/// Which stored events a page selects. A filter on a field some kinds do not have
/// (`tool`, `model`, `agent`, `success`, `trace`) selects none of those kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub kind: Option<Kind>,
    pub project: Option<String>,
    /// An execution's tool.
    pub tool: Option<String>,
    /// An execution's model, or one of a run's models.
    pub model: Option<String>,
    /// An execution's or an agent status's agent.
    pub agent: Option<String>,
    /// An execution's success.
    pub success: Option<bool>,
    /// Event time, `from` inclusive, `to` exclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// A trace id: the `task_id` of the executions an OpenTelemetry trace's spans became.
    pub trace: Option<String>,
    /// The cursor: only events with a lower `seq`.
    pub before: Option<i64>,
    /// At most this many events (1 to [`MAX_LIMIT`]).
    pub limit: usize,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            kind: None,
            project: None,
            tool: None,
            model: None,
            agent: None,
            success: None,
            from: None,
            to: None,
            trace: None,
            before: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// One stored event and its place in the write order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: Event,
}

/// A page of events, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Where the next page starts (the `before` to ask with); `None` when no stored
    /// event below this page can match.
    pub next: Option<i64>,
}

impl EventQuery {
    /// Whether `kind` can have events this query selects.
    pub fn admits(&self, kind: Kind) -> bool {
        if self.kind.is_some_and(|k| k != kind) {
            return false;
        }
        // Fields of executions alone; a model is also a run's, an agent an agent status's.
        let execution_only = self.tool.is_some() || self.success.is_some() || self.trace.is_some();
        match kind {
            Kind::Execution => true,
            Kind::Run => !execution_only && self.agent.is_none(),
            Kind::AgentStatus => !execution_only && self.model.is_none(),
            _ => !execution_only && self.model.is_none() && self.agent.is_none(),
        }
    }

    /// The kinds this query can select, in [`Kind::ALL`] order.
    pub fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        Kind::ALL.iter().copied().filter(|&k| self.admits(k))
    }

    /// Whether the query selects `event` (the cursor aside).
    pub fn matches(&self, event: &Event) -> bool {
        if !self.admits(event.kind()) {
            return false;
        }
        let ts = event.ts.timestamp_millis();
        let in_time = self.from.is_none_or(|f| ts >= f.timestamp_millis())
            && self.to.is_none_or(|t| ts < t.timestamp_millis());
        if !in_time || self.project.as_ref().is_some_and(|p| *p != *event.project) {
            return false;
        }
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|want| have == Some(want))
        };
        match &event.body {
            EventBody::Execution(x) => {
                same(&self.tool, Some(&x.tool))
                    && same(&self.model, x.model.as_deref())
                    && same(&self.agent, x.agent_id.as_deref())
                    && same(&self.trace, x.task_id.as_deref())
                    && self.success.is_none_or(|s| s == x.success)
            }
            EventBody::Run(run) => self
                .model
                .as_deref()
                .is_none_or(|want| run.models.iter().any(|m| m.model == want)),
            EventBody::AgentStatus(status) => same(&self.agent, Some(&status.agent_id)),
            _ => true,
        }
    }
}

/// One range of the write order an adapter is asked for: the matching events with
/// `seq` in `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub lo: i64,
    pub hi: i64,
    /// The newest this many matching events of the range are wanted (more may come).
    pub want: usize,
    /// Read at most about this many stored events (at least one block when some is to
    /// be read): past it, stop and say where.
    pub budget: u64,
}

/// What an adapter found in a [`Window`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// Matching events with `seq` in `[reached, hi)`, in any order.
    pub events: Vec<StoredEvent>,
    /// Stored events read.
    pub read: u64,
    /// `[reached, hi)` was examined whole: `lo` unless the budget ran out.
    pub reached: i64,
}

/// Reads one page for `query` from an adapter's `window` (see [`Window`]). `top` is
/// above every stored `seq`.
///
/// # Errors
/// The window's.
pub fn read_page(
    query: &EventQuery,
    top: i64,
    window: &mut dyn FnMut(Window) -> Result<Found>,
) -> Result<EventPage> {
    let limit = query.limit.clamp(1, MAX_LIMIT);
    let mut hi = query.before.map_or(top, |before| before.min(top));
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut size = FIRST_WINDOW;
    let (mut walked, mut read) = (0, 0);
    while hi > 1 {
        let lo = hi.saturating_sub(size.min(SPAN_CAP - walked)).max(1);
        let found = window(Window {
            lo,
            hi,
            want: limit + 1 - events.len(),
            budget: READ_CAP.saturating_sub(read).max(1),
        })?;
        let reached = found.reached.clamp(lo, hi);
        let mut got = found.events;
        got.retain(|e| (reached..hi).contains(&e.seq));
        got.sort_by_key(|e| std::cmp::Reverse(e.seq));
        events.extend(got);
        read += found.read;
        walked += hi - reached;
        hi = reached;
        if events.len() > limit {
            events.truncate(limit);
            let next = events.last().map(|e| e.seq);
            return Ok(EventPage { events, next });
        }
        if reached > lo || read >= READ_CAP || walked >= SPAN_CAP {
            break;
        }
        size = size.saturating_mul(2);
    }
    let next = (hi > 1).then_some(hi);
    Ok(EventPage { events, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window over `seqs`, every one matching; counts the positions asked.
    fn pages(seqs: &[i64], query: &EventQuery, top: i64) -> (EventPage, i64) {
        let mut asked = 0;
        let page = read_page(query, top, &mut |w: Window| {
            asked += w.hi - w.lo;
            Ok(Found {
                events: seqs
                    .iter()
                    .filter(|s| (w.lo..w.hi).contains(s))
                    .map(|&seq| StoredEvent {
                        seq,
                        event: event(),
                    })
                    .collect(),
                read: 0,
                reached: w.lo,
            })
        })
        .expect("page");
        (page, asked)
    }

    fn event() -> Event {
        Event {
            id: None,
            ts: DateTime::from_timestamp_millis(0).expect("ts"),
            project: "p".into(),
            attrs: Default::default(),
            body: EventBody::Error(tally_models::ErrorEvent {
                source: "s".into(),
                message: "m".into(),
                severity: tally_models::Severity::Info,
            }),
        }
    }

    #[test]
    fn pages_walk_down_without_overlap() {
        let seqs: Vec<i64> = (1..=120).collect();
        let mut query = EventQuery {
            limit: 50,
            ..EventQuery::default()
        };
        let mut seen = Vec::new();
        loop {
            let (page, _) = pages(&seqs, &query, 121);
            seen.extend(page.events.iter().map(|e| e.seq));
            match page.next {
                Some(next) => query.before = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, (1..=120).rev().collect::<Vec<_>>());
    }

    #[test]
    fn a_rare_filter_stops_at_the_cap_with_a_cursor() {
        let top = 3 * SPAN_CAP;
        let (page, asked) = pages(&[5], &EventQuery::default(), top);
        assert!(page.events.is_empty());
        assert_eq!(asked, SPAN_CAP);
        assert_eq!(page.next, Some(top - SPAN_CAP));
        let (page, _) = pages(
            &[5],
            &EventQuery {
                before: Some(SPAN_CAP),
                ..EventQuery::default()
            },
            top,
        );
        assert_eq!(page.events.len(), 1);
        assert_eq!(page.next, None);
    }

    #[test]
    fn fields_a_kind_lacks_exclude_it() {
        let query = EventQuery {
            tool: Some("search".into()),
            ..EventQuery::default()
        };
        assert!(!query.matches(&event()));
        assert_eq!(query.kinds().collect::<Vec<_>>(), vec![Kind::Execution]);
        let query = EventQuery {
            model: Some("m".into()),
            ..EventQuery::default()
        };
        assert_eq!(
            query.kinds().collect::<Vec<_>>(),
            vec![Kind::Execution, Kind::Run]
        );
    }
}
