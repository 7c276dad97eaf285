//! The small company every lab domain holds, written over LDAP once into the template.
//!
//! It has what the wizard must cope with on a real domain: nested OUs, users with display names
//! (one not ASCII), an AD DS connector account named like Entra Connect's, a canary user, a
//! fine-grained password policy (PSO) applied to a group, a protected account (adminCount=1, in
//! Domain Admins) and an OU whose DACL is protected (inheritance blocked).

use ldap3::{Mod, Scope};
use rand::Rng;

use super::LabError;
use super::samba::LabForest;
use crate::ad::{AdConnection, SD_FLAGS_DACL, sd_flags_control, unicode_pwd};

/// The OUs, parents first (relative to the domain root).
pub const OUS: &[&str] = &[
    "OU=Corp",
    "OU=Staff,OU=Corp",
    "OU=Sales,OU=Staff,OU=Corp",
    "OU=Engineering,OU=Staff,OU=Corp",
    "OU=Finance,OU=Staff,OU=Corp",
    "OU=Support,OU=Staff,OU=Corp",
    "OU=Groups,OU=Corp",
    "OU=Admins,OU=Corp",
    "OU=Legacy,OU=Corp",
];

/// The OU whose DACL is protected (blocks inheritance).
pub const PROTECTED_OU: &str = "OU=Legacy,OU=Corp";

/// The group the PSO applies to, and the PSO itself.
pub const PSO_GROUP: &str = "CN=Finance Staff,OU=Groups,OU=Corp";
/// The PSO's DN relative to the domain root.
pub const PSO: &str = "CN=Finance Strict Passwords,CN=Password Settings Container,CN=System";
/// The PSO's minimum password length.
pub const PSO_MIN_LENGTH: u32 = 14;

/// The canary test user (the administrator names it at `--canary`; the lab offers this one).
pub const CANARY_SAM: &str = "wb.canary";
/// Its DN relative to the domain root.
pub const CANARY: &str = "CN=Writeback Canary,OU=Support,OU=Staff,OU=Corp";

/// A user with "User cannot change password" (deny Change Password to Everyone and SELF).
pub const CANNOT_CHANGE_USER: &str = "CN=Kofi Kumah,OU=Support,OU=Staff,OU=Corp";

/// A user whose password every lab start renews, under a PSO with a one-day minimum age: the
/// readiness scan's "younger than the minimum password age" finding, the same in every lab.
pub const RECENT_USER: &str = "CN=Olga Olsen,OU=Engineering,OU=Staff,OU=Corp";
/// Its sAMAccountName.
pub const RECENT_SAM: &str = "olga.olsen";
/// That PSO.
pub const RECENT_PSO: &str = "CN=Lab Minimum Age,CN=Password Settings Container,CN=System";

/// The protected account (adminCount=1, member of Domain Admins).
pub const ADMIN_USER: &str = "CN=Ada Admin,OU=Admins,OU=Corp";
pub const ADMIN_SAM: &str = "ada.admin";

/// The 50 staff: (given name, surname, OU relative to the root).
pub const STAFF: &[(&str, &str, &str)] = &[
    ("Alice", "Archer", "OU=Sales,OU=Staff,OU=Corp"),
    ("Bruno", "Becker", "OU=Sales,OU=Staff,OU=Corp"),
    ("Chloe", "Chen", "OU=Sales,OU=Staff,OU=Corp"),
    ("Dmitri", "Dorn", "OU=Sales,OU=Staff,OU=Corp"),
    ("Elena", "Eriksen", "OU=Sales,OU=Staff,OU=Corp"),
    ("Farid", "Fischer", "OU=Sales,OU=Staff,OU=Corp"),
    ("Grace", "Garcia", "OU=Sales,OU=Staff,OU=Corp"),
    ("Hiro", "Hayashi", "OU=Sales,OU=Staff,OU=Corp"),
    ("Ines", "Ibarra", "OU=Sales,OU=Staff,OU=Corp"),
    ("Jonas", "Jensen", "OU=Sales,OU=Staff,OU=Corp"),
    ("Kira", "Kowalski", "OU=Sales,OU=Staff,OU=Corp"),
    ("Liam", "Laurent", "OU=Sales,OU=Staff,OU=Corp"),
    ("Maya", "Moreau", "OU=Sales,OU=Staff,OU=Corp"),
    ("Nils", "Novak", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Olga", "Olsen", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Pavel", "Petrov", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Quinn", "Quigley", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Rosa", "Romero", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Sven", "Svensson", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Tara", "Thompson", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Umar", "Usman", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Vera", "Vogel", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Wei", "Wang", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Xenia", "Xu", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Yusuf", "Yilmaz", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Zoe", "Zimmer", "OU=Engineering,OU=Staff,OU=Corp"),
    ("Amir", "Abbasi", "OU=Finance,OU=Staff,OU=Corp"),
    ("Beatriz", "Barros", "OU=Finance,OU=Staff,OU=Corp"),
    ("Conor", "Callahan", "OU=Finance,OU=Staff,OU=Corp"),
    ("Dana", "Dubois", "OU=Finance,OU=Staff,OU=Corp"),
    ("Emil", "Engel", "OU=Finance,OU=Staff,OU=Corp"),
    ("Fatima", "Farouk", "OU=Finance,OU=Staff,OU=Corp"),
    ("Gustav", "Gram", "OU=Finance,OU=Staff,OU=Corp"),
    ("Hana", "Horvat", "OU=Finance,OU=Staff,OU=Corp"),
    ("Ivan", "Ivanov", "OU=Finance,OU=Staff,OU=Corp"),
    ("Julia", "Jovanovic", "OU=Finance,OU=Staff,OU=Corp"),
    ("Kofi", "Kumah", "OU=Support,OU=Staff,OU=Corp"),
    ("Lena", "Lindqvist", "OU=Support,OU=Staff,OU=Corp"),
    ("Marco", "Marino", "OU=Support,OU=Staff,OU=Corp"),
    ("Nadia", "Nowak", "OU=Support,OU=Staff,OU=Corp"),
    ("Oscar", "Ortiz", "OU=Support,OU=Staff,OU=Corp"),
    ("Priya", "Patel", "OU=Support,OU=Staff,OU=Corp"),
    ("Rafael", "Reyes", "OU=Support,OU=Staff,OU=Corp"),
    ("Sofia", "Santos", "OU=Support,OU=Staff,OU=Corp"),
    ("Tomas", "Tanaka", "OU=Support,OU=Staff,OU=Corp"),
    ("José", "Núñez", "OU=Support,OU=Staff,OU=Corp"),
    ("Walter", "Wright", "OU=Legacy,OU=Corp"),
    ("Yara", "Young", "OU=Legacy,OU=Corp"),
    ("Ulla", "Ulrich", "OU=Legacy,OU=Corp"),
    ("Victor", "Vance", "OU=Legacy,OU=Corp"),
];

/// `given.surname`, ASCII-folded and lower-cased, at most 20 characters (sAMAccountName's limit).
pub fn sam_account_name(given: &str, surname: &str) -> String {
    let fold = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'á' | 'à' | 'â' | 'ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'í' | 'ì' | 'î' | 'ï' => 'i',
                'ó' | 'ò' | 'ô' | 'ö' => 'o',
                'ú' | 'ù' | 'û' | 'ü' => 'u',
                'ñ' => 'n',
                'ç' => 'c',
                other => other,
            })
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let mut sam = format!("{}.{}", fold(given), fold(surname));
    sam.truncate(20);
    sam
}

/// A connector account name like Entra Connect's: `MSOL_` and 12 lowercase hex digits.
pub fn connector_name(rng: &mut impl Rng) -> String {
    let hex: String = (0..12).map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0')).collect();
    format!("MSOL_{hex}")
}

fn dn_in(base: &str, rel: &str) -> String {
    format!("{rel},{base}")
}

fn vals(values: &[&str]) -> Vec<Vec<u8>> {
    values.iter().map(|v| v.as_bytes().to_vec()).collect()
}

/// userAccountControl: NORMAL_ACCOUNT.
const UAC_NORMAL: &str = "512";
/// userAccountControl: NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD (what Entra Connect sets on MSOL_).
const UAC_SERVICE: &str = "66048";

/// One user to create.
struct NewUser<'a> {
    rel_dn: &'a str,
    sam: &'a str,
    given: &'a str,
    surname: &'a str,
    display: &'a str,
    uac: &'a str,
}

async fn add_user(
    conn: &mut AdConnection,
    forest: &LabForest,
    user: NewUser<'_>,
    rng: &mut impl Rng,
) -> Result<(), LabError> {
    let upn = format!("{}@{}", user.sam, forest.dns());
    let password = crate::ad::passgen::generate(rng, 24);
    let mut attrs = vec![
        ("objectClass", vals(&["top", "person", "organizationalPerson", "user"])),
        ("sAMAccountName", vals(&[user.sam])),
        ("userPrincipalName", vals(&[&upn])),
        ("displayName", vals(&[user.display])),
        ("unicodePwd", vec![unicode_pwd(&password)]),
        ("userAccountControl", vals(&[user.uac])),
    ];
    if !user.given.is_empty() {
        attrs.push(("givenName", vals(&[user.given])));
    }
    if !user.surname.is_empty() {
        attrs.push(("sn", vals(&[user.surname])));
    }
    conn.add(&dn_in(&forest.base_dn(), user.rel_dn), attrs).await?;
    Ok(())
}

/// Entra Cloud Sync's default agent gMSA (Microsoft: "Group Managed Service Accounts", Entra Cloud
/// Sync), relative to the domain.
pub const CLOUD_SYNC_AGENT: &str = "CN=provAgentgMSA,CN=Managed Service Accounts";
/// Its sAMAccountName.
pub const CLOUD_SYNC_AGENT_SAM: &str = "provAgentgMSA$";

/// What the seeding created that `lab up` reports.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The connector account's sAMAccountName.
    pub connector_account: String,
}

/// Writes the whole company. The connection must be bound as a domain admin.
pub async fn seed(conn: &mut AdConnection, forest: &LabForest, rng: &mut impl Rng) -> Result<Seeded, LabError> {
    let base = forest.base_dn();
    let dn = |rel: &str| dn_in(&base, rel);
    for ou in OUS {
        let name = ou.split(',').next().unwrap_or(ou).trim_start_matches("OU=");
        conn.add(&dn(ou), vec![("objectClass", vals(&["top", "organizationalUnit"])), ("ou", vals(&[name]))]).await?;
    }

    let mut finance = Vec::new();
    for (given, surname, ou) in STAFF {
        let rel = format!("CN={given} {surname},{ou}");
        let sam = sam_account_name(given, surname);
        let display = format!("{given} {surname}");
        let user = NewUser { rel_dn: &rel, sam: &sam, given, surname, display: &display, uac: UAC_NORMAL };
        add_user(conn, forest, user, rng).await?;
        if ou.starts_with("OU=Finance") {
            finance.push(dn(&rel));
        }
    }

    let canary = NewUser {
        rel_dn: CANARY,
        sam: CANARY_SAM,
        given: "Writeback",
        surname: "Canary",
        display: "Writeback Canary",
        uac: UAC_NORMAL,
    };
    add_user(conn, forest, canary, rng).await?;

    let connector = connector_name(rng);
    let connector_rel = format!("CN={connector},CN=Users");
    let service = NewUser {
        rel_dn: &connector_rel,
        sam: &connector,
        given: "",
        surname: "",
        display: &connector,
        uac: UAC_SERVICE,
    };
    add_user(conn, forest, service, rng).await?;
    let description = format!(
        "Account created by Microsoft Azure Active Directory Connect with installation identifier {:032x} running on computer SYNC01 configured to synchronize to tenant lab.onmicrosoft.com. This account must have directory replication permissions in the local Active Directory and write permission on certain attributes to enable Hybrid Deployment.",
        rng.random::<u128>()
    );
    conn.modify(
        &dn(&connector_rel),
        vec![Mod::Replace(b"description".to_vec(), [description.into_bytes()].into())],
        vec![],
    )
    .await?;

    // Entra Cloud Sync's agent account, as its installer names it (provAgentgMSA$), for the lab
    // sync engine's cloudsync flavour.
    conn.add(
        &dn(CLOUD_SYNC_AGENT),
        vec![
            ("objectClass", vals(&["top", "msDS-GroupManagedServiceAccount"])),
            ("sAMAccountName", vals(&[CLOUD_SYNC_AGENT_SAM])),
            ("dNSHostName", vals(&["provagentgmsa.lab.example.test"])),
            ("msDS-ManagedPasswordInterval", vals(&["30"])),
            // WORKSTATION_TRUST_ACCOUNT, enabled, as Windows creates a gMSA.
            ("userAccountControl", vals(&["4096"])),
        ],
    )
    .await?;

    // The protected account: in Domain Admins with adminCount=1, as SDProp leaves it on AD.
    let admin = NewUser {
        rel_dn: ADMIN_USER,
        sam: ADMIN_SAM,
        given: "Ada",
        surname: "Admin",
        display: "Ada Admin",
        uac: UAC_NORMAL,
    };
    add_user(conn, forest, admin, rng).await?;
    conn.modify(
        &dn("CN=Domain Admins,CN=Users"),
        vec![Mod::Add(b"member".to_vec(), [dn(ADMIN_USER).into_bytes()].into())],
        vec![],
    )
    .await?;
    conn.modify(&dn(ADMIN_USER), vec![Mod::Replace(b"adminCount".to_vec(), [b"1".to_vec()].into())], vec![]).await?;

    // The PSO and its group.
    let mut group = vec![
        ("objectClass", vals(&["top", "group"])),
        ("sAMAccountName", vals(&["finance.staff"])),
        // Global security group.
        ("groupType", vals(&["-2147483646"])),
    ];
    group.push(("member", finance.iter().map(|d| d.as_bytes().to_vec()).collect()));
    conn.add(&dn(PSO_GROUP), group).await?;
    let min_len = PSO_MIN_LENGTH.to_string();
    conn.add(
        &dn(PSO),
        vec![
            ("objectClass", vals(&["top", "msDS-PasswordSettings"])),
            ("msDS-PasswordSettingsPrecedence", vals(&["10"])),
            ("msDS-PasswordReversibleEncryptionEnabled", vals(&["FALSE"])),
            ("msDS-PasswordHistoryLength", vals(&["24"])),
            ("msDS-PasswordComplexityEnabled", vals(&["TRUE"])),
            ("msDS-MinimumPasswordLength", vals(&[&min_len])),
            // Intervals are negative counts of 100 ns, as AD stores them: none, 60 days, 30 min.
            // No minimum age here: its users were created when the lab's template was, and a
            // finding that shows only on a template's first day would make the lab's findings
            // depend on its age (RECENT_PSO holds the minimum age instead).
            ("msDS-MinimumPasswordAge", vals(&["0"])),
            ("msDS-MaximumPasswordAge", vals(&["-51840000000000"])),
            ("msDS-LockoutThreshold", vals(&["10"])),
            ("msDS-LockoutObservationWindow", vals(&["-18000000000"])),
            ("msDS-LockoutDuration", vals(&["-18000000000"])),
            ("msDS-PSOAppliesTo", vals(&[&dn(PSO_GROUP)])),
        ],
    )
    .await?;

    conn.add(
        &dn(RECENT_PSO),
        vec![
            ("objectClass", vals(&["top", "msDS-PasswordSettings"])),
            ("msDS-PasswordSettingsPrecedence", vals(&["20"])),
            ("msDS-PasswordReversibleEncryptionEnabled", vals(&["FALSE"])),
            ("msDS-PasswordHistoryLength", vals(&["24"])),
            ("msDS-PasswordComplexityEnabled", vals(&["TRUE"])),
            ("msDS-MinimumPasswordLength", vals(&["7"])),
            ("msDS-MinimumPasswordAge", vals(&["-864000000000"])),
            ("msDS-MaximumPasswordAge", vals(&["-36288000000000"])),
            ("msDS-LockoutThreshold", vals(&["0"])),
            ("msDS-LockoutObservationWindow", vals(&["-18000000000"])),
            ("msDS-LockoutDuration", vals(&["-18000000000"])),
            ("msDS-PSOAppliesTo", vals(&[&dn(RECENT_USER)])),
        ],
    )
    .await?;
    // The domain's own policy keeps no minimum age either (Windows' default is one day): every
    // lab start renews the administrator's and the connector's passwords, which would otherwise
    // show as findings of their own.
    conn.modify(&base, vec![Mod::Replace(b"minPwdAge".to_vec(), [b"0".to_vec()].into())], vec![]).await?;

    protect_dacl(conn, &dn(PROTECTED_OU)).await?;
    deny_change_password(conn, &dn(CANNOT_CHANGE_USER)).await?;
    Ok(Seeded { connector_account: connector })
}

/// SE_DACL_PROTECTED in a security descriptor's control field.
pub const SE_DACL_PROTECTED: u16 = 0x1000;

/// Blocks inheritance on `target`: sets SE_DACL_PROTECTED in its security descriptor's control
/// word, as "Disable inheritance" does. Only the header's control field is touched, so this needs
/// no security-descriptor codec; Samba drops the inherited ACEs itself.
async fn protect_dacl(conn: &mut AdConnection, target: &str) -> Result<(), LabError> {
    let entries = conn
        .search_with(
            target,
            Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![sd_flags_control(SD_FLAGS_DACL)],
        )
        .await?;
    let mut sd = entries
        .into_iter()
        .next()
        .and_then(|mut e| e.bin_attrs.remove("nTSecurityDescriptor"))
        .and_then(|mut v| v.pop())
        .ok_or_else(|| LabError::Seed { detail: format!("{target} returned no nTSecurityDescriptor") })?;
    if sd.len() < 20 {
        return Err(LabError::Seed { detail: format!("{target}'s security descriptor is only {} bytes", sd.len()) });
    }
    let control = u16::from_le_bytes([sd[2], sd[3]]) | SE_DACL_PROTECTED;
    sd[2..4].copy_from_slice(&control.to_le_bytes());
    conn.modify(
        target,
        vec![Mod::Replace(b"nTSecurityDescriptor".to_vec(), [sd].into())],
        vec![sd_flags_control(SD_FLAGS_DACL)],
    )
    .await?;
    Ok(())
}

/// Ticks "User cannot change password" as Active Directory Users and Computers does: explicit
/// denies of the Change Password right to Everyone and to SELF.
async fn deny_change_password(conn: &mut AdConnection, target: &str) -> Result<(), LabError> {
    use crate::ad::sd::{Ace, Sid};
    let mut dacl = crate::ad::writeback::read_dacl(conn, target).await?;
    let acl = dacl.sd.dacl.get_or_insert_with(|| crate::ad::sd::Acl::new(crate::ad::sd::ace::ACL_REVISION_DS));
    for who in ["S-1-1-0", "S-1-5-10"] {
        let sid = Sid::parse(who).map_err(|e| LabError::Seed { detail: e.to_string() })?;
        let mut deny = Ace::object_allow(
            0,
            crate::ad::sd::ace::RIGHT_CONTROL_ACCESS,
            Some(crate::ad::writeback::CHANGE_PASSWORD),
            None,
            sid,
        );
        deny.ace_type = crate::ad::sd::ace::ACCESS_DENIED_OBJECT;
        acl.insert_canonical(deny);
    }
    crate::ad::writeback::write_dacl(conn, target, &dacl.sd).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fifty_staff_with_unique_valid_account_names() {
        assert_eq!(STAFF.len(), 50);
        let mut names: Vec<String> = STAFF.iter().map(|(g, s, _)| sam_account_name(g, s)).collect();
        assert!(names.iter().all(|n| n.len() <= 20 && n.is_ascii()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 50);
        assert_eq!(sam_account_name("José", "Núñez"), "jose.nunez");
        assert!(STAFF.iter().all(|(_, _, ou)| OUS.contains(ou)));
    }

    #[test]
    fn connector_names_look_like_entra_connects() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let name = connector_name(&mut rng);
        assert_eq!(name.len(), 17);
        assert!(name.starts_with("MSOL_"));
        assert!(name[5..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
