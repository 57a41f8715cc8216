//! The `accessLogFormat` template: text with `{{Variable}}` placeholders, parsed once
//! when a server is built into literal and variable segments.

/// Easegress's default format.
pub const DEFAULT_FORMAT: &str = "[{{Time}}] [{{RemoteAddr}} {{RealIP}} {{Method}} {{URI}} {{Proto}} {{StatusCode}}] \
                                  [{{Duration}} rx:{{ReqSize}}B tx:{{RespSize}}B] [{{Tags}}]";

/// One value a line can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    /// When the request arrived, RFC 3339 in UTC with milliseconds.
    Time,
    /// The client's address and port.
    RemoteAddr,
    /// The first `X-Forwarded-For` address, else `X-Real-IP`, else the client's address.
    RealIp,
    Method,
    /// Path and query as received (before any rewrite), cut to 512 characters.
    Uri,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`.
    Proto,
    StatusCode,
    /// From the request's arrival until its response body was sent.
    Duration,
    /// Request body bytes (see `Exchange::request_bytes`).
    ReqSize,
    /// Response body bytes sent.
    RespSize,
    /// Request headers as a JSON object (repeated headers joined with ", ").
    ReqHeaders,
    /// Response headers, likewise.
    RespHeaders,
    /// What the server noted while serving, comma-separated: `pipeline: NAME`.
    Tags,
}

const NAMES: [(&str, Variable); 13] = [
    ("Time", Variable::Time),
    ("RemoteAddr", Variable::RemoteAddr),
    ("RealIP", Variable::RealIp),
    ("Method", Variable::Method),
    ("URI", Variable::Uri),
    ("Proto", Variable::Proto),
    ("StatusCode", Variable::StatusCode),
    ("Duration", Variable::Duration),
    ("ReqSize", Variable::ReqSize),
    ("RespSize", Variable::RespSize),
    ("ReqHeaders", Variable::ReqHeaders),
    ("RespHeaders", Variable::RespHeaders),
    ("Tags", Variable::Tags),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Variable(Variable),
}

/// A parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub segments: Vec<Segment>,
}

impl Format {
    /// Parses `template`. Spaces inside the braces are allowed (`{{ Time }}`); an
    /// unknown variable or an unclosed `{{` is an error that names it.
    pub fn parse(template: &str) -> Result<Format, String> {
        let mut segments = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` at byte {} is not closed", template.len() - rest.len() + open))?;
            let name = after[..close].trim();
            let variable = NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
                let known: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                format!("unknown variable {{{{{name}}}}} (known: {})", known.join(", "))
            })?;
            segments.push(Segment::Variable(variable));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_string()));
        }
        Ok(Format { segments })
    }

    pub fn uses(&self, variable: Variable) -> bool {
        self.segments.contains(&Segment::Variable(variable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_parses_into_its_variables() {
        let format = Format::parse(DEFAULT_FORMAT).unwrap();
        let variables: Vec<Variable> = format
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Variable(v) => Some(*v),
                Segment::Text(_) => None,
            })
            .collect();
        use Variable::*;
        assert_eq!(
            variables,
            [Time, RemoteAddr, RealIp, Method, Uri, Proto, StatusCode, Duration, ReqSize, RespSize, Tags]
        );
        assert_eq!(format.segments[0], Segment::Text("[".into()));
        assert_eq!(format.segments.last(), Some(&Segment::Text("]".into())));
        assert!(!format.uses(ReqHeaders));
    }

    #[test]
    fn text_and_spaced_variables() {
        let format = Format::parse("a {{ Method }}{{URI}} z").unwrap();
        assert_eq!(
            format.segments,
            [
                Segment::Text("a ".into()),
                Segment::Variable(Variable::Method),
                Segment::Variable(Variable::Uri),
                Segment::Text(" z".into()),
            ]
        );
        assert_eq!(Format::parse("").unwrap().segments, []);
        assert_eq!(
            Format::parse("plain }} text").unwrap().segments,
            [Segment::Text("plain }} text".into())]
        );
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = Format::parse("{{Method}} {{Path}}").unwrap_err();
        assert!(unknown.contains("unknown variable {{Path}}"), "{unknown}");
        assert!(unknown.contains("RealIP"), "{unknown}");
        let unclosed = Format::parse("[{{Time}}] {{Method").unwrap_err();
        assert!(unclosed.contains("byte 11"), "{unclosed}");
    }
}
