//! Project names as every path takes them: a record's `project`, an API key's projects,
//! a `project` filter. One rule, so a name is the same project wherever it is written.

use std::borrow::Cow;

use compact_str::CompactString;

use crate::{FieldError, FieldValue};

/// The most characters a project name has (`docs/events.md`).
pub const MAX_PROJECT_CHARS: usize = 128;

/// `name` as a project: 1 to [`MAX_PROJECT_CHARS`] characters without bidirectional
/// controls, in Unicode normalization form C (composed and decomposed accents name one
/// project).
///
/// # Errors
/// A [`FieldError`] on the field `project` naming the broken rule.
pub fn project_name(name: &str) -> Result<CompactString, FieldError> {
    crate::decode::project_name(&FieldValue::Str(Cow::Borrowed(name)), MAX_PROJECT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_composed_and_refused_with_bidirectional_controls() {
        assert_eq!(project_name("cafe\u{301}").unwrap(), "caf\u{e9}");
        assert_eq!(project_name("alpha").unwrap(), "alpha");
        for bad in ["", "a\u{202E}b", &"x".repeat(129)] {
            assert!(project_name(bad).is_err(), "{bad:?}");
        }
    }
}
