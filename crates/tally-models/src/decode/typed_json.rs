//! The fast path for JSON records of the common shape: an `execution` object whose
//! fields are all known (no `attrs`, no unknown fields). serde's derived visitor reads
//! such a record straight into slots by name, without building the [`FieldValue`] map
//! and without the quadratic duplicate check; the slots then go through the very same
//! rules as the general path ([`Fields`] over a different [`FieldSource`]).
//!
//! Anything the fast path does not take — another shape, a duplicate field, a broken
//! rule — returns `None`, and the caller decodes the record on the general path, which
//! gives the exact error. So a record decodes the same either way; a property test
//! checks it.

use serde::Deserialize;

use super::{FieldSource, Fields, ValidationContext, decode_event};
use crate::event::Event;
use crate::value::FieldValue;

/// A struct whose fields are slots of one record, named as on the wire.
macro_rules! typed_record {
    ($(#[$doc:meta])* $name:ident { $($field:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name<'a> {
            $(#[serde(borrow, default)] $field: Option<FieldValue<'a>>,)+
        }

        impl<'a> FieldSource<'a> for $name<'a> {
            fn take_field(&mut self, name: &str) -> Option<FieldValue<'a>> {
                match name {
                    $(stringify!($field) => self.$field.take(),)+
                    _ => None,
                }
            }
        }

        impl $name<'_> {
            /// The wire names of the slots.
            #[cfg(test)]
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            /// Whether decoding took every field that was sent.
            fn is_used_up(&self) -> bool {
                true $(&& self.$field.is_none())+
            }
        }
    };
}

typed_record! {
    /// The envelope and every field of an `execution`.
    ExecutionRecord {
        kind, ts, id, project,
        tool, duration_ms, success, agent_id, task_id, user_id, session_id, model,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
        cost_usd, effort, browser_used, error,
    }
}

impl Event {
    /// Decodes a JSON record of the common shape (see the module docs), or returns
    /// `None` when it needs the general path: parse it into a [`FieldValue`] and call
    /// [`Event::decode`], which then also names what is wrong with it.
    pub fn decode_json_fast(text: &str, ctx: &ValidationContext) -> Option<Event> {
        // serde reads a struct from an array too; the wire format only has objects.
        let first = text
            .bytes()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if first != Some(b'{') {
            return None;
        }
        let mut record: ExecutionRecord<'_> = serde_json::from_str(text).ok()?;
        // Borrowed, not moved: the record is a few hundred bytes of slots.
        let mut fields = Fields {
            source: &mut record,
            ctx,
            prefix: String::new(),
        };
        let (event, explicit_attrs) = decode_event(&mut fields).ok()?;
        // Fields of another kind would become attrs: the general path builds those.
        if explicit_attrs.is_some() || !record.is_used_up() {
            return None;
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    use crate::{Event, FieldValue, ValidationContext};

    fn ctx() -> ValidationContext {
        ValidationContext::at(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
    }

    /// The general path: parse into fields, then validate.
    fn general(json: &str) -> Option<Event> {
        let value: FieldValue<'_> = serde_json::from_str(json).ok()?;
        Event::decode(value, &ctx()).ok()
    }

    const TYPICAL: &str = r#"{"kind": "execution", "id": "e1", "ts": "2026-10-01T00:00:00Z", "project": "proj_1", "agent_id": "agent_3", "task_id": "t0", "tool": "tool_7", "model": "gpt-4o", "duration_ms": 1096.3, "success": false, "cost_usd": 0.0182, "input_tokens": 3140, "output_tokens": 1035, "effort": "low", "browser_used": false, "error": "timeout"}"#;

    #[test]
    fn a_typical_execution_takes_the_typed_path_and_decodes_the_same() {
        let typed = Event::decode_json_fast(TYPICAL, &ctx()).expect("typed path");
        assert_eq!(Some(typed), general(TYPICAL));
        let escaped = TYPICAL.replace("tool_7", "tool\\u005f7");
        assert_eq!(Event::decode_json_fast(&escaped, &ctx()), general(TYPICAL));
    }

    #[test]
    fn other_shapes_are_left_to_the_general_path() {
        let with = |extra: &str| TYPICAL.replacen('{', &format!("{{{extra}, "), 1);
        for (why, json) in [
            ("attrs", with(r#""attrs": {"n": 1}"#)),
            ("an unknown field", with(r#""region": "eu""#)),
            ("a duplicate field", with(r#""tool": "other""#)),
            ("a broken rule", TYPICAL.replace("1096.3", "-1")),
            (
                "another kind",
                TYPICAL.replace("\"execution\"", "\"action\""),
            ),
            ("not JSON", TYPICAL.replace('}', "")),
            (
                "an array",
                r#"["execution", "2026-10-01T00:00:00Z"]"#.to_owned(),
            ),
        ] {
            assert_eq!(
                Event::decode_json_fast(&json, &ctx()),
                None,
                "{why}: {json}"
            );
        }
    }

    /// A field of the typed record, `attrs`, or an unknown one.
    fn field_name() -> impl Strategy<Value = &'static str> {
        let mut names = super::ExecutionRecord::FIELDS.to_vec();
        names.extend(["attrs", "region"]);
        prop::sample::select(names)
    }

    /// Values valid for some field and invalid for others, written as JSON.
    fn field_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"execution\"".to_owned()),
            Just("\"action\"".to_owned()),
            Just("\"2026-10-01T00:00:00Z\"".to_owned()),
            Just("\"2026-10-01T02:00:00+02:00\"".to_owned()),
            Just("1790000000000".to_owned()),
            Just("\"low\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("\"a\\\"b\"".to_owned()),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("[1]".to_owned()),
            Just("{\"n\": 1}".to_owned()),
            Just("\"NaN\"".to_owned()),
            (0u64..20_000).prop_map(|n| n.to_string()),
            (-5i64..0).prop_map(|n| n.to_string()),
            (0.0f64..5e4).prop_map(|x| format!("{x}")),
            (0.0f64..5e4).prop_map(|x| format!("{x:e}")),
            "[a-z_]{1,12}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    /// A typical record with some fields replaced, removed or added, in any order.
    fn record() -> impl Strategy<Value = String> {
        let base: Vec<(String, String)> = serde_json::from_str::<serde_json::Value>(TYPICAL)
            .unwrap()
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        (
            prop::collection::vec((field_name(), field_value()), 0..3),
            prop::collection::vec(prop::bool::weighted(0.95), base.len()),
            any::<prop::sample::Index>(),
        )
            .prop_map(move |(changes, keep, rotate)| {
                let mut fields: Vec<(String, String)> = base
                    .iter()
                    .zip(&keep)
                    .filter(|(_, keep)| **keep)
                    .map(|(field, _)| field.clone())
                    .collect();
                for (name, value) in changes {
                    match fields.iter_mut().find(|(n, _)| n == name) {
                        Some(field) if value.len() % 2 == 0 => field.1 = value,
                        _ => fields.push((name.to_owned(), value)),
                    }
                }
                if !fields.is_empty() {
                    let at = rotate.index(fields.len());
                    fields.rotate_left(at);
                }
                let body: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("\"{name}\": {value}"))
                    .collect();
                format!("{{{}}}", body.join(", "))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the record, the typed path either declines it or agrees with the
        /// general path, which then accepts it too.
        #[test]
        fn the_typed_path_agrees_with_the_general_path(json in record()) {
            if let Some(typed) = Event::decode_json_fast(&json, &ctx()) {
                prop_assert_eq!(Some(typed), general(&json), "{}", json);
            }
        }
    }

    #[test]
    fn most_valid_variations_take_the_typed_path() {
        // Without this, the property above would hold for a path that declines all.
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut typed, mut valid) = (0, 0);
        for _ in 0..500 {
            let json = record().new_tree(&mut runner).unwrap().current();
            if general(&json).is_some() {
                valid += 1;
                typed += usize::from(Event::decode_json_fast(&json, &ctx()).is_some());
            }
        }
        assert!(
            valid > 50 && typed * 2 > valid,
            "{typed} typed of {valid} valid"
        );
    }
}
