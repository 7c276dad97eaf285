//! Kerberos for the LDAP bind: which principal a typed user name is, and the system Kerberos
//! library's refusals in its own words, each with what to do. The library's text (MIT's com_err
//! messages on Unix, SSPI's status on Windows) is kept verbatim in the error.

use serde::Serialize;

/// MIT's minor status for an error the KDC sent: its error number plus this base (the
/// `krb5` com_err table, ERROR_TABLE_BASE_krb5).
const KRB5_ERROR_BASE: u32 = 0x96C7_3A00;

/// Why a Kerberos sign-in failed, as the product tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// KDC_ERR_PREAUTH_FAILED (24) or a bad integrity check: the password is wrong.
    Password,
    /// KDC_ERR_CLIENT_REVOKED (18): disabled, locked out or expired account.
    Revoked,
    /// KDC_ERR_C_PRINCIPAL_UNKNOWN (6): no such account in the realm.
    UnknownUser,
    /// KDC_ERR_KEY_EXPIRED (23): the password must be changed first.
    PasswordExpired,
    /// No KDC answered, or none is known for the realm.
    NoKdc,
    /// KDC_ERR_S_PRINCIPAL_UNKNOWN (7): the DC's `ldap/` SPN is not registered.
    Spn,
    /// KRB_AP_ERR_SKEW (37): the clocks are too far apart.
    Skew,
    /// No ticket for the signed-in account (no `kinit`, or an expired ticket).
    NoTicket,
    /// A user name Kerberos cannot sign in with (a DN).
    Name,
    /// Anything else.
    Other,
}

impl Problem {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Problem::Password => "AD-KERBEROS-PASSWORD",
            Problem::Revoked => "AD-KERBEROS-REVOKED",
            Problem::UnknownUser => "AD-KERBEROS-UNKNOWN-USER",
            Problem::PasswordExpired => "AD-KERBEROS-EXPIRED",
            Problem::NoKdc => "AD-KERBEROS-NO-KDC",
            Problem::Spn => "AD-KERBEROS-SPN",
            Problem::Skew => "AD-KERBEROS-SKEW",
            Problem::NoTicket => "AD-KERBEROS-NO-TICKET",
            Problem::Name => "AD-KERBEROS-NAME",
            Problem::Other => "AD-KERBEROS",
        }
    }

    /// What Kerberos said, in words (with the protocol's name for it).
    pub fn words(self) -> &'static str {
        match self {
            Problem::Password => "the KDC refused the password (KDC_ERR_PREAUTH_FAILED)",
            Problem::Revoked => {
                "the KDC says the account may not sign in: disabled, locked out or expired (KDC_ERR_CLIENT_REVOKED)"
            }
            Problem::UnknownUser => "the KDC knows no such account (KDC_ERR_C_PRINCIPAL_UNKNOWN)",
            Problem::PasswordExpired => "the account's password has expired (KDC_ERR_KEY_EXPIRED)",
            Problem::NoKdc => "no Kerberos KDC could be reached for the realm",
            Problem::Spn => {
                "the KDC knows no service principal for this domain controller (KDC_ERR_S_PRINCIPAL_UNKNOWN)"
            }
            Problem::Skew => "this machine's clock and the domain controller's differ too much (KRB_AP_ERR_SKEW)",
            Problem::NoTicket => "the signed-in account has no Kerberos ticket",
            Problem::Name => "a distinguished name cannot sign in with Kerberos",
            Problem::Other => "the Kerberos sign-in failed",
        }
    }

    /// Whether a password over TLS may be tried instead (only when Kerberos cannot be had at
    /// all: a wrong password is never tried twice).
    pub fn kerberos_unavailable(self) -> bool {
        matches!(self, Problem::NoKdc | Problem::Name)
    }
}

/// Tells a refusal apart from the library's code (MIT minor status, SSPI status) and its text.
pub fn classify(text: &str, code: Option<u32>) -> Problem {
    if let Some(code) = code {
        match code.wrapping_sub(KRB5_ERROR_BASE) {
            24 | 31 => return Problem::Password,
            18 => return Problem::Revoked,
            6 => return Problem::UnknownUser,
            7 => return Problem::Spn,
            23 => return Problem::PasswordExpired,
            37 => return Problem::Skew,
            _ => {}
        }
        if let Some(p) = sspi(code) {
            return p;
        }
    }
    let t = text.to_ascii_lowercase();
    // SSPI's status as ldap3 passes it on: "… (0x8009030C)".
    for (hex, p) in SSPI_STATUS {
        if t.contains(&format!("0x{hex:08x}")) {
            return *p;
        }
    }
    if t.contains("preauthentication failed")
        || t.contains("decrypt integrity check failed")
        || t.contains("password incorrect")
    {
        Problem::Password
    } else if t.contains("credentials have been revoked") {
        Problem::Revoked
    } else if t.contains("client") && t.contains("not found in kerberos database") {
        Problem::UnknownUser
    } else if t.contains("server") && t.contains("not found in kerberos database") {
        Problem::Spn
    } else if t.contains("password has expired") {
        Problem::PasswordExpired
    } else if t.contains("clock skew too great") {
        Problem::Skew
    } else if t.contains("cannot contact any kdc")
        || t.contains("cannot find kdc for realm")
        || t.contains("cannot resolve network address for kdc")
        || t.contains("does not specify default realm")
    {
        Problem::NoKdc
    } else if t.contains("no kerberos credentials available")
        || t.contains("no credentials cache found")
        || (t.contains("credentials cache") && t.contains("not found"))
        || t.contains("ticket expired")
    {
        Problem::NoTicket
    } else {
        Problem::Other
    }
}

/// SSPI's statuses (winerror.h) for the same refusals.
const SSPI_STATUS: &[(u32, Problem)] = &[
    (0x8009_030C, Problem::Password), // SEC_E_LOGON_DENIED
    (0x8009_0311, Problem::NoKdc),    // SEC_E_NO_AUTHENTICATING_AUTHORITY
    (0x8009_0303, Problem::Spn),      // SEC_E_TARGET_UNKNOWN
    (0x8009_0324, Problem::Skew),     // SEC_E_TIME_SKEW
    (0x8009_030E, Problem::NoTicket), // SEC_E_NO_CREDENTIALS
    (0x8009_0322, Problem::Spn),      // SEC_E_WRONG_PRINCIPAL
];

fn sspi(code: u32) -> Option<Problem> {
    SSPI_STATUS.iter().find(|(c, _)| *c == code).map(|(_, p)| *p)
}

/// The Kerberos user and realm of a typed user name: `user@dns.domain` (a UPN whose suffix is the
/// domain's name) is that realm; `DOMAIN\user` is in the realm `domains` gives for that NetBIOS
/// name (`(netbios, dns)` pairs, once the forest is known), else — like a bare `user` — in
/// `dc_realm`, the realm of the domain controller's own domain, unless DOMAIN is itself a DNS
/// name. A DN has none.
pub fn principal(user: &str, dc_realm: &str, domains: &[(String, String)]) -> Option<(String, String)> {
    let user = user.trim();
    if user.contains('=') {
        return None;
    }
    if let Some((name, domain)) = user.rsplit_once('@') {
        return Some((name.to_string(), domain.to_ascii_uppercase()));
    }
    if let Some((domain, name)) = user.split_once('\\') {
        let realm = match domains.iter().find(|(netbios, _)| netbios.eq_ignore_ascii_case(domain)) {
            Some((_, dns)) => dns.to_ascii_uppercase(),
            None if domain.contains('.') => domain.to_ascii_uppercase(),
            None => dc_realm.to_ascii_uppercase(),
        };
        return Some((name.to_string(), realm));
    }
    Some((user.to_string(), dc_realm.to_ascii_uppercase()))
}

/// The realm of a domain whose naming context is `dn` (`DC=corp,DC=example,DC=com` →
/// `CORP.EXAMPLE.COM`).
pub fn realm_of(dn: &str) -> String {
    dn.split(',')
        .filter_map(|rdn| rdn.trim().split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case("DC")).map(|(_, v)| v))
        .collect::<Vec<_>>()
        .join(".")
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mit_and_sspi_refusals_are_told_apart() {
        // The texts and minor statuses MIT 1.20 gave against Samba 4.17's KDC.
        let cases = [
            (
                "No credentials were supplied, or the credentials were unavailable or inaccessible (Preauthentication failed)",
                Some(2_529_638_936),
                Problem::Password,
            ),
            (
                "No credentials were supplied, or the credentials were unavailable or inaccessible (Client 'nobody@LAB.EXAMPLE.TEST' not found in Kerberos database)",
                Some(2_529_638_918),
                Problem::UnknownUser,
            ),
            (
                "No credentials were supplied, or the credentials were unavailable or inaccessible (Cannot find KDC for realm \"NOREALM.TEST\")",
                Some(2_529_639_066),
                Problem::NoKdc,
            ),
            (
                "No credentials were supplied, or the credentials were unavailable or inaccessible (Cannot contact any KDC for realm 'LAB.EXAMPLE.TEST')",
                Some(2_529_639_068),
                Problem::NoKdc,
            ),
            (
                "No credentials were supplied, or the credentials were unavailable or inaccessible (Clock skew too great)",
                Some(2_529_638_949),
                Problem::Skew,
            ),
            (
                "Unspecified GSS failure.  Minor code may provide more information (Server not found in Kerberos database)",
                None,
                Problem::Spn,
            ),
            (
                "No credentials were supplied, or the credentials were unavailable or inaccessible (No Kerberos credentials available (default cache: FILE:/tmp/x))",
                None,
                Problem::NoTicket,
            ),
            ("The logon attempt failed (0x8009030C)", None, Problem::Password),
            ("The specified target is unknown or unreachable", Some(0x8009_0303), Problem::Spn),
            ("something new", None, Problem::Other),
        ];
        for (text, code, want) in cases {
            assert_eq!(classify(text, code), want, "{text}");
        }
    }

    #[test]
    fn a_typed_name_is_a_principal_in_its_realm() {
        let realm = "LAB.EXAMPLE.TEST";
        assert_eq!(principal("LAB\\Administrator", realm, &[]), Some(("Administrator".into(), realm.into())));
        assert_eq!(
            principal("ada@child.lab.example.test", realm, &[]),
            Some(("ada".into(), "CHILD.LAB.EXAMPLE.TEST".into()))
        );
        assert_eq!(principal("corp.example.com\\bob", realm, &[]), Some(("bob".into(), "CORP.EXAMPLE.COM".into())));
        assert_eq!(principal("bob", realm, &[]), Some(("bob".into(), realm.into())));
        assert_eq!(principal("CN=Bob,CN=Users,DC=lab,DC=example,DC=test", realm, &[]), None);
        let forest = [("CHILD".to_string(), "child.lab.example.test".to_string())];
        assert_eq!(principal("CHILD\\eve", realm, &forest), Some(("eve".into(), "CHILD.LAB.EXAMPLE.TEST".into())));
        assert_eq!(realm_of("DC=lab,DC=example,DC=test"), realm);
    }
}
