//! Signing in to a domain controller the way Windows tools do: a forest found by its name (DNS
//! SRV), Kerberos first — sealed on port 389 where the DC has no certificate, with channel
//! binding over LDAPS where it is asked for — and a password only inside TLS: when the
//! administrator asks for it (`--ad-simple-bind`), or when Kerberos cannot be had (no KDC, a name
//! Kerberos cannot use), said in the result. A password never crosses the network in clear text.

use std::net::IpAddr;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;

use super::conn::LdapUrl;
use super::kerberos::{self, Problem};
use super::locate::{self, Located};
use super::{AdConnection, AdError, ConnectOptions, TlsTrust};
use crate::secrets::Secret;

/// Where to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// One domain controller, by URL (`ldaps://dc` or `ldap://dc`).
    Dc { url: String },
    /// A forest (or domain) by its DNS name: its DCs come from DNS.
    Forest { name: String },
}

/// Who signs in.
#[derive(Debug, Clone)]
pub enum Who {
    /// A typed account (`DOMAIN\user`, `user@domain`, a sAMAccountName; a DN only with a
    /// password over TLS) and its password.
    Password { user: String, password: Secret },
    /// The account this process runs as: SSPI's default credentials on Windows, the ticket cache
    /// on Unix.
    CurrentUser,
}

/// How to sign in.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub place: Place,
    pub who: Who,
    /// A simple bind (a password, inside TLS) instead of Kerberos.
    pub simple: bool,
    /// Which certificate to accept where TLS is used.
    pub trust: TlsTrust,
    /// For connecting and for each operation.
    pub timeout: Duration,
    /// The forest's domains as `(NetBIOS name, DNS name)`, once known: `DOMAIN\user` signs in
    /// to its own domain's realm.
    pub domains: Vec<(String, String)>,
}

/// How the connection is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    Kerberos,
    /// A simple bind with a password, inside TLS.
    Password,
}

/// What protects the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Kerberos' confidentiality layer: signed and sealed, no TLS.
    Sealed,
    /// LDAPS (port 636).
    Ldaps,
    /// StartTLS on port 389.
    Starttls,
}

/// How the DC was found in DNS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub record: String,
    /// The DNS servers asked.
    pub dns_servers: Vec<String>,
    /// The DCs DNS named, in the order tried.
    pub candidates: Vec<String>,
    pub took_ms: u64,
}

/// Which DC answered and how the connection is protected (`status` and `ad check` print it, the
/// wizard shows [`Protection::said`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protection {
    /// The DC's DNS name (or the URL's host when it has none).
    pub dc: String,
    /// The URL the connection was made to.
    pub url: String,
    pub auth: Auth,
    pub layer: Layer,
    /// How the DC's certificate was trusted, when TLS is used: `pinned`, `ca_file` or `system`.
    pub certificate: Option<String>,
    /// The account signed in as: `DOMAIN\user` (or what was typed, for a password).
    pub account: String,
    /// DNS's answer, when a forest was given.
    pub discovery: Option<Discovery>,
    /// Why Kerberos was not used, when a password was sent instead.
    pub kerberos_not_used: Option<String>,
}

impl Protection {
    /// One line: "dc1.corp.example.com · Kerberos · sealed", "dc1… · password · LDAPS,
    /// certificate pinned".
    pub fn said(&self) -> String {
        let auth = match self.auth {
            Auth::Kerberos => "Kerberos",
            Auth::Password => "password",
        };
        let certificate = match self.certificate.as_deref() {
            Some("pinned") => ", certificate pinned",
            Some("ca_file") => ", certificate from the CA file",
            Some(_) => ", certificate trusted by the system",
            None => "",
        };
        let layer = match self.layer {
            Layer::Sealed => "sealed".to_string(),
            Layer::Ldaps => format!("LDAPS{certificate}"),
            Layer::Starttls => format!("StartTLS{certificate}"),
        };
        format!("{} · {auth} · {layer}", self.dc)
    }
}

/// One DC to try.
#[derive(Debug, Clone)]
struct Candidate {
    host: String,
    port: u16,
    ldaps: bool,
    /// Named by DNS (its LDAP port), not by a URL: a password goes to its LDAPS port.
    located: bool,
}

impl Candidate {
    fn from_url(url: &str) -> Result<Candidate, AdError> {
        let LdapUrl { ldaps, host, port } = LdapUrl::parse(url)?;
        Ok(Candidate { host, port, ldaps, located: false })
    }

    fn url(&self) -> String {
        LdapUrl { ldaps: self.ldaps, host: self.host.clone(), port: self.port }.to_string()
    }

    fn is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }
}

/// Signs in as `s` says. A forest's DCs are tried in DNS's order while they do not answer; a
/// refusal (a wrong password, an unknown SPN) ends it at once.
pub async fn sign_in(s: &SignIn, rng: &mut impl Rng) -> Result<(AdConnection, Protection), AdError> {
    match &s.place {
        Place::Dc { url } => attempt(s, &Candidate::from_url(url)?, None, &mut None).await,
        Place::Forest { name } => {
            let mut early = early_credential(s, name);
            let located = locate::locate(name, s.timeout, rng).await?;
            let mut tried = Vec::new();
            for dc in &located.dcs {
                let candidate = Candidate {
                    host: dc.host.clone(),
                    port: dc.port,
                    ldaps: dc.port == 636 || dc.port == 3269,
                    located: true,
                };
                match attempt(s, &candidate, Some(&located), &mut early).await {
                    Ok(done) => return Ok(done),
                    Err(e @ (AdError::Connect { .. } | AdError::Timeout { .. })) => {
                        tracing::info!(dc = %dc.host, error = %e, "domain controller did not answer; trying the next");
                        tried.push(format!("{}:{} ({e})", dc.host, dc.port));
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(AdError::NoDc { forest: name.clone(), tried })
        }
    }
}

fn discovery(located: Option<&Located>) -> Option<Discovery> {
    located.map(|l| Discovery {
        record: l.record.clone(),
        dns_servers: l.servers.clone(),
        candidates: l.dcs.iter().map(|d| format!("{}:{}", d.host, d.port)).collect(),
        took_ms: l.took.as_millis() as u64,
    })
}

fn certificate_source(trust: &TlsTrust) -> String {
    if trust.fingerprint.is_some() {
        "pinned".into()
    } else if trust.ca_file.is_some() {
        "ca_file".into()
    } else {
        "system".into()
    }
}

/// A Kerberos credential being obtained while the DC is found and reached. A forest named by its
/// DNS name is its own realm (the DCs its SRV record names are of that domain), so the exchange
/// with the KDC (MIT's gss_acquire_cred_with_password makes it at once) need not wait for the
/// DC's rootDSE; the rootDSE's realm still decides, and a credential for another is not used.
struct Early {
    name: String,
    realm: String,
    cred: tokio::task::JoinHandle<Result<cross_krb5::Cred, crate::platform::KerberosFailure>>,
}

fn early_credential(s: &SignIn, forest: &str) -> Option<Early> {
    let Who::Password { user, password } = &s.who else { return None };
    if s.simple {
        return None;
    }
    let realm = forest.trim_end_matches('.').to_ascii_uppercase();
    let (name, realm) = kerberos::principal(user, &realm, &s.domains)?;
    let (n, r, password) = (name.clone(), realm.clone(), password.clone());
    let cred = tokio::task::spawn_blocking(move || crate::platform::kerberos_with_password(&n, &r, &password));
    Some(Early { name, realm, cred })
}

async fn attempt(
    s: &SignIn,
    c: &Candidate,
    located: Option<&Located>,
    early: &mut Option<Early>,
) -> Result<(AdConnection, Protection), AdError> {
    if s.simple {
        return password_over_tls(s, c, located, None, None).await;
    }
    match kerberos_attempt(s, c, located, early).await {
        // A DC that takes Kerberos over TLS only with a security layer, which TLS forbids
        // (Samba's default `ldap server require strong auth = yes`): the same DC on port 389,
        // Kerberos sealed — as strong, and said as such.
        Err(AdError::Bind { rc: super::rc::STRONGER_AUTH_REQUIRED, .. }) if c.ldaps => {
            tracing::info!(dc = %c.host, "the DC wants Kerberos sealed rather than over TLS: port 389");
            let plain = Candidate { host: c.host.clone(), port: 389, ldaps: false, located: c.located };
            kerberos_attempt(s, &plain, located, &mut None).await
        }
        other => other,
    }
}

async fn kerberos_attempt(
    s: &SignIn,
    c: &Candidate,
    located: Option<&Located>,
    early: &mut Option<Early>,
) -> Result<(AdConnection, Protection), AdError> {
    let opts = ConnectOptions { url: c.url(), trust: s.trust.clone(), plain: !c.ldaps, timeout: s.timeout };
    let mut conn = AdConnection::connect(&opts).await?;
    // Read before any bind (the rootDSE is open to anyone): the DC's domain, its name, its clock.
    let root = conn.root_dse_kept().await?;
    let first = |k: &str| root.get(k).and_then(|v| v.first()).cloned().unwrap_or_default();
    let dc_realm = kerberos::realm_of(&first("defaultNamingContext"));
    // The SPN names the DC: the name it was reached by, else (an IP address) its own.
    let dc_host =
        if c.is_ip() { s.trust.tls_name.clone().unwrap_or_else(|| first("dnsHostName")) } else { c.host.clone() };
    let skewed = |e: AdError| match e {
        AdError::Kerberos { problem: Problem::Skew, principal, spn, text, .. } => AdError::Kerberos {
            problem: Problem::Skew,
            principal,
            spn,
            text,
            clocks: Some((now_text(), dc_time(&first("currentTime")))),
        },
        other => other,
    };
    let spn = format!("ldap/{dc_host}");
    let (cred, account) = match &s.who {
        Who::Password { user, password } => {
            let Some((name, realm)) = kerberos::principal(user, &dc_realm, &s.domains) else {
                let why = AdError::Kerberos {
                    problem: Problem::Name,
                    principal: user.clone(),
                    spn,
                    text: "a DN is not a Kerberos principal".into(),
                    clocks: None,
                };
                return fall_back(s, c, located, why, Some(conn)).await;
            };
            let principal = format!("{name}@{realm}");
            let password = password.clone();
            let (n, r) = (name.clone(), realm.clone());
            let cred = match early.take() {
                Some(e) if e.name == name && e.realm == realm => e.cred,
                _ => tokio::task::spawn_blocking(move || crate::platform::kerberos_with_password(&n, &r, &password)),
            };
            let acquired =
                cred.await.map_err(|e| AdError::Protocol { op: "Kerberos sign-in".into(), detail: e.to_string() })?;
            match acquired {
                Ok(cred) => (cred, format!("{}\\{name}", realm.to_ascii_lowercase())),
                Err(f) => {
                    let problem = kerberos::classify(&f.text, f.code);
                    let why = skewed(AdError::Kerberos { problem, principal, spn, text: f.text, clocks: None });
                    // A credential that cannot be had for a reason the library does not name
                    // (SSPI judges a typed password only when it is used; Wine's refuses at once
                    // with STATUS_UNSUCCESSFUL) is Kerberos unavailable, not a refusal.
                    if problem.kerberos_unavailable() || problem == Problem::Other {
                        return fall_back(s, c, located, why, Some(conn)).await;
                    }
                    return Err(why);
                }
            }
        }
        Who::CurrentUser => {
            let acquired = tokio::task::spawn_blocking(crate::platform::kerberos_current_user)
                .await
                .map_err(|e| AdError::Protocol { op: "Kerberos sign-in".into(), detail: e.to_string() })?;
            match acquired {
                Ok((cred, name)) => (cred, account_of(&name)),
                Err(f) => {
                    return Err(AdError::Kerberos {
                        problem: kerberos::classify(&f.text, f.code),
                        principal: "the signed-in account".into(),
                        spn,
                        text: f.text,
                        clocks: None,
                    });
                }
            }
        }
    };
    match conn.kerberos_bind(cred, &dc_host, &account).await {
        Ok(()) => {
            let protection = Protection {
                dc: dc_host,
                url: conn.url().to_string(),
                auth: Auth::Kerberos,
                layer: if c.ldaps { Layer::Ldaps } else { Layer::Sealed },
                certificate: c.ldaps.then(|| certificate_source(&s.trust)),
                account,
                discovery: discovery(located),
                kerberos_not_used: None,
            };
            tracing::info!(connection = %protection.said(), "signed in to the domain controller");
            Ok((conn, protection))
        }
        // The connection saw a failed SASL bind: a fresh one for the password.
        Err(e @ AdError::Kerberos { problem, .. }) if problem.kerberos_unavailable() => {
            fall_back(s, c, located, e, None).await
        }
        Err(e) => Err(skewed(e)),
    }
}

/// Kerberos cannot be had: a typed password goes over TLS instead, said in the result; where TLS
/// cannot be had either, the Kerberos reason is the error. `unbound`: the connection Kerberos was
/// to use, not bound yet (over LDAPS it takes the password as it is: no second handshake).
async fn fall_back(
    s: &SignIn,
    c: &Candidate,
    located: Option<&Located>,
    why: AdError,
    unbound: Option<AdConnection>,
) -> Result<(AdConnection, Protection), AdError> {
    if !matches!(s.who, Who::Password { .. }) {
        return Err(why);
    }
    match password_over_tls(s, c, located, Some(why.to_string()), unbound.filter(|_| c.ldaps)).await {
        Ok(done) => Ok(done),
        Err(
            tls @ (AdError::Connect { .. }
            | AdError::Tls { .. }
            | AdError::TlsHandshake { .. }
            | AdError::Timeout { .. }
            | AdError::Protocol { .. }),
        ) => {
            tracing::info!(error = %tls, "no TLS for a password either");
            Err(why)
        }
        Err(other) => Err(other),
    }
}

async fn password_over_tls(
    s: &SignIn,
    c: &Candidate,
    located: Option<&Located>,
    kerberos_not_used: Option<String>,
    over_tls: Option<AdConnection>,
) -> Result<(AdConnection, Protection), AdError> {
    let Who::Password { user, password } = &s.who else {
        return Err(AdError::Kerberos {
            problem: Problem::NoTicket,
            principal: "the signed-in account".into(),
            spn: format!("ldap/{}", c.host),
            text: "a simple bind needs a typed name and password".into(),
            clocks: None,
        });
    };
    // A DC DNS named: its LDAPS port (a DC without a certificate has none, and answers no TLS
    // at all — Samba 4.17 without TLS even fails on a StartTLS request). A URL: LDAPS where it
    // says so, else StartTLS on its port.
    let c = &if c.located && !c.ldaps { Candidate { port: 636, ldaps: true, ..c.clone() } } else { c.clone() };
    let mut conn = match over_tls {
        Some(conn) => conn,
        None => {
            let opts = ConnectOptions { url: c.url(), trust: s.trust.clone(), plain: false, timeout: s.timeout };
            AdConnection::connect(&opts).await?
        }
    };
    conn.bind(user, password).await?;
    if let Some(why) = &kerberos_not_used {
        tracing::warn!(reason = %why, "Kerberos could not be used: signed in with a password over TLS");
    }
    let protection = Protection {
        dc: s.trust.tls_name.clone().filter(|_| c.is_ip()).unwrap_or_else(|| c.host.clone()),
        url: conn.url().to_string(),
        auth: Auth::Password,
        layer: if c.ldaps { Layer::Ldaps } else { Layer::Starttls },
        certificate: Some(certificate_source(&s.trust)),
        account: user.clone(),
        discovery: discovery(located),
        kerberos_not_used,
    };
    Ok((conn, protection))
}

/// `user@REALM` (a ticket cache's principal) as `realm\user`, the form the account is looked up
/// by; `DOMAIN\user` (Windows) as it is.
fn account_of(name: &str) -> String {
    match name.rsplit_once('@') {
        Some((user, realm)) if !name.contains('\\') => format!("{}\\{user}", realm.to_ascii_lowercase()),
        _ => name.to_string(),
    }
}

fn now_text() -> String {
    use crate::clock::Clock;
    let now = time::OffsetDateTime::from(crate::clock::SystemClock.now());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// The rootDSE's currentTime (`20261206074531.0Z`) as a person reads it.
fn dc_time(generalized: &str) -> String {
    let d = generalized.as_bytes();
    if d.len() >= 14 && d[..14].iter().all(u8::is_ascii_digit) {
        let g = |a: usize, b: usize| &generalized[a..b];
        format!("{}-{}-{} {}:{}:{} UTC", g(0, 4), g(4, 6), g(6, 8), g(8, 10), g(10, 12), g(12, 14))
    } else if generalized.is_empty() {
        "unknown (its rootDSE gave no currentTime)".into()
    } else {
        generalized.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_candidates_with_their_default_ports() {
        let c = Candidate::from_url("ldaps://dc1.corp.example.com").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.ldaps), ("dc1.corp.example.com", 636, true));
        assert_eq!(c.url(), "ldaps://dc1.corp.example.com:636");
        let c = Candidate::from_url("ldap://10.0.0.5:3389").unwrap();
        assert_eq!((c.port, c.ldaps, c.is_ip()), (3389, false, true));
        let c = Candidate::from_url("ldap://[::1]").unwrap();
        assert_eq!(c.url(), "ldap://[::1]:389");
        assert!(Candidate::from_url("http://dc").is_err() && Candidate::from_url("ldap://").is_err());
    }

    #[test]
    fn the_connection_is_said_in_one_line() {
        let mut p = Protection {
            dc: "dc1.corp.example.com".into(),
            url: "ldap://dc1.corp.example.com:389".into(),
            auth: Auth::Kerberos,
            layer: Layer::Sealed,
            certificate: None,
            account: "corp.example.com\\admin".into(),
            discovery: None,
            kerberos_not_used: None,
        };
        assert_eq!(p.said(), "dc1.corp.example.com · Kerberos · sealed");
        (p.auth, p.layer, p.certificate) = (Auth::Password, Layer::Ldaps, Some("pinned".into()));
        assert_eq!(p.said(), "dc1.corp.example.com · password · LDAPS, certificate pinned");
        assert_eq!(account_of("Administrator@LAB.EXAMPLE.TEST"), "lab.example.test\\Administrator");
        assert_eq!(account_of("LAB\\ada"), "LAB\\ada");
        assert_eq!(dc_time("20261206074531.0Z"), "2026-12-06 07:45:31 UTC");
    }
}
