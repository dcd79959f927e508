//! The fan-out of a rollup delta: a delta gathered at its family's finest resolution
//! adds to its project's rows and to the all-projects rows, at every resolution its
//! family keeps for each. Every adapter merges deltas into exactly these rows, so
//! reads by the range planner (`rollup_plan.rs`) count each event once at every
//! resolution.

use crate::rollup::{ALL_PROJECTS, Family, Resolution};
use crate::rollup_fold::DeltaKey;

/// A rollup row's key: family, resolution, project code ([`ALL_PROJECTS`] for all
/// projects together), and the start of its period in epoch seconds. The row holds the
/// measures of every key of that period.
pub type RowKey = (Family, Resolution, i64, i64);

/// The rows a delta gathered under `key` adds to.
pub fn rows_of(key: DeltaKey) -> impl Iterator<Item = RowKey> {
    [key.project, ALL_PROJECTS]
        .into_iter()
        .flat_map(move |project| {
            key.family
                .resolutions(project == ALL_PROJECTS)
                .iter()
                .map(move |&resolution| {
                    let bucket = resolution.bucket(key.bucket * 1000);
                    (key.family, resolution, project, bucket)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_reaches_its_project_and_all_projects_at_each_kept_resolution() {
        // 2026-10-03 05:00 UTC.
        let hour = 1_791_003_600;
        let day = 1_790_985_600;
        let month = 1_790_812_800;
        let key = |family| DeltaKey {
            family,
            project: 3,
            bucket: hour,
            key: 7,
        };
        use Resolution::{Day, Hour, Month};
        let cases = [
            (
                Family::Executions,
                vec![
                    (Family::Executions, Hour, 3, hour),
                    (Family::Executions, Day, 3, day),
                    (Family::Executions, Month, 3, month),
                    (Family::Executions, Hour, ALL_PROJECTS, hour),
                    (Family::Executions, Day, ALL_PROJECTS, day),
                    (Family::Executions, Month, ALL_PROJECTS, month),
                ],
            ),
            (
                Family::ExecutionsByTool,
                vec![
                    (Family::ExecutionsByTool, Day, 3, day),
                    (Family::ExecutionsByTool, Day, ALL_PROJECTS, day),
                    (Family::ExecutionsByTool, Month, ALL_PROJECTS, month),
                ],
            ),
            (
                Family::Events,
                vec![
                    (Family::Events, Month, 3, month),
                    (Family::Events, Month, ALL_PROJECTS, month),
                ],
            ),
        ];
        for (family, expected) in cases {
            assert_eq!(
                rows_of(key(family)).collect::<Vec<_>>(),
                expected,
                "{family:?}"
            );
        }
    }
}
