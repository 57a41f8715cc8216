//! Configuration errors that tell the user exactly where to look.

use std::fmt;

/// A problem with one place in the configuration. Printed as
/// `FILE:LINE: KIND "NAME": field PATH: MESSAGE`, leaving out what is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file (or `admin API`, `-` for stdin) the configuration came from.
    pub origin: String,
    /// 1-based line in `origin`.
    pub line: Option<usize>,
    /// `KIND "NAME"` of the object, once known.
    pub object: Option<String>,
    /// Dotted path of the field inside the object, e.g. `rules[0].paths[1].pathRegexp`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(object) = &self.object {
            write!(f, ": {object}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// An error found while building one object, before the caller knows which file and
/// object it belongs to. `field` is relative to the object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", field.as_deref().map(|f| format!("field {f}: ")).unwrap_or_default())]
pub struct FieldError {
    pub field: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn whole(message: impl Into<String>) -> Self {
        FieldError {
            field: None,
            message: message.into(),
        }
    }

    /// Puts `prefix` in front of the field path, for errors raised by a nested part.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = Some(match self.field {
            Some(f) if f.starts_with('[') => format!("{prefix}{f}"),
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_string(),
        });
        self
    }
}
