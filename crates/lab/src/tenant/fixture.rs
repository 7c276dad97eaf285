//! The tenant a simulator serves: a documented JSON format (docs/lab.md) and the default tenant.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Global Administrator's role template id.
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// Hybrid Identity Administrator's role template id.
pub const HYBRID_IDENTITY_ADMINISTRATOR: &str = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2";
pub const AUTHENTICATION_ADMINISTRATOR: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";
pub const PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: &str = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
pub const PASSWORD_ADMINISTRATOR: &str = "966707d0-3269-4727-9be2-8c3a10f19b9d";
pub const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
pub const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";

/// Built-in directory roles the simulator knows by name: (display name, template id, description).
pub const ROLES: &[(&str, &str, &str)] = &[
    (
        "Global Administrator",
        GLOBAL_ADMINISTRATOR,
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "Hybrid Identity Administrator",
        HYBRID_IDENTITY_ADMINISTRATOR,
        "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, pass-through authentication (PTA), password hash synchronization (PHS), seamless single sign-on (seamless SSO), and federation settings.",
    ),
    (
        "Global Reader",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "Authentication Administrator",
        AUTHENTICATION_ADMINISTRATOR,
        "Can access to view, set and reset authentication method information for any non-admin user.",
    ),
    (
        "Privileged Authentication Administrator",
        PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
        "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
    ),
    (
        "Password Administrator",
        PASSWORD_ADMINISTRATOR,
        "Can reset passwords for non-administrators and Password Administrators.",
    ),
    (
        "User Administrator",
        USER_ADMINISTRATOR,
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
    (
        "Helpdesk Administrator",
        HELPDESK_ADMINISTRATOR,
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "Security Administrator",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
    ),
];

/// The delegated Microsoft Graph permissions the simulator knows.
pub const GRAPH_SCOPES: &[&str] = &[
    "User.Read",
    "User.Read.All",
    "Organization.Read.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "OnPremDirectorySynchronization.Read.All",
    "OnPremDirectorySynchronization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Domain.Read.All",
    "Domain.ReadWrite.All",
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "UserAuthenticationMethod.Read.All",
    "AuditLog.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
];

/// Resolves a role given by display name or template id to its template id.
pub fn role_template_id(role: &str) -> Option<&'static str> {
    ROLES
        .iter()
        .find(|(name, id, _)| name.eq_ignore_ascii_case(role) || id.eq_ignore_ascii_case(role))
        .map(|(_, id, _)| *id)
}

/// A tenant, as a fixture file describes it. Every field has a default, so a fixture names only
/// what it changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fixture {
    /// Tenant id (GUID); generated when empty.
    pub tenant_id: String,
    /// The organisation's display name.
    pub display_name: String,
    /// Verified domains; the first is the initial `*.onmicrosoft.com` domain, `default_domain` the default.
    pub domains: Vec<String>,
    /// The default domain (one of `domains`).
    pub default_domain: String,
    /// Domains whose sign-in is federated (`authenticationType` Federated; the rest are Managed).
    pub federated_domains: Vec<String>,
    /// `organization.onPremisesSyncEnabled`.
    pub on_premises_sync_enabled: Option<bool>,
    /// Minutes before start-up of `organization.onPremisesLastSyncDateTime` (absent: never synced).
    pub last_sync_minutes_ago: Option<u64>,
    /// Users. Empty: one cloud-only Global Administrator `admin@<initial domain>` with a
    /// generated password.
    pub users: Vec<FixtureUser>,
    /// Groups (role-assignable ones can carry roles).
    pub groups: Vec<FixtureGroup>,
    /// `/subscribedSkus` items as Graph returns them (raw JSON; `id` is filled in when missing).
    /// Absent: one Entra ID P1 SKU. `[]`: no licence at all.
    pub subscribed_skus: Option<Vec<Value>>,
    /// Registered public clients. Empty: any client id is accepted, with admin consent for every
    /// known Graph permission.
    pub apps: Vec<FixtureApp>,
    /// Whether `/directory/onPremisesSynchronization` exists (a fixture of a cloud without it says
    /// false: it then answers 404 as Graph does for a resource a cloud lacks).
    pub on_premises_synchronization_available: bool,
    /// Collections longer than this are paged with `@odata.nextLink`.
    pub page_size: usize,
    /// Faults to inject.
    pub faults: Faults,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureUser {
    /// Object id (GUID); generated when empty.
    pub id: String,
    pub upn: String,
    pub display_name: String,
    /// The password the sign-in forms and the password grant accept.
    pub password: String,
    /// Needs MFA: the password grant is refused with AADSTS50076 (interactive sign-in passes).
    pub mfa_required: bool,
    /// Roles assigned directly and active (name or template id).
    pub roles: Vec<String>,
    /// Roles the user is only eligible for (PIM, not activated): invisible to Graph's reads.
    pub eligible_roles: Vec<String>,
    /// Group ids the user is a member of.
    pub groups: Vec<String>,
    /// Synced from on-prem AD (a hybrid account) rather than cloud-only.
    pub on_premises_sync_enabled: bool,
    /// Account enabled.
    pub account_enabled: bool,
}

impl Default for FixtureUser {
    fn default() -> Self {
        FixtureUser {
            id: String::new(),
            upn: String::new(),
            display_name: String::new(),
            password: String::new(),
            mfa_required: false,
            roles: Vec::new(),
            eligible_roles: Vec::new(),
            groups: Vec::new(),
            on_premises_sync_enabled: false,
            account_enabled: true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureGroup {
    /// Object id.
    pub id: String,
    pub display_name: String,
    /// Role-assignable (may hold directory roles).
    pub is_assignable_to_role: bool,
    /// Roles assigned to the group (its members hold them only through the group).
    pub roles: Vec<String>,
}

/// A registered public client.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureApp {
    /// Application (client) id.
    pub client_id: String,
    /// Display name.
    pub display_name: String,
    /// "Allow public client flows": without it, token requests without a secret fail (AADSTS7000218).
    pub public_client: bool,
    /// Delegated Graph permissions an administrator has consented to for the whole tenant.
    pub consented_scopes: Vec<String>,
}

/// Faults the simulator injects, for tests of retries, deadlines and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// The first N Graph requests answer 429 Too Many Requests.
    pub throttle_first: u32,
    /// The first N Graph requests (after the throttled ones) answer 503 Service Unavailable.
    pub unavailable_first: u32,
    /// The Retry-After the 429 and 503 answers carry, in seconds.
    pub retry_after_secs: u64,
    /// Delay added to every Graph answer, in milliseconds.
    pub latency_ms: u64,
    /// Extra latency of switching the lab sync engine's writeback (a slow sync server).
    #[serde(default)]
    pub sync_engine_latency_ms: u64,
    /// Lifetime of access tokens, in seconds (Entra: 60–90 minutes).
    pub token_lifetime_secs: u64,
    /// Lifetime of a device code, in seconds (Entra: 900).
    pub device_code_lifetime_secs: u64,
    /// The polling interval a device code asks for, in seconds (Entra: 5).
    pub device_code_interval_secs: u64,
    /// The discovery document names the device authorization endpoint at another path, and the
    /// usual one answers 404: a client that does not read discovery fails.
    #[serde(default)]
    pub device_endpoint_moved: bool,
    /// resetPassword's operations stay `running` and never reach the sync engine.
    #[serde(default)]
    pub reset_operations_hang: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            throttle_first: 0,
            unavailable_first: 0,
            retry_after_secs: 1,
            latency_ms: 0,
            sync_engine_latency_ms: 0,
            token_lifetime_secs: 3599,
            device_code_lifetime_secs: 900,
            device_code_interval_secs: 5,
            device_endpoint_moved: false,
            reset_operations_hang: false,
        }
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture {
            tenant_id: String::new(),
            display_name: "Writeback Lab".into(),
            domains: vec!["writebacklab.onmicrosoft.com".into(), "lab.example.test".into()],
            default_domain: "lab.example.test".into(),
            federated_domains: Vec::new(),
            on_premises_sync_enabled: Some(true),
            last_sync_minutes_ago: Some(20),
            users: Vec::new(),
            groups: Vec::new(),
            subscribed_skus: None,
            apps: Vec::new(),
            on_premises_synchronization_available: true,
            page_size: 100,
            faults: Faults::default(),
        }
    }
}

/// The SKU the default tenant holds: Microsoft Entra ID P1 (`AAD_PREMIUM`), as Graph returns it.
pub fn default_sku(tenant_id: &str) -> Value {
    serde_json::json!({
        "accountId": tenant_id,
        "accountName": "Writeback Lab",
        "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "consumedUnits": 12,
        "id": format!("{tenant_id}_078d2b04-f1bd-4111-bbd4-b4b1b354cef4"),
        "skuId": "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
        "skuPartNumber": "AAD_PREMIUM",
        "subscriptionIds": ["7a0e2b43-3f0c-4b4f-9c8e-2a7c1f0f6a11"],
        "prepaidUnits": { "enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0 },
        "servicePlans": [
            { "servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User" },
            { "servicePlanId": "8a256a2b-b617-496d-b51b-e76466e88db0", "servicePlanName": "MFA_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User" },
            { "servicePlanId": "113feb6c-3fe4-4440-bddc-54d774bf0318", "servicePlanName": "EXCHANGE_S_FOUNDATION", "provisioningStatus": "Success", "appliesTo": "Company" }
        ]
    })
}

/// Why a fixture cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// Not readable.
    #[error("cannot read the tenant fixture {path}: {detail}")]
    Read { path: String, detail: String },
    /// Not valid JSON or not of the documented shape.
    #[error("the tenant fixture {path} is not valid: {detail}")]
    Parse {
        path: String,
        /// The parser's message, with line and column.
        detail: String,
    },
    /// Inconsistent content.
    #[error("the tenant fixture is inconsistent: {detail}")]
    Invalid { detail: String },
}

impl Fixture {
    /// Reads a fixture file.
    pub fn load(path: &std::path::Path) -> Result<Fixture, FixtureError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| FixtureError::Read { path: shown.clone(), detail: e.to_string() })?;
        serde_json::from_str(&text).map_err(|e| FixtureError::Parse { path: shown, detail: e.to_string() })
    }

    /// Checks references (roles, groups, domains) so a typo fails at start-up, not mid-test.
    pub fn validate(&self) -> Result<(), FixtureError> {
        let bad = |detail: String| Err(FixtureError::Invalid { detail });
        if let Some(d) =
            self.federated_domains.iter().find(|d| !self.domains.contains(d) || self.domains.first() == Some(d))
        {
            return bad(format!(
                "federated domain '{d}' is not one of domains {:?} after the initial one",
                self.domains
            ));
        }
        if !self.domains.iter().any(|d| d == &self.default_domain) {
            return bad(format!("default_domain '{}' is not one of domains {:?}", self.default_domain, self.domains));
        }
        for user in &self.users {
            if user.upn.is_empty() || !user.upn.contains('@') {
                return bad(format!("user '{}' needs a upn like name@domain", user.display_name));
            }
            for role in user.roles.iter().chain(&user.eligible_roles) {
                if role_template_id(role).is_none() {
                    return bad(format!("user {}: unknown role '{role}' (known: {})", user.upn, role_names()));
                }
            }
            for g in &user.groups {
                if !self.groups.iter().any(|grp| &grp.id == g) {
                    return bad(format!("user {}: no group with id '{g}'", user.upn));
                }
            }
        }
        for group in &self.groups {
            if !group.roles.is_empty() && !group.is_assignable_to_role {
                return bad(format!("group '{}' holds roles but is not role-assignable", group.display_name));
            }
            if let Some(role) = group.roles.iter().find(|r| role_template_id(r).is_none()) {
                return bad(format!("group '{}': unknown role '{role}'", group.display_name));
            }
        }
        for app in &self.apps {
            if let Some(s) = app.consented_scopes.iter().find(|s| !GRAPH_SCOPES.contains(&s.as_str())) {
                return bad(format!("app {}: unknown Graph permission '{s}'", app.client_id));
            }
        }
        Ok(())
    }
}

fn role_names() -> String {
    ROLES.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ")
}
