//! Time series of stored metrics and what tally reads from them: trends (least squares,
//! Mann-Kendall, Sen's slope), rolling averages and seasonal profiles, forecasts
//! (linear, Holt-Winters) and anomalies. The formulas are in `docs/series.md`.
//!
//! Files: `source.rs` (the metrics and how a series is read: rollups, raw tables, CSV),
//! `trend.rs`, `seasonality.rs`, `forecast.rs`, `baseline.rs` (the seasonal baseline anomalies
//! are judged against), `anomaly.rs` (detectors, anomaly and insight records), `describe.rs` (order statistics shared by the others), `pair_slopes.rs`
//! (Sen's slope in flat memory).

mod anomaly;
mod baseline;
mod describe;
mod forecast;
mod pair_slopes;
mod seasonality;
mod source;
mod trend;

#[cfg(test)]
mod tests;

pub use anomaly::{
    Anomaly, AnomalyConfig, AnomalyMethod, AnomalyReport, FLAT_BASELINE_SCORE, Insight,
    InsightKind, MethodScores, Severity, anomalies,
};
pub use baseline::{BASELINE_MIN_POINTS, Baseline, BaselineForm};
pub use forecast::{
    Backtest, Forecast, ForecastModel, ForecastPoint, HoltWintersFit, HoltWintersParameters,
    forecast, holt_winters_forecast, linear_forecast,
};
pub use seasonality::{
    KruskalWallis, Profile, ProfileKind, Seasonality, kruskal_wallis, rolling_average, seasonality,
};
pub use source::{
    Granularity, MAX_POINTS, Metric, Point, Polarity, Series, SeriesRequest, from_csv, from_store,
};
pub use trend::{
    Direction, LeastSquares, MannKendall, Outlook, Trend, least_squares, mann_kendall, sens_slope,
    trend,
};
