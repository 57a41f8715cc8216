//! The `oauth2` rule: the bearer token is either checked by the authorization server
//! (`tokenIntrospect`, RFC 7662, through the host's outbound call to `endPoint`, the
//! only URL this filter may reach) or verified locally as an HMAC-signed JWT (`jwt`).

use crate::jwt::{Jwt, JwtSpec};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use weir_sdk::http::{self, OutgoingRequest};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Spec {
    #[serde(default)]
    token_introspect: Option<IntrospectSpec>,
    #[serde(default)]
    jwt: Option<HmacJwtSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IntrospectSpec {
    end_point: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    /// `user:password` sent as HTTP basic authentication instead of the client's.
    #[serde(default)]
    basic_auth: Option<String>,
    /// Accepted for Easegress specs; the host's outbound client always verifies TLS.
    #[serde(default)]
    insecure_tls: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HmacJwtSpec {
    algorithm: String,
    secret: String,
}

pub enum OAuth2 {
    Introspect {
        end_point: String,
        authorization: Option<String>,
        client_form: String,
    },
    Jwt(Jwt),
}

/// `application/x-www-form-urlencoded` escaping.
fn form(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl OAuth2 {
    pub fn new(spec: OAuth2Spec) -> Result<OAuth2, String> {
        match (spec.token_introspect, spec.jwt) {
            (Some(t), None) => {
                let _ = t.insecure_tls;
                let authorization = match (&t.basic_auth, &t.client_id) {
                    (Some(user_pass), _) => Some(format!("Basic {}", STANDARD.encode(user_pass))),
                    (None, Some(id)) => Some(format!(
                        "Basic {}",
                        STANDARD.encode(format!("{id}:{}", t.client_secret.as_deref().unwrap_or("")))
                    )),
                    (None, None) => None,
                };
                let client_form = match &t.client_id {
                    Some(id) if t.basic_auth.is_some() => format!("&client_id={}", form(id)),
                    _ => String::new(),
                };
                Ok(OAuth2::Introspect {
                    end_point: t.end_point,
                    authorization,
                    client_form,
                })
            }
            (None, Some(j)) if j.algorithm.starts_with("HS") => {
                Ok(OAuth2::Jwt(Jwt::new(JwtSpec::hmac(j.algorithm, j.secret))?))
            }
            (None, Some(_)) => Err("oauth2.jwt.algorithm must be HS256, HS384 or HS512".into()),
            _ => Err("oauth2 needs exactly one of tokenIntrospect and jwt".into()),
        }
    }

    /// Whether the bearer token in `authorization` is active; `now` in seconds.
    pub fn check(&self, authorization: Option<&str>, now: u64) -> Result<(), String> {
        let token = authorization
            .and_then(|a| a.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or("no bearer token")?;
        match self {
            OAuth2::Jwt(jwt) => jwt.verify(token, now),
            OAuth2::Introspect {
                end_point,
                authorization,
                client_form,
            } => {
                let mut headers = vec![(
                    "content-type".to_string(),
                    "application/x-www-form-urlencoded".to_string(),
                )];
                headers.extend(authorization.iter().map(|a| ("authorization".to_string(), a.clone())));
                let response = http::call(&OutgoingRequest {
                    method: "POST".into(),
                    url: end_point.clone(),
                    headers,
                    body: format!("token={}&token_type_hint=access_token{client_form}", form(token)).into_bytes(),
                    timeout_millis: Some(5000),
                })?;
                if response.status != 200 {
                    return Err(format!("introspection answered {}", response.status));
                }
                let answer: serde_json::Value =
                    serde_json::from_slice(&response.body).map_err(|_| "introspection answer is not JSON")?;
                if answer["active"] == true {
                    Ok(())
                } else {
                    Err("token is not active".into())
                }
            }
        }
    }
}
