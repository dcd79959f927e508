//! No accepted record set can make a total wrap or turn negative: records at and near
//! the per-record bounds (`docs/events.md`, "Bounds"), ingested together, give every
//! total of the summary, models, tools, projects and costs views exactly as an i128
//! sum of the records says. The run costs alone add up past `i64::MAX` billionths of a
//! dollar, where 64-bit sums wrapped.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use tally_api::Filter;

use crate::support::TestDb;

const MAX_TOKENS: u64 = 1_000_000_000;
const MAX_COST_USD: u64 = 1_000_000;
const MAX_DURATION_MS: u64 = 31_536_000_000;
const MAX_DURATION_S: u64 = 31_536_000;
const PROJECTS: [&str; 2] = ["alpha", "beta"];
const MODELS: [&str; 3] = ["m0", "m1", "m2"];
const TOOLS: [&str; 2] = ["t0", "t1"];

/// One model of a run: model, input and output tokens, cost in whole dollars.
type Usage = (usize, u64, u64, u64);

#[derive(Debug, Clone)]
struct Run {
    project: usize,
    duration_s: u64,
    models: Vec<Usage>,
}

#[derive(Debug, Clone)]
struct Execution {
    project: usize,
    tool: usize,
    model: usize,
    duration_ms: u64,
    input: u64,
    output: u64,
    cost: u64,
}

fn near(max: u64) -> impl Strategy<Value = u64> {
    (max - 1_000)..=max
}

fn usage() -> impl Strategy<Value = Usage> {
    (
        0..MODELS.len(),
        near(MAX_TOKENS),
        near(MAX_TOKENS),
        near(MAX_COST_USD),
    )
}

fn run() -> impl Strategy<Value = Run> {
    (
        0..PROJECTS.len(),
        near(MAX_DURATION_S),
        prop::collection::vec(usage(), 240..=256),
    )
        .prop_map(|(project, duration_s, models)| Run {
            project,
            duration_s,
            models,
        })
}

fn execution() -> impl Strategy<Value = Execution> {
    (
        0..PROJECTS.len(),
        0..TOOLS.len(),
        0..MODELS.len(),
        near(MAX_DURATION_MS),
        near(MAX_TOKENS),
        near(MAX_TOKENS),
        near(MAX_COST_USD),
    )
        .prop_map(
            |(project, tool, model, duration_ms, input, output, cost)| Execution {
                project,
                tool,
                model,
                duration_ms,
                input,
                output,
                cost,
            },
        )
}

fn lines(runs: &[Run], executions: &[Execution]) -> String {
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let ts = |i: usize| (start + Duration::minutes(i as i64 * 7)).to_rfc3339();
    let mut out = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let models: Vec<String> = r
            .models
            .iter()
            .map(|(m, input, output, cost)| {
                format!(
                    r#"{{"model":"{}","input_tokens":{input},"output_tokens":{output},"cost_usd":{cost}}}"#,
                    MODELS[*m]
                )
            })
            .collect();
        out.push(format!(
            r#"{{"kind":"run","id":"r{i}","ts":"{}","project":"{}","duration_s":{},"models":[{}]}}"#,
            ts(i),
            PROJECTS[r.project],
            r.duration_s,
            models.join(",")
        ));
    }
    for (i, x) in executions.iter().enumerate() {
        out.push(format!(
            r#"{{"kind":"execution","id":"x{i}","ts":"{}","project":"{}","tool":"{}","model":"{}","duration_ms":{},"success":true,"input_tokens":{},"output_tokens":{},"cost_usd":{}}}"#,
            ts(i),
            PROJECTS[x.project],
            TOOLS[x.tool],
            MODELS[x.model],
            x.duration_ms,
            x.input,
            x.output,
            x.cost
        ));
    }
    out.join("\n")
}

/// Exact sums: tokens, billionths of a dollar, microseconds, count.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Sums {
    tokens: u128,
    nusd: i128,
    duration_us: i128,
    n: u64,
}

impl Sums {
    fn add(&mut self, tokens: u64, dollars: u64, duration_us: u64) {
        self.tokens += u128::from(tokens);
        self.nusd += i128::from(dollars) * 1_000_000_000;
        self.duration_us += i128::from(duration_us);
        self.n += 1;
    }

    /// Dollars as the views compute them from an exact sum.
    fn cost(&self) -> f64 {
        self.nusd as f64 / 1e9
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn totals_at_the_bounds_are_exact_and_never_negative(
        runs in prop::collection::vec(run(), 40..=44),
        executions in prop::collection::vec(execution(), 1..12),
    ) {
        let db = TestDb::new();
        let report = db.ingest("bounds.jsonl", lines(&runs, &executions));
        prop_assert_eq!(report.accepted as usize, runs.len() + executions.len(), "{:?}", report.errors);

        let (mut all_runs, mut all_executions) = (Sums::default(), Sums::default());
        let mut models: BTreeMap<usize, Sums> = BTreeMap::new();
        let mut tools: BTreeMap<usize, Sums> = BTreeMap::new();
        let mut projects: BTreeMap<usize, Sums> = BTreeMap::new();
        for r in &runs {
            let (tokens, dollars): (u64, u64) = r
                .models
                .iter()
                .fold((0, 0), |(t, c), (_, i, o, cost)| (t + i + o, c + cost));
            all_runs.add(tokens, dollars, r.duration_s * 1_000_000);
            projects.entry(r.project).or_default().add(tokens, dollars, 0);
            for (m, i, o, cost) in &r.models {
                models.entry(*m).or_default().add(i + o, *cost, 0);
            }
        }
        for x in &executions {
            let tokens = x.input + x.output;
            all_executions.add(tokens, x.cost, x.duration_ms * 1_000);
            models.entry(x.model).or_default().add(tokens, x.cost, 0);
            tools.entry(x.tool).or_default().add(tokens, x.cost, x.duration_ms * 1_000);
            projects.entry(x.project).or_default().add(tokens, x.cost, 0);
        }
        // 64-bit sums of these billionths of a dollar would have wrapped.
        prop_assert!(all_runs.nusd > i128::from(i64::MAX));

        let filter = Filter {
            from: Some(Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap()),
            ..Filter::default()
        };
        let analytics = &db.analytics;
        let total_cost = Sums { nusd: all_runs.nusd + all_executions.nusd, ..Sums::default() }.cost();
        let total_tokens = all_runs.tokens + all_executions.tokens;

        let summary = analytics.summary(&filter).unwrap();
        prop_assert_eq!(summary.total_tokens, total_tokens);
        prop_assert_eq!(summary.total_cost, total_cost);
        prop_assert!(summary.total_cost > 0.0);
        prop_assert_eq!(
            summary.avg_duration_seconds,
            all_runs.duration_us as f64 / 1e6 / all_runs.n as f64
        );
        prop_assert_eq!(summary.avg_cost_per_run, all_runs.cost() / all_runs.n as f64);

        for m in analytics.models(&filter).unwrap() {
            let at = MODELS.iter().position(|n| *n == m.model_name).unwrap();
            prop_assert_eq!(m.total_tokens, models[&at].tokens, "{}", m.model_name);
            prop_assert_eq!(m.total_cost, models[&at].cost(), "{}", m.model_name);
            prop_assert!(m.cost_share >= 0.0);
        }
        for t in analytics.tools(&filter).unwrap() {
            let at = TOOLS.iter().position(|n| *n == t.tool_name).unwrap();
            let expected = tools[&at];
            prop_assert_eq!(t.total_executions, expected.n);
            prop_assert_eq!(t.total_cost, expected.cost(), "{}", t.tool_name);
            prop_assert_eq!(
                t.avg_duration_seconds,
                expected.duration_us as f64 / 1e6 / expected.n as f64
            );
            prop_assert!(t.avg_duration_seconds > 0.0 && t.avg_tokens > 0.0);
        }
        for p in analytics.projects(&filter).unwrap() {
            let at = PROJECTS.iter().position(|n| *n == p.project_name).unwrap();
            prop_assert_eq!(p.total_tokens, projects[&at].tokens);
            prop_assert_eq!(p.total_cost, projects[&at].cost());
        }
        let costs = analytics.costs(&filter).unwrap();
        prop_assert_eq!(costs.total_cost, total_cost);
        prop_assert_eq!(costs.total_tokens, total_tokens);
        for share in &costs.by_project {
            let at = PROJECTS.iter().position(|n| *n == share.name).unwrap();
            prop_assert_eq!(share.cost, projects[&at].cost());
        }
        prop_assert!(costs.daily.iter().all(|d| d.cost >= 0.0));
        // The raw rows say the same in 128 bits.
        let raw = analytics.summary_from_raw(&filter).unwrap();
        prop_assert_eq!(raw.total_tokens, total_tokens);
        prop_assert_eq!(raw.total_cost, total_cost);
    }
}
