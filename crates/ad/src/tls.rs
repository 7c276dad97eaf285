//! How the DC's certificate is trusted: system roots, a CA file, or a pinned fingerprint; and the
//! name it must carry when the URL holds an IP address.
//!
//! ldap3 checks the certificate against the URL's host. A DC reached by IP (the lab, or a DC whose
//! DNS name does not resolve from the sync server) presents a certificate for its DNS name, so the
//! verifier here checks the configured name instead (`--ad-tls-name`), the way `openssl s_client
//! -verify_hostname` does.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use super::AdError;

/// What the client trusts when the DC presents its certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsTrust {
    /// A PEM file of CA certificates, used instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// The DNS name the certificate must carry (when the URL holds an IP, or differs).
    pub tls_name: Option<String>,
    /// The SHA-256 of the DER leaf certificate, as hex (colons and case ignored). When set, only
    /// that certificate is accepted and the CA and name checks are skipped: that is what pinning
    /// means, and it is how a DC with a self-signed or CN-only certificate can be trusted.
    pub fingerprint: Option<String>,
}

/// The certificate the DC presented in the last handshake, kept so errors and the wizard's trust
/// prompt can show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCert {
    /// SHA-256 of the DER leaf certificate, lowercase hex with colons.
    pub sha256: String,
    /// The DER bytes.
    pub der: Vec<u8>,
}

impl PresentedCert {
    /// Subject, DNS names, issuer and validity, read from the certificate (for the trust prompt
    /// and for errors). `None` when the bytes are not an X.509 certificate.
    pub fn details(&self) -> Option<CertDetails> {
        use x509_parser::prelude::*;
        let (_, cert) = X509Certificate::from_der(&self.der).ok()?;
        let dns_names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(d) => Some((*d).to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(CertDetails {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            dns_names,
            not_after: cert.validity().not_after.to_string(),
            sha256: self.sha256.clone(),
        })
    }
}

/// What a person needs to decide whether to trust a certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertDetails {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS names in the subjectAltName.
    pub dns_names: Vec<String>,
    /// End of validity.
    pub not_after: String,
    /// SHA-256 of the DER, lowercase hex with colons.
    pub sha256: String,
}

impl std::fmt::Display for CertDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = if self.dns_names.is_empty() { "no DNS names".to_string() } else { self.dns_names.join(", ") };
        write!(f, "subject {} ({names}), issued by {}, SHA-256 {}", self.subject, self.issuer, self.sha256)
    }
}

impl TlsTrust {
    /// What this trust expects, in words, for error messages.
    pub fn expectation(&self, url_host: &str) -> String {
        if let Some(fp) = &self.fingerprint {
            return format!("the certificate pinned as SHA-256 {fp}");
        }
        let name = self.tls_name.clone().unwrap_or_else(|| url_host.to_string());
        match &self.ca_file {
            Some(ca) => format!("a certificate for {name} issued by a CA in {}", ca.display()),
            None => format!("a certificate for {name} issued by a CA the system trusts"),
        }
    }
}

/// The shared slot the verifier writes the presented certificate into.
pub type PresentedSlot = Arc<Mutex<Option<PresentedCert>>>;

/// SHA-256 of `der`, lowercase hex with colons (`ab:cd:…`).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Normalises a fingerprint as typed: colons, spaces and case ignored. `None` when it is not
/// 64 hex digits.
pub fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect::<String>().to_ascii_lowercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The [`fingerprint`] of the first certificate in a PEM file.
pub fn pem_file_fingerprint(path: &Path) -> Result<String, AdError> {
    let bad = |detail: String| AdError::CaFile { path: path.to_path_buf(), detail };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let cert = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .ok_or_else(|| bad("it holds no PEM certificate".into()))?
        .map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
    Ok(fingerprint(&cert))
}

fn load_ca_file(path: &Path) -> Result<RootCertStore, AdError> {
    let bad = |detail: String| AdError::CaFile { path: path.to_path_buf(), detail };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut store = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
        store.add(cert).map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
    }
    if store.is_empty() {
        return Err(bad("it holds no PEM certificate".into()));
    }
    Ok(store)
}

fn system_roots() -> RootCertStore {
    let mut store = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A system store may hold certificates rustls cannot use; skip those, as browsers do.
        let _ = store.add(cert);
    }
    store
}

/// Builds the rustls client configuration for this trust, and the slot the presented
/// certificate is recorded in.
pub fn client_config(trust: &TlsTrust) -> Result<(Arc<ClientConfig>, PresentedSlot), AdError> {
    let provider = provider();
    let presented: PresentedSlot = Arc::default();
    let check = if let Some(fp) = &trust.fingerprint {
        let hex = normalize_fingerprint(fp).ok_or_else(|| AdError::BadFingerprint { given: fp.clone() })?;
        Check::Pinned(hex)
    } else {
        let roots = match &trust.ca_file {
            Some(path) => load_ca_file(path)?,
            None => system_roots(),
        };
        let webpki =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().map_err(|e| {
                AdError::Tls { detail: format!("cannot build the certificate verifier: {e}"), presented: None }
            })?;
        let expected = match &trust.tls_name {
            Some(name) => {
                Some(ServerName::try_from(name.clone()).map_err(|_| AdError::BadTlsName { given: name.clone() })?)
            }
            None => None,
        };
        Check::Chain { webpki, expected }
    };
    let verifier = Arc::new(Verifier { check, provider: provider.clone(), presented: presented.clone() });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AdError::Tls { detail: e.to_string(), presented: None })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Arc::new(config), presented))
}

#[derive(Debug)]
enum Check {
    Chain { webpki: Arc<WebPkiServerVerifier>, expected: Option<ServerName<'static>> },
    Pinned(String),
}

#[derive(Debug)]
struct Verifier {
    check: Check,
    provider: Arc<CryptoProvider>,
    presented: PresentedSlot,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let sha = fingerprint(end_entity.as_ref());
        if let Ok(mut slot) = self.presented.lock() {
            *slot = Some(PresentedCert { sha256: sha.clone(), der: end_entity.as_ref().to_vec() });
        }
        match &self.check {
            Check::Pinned(want) => {
                if sha.replace(':', "") == *want {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General(format!(
                        "the certificate's SHA-256 fingerprint is {sha}, not the pinned one"
                    )))
                }
            }
            Check::Chain { webpki, expected } => {
                let name = expected.as_ref().unwrap_or(server_name);
                webpki.verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_normalise() {
        let hex = "AB".repeat(32);
        let with_colons =
            hex.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(":");
        assert_eq!(normalize_fingerprint(&with_colons), Some("ab".repeat(32)));
        assert_eq!(normalize_fingerprint(&hex), Some("ab".repeat(32)));
        assert_eq!(normalize_fingerprint("abc"), None);
        assert_eq!(normalize_fingerprint(&"zz".repeat(32)), None);
    }

    #[test]
    fn fingerprint_is_sha256_with_colons() {
        // SHA-256 of the empty string.
        assert_eq!(
            fingerprint(b"").replace(':', ""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn bad_inputs_are_named() {
        let e = client_config(&TlsTrust { fingerprint: Some("12:34".into()), ..Default::default() }).unwrap_err();
        assert!(matches!(e, AdError::BadFingerprint { .. }));
        let e =
            client_config(&TlsTrust { ca_file: Some("/nonexistent/ca.pem".into()), ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let e = client_config(&TlsTrust { ca_file: Some(empty), ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }
}
