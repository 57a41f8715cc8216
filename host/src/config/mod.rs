//! Reading configuration: a file of YAML documents, one object each, parsed into typed
//! specs with errors that name the file, line, object and field.

pub mod duration;
mod error;
pub mod http_server;
pub mod pipeline;

pub use error::{ConfigError, FieldError};
pub use http_server::HttpServerSpec;
pub use pipeline::{FilterSpec, PipelineSpec};

use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// One object of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectSpec {
    HttpServer(HttpServerSpec),
    Pipeline(PipelineSpec),
}

impl ObjectSpec {
    pub fn name(&self) -> &str {
        match self {
            ObjectSpec::HttpServer(s) => &s.name,
            ObjectSpec::Pipeline(p) => &p.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ObjectSpec::HttpServer(_) => "HTTPServer",
            ObjectSpec::Pipeline(_) => "Pipeline",
        }
    }

    /// `KIND "NAME"`, the way errors refer to an object.
    pub fn label(&self) -> String {
        format!("{} {:?}", self.kind(), self.name())
    }
}

/// An object and where it was written, so later errors can point back at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub spec: ObjectSpec,
    /// The object as written, for showing it back (admin API).
    pub raw: serde_yaml::Value,
    /// The document's text, comments included, for writing the configuration back out.
    pub source: String,
    pub origin: String,
    /// 1-based line where the object's document starts.
    pub line: usize,
}

impl Located {
    /// Turns an error found while building this object into one that names it.
    pub fn error(&self, e: FieldError) -> ConfigError {
        let line = match (&self.spec, &e.field) {
            (ObjectSpec::Pipeline(p), Some(field)) => filter_line_for_field(p, field),
            _ => None,
        };
        ConfigError {
            origin: self.origin.clone(),
            line: Some(line.unwrap_or(self.line)),
            object: Some(self.spec.label()),
            field: e.field,
            message: e.message,
        }
    }
}

/// Reads a configuration file.
pub fn load_file(path: &Path) -> Result<Vec<Located>, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        origin: origin.clone(),
        line: None,
        object: None,
        field: None,
        message: format!("cannot read the file: {e}"),
    })?;
    parse_str(&text, &origin)
}

/// Parses YAML text holding one object per document. `origin` names the text in errors.
pub fn parse_str(text: &str, origin: &str) -> Result<Vec<Located>, ConfigError> {
    let error = |line: Option<usize>, object: Option<String>, field: Option<String>, message: String| ConfigError {
        origin: origin.to_string(),
        line,
        object,
        field,
        message,
    };
    let starts = document_start_lines(text);
    let texts = document_texts(text);

    // First pass: plain values, to learn each document's kind and name.
    let mut headers = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = serde_yaml::Value::deserialize(document).map_err(|e| {
            let line = e.location().map(|l| l.line());
            error(line, None, None, strip_location(&e))
        })?;
        let line = starts.get(index).copied().unwrap_or(1);
        if value.is_null() {
            headers.push(None);
            continue;
        }
        let kind = value.get("kind").and_then(|k| k.as_str()).map(str::to_string);
        let name = value.get("name").and_then(|k| k.as_str()).map(str::to_string);
        let (Some(kind), Some(name)) = (kind, name) else {
            return Err(error(
                Some(line),
                None,
                None,
                "every object needs a string `kind` and `name`".into(),
            ));
        };
        if name.is_empty() {
            return Err(error(
                Some(line),
                Some(kind),
                Some("name".into()),
                "must not be empty".into(),
            ));
        }
        headers.push(Some((kind, name, line, value, index)));
    }

    // Second pass: typed, straight from the text so errors keep their line numbers.
    let mut objects = Vec::new();
    let mut seen = HashSet::new();
    for (document, header) in serde_yaml::Deserializer::from_str(text).zip(headers) {
        let Some((kind, name, line, raw, index)) = header else {
            continue;
        };
        let label = format!("{kind} {name:?}");
        let typed = |e: serde_path_to_error::Error<serde_yaml::Error>| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at = inner.location().map(|l| l.line()).unwrap_or(line);
            let field = (path != ".").then_some(path);
            error(Some(at), Some(label.clone()), field, strip_location(&inner))
        };
        let spec = match kind.as_str() {
            "HTTPServer" => ObjectSpec::HttpServer(serde_path_to_error::deserialize(document).map_err(typed)?),
            "Pipeline" => {
                let mut pipeline: PipelineSpec = serde_path_to_error::deserialize(document).map_err(typed)?;
                locate_filters(text, line, &mut pipeline);
                ObjectSpec::Pipeline(pipeline)
            }
            other => {
                return Err(error(
                    Some(line),
                    Some(label),
                    Some("kind".into()),
                    format!("unknown object kind {other:?} (known: HTTPServer, Pipeline)"),
                ))
            }
        };
        if !seen.insert(name.clone()) {
            return Err(error(
                Some(line),
                Some(label),
                Some("name".into()),
                "another object already has this name".into(),
            ));
        }
        objects.push(Located {
            spec,
            raw,
            source: texts.get(index).cloned().unwrap_or_default(),
            origin: origin.to_string(),
            line,
        });
    }
    Ok(objects)
}

/// serde_yaml appends " at line L column C"; we print the line ourselves.
fn strip_location(e: &serde_yaml::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// 1-based first line of each YAML document in `text`.
fn document_start_lines(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (index, line) in text.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if index == 0 {
                starts[0] = 2;
            } else {
                starts.push(index + 2);
            }
        }
    }
    starts
}

/// The text of each YAML document in `text`, separators excluded.
fn document_texts(text: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for (index, line) in text.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if index > 0 {
                documents.push(String::new());
            }
            continue;
        }
        let current = documents.last_mut().expect("never empty");
        current.push_str(line);
        current.push('\n');
    }
    documents
}

/// Writes objects as one YAML file, each document as it was written.
pub fn to_file_text(objects: &[Located]) -> String {
    let mut out = String::new();
    for (i, object) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&object.source);
        if !object.source.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Records the line of each filter by finding its `name:` line inside the pipeline's
/// document. Filter specs are interpreted by their kind after parsing, so serde cannot
/// tell us where they were; the name is unique within a pipeline, which makes this exact
/// for ordinary YAML.
fn locate_filters(text: &str, document_line: usize, pipeline: &mut PipelineSpec) {
    let lines: Vec<&str> = text.lines().collect();
    let mut search_from = document_line.saturating_sub(1);
    let in_filters = lines
        .iter()
        .enumerate()
        .skip(search_from)
        .find(|(_, l)| l.trim_start().starts_with("filters:"))
        .map(|(i, _)| i);
    if let Some(i) = in_filters {
        search_from = i;
    }
    for filter in &mut pipeline.filters {
        let found = lines.iter().enumerate().skip(search_from).find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("name:")
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == filter.name)
                .unwrap_or(false)
        });
        if let Some((i, _)) = found {
            filter.line = Some(i + 1);
        }
    }
}

/// For a field like `filters[2].pools[0].timeout`, the line of filter 2.
fn filter_line_for_field(pipeline: &PipelineSpec, field: &str) -> Option<usize> {
    let rest = field.strip_prefix("filters[")?;
    let index: usize = rest[..rest.find(']')?].parse().ok()?;
    pipeline.filters.get(index)?.line
}

#[cfg(test)]
mod tests;
