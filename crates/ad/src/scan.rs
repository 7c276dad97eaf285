//! The readiness scan: what in the chosen scopes would silently break writeback (the sync
//! server's events 33004 and 6329 and friends), found in one paged, streaming, cancellable pass.

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
    /// Users whose password is younger than the minimum age of the policy that applies to them
    /// (their PSO, else the domain's): a reset written back now is refused.
    pub min_age_not_reached: Vec<String>,
    /// Each user's access for the connector, decided as Windows decides it (when the connector
    /// is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<super::access::AccessFindings>,
}

/// One kind of finding, in the words every front uses (the plan, `ad check`, the wizard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The JSON field that lists them.
    pub field: &'static str,
    pub one: &'static str,
    pub many: &'static str,
    /// What it does to writeback, and what to do.
    pub remedy: &'static str,
}

pub const PROTECTED: Kind = Kind {
    field: "protected_accounts",
    one: "protected account (adminCount=1)",
    many: "protected accounts (adminCount=1)",
    remedy: "Microsoft says writeback cannot change the passwords of users in protected groups (SSPR writeback documentation; ADSync event 33004 names adminCount=1). On Windows, SDProp keeps these users' permissions as AdminSDHolder's: granting there (--include-adminsdholder, the wizard's option) is unsupported by Microsoft and gives the connector reset rights over your most privileged accounts. Leave them out of writeback; take accounts that no longer need protection out of the protected groups and clear adminCount.",
};
pub const BLOCKED: Kind = Kind {
    field: "blocked_inheritance",
    one: "object that blocks inheritance",
    many: "objects that block inheritance",
    remedy: "Permissions granted above do not reach the users at or below these: add them as scopes, or turn inheritance back on.",
};
pub const DENY: Kind = Kind {
    field: "explicit_deny",
    one: "explicit deny that hits the connector account",
    many: "explicit denies that hit the connector account",
    remedy: "A deny wins over the grant, so writeback is refused for the users it covers (event 33004 on the sync server): remove the deny.",
};
pub const CANNOT_CHANGE: Kind = Kind {
    field: "cannot_change_password",
    one: "user with \"User cannot change password\"",
    many: "users with \"User cannot change password\"",
    remedy: "\"User cannot change password\" is a deny of Change Password to Everyone and SELF on the user (PASSWD_CANT_CHANGE). Microsoft lists it under ADSync event 6329 \"BAIL: MMS(4924) 0x80230619: A restriction prevents the password from being changed\": a password these users change or reset in the cloud can be refused when it is written back. Clear it (Active Directory Users and Computers > the user > Account) for users who should use self-service password reset.",
};
pub const MIN_AGE: Kind = Kind {
    field: "min_age_not_reached",
    one: "user whose password is younger than the minimum password age",
    many: "users whose password is younger than the minimum password age",
    remedy: "Writeback checks a new password against the on-premises policy's age (Microsoft's writeback documentation), so a reset written back for them now is refused until their password is older than the minimum age of the policy that applies (their PSO, else the domain's). Wait, or lower that minimum age.",
};

impl Kind {
    /// "3 protected accounts (adminCount=1)".
    pub fn count(&self, n: usize) -> String {
        format!("{n} {}", if n == 1 { self.one } else { self.many })
    }
}

impl Findings {
    /// Adds what another scan found (another domain's scopes, or another forest's).
    pub fn merge(&mut self, other: Findings) {
        self.scopes.extend(other.scopes);
        self.users_in_scope += other.users_in_scope;
        for (mine, theirs) in [
            (&mut self.protected_accounts, other.protected_accounts),
            (&mut self.blocked_inheritance, other.blocked_inheritance),
            (&mut self.explicit_deny, other.explicit_deny),
            (&mut self.cannot_change_password, other.cannot_change_password),
            (&mut self.min_age_not_reached, other.min_age_not_reached),
        ] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
        }
        match (&mut self.access, other.access) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }

    /// Each kind with what was found of it, in the order the fronts show them.
    pub fn each(&self) -> [(Kind, &[String]); 5] {
        [
            (PROTECTED, &self.protected_accounts),
            (BLOCKED, &self.blocked_inheritance),
            (DENY, &self.explicit_deny),
            (CANNOT_CHANGE, &self.cannot_change_password),
            (MIN_AGE, &self.min_age_not_reached),
        ]
    }

    /// One warning per kind found: how many, and the remedy (the plan's warnings).
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .each()
            .iter()
            .filter(|(_, dns)| !dns.is_empty())
            .map(|(kind, dns)| format!("{} in scope: {}", kind.count(dns.len()), kind.remedy))
            .collect();
        out.extend(self.access.as_ref().and_then(super::access::AccessFindings::summary));
        out
    }
}

/// The minimum ages in force: the domain's, and each PSO's by its DN (lowercase), at `now`.
#[derive(Debug, Clone)]
pub struct MinAge {
    pub domain_secs: u64,
    pub pso_secs: std::collections::HashMap<String, u64>,
    pub now: std::time::SystemTime,
}

impl MinAge {
    /// The longest minimum age of any policy: a password older than that is old enough under all.
    pub fn longest(&self) -> u64 {
        self.pso_secs.values().copied().fold(self.domain_secs, u64::max)
    }

    /// The minimum age for a user whose resultant PSO is `pso` (`None`: the domain's policy).
    pub fn for_pso(&self, pso: Option<&str>) -> u64 {
        match pso {
            Some(dn) => self.pso_secs.get(&dn.to_ascii_lowercase()).copied().unwrap_or(0),
            None => self.domain_secs,
        }
    }
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
    scan_with(conn, scopes, connector, None, cancel, progress).await
}

/// [`scan`], and with `min_age` the users whose password is too young to be reset.
pub async fn scan_with(
    conn: &mut AdConnection,
    scopes: &[String],
    connector: Option<&Sid>,
    min_age: Option<&MinAge>,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Findings, AdError> {
    scan_with_access(conn, scopes, connector, min_age, None, cancel, progress).await
}

/// [`scan_with`], and with `access` each user's access answered in the same pass (the evaluator
/// holds the containers' DACLs; the users' are the ones the scan reads anyway).
pub async fn scan_with_access(
    conn: &mut AdConnection,
    scopes: &[String],
    connector: Option<&Sid>,
    min_age: Option<&MinAge>,
    access: Option<&super::access::Evaluator>,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Findings, AdError> {
    let mut access_found =
        access.map(|e| super::access::AccessFindings { account: e.account().to_string(), ..Default::default() });
    let mut too_young = BTreeSet::new();
    // A scope inside another is read with it: each user is counted once without keeping every
    // user's DN (the scan's memory stays flat in the number of users).
    let lower: Vec<String> = scopes.iter().map(|s| s.to_ascii_lowercase()).collect();
    let mut taken = std::collections::HashSet::new();
    let outer: Vec<&String> = scopes
        .iter()
        .zip(&lower)
        .filter(|(_, low)| !lower.iter().any(|o| low.ends_with(&format!(",{o}"))) && taken.insert(low.as_str()))
        .map(|(s, _)| s)
        .collect();
    let mut users = 0usize;
    // Where users sit (their parents, lowercase): a protected container matters only above one.
    let mut user_parents = std::collections::HashSet::new();
    let mut protected_accounts = BTreeSet::new();
    let mut blocked = BTreeSet::new();
    let mut blocked_containers = BTreeSet::new();
    let mut deny = BTreeSet::new();
    let mut cannot_change = BTreeSet::new();
    let mut seen = 0usize;
    let filter =
        "(|(objectClass=organizationalUnit)(objectClass=container)(&(objectCategory=person)(objectClass=user)))";
    // pwdLastSet only when the minimum age is asked about. Which policy applies
    // (msDS-ResultantPSO) the DC computes per user at a cost (six times the scan's time on Samba
    // when asked of every user): it is read afterwards, only for the users whose password is
    // younger than the longest minimum age of any policy.
    let attrs: &[&str] = match (min_age.is_some(), access.is_some()) {
        (true, true) => &["objectClass", "adminCount", "nTSecurityDescriptor", "pwdLastSet", "objectSid"],
        (true, false) => &["objectClass", "adminCount", "nTSecurityDescriptor", "pwdLastSet"],
        (false, true) => &["objectClass", "adminCount", "nTSecurityDescriptor", "objectSid"],
        (false, false) => &["objectClass", "adminCount", "nTSecurityDescriptor"],
    };
    let longest = min_age.map(MinAge::longest).unwrap_or(0);
    let mut young = Vec::new();
    for scope in outer {
        let query = Query {
            base: scope,
            scope: Scope::Subtree,
            filter,
            attrs,
            controls: vec![sd_flags_control(SD_FLAGS_DACL)],
        };
        let result = conn
            .search_paged(query, cancel, |mut e| {
                seen += 1;
                if seen.is_multiple_of(500) {
                    progress(seen);
                }
                let is_user = e.attrs.get("objectClass").is_some_and(|c| c.iter().any(|v| v == "user"));
                let sd = super::take_descriptor(&mut e)?;
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
                    if let Some(m) = min_age {
                        let set: Option<u64> =
                            e.attrs.get("pwdLastSet").and_then(|v| v.first()).and_then(|v| v.parse().ok());
                        if super::policy::too_young(set, longest, m.now).is_some() {
                            young.push((e.dn.clone(), set));
                        }
                    }
                    users += 1;
                    if let (Some(ev), Some(found)) = (access, access_found.as_mut()) {
                        found.add(ev.entry(&e, sd.as_ref()));
                    }
                    if let Some((_, parent)) = e.dn.split_once(',') {
                        user_parents.insert(parent.to_ascii_lowercase());
                    }
                }
                Ok(())
            })
            .await;
        match result {
            Ok(_) => {}
            Err(AdError::Ldap { rc: super::rc::NO_SUCH_OBJECT, .. }) => {
                return Err(AdError::NoSuchObject { dn: scope.clone() });
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(m) = min_age {
        let policies = conn
            .pipelined(young, |mut c, (dn, set)| async move {
                let entry = c.read(&dn, &["msDS-ResultantPSO"]).await;
                (dn, set, entry)
            })
            .await;
        for (dn, set, entry) in policies {
            let pso = entry?.and_then(|e| e.attrs.get("msDS-ResultantPSO").and_then(|v| v.first()).cloned());
            if super::policy::too_young(set, m.for_pso(pso.as_deref()), m.now).is_some() {
                too_young.insert(dn);
            }
        }
    }
    progress(seen);
    // A protected container matters only when users sit beneath it (GPO containers, for one, are
    // protected and hold none).
    for container in blocked_containers {
        let low = container.to_ascii_lowercase();
        let suffix = format!(",{low}");
        if user_parents.iter().any(|p| *p == low || p.ends_with(&suffix)) {
            blocked.insert(container);
        }
    }
    Ok(Findings {
        scopes: scopes.to_vec(),
        users_in_scope: users,
        protected_accounts: protected_accounts.into_iter().collect(),
        blocked_inheritance: blocked.into_iter().collect(),
        explicit_deny: deny.into_iter().collect(),
        cannot_change_password: cannot_change.into_iter().collect(),
        min_age_not_reached: too_young.into_iter().collect(),
        access: access_found,
    })
}
