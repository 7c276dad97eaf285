//! The lab sync engine's writeback, done as Entra Connect does it: a sync cycle imports the users
//! under each AD connector's domains as synced users; an administrator's `resetPassword` on one of
//! them starts a long-running operation that the engine carries out on the DC as the connector
//! account, with that account's own credentials (and the policy-hints control where the DC offers
//! it), recording the events the sync server would log (reference/writeback-events.csv).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::graph::{authorize, graph_error, sync_admin, sync_state};
use super::{LabAdConnector, Shared, with_header};
use crate::clock::rfc3339;
use writeback_ad::{AdConnection, AdError, ConnectOptions, TlsTrust};
use writeback_base::secrets::Secret;

/// The password method's id: the same for every user (Graph's resetPassword page).
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// A user the sync cycle imported from a lab DC, as Graph shows a synced user.
#[derive(Debug, Clone)]
pub(crate) struct SyncedUser {
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub sam: String,
    /// The DNS name of the user's domain.
    pub domain: String,
    pub dn: String,
    pub sid: String,
    pub immutable_id: String,
    pub forest: String,
    pub last_sync: SystemTime,
    pub last_password_change: Option<SystemTime>,
    pub force_change_next_sign_in: bool,
}

impl SyncedUser {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "userPrincipalName": self.upn,
            "displayName": self.display_name,
            "accountEnabled": true,
            "userType": "Member",
            "onPremisesSyncEnabled": true,
            "onPremisesSamAccountName": self.sam,
            "onPremisesDomainName": self.domain,
            "onPremisesDistinguishedName": self.dn,
            "onPremisesSecurityIdentifier": self.sid,
            "onPremisesImmutableId": self.immutable_id,
            "onPremisesUserPrincipalName": self.upn,
            "onPremisesLastSyncDateTime": rfc3339(self.last_sync),
            "lastPasswordChangeDateTime": self.last_password_change.map(rfc3339),
        })
    }
}

/// A `resetPassword` long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub user_id: String,
    pub created: SystemTime,
    pub last_action: SystemTime,
    pub status: &'static str,
    pub detail: Option<String>,
}

/// An event of the lab sync server's log, in the properties Get-WinEvent gives an EventLogRecord.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabEvent {
    pub id: u32,
    pub provider_name: String,
    pub time_created: String,
    pub level_display_name: String,
    pub message: String,
}

fn event(shared: &Shared, id: u32, provider: &str, level: &str, message: String) {
    let e = LabEvent {
        id,
        provider_name: provider.into(),
        time_created: rfc3339(shared.now()),
        level_display_name: level.into(),
        message,
    };
    shared.state().events.push(e);
}

/// `GET /v1.0/auditLogs/directoryAudits`: needs AuditLog.Read.All and Directory.Read.All (both);
/// `$filter` on activityDisplayName eq and activityDateTime ge, joined by `and`; newest first.
pub(crate) async fn directory_audits(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(&shared, &headers, &["AuditLog.Read.All"]) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = super::graph::require(&shared, &caller, &["Directory.Read.All", "Directory.ReadWrite.All"]) {
        return r;
    }
    let mut name: Option<String> = None;
    let mut since: Option<String> = None;
    if let Some(f) = q.get("$filter") {
        for part in f.split(" and ") {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("activityDisplayName eq ") {
                name = Some(v.trim_matches('\'').replace("''", "'"));
            } else if let Some(v) = part.strip_prefix("activityDateTime ge ") {
                since = Some(v.trim().to_string());
            } else {
                return graph_error(
                    &shared,
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    &format!("Unsupported filter: {part}"),
                );
            }
        }
    }
    let mut items: Vec<Value> = shared
        .state()
        .audits
        .iter()
        .filter(|a| name.as_deref().is_none_or(|n| a["activityDisplayName"] == n))
        .filter(|a| since.as_deref().is_none_or(|t| a["activityDateTime"].as_str().unwrap_or_default() >= t))
        .cloned()
        .collect();
    items.reverse();
    Json(
        json!({ "@odata.context": format!("{}/v1.0/$metadata#auditLogs/directoryAudits", shared.url), "value": items }),
    )
    .into_response()
}

fn dn_of_domain(dns: &str) -> String {
    dns.split('.').map(|l| format!("DC={l}")).collect::<Vec<_>>().join(",")
}

/// Signs in to a connector's DC as the connector, with its own password: what the engine has.
async fn as_connector(c: &LabAdConnector) -> Result<AdConnection, String> {
    let (Some(url), Some(password)) = (&c.dc_url, &c.password) else {
        return Err(format!("the AD connector for {} has no DC or password stored", c.forest));
    };
    let trust = TlsTrust { ca_file: None, tls_name: None, fingerprint: c.fingerprint.clone() };
    let mut conn = AdConnection::connect(&ConnectOptions::new(url.clone(), trust)).await.map_err(|e| e.to_string())?;
    conn.bind(&c.account, &Secret::new(password.clone())).await.map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Imports the users under every connector's domains (the connectors the engine can sign in
/// with) into the tenant as synced users; a user seen before keeps its object id.
pub(crate) async fn import(shared: &Arc<Shared>) -> Result<usize, String> {
    let connectors = shared.state().sync_engine.ad_connectors.clone();
    let now = shared.now();
    let mut found = Vec::new();
    for c in connectors.iter().filter(|c| c.password.is_some() && c.dc_url.is_some()) {
        let mut conn = as_connector(c).await?;
        let domains = if c.domains.is_empty() { vec![c.forest.clone()] } else { c.domains.clone() };
        for domain in domains {
            let entries = conn
                .search(
                    &dn_of_domain(&domain),
                    ldap3::Scope::Subtree,
                    "(&(objectCategory=person)(objectClass=user))",
                    &["sAMAccountName", "userPrincipalName", "displayName", "objectSid", "objectGUID"],
                )
                .await
                .map_err(|e| e.to_string())?;
            for e in entries {
                let first = |n: &str| e.attrs.get(n).and_then(|v| v.first()).cloned();
                let bin = |n: &str| e.bin_attrs.get(n).and_then(|v| v.first()).cloned();
                let (Some(sam), Some(guid)) = (first("sAMAccountName"), bin("objectGUID")) else { continue };
                let Ok(guid_bytes) = <[u8; 16]>::try_from(guid.as_slice()) else { continue };
                let sid = bin("objectSid")
                    .and_then(|b| writeback_ad::sd::Sid::decode(&b, 0).ok())
                    .map(|(s, _)| s.to_string())
                    .unwrap_or_default();
                use base64::Engine;
                found.push(SyncedUser {
                    id: uuid::Uuid::from_bytes_le(guid_bytes).to_string(),
                    upn: first("userPrincipalName").unwrap_or_else(|| format!("{sam}@{domain}")),
                    display_name: first("displayName").unwrap_or_else(|| sam.clone()),
                    sam,
                    domain: domain.clone(),
                    dn: e.dn.clone(),
                    sid,
                    immutable_id: base64::engine::general_purpose::STANDARD.encode(guid_bytes),
                    forest: c.forest.clone(),
                    last_sync: now,
                    last_password_change: None,
                    force_change_next_sign_in: false,
                });
            }
        }
    }
    let n = found.len();
    let mut st = shared.state();
    for mut u in found {
        if let Some(old) = st.synced.get(&u.id) {
            u.last_password_change = old.last_password_change;
            u.force_change_next_sign_in = old.force_change_next_sign_in;
        }
        st.synced.insert(u.id.clone(), u);
    }
    Ok(n)
}

fn find_user(shared: &Shared, key: &str) -> Option<SyncedUser> {
    let st = shared.state();
    st.synced.values().find(|u| u.id.eq_ignore_ascii_case(key) || u.upn.eq_ignore_ascii_case(key)).cloned()
}

fn not_found(shared: &Shared, key: &str) -> Response {
    graph_error(
        shared,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{key}' does not exist or one of its queried reference-property objects are not present."),
    )
}

/// The Graph routes of the reset: the synced user, the action, its operation.
pub(crate) fn routes() -> axum::Router<Arc<Shared>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/v1.0/users/{id}", get(get_user))
        .route("/v1.0/users/{id}/authentication/methods/{method}/resetPassword", post(reset_password))
        .route("/v1.0/users/{id}/authentication/operations/{op}", get(get_operation))
        .route("/v1.0/auditLogs/directoryAudits", get(directory_audits))
}

/// `POST /lab/sync-engine/sync-cycle` (and `/cycle`): a delta sync.
pub(crate) async fn sync_cycle(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(r) = sync_admin(&shared, &headers) {
        return r;
    }
    // The cycle imports the users under each AD connector the engine can sign in with.
    if let Err(e) = import(&shared).await {
        return graph_error(
            &shared,
            StatusCode::BAD_GATEWAY,
            "syncCycleFailed",
            &format!("The sync cycle failed: {e}"),
        );
    }
    let now = shared.now();
    {
        let mut st = shared.state();
        st.sync_engine_last_cycle = Some(now);
        st.last_sync = Some(now);
    }
    Json(sync_state(&shared)).into_response()
}

/// `GET /v1.0/users/{id | userPrincipalName}`: a synced user, with `$select`.
pub(crate) async fn get_user(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = authorize(&shared, &headers, &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All"]) {
        return r;
    }
    let Some(u) = find_user(&shared, &key) else { return not_found(&shared, &key) };
    let full = u.json();
    let wanted: Vec<&str> = match q.get("$select") {
        Some(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
        None => vec!["id", "userPrincipalName", "displayName"],
    };
    let mut out = serde_json::Map::new();
    out.insert("@odata.context".into(), json!(format!("{}/v1.0/$metadata#users/$entity", shared.url)));
    for name in wanted {
        let Some(v) = full.get(name) else {
            return graph_error(
                &shared,
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &format!("Could not find a property named '{name}' on type 'microsoft.graph.user'."),
            );
        };
        out.insert(name.into(), v.clone());
    }
    Json(Value::Object(out)).into_response()
}

/// The roles that may reset a non-administrator's password with this call (Graph's
/// resetPassword page and "who can reset passwords"), by template id.
const RESET_ROLES: &[&str] = &[
    super::fixture::GLOBAL_ADMINISTRATOR,
    super::fixture::PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    super::fixture::AUTHENTICATION_ADMINISTRATOR,
    super::fixture::PASSWORD_ADMINISTRATOR,
    super::fixture::HELPDESK_ADMINISTRATOR,
    super::fixture::USER_ADMINISTRATOR,
];

/// `POST /v1.0/users/{id}/authentication/methods/{passwordMethods-id}/resetPassword`.
pub(crate) async fn reset_password(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((key, method)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let caller = match authorize(&shared, &headers, &["UserAuthenticationMethod.ReadWrite.All"]) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !caller.user.holds_any(&shared.tenant, RESET_ROLES) {
        return graph_error(
            &shared,
            StatusCode::FORBIDDEN,
            "accessDenied",
            "Request Authorization failed: the caller holds no role that may reset this user's password.",
        );
    }
    if method != PASSWORD_METHOD_ID {
        return not_found(&shared, &method);
    }
    let Some(user) = find_user(&shared, &key) else { return not_found(&shared, &key) };
    if user.upn.eq_ignore_ascii_case(&caller.user.upn.clone()) {
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "badRequest",
            "An administrator cannot reset their own password with this action.",
        );
    }
    let Some(password) = body.as_ref().and_then(|b| b.get("newPassword")).and_then(Value::as_str).map(str::to_string)
    else {
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "badRequest",
            "newPassword is required for a user whose password is managed on premises.",
        );
    };
    let now = shared.now();
    let op_id = uuid::Uuid::new_v4().to_string();
    shared.state().operations.insert(
        op_id.clone(),
        Operation { user_id: user.id.clone(), created: now, last_action: now, status: "notStarted", detail: None },
    );
    let task_shared = shared.clone();
    let task_op = op_id.clone();
    let by = caller.user.clone();
    tokio::spawn(async move { perform(task_shared, task_op, user, Secret::new(password), by).await });
    let location = format!("{}/v1.0/users/{key}/authentication/operations/{op_id}", shared.url);
    let resp = (StatusCode::ACCEPTED, [("Location", location)]).into_response();
    with_header(resp, "Retry-After", "1")
}

fn finish(shared: &Shared, op: &str, ok: bool, detail: Option<String>) {
    let now = shared.now();
    let mut st = shared.state();
    if let Some(o) = st.operations.get_mut(op) {
        o.status = if ok { "succeeded" } else { "failed" };
        o.detail = detail;
        o.last_action = now;
    }
}

/// What the sync engine does with a reset: the checks a Connect server makes, then the write on
/// the DC as the connector, each outcome logged as PasswordResetService logs it.
async fn perform(shared: Arc<Shared>, op: String, user: SyncedUser, password: Secret, by: super::User) {
    {
        let now = shared.now();
        let mut st = shared.state();
        if let Some(o) = st.operations.get_mut(&op) {
            o.status = "running";
            o.last_action = now;
        }
    }
    let (writeback, staging, connector) = {
        let st = shared.state();
        if st.faults.reset_operations_hang {
            return;
        }
        let connector =
            st.sync_engine.ad_connectors.iter().find(|c| c.forest.eq_ignore_ascii_case(&user.forest)).cloned();
        (st.sync_engine_writeback, st.sync_engine.staging_mode, connector)
    };
    let target = Some((user.id.as_str(), user.upn.as_str()));
    if !writeback || staging {
        super::audit(&shared, "Reset password (by admin)", "UserManagement", &by, target, false, &[]);
    }
    if !writeback {
        return finish(
            &shared,
            &op,
            false,
            Some("Password writeback is not enabled for this tenant's on-premises directory.".into()),
        );
    }
    if staging {
        // A server in staging mode does not run the writeback service: nothing reaches it.
        return finish(
            &shared,
            &op,
            false,
            Some("No on-premises writeback service answered: the sync server is in staging mode.".into()),
        );
    }
    event(
        &shared,
        31009,
        "PasswordResetService",
        "Information",
        format!("ResetUserPasswordByAdminStart: {}", user.upn),
    );
    let outcome = match connector {
        None => Err((33002, format!("ADUserNotFoundError: no AD connector serves {}", user.forest))),
        Some(c) => write(&c, &user, &password).await,
    };
    match outcome {
        Ok(()) => {
            event(
                &shared,
                31010,
                "PasswordResetService",
                "Information",
                format!("ResetUserPasswordByAdminSuccess: {}", user.upn),
            );
            // Which writeback agent set the password on premises (howto-sspr-reporting).
            let agent = if connector_flavour_is_cloudsync(&shared) { "CloudSync" } else { "Microsoft Entra Connect" };
            let target = Some((user.id.as_str(), user.upn.as_str()));
            super::audit(
                &shared,
                "Reset password (by admin)",
                "UserManagement",
                &by,
                target,
                true,
                &[("OnPremisesAgent", agent)],
            );
            let now = shared.now();
            if let Some(u) = shared.state().synced.get_mut(&user.id) {
                u.last_password_change = Some(now);
                u.force_change_next_sign_in = true;
            }
            finish(&shared, &op, true, None);
        }
        Err((id, words)) => {
            event(&shared, id, "PasswordResetService", "Error", format!("{words} (user {}, {})", user.upn, user.dn));
            event(
                &shared,
                31011,
                "PasswordResetService",
                "Error",
                format!("ResetUserPasswordByAdminFail: {}", user.upn),
            );
            let target = Some((user.id.as_str(), user.upn.as_str()));
            super::audit(&shared, "Reset password (by admin)", "UserManagement", &by, target, false, &[]);
            finish(
                &shared,
                &op,
                false,
                Some(format!("The password could not be written back to the on-premises directory (event {id}).")),
            );
        }
    }
}

fn connector_flavour_is_cloudsync(shared: &Shared) -> bool {
    shared.state().sync_engine.flavour == "cloudsync"
}

/// The write itself, and the event id its refusal is logged under.
async fn write(c: &LabAdConnector, user: &SyncedUser, password: &Secret) -> Result<(), (u32, String)> {
    let mut conn = as_connector(c).await.map_err(|e| (33009, format!("ADConfigurationError: {e}")))?;
    let offered = conn
        .root_dse()
        .await
        .ok()
        .and_then(|r| r.get("supportedControl").cloned())
        .unwrap_or_default()
        .iter()
        .any(|o| writeback_ad::directory::POLICY_HINTS_OIDS.contains(&o.as_str()));
    let controls = if offered { vec![writeback_ad::policy_hints_control()] } else { Vec::new() };
    let result = conn
        .modify(
            &user.dn,
            vec![ldap3::Mod::Replace(b"unicodePwd".to_vec(), [writeback_ad::unicode_pwd(password)].into())],
            controls,
        )
        .await;
    match result {
        Ok(()) => Ok(()),
        Err(AdError::Ldap { rc, text, .. }) => Err(match rc {
            50 => (33004, format!("ADPermissionsError: {text}")),
            32 => (33002, format!("ADUserNotFoundError: {text}")),
            19 | 53 if text.contains("0000052D") => (33008, format!("ADPasswordPolicyError: {text}")),
            _ => (33001, format!("ADUnKnownError: LDAP {rc}: {text}")),
        }),
        Err(e) => Err((33001, format!("ADUnKnownError: {e}"))),
    }
}

/// `GET /v1.0/users/{id}/authentication/operations/{id}`.
pub(crate) async fn get_operation(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((key, op)): Path<(String, String)>,
) -> Response {
    if let Err(r) =
        authorize(&shared, &headers, &["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"])
    {
        return r;
    }
    let Some(o) = shared.state().operations.get(&op).cloned() else { return not_found(&shared, &op) };
    let Some(user) = find_user(&shared, &key).filter(|u| u.id == o.user_id) else { return not_found(&shared, &key) };
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/authentication/operations/$entity", shared.url, user.id),
        "id": op,
        "createdDateTime": rfc3339(o.created),
        "lastActionDateTime": rfc3339(o.last_action),
        "status": o.status,
        "statusDetail": o.detail,
    });
    if o.status == "succeeded" {
        body["resourceLocation"] =
            json!(format!("{}/v1.0/users/{}/authentication/passwordMethods/{PASSWORD_METHOD_ID}", shared.url, user.id));
    }
    Json(body).into_response()
}

/// `GET /lab/sync-engine/events`: the lab sync server's writeback events, oldest first, as
/// `Get-WinEvent … | Select-Object Id, ProviderName, TimeCreated, LevelDisplayName, Message |
/// ConvertTo-Json` prints them.
pub(crate) async fn events(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(r) = sync_admin(&shared, &headers) {
        return r;
    }
    let list = shared.state().events.clone();
    Json(json!(list)).into_response()
}
