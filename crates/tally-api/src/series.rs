//! The facade's time series questions: trends, forecasts and anomalies of a stored
//! metric (rollup tier or raw tables) or of a `timestamp,value` CSV. The statistics
//! live in `tally_predict::series`.

use serde::Serialize;
use tally_metrics::Granularity;
use tally_predict::series::{
    self as predict, AnomalyConfig, AnomalyReport, Forecast, Insight, Metric, Point, Polarity,
    Seasonality, Series, SeriesRequest, Trend,
};
use tally_store::Filter;

use crate::{Analytics, Error, Result};

/// Where a series comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesSource {
    /// A metric of the store.
    Store(SeriesQuery),
    /// A `timestamp,value` CSV text, and whether a rise is good news.
    Csv { text: String, polarity: Polarity },
}

/// A metric of the store and its filters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesQuery {
    /// A metric name: see [`metric_names`].
    pub metric: String,
    pub filter: Filter,
    pub granularity: Granularity,
    pub tool: Option<String>,
    pub model: Option<String>,
    pub skill: Option<String>,
    pub user: Option<String>,
}

/// The metric names a series can be read of.
pub fn metric_names() -> Vec<&'static str> {
    Metric::ALL.iter().map(|m| m.name()).collect()
}

/// A point as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub timestamp: String,
    pub value: Option<f64>,
}

fn history(series: &Series) -> Vec<SeriesPoint> {
    series
        .points
        .iter()
        .map(|p: &Point| SeriesPoint {
            timestamp: p.time(),
            value: p.value,
        })
        .collect()
}

/// `tally trend`: the trend figures at the top level, then seasonality and the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendReport {
    pub metric: String,
    #[serde(flatten)]
    pub trend: Trend,
    pub seasonality: Seasonality,
    pub series: Vec<SeriesPoint>,
}

/// `tally forecast`: the forecast and the series it continues.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastReport {
    pub metric: String,
    /// The chosen model in plain words.
    pub model_label: &'static str,
    #[serde(flatten)]
    pub forecast: Forecast,
    pub series: Vec<SeriesPoint>,
}

/// `tally anomalies`: anomalies, insights, the baseline and the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomaliesReport {
    #[serde(flatten)]
    pub report: AnomalyReport,
    pub series: Vec<SeriesPoint>,
}

/// Bad input becomes a filter error (a 400 over HTTP); storage stays storage.
fn predict_error(error: tally_predict::Error) -> Error {
    match error {
        tally_predict::Error::Storage(storage) => Error::Storage(storage),
        tally_predict::Error::TooManyPoints {
            points,
            step_seconds,
            limit,
        } => Error::TooManyPoints {
            points,
            step: crate::bounds::step_name(step_seconds),
            limit,
        },
        other => Error::Filter(other.to_string()),
    }
}

impl Analytics {
    /// The series a source names: a stored metric zero-filled or marked missing per
    /// period over the range clamped to the stored data (see [`Analytics::clamped`]),
    /// or a CSV.
    ///
    /// # Errors
    /// An unknown metric, filters the metric does not take, a malformed CSV, more than
    /// [`crate::MAX_POINTS`] points, or a storage failure.
    pub fn series(&self, source: &SeriesSource) -> Result<Series> {
        self.cancel.check()?;
        match source {
            SeriesSource::Csv { text, polarity } => {
                let mut series = predict::from_csv(text).map_err(predict_error)?;
                series.polarity = *polarity;
                Ok(series)
            }
            SeriesSource::Store(query) => {
                self.check_project(&query.filter)?;
                let request = SeriesRequest {
                    metric: Metric::parse(&query.metric).map_err(predict_error)?,
                    filter: self.clamped(&query.filter)?,
                    granularity: match query.granularity {
                        Granularity::Day => predict::Granularity::Day,
                        Granularity::Hour => predict::Granularity::Hour,
                    },
                    tool: query.tool.clone(),
                    model: query.model.clone(),
                    skill: query.skill.clone(),
                    user: query.user.clone(),
                    now: self.view_options().now,
                };
                let series = predict::from_store(&*self.store, &*self.store, &request)
                    .map_err(predict_error)?;
                self.cancel.check()?;
                Ok(series)
            }
        }
    }

    /// The series of a source, refused when a stored metric recorded nothing in its
    /// range: a trend, forecast or anomaly of zeros nobody sent would read as a finding.
    ///
    /// # Errors
    /// See [`Analytics::series`]; [`Error::NoData`].
    fn series_with_data(&self, source: &SeriesSource) -> Result<Series> {
        let series = self.series(source)?;
        let SeriesSource::Store(query) = source else {
            return Ok(series);
        };
        // A rate's 0 is a measurement; a count's 0 may be only the fill of an empty
        // period, so a count series of zeros recorded nothing.
        let zero_filled = Metric::parse(&query.metric).is_ok_and(Metric::zero_filled);
        let recorded = series
            .points
            .iter()
            .any(|p| p.value.is_some_and(|v| !zero_filled || v != 0.0));
        if recorded {
            return Ok(series);
        }
        let project = match &query.filter.project {
            Some(project) => format!(" of project {project:?}"),
            None => String::new(),
        };
        Err(Error::NoData(format!(
            "no data: {}{project} has no recorded value in the range ({} periods, all empty); \
             nothing to analyse",
            series.metric,
            series.points.len()
        )))
    }

    /// Least squares, Mann-Kendall, Sen's slope, direction, profiles and rolling
    /// average of a series.
    ///
    /// # Errors
    /// See [`Analytics::series`]; fewer than three points with a value.
    pub fn trend(&self, source: &SeriesSource) -> Result<TrendReport> {
        let series = self.series_with_data(source)?;
        let trend = predict::trend(&series).map_err(predict_error)?;
        self.cancel.check()?;
        Ok(TrendReport {
            metric: series.metric.clone(),
            trend,
            seasonality: predict::seasonality(&series),
            series: history(&series),
        })
    }

    /// A forecast `horizon` steps ahead, by the model that back-tests best.
    ///
    /// # Errors
    /// See [`Analytics::series`]; a horizon of 0 or too short a series.
    pub fn forecast(&self, source: &SeriesSource, horizon: usize) -> Result<ForecastReport> {
        let series = self.series_with_data(source)?;
        let forecast = predict::forecast(&series, horizon).map_err(predict_error)?;
        Ok(ForecastReport {
            metric: series.metric.clone(),
            model_label: forecast.model.label(),
            forecast,
            series: history(&series),
        })
    }

    /// Every anomaly detector over a series, with cost spikes and failure surges as
    /// insight records.
    ///
    /// # Errors
    /// See [`Analytics::series`].
    pub fn anomalies(
        &self,
        source: &SeriesSource,
        config: &AnomalyConfig,
    ) -> Result<AnomaliesReport> {
        let series = self.series_with_data(source)?;
        let report = predict::anomalies(&series, config);
        self.cancel.check()?;
        Ok(AnomaliesReport {
            report,
            series: history(&series),
        })
    }

    /// Cost spikes and failure surges of the filter's project over its range: the
    /// insight records of the anomalies of `cost` and `error_rate`, in time order.
    ///
    /// # Errors
    /// A storage failure.
    pub fn series_insights(
        &self,
        filter: &Filter,
        granularity: Granularity,
    ) -> Result<Vec<Insight>> {
        let config = AnomalyConfig {
            rolling_window: match granularity {
                Granularity::Day => 7,
                Granularity::Hour => 24,
            },
            ..AnomalyConfig::default()
        };
        let mut insights = Vec::new();
        for metric in [Metric::Cost, Metric::ErrorRate] {
            let source = SeriesSource::Store(SeriesQuery {
                metric: metric.name().to_owned(),
                filter: filter.clone(),
                granularity,
                ..SeriesQuery::default()
            });
            // A quiet project has no insights: no data is not an error here.
            let series = self.series(&source)?;
            insights.extend(predict::anomalies(&series, &config).insights);
            self.cancel.check()?;
        }
        insights.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        Ok(insights)
    }
}
