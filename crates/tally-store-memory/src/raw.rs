//! Questions answered from the raw events: the totals, the raw series, the success
//! predictor's skill history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tally_models::{EventBody, JobStatus, Skill};
use tally_store::{
    ExecutionTotals, Filter, JobTotals, RawMeasure, RawSeriesQuery, RawSeriesRow, Result,
    RunTotals, SeriesReader, SkillHistoryReader, SkillRow, SkillRowsQuery, SkillTally, Totals,
    TotalsReader,
};

use crate::MemoryStore;
use crate::state::State;
use crate::write::{micros, seconds_to_micros};

impl State {
    fn totals(&self, filter: &Filter) -> Totals {
        let Some(project) = self.project_code(filter.project.as_deref()) else {
            return Totals::default();
        };
        let mut executions = ExecutionTotals::default();
        let mut runs = RunTotals::default();
        for (_, stored) in self.events_in(project, filter.from, filter.to) {
            match &stored.event.body {
                EventBody::Execution(x) => {
                    executions.count += 1;
                    executions.successes += u64::from(x.success);
                    executions.tokens += u128::from(x.tokens.input_tokens.unwrap_or(0))
                        + u128::from(x.tokens.output_tokens.unwrap_or(0));
                    executions.cost_nanos += i128::from(x.cost_usd.map_or(0, |c| c.to_nanos()));
                    executions.duration_us += i128::from(micros(x.duration_ms));
                }
                EventBody::Run(r) => {
                    runs.count += 1;
                    runs.tokens += u128::from(r.total_tokens());
                    runs.cost_nanos += r
                        .models
                        .iter()
                        .filter_map(|m| m.cost_usd)
                        .map(|c| i128::from(c.to_nanos()))
                        .sum::<i128>();
                    runs.duration_us += i128::from(seconds_to_micros(r.duration_s));
                    runs.mode_2loop += u64::from(r.mode.as_deref() == Some("2loop"));
                    runs.mode_3loop += u64::from(r.mode.as_deref() == Some("3loop"));
                    if let Some(slot) = runs.qa.get_mut(usize::from(r.qa_status.code())) {
                        *slot += 1;
                    }
                }
                _ => {}
            }
        }
        // A job counts by its latest change (ties at one instant go to the later
        // status), when that change falls in the range.
        let mut latest: BTreeMap<(i64, &str), (i64, JobStatus)> = BTreeMap::new();
        for (_, stored) in self.events_in(project, None, None) {
            if let EventBody::Job(j) = &stored.event.body {
                let change = (stored.event.ts.timestamp_millis(), j.status);
                latest
                    .entry((stored.project, j.job_id.as_str()))
                    .and_modify(|held| {
                        if (change.0, change.1.code()) > (held.0, held.1.code()) {
                            *held = change;
                        }
                    })
                    .or_insert(change);
            }
        }
        let (from, to) = (
            filter.from.map(|t| t.timestamp_millis()),
            filter.to.map(|t| t.timestamp_millis()),
        );
        let mut jobs = JobTotals::default();
        for (ts, status) in latest.into_values() {
            if from.is_none_or(|f| ts >= f) && to.is_none_or(|t| ts < t) {
                jobs.by_status[usize::from(status.code())] += 1;
                jobs.distinct += 1;
            }
        }
        Totals {
            executions,
            runs,
            jobs,
        }
    }

    fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Vec<RawSeriesRow> {
        let Some(project) = self.project_code(query.filter.project.as_deref()) else {
            return Vec::new();
        };
        let step = query.step_seconds.max(1);
        let mut buckets: BTreeMap<i64, RawSeriesRow> = BTreeMap::new();
        for (_, stored) in self.events_in(project, query.filter.from, query.filter.to) {
            // (user, whether the row is valued, its value)
            let (user, valued, value) = match (&stored.event.body, query.measure) {
                (EventBody::Session(s), RawMeasure::Sessions) => (&s.user_id, true, 1.0),
                (EventBody::Session(s), RawMeasure::SessionQuality) => {
                    (&s.user_id, s.quality.is_some(), s.quality.unwrap_or(0.0))
                }
                (EventBody::Skill(s), RawMeasure::SkillCompletion) => {
                    if query.skill.is_some_and(|skill| skill != s.skill) {
                        continue;
                    }
                    (&s.user_id, true, if s.completed { 1.0 } else { 0.0 })
                }
                _ => continue,
            };
            if query.user.is_some_and(|u| u != user) {
                continue;
            }
            // Seconds truncated toward zero, then floored to the step, as the SQL does.
            let seconds = stored.event.ts.timestamp_millis() / 1000;
            let bucket = seconds - ((seconds % step) + step) % step;
            let row = buckets.entry(bucket).or_insert(RawSeriesRow {
                bucket,
                ..RawSeriesRow::default()
            });
            row.rows += 1;
            row.valued += u64::from(valued);
            row.sum += value;
        }
        buckets.into_values().collect()
    }

    /// The stored `skill` events with `ts` in `[from, to)`, in `(ts, seq)` order.
    fn skills(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Vec<(i64, DateTime<Utc>, &Skill)> {
        let mut rows: Vec<_> = self
            .events_in(None, from, to)
            .filter_map(|(seq, stored)| match &stored.event.body {
                EventBody::Skill(s) => Some((seq, stored.event.ts, s)),
                _ => None,
            })
            .collect();
        rows.sort_by_key(|&(seq, ts, _)| (ts, seq));
        rows
    }
}

impl TotalsReader for MemoryStore {
    fn totals(&self, filter: &Filter) -> Result<Totals> {
        Ok(self.read().totals(filter))
    }
}

impl SeriesReader for MemoryStore {
    fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>> {
        Ok(self.read().raw_series(query))
    }
}

impl SkillHistoryReader for MemoryStore {
    fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> Result<()>,
    ) -> Result<()> {
        let state = self.read();
        for (seq, ts, s) in state.skills(Some(query.from), Some(query.to)) {
            if query.user.is_some_and(|user| user != s.user_id) {
                continue;
            }
            visit(SkillRow {
                seq,
                ts,
                user: s.user_id.clone(),
                skill: s.skill.clone(),
                completed: s.completed,
                session: s.session_id.clone(),
                phase: s.phase.clone(),
            })?;
        }
        Ok(())
    }

    fn skill_tallies(&self, before: DateTime<Utc>, user: Option<&str>) -> Result<Vec<SkillTally>> {
        let state = self.read();
        let mut tallies: BTreeMap<(&str, &str), SkillTally> = BTreeMap::new();
        for (_, _, s) in state.skills(None, Some(before)) {
            if user.is_some_and(|user| user != s.user_id) {
                continue;
            }
            let tally = tallies
                .entry((&s.user_id, &s.skill))
                .or_insert_with(|| SkillTally {
                    user: s.user_id.clone(),
                    skill: s.skill.clone(),
                    invocations: 0,
                    completed: 0,
                });
            tally.invocations += 1;
            tally.completed += u64::from(s.completed);
        }
        Ok(tallies.into_values().collect())
    }

    fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        let state = self.read();
        let active: Option<std::collections::BTreeSet<&str>> = match session {
            Some(_) => None,
            None => Some(
                state
                    .skills(Some(before), Some(active_until))
                    .into_iter()
                    .filter_map(|(_, _, s)| s.session_id.as_deref())
                    .collect(),
            ),
        };
        let mut starts: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
        for (_, ts, s) in state.skills(None, Some(before)) {
            let Some(id) = s.session_id.as_deref() else {
                continue;
            };
            let wanted = match (&active, session) {
                (_, Some(session)) => id == session,
                (Some(active), None) => active.contains(id),
                (None, None) => false,
            };
            if wanted {
                starts
                    .entry(id)
                    .and_modify(|first| *first = (*first).min(ts))
                    .or_insert(ts);
            }
        }
        Ok(starts
            .into_iter()
            .map(|(id, ts)| (id.to_owned(), ts))
            .collect())
    }
}
