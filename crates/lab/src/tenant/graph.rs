//! Microsoft Graph v1.0 (the reads the product uses) and the lab sync engine, with Graph's error
//! bodies, scope checks, paging and injected faults.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::fixture::ROLES;
use super::{Shared, User, with_header};
use crate::clock::{rfc3339, unix_secs};

const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/memberOf", get(member_of))
        .route("/v1.0/me/memberOf/microsoft.graph.directoryRole", get(member_of_roles))
        .route("/v1.0/roleManagement/directory/roleAssignments", get(role_assignments))
        .route("/v1.0/organization", get(organization))
        .route("/v1.0/domains", get(domains))
        .route("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances", get(role_eligibility_instances))
        .route(
            "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances/filterByCurrentUser(on='principal')",
            get(own_role_eligibility_instances),
        )
        .route("/v1.0/subscribedSkus", get(subscribed_skus))
        .route("/v1.0/directory/onPremisesSynchronization", get(on_prem_sync_list))
        .route("/v1.0/directory/onPremisesSynchronization/{id}", get(on_prem_sync_get).patch(on_prem_sync_patch))
}

/// A Graph error: `{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}`,
/// with the request id also in the `request-id` header.
pub(crate) fn graph_error(shared: &Shared, status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let date = rfc3339(shared.now()).trim_end_matches('Z').to_string();
    let body = json!({ "error": { "code": code, "message": message, "innerError": {
        "date": date, "request-id": request_id, "client-request-id": request_id
    }}});
    let resp = (status, Json(body)).into_response();
    let resp = with_header(resp, "request-id", &request_id);
    with_header(resp, "client-request-id", &request_id)
}

fn ok(value: Value) -> Response {
    with_header(Json(value).into_response(), "request-id", &uuid::Uuid::new_v4().to_string())
}

/// Faults and latency, applied before every Graph request.
pub(crate) async fn faults(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (latency, fault) = {
        let mut st = shared.state();
        st.graph_requests += 1;
        let f = st.faults.clone();
        let fault = if st.throttled < f.throttle_first {
            st.throttled += 1;
            Some((
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests. Retry after the interval the Retry-After header gives.",
                f.retry_after_secs,
            ))
        } else if st.unavailable < f.unavailable_first {
            st.unavailable += 1;
            Some((
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Retry after the interval the Retry-After header gives.",
                f.retry_after_secs,
            ))
        } else {
            None
        };
        (f.latency_ms, fault)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some((status, code, message, retry_after)) = fault {
        let resp = graph_error(&shared, status, code, message);
        return with_header(resp, "Retry-After", &retry_after.to_string());
    }
    next.run(req).await
}

/// The signed-in caller of a Graph request.
pub(crate) struct Caller {
    pub(crate) user: User,
    scopes: Vec<String>,
}

impl Caller {
    fn has_any(&self, scopes: &[&str]) -> bool {
        self.scopes.iter().any(|s| scopes.iter().any(|w| w.eq_ignore_ascii_case(s)))
    }
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    let unauthorized =
        |message: &str| graph_error(shared, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
    let header = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).unwrap_or("").trim();
    if token.is_empty() {
        return Err(unauthorized("Access token is empty."));
    }
    let claims = shared
        .keys
        .verify_access(token)
        .map_err(|e| unauthorized(&format!("Access token validation failure. Invalid audience or signature: {e}")))?;
    if unix_secs(shared.now()) >= claims.exp {
        return Err(unauthorized("Lifetime validation failed, the token is expired."));
    }
    if claims.tid != shared.tenant.id {
        return Err(unauthorized("Access token validation failure. The token was issued for another tenant."));
    }
    let user = shared
        .tenant
        .user_by_id(&claims.oid)
        .cloned()
        .ok_or_else(|| unauthorized("The user of the token does not exist."))?;
    Ok(Caller { user, scopes: claims.scp.split_whitespace().map(String::from).collect() })
}

/// [`authenticate`], then [`require`] one of `scopes`: what every Graph handler starts with.
pub(crate) fn authorize(shared: &Shared, headers: &HeaderMap, scopes: &[&str]) -> Result<Caller, Response> {
    let caller = authenticate(shared, headers)?;
    require(shared, &caller, scopes)?;
    Ok(caller)
}

pub(crate) fn require(shared: &Shared, caller: &Caller, scopes: &[&str]) -> Result<(), Response> {
    if caller.has_any(scopes) {
        Ok(())
    } else {
        Err(graph_error(
            shared,
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
    }
}

/// Pages a collection: `$top` (bounded by the fixture's page size) and `$skiptoken`.
fn collection(
    shared: &Shared,
    context: &str,
    items: Vec<Value>,
    uri: &Uri,
    q: &HashMap<String, String>,
    count: bool,
) -> Response {
    let page = q
        .get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(shared.tenant.page_size)
        .clamp(1, shared.tenant.page_size);
    let skip = q
        .get("$skiptoken")
        .and_then(|t| t.strip_prefix("X'").and_then(|t| t.strip_suffix('\'')).and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip(skip).take(page).collect();
    let mut body = json!({ "@odata.context": format!("{CONTEXT}#{context}") });
    if count {
        body["@odata.count"] = json!(total);
    }
    if skip + page < total {
        let mut params: Vec<String> =
            q.iter().filter(|(k, _)| *k != "$skiptoken").map(|(k, v)| format!("{k}={}", url_escape(v))).collect();
        params.sort();
        params.push(format!("$skiptoken=X'{}'", skip + page));
        body["@odata.nextLink"] = json!(format!("{}{}?{}", shared.url, uri.path(), params.join("&")));
    }
    body["value"] = Value::Array(slice);
    ok(body)
}

fn url_escape(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Graph's default properties of a user (what `/me` returns without `$select`).
const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

fn user_json(u: &User) -> Value {
    let (given, surname) = match u.display_name.split_once(' ') {
        Some((g, s)) => (json!(g), json!(s)),
        None => (Value::Null, Value::Null),
    };
    json!({
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": given,
        "jobTitle": null,
        "mail": u.upn,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": surname,
        "userPrincipalName": u.upn,
        "id": u.id,
        "accountEnabled": u.account_enabled,
        "userType": "Member",
        "onPremisesSyncEnabled": if u.on_premises_sync_enabled { json!(true) } else { Value::Null },
        "onPremisesImmutableId": null,
        "onPremisesSamAccountName": null,
        "onPremisesDomainName": null,
        "onPremisesLastSyncDateTime": null,
    })
}

/// Applies `$select` (or the default properties) to a full user object.
fn select_user(full: &Value, select: Option<&String>) -> Result<Value, String> {
    let wanted: Vec<&str> = match select {
        Some(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
        None => USER_DEFAULT.to_vec(),
    };
    let mut out = serde_json::Map::new();
    for name in wanted {
        let value = full
            .get(name)
            .ok_or_else(|| format!("Could not find a property named '{name}' on type 'microsoft.graph.user'."))?;
        out.insert(name.to_string(), value.clone());
    }
    Ok(Value::Object(out))
}

async fn me(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(
        &shared,
        &headers,
        &["User.Read", "User.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut body = match select_user(&user_json(&caller.user), q.get("$select")) {
        Ok(b) => b,
        Err(message) => return graph_error(&shared, StatusCode::BAD_REQUEST, "BadRequest", &message),
    };
    body["@odata.context"] = json!(format!("{CONTEXT}#users/$entity"));
    ok(body)
}

fn role_json(shared: &Shared, template: &str) -> Option<Value> {
    let object_id = shared.tenant.role_objects.get(template)?;
    let (name, _, description) = ROLES.iter().find(|(_, id, _)| *id == template)?;
    Some(json!({
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": object_id,
        "deletedDateTime": null,
        "description": description,
        "displayName": name,
        "roleTemplateId": template,
    }))
}

fn memberships(shared: &Shared, user: &User, roles_only: bool) -> Vec<Value> {
    let mut items: Vec<Value> = user.roles.iter().filter_map(|r| role_json(shared, r)).collect();
    if !roles_only {
        for g in shared.tenant.groups.iter().filter(|g| user.groups.contains(&g.id)) {
            items.push(json!({
                "@odata.type": "#microsoft.graph.group",
                "id": g.id,
                "deletedDateTime": null,
                "displayName": g.display_name,
                "description": null,
                "groupTypes": [],
                "isAssignableToRole": g.is_assignable_to_role,
                "mailEnabled": false,
                "securityEnabled": true,
                "mailNickname": g.display_name.replace(' ', ""),
                "visibility": null,
            }));
        }
    }
    items
}

const MEMBER_OF_SCOPES: &[&str] =
    &["User.Read", "Directory.Read.All", "Directory.ReadWrite.All", "GroupMember.Read.All"];

async fn member_of(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(&shared, &headers, MEMBER_OF_SCOPES) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let items = memberships(&shared, &caller.user, false);
    collection(&shared, "directoryObjects", items, &uri, &q, false)
}

/// The OData cast is an advanced query: Graph wants `ConsistencyLevel: eventual` and `$count=true`.
async fn member_of_roles(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(&shared, &headers, MEMBER_OF_SCOPES) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let counted = q.get("$count").is_some_and(|c| c == "true");
    if !eventual || !counted {
        return graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            "The specified OData cast is an advanced query: send the header 'ConsistencyLevel: eventual' and the query parameter '$count=true'.",
        );
    }
    let items = memberships(&shared, &caller.user, true);
    collection(&shared, "directoryRoles", items, &uri, &q, true)
}

/// `$filter=principalId eq '…'` (or roleDefinitionId) only, as the product uses it.
fn parse_filter(filter: &str) -> Option<(&str, String)> {
    let (field, rest) = filter.trim().split_once(" eq ")?;
    let value = rest.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    matches!(field.trim(), "principalId" | "roleDefinitionId").then(|| (field.trim(), value.to_string()))
}

async fn role_assignments(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authenticate(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let scopes = [
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "Directory.Read.All",
        "RoleManagement.ReadWrite.Directory",
        "Directory.ReadWrite.All",
    ];
    if let Err(r) = require(&shared, &caller, &scopes) {
        return r;
    }
    let filter = match q.get("$filter") {
        None => None,
        Some(f) => match parse_filter(f) {
            Some(parsed) => Some(parsed),
            None => {
                return graph_error(
                    &shared,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!(
                        "Invalid filter clause: '{f}'. Supported: principalId eq '<id>' or roleDefinitionId eq '<id>'."
                    ),
                );
            }
        },
    };
    let mut all = Vec::new();
    let principals = shared
        .tenant
        .users
        .iter()
        .map(|u| (&u.id, &u.roles))
        .chain(shared.tenant.groups.iter().map(|g| (&g.id, &g.roles)));
    for (principal, roles) in principals {
        for role in roles {
            all.push(json!({
                "id": format!("{}-{}", &role[..8.min(role.len())], principal),
                "principalId": principal,
                "roleDefinitionId": role,
                "directoryScopeId": "/",
            }));
        }
    }
    let items: Vec<Value> = all
        .into_iter()
        .filter(|a| filter.as_ref().is_none_or(|(field, value)| a[*field].as_str() == Some(value.as_str())))
        .collect();
    collection(&shared, "roleManagement/directory/roleAssignments", items, &uri, &q, false)
}

/// `GET /domains`: each verified domain, Managed or Federated.
async fn domains(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let scopes = ["Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
    if let Err(r) = authorize(&shared, &headers, &scopes) {
        return r;
    }
    let t = &shared.tenant;
    let items = t
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let federated = t.federated_domains.contains(d);
            json!({
                "id": d,
                "authenticationType": if federated { "Federated" } else { "Managed" },
                "availabilityStatus": null,
                "isAdminManaged": true,
                "isDefault": *d == t.default_domain,
                "isInitial": i == 0,
                "isRoot": true,
                "isVerified": true,
                "passwordNotificationWindowInDays": null,
                "passwordValidityPeriodInDays": null,
                "state": null,
                "supportedServices": if i == 0 { json!(["Email", "OfficeCommunicationsOnline"]) } else { json!(["Email", "OfficeCommunicationsOnline", "OrgIdAuthentication"]) },
            })
        })
        .collect();
    collection(&shared, "domains", items, &uri, &q, false)
}

/// The active roles that may read PIM's schedules for Microsoft Entra roles in a delegated call
/// (Microsoft's rbac-pim-entra-roles-apis: Global Reader, Security Operator, Security Reader,
/// Security Administrator, Privileged Role Administrator; Global Administrator holds them all).
const PIM_READERS: &[&str] = &[
    super::fixture::GLOBAL_ADMINISTRATOR,
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
    "5d6b6bb7-de71-4623-b4af-96380a352509",
    "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "e8611ab8-c189-46e8-94e1-60213ab1f814",
];

/// The permissions that read role eligibilities (either list).
const ELIGIBILITY_SCOPES: &[&str] = &[
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
];

/// `GET /roleManagement/directory/roleEligibilityScheduleInstances/filterByCurrentUser(on='principal')`:
/// the caller's own eligibilities. The reference (tests/fixtures/graph-v1-subset.yaml) gives its
/// permissions and no role statement; whether Entra asks a reader role of the caller is not
/// settled by Microsoft's pages, so the simulator asks none (docs/entra.md says so).
async fn own_role_eligibility_instances(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(&shared, &headers, ELIGIBILITY_SCOPES) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let items = eligibility_items(&shared, Some(&caller.user.id));
    collection(&shared, "Collection(unifiedRoleEligibilityScheduleInstance)", items, &uri, &q, false)
}

fn eligibility_items(shared: &Shared, principal: Option<&String>) -> Vec<Value> {
    let start = rfc3339(shared.tenant.created);
    shared
        .tenant
        .users
        .iter()
        .filter(|u| principal.is_none_or(|id| *id == u.id))
        .flat_map(|u| {
            u.eligible_roles.iter().map(|role| {
                let id = format!("{}-{}", &role[..8.min(role.len())], u.id);
                json!({
                    "id": id,
                    "principalId": u.id,
                    "roleDefinitionId": role,
                    "directoryScopeId": "/",
                    "appScopeId": null,
                    "startDateTime": start,
                    "endDateTime": null,
                    "memberType": "Direct",
                    "roleEligibilityScheduleId": id,
                })
            })
        })
        .collect()
}

/// `GET /roleManagement/directory/roleEligibilityScheduleInstances`, `$filter=principalId eq '…'`.
async fn role_eligibility_instances(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(&shared, &headers, ELIGIBILITY_SCOPES) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !caller.user.roles.iter().any(|r| PIM_READERS.contains(&r.as_str())) {
        return graph_error(
            &shared,
            StatusCode::FORBIDDEN,
            "UnauthorizedAccessException",
            "The current user does not have the required role to read role eligibility schedules.",
        );
    }
    let filter = match q.get("$filter").map(|f| (f, parse_filter(f))) {
        None => None,
        Some((_, Some(("principalId", id)))) => Some(id),
        Some((f, _)) => {
            return graph_error(
                &shared,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Invalid filter clause: '{f}'. This simulator supports principalId eq '<id>'."),
            );
        }
    };
    let items = eligibility_items(&shared, filter.as_ref());
    collection(&shared, "roleManagement/directory/roleEligibilityScheduleInstances", items, &uri, &q, false)
}

async fn organization(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authorize(
        &shared,
        &headers,
        &["User.Read", "Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = &shared.tenant;
    let domains: Vec<Value> = t
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let kind = if t.federated_domains.contains(d) { "Federated" } else { "Managed" };
            json!({ "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": *d == t.default_domain, "isInitial": i == 0, "name": d, "type": kind })
        })
        .collect();
    let mut org = json!({ "id": t.id, "displayName": t.display_name, "verifiedDomains": domains });
    // With User.Read alone, Graph fills only id, displayName and verifiedDomains.
    if caller.has_any(&["Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"]) {
        let st = shared.state();
        let extra = json!({
            "deletedDateTime": null,
            "assignedPlans": [],
            "businessPhones": ["+1 555 0100"],
            "city": "Springfield",
            "country": null,
            "countryLetterCode": "US",
            "createdDateTime": rfc3339(t.created),
            "defaultUsageLocation": null,
            "marketingNotificationEmails": [],
            "mobileDeviceManagementAuthority": "unknown",
            "onPremisesLastSyncDateTime": st.last_sync.map(rfc3339),
            "onPremisesSyncEnabled": st.on_prem_sync_enabled,
            "partnerTenantType": null,
            "postalCode": "00000",
            "preferredLanguage": "en",
            "privacyProfile": null,
            "provisionedPlans": [],
            "securityComplianceNotificationMails": [],
            "securityComplianceNotificationPhones": [],
            "state": null,
            "street": "1 Lab Way",
            "technicalNotificationMails": [format!("admin@{}", t.default_domain)],
            "tenantType": "AAD",
        });
        if let (Some(o), Some(e)) = (org.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
    }
    collection(&shared, "organization", vec![org], &uri, &q, false)
}

async fn subscribed_skus(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = authorize(
        &shared,
        &headers,
        &["Organization.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "Organization.ReadWrite.All"],
    ) {
        return r;
    }
    collection(&shared, "subscribedSkus", shared.tenant.skus.clone(), &uri, &q, false)
}

/// The `onPremisesDirectorySynchronization` object of a tenant with Entra Connect defaults.
pub(crate) fn default_on_prem_sync(tenant_id: &str) -> Value {
    json!({
        "id": tenant_id,
        "configuration": { "accidentalDeletionPrevention": { "synchronizationPreventionType": "enabledForCount", "alertThreshold": 500 } },
        "features": {
            "allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled": false,
            "blockCloudObjectTakeoverThroughHardMatchEnabled": false,
            "blockSoftMatchEnabled": false,
            "bypassDirSyncOverridesEnabled": false,
            "cloudPasswordPolicyForPasswordSyncedUsersEnabled": false,
            "concurrentCredentialUpdateEnabled": false,
            "concurrentOrgIdProvisioningEnabled": true,
            "deviceWritebackEnabled": false,
            "directoryExtensionsEnabled": false,
            "fopeConflictResolutionEnabled": false,
            "groupWriteBackEnabled": false,
            "passwordSyncEnabled": true,
            "passwordWritebackEnabled": false,
            "quarantineUponProxyAddressesConflictEnabled": true,
            "quarantineUponUpnConflictEnabled": true,
            "softMatchOnUpnEnabled": true,
            "synchronizeUpnForManagedUsersEnabled": true,
            "unifiedGroupWritebackEnabled": false,
            "userForcePasswordChangeOnLogonEnabled": false,
            "userWritebackEnabled": false
        }
    })
}

/// Global Administrator only, the right scope, and only where the fixture's cloud has it.
fn on_prem_sync_access(shared: &Shared, headers: &HeaderMap, scopes: &[&str]) -> Result<Caller, Response> {
    let caller = authenticate(shared, headers)?;
    if !shared.tenant.on_prem_sync_available {
        return Err(graph_error(
            shared,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            "Resource 'onPremisesSynchronization' does not exist in this cloud.",
        ));
    }
    require(shared, &caller, scopes)?;
    if !caller.user.is_global_admin() {
        return Err(graph_error(
            shared,
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation: only a Global Administrator may read or change on-premises synchronization settings.",
        ));
    }
    Ok(caller)
}

const SYNC_READ: &[&str] = &["OnPremDirectorySynchronization.Read.All", "OnPremDirectorySynchronization.ReadWrite.All"];

async fn on_prem_sync_list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = on_prem_sync_access(&shared, &headers, SYNC_READ) {
        return r;
    }
    let item = shared.state().on_prem_sync_object.clone();
    collection(&shared, "directory/onPremisesSynchronization", vec![item], &uri, &q, false)
}

async fn on_prem_sync_get(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = on_prem_sync_access(&shared, &headers, SYNC_READ) {
        return r;
    }
    if id != shared.tenant.id {
        return graph_error(
            &shared,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    }
    let mut item = shared.state().on_prem_sync_object.clone();
    item["@odata.context"] = json!(format!("{CONTEXT}#directory/onPremisesSynchronization/$entity"));
    ok(item)
}

/// PATCH stores known properties and switches nothing: Microsoft documents
/// `features.passwordWritebackEnabled` as not in use.
async fn on_prem_sync_patch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = on_prem_sync_access(&shared, &headers, &["OnPremDirectorySynchronization.ReadWrite.All"]) {
        return r;
    }
    if id != shared.tenant.id {
        return graph_error(
            &shared,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        );
    }
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return graph_error(
                &shared,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Unable to read JSON request payload: {e}"),
            );
        }
    };
    let mut st = shared.state();
    let mut updated = st.on_prem_sync_object.clone();
    if let Err(message) = merge_known(&mut updated, &patch, "") {
        drop(st);
        return graph_error(&shared, StatusCode::BAD_REQUEST, "BadRequest", &message);
    }
    st.on_prem_sync_object = updated;
    with_header(StatusCode::NO_CONTENT.into_response(), "request-id", &uuid::Uuid::new_v4().to_string())
}

/// Merges `patch` into `target`, refusing properties `target` does not have or of another type.
fn merge_known(target: &mut Value, patch: &Value, path: &str) -> Result<(), String> {
    let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) else {
        return Err(format!("'{path}' must be an object"));
    };
    for (k, v) in p {
        let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
        if k == "id" || k.starts_with('@') {
            continue;
        }
        let Some(existing) = t.get_mut(k) else {
            return Err(format!("Invalid property '{here}'."));
        };
        match (existing.is_object(), v.is_object()) {
            (true, true) => merge_known(existing, v, &here)?,
            (false, false) if std::mem::discriminant(existing) == std::mem::discriminant(v) => *existing = v.clone(),
            _ => return Err(format!("Property '{here}' has the wrong type.")),
        }
    }
    Ok(())
}

pub(crate) fn sync_admin(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    let caller = authenticate(shared, headers)?;
    if !caller.user.is_writeback_admin(&shared.tenant) {
        return Err(graph_error(
            shared,
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "The sync engine accepts only an active Global Administrator or Hybrid Identity Administrator.",
        ));
    }
    Ok(caller)
}

/// The account Entra Cloud Sync's agent runs as by default (Microsoft: "Group Managed Service
/// Accounts", Microsoft Entra Cloud Sync); the lab DC seeds it.
pub const LAB_AGENT_ACCOUNT: &str = crate::seed::CLOUD_SYNC_AGENT_SAM;

pub(crate) fn sync_state(shared: &Shared) -> Value {
    let st = shared.state();
    let m = &st.sync_engine;
    json!({
        "writeback_enabled": st.sync_engine_writeback,
        "last_sync_cycle": st.sync_engine_last_cycle.map(rfc3339),
        "staging_mode": m.staging_mode,
        "sync_cycle_enabled": m.sync_cycle_enabled,
        "scheduler_suspended": m.scheduler_suspended,
        "version": m.version,
        "flavour": m.flavour,
        "agent_account": (m.flavour == "cloudsync").then_some(LAB_AGENT_ACCOUNT),
        "ad_connectors": m.ad_connectors,
    })
}

/// `GET /lab/sync-engine`.
pub(crate) async fn sync_engine_get(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match sync_admin(&shared, &headers) {
        Ok(_) => ok(sync_state(&shared)),
        Err(r) => r,
    }
}

/// What `POST /lab/sync-engine` may change; what is not sent stays as it was.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncSwitch {
    writeback_enabled: Option<bool>,
    staging_mode: Option<bool>,
    sync_cycle_enabled: Option<bool>,
    scheduler_suspended: Option<bool>,
    version: Option<String>,
    flavour: Option<String>,
    /// With the cloudsync flavour, a switch carries the credential
    /// `Set-AADCloudSyncPasswordWritebackConfiguration -Credential` takes: a Global Administrator or
    /// Hybrid Identity Administrator.
    credential: Option<SwitchCredential>,
    /// The AD DS connectors the engine lists, replacing those it had.
    ad_connectors: Option<Vec<super::LabAdConnector>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwitchCredential {
    user: String,
    password: String,
}

/// Cloud Sync's switch signs in with a user name and password: the user must exist, the password
/// match, and the account be a Global or Hybrid Identity Administrator (Microsoft's tutorial asks
/// for the one to enable and the other to disable).
fn cloudsync_credential(shared: &Shared, c: Option<&SwitchCredential>) -> Result<(), Response> {
    let Some(c) = c else {
        return Err(graph_error(
            shared,
            StatusCode::BAD_REQUEST,
            "CredentialRequired",
            "Cloud Sync's writeback switch takes a Global or Hybrid Identity Administrator's user name and password.",
        ));
    };
    let known = shared.tenant.user_by_upn(&c.user).filter(|u| u.password == c.password).cloned();
    match known {
        None => Err(graph_error(
            shared,
            StatusCode::UNAUTHORIZED,
            "CredentialRefused",
            "AADSTS50126: Error validating credentials due to invalid username or password.",
        )),
        Some(u) if u.mfa_required => Err(graph_error(
            shared,
            StatusCode::UNAUTHORIZED,
            "CredentialRefused",
            "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.",
        )),
        Some(u) if !u.is_writeback_admin(&shared.tenant) => Err(graph_error(
            shared,
            StatusCode::UNAUTHORIZED,
            "CredentialRefused",
            &format!("{} is neither a Global Administrator nor a Hybrid Identity Administrator.", u.upn),
        )),
        Some(_) => Ok(()),
    }
}

/// `POST /lab/sync-engine` `{"writeback_enabled": bool}`.
pub(crate) async fn sync_engine_set(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let caller = match sync_admin(&shared, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let latency = shared.state().faults.sync_engine_latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let parsed = serde_json::from_slice::<SyncSwitch>(&body).map_err(|e| e.to_string()).and_then(|s| {
        match s.flavour.as_deref() {
            None | Some("adsync" | "cloudsync") => {}
            Some(other) => return Err(format!("flavour '{other}' is neither adsync nor cloudsync")),
        }
        if let Some(v) = &s.version
            && (v.split('.').count() != 4 || v.split('.').any(|p| p.parse::<u32>().is_err()))
        {
            return Err(format!("version '{v}' is not four dotted numbers"));
        }
        for c in s.ad_connectors.iter().flatten() {
            c.check()?;
        }
        Ok(s)
    });
    match parsed {
        Ok(s) => {
            let cloudsync = shared.state().sync_engine.flavour == "cloudsync";
            if cloudsync
                && s.writeback_enabled.is_some()
                && let Err(r) = cloudsync_credential(&shared, s.credential.as_ref())
            {
                return r;
            }
            let switched = {
                let st = shared.state();
                s.writeback_enabled.filter(|v| *v != st.sync_engine_writeback)
            };
            if let Some(on) = switched {
                let activity = if on {
                    "Enable password writeback for directory"
                } else {
                    "Disable password writeback for directory"
                };
                super::audit(&shared, activity, "DirectoryManagement", &caller.user, None, true, &[]);
            }
            {
                let mut st = shared.state();
                if let Some(v) = s.writeback_enabled {
                    st.sync_engine_writeback = v;
                }
                let m = &mut st.sync_engine;
                if let Some(v) = s.staging_mode {
                    m.staging_mode = v;
                }
                if let Some(v) = s.sync_cycle_enabled {
                    m.sync_cycle_enabled = v;
                }
                if let Some(v) = s.scheduler_suspended {
                    m.scheduler_suspended = v;
                }
                if let Some(v) = s.version {
                    m.version = v;
                }
                if let Some(v) = s.flavour {
                    m.flavour = v;
                }
                if let Some(v) = s.ad_connectors {
                    m.ad_connectors = v;
                }
            }
            ok(sync_state(&shared))
        }
        Err(e) => graph_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!(
                "Expected {{\"writeback_enabled\", \"staging_mode\", \"sync_cycle_enabled\", \"scheduler_suspended\": true|false, \"version\": \"2.5.190.0\", \"flavour\": \"adsync\"|\"cloudsync\", \"ad_connectors\": [{{\"forest\": \"corp.example\", \"account\": \"CORP\\\\MSOL_…\", \"domains\": [\"corp.example\"], \"password\", \"dc_url\", \"fingerprint\"}}]}}, each optional: {e}"
            ),
        ),
    }
}

/// `GET /lab/admin-center`: the lab's stand-in for the Entra admin center's Password reset page.
pub(crate) async fn admin_center() -> Response {
    axum::response::Html(
        "<!doctype html><title>Lab: Password reset</title><h1>Password reset (lab)</h1>\
<p>The lab has no admin center. In a real tenant this is Microsoft Entra admin center → Entra ID → \
Password reset: under Properties, self-service password reset for the users; under On-premises \
integration, \"Enable password write back for synced users\" and \"Allow users to unlock accounts \
without resetting their password\" (with Cloud Sync also \"Write back passwords with Microsoft \
Entra Cloud Sync\").</p>",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_parsed_or_refused() {
        assert_eq!(parse_filter("principalId eq 'abc'"), Some(("principalId", "abc".to_string())));
        assert_eq!(parse_filter(" roleDefinitionId eq '62e9' "), Some(("roleDefinitionId", "62e9".to_string())));
        assert_eq!(parse_filter("displayName eq 'x'"), None);
        assert_eq!(parse_filter("principalId eq abc"), None);
    }

    #[test]
    fn patch_merges_known_properties_only() {
        let mut obj = default_on_prem_sync("t");
        merge_known(&mut obj, &json!({"features": {"passwordWritebackEnabled": true}}), "").unwrap();
        assert_eq!(obj["features"]["passwordWritebackEnabled"], true);
        assert!(
            merge_known(&mut obj, &json!({"features": {"madeUp": true}}), "").unwrap_err().contains("features.madeUp")
        );
        assert!(merge_known(&mut obj, &json!({"features": {"groupWriteBackEnabled": "yes"}}), "").is_err());
    }
}
