//! The canary: a reset and an unlock made as the connector account, proving writeback on AD.

use serde::Serialize;

use crate::ad::AdConnection;
use crate::engine::EngineError;

/// The canary check's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Canary {
    /// The test account.
    pub user: String,
    /// The connector account reset its password (to a random value nobody keeps).
    pub reset: bool,
    /// The connector account cleared its lockout (lockoutTime = 0).
    pub unlock: bool,
    /// What went wrong, if anything.
    pub detail: Option<String>,
}

/// Proves writeback end to end on AD: bound as the connector account, resets `user`'s password to
/// a random value that passes the user's policy (and is then forgotten), and writes lockoutTime=0.
pub async fn canary(
    admin: &mut AdConnection,
    disc: &crate::ad::directory::Discovery,
    as_connector: &mut AdConnection,
    user: &str,
) -> Result<Canary, EngineError> {
    use crate::ad::{directory, policy, unicode_pwd};
    let account = directory::find_account(admin, disc, user)
        .await?
        .ok_or(crate::ad::AdError::NoSuchAccount { name: user.to_string() })?;
    // The canary's password is reset to a value nobody keeps: never an account that matters.
    if let Some(why) = directory::not_a_person(admin, disc, &account).await? {
        return Err(EngineError::CanaryRefused { user: account.dn.clone(), why });
    }
    let effective = policy::effective_policy(admin, disc, &account.dn).await?;
    let mut password = crate::ad::passgen::generate_os(24.max(effective.min_length as usize + 4));
    for _ in 0..20 {
        // The age is the DC's to judge on the canary's own reset (its detail says so).
        if policy::test_password(&effective, &account, &password, None).acceptable {
            break;
        }
        password = crate::ad::passgen::generate_os(24.max(effective.min_length as usize + 4));
    }
    let reset = as_connector
        .modify(&account.dn, vec![ldap3::Mod::Replace(b"unicodePwd".to_vec(), [unicode_pwd(&password)].into())], vec![])
        .await;
    drop(password);
    let unlock = as_connector
        .modify(&account.dn, vec![ldap3::Mod::Replace(b"lockoutTime".to_vec(), [b"0".to_vec()].into())], vec![])
        .await;
    let detail = match (&reset, &unlock) {
        (Ok(()), Ok(())) => None,
        (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
    };
    Ok(Canary { user: account.dn, reset: reset.is_ok(), unlock: unlock.is_ok(), detail })
}
