//! A report written as Markdown (CommonMark with pipe tables): the KPIs as a list, each
//! with its exact figure in an HTML comment (`<!-- kpi total_cost = 12.5 -->`, the
//! HTML report's `data-value`), charts as tables of their points, tables, findings.

use std::fmt::Write;

use super::model::{Block, Chart, Kpi, Report, Table};

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}\n\n{} · generated {}\n",
        md(&report.title),
        md(&super::period_line(report)),
        report.generated.format("%Y-%m-%d %H:%M UTC")
    );
    if !report.kpis.is_empty() {
        out.push_str("## Key figures\n\n");
        for k in &report.kpis {
            out.push_str(&kpi(k));
        }
        out.push('\n');
    }
    for section in &report.sections {
        let _ = writeln!(out, "## {}\n", md(&section.title));
        for block in &section.blocks {
            match block {
                Block::Text { text } => {
                    let _ = writeln!(out, "{}\n", md(text));
                }
                Block::Warning { text } => {
                    let _ = writeln!(out, "**{}**\n", md(text));
                }
                Block::LineChart(chart) | Block::BarChart(chart) => {
                    out.push_str(&self::chart(chart))
                }
                Block::Table(t) => out.push_str(&table(t)),
            }
        }
    }
    out.push_str("## Findings\n\n");
    if report.findings.is_empty() {
        out.push_str("- Nothing stands out in this period.\n");
    }
    for item in &report.findings {
        let _ = writeln!(out, "- {}", md(item));
    }
    out
}

fn kpi(k: &Kpi) -> String {
    let change = k.change.text();
    let change = if change.is_empty() {
        String::new()
    } else {
        format!(" ({change})")
    };
    format!(
        "- **{}**: {}{change} <!-- kpi {} = {} -->\n",
        md(&k.title),
        md(&k.shown),
        k.id,
        k.value
    )
}

fn chart(chart: &Chart) -> String {
    let rows = chart
        .points
        .iter()
        .map(|p| vec![p.label.clone(), p.shown.clone()])
        .collect();
    table(&Table::new(&[&chart.label, &chart.measure], rows))
}

fn table(t: &Table) -> String {
    if t.rows.is_empty() {
        return "Nothing in this period.\n\n".to_owned();
    }
    let mut out = String::new();
    let cells = |cells: &mut dyn Iterator<Item = &String>| {
        let mut line = String::from("|");
        for cell in cells {
            let _ = write!(line, " {} |", md(cell));
        }
        line.push('\n');
        line
    };
    out.push_str(&cells(&mut t.headers.iter()));
    out.push('|');
    for _ in &t.headers {
        out.push_str("---|");
    }
    out.push('\n');
    for row in &t.rows {
        out.push_str(&cells(&mut row.iter()));
    }
    out.push('\n');
    out
}

/// Text shown as itself in a heading, table cell or list item: HTML (`<script>`) as
/// entities, Markdown punctuation backslash-escaped, line breaks as spaces.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn markdown_text_is_shown_as_itself() {
        assert_eq!(
            md("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            md("[x](javascript:y) | *z*"),
            "\\[x\\](javascript:y) \\| \\*z\\*"
        );
        assert_eq!(md("a\nb & c_d"), "a b &amp; c\\_d");
        assert_eq!(md("plain text 12.5"), "plain text 12.5");
    }
}
