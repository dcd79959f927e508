//! The events explorer: the records behind a number, filtered and paged newest first by
//! an opaque cursor. The one parser of its parameters (`?tool=`, `--tool`) is here, so
//! the HTTP route and the `tally events` command read them alike.

use serde::Serialize;
use serde_json::Value;
use tally_models::{CostSource, Event, EventBody, Kind};
use tally_store::Filter;
pub use tally_store::event_page::{DEFAULT_LIMIT, EventQuery, MAX_LIMIT, READ_CAP, SPAN_CAP};

use crate::filter::{FilterNames, parse_filter};
use crate::{Analytics, Error, Result};

/// The explorer's parameters, in the order they are documented.
pub const EVENT_PARAMETERS: [&str; 11] = [
    "kind", "project", "tool", "model", "agent", "success", "from", "to", "trace", "limit",
    "cursor",
];

/// A parameter the explorer cannot read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    /// One of [`EVENT_PARAMETERS`].
    pub parameter: &'static str,
    pub message: String,
}

impl From<BadParameter> for Error {
    fn from(bad: BadParameter) -> Error {
        Error::Filter(bad.message)
    }
}

/// One page of the explorer: events in the wire format, each with its stored id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventsPage {
    pub events: Vec<Value>,
    /// Ask again with `cursor=` this for the next page; `None` after the last one.
    pub next_cursor: Option<String>,
}

/// Reads the explorer's parameters by name (`get` answers a parameter's text, empty
/// values taken as absent); `flag` turns a parameter's name into what the caller
/// typed (`tool` or `--tool`) for messages.
///
/// # Errors
/// The first parameter that does not read, named.
pub fn parse_event_query<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    flag: impl Fn(&'static str) -> String,
) -> std::result::Result<EventQuery, BadParameter> {
    let bad = |parameter: &'static str, message: String| BadParameter { parameter, message };
    let text = |name: &'static str| get(name).filter(|v| !v.is_empty());
    let kind = text("kind")
        .map(|word| {
            Kind::from_word(word).ok_or_else(|| {
                let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                bad(
                    "kind",
                    format!(
                        "{} {word:?}: expected one of {}",
                        flag("kind"),
                        kinds.join(", ")
                    ),
                )
            })
        })
        .transpose()?;
    let names = FilterNames {
        project: "project",
        from: "from",
        to: "to",
    };
    let filter = parse_filter(text("project"), text("from"), text("to"), names).map_err(|e| {
        let parameter = ["project", "from", "to"]
            .into_iter()
            .find(|name| e.to_string().starts_with(name))
            .unwrap_or("from");
        let message = e.to_string();
        let message = match message.strip_prefix(parameter) {
            Some(rest) => format!("{}{rest}", flag(parameter)),
            None => message,
        };
        bad(parameter, message)
    })?;
    let success = text("success")
        .map(|word| match word {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(bad(
                "success",
                format!("{} {other:?}: expected true or false", flag("success")),
            )),
        })
        .transpose()?;
    let limit = match text("limit") {
        None => DEFAULT_LIMIT,
        Some(word) => match word.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(bad(
                    "limit",
                    format!(
                        "{} {word:?}: expected a number from 1 to {MAX_LIMIT}",
                        flag("limit")
                    ),
                ));
            }
        },
    };
    let before = text("cursor")
        .map(|cursor| {
            decode_cursor(cursor).ok_or_else(|| {
                bad(
                    "cursor",
                    format!(
                        "{} {cursor:?}: not a cursor of this explorer (pass back next_cursor as given)",
                        flag("cursor")
                    ),
                )
            })
        })
        .transpose()?;
    // Trace ids are hex: matched as OTLP stores them, in lower case.
    let trace = text("trace").map(|t| {
        if t.bytes().all(|b| b.is_ascii_hexdigit()) {
            t.to_ascii_lowercase()
        } else {
            t.to_owned()
        }
    });
    Ok(EventQuery {
        kind,
        project: filter.project,
        tool: text("tool").map(str::to_owned),
        model: text("model").map(str::to_owned),
        agent: text("agent").map(str::to_owned),
        success,
        from: filter.from,
        to: filter.to,
        trace,
        before,
        limit,
    })
}

/// The cursor's text: the write position the next page starts below, in hex behind a
/// version letter, so clients treat it as opaque.
fn encode_cursor(seq: i64) -> String {
    format!("c{seq:x}")
}

fn decode_cursor(text: &str) -> Option<i64> {
    let hex = text.strip_prefix('c')?;
    i64::from_str_radix(hex, 16).ok().filter(|&seq| seq > 0)
}

/// An event in the wire format with its stored id: the given one, or the id ingest
/// derived from its content (`derived:` and 32 hex digits).
fn wire(event: Event) -> Result<Value> {
    let id = match &event.id {
        Some(id) => id.to_string(),
        None => {
            // Derived from the event as it was sent: without the cost tally computed.
            let mut sent = event.clone();
            if let EventBody::Execution(x) = &mut sent.body
                && x.cost_source == CostSource::Computed
            {
                x.cost_usd = None;
                x.cost_source = CostSource::Reported;
            }
            tally_ingest::derive_id(&sent).to_string()
        }
    };
    let mut value = serde_json::to_value(&event)
        .map_err(|e| Error::Filter(format!("an event does not serialize: {e}")))?;
    if let Value::Object(map) = &mut value {
        map.insert("id".to_owned(), Value::String(id));
    }
    Ok(value)
}

impl Analytics {
    /// One page of the stored events `query` selects, newest first (see
    /// [`tally_store::EventPages`] for how much one page reads).
    ///
    /// # Errors
    /// A project with no data, or the store fails.
    pub fn events(&self, query: &EventQuery) -> Result<EventsPage> {
        self.check_project(&Filter {
            project: query.project.clone(),
            ..Filter::default()
        })?;
        let page = self.store.event_page(query)?;
        Ok(EventsPage {
            events: page
                .events
                .into_iter()
                .map(|stored| wire(stored.event))
                .collect::<Result<_>>()?,
            next_cursor: page.next.map(encode_cursor),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> std::result::Result<EventQuery, BadParameter> {
        parse_event_query(
            |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v),
            |name| format!("--{name}"),
        )
    }

    #[test]
    fn parameters_read_and_errors_name_them() {
        let query = parse(&[
            ("kind", "execution"),
            ("tool", "sql"),
            ("success", "false"),
            ("trace", "ABCDEF"),
            ("limit", "500"),
            ("from", "2026-10-01"),
        ])
        .expect("reads");
        assert_eq!(query.kind, Some(Kind::Execution));
        assert_eq!(query.tool.as_deref(), Some("sql"));
        assert_eq!(query.success, Some(false));
        assert_eq!(query.trace.as_deref(), Some("abcdef"));
        assert_eq!(query.limit, 500);
        assert_eq!(parse(&[]).expect("reads").limit, DEFAULT_LIMIT);
        for (pairs, parameter) in [
            (&[("limit", "501")][..], "limit"),
            (&[("limit", "0")][..], "limit"),
            (&[("kind", "span")][..], "kind"),
            (&[("success", "yes")][..], "success"),
            (&[("cursor", "42")][..], "cursor"),
            (&[("from", "yesterday")][..], "from"),
            (&[("to", "never")][..], "to"),
            (&[("from", "2026-10-02"), ("to", "2026-10-01")][..], "from"),
        ] {
            let bad = parse(pairs).expect_err("refused");
            assert_eq!(bad.parameter, parameter, "{pairs:?}");
            assert!(
                bad.message.starts_with(&format!("--{parameter}")),
                "{}",
                bad.message
            );
        }
        let cursor = encode_cursor(12345);
        assert_eq!(
            parse(&[("cursor", &cursor)]).expect("reads").before,
            Some(12345)
        );
    }
}
