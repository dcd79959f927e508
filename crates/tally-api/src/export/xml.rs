//! XML exports (`quick-xml`), valid against `schema/tally-export.xsd`: the analytics
//! sections as one `<analytics>` document, and the events as `<events>`, written one
//! event at a time so memory stays flat. Text and attribute values are escaped; the few
//! characters XML 1.0 cannot hold at all (control characters other than tab, newline
//! and carriage return) are written as U+FFFD.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event as XmlEvent};
use serde_json::Value;
use tally_models::Event;

use super::sections::{Cell, SectionKind, Sections};
use super::{cell, csv_columns};

/// The namespace of every tally XML export.
pub const NAMESPACE: &str = "urn:tally:export:1";

/// The schema, served at `/api/analytics/export/schema.xsd`.
pub const SCHEMA: &str = include_str!("../../../../schema/tally-export.xsd");

/// `text` with the characters XML 1.0 forbids replaced.
fn xml_safe(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || c >= ' ';
    let allowed = |c: char| allowed(c) && !matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Writes `<name>text</name>`.
fn element<W: Write>(writer: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    writer.write_event(XmlEvent::Start(BytesStart::new(name)))?;
    writer.write_event(XmlEvent::Text(BytesText::new(&xml_safe(text))))?;
    writer.write_event(XmlEvent::End(BytesEnd::new(name)))
}

/// A cell as schema text; `None` when absent (the element is left out).
fn cell_text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Empty => None,
        Cell::Text(text) => Some(text.clone()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Some(format!("{n:.0}")),
        Cell::Number(n) => Some(n.to_string()),
        Cell::Date(day) => Some(day.format("%Y-%m-%d").to_string()),
        Cell::Instant(t) => Some(instant(*t)),
    }
}

/// The analytics sections as one document.
///
/// # Errors
/// `out` cannot be written.
pub fn sections(sections: &Sections, out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(XmlEvent::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut root = BytesStart::new("analytics");
    root.push_attribute(("xmlns", NAMESPACE));
    root.push_attribute(("generated", instant(sections.generated).as_str()));
    if let Some(project) = &sections.project {
        root.push_attribute(("project", xml_safe(project).as_ref()));
    }
    if let Some(from) = sections.from {
        root.push_attribute(("from", instant(from).as_str()));
    }
    if let Some(to) = sections.to {
        root.push_attribute(("to", instant(to).as_str()));
    }
    writer.write_event(XmlEvent::Start(root))?;
    for section in &sections.sections {
        let kind = section.kind;
        let record = |writer: &mut Writer<&mut dyn Write>, row: &[Cell]| {
            writer.write_event(XmlEvent::Start(BytesStart::new(kind.row())))?;
            for (column, value) in kind.columns().iter().zip(row) {
                if let Some(text) = cell_text(value) {
                    element(writer, column.key, &text)?;
                }
            }
            writer.write_event(XmlEvent::End(BytesEnd::new(kind.row())))
        };
        if kind == SectionKind::Summary {
            record(
                &mut writer,
                section.rows.first().map_or(&[][..], Vec::as_slice),
            )?;
            continue;
        }
        writer.write_event(XmlEvent::Start(BytesStart::new(kind.key())))?;
        for row in &section.rows {
            record(&mut writer, row)?;
        }
        writer.write_event(XmlEvent::End(BytesEnd::new(kind.key())))?;
    }
    writer.write_event(XmlEvent::End(BytesEnd::new("analytics")))?;
    writer.get_mut().write_all(b"\n")
}

/// Writes the events one at a time: [`EventsXml::start`], [`EventsXml::event`] for each,
/// then [`EventsXml::finish`].
pub struct EventsXml<'w> {
    writer: Writer<&'w mut dyn Write>,
}

impl std::fmt::Debug for EventsXml<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventsXml")
    }
}

impl<'w> EventsXml<'w> {
    /// The declaration and the opening `<events>`.
    ///
    /// # Errors
    /// `out` cannot be written.
    pub fn start(out: &'w mut dyn Write) -> std::io::Result<Self> {
        let mut writer = Writer::new_with_indent(out, b' ', 2);
        writer.write_event(XmlEvent::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("events");
        root.push_attribute(("xmlns", NAMESPACE));
        writer.write_event(XmlEvent::Start(root))?;
        Ok(EventsXml { writer })
    }

    /// One `<event kind id ts project>` with an element per field it has (the columns of
    /// the CSV export, `attrs` as JSON text).
    ///
    /// # Errors
    /// `out` cannot be written.
    pub fn event(&mut self, event: &Event) -> std::io::Result<()> {
        let kind = event.kind();
        let value = serde_json::to_value(event)?;
        let text = |name: &str| cell(name, value.get(name));
        let mut start = BytesStart::new("event");
        start.push_attribute(("kind", kind.as_str()));
        for name in ["id", "ts", "project"] {
            let shown = text(name);
            if !shown.is_empty() {
                start.push_attribute((name, xml_safe(&shown).as_ref()));
            }
        }
        self.writer.write_event(XmlEvent::Start(start))?;
        for column in csv_columns(kind).iter().chain(&["attrs"]) {
            let shown = cell(column, value.get(*column));
            let absent = shown.is_empty() && !matches!(value.get(*column), Some(Value::String(_)));
            if !absent {
                element(&mut self.writer, column, &shown)?;
            }
        }
        self.writer
            .write_event(XmlEvent::End(BytesEnd::new("event")))
    }

    /// The closing `</events>`.
    ///
    /// # Errors
    /// `out` cannot be written.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.writer
            .write_event(XmlEvent::End(BytesEnd::new("events")))?;
        let out = self.writer.get_mut();
        out.write_all(b"\n")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_forbidden_characters_replaced() {
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out);
        element(&mut writer, "name", "<a & \"b\">\u{1}=1+1").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<name>&lt;a &amp; &quot;b&quot;&gt;\u{FFFD}=1+1</name>"
        );
    }

    #[test]
    fn the_schema_types_every_column_and_kind() {
        for kind in SectionKind::ALL {
            for column in kind.columns() {
                let declared = format!(
                    r#"<xs:element name="{}" type="{}" minOccurs="0"/>"#,
                    column.key,
                    column.kind.xsd()
                );
                assert!(SCHEMA.contains(&declared), "{declared}");
            }
        }
        for kind in tally_models::Kind::ALL {
            let value = format!(r#"<xs:enumeration value="{}"/>"#, kind.as_str());
            assert!(SCHEMA.contains(&value), "{value}");
            for column in csv_columns(*kind).iter().chain(&["attrs"]) {
                let declared = format!(r#"<xs:element name="{column}" type="#);
                assert!(SCHEMA.contains(&declared), "{declared}");
            }
        }
    }

    #[test]
    fn whole_numbers_have_no_decimals() {
        assert_eq!(cell_text(&Cell::Number(3.0)).as_deref(), Some("3"));
        assert_eq!(cell_text(&Cell::Number(0.25)).as_deref(), Some("0.25"));
        assert_eq!(cell_text(&Cell::Empty), None);
    }
}
