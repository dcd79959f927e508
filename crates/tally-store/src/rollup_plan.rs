//! The range planner: which rollup rows answer a range, each instant exactly once, with
//! the coarsest rows that fit (a month row where a whole month lies inside, days around
//! it, hours at the ragged ends). Every adapter reads its rollups by this plan; only how
//! it reads the rows of one segment is its own.

use chrono::{DateTime, Utc};

use crate::rollup::{ProjectScope, Resolution, RollupQuery};

/// One stretch of buckets read at one resolution: `[from, to)` in epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub resolution: Resolution,
    pub from: i64,
    pub to: i64,
}

/// An open start of a range.
pub const NEG_INF: i64 = i64::MIN;
/// An open end of a range.
pub const POS_INF: i64 = i64::MAX;

/// The start of the period of `resolution` holding `t` (epoch seconds); infinities stay.
pub fn floor_to(resolution: Resolution, t: i64) -> i64 {
    if t == NEG_INF || t == POS_INF {
        return t;
    }
    resolution.bucket(t.saturating_mul(1000))
}

/// The first period start of `resolution` at or after `t` (epoch seconds).
pub fn ceil_to(resolution: Resolution, t: i64) -> i64 {
    let floor = floor_to(resolution, t);
    if floor == t {
        t
    } else {
        resolution.next(floor)
    }
}

/// The segments that cover `[from, to)` (epoch seconds, hour-aligned or infinite) with
/// rows no coarser than `coarsest`, each instant exactly once.
pub fn plan(from: i64, to: i64, coarsest: Resolution) -> Vec<Segment> {
    let mut out = Vec::new();
    cover(from, to, coarsest, &mut out);
    out.retain(|s| s.from < s.to);
    out
}

fn cover(from: i64, to: i64, coarsest: Resolution, out: &mut Vec<Segment>) {
    if from >= to {
        return;
    }
    let finer = match coarsest {
        Resolution::Hour => {
            out.push(Segment {
                resolution: Resolution::Hour,
                from,
                to,
            });
            return;
        }
        Resolution::Day => Resolution::Hour,
        Resolution::Month => Resolution::Day,
    };
    let inner_from = ceil_to(coarsest, from);
    let inner_to = floor_to(coarsest, to);
    if inner_from < inner_to {
        cover(from, inner_from, finer, out);
        out.push(Segment {
            resolution: coarsest,
            from: inner_from,
            to: inner_to,
        });
        cover(inner_to, to, finer, out);
    } else {
        cover(from, to, finer, out);
    }
}

/// The range of a query in epoch seconds, widened to whole periods of `finest`.
pub fn widened_range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    finest: Resolution,
) -> (i64, i64) {
    let from = from.map_or(NEG_INF, |t| floor_to(finest, t.timestamp()));
    let to = to.map_or(POS_INF, |t| ceil_to(finest, t.timestamp()));
    (from, to)
}

/// The segments that answer `query`: its range widened to whole periods of its family's
/// finest resolution, read with rows no coarser than it asks for (`by`) and than its
/// family keeps for its project scope.
pub fn segments(query: &RollupQuery<'_>) -> Vec<Segment> {
    let (from, to) = widened_range(query.from, query.to, query.family.finest());
    let all_projects = query.projects == ProjectScope::All;
    let coarsest = query
        .by
        .unwrap_or(Resolution::Month)
        .min(query.family.coarsest(all_projects))
        .max(query.family.finest());
    plan(from, to, coarsest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32, h: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp()
    }

    fn seg(resolution: Resolution, from: i64, to: i64) -> Segment {
        Segment {
            resolution,
            from,
            to,
        }
    }

    #[test]
    fn plans_cover_ranges_with_the_coarsest_rows() {
        use Resolution::{Day, Hour, Month};
        let cases = [
            // Everything: month rows only.
            (NEG_INF, POS_INF, Month, vec![seg(Month, NEG_INF, POS_INF)]),
            // Within one day: hours.
            (
                t(2026, 10, 3, 5),
                t(2026, 10, 3, 9),
                Month,
                vec![seg(Hour, t(2026, 10, 3, 5), t(2026, 10, 3, 9))],
            ),
            // Partial days at both ends around whole days.
            (
                t(2026, 10, 3, 5),
                t(2026, 10, 6, 2),
                Month,
                vec![
                    seg(Hour, t(2026, 10, 3, 5), t(2026, 10, 4, 0)),
                    seg(Day, t(2026, 10, 4, 0), t(2026, 10, 6, 0)),
                    seg(Hour, t(2026, 10, 6, 0), t(2026, 10, 6, 2)),
                ],
            ),
            // A whole month inside.
            (
                t(2026, 9, 30, 23),
                t(2026, 11, 2, 0),
                Month,
                vec![
                    seg(Hour, t(2026, 9, 30, 23), t(2026, 10, 1, 0)),
                    seg(Month, t(2026, 10, 1, 0), t(2026, 11, 1, 0)),
                    seg(Day, t(2026, 11, 1, 0), t(2026, 11, 2, 0)),
                ],
            ),
            // Grouping by day never reads month rows.
            (
                NEG_INF,
                t(2026, 10, 2, 3),
                Day,
                vec![
                    seg(Day, NEG_INF, t(2026, 10, 2, 0)),
                    seg(Hour, t(2026, 10, 2, 0), t(2026, 10, 2, 3)),
                ],
            ),
            (NEG_INF, POS_INF, Hour, vec![seg(Hour, NEG_INF, POS_INF)]),
        ];
        for (from, to, coarsest, expected) in cases {
            assert_eq!(
                plan(from, to, coarsest),
                expected,
                "{from}..{to} {coarsest:?}"
            );
        }
    }
}
