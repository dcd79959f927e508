//! Unit tests of the series statistics on hand-checked cases.

use super::describe::{average_ranks, quantile};
use super::*;

fn series(step_seconds: i64, values: &[Option<f64>]) -> Series {
    Series::new(
        "csv",
        step_seconds,
        Polarity::HigherIsBetter,
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                // 2026-01-05 is a Monday.
                timestamp: 1_767_571_200 + i as i64 * step_seconds,
                value: *v,
            })
            .collect(),
    )
}

fn check_close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn mann_kendall_counts_signs_and_corrects_for_ties() {
    // Pairs of [1, 2, 2, 3]: five rises, one tie. Ties: one group of 2.
    let mk = mann_kendall(&[1.0, 2.0, 2.0, 3.0]).unwrap();
    check_close(mk.s, 5.0, "S");
    check_close(
        mk.var_s,
        (4.0 * 3.0 * 13.0 - 2.0 * 1.0 * 9.0) / 18.0,
        "var S",
    );
    check_close(mk.tau, 5.0 / 6.0, "tau");
    check_close(mk.z, 4.0 / mk.var_s.sqrt(), "z");
}

#[test]
fn sens_slope_is_the_median_pairwise_slope() {
    let (slope, intercept) = sens_slope(&[0.0, 1.0, 2.0], &[0.0, 1.0, 4.0]).unwrap();
    // Slopes 1, 2, 3.
    check_close(slope, 2.0, "slope");
    check_close(intercept, 1.0 - 2.0, "intercept");
}

#[test]
fn least_squares_of_an_exact_line_has_no_error() {
    let fit = least_squares(&[0.0, 1.0, 2.0, 3.0], &[1.0, 3.0, 5.0, 7.0]).unwrap();
    check_close(fit.slope, 2.0, "slope");
    check_close(fit.intercept, 1.0, "intercept");
    check_close(fit.slope_stderr, 0.0, "stderr");
    check_close(fit.p_value, 0.0, "p");
}

#[test]
fn ranks_average_ties_and_quantiles_interpolate() {
    assert_eq!(
        average_ranks(&[3.0, 1.0, 3.0, 2.0]),
        vec![3.5, 1.0, 3.5, 2.0]
    );
    check_close(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25).unwrap(), 1.75, "q1");
}

#[test]
fn direction_is_said_apart_from_whether_it_is_good_news() {
    let rising: Vec<Option<f64>> = (0..30).map(|i| Some(10.0 + f64::from(i))).collect();
    let mut s = series(86_400, &rising);
    let up = trend(&s).unwrap();
    assert_eq!(
        (up.direction, up.outlook),
        (Direction::Rising, Outlook::Better)
    );
    s.polarity = Polarity::LowerIsBetter;
    s.metric = "cost".into();
    let up = trend(&s).unwrap();
    // Cost rising is still rising, and worse.
    assert_eq!(
        (up.direction, up.outlook),
        (Direction::Rising, Outlook::Worse)
    );
    assert_eq!(
        up.summary,
        "cost is rising (+290.0 % over the window): worse"
    );
    let flat: Vec<Option<f64>> = (0..30).map(|i| Some(10.0 + f64::from(i % 2))).collect();
    let flat = trend(&series(86_400, &flat)).unwrap();
    assert_eq!(
        (flat.direction, flat.outlook),
        (Direction::Flat, Outlook::Unchanged)
    );
}

#[test]
fn too_short_a_series_says_how_many_points_it_has_and_needs() {
    let error = trend(&series(86_400, &[Some(1.0), Some(2.0)])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "not enough data for a least-squares trend: 2 points, need 3"
    );
}

#[test]
fn missing_points_are_left_out_of_the_trend_and_interpolated_for_forecasts() {
    let s = series(86_400, &[Some(1.0), None, Some(3.0), Some(4.0)]);
    let t = trend(&s).unwrap();
    assert_eq!(t.n, 3);
    check_close(t.sen_slope, 1.0, "sen slope");
    assert_eq!(s.filled_values().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn csv_reads_a_header_timestamps_and_gaps() {
    let s = from_csv("timestamp,value\n2026-01-01,1\n2026-01-02,\n2026-01-04,4.5\n").unwrap();
    assert_eq!(s.step_seconds, 86_400);
    let values: Vec<Option<f64>> = s.points.iter().map(|p| p.value).collect();
    assert_eq!(values, vec![Some(1.0), None, None, Some(4.5)]);
    assert!(from_csv("timestamp,value\n2026-01-02,1\n2026-01-01,2\n").is_err());
    assert!(from_csv("2026-01-01,x\n2026-01-02,1\n").is_err());
}

#[test]
fn weekly_profile_names_the_best_and_worst_day() {
    // Four weeks, Monday lowest, Sunday highest.
    let values: Vec<Option<f64>> = (0..28)
        .map(|i| Some(10.0 + f64::from(i % 7) + 0.01 * f64::from(i)))
        .collect();
    let seasons = seasonality(&series(86_400, &values));
    assert_eq!(seasons.best_day.as_deref(), Some("Sunday"));
    assert_eq!(seasons.worst_day.as_deref(), Some("Monday"));
    assert!(seasons.day_of_week.unwrap().significant);
    assert!(seasons.hour_of_day.is_none());
}

#[test]
fn holt_winters_follows_a_seasonal_line_exactly() {
    // y = t + season: with the exact initial state, forecasts continue it.
    let season = [3.0, -1.0, -2.0, 0.0];
    let values: Vec<f64> = (0..16)
        .map(|t| f64::from(t) + season[t as usize % 4])
        .collect();
    let parameters = HoltWintersParameters {
        alpha: 0.3,
        beta: 0.1,
        gamma: 0.2,
        season_length: 4,
        initial_level: -1.0,
        initial_trend: 1.0,
        initial_seasonal: season.to_vec(),
    };
    let forecast = holt_winters_forecast(&values, &parameters, 4);
    for (h, got) in forecast.iter().enumerate() {
        let t = 16 + h;
        check_close(*got, t as f64 + season[t % 4], "forecast");
    }
}

#[test]
fn forecasts_choose_holt_winters_for_a_strong_season() {
    let values: Vec<Option<f64>> = (0..70)
        .map(|t| Some(100.0 + 0.5 * f64::from(t) + 20.0 * f64::from(t % 7 == 5 || t % 7 == 6)))
        .collect();
    let f = forecast(&series(86_400, &values), 14).unwrap();
    assert_eq!(f.model, ForecastModel::HoltWinters);
    assert_eq!(f.points.len(), 14);
    assert!(
        f.points
            .iter()
            .all(|p| p.lower <= p.value && p.value <= p.upper)
    );
    // A step with no calendar season: a cycle of 3 is found in the values.
    let cycling: Vec<Option<f64>> = (0..40)
        .map(|t| Some(5.0 + 2.0 * f64::from(t) + 4.0 * f64::from(t % 3)))
        .collect();
    let f = forecast(&series(3600 * 5, &cycling), 3).unwrap();
    assert_eq!(
        (f.model, f.season_length),
        (ForecastModel::HoltWinters, Some(3))
    );
    let linear: Vec<Option<f64>> = (0..40).map(|t| Some(5.0 + 2.0 * f64::from(t))).collect();
    let f = forecast(&series(3600 * 5, &linear), 3).unwrap();
    assert_eq!((f.model, f.season_length), (ForecastModel::Linear, None));
}

#[test]
fn a_level_without_trend_is_forecast_by_smoothing() {
    // A level that shifts once and then wanders: a line through it would keep falling.
    let values: Vec<Option<f64>> = (0..60)
        .map(|t| {
            let level = if t < 20 { 100.0 } else { 60.0 };
            Some(level + [3.0, -2.0, 1.0, -4.0, 2.0, 0.0, -1.0][t % 7 * 3 % 7])
        })
        .collect();
    let f = forecast(&series(86_400 * 365, &values), 5).unwrap();
    assert_eq!(f.model, ForecastModel::Level, "{:?}", f.backtests);
    assert!(
        f.points.iter().all(|p| (p.value - 60.0).abs() < 5.0),
        "{:?}",
        f.points
    );
}

#[test]
fn a_spike_is_one_record_with_every_agreeing_detector_and_a_cost_insight() {
    let mut values: Vec<Option<f64>> = (0..56)
        .map(|t| Some(10.0 + f64::from(t % 7) + 0.3 * f64::from(t % 3)))
        .collect();
    values[40] = Some(80.0);
    let mut s = series(86_400, &values);
    s.metric = "cost".into();
    s.polarity = Polarity::LowerIsBetter;
    let report = anomalies(&s, &AnomalyConfig::default());
    assert_eq!(report.anomalies.len(), 1, "{:?}", report.anomalies);
    let spike = &report.anomalies[0];
    assert_eq!(spike.value, 80.0);
    assert_eq!(spike.detectors, AnomalyMethod::ALL.to_vec());
    assert!(spike.lower <= spike.expected && spike.expected < spike.upper && spike.upper < 80.0);
    assert_eq!(spike.severity, Severity::High);
    assert_eq!(report.insights.len(), 1, "{:?}", report.insights);
    assert_eq!(report.insights[0].kind, InsightKind::CostSpike);
}

#[test]
fn an_ordinary_weekly_rhythm_is_never_flagged() {
    // Cost with quiet weekends and a steady rise: weekends are expected, not anomalies.
    let values: Vec<Option<f64>> = (0..63)
        .map(|t| {
            let weekend = matches!(t % 7, 5 | 6);
            let level = 100.0 + 1.5 * f64::from(t);
            Some(level * if weekend { 0.4 } else { 1.0 } + f64::from(t % 3))
        })
        .collect();
    let mut s = series(86_400, &values);
    s.metric = "cost".into();
    s.polarity = Polarity::LowerIsBetter;
    let report = anomalies(&s, &AnomalyConfig::default());
    assert_eq!(report.anomalies, Vec::new());
    let baseline = report.baseline.expect("a baseline");
    assert_eq!(baseline.form, BaselineForm::Multiplicative);
    assert_eq!(baseline.seasons, vec![ProfileKind::DayOfWeek]);
}

#[test]
fn partial_first_and_last_periods_are_left_out() {
    let mut values: Vec<Option<f64>> = vec![Some(10.0); 30];
    values[0] = Some(1.0);
    values[29] = Some(2.0);
    let mut s = series(86_400, &values);
    s.metric = "cost".into();
    let first = s.points[0].timestamp;
    let end = s.points[29].timestamp + 86_400;
    s.mark_partial(first + 3600 * 13, end - 3600 * 5);
    let report = anomalies(&s, &AnomalyConfig::default());
    assert_eq!(report.anomalies, Vec::new());
    assert_eq!(report.partial_periods.len(), 2);
    // Whole periods are not partial.
    s.mark_partial(first, end);
    let report = anomalies(&s, &AnomalyConfig::default());
    assert_eq!(report.anomalies.len(), 2, "{:?}", report.anomalies);
}

#[test]
fn too_few_points_are_said_so_rather_than_judged() {
    let report = anomalies(
        &series(86_400, &[Some(1.0), Some(50.0), Some(1.0)]),
        &AnomalyConfig::default(),
    );
    assert!(report.anomalies.is_empty());
    assert_eq!(
        report.note.as_deref(),
        Some("not enough data: 3 whole points with a value, need 8")
    );
}

#[test]
fn a_rate_leaving_a_flat_zero_is_a_failure_surge() {
    let mut values: Vec<Option<f64>> = vec![Some(0.0); 20];
    values.extend([Some(0.25), Some(0.0), Some(0.0)]);
    let mut s = series(86_400, &values);
    s.metric = "error_rate".into();
    s.polarity = Polarity::LowerIsBetter;
    let config = AnomalyConfig {
        rolling_window: 7,
        ..AnomalyConfig::default()
    };
    let report = anomalies(&s, &config);
    assert_eq!(report.anomalies.len(), 1, "{:?}", report.anomalies);
    let surge = &report.anomalies[0];
    assert_eq!(surge.value, 0.25);
    assert!(surge.detectors.contains(&AnomalyMethod::RollingRobust));
    assert_eq!(report.insights.len(), 1, "{:?}", report.insights);
    assert_eq!(report.insights[0].kind, InsightKind::FailureSurge);
    assert_eq!(report.insights[0].expected, 0.0);
    // Points equal to a flat rolling baseline score 0.
    let rolling = &report
        .scores
        .iter()
        .find(|m| m.method == AnomalyMethod::RollingRobust)
        .unwrap()
        .scores;
    assert_eq!(rolling[10], Some(0.0));
}

#[test]
fn a_csv_spanning_more_than_max_points_is_refused_before_filling() {
    // Two rows a step apart and a third 10,000 steps later: 10,001 points.
    let error = from_csv("0,1\n1,2\n10000,3\n").unwrap_err();
    assert!(
        matches!(
            error,
            crate::Error::TooManyPoints {
                points: 10_001,
                step_seconds: 1,
                limit: MAX_POINTS
            }
        ),
        "{error}"
    );
    assert_eq!(
        from_csv("0,1\n1,2\n9999,3\n").unwrap().points.len(),
        MAX_POINTS
    );
}
