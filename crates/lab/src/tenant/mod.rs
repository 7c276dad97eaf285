//! The tenant simulator: Microsoft Entra ID's OAuth 2.0 endpoints and the Microsoft Graph v1.0
//! reads the product uses, on loopback, with Entra's and Graph's wire formats and errors.
//!
//! Entra ID cannot be reached from the lab, so `writeback-wizard lab tenant` (and `--lab` mode, in
//! process) serve this instead. Production code talks to the real endpoints; only the base URL
//! differs. docs/lab.md describes the endpoints and the fixture format.

pub mod fixture;
mod graph;
mod oauth;
pub mod pages;
pub mod tokens;
mod writeback;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::diagnose::{Diagnose, Exit};
use crate::secrets::Secret;
pub use fixture::{Faults, Fixture, FixtureError};
use fixture::{FixtureUser, GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR, role_template_id};
use tokens::Keys;

/// A user of the running tenant (ids resolved).
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub password: String,
    pub mfa_required: bool,
    /// Directly assigned, active role template ids.
    pub roles: Vec<String>,
    /// Role template ids the user is only eligible for (PIM).
    pub eligible_roles: Vec<String>,
    pub groups: Vec<String>,
    pub on_premises_sync_enabled: bool,
    pub account_enabled: bool,
}

impl User {
    /// Holds Global Administrator or Hybrid Identity Administrator actively: assigned directly or
    /// through a role-assignable group of `tenant` (Microsoft's pages say nothing that sets the two
    /// apart for the sync engine's sign-in).
    pub fn is_writeback_admin(&self, tenant: &Tenant) -> bool {
        self.holds_any(tenant, &[GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR])
    }
    /// Holds one of `roles` (template ids) actively: directly or through a role-assignable group.
    pub fn holds_any(&self, tenant: &Tenant, roles: &[&str]) -> bool {
        let wanted = |r: &String| roles.contains(&r.as_str());
        self.roles.iter().any(wanted)
            || tenant
                .groups
                .iter()
                .any(|g| g.is_assignable_to_role && self.groups.contains(&g.id) && g.roles.iter().any(wanted))
    }
    pub fn is_global_admin(&self) -> bool {
        self.roles.iter().any(|r| r == GLOBAL_ADMINISTRATOR)
    }
}

/// A group of the running tenant.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub display_name: String,
    pub is_assignable_to_role: bool,
    pub roles: Vec<String>,
}

/// What does not change while the simulator runs.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub id: String,
    pub display_name: String,
    pub domains: Vec<String>,
    pub default_domain: String,
    pub federated_domains: Vec<String>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub skus: Vec<Value>,
    /// Registered apps by client id (empty: any client id, full consent).
    pub apps: HashMap<String, fixture::FixtureApp>,
    pub on_prem_sync_available: bool,
    pub page_size: usize,
    /// Object ids of activated directory roles, by template id.
    pub role_objects: HashMap<String, String>,
    pub created: SystemTime,
}

impl Tenant {
    pub fn user_by_upn(&self, upn: &str) -> Option<&User> {
        self.users.iter().find(|u| u.upn.eq_ignore_ascii_case(upn.trim()))
    }
    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    /// Accepts the tenant id, a verified domain, `organizations` and `common`.
    pub fn matches(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case(&self.id)
            || tenant.eq_ignore_ascii_case("organizations")
            || tenant.eq_ignore_ascii_case("common")
            || self.domains.iter().any(|d| d.eq_ignore_ascii_case(tenant))
    }
}

/// A device code waiting for its user.
#[derive(Debug, Clone)]
pub(crate) struct DeviceCode {
    pub user_code: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires: SystemTime,
    pub interval: Duration,
    pub last_poll: Option<SystemTime>,
    pub outcome: DeviceOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceOutcome {
    Pending,
    Approved(String),
    Declined,
}

/// An authorization code not yet redeemed.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub challenge: String,
    pub user_id: String,
    pub expires: SystemTime,
    pub redeemed: bool,
}

/// A refresh token; rotated on every use.
#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub user_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub revoked: bool,
}

/// What changes while the simulator runs.
#[derive(Debug)]
pub(crate) struct State {
    pub device_codes: HashMap<String, DeviceCode>,
    pub auth_codes: HashMap<String, AuthCode>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// Consent granted interactively after start-up: client id → scopes.
    pub consents: HashMap<String, Vec<String>>,
    pub faults: Faults,
    pub throttled: u32,
    pub unavailable: u32,
    pub on_prem_sync_enabled: Option<bool>,
    pub last_sync: Option<SystemTime>,
    pub on_prem_sync_object: Value,
    pub sync_engine_writeback: bool,
    pub sync_engine_last_cycle: Option<SystemTime>,
    /// What the lab sync engine reports beside the switch (`POST /lab/sync-engine`).
    pub sync_engine: LabEngineModel,
    pub graph_requests: u64,
    /// Users the sync cycle imported from the lab DCs, by object id.
    pub synced: HashMap<String, writeback::SyncedUser>,
    /// resetPassword's long-running operations, by id.
    pub operations: HashMap<String, writeback::Operation>,
    /// The lab sync server's writeback events, oldest first.
    pub events: Vec<writeback::LabEvent>,
    /// The tenant's audit log (directoryAudit entries), oldest first.
    pub audits: Vec<Value>,
}

/// The lab sync engine's model of what a real engine reports, so every branch runs end to end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabEngineModel {
    pub staging_mode: bool,
    pub sync_cycle_enabled: bool,
    pub scheduler_suspended: bool,
    pub version: String,
    /// `adsync` (Entra Connect Sync) or `cloudsync` (Entra Cloud Sync).
    pub flavour: String,
    /// The AD DS connectors it lists (`ad_connectors`): none unless posted.
    pub ad_connectors: Vec<LabAdConnector>,
}

/// One AD DS connector of the lab sync engine: the forest it serves, the account it signs in as
/// (`DOMAIN\name`) and the domains it synchronises (DNS names).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabAdConnector {
    pub forest: String,
    pub account: String,
    #[serde(default)]
    pub domains: Vec<String>,
    /// The connector account's password, as Connect stores it: never returned by `GET`.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// The DC the engine writes to (`ldaps://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc_url: Option<String>,
    /// The SHA-256 of that DC's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl LabAdConnector {
    /// Refuses what no sync engine would hold: a forest or domain that is no DNS name, an account
    /// not written `DOMAIN\name`.
    pub fn check(&self) -> Result<(), String> {
        let dns = |t: &str| {
            let labels: Vec<&str> = t.split('.').collect();
            labels.len() >= 2
                && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        };
        if !dns(&self.forest) {
            return Err(format!("forest '{}' is not a DNS name", self.forest));
        }
        if let Some(d) = self.domains.iter().find(|d| !dns(d)) {
            return Err(format!("domain '{d}' is not a DNS name"));
        }
        match self.account.split_once('\\') {
            Some((domain, name)) if !domain.is_empty() && !name.is_empty() && !name.contains('\\') => Ok(()),
            _ => Err(format!("account '{}' is not written DOMAIN\\name", self.account)),
        }
    }
}

impl Default for LabEngineModel {
    fn default() -> Self {
        LabEngineModel {
            staging_mode: false,
            sync_cycle_enabled: true,
            scheduler_suspended: false,
            version: "2.5.190.0".into(),
            flavour: "adsync".into(),
            ad_connectors: Vec::new(),
        }
    }
}

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub tenant: Tenant,
    pub state: Mutex<State>,
    pub keys: Keys,
    pub clock: Arc<dyn Clock>,
    pub url: String,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked while holding the lock leaves consistent data (each handler
        // mutates at most one map entry), so a poisoned lock is taken over.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// Adds an entry to the tenant's audit log (`directoryAudit`, as Graph gives it).
pub(crate) fn audit(
    shared: &Shared,
    activity: &str,
    category: &str,
    by: &User,
    target: Option<(&str, &str)>,
    ok: bool,
    details: &[(&str, &str)],
) {
    let now = shared.now();
    let entry = serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "activityDateTime": crate::clock::rfc3339(now),
        "activityDisplayName": activity,
        "category": category,
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "loggedByService": "Self-service Password Management",
        "operationType": "Update",
        "result": if ok { "success" } else { "failure" },
        "resultReason": "",
        "initiatedBy": { "app": null, "user": { "id": by.id, "displayName": by.display_name, "userPrincipalName": by.upn, "ipAddress": "127.0.0.1" } },
        "targetResources": target.map(|(id, upn)| vec![serde_json::json!({ "id": id, "displayName": upn, "type": "User", "userPrincipalName": upn, "modifiedProperties": [] })]).unwrap_or_default(),
        "additionalDetails": details.iter().map(|(k, v)| serde_json::json!({ "key": k, "value": v })).collect::<Vec<_>>(),
    });
    shared.state().audits.push(entry);
}

/// A fresh opaque value for codes and tokens.
pub(crate) fn opaque(len_bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = vec![0u8; len_bytes];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The first stdout line of `lab tenant`, and what `--lab` mode needs.
#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// The tenant id.
    pub tenant_id: String,
    /// A Global Administrator who can sign in.
    pub admin_upn: String,
    /// Their password (a lab credential, generated unless the fixture sets it).
    pub admin_password: String,
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningTenant {
    info: TenantInfo,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningTenant {
    /// URL, tenant id and the administrator's credentials.
    pub fn info(&self) -> &TenantInfo {
        &self.info
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.info.url
    }

    /// The administrator's password as a [`Secret`].
    pub fn admin_password(&self) -> Secret {
        Secret::new(self.info.admin_password.clone())
    }

    /// Replaces the faults (and restarts their counters).
    pub fn set_faults(&self, faults: Faults) {
        let mut st = self.shared.state();
        st.faults = faults;
        st.throttled = 0;
        st.unavailable = 0;
    }

    /// Revokes every refresh token of a user (as "Revoke sessions" in the portal does).
    pub fn revoke_sessions(&self, upn: &str) -> bool {
        revoke(&self.shared, upn)
    }

    /// How many Graph requests were served (including faults).
    pub fn graph_requests(&self) -> u64 {
        self.shared.state().graph_requests
    }

    /// Whether the lab sync engine's writeback is on.
    /// Changes what the lab sync engine reports (a test's set-up: the flavour, the version…).
    pub fn with_sync_engine(&self, change: impl FnOnce(&mut LabEngineModel)) {
        change(&mut self.shared.state().sync_engine);
    }

    pub fn sync_engine_writeback(&self) -> bool {
        self.shared.state().sync_engine_writeback
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningTenant {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn revoke(shared: &Shared, upn: &str) -> bool {
    let Some(user) = shared.tenant.user_by_upn(upn) else { return false };
    let mut st = shared.state();
    for rt in st.refresh_tokens.values_mut().filter(|rt| rt.user_id == user.id) {
        rt.revoked = true;
    }
    true
}

fn resolve(fixture: Fixture, now: SystemTime) -> Result<(Tenant, State, TenantInfo), TenantError> {
    fixture.validate()?;
    let tenant_id = if fixture.tenant_id.is_empty() { new_id() } else { fixture.tenant_id.clone() };
    let initial = fixture.domains.first().cloned().unwrap_or_else(|| "lab.onmicrosoft.com".into());
    let mut fixture_users = fixture.users.clone();
    if fixture_users.is_empty() {
        fixture_users.push(FixtureUser {
            upn: format!("admin@{initial}"),
            display_name: "Lab Administrator".into(),
            password: crate::ad::passgen::generate_os(20).expose().to_string(),
            roles: vec!["Global Administrator".into()],
            ..Default::default()
        });
    }
    let groups: Vec<Group> = fixture
        .groups
        .iter()
        .map(|g| Group {
            id: if g.id.is_empty() { new_id() } else { g.id.clone() },
            display_name: g.display_name.clone(),
            is_assignable_to_role: g.is_assignable_to_role,
            roles: g.roles.iter().filter_map(|r| role_template_id(r)).map(String::from).collect(),
        })
        .collect();
    let users: Vec<User> = fixture_users
        .iter()
        .map(|u| User {
            id: if u.id.is_empty() { new_id() } else { u.id.clone() },
            upn: u.upn.clone(),
            display_name: if u.display_name.is_empty() { u.upn.clone() } else { u.display_name.clone() },
            password: u.password.clone(),
            mfa_required: u.mfa_required,
            roles: u.roles.iter().filter_map(|r| role_template_id(r)).map(String::from).collect(),
            eligible_roles: u.eligible_roles.iter().filter_map(|r| role_template_id(r)).map(String::from).collect(),
            groups: u.groups.clone(),
            on_premises_sync_enabled: u.on_premises_sync_enabled,
            account_enabled: u.account_enabled,
        })
        .collect();
    // A directory role object exists once the role is activated, i.e. assigned to someone.
    let mut role_objects = HashMap::new();
    for role in users.iter().flat_map(|u| &u.roles).chain(groups.iter().flat_map(|g| &g.roles)) {
        role_objects.entry(role.clone()).or_insert_with(new_id);
    }
    let skus = match &fixture.subscribed_skus {
        Some(list) => list
            .iter()
            .map(|sku| {
                let mut sku = sku.clone();
                if sku.get("id").is_none() {
                    let sku_id = sku.get("skuId").and_then(Value::as_str).unwrap_or("sku").to_string();
                    if let Some(obj) = sku.as_object_mut() {
                        obj.insert("id".into(), Value::String(format!("{tenant_id}_{sku_id}")));
                    }
                }
                sku
            })
            .collect(),
        None => vec![fixture::default_sku(&tenant_id)],
    };
    let admin = users
        .iter()
        .find(|u| u.is_global_admin())
        .or_else(|| users.first())
        .ok_or_else(|| TenantError::Fixture(FixtureError::Invalid { detail: "no users".into() }))?;
    let info = TenantInfo {
        url: String::new(),
        tenant_id: tenant_id.clone(),
        admin_upn: admin.upn.clone(),
        admin_password: admin.password.clone(),
    };
    let tenant = Tenant {
        id: tenant_id.clone(),
        display_name: fixture.display_name.clone(),
        domains: fixture.domains.clone(),
        default_domain: fixture.default_domain.clone(),
        federated_domains: fixture.federated_domains.clone(),
        users,
        groups,
        skus,
        apps: fixture.apps.iter().map(|a| (a.client_id.to_ascii_lowercase(), a.clone())).collect(),
        on_prem_sync_available: fixture.on_premises_synchronization_available,
        page_size: fixture.page_size.max(1),
        role_objects,
        created: now - Duration::from_secs(86_400 * 400),
    };
    let state = State {
        device_codes: HashMap::new(),
        auth_codes: HashMap::new(),
        refresh_tokens: HashMap::new(),
        consents: HashMap::new(),
        faults: fixture.faults.clone(),
        throttled: 0,
        unavailable: 0,
        on_prem_sync_enabled: fixture.on_premises_sync_enabled,
        last_sync: fixture.last_sync_minutes_ago.map(|m| now - Duration::from_secs(m * 60)),
        on_prem_sync_object: graph::default_on_prem_sync(&tenant_id),
        sync_engine_writeback: false,
        sync_engine_last_cycle: None,
        sync_engine: LabEngineModel::default(),
        synced: HashMap::new(),
        operations: HashMap::new(),
        events: Vec::new(),
        audits: Vec::new(),
        graph_requests: 0,
    };
    Ok((tenant, state, info))
}

/// Starts a simulator for `fixture` on `listen` (port 0 = a free port) with the system clock.
pub async fn start(fixture: Fixture, listen: SocketAddr) -> Result<RunningTenant, TenantError> {
    start_with_clock(fixture, listen, Arc::new(SystemClock)).await
}

/// [`start`] with an injected clock (tests move it to expire codes and tokens).
pub async fn start_with_clock(
    fixture: Fixture,
    listen: SocketAddr,
    clock: Arc<dyn Clock>,
) -> Result<RunningTenant, TenantError> {
    let keys = tokio::task::spawn_blocking(Keys::generate)
        .await
        .map_err(|e| TenantError::Internal { detail: e.to_string() })??;
    let (tenant, state, mut info) = resolve(fixture, clock.now())?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| TenantError::Listen { addr: listen, detail: e.to_string() })?;
    let addr = listener.local_addr().map_err(|e| TenantError::Listen { addr: listen, detail: e.to_string() })?;
    info.url = format!("http://{addr}");
    let shared = Arc::new(Shared { tenant, state: Mutex::new(state), keys, clock, url: info.url.clone() });
    let app = router(shared.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the tenant simulator stopped");
        }
    });
    tracing::info!(url = %info.url, tenant = %info.tenant_id, "tenant simulator listening");
    Ok(RunningTenant { info, shared, shutdown: Some(tx), task: Some(task) })
}

fn router(shared: Arc<Shared>) -> Router {
    let graph_routes = graph::routes()
        .merge(writeback::routes())
        .layer(axum::middleware::from_fn_with_state(shared.clone(), graph::faults));
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(oauth::openid_configuration))
        .route("/{tenant}/oauth2/v2.0/authorize", get(oauth::authorize_form).post(oauth::authorize_submit))
        .route("/{tenant}/oauth2/v2.0/token", post(oauth::token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(oauth::devicecode))
        .route("/{tenant}/oauth2/v2.0/devicecode-moved", post(oauth::devicecode_moved))
        .route("/{tenant}/discovery/v2.0/keys", get(oauth::keys))
        .route("/devicelogin", get(oauth::device_login_form).post(oauth::device_login_submit))
        .route("/lab/sync-engine", get(graph::sync_engine_get).post(graph::sync_engine_set))
        .route("/lab/admin-center", get(graph::admin_center))
        .route("/lab/sync-engine/sync-cycle", post(writeback::sync_cycle))
        .route("/lab/sync-engine/cycle", post(writeback::sync_cycle))
        .route("/lab/sync-engine/events", get(writeback::events))
        .route("/lab/faults", put(set_faults))
        .route("/lab/revoke-sessions", post(revoke_sessions))
        .merge(graph_routes)
        .fallback(not_found)
        .with_state(shared)
}

async fn set_faults(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    Json(faults): Json<Faults>,
) -> StatusCode {
    let mut st = shared.state();
    st.faults = faults;
    st.throttled = 0;
    st.unavailable = 0;
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct RevokeRequest {
    upn: String,
}

async fn revoke_sessions(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    Json(req): Json<RevokeRequest>,
) -> StatusCode {
    if revoke(&shared, &req.upn) { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let body = serde_json::json!({ "error": { "code": "BadRequest", "message": format!("Resource not found for the segment '{}'.", uri.path()) } });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Adds a header, ignoring values that cannot be headers (never the case for ours).
pub(crate) fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The fixture is unusable.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {detail}")]
    Listen { addr: SocketAddr, detail: String },
    /// A bug or a runtime failure.
    #[error("tenant simulator internal error: {detail}")]
    Internal { detail: String },
}

impl Diagnose for TenantError {
    fn code(&self) -> &'static str {
        match self {
            TenantError::Fixture(_) => "TENANT-FIXTURE",
            TenantError::Listen { .. } => "TENANT-LISTEN",
            TenantError::Internal { .. } => "TENANT-INTERNAL",
        }
    }
    fn remedy(&self) -> String {
        match self {
            TenantError::Fixture(_) => {
                "Correct the fixture as the message says; docs/lab.md documents the format.".into()
            }
            TenantError::Listen { .. } => "Choose another --listen address, or 127.0.0.1:0 for a free port.".into(),
            TenantError::Internal { .. } => "Try again; report it as a bug if it persists.".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            TenantError::Fixture(_) => Exit::Usage,
            _ => Exit::Failed,
        }
    }
}
