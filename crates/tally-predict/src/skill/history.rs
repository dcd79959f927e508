//! Reads stored skill invocations into features: a window's [`Dataset`] for training,
//! one context's [`Features`] for a prediction. Both seed a [`FeatureBuilder`] with
//! aggregates of the history older than 24 h before the first instant of interest and
//! replay every invocation after that, so both see the same state for the same instant.

use chrono::{DateTime, Duration, Utc};
use tally_store::{SkillHistoryReader, SkillRowsQuery};

use super::features::{Context, Dataset, DatasetBuilder, FeatureBuilder, Features, RECENT_HOURS};
use crate::Result;

/// The invocations in `[from, to)` with their features, in time order.
///
/// # Errors
/// A storage failure.
pub fn window_dataset(
    reader: &dyn SkillHistoryReader,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Dataset> {
    let replay_from = from - Duration::hours(RECENT_HOURS);
    let mut builder = FeatureBuilder::default();
    builder.seed_tallies(reader.skill_tallies(replay_from, None)?);
    builder.seed_session_starts(reader.skill_session_starts(replay_from, to, None)?);
    let mut dataset = DatasetBuilder::new(builder, from);
    reader.skill_rows(
        &SkillRowsQuery {
            from: replay_from,
            to,
            user: None,
        },
        &mut |row| {
            dataset.push(row);
            Ok(())
        },
    )?;
    Ok(dataset.finish())
}

/// The features of an invocation in `context`, from the stored invocations strictly
/// before `context.ts`.
///
/// # Errors
/// A storage failure.
pub fn context_features(
    reader: &dyn SkillHistoryReader,
    context: &Context<'_>,
) -> Result<Features> {
    let replay_from = context.ts - Duration::hours(RECENT_HOURS);
    let mut builder = FeatureBuilder::default();
    builder.seed_tallies(reader.skill_tallies(replay_from, Some(context.user))?);
    if let Some(session) = context.session {
        builder.seed_session_starts(reader.skill_session_starts(
            context.ts,
            context.ts,
            Some(session),
        )?);
    }
    reader.skill_rows(
        &SkillRowsQuery {
            from: replay_from,
            to: context.ts,
            user: Some(context.user),
        },
        &mut |row| {
            builder.observe(&row);
            Ok(())
        },
    )?;
    Ok(builder.features(context))
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
