//! The `signature` rule: an HMAC-SHA256 request signature in the manner of AWS
//! Signature V4, with the header and parameter names (the "literals") configurable.
//! The signature comes in the `Authorization` header
//! (`ALGORITHM Credential=ID/DATE/SCOPE.../SUFFIX, SignedHeaders=a;b, Signature=HEX`,
//! the time in the date header) or in query parameters (a presigned URL, which also
//! carries how many seconds it stays valid). The rule rebuilds the canonical request
//! from what arrived and checks the signature with the access key's secret.

use crate::sigv4;
use hmac::Mac;
use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::Request;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatureSpec {
    /// Names and fixed strings of the scheme; a field left out keeps its default.
    #[serde(default)]
    literal: Option<LiteralSpec>,
    /// The body is not signed: clients sign `UNSIGNED-PAYLOAD` in place of its hash.
    #[serde(default)]
    exclude_body: bool,
    /// How far from now a signature's time may be, a Go duration; none or 0: any.
    #[serde(default)]
    ttl: Option<String>,
    /// Access key id → secret.
    #[serde(default)]
    access_keys: BTreeMap<String, String>,
    /// One more key pair, under the names Easegress's signer uses for its own.
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    access_key_secret: Option<String>,
    /// Only for signers (which headers to leave unsigned): a verifier checks the
    /// headers the signature lists.
    #[serde(default)]
    ignored_headers: Vec<String>,
    /// Only for signers (which headers a presigned URL carries as parameters).
    #[serde(default)]
    header_hoisting: Option<HeaderHoistingSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "parsed so that a signer's spec pastes unchanged and typos are caught; a verifier has no use for it"
)]
struct HeaderHoistingSpec {
    #[serde(default)]
    allowed_prefix: Vec<String>,
    #[serde(default)]
    disallowed_prefix: Vec<String>,
    #[serde(default)]
    disallowed: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LiteralSpec {
    /// The last part of the credential scope (`aws4_request` in AWS).
    scope_suffix: Option<String>,
    /// The query parameter naming the algorithm in a presigned URL.
    algorithm_name: Option<String>,
    /// The algorithm's name: the `Authorization` scheme and the first line signed.
    algorithm_value: Option<String>,
    /// The query parameter listing the signed headers in a presigned URL.
    signed_headers: Option<String>,
    /// The query parameter holding a presigned URL's signature.
    signature: Option<String>,
    /// The header (or query parameter) holding the request time, `YYYYMMDDTHHMMSSZ`.
    date: Option<String>,
    /// The query parameter holding a presigned URL's lifetime in seconds.
    expires: Option<String>,
    /// The query parameter holding a presigned URL's credential.
    credential: Option<String>,
    /// The header a signer puts the body hash in; the verifier hashes the body itself.
    content_sha256: Option<String>,
    /// Put before the secret to make the first key (`AWS4` in AWS).
    signing_key_prefix: Option<String>,
}

struct Literal {
    scope_suffix: String,
    algorithm_name: String,
    algorithm_value: String,
    signed_headers: String,
    signature: String,
    date: String,
    expires: String,
    credential: String,
    signing_key_prefix: String,
}

impl Literal {
    /// The defaults Easegress's reference documents.
    fn documented() -> Literal {
        Literal {
            scope_suffix: "request".into(),
            algorithm_name: "X-Algorithm".into(),
            algorithm_value: "HMAC-SHA256".into(),
            signed_headers: "X-SignedHeaders".into(),
            signature: "X-Signature".into(),
            date: "X-Date".into(),
            expires: "X-Expires".into(),
            credential: "X-Credential".into(),
            signing_key_prefix: String::new(),
        }
    }

    /// The defaults Easegress's code actually uses (its clients sign with these).
    fn easegress_code() -> Literal {
        Literal {
            scope_suffix: "megaease_request".into(),
            algorithm_name: "X-Me-Algorithm".into(),
            algorithm_value: "ME-HMAC-SHA256".into(),
            signed_headers: "X-Me-SignedHeaders".into(),
            signature: "X-Me-Signature".into(),
            date: "X-Me-Date".into(),
            expires: "X-Me-Expires".into(),
            credential: "X-Me-Credential".into(),
            signing_key_prefix: "ME".into(),
        }
    }

    fn from_spec(spec: LiteralSpec) -> Literal {
        let base = Literal::documented();
        let _ = spec.content_sha256;
        Literal {
            scope_suffix: spec.scope_suffix.unwrap_or(base.scope_suffix),
            algorithm_name: spec.algorithm_name.unwrap_or(base.algorithm_name),
            algorithm_value: spec.algorithm_value.unwrap_or(base.algorithm_value),
            signed_headers: spec.signed_headers.unwrap_or(base.signed_headers),
            signature: spec.signature.unwrap_or(base.signature),
            date: spec.date.unwrap_or(base.date),
            expires: spec.expires.unwrap_or(base.expires),
            credential: spec.credential.unwrap_or(base.credential),
            signing_key_prefix: spec.signing_key_prefix.unwrap_or(base.signing_key_prefix),
        }
    }
}

/// What a request claims about its signature.
struct Presented<'a> {
    literal: &'a Literal,
    /// A presigned URL rather than an `Authorization` header.
    in_query: bool,
    credential: String,
    signed_headers: String,
    signature: String,
    timestamp: String,
    /// A presigned URL's lifetime.
    expires_secs: Option<u64>,
}

pub struct Signature {
    /// Tried in order; the first whose algorithm the request names is used.
    literals: Vec<Literal>,
    exclude_body: bool,
    /// 0: a signature's time is not checked against the clock.
    ttl_millis: u64,
    secrets: BTreeMap<String, String>,
}

impl Signature {
    pub fn new(spec: SignatureSpec) -> Result<Signature, String> {
        let _ = (spec.ignored_headers, spec.header_hoisting);
        let literals = match spec.literal {
            Some(literal) => vec![Literal::from_spec(literal)],
            // Easegress's docs and code disagree on the defaults: accept both.
            None => vec![Literal::documented(), Literal::easegress_code()],
        };
        for literal in &literals {
            if literal.algorithm_value.is_empty() || literal.algorithm_value.contains(' ') {
                return Err("signature.literal.algorithmValue must be one word".into());
            }
        }
        let ttl_millis = match spec.ttl.as_deref() {
            Some(ttl) => weir_builtin_common::parse_millis(ttl).map_err(|e| format!("signature.ttl: {e}"))?,
            None => 0,
        };
        let mut secrets = spec.access_keys;
        match (spec.access_key_id, spec.access_key_secret) {
            (Some(id), Some(secret)) => {
                secrets.insert(id, secret);
            }
            (None, None) => {}
            _ => return Err("signature: give accessKeyId and accessKeySecret together".into()),
        }
        if secrets.is_empty() {
            return Err("signature.accessKeys: give at least one `id: secret`".into());
        }
        Ok(Signature {
            literals,
            exclude_body: spec.exclude_body,
            ttl_millis,
            secrets,
        })
    }

    /// Whether `request` carries a valid signature by a known key; `now_millis` is
    /// the host's wall clock.
    pub fn check(&self, request: &Request, now_millis: u64) -> Result<(), String> {
        let query = sigv4::query_pairs(request.query().as_deref());
        let presented = self.presented(request, &query)?;
        let literal = presented.literal;

        // ID/DATE/SCOPE.../SUFFIX; the scope signed is all of it but the ID.
        let (key_id, scope) = presented
            .credential
            .split_once('/')
            .ok_or("the credential has no scope")?;
        let parts: Vec<&str> = scope.split('/').collect();
        let [date, middle @ .., suffix] = parts.as_slice() else {
            return Err("the credential scope is too short".into());
        };
        if *suffix != literal.scope_suffix {
            return Err(format!("the credential scope does not end in {}", literal.scope_suffix));
        }
        let seconds =
            sigv4::parse_timestamp(&presented.timestamp).ok_or("the signature time is not YYYYMMDDTHHMMSSZ")?;
        if date.len() != 8 || !presented.timestamp.starts_with(date) {
            return Err("the credential date is not the signature's".into());
        }

        let signed_at = seconds.saturating_mul(1000);
        if self.ttl_millis > 0 && now_millis.abs_diff(signed_at) > self.ttl_millis {
            return Err("the signature time is outside the ttl".into());
        }
        if let Some(expires) = presented.expires_secs {
            if now_millis > signed_at.saturating_add(expires.saturating_mul(1000)) {
                return Err("the presigned URL has expired".into());
            }
        }
        let secret = self
            .secrets
            .get(key_id)
            .ok_or_else(|| format!("unknown access key id {key_id:?}"))?;

        let body_hash = if self.exclude_body {
            sigv4::UNSIGNED_PAYLOAD.to_string()
        } else {
            sigv4::sha256_hex(&request.body()?)
        };
        let mut headers = String::new();
        for name in presented.signed_headers.split(';') {
            if name.is_empty() {
                return Err("an empty name in the signed headers".into());
            }
            let value = if name.eq_ignore_ascii_case("host") {
                request.host().unwrap_or_default().trim().to_string()
            } else {
                sigv4::canonical_header_value(&request.header_all(name))
            };
            headers.push_str(name);
            headers.push(':');
            headers.push_str(&value);
            headers.push('\n');
        }
        // A presigned URL signs its own parameters but the signature; an Authorization
        // header signs the query without any of the scheme's parameters.
        let keep = |name: &str| {
            name != literal.signature
                && (presented.in_query
                    || ![
                        &literal.algorithm_name,
                        &literal.credential,
                        &literal.date,
                        &literal.expires,
                        &literal.signed_headers,
                    ]
                    .iter()
                    .any(|scheme_param| scheme_param.as_str() == name))
        };
        let canonical_request = format!(
            "{}\n{}\n{}\n{headers}\n{}\n{body_hash}",
            request.method(),
            sigv4::canonical_uri(&request.path()),
            sigv4::canonical_query(&query, keep),
            presented.signed_headers,
        );
        let string_to_sign = format!(
            "{}\n{}\n{scope}\n{}",
            literal.algorithm_value,
            presented.timestamp,
            sigv4::sha256_hex(canonical_request.as_bytes())
        );
        let key = sigv4::signing_key(
            format!("{}{secret}", literal.signing_key_prefix).as_bytes(),
            date,
            middle,
            suffix,
        );
        let claimed = base16ct::mixed::decode_vec(&presented.signature).map_err(|_| "the signature is not hex")?;
        // verify_slice compares in constant time.
        sigv4::hmac_sha256(&key, string_to_sign.as_bytes())
            .verify_slice(&claimed)
            .map_err(|_| "the signature does not match".to_string())
    }

    /// The signature the request carries: an `Authorization` header whose scheme is a
    /// literal's algorithm, else a query naming a literal's algorithm.
    fn presented(&self, request: &Request, query: &[(String, String)]) -> Result<Presented<'_>, String> {
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if let Some(authorization) = request.header("authorization") {
            let (scheme, rest) = authorization.trim().split_once(' ').unwrap_or((&authorization, ""));
            if let Some(literal) = self.literals.iter().find(|l| l.algorithm_value == scheme) {
                let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
                for part in rest.split(',') {
                    if let Some((name, value)) = part.trim().split_once('=') {
                        fields.insert(name, value);
                    }
                }
                let field = |name: &str| {
                    fields
                        .get(name)
                        .map(|v| v.to_string())
                        .ok_or_else(|| format!("the Authorization header has no {name}"))
                };
                return Ok(Presented {
                    literal,
                    in_query: false,
                    credential: field("Credential")?,
                    signed_headers: field("SignedHeaders")?,
                    signature: field("Signature")?,
                    timestamp: request
                        .header(&literal.date)
                        .ok_or_else(|| format!("no {} header", literal.date))?,
                    expires_secs: None,
                });
            }
        }
        let literal = self
            .literals
            .iter()
            .find(|l| param(&l.algorithm_name).as_deref() == Some(l.algorithm_value.as_str()))
            .ok_or("no signature in the Authorization header or the query")?;
        let required = |name: &str| param(name).ok_or_else(|| format!("no {name} parameter"));
        let expires = required(&literal.expires)?;
        Ok(Presented {
            literal,
            in_query: true,
            credential: required(&literal.credential)?,
            signed_headers: required(&literal.signed_headers)?,
            signature: required(&literal.signature)?,
            timestamp: required(&literal.date)?,
            expires_secs: Some(
                expires
                    .parse()
                    .map_err(|_| format!("{} is not a number of seconds", literal.expires))?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{TestExchange, TestRequest};

    fn aws(keys: &str, exclude_body: bool) -> Signature {
        let spec = format!(
            r#"{{"literal": {{"scopeSuffix": "aws4_request", "algorithmName": "X-Amz-Algorithm",
                "algorithmValue": "AWS4-HMAC-SHA256", "signedHeaders": "X-Amz-SignedHeaders",
                "signature": "X-Amz-Signature", "date": "X-Amz-Date", "expires": "X-Amz-Expires",
                "credential": "X-Amz-Credential", "contentSha256": "X-Amz-Content-Sha256",
                "signingKeyPrefix": "AWS4"}},
                "accessKeys": {keys}, "excludeBody": {exclude_body}, "ttl": "15m"}}"#
        );
        Signature::new(serde_json::from_str(&spec).unwrap()).unwrap()
    }

    fn check(signature: &Signature, request: TestRequest, now_secs: u64) -> Result<(), String> {
        signature.check(&TestExchange::new(request).request(), now_secs * 1000)
    }

    /// The worked example of AWS's Signature V4 documentation (IAM ListUsers).
    fn list_users(signature_hex: &str) -> TestRequest {
        TestRequest::get("/?Action=ListUsers&Version=2010-05-08")
            .header("Host", "iam.amazonaws.com")
            .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            .header("X-Amz-Date", "20150830T123600Z")
            .header(
                "Authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date, Signature={signature_hex}"
                ),
            )
    }

    const LIST_USERS_SIGNATURE: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    const AWS_KEYS: &str = r#"{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}"#;
    const SIGNED_AT: u64 = 1_440_938_160;

    #[test]
    fn the_aws_documentation_example_verifies() {
        let signature = aws(AWS_KEYS, false);
        assert_eq!(
            check(&signature, list_users(LIST_USERS_SIGNATURE), SIGNED_AT + 60),
            Ok(())
        );
        let upper = LIST_USERS_SIGNATURE.to_ascii_uppercase();
        assert_eq!(check(&signature, list_users(&upper), SIGNED_AT), Ok(()));
    }

    /// The worked example of docs/filters/Validator.md, with the default literals.
    #[test]
    fn the_documented_example_verifies_for_five_minutes() {
        let spec = r#"{"accessKeys": {"AKEXAMPLE": "example-secret"}, "ttl": "5m"}"#;
        let signature = Signature::new(serde_json::from_str(spec).unwrap()).unwrap();
        let request = |target: &str, host: &str| {
            TestRequest::get(target)
                .header("Host", host)
                .header("X-Date", "20261121T083000Z")
                .header(
                    "Authorization",
                    "HMAC-SHA256 Credential=AKEXAMPLE/20261121/eu/orders/request, SignedHeaders=host;x-date, \
                     Signature=7f25aff226e4eaff11201a3cd06ebf4bc1fc552913ee6dbdf491a01af9b68159",
                )
        };
        let example = || request("/orders?status=open&page=2", "api.example.com");
        let signed_at = 1_795_249_800;
        assert_eq!(check(&signature, example(), signed_at + 300), Ok(()));
        assert!(check(&signature, example(), signed_at + 301).is_err());
        let moved = request("/orders?status=open&page=2", "other.example.com");
        assert!(check(&signature, moved, signed_at).is_err());
        let requery = request("/orders?status=closed&page=2", "api.example.com");
        assert!(check(&signature, requery, signed_at).is_err());
    }

    #[test]
    fn changes_to_the_signed_request_are_refused() {
        let signature = aws(AWS_KEYS, false);
        let mismatch = Err("the signature does not match".to_string());
        let mut wrong = LIST_USERS_SIGNATURE.to_string();
        wrong.replace_range(0..1, "6");
        assert_eq!(check(&signature, list_users(&wrong), SIGNED_AT), mismatch);
        let body = list_users(LIST_USERS_SIGNATURE).body("Action=DeleteUser");
        assert_eq!(check(&signature, body, SIGNED_AT), mismatch);
        let other_secret = aws(r#"{"AKIDEXAMPLE": "not-the-secret"}"#, false);
        assert_eq!(
            check(&other_secret, list_users(LIST_USERS_SIGNATURE), SIGNED_AT),
            mismatch
        );
        let unknown = aws(r#"{"AKIDOTHER": "x"}"#, false);
        assert_eq!(
            check(&unknown, list_users(LIST_USERS_SIGNATURE), SIGNED_AT),
            Err("unknown access key id \"AKIDEXAMPLE\"".into())
        );
        // Without the body in the signature, the documented body hash is not the one
        // signed either: the client must have signed UNSIGNED-PAYLOAD.
        let unsigned = aws(AWS_KEYS, true);
        assert_eq!(check(&unsigned, list_users(LIST_USERS_SIGNATURE), SIGNED_AT), mismatch);
    }

    #[test]
    fn times_outside_the_ttl_are_refused() {
        let signature = aws(AWS_KEYS, false);
        let outside = Err("the signature time is outside the ttl".to_string());
        assert_eq!(
            check(&signature, list_users(LIST_USERS_SIGNATURE), SIGNED_AT + 901),
            outside
        );
        assert_eq!(
            check(&signature, list_users(LIST_USERS_SIGNATURE), SIGNED_AT - 901),
            outside
        );
        assert_eq!(
            check(&signature, list_users(LIST_USERS_SIGNATURE), SIGNED_AT - 900),
            Ok(())
        );
    }

    /// AWS's presigned URL example (S3 GetObject, unsigned payload).
    #[test]
    fn the_aws_presigned_url_example_verifies_until_it_expires() {
        let signature = aws(
            r#"{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#,
            true,
        );
        let request = || {
            TestRequest::get(
                "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                 &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
                 &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
                 &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            )
            .header("Host", "examplebucket.s3.amazonaws.com")
        };
        let signed_at = 1_369_353_600;
        // The example's ttl of 15 minutes is the tighter bound here.
        assert_eq!(check(&signature, request(), signed_at + 10), Ok(()));
        let days = Signature {
            ttl_millis: 0,
            ..aws(
                r#"{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#,
                true,
            )
        };
        assert_eq!(check(&days, request(), signed_at + 86_400), Ok(()));
        assert_eq!(
            check(&days, request(), signed_at + 86_401),
            Err("the presigned URL has expired".into())
        );
    }

    #[test]
    fn requests_without_a_signature_are_refused() {
        let signature = aws(AWS_KEYS, false);
        assert!(check(&signature, TestRequest::get("/"), SIGNED_AT).is_err());
        let basic = TestRequest::get("/").header("Authorization", "Basic YTpi");
        assert!(check(&signature, basic, SIGNED_AT).is_err());
    }

    #[test]
    fn specs_without_keys_or_with_half_a_pair_are_refused() {
        let new = |json: &str| Signature::new(serde_json::from_str(json).unwrap()).map(|_| ());
        assert!(new(r#"{}"#).is_err());
        assert!(new(r#"{"accessKeyId": "a"}"#).is_err());
        assert!(new(r#"{"accessKeyId": "a", "accessKeySecret": "s"}"#).is_ok());
        assert!(new(r#"{"accessKeys": {"a": "s"}, "ttl": "soon"}"#).is_err());
        assert!(serde_json::from_str::<SignatureSpec>(r#"{"accessKeys": {}, "literl": {}}"#).is_err());
    }
}
