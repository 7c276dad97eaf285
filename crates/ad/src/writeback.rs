//! The AD DS connector account's password-writeback permissions: which ACEs, where, and how they
//! are granted and revoked exactly. docs/permissions.md explains each one.

use serde::Serialize;
use uuid::Uuid;

use super::sd::ace::{self, Ace, AceBody, CONTAINER_INHERIT, INHERIT_ONLY, RIGHT_CONTROL_ACCESS, RIGHT_WRITE_PROPERTY};
use super::sd::{SecurityDescriptor, Sid, SidContext};
use super::{AdConnection, AdError, SD_FLAGS_DACL, sd_flags_control};

/// Extended right "Reset Password" (User-Force-Change-Password).
pub const RESET_PASSWORD: Uuid = Uuid::from_u128(0x00299570_246d_11d0_a768_00aa006e0529);
/// Extended right "Change Password" (User-Change-Password).
pub const CHANGE_PASSWORD: Uuid = Uuid::from_u128(0xab721a53_1e2f_11d0_9819_00aa0040529b);
/// Extended right "Unexpire Password" (on the domain object).
pub const UNEXPIRE_PASSWORD: Uuid = Uuid::from_u128(0xccc2dc7d_a6ad_4a7a_8846_c04e3cc53501);
/// Attribute lockoutTime.
pub const LOCKOUT_TIME: Uuid = Uuid::from_u128(0x28630ebf_41d5_11d1_a9c1_0000f80367c1);
/// Attribute pwdLastSet.
pub const PWD_LAST_SET: Uuid = Uuid::from_u128(0xbf967a0a_0de6_11d0_a285_00aa003049e2);
/// Class user.
pub const USER_CLASS: Uuid = Uuid::from_u128(0xbf967aba_0de6_11d0_a285_00aa003049e2);
/// Class inetOrgPerson.
pub const INET_ORG_PERSON_CLASS: Uuid = Uuid::from_u128(0x4828cc14_1437_45bc_9b07_ad6f015e5f28);

/// The four rights writeback needs on each user: (name, access mask, object type).
pub const RIGHTS: [(&str, u32, Uuid); 4] = [
    ("Reset Password", RIGHT_CONTROL_ACCESS, RESET_PASSWORD),
    ("Change Password", RIGHT_CONTROL_ACCESS, CHANGE_PASSWORD),
    ("Write lockoutTime", RIGHT_WRITE_PROPERTY, LOCKOUT_TIME),
    ("Write pwdLastSet", RIGHT_WRITE_PROPERTY, PWD_LAST_SET),
];

/// The two classes writeback applies to.
pub const CLASSES: [(&str, Uuid); 2] = [("user", USER_CLASS), ("inetOrgPerson", INET_ORG_PERSON_CLASS)];

/// Where an ACE goes, and so which set it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A domain root or an OU: the 8 inherit-only ACEs for descendant users and inetOrgPersons.
    Scope,
    /// A domain root: Unexpire Password for this object and all descendants.
    DomainRoot,
    /// AdminSDHolder: the 4 rights on the object itself (SDProp copies them to protected accounts).
    AdminSdHolder,
}

/// One ACE of the set, with its meaning in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedAce {
    pub ace: Ace,
    /// E.g. "Reset Password on descendant user objects".
    pub description: String,
}

/// The ACEs the connector account needs on a target of this kind.
pub fn wanted(kind: TargetKind, connector: &Sid) -> Vec<WantedAce> {
    match kind {
        TargetKind::Scope => CLASSES
            .iter()
            .flat_map(|(class, class_guid)| {
                RIGHTS.iter().map(move |(right, mask, guid)| WantedAce {
                    ace: Ace::object_allow(
                        CONTAINER_INHERIT | INHERIT_ONLY,
                        *mask,
                        Some(*guid),
                        Some(*class_guid),
                        connector.clone(),
                    ),
                    description: format!("{right} on descendant {class} objects"),
                })
            })
            .collect(),
        TargetKind::DomainRoot => vec![WantedAce {
            ace: Ace::object_allow(
                CONTAINER_INHERIT,
                RIGHT_CONTROL_ACCESS,
                Some(UNEXPIRE_PASSWORD),
                None,
                connector.clone(),
            ),
            description: "Unexpire Password on the domain and all descendants".into(),
        }],
        TargetKind::AdminSdHolder => RIGHTS
            .iter()
            .map(|(right, mask, guid)| WantedAce {
                ace: Ace::object_allow(0, *mask, Some(*guid), None, connector.clone()),
                description: format!("{right} on AdminSDHolder itself (copied by SDProp to protected accounts)"),
            })
            .collect(),
    }
}

/// SIDs that include every account: Everyone, Authenticated Users.
const EVERYONE: &str = "S-1-1-0";
const AUTHENTICATED_USERS: &str = "S-1-5-11";

/// Whether the DACL already lets the connector unexpire passwords: an allow ACE on this object
/// (explicit or inherited, not inherit-only) for the connector, Authenticated Users or Everyone,
/// naming Unexpire Password or all extended rights. Many domains grant it to Authenticated Users.
pub fn unexpire_held(dacl: &ace::Acl, connector: &Sid) -> bool {
    dacl.aces.iter().any(|a| {
        let allow = matches!(a.ace_type, ace::ACCESS_ALLOWED | ace::ACCESS_ALLOWED_OBJECT);
        let applies = a.flags & INHERIT_ONLY == 0;
        let who = a
            .sid()
            .is_some_and(|s| s == connector || s.to_string() == AUTHENTICATED_USERS || s.to_string() == EVERYONE);
        let what = match &a.body {
            AceBody::Object { mask, object_type, .. } => {
                (mask & RIGHT_CONTROL_ACCESS != 0 && object_type.is_none_or(|g| g == UNEXPIRE_PASSWORD))
                    || mask & 0x1000_0000 != 0
            }
            AceBody::Basic { mask, .. } => mask & RIGHT_CONTROL_ACCESS != 0 || mask & 0x1000_0000 != 0,
            AceBody::Raw(_) => false,
        };
        allow && applies && who && what
    })
}

/// An object's DACL as read: the bytes and the decoded descriptor.
#[derive(Debug, Clone)]
pub struct Dacl {
    pub dn: String,
    /// The descriptor bytes exactly as the DC returned them with SD_FLAGS=4.
    pub bytes: Vec<u8>,
    pub sd: SecurityDescriptor,
}

/// Reads an object's DACL alone (SD_FLAGS = DACL).
pub async fn read_dacl(conn: &mut AdConnection, dn: &str) -> Result<Dacl, AdError> {
    let entries = conn
        .search_with(
            dn,
            ldap3::Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![sd_flags_control(SD_FLAGS_DACL)],
        )
        .await
        .map_err(|e| match e {
            AdError::Ldap { rc: super::rc::NO_SUCH_OBJECT, .. } => AdError::NoSuchObject { dn: dn.to_string() },
            other => other,
        })?;
    let bytes = entries
        .into_iter()
        .next()
        .and_then(|mut e| e.bin_attrs.remove("nTSecurityDescriptor"))
        .and_then(|mut v| v.pop())
        .ok_or_else(|| AdError::NoDescriptor { dn: dn.to_string() })?;
    let sd = SecurityDescriptor::decode(&bytes)
        .map_err(|e| AdError::BadDescriptor { dn: dn.to_string(), detail: e.to_string() })?;
    Ok(Dacl { dn: dn.to_string(), bytes, sd })
}

/// Writes a descriptor's DACL alone (SD_FLAGS = DACL): owner, group and SACL stay as they are.
pub async fn write_dacl(conn: &mut AdConnection, dn: &str, sd: &SecurityDescriptor) -> Result<(), AdError> {
    let bytes = sd.encode();
    conn.modify(
        dn,
        vec![ldap3::Mod::Replace(b"nTSecurityDescriptor".to_vec(), [bytes].into())],
        vec![sd_flags_control(SD_FLAGS_DACL)],
    )
    .await
}

/// What a grant did on one object.
#[derive(Debug, Clone)]
pub struct GrantOutcome {
    pub dn: String,
    /// Its DACL before (the journal keeps it whole).
    pub before: Vec<u8>,
    /// Its DACL after, as read back.
    pub after: Vec<u8>,
    /// ACEs added.
    pub added: Vec<Ace>,
    /// Wanted ACEs that were already there (explicitly, or for Unexpire Password, through a
    /// broader grant): kept, never removed by a disable unless asked.
    pub preexisting: Vec<Ace>,
}

/// Splits `wanted` into what the DACL lacks and what it already holds.
pub fn missing(dacl: &ace::Acl, wanted: &[WantedAce], connector: &Sid) -> (Vec<Ace>, Vec<Ace>) {
    let mut lacking = Vec::new();
    let mut present = Vec::new();
    for w in wanted {
        let is_unexpire = w.ace.object_types().0 == Some(UNEXPIRE_PASSWORD);
        if dacl.contains_explicit(&w.ace) || (is_unexpire && unexpire_held(dacl, connector)) {
            present.push(w.ace.clone());
        } else {
            lacking.push(w.ace.clone());
        }
    }
    (lacking, present)
}

/// Grants `wanted` on `dn`: reads the DACL, inserts what is missing in canonical order, writes the
/// DACL alone, reads it back and checks every ACE is there. Changes nothing when nothing is
/// missing.
pub async fn grant(
    conn: &mut AdConnection,
    dn: &str,
    wanted: &[WantedAce],
    connector: &Sid,
) -> Result<GrantOutcome, AdError> {
    let mut out = grant_many(conn, vec![dn.to_string()], wanted, connector).await?;
    out.pop().ok_or_else(|| AdError::NoSuchObject { dn: dn.to_string() })
}

/// A grant worked out over a DACL just read: the descriptor to write (`None` when nothing is
/// lacking), the ACEs it adds and the wanted ones already there.
#[derive(Debug, Clone)]
pub struct GrantChange {
    pub write: Option<SecurityDescriptor>,
    pub added: Vec<Ace>,
    pub preexisting: Vec<Ace>,
}

/// Works a grant out over `current`: what is missing, inserted in canonical order. No I/O.
pub fn grant_change(current: &Dacl, wanted: &[WantedAce], connector: &Sid) -> Result<GrantChange, AdError> {
    let mut sd = current.sd.clone();
    let Some(dacl) = sd.dacl.as_mut() else { return Err(AdError::NullDacl { dn: current.dn.clone() }) };
    let (lacking, present) = missing(dacl, wanted, connector);
    if lacking.is_empty() {
        return Ok(GrantChange { write: None, added: Vec::new(), preexisting: present });
    }
    for a in &lacking {
        dacl.insert_canonical(a.clone());
    }
    Ok(GrantChange { write: Some(sd), added: lacking, preexisting: present })
}

/// Checks a grant's ACEs are in the DACL read back.
pub fn verify_grant(after: &Dacl, added: &[Ace]) -> Result<(), AdError> {
    let after_dacl = after.sd.dacl.clone().unwrap_or_else(|| ace::Acl::new(ace::ACL_REVISION_DS));
    match added.iter().find(|a| !after_dacl.contains_explicit(a)) {
        Some(gone) => Err(AdError::VerifyFailed {
            dn: after.dn.clone(),
            detail: format!(
                "the ACE {} is not in the DACL read back",
                super::sd::sddl::render_ace(gone, &SidContext::default())
            ),
        }),
        None => Ok(()),
    }
}

/// [`grant`] on many objects in phases, requests in flight together on the one connection: every
/// DACL read, every change written, every change read back and checked. The engine's apply does
/// the same with its journal between the reads and the writes.
pub async fn grant_many(
    conn: &AdConnection,
    dns: Vec<String>,
    wanted: &[WantedAce],
    connector: &Sid,
) -> Result<Vec<GrantOutcome>, AdError> {
    let mut read = Vec::new();
    for r in read_dacls(conn, dns).await {
        read.push(r?);
    }
    let mut changes = Vec::new();
    for current in &read {
        changes.push(grant_change(current, wanted, connector)?);
    }
    let writes: Vec<(usize, String, SecurityDescriptor)> = read
        .iter()
        .zip(&changes)
        .enumerate()
        .filter_map(|(i, (d, c))| Some((i, d.dn.clone(), c.write.clone()?)))
        .collect();
    let mut after: Vec<Vec<u8>> = read.iter().map(|d| d.bytes.clone()).collect();
    for (i, back) in write_then_read(conn, writes).await.map_err(|(_, e)| e)? {
        verify_grant(&back, &changes[i].added)?;
        after[i] = back.bytes;
    }
    Ok(read
        .into_iter()
        .zip(changes)
        .zip(after)
        .map(|((current, change), after)| GrantOutcome {
            dn: current.dn,
            before: current.bytes,
            after,
            added: change.added,
            preexisting: change.preexisting,
        })
        .collect())
}

/// Reads the DACLs of `dns`, requests in flight together on the one connection.
pub async fn read_dacls(conn: &AdConnection, dns: Vec<String>) -> Vec<Result<Dacl, AdError>> {
    conn.pipelined(dns, |mut c, dn| async move { read_dacl(&mut c, &dn).await }).await
}

/// Writes each descriptor's DACL, then reads each back, requests in flight together on the one
/// connection. Each write carries a caller's key (an index); the DACLs read back come with theirs,
/// in order, or the first failure with its key.
pub async fn write_then_read<K: Copy>(
    conn: &AdConnection,
    writes: Vec<(K, String, SecurityDescriptor)>,
) -> Result<Vec<(K, Dacl)>, (K, AdError)> {
    let keys: Vec<(K, String)> = writes.iter().map(|(k, dn, _)| (*k, dn.clone())).collect();
    let answers = conn.pipelined(writes, |mut c, (_, dn, sd)| async move { write_dacl(&mut c, &dn, &sd).await }).await;
    for ((k, _), answer) in keys.iter().zip(answers) {
        answer.map_err(|e| (*k, e))?;
    }
    let back = read_dacls(conn, keys.iter().map(|(_, dn)| dn.clone()).collect()).await;
    keys.into_iter().zip(back).map(|((k, _), read)| read.map(|d| (k, d)).map_err(|e| (k, e))).collect()
}

/// What a revoke did on one object.
#[derive(Debug, Clone)]
pub struct RevokeOutcome {
    pub dn: String,
    /// Its DACL before.
    pub before: Vec<u8>,
    /// Its DACL after, as read back.
    pub after: Vec<u8>,
    /// How many ACEs were removed.
    pub removed: usize,
}

/// Removes exactly the given explicit ACEs from `dn`'s DACL, writes it, reads it back and checks
/// they are gone. Changes nothing when none is there.
pub async fn revoke(conn: &mut AdConnection, dn: &str, aces: &[Ace]) -> Result<RevokeOutcome, AdError> {
    let current = read_dacl(conn, dn).await?;
    let Some((sd, removed)) = revoke_change(&current, aces) else {
        return Ok(RevokeOutcome {
            dn: dn.to_string(),
            after: current.bytes.clone(),
            before: current.bytes,
            removed: 0,
        });
    };
    write_dacl(conn, dn, &sd).await?;
    let after = read_dacl(conn, dn).await?;
    verify_revoke(&after, aces)?;
    Ok(RevokeOutcome { dn: dn.to_string(), before: current.bytes, after: after.bytes, removed })
}

/// Works a revoke out over `current`: the descriptor without the given explicit ACEs and how many
/// were removed (`None` when none is there). No I/O.
pub fn revoke_change(current: &Dacl, aces: &[Ace]) -> Option<(SecurityDescriptor, usize)> {
    let mut sd = current.sd.clone();
    let dacl = sd.dacl.as_mut()?;
    let removed: usize = aces.iter().map(|a| dacl.remove_exact(a)).sum();
    (removed > 0).then_some((sd, removed))
}

/// Checks none of a revoke's ACEs is left explicit in the DACL read back.
pub fn verify_revoke(after: &Dacl, aces: &[Ace]) -> Result<(), AdError> {
    match after.sd.dacl.as_ref().and_then(|d| aces.iter().find(|a| d.aces.iter().any(|x| !x.is_inherited() && x == *a)))
    {
        Some(still) => Err(AdError::VerifyFailed {
            dn: after.dn.clone(),
            detail: format!(
                "the ACE {} is still in the DACL read back",
                super::sd::sddl::render_ace(still, &SidContext::default())
            ),
        }),
        None => Ok(()),
    }
}

/// Restores a DACL exactly as it was (rollback): writes the saved bytes' DACL back.
pub async fn restore_dacl(conn: &mut AdConnection, dn: &str, saved: &[u8]) -> Result<(), AdError> {
    let sd = SecurityDescriptor::decode(saved)
        .map_err(|e| AdError::BadDescriptor { dn: dn.to_string(), detail: e.to_string() })?;
    write_dacl(conn, dn, &sd).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector() -> Sid {
        Sid::parse("S-1-5-21-1-2-3-1105").unwrap()
    }

    #[test]
    fn the_set_is_the_design_exactly() {
        let ctx = SidContext::single(Sid::parse("S-1-5-21-1-2-3").unwrap());
        let scope: Vec<String> = wanted(TargetKind::Scope, &connector())
            .iter()
            .map(|w| super::super::sd::sddl::render_ace(&w.ace, &ctx))
            .collect();
        assert_eq!(scope.len(), 8);
        assert_eq!(
            scope[0],
            "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)"
        );
        assert_eq!(
            scope[1],
            "(OA;CIIO;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)"
        );
        assert_eq!(
            scope[2],
            "(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)"
        );
        assert_eq!(
            scope[3],
            "(OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)"
        );
        assert!(scope[4..].iter().all(|s| s.contains(";4828cc14-1437-45bc-9b07-ad6f015e5f28;")));
        let root = wanted(TargetKind::DomainRoot, &connector());
        assert_eq!(
            super::super::sd::sddl::render_ace(&root[0].ace, &ctx),
            "(OA;CI;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;S-1-5-21-1-2-3-1105)"
        );
        let holder: Vec<String> = wanted(TargetKind::AdminSdHolder, &connector())
            .iter()
            .map(|w| super::super::sd::sddl::render_ace(&w.ace, &ctx))
            .collect();
        assert_eq!(holder[0], "(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;S-1-5-21-1-2-3-1105)");
        assert_eq!(holder.len(), 4);
    }

    #[test]
    fn unexpire_is_held_through_authenticated_users_or_all_rights() {
        let ctx = SidContext::single(Sid::parse("S-1-5-21-1-2-3").unwrap());
        let acl = |text: &str| SecurityDescriptor::from_sddl(text, &ctx).unwrap().dacl.unwrap();
        assert!(unexpire_held(&acl("D:(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;AU)"), &connector()));
        assert!(unexpire_held(&acl("D:(A;;CR;;;WD)"), &connector()));
        assert!(unexpire_held(&acl("D:(A;;GA;;;S-1-5-21-1-2-3-1105)"), &connector()));
        assert!(
            !unexpire_held(&acl("D:(OA;CIIO;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;AU)"), &connector()),
            "inherit-only does not apply here"
        );
        assert!(!unexpire_held(&acl("D:(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;AU)"), &connector()));
        assert!(!unexpire_held(&acl("D:(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;DA)"), &connector()));
        let (lacking, present) = missing(
            &acl("D:(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;AU)"),
            &wanted(TargetKind::DomainRoot, &connector()),
            &connector(),
        );
        assert!(lacking.is_empty() && present.len() == 1);
    }
}
