//! A4 pages of text and vector shapes, assembled into a PDF with `pdf-writer`.
//!
//! `pdf-writer` (the typst project's low-level writer) was chosen over `printpdf` and
//! `genpdf`: it is small, has no system dependencies, and leaves layout to us, which the
//! reports need anyway for their charts and tables. Text is set in DejaVu Sans, embedded
//! from the file committed beside this crate (`fonts/`, with its licence), as a CID font
//! with a ToUnicode map, so the text is selectable and extracts as what was written; no
//! system font is read at run time.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use ttf_parser::{Face, GlyphId};

/// The font's file, committed with its licence (`fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../../../fonts/DejaVuSans.ttf");

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
pub const MARGIN: f32 = 48.0;

/// An RGB colour in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0.1, 0.1, 0.12);
    pub const GREY: Rgb = Rgb(0.42, 0.44, 0.48);
    pub const LIGHT: Rgb = Rgb(0.9, 0.91, 0.93);
    pub const GOOD: Rgb = Rgb(0.1, 0.5, 0.25);
    pub const BAD: Rgb = Rgb(0.75, 0.15, 0.15);

    /// `#6d4aff`; grey when it is not such a colour.
    pub fn hex(text: &str) -> Rgb {
        let digits = text.trim_start_matches('#');
        let channel = |i: usize| {
            digits
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .map(|v| f32::from(v) / 255.0)
        };
        match (digits.len(), channel(0), channel(2), channel(4)) {
            (6, Some(r), Some(g), Some(b)) => Rgb(r, g, b),
            _ => Rgb::GREY,
        }
    }
}

/// The parsed font, and its file compressed once for every document.
struct Font {
    face: Face<'static>,
    compressed: Vec<u8>,
}

fn font() -> &'static Font {
    static FONT_DATA: OnceLock<Font> = OnceLock::new();
    FONT_DATA.get_or_init(|| {
        // The committed file is a valid TrueType font: a test renders with it.
        let face = Face::parse(FONT, 0).unwrap_or_else(|e| panic!("fonts/DejaVuSans.ttf: {e}"));
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let compressed = encoder
            .write_all(FONT)
            .and_then(|()| encoder.finish())
            .unwrap_or_else(|e| panic!("compressing the font in memory: {e}"));
        Font { face, compressed }
    })
}

/// The glyph of a character, falling back to `?` for one the font lacks.
fn glyph(c: char) -> GlyphId {
    let face = &font().face;
    face.glyph_index(c)
        .or_else(|| face.glyph_index('?'))
        .unwrap_or(GlyphId(0))
}

/// A glyph's advance in thousandths of the font size.
fn advance(id: GlyphId) -> f32 {
    let face = &font().face;
    f32::from(face.glyph_hor_advance(id).unwrap_or(0)) * 1000.0 / f32::from(face.units_per_em())
}

/// How wide `text` is at `size`, in points.
pub fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(|c| advance(glyph(c))).sum::<f32>() * size / 1000.0
}

/// `text` cut to `width` at `size`, with an ellipsis when cut.
pub fn fit(text: &str, size: f32, width: f32) -> String {
    if text_width(text, size) <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        if text_width(&format!("{out}{c}…"), size) > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// `text` broken into lines no wider than `width` at `size` (at spaces, or inside a
/// word longer than a line).
pub fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = String::new();
        for c in word.chars() {
            if text_width(&format!("{rest}{c}"), size) > width && !rest.is_empty() {
                lines.push(std::mem::take(&mut rest));
            }
            rest.push(c);
        }
        line = rest;
    }
    lines.push(line);
    lines
}

/// Pages being drawn. Coordinates are PDF points from the page's bottom left.
pub struct Canvas {
    pages: Vec<Content>,
    /// Every glyph used, with the character it shows, for the widths and ToUnicode map.
    used: BTreeMap<u16, char>,
    title: String,
}

impl std::fmt::Debug for Canvas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canvas")
            .field("pages", &self.pages.len())
            .finish()
    }
}

const FONT_NAME: Name<'static> = Name(b"F1");

impl Canvas {
    pub fn new(title: &str) -> Canvas {
        Canvas {
            pages: vec![Content::new()],
            used: BTreeMap::new(),
            title: title.to_owned(),
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Content::new());
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// `text` with its baseline's left end at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, size: f32, color: Rgb, text: &str) {
        let mut encoded = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let id = glyph(c);
            self.used.entry(id.0).or_insert(c);
            encoded.extend_from_slice(&id.0.to_be_bytes());
        }
        let page = self.page();
        page.set_fill_rgb(color.0, color.1, color.2);
        page.begin_text();
        page.set_font(FONT_NAME, size);
        page.next_line(x, y);
        page.show(Str(&encoded));
        page.end_text();
    }

    /// `text` with its baseline's right end at (`x`, `y`).
    pub fn text_right(&mut self, x: f32, y: f32, size: f32, color: Rgb, text: &str) {
        let width = text_width(text, size);
        self.text(x - width, y, size, color, text);
    }

    /// A filled rectangle.
    pub fn rect(&mut self, x: f32, y: f32, width: f32, height: f32, color: Rgb) {
        let page = self.page();
        page.set_fill_rgb(color.0, color.1, color.2);
        page.rect(x, y, width, height);
        page.fill_nonzero();
    }

    /// A polyline through `points`.
    pub fn line(&mut self, points: &[(f32, f32)], width: f32, color: Rgb) {
        let Some((first, rest)) = points.split_first() else {
            return;
        };
        let page = self.page();
        page.set_stroke_rgb(color.0, color.1, color.2);
        page.set_line_width(width);
        page.move_to(first.0, first.1);
        for (x, y) in rest {
            page.line_to(*x, *y);
        }
        page.stroke();
    }

    /// The PDF's bytes.
    pub fn finish(self) -> Vec<u8> {
        let font = font();
        let mut next = Ref::new(1);
        let mut bump = || next.bump();
        let catalog = bump();
        let tree = bump();
        let info = bump();
        let type0 = bump();
        let cid = bump();
        let descriptor = bump();
        let file = bump();
        let cmap_ref = bump();
        let pages: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (bump(), bump())).collect();

        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("tally"));
        pdf.pages(tree)
            .kids(pages.iter().map(|(page, _)| *page))
            .count(pages.len() as i32);
        for ((page_ref, content_ref), content) in pages.iter().zip(self.pages) {
            let mut page = pdf.page(*page_ref);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
            page.parent(tree);
            page.contents(*content_ref);
            page.resources().fonts().pair(FONT_NAME, type0);
            page.finish();
            pdf.stream(*content_ref, &content.finish());
        }

        let base = Name(b"DejaVuSans");
        let system = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        pdf.type0_font(type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap_ref);
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut widths = cid_font.widths();
        for id in self.used.keys() {
            widths.consecutive(*id, [advance(GlyphId(*id))]);
        }
        widths.finish();
        cid_font.finish();

        let face = &font.face;
        let scale = 1000.0 / f32::from(face.units_per_em());
        let bbox = face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * scale,
                f32::from(bbox.y_min) * scale,
                f32::from(bbox.x_max) * scale,
                f32::from(bbox.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(face.ascender()) * scale)
            .descent(f32::from(face.descender()) * scale)
            .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
            .stem_v(80.0)
            .font_file2(file);
        pdf.stream(file, &font.compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), FONT.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"tally-DejaVuSans"), system);
        for (id, c) in &self.used {
            cmap.pair(*id, *c);
        }
        pdf.cmap(cmap_ref, &cmap.finish());
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_within_the_width() {
        let lines = wrap("one two three four five six seven", 10.0, 60.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(
            lines.iter().all(|l| text_width(l, 10.0) <= 60.0),
            "{lines:?}"
        );
        assert_eq!(lines.join(" "), "one two three four five six seven");
        assert!(fit("a long project name", 10.0, 40.0).ends_with('…'));
        assert_eq!(fit("short", 10.0, 400.0), "short");
    }

    #[test]
    fn colours_read_from_hex() {
        assert_eq!(Rgb::hex("#ff0000"), Rgb(1.0, 0.0, 0.0));
        assert_eq!(Rgb::hex("nope"), Rgb::GREY);
    }

    #[test]
    fn a_document_starts_and_ends_as_a_pdf() {
        let mut canvas = Canvas::new("t");
        canvas.text(50.0, 700.0, 12.0, Rgb::BLACK, "Total cost $12.35 → ok");
        canvas.line(&[(50.0, 600.0), (100.0, 650.0)], 1.0, Rgb::GOOD);
        let bytes = canvas.finish();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.ends_with(b"%%EOF\n") || bytes.ends_with(b"%%EOF"));
    }
}
