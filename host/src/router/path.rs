//! One compiled `paths` entry of a rule: what it matches, how it rewrites, where it goes.

use super::ip_filter::IpFilter;
use crate::config::http_server::{KeyMatchSpec, PathSpec};
use crate::config::FieldError;
use crate::registry::PipelineSlot;
use http::{HeaderMap, Method};
use regex::Regex;
use std::borrow::Cow;

#[derive(Debug)]
pub struct PathRoute {
    exact: Option<String>,
    prefix: Option<String>,
    regexp: Option<Regex>,
    rewrite_target: Option<String>,
    methods: Vec<Method>,
    headers: Vec<KeyMatcher>,
    match_all_header: bool,
    queries: Vec<KeyMatcher>,
    match_all_query: bool,
    pub ip_filter: Option<IpFilter>,
    pub backend: String,
    pub pipeline: PipelineSlot,
    pub client_max_body_size: Option<i64>,
}

/// A header or query condition: equal to one of `values`, or matching `regexp`.
#[derive(Debug)]
struct KeyMatcher {
    key: String,
    values: Vec<String>,
    regexp: Option<Regex>,
}

impl KeyMatcher {
    fn build(spec: &KeyMatchSpec, field: &str) -> Result<KeyMatcher, FieldError> {
        if spec.values.is_empty() && spec.regexp.is_none() {
            return Err(FieldError::new(field, "needs `values` or `regexp`"));
        }
        let regexp = spec
            .regexp
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| FieldError::new(format!("{field}.regexp"), format!("bad regular expression: {e}")))?;
        Ok(KeyMatcher {
            key: spec.key.clone(),
            values: spec.values.clone(),
            regexp,
        })
    }

    fn matches_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value) || self.regexp.as_ref().is_some_and(|re| re.is_match(value))
    }
}

impl PathRoute {
    pub fn build(spec: &PathSpec, pipeline: PipelineSlot) -> Result<PathRoute, FieldError> {
        let regexp = spec
            .path_regexp
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(Regex::new)
            .transpose()
            .map_err(|e| FieldError::new("pathRegexp", format!("bad regular expression: {e}")))?;
        let methods = spec
            .methods
            .iter()
            .enumerate()
            .map(|(i, m)| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| FieldError::new(format!("methods[{i}]"), format!("{m:?} is not an HTTP method")))
            })
            .collect::<Result<_, _>>()?;
        let keys = |list: &[KeyMatchSpec], field: &str| -> Result<Vec<KeyMatcher>, FieldError> {
            list.iter()
                .enumerate()
                .map(|(i, k)| KeyMatcher::build(k, &format!("{field}[{i}]")))
                .collect()
        };
        if spec.backend.is_empty() {
            return Err(FieldError::new("backend", "must name a pipeline"));
        }
        Ok(PathRoute {
            exact: spec.path.clone().filter(|p| !p.is_empty()),
            prefix: spec.path_prefix.clone().filter(|p| !p.is_empty()),
            regexp,
            rewrite_target: spec.rewrite_target.clone().filter(|p| !p.is_empty()),
            methods,
            headers: keys(&spec.headers, "headers")?,
            match_all_header: spec.match_all_header,
            queries: keys(&spec.queries, "queries")?,
            match_all_query: spec.match_all_query,
            ip_filter: spec
                .ip_filter
                .as_ref()
                .map(IpFilter::build)
                .transpose()
                .map_err(|e| e.within("ipFilter"))?,
            backend: spec.backend.clone(),
            pipeline,
            client_max_body_size: spec.client_max_body_size,
        })
    }

    pub fn matches_path(&self, path: &str) -> bool {
        if self.exact.is_none() && self.prefix.is_none() && self.regexp.is_none() {
            return true;
        }
        self.exact.as_deref() == Some(path)
            || self.prefix.as_deref().is_some_and(|p| path.starts_with(p))
            || self.regexp.as_ref().is_some_and(|re| re.is_match(path))
    }

    pub fn matches_method(&self, method: &Method) -> bool {
        self.methods.is_empty() || self.methods.contains(method)
    }

    pub fn matches_headers(&self, headers: &HeaderMap) -> bool {
        let one = |m: &KeyMatcher| {
            let values = headers.get_all(m.key.as_str());
            let mut any = false;
            for v in values {
                any = true;
                if v.to_str().is_ok_and(|v| m.matches_value(v)) {
                    return true;
                }
            }
            // An absent header can still satisfy a regexp that accepts "".
            !any && m.matches_value("")
        };
        combine(&self.headers, self.match_all_header, one)
    }

    pub fn matches_query(&self, query: Option<&str>) -> bool {
        let one = |m: &KeyMatcher| {
            let mut any = false;
            for (key, value) in query_pairs(query.unwrap_or("")) {
                if key == m.key {
                    any = true;
                    if m.matches_value(&value) {
                        return true;
                    }
                }
            }
            !any && m.matches_value("")
        };
        combine(&self.queries, self.match_all_query, one)
    }

    /// The rewritten path, if this entry rewrites. The same alternative that matched is
    /// used: exact, then prefix, then regexp.
    pub fn rewrite<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        let target = self.rewrite_target.as_deref()?;
        if self.exact.as_deref() == Some(path) {
            return Some(Cow::Owned(target.to_string()));
        }
        if let Some(rest) = self.prefix.as_deref().and_then(|p| path.strip_prefix(p)) {
            return Some(Cow::Owned(format!("{target}{rest}")));
        }
        if let Some(re) = &self.regexp {
            if re.is_match(path) {
                return Some(re.replace_all(path, target));
            }
        }
        None
    }
}

fn combine(matchers: &[KeyMatcher], all: bool, one: impl Fn(&KeyMatcher) -> bool) -> bool {
    if matchers.is_empty() {
        return true;
    }
    if all {
        matchers.iter().all(one)
    } else {
        matchers.iter().any(one)
    }
}

/// `a=1&b=x%20y` → (`a`, `1`), (`b`, `x y`), percent- and `+`-decoded.
fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let pairs: Vec<_> = query_pairs("a=1&b=x%20y+z&c&d=%zz").collect();
        assert_eq!(pairs[0], ("a".into(), "1".into()));
        assert_eq!(pairs[1], ("b".into(), "x y z".into()));
        assert_eq!(pairs[2], ("c".into(), "".into()));
        assert_eq!(pairs[3], ("d".into(), "%zz".into()));
    }
}
