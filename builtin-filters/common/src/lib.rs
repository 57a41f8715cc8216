//! Pieces several built-in filters share: Go durations, Easegress's StringMatcher and
//! the adaptors' header edits.

mod header_spec;

pub use header_spec::HeaderSpec;

use regex::Regex;
use serde::Deserialize;

/// A Go duration (`1.5s`, `300ms`, `1m30s`) in whole milliseconds.
pub fn parse_millis(text: &str) -> Result<u64, String> {
    let mut total = 0f64;
    let mut rest = text.trim();
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("an empty duration".into());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{text:?} has no unit"))?;
        let value: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("{text:?} is not a duration"))?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let millis = match &rest[..unit_len] {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 60e3,
            "h" => 3600e3,
            unit => return Err(format!("{text:?} has an unknown unit {unit:?}")),
        };
        total += value * millis;
        rest = &rest[unit_len..];
    }
    Ok(total.round() as u64)
}

/// Easegress's StringMatcher as written in YAML: any one test passing is a match.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StringMatcherSpec {
    #[serde(default)]
    pub exact: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    /// Matches an empty (or absent) value.
    #[serde(default)]
    pub empty: bool,
}

/// A compiled [`StringMatcherSpec`].
pub struct StringMatcher {
    exact: Option<String>,
    prefix: Option<String>,
    regex: Option<Regex>,
    empty: bool,
}

impl StringMatcher {
    /// Compiles the spec; `at` names the field in the error.
    pub fn new(spec: StringMatcherSpec, at: &str) -> Result<StringMatcher, String> {
        let regex = match spec.regex {
            Some(r) => Some(Regex::new(&r).map_err(|e| format!("{at}.regex: {e}"))?),
            None => None,
        };
        Ok(StringMatcher {
            exact: spec.exact,
            prefix: spec.prefix,
            regex,
            empty: spec.empty,
        })
    }

    /// Whether the matcher has no test at all; Easegress reads that as "match anything".
    pub fn is_blank(&self) -> bool {
        self.exact.is_none() && self.prefix.is_none() && self.regex.is_none() && !self.empty
    }

    /// Whether `empty` is set: callers that see "absent" apart from "empty" use it.
    pub fn empty(&self) -> bool {
        self.empty
    }

    pub fn matches(&self, value: &str) -> bool {
        (self.empty && value.is_empty())
            || self.exact.as_deref() == Some(value)
            || self.prefix.as_deref().is_some_and(|p| value.starts_with(p))
            || self.regex.as_ref().is_some_and(|r| r.is_match(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go() {
        assert_eq!(parse_millis("1.5s"), Ok(1500));
        assert_eq!(parse_millis("1m30s"), Ok(90_000));
        assert_eq!(parse_millis("10ms"), Ok(10));
        assert!(parse_millis("5").is_err());
        assert!(parse_millis("").is_err());
    }

    #[test]
    fn any_test_of_a_string_matcher_is_enough() {
        let spec = StringMatcherSpec {
            exact: Some("/a".into()),
            prefix: Some("/api/".into()),
            regex: Some("^/v[0-9]+$".into()),
            empty: false,
        };
        let m = StringMatcher::new(spec, "url").unwrap();
        assert!(m.matches("/a") && m.matches("/api/x") && m.matches("/v2"));
        assert!(!m.matches("/b") && !m.matches(""));
    }
}
