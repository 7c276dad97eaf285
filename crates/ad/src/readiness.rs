//! The on-premises readiness report: Enterprise Admins, the domains, the password policy, the
//! connector account, and what in the scopes would break writeback. `ad check` prints it; the
//! wizard shows the same value.

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::directory::{self, Account, DomainInfo};
use super::policy::{self, PasswordPolicy};
use super::scan::{self, Findings};
use super::sd::Sid;
use super::{AdConnection, AdError};

/// `ad check`'s JSON document (the CLI contract).
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// The DC's name.
    pub dc: String,
    /// Which DC answered and how the connection is protected (set by whoever signed in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<super::signin::Protection>,
    /// The bound account's DN.
    pub account: String,
    pub enterprise_admin: bool,
    pub enterprise_admins_sid: String,
    /// A Domain Admin who is not an Enterprise Admin is the usual near miss.
    pub domain_admin: bool,
    pub domains: Vec<DomainInfo>,
    pub password_policy: PasswordPolicy,
    pub connector_account: Option<Account>,
    pub connector_candidates: Vec<Account>,
    pub scopes: Vec<String>,
    pub users_in_scope: usize,
    pub protected_accounts: Vec<String>,
    pub blocked_inheritance: Vec<String>,
    pub cannot_change_password: Vec<String>,
    pub explicit_deny: Vec<String>,
    pub min_age_not_reached: Vec<String>,
    /// Which users the connector reaches, now, after the plan and after SDProp (with a connector).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<super::access::AccessFindings>,
    /// The DC offers the password-policy-hints control (history is enforced on resets).
    pub policy_hints_control: bool,
    pub warnings: Vec<String>,
}

impl Readiness {
    /// The scan's part of it.
    pub fn findings(&self) -> Findings {
        Findings {
            scopes: self.scopes.clone(),
            users_in_scope: self.users_in_scope,
            protected_accounts: self.protected_accounts.clone(),
            blocked_inheritance: self.blocked_inheritance.clone(),
            explicit_deny: self.explicit_deny.clone(),
            cannot_change_password: self.cannot_change_password.clone(),
            min_age_not_reached: self.min_age_not_reached.clone(),
            access: self.access.clone(),
        }
    }
}

/// What a readiness check is asked about: the connector account as named (sAMAccountName or DN)
/// with the account found for that name, if any (without a name none is assumed, the `MSOL_`
/// candidates are only listed), the scopes, and the time the minimum age is judged at.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub named: Option<(&'a str, Option<&'a Account>)>,
    pub scopes: &'a [String],
    pub now: std::time::SystemTime,
}

/// Reads everything the report says. `progress` hears how many objects the scan has read.
pub async fn check(
    conn: &mut AdConnection,
    disc: &directory::Discovery,
    account: &Account,
    ask: Ask<'_>,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Readiness, AdError> {
    let Ask { named, scopes, now } = ask;
    let ea = directory::enterprise_admin(conn, disc, account).await?;
    let password_policy = policy::domain_policy(conn, disc).await?;
    let min_age = min_age(conn, disc, &password_policy, now).await?;
    let candidates = directory::connector_candidates(conn, disc, named.and_then(|(_, found)| found)).await?;
    let mut warnings = Vec::new();
    let connector = match named {
        Some((name, found)) => {
            if found.is_none() {
                warnings.push(format!("the connector account '{name}' was not found; check --connector-account"));
            }
            found.cloned()
        }
        // Never taken on its name alone: anyone who may create a user could call one MSOL_x.
        None => {
            warnings.push(format!(
                "the AD DS connector account is not named ({} MSOL_ account(s) found, listed as candidates): name it with --connector-account",
                candidates.len()
            ));
            None
        }
    };
    if let Some(c) = &connector {
        if !c.enabled {
            warnings
                .push(format!("the connector account {} is disabled: the sync engine cannot write passwords", c.dn));
        }
        if c.admin_count {
            warnings.push(format!("the connector account {} has adminCount=1 (protected): on Windows its own permissions are reset hourly", c.dn));
        }
    }
    let connector_sid = connector.as_ref().and_then(|c| Sid::parse(&c.sid).ok());
    let evaluator = match &connector {
        Some(c) => super::access::for_connector(conn, disc, c, scopes, cancel).await?,
        None => None,
    };
    let Findings {
        users_in_scope,
        protected_accounts,
        blocked_inheritance,
        explicit_deny,
        cannot_change_password,
        min_age_not_reached,
        access,
        ..
    } = scan::scan_with_access(
        conn,
        scopes,
        connector_sid.as_ref(),
        Some(&min_age),
        evaluator.as_ref(),
        cancel,
        progress,
    )
    .await?;
    if !disc.supported_extensions.iter().any(|e| e == directory::WHO_AM_I) {
        warnings.push(format!(
            "the DC does not offer LDAP Who-Am-I (RFC 4532; Windows Server 2008 and later do): the bound account was taken to be the one whose name is exactly the name bound with ({})",
            account.dn
        ));
    }
    let policy_hints_control = disc.policy_hints();
    if !policy_hints_control {
        warnings
            .push(if disc.is_samba() { directory::NO_POLICY_HINTS_SAMBA } else { directory::NO_POLICY_HINTS }.into());
    }
    Ok(Readiness {
        connection: None,
        dc: disc.dc_name.clone(),
        account: account.dn.clone(),
        enterprise_admin: ea.enterprise_admin,
        enterprise_admins_sid: ea.enterprise_admins_sid.clone(),
        domain_admin: ea.domain_admin,
        domains: disc.domains.clone(),
        password_policy,
        connector_account: connector,
        connector_candidates: candidates,
        scopes: scopes.to_vec(),
        users_in_scope,
        protected_accounts,
        blocked_inheritance,
        cannot_change_password,
        explicit_deny,
        min_age_not_reached,
        access,
        policy_hints_control,
        warnings,
    })
}

/// The minimum ages the scan checks users against: the domain's and every PSO's.
pub async fn min_age(
    conn: &mut AdConnection,
    disc: &directory::Discovery,
    domain: &PasswordPolicy,
    now: std::time::SystemTime,
) -> Result<scan::MinAge, AdError> {
    let pso_secs = policy::all_psos(conn, disc)
        .await?
        .into_iter()
        .filter_map(|p| match p.source {
            policy::PolicySource::Pso { dn, .. } => Some((dn.to_ascii_lowercase(), p.min_age_secs)),
            policy::PolicySource::Domain { .. } => None,
        })
        .collect();
    Ok(scan::MinAge { domain_secs: domain.min_age_secs, pso_secs, now })
}
