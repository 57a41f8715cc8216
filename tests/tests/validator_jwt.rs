//! Validator's `jwt` rule end to end, with keys made at test time by the `openssl` CLI:
//! HS256, RS256 and ES256 tokens that are valid, expired or signed with the wrong key,
//! from `Authorization: Bearer` or a cookie. Failures are an empty 401.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::path::Path;
use std::process::Command;
use weir_tests::net::{client, free_port};
use weir_tests::yaml::validator_then_proxy;
use weir_tests::{Backend, Weir};

fn openssl(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the openssl CLI makes the test keys");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.unwrap_or_default())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

/// A private key file and the hex of its public PEM (Easegress's `publicKey` form).
fn keypair(dir: &Path, name: &str, genpkey: &[&str]) -> (String, String) {
    let private = dir.join(format!("{name}.pem")).display().to_string();
    let mut args = vec!["genpkey", "-out", &private];
    args.extend_from_slice(genpkey);
    openssl(&args, None);
    let public = openssl(&["pkey", "-in", &private, "-pubout"], None);
    (private, public.iter().map(|b| format!("{b:02x}")).collect())
}

/// ECDSA signatures come from openssl as DER; JWT wants r and s as fixed-size integers.
fn der_to_raw(der: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 2; // SEQUENCE tag and (short) length
    for _ in 0..2 {
        assert_eq!(der[i], 0x02, "INTEGER");
        let len = der[i + 1] as usize;
        let int = &der[i + 2..i + 2 + len];
        let int = &int[int.len().saturating_sub(size)..];
        out.extend(std::iter::repeat_n(0, size - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token for `alg`, signed by `sign` over `header.payload`.
fn token(alg: &str, exp: u64, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let head = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
    let body = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"ada","exp":{exp}}}"#));
    let signed = format!("{head}.{body}");
    let signature = sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn hs256(secret_hex: &str) -> impl Fn(&[u8]) -> Vec<u8> + '_ {
    move |data| {
        openssl(
            &[
                "dgst",
                "-sha256",
                "-mac",
                "HMAC",
                "-macopt",
                &format!("hexkey:{secret_hex}"),
                "-binary",
            ],
            Some(data),
        )
    }
}

fn signer(private: &str, ecdsa: bool) -> impl Fn(&[u8]) -> Vec<u8> + '_ {
    move |data| {
        let sig = openssl(&["dgst", "-sha256", "-sign", private, "-binary"], Some(data));
        if ecdsa {
            der_to_raw(&sig, 32)
        } else {
            sig
        }
    }
}

fn config(port: u16, backend: &Backend, jwt: &str) -> String {
    validator_then_proxy(port, &format!("    jwt:\n{jwt}\n"), &backend.url())
}

async fn status(port: u16, header: (&str, String)) -> (u16, String) {
    let client = client();
    let r = client
        .get(format!("http://127.0.0.1:{port}/"))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn hs256_valid_expired_wrong_key_and_cookie() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let secret = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let jwt = format!("      algorithm: HS256\n      secret: \"{secret}\"\n      cookieName: auth");
    let _weir = Weir::start(&config(port, &backend, &jwt), &[port]);

    let valid = token("HS256", now() + 600, hs256(secret));
    assert_eq!(status(port, ("authorization", format!("Bearer {valid}"))).await.0, 200);
    assert_eq!(
        status(port, ("cookie", format!("theme=dark; auth={valid}"))).await.0,
        200
    );
    let expired = token("HS256", now() - 10, hs256(secret));
    assert_eq!(
        status(port, ("authorization", format!("Bearer {expired}"))).await,
        (401, String::new())
    );
    let wrong = token("HS256", now() + 600, hs256("ffffffff"));
    assert_eq!(status(port, ("authorization", format!("Bearer {wrong}"))).await.0, 401);
    assert_eq!(status(port, ("x-nothing", "1".into())).await.0, 401);
    assert_eq!(backend.hits(), 2, "only the valid tokens reached the backend");
}

#[tokio::test]
async fn rs256_and_es256_with_public_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (rsa_private, rsa_public) = keypair(
        dir.path(),
        "rsa",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let (other_rsa, _) = keypair(
        dir.path(),
        "rsa2",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let (ec_private, ec_public) = keypair(
        dir.path(),
        "ec",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let (other_ec, _) = keypair(
        dir.path(),
        "ec2",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let backend = Backend::start("b").await;

    let rs_port = free_port();
    let rs = format!("      algorithm: RS256\n      publicKey: {rsa_public}");
    let _rs_weir = Weir::start(&config(rs_port, &backend, &rs), &[rs_port]);
    let bearer = |t: String| ("authorization", format!("Bearer {t}"));
    let valid = token("RS256", now() + 600, signer(&rsa_private, false));
    assert_eq!(status(rs_port, bearer(valid)).await.0, 200);
    let wrong = token("RS256", now() + 600, signer(&other_rsa, false));
    assert_eq!(status(rs_port, bearer(wrong)).await.0, 401);
    let expired = token("RS256", now() - 10, signer(&rsa_private, false));
    assert_eq!(status(rs_port, bearer(expired)).await.0, 401);

    let es_port = free_port();
    let es = format!("      algorithm: ES256\n      publicKey: {ec_public}");
    let _es_weir = Weir::start(&config(es_port, &backend, &es), &[es_port]);
    let valid = token("ES256", now() + 600, signer(&ec_private, true));
    assert_eq!(status(es_port, bearer(valid)).await.0, 200);
    let wrong = token("ES256", now() + 600, signer(&other_ec, true));
    assert_eq!(status(es_port, bearer(wrong)).await.0, 401);
    let expired = token("ES256", now() - 10, signer(&ec_private, true));
    assert_eq!(status(es_port, bearer(expired)).await.0, 401);
    // A token for another algorithm is refused even with a valid HMAC over it.
    let confused = token("HS256", now() + 600, hs256("00"));
    assert_eq!(status(es_port, bearer(confused)).await.0, 401);
}
