//! A report as plain data: KPIs with their change, sections of text, charts and tables,
//! and findings. Built once from the views, then written as HTML, Markdown or JSON by
//! the renderers, so the three carry the same figures.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One report, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `executive`, `technical`, `learning` or `experiments`.
    pub kind: &'static str,
    pub title: String,
    /// The period covered: `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub project: Option<String>,
    pub generated: DateTime<Utc>,
    pub kpis: Vec<Kpi>,
    pub sections: Vec<Section>,
    pub findings: Vec<String>,
}

/// A headline figure and its change against the previous period of the same length.
#[derive(Debug, Clone, Serialize)]
pub struct Kpi {
    pub id: String,
    pub title: String,
    /// The exact figure, as the API answers it.
    pub value: f64,
    /// The same figure over the previous period, when the report compares periods.
    pub previous: Option<f64>,
    /// The figure as a reader sees it (`$12.35`, `75.6 %`).
    pub shown: String,
    pub change: Change,
}

/// How a KPI moved against the previous period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Change {
    /// The report compares no periods.
    NotCompared,
    /// The previous period holds too few events for a comparison to mean something.
    TooLittleData,
    /// The figure was 0 in the previous period: no relative change.
    NoneBefore,
    Moved {
        /// Percentage points for rates, percent for amounts.
        amount: f64,
        unit: ChangeUnit,
        verdict: Verdict,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChangeUnit {
    #[serde(rename = "pt")]
    Points,
    #[serde(rename = "%")]
    Percent,
}

impl ChangeUnit {
    pub fn symbol(self) -> &'static str {
        match self {
            ChangeUnit::Points => "pt",
            ChangeUnit::Percent => "%",
        }
    }
}

/// Whether a change is good news, bad news, or too small to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Good,
    Bad,
    Flat,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Good => "good",
            Verdict::Bad => "bad",
            Verdict::Flat => "flat",
        }
    }
}

/// What a KPI is and how it is compared.
#[derive(Debug)]
pub struct KpiSpec<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub value: f64,
    pub previous: f64,
    pub shown: String,
    pub up_is_good: bool,
    /// Rates change in percentage points, amounts in percent.
    pub rate: bool,
}

impl KpiSpec<'_> {
    /// The KPI; `comparable` is `None` when the report compares no periods.
    pub fn kpi(self, comparable: Option<bool>) -> Kpi {
        let moved = |amount: f64, flat: f64, unit| {
            let verdict = if amount.abs() < flat {
                Verdict::Flat
            } else if (amount >= 0.0) == self.up_is_good {
                Verdict::Good
            } else {
                Verdict::Bad
            };
            Change::Moved {
                amount,
                unit,
                verdict,
            }
        };
        let change = match comparable {
            None => Change::NotCompared,
            Some(false) => Change::TooLittleData,
            Some(true) if self.rate => moved(
                (self.value - self.previous) * 100.0,
                0.05,
                ChangeUnit::Points,
            ),
            Some(true) if self.previous.abs() > f64::EPSILON => moved(
                (self.value - self.previous) / self.previous.abs() * 100.0,
                0.5,
                ChangeUnit::Percent,
            ),
            Some(true) => Change::NoneBefore,
        };
        Kpi {
            id: self.id.to_owned(),
            title: self.title.to_owned(),
            value: self.value,
            previous: comparable.map(|_| self.previous),
            shown: self.shown,
            change,
        }
    }
}

impl Change {
    /// The change in words: `+3.2 % vs previous period`; empty when not compared.
    pub fn text(&self) -> String {
        match self {
            Change::NotCompared => String::new(),
            Change::TooLittleData => "too little data in the previous period".to_owned(),
            Change::NoneBefore => "none in the previous period".to_owned(),
            Change::Moved { amount, unit, .. } => {
                let sign = if *amount >= 0.0 { "+" } else { "" };
                format!("{sign}{amount:.1} {} vs previous period", unit.symbol())
            }
        }
    }

    pub fn verdict(&self) -> Verdict {
        match self {
            Change::Moved { verdict, .. } => *verdict,
            _ => Verdict::Flat,
        }
    }
}

/// A titled part of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Section {
    pub fn new(title: impl Into<String>, blocks: Vec<Block>) -> Section {
        Section {
            title: title.into(),
            blocks,
        }
    }
}

/// One piece of a section.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text {
        text: String,
    },
    /// Text a reader must not miss.
    Warning {
        text: String,
    },
    LineChart(Chart),
    BarChart(Chart),
    Table(Table),
}

/// A chart's points with the unit they are shown in.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// What the labels name (`day`, `model`): the first column of the Markdown table.
    pub label: String,
    /// What the values measure: the second column.
    pub measure: String,
    pub unit: Unit,
    #[serde(skip)]
    pub color: &'static str,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

impl Chart {
    /// A chart of `[label, measure]`'s points.
    pub fn new(
        [label, measure]: [&str; 2],
        unit: Unit,
        color: &'static str,
        points: impl IntoIterator<Item = (String, f64)>,
    ) -> Chart {
        Chart {
            label: label.to_owned(),
            measure: measure.to_owned(),
            unit,
            color,
            points: points
                .into_iter()
                .map(|(label, value)| Point {
                    shown: unit.show(value),
                    label,
                    value,
                })
                .collect(),
        }
    }
}

/// A table of text cells.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str], rows: Vec<Vec<String>>) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows,
        }
    }
}

/// How a figure is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Usd,
    Count,
    /// A share in [0, 1], shown in percent.
    Share,
    Seconds,
    Milliseconds,
    /// A score shown with two decimals.
    Score,
    Users,
}

impl Unit {
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Usd => usd(v),
            Unit::Count => count(v),
            Unit::Share => pct(v),
            Unit::Seconds => format!("{v:.1} s"),
            Unit::Milliseconds => format!("{v:.0} ms"),
            Unit::Score => format!("{v:.2}"),
            Unit::Users => format!("{} users", count(v)),
        }
    }
}

pub fn usd(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("${v:.0}")
    } else {
        format!("${v:.2}")
    }
}

pub fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// A whole number with thousands separators.
pub fn count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(1_234_567.0), "1,234,567");
        assert_eq!(count(-1000.0), "-1,000");
        assert_eq!(count(12.0), "12");
        assert_eq!(usd(2.345), "$2.35");
        assert_eq!(usd(12_345.6), "$12346");
        assert_eq!(pct(0.756), "75.6 %");
    }

    fn spec(value: f64, previous: f64, rate: bool) -> KpiSpec<'static> {
        KpiSpec {
            id: "x",
            title: "X",
            value,
            previous,
            shown: String::new(),
            up_is_good: false,
            rate,
        }
    }

    #[test]
    fn changes_are_points_for_rates_and_percent_for_amounts() {
        let rate = spec(0.9, 0.8, true).kpi(Some(true));
        assert_eq!(rate.change.text(), "+10.0 pt vs previous period");
        assert_eq!(rate.change.verdict(), Verdict::Bad);
        let amount = spec(50.0, 100.0, false).kpi(Some(true));
        assert_eq!(amount.change.text(), "-50.0 % vs previous period");
        assert_eq!(amount.change.verdict(), Verdict::Good);
        assert_eq!(
            spec(1.0, 1.001, false).kpi(Some(true)).change.verdict(),
            Verdict::Flat
        );
        assert_eq!(
            spec(5.0, 0.0, false).kpi(Some(true)).change,
            Change::NoneBefore
        );
        assert_eq!(
            spec(5.0, 1.0, false).kpi(Some(false)).change,
            Change::TooLittleData
        );
        let single = spec(5.0, 1.0, false).kpi(None);
        assert_eq!(
            (single.change, single.previous),
            (Change::NotCompared, None)
        );
    }
}
