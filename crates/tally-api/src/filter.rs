//! Filters as people type them (`--from 2026-10-01`, `?to=2026-10-31T12:00:00Z`): the one
//! parser the CLI and the HTTP API share.

use chrono::{DateTime, NaiveDate, Utc};
use tally_store::Filter;

use crate::{Error, Result};

/// Reads an instant: RFC 3339, or a day (`YYYY-MM-DD`); a day given as the end of a
/// range includes that whole day. `name` names the parameter in errors.
///
/// # Errors
/// Neither RFC 3339 nor a day.
pub fn parse_instant(text: &str, name: &str, end_of_day: bool) -> Result<DateTime<Utc>> {
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::Filter(format!(
            "{name} {text:?}: expected RFC 3339 (2026-10-01T00:00:00Z) or a day (2026-10-01)"
        ))
    })?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Names of the three filter parameters, for error messages (`--from` or `from`).
#[derive(Debug, Clone, Copy)]
pub struct FilterNames {
    pub project: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// Reads a project name as ingest stores it (see [`tally_models::project_name`]):
/// NFC-normalised, refused with bidirectional controls; `name` names the parameter.
///
/// # Errors
/// Empty, too long, or with a bidirectional control.
pub fn parse_project(text: &str, name: &str) -> Result<String> {
    tally_models::project_name(text)
        .map(String::from)
        .map_err(|e| Error::Filter(format!("{name} {text:?}: {}", e.message)))
}

/// Builds a [`Filter`] from text: `to` is exclusive as an instant and inclusive as a day;
/// the project is read by [`parse_project`].
///
/// # Errors
/// A project name ingest would refuse, an unreadable instant, or `from` not before `to`.
pub fn parse_filter(
    project: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    names: FilterNames,
) -> Result<Filter> {
    let project = project
        .map(|p| parse_project(p, names.project))
        .transpose()?;
    let from = from
        .map(|t| parse_instant(t, names.from, false))
        .transpose()?;
    let to = to.map(|t| parse_instant(t, names.to, true)).transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(Error::Filter(format!(
                "{} must be before {}",
                names.from, names.to
            )));
        }
    }
    Ok(Filter { project, from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: FilterNames = FilterNames {
        project: "project",
        from: "from",
        to: "to",
    };

    fn check(
        from: Option<&str>,
        to: Option<&str>,
        expected: std::result::Result<(&str, &str), &str>,
    ) {
        let got = parse_filter(None, from, to, NAMES)
            .map(|f| {
                let show = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
                (show(f.from), show(f.to))
            })
            .map_err(|e| e.to_string());
        let expected = expected
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .map_err(str::to_owned);
        assert_eq!(got, expected, "from {from:?} to {to:?}");
    }

    #[test]
    fn days_and_instants() {
        check(
            Some("2026-10-01"),
            Some("2026-10-31"),
            Ok(("2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00")),
        );
        check(
            Some("2026-10-01T12:00:00+02:00"),
            None,
            Ok(("2026-10-01T10:00:00+00:00", "")),
        );
        check(
            Some("yesterday"),
            None,
            Err(
                r#"from "yesterday": expected RFC 3339 (2026-10-01T00:00:00Z) or a day (2026-10-01)"#,
            ),
        );
        check(
            Some("2026-10-02"),
            Some("2026-10-01"),
            Err("from must be before to"),
        );
    }
}

#[cfg(test)]
mod project_tests {
    use super::*;

    const NAMES: FilterNames = FilterNames {
        project: "project",
        from: "from",
        to: "to",
    };

    #[test]
    fn a_project_is_read_as_ingest_stores_it() {
        let decomposed = parse_filter(Some("cafe\u{301}"), None, None, NAMES).unwrap();
        assert_eq!(decomposed.project.as_deref(), Some("caf\u{e9}"));
        let bidi = parse_filter(Some("a\u{202E}b"), None, None, NAMES)
            .unwrap_err()
            .to_string();
        assert!(bidi.starts_with("project \"a\\u{202e}b\": "), "{bidi}");
        assert!(bidi.contains("bidirectional"), "{bidi}");
    }
}
