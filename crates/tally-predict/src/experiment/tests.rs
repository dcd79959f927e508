//! Unit tests of the experiment tier: GrowthBook's published vectors, validation, the
//! statistics' edge cases and the analysis' verdict rule.

use chrono::{TimeZone, Utc};
use tally_store::OutcomeRecord;

use super::assign::{bucket_ranges, choose_variant, fnv1a32, hash_v1, hash_v2};
use super::stats::{self, Insufficient, Sample};
use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap()
}

/// GrowthBook's `cases.json` ("hash"): seed, value, version, expected.
const HASH_VECTORS: &[(&str, &str, u8, f64)] = &[
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", "___)((*\":&", 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", "___)((*\":&", 2, 0.0128),
];

#[test]
fn hashes_equal_growthbooks_published_vectors() {
    for &(seed, value, version, expected) in HASH_VECTORS {
        let got = if version == 1 {
            hash_v1(seed, value)
        } else {
            hash_v2(seed, value)
        };
        assert_eq!(got, expected, "hash v{version}({seed:?}, {value:?})");
    }
    // FNV-1a 32 reference values.
    assert_eq!(fnv1a32(""), 0x811c_9dc5);
    assert_eq!(fnv1a32("a"), 0xe40c_292c);
    assert_eq!(fnv1a32("foobar"), 0xbf9c_f968);
}

/// GrowthBook's `cases.json` ("getBucketRange"): variants, coverage, weights, ranges.
#[test]
fn bucket_ranges_equal_growthbooks_published_cases() {
    type Case = (usize, f64, Option<&'static [f64]>, &'static [(f64, f64)]);
    let cases: &[Case] = &[
        (2, 1.0, None, &[(0.0, 0.5), (0.5, 1.0)]),
        (2, 0.5, None, &[(0.0, 0.25), (0.5, 0.75)]),
        (2, 0.0, None, &[(0.0, 0.0), (0.5, 0.5)]),
        (
            4,
            1.0,
            None,
            &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)],
        ),
        (2, 1.0, Some(&[0.4, 0.6]), &[(0.0, 0.4), (0.4, 1.0)]),
        (
            3,
            1.0,
            Some(&[0.2, 0.3, 0.5]),
            &[(0.0, 0.2), (0.2, 0.5), (0.5, 1.0)],
        ),
        (
            3,
            0.2,
            Some(&[0.2, 0.3, 0.5]),
            &[(0.0, 0.04), (0.2, 0.26), (0.5, 0.6)],
        ),
        (2, -0.2, None, &[(0.0, 0.0), (0.5, 0.5)]),
        (2, 1.5, None, &[(0.0, 0.5), (0.5, 1.0)]),
        (2, 1.0, Some(&[0.4, 0.1]), &[(0.0, 0.5), (0.5, 1.0)]),
        (2, 1.0, Some(&[0.7, 0.6]), &[(0.0, 0.5), (0.5, 1.0)]),
        (
            4,
            1.0,
            Some(&[0.4, 0.4, 0.2]),
            &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)],
        ),
        (2, 1.0, Some(&[0.4, 0.5999]), &[(0.0, 0.4), (0.4, 0.9999)]),
    ];
    for (variants, coverage, weights, expected) in cases {
        let got = bucket_ranges(*variants, *coverage, *weights);
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(expected.iter()) {
            assert!(
                (g.0 - e.0).abs() < 1e-12 && (g.1 - e.1).abs() < 1e-12,
                "{variants} {coverage} {weights:?}: {got:?}"
            );
        }
    }
    let ranges = [(0.0, 0.5), (0.5, 1.0)];
    assert_eq!(choose_variant(0.2, &ranges), Some(0));
    assert_eq!(choose_variant(0.5, &ranges), Some(1));
    assert_eq!(choose_variant(0.3, &[(0.0, 0.25), (0.5, 0.75)]), None);
}

fn spec(variants: &str) -> ExperimentSpec {
    ExperimentSpec {
        key: "checkout".into(),
        variants: parse_variants(variants).unwrap(),
        ..ExperimentSpec::default()
    }
}

#[test]
fn definitions_are_validated() {
    let check = |spec: ExperimentSpec, expected: &str| {
        let error = Experiment::new(spec, now()).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}");
    };
    assert!(parse_variants("control").is_err());
    assert!(parse_variants("a:x,b:1").is_err());
    check(spec("a:50,a:50"), "appears twice");
    check(spec("a:0,b:100"), "expected a number > 0");
    let weights = |text: &str| parse_variants(text).unwrap_err().to_string();
    assert!(
        weights("control:50,treatment:40").contains("add up to 90, not 100"),
        "{}",
        weights("control:50,treatment:40")
    );
    assert!(weights("control:50,treatment").contains("give every variant a weight"));
    assert_eq!(parse_variants("a:33.5,b:66.5").unwrap().len(), 2);
    check(
        ExperimentSpec {
            coverage: Some(1.5),
            ..spec("a,b")
        },
        "coverage",
    );
    check(
        ExperimentSpec {
            key: " ".into(),
            ..spec("a,b")
        },
        "key",
    );
    let experiment = Experiment::new(
        ExperimentSpec {
            primary_metric: Some("completed".into()),
            guardrail_metrics: vec!["duration_ms".into()],
            ..spec("control:20,treatment:80")
        },
        now(),
    )
    .unwrap();
    assert_eq!(experiment.variants[1].weight, 0.8);
    assert_eq!(experiment.seed, "checkout");
    assert_eq!(experiment.lower_is_better, vec!["duration_ms".to_owned()]);
    assert_eq!(experiment.status(now()), Status::Running);
}

#[test]
fn assignment_is_deterministic_and_follows_the_weights() {
    let experiment = Experiment::new(spec("control:20,b:30,c:50"), now()).unwrap();
    let mut counts = [0u64; 3];
    for i in 0..100_000 {
        let user = format!("user-{i}");
        let variant = experiment.assign(&user).unwrap();
        assert_eq!(experiment.assign(&user), Some(variant));
        counts[experiment
            .variants
            .iter()
            .position(|v| v == variant)
            .unwrap()] += 1;
    }
    let (chi2, df, p) = stats::chi_square(&counts, &[0.2, 0.3, 0.5]).unwrap();
    assert_eq!(df, 2);
    assert!(p > 0.001, "split {counts:?}: chi2 {chi2}, p {p}");
    // Coverage leaves users out in proportion.
    let half = Experiment::new(
        ExperimentSpec {
            coverage: Some(0.5),
            ..spec("a,b")
        },
        now(),
    )
    .unwrap();
    let inside = (0..10_000)
        .filter(|i| half.assign(&format!("u{i}")).is_some())
        .count();
    assert!((4_700..5_300).contains(&inside), "{inside}");
}

#[test]
fn statistics_refuse_what_they_cannot_compute() {
    let one = Sample::of(&[3.0]);
    let flat = Sample::of(&[2.0, 2.0, 2.0]);
    let spread = Sample::of(&[1.0, 2.0, 4.0]);
    assert_eq!(
        stats::welch(&one, &spread, 0.95),
        Err(Insufficient::TooFewUnits)
    );
    assert_eq!(
        stats::welch(&flat, &flat, 0.95),
        Err(Insufficient::ZeroVariance)
    );
    assert!(stats::welch(&flat, &spread, 0.95).unwrap().p_value > 0.0);
    assert_eq!(
        stats::two_proportions((0, 10), (0, 10), 0.95),
        Err(Insufficient::ZeroVariance)
    );
    assert_eq!(
        stats::relative_lift((0.0, 1.0, 5), (1.0, 1.0, 5), 0.95),
        None
    );
    assert_eq!(stats::chi_square(&[0, 0], &[0.5, 0.5]), None);
    assert_eq!(stats::holm(&[0.01, 0.04, 0.03]), vec![0.03, 0.06, 0.06]);
    assert_eq!(Sample::of(&[]).n, 0);
}

#[test]
fn power_and_sample_size_are_inverse() {
    let plan = power_plan(
        PowerQuestion::MdeForUsers(1000.0),
        0.25,
        Some(0.5),
        0.05,
        0.8,
    )
    .unwrap();
    let back = power_plan(PowerQuestion::UsersForMde(plan.mde), 0.25, None, 0.05, 0.8).unwrap();
    assert!((back.n_per_variant - 1000.0).abs() <= 1.0, "{back:?}");
    assert!(power_plan(PowerQuestion::UsersForMde(0.0), 0.25, None, 0.05, 0.8).is_err());
    assert!(power_plan(PowerQuestion::UsersForMde(0.1), 0.25, None, 1.0, 0.8).is_err());
}

#[test]
fn msprt_p_value_is_small_for_large_effects_and_one_for_none() {
    assert_eq!(stats::msprt_p_value(0.0, 0.1, 0.01), 1.0);
    assert!(stats::msprt_p_value(1.0, 0.1, 0.01) < 1e-6);
}

fn outcome(user: &str, variant: &str, metrics: &[(&str, f64, bool)]) -> OutcomeRecord {
    OutcomeRecord {
        ts: now(),
        user_id: user.into(),
        variant: variant.into(),
        metrics: metrics
            .iter()
            .map(|(m, v, b)| ((*m).to_owned(), *v, *b))
            .collect(),
    }
}

/// Outcomes that agree with `experiment`'s assignment, `per_variant` users each.
fn agreeing(
    experiment: &Experiment,
    users: usize,
    value: impl Fn(&str, usize) -> f64,
) -> Vec<OutcomeRecord> {
    (0..users)
        .map(|i| {
            let user = format!("u{i}");
            let variant = experiment.assign(&user).unwrap().name.clone();
            let v = value(&variant, i);
            outcome(&user, &variant, &[("score", v, false)])
        })
        .collect()
}

fn verdicts(analysis: &Analysis) -> Vec<Verdict> {
    analysis.metrics[0]
        .comparisons
        .iter()
        .map(|c| c.verdict)
        .collect()
}

#[test]
fn verdicts_follow_the_rule() {
    let experiment = Experiment::new(spec("control,treatment"), now()).unwrap();
    // A real effect: a win.
    let outcomes = agreeing(&experiment, 2_000, |v, i| {
        (i % 7) as f64 + if v == "treatment" { 1.0 } else { 0.0 }
    });
    let analysis = analyze(&experiment, &outcomes, now());
    assert_eq!(verdicts(&analysis), [Verdict::Win]);
    assert!(!analysis.srm.mismatch);
    // The always-valid p-value is more conservative than the fixed-horizon one.
    let comparison = &analysis.metrics[0].comparisons[0];
    assert!(comparison.p_sequential.unwrap() >= comparison.p_value.unwrap());
    assert!(comparison.p_sequential.unwrap() < 0.05);
    // The same data, lower is better: a loss.
    let lower = Experiment {
        lower_is_better: vec!["score".into()],
        ..experiment.clone()
    };
    assert_eq!(
        verdicts(&analyze(&lower, &outcomes, now())),
        [Verdict::Loss]
    );
    // No effect: inconclusive.
    let flat = agreeing(&experiment, 2_000, |_, i| (i % 7) as f64);
    assert_eq!(
        verdicts(&analyze(&experiment, &flat, now())),
        [Verdict::Inconclusive]
    );
    // A broken split: 3 of 4 control users dropped. Never a winner.
    let skewed: Vec<OutcomeRecord> = outcomes
        .iter()
        .enumerate()
        .filter(|(i, o)| o.variant == "treatment" || i % 4 == 0)
        .map(|(_, o)| o.clone())
        .collect();
    let analysis = analyze(&experiment, &skewed, now());
    assert!(analysis.srm.mismatch);
    assert_eq!(verdicts(&analysis), [Verdict::Inconclusive]);
    assert!(
        analysis.metrics[0].comparisons[0]
            .reason
            .contains("sample ratio")
    );
}

#[test]
fn mismatched_variants_are_counted_and_left_out() {
    let experiment = Experiment::new(spec("control,treatment"), now()).unwrap();
    let mut outcomes = agreeing(&experiment, 100, |_, i| i as f64);
    let wrong = |o: &OutcomeRecord| {
        if o.variant == "control" {
            "treatment"
        } else {
            "control"
        }
    };
    let flipped: Vec<OutcomeRecord> = outcomes[..10]
        .iter()
        .map(|o| outcome(&o.user_id, wrong(o), &[("score", 1e9, false)]))
        .collect();
    outcomes.extend(flipped);
    outcomes.push(outcome("u1", "mystery", &[("score", 1e9, false)]));
    let analysis = analyze(&experiment, &outcomes, now());
    assert_eq!(analysis.assignment.outcomes, 111);
    assert_eq!(analysis.assignment.mismatched, 11);
    assert_eq!(analysis.assignment.mismatched_by_variant["mystery"], 1);
    let figures = &analysis.metrics[0].variants;
    assert_eq!(figures[0].n + figures[1].n, 100);
    assert!(figures.iter().all(|f| f.mean.unwrap() < 100.0));
}

#[test]
fn edge_cases_answer_with_a_status_and_never_nan() {
    let experiment = Experiment::new(spec("control,treatment,third"), now()).unwrap();
    let users: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
    let of = |name: &str| {
        users
            .iter()
            .filter(|u| experiment.assign(u).unwrap().name == name)
            .collect::<Vec<_>>()
    };
    // Control: one user; treatment: constant values; third: no users at all.
    let mut outcomes = vec![outcome(
        of("control")[0],
        "control",
        &[("score", 1.0, false)],
    )];
    for user in of("treatment") {
        outcomes.push(outcome(
            user,
            "treatment",
            &[("score", 5.0, false), ("done", 1.0, true)],
        ));
    }
    let analysis = analyze(&experiment, &outcomes, now());
    let json = serde_json::to_string(&analysis).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    for metric in &analysis.metrics {
        assert_eq!(metric.variants[2].n, 0);
        assert_eq!(metric.variants[2].mean, None);
        for comparison in &metric.comparisons {
            assert_eq!(comparison.verdict, Verdict::NotEnoughData, "{comparison:?}");
            assert!(!comparison.reason.is_empty());
            assert_eq!(comparison.p_value, None);
        }
    }
    // No outcomes at all.
    let empty = analyze(&experiment, &[], now());
    assert_eq!(empty.srm.p_value, 1.0);
    assert!(empty.metrics.is_empty());
}
