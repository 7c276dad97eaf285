//! On-premises Active Directory over LDAP (ldap3): connecting, binding, searching.
//!
//! No GUI code lives here; the CLI, the wizard and the lab all call the same functions.

// Errors keep their raw diagnostics by design; they are the cold path.
#![allow(clippy::result_large_err)]

pub(crate) use writeback_base::{clock, crash, diagnose, netstats, platform, secrets};

pub mod access;
pub mod conn;
pub mod diag;
pub mod directory;
pub mod kerberos;
pub mod locate;
pub mod names;
pub mod passgen;
pub mod policy;
pub mod readiness;
pub mod scan;
pub mod sd;
pub mod signin;
pub mod tls;
pub mod writeback;

pub use conn::{AdConnection, ConnectOptions, Query, WINDOW};
pub use tls::TlsTrust;

use crate::diagnose::{Diagnose, Exit};

/// The LDAP result codes the product tells apart (RFC 4511 §4.1.9).
pub mod rc {
    pub const SUCCESS: u32 = 0;
    pub const SIZE_LIMIT_EXCEEDED: u32 = 4;
    pub const STRONGER_AUTH_REQUIRED: u32 = 8;
    pub const CONSTRAINT_VIOLATION: u32 = 19;
    pub const NO_SUCH_OBJECT: u32 = 32;
    pub const INVALID_CREDENTIALS: u32 = 49;
    pub const INSUFFICIENT_ACCESS_RIGHTS: u32 = 50;
    pub const UNWILLING_TO_PERFORM: u32 = 53;
}

/// The LDAP_SERVER_SD_FLAGS control's OID: which parts of a security descriptor to read or write.
pub const SD_FLAGS_OID: &str = "1.2.840.113556.1.4.801";
/// SD_FLAGS value selecting the DACL only (owner, group and SACL are neither read nor written).
pub const SD_FLAGS_DACL: u8 = 0x04;

/// The SD_FLAGS control for `flags` (owner 1, group 2, DACL 4, SACL 8), BER `SEQUENCE { INTEGER }`.
pub fn sd_flags_control(flags: u8) -> ldap3::controls::RawControl {
    // flags ≤ 0x0f, so the INTEGER is one content byte.
    ldap3::controls::RawControl {
        ctype: SD_FLAGS_OID.to_string(),
        crit: true,
        val: Some(vec![0x30, 0x03, 0x02, 0x01, flags & 0x0f]),
    }
}

/// LDAP_SERVER_POLICY_HINTS_OID (Windows Server 2016+, MS-ADTS 3.1.1.3.4.1.37): a password
/// reset under it is held to the password history as a change would be, as the sync engine's
/// writeback asks (value: SEQUENCE { Flags INTEGER 1 }).
pub fn policy_hints_control() -> ldap3::controls::RawControl {
    ldap3::controls::RawControl {
        ctype: directory::POLICY_HINTS_OIDS[0].to_string(),
        crit: true,
        val: Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
    }
}

/// A search entry's nTSecurityDescriptor, taken out of it and decoded (`None` when the DC sent
/// none).
pub fn take_descriptor(e: &mut ldap3::SearchEntry) -> Result<Option<sd::SecurityDescriptor>, AdError> {
    e.bin_attrs
        .remove("nTSecurityDescriptor")
        .and_then(|mut v| v.pop())
        .map(|b| {
            sd::SecurityDescriptor::decode(&b)
                .map_err(|err| AdError::BadDescriptor { dn: e.dn.clone(), detail: err.to_string() })
        })
        .transpose()
}

/// The value AD takes for `unicodePwd`: the password in double quotes, UTF-16LE.
pub fn unicode_pwd(password: &crate::secrets::Secret) -> Vec<u8> {
    format!("\"{}\"", password.expose()).encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub use diag::{bind_subcode_words, diagnostic_subcode};

/// Everything that can go wrong talking to a domain controller. Each variant keeps the raw
/// diagnostic: the LDAP result code, AD's text and its sub-code.
#[derive(Debug, thiserror::Error)]
pub enum AdError {
    /// The URL is not `ldaps://…` or `ldap://…`.
    #[error("'{url}' is not an LDAP URL")]
    BadUrl {
        /// What was given.
        url: String,
    },
    /// A simple bind on a connection without TLS: the password would cross in clear text.
    #[error("a password would cross the network to {url} in clear text: nothing was sent")]
    ClearText {
        /// The connection's URL.
        url: String,
    },
    /// The Kerberos sign-in failed, in the system Kerberos library's words.
    #[error("{} for {principal} (to {spn}): {text}{}", problem.words(), clocks.as_ref().map(|(ours, dc)| format!("; this machine's clock says {ours}, the domain controller's {dc}")).unwrap_or_default())]
    Kerberos {
        problem: kerberos::Problem,
        /// The account (`user@REALM`), or who the signed-in account is.
        principal: String,
        /// The service principal asked for (`ldap/<dc>`).
        spn: String,
        /// The library's message, verbatim.
        text: String,
        /// This machine's time and the DC's, when the clocks are the problem.
        clocks: Option<(String, String)>,
    },
    /// DNS has no domain controllers for the forest.
    #[error("no domain controller of the forest was found in DNS: {record} ({detail}; DNS servers asked: {})", if servers.is_empty() { "none configured".to_string() } else { servers.join(", ") })]
    NoSrv { record: String, servers: Vec<String>, detail: String },
    /// Every domain controller DNS named failed to answer.
    #[error("none of the forest's domain controllers answered: {}", tried.join("; "))]
    NoDc { forest: String, tried: Vec<String> },
    /// The CA file cannot be used.
    #[error("cannot use the CA file {}: {detail}", path.display())]
    CaFile { path: std::path::PathBuf, detail: String },
    /// The fingerprint is not 64 hex digits.
    #[error("'{given}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)")]
    BadFingerprint {
        /// What was given.
        given: String,
    },
    /// The TLS name is not a DNS name.
    #[error("'{given}' is not a valid DNS name for the certificate check")]
    BadTlsName {
        /// What was given.
        given: String,
    },
    /// The TCP connection failed.
    #[error("cannot reach the domain controller at {url}: {detail}")]
    Connect {
        url: String,
        /// The OS or library message.
        detail: String,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch, pin mismatch).
    #[error("the TLS handshake with {url} failed: {detail}; expected {expected}{}", presented.as_ref().map(|p| format!("; the DC presented {p}")).unwrap_or_default())]
    TlsHandshake {
        url: String,
        /// rustls' message.
        detail: String,
        /// What the trust settings expected, in words.
        expected: String,
        /// What the DC presented (subject, names, issuer, SHA-256), if it got that far.
        presented: Option<String>,
        /// The same, as fields (the wizard's trust prompt shows them).
        certificate: Option<Box<tls::CertDetails>>,
    },
    /// The DC presented another certificate than the one pinned when it was trusted.
    #[error(
        "this server's certificate has CHANGED since you trusted it: {url} now presents SHA-256 {} (subject {}, issued by {}), not the pinned {pinned}",
        certificate.sha256, certificate.subject, certificate.issuer
    )]
    CertChanged { url: String, pinned: String, certificate: Box<tls::CertDetails> },
    /// TLS could not be set up at all.
    #[error("TLS setup failed: {detail}")]
    Tls {
        detail: String,
        /// The presented certificate's fingerprint, if any.
        presented: Option<String>,
    },
    /// The bind was refused.
    #[error("the domain controller refused the sign-in of '{user}': {words} (LDAP result {rc}{}; {text})", subcode.as_ref().map(|s| format!(", AD data {s}")).unwrap_or_default())]
    Bind {
        user: String,
        /// LDAP result code.
        rc: u32,
        /// AD's sub-code, e.g. `52e`.
        subcode: Option<String>,
        /// The sub-code in words.
        words: String,
        /// The remedy for this sub-code.
        remedy: String,
        /// AD's diagnostic text, verbatim.
        text: String,
    },
    /// An LDAP operation returned an error result.
    #[error("LDAP {op} failed with result {rc}: {text}")]
    Ldap {
        /// The operation and its target.
        op: String,
        /// LDAP result code.
        rc: u32,
        /// AD's diagnostic text, verbatim.
        text: String,
    },
    /// The operation did not answer in time.
    #[error("LDAP {op} did not answer within {timeout_secs} s")]
    Timeout { op: String, timeout_secs: u64 },
    /// A write timed out and the DC has not answered it since: whether it was made is unknown.
    #[error(
        "the domain controller has not confirmed a change sent to '{dn}' ({waited_secs} s without an answer): whether it was made is not known yet"
    )]
    Unconfirmed { dn: String, waited_secs: u64 },
    /// The DN does not exist.
    #[error("there is no object '{dn}' on this domain controller")]
    NoSuchObject { dn: String },
    /// No account has that name.
    #[error("no account '{name}' was found in the domain")]
    NoSuchAccount {
        /// As given.
        name: String,
    },
    /// No security descriptor came back.
    #[error("the domain controller returned no nTSecurityDescriptor for '{dn}'")]
    NoDescriptor { dn: String },
    /// `DOMAIN\\name` with a DOMAIN the forest does not have.
    #[error("'{name}' names a domain this forest does not have (its domains: {})", known.join(", "))]
    UnknownDomain { name: String, known: Vec<String> },
    /// A name that matches several accounts.
    #[error("'{name}' matches several accounts: {}", matches.join("; "))]
    AmbiguousAccount { name: String, matches: Vec<String> },
    /// The object has no DACL (absent, or NULL: everyone may do everything). A DACL holding only
    /// our ACEs would take every other right away, so nothing is written.
    #[error("'{dn}' has no DACL (a NULL or absent DACL grants everyone every right)")]
    NullDacl { dn: String },
    /// The descriptor did not decode.
    #[error("the security descriptor of '{dn}' cannot be decoded: {detail}")]
    BadDescriptor { dn: String, detail: String },
    /// A change was made but reading it back did not show it.
    #[error("the change to '{dn}' did not take: {detail}")]
    VerifyFailed {
        dn: String,
        /// What was missing.
        detail: String,
    },
    /// Cancelled by the user.
    #[error("LDAP {op} was cancelled")]
    Cancelled { op: String },
    /// The connection broke or the library failed.
    #[error("LDAP {op} failed: {detail}")]
    Protocol {
        op: String,
        /// The library's message.
        detail: String,
    },
}

impl Diagnose for AdError {
    fn code(&self) -> &'static str {
        match self {
            AdError::BadUrl { .. } => "AD-URL",
            AdError::ClearText { .. } => "AD-CLEAR-TEXT",
            AdError::Kerberos { problem, .. } => problem.code(),
            AdError::NoSrv { .. } => "AD-NO-SRV",
            AdError::NoDc { .. } => "AD-NO-DC",
            AdError::CaFile { .. } => "AD-CA-FILE",
            AdError::BadFingerprint { .. } => "AD-FINGERPRINT",
            AdError::BadTlsName { .. } => "AD-TLS-NAME",
            AdError::Connect { .. } => "AD-CONNECT",
            AdError::TlsHandshake { .. } | AdError::Tls { .. } => "AD-TLS",
            AdError::CertChanged { .. } => "AD-CERT-CHANGED",
            AdError::Bind { .. } => "AD-BIND",
            AdError::Ldap { .. } => "AD-LDAP",
            AdError::Timeout { .. } => "AD-TIMEOUT",
            AdError::Unconfirmed { .. } => "AD-UNCONFIRMED",
            AdError::Protocol { .. } => "AD-PROTOCOL",
            AdError::Cancelled { .. } => "AD-CANCELLED",
            AdError::NoSuchObject { .. } => "AD-NO-OBJECT",
            AdError::NoSuchAccount { .. } => "AD-NO-ACCOUNT",
            AdError::NoDescriptor { .. } => "AD-NO-DESCRIPTOR",
            AdError::BadDescriptor { .. } => "AD-BAD-DESCRIPTOR",
            AdError::NullDacl { .. } => "AD-NULL-DACL",
            AdError::UnknownDomain { .. } => "AD-UNKNOWN-DOMAIN",
            AdError::AmbiguousAccount { .. } => "AD-AMBIGUOUS-ACCOUNT",
            AdError::VerifyFailed { .. } => "AD-VERIFY",
        }
    }
    fn remedy(&self) -> String {
        match self {
            AdError::BadUrl { .. } => "Give --ad-url as ldaps://dc.example.com (LDAPS) or ldap://dc.example.com (StartTLS).".into(),
            AdError::ClearText { .. } => "Sign in with Kerberos (leave out --ad-simple-bind), which seals the connection, or use ldaps:// or StartTLS for a password.".into(),
            AdError::Kerberos { problem, spn, principal, .. } => kerberos_remedy(*problem, spn, principal),
            AdError::NoSrv { record, .. } => format!(
                "Check the forest's DNS name, and that this machine asks the domain's DNS servers (the DCs' DNS normally): `nslookup -type=SRV {record}` should list its domain controllers. Or name one with --ad-url."
            ),
            AdError::NoDc { .. } => "Check that the domain controllers run and that no firewall blocks port 389 (or 636) from here; or name one that answers with --ad-url.".into(),
            AdError::CaFile { .. } => "Point --ad-ca-file at the PEM file of the CA that issued the DC's certificate.".into(),
            AdError::BadFingerprint { .. } => "Copy the SHA-256 fingerprint exactly as the wizard or `openssl x509 -fingerprint -sha256` shows it.".into(),
            AdError::BadTlsName { .. } => "Give --ad-tls-name as the DC's DNS name as written in its certificate.".into(),
            AdError::Connect { .. } => "Check the DC's name and port, that it is running, and that no firewall blocks 636 (LDAPS) or 389 (StartTLS).".into(),
            AdError::CertChanged { certificate, .. } => format!(
                "If the DC's certificate was renewed, check the new fingerprint on the DC (export its certificate as DER and run Get-FileHash -Algorithm SHA256 on it), then trust it with --ad-fingerprint {} (in the wizard, type its last 8 characters). If it was not renewed, do not connect: something may be standing in for the DC. Nothing was sent to it.",
                certificate.sha256
            ),
            AdError::TlsHandshake { .. } | AdError::Tls { .. } => "Trust the DC's CA with --ad-ca-file (and --ad-tls-name when connecting by IP), or pin its certificate with --ad-fingerprint after checking it on the DC.".into(),
            AdError::Bind { remedy, .. } => remedy.clone(),
            AdError::Ldap { rc: rc::INSUFFICIENT_ACCESS_RIGHTS, .. } => "The bound account lacks the right for this: use an account in Enterprise Admins (changing permissions needs WRITE_DAC).".into(),
            AdError::Ldap { rc: rc::NO_SUCH_OBJECT, .. } => "Check the DN: it does not exist on this domain controller.".into(),
            AdError::Ldap { rc: rc::CONSTRAINT_VIOLATION | rc::UNWILLING_TO_PERFORM, text, .. } if text.contains("0000052D") => "The password does not meet the domain's password policy: use a longer or more complex one.".into(),
            AdError::Ldap { .. } => "Read AD's message above; check the DN and the bound account's rights.".into(),
            AdError::Timeout { .. } => "Check the network path to the DC, or that the DC is not overloaded, then try again; a DC that is only slow (a permission change on the root of a large Samba domain) can be given longer with --ad-timeout SECONDS.".into(),
            AdError::Unconfirmed { .. } => "The journal is kept. When the DC answers again (check that it runs and is not overloaded), run `writeback-wizard apply --rollback` — with --ad-timeout SECONDS for a slow DC: it reads every object back and undoes only what was made.".into(),
            AdError::Protocol { .. } => "Try again; if it persists, check the network path to the DC (firewalls, idle timeouts) and the DC's event log for LDAP errors.".into(),
            AdError::Cancelled { .. } => "Nothing was changed by the cancelled read; run it again when ready.".into(),
            AdError::NoSuchObject { .. } => "Check the DN (copy it from ADSI Edit or `Get-ADObject`); it must exist in the domain of the DC you connect to.".into(),
            AdError::NoSuchAccount { .. } => "Give the sAMAccountName, the UPN (name@domain) or the full DN of an account in the domain of the DC you connect to.".into(),
            AdError::NoDescriptor { .. } => "The bound account may not read permissions on it: use an Enterprise Admin.".into(),
            AdError::BadDescriptor { .. } => "Report this with the DN; nothing was changed.".into(),
            AdError::UnknownDomain { .. } => "Use one of the forest's NetBIOS domain names before the backslash, or the account's UPN (name@domain) or DN.".into(),
            AdError::AmbiguousAccount { .. } => "Name the account by its full DN or its UPN (name@domain), which are unique.".into(),
            AdError::NullDacl { .. } => "Give the object a real DACL first (Active Directory Users and Computers > Properties > Security > Advanced > Restore defaults), then run again; nothing was changed.".into(),
            AdError::VerifyFailed { .. } => "Another tool or replication may have changed it at the same time; run the command again, which checks first.".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            AdError::BadUrl { .. }
            | AdError::ClearText { .. }
            | AdError::Kerberos { problem: kerberos::Problem::Name, .. }
            | AdError::BadFingerprint { .. }
            | AdError::BadTlsName { .. }
            | AdError::CertChanged { .. }
            | AdError::UnknownDomain { .. }
            | AdError::AmbiguousAccount { .. } => Exit::Usage,
            _ => Exit::Failed,
        }
    }
}

fn kerberos_remedy(problem: kerberos::Problem, spn: &str, principal: &str) -> String {
    use kerberos::Problem as P;
    match problem {
        P::Password => format!("Check the password of {principal} (Caps Lock, keyboard layout); repeated failures lock the account out."),
        P::Revoked => "Enable or unlock the account (Active Directory Users and Computers > Account), or use another Enterprise Admin.".into(),
        P::UnknownUser => "Give the account as DOMAIN\\user or user@domain.dns.name for its own domain (a UPN with another suffix is not its realm).".into(),
        P::PasswordExpired => "Change the account's password first (Ctrl+Alt+Del > Change a password, or Set-ADAccountPassword), then sign in again.".into(),
        P::NoKdc => "Check that this machine reaches a domain controller on port 88 and finds the realm's KDC (on Windows, join the domain or sign in to it; on Linux, krb5.conf or DNS SRV _kerberos._tcp); or connect over LDAPS with a password (--ad-url ldaps://… --ad-simple-bind).".into(),
        P::Spn => format!(
            "Register the SPN on the domain controller's computer account (setspn -S {spn} DC$ on the DC, or `samba-tool spn add {spn} DC$`), or connect by the DC's DNS name (not an IP address or an alias)."
        ),
        P::Skew => "Set this machine's clock right (w32tm /resync on Windows, timedatectl or chrony on Linux): Kerberos allows 5 minutes of difference.".into(),
        P::NoTicket => "Sign in to the domain first (on Windows, log on with the domain account; on Linux, `kinit user@REALM`), or type an Enterprise Admin's name and password instead.".into(),
        P::Name => "Give the account as DOMAIN\\user or user@domain.dns.name: Kerberos has no use for a DN.".into(),
        P::Other => "Read the Kerberos message above; check the realm's KDC and the account.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcodes_are_read_from_ad_and_samba_texts() {
        let ad = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563";
        assert_eq!(diagnostic_subcode(ad).as_deref(), Some("52e"));
        let samba = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1";
        assert_eq!(diagnostic_subcode(samba).as_deref(), Some("775"));
        assert_eq!(diagnostic_subcode("no sub-code here"), None);
        for code in ["525", "52e", "530", "531", "532", "533", "701", "773", "775"] {
            assert!(bind_subcode_words(code).is_some(), "{code}");
        }
        assert!(bind_subcode_words("999").is_none());
    }

    #[test]
    fn unicode_pwd_is_quoted_utf16le() {
        let v = unicode_pwd(&crate::secrets::Secret::new("Aé1"));
        assert_eq!(v, vec![0x22, 0, 0x41, 0, 0xe9, 0, 0x31, 0, 0x22, 0]);
    }

    #[test]
    fn sd_flags_control_is_ber_sequence_of_integer() {
        let c = sd_flags_control(SD_FLAGS_DACL);
        assert_eq!(c.ctype, "1.2.840.113556.1.4.801");
        assert_eq!(c.val.as_deref(), Some(&[0x30, 0x03, 0x02, 0x01, 0x04][..]));
    }
}
