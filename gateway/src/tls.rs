//! TLS with rustls (ring provider) from PEM files: the listener's (ALPN `h2` and `http/1.1`)
//! and the client configuration for an `https://` upstream.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::BoxError;

/// An acceptor for the certificate chain and key in `cert` and `key` (PEM), offering HTTP/2
/// and HTTP/1.1 by ALPN (the listener serves both; without ALPN the first bytes tell).
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, BoxError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("tls.cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("tls.cert {}: no certificate found", cert.display()).into());
    }
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("tls.key {}: {e}", key.display()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The client configuration for an `https://` upstream: its certificate must chain to one of
/// the CAs of `ca_file` (PEM) when given, else to the Mozilla roots built in (webpki-roots).
/// ALPN is left empty: the connector sets it from the upstream protocol.
pub(crate) fn upstream_client_config(ca_file: Option<&Path>) -> Result<ClientConfig, BoxError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("proxy.upstream_ca_file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "proxy.upstream_ca_file {}: no certificate found",
                    path.display()
                )
                .into());
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("proxy.upstream_ca_file {}: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
