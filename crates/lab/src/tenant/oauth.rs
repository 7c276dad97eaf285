//! Entra ID's OAuth 2.0 / OpenID Connect endpoints, per tenant, with Entra's error bodies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fixture::GRAPH_SCOPES;
use super::tokens::{AccessClaims, GRAPH_AUDIENCE, IdClaims};
use super::{AuthCode, DeviceCode, DeviceOutcome, RefreshToken, Shared, User, opaque, pages};
use crate::clock::unix_secs;

type Params = HashMap<String, String>;

/// Graph's resource (application) id, which `.default` may be written with.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// An Entra error: the OAuth error, the AADSTS code and its text.
#[derive(Debug, Clone)]
pub(crate) struct EntraError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub text: String,
}

fn err(error: &'static str, code: u32, text: impl Into<String>) -> EntraError {
    EntraError { status: StatusCode::BAD_REQUEST, error, code, text: text.into() }
}

fn missing(param: &str) -> EntraError {
    err("invalid_request", 900144, format!("The request body must contain the following parameter: '{param}'."))
}

impl EntraError {
    /// Entra's JSON error body: `error`, `error_description` (AADSTS text, trace and
    /// correlation ids, time stamp), `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
    fn into_response(self, shared: &Shared) -> Response {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let stamp = crate::clock::rfc3339(shared.now()).replace('T', " ");
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {stamp}", self.code, self.text),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("{}/error?code={}", shared.url, self.code),
        });
        (self.status, Json(body)).into_response()
    }

    /// The text shown on a sign-in page.
    fn page_text(&self) -> String {
        format!("{} (AADSTS{})", self.text, self.code)
    }
}

fn check_tenant(shared: &Shared, tenant: &str) -> Result<(), EntraError> {
    if shared.tenant.matches(tenant) {
        Ok(())
    } else {
        Err(err(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ))
    }
}

/// Checks the client id; `for_token` also requires "Allow public client flows".
fn check_client(shared: &Shared, params: &Params, for_token: bool) -> Result<String, EntraError> {
    let client_id = params.get("client_id").filter(|c| !c.is_empty()).ok_or_else(|| missing("client_id"))?.clone();
    if for_token && (params.contains_key("client_secret") || params.contains_key("client_assertion")) {
        return Err(err(
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    if shared.tenant.apps.is_empty() {
        return Ok(client_id);
    }
    match shared.tenant.apps.get(&client_id.to_ascii_lowercase()) {
        None => Err(err(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                shared.tenant.display_name
            ),
        )),
        Some(app) if for_token && !app.public_client => Err(EntraError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            code: 7000218,
            text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
                .into(),
        }),
        Some(_) => Ok(client_id),
    }
}

/// Requested scopes: Graph permissions (short names) and OpenID Connect scopes.
#[derive(Debug, Clone, Default)]
struct Requested {
    graph: Vec<String>,
    default: bool,
    oidc: Vec<String>,
}

fn parse_scopes(scope: &str) -> Result<Requested, EntraError> {
    let mut r = Requested::default();
    for item in scope.split_whitespace() {
        if let Some(o) = OIDC_SCOPES.iter().find(|o| o.eq_ignore_ascii_case(item)) {
            r.oidc.push((*o).to_string());
            continue;
        }
        let name = item
            .strip_prefix("https://graph.microsoft.com/")
            .or_else(|| item.strip_prefix(&format!("{GRAPH_APP_ID}/")))
            .unwrap_or(item);
        if name == ".default" {
            r.default = true;
        } else if name.contains('/') || name.contains(':') {
            return Err(err(
                "invalid_scope",
                70011,
                format!(
                    "The provided value for the input parameter 'scope' isn't valid. The scope {item} isn't valid."
                ),
            ));
        } else if let Some(known) = GRAPH_SCOPES.iter().find(|s| s.eq_ignore_ascii_case(name)) {
            r.graph.push((*known).to_string());
        } else {
            return Err(err(
                "invalid_scope",
                650053,
                format!(
                    "The application asked for scope '{name}' that doesn't exist on the resource '{GRAPH_APP_ID}'."
                ),
            ));
        }
    }
    if r.default && !r.graph.is_empty() {
        return Err(err(
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' isn't valid. '.default' cannot be combined with resource-specific scopes.",
        ));
    }
    Ok(r)
}

fn consented(shared: &Shared, client_id: &str) -> Vec<String> {
    let mut scopes: Vec<String> = match shared.tenant.apps.get(&client_id.to_ascii_lowercase()) {
        Some(app) => app.consented_scopes.clone(),
        None => GRAPH_SCOPES.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(extra) = shared.state().consents.get(client_id) {
        scopes.extend(extra.iter().cloned());
    }
    scopes.sort();
    scopes.dedup();
    scopes
}

/// The Graph permissions a token will carry, or AADSTS65001 when consent is missing. An
/// interactive sign-in by a Global Administrator grants the missing consent for the tenant.
fn grant_scopes(
    shared: &Shared,
    client_id: &str,
    req: &Requested,
    interactive_admin: bool,
) -> Result<Vec<String>, EntraError> {
    let have = consented(shared, client_id);
    let wanted: Vec<String> = if req.default {
        have.clone()
    } else if req.graph.is_empty() {
        vec!["User.Read".to_string()]
    } else {
        req.graph.clone()
    };
    let lacking: Vec<String> = wanted.iter().filter(|s| !have.contains(s)).cloned().collect();
    // As Entra does, the token carries every delegated Graph permission consented for the app,
    // not only those asked for: an administrator's later consent reaches the next token.
    let all = |mut have: Vec<String>, wanted: Vec<String>| {
        have.extend(wanted);
        have.sort();
        have.dedup();
        have
    };
    if lacking.is_empty() && !wanted.is_empty() {
        return Ok(all(have, wanted));
    }
    if interactive_admin && !lacking.is_empty() {
        shared.state().consents.entry(client_id.to_string()).or_default().extend(lacking);
        return Ok(all(have, wanted));
    }
    Err(err(
        "invalid_grant",
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource. Missing: {}.",
            if lacking.is_empty() { "any Graph permission".to_string() } else { lacking.join(", ") }
        ),
    ))
}

fn authenticate<'a>(shared: &'a Shared, username: &str, password: &str) -> Result<&'a User, EntraError> {
    let user = shared.tenant.user_by_upn(username).ok_or_else(|| {
        err(
            "invalid_grant",
            50034,
            format!("The user account {{EUII Hidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.", shared.tenant.id),
        )
    })?;
    if !user.account_enabled {
        return Err(err("invalid_grant", 50057, "The user account is disabled."));
    }
    if user.password != password {
        return Err(err("invalid_grant", 50126, "Error validating credentials due to invalid username or password."));
    }
    Ok(user)
}

fn issue(
    shared: &Shared,
    user: &User,
    client_id: &str,
    graph: &[String],
    oidc: &[String],
) -> Result<Value, EntraError> {
    let now = shared.now();
    let lifetime = shared.state().faults.token_lifetime_secs;
    let iat = unix_secs(now);
    let internal = |e: super::TenantError| EntraError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "server_error",
        code: 90033,
        text: e.to_string(),
    };
    let access = AccessClaims {
        aud: GRAPH_AUDIENCE.into(),
        iss: format!("{}/{}/", shared.url, shared.tenant.id),
        iat,
        nbf: iat,
        exp: iat + lifetime,
        appid: client_id.into(),
        name: user.display_name.clone(),
        oid: user.id.clone(),
        scp: graph.join(" "),
        tid: shared.tenant.id.clone(),
        upn: user.upn.clone(),
        uti: opaque(16),
        ver: "1.0".into(),
    };
    let access_token = shared.keys.sign(&access).map_err(internal)?;
    let mut scope_words: Vec<String> = graph.iter().map(|s| format!("{GRAPH_AUDIENCE}/{s}")).collect();
    scope_words.extend(oidc.iter().filter(|o| *o != "offline_access").cloned());
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope_words.join(" "),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    });
    if oidc.iter().any(|o| o == "offline_access") {
        let rt = opaque(48);
        let mut scopes = graph.to_vec();
        scopes.extend(oidc.iter().cloned());
        shared.state().refresh_tokens.insert(
            rt.clone(),
            RefreshToken { user_id: user.id.clone(), client_id: client_id.into(), scopes, revoked: false },
        );
        body["refresh_token"] = Value::String(rt);
    }
    if oidc.iter().any(|o| o == "openid") {
        let id = IdClaims {
            aud: client_id.into(),
            iss: format!("{}/{}/v2.0", shared.url, shared.tenant.id),
            iat,
            nbf: iat,
            exp: iat + 3600,
            name: user.display_name.clone(),
            oid: user.id.clone(),
            preferred_username: user.upn.clone(),
            sub: user.id.clone(),
            tid: shared.tenant.id.clone(),
            ver: "2.0".into(),
        };
        body["id_token"] = Value::String(shared.keys.sign(&id).map_err(internal)?);
    }
    Ok(body)
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`, with Entra's v2.0 fields, the
/// device authorization endpoint included (moved by the `device_endpoint_moved` fault, so a test
/// sees that clients take it from here).
pub async fn openid_configuration(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>) -> Response {
    if let Err(e) = check_tenant(&shared, &tenant) {
        return e.into_response(&shared);
    }
    let base = format!("{}/{}", shared.url, shared.tenant.id);
    Json(json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/v2.0"),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": if shared.state().faults.device_endpoint_moved {
            format!("{base}/oauth2/v2.0/devicecode-moved")
        } else {
            format!("{base}/oauth2/v2.0/devicecode")
        },
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username", "name", "tid", "ver", "oid"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "writeback-wizard.lab",
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn keys(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>) -> Response {
    if let Err(e) = check_tenant(&shared, &tenant) {
        return e.into_response(&shared);
    }
    Json(shared.keys.jwks(&format!("{}/{}/v2.0", shared.url, shared.tenant.id))).into_response()
}

/// Whether a redirect URI is a loopback one (any port), as public native clients use.
fn loopback_redirect(uri: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(uri).ok()?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1") | Some("localhost") | Some("[::1]"));
    (url.scheme() == "http" && loopback).then_some(url)
}

/// What the authorization request carries, checked.
struct AuthRequest {
    client_id: String,
    redirect: reqwest::Url,
    scope: String,
    state: Option<String>,
    challenge: String,
    requested: Requested,
}

/// Either a page (the redirect URI cannot be trusted) or an error to send back to the client.
enum AuthReject {
    Page(EntraError),
    Redirect(reqwest::Url, EntraError, Option<String>),
}

fn check_authorize(shared: &Shared, tenant: &str, p: &Params) -> Result<AuthRequest, AuthReject> {
    check_tenant(shared, tenant).map_err(AuthReject::Page)?;
    let client_id = check_client(shared, p, false).map_err(AuthReject::Page)?;
    let redirect_raw = p.get("redirect_uri").ok_or_else(|| AuthReject::Page(missing("redirect_uri")))?;
    let redirect = loopback_redirect(redirect_raw).ok_or_else(|| {
        AuthReject::Page(err(
            "invalid_request",
            50011,
            format!("The redirect URI '{redirect_raw}' specified in the request does not match the redirect URIs configured for the application '{client_id}' (public clients use http://localhost or http://127.0.0.1 on any port)."),
        ))
    })?;
    let state = p.get("state").cloned();
    let reject = |e: EntraError| AuthReject::Redirect(redirect.clone(), e, state.clone());
    if p.get("response_type").map(String::as_str) != Some("code") {
        return Err(reject(err(
            "unsupported_response_type",
            900144,
            "The provided value for the input parameter 'response_type' isn't allowed for this request: only 'code' is.",
        )));
    }
    let scope = p.get("scope").cloned().unwrap_or_default();
    let requested = parse_scopes(&scope).map_err(&reject)?;
    let challenge = p.get("code_challenge").filter(|c| !c.is_empty()).cloned();
    let method = p.get("code_challenge_method").map(String::as_str).unwrap_or("plain");
    let challenge = match challenge {
        Some(c) if method == "S256" => c,
        Some(_) => {
            return Err(reject(err(
                "invalid_request",
                50148,
                "The code_challenge_method must be 'S256'; 'plain' is not accepted.",
            )));
        }
        None => {
            return Err(reject(err(
                "invalid_request",
                50148,
                "Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256.",
            )));
        }
    };
    Ok(AuthRequest { client_id, redirect, scope, state, challenge, requested })
}

fn redirect_with(mut url: reqwest::Url, pairs: &[(&str, &str)]) -> Response {
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn reject_response(shared: &Shared, reject: AuthReject) -> Response {
    match reject {
        AuthReject::Page(e) => (
            StatusCode::BAD_REQUEST,
            Html(pages::message("Sorry, but we're having trouble signing you in", &e.page_text())),
        )
            .into_response(),
        AuthReject::Redirect(url, e, state) => {
            let description = format!("AADSTS{}: {}", e.code, e.text);
            let uri = format!("{}/error?code={}", shared.url, e.code);
            let mut pairs =
                vec![("error", e.error), ("error_description", description.as_str()), ("error_uri", uri.as_str())];
            if let Some(s) = &state {
                pairs.push(("state", s));
            }
            redirect_with(url, &pairs)
        }
    }
}

const AUTH_FIELDS: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "login_hint",
    "prompt",
    "nonce",
];

fn sign_in_page(tenant: &str, p: &Params, error: Option<&str>) -> Response {
    let hidden: Vec<(&str, &str)> = AUTH_FIELDS.iter().filter_map(|k| p.get(*k).map(|v| (*k, v.as_str()))).collect();
    let action = format!("/{tenant}/oauth2/v2.0/authorize");
    let hint = p.get("login_hint").map(String::as_str).unwrap_or("");
    Html(pages::sign_in(&action, &hidden, error, hint)).into_response()
}

/// `GET /{tenant}/oauth2/v2.0/authorize`: checks the request, then shows the sign-in form.
pub async fn authorize_form(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    match check_authorize(&shared, &tenant, &p) {
        Ok(_) => sign_in_page(&tenant, &p, None),
        Err(reject) => reject_response(&shared, reject),
    }
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: the filled-in sign-in form.
pub async fn authorize_submit(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let req = match check_authorize(&shared, &tenant, &p) {
        Ok(r) => r,
        Err(reject) => return reject_response(&shared, reject),
    };
    let with_state = |pairs: &mut Vec<(&'static str, String)>| {
        if let Some(s) = &req.state {
            pairs.push(("state", s.clone()));
        }
    };
    if p.get("action").map(String::as_str) == Some("cancel") {
        let reject = AuthReject::Redirect(
            req.redirect.clone(),
            err("access_denied", 65004, "User declined to consent to access the app."),
            req.state.clone(),
        );
        return reject_response(&shared, reject);
    }
    let user = match authenticate(
        &shared,
        p.get("username").map(String::as_str).unwrap_or(""),
        p.get("password").map(String::as_str).unwrap_or(""),
    ) {
        Ok(u) => u.clone(),
        Err(e) => {
            let text = if e.code == 50126 || e.code == 50034 {
                format!("Your account or password is incorrect. (AADSTS{})", e.code)
            } else {
                e.page_text()
            };
            return sign_in_page(&tenant, &p, Some(&text));
        }
    };
    let scopes = match grant_scopes(&shared, &req.client_id, &req.requested, user.is_global_admin()) {
        Ok(s) => s,
        Err(_) => {
            let e = err(
                "access_denied",
                90094,
                "Need admin approval: the app needs permission to access resources in your organization that only an admin can grant.",
            );
            return (StatusCode::OK, Html(pages::message("Need admin approval", &e.page_text()))).into_response();
        }
    };
    let code = opaque(48);
    let expires = shared.now() + Duration::from_secs(600);
    let mut all = scopes;
    all.extend(req.requested.oidc.iter().cloned());
    shared.state().auth_codes.insert(
        code.clone(),
        AuthCode {
            client_id: req.client_id.clone(),
            redirect_uri: p.get("redirect_uri").cloned().unwrap_or_default(),
            scopes: all,
            challenge: req.challenge.clone(),
            user_id: user.id.clone(),
            expires,
            redeemed: false,
        },
    );
    tracing::debug!(scope = %req.scope, "authorization code issued");
    let mut pairs: Vec<(&'static str, String)> =
        vec![("code", code), ("session_state", uuid::Uuid::new_v4().to_string())];
    with_state(&mut pairs);
    let pairs_ref: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect_with(req.redirect, &pairs_ref)
}

fn user_code(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// The device authorization endpoint where the `device_endpoint_moved` fault puts it.
pub async fn devicecode_moved(shared: State<Arc<Shared>>, tenant: Path<String>, form: Form<Params>) -> Response {
    if !shared.state().faults.device_endpoint_moved {
        return StatusCode::NOT_FOUND.into_response();
    }
    device_authorization(shared, tenant, form).await
}

/// `POST /{tenant}/oauth2/v2.0/devicecode` (404 while the `device_endpoint_moved` fault has
/// moved it).
pub async fn devicecode(shared: State<Arc<Shared>>, tenant: Path<String>, form: Form<Params>) -> Response {
    if shared.state().faults.device_endpoint_moved {
        return StatusCode::NOT_FOUND.into_response();
    }
    device_authorization(shared, tenant, form).await
}

async fn device_authorization(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let result = (|| {
        check_tenant(&shared, &tenant)?;
        let client_id = check_client(&shared, &p, true)?;
        let scope = p.get("scope").cloned().unwrap_or_default();
        let requested = parse_scopes(&scope)?;
        let mut scopes = requested.graph.clone();
        if requested.default {
            scopes.push(".default".into());
        }
        scopes.extend(requested.oidc.iter().cloned());
        let (lifetime, interval) = {
            let st = shared.state();
            (st.faults.device_code_lifetime_secs, st.faults.device_code_interval_secs)
        };
        let device_code = opaque(64);
        let code = user_code(9);
        let verification_uri = format!("{}/devicelogin", shared.url);
        shared.state().device_codes.insert(
            device_code.clone(),
            DeviceCode {
                user_code: code.clone(),
                client_id,
                scopes,
                expires: shared.now() + Duration::from_secs(lifetime),
                interval: Duration::from_secs(interval),
                last_poll: None,
                outcome: DeviceOutcome::Pending,
            },
        );
        Ok::<_, EntraError>(json!({
            "user_code": code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": lifetime,
            "interval": interval,
            "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {code} to authenticate."),
        }))
    })();
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(&shared),
    }
}

/// `GET /devicelogin`.
pub async fn device_login_form(Query(p): Query<Params>) -> Response {
    Html(pages::device_login(None, p.get("otc").map(String::as_str).unwrap_or(""))).into_response()
}

fn normalize_user_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase()
}

/// `POST /devicelogin`: the filled-in device-login form.
pub async fn device_login_submit(State(shared): State<Arc<Shared>>, Form(p): Form<Params>) -> Response {
    let typed = normalize_user_code(p.get("user_code").map(String::as_str).unwrap_or(""));
    let now = shared.now();
    let found = {
        let st = shared.state();
        st.device_codes.iter().find(|(_, d)| d.user_code == typed).map(|(k, d)| (k.clone(), d.clone()))
    };
    let page_error = |text: String| Html(pages::device_login(Some(&text), &typed)).into_response();
    let Some((key, device)) = found else {
        return page_error("That code didn't work. Check the code and try again. (AADSTS70018)".into());
    };
    if now >= device.expires {
        return page_error("That code has expired. Go back to your device and start again. (AADSTS70019)".into());
    }
    if device.outcome != DeviceOutcome::Pending {
        return page_error("That code has already been used. (AADSTS70018)".into());
    }
    if p.get("action").map(String::as_str) == Some("decline") {
        if let Some(d) = shared.state().device_codes.get_mut(&key) {
            d.outcome = DeviceOutcome::Declined;
        }
        return Html(pages::message(
            "Sign-in declined",
            "You declined to sign in to the application on your device. You may now close this window.",
        ))
        .into_response();
    }
    let user = match authenticate(
        &shared,
        p.get("username").map(String::as_str).unwrap_or(""),
        p.get("password").map(String::as_str).unwrap_or(""),
    ) {
        Ok(u) => u.clone(),
        Err(e) => return page_error(format!("Your account or password is incorrect. (AADSTS{})", e.code)),
    };
    let requested = requested_from(&device.scopes);
    if grant_scopes(&shared, &device.client_id, &requested, user.is_global_admin()).is_err() {
        return page_error(
            "Need admin approval: the app needs permission that only an admin can grant. (AADSTS90094)".into(),
        );
    }
    if let Some(d) = shared.state().device_codes.get_mut(&key) {
        d.outcome = DeviceOutcome::Approved(user.id.clone());
    }
    Html(pages::message(
        "Signed in",
        "You have signed in to the application on your device. You may now close this window.",
    ))
    .into_response()
}

fn requested_from(stored: &[String]) -> Requested {
    let mut r = Requested::default();
    for s in stored {
        if s == ".default" {
            r.default = true;
        } else if OIDC_SCOPES.contains(&s.as_str()) {
            r.oidc.push(s.clone());
        } else {
            r.graph.push(s.clone());
        }
    }
    r
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>, Form(p): Form<Params>) -> Response {
    let result = (|| {
        check_tenant(&shared, &tenant)?;
        let client_id = check_client(&shared, &p, true)?;
        let grant = p.get("grant_type").ok_or_else(|| missing("grant_type"))?;
        match grant.as_str() {
            "authorization_code" => code_grant(&shared, &client_id, &p),
            "refresh_token" => refresh_grant(&shared, &client_id, &p),
            "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => device_grant(&shared, &client_id, &p),
            "password" => password_grant(&shared, &client_id, &p),
            other => Err(err(
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
        }
    })();
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(&shared),
    }
}

fn code_grant(shared: &Shared, client_id: &str, p: &Params) -> Result<Value, EntraError> {
    let code = p.get("code").ok_or_else(|| missing("code"))?;
    let now = shared.now();
    let entry = shared.state().auth_codes.get(code).cloned().ok_or_else(|| {
        err(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the authorization code is not known.",
        )
    })?;
    if entry.redeemed {
        return Err(err(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ));
    }
    if entry.client_id != client_id {
        return Err(err("invalid_grant", 70000, "The authorization code was issued to another client."));
    }
    if now >= entry.expires {
        return Err(err(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ));
    }
    if p.get("redirect_uri") != Some(&entry.redirect_uri) {
        return Err(err(
            "invalid_grant",
            50011,
            "The redirect URI specified in the request does not match the redirect URI used to get the authorization code.",
        ));
    }
    let verifier = p.get("code_verifier").ok_or_else(|| missing("code_verifier"))?;
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if computed != entry.challenge {
        return Err(err(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    if let Some(e) = shared.state().auth_codes.get_mut(code) {
        e.redeemed = true;
    }
    let user = shared
        .tenant
        .user_by_id(&entry.user_id)
        .cloned()
        .ok_or_else(|| err("invalid_grant", 50034, "The user no longer exists."))?;
    let r = requested_from(&entry.scopes);
    issue(shared, &user, client_id, &r.graph, &r.oidc)
}

fn refresh_grant(shared: &Shared, client_id: &str, p: &Params) -> Result<Value, EntraError> {
    let token = p.get("refresh_token").ok_or_else(|| missing("refresh_token"))?;
    let entry = shared.state().refresh_tokens.get(token).cloned().ok_or_else(|| {
        err(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the refresh token is not known.",
        )
    })?;
    if entry.revoked {
        return Err(err(
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
        ));
    }
    if entry.client_id != client_id {
        return Err(err("invalid_grant", 70000, "The refresh token was issued to another client."));
    }
    let user = shared
        .tenant
        .user_by_id(&entry.user_id)
        .cloned()
        .ok_or_else(|| err("invalid_grant", 50034, "The user no longer exists."))?;
    if !user.account_enabled {
        return Err(err("invalid_grant", 50057, "The user account is disabled."));
    }
    // Rotation: the used token stops working; the answer carries its successor.
    if let Some(e) = shared.state().refresh_tokens.get_mut(token) {
        e.revoked = true;
    }
    let mut r = requested_from(&entry.scopes);
    if let Some(scope) = p.get("scope") {
        let asked = parse_scopes(scope)?;
        r.graph = grant_scopes(shared, client_id, &asked, false)?;
    }
    if !r.oidc.iter().any(|o| o == "offline_access") {
        r.oidc.push("offline_access".into());
    }
    issue(shared, &user, client_id, &r.graph, &r.oidc)
}

fn device_grant(shared: &Shared, client_id: &str, p: &Params) -> Result<Value, EntraError> {
    let device_code = p.get("device_code").or_else(|| p.get("code")).ok_or_else(|| missing("device_code"))?;
    let now = shared.now();
    let mut st = shared.state();
    let Some(entry) = st.device_codes.get_mut(device_code) else {
        return Err(err("bad_verification_code", 70018, "Invalid verification code: the device_code is not known."));
    };
    if entry.client_id != client_id {
        return Err(err(
            "bad_verification_code",
            70018,
            "Invalid verification code: the device_code was issued to another client.",
        ));
    }
    if now >= entry.expires {
        st.device_codes.remove(device_code);
        return Err(err("expired_token", 70019, "Verification code expired."));
    }
    match entry.outcome.clone() {
        DeviceOutcome::Declined => {
            st.device_codes.remove(device_code);
            Err(err("authorization_declined", 70000, "The user declined the authorization request."))
        }
        DeviceOutcome::Pending => {
            // Polling faster than three quarters of the interval is too fast (RFC 8628 §3.5).
            let too_fast = entry
                .last_poll
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|since| since < entry.interval * 3 / 4);
            entry.last_poll = Some(now);
            if too_fast {
                entry.interval += Duration::from_secs(5);
                return Err(err(
                    "slow_down",
                    70016,
                    "The client is polling too frequently: wait the interval before polling again.",
                ));
            }
            Err(err(
                "authorization_pending",
                70016,
                "The provided request has not yet been authorized by the user. The user must input their code.",
            ))
        }
        DeviceOutcome::Approved(user_id) => {
            let scopes = entry.scopes.clone();
            st.device_codes.remove(device_code);
            drop(st);
            let user = shared
                .tenant
                .user_by_id(&user_id)
                .cloned()
                .ok_or_else(|| err("invalid_grant", 50034, "The user no longer exists."))?;
            let r = requested_from(&scopes);
            let graph = grant_scopes(shared, client_id, &r, false)?;
            issue(shared, &user, client_id, &graph, &r.oidc)
        }
    }
}

fn password_grant(shared: &Shared, client_id: &str, p: &Params) -> Result<Value, EntraError> {
    let username = p.get("username").ok_or_else(|| missing("username"))?;
    let password = p.get("password").ok_or_else(|| missing("password"))?;
    let requested = parse_scopes(p.get("scope").map(String::as_str).unwrap_or(""))?;
    let user = authenticate(shared, username, password)?.clone();
    if user.mfa_required {
        return Err(err(
            "invalid_grant",
            50076,
            format!(
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{GRAPH_APP_ID}'."
            ),
        ));
    }
    let graph = grant_scopes(shared, client_id, &requested, false)?;
    issue(shared, &user, client_id, &graph, &requested.oidc)
}
