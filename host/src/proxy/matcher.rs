//! Choosing which requests a candidate or mirror pool takes.

use super::balance::{fnv32, ip_hash};
use super::spec::{RequestMatcherSpec, StringMatcherSpec};
use crate::config::FieldError;
use crate::http::Request;
use http::{HeaderName, Method};
use regex::Regex;
use std::net::IpAddr;

/// `{exact, prefix, regex, empty}`: any one that is set may match.
#[derive(Debug)]
pub struct StringMatcher {
    exact: Option<String>,
    prefix: Option<String>,
    regex: Option<Regex>,
    empty: bool,
}

impl StringMatcher {
    pub fn build(spec: &StringMatcherSpec, field: &str) -> Result<StringMatcher, FieldError> {
        let regex = spec
            .regex
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| FieldError::new(format!("{field}.regex"), format!("bad regular expression: {e}")))?;
        if spec.exact.is_none() && spec.prefix.is_none() && regex.is_none() && !spec.empty {
            return Err(FieldError::new(field, "needs one of exact, prefix, regex or empty"));
        }
        Ok(StringMatcher {
            exact: spec.exact.clone(),
            prefix: spec.prefix.clone(),
            regex,
            empty: spec.empty,
        })
    }

    pub fn matches(&self, value: &str) -> bool {
        (self.empty && value.is_empty())
            || self.exact.as_deref() == Some(value)
            || self.prefix.as_deref().is_some_and(|p| value.starts_with(p))
            || self.regex.as_ref().is_some_and(|re| re.is_match(value))
    }
}

#[derive(Debug)]
pub enum RequestMatcher {
    General {
        headers: Vec<(HeaderName, StringMatcher)>,
        match_all_headers: bool,
        urls: Vec<(Vec<Method>, StringMatcher)>,
    },
    /// Takes the requests whose hash (or random draw) modulo 1000 is below `permil`.
    Share { key: ShareKey, permil: u32 },
}

#[derive(Debug)]
pub enum ShareKey {
    ClientIp,
    Header(HeaderName),
    Random,
}

impl RequestMatcher {
    pub fn build(spec: &RequestMatcherSpec) -> Result<RequestMatcher, FieldError> {
        let policy = spec.policy.as_deref().unwrap_or("general");
        let share = |key| {
            if spec.permil > 1000 {
                return Err(FieldError::new("permil", "must be between 0 and 1000"));
            }
            Ok(RequestMatcher::Share {
                key,
                permil: spec.permil,
            })
        };
        match policy {
            "general" | "" => {
                if spec.headers.is_empty() && spec.urls.is_empty() {
                    return Err(FieldError::new(
                        "headers",
                        "the general policy needs `headers` or `urls` to match",
                    ));
                }
                let headers = spec
                    .headers
                    .iter()
                    .map(|(name, m)| {
                        let header = HeaderName::from_bytes(name.as_bytes())
                            .map_err(|_| FieldError::new(format!("headers.{name}"), "not a valid header name"))?;
                        Ok((header, StringMatcher::build(m, &format!("headers.{name}"))?))
                    })
                    .collect::<Result<_, FieldError>>()?;
                let urls = spec
                    .urls
                    .iter()
                    .enumerate()
                    .map(|(i, u)| {
                        let methods = u
                            .methods
                            .iter()
                            .map(|m| {
                                Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| {
                                    FieldError::new(format!("urls[{i}].methods"), format!("{m:?} is not a method"))
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok((methods, StringMatcher::build(&u.url, &format!("urls[{i}].url"))?))
                    })
                    .collect::<Result<_, FieldError>>()?;
                Ok(RequestMatcher::General {
                    headers,
                    match_all_headers: spec.match_all_headers,
                    urls,
                })
            }
            "ipHash" => share(ShareKey::ClientIp),
            "headerHash" => {
                let name = spec
                    .header_hash_key
                    .as_deref()
                    .ok_or_else(|| FieldError::new("headerHashKey", "the headerHash policy needs headerHashKey"))?;
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| FieldError::new("headerHashKey", "not a valid header name"))?;
                share(ShareKey::Header(header))
            }
            "random" => share(ShareKey::Random),
            other => Err(FieldError::new(
                "policy",
                format!("unknown policy {other:?} (known: general, ipHash, headerHash, random)"),
            )),
        }
    }

    pub fn matches(&self, request: &Request, client: IpAddr) -> bool {
        match self {
            RequestMatcher::General {
                headers,
                match_all_headers,
                urls,
            } => {
                let header_ok = |(name, m): &(HeaderName, StringMatcher)| {
                    m.matches(request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or(""))
                };
                let headers_ok = headers.is_empty()
                    || if *match_all_headers {
                        headers.iter().all(header_ok)
                    } else {
                        headers.iter().any(header_ok)
                    };
                let urls_ok = urls.is_empty()
                    || urls.iter().any(|(methods, m)| {
                        (methods.is_empty() || methods.contains(request.method())) && m.matches(request.uri().path())
                    });
                headers_ok && urls_ok
            }
            RequestMatcher::Share { key, permil } => {
                let draw = match key {
                    ShareKey::ClientIp => ip_hash(client),
                    ShareKey::Header(name) => fnv32(request.headers().get(name).map(|v| v.as_bytes()).unwrap_or(b"")),
                    ShareKey::Random => fastrand::u32(..),
                };
                draw % 1000 < *permil
            }
        }
    }
}
