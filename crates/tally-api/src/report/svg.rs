//! Small inline SVG charts for the HTML reports: a line chart with its area and a
//! horizontal bar chart.
//!
//! Written here rather than with a chart crate: the Rust chart crates lay out their
//! labels through a font backend (system fonts or a bundled TTF), while a report only
//! needs a few `<text>` elements that the reader's browser lays out itself.

use std::fmt::Write;

use super::html::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * power)
}

/// A line chart of `(label, value)` points; `format` writes the y-axis labels.
pub fn line_chart(points: &[(String, f64)], color: &str, format: impl Fn(f64) -> String) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    if points.is_empty() {
        svg.push_str(
            r#"<text x="50%" y="50%" text-anchor="middle" class="muted">no data</text></svg>"#,
        );
        return svg;
    }
    let top = nice_ceiling(points.iter().map(|p| p.1).fold(0.0, f64::max));
    let plot_width = WIDTH - LEFT - 10.0;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_width * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |v: f64| TOP + plot_height * (1.0 - v / top);
    for step in 0..=4 {
        let value = top * f64::from(step) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e7eb"/><text x="{}" y="{:.1}" text-anchor="end" font-size="10" fill="#6b7280">{}</text>"##,
            WIDTH - 10.0,
            LEFT - 6.0,
            y(value) + 3.0,
            escape(&format(value)),
            y = y(value)
        );
    }
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1)))
        .collect();
    let _ = write!(
        svg,
        r#"<polygon points="{:.1},{:.1} {} {:.1},{:.1}" fill="{color}" fill-opacity="0.12"/><polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
        x(0),
        y(0.0),
        line.join(" "),
        x(points.len() - 1),
        y(0.0),
        line.join(" ")
    );
    let every = points.len().div_ceil(8).max(1);
    for (i, (label, _)) in points.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" font-size="10" fill="#6b7280">{}</text>"##,
            x(i),
            HEIGHT - 6.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of `(label, value)`, longest first as given.
pub fn bar_chart(bars: &[(String, f64)], color: &str, format: impl Fn(f64) -> String) -> String {
    let row = 22.0;
    let height = row * bars.len().max(1) as f64 + 4.0;
    let label_width = 170.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" xmlns="http://www.w3.org/2000/svg">"#
    );
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    for (i, (label, value)) in bars.iter().enumerate() {
        let top = row * i as f64 + 2.0;
        let width = if max > 0.0 {
            (WIDTH - label_width - 90.0) * value / max
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="#374151">{}</text><rect x="{label_width}" y="{top:.1}" width="{width:.1}" height="{}" rx="3" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#374151">{}</text>"##,
            label_width - 8.0,
            top + 14.0,
            escape(label),
            row - 6.0,
            label_width + width + 6.0,
            top + 14.0,
            escape(&format(*value))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        for (max, top) in [
            (0.0, 1.0),
            (0.7, 1.0),
            (1.0, 1.0),
            (1.3, 2.0),
            (37.0, 50.0),
            (501.0, 1000.0),
        ] {
            assert_eq!(nice_ceiling(max), top, "{max}");
        }
    }

    #[test]
    fn labels_are_escaped() {
        let svg = bar_chart(&[("<script>".into(), 1.0)], "#000", |v| v.to_string());
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(line_chart(&[], "#000", |v| v.to_string()).contains("no data"));
    }
}
