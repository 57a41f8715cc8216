//! Matching the request's host (without port) against a rule's hosts.

use crate::config::http_server::RuleSpec;
use crate::config::FieldError;
use regex::Regex;

#[derive(Debug, Clone)]
pub enum HostMatcher {
    Exact(String),
    /// `*.example.com`: the stored suffix is `.example.com`.
    WildcardPrefix(String),
    /// `www.*`: the stored prefix is `www.`.
    WildcardSuffix(String),
    Regexp(Regex),
}

impl HostMatcher {
    fn parse(value: &str, is_regexp: bool, field: &str) -> Result<HostMatcher, FieldError> {
        if is_regexp {
            return Regex::new(value)
                .map(HostMatcher::Regexp)
                .map_err(|e| FieldError::new(field, format!("bad regular expression: {e}")));
        }
        let value = value.to_ascii_lowercase();
        match value.matches('*').count() {
            0 => Ok(HostMatcher::Exact(value)),
            1 if value.starts_with("*.") => Ok(HostMatcher::WildcardPrefix(value[1..].to_string())),
            1 if value.ends_with(".*") => Ok(HostMatcher::WildcardSuffix(value[..value.len() - 1].to_string())),
            _ => Err(FieldError::new(
                field,
                format!("{value:?}: a host may hold one wildcard, at the start (*.example.com) or the end (www.*)"),
            )),
        }
    }

    /// `host` must already be lower-case and without port.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostMatcher::Exact(h) => h == host,
            HostMatcher::WildcardPrefix(suffix) => host.len() > suffix.len() && host.ends_with(suffix.as_str()),
            HostMatcher::WildcardSuffix(prefix) => host.len() > prefix.len() && host.starts_with(prefix.as_str()),
            HostMatcher::Regexp(re) => re.is_match(host),
        }
    }

    /// All host matchers of a rule: `host`, `hostRegexp` and `hosts`.
    pub fn for_rule(rule: &RuleSpec) -> Result<Vec<HostMatcher>, FieldError> {
        let mut matchers = Vec::new();
        if let Some(host) = rule.host.as_deref().filter(|h| !h.is_empty()) {
            matchers.push(HostMatcher::parse(host, false, "host")?);
        }
        if let Some(re) = rule.host_regexp.as_deref().filter(|h| !h.is_empty()) {
            matchers.push(HostMatcher::parse(re, true, "hostRegexp")?);
        }
        for (i, h) in rule.hosts.iter().enumerate() {
            matchers.push(HostMatcher::parse(&h.value, h.is_regexp, &format!("hosts[{i}].value"))?);
        }
        Ok(matchers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcards() {
        let m = |v| HostMatcher::parse(v, false, "host").unwrap();
        assert!(m("Example.com").matches("example.com"));
        assert!(m("*.example.com").matches("api.example.com"));
        assert!(!m("*.example.com").matches("example.com"));
        assert!(m("www.*").matches("www.example.org"));
        assert!(!m("www.*").matches("api.example.org"));
        assert!(HostMatcher::parse("a.*.com", false, "host").is_err());
    }
}
