//! What the DC says about the forest, and about accounts: discovery, account lookup, the
//! Enterprise Admins check, connector account candidates.

use ldap3::Scope;
use serde::Serialize;

use super::sd::Sid;
use super::{AdConnection, AdError};

/// The password-policy-hints controls (Windows Server 2016+: LDAP_SERVER_POLICY_HINTS_OID and the
/// older _DEPRECATED one). With them, a reset by the sync engine honours password history.
pub const POLICY_HINTS_OIDS: [&str; 2] = ["1.2.840.113556.1.4.2239", "1.2.840.113556.1.4.2066"];

/// What a DC without the policy-hints control means, in the same words in `ad check`, the plan
/// and the wizard.
pub const NO_POLICY_HINTS: &str = "the DC does not offer the password-policy-hints control (LDAP_SERVER_POLICY_HINTS_OID, 1.2.840.113556.1.4.2066): Microsoft says it must be enabled for password writeback to work, and a sync server writing back to this DC logs ADSync event 6329 \"MMS(3040): admaexport.cpp(2837): The server doesn't contain the LDAP password policy control\"";
/// The same on a Samba DC, which Microsoft Entra Connect does not support as a DC at all: the lab
/// runs on it, so it is said, not refused.
pub const NO_POLICY_HINTS_SAMBA: &str = "the DC is Samba, which offers no password-policy-hints control (1.2.840.113556.1.4.2066) and which Microsoft Entra Connect does not support as a domain controller: on Windows Server 2016 or later DCs this is a failing precondition (ADSync event 6329, MMS(3040)); here it is only said";

/// Relative id of Enterprise Admins in the forest root domain.
pub const ENTERPRISE_ADMINS_RID: u32 = 519;
/// Relative id of Domain Admins.
pub const DOMAIN_ADMINS_RID: u32 = 512;

/// userAccountControl: ACCOUNTDISABLE.
pub const UAC_ACCOUNTDISABLE: u32 = 0x0002;

/// One domain of the forest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainInfo {
    /// Naming context, e.g. `DC=corp,DC=example`.
    pub dn: String,
    /// DNS name.
    pub dns_name: String,
    /// NetBIOS name.
    pub netbios_name: String,
    /// Domain SID, when the DC could read it (its own domain, or through the partitions data).
    pub sid: Option<String>,
}

/// The rootDSE and the forest, as one DC sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// The DC's DNS host name.
    pub dc_name: String,
    /// The DC's own domain.
    pub default_naming_context: String,
    /// Configuration partition.
    pub configuration_naming_context: String,
    /// Schema partition.
    pub schema_naming_context: String,
    /// The forest root domain's naming context.
    pub root_domain_naming_context: String,
    /// Every naming context the DC holds.
    pub naming_contexts: Vec<String>,
    /// LDAP controls the DC supports (OIDs).
    pub supported_controls: Vec<String>,
    /// The extended operations the DC lists (rootDSE `supportedExtension`).
    #[serde(default)]
    pub supported_extensions: Vec<String>,
    /// Product name when the DC says it (Samba does; Windows does not).
    pub vendor_name: Option<String>,
    /// Forest functional level.
    pub forest_functionality: Option<u32>,
    /// Every domain of the forest (CN=Partitions).
    pub domains: Vec<DomainInfo>,
    /// The DC's own domain SID.
    #[serde(skip)]
    pub domain_sid: Sid,
    /// The forest root domain's SID.
    #[serde(skip)]
    pub forest_root_sid: Sid,
}

impl Discovery {
    /// Whether the DC is Samba (its rootDSE's vendorName), which Entra Connect does not support.
    pub fn is_samba(&self) -> bool {
        self.vendor_name.as_deref().is_some_and(|v| v.contains("Samba"))
    }

    /// Whether the DC offers the password-policy-hints control.
    pub fn policy_hints(&self) -> bool {
        self.supported_controls.iter().any(|c| POLICY_HINTS_OIDS.contains(&c.as_str()))
    }

    /// The SID context for SDDL of objects in the DC's own domain.
    pub fn sid_context(&self) -> super::sd::SidContext {
        super::sd::SidContext { domain: Some(self.domain_sid.clone()), forest_root: Some(self.forest_root_sid.clone()) }
    }

    /// The domain whose naming context holds `dn` (the longest matching suffix).
    pub fn domain_of(&self, dn: &str) -> Option<&DomainInfo> {
        let lower = dn.to_ascii_lowercase();
        self.domains
            .iter()
            .filter(|d| {
                lower == d.dn.to_ascii_lowercase() || lower.ends_with(&format!(",{}", d.dn.to_ascii_lowercase()))
            })
            .max_by_key(|d| d.dn.len())
    }
}

fn first(attrs: &std::collections::HashMap<String, Vec<String>>, name: &str) -> Option<String> {
    attrs.get(name).and_then(|v| v.first()).cloned()
}

fn required(attrs: &std::collections::HashMap<String, Vec<String>>, name: &str) -> Result<String, AdError> {
    first(attrs, name)
        .ok_or_else(|| AdError::Protocol { op: "rootDSE read".into(), detail: format!("the rootDSE has no {name}") })
}

/// Reads the objectSid of an object, if it has one the bound account may read.
pub async fn object_sid(conn: &mut AdConnection, dn: &str) -> Result<Option<Sid>, AdError> {
    let entry = conn.read(dn, &["objectSid"]).await?;
    Ok(entry
        .and_then(|e| e.bin_attrs.get("objectSid").and_then(|v| v.first()).cloned())
        .and_then(|bytes| Sid::decode(&bytes, 0).ok().map(|(s, _)| s)))
}

/// The forest's domains from the crossRef objects of CN=Partitions: those whose systemFlags say
/// a domain naming context (bit 2; the search asks the DC for those alone, and the other
/// crossRefs — configuration, schema, DNS application partitions — are left out here too, should
/// a DC answer them), sorted by DN. Only the DC's own domain (`default_nc`) has its SID.
pub fn domains_of(
    crossrefs: &[std::collections::HashMap<String, Vec<String>>],
    default_nc: &str,
    domain_sid: &Sid,
) -> Vec<DomainInfo> {
    let mut domains: Vec<DomainInfo> = crossrefs
        .iter()
        .filter(|p| first(p, "systemFlags").and_then(|f| f.parse::<i64>().ok()).is_none_or(|f| f & 2 != 0))
        .filter_map(|p| {
            let dn = first(p, "nCName")?;
            let sid = dn.eq_ignore_ascii_case(default_nc).then(|| domain_sid.to_string());
            Some(DomainInfo {
                dns_name: first(p, "dnsRoot").unwrap_or_default(),
                netbios_name: first(p, "nETBIOSName").unwrap_or_default(),
                dn,
                sid,
            })
        })
        .collect();
    domains.sort_by(|a, b| a.dn.cmp(&b.dn));
    domains
}

/// Reads the rootDSE and CN=Partitions.
pub async fn discover(conn: &mut AdConnection) -> Result<Discovery, AdError> {
    let root = conn.kept_root_dse().await?;
    let default_nc = required(&root, "defaultNamingContext")?;
    let config_nc = required(&root, "configurationNamingContext")?;
    let root_nc = required(&root, "rootDomainNamingContext")?;
    // Both in flight at once on the one connection.
    let mut beside = conn.handle();
    let partitions_dn = format!("CN=Partitions,{config_nc}");
    let (partitions, domain_sid) = tokio::join!(
        conn.search(
            &partitions_dn,
            Scope::OneLevel,
            // systemFlags bit 2: a domain naming context.
            "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
            &["nCName", "dnsRoot", "nETBIOSName", "systemFlags"],
        ),
        object_sid(&mut beside, &default_nc)
    );
    let partitions = partitions?;
    let domain_sid = domain_sid?.ok_or_else(|| AdError::Protocol {
        op: format!("read of {default_nc}"),
        detail: "the domain has no readable objectSid".into(),
    })?;
    let forest_root_sid = if root_nc.eq_ignore_ascii_case(&default_nc) {
        domain_sid.clone()
    } else {
        // A child domain's DC does not hold the root domain; its SID is the root's Domain
        // Admins' prefix, which every DC can read from the configuration partition's owner.
        root_domain_sid_from_config(conn, &config_nc).await?.unwrap_or_else(|| domain_sid.clone())
    };
    let attrs: Vec<_> = partitions.into_iter().map(|p| p.attrs).collect();
    let domains = domains_of(&attrs, &default_nc, &domain_sid);
    Ok(Discovery {
        dc_name: first(&root, "dnsHostName").unwrap_or_default(),
        default_naming_context: default_nc,
        configuration_naming_context: config_nc,
        schema_naming_context: required(&root, "schemaNamingContext")?,
        root_domain_naming_context: root_nc,
        naming_contexts: root.get("namingContexts").cloned().unwrap_or_default(),
        supported_controls: root.get("supportedControl").cloned().unwrap_or_default(),
        supported_extensions: root.get("supportedExtension").cloned().unwrap_or_default(),
        vendor_name: first(&root, "vendorName"),
        forest_functionality: first(&root, "forestFunctionality").and_then(|v| v.parse().ok()),
        domains,
        domain_sid,
        forest_root_sid,
    })
}

/// The configuration partition is owned by the forest root's Enterprise Admins or Domain Admins:
/// their SID minus the RID is the forest root domain's SID.
async fn root_domain_sid_from_config(conn: &mut AdConnection, config_nc: &str) -> Result<Option<Sid>, AdError> {
    let entries = conn
        .search_with(
            config_nc,
            Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![super::sd_flags_control(0x01)],
        )
        .await?;
    let owner = entries
        .first()
        .and_then(|e| e.bin_attrs.get("nTSecurityDescriptor"))
        .and_then(|v| v.first())
        .and_then(|b| super::sd::SecurityDescriptor::decode(b).ok())
        .and_then(|sd| sd.owner);
    Ok(owner.filter(|o| o.rid().is_some_and(|r| r == ENTERPRISE_ADMINS_RID || r == DOMAIN_ADMINS_RID)).map(|mut o| {
        o.sub_authorities.pop();
        o
    }))
}

/// An account, as the wizard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Distinguished name.
    pub dn: String,
    pub sam_account_name: String,
    /// userPrincipalName, when set.
    pub user_principal_name: Option<String>,
    /// displayName, when set.
    pub display_name: Option<String>,
    /// objectSid as `S-1-…`.
    pub sid: String,
    /// Not disabled.
    pub enabled: bool,
    /// adminCount=1: protected by AdminSDHolder on Windows.
    pub admin_count: bool,
    pub user_account_control: u32,
    /// pwdLastSet as AD keeps it (100 ns since 1601; 0: must change at next sign-in).
    pub pwd_last_set: Option<u64>,
}

const ACCOUNT_ATTRS: &[&str] = &[
    "sAMAccountName",
    "userPrincipalName",
    "displayName",
    "objectSid",
    "userAccountControl",
    "adminCount",
    "pwdLastSet",
];

fn account_from(entry: ldap3::SearchEntry) -> Option<Account> {
    let sid = entry
        .bin_attrs
        .get("objectSid")
        .and_then(|v| v.first())
        .and_then(|b| Sid::decode(b, 0).ok())
        .map(|(s, _)| s)?;
    let uac: u32 = first(&entry.attrs, "userAccountControl").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) as u32;
    Some(Account {
        sam_account_name: first(&entry.attrs, "sAMAccountName").unwrap_or_default(),
        user_principal_name: first(&entry.attrs, "userPrincipalName"),
        display_name: first(&entry.attrs, "displayName"),
        sid: sid.to_string(),
        enabled: uac & UAC_ACCOUNTDISABLE == 0,
        admin_count: first(&entry.attrs, "adminCount").is_some_and(|v| v == "1"),
        user_account_control: uac,
        pwd_last_set: first(&entry.attrs, "pwdLastSet").and_then(|v| v.parse().ok()),
        dn: entry.dn,
    })
}

/// Escapes a value for an LDAP filter (RFC 4515).
pub fn filter_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// How an account was named: a DN, a UPN, `DOMAIN\name` or a bare sAMAccountName.
pub fn account_filter(name: &str) -> Result<Option<String>, AdError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdError::Protocol { op: "account lookup".into(), detail: "an empty account name".into() });
    }
    if name.contains('=') && name.contains(',') || name.to_ascii_uppercase().starts_with("CN=") {
        return Ok(None); // a DN: read it directly
    }
    if let Some((_, sam)) = name.split_once('\\') {
        return Ok(Some(format!("(&(objectClass=user)(sAMAccountName={}))", filter_escape(sam))));
    }
    if name.contains('@') {
        return Ok(Some(format!("(&(objectClass=user)(userPrincipalName={}))", filter_escape(name))));
    }
    Ok(Some(format!("(&(objectClass=user)(sAMAccountName={}))", filter_escape(name))))
}

/// Finds an account by DN, UPN, `DOMAIN\name` or sAMAccountName. `DOMAIN\name` is looked for in
/// the domain whose NetBIOS name DOMAIN is (from the partitions); anything else in the DC's own
/// domain. Several matches are an error naming them, never a guess.
pub async fn find_account(conn: &mut AdConnection, disc: &Discovery, name: &str) -> Result<Option<Account>, AdError> {
    match account_filter(name)? {
        None => Ok(conn.read(name, ACCOUNT_ATTRS).await?.and_then(account_from)),
        Some(filter) => {
            let base = match name.trim().split_once('\\') {
                Some((domain, _)) => disc
                    .domains
                    .iter()
                    .find(|d| d.netbios_name.eq_ignore_ascii_case(domain) || d.dns_name.eq_ignore_ascii_case(domain))
                    .map(|d| d.dn.clone())
                    .ok_or_else(|| AdError::UnknownDomain {
                        name: name.to_string(),
                        known: disc.domains.iter().map(|d| d.netbios_name.clone()).collect(),
                    })?,
                None => disc.default_naming_context.clone(),
            };
            let mut found = conn.search(&base, Scope::Subtree, &filter, ACCOUNT_ATTRS).await?;
            if found.len() > 1 {
                return Err(AdError::AmbiguousAccount {
                    name: name.to_string(),
                    matches: found.into_iter().map(|e| e.dn).collect(),
                });
            }
            Ok(found.pop().and_then(account_from))
        }
    }
}

/// The OID of LDAP Who-Am-I (RFC 4532).
pub const WHO_AM_I: &str = "1.3.6.1.4.1.4203.1.11.3";

/// How the bound account was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// The DC said who the connection is bound as (Who-Am-I; Windows Server 2008 and later).
    WhoAmI,
    /// The DC lists no Who-Am-I (Samba 4.17): the account whose name is exactly the bind name.
    BindName,
}

/// The account this connection is bound as: from Who-Am-I where the DC lists it, else by an exact
/// match of the name it was bound with.
pub async fn bound_account(
    conn: &mut AdConnection,
    disc: &Discovery,
    bind_name: &str,
) -> Result<(Account, IdentitySource), AdError> {
    if disc.supported_extensions.iter().any(|e| e == WHO_AM_I) {
        let id = conn.who_am_i().await?;
        let name = id.strip_prefix("dn:").or_else(|| id.strip_prefix("u:")).unwrap_or(&id).to_string();
        let account = find_account(conn, disc, &name).await?.ok_or(AdError::NoSuchAccount { name })?;
        return Ok((account, IdentitySource::WhoAmI));
    }
    let account = find_account(conn, disc, bind_name)
        .await?
        .ok_or_else(|| AdError::NoSuchAccount { name: bind_name.to_string() })?;
    Ok((account, IdentitySource::BindName))
}

/// The Enterprise Admins verdict for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseAdminCheck {
    /// The account checked.
    pub account: String,
    /// Member of Enterprise Admins, directly or through nested groups.
    pub enterprise_admin: bool,
    /// The SID looked for (`<forest root SID>-519`).
    pub enterprise_admins_sid: String,
    /// Member of Domain Admins of its domain (said when it is not an Enterprise Admin, because it
    /// is the usual near miss).
    pub domain_admin: bool,
}

/// Every group SID of `dn`'s token as the DC computes it (tokenGroups: nested groups and the
/// primary group included).
pub async fn token_groups(conn: &mut AdConnection, dn: &str) -> Result<Vec<Sid>, AdError> {
    let entry = conn.read(dn, &["tokenGroups"]).await?;
    Ok(entry
        .and_then(|e| e.bin_attrs.get("tokenGroups").cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|b| Sid::decode(b, 0).ok().map(|(s, _)| s))
        .collect())
}

/// Checks Enterprise Admins through the account's tokenGroups (every group SID of its token,
/// nested groups included), as Windows evaluates it.
pub async fn enterprise_admin(
    conn: &mut AdConnection,
    disc: &Discovery,
    account: &Account,
) -> Result<EnterpriseAdminCheck, AdError> {
    let groups = token_groups(conn, &account.dn).await?;
    let ea = Sid::with_rid(&disc.forest_root_sid, ENTERPRISE_ADMINS_RID);
    let da = Sid::with_rid(&disc.domain_sid, DOMAIN_ADMINS_RID);
    Ok(EnterpriseAdminCheck {
        account: account.dn.clone(),
        enterprise_admin: groups.contains(&ea),
        enterprise_admins_sid: ea.to_string(),
        domain_admin: groups.contains(&da),
    })
}

/// The groups whose members may not be a test user whose password this tool resets to a value
/// nobody keeps (docs/security.md names the source of each): the groups SDProp protects, and
/// those that can take over a domain though SDProp does not protect them.
fn guarded_groups(disc: &Discovery) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = [
        ("S-1-5-32-544", "Administrators"),
        ("S-1-5-32-548", "Account Operators"),
        ("S-1-5-32-549", "Server Operators"),
        ("S-1-5-32-550", "Print Operators"),
        ("S-1-5-32-551", "Backup Operators"),
        ("S-1-5-32-552", "Replicator"),
    ]
    .into_iter()
    .map(|(sid, name)| (sid.to_string(), name.to_string()))
    .collect();
    let root = |rid: u32| Sid::with_rid(&disc.forest_root_sid, rid).to_string();
    out.push((root(ENTERPRISE_ADMINS_RID), "Enterprise Admins".into()));
    out.push((root(518), "Schema Admins".into()));
    out.push((root(527), "Enterprise Key Admins".into()));
    // Every domain of the forest: a user may be nested into another domain's groups.
    let mut domains: Vec<Sid> =
        disc.domains.iter().filter_map(|d| d.sid.as_deref().and_then(|s| Sid::parse(s).ok())).collect();
    if !domains.contains(&disc.domain_sid) {
        domains.push(disc.domain_sid.clone());
    }
    for d in &domains {
        for (rid, name) in [
            (DOMAIN_ADMINS_RID, "Domain Admins"),
            (516, "Domain Controllers"),
            (521, "Read-only Domain Controllers"),
            (526, "Key Admins"),
            (520, "Group Policy Creator Owners"),
        ] {
            out.push((Sid::with_rid(d, rid).to_string(), name.to_string()));
        }
    }
    out
}

/// userAccountControl: a computer's or a trust's account, not a person's.
const UAC_MACHINE: u32 = 0x0800 | 0x1000 | 0x2000;

/// Why `account` is not a person this tool may use as a test user (`None`: it is one). A person
/// is a user object that is no computer, no (group) managed service account, not krbtgt, not
/// protected (adminCount, or a member — nested, in any domain of the forest — of a group SDProp
/// protects), and not a member of the groups that can take over a domain though SDProp does not
/// protect them (Group Policy Creator Owners, DnsAdmins).
pub async fn not_a_person(
    conn: &mut AdConnection,
    disc: &Discovery,
    account: &Account,
) -> Result<Option<String>, AdError> {
    let entry = conn.read(&account.dn, &["objectClass", "tokenGroups"]).await?;
    let classes: Vec<String> = entry
        .as_ref()
        .and_then(|e| e.attrs.get("objectClass").cloned())
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // A gMSA's classes derive from computer: asked first, so it is named for what it is.
    if classes.iter().any(|c| c == "msds-groupmanagedserviceaccount" || c == "msds-managedserviceaccount") {
        return Ok(Some("it is a managed service account (gMSA or sMSA), not a person's".into()));
    }
    if classes.iter().any(|c| c == "computer") || account.user_account_control & UAC_MACHINE != 0 {
        return Ok(Some("it is a computer's account, not a person's".into()));
    }
    if !classes.iter().any(|c| c == "user") {
        return Ok(Some("it is not a user object".into()));
    }
    let sam = account.sam_account_name.to_ascii_lowercase();
    if sam == "krbtgt" || sam.starts_with("krbtgt_") {
        return Ok(Some("it is a Kerberos key account (krbtgt)".into()));
    }
    if account.admin_count {
        return Ok(Some("it is a protected account (adminCount=1)".into()));
    }
    let member_of: Vec<String> = entry
        .and_then(|e| e.bin_attrs.get("tokenGroups").cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|b| Sid::decode(b, 0).ok().map(|(s, _)| s.to_string()))
        .collect();
    let mut groups: Vec<String> =
        guarded_groups(disc).into_iter().filter(|(sid, _)| member_of.contains(sid)).map(|(_, name)| name).collect();
    // DnsAdmins has no fixed RID: found by name in each domain, membership by the in-chain rule.
    for d in &disc.domains {
        let filter = format!(
            "(&(objectClass=group)(sAMAccountName=DnsAdmins)(member:1.2.840.113556.1.4.1941:={}))",
            filter_escape(&account.dn)
        );
        match conn.search(&d.dn, ldap3::Scope::Subtree, &filter, &["1.1"]).await {
            Ok(hits) if !hits.is_empty() => groups.push("DnsAdmins".into()),
            Ok(_) => {}
            // A domain whose DC this connection cannot read is not this user's: go on.
            Err(AdError::Ldap { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    groups.dedup();
    Ok((!groups.is_empty()).then(|| format!("it is in {}", groups.join(", "))))
}

/// A container or OU that can be a writeback scope, with how many users it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeNode {
    pub dn: String,
    /// Its RDN's value (`Sales` for `OU=Sales,…`).
    pub name: String,
    /// User objects at or below it.
    pub users: usize,
}

const USERS_FILTER: &str = "(&(objectCategory=person)(objectClass=user))";

/// Counts the user objects at or below `dn` (paged, so any size of domain).
pub async fn count_users(
    conn: &mut AdConnection,
    dn: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<usize, AdError> {
    let query =
        super::conn::Query { base: dn, scope: Scope::Subtree, filter: USERS_FILTER, attrs: &["1.1"], controls: vec![] };
    conn.search_paged(query, cancel, |_| Ok(())).await
}

/// The OUs and containers directly below `dn` (not the ones AD hides from the default view, such
/// as CN=System), each with its user count: the wizard's scope browser.
pub async fn child_scopes(
    conn: &mut AdConnection,
    dn: &str,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Vec<ScopeNode>, AdError> {
    let filter = "(&(|(objectClass=organizationalUnit)(objectClass=container))(!(showInAdvancedViewOnly=TRUE)))";
    let mut children: Vec<(String, String)> = conn
        .search(dn, Scope::OneLevel, filter, &["1.1"])
        .await?
        .into_iter()
        .map(|e| {
            let name = e.dn.split(',').next().and_then(|rdn| rdn.split_once('=')).map(|(_, v)| v.to_string());
            let name = name.unwrap_or_else(|| e.dn.clone());
            (e.dn, name)
        })
        .collect();
    children.sort_by_key(|c| c.1.to_lowercase());
    let mut nodes = Vec::with_capacity(children.len());
    for (dn, name) in children {
        let users = count_users(conn, &dn, cancel).await?;
        nodes.push(ScopeNode { dn, name, users });
    }
    Ok(nodes)
}

/// An account a picker offers: its DN, sAMAccountName and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountHit {
    pub dn: String,
    pub sam: String,
    pub display: String,
}

/// The users and gMSAs whose sAMAccountName, name or display name starts with `text`, the first
/// `limit` of them, in the bound DC's domain (search-as-you-type for the wizard's pickers). With
/// `people`, only users who may be a test user: no gMSA, no computer, no adminCount (the rest of
/// the guard, [`not_a_person`], is the caller's to ask of each).
pub async fn search_accounts(
    conn: &mut AdConnection,
    disc: &Discovery,
    text: &str,
    limit: i32,
    people: bool,
) -> Result<Vec<AccountHit>, AdError> {
    let t = filter_escape(text.trim());
    let kinds = if people {
        "(objectCategory=person)(!(objectClass=computer))(!(adminCount=1))"
    } else {
        "(|(objectCategory=person)(objectClass=msDS-GroupManagedServiceAccount))"
    };
    let filter = format!("(&{kinds}(objectClass=user)(|(sAMAccountName={t}*)(cn={t}*)(displayName={t}*)))");
    let found = conn
        .search_limited(&disc.default_naming_context, &filter, &["sAMAccountName", "displayName", "cn"], limit)
        .await?;
    let first = |e: &ldap3::SearchEntry, a: &str| e.attrs.get(a).and_then(|v| v.first()).cloned().unwrap_or_default();
    let mut hits: Vec<AccountHit> = found
        .iter()
        .map(|e| AccountHit {
            dn: e.dn.clone(),
            sam: first(e, "sAMAccountName"),
            display: Some(first(e, "displayName")).filter(|d| !d.is_empty()).unwrap_or_else(|| first(e, "cn")),
        })
        .collect();
    hits.sort_by_key(|h| h.sam.to_lowercase());
    Ok(hits)
}

/// AD DS connector account candidates: every `MSOL_*` account (Entra Connect's naming), after the
/// named one (already found) when it is not one of them.
pub async fn connector_candidates(
    conn: &mut AdConnection,
    disc: &Discovery,
    named: Option<&Account>,
) -> Result<Vec<Account>, AdError> {
    let mut found: Vec<Account> = conn
        .search(
            &disc.default_naming_context,
            Scope::Subtree,
            "(&(objectClass=user)(sAMAccountName=MSOL_*))",
            ACCOUNT_ATTRS,
        )
        .await?
        .into_iter()
        .filter_map(account_from)
        .collect();
    if let Some(account) = named
        && !found.iter().any(|a| a.dn == account.dn)
    {
        found.insert(0, account.clone());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_become_filters() {
        assert_eq!(account_filter("CN=x,DC=a").unwrap(), None);
        assert_eq!(account_filter("LAB\\bob").unwrap().unwrap(), "(&(objectClass=user)(sAMAccountName=bob))");
        assert_eq!(
            account_filter("bob@lab.test").unwrap().unwrap(),
            "(&(objectClass=user)(userPrincipalName=bob@lab.test))"
        );
        assert_eq!(
            account_filter("MSOL_(x)*").unwrap().unwrap(),
            "(&(objectClass=user)(sAMAccountName=MSOL_\\28x\\29\\2a))"
        );
        assert!(account_filter("  ").is_err());
    }
}
