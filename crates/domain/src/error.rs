//! Validation errors that name the field and say what is wrong.

use std::fmt;

/// One field of an input that could not be accepted.
///
/// `code` is stable and doubles as the translation key suffix
/// (`error.field.<code>`), so the user reads it in their own language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as named in the form or the JSON body.
    pub field: &'static str,
    /// A stable machine-readable code such as `email_invalid`.
    pub code: &'static str,
    /// Values for the message's `{placeholders}` (which channel, how long).
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    /// A new error for `field` with `code`.
    #[must_use]
    pub const fn new(field: &'static str, code: &'static str) -> Self {
        Self {
            field,
            code,
            args: Vec::new(),
        }
    }

    /// The same error with a value for the message's `{name}`.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)
    }
}

impl std::error::Error for FieldError {}
