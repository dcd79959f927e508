//! The events explorer's pages (`tally_store::event_page`): a window of the write order
//! is read from the execution blocks, newest first, skipping unread the blocks whose
//! summary rules the filter out, and from the other kinds' tables by their `seq` key.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};
use tally_models::Kind;
use tally_store::event_page::{self, EventPage, EventQuery, Found, StoredEvent, Window};

use super::arrivals;
use super::dictionary::Dim;
use super::execution_block::{self, Selection, Wanted, may_hold};
use super::export::{ENVELOPE, Names, columns, decode, execution};
use super::rollup_read::code;
use crate::{Error, Result};

/// The codes of a query's names; `None` when a name has no code, so no event of the
/// kinds that name applies to can match.
struct Codes {
    project: Option<i64>,
    tool: Option<i64>,
    model: Option<i64>,
    agent: Option<i64>,
}

/// A code for `name` in `dim`: `Ok(None)` when no name was asked, `Err(())` when the
/// name has none.
fn lookup(conn: &Connection, dim: Dim, name: Option<&str>) -> Result<Option<Option<i64>>> {
    match name {
        None => Ok(Some(None)),
        Some(name) => Ok(code(conn, dim, name)?.map(Some)),
    }
}

pub(super) fn event_page(conn: &Connection, query: &EventQuery) -> Result<EventPage> {
    let empty = EventPage {
        events: Vec::new(),
        next: None,
    };
    let Some(project) = lookup(conn, Dim::Project, query.project.as_deref())? else {
        return Ok(empty);
    };
    // A name without a code is named by no stored event: the kinds that have the field
    // hold none, and the query excludes the kinds that do not.
    let (Some(tool), Some(model), Some(agent)) = (
        lookup(conn, Dim::Tool, query.tool.as_deref())?,
        lookup(conn, Dim::Model, query.model.as_deref())?,
        lookup(conn, Dim::Agent, query.agent.as_deref())?,
    ) else {
        return Ok(empty);
    };
    let codes = Codes {
        project,
        tool,
        model,
        agent,
    };
    // One snapshot for the whole page.
    let tx = conn.unchecked_transaction()?;
    let names = Names::load(&tx)?;
    let top = arrivals::next_seq(&tx)?;
    let page = event_page::read_page(query, top, &mut |window| {
        Ok(read_window(&tx, &names, query, &codes, window)?)
    })?;
    tx.finish()?;
    Ok(page)
}

fn read_window(
    conn: &Connection,
    names: &Names,
    query: &EventQuery,
    codes: &Codes,
    window: Window,
) -> Result<Found> {
    let mut found = Found {
        events: Vec::new(),
        read: 0,
        reached: window.lo,
    };
    if query.admits(Kind::Execution) {
        executions(conn, names, query, codes, window, &mut found)?;
    }
    for kind in query.kinds().filter(|&k| k != Kind::Execution) {
        other_kind(conn, names, query, codes, kind, window, &mut found)?;
    }
    Ok(found)
}

/// The executions of the window, newest first, until `want` match or the budget is
/// spent (then `found.reached` says how far down the blocks were read).
fn executions(
    conn: &Connection,
    names: &Names,
    query: &EventQuery,
    codes: &Codes,
    window: Window,
    found: &mut Found,
) -> Result<()> {
    let wanted = Wanted {
        project: codes.project,
        tool: codes.tool,
        model: codes.model,
        agent: codes.agent,
        success: query.success,
        task: query.trace.as_deref(),
    };
    let from = query.from.map_or(i64::MIN, |t| t.timestamp_millis());
    let to = query.to.map_or(i64::MAX, |t| t.timestamp_millis());
    let selection = Selection {
        seqs: window.lo..window.hi,
        ts: from..to,
        wanted,
    };
    // Blocks never overlap in `seq`: walking down by first_seq, last_seq falls too.
    let mut blocks = conn.prepare_cached(
        "SELECT b.first_seq, b.last_seq, b.ts_min, b.ts_max, b.events, s.summary
         FROM execution_block b LEFT JOIN execution_block_summary s USING (first_seq)
         WHERE b.first_seq < ?1 ORDER BY b.first_seq DESC",
    )?;
    let mut data = conn.prepare_cached("SELECT data FROM execution_block WHERE first_seq = ?1")?;
    let mut rows = blocks.query([window.hi])?;
    let mut matched = 0;
    while let Some(block) = rows.next()? {
        let (first_seq, last_seq, ts_min, ts_max, events): (i64, i64, i64, i64, i64) = (
            block.get(0)?,
            block.get(1)?,
            block.get(2)?,
            block.get(3)?,
            block.get(4)?,
        );
        if last_seq < window.lo {
            break;
        }
        if ts_max < from || ts_min >= to {
            continue;
        }
        // Read in place, uncopied; a block without one may hold anything.
        if let ValueRef::Blob(summary) = block.get_ref(5)?
            && !may_hold(summary, &wanted)
        {
            continue;
        }
        let events = u64::try_from(events).unwrap_or(0);
        if found.read > 0 && found.read + events > window.budget {
            // Out of budget: the window is examined down to above this block.
            found.reached = (last_seq + 1).clamp(window.lo, window.hi);
            return Ok(());
        }
        found.read += events;
        let rows = data.query_row([first_seq], |r| {
            Ok(match r.get_ref(0)? {
                ValueRef::Blob(bytes) => execution_block::decode_selected(bytes, &selection),
                _ => Err(Error::Corrupt(format!(
                    "execution block {first_seq}: no data"
                ))),
            })
        })??;
        for row in rows.into_iter().rev() {
            let seq = row.seq;
            found.events.push(StoredEvent {
                seq,
                event: execution(names, row, true)?,
            });
            matched += 1;
            if matched >= window.want {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The newest `want` rows of `kind`'s table the query selects in `[found.reached, hi)`.
fn other_kind(
    conn: &Connection,
    names: &Names,
    query: &EventQuery,
    codes: &Codes,
    kind: Kind,
    window: Window,
    found: &mut Found,
) -> Result<()> {
    let mut values = vec![Value::Integer(found.reached), Value::Integer(window.hi)];
    let mut clauses = vec!["t.seq >= ?1".to_owned(), "t.seq < ?2".to_owned()];
    let mut bind = |clause: &str, value: i64| {
        values.push(Value::Integer(value));
        clauses.push(clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(project) = codes.project {
        bind("t.project = ?", project);
    }
    if let Some(from) = query.from {
        bind("t.ts >= ?", from.timestamp_millis());
    }
    if let Some(to) = query.to {
        bind("t.ts < ?", to.timestamp_millis());
    }
    if let (Kind::Run, Some(model)) = (kind, codes.model) {
        bind(
            "EXISTS (SELECT 1 FROM run_model m WHERE m.run_seq = t.seq AND m.model = ?)",
            model,
        );
    }
    if let (Kind::AgentStatus, Some(agent)) = (kind, codes.agent) {
        bind("t.agent = ?", agent);
    }
    values.push(Value::Integer(
        i64::try_from(window.want).unwrap_or(i64::MAX),
    ));
    let sql = format!(
        "SELECT {ENVELOPE}, t.attrs, {} FROM {} t
         LEFT JOIN event_ids l ON l.seq = t.seq AND typeof(l.id) = 'text'
         WHERE {} ORDER BY t.seq DESC LIMIT ?{}",
        columns(kind),
        kind.as_str(),
        clauses.join(" AND "),
        values.len()
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query(params_from_iter(values.iter()))?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        found.events.push(StoredEvent {
            seq,
            event: decode(conn, names, kind, row)?,
        });
        found.read += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;

    #[test]
    fn the_ledger_lookup_uses_the_index_of_given_ids() {
        let mut conn = Connection::open_in_memory().expect("open");
        crate::schema::migrate(&mut conn, ":memory:").expect("migrate");
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT l.id FROM error t
                 LEFT JOIN event_ids l ON l.seq = t.seq AND typeof(l.id) = 'text'
                 WHERE t.seq >= 1 AND t.seq < 9 ORDER BY t.seq DESC",
            )
            .expect("plan")
            .query_map(params![], |r| r.get(3))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert!(
            plan.iter()
                .any(|step| step.contains("event_ids_given_by_seq")),
            "{plan:?}"
        );
    }
}
