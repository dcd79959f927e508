//! Unit tests of the series statistics on hand-checked cases.

use super::describe::{average_ranks, quantile};
use super::*;

fn series(step_seconds: i64, values: &[Option<f64>]) -> Series {
    Series {
        metric: "csv".into(),
        step_seconds,
        polarity: Polarity::HigherIsBetter,
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                // 2026-01-05 is a Monday.
                timestamp: 1_767_571_200 + i as i64 * step_seconds,
                value: *v,
            })
            .collect(),
    }
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
fn direction_follows_the_polarity() {
    let rising: Vec<Option<f64>> = (0..30).map(|i| Some(10.0 + f64::from(i))).collect();
    let mut s = series(86_400, &rising);
    assert_eq!(trend(&s).unwrap().direction, Direction::Improving);
    s.polarity = Polarity::LowerIsBetter;
    assert_eq!(trend(&s).unwrap().direction, Direction::Declining);
    let flat: Vec<Option<f64>> = (0..30).map(|i| Some(10.0 + f64::from(i % 2))).collect();
    assert_eq!(
        trend(&series(86_400, &flat)).unwrap().direction,
        Direction::Stable
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
    let linear: Vec<Option<f64>> = (0..40)
        .map(|t| Some(5.0 + 2.0 * f64::from(t) + f64::from(t % 3)))
        .collect();
    let f = forecast(&series(3600 * 5, &linear), 3).unwrap();
    assert_eq!(f.model, ForecastModel::Linear);
}

#[test]
fn a_spike_is_flagged_by_every_detector_and_becomes_a_cost_insight() {
    let mut values: Vec<Option<f64>> = (0..56)
        .map(|t| Some(10.0 + f64::from(t % 7) + 0.3 * f64::from(t % 3)))
        .collect();
    values[40] = Some(80.0);
    let mut s = series(86_400, &values);
    s.metric = "cost".into();
    s.polarity = Polarity::LowerIsBetter;
    let report = anomalies(&s, &AnomalyConfig::default());
    for method in AnomalyMethod::ALL {
        assert!(
            report
                .flagged
                .iter()
                .any(|f| f.method == method && f.value == 80.0),
            "{method:?} missed the spike: {:?}",
            report.flagged
        );
    }
    assert_eq!(report.insights.len(), 1, "{:?}", report.insights);
    assert_eq!(report.insights[0].kind, InsightKind::CostSpike);
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
    let surge = report
        .flagged
        .iter()
        .find(|f| f.method == AnomalyMethod::RollingRobust)
        .expect("the rolling detector flags the surge");
    assert_eq!((surge.value, surge.score), (0.25, FLAT_BASELINE_SCORE));
    assert_eq!(report.insights.len(), 1, "{:?}", report.insights);
    assert_eq!(report.insights[0].kind, InsightKind::FailureSurge);
    assert_eq!(report.insights[0].expected, 0.0);
    // Points equal to the flat baseline score 0.
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
