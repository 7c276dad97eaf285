//! A CA and a DC certificate for each lab DC.
//!
//! Samba's auto-generated certificate names the DC only in its subject CN, with no
//! subjectAltName; rustls (like browsers) accepts names only from the SAN, so the lab issues its
//! own. Real AD CS "Domain Controller" certificates carry the SAN, so production trust is
//! unchanged. Each DC gets fresh keys: trusting one lab's CA never trusts another lab.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use super::LabError;
use crate::fsutil::write_atomic;

/// Paths of the three PEM files inside a DC directory (Samba's `private/tls`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The lab CA certificate clients trust.
    pub ca: std::path::PathBuf,
    /// The DC's certificate.
    pub cert: std::path::PathBuf,
    /// The DC's private key (0600: Samba refuses a key readable by others).
    pub key: std::path::PathBuf,
}

impl TlsFiles {
    /// The file names under `dc_dir/private/tls`.
    pub fn in_dc_dir(dc_dir: &Path) -> TlsFiles {
        let tls = dc_dir.join("private").join("tls");
        TlsFiles { ca: tls.join("lab-ca.pem"), cert: tls.join("lab-dc-cert.pem"), key: tls.join("lab-dc-key.pem") }
    }
}

/// Issues a new CA and a DC certificate for `dns_name` and writes them.
pub fn issue(files: &TlsFiles, dns_name: &str) -> Result<(), LabError> {
    let cert_err = |e: rcgen::Error| LabError::Certificate { detail: e.to_string() };
    let ca_key = KeyPair::generate().map_err(cert_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    ca_params.distinguished_name.push(DnType::OrganizationName, "writeback-wizard lab");
    ca_params.distinguished_name.push(DnType::CommonName, format!("writeback-wizard lab CA for {dns_name}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(cert_err)?;

    let dc_key = KeyPair::generate().map_err(cert_err)?;
    let mut dc_params = CertificateParams::new(vec![dns_name.to_string()]).map_err(cert_err)?;
    dc_params.distinguished_name.push(DnType::CommonName, dns_name);
    dc_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    dc_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let dc_cert = dc_params.signed_by(&dc_key, &ca).map_err(cert_err)?;

    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LabError::Io { what: "write a lab TLS file", path, source }
    };
    write_atomic(&files.ca, ca.pem().as_bytes(), false).map_err(io(&files.ca))?;
    write_atomic(&files.cert, dc_cert.pem().as_bytes(), false).map_err(io(&files.cert))?;
    write_atomic(&files.key, dc_key.serialize_pem().as_bytes(), true).map_err(io(&files.key))?;
    Ok(())
}
