//! What the wizard checks on the tenant before enabling writeback: the signed-in account and its
//! role, the licence, directory synchronisation.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use super::EntraError;
use super::graph::GraphClient;
use super::licence::{self, LicenceVerdict};

/// Global Administrator's role template id.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// Hybrid Identity Administrator's role template id.
pub const HYBRID_IDENTITY_ADMINISTRATOR: &str = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2";

/// The signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Me {
    /// Object id.
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    /// A cloud (managed) account, not one synced from on-premises AD.
    pub cloud_account: bool,
}

/// An active directory role the account holds directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    /// Role template id.
    pub template_id: String,
    /// Display name.
    pub display_name: String,
}

/// Directory synchronisation as the tenant reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectorySync {
    /// `organization.onPremisesSyncEnabled`.
    pub enabled: bool,
    /// `organization.onPremisesLastSyncDateTime`.
    pub last_sync: Option<String>,
    /// Minutes since the last sync, when known.
    pub minutes_since_last_sync: Option<u64>,
}

/// `entra check`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct EntraCheck {
    /// The signed-in account.
    pub account: Me,
    /// Active roles held directly.
    pub roles: Vec<Role>,
    /// Global Administrator or Hybrid Identity Administrator, held directly, by a cloud account.
    pub role_ok: bool,
    /// Writeback roles held only through a group (not enough for the sync engine).
    pub roles_through_groups: Vec<String>,
    /// The licence verdict.
    pub licence: LicenceVerdict,
    /// Directory synchronisation.
    pub directory_sync: DirectorySync,
    /// `features.passwordWritebackEnabled` of `/directory/onPremisesSynchronization`, shown for
    /// information only (Microsoft documents it as not in use); `None` when not available.
    pub graph_password_writeback_flag: Option<bool>,
    /// Writeback roles the account is only eligible for in PIM (not active).
    pub eligible_roles: Vec<String>,
    /// The authentication type of the account's domain (`Managed`, `Federated`), when read.
    pub domain_authentication: Option<String>,
    /// What could not be checked, and why (never reported as fine).
    pub not_checked: Vec<String>,
    /// Why not, and what to do, in words.
    pub problems: Vec<String>,
    /// Things to know that do not stop the wizard.
    pub warnings: Vec<String>,
}

impl EntraCheck {
    /// Whether the tenant side is ready for enabling writeback.
    pub fn ready(&self) -> bool {
        self.problems.is_empty()
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// `/me` with the properties that matter here.
pub async fn me(graph: &GraphClient) -> Result<Me, EntraError> {
    let v = graph.get("/me?$select=id,displayName,userPrincipalName,onPremisesSyncEnabled", false).await?;
    Ok(Me {
        id: text(&v, "id"),
        user_principal_name: text(&v, "userPrincipalName"),
        display_name: text(&v, "displayName"),
        cloud_account: v["onPremisesSyncEnabled"].as_bool() != Some(true),
    })
}

/// Active directory roles held directly (`/me/memberOf/microsoft.graph.directoryRole`).
pub async fn roles(graph: &GraphClient) -> Result<Vec<Role>, EntraError> {
    let items = graph.get_all("/me/memberOf/microsoft.graph.directoryRole?$count=true", true).await?;
    Ok(items
        .iter()
        .map(|r| Role { template_id: text(r, "roleTemplateId"), display_name: text(r, "displayName") })
        .collect())
}

/// Writeback roles the account holds only through role-assignable groups it is a member of.
pub async fn roles_through_groups(graph: &GraphClient) -> Result<Vec<String>, EntraError> {
    let memberships = graph.get_all("/me/memberOf", false).await?;
    let mut found = Vec::new();
    for group in memberships.iter().filter(|m| m["@odata.type"] == "#microsoft.graph.group") {
        let id = text(group, "id");
        let assignments = graph
            .get_all(&format!("/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'{id}'"), false)
            .await?;
        for a in assignments {
            if let Some(name) = role_name(&text(&a, "roleDefinitionId")) {
                found.push(format!("{name} through the group {}", text(group, "displayName")));
            }
        }
    }
    Ok(found)
}

/// The organisation's directory synchronisation.
pub async fn directory_sync(graph: &GraphClient, now: SystemTime) -> Result<DirectorySync, EntraError> {
    let orgs = graph.get_all("/organization", false).await?;
    let org = orgs.first().cloned().unwrap_or(Value::Null);
    let last = org["onPremisesLastSyncDateTime"].as_str().map(String::from);
    let minutes = last
        .as_deref()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .and_then(|t| now.duration_since(SystemTime::from(t)).ok().map(|d| d.as_secs() / 60));
    Ok(DirectorySync {
        enabled: org["onPremisesSyncEnabled"].as_bool() == Some(true),
        last_sync: last,
        minutes_since_last_sync: minutes,
    })
}

/// The licence verdict from `/subscribedSkus`.
pub async fn licence(graph: &GraphClient) -> Result<LicenceVerdict, EntraError> {
    let items = graph.get_all("/subscribedSkus", false).await?;
    licence::verdict_from_json(&Value::Array(items))
        .map_err(|e| EntraError::BadResponse { url: "/subscribedSkus".into(), detail: e.to_string() })
}

/// `features.passwordWritebackEnabled`, informational: 403 and 404 mean "not available here".
/// Asked in every cloud: Microsoft's pages do not agree on the clouds it exists in (docs/entra.md),
/// and a cloud without it answers 404, read as "not available".
pub async fn graph_writeback_flag(graph: &GraphClient) -> Result<Option<bool>, EntraError> {
    match graph.get_all("/directory/onPremisesSynchronization", false).await {
        Ok(items) => Ok(items.first().and_then(|i| i["features"]["passwordWritebackEnabled"].as_bool())),
        Err(EntraError::Graph { status: 403 | 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A check that needs a permission the app may not have been consented: 403 is "not checked".
enum Optional<T> {
    Read(T),
    NotChecked(String),
}

async fn optional<T>(
    read: impl std::future::Future<Output = Result<T, EntraError>>,
    what: &str,
    permission: &str,
) -> Result<Optional<T>, EntraError> {
    match read.await {
        Ok(v) => Ok(Optional::Read(v)),
        Err(EntraError::Graph { status: 403, code, message, .. }) => Ok(Optional::NotChecked(format!(
            "{what} was not checked: Graph refused it ({code}: {message}); it needs the delegated permission {permission} consented for this app (docs/entra.md)"
        ))),
        Err(e) => Err(e),
    }
}

fn role_name(template_id: &str) -> Option<&'static str> {
    match template_id {
        GLOBAL_ADMINISTRATOR => Some("Global Administrator"),
        HYBRID_IDENTITY_ADMINISTRATOR => Some("Hybrid Identity Administrator"),
        _ => None,
    }
}

/// The writeback roles the account is eligible for in PIM and has not activated (Graph v1.0
/// `roleEligibilityScheduleInstances`, filtered on the account).
pub async fn eligible_roles(graph: &GraphClient, principal: &str) -> Result<Vec<String>, EntraError> {
    // The signed-in administrator's own eligibilities first: filterByCurrentUser needs no other
    // principal's data (whether it needs a reader role too, Microsoft's pages do not settle:
    // docs/entra.md). Refused, the listing filtered by principal, which does.
    let own = graph
        .get_all(
            "/roleManagement/directory/roleEligibilityScheduleInstances/filterByCurrentUser(on='principal')",
            false,
        )
        .await;
    let items = match own {
        Ok(items) => items,
        Err(EntraError::Graph { status: 400 | 403 | 404, .. }) => {
            graph
                .get_all(
                    &format!(
                        "/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId%20eq%20'{principal}'"
                    ),
                    false,
                )
                .await?
        }
        Err(e) => return Err(e),
    };
    let mut names: Vec<String> = items
        .iter()
        .filter_map(|i| role_name(i["roleDefinitionId"].as_str().unwrap_or_default()))
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The authentication type (`Managed` or `Federated`) of the domain of `upn`, from `/domains`.
pub async fn domain_authentication(graph: &GraphClient, upn: &str) -> Result<Option<String>, EntraError> {
    let Some((_, domain)) = upn.rsplit_once('@') else { return Ok(None) };
    let items = graph.get_all("/domains", false).await?;
    Ok(items
        .iter()
        .find(|d| d["id"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(domain)))
        .and_then(|d| d["authenticationType"].as_str().map(String::from)))
}

/// Everything `entra check` reports.
pub async fn check(graph: &GraphClient, now: SystemTime) -> Result<EntraCheck, EntraError> {
    // Independent reads in flight together (a round trip to the cloud is tens of milliseconds);
    // their errors are taken in the order a sequential check would meet them.
    let (account, roles, licence, directory_sync, flag) =
        tokio::join!(me(graph), roles(graph), licence(graph), directory_sync(graph, now), graph_writeback_flag(graph));
    let account = account?;
    let roles = roles?;
    let direct =
        roles.iter().any(|r| r.template_id == GLOBAL_ADMINISTRATOR || r.template_id == HYBRID_IDENTITY_ADMINISTRATOR);
    let (through_groups, eligible, domain_authentication) = tokio::join!(
        async { if direct { Ok(Vec::new()) } else { roles_through_groups(graph).await } },
        async {
            if direct {
                Ok(Optional::Read(Vec::new()))
            } else {
                optional(eligible_roles(graph, &account.id), "PIM role eligibility", "RoleEligibilitySchedule.Read.Directory (and an active Global Reader, Security Reader or Privileged Role Administrator role)").await
            }
        },
        optional(
            domain_authentication(graph, &account.user_principal_name),
            "whether the account's domain is federated",
            "Domain.Read.All",
        )
    );
    let through_groups = through_groups?;
    let licence = licence?;
    let directory_sync = directory_sync?;
    let flag = flag?;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut not_checked = Vec::new();
    let eligible = match eligible? {
        Optional::Read(roles) => roles,
        Optional::NotChecked(why) => {
            not_checked.push(why);
            Vec::new()
        }
    };
    let domain_authentication = match domain_authentication? {
        Optional::Read(kind) => kind,
        Optional::NotChecked(why) => {
            not_checked.push(why);
            None
        }
    };
    if domain_authentication.as_deref() == Some("Federated") {
        warnings.push(format!(
            "{} is in a federated domain ({}): it signs in through the federation service (AD FS or another), not with a password Entra ID holds, and the sync engine's registration needs a managed cloud account; sign in with an account of the tenant's onmicrosoft.com domain",
            account.user_principal_name,
            account.user_principal_name.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
        ));
    }
    if !direct {
        if !eligible.is_empty() {
            problems.push(format!(
                "{} is eligible for {}, not active: activate it in PIM (Microsoft Entra admin center > Identity Governance > Privileged Identity Management > My roles), then sign in again",
                account.user_principal_name,
                eligible.join(" and ")
            ));
        } else if through_groups.is_empty() {
            problems.push(format!(
                "{} holds neither Global Administrator nor Hybrid Identity Administrator: sign in with an account that does (assigned directly; a PIM-eligible role must be activated first)",
                account.user_principal_name
            ));
        }
    }
    if !licence.eligible {
        problems.push(licence.reason.clone());
    }
    warnings.extend(licence.warnings.iter().cloned());
    if !directory_sync.enabled {
        problems.push(
            "directory synchronisation is not enabled for the tenant: install and run Microsoft Entra Connect first"
                .into(),
        );
    } else if directory_sync.minutes_since_last_sync.is_some_and(|m| m > 180) {
        warnings.push(format!(
            "the last directory sync was {} minutes ago (Entra Connect syncs every 30 minutes): check that the sync engine runs",
            directory_sync.minutes_since_last_sync.unwrap_or(0)
        ));
    }
    // A role held through a role-assignable group is held: Microsoft's writeback pages ask for
    // the role, not for how it is assigned. A synced account is fine when its domain is managed
    // (event 32009: "a managed (cloud-only or password-synchronized) account"); a federated one
    // is warned of above.
    let role_ok = direct || !through_groups.is_empty();
    Ok(EntraCheck {
        account,
        roles,
        role_ok,
        roles_through_groups: through_groups,
        licence,
        directory_sync,
        graph_password_writeback_flag: flag,
        eligible_roles: eligible,
        domain_authentication,
        not_checked,
        problems,
        warnings,
    })
}
