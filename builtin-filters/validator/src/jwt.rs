//! The `jwt` rule: a JSON Web Token from a cookie or `Authorization: Bearer`, signed
//! with the configured algorithm (HS256/384/512 with a hex `secret`, RS256/384/512 or
//! ES256/ES384 with a `publicKey` given as hex of a PEM, or as the PEM itself), not
//! expired (`exp`) and already valid (`nbf`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha384, Sha512};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtSpec {
    algorithm: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    cookie_name: Option<String>,
}

enum Key {
    Hmac(Vec<u8>),
    Rsa(Box<rsa::RsaPublicKey>),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

pub struct Jwt {
    algorithm: String,
    key: Key,
    cookie_name: Option<String>,
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| format!("not hex: {:?}", &text[i..i + 2])))
        .collect()
}

/// Easegress takes the PEM hex-encoded; a PEM pasted as it is works too.
fn pem(text: &str) -> Result<String, String> {
    if text.trim_start().starts_with("-----BEGIN") {
        return Ok(text.to_string());
    }
    String::from_utf8(hex(text)?).map_err(|_| "publicKey is not hex of a PEM".to_string())
}

impl JwtSpec {
    /// An HMAC spec, for OAuth2's locally verified tokens.
    pub fn hmac(algorithm: String, secret: String) -> JwtSpec {
        JwtSpec {
            algorithm,
            secret: Some(secret),
            public_key: None,
            cookie_name: None,
        }
    }
}

impl Jwt {
    pub fn new(spec: JwtSpec) -> Result<Jwt, String> {
        use rsa::pkcs8::DecodePublicKey;
        let public = || -> Result<String, String> {
            pem(spec
                .public_key
                .as_deref()
                .ok_or("jwt.publicKey is required for RS and ES algorithms")?)
        };
        let key = match spec.algorithm.as_str() {
            "HS256" | "HS384" | "HS512" => Key::Hmac(
                hex(spec
                    .secret
                    .as_deref()
                    .ok_or("jwt.secret is required for HS algorithms")?)
                .map_err(|e| format!("jwt.secret: {e}"))?,
            ),
            "RS256" | "RS384" | "RS512" => Key::Rsa(Box::new(
                rsa::RsaPublicKey::from_public_key_pem(&public()?)
                    .or_else(|_| {
                        use rsa::pkcs1::DecodeRsaPublicKey;
                        rsa::RsaPublicKey::from_pkcs1_pem(&public()?).map_err(|e| e.to_string())
                    })
                    .map_err(|e| format!("jwt.publicKey: {e}"))?,
            )),
            "ES256" => Key::P256(
                p256::ecdsa::VerifyingKey::from_public_key_pem(&public()?)
                    .map_err(|e| format!("jwt.publicKey: {e}"))?,
            ),
            "ES384" => Key::P384(
                p384::ecdsa::VerifyingKey::from_public_key_pem(&public()?)
                    .map_err(|e| format!("jwt.publicKey: {e}"))?,
            ),
            other => {
                return Err(format!(
                    "jwt.algorithm {other:?} is not supported (HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384)"
                ))
            }
        };
        Ok(Jwt {
            algorithm: spec.algorithm,
            key,
            cookie_name: spec.cookie_name.filter(|c| !c.is_empty()),
        })
    }

    /// The token: the cookie when one is configured and sent, else the bearer token.
    pub fn token(&self, cookies: &[String], authorization: Option<&str>) -> Option<String> {
        if let Some(name) = &self.cookie_name {
            for header in cookies {
                for pair in header.split(';') {
                    if let Some((k, v)) = pair.trim().split_once('=') {
                        if k == name {
                            return Some(v.to_string());
                        }
                    }
                }
            }
        }
        let auth = authorization?;
        let (scheme, token) = auth.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
    }

    /// Checks the token's signature and times; `now` is seconds since the epoch.
    pub fn verify(&self, token: &str, now: u64) -> Result<(), String> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not three parts".into());
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| "bad base64url".to_string());
        let head: serde_json::Value = serde_json::from_slice(&decode(header)?).map_err(|_| "bad header")?;
        // The algorithm is the configured one, never the token's choice.
        if head["alg"] != self.algorithm.as_str() {
            return Err(format!("algorithm {} is not {}", head["alg"], self.algorithm));
        }
        let signed = &token[..header.len() + 1 + payload.len()];
        let signature = decode(signature)?;
        self.check_signature(signed.as_bytes(), &signature)?;
        let claims: serde_json::Value = serde_json::from_slice(&decode(payload)?).map_err(|_| "bad payload")?;
        let time = |name: &str| claims.get(name).and_then(serde_json::Value::as_f64);
        if time("exp").is_some_and(|exp| (now as f64) >= exp) {
            return Err("expired".into());
        }
        if time("nbf").is_some_and(|nbf| (now as f64) < nbf) {
            return Err("not valid yet".into());
        }
        Ok(())
    }

    fn check_signature(&self, signed: &[u8], signature: &[u8]) -> Result<(), String> {
        let bits = &self.algorithm[2..];
        let ok = match &self.key {
            Key::Hmac(secret) => {
                let ok = |r: Result<(), hmac::digest::MacError>| r.is_ok();
                match bits {
                    "256" => ok(mac::<Hmac<Sha256>>(secret, signed).verify_slice(signature)),
                    "384" => ok(mac::<Hmac<Sha384>>(secret, signed).verify_slice(signature)),
                    _ => ok(mac::<Hmac<Sha512>>(secret, signed).verify_slice(signature)),
                }
            }
            Key::Rsa(key) => {
                use rsa::Pkcs1v15Sign;
                let result = match bits {
                    "256" => key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(signed), signature),
                    "384" => key.verify(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(signed), signature),
                    _ => key.verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(signed), signature),
                };
                result.is_ok()
            }
            Key::P256(key) => {
                use p256::ecdsa::signature::Verifier;
                p256::ecdsa::Signature::from_slice(signature).is_ok_and(|s| key.verify(signed, &s).is_ok())
            }
            Key::P384(key) => {
                use p384::ecdsa::signature::Verifier;
                p384::ecdsa::Signature::from_slice(signature).is_ok_and(|s| key.verify(signed, &s).is_ok())
            }
        };
        if ok {
            Ok(())
        } else {
            Err("bad signature".into())
        }
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], data: &[u8]) -> M {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(data);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs256(secret: &[u8], claims: &str) -> String {
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims);
        let signed = format!("{head}.{body}");
        let sig = mac::<Hmac<Sha256>>(secret, signed.as_bytes()).finalize().into_bytes();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn jwt(secret_hex: &str) -> Jwt {
        Jwt::new(JwtSpec {
            algorithm: "HS256".into(),
            secret: Some(secret_hex.into()),
            public_key: None,
            cookie_name: Some("auth".into()),
        })
        .unwrap()
    }

    #[test]
    fn hs256_signature_and_times() {
        let v = jwt("736563726574");
        assert_eq!(v.verify(&hs256(b"secret", r#"{"exp":2000}"#), 1000), Ok(()));
        assert_eq!(
            v.verify(&hs256(b"secret", r#"{"exp":2000}"#), 2000),
            Err("expired".into())
        );
        assert_eq!(
            v.verify(&hs256(b"secret", r#"{"nbf":2000}"#), 1000),
            Err("not valid yet".into())
        );
        assert_eq!(v.verify(&hs256(b"other", r#"{}"#), 1000), Err("bad signature".into()));
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert!(v.verify(&none, 1000).is_err(), "alg none is refused");
    }

    #[test]
    fn token_from_cookie_then_bearer() {
        let v = jwt("00");
        assert_eq!(
            v.token(&["a=1; auth=tok".into()], Some("Bearer other")).as_deref(),
            Some("tok")
        );
        assert_eq!(v.token(&[], Some("Bearer other")).as_deref(), Some("other"));
        assert_eq!(v.token(&[], Some("Basic x")), None);
    }

    #[test]
    fn bad_specs_are_refused() {
        let spec = |alg: &str| JwtSpec {
            algorithm: alg.into(),
            secret: None,
            public_key: Some("zz".into()),
            cookie_name: None,
        };
        assert!(Jwt::new(spec("HS256")).is_err());
        assert!(Jwt::new(spec("RS256")).is_err());
        assert!(Jwt::new(spec("EdDSA")).is_err());
    }
}
