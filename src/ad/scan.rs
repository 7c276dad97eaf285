//! The readiness scan: what in the chosen scopes would silently break writeback (event 33004 and
//! friends), found in one paged, streaming, cancellable pass.

use std::collections::BTreeSet;

use ldap3::Scope;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::sd::ace::{self, AceBody};
use super::sd::{SecurityDescriptor, Sid};
use super::writeback::{CHANGE_PASSWORD, LOCKOUT_TIME, PWD_LAST_SET, RESET_PASSWORD};
use super::{AdConnection, AdError, Query, SD_FLAGS_DACL, sd_flags_control};

const EVERYONE: &str = "S-1-1-0";
const AUTHENTICATED_USERS: &str = "S-1-5-11";
const SELF: &str = "S-1-5-10";

/// What the scan found. Lists hold DNs, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// The scopes scanned.
    pub scopes: Vec<String>,
    /// User objects in the scopes (each counted once when scopes nest).
    pub users_in_scope: usize,
    /// Users with adminCount=1: on Windows, SDProp resets their DACL from AdminSDHolder every hour,
    /// removing inherited writeback permissions.
    pub protected_accounts: Vec<String>,
    /// Users whose DACL is protected (inheritance disabled), and OUs and containers with a protected
    /// DACL that have users beneath them: permissions granted above never reach those users.
    pub blocked_inheritance: Vec<String>,
    /// Objects with an explicit deny that hits the connector account on a writeback right.
    pub explicit_deny: Vec<String>,
    /// Users with "User cannot change password" (a deny of Change Password to Everyone or SELF).
    pub cannot_change_password: Vec<String>,
}

fn is_writeback_right(object_type: Option<uuid::Uuid>) -> bool {
    object_type.is_none_or(|g| [RESET_PASSWORD, LOCKOUT_TIME, PWD_LAST_SET].contains(&g))
}

/// Examines one object's DACL.
fn examine(sd: &SecurityDescriptor, connector: Option<&Sid>) -> (bool, bool, bool) {
    let protected = sd.dacl_protected();
    let mut deny_connector = false;
    let mut cannot_change = false;
    if let Some(dacl) = &sd.dacl {
        for a in dacl.aces.iter().filter(|a| a.is_deny() && !a.is_inherited()) {
            let Some(sid) = a.sid().map(ToString::to_string) else { continue };
            let (object_type, _) = a.object_types();
            let mask = a.mask().unwrap_or(0);
            if object_type == Some(CHANGE_PASSWORD) && (sid == EVERYONE || sid == SELF) {
                cannot_change = true;
                continue;
            }
            let hits_connector =
                connector.is_some_and(|c| c.to_string() == sid) || sid == EVERYONE || sid == AUTHENTICATED_USERS;
            let relevant = match &a.body {
                AceBody::Object { .. } | AceBody::Basic { .. } => {
                    mask & (ace::RIGHT_CONTROL_ACCESS | ace::RIGHT_WRITE_PROPERTY | 0x1000_0000 | 0x4000_0000) != 0
                        && is_writeback_right(object_type)
                }
                AceBody::Raw(_) => false,
            };
            deny_connector |= hits_connector && relevant;
        }
    }
    (protected, deny_connector, cannot_change)
}

/// Scans `scopes` for what breaks writeback. `progress` is told the number of objects seen so far
/// (every few hundred); `cancel` stops the scan between objects.
pub async fn scan(
    conn: &mut AdConnection,
    scopes: &[String],
    connector: Option<&Sid>,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Findings, AdError> {
    let mut users = BTreeSet::new();
    let mut protected_accounts = BTreeSet::new();
    let mut blocked = BTreeSet::new();
    let mut blocked_containers = BTreeSet::new();
    let mut deny = BTreeSet::new();
    let mut cannot_change = BTreeSet::new();
    let mut seen = 0usize;
    let filter =
        "(|(objectClass=organizationalUnit)(objectClass=container)(&(objectCategory=person)(objectClass=user)))";
    for scope in scopes {
        let query = Query {
            base: scope,
            scope: Scope::Subtree,
            filter,
            attrs: &["objectClass", "adminCount", "nTSecurityDescriptor"],
            controls: vec![sd_flags_control(SD_FLAGS_DACL)],
        };
        let result = conn
            .search_paged(query, cancel, |mut e| {
                seen += 1;
                if seen.is_multiple_of(500) {
                    progress(seen);
                }
                let is_user = e.attrs.get("objectClass").is_some_and(|c| c.iter().any(|v| v == "user"));
                let sd = e
                    .bin_attrs
                    .remove("nTSecurityDescriptor")
                    .and_then(|mut v| v.pop())
                    .map(|b| {
                        SecurityDescriptor::decode(&b)
                            .map_err(|err| AdError::BadDescriptor { dn: e.dn.clone(), detail: err.to_string() })
                    })
                    .transpose()?;
                let (is_protected, denies, no_change) =
                    sd.as_ref().map(|sd| examine(sd, connector)).unwrap_or((false, false, false));
                if is_protected {
                    if is_user {
                        blocked.insert(e.dn.clone())
                    } else {
                        blocked_containers.insert(e.dn.clone())
                    };
                }
                if denies {
                    deny.insert(e.dn.clone());
                }
                if is_user {
                    if no_change {
                        cannot_change.insert(e.dn.clone());
                    }
                    if e.attrs.get("adminCount").and_then(|v| v.first()).is_some_and(|v| v == "1") {
                        protected_accounts.insert(e.dn.clone());
                    }
                    users.insert(e.dn);
                }
                Ok(())
            })
            .await;
        match result {
            Ok(_) => {}
            Err(AdError::Ldap { rc: 32, .. }) => return Err(AdError::NoSuchObject { dn: scope.clone() }),
            Err(e) => return Err(e),
        }
    }
    progress(seen);
    // A protected container matters only when users sit beneath it (GPO containers, for one, are
    // protected and hold none).
    for container in blocked_containers {
        let suffix = format!(",{}", container.to_ascii_lowercase());
        if users.iter().any(|u| u.to_ascii_lowercase().ends_with(&suffix)) {
            blocked.insert(container);
        }
    }
    Ok(Findings {
        scopes: scopes.to_vec(),
        users_in_scope: users.len(),
        protected_accounts: protected_accounts.into_iter().collect(),
        blocked_inheritance: blocked.into_iter().collect(),
        explicit_deny: deny.into_iter().collect(),
        cannot_change_password: cannot_change.into_iter().collect(),
    })
}
