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
        }
    }
}

/// Reads everything the report says. `named` is the connector account as named (sAMAccountName
/// or DN); without it the only `MSOL_` candidate is taken. `progress` hears how many objects the
/// scan has read.
pub async fn check(
    conn: &mut AdConnection,
    disc: &directory::Discovery,
    account: &Account,
    named: Option<&str>,
    scopes: &[String],
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Readiness, AdError> {
    let ea = directory::enterprise_admin(conn, disc, account).await?;
    let password_policy = policy::domain_policy(conn, disc).await?;
    let candidates = directory::connector_candidates(conn, disc, named).await?;
    let mut warnings = Vec::new();
    let connector = match named {
        Some(name) => {
            let found = directory::find_account(conn, disc, name).await?;
            if found.is_none() {
                warnings.push(format!("the connector account '{name}' was not found; check --connector-account"));
            }
            found
        }
        None if candidates.len() == 1 => candidates.first().cloned(),
        None => {
            warnings.push(format!(
                "{} MSOL_ accounts found: name the AD DS connector account with --connector-account",
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
    let Findings {
        users_in_scope, protected_accounts, blocked_inheritance, explicit_deny, cannot_change_password, ..
    } = scan::scan(conn, scopes, connector_sid.as_ref(), cancel, progress).await?;
    if !disc.supported_extensions.iter().any(|e| e == directory::WHO_AM_I) {
        warnings.push(format!(
            "the DC does not offer LDAP Who-Am-I (RFC 4532; Windows Server 2008 and later do): the bound account was taken to be the one whose name is exactly the name bound with ({})",
            account.dn
        ));
    }
    let policy_hints_control = disc.policy_hints();
    if !policy_hints_control {
        warnings.push(directory::NO_POLICY_HINTS.into());
    }
    Ok(Readiness {
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
        policy_hints_control,
        warnings,
    })
}
