//! The read path against rows put in by SQL, as the write path stores them: sums,
//! segment choice, names, the live state tables, raw series and export.

use chrono::{DateTime, TimeZone, Utc};
use postgres::NoTls;
use tally_models::{
    AttrValue, CostSource, Effort, Event, EventBody, EventId, JobStatus, Kind, LatencySketch,
    MetricValue, QaStatus, Severity,
};
use tally_store::rollup::{Facet, Facets, Family, ProjectScope, Resolution, RollupQuery};
use tally_store::{Dim, Filter, RawMeasure, RawSeriesQuery};
use tally_store_contract::postgres_test::TestDatabase;

use crate::{PostgresOptions, PostgresStore};

struct Fixture {
    store: PostgresStore,
    sql: postgres::Client,
    _database: TestDatabase,
}

fn fixture() -> Fixture {
    let database = TestDatabase::create();
    let store = PostgresStore::open(database.url(), PostgresOptions::default()).unwrap();
    let sql = postgres::Client::connect(database.url(), NoTls).unwrap();
    Fixture {
        store,
        sql,
        _database: database,
    }
}

impl Fixture {
    fn code(&mut self, dim: Dim, value: &str) -> i64 {
        self.sql
            .query_one(
                "INSERT INTO tally.dict (dim, value) VALUES ($1, $2)
                 ON CONFLICT (dim, value) DO UPDATE SET value = excluded.value RETURNING code",
                &[&i16::from(dim as u8), &value],
            )
            .unwrap()
            .get(0)
    }

    fn run(&mut self, sql: &str) {
        self.sql.batch_execute(sql).unwrap();
    }
}

fn project(name: &str) -> Filter {
    Filter {
        project: Some(name.to_owned()),
        ..Filter::default()
    }
}

fn ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn range(from: Option<i64>, to: Option<i64>) -> Filter {
    Filter {
        project: None,
        from: from.map(ms),
        to: to.map(ms),
    }
}

#[test]
fn totals_sum_raw_rows_exactly_and_count_jobs_by_their_latest_change() {
    let mut f = fixture();
    f.run(
        "INSERT INTO tally.execution (seq, ts, project, tool, duration_us, success, browser_used,
             cost_computed, cost_nusd, input_tokens, output_tokens) VALUES
         (1, 1000, 'p1', 'search', 1500, true, false, false, 100, 10, 5),
         (2, 2000, 'p1', 'search', 500, false, false, false, NULL, NULL, 7),
         (3, 3000, 'p2', 'fetch', 1, true, false, true, -20, 3, 4);
         INSERT INTO tally.run (seq, ts, project, duration_us, mode, qa_status, tokens, cost_nusd) VALUES
         (4, 1000, 'p1', 10, '2loop', 'passed', 9223372036854775807, 5),
         (5, 1500, 'p1', 2, '3loop', 'failed', 9223372036854775807, 1),
         (6, 2500, 'p2', 7, NULL, 'passed', 9223372036854775807, -9);
         INSERT INTO tally.job (seq, ts, project, job_id, status) VALUES
         (7, 1000, 'p1', 'a', 'queued'), (8, 2000, 'p1', 'a', 'completed'),
         (9, 2000, 'p1', 'a', 'running'), (10, 1000, 'p1', 'b', 'queued'),
         (11, 5000, 'p1', 'b', 'failed'), (12, 1500, 'p2', 'c', 'running');",
    );
    let all = f.store.totals(&Filter::default()).unwrap();
    assert_eq!(
        (
            all.executions.count,
            all.executions.successes,
            all.executions.tokens,
            all.executions.cost_nanos,
            all.executions.duration_us
        ),
        (3, 2, 29, 80, 2001)
    );
    // Three runs of i64::MAX tokens pass 64 bits: summed exactly.
    assert_eq!(all.runs.count, 3);
    assert_eq!(all.runs.tokens, 3 * u128::from(i64::MAX as u64));
    assert_eq!((all.runs.cost_nanos, all.runs.duration_us), (-3, 19));
    assert_eq!((all.runs.mode_2loop, all.runs.mode_3loop), (1, 1));
    assert_eq!(all.runs.qa[usize::from(QaStatus::Passed.code())], 2);
    assert_eq!(all.runs.qa[usize::from(QaStatus::Failed.code())], 1);
    // Job a ends completed (the later status wins the tie at 2000), b failed, c running.
    let mut by_status = [0; JobStatus::ALL.len()];
    by_status[usize::from(JobStatus::Completed.code())] = 1;
    by_status[usize::from(JobStatus::Failed.code())] = 1;
    by_status[usize::from(JobStatus::Running.code())] = 1;
    assert_eq!((all.jobs.distinct, all.jobs.by_status), (3, by_status));

    let p1 = f.store.totals(&project("p1")).unwrap();
    assert_eq!(
        (
            p1.executions.count,
            p1.executions.tokens,
            p1.executions.cost_nanos
        ),
        (2, 22, 100)
    );
    assert_eq!((p1.runs.count, p1.jobs.distinct), (2, 2));

    // A job counts when its latest change is in the range: b's (5000) is not.
    let early = f.store.totals(&range(Some(1500), Some(3000))).unwrap();
    assert_eq!((early.executions.count, early.executions.tokens), (1, 7));
    assert_eq!((early.runs.count, early.jobs.distinct), (2, 2));
    assert_eq!(
        early.jobs.by_status[usize::from(JobStatus::Failed.code())],
        0
    );

    assert_eq!(
        f.store.totals(&project("nowhere")).unwrap(),
        tally_store::Totals::default()
    );
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp()
}

#[allow(clippy::too_many_arguments)]
fn insert_rollup(
    f: &mut Fixture,
    family: Family,
    resolution: Resolution,
    project: i64,
    bucket: i64,
    key: i64,
    n: i64,
    big: &str,
    latency: Option<Vec<u8>>,
    facets: Option<Vec<u8>>,
) {
    f.sql
        .execute(
            "INSERT INTO tally.rollup (family, resolution, project, bucket, key, n, ok,
                 input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                 reasoning_tokens, cost_nusd, computed_cost_nusd, duration_us, last_ts,
                 latency, facets)
             VALUES ($1, $2, $3, $4, $5, $6, $6::bigint - 1, $7::text::numeric, 2, 3, 4, 5,
                 -($7::text::numeric), 6, 7, $4::bigint * 1000, $8, $9)",
            &[
                &i16::from(family.code()),
                &i16::from(resolution as u8),
                &project,
                &bucket,
                &key,
                &n,
                &big,
                &latency,
                &facets,
            ],
        )
        .unwrap();
}

#[test]
fn rollups_read_the_planned_segments_exactly_once_with_names() {
    let mut f = fixture();
    let big = "1267650600228229401496703205376"; // 2^100
    let mut sketch = LatencySketch::default();
    sketch.add(12.0);
    sketch.add(40.0);
    let (hour, day, month) = (Resolution::Hour, Resolution::Day, Resolution::Month);
    let all = tally_store::rollup::ALL_PROJECTS;
    // From 2026-09-30 22:00 to 2026-11-02 01:00: two hours, October, a day, an hour.
    let rows = [
        (hour, utc(2026, 9, 30, 21), false),
        (hour, utc(2026, 9, 30, 22), true),
        (day, utc(2026, 9, 30, 0), false),
        (hour, utc(2026, 10, 5, 3), false),
        (day, utc(2026, 10, 5, 0), false),
        (month, utc(2026, 10, 1, 0), true),
        (day, utc(2026, 11, 1, 0), true),
        (hour, utc(2026, 11, 2, 0), true),
        (hour, utc(2026, 11, 2, 1), false),
    ];
    for (n, (resolution, bucket, _)) in rows.iter().enumerate() {
        let latency = Some(sketch.encode());
        insert_rollup(
            &mut f,
            Family::Executions,
            *resolution,
            all,
            *bucket,
            0,
            n as i64 + 1,
            big,
            latency,
            None,
        );
    }
    let query = RollupQuery {
        family: Family::Executions,
        projects: ProjectScope::All,
        from: Some(ms(utc(2026, 9, 30, 22) * 1000 + 1)),
        to: Some(ms(utc(2026, 11, 2, 0) * 1000 + 1000)),
        by: None,
    };
    let read = f.store.rollups(&query).unwrap();
    let expected: Vec<_> = rows
        .iter()
        .filter(|(_, _, inside)| *inside)
        .map(|(resolution, bucket, _)| (*resolution, *bucket))
        .collect();
    assert_eq!(
        read.iter()
            .map(|r| (r.resolution, r.bucket))
            .collect::<Vec<_>>(),
        expected
    );
    let first = &read[0].measures;
    assert_eq!((first.n, first.ok), (2, 1));
    assert_eq!(first.input_tokens, 1u128 << 100);
    assert_eq!(first.cost_nusd, -(1i128 << 100));
    assert_eq!(
        (
            first.output_tokens,
            first.reasoning_tokens,
            first.computed_cost_nusd,
            first.duration_us
        ),
        (2, 5, 6, 7)
    );
    assert_eq!(first.last_ts, utc(2026, 9, 30, 22) * 1000);
    assert_eq!(first.latency, sketch);
    // By day: October is read as days (none stored), not as its month row.
    let by_day = f
        .store
        .rollups(&RollupQuery {
            by: Some(day),
            ..query.clone()
        })
        .unwrap();
    assert_eq!(
        by_day
            .iter()
            .map(|r| (r.resolution, r.bucket))
            .collect::<Vec<_>>(),
        vec![
            (hour, utc(2026, 9, 30, 22)),
            (day, utc(2026, 10, 5, 0)),
            (day, utc(2026, 11, 1, 0)),
            (hour, utc(2026, 11, 2, 0))
        ]
    );

    // Keyed families name their keys; each project apart names its project.
    let p1 = f.code(Dim::Project, "p1");
    let p2 = f.code(Dim::Project, "p2");
    let search = f.code(Dim::Tool, "search");
    let fetch = f.code(Dim::Tool, "fetch");
    let mut facets = Facets::default();
    facets.add(Facet::HourOfDay, 13, true);
    let d = utc(2026, 10, 5, 0);
    for (project, tool) in [(p2, fetch), (p1, search), (p1, fetch), (all, search)] {
        insert_rollup(
            &mut f,
            Family::ExecutionsByTool,
            day,
            project,
            d,
            tool,
            3,
            "1",
            None,
            Some(facets.encode()),
        );
    }
    let tools = |projects| RollupQuery {
        family: Family::ExecutionsByTool,
        projects,
        from: None,
        to: None,
        by: Some(day),
    };
    let each = f.store.rollups(&tools(ProjectScope::Each)).unwrap();
    let mut named: Vec<_> = each
        .iter()
        .map(|r| (r.project.clone().unwrap(), r.name.clone().unwrap()))
        .collect();
    named.sort();
    assert_eq!(
        named,
        [("p1", "fetch"), ("p1", "search"), ("p2", "fetch")]
            .map(|(p, t)| (p.to_owned(), t.to_owned()))
    );
    assert_eq!(each[0].measures.facets, facets);
    let one = f.store.rollups(&tools(ProjectScope::One("p2"))).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].project.as_deref(), one[0].name.as_deref()),
        (None, Some("fetch"))
    );
    let overall = f.store.rollups(&tools(ProjectScope::All)).unwrap();
    assert_eq!(overall.len(), 1);
    assert_eq!(overall[0].key, search);
    assert!(
        f.store
            .rollups(&tools(ProjectScope::One("nowhere")))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn live_state_reads_name_their_projects_agents_and_respect_the_range() {
    let mut f = fixture();
    let p1 = f.code(Dim::Project, "p1");
    let p2 = f.code(Dim::Project, "p2");
    let b = f.code(Dim::Agent, "agent-b");
    let a = f.code(Dim::Agent, "agent-a");
    let timeout = f.code(Dim::ErrorClass, "timeout");
    f.sql
        .execute(
            "INSERT INTO tally.job_state VALUES
             ($1, 'j1', 1, 2000, 1000, 2000, NULL), ($1, 'j2', 2, 9000, 1000, 3000, 9000),
             ($2, 'j3', 0, 1500, 1500, NULL, NULL)",
            &[&p1, &p2],
        )
        .unwrap();
    let jobs = f.store.job_states(&range(Some(1000), Some(5000))).unwrap();
    assert_eq!(
        jobs.iter()
            .map(|j| (j.project.as_str(), j.job_id.as_str(), j.status))
            .collect::<Vec<_>>(),
        [
            ("p1", "j1", JobStatus::Running),
            ("p2", "j3", JobStatus::Queued)
        ]
    );
    assert_eq!((jobs[0].queued_ts, jobs[0].finished_ts), (Some(1000), None));
    assert_eq!(f.store.job_states(&project("p1")).unwrap().len(), 2);
    assert!(f.store.job_states(&project("nowhere")).unwrap().is_empty());

    f.sql
        .execute(
            "INSERT INTO tally.agent_state VALUES
             ($1, $3, 5000, 1, 2, 3, 4, 50.5, NULL), ($1, $4, 6000, 2, 1, 0, 4, NULL, 10),
             ($2, $3, 7000, 3, 0, 0, 2, NULL, NULL)",
            &[&p1, &p2, &b, &a],
        )
        .unwrap();
    let agents = f.store.agent_states(None).unwrap();
    assert_eq!(
        agents
            .iter()
            .map(|s| (
                s.agent_id.as_str(),
                s.project.as_str(),
                s.ts.timestamp_millis()
            ))
            .collect::<Vec<_>>(),
        [
            ("agent-a", "p1", 6000),
            ("agent-b", "p1", 5000),
            ("agent-b", "p2", 7000)
        ]
    );
    assert_eq!(
        (
            agents[1].active_tasks,
            agents[1].queued_tasks,
            agents[1].capacity,
            agents[1].cpu_pct
        ),
        (2, 3, 4, Some(50.5))
    );
    assert_eq!(f.store.agent_states(Some("p2")).unwrap().len(), 1);

    let h = utc(2026, 10, 1, 10);
    f.sql
        .execute(
            "INSERT INTO tally.agent_load VALUES
             ($1, $3, $4, 2, 3, 1, 8, 2), ($2, $3, $4, 1, 5, 0, 4, 5),
             ($1, $3, $4 + 3600, 1, 1, 1, 1, 1), ($1, $3, $4 - 3600, 1, 1, 1, 1, 1)",
            &[&p1, &p2, &b, &h],
        )
        .unwrap();
    // The range widens to whole hours: 10:30 to 11:00 reads the 10:00 hour.
    let load = f
        .store
        .agent_load(&range(Some((h + 1800) * 1000), Some((h + 3600) * 1000)))
        .unwrap();
    assert_eq!(load.len(), 1);
    assert_eq!((load[0].agent_id.as_str(), load[0].hour), ("agent-b", h));
    let sums = load[0].sums;
    assert_eq!(
        (
            sums.snapshots,
            sums.active_sum,
            sums.queued_sum,
            sums.capacity_sum,
            sums.peak_active
        ),
        (3, 8, 1, 12, 5)
    );
    assert_eq!(f.store.agent_load(&project("p1")).unwrap().len(), 3);

    let mut sketch = LatencySketch::default();
    sketch.add(3.0);
    f.sql
        .execute(
            "INSERT INTO tally.rollup_minute VALUES
             ($3, $1, 0, 4, 1, $4), ($3, $2, 7, 2, 2, NULL), ($3 - 60, $1, 0, 9, 0, NULL)",
            &[&p1, &p2, &(h + 120), &sketch.encode()],
        )
        .unwrap();
    let minutes = f.store.minutes(None, ms((h + 120) * 1000)).unwrap();
    assert_eq!(
        minutes
            .iter()
            .map(|m| (m.minute, m.kind, m.n, m.errors))
            .collect::<Vec<_>>(),
        [
            (h + 120, Kind::Execution, 4, 1),
            (h + 120, Kind::Request, 2, 2)
        ]
    );
    assert_eq!(minutes[0].latency, sketch);
    assert_eq!(f.store.minutes(Some("p2"), ms(0)).unwrap().len(), 1);

    let (u1, u2) = (f.code(Dim::User, "u1"), f.code(Dim::User, "u2"));
    f.sql
        .execute(
            "INSERT INTO tally.recent_user VALUES
             ($3, $1, $4), ($3 + 60, $1, $4), ($3 + 60, $2, $5), ($3 - 60, $1, $5)",
            &[&p1, &p2, &h, &u1, &u2],
        )
        .unwrap();
    assert_eq!(f.store.active_users(None, ms(h * 1000)).unwrap(), 2);
    assert_eq!(f.store.active_users(Some("p1"), ms(h * 1000)).unwrap(), 1);
    assert_eq!(f.store.active_users(Some("nowhere"), ms(0)).unwrap(), 0);

    assert_eq!(
        f.store.error_classes().unwrap(),
        vec![(timeout, "timeout".to_owned())]
    );
}

#[test]
fn raw_series_count_sessions_quality_and_completions_per_period() {
    let mut f = fixture();
    let day = 86_400_000;
    f.run(&format!(
        "INSERT INTO tally.session (seq, ts, project, user_id, duration_us, exchanges, quality) VALUES
         (1, 1000, 'p1', 'u1', 1, 1, 0.5), (2, 2000, 'p1', 'u2', 1, 1, NULL),
         (3, {day} + 5, 'p1', 'u1', 1, 1, 0.25), (4, -1000, 'p2', 'u1', 1, 1, 1.0);
         INSERT INTO tally.skill (seq, ts, project, user_id, skill, completed) VALUES
         (5, 1000, 'p1', 'u1', 'search', true), (6, 1500, 'p1', 'u1', 'search', false),
         (7, 1700, 'p1', 'u1', 'write', true);"
    ));
    let all = Filter::default();
    let series = |measure, filter: &Filter, skill, user| {
        f.store
            .raw_series(&RawSeriesQuery {
                measure,
                filter,
                step_seconds: 86_400,
                skill,
                user,
            })
            .unwrap()
            .iter()
            .map(|r| (r.bucket, r.rows, r.valued, r.sum))
            .collect::<Vec<_>>()
    };
    // The instant before 1970 falls in the day before it.
    assert_eq!(
        series(RawMeasure::SessionQuality, &all, None, None),
        [(-86_400, 1, 1, 1.0), (0, 2, 1, 0.5), (86_400, 1, 1, 0.25)]
    );
    assert_eq!(
        series(RawMeasure::Sessions, &project("p1"), None, Some("u1")),
        [(0, 1, 1, 1.0), (86_400, 1, 1, 1.0)]
    );
    assert_eq!(
        series(RawMeasure::SkillCompletion, &all, Some("search"), None),
        [(0, 2, 2, 1.0)]
    );
    assert_eq!(
        series(
            RawMeasure::SkillCompletion,
            &range(Some(1600), None),
            None,
            None
        ),
        [(0, 1, 1, 1.0)]
    );
}

#[test]
fn export_rebuilds_every_kind_in_arrival_order_in_chunks_and_stops_at_the_sink_error() {
    let mut f = fixture();
    let topic_rust = f.code(Dim::Topic, "rust");
    let topic_sql = f.code(Dim::Topic, "sql");
    assert!(topic_rust < topic_sql);
    // More executions than one fetch brings, in two projects.
    let executions = 2 * i64::from(crate::export::CHUNK) + 7;
    f.sql
        .execute(
            "INSERT INTO tally.ledger (project, id, derived, seq)
             SELECT 'p' || (1 + i % 2), 'x' || i, i % 5 = 0, i FROM generate_series(1, $1::bigint) i",
            &[&executions],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.execution (seq, ts, project, tool, duration_us, success,
                 browser_used, cost_computed, effort, cost_nusd, input_tokens, error, attrs, agent_id)
             SELECT i, 1000 + i, 'p' || (1 + i % 2), 'search', 12346, i % 3 = 0, i % 2 = 0,
                 i % 7 = 0, CASE WHEN i = 1 THEN 'high' END, 7000, 10,
                 CASE WHEN i % 3 <> 0 THEN 'timeout' END,
                 CASE WHEN i = 1 THEN '{\"region\": \"eu\", \"retries\": 2, \"w\": 2.5, \"ok\": true}'::jsonb END,
                 NULL
             FROM generate_series(1, $1::bigint) i",
            &[&executions],
        )
        .unwrap();
    let s = executions;
    f.sql
        .execute(
            "INSERT INTO tally.ledger (project, id, derived, seq) VALUES
             ('p1', 'r1', false, $1::bigint + 1), ('p1', 's1', false, $1::bigint + 2), ('p1', 'o1', false, $1::bigint + 3),
             ('p1', 'q1', false, $1::bigint + 4), ('p1', 'e1', false, $1::bigint + 5), ('p1', 'j1', false, $1::bigint + 6),
             ('p2', 'k1', false, $1::bigint + 7), ('p1', 'a1', false, $1::bigint + 8), ('p1', 'h1', false, $1::bigint + 9),
             ('p1', 'act1', false, $1::bigint + 10)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.run VALUES ($1::bigint + 1, 50, 'p1', 1234568, '2loop', 'passed', 20, 1000, NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.run_model VALUES ($1::bigint + 1, 1, 'claude', 3, 2, NULL), ($1::bigint + 1, 0, 'gpt-4o', 10, 5, 1000)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.session (seq, ts, project, user_id, duration_us, exchanges, quality, clarity)
             VALUES ($1::bigint + 2, 60, 'p1', 'u1', 90500000, 3, 0.8, 0.5)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.session_topic VALUES ($1::bigint + 2, 0, 'sql'), ($1::bigint + 2, 1, 'rust'), ($1::bigint + 2, 2, 'sql')",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.outcome VALUES ($1::bigint + 3, 70, 'p1', 'checkout', 'u1', 'control', NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.outcome_metric VALUES ($1::bigint + 3, 'latency', 12.5, false), ($1::bigint + 3, 'converted', 1, true)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.request VALUES ($1::bigint + 4, 80, 'p1', '/v1/chat', 'POST', 503, 87654, 'u1', NULL, NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.error VALUES ($1::bigint + 5, 90, 'p1', 'api', 'boom', 'critical', NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.job VALUES ($1::bigint + 6, 95, 'p1', 'job-1', 'running', 'r1', NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.skill VALUES ($1::bigint + 7, 96, 'p2', 'u1', 'search', true, 's1', 'plan', 1500, 4, 'q', NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.agent_status VALUES ($1::bigint + 8, 97, 'p1', 'agent-a', 2, 1, 4, 10.5, NULL, NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.system VALUES ($1::bigint + 9, 98, 'p1', 'web-1', 12.5, NULL, 70, 0.5, NULL)",
            &[&s],
        )
        .unwrap();
    f.sql
        .execute(
            "INSERT INTO tally.action VALUES ($1::bigint + 10, 99, 'p1', 'u1', 'open', 's1', NULL)",
            &[&s],
        )
        .unwrap();

    let mut out: Vec<Event> = Vec::new();
    let count = f
        .store
        .export_events(&Filter::default(), &mut |event| {
            out.push(event);
            Ok(())
        })
        .unwrap();
    assert_eq!(count, out.len() as u64);
    assert_eq!(out.len() as i64, executions + 10);
    // Executions first, in seq order; then kind by kind.
    let kinds: Vec<Kind> = out.iter().map(Event::kind).collect();
    let mut in_order = kinds.clone();
    in_order.sort_by_key(|kind| Kind::ALL.iter().position(|k| k == kind));
    assert_eq!(kinds, in_order);
    let seconds: Vec<i64> = out[..executions as usize]
        .iter()
        .map(|e| e.ts.timestamp_millis())
        .collect();
    assert!(seconds.windows(2).all(|w| w[0] < w[1]));

    let first = &out[0];
    assert_eq!(first.id, Some(EventId::Given("x1".into())));
    assert_eq!(first.project.as_str(), "p2");
    assert_eq!(first.attrs["region"], AttrValue::Str("eu".to_owned()));
    assert_eq!(first.attrs["retries"], AttrValue::Int(2));
    assert_eq!(first.attrs["w"], AttrValue::Float(2.5));
    assert_eq!(first.attrs["ok"], AttrValue::Bool(true));
    match &first.body {
        EventBody::Execution(x) => {
            assert_eq!(x.duration_ms, 12.346);
            assert_eq!(x.effort, Some(Effort::High));
            assert_eq!(x.cost_usd.map(|c| c.to_nanos()), Some(7000));
            assert_eq!(x.error.as_deref(), Some("timeout"));
            assert_eq!(
                (x.tokens.input_tokens, x.tokens.output_tokens),
                (Some(10), None)
            );
            assert!(!x.success && !x.browser_used);
        }
        other => panic!("an execution, not {other:?}"),
    }
    // A derived id and a computed cost are left out.
    assert_eq!(out[4].id, None);
    match &out[6].body {
        EventBody::Execution(x) => {
            assert_eq!(x.cost_usd, None);
            assert_eq!(x.cost_source, CostSource::Reported);
        }
        other => panic!("an execution, not {other:?}"),
    }
    let rest = &out[executions as usize..];
    match &rest[0].body {
        EventBody::Run(r) => {
            assert_eq!(r.duration_s, 1.234568);
            assert_eq!(r.qa_status, QaStatus::Passed);
            let models: Vec<_> = r
                .models
                .iter()
                .map(|m| {
                    (
                        m.model.as_str(),
                        m.input_tokens,
                        m.cost_usd.map(|c| c.to_nanos()),
                    )
                })
                .collect();
            assert_eq!(models, [("gpt-4o", 10, Some(1000)), ("claude", 3, None)]);
        }
        other => panic!("a run, not {other:?}"),
    }
    match &rest
        .iter()
        .find(|e| e.kind() == Kind::Session)
        .unwrap()
        .body
    {
        EventBody::Session(s) => {
            assert_eq!(s.duration_s, 90.5);
            assert_eq!(s.topics, ["rust", "sql"], "once each, in dictionary order");
            assert_eq!(s.quality_breakdown.clarity, Some(0.5));
        }
        other => panic!("a session, not {other:?}"),
    }
    match &rest
        .iter()
        .find(|e| e.kind() == Kind::Outcome)
        .unwrap()
        .body
    {
        EventBody::Outcome(o) => {
            assert_eq!(o.metrics["converted"], MetricValue::Bool(true));
            assert_eq!(o.metrics["latency"], MetricValue::Number(12.5));
        }
        other => panic!("an outcome, not {other:?}"),
    }
    match &rest
        .iter()
        .find(|e| e.kind() == Kind::Request)
        .unwrap()
        .body
    {
        EventBody::Request(r) => assert_eq!((r.status, r.latency_ms), (503, 87.654)),
        other => panic!("a request, not {other:?}"),
    }
    match &rest.iter().find(|e| e.kind() == Kind::Error).unwrap().body {
        EventBody::Error(e) => assert_eq!(e.severity, Severity::Critical),
        other => panic!("an error, not {other:?}"),
    }
    match &rest.iter().find(|e| e.kind() == Kind::Skill).unwrap().body {
        EventBody::Skill(k) => {
            assert_eq!((k.duration_ms, k.rating), (Some(1.5), Some(4)));
        }
        other => panic!("a skill, not {other:?}"),
    }

    // The filter narrows every kind; executions alone read only their table.
    let p2 = |f: &Fixture| {
        f.store
            .export_events(&project("p2"), &mut |_| Ok(()))
            .unwrap()
    };
    // The odd seqs are p2's, and the skill.
    assert_eq!(p2(&f), ((executions + 1) / 2 + 1) as u64);
    let mut only = Vec::new();
    let n = f
        .store
        .export_executions(&range(Some(1001), Some(1004)), &mut |e| {
            only.push(e);
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(only, out[..3].to_vec());

    // The sink's error stops the export and is its answer.
    let mut seen = 0;
    let error = f
        .store
        .export_events(&Filter::default(), &mut |_| {
            seen += 1;
            if seen == 5 {
                Err(tally_store::Error::Backup("the disk is full".to_owned()))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(seen, 5);
    assert!(matches!(
        error,
        crate::Error::Store(tally_store::Error::Backup(_))
    ));
}
