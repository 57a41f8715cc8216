//! Templates in the syntax Easegress's builder filters use (Go `text/template` with the
//! slim-sprig and Easegress functions its docs use), parsed once and evaluated over
//! `serde_json` values.
//!
//! Differences from Go worth knowing: maps and lists print as JSON rather than Go's
//! `map[k:v]`, numbers follow JSON (`3.0` prints `3`), and a field of a missing value is
//! missing rather than an error. `with`, `define`/`template`/`block` are not supported.

mod eval;
mod funcs;
mod lex;
mod parse;
mod value;

pub use eval::Error;
pub use serde_json::Value;

/// A parsed template, evaluated any number of times.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<parse::Node>,
}

impl Template {
    /// Parses with the default `{{` `}}` delimiters.
    pub fn parse(source: &str) -> Result<Template, Error> {
        Template::parse_with(source, "{{", "}}")
    }

    /// Parses with custom delimiters (Easegress's `leftDelim` / `rightDelim`).
    pub fn parse_with(source: &str, left: &str, right: &str) -> Result<Template, Error> {
        let items = lex::split(source, left, right)?;
        Ok(Template {
            nodes: parse::parse(items)?,
        })
    }

    /// Renders with `data` as `.` (and `$`).
    pub fn render(&self, data: &Value) -> Result<String, Error> {
        eval::render(&self.nodes, data)
    }
}

#[cfg(test)]
mod tests;
