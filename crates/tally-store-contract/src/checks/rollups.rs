//! The rollup tier and the state tables equal what the raw events say, whatever the
//! batch split, the order and the resends: for random events of every kind that feeds a
//! rollup or a summary (executions with their facets, runs, jobs, requests, errors,
//! agent load, sessions, the minute tier of recent events), written once in one batch
//! and once shuffled, split and partly resent, every answer equals the same answer
//! recomputed here from the events themselves.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tally_models::{Effort, Event, EventBody, JobStatus, QaStatus, Severity};
use tally_store::rollup::{
    Facet, Family, ProjectScope, Resolution, RollupQuery, RollupRow, RunMode, run_key,
};
use tally_store::{Activity, Batch, Filter, LearningSession, WriteOutcome};

use crate::events::{self, Exec};
use crate::{NewStore, Store};

const PROJECTS: [&str; 3] = ["alpha", "beta", "gamma"];
const TOOLS: [&str; 3] = ["web_search", "code_edit", "run_tests"];
const MODELS: [&str; 3] = ["gpt-4o", "claude-haiku-4", "local-llm"];
const AGENTS: [&str; 2] = ["agent-a", "agent-b"];
const ERRORS: [&str; 2] = ["timeout", "rate_limit"];
const USERS: [&str; 3] = ["ana", "bo", "cy"];
const TOPICS: [&str; 3] = ["rust", "sql", "go"];
const ENDPOINTS: [&str; 2] = ["/v1/chat", "/v1/embed"];

#[derive(Debug, Clone)]
enum Body {
    Execution {
        tool: usize,
        model: Option<usize>,
        agent: Option<usize>,
        user: Option<usize>,
        duration_ms: f64,
        success: bool,
        tokens: (u64, u64),
        cost_nanos: Option<i64>,
        effort: Option<usize>,
        browser_used: bool,
        error: Option<usize>,
    },
    Run {
        duration_s: f64,
        mode: usize,
        qa: usize,
        models: Vec<(usize, u64, u64, Option<i64>)>,
    },
    Job {
        job: usize,
        status: usize,
    },
    Request {
        endpoint: usize,
        status: u16,
        latency_ms: f64,
        user: Option<usize>,
    },
    Error {
        severity: usize,
    },
    Agent {
        agent: usize,
        active: u64,
        queued: u64,
        capacity: u64,
    },
    Session {
        user: usize,
        duration_s: f64,
        exchanges: u64,
        quality: Option<f64>,
        topics: Vec<usize>,
    },
}

#[derive(Debug, Clone)]
struct Generated {
    project: usize,
    /// Recent events (the last two hours) reach the minute tier; the others lie around
    /// the end of September 2026.
    recent: bool,
    /// Seconds into the event's span.
    offset: i64,
    body: Body,
}

fn body() -> impl Strategy<Value = Body> {
    let execution = (
        (
            0..TOOLS.len(),
            prop::option::of(0..MODELS.len()),
            prop::option::of(0..AGENTS.len()),
        ),
        (
            prop::option::of(0..USERS.len()),
            0.0..5000.0f64,
            any::<bool>(),
        ),
        ((0u64..2000, 0u64..2000), prop::option::of(0i64..50_000_000)),
        (
            prop::option::of(0..4usize),
            any::<bool>(),
            prop::option::of(0..ERRORS.len()),
        ),
    )
        .prop_map(
            |(
                (tool, model, agent),
                (user, duration_ms, success),
                (tokens, cost_nanos),
                (effort, browser_used, error),
            )| {
                Body::Execution {
                    tool,
                    model,
                    agent,
                    user,
                    duration_ms,
                    success,
                    tokens,
                    cost_nanos,
                    effort,
                    browser_used,
                    error,
                }
            },
        );
    let run = (
        0.0..600.0f64,
        0..3usize,
        0..QaStatus::ALL.len(),
        prop::collection::btree_map(
            0..MODELS.len(),
            (0u64..5000, 0u64..5000, prop::option::of(0i64..90_000_000)),
            0..3,
        ),
    )
        .prop_map(|(duration_s, mode, qa, models)| Body::Run {
            duration_s,
            mode,
            qa,
            models: models
                .into_iter()
                .map(|(model, (input, output, cost))| (model, input, output, cost))
                .collect(),
        });
    let job =
        (0..4usize, 0..JobStatus::ALL.len()).prop_map(|(job, status)| Body::Job { job, status });
    let request = (
        0..ENDPOINTS.len(),
        prop::sample::select(vec![200u16, 404, 500, 503]),
        0.0..900.0f64,
        prop::option::of(0..USERS.len()),
    )
        .prop_map(|(endpoint, status, latency_ms, user)| Body::Request {
            endpoint,
            status,
            latency_ms,
            user,
        });
    let error = (0..Severity::ALL.len()).prop_map(|severity| Body::Error { severity });
    let agent = (0..AGENTS.len(), 0u64..8, 0u64..8, 1u64..10).prop_map(
        |(agent, active, queued, capacity)| Body::Agent {
            agent,
            active,
            queued,
            capacity,
        },
    );
    let session = (
        0..USERS.len(),
        0.0..3600.0f64,
        0u64..40,
        prop::option::of(0.0..=1.0f64),
        prop::collection::vec(0..TOPICS.len(), 0..3),
    )
        .prop_map(
            |(user, duration_s, exchanges, quality, topics)| Body::Session {
                user,
                duration_s,
                exchanges,
                quality,
                topics,
            },
        );
    prop_oneof![3 => execution, 1 => run, 1 => job, 1 => request, 1 => error, 1 => agent, 1 => session]
}

fn generated() -> impl Strategy<Value = Vec<Generated>> {
    prop::collection::vec(
        (
            0..PROJECTS.len(),
            prop::bool::weighted(0.3),
            0i64..4 * 86_400,
            body(),
        )
            .prop_map(|(project, recent, offset, body)| Generated {
                project,
                recent,
                offset,
                body,
            }),
        1..60,
    )
}

/// Random events of every kind that feeds a rollup or a summary (about a third of them
/// in the two hours before `now`, the others around the end of September 2026), for
/// checks that compare adapters with each other.
pub fn events_of_every_rolled_up_kind(now: DateTime<Utc>) -> impl Strategy<Value = Vec<Event>> {
    generated().prop_map(move |generated| events(&generated, now))
}

/// How the second store gets the events: a permutation, batch sizes, and which events
/// are sent again in a later batch.
#[derive(Debug, Clone)]
struct Delivery {
    order_seed: Vec<u32>,
    batch_sizes: Vec<usize>,
    resend: Vec<bool>,
    together: bool,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    (
        prop::collection::vec(any::<u32>(), 60),
        prop::collection::vec(1usize..12, 60),
        prop::collection::vec(prop::bool::weighted(0.25), 60),
        any::<bool>(),
    )
        .prop_map(|(order_seed, batch_sizes, resend, together)| Delivery {
            order_seed,
            batch_sizes,
            resend,
            together,
        })
}

/// The instants: the old events from 2026-09-29, the recent ones within the two hours
/// before `now`. The i-th event is `i` ms later, so no two share an instant.
fn events(generated: &[Generated], now: DateTime<Utc>) -> Vec<Event> {
    generated
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let ts = if g.recent {
                now - Duration::seconds(g.offset % 7200) + Duration::milliseconds(i as i64)
            } else {
                events::at(-86_400 + g.offset) + Duration::milliseconds(i as i64)
            };
            let id = format!("e{i}");
            let project = PROJECTS[g.project];
            match &g.body {
                Body::Execution {
                    tool,
                    model,
                    agent,
                    user,
                    duration_ms,
                    success,
                    tokens,
                    cost_nanos,
                    effort,
                    browser_used,
                    error,
                } => events::execution(
                    &id,
                    project,
                    ts,
                    &Exec {
                        tool: TOOLS[*tool].to_owned(),
                        model: model.map(|m| MODELS[m].to_owned()),
                        agent: agent.map(|a| AGENTS[a].to_owned()),
                        user: user.map(|u| USERS[u].to_owned()),
                        duration_ms: *duration_ms,
                        success: *success,
                        input: tokens.0,
                        output: tokens.1,
                        cost_nanos: *cost_nanos,
                        effort: effort.map(|e| Effort::ALL[e]),
                        browser_used: *browser_used,
                        error: error.map(|e| ERRORS[e].to_owned()),
                    },
                ),
                Body::Run {
                    duration_s,
                    mode,
                    qa,
                    models,
                } => {
                    let models: Vec<_> = models
                        .iter()
                        .map(|&(m, input, output, cost)| (MODELS[m], input, output, cost))
                        .collect();
                    let mode = [None, Some("2loop"), Some("3loop")][*mode];
                    events::run(
                        &id,
                        project,
                        ts,
                        *duration_s,
                        mode,
                        QaStatus::ALL[*qa],
                        &models,
                    )
                }
                Body::Job { job, status } => events::job(
                    &id,
                    project,
                    ts,
                    &format!("job-{job}"),
                    JobStatus::ALL[*status],
                ),
                Body::Request {
                    endpoint,
                    status,
                    latency_ms,
                    user,
                } => events::request(
                    &id,
                    project,
                    ts,
                    ENDPOINTS[*endpoint],
                    *status,
                    *latency_ms,
                    user.map(|u| USERS[u]),
                ),
                Body::Error { severity } => {
                    events::error(&id, project, ts, Severity::ALL[*severity])
                }
                Body::Agent {
                    agent,
                    active,
                    queued,
                    capacity,
                } => events::agent_status(
                    &id,
                    project,
                    ts,
                    AGENTS[*agent],
                    *active,
                    *queued,
                    *capacity,
                ),
                Body::Session {
                    user,
                    duration_s,
                    exchanges,
                    quality,
                    topics,
                } => {
                    let topics: Vec<&str> = topics.iter().map(|t| TOPICS[*t]).collect();
                    events::session(
                        &id,
                        project,
                        ts,
                        USERS[*user],
                        *duration_s,
                        *exchanges,
                        *quality,
                        &topics,
                    )
                }
            }
        })
        .collect()
}

/// Writes `events` as `delivery` says; returns the summed outcome and how many were
/// sent again.
fn deliver(store: &dyn Store, events: &[Event], delivery: &Delivery) -> (WriteOutcome, u64) {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| (delivery.order_seed[i], i));
    let mut sent: Vec<Event> = Vec::new();
    let mut resent = 0;
    for (at, &i) in order.iter().enumerate() {
        sent.push(events[i].clone());
        if delivery.resend[at] {
            // Sent again a little later in the stream: within its batch or a later one.
            sent.push(events[order[at / 2]].clone());
            resent += 1;
        }
    }
    let mut batches: Vec<&[Event]> = Vec::new();
    let mut rest = &sent[..];
    let mut sizes = delivery.batch_sizes.iter().cycle();
    while !rest.is_empty() {
        let size = (*sizes.next().unwrap_or(&1)).min(rest.len());
        let (batch, tail) = rest.split_at(size);
        batches.push(batch);
        rest = tail;
    }
    let mut total = WriteOutcome::default();
    if delivery.together {
        let batches: Vec<Batch<'_>> = batches
            .iter()
            .map(|events| Batch {
                events,
                ..Batch::default()
            })
            .collect();
        for outcome in store
            .write_batches(&batches)
            .expect("the batches are written")
        {
            total += outcome;
        }
    } else {
        for events in batches {
            total += super::write(store, events);
        }
    }
    (total, resent)
}

/// The measures a check compares: the sums, the latest instant, how many latencies
/// were sketched, and the facet cells by label.
#[derive(Debug, Clone, Default, PartialEq)]
struct Agg {
    n: u64,
    ok: u64,
    input: u128,
    output: u128,
    cost: i128,
    duration_us: i128,
    last_ts: i64,
    sketched: u64,
    facets: BTreeMap<(u8, String), (u64, u64)>,
}

impl Agg {
    fn add_facet(&mut self, facet: Facet, label: String, failed: bool) {
        let cell = self.facets.entry((facet as u8, label)).or_default();
        cell.0 += 1;
        cell.1 += u64::from(failed);
    }
}

/// A row's place: its project (when read each apart) and key label.
type Place = (Option<String>, String);

fn micros(ms: f64) -> i128 {
    i128::from((ms * 1000.0).round() as i64)
}

/// The label of a key: its dictionary name, or the code of an enum-keyed family (and
/// "0" for "none").
fn label(row: &RollupRow) -> String {
    row.name.clone().unwrap_or_else(|| row.key.to_string())
}

/// The rows of `query`, summed by place, facet codes turned into names.
fn answered(store: &dyn Store, query: &RollupQuery<'_>, names: &Names) -> BTreeMap<Place, Agg> {
    let mut out: BTreeMap<Place, Agg> = BTreeMap::new();
    for row in store.rollups(query).expect("rollups are read") {
        let m = &row.measures;
        let agg = out.entry((row.project.clone(), label(&row))).or_default();
        agg.n += m.n;
        agg.ok += m.ok;
        agg.input += m.input_tokens;
        agg.output += m.output_tokens;
        agg.cost += m.cost_nusd;
        agg.duration_us += m.duration_us;
        agg.last_ts = agg.last_ts.max(m.last_ts);
        agg.sketched += m.latency.count();
        for &((facet, value), (n, failures)) in m.facets.sorted() {
            let label = match facet {
                Facet::Model => names
                    .models
                    .get(&value)
                    .cloned()
                    .unwrap_or_else(|| value.to_string()),
                Facet::ErrorClass => names
                    .errors
                    .get(&value)
                    .cloned()
                    .unwrap_or_else(|| value.to_string()),
                Facet::HourOfDay | Facet::Effort | Facet::BrowserUsed => value.to_string(),
            };
            let cell = agg.facets.entry((facet as u8, label)).or_default();
            cell.0 += n;
            cell.1 += failures;
        }
    }
    out
}

/// Dictionary codes of the facets, by what the store reports.
struct Names {
    models: BTreeMap<i64, String>,
    errors: BTreeMap<i64, String>,
}

fn names(store: &dyn Store) -> Names {
    let mut models = BTreeMap::new();
    for family in [Family::ExecutionsByModel, Family::RunsByModel] {
        let query = RollupQuery {
            family,
            projects: ProjectScope::All,
            from: None,
            to: None,
            by: None,
        };
        for row in store.rollups(&query).expect("rollups are read") {
            if let Some(name) = row.name {
                models.insert(row.key, name);
            }
        }
    }
    Names {
        models,
        errors: store
            .error_classes()
            .expect("error classes are read")
            .into_iter()
            .collect(),
    }
}

/// Whether `event` falls in the query's range widened to whole periods of the family's
/// finest resolution, and in its projects.
fn selected(event: &Event, query: &RollupQuery<'_>) -> bool {
    let finest = query.family.finest();
    let ts = event.ts.timestamp_millis();
    let from = query.from.map(|t| finest.bucket(t.timestamp_millis()));
    let to = query.to.map(|t| {
        let floor = finest.bucket(t.timestamp_millis());
        if floor == t.timestamp() {
            floor
        } else {
            finest.next(floor)
        }
    });
    let seconds = ts.div_euclid(1000);
    let in_project = match query.projects {
        ProjectScope::One(p) => event.project == p,
        ProjectScope::All | ProjectScope::Each => true,
    };
    in_project && from.is_none_or(|f| seconds >= f) && to.is_none_or(|t| seconds < t)
}

/// The sums at `key` of `project`, counting an event at `ts`.
fn place<'a>(
    out: &'a mut BTreeMap<Place, Agg>,
    project: &Option<String>,
    ts: i64,
    key: String,
) -> &'a mut Agg {
    let agg = out.entry((project.clone(), key)).or_default();
    agg.last_ts = agg.last_ts.max(ts);
    agg
}

/// The same sums recomputed from the events.
fn expected(events: &[Event], query: &RollupQuery<'_>) -> BTreeMap<Place, Agg> {
    let mut out: BTreeMap<Place, Agg> = BTreeMap::new();
    for event in events.iter().filter(|e| selected(e, query)) {
        let project = (query.projects == ProjectScope::Each).then(|| event.project.to_string());
        let ts = event.ts.timestamp_millis();
        match (&event.body, query.family) {
            (_, Family::Events) => {
                place(&mut out, &project, ts, event.kind().code().to_string()).n += 1
            }
            (EventBody::Execution(x), family) => {
                let key = match family {
                    Family::Executions => "0".to_owned(),
                    Family::ExecutionsByModel => x.model.as_deref().unwrap_or("0").to_owned(),
                    Family::ExecutionsByTool => x.tool.to_string(),
                    Family::ExecutionsByAgent => x.agent_id.as_deref().unwrap_or("0").to_owned(),
                    _ => continue,
                };
                let agg = place(&mut out, &project, ts, key);
                agg.n += 1;
                agg.ok += u64::from(x.success);
                agg.input += u128::from(x.tokens.input_tokens.unwrap_or(0));
                agg.output += u128::from(x.tokens.output_tokens.unwrap_or(0));
                agg.cost += i128::from(x.cost_usd.map_or(0, |c| c.to_nanos()));
                agg.duration_us += micros(x.duration_ms);
                if matches!(family, Family::Executions | Family::ExecutionsByTool) {
                    agg.sketched += 1;
                }
                if family == Family::ExecutionsByTool {
                    let failed = !x.success;
                    agg.add_facet(Facet::HourOfDay, event.ts.hour().to_string(), failed);
                    agg.add_facet(
                        Facet::Model,
                        x.model.as_deref().unwrap_or("0").to_owned(),
                        failed,
                    );
                    let effort = x.effort.map_or(0, |e| i64::from(e.code()) + 1);
                    agg.add_facet(Facet::Effort, effort.to_string(), failed);
                    agg.add_facet(
                        Facet::BrowserUsed,
                        u8::from(x.browser_used).to_string(),
                        failed,
                    );
                    if let Some(error) = x.error.as_deref().filter(|_| failed) {
                        agg.add_facet(Facet::ErrorClass, error.to_owned(), true);
                    }
                }
            }
            (EventBody::Run(r), Family::Runs) => {
                let key = run_key(r.qa_status.code(), RunMode::of(r.mode.as_deref()));
                let agg = place(&mut out, &project, ts, key.to_string());
                agg.n += 1;
                agg.duration_us += i128::from((r.duration_s * 1e6).round() as i64);
                agg.sketched += 1;
                for m in &r.models {
                    agg.input += u128::from(m.input_tokens);
                    agg.output += u128::from(m.output_tokens);
                    agg.cost += i128::from(m.cost_usd.map_or(0, |c| c.to_nanos()));
                }
            }
            (EventBody::Run(r), Family::RunsByModel) => {
                for m in &r.models {
                    let agg = place(&mut out, &project, ts, m.model.clone());
                    agg.n += 1;
                    agg.input += u128::from(m.input_tokens);
                    agg.output += u128::from(m.output_tokens);
                    agg.cost += i128::from(m.cost_usd.map_or(0, |c| c.to_nanos()));
                }
            }
            (EventBody::Job(j), Family::Jobs) => {
                place(&mut out, &project, ts, j.status.code().to_string()).n += 1
            }
            (EventBody::Request(r), Family::Requests) => {
                let agg = place(&mut out, &project, ts, r.endpoint.clone());
                agg.n += 1;
                agg.ok += u64::from(r.status < 500);
                agg.duration_us += micros(r.latency_ms);
                agg.sketched += 1;
            }
            (EventBody::Error(e), Family::Errors) => {
                place(&mut out, &project, ts, e.severity.code().to_string()).n += 1
            }
            _ => {}
        }
    }
    out
}

fn check_rollups(store: &dyn Store, events: &[Event]) {
    let names = names(store);
    // From 2026-09-30 20:17 to 2026-10-02 22:05: partial hours, whole days, a month's end.
    let partial = (
        Some(events::at(20 * 3600 + 17 * 60)),
        Some(events::at(70 * 3600 + 5 * 60)),
    );
    let mut scopes = vec![ProjectScope::All, ProjectScope::Each];
    scopes.extend(PROJECTS.iter().map(|p| ProjectScope::One(p)));
    for family in Family::ALL {
        for &projects in &scopes {
            for (from, to) in [(None, None), partial] {
                for by in [None, Some(Resolution::Day), Some(Resolution::Hour)] {
                    let query = RollupQuery {
                        family,
                        projects,
                        from,
                        to,
                        by,
                    };
                    assert_eq!(
                        answered(store, &query, &names),
                        expected(events, &query),
                        "{query:?}"
                    );
                }
            }
        }
    }
}

fn check_totals(store: &dyn Store, events: &[Event]) {
    let filters = [
        Filter::default(),
        Filter {
            project: Some("beta".to_owned()),
            from: Some(events::at(3600)),
            to: Some(events::at(50 * 3600)),
        },
    ];
    for filter in filters {
        let totals = store.totals(&filter).expect("totals are read");
        let in_filter = |e: &&Event| {
            filter.project.as_deref().is_none_or(|p| e.project == p)
                && filter.from.is_none_or(|f| e.ts >= f)
                && filter.to.is_none_or(|t| e.ts < t)
        };
        let (mut count, mut successes, mut runs, mut run_tokens) = (0, 0, 0, 0u128);
        for e in events.iter().filter(in_filter) {
            match &e.body {
                EventBody::Execution(x) => {
                    count += 1;
                    successes += u64::from(x.success);
                }
                EventBody::Run(r) => {
                    runs += 1;
                    run_tokens += u128::from(r.total_tokens());
                }
                _ => {}
            }
        }
        assert_eq!(
            (totals.executions.count, totals.executions.successes),
            (count, successes),
            "{filter:?}"
        );
        assert_eq!(
            (totals.runs.count, totals.runs.tokens),
            (runs, run_tokens),
            "{filter:?}"
        );
        // A job counts once, by its latest change, when that falls in the range.
        let mut latest: BTreeMap<(&str, &str), (DateTime<Utc>, u8)> = BTreeMap::new();
        for e in events
            .iter()
            .filter(|e| filter.project.as_deref().is_none_or(|p| e.project == p))
        {
            if let EventBody::Job(j) = &e.body {
                let change = (e.ts, j.status.code());
                let held = latest.entry((&e.project, &j.job_id)).or_insert(change);
                *held = (*held).max(change);
            }
        }
        let mut by_status = [0u64; JobStatus::ALL.len()];
        for (ts, status) in latest.values() {
            if filter.from.is_none_or(|f| *ts >= f) && filter.to.is_none_or(|t| *ts < t) {
                by_status[usize::from(*status)] += 1;
            }
        }
        assert_eq!(totals.jobs.by_status, by_status, "{filter:?}");
        assert_eq!(totals.jobs.distinct, by_status.iter().sum::<u64>());
    }
}

/// A job's status instant, status code, and first queued, first running, last finished
/// instants (epoch ms).
type JobFigures = (i64, u8, Option<i64>, Option<i64>, Option<i64>);

/// An agent's snapshot: when, active, queued, capacity.
type Snapshot = (DateTime<Utc>, u64, u64, u64);

/// An agent's hour: snapshots, active, queued and capacity sums, peak active.
type LoadFigures = (u64, u64, u64, u64, u64);

fn check_state_tables(store: &dyn Store, events: &[Event]) {
    // Jobs: each job's latest change, and when it was first queued, running, finished.
    let mut jobs: BTreeMap<(String, String), JobFigures> = BTreeMap::new();
    for e in events {
        if let EventBody::Job(j) = &e.body {
            let ts = e.ts.timestamp_millis();
            let status = j.status;
            let held = jobs
                .entry((e.project.to_string(), j.job_id.clone()))
                .or_insert((ts, status.code(), None, None, None));
            if (ts, status.code()) > (held.0, held.1) {
                (held.0, held.1) = (ts, status.code());
            }
            let min = |a: Option<i64>| Some(a.map_or(ts, |a| a.min(ts)));
            match status {
                JobStatus::Queued => held.2 = min(held.2),
                JobStatus::Running => held.3 = min(held.3),
                JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled => {
                    held.4 = Some(held.4.map_or(ts, |a| a.max(ts)));
                }
            }
        }
    }
    let mut states: Vec<_> = store
        .job_states(&Filter::default())
        .expect("job states are read")
        .into_iter()
        .map(|s| {
            (
                (s.project, s.job_id),
                (
                    s.status_ts,
                    s.status.code(),
                    s.queued_ts,
                    s.running_ts,
                    s.finished_ts,
                ),
            )
        })
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(states, jobs.into_iter().collect::<Vec<_>>(), "job states");

    // Agents: the latest snapshot of each, and the hourly load.
    let mut latest: BTreeMap<(String, String), Snapshot> = BTreeMap::new();
    let mut load: BTreeMap<(String, i64), LoadFigures> = BTreeMap::new();
    for e in events {
        if let EventBody::AgentStatus(a) = &e.body {
            let key = (a.agent_id.clone(), e.project.to_string());
            let snapshot = (e.ts, a.active_tasks, a.queued_tasks, a.capacity);
            let held = latest.entry(key).or_insert(snapshot);
            if snapshot.0 > held.0 {
                *held = snapshot;
            }
            let hour = Resolution::Hour.bucket(e.ts.timestamp_millis());
            let sums = load.entry((a.agent_id.clone(), hour)).or_default();
            sums.0 += 1;
            sums.1 += a.active_tasks;
            sums.2 += a.queued_tasks;
            sums.3 += a.capacity;
            sums.4 = sums.4.max(a.active_tasks);
        }
    }
    let states: Vec<_> = store
        .agent_states(None)
        .expect("agent states are read")
        .into_iter()
        .map(|s| {
            (
                (s.agent_id, s.project),
                (s.ts, s.active_tasks, s.queued_tasks, s.capacity),
            )
        })
        .collect();
    assert_eq!(
        states,
        latest.into_iter().collect::<Vec<_>>(),
        "agent states, by agent then project"
    );
    let rows: Vec<_> = store
        .agent_load(&Filter::default())
        .expect("agent load is read")
        .into_iter()
        .map(|r| {
            let s = r.sums;
            (
                (r.agent_id, r.hour),
                (
                    s.snapshots,
                    s.active_sum,
                    s.queued_sum,
                    s.capacity_sum,
                    s.peak_active,
                ),
            )
        })
        .collect();
    assert_eq!(
        rows,
        load.into_iter().collect::<Vec<_>>(),
        "agent load, by agent then hour"
    );
}

fn check_minutes(store: &dyn Store, events: &[Event], now: DateTime<Utc>) {
    let since = now - Duration::hours(3);
    for project in [None, Some("alpha")] {
        let mut expected: BTreeMap<u8, (u64, u64, u64)> = BTreeMap::new();
        let mut users = BTreeSet::new();
        for e in events {
            let minute = e.ts.timestamp_millis().div_euclid(60_000) * 60;
            if minute < since.timestamp() || project.is_some_and(|p| e.project != p) {
                continue;
            }
            let (errors, sketched, user) = match &e.body {
                EventBody::Execution(x) => (!x.success, true, x.user_id.as_deref()),
                EventBody::Request(r) => (r.status >= 500, true, r.user_id.as_deref()),
                EventBody::Error(x) => (
                    matches!(x.severity, Severity::Error | Severity::Critical),
                    false,
                    None,
                ),
                EventBody::Session(s) => (false, false, Some(s.user_id.as_str())),
                _ => (false, false, None),
            };
            let cell = expected.entry(e.kind().code()).or_default();
            cell.0 += 1;
            cell.1 += u64::from(errors);
            cell.2 += u64::from(sketched);
            users.extend(user);
        }
        let mut answered: BTreeMap<u8, (u64, u64, u64)> = BTreeMap::new();
        for row in store.minutes(project, since).expect("minutes are read") {
            let cell = answered.entry(row.kind.code()).or_default();
            cell.0 += row.n;
            cell.1 += row.errors;
            cell.2 += row.latency.count();
        }
        assert_eq!(answered, expected, "minute tier of {project:?}");
        assert_eq!(
            store
                .active_users(project, since)
                .expect("active users are read"),
            users.len() as u64,
            "active users of {project:?}"
        );
    }
    assert!(
        store
            .minutes(None, now + Duration::hours(1))
            .expect("minutes are read")
            .is_empty()
    );
}

fn check_learners(store: &dyn Store, events: &[Event]) {
    for user in USERS {
        let mut sessions: Vec<(DateTime<Utc>, LearningSession)> = Vec::new();
        for e in events {
            if let EventBody::Session(s) = &e.body {
                if s.user_id == user {
                    let mut topics = s.topics.clone();
                    topics.sort();
                    topics.dedup();
                    sessions.push((
                        e.ts,
                        LearningSession {
                            ts: e.ts,
                            duration_us: (s.duration_s * 1e6).round() as i64,
                            exchanges: s.exchanges,
                            quality: s.quality,
                            topics,
                        },
                    ));
                }
            }
        }
        sessions.sort_by_key(|(ts, _)| *ts);
        let expected: Vec<Activity> = sessions.iter().map(|(_, s)| Activity::from(s)).collect();
        assert_eq!(
            store
                .learner_activity(user, None, None)
                .expect("activity is read"),
            expected,
            "activity of {user}"
        );
        // The summary holds the same sessions by quarter hour.
        let summary = store
            .all_learner_activity(None, None)
            .expect("summary is read");
        let buckets = summary
            .iter()
            .find(|(name, _)| name == user)
            .map(|(_, list)| list.clone())
            .unwrap_or_default();
        let count: u64 = buckets.iter().map(|b| b.sessions).sum();
        let exchanges: u128 = buckets.iter().map(|b| b.exchanges).sum();
        assert_eq!(count, expected.len() as u64, "summary sessions of {user}");
        assert_eq!(
            exchanges,
            expected.iter().map(|a| a.exchanges).sum::<u128>()
        );
        let quality: f64 = buckets.iter().map(|b| b.quality_sum).sum();
        let expected_quality: f64 = expected.iter().map(|a| a.quality_sum).sum();
        assert!(
            (quality - expected_quality).abs() < 1e-9,
            "quality of {user}"
        );
    }
}

pub fn rollups_equal_the_raw_events_whatever_the_split_order_and_resends(new: NewStore<'_>) {
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    runner
        .run(&(generated(), delivery()), |(generated, delivery)| {
            let events = events(&generated, now);
            let whole = new();
            assert_eq!(
                super::write(&*whole, &events),
                WriteOutcome {
                    accepted: events.len() as u64,
                    ..WriteOutcome::default()
                }
            );
            let split = new();
            let (outcome, resent) = deliver(&*split, &events, &delivery);
            assert_eq!(
                (outcome.accepted, outcome.duplicates),
                (events.len() as u64, resent)
            );
            for store in [&*whole, &*split] {
                check_rollups(store, &events);
                check_totals(store, &events);
                check_state_tables(store, &events);
                check_minutes(store, &events, now);
                check_learners(store, &events);
            }
            Ok(())
        })
        .unwrap();
}

/// A store's rollup rows of every family, per project, for all projects and each
/// project alone, at every grouping, equal a recomputation from the events it exports,
/// and so do its totals and live job and agent state: for a store written by others
/// (several servers at once, a copy), whose events the caller does not hold.
///
/// # Panics
/// A figure differs, or the store cannot be read.
pub fn stored_rollups_equal_their_raw_events(store: &dyn Store) {
    let mut events = Vec::new();
    store
        .export_events(&Filter::default(), &mut |event| {
            events.push(event);
            Ok(())
        })
        .expect("the store exports its events");
    let names = names(store);
    let projects = store.project_names().expect("the store names its projects");
    let mut scopes = vec![ProjectScope::All, ProjectScope::Each];
    scopes.extend(projects.iter().map(|p| ProjectScope::One(p)));
    for family in Family::ALL {
        for &projects in &scopes {
            for by in [None, Some(Resolution::Day), Some(Resolution::Hour)] {
                let query = RollupQuery {
                    family,
                    projects,
                    from: None,
                    to: None,
                    by,
                };
                assert_eq!(
                    answered(store, &query, &names),
                    expected(&events, &query),
                    "{query:?}"
                );
            }
        }
    }
    check_state_tables(store, &events);
    check_learners(store, &events);
}
