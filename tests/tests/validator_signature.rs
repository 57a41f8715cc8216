//! Validator's `signature` rule end to end. The test signs its requests itself, with
//! its own implementation of the scheme as docs/filters/Validator.md states it (the
//! filter's code is not used): a valid signature reaches the backend; a wrong secret,
//! an unknown key, a changed header, body or query, a time outside the ttl, a presigned
//! URL past its lifetime and a missing signature get 401 and the result `invalid`,
//! which `jumpIf` routes to a step that marks the answer. With `excludeBody`, a body
//! changed after signing passes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};
use weir_tests::net::{client, free_port};
use weir_tests::{Backend, Weir};

const KEY_ID: &str = "AKWEIRTEST";
const SECRET: &str = "s3cr3t/with+odd=chars";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Percent-encoding of everything but A-Z a-z 0-9 - . _ ~ (and `/` when asked).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if unreserved || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the epoch, counting whole years and months.
fn timestamp(mut secs: u64) -> String {
    let (mut year, mut month) = (1970u64, 1u64);
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    loop {
        let year_secs = if leap(year) { 366 } else { 365 } * 86_400;
        if secs < year_secs {
            break;
        }
        secs -= year_secs;
        year += 1;
    }
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    for days in lengths {
        if secs < days * 86_400 {
            break;
        }
        secs -= days * 86_400;
        month += 1;
    }
    let day = secs / 86_400 + 1;
    let rest = secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The names and fixed strings a client signs with (Easegress's "literals").
struct Scheme {
    algorithm: &'static str,
    date_header: &'static str,
    scope_suffix: &'static str,
    key_prefix: &'static str,
}

/// The defaults the reference documents.
const DOCUMENTED: Scheme = Scheme {
    algorithm: "HMAC-SHA256",
    date_header: "X-Date",
    scope_suffix: "request",
    key_prefix: "",
};

/// The defaults Easegress's own signer uses.
const EASEGRESS: Scheme = Scheme {
    algorithm: "ME-HMAC-SHA256",
    date_header: "X-Me-Date",
    scope_suffix: "megaease_request",
    key_prefix: "ME",
};

/// A request to sign: the query as `(name, value)` pairs before encoding, the signed
/// headers with lower-case names (`host` among them).
struct Unsigned<'a> {
    method: &'a str,
    path: &'a str,
    query: Vec<(&'a str, &'a str)>,
    headers: Vec<(&'a str, String)>,
    body: &'a [u8],
}

struct Signature {
    timestamp: String,
    credential: String,
    signed_headers: String,
    hex: String,
}

fn sign(
    scheme: &Scheme,
    key_id: &str,
    secret: &str,
    request: &Unsigned,
    at: u64,
    body_hash: Option<&str>,
    extra_query: &[(&str, String)],
) -> Signature {
    let timestamp = timestamp(at);
    let date = &timestamp[..8];
    let scope = format!("{date}/weir/test/{}", scheme.scope_suffix);

    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(k, v)| (encode(k, false), encode(v, false)))
        .chain(extra_query.iter().map(|(k, v)| (encode(k, false), encode(v, false))))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut headers = request.headers.clone();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let signed_headers = headers.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");

    let body_hash = body_hash.map_or_else(|| hex(&Sha256::digest(request.body)), str::to_string);
    let canonical = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed_headers}\n{body_hash}",
        request.method,
        encode(request.path, true)
    );
    let to_sign = format!(
        "{}\n{timestamp}\n{scope}\n{}",
        scheme.algorithm,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("{}{secret}", scheme.key_prefix).as_bytes(), date);
    for part in ["weir", "test", scheme.scope_suffix] {
        key = hmac(&key, part);
    }
    Signature {
        credential: format!("{key_id}/{scope}"),
        timestamp,
        signed_headers,
        hex: hex(&hmac(&key, &to_sign)),
    }
}

struct Setup {
    port: u16,
    backend: Backend,
    _weir: Weir,
    client: reqwest::Client,
}

impl Setup {
    /// `/loose/...` goes to a validator with `excludeBody`; everything else to one that
    /// signs the body. Both send `invalid` to a step that marks the 401.
    async fn start() -> Setup {
        let backend = Backend::start("b").await;
        let port = free_port();
        let pipeline = |name: &str, exclude_body: bool| {
            format!(
                r#"kind: Pipeline
name: {name}
flow:
  - filter: validator
    jumpIf: {{ invalid: refused }}
  - filter: proxy
    jumpIf: {{ "": END }}
  - filter: mark
    alias: refused
filters:
  - name: validator
    kind: Validator
    signature:
      accessKeys:
        {KEY_ID}: "{SECRET}"
        AKOTHER: other-secret
      ttl: 5m
      excludeBody: {exclude_body}
  - name: mark
    kind: ResponseAdaptor
    header:
      set:
        X-Refused-By: signature
  - name: proxy
    kind: Proxy
    pools: [{{servers: [{{url: "{}"}}]}}]
"#,
                backend.url()
            )
        };
        let config = format!(
            "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - pathPrefix: /loose\n        backend: loose\n      - backend: strict\n---\n{}---\n{}",
            pipeline("strict", false),
            pipeline("loose", true)
        );
        let weir = Weir::start(&config, &[port]);
        Setup {
            port,
            backend,
            _weir: weir,
            client: client(),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Sends `request` with `signature` in the Authorization header and its time in the
    /// date header. Returns the status and the X-Refused-By mark.
    async fn send(&self, request: &Unsigned<'_>, scheme: &Scheme, signature: &Signature) -> (u16, Option<String>) {
        let authorization = format!(
            "{} Credential={}, SignedHeaders={}, Signature={}",
            scheme.algorithm, signature.credential, signature.signed_headers, signature.hex
        );
        self.send_raw(
            request,
            &[
                (scheme.date_header, signature.timestamp.clone()),
                ("authorization", authorization),
            ],
            &[],
        )
        .await
    }

    /// Sends `request` with more headers and query parameters, as they are.
    async fn send_raw(
        &self,
        request: &Unsigned<'_>,
        extra_headers: &[(&str, String)],
        extra_query: &[(&str, String)],
    ) -> (u16, Option<String>) {
        let query: Vec<String> = request
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(extra_query.iter().map(|(k, v)| (k.to_string(), v.clone())))
            .map(|(k, v)| format!("{}={}", encode(&k, false), encode(&v, false)))
            .collect();
        let mut url = format!("http://{}{}", self.host(), request.path);
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
        let mut builder = self.client.request(method, url).body(request.body.to_vec());
        for (name, value) in request.headers.iter().filter(|(n, _)| *n != "host") {
            builder = builder.header(*name, value);
        }
        for (name, value) in extra_headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.unwrap();
        let marked = response
            .headers()
            .get("x-refused-by")
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), marked)
    }
}

const PASSED: (u16, Option<String>) = (200, None);

fn refused() -> (u16, Option<String>) {
    (401, Some("signature".to_string()))
}

fn get_request<'a>(setup: &Setup, path: &'a str, query: Vec<(&'a str, &'a str)>) -> Unsigned<'a> {
    Unsigned {
        method: "GET",
        path,
        query,
        headers: vec![("host", setup.host()), ("x-api-user", "ada".to_string())],
        body: b"",
    }
}

#[tokio::test]
async fn signed_requests_pass_and_anything_else_is_refused_as_invalid() {
    let setup = Setup::start().await;
    let t = now();
    let sign_now = |request: &Unsigned| sign(&DOCUMENTED, KEY_ID, SECRET, request, t, None, &[]);

    // A GET with an encoded path and a query (a space in a value, keys out of order).
    let get = get_request(&setup, "/items/a%20b", vec![("q", "hello world"), ("a", "1")]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &sign_now(&get)).await, PASSED);

    // A POST whose body is signed.
    let post = Unsigned {
        method: "POST",
        path: "/orders",
        query: vec![],
        headers: vec![("host", setup.host()), ("content-type", "application/json".to_string())],
        body: br#"{"item":"tea","count":2}"#,
    };
    let post_signature = sign_now(&post);
    assert_eq!(setup.send(&post, &DOCUMENTED, &post_signature).await, PASSED);
    assert_eq!(setup.backend.hits(), 2);

    // Easegress's own signer uses other defaults; those pass too.
    let easegress = sign(&EASEGRESS, KEY_ID, SECRET, &get, t, None, &[]);
    assert_eq!(setup.send(&get, &EASEGRESS, &easegress).await, PASSED);
    assert_eq!(setup.backend.hits(), 3);

    // The wrong secret, and a key the validator does not know.
    let wrong_secret = sign(&DOCUMENTED, KEY_ID, "guessed", &get, t, None, &[]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &wrong_secret).await, refused());
    let unknown = sign(&DOCUMENTED, "AKNOBODY", SECRET, &get, t, None, &[]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &unknown).await, refused());
    let other_key = sign(&DOCUMENTED, "AKOTHER", SECRET, &get, t, None, &[]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &other_key).await, refused());

    // Changed after signing: a signed header, the body, the query.
    let signature = sign_now(&get);
    let mut eve = get_request(&setup, "/items/a%20b", vec![("q", "hello world"), ("a", "1")]);
    eve.headers[1].1 = "eve".into();
    assert_eq!(setup.send(&eve, &DOCUMENTED, &signature).await, refused());
    let bigger = Unsigned {
        body: br#"{"item":"tea","count":9}"#,
        ..post
    };
    assert_eq!(setup.send(&bigger, &DOCUMENTED, &post_signature).await, refused());
    let requery = get_request(&setup, "/items/a%20b", vec![("q", "hello world"), ("a", "2")]);
    assert_eq!(setup.send(&requery, &DOCUMENTED, &signature).await, refused());

    // Signed too long ago, or too far ahead, for the 5 minute ttl.
    let old = sign(&DOCUMENTED, KEY_ID, SECRET, &get, t - 360, None, &[]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &old).await, refused());
    let ahead = sign(&DOCUMENTED, KEY_ID, SECRET, &get, t + 360, None, &[]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &ahead).await, refused());
    let recent = sign(&DOCUMENTED, KEY_ID, SECRET, &get, t - 60, None, &[]);
    assert_eq!(setup.send(&get, &DOCUMENTED, &recent).await, PASSED);

    // No signature at all, and a signature with no date header.
    assert_eq!(setup.send_raw(&get, &[], &[]).await, refused());
    let authorization = format!(
        "HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}",
        signature.credential, signature.signed_headers, signature.hex
    );
    assert_eq!(
        setup.send_raw(&get, &[("authorization", authorization)], &[]).await,
        refused()
    );
    assert_eq!(setup.backend.hits(), 4, "no refused request reached the backend");
}

#[tokio::test]
async fn a_presigned_url_passes_until_its_lifetime_is_over() {
    let setup = Setup::start().await;
    let get = Unsigned {
        method: "GET",
        path: "/report",
        query: vec![("month", "2026-11")],
        headers: vec![("host", setup.host())],
        body: b"",
    };
    let presign = |at: u64, lifetime: u64| {
        let mut params = vec![
            ("X-Algorithm", "HMAC-SHA256".to_string()),
            ("X-Date", timestamp(at)),
            ("X-Expires", lifetime.to_string()),
            ("X-SignedHeaders", "host".to_string()),
        ];
        let credential_at = sign(&DOCUMENTED, KEY_ID, SECRET, &get, at, None, &[]).credential;
        params.push(("X-Credential", credential_at));
        let signature = sign(&DOCUMENTED, KEY_ID, SECRET, &get, at, None, &params);
        params.push(("X-Signature", signature.hex));
        params
    };
    let t = now();
    assert_eq!(setup.send_raw(&get, &[], &presign(t - 60, 120)).await, PASSED);
    assert_eq!(
        setup.send_raw(&get, &[], &presign(t - 200, 120)).await,
        refused(),
        "past its lifetime"
    );
    let mut tampered = presign(t, 120);
    tampered.iter_mut().find(|(k, _)| *k == "X-Expires").unwrap().1 = "100000".into();
    assert_eq!(setup.send_raw(&get, &[], &tampered).await, refused());
    assert_eq!(setup.backend.hits(), 1);
}

#[tokio::test]
async fn exclude_body_lets_a_changed_body_through() {
    let setup = Setup::start().await;
    let t = now();
    let signed = Unsigned {
        method: "PUT",
        path: "/loose/notes",
        query: vec![],
        headers: vec![("host", setup.host())],
        body: b"first draft",
    };
    let signature = sign(&DOCUMENTED, KEY_ID, SECRET, &signed, t, Some("UNSIGNED-PAYLOAD"), &[]);
    let changed = Unsigned {
        body: b"a rewritten body",
        ..signed
    };
    assert_eq!(setup.send(&changed, &DOCUMENTED, &signature).await, PASSED);
    let seen = setup.backend.requests();
    assert_eq!(seen.last().unwrap().body, "a rewritten body");

    // Where the body is signed, the same unsigned-payload signature is refused.
    let strict = Unsigned {
        path: "/notes",
        ..changed
    };
    let strict_signature = sign(&DOCUMENTED, KEY_ID, SECRET, &strict, t, Some("UNSIGNED-PAYLOAD"), &[]);
    assert_eq!(setup.send(&strict, &DOCUMENTED, &strict_signature).await, refused());
    // The rest of the request is still signed.
    let moved = Unsigned {
        path: "/loose/elsewhere",
        ..strict
    };
    assert_eq!(setup.send(&moved, &DOCUMENTED, &signature).await, refused());
    assert_eq!(setup.backend.hits(), 1);
}
