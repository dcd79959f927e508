//! A widget: one view of the API with its filters and a chart kind, read from JSON with
//! every mistake named by its field (`widgets[2].chart`).

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::{DashboardError, MAX_TEXT_CHARS, MAX_TITLE_CHARS};

/// How a widget draws its view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Kpi,
    Line,
    Bar,
    Table,
}

impl Chart {
    pub const ALL: [Chart; 4] = [Chart::Kpi, Chart::Line, Chart::Bar, Chart::Table];

    pub fn as_str(self) -> &'static str {
        match self {
            Chart::Kpi => "kpi",
            Chart::Line => "line",
            Chart::Bar => "bar",
            Chart::Table => "table",
        }
    }
}

/// A filter a widget may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterName {
    Project,
    Model,
    Tool,
    Agent,
    QaStatus,
    User,
    Period,
}

impl FilterName {
    pub const ALL: [FilterName; 7] = [
        FilterName::Project,
        FilterName::Model,
        FilterName::Tool,
        FilterName::Agent,
        FilterName::QaStatus,
        FilterName::User,
        FilterName::Period,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FilterName::Project => "project",
            FilterName::Model => "model",
            FilterName::Tool => "tool",
            FilterName::Agent => "agent",
            FilterName::QaStatus => "qa_status",
            FilterName::User => "user",
            FilterName::Period => "period",
        }
    }
}

/// The views a widget shows, each an answer of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The summary's KPIs.
    Summary,
    /// Daily cost (`timeseries`).
    CostSeries,
    /// Daily tokens (`timeseries`).
    TokenSeries,
    /// Daily runs (`timeseries`).
    RunSeries,
    /// Daily QA pass rate of judged runs (`timeseries`).
    QaRate,
    /// QA verdict counts (`qa`).
    Qa,
    /// Per-model tokens, cost and usage (`models`).
    Models,
    /// Per-tool profiles (`tools`).
    Tools,
    /// Per-agent executions and state (`agents`).
    Agents,
    /// Per-project runs, tokens and cost (`projects`).
    Projects,
    /// Requests per endpoint (`requests`).
    Requests,
    /// Monthly budget and spend (`budget`).
    Budget,
    /// The 1, 5 and 15 minute windows and the health score (`realtime`).
    Realtime,
    /// Jobs by state and throughput (`pipeline`).
    Pipeline,
    /// Learners and their sessions (`learning/learners`).
    Learners,
}

impl View {
    pub const ALL: [View; 15] = [
        View::Summary,
        View::CostSeries,
        View::TokenSeries,
        View::RunSeries,
        View::QaRate,
        View::Qa,
        View::Models,
        View::Tools,
        View::Agents,
        View::Projects,
        View::Requests,
        View::Budget,
        View::Realtime,
        View::Pipeline,
        View::Learners,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            View::Summary => "summary",
            View::CostSeries => "cost_series",
            View::TokenSeries => "token_series",
            View::RunSeries => "run_series",
            View::QaRate => "qa_rate",
            View::Qa => "qa",
            View::Models => "models",
            View::Tools => "tools",
            View::Agents => "agents",
            View::Projects => "projects",
            View::Requests => "requests",
            View::Budget => "budget",
            View::Realtime => "realtime",
            View::Pipeline => "pipeline",
            View::Learners => "learners",
        }
    }

    /// The chart kinds that show this view.
    pub fn charts(self) -> &'static [Chart] {
        match self {
            View::Summary | View::Budget | View::Realtime | View::Pipeline => &[Chart::Kpi],
            View::CostSeries | View::TokenSeries | View::RunSeries | View::QaRate => {
                &[Chart::Line, Chart::Bar]
            }
            View::Qa => &[Chart::Kpi, Chart::Bar, Chart::Table],
            View::Models | View::Tools | View::Agents | View::Projects | View::Requests => {
                &[Chart::Table, Chart::Bar]
            }
            View::Learners => &[Chart::Table],
        }
    }

    /// The filters this view applies: the project and period always, and the one that
    /// picks its rows (a model of the models' table, say).
    pub fn filters(self) -> &'static [FilterName] {
        use FilterName::{Agent, Model, Period, Project, QaStatus, Tool, User};
        match self {
            View::Models => &[Project, Period, Model],
            View::Tools => &[Project, Period, Tool],
            View::Agents => &[Project, Period, Agent],
            View::Qa => &[Project, Period, QaStatus],
            View::Learners => &[Project, Period, User],
            _ => &[Project, Period],
        }
    }
}

/// The time range a widget shows, relative to now; none: the page's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Last24Hours,
    Last7Days,
    Last30Days,
    Last90Days,
    ThisMonth,
}

impl Period {
    pub const ALL: [Period; 5] = [
        Period::Last24Hours,
        Period::Last7Days,
        Period::Last30Days,
        Period::Last90Days,
        Period::ThisMonth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Last24Hours => "last_24_hours",
            Period::Last7Days => "last_7_days",
            Period::Last30Days => "last_30_days",
            Period::Last90Days => "last_90_days",
            Period::ThisMonth => "this_month",
        }
    }
}

/// A QA verdict a widget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QaStatus {
    Passed,
    Warning,
    Failed,
    NotRun,
}

impl QaStatus {
    pub const ALL: [QaStatus; 4] = [
        QaStatus::Passed,
        QaStatus::Warning,
        QaStatus::Failed,
        QaStatus::NotRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QaStatus::Passed => "passed",
            QaStatus::Warning => "warning",
            QaStatus::Failed => "failed",
            QaStatus::NotRun => "not_run",
        }
    }
}

/// A widget's filters; absent ones do not narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qa_status: Option<QaStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

impl Filters {
    fn is_set(&self, name: FilterName) -> bool {
        match name {
            FilterName::Project => self.project.is_some(),
            FilterName::Model => self.model.is_some(),
            FilterName::Tool => self.tool.is_some(),
            FilterName::Agent => self.agent.is_some(),
            FilterName::QaStatus => self.qa_status.is_some(),
            FilterName::User => self.user.is_some(),
            FilterName::Period => self.period.is_some(),
        }
    }
}

/// One widget of a dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Widget {
    pub title: String,
    pub view: View,
    pub chart: Chart,
    pub filters: Filters,
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> DashboardError {
    DashboardError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The words of `all`, for "expected one of".
fn one_of<T: Copy>(all: &[T], word: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|v| word(*v)).collect::<Vec<_>>().join(", ")
}

/// The enum value whose word `value` is, or an error naming `field` and the choices.
fn word<T: Copy>(
    value: &Value,
    field: &str,
    all: &[T],
    as_str: impl Fn(T) -> &'static str + Copy,
) -> Result<T, DashboardError> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(field, format!("expected one of {}", one_of(all, as_str))))?;
    all.iter()
        .copied()
        .find(|v| as_str(*v) == text)
        .ok_or_else(|| {
            invalid(
                field,
                format!("unknown {text:?}: expected one of {}", one_of(all, as_str)),
            )
        })
}

/// A non-empty text of at most `max` characters.
pub(super) fn text(value: &Value, field: &str, max: usize) -> Result<String, DashboardError> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(field, "expected a string"))?
        .trim();
    if text.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    Ok(text.to_owned())
}

/// The object at `field`, its keys all among `known`.
pub(super) fn object<'v>(
    value: &'v Value,
    field: &str,
    known: &[&str],
) -> Result<&'v Map<String, Value>, DashboardError> {
    let map = value
        .as_object()
        .ok_or_else(|| invalid(field, "expected an object"))?;
    if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
        let prefix = if field.is_empty() {
            String::new()
        } else {
            format!("{field}.")
        };
        return Err(invalid(
            &format!("{prefix}{unknown}"),
            format!("unknown field: expected one of {}", known.join(", ")),
        ));
    }
    Ok(map)
}

fn filters(value: &Value, field: &str) -> Result<Filters, DashboardError> {
    let names: Vec<&str> = FilterName::ALL.iter().map(|f| f.as_str()).collect();
    let map = object(value, field, &names)?;
    let mut out = Filters::default();
    for (name, value) in map {
        if value.is_null() {
            continue;
        }
        let at = format!("{field}.{name}");
        match name.as_str() {
            "project" => out.project = Some(text(value, &at, MAX_TEXT_CHARS)?),
            "model" => out.model = Some(text(value, &at, MAX_TEXT_CHARS)?),
            "tool" => out.tool = Some(text(value, &at, MAX_TEXT_CHARS)?),
            "agent" => out.agent = Some(text(value, &at, MAX_TEXT_CHARS)?),
            "user" => out.user = Some(text(value, &at, MAX_TEXT_CHARS)?),
            "qa_status" => {
                out.qa_status = Some(word(value, &at, &QaStatus::ALL, QaStatus::as_str)?)
            }
            _ => out.period = Some(word(value, &at, &Period::ALL, Period::as_str)?),
        }
    }
    Ok(out)
}

impl Widget {
    /// The widget at `field` (`widgets[0]`) of a JSON body.
    ///
    /// # Errors
    /// [`DashboardError::Invalid`] naming the field that is wrong.
    pub fn from_json(value: &Value, field: &str) -> Result<Widget, DashboardError> {
        let map = object(value, field, &["title", "view", "chart", "filters"])?;
        let view_value = map
            .get("view")
            .ok_or_else(|| invalid(&format!("{field}.view"), "missing"))?;
        let view = word(
            view_value,
            &format!("{field}.view"),
            &View::ALL,
            View::as_str,
        )?;
        let chart = match map.get("chart") {
            None | Some(Value::Null) => view.charts()[0],
            Some(value) => word(value, &format!("{field}.chart"), &Chart::ALL, Chart::as_str)?,
        };
        if !view.charts().contains(&chart) {
            return Err(invalid(
                &format!("{field}.chart"),
                format!(
                    "the view {} is not drawn as {}: expected one of {}",
                    view.as_str(),
                    chart.as_str(),
                    one_of(view.charts(), Chart::as_str)
                ),
            ));
        }
        let filters = match map.get("filters") {
            None | Some(Value::Null) => Filters::default(),
            Some(value) => filters(value, &format!("{field}.filters"))?,
        };
        if let Some(name) = FilterName::ALL
            .into_iter()
            .find(|name| filters.is_set(*name) && !view.filters().contains(name))
        {
            return Err(invalid(
                &format!("{field}.filters.{}", name.as_str()),
                format!(
                    "the view {} cannot be filtered by {}: it can by {}",
                    view.as_str(),
                    name.as_str(),
                    one_of(view.filters(), FilterName::as_str)
                ),
            ));
        }
        let title = match map.get("title") {
            None | Some(Value::Null) => view.as_str().replace('_', " "),
            Some(value) => text(value, &format!("{field}.title"), MAX_TITLE_CHARS)?,
        };
        Ok(Widget {
            title,
            view,
            chart,
            filters,
        })
    }
}

/// The enums serialize as the words they are read from.
macro_rules! serialize_as_word {
    ($($name:ident),+) => {
        $(impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        })+
    };
}

serialize_as_word!(Chart, View, Period, QaStatus);
