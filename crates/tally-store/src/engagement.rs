//! What events add to the engagement tables: per `(project, user, day)` the first and
//! last instant and the number of events, and per `(project, session)` its span.
//!
//! Every merge is a minimum, a maximum or a sum, so a batch folds to the same rows
//! whatever the order events arrive in; the ledger keeps duplicates out of the fold.

use tally_models::{Event, EventBody};

/// The `action` that opens a session (`POST /api/analytics/session/start`).
pub const SESSION_START: &str = "session_start";
/// The `action` that closes a session (`POST /api/analytics/session/{id}/end`).
pub const SESSION_END: &str = "session_end";

/// The prefix of the session key of a `session` event: such an event is a whole
/// session of its own, from its `ts` for its `duration_s`.
pub const SESSION_EVENT_PREFIX: &str = "session-event:";

/// One user's activity on one day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayActivity {
    /// Epoch milliseconds of the day's first and last event.
    pub first_ms: i64,
    pub last_ms: i64,
    pub events: u64,
}

impl DayActivity {
    fn at(ts: i64) -> Self {
        DayActivity {
            first_ms: ts,
            last_ms: ts,
            events: 1,
        }
    }

    /// Adds `other`'s events to these.
    pub fn merge(&mut self, other: &DayActivity) {
        self.first_ms = self.first_ms.min(other.first_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
        self.events += other.events;
    }
}

/// What is known of one session: its first and last activity, its end when one was
/// sent, and its user (the user of its earliest event that names one; at the same
/// instant the smallest user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpan {
    /// Epoch milliseconds.
    pub start_ms: i64,
    pub last_ms: i64,
    /// The latest `session_end` (or a `session` event's `ts + duration_s`).
    pub end_ms: Option<i64>,
    /// `(ts of the event that named it, user id)`.
    pub user: Option<(i64, String)>,
}

impl SessionSpan {
    /// Adds `other`'s events to this span.
    pub fn merge(&mut self, other: &SessionSpan) {
        self.start_ms = self.start_ms.min(other.start_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
        self.end_ms = self.end_ms.max(other.end_ms);
        self.user = match (self.user.take(), &other.user) {
            (Some(held), Some(new)) => Some(held.min(new.clone())),
            (held, new) => held.or_else(|| new.clone()),
        };
    }
}

/// The user an event names, if its kind carries one.
pub fn user_of(event: &Event) -> Option<&str> {
    match &event.body {
        EventBody::Execution(x) => x.user_id.as_deref(),
        EventBody::Request(r) => r.user_id.as_deref(),
        EventBody::Session(s) => Some(&s.user_id),
        EventBody::Skill(s) => Some(&s.user_id),
        EventBody::Outcome(o) => Some(&o.user_id),
        EventBody::Action(a) => Some(&a.user_id),
        EventBody::Run(_)
        | EventBody::Job(_)
        | EventBody::AgentStatus(_)
        | EventBody::System(_)
        | EventBody::Error(_) => None,
    }
}

/// The session an event belongs to and what it adds to it, if any: the `session_id`
/// of an execution, skill, request or action, or a `session` event itself.
pub fn session_of(event: &Event) -> Option<(String, SessionSpan)> {
    let ts = event.ts.timestamp_millis();
    let user = user_of(event).map(|user| (ts, user.to_owned()));
    let mut span = SessionSpan {
        start_ms: ts,
        last_ms: ts,
        end_ms: None,
        user,
    };
    let key = match &event.body {
        EventBody::Execution(x) => x.session_id.as_deref()?.to_owned(),
        EventBody::Skill(s) => s.session_id.as_deref()?.to_owned(),
        EventBody::Request(r) => r.session_id.as_deref()?.to_owned(),
        EventBody::Action(a) => {
            if a.action == SESSION_END {
                span.end_ms = Some(ts);
            }
            a.session_id.as_deref()?.to_owned()
        }
        EventBody::Session(s) => {
            let id = event.id.as_ref()?;
            let end = ts + (s.duration_s * 1000.0).round() as i64;
            span.last_ms = end;
            span.end_ms = Some(end);
            format!("{SESSION_EVENT_PREFIX}{id}")
        }
        _ => return None,
    };
    Some((key, span))
}

/// The start (epoch seconds, UTC) of the day holding `ts_ms`.
pub fn day_of(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(86_400_000) * 86_400
}

/// The day activity an event adds under its user, if it names one.
pub fn day_activity_of(event: &Event) -> Option<(&str, i64, DayActivity)> {
    let ts = event.ts.timestamp_millis();
    user_of(event).map(|user| (user, day_of(ts), DayActivity::at(ts)))
}
