//! The validation error: which field broke which rule, in words a person can act on.

use std::fmt;

/// The rule a field broke; stable, so clients and tests can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The record is not an object of fields.
    NotAnObject,
    /// A required field is absent or null.
    Missing,
    /// The value has the wrong JSON type.
    WrongType,
    /// A number is outside its allowed range, or not finite.
    OutOfRange,
    /// A string, list or object is longer than allowed.
    TooLong,
    /// A string is empty where a value is required.
    Empty,
    /// A value is not one of the allowed words.
    UnknownValue,
    /// The same field name appears twice in one record.
    DuplicateField,
    /// The timestamp is too far in the future or before 2000-01-01.
    TimeOutOfBounds,
    /// Fields that are fine alone contradict each other.
    Inconsistent,
    /// A string holds a character it may not (a bidirectional control in `project`).
    ForbiddenCharacter,
}

impl Rule {
    /// The rule's stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NotAnObject => "not_an_object",
            Rule::Missing => "missing",
            Rule::WrongType => "wrong_type",
            Rule::OutOfRange => "out_of_range",
            Rule::TooLong => "too_long",
            Rule::Empty => "empty",
            Rule::UnknownValue => "unknown_value",
            Rule::DuplicateField => "duplicate_field",
            Rule::TimeOutOfBounds => "time_out_of_bounds",
            Rule::Inconsistent => "inconsistent",
            Rule::ForbiddenCharacter => "forbidden_character",
        }
    }
}

/// One rejected record's reason: `duration_ms: must be a number >= 0, got -3`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's path (`duration_ms`, `models[1].cost_usd`, `attrs.region`); empty
    /// when the record as a whole is at fault.
    pub field: String,
    /// The rule broken.
    pub rule: Rule,
    /// What was wrong and what was expected.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl fmt::Display, rule: Rule, message: impl fmt::Display) -> Self {
        FieldError {
            field: field.to_string(),
            rule,
            message: message.to_string(),
        }
    }
}
