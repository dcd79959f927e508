//! Bounds on the work one question may ask for, whoever asks (the CLI or the HTTP API):
//! a range is clamped to the months that hold data (and now), and a series of more
//! than [`MAX_POINTS`] periods is refused with the limit named, so the memory and time
//! of any one answer stay bounded whatever its parameters.

use chrono::{DateTime, Duration, Utc};
use tally_store::Filter;

pub use tally_predict::series::MAX_POINTS;

use crate::{Analytics, Error, Result};

/// The name of a step, for messages: `hour`, `day`, or seconds.
pub(crate) fn step_name(step_seconds: i64) -> String {
    match step_seconds {
        3600 => "hour".to_owned(),
        86_400 => "day".to_owned(),
        seconds => format!("{seconds} s"),
    }
}

/// Refuses a range of more than [`MAX_POINTS`] steps of `step_seconds` from `from`
/// (the start of its period) to `to` (exclusive).
pub(crate) fn check_points(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step_seconds: i64,
) -> Result<()> {
    let start = from.timestamp() - from.timestamp().rem_euclid(step_seconds);
    let points = (to.timestamp() - start + step_seconds - 1).div_euclid(step_seconds);
    if points > MAX_POINTS as i64 {
        return Err(Error::TooManyPoints {
            points: points as u64,
            step: step_name(step_seconds),
            limit: MAX_POINTS,
        });
    }
    Ok(())
}

impl Analytics {
    /// `filter` with its range clamped to what is stored of its project (of every
    /// project when it names none): `from` no earlier than the first month with an event, `to` no later than the later of the end of the last
    /// such month and now. Sums over the range are unchanged; zero-filled series lose
    /// only the periods before anything was stored and those in the future. A range
    /// that ends up empty keeps its start and ends there.
    ///
    /// # Errors
    /// The store fails.
    pub fn clamped(&self, filter: &Filter) -> Result<Filter> {
        if filter.from.is_none() && filter.to.is_none() {
            return Ok(filter.clone());
        }
        let now = self.view_options().now;
        let (first, end) = match self.store.stored_span(filter.project.as_deref())? {
            Some((first, end)) => (first, end.max(now + Duration::seconds(1))),
            None => (now, now + Duration::seconds(1)),
        };
        let mut clamped = filter.clone();
        clamped.from = filter.from.map(|from| from.max(first));
        clamped.to = filter.to.map(|to| to.min(end));
        if let (Some(from), Some(to)) = (clamped.from, clamped.to) {
            if to < from {
                clamped.to = Some(from);
            }
        }
        Ok(clamped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::parse_instant(text, "t", false).unwrap()
    }

    #[test]
    fn points_are_counted_from_the_period_start() {
        check_points(at("2026-01-01"), at("2026-01-02"), 3600).unwrap();
        // 10,000 hours exactly, then one more.
        let from = at("2026-01-01");
        check_points(from, from + Duration::hours(10_000), 3600).unwrap();
        let error = check_points(from, from + Duration::hours(10_001), 3600).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the range holds 10001 points of one hour, more than the limit of 10000 per series: \
             narrow from/to or use a coarser granularity"
        );
        // A start within its period counts that whole period.
        let error = check_points(
            from + Duration::minutes(30),
            from + Duration::hours(10_000) + Duration::minutes(1),
            3600,
        )
        .unwrap_err();
        assert!(error.to_string().contains("holds 10001 points"), "{error}");
    }

    #[test]
    fn ranges_are_clamped_to_the_stored_months_and_now() {
        let dir = tempfile::tempdir().unwrap();
        let analytics = Analytics::open(dir.path().join("t.db"))
            .unwrap()
            .as_of(at("2026-06-15T12:00:00Z"));
        let wide = Filter {
            project: None,
            from: Some(at("2000-01-01")),
            to: Some(at("9999-12-31")),
        };
        // Nothing stored: the range shrinks to now.
        let empty = analytics.clamped(&wide).unwrap();
        assert_eq!(empty.from, Some(at("2026-06-15T12:00:00Z")));
        assert_eq!(empty.to, Some(at("2026-06-15T12:00:01Z")));
        let body = r#"{"kind":"execution","ts":"2026-03-10T08:00:00Z","tool":"t","duration_ms":5,"success":true}"#;
        analytics
            .ingest(&crate::Input::Bytes {
                name: "t".into(),
                data: body.as_bytes().into(),
            })
            .unwrap();
        let clamped = analytics.clamped(&wide).unwrap();
        assert_eq!(clamped.from, Some(at("2026-03-01")));
        assert_eq!(clamped.to, Some(at("2026-06-15T12:00:01Z")));
        // A range inside the span is left as it is; one wholly before it is empty.
        let inside = Filter {
            project: None,
            from: Some(at("2026-04-01")),
            to: Some(at("2026-04-02")),
        };
        assert_eq!(analytics.clamped(&inside).unwrap(), inside);
        let before = Filter {
            project: None,
            from: Some(at("2001-01-01")),
            to: Some(at("2001-02-01")),
        };
        let before = analytics.clamped(&before).unwrap();
        assert_eq!(
            (before.from, before.to),
            (Some(at("2026-03-01")), Some(at("2026-03-01")))
        );
    }
}
