//! The events explorer's pages: the raw events by `seq`, walked down a window at a time.

use tally_store::event_page::{self, EventPage, EventQuery, Found, StoredEvent, Window};
use tally_store::{EventPages, Result};

use crate::MemoryStore;
use crate::export::as_read;

impl EventPages for MemoryStore {
    fn event_page(&self, query: &EventQuery) -> Result<EventPage> {
        let state = self.read();
        event_page::read_page(query, state.next_seq, &mut |window: Window| {
            let in_range = state.events.range(window.lo..window.hi);
            Ok(Found {
                read: in_range.clone().count() as u64,
                events: in_range
                    .rev()
                    .filter(|(_, stored)| query.matches(&stored.event))
                    .take(window.want)
                    .map(|(&seq, stored)| StoredEvent {
                        seq,
                        event: as_read(&state, &stored.event, true),
                    })
                    .collect(),
                reached: window.lo,
            })
        })
    }
}
