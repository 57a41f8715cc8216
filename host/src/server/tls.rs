//! TLS termination for an HTTPServer: certificates chosen by SNI, optional client
//! certificate verification (mutual TLS), and ALPN offering h2 and HTTP/1.1.

use crate::config::{FieldError, HttpServerSpec};
use base64::Engine;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::sync::Arc;

/// The crypto provider used for every TLS connection Weir makes or accepts.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls server configuration for `spec` (which has `https: true`).
pub fn server_config(spec: &HttpServerSpec) -> Result<Arc<rustls::ServerConfig>, FieldError> {
    let provider = provider();
    let mut pairs = Vec::new();
    if let (Some(cert), Some(key)) = (&spec.cert_base64, &spec.key_base64) {
        pairs.push(certified_key(cert, key, "certBase64", "keyBase64", &provider)?);
    }
    for (name, cert) in &spec.certs {
        let key = spec.keys.get(name).ok_or_else(|| {
            FieldError::new(
                format!("keys.{name}"),
                format!("certificate {name:?} has no key of the same name"),
            )
        })?;
        pairs.push(certified_key(
            cert,
            key,
            &format!("certs.{name}"),
            &format!("keys.{name}"),
            &provider,
        )?);
    }
    if let Some(name) = spec.keys.keys().find(|k| !spec.certs.contains_key(*k)) {
        return Err(FieldError::new(
            format!("keys.{name}"),
            format!("key {name:?} has no certificate of the same name"),
        ));
    }
    if pairs.is_empty() {
        return Err(FieldError::new(
            "https",
            "https needs `certs` and `keys` (or `certBase64` and `keyBase64`)",
        ));
    }

    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| FieldError::whole(format!("TLS setup failed: {e}")))?;
    let builder = match &spec.ca_cert_base64 {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in pem_certs(ca, "caCertBase64")? {
                roots
                    .add(cert)
                    .map_err(|e| FieldError::new("caCertBase64", format!("not a usable CA certificate: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| FieldError::new("caCertBase64", format!("cannot verify clients with it: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(SniResolver { pairs }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Picks the first certificate valid for the SNI name, else the first one.
#[derive(Debug)]
struct SniResolver {
    pairs: Vec<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let by_name = hello.server_name().and_then(|sni| {
            let name = ServerName::try_from(sni).ok()?;
            self.pairs.iter().find(|pair| {
                let leaf = &pair.cert[0];
                webpki::EndEntityCert::try_from(leaf)
                    .is_ok_and(|cert| cert.verify_is_valid_for_subject_name(&name).is_ok())
            })
        });
        by_name.or_else(|| self.pairs.first()).cloned()
    }
}

fn certified_key(
    cert: &str,
    key: &str,
    cert_field: &str,
    key_field: &str,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, FieldError> {
    let chain = pem_certs(cert, cert_field)?;
    let key_pem = pem_text(key, key_field)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| FieldError::new(key_field, format!("no private key found in the PEM: {e}")))?;
    CertifiedKey::from_der(chain, key, provider)
        .map(Arc::new)
        .map_err(|e| FieldError::new(key_field, format!("key does not fit certificate {cert_field}: {e}")))
}

/// Every certificate in a PEM value (plain or base64).
pub fn pem_certs(value: &str, field: &str) -> Result<Vec<CertificateDer<'static>>, FieldError> {
    let pem = pem_text(value, field)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FieldError::new(field, format!("bad PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(FieldError::new(field, "no certificate found in the PEM"));
    }
    Ok(certs)
}

/// PEM may be written as is or base64-encoded (Easegress accepts both).
pub fn pem_text(value: &str, field: &str) -> Result<Vec<u8>, FieldError> {
    if value.contains("-----BEGIN") {
        return Ok(value.as_bytes().to_vec());
    }
    let compact: String = value.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| FieldError::new(field, "neither PEM text nor base64 of PEM"))
}
