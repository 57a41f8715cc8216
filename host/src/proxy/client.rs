//! The pooled HTTP client that talks to backends: keep-alive connections per host,
//! HTTP/1.1 or h2 (by ALPN over TLS), and verified TLS unless told otherwise.
//! Plain-HTTP backends go through the leaner [`Http1Pool`]; TLS ones through
//! hyper-util's client, which also speaks h2.

use super::http1_pool::{Http1Error, Http1Pool};
use super::spec::UpstreamTlsSpec;
use super::upstream::UpstreamHead;
use crate::config::FieldError;
use crate::http::{Body, Request, Response};
use crate::server::tls::{pem_certs, pem_text, provider};
use http::uri::Scheme;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The clients of one Proxy filter (cheap to clone: both halves are shared).
#[derive(Clone, Debug)]
pub struct UpstreamClient {
    plain: Http1Pool,
    tls: Client<HttpsConnector<HttpConnector>, Body>,
}

/// Why a backend request got no response.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(transparent)]
    Plain(#[from] Http1Error),
    #[error("{0}")]
    Tls(#[from] hyper_util::client::legacy::Error),
}

impl UpstreamClient {
    /// Sends `request` (absolute URI) and returns the response head with its body still
    /// streaming, capped at `body_limit` bytes.
    pub async fn request(&self, request: Request, body_limit: Option<u64>) -> Result<Response, UpstreamError> {
        if request.uri().scheme() == Some(&Scheme::HTTP) {
            return Ok(self.plain.request(request, body_limit).await?);
        }
        let response = self.tls.request(request).await?;
        Ok(response.map(|incoming| Body::received(incoming, body_limit)))
    }

    /// Sends a request to a plain-HTTP backend straight from the client's request (see
    /// [`UpstreamHead`]).
    pub async fn send_plain(
        &self,
        head: &UpstreamHead<'_>,
        body: Body,
        body_limit: Option<u64>,
    ) -> Result<Response, UpstreamError> {
        Ok(self.plain.send(head, body, body_limit).await?)
    }
}

/// Dial timeout, as Easegress uses.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle pooled connection is kept.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A client for one Proxy filter. `max_idle_per_host` of 0 disables reuse (health checks).
pub fn build(tls: Option<&UpstreamTlsSpec>, max_idle_per_host: usize) -> Result<UpstreamClient, FieldError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(tls.cloned().unwrap_or_default())?)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http);
    let tls = Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(max_idle_per_host)
        .build(https);
    Ok(UpstreamClient {
        plain: Http1Pool::new(max_idle_per_host),
        tls,
    })
}

fn tls_config(spec: UpstreamTlsSpec) -> Result<rustls::ClientConfig, FieldError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| FieldError::whole(format!("TLS setup failed: {e}")))?;
    let builder = if spec.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate))
    } else {
        let mut roots = system_roots().clone();
        if let Some(ca) = &spec.root_cert_base64 {
            for cert in pem_certs(ca, "mtls.rootCertBase64")? {
                roots
                    .add(cert)
                    .map_err(|e| FieldError::new("mtls.rootCertBase64", format!("not a usable CA certificate: {e}")))?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&spec.cert_base64, &spec.key_base64) {
        (Some(cert), Some(key)) => {
            let chain = pem_certs(cert, "mtls.certBase64")?;
            let key = PrivateKeyDer::from_pem_slice(&pem_text(key, "mtls.keyBase64")?)
                .map_err(|e| FieldError::new("mtls.keyBase64", format!("no private key in the PEM: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| FieldError::new("mtls.keyBase64", format!("unusable client certificate: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(FieldError::new("mtls", "certBase64 and keyBase64 go together")),
    };
    // ALPN (h2, http/1.1) is set by the connector builder's enable_all_versions().
    Ok(config)
}

/// The operating system's trusted roots, loaded once.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::warn!(%error, "could not load some system root certificates");
        }
        let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
        tracing::debug!(added, "system root certificates loaded");
        roots
    })
}

/// `insecureSkipVerify`: any certificate is accepted, but handshake signatures are still
/// checked so the connection is at least consistent.
#[derive(Debug)]
struct AcceptAnyCertificate;

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
