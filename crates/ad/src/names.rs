//! ACEs in plain words: who (SIDs to names), what (rights and the GUIDs of rights, properties and
//! classes to names), where (inheritance), for `acl show` and the wizard.

use std::collections::HashMap;

use ldap3::Scope;
use uuid::Uuid;

use super::directory::Discovery;
use super::sd::Sid;
use super::sd::ace::{self, Ace};
use super::writeback;
use super::{AdConnection, AdError};

/// Well-known SIDs by name.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("S-1-1-0", "Everyone"),
    ("S-1-3-0", "CREATOR OWNER"),
    ("S-1-3-1", "CREATOR GROUP"),
    ("S-1-3-4", "OWNER RIGHTS"),
    ("S-1-5-7", "ANONYMOUS LOGON"),
    ("S-1-5-9", "ENTERPRISE DOMAIN CONTROLLERS"),
    ("S-1-5-10", "SELF"),
    ("S-1-5-11", "Authenticated Users"),
    ("S-1-5-18", "SYSTEM"),
    ("S-1-5-19", "LOCAL SERVICE"),
    ("S-1-5-20", "NETWORK SERVICE"),
    ("S-1-5-32-544", "BUILTIN\\Administrators"),
    ("S-1-5-32-545", "BUILTIN\\Users"),
    ("S-1-5-32-548", "BUILTIN\\Account Operators"),
    ("S-1-5-32-549", "BUILTIN\\Server Operators"),
    ("S-1-5-32-550", "BUILTIN\\Print Operators"),
    ("S-1-5-32-551", "BUILTIN\\Backup Operators"),
    ("S-1-5-32-554", "BUILTIN\\Pre-Windows 2000 Compatible Access"),
    ("S-1-5-32-560", "BUILTIN\\Windows Authorization Access Group"),
    ("S-1-5-32-561", "BUILTIN\\Terminal Server License Servers"),
];

/// GUIDs the product itself uses, named without a lookup.
const KNOWN_GUIDS: &[(Uuid, &str)] = &[
    (writeback::RESET_PASSWORD, "Reset Password"),
    (writeback::CHANGE_PASSWORD, "Change Password"),
    (writeback::UNEXPIRE_PASSWORD, "Unexpire Password"),
    (writeback::LOCKOUT_TIME, "lockoutTime"),
    (writeback::PWD_LAST_SET, "pwdLastSet"),
    (writeback::USER_CLASS, "user"),
    (writeback::INET_ORG_PERSON_CLASS, "inetOrgPerson"),
];

/// Names found for the SIDs and GUIDs of some ACEs.
#[derive(Debug, Clone, Default)]
pub struct Names {
    sids: HashMap<String, String>,
    guids: HashMap<Uuid, String>,
}

fn binary_filter_value(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

impl Names {
    /// Looks up every SID and GUID of `aces` (one search each, cached).
    pub async fn resolve(conn: &mut AdConnection, disc: &Discovery, aces: &[Ace]) -> Result<Names, AdError> {
        let mut names = Names::default();
        for (sid, name) in WELL_KNOWN {
            names.sids.insert((*sid).to_string(), (*name).to_string());
        }
        for (g, name) in KNOWN_GUIDS {
            names.guids.insert(*g, (*name).to_string());
        }
        let netbios = disc
            .domains
            .iter()
            .find(|d| d.dn.eq_ignore_ascii_case(&disc.default_naming_context))
            .map(|d| d.netbios_name.clone())
            .unwrap_or_default();
        for a in aces {
            if let Some(sid) = a.sid() {
                let key = sid.to_string();
                if !names.sids.contains_key(&key) && sid.is_in_domain(&disc.domain_sid) {
                    let filter = format!("(objectSid={})", binary_filter_value(&sid.to_bytes()));
                    let found =
                        conn.search(&disc.default_naming_context, Scope::Subtree, &filter, &["sAMAccountName"]).await?;
                    if let Some(sam) = found.first().and_then(|e| e.attrs.get("sAMAccountName")).and_then(|v| v.first())
                    {
                        names.sids.insert(key, format!("{netbios}\\{sam}"));
                    }
                }
            }
            let (object, inherited) = a.object_types();
            for g in [object, inherited].into_iter().flatten() {
                if names.guids.contains_key(&g) {
                    continue;
                }
                if let Some(name) = lookup_guid(conn, disc, g).await? {
                    names.guids.insert(g, name);
                }
            }
        }
        Ok(names)
    }

    /// The name of a SID, or the SID itself.
    pub fn sid(&self, sid: &Sid) -> String {
        let key = sid.to_string();
        self.sids.get(&key).cloned().unwrap_or(key)
    }

    /// The name of a GUID, or the GUID itself.
    pub fn guid(&self, g: &Uuid) -> String {
        self.guids.get(g).cloned().unwrap_or_else(|| g.hyphenated().to_string())
    }
}

/// A schema attribute or class (schemaIDGUID), or an extended right or property set (rightsGuid).
async fn lookup_guid(conn: &mut AdConnection, disc: &Discovery, g: Uuid) -> Result<Option<String>, AdError> {
    let filter = format!("(schemaIDGUID={})", binary_filter_value(&g.to_bytes_le()));
    let found = conn.search(&disc.schema_naming_context, Scope::OneLevel, &filter, &["lDAPDisplayName"]).await?;
    if let Some(name) = found.first().and_then(|e| e.attrs.get("lDAPDisplayName")).and_then(|v| v.first()) {
        return Ok(Some(name.clone()));
    }
    let rights = format!("CN=Extended-Rights,{}", disc.configuration_naming_context);
    let filter = format!("(rightsGuid={})", g.hyphenated());
    let found = conn.search(&rights, Scope::OneLevel, &filter, &["displayName"]).await?;
    Ok(found.first().and_then(|e| e.attrs.get("displayName")).and_then(|v| v.first()).cloned())
}

/// The rights of a mask in words.
pub fn rights_words(mask: u32) -> String {
    if mask & 0x000f_01ff == 0x000f_01ff || mask & 0x1000_0000 != 0 {
        return "full control".into();
    }
    const WORDS: &[(u32, &str)] = &[
        (0x0000_0001, "create child objects"),
        (0x0000_0002, "delete child objects"),
        (0x0000_0004, "list contents"),
        (0x0000_0008, "validated write"),
        (0x0000_0010, "read property"),
        (0x0000_0020, "write property"),
        (0x0000_0040, "delete subtree"),
        (0x0000_0080, "list object"),
        (0x0000_0100, "extended right"),
        (0x0001_0000, "delete"),
        (0x0002_0000, "read permissions"),
        (0x0004_0000, "change permissions"),
        (0x0008_0000, "take ownership"),
        (0x2000_0000, "generic execute"),
        (0x4000_0000, "generic write"),
        (0x8000_0000, "generic read"),
    ];
    let words: Vec<&str> = WORDS.iter().filter(|(bit, _)| mask & bit != 0).map(|(_, w)| *w).collect();
    if words.is_empty() { format!("rights {mask:#x}") } else { words.join(", ") }
}

/// One ACE in words: allow or deny, who, what, where, inherited or not.
pub fn describe(a: &Ace, names: &Names) -> String {
    let verb = match a.ace_type {
        ace::ACCESS_ALLOWED | ace::ACCESS_ALLOWED_OBJECT => "Allow",
        ace::ACCESS_DENIED | ace::ACCESS_DENIED_OBJECT => "Deny",
        ace::SYSTEM_AUDIT | ace::SYSTEM_AUDIT_OBJECT => "Audit",
        _ => return format!("ACE of type {:#04x} (kept as is)", a.ace_type),
    };
    let who = a.sid().map(|s| names.sid(s)).unwrap_or_default();
    let mask = a.mask().unwrap_or(0);
    let (object, inherited_class) = a.object_types();
    let what = match object {
        Some(g) if mask == ace::RIGHT_CONTROL_ACCESS => format!("extended right {}", names.guid(&g)),
        Some(g) if mask == ace::RIGHT_WRITE_PROPERTY => format!("write {}", names.guid(&g)),
        Some(g) if mask == ace::RIGHT_READ_PROPERTY => format!("read {}", names.guid(&g)),
        Some(g) => format!("{} on {}", rights_words(mask), names.guid(&g)),
        None => rights_words(mask),
    };
    let class = inherited_class.map(|g| format!("{} ", names.guid(&g))).unwrap_or_default();
    let inherits = a.flags & (ace::CONTAINER_INHERIT | ace::OBJECT_INHERIT) != 0;
    let mut place = if a.flags & ace::INHERIT_ONLY != 0 {
        format!("on descendant {class}objects")
    } else if inherits {
        if class.is_empty() {
            "on this object and all descendants".to_string()
        } else {
            format!("on this object and descendant {class}objects")
        }
    } else {
        "on this object only".to_string()
    };
    if a.flags & ace::NO_PROPAGATE_INHERIT != 0 {
        place.push_str(" (one level down only)");
    }
    let from = if a.is_inherited() { " (inherited)" } else { "" };
    format!("{verb} {who}: {what} {place}{from}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aces_in_words() {
        let connector = Sid::parse("S-1-5-21-1-2-3-1105").unwrap();
        let mut names = Names::default();
        names.sids.insert(connector.to_string(), "LAB\\MSOL_0123".into());
        for (g, n) in KNOWN_GUIDS {
            names.guids.insert(*g, (*n).into());
        }
        let w = writeback::wanted(writeback::TargetKind::Scope, &connector);
        assert_eq!(
            describe(&w[0].ace, &names),
            "Allow LAB\\MSOL_0123: extended right Reset Password on descendant user objects"
        );
        assert_eq!(describe(&w[3].ace, &names), "Allow LAB\\MSOL_0123: write pwdLastSet on descendant user objects");
        let root = writeback::wanted(writeback::TargetKind::DomainRoot, &connector);
        assert_eq!(
            describe(&root[0].ace, &names),
            "Allow LAB\\MSOL_0123: extended right Unexpire Password on this object and all descendants"
        );
        let mut inherited = w[4].ace.clone();
        inherited.flags |= ace::INHERITED;
        assert!(describe(&inherited, &names).ends_with("on descendant inetOrgPerson objects (inherited)"));
        assert_eq!(rights_words(0x000f_01ff), "full control");
        assert_eq!(rights_words(0x0002_0094), "list contents, read property, list object, read permissions");
        assert_eq!(binary_filter_value(&[1, 0xab]), "\\01\\ab");
    }
}
