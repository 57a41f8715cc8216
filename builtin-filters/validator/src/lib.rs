//! `kind: Validator`: every configured rule must pass, or the request gets an empty
//! error response and the result `invalid`. `headers`: every configured header must
//! have a value that equals one of `values` or matches `regexp` (else 400). `jwt`: a
//! valid JSON Web Token (else 401). `oauth2`: a bearer token the authorization server
//! says is active, or a valid HMAC JWT (else 401). `signature`: an AWS Signature V4
//! style HMAC signature by a known access key, recent enough (else 401). `basicAuth`:
//! credentials found in an htpasswd file (else 401; on success `X-AUTH-USER` names the
//! user).

mod basic_auth;
mod jwt;
mod oauth2;
mod signature;
mod sigv4;

use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::{BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    /// Header name → the rule its values must meet.
    #[serde(default)]
    headers: BTreeMap<String, HeaderRule>,
    #[serde(default)]
    jwt: Option<jwt::JwtSpec>,
    #[serde(default)]
    signature: Option<signature::SignatureSpec>,
    #[serde(default)]
    oauth2: Option<oauth2::OAuth2Spec>,
    #[serde(default)]
    basic_auth: Option<basic_auth::BasicAuthSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HeaderRule {
    /// Accepted values, compared exactly.
    #[serde(default)]
    values: Vec<String>,
    /// A regular expression a value may match instead.
    #[serde(default)]
    regexp: Option<String>,
}

struct Rule {
    header: String,
    values: Vec<String>,
    regexp: Option<Regex>,
}

impl Rule {
    fn accepts(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value) || self.regexp.as_ref().is_some_and(|r| r.is_match(value))
    }
}

pub struct Validator {
    rules: Vec<Rule>,
    jwt: Option<jwt::Jwt>,
    signature: Option<signature::Signature>,
    oauth2: Option<oauth2::OAuth2>,
    basic_auth: Option<basic_auth::BasicAuth>,
}

impl Filter for Validator {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        if spec.headers.is_empty()
            && spec.jwt.is_none()
            && spec.signature.is_none()
            && spec.oauth2.is_none()
            && spec.basic_auth.is_none()
        {
            return Err(
                "a Validator needs at least one rule: `headers`, `jwt`, `signature`, `oauth2` or `basicAuth`".into(),
            );
        }
        let basic_auth = spec.basic_auth.map(basic_auth::BasicAuth::new).transpose()?;
        let oauth2 = spec.oauth2.map(oauth2::OAuth2::new).transpose()?;
        let jwt = spec.jwt.map(jwt::Jwt::new).transpose()?;
        let signature = spec.signature.map(signature::Signature::new).transpose()?;
        let mut rules = Vec::new();
        for (header, rule) in spec.headers {
            if rule.values.is_empty() && rule.regexp.is_none() {
                return Err(format!("headers.{header}: give `values` or `regexp`"));
            }
            let regexp = match rule.regexp {
                Some(r) => Some(Regex::new(&r).map_err(|e| format!("headers.{header}.regexp: {e}"))?),
                None => None,
            };
            rules.push(Rule {
                header,
                values: rule.values,
                regexp,
            });
        }
        // Only a signature (which may hash the body) and OAuth2 (which may ask another
        // service) can wait; without them every call is plain.
        if signature.is_none() && oauth2.is_none() {
            weir_sdk::runtime::never_waits();
        }
        Ok(Validator {
            rules,
            jwt,
            signature,
            oauth2,
            basic_auth,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        // Header rules read through the exchange, one host call each, so that the
        // common header-only Validator never fetches a request handle.
        for rule in &self.rules {
            let Some(values) = exchange.request_header_values(&rule.header) else {
                return invalid(exchange);
            };
            if !values.iter().any(|v| rule.accepts(v)) {
                return invalid(exchange);
            }
        }
        if self.jwt.is_none() && self.signature.is_none() && self.oauth2.is_none() && self.basic_auth.is_none() {
            return Outcome::Continue;
        }
        let Some(request) = exchange.request() else {
            return invalid(exchange);
        };
        if let Some(jwt) = &self.jwt {
            let token = jwt.token(
                &request.header_all("cookie"),
                request.header("authorization").as_deref(),
            );
            let now = weir_sdk::clock::now_millis() / 1000;
            if let Err(e) = token
                .ok_or_else(|| "no token".to_string())
                .and_then(|t| jwt.verify(&t, now))
            {
                weir_sdk::log::debug(&format!("jwt refused: {e}"));
                return unauthorized(exchange);
            }
        }
        if let Some(signature) = &self.signature {
            if let Err(e) = signature.check(&request, weir_sdk::clock::now_millis()) {
                weir_sdk::log::debug(&format!("signature refused: {e}"));
                return unauthorized(exchange);
            }
        }
        if let Some(oauth2) = &self.oauth2 {
            let now = weir_sdk::clock::now_millis() / 1000;
            if let Err(e) = oauth2.check(request.header("authorization").as_deref(), now) {
                weir_sdk::log::debug(&format!("oauth2 refused: {e}"));
                return unauthorized(exchange);
            }
        }
        if let Some(basic) = &self.basic_auth {
            match basic.check(request.header("authorization").as_deref()) {
                // Easegress tells later filters and the backend who signed in.
                Some(user) => {
                    let _ = request.set_header("X-AUTH-USER", &user);
                }
                None => return unauthorized(exchange),
            }
        }
        Outcome::Continue
    }
}

/// Like Easegress: an empty 400 in the step's namespace, and the result `invalid` so
/// that `jumpIf` can send the flow to a custom failure response (or END).
fn invalid(exchange: &Exchange) -> Outcome {
    // Setting an empty 400 cannot fail: it has no headers to reject.
    let _ = exchange.set_response(BuiltResponse::new(400));
    Outcome::Result("invalid".into())
}

/// The authentication rules answer 401, as Easegress's do.
fn unauthorized(exchange: &Exchange) -> Outcome {
    let _ = exchange.set_response(BuiltResponse::new(401));
    Outcome::Result("invalid".into())
}

weir_sdk::export_filter!(Validator);
