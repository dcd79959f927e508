//! A report written as one standalone HTML file: inline CSS and SVG charts, no script,
//! no network. Every KPI carries `data-kpi` and `data-value` with the exact figure, so
//! a report can be checked against the API.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::model::{Block, Chart, Kpi, Report, Table};
use super::svg;

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

pub const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#111827;background:#f3f4f8;margin:0}
header{background:#151827;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c7c9d9}
main{max-width:1000px;margin:0 auto;padding:18px}.kpis{display:grid;grid-template-columns:repeat(3,1fr);gap:12px;margin-bottom:14px}
.kpi,.panel{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}.panel{margin-bottom:14px}
.label{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#6b7280}.value{font-size:24px;font-weight:700;margin:2px 0}
.change{font-size:12px}.good{color:#15803d}.bad{color:#b91c1c}.flat{color:#6b7280}.muted{color:#6b7280}
h2{font-size:15px;margin:0 0 10px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e5e7eb;font-size:13px}
th{font-size:11px;text-transform:uppercase;color:#6b7280}.chart{width:100%;height:auto}.findings li{margin:4px 0}";

/// The report as a standalone HTML page.
pub fn render(report: &Report) -> String {
    let mut body = String::new();
    kpis(&mut body, &report.kpis);
    for section in &report.sections {
        let mut inner = String::new();
        for block in &section.blocks {
            inner.push_str(&self::block(block));
        }
        self::section(&mut body, &section.title, &inner);
    }
    findings(&mut body, &report.findings);
    page(
        &report.title,
        &super::period_line(report),
        report.generated,
        &body,
    )
}

fn block(block: &Block) -> String {
    match block {
        Block::Text { text } => format!("<p>{}</p>", escape(text)),
        Block::Warning { text } => {
            format!("<p><strong class=\"bad\">{}</strong></p>", escape(text))
        }
        Block::LineChart(chart) => {
            svg::line_chart(&points(chart), chart.color, |v| chart.unit.show(v))
        }
        Block::BarChart(chart) => {
            svg::bar_chart(&points(chart), chart.color, |v| chart.unit.show(v))
        }
        Block::Table(t) => table(t),
    }
}

fn points(chart: &Chart) -> Vec<(String, f64)> {
    chart
        .points
        .iter()
        .map(|p| (p.label.clone(), p.value))
        .collect()
}

/// A page around `body`: title, subtitle and the time it was generated.
pub fn page(title: &str, subtitle: &str, generated: DateTime<Utc>, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><header><h1>{}</h1><p>{} · generated {}</p></header><main>{body}</main></body></html>",
        escape(title),
        escape(title),
        escape(subtitle),
        generated.format("%Y-%m-%d %H:%M UTC")
    )
}

/// KPI cards.
pub fn kpis(out: &mut String, cards: &[Kpi]) {
    out.push_str(r#"<section class="kpis">"#);
    for k in cards {
        let text = k.change.text();
        let change = if text.is_empty() {
            String::new()
        } else {
            format!(
                r#"<span class="change {}">{}</span>"#,
                k.change.verdict().name(),
                escape(&text)
            )
        };
        let _ = write!(
            out,
            r#"<div class="kpi"><div class="label">{}</div><div class="value" data-kpi="{}" data-value="{}">{}</div>{change}</div>"#,
            escape(&k.title),
            escape(&k.id),
            k.value,
            escape(&k.shown)
        );
    }
    out.push_str("</section>");
}

pub fn section(out: &mut String, title: &str, body: &str) {
    let _ = write!(
        out,
        r#"<section class="panel"><h2>{}</h2>{body}</section>"#,
        escape(title)
    );
}

pub fn table(t: &Table) -> String {
    if t.rows.is_empty() {
        return r#"<p class="muted">nothing in this period</p>"#.to_owned();
    }
    let mut out = String::from("<table><thead><tr>");
    for h in &t.headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

pub fn findings(out: &mut String, items: &[String]) {
    let mut body = String::from("<ul class=\"findings\">");
    for item in items {
        let _ = write!(body, "<li>{}</li>", escape(item));
    }
    if items.is_empty() {
        body.push_str("<li>Nothing stands out in this period.</li>");
    }
    body.push_str("</ul>");
    section(out, "Findings", &body);
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
        );
    }
}
