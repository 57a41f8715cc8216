//! TLS end to end: SNI certificate choice, ALPN h2, client certificates, and verified
//! HTTPS backends over h2. Every certificate comes from a CA made at test time.

use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;
use weir_tests::certs::{yaml_block, TestCa};
use weir_tests::net::{client, free_port};
use weir_tests::{Backend, BackendOptions, Weir};

/// A TLS server config with pairs `a` (for a.test) and `b` (for b.test), and a's
/// certificate PEM.
fn tls_server(port: u16, ca: &TestCa, extra: &str) -> (String, String) {
    let a = ca.issue(&["a.test"]);
    let b = ca.issue(&["b.test"]);
    let config = format!(
        r#"
kind: HTTPServer
name: secure
port: {port}
address: 127.0.0.1
https: true
{extra}
certs:
  a: |
{a_cert}
  b: |
{b_cert}
keys:
  a: |
{a_key}
  b: |
{b_key}
rules:
  - paths:
      - backend: pipeline
"#,
        a_cert = yaml_block(&a.cert_pem, 4),
        b_cert = yaml_block(&b.cert_pem, 4),
        a_key = yaml_block(&a.key_pem, 4),
        b_key = yaml_block(&b.key_pem, 4),
    );
    (config, a.cert_pem)
}

fn pipeline(backend_url: &str, tls: &str) -> String {
    format!(
        r#"
---
kind: Pipeline
name: pipeline
filters:
  - name: proxy
    kind: Proxy
{tls}
    pools:
      - servers: [{{url: {backend_url}}}]
"#
    )
}

/// The leaf certificate the server presents for `sni`, and the ALPN protocol chosen.
async fn handshake(port: u16, sni: &str, ca: &TestCa) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca.cert_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from(sni.to_string()).unwrap();
    let tls = connector.connect(name, tcp).await.expect("handshake");
    let (_, session) = tls.get_ref();
    (
        session.peer_certificates().unwrap()[0].to_vec(),
        session.alpn_protocol().map(|p| p.to_vec()),
    )
}

fn pem_der(pem: &str) -> Vec<u8> {
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn sni_selects_the_certificate_and_alpn_offers_h2() {
    let ca = TestCa::new("weir test CA");
    let backend = Backend::start("plain").await;
    let port = free_port();
    let (server, a_cert) = tls_server(port, &ca, "");
    let _weir = Weir::start(&(server + &pipeline(&backend.url(), "")), &[port]);

    // Each name gets its own certificate, verified against the test CA.
    let (a_leaf, alpn) = handshake(port, "a.test", &ca).await;
    let (b_leaf, _) = handshake(port, "b.test", &ca).await;
    assert_ne!(a_leaf, b_leaf);
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(a_leaf, pem_der(&a_cert), "a.test got the `a` pair");

    // A full request over TLS + h2, with the certificate verified by a real client.
    let client = reqwest::Client::builder()
        .no_proxy()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap())
        .resolve("b.test", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let response = client
        .get(format!("https://b.test:{port}/secure"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(backend.requests().last().unwrap().uri, "/secure");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_certificates_are_required_when_a_ca_is_set() {
    let ca = TestCa::new("server CA");
    let client_ca = TestCa::new("client CA");
    let backend = Backend::start("plain").await;
    let port = free_port();
    let ca_b64 = base64_of(&client_ca.cert_pem);
    let (server, _) = tls_server(port, &ca, &format!("caCertBase64: {ca_b64}"));
    let _weir = Weir::start(&(server + &pipeline(&backend.url(), "")), &[port]);
    let base = || {
        reqwest::Client::builder()
            .no_proxy()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap())
            .resolve("a.test", ([127, 0, 0, 1], port).into())
    };
    let anonymous = base()
        .build()
        .unwrap()
        .get(format!("https://a.test:{port}/"))
        .send()
        .await;
    assert!(anonymous.is_err(), "a client without a certificate was served");

    let issued = client_ca.issue(&["client.test"]);
    let identity = reqwest::Identity::from_pem(format!("{}{}", issued.cert_pem, issued.key_pem).as_bytes()).unwrap();
    let with_cert = base()
        .identity(identity)
        .build()
        .unwrap()
        .get(format!("https://a.test:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cert.status(), StatusCode::OK);

    let stranger_ca = TestCa::new("stranger");
    let stranger = stranger_ca.issue(&["client.test"]);
    let identity =
        reqwest::Identity::from_pem(format!("{}{}", stranger.cert_pem, stranger.key_pem).as_bytes()).unwrap();
    let refused = base()
        .identity(identity)
        .build()
        .unwrap()
        .get(format!("https://a.test:{port}/"))
        .send()
        .await;
    assert!(refused.is_err(), "a certificate from another CA was accepted");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_backends_are_verified_and_spoken_to_over_h2() {
    let ca = TestCa::new("backend CA");
    let issued = ca.issue(&["127.0.0.1"]);
    let backend = Backend::start_with(BackendOptions {
        name: "secure-backend".into(),
        tls: Some((issued.cert_pem.clone(), issued.key_pem.clone())),
        ..Default::default()
    })
    .await;
    let (trusted, untrusted, skip) = (free_port(), free_port(), free_port());
    let front = |port: u16| {
        format!("kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: pipeline\n")
    };
    let root = format!("    mtls:\n      rootCertBase64: {}\n", base64_of(&ca.cert_pem));
    let _w1 = Weir::start(&(front(trusted) + &pipeline(&backend.url(), &root)), &[trusted]);
    let _w2 = Weir::start(&(front(untrusted) + &pipeline(&backend.url(), "")), &[untrusted]);
    let insecure = "    mtls:\n      insecureSkipVerify: true\n";
    let _w3 = Weir::start(&(front(skip) + &pipeline(&backend.url(), insecure)), &[skip]);
    let client = client();
    let get = |port: u16| client.get(format!("http://127.0.0.1:{port}/tls")).send();

    let ok = get(trusted).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        backend.requests().last().unwrap().version,
        "HTTP/2.0",
        "ALPN chose h2 towards the backend"
    );
    let hits = backend.hits();
    assert_eq!(
        get(untrusted).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "unknown CA is refused"
    );
    assert_eq!(backend.hits(), hits);
    assert_eq!(
        get(skip).await.unwrap().status(),
        StatusCode::OK,
        "insecureSkipVerify accepts it"
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
