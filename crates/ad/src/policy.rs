//! Password policy: the domain's and fine-grained ones (PSOs), and a tester that says whether a
//! new password would pass, by Windows' rules, before writeback ever sends it.

use serde::Serialize;

use super::directory::{Account, Discovery};
use super::{AdConnection, AdError};
use crate::secrets::Secret;

/// Where the policy came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicySource {
    /// The domain's default policy.
    Domain {
        /// The domain's DN.
        dn: String,
    },
    /// A password settings object that applies to the user.
    Pso {
        /// The PSO's DN.
        dn: String,
        /// Its precedence (lower wins).
        precedence: u32,
    },
}

/// A password policy, in plain units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasswordPolicy {
    /// Where it came from.
    pub source: PolicySource,
    /// Minimum length in characters (UTF-16 code units, as Windows counts).
    pub min_length: u32,
    /// "Password must meet complexity requirements".
    pub complexity: bool,
    /// How many previous passwords may not be reused.
    pub history_length: u32,
    /// Minimum age in seconds.
    pub min_age_secs: u64,
    /// Maximum age in seconds; `None` when passwords never expire.
    pub max_age_secs: Option<u64>,
    /// Failed sign-ins before lockout; 0 = never.
    pub lockout_threshold: u32,
}

/// An AD interval (negative count of 100 ns) in seconds; `None` for "never".
pub fn interval_secs(value: &str) -> Option<u64> {
    let v: i64 = value.trim().parse().ok()?;
    if v == i64::MIN || v == 0 {
        return None;
    }
    Some(v.unsigned_abs() / 10_000_000)
}

fn attr(e: &ldap3::SearchEntry, name: &str) -> Option<String> {
    e.attrs.get(name).and_then(|v| v.first()).cloned()
}

fn number(e: &ldap3::SearchEntry, name: &str) -> u32 {
    attr(e, name).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
}

/// DOMAIN_PASSWORD_COMPLEX in pwdProperties.
const DOMAIN_PASSWORD_COMPLEX: u32 = 1;

/// Reads the domain's default policy from its naming context head.
pub async fn domain_policy(conn: &mut AdConnection, disc: &Discovery) -> Result<PasswordPolicy, AdError> {
    let dn = disc.default_naming_context.clone();
    let attrs = ["minPwdLength", "pwdProperties", "pwdHistoryLength", "minPwdAge", "maxPwdAge", "lockoutThreshold"];
    let e = conn.read(&dn, &attrs).await?.ok_or_else(|| AdError::NoSuchObject { dn: dn.clone() })?;
    Ok(PasswordPolicy {
        min_length: number(&e, "minPwdLength"),
        complexity: number(&e, "pwdProperties") & DOMAIN_PASSWORD_COMPLEX != 0,
        history_length: number(&e, "pwdHistoryLength"),
        min_age_secs: attr(&e, "minPwdAge").and_then(|v| interval_secs(&v)).unwrap_or(0),
        max_age_secs: attr(&e, "maxPwdAge").and_then(|v| interval_secs(&v)),
        lockout_threshold: number(&e, "lockoutThreshold"),
        source: PolicySource::Domain { dn },
    })
}

/// Every PSO of the domain (for the readiness scan, which meets users under any of them).
pub async fn all_psos(conn: &mut AdConnection, disc: &Discovery) -> Result<Vec<PasswordPolicy>, AdError> {
    let container = format!("CN=Password Settings Container,CN=System,{}", disc.default_naming_context);
    let found =
        match conn.search(&container, ldap3::Scope::OneLevel, "(objectClass=msDS-PasswordSettings)", &["cn"]).await {
            Ok(found) => found,
            // No container (a domain below Windows Server 2008's functional level): no PSO.
            Err(AdError::Ldap { rc: super::rc::NO_SUCH_OBJECT, .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
    let mut out = Vec::new();
    for e in found {
        out.push(pso_policy(conn, &e.dn).await?);
    }
    Ok(out)
}

/// A FILETIME (100 ns since 1601-01-01, as pwdLastSet holds it) as a time; `None` for 0 and
/// values before 1970.
pub fn filetime(value: u64) -> Option<std::time::SystemTime> {
    const UNIX_EPOCH_AS_FILETIME_SECS: u64 = 11_644_473_600;
    let secs = (value / 10_000_000).checked_sub(UNIX_EPOCH_AS_FILETIME_SECS)?;
    (value != 0).then(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// When a password set at `pwd_last_set` may next be changed under `min_age_secs`, if that is
/// still to come at `now`.
pub fn too_young(
    pwd_last_set: Option<u64>,
    min_age_secs: u64,
    now: std::time::SystemTime,
) -> Option<std::time::SystemTime> {
    if min_age_secs == 0 {
        return None;
    }
    let next = filetime(pwd_last_set?)? + std::time::Duration::from_secs(min_age_secs);
    (now < next).then_some(next)
}

/// A span of seconds in the policy's own unit (days, else hours, else minutes).
pub fn span(secs: u64) -> String {
    let (n, unit) = if secs.is_multiple_of(86_400) {
        (secs / 86_400, "day")
    } else if secs.is_multiple_of(3_600) {
        (secs / 3_600, "hour")
    } else {
        (secs.div_ceil(60), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Reads a PSO.
pub async fn pso_policy(conn: &mut AdConnection, dn: &str) -> Result<PasswordPolicy, AdError> {
    let attrs = [
        "msDS-MinimumPasswordLength",
        "msDS-PasswordComplexityEnabled",
        "msDS-PasswordHistoryLength",
        "msDS-MinimumPasswordAge",
        "msDS-MaximumPasswordAge",
        "msDS-LockoutThreshold",
        "msDS-PasswordSettingsPrecedence",
    ];
    let e = conn.read(dn, &attrs).await?.ok_or_else(|| AdError::NoSuchObject { dn: dn.to_string() })?;
    Ok(PasswordPolicy {
        min_length: number(&e, "msDS-MinimumPasswordLength"),
        complexity: attr(&e, "msDS-PasswordComplexityEnabled").is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
        history_length: number(&e, "msDS-PasswordHistoryLength"),
        min_age_secs: attr(&e, "msDS-MinimumPasswordAge").and_then(|v| interval_secs(&v)).unwrap_or(0),
        max_age_secs: attr(&e, "msDS-MaximumPasswordAge").and_then(|v| interval_secs(&v)),
        lockout_threshold: number(&e, "msDS-LockoutThreshold"),
        source: PolicySource::Pso { dn: dn.to_string(), precedence: number(&e, "msDS-PasswordSettingsPrecedence") },
    })
}

/// The policy that applies to a user: the PSO AD resolved for it (msDS-ResultantPSO, which
/// already applies precedence across the user's and its groups' PSOs), else the domain's.
pub async fn effective_policy(
    conn: &mut AdConnection,
    disc: &Discovery,
    user_dn: &str,
) -> Result<PasswordPolicy, AdError> {
    let e = conn
        .read(user_dn, &["msDS-ResultantPSO"])
        .await?
        .ok_or_else(|| AdError::NoSuchObject { dn: user_dn.to_string() })?;
    match attr(&e, "msDS-ResultantPSO") {
        Some(pso) => pso_policy(conn, &pso).await,
        None => domain_policy(conn, disc).await,
    }
}

/// Windows' non-alphanumeric characters for the complexity rule. Currency symbols do not count.
pub const SPECIAL: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

/// Which of the five complexity categories a password uses: uppercase, lowercase, digits,
/// symbols, other letters (alphabetic but neither upper nor lower case, e.g. CJK).
pub fn categories(password: &str) -> [bool; 5] {
    let mut seen = [false; 5];
    for c in password.chars() {
        if c.is_ascii_digit() {
            seen[2] = true;
        } else if SPECIAL.contains(c) {
            seen[3] = true;
        } else if c.is_uppercase() {
            seen[0] = true;
        } else if c.is_lowercase() {
            seen[1] = true;
        } else if c.is_alphabetic() {
            seen[4] = true;
        }
    }
    seen
}

/// The display-name tokens Windows checks: split on , . - _ # space and tab, 3 characters or more.
pub fn display_name_tokens(display_name: &str) -> Vec<String> {
    display_name
        .split([',', '.', '-', '_', '#', ' ', '\t'])
        .filter(|t| t.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

/// One reason a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `too_short`, `not_complex`, `contains_account_name` or `contains_display_name`.
    pub rule: &'static str,
    /// In words.
    pub text: String,
}

/// The tester's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// No rule refuses it.
    pub acceptable: bool,
    /// Every rule that refuses it.
    pub reasons: Vec<Reason>,
    /// What cannot be known offline, or does not apply to a reset; never a refusal.
    pub unknown: Vec<String>,
    /// The policy tested against.
    pub policy: PasswordPolicy,
}

/// Tests `password` for `user` against `policy` by Windows' rules. With `now`, the minimum age
/// too: Microsoft's writeback documentation says a reset is checked against "history,
/// complexity, age, password filters", so a user whose password is younger than the minimum age
/// is refused here, conservatively (MS-ADTS has the policy-hints control enforce history on a
/// reset; docs/permissions.md has both sources). `None` leaves the age out (the canary, whose own
/// reset the DC judges).
pub fn test_password(
    policy: &PasswordPolicy,
    user: &Account,
    password: &Secret,
    now: Option<std::time::SystemTime>,
) -> Verdict {
    let pw = password.expose();
    let mut reasons = Vec::new();
    let length = pw.encode_utf16().count();
    let which = match &policy.source {
        PolicySource::Domain { .. } => "the domain's policy".to_string(),
        PolicySource::Pso { dn, .. } => {
            format!("the fine-grained policy {}", dn.split(',').next().unwrap_or(dn).trim_start_matches("CN="))
        }
    };
    if length < policy.min_length as usize {
        reasons.push(Reason {
            rule: "too_short",
            text: format!("it is {length} characters long; {which} needs at least {}", policy.min_length),
        });
    }
    if policy.complexity {
        let used = categories(pw).iter().filter(|c| **c).count();
        if used < 3 {
            reasons.push(Reason {
                rule: "not_complex",
                text: format!("it uses {used} of the 5 character kinds (uppercase, lowercase, digits, symbols, other letters); {which} needs 3"),
            });
        }
        let lower = pw.to_lowercase();
        let sam = user.sam_account_name.to_lowercase();
        if sam.chars().count() >= 3 && lower.contains(&sam) {
            reasons.push(Reason { rule: "contains_account_name", text: "it contains the account name".into() });
        }
        if let Some(display) = &user.display_name {
            for token in display_name_tokens(display) {
                if lower.contains(&token) {
                    reasons.push(Reason {
                        rule: "contains_display_name",
                        text: format!("it contains \"{token}\" from the display name"),
                    });
                }
            }
        }
    }
    if let Some(next) = now.and_then(|now| too_young(user.pwd_last_set, policy.min_age_secs, now)) {
        let set = user.pwd_last_set.and_then(filetime).map(crate::clock::rfc3339).unwrap_or_default();
        reasons.push(Reason {
            rule: "min_age",
            text: format!(
                "the password was last set {set}, and {which} keeps a password at least {} (minimum password age): it can be changed from {}",
                span(policy.min_age_secs),
                crate::clock::rfc3339(next)
            ),
        });
    }
    let mut unknown = Vec::new();
    if policy.history_length > 0 {
        unknown.push(format!(
            "password history ({} remembered) cannot be checked offline; a writeback reset honours it only on DCs that offer the password-policy-hints control",
            policy.history_length
        ));
    }
    unknown.push("password filters on the DCs (for example Microsoft Entra Password Protection's banned-password lists) cannot be checked offline".into());
    Verdict { acceptable: reasons.is_empty(), reasons, unknown, policy: policy.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(sam: &str, display: &str) -> Account {
        Account {
            dn: format!("CN={display},DC=x"),
            sam_account_name: sam.into(),
            user_principal_name: None,
            display_name: Some(display.into()),
            sid: "S-1-5-21-1-2-3-1105".into(),
            enabled: true,
            admin_count: false,
            user_account_control: 512,
            pwd_last_set: None,
        }
    }

    fn policy(min: u32, complexity: bool) -> PasswordPolicy {
        PasswordPolicy {
            source: PolicySource::Domain { dn: "DC=x".into() },
            min_length: min,
            complexity,
            history_length: 24,
            min_age_secs: 86_400,
            max_age_secs: Some(42 * 86_400),
            lockout_threshold: 0,
        }
    }

    fn rules(v: &Verdict) -> Vec<&'static str> {
        v.reasons.iter().map(|r| r.rule).collect()
    }

    #[test]
    fn windows_rules() {
        let u = user("jsmith", "John Smith-Jones");
        let p = policy(8, true);
        assert!(test_password(&p, &u, &Secret::new("Tr0ub4dor&3"), None).acceptable);
        assert_eq!(rules(&test_password(&p, &u, &Secret::new("Ab1!"), None)), vec!["too_short"]);
        assert_eq!(rules(&test_password(&p, &u, &Secret::new("abcdefghij"), None)), vec!["not_complex"]);
        assert_eq!(
            rules(&test_password(&p, &u, &Secret::new("xxJSmith99!"), None)),
            vec!["contains_account_name", "contains_display_name"]
        );
        assert_eq!(rules(&test_password(&p, &u, &Secret::new("Jones-2026!x"), None)), vec!["contains_display_name"]);
        // "Jo" and "Sm" are too short to count; only 3+ character tokens do.
        let short = user("ab", "Jo Li");
        assert!(test_password(&p, &short, &Secret::new("xxJoLiab1!"), None).acceptable);
        // Without complexity only the length counts.
        assert!(test_password(&policy(8, false), &u, &Secret::new("jsmithjsmith"), None).acceptable);
        // The verdict lists what cannot be known offline, never as a refusal.
        let v = test_password(&p, &u, &Secret::new("Tr0ub4dor&3"), None);
        assert!(v.unknown.iter().any(|s| s.contains("history")));
    }

    #[test]
    fn the_minimum_age_refuses_a_password_set_too_recently() {
        let day = std::time::Duration::from_secs(86_400);
        // 2026-12-01T00:00:00Z as a FILETIME.
        let set_at = (1_796_083_200 + 11_644_473_600) * 10_000_000;
        let set = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_083_200);
        let mut u = user("jsmith", "John Smith");
        u.pwd_last_set = Some(set_at);
        let p = policy(8, true);
        let v = test_password(&p, &u, &Secret::new("Tr0ub4dor&3"), Some(set + day / 2));
        assert_eq!(rules(&v), vec!["min_age"]);
        assert!(
            v.reasons[0].text.contains("at least 1 day") && v.reasons[0].text.contains("2026-12-02T00:00:00Z"),
            "{v:?}"
        );
        assert!(test_password(&p, &u, &Secret::new("Tr0ub4dor&3"), Some(set + day)).acceptable, "a day later");
        assert!(test_password(&p, &u, &Secret::new("Tr0ub4dor&3"), None).acceptable, "no clock, no age");
        // "Must change at next sign-in" (0) and no minimum age leave it out.
        u.pwd_last_set = Some(0);
        assert!(test_password(&p, &u, &Secret::new("Tr0ub4dor&3"), Some(set)).acceptable);
        assert_eq!(too_young(Some(set_at), 0, set), None);
        assert_eq!((span(86_400), span(7_200), span(90)), ("1 day".into(), "2 hours".into(), "2 minutes".into()));
    }

    #[test]
    fn categories_follow_windows() {
        assert_eq!(categories("aA1!"), [true, true, true, true, false]);
        assert_eq!(categories("ß"), [false, true, false, false, false]);
        assert_eq!(categories("密码"), [false, false, false, false, true]);
        assert_eq!(categories("€ £"), [false; 5], "currency and space are not symbols");
        assert_eq!(categories("ПАРОЛЬ"), [true, false, false, false, false]);
    }

    #[test]
    fn lengths_count_utf16_units_and_intervals_convert() {
        let p = policy(4, false);
        let u = user("abc", "A B");
        assert!(!test_password(&p, &u, &Secret::new("a😀"), None).acceptable, "an emoji is two UTF-16 units: 3 in all");
        assert!(test_password(&p, &u, &Secret::new("ab😀"), None).acceptable);
        assert_eq!(interval_secs("-864000000000"), Some(86_400));
        assert_eq!(interval_secs("-9223372036854775808"), None);
        assert_eq!(interval_secs("0"), None);
        assert_eq!(interval_secs("junk"), None);
        assert_eq!(display_name_tokens("Núñez, José_M #12\tx"), vec!["núñez", "josé"]);
    }
}
