//! Stored events read back as they were sent, as the SQLite store exports them: given
//! ids kept, derived ids and computed costs left out (ingest derives and computes them
//! again), durations to the microsecond they were stored at, a session's topics once
//! each in the topic dictionary's order.

use tally_models::{CostSource, Event, EventBody, EventId, Kind};
use tally_store::{Dim, Export, Filter, Result};

use crate::MemoryStore;
use crate::state::State;

impl Export for MemoryStore {
    fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64> {
        export(&self.read(), filter, None, sink)
    }

    fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64> {
        export(&self.read(), filter, Some(Kind::Execution), sink)
    }
}
use crate::write::{micros, seconds_to_micros};

/// Calls `sink` with the events the filter selects, executions first, then kind by
/// kind, each in arrival order; only the kind `only`, when given. Returns how many.
fn export(
    state: &State,
    filter: &Filter,
    only: Option<Kind>,
    sink: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<u64> {
    let Some(project) = state.project_code(filter.project.as_deref()) else {
        return Ok(0);
    };
    let mut total = 0;
    for &kind in Kind::ALL {
        if only.is_some_and(|only| only != kind) {
            continue;
        }
        for (_, stored) in state.events_in(project, filter.from, filter.to) {
            if stored.event.kind() == kind {
                sink(as_read(state, &stored.event, false))?;
                total += 1;
            }
        }
    }
    Ok(total)
}

/// An event as the SQLite store reads it back; a cost tally computed is kept (marked
/// computed) when `keep_computed_cost`, else left out.
pub(crate) fn as_read(state: &State, stored: &Event, keep_computed_cost: bool) -> Event {
    let mut event = stored.clone();
    if matches!(event.id, Some(EventId::Derived(_))) {
        event.id = None;
    }
    let to_ms = |ms: f64| micros(ms) as f64 / 1000.0;
    let to_s = |s: f64| seconds_to_micros(s) as f64 / 1e6;
    match &mut event.body {
        EventBody::Execution(x) => {
            x.duration_ms = to_ms(x.duration_ms);
            if x.cost_source == CostSource::Computed && !keep_computed_cost {
                x.cost_usd = None;
                x.cost_source = CostSource::Reported;
            }
            if x.cost_usd.is_none() {
                x.cost_source = CostSource::Reported;
            }
        }
        EventBody::Run(r) => r.duration_s = to_s(r.duration_s),
        EventBody::Session(s) => {
            s.duration_s = to_s(s.duration_s);
            let code = |topic: &String| state.dict.get(Dim::Topic, topic).unwrap_or(i64::MAX);
            s.topics.sort_by_key(code);
            s.topics.dedup();
        }
        EventBody::Skill(s) => s.duration_ms = s.duration_ms.map(to_ms),
        EventBody::Request(r) => r.latency_ms = to_ms(r.latency_ms),
        EventBody::Job(_)
        | EventBody::Outcome(_)
        | EventBody::AgentStatus(_)
        | EventBody::Action(_)
        | EventBody::System(_)
        | EventBody::Error(_) => {}
    }
    event
}
