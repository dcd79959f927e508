//! The events explorer's pages (`tally_store::event_page`): each window of the write
//! order read from every kind's table the query admits, by the `seq` key, newest first,
//! inside one read-only snapshot.

use postgres::{IsolationLevel, Transaction};
use tally_models::Kind;
use tally_store::event_page::{self, EventPage, EventQuery, Found, StoredEvent, Window};

use crate::export::{ENVELOPE, TopicOrder, columns, decode};
use crate::read::Conditions;
use crate::{PostgresStore, Result};

impl PostgresStore {
    /// The page of stored events `query` selects, newest first (see
    /// [`tally_store::EventPages`]).
    ///
    /// # Errors
    /// Any storage failure.
    pub fn event_page(&self, query: &EventQuery) -> Result<EventPage> {
        let mut client = self.conn()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let top: i64 = tx
            .query_one("SELECT coalesce(max(seq), 0) + 1 FROM tally.ledger", &[])?
            .get(0);
        let topics = if query.admits(Kind::Session) {
            Some(TopicOrder::load(&mut tx)?)
        } else {
            None
        };
        let page = event_page::read_page(query, top, &mut |window| {
            let mut found = Found {
                events: Vec::new(),
                read: 0,
                reached: window.lo,
            };
            for kind in query.kinds() {
                read_kind(&mut tx, query, kind, window, topics.as_ref(), &mut found)?;
            }
            Ok(found)
        })?;
        tx.commit()?;
        Ok(page)
    }
}

/// The newest `want` rows of `kind`'s table the query selects in the window.
fn read_kind(
    tx: &mut Transaction<'_>,
    query: &EventQuery,
    kind: Kind,
    window: Window,
    topics: Option<&TopicOrder>,
    found: &mut Found,
) -> Result<()> {
    let mut conditions = Conditions::default();
    conditions.push("t.seq >=", window.lo);
    conditions.push("t.seq <", window.hi);
    if let Some(project) = &query.project {
        conditions.push("t.project =", project.clone());
    }
    if let Some(from) = query.from {
        conditions.push("t.ts >=", crate::ms(from));
    }
    if let Some(to) = query.to {
        conditions.push("t.ts <", crate::ms(to));
    }
    match kind {
        Kind::Execution => {
            for (column, value) in [
                ("t.tool =", &query.tool),
                ("t.model =", &query.model),
                ("t.agent_id =", &query.agent),
                ("t.task_id =", &query.trace),
            ] {
                if let Some(value) = value {
                    conditions.push(column, value.clone());
                }
            }
            if let Some(success) = query.success {
                conditions.push("t.success =", success);
            }
        }
        Kind::Run => {
            if let Some(model) = &query.model {
                conditions.push_with(model.clone(), |param| {
                    format!(
                        "EXISTS (SELECT 1 FROM tally.run_model m WHERE m.run_seq = t.seq AND m.model = {param})"
                    )
                });
            }
        }
        Kind::AgentStatus => {
            if let Some(agent) = &query.agent {
                conditions.push("t.agent_id =", agent.clone());
            }
        }
        _ => {}
    }
    let limit = conditions.bind(i64::try_from(window.want).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {ENVELOPE}, {} FROM tally.{} t LEFT JOIN tally.ledger l ON l.seq = t.seq
         WHERE {} ORDER BY t.seq DESC LIMIT {limit}",
        columns(kind),
        kind.as_str(),
        conditions.sql()
    );
    for row in tx.query(sql.as_str(), &conditions.params())? {
        found.events.push(StoredEvent {
            seq: row.get(0),
            event: decode(kind, &row, topics, true)?,
        });
        found.read += 1;
    }
    Ok(())
}
