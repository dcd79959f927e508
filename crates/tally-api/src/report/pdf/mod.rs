//! A report as a PDF: the title and period, the KPI cards with their change, each
//! section's text, charts (lines and bars drawn from the report's series) and tables,
//! then the findings; A4 pages, text selectable (see `canvas.rs`).

mod canvas;

use canvas::{Canvas, MARGIN, PAGE_HEIGHT, PAGE_WIDTH, Rgb, fit, text_width, wrap};

use super::model::{Block, Chart, Kpi, Report, Table, Verdict};

const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const BOTTOM: f32 = MARGIN + 16.0;
const CHART_HEIGHT: f32 = 150.0;

/// Lays out blocks from the top of the page down, starting a page when one is full.
struct Layout {
    canvas: Canvas,
    /// The baseline of the next line.
    y: f32,
}

impl Layout {
    fn new(title: &str) -> Layout {
        Layout {
            canvas: Canvas::new(title),
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    /// Makes room for `height` points, on a new page when this one has too little.
    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.footer();
            self.canvas.new_page();
            self.y = PAGE_HEIGHT - MARGIN;
        }
    }

    fn footer(&mut self) {
        let page = self.canvas.page_count();
        self.canvas.text_right(
            PAGE_WIDTH - MARGIN,
            MARGIN - 14.0,
            8.0,
            Rgb::GREY,
            &format!("page {page}"),
        );
    }

    fn paragraph(&mut self, text: &str, size: f32, color: Rgb) {
        for line in wrap(text, size, CONTENT_WIDTH) {
            self.room(size * 1.4);
            self.y -= size * 1.4;
            self.canvas.text(MARGIN, self.y, size, color, &line);
        }
    }

    /// A section's title, kept on the page of what follows it (`next` points high).
    fn heading(&mut self, text: &str, next: f32) {
        self.room(30.0 + next);
        self.y -= 14.0;
        self.paragraph(text, 13.0, Rgb::BLACK);
        self.y -= 4.0;
    }

    fn kpis(&mut self, kpis: &[Kpi]) {
        const PER_ROW: usize = 3;
        const GAP: f32 = 10.0;
        const HEIGHT: f32 = 58.0;
        let width = (CONTENT_WIDTH - GAP * (PER_ROW as f32 - 1.0)) / PER_ROW as f32;
        for row in kpis.chunks(PER_ROW) {
            self.room(HEIGHT + GAP);
            self.y -= HEIGHT + GAP;
            for (i, kpi) in row.iter().enumerate() {
                let x = MARGIN + i as f32 * (width + GAP);
                self.canvas.rect(x, self.y, width, HEIGHT, Rgb::LIGHT);
                let inner = width - 16.0;
                self.canvas.text(
                    x + 8.0,
                    self.y + HEIGHT - 14.0,
                    8.0,
                    Rgb::GREY,
                    &fit(&kpi.title.to_uppercase(), 8.0, inner),
                );
                self.canvas.text(
                    x + 8.0,
                    self.y + HEIGHT - 34.0,
                    15.0,
                    Rgb::BLACK,
                    &fit(&kpi.shown, 15.0, inner),
                );
                let change = kpi.change.text();
                if !change.is_empty() {
                    let color = match kpi.change.verdict() {
                        Verdict::Good => Rgb::GOOD,
                        Verdict::Bad => Rgb::BAD,
                        Verdict::Flat => Rgb::GREY,
                    };
                    self.canvas
                        .text(x + 8.0, self.y + 8.0, 7.5, color, &fit(&change, 7.5, inner));
                }
            }
        }
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Text { text } => self.paragraph(text, 10.0, Rgb::BLACK),
            Block::Warning { text } => self.paragraph(text, 10.0, Rgb::BAD),
            Block::LineChart(chart) => self.chart(chart, false),
            Block::BarChart(chart) => self.chart(chart, true),
            Block::Table(table) => self.table(table),
        }
    }

    /// A chart of the points: the largest value on the axis, the first and last labels
    /// (every label for bars with room), a polyline or bars.
    fn chart(&mut self, chart: &Chart, bars: bool) {
        const HEIGHT: f32 = CHART_HEIGHT;
        const LEFT: f32 = 56.0;
        if chart.points.is_empty() {
            self.paragraph("nothing in this period", 9.0, Rgb::GREY);
            return;
        }
        self.room(HEIGHT + 34.0);
        self.y -= 12.0;
        self.canvas.text(
            MARGIN,
            self.y,
            8.0,
            Rgb::GREY,
            &format!("{} by {}", chart.measure, chart.label),
        );
        let top = self.y - 8.0;
        let bottom = top - HEIGHT;
        let (x0, x1) = (MARGIN + LEFT, MARGIN + CONTENT_WIDTH);
        let max = chart.points.iter().map(|p| p.value).fold(0.0_f64, f64::max);
        let min = chart.points.iter().map(|p| p.value).fold(0.0_f64, f64::min);
        let span = if max - min > 0.0 { max - min } else { 1.0 };
        let y_of = |v: f64| bottom + ((v - min) / span) as f32 * HEIGHT;
        self.canvas
            .line(&[(x0, top), (x0, bottom), (x1, bottom)], 0.6, Rgb::GREY);
        self.canvas
            .text_right(x0 - 4.0, top - 6.0, 7.0, Rgb::GREY, &chart.unit.show(max));
        self.canvas
            .text_right(x0 - 4.0, bottom, 7.0, Rgb::GREY, &chart.unit.show(min));
        let color = Rgb::hex(chart.color);
        let n = chart.points.len();
        let step = (x1 - x0) / n as f32;
        if bars {
            for (i, point) in chart.points.iter().enumerate() {
                let x = x0 + i as f32 * step + step * 0.15;
                let (from, to) = (y_of(0.0_f64.max(min)), y_of(point.value));
                self.canvas
                    .rect(x, from.min(to), step * 0.7, (to - from).abs(), color);
            }
        } else {
            let points: Vec<(f32, f32)> = chart
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| (x0 + (i as f32 + 0.5) * step, y_of(p.value)))
                .collect();
            self.canvas.line(&points, 1.5, color);
        }
        // Labels under the axis: all of them when they fit, else first, middle and last.
        let widest = chart
            .points
            .iter()
            .map(|p| text_width(&p.label, 7.0))
            .fold(0.0_f32, f32::max);
        let every: Vec<usize> = if widest + 4.0 <= step {
            (0..n).collect()
        } else {
            let mut some = vec![0, n / 2, n - 1];
            some.dedup();
            some
        };
        for i in every {
            let label = fit(&chart.points[i].label, 7.0, step.max(70.0));
            let center = x0 + (i as f32 + 0.5) * step;
            let x =
                (center - text_width(&label, 7.0) / 2.0).clamp(x0, x1 - text_width(&label, 7.0));
            self.canvas.text(x, bottom - 10.0, 7.0, Rgb::GREY, &label);
        }
        self.y = bottom - 16.0;
    }

    /// A table: a shaded header row, then the rows; the header repeats on a new page.
    fn table(&mut self, table: &Table) {
        const SIZE: f32 = 8.0;
        const ROW: f32 = 14.0;
        if table.rows.is_empty() {
            self.paragraph("nothing in this period", 9.0, Rgb::GREY);
            return;
        }
        let columns = table.headers.len().max(1);
        // Columns share the width by their longest text, each at least a fair share's half.
        let longest: Vec<f32> = (0..columns)
            .map(|c| {
                std::iter::once(table.headers.get(c))
                    .chain(table.rows.iter().map(|r| r.get(c)))
                    .flatten()
                    .map(|t| text_width(t, SIZE))
                    .fold(20.0_f32, f32::max)
            })
            .collect();
        let total: f32 = longest.iter().sum();
        let fair = CONTENT_WIDTH / columns as f32;
        let raw: Vec<f32> = longest
            .iter()
            .map(|w| (w / total * CONTENT_WIDTH).max(fair * 0.5))
            .collect();
        let scale = CONTENT_WIDTH / raw.iter().sum::<f32>();
        let widths: Vec<f32> = raw.iter().map(|w| w * scale).collect();
        let header = |layout: &mut Layout| {
            layout.room(ROW * 2.0);
            layout.y -= ROW;
            layout
                .canvas
                .rect(MARGIN, layout.y - 4.0, CONTENT_WIDTH, ROW, Rgb::LIGHT);
            let mut x = MARGIN;
            for (h, w) in table.headers.iter().zip(&widths) {
                layout
                    .canvas
                    .text(x + 3.0, layout.y, SIZE, Rgb::GREY, &fit(h, SIZE, w - 6.0));
                x += w;
            }
        };
        header(self);
        for row in &table.rows {
            if self.y - ROW < BOTTOM {
                self.room(ROW * 2.0);
                header(self);
            }
            self.y -= ROW;
            let mut x = MARGIN;
            for (cell, w) in row.iter().zip(&widths) {
                self.canvas
                    .text(x + 3.0, self.y, SIZE, Rgb::BLACK, &fit(cell, SIZE, w - 6.0));
                x += w;
            }
        }
        self.y -= 6.0;
    }

    fn findings(&mut self, findings: &[String]) {
        self.heading("Findings", 20.0);
        if findings.is_empty() {
            self.paragraph("Nothing stands out in this period.", 10.0, Rgb::BLACK);
        }
        for finding in findings {
            self.paragraph(&format!("• {finding}"), 10.0, Rgb::BLACK);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.footer();
        self.canvas.finish()
    }
}

/// About how high the start of a block is: a chart whole, a table's first rows, a line.
fn first_height(block: &Block) -> f32 {
    match block {
        Block::LineChart(_) | Block::BarChart(_) => CHART_HEIGHT + 34.0,
        Block::Table(_) => 44.0,
        Block::Text { .. } | Block::Warning { .. } => 20.0,
    }
}

/// The report as a PDF; `subtitle` is its period line.
pub fn render(report: &Report, subtitle: &str) -> Vec<u8> {
    let mut layout = Layout::new(&report.title);
    layout.paragraph(&report.title, 18.0, Rgb::BLACK);
    layout.paragraph(
        &format!(
            "{subtitle} · generated {}",
            report.generated.format("%Y-%m-%d %H:%M UTC")
        ),
        9.0,
        Rgb::GREY,
    );
    layout.kpis(&report.kpis);
    for section in &report.sections {
        layout.heading(
            &section.title,
            section.blocks.first().map_or(0.0, first_height),
        );
        for block in &section.blocks {
            layout.block(block);
        }
    }
    layout.findings(&report.findings);
    layout.finish()
}
