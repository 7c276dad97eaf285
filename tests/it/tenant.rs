//! The tenant simulator on the wire: every grant, error path, fault and form, with a real HTTP
//! client.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use writeback_base::clock::ManualClock;
use writeback_lab::tenant::{self, Faults, Fixture, RunningTenant};

pub const APP: &str = "11111111-2222-4333-8444-555555555555";
/// The fixture's app consented for User.Read alone.
pub const USER_READ_APP: &str = "66666666-7777-4888-8999-000000000000";
pub const TENANT: &str = "4f1c2b8a-7d3e-4a5b-9c6d-0e1f2a3b4c5d";
pub const GA: (&str, &str) = ("ga@contosohybrid.onmicrosoft.com", "Ga-Passw0rd!");
pub const HIA: (&str, &str) = ("hia@contosohybrid.onmicrosoft.com", "Hia-Passw0rd!");
pub const VIA_GROUP: (&str, &str) = ("viagroup@contosohybrid.onmicrosoft.com", "Grp-Passw0rd!");
pub const PLAIN: (&str, &str) = ("plain@contoso.example", "Pln-Passw0rd!");
pub const ALL_SCOPES: &str = "https://graph.microsoft.com/.default offline_access openid profile";

pub fn hybrid_fixture() -> Fixture {
    Fixture::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tenant-hybrid.json")).unwrap()
}

/// A simulator on a free loopback port with a clock the test moves.
pub struct Sim {
    pub running: RunningTenant,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
}

/// A "browser" for the simulator's sign-in page: fills in the form as `user`, then follows the
/// redirect back to the app's loopback port (on the caller's tokio runtime).
pub fn form_browser(user: (&'static str, &'static str)) -> impl Fn(String) -> Result<(), String> + Send + Sync {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    move |url: String| -> Result<(), String> {
        let http = http.clone();
        tokio::spawn(async move {
            let parsed = reqwest::Url::parse(&url).unwrap();
            let mut form: Vec<(String, String)> =
                parsed.query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert!(form.iter().any(|(k, v)| k == "code_challenge_method" && v == "S256"));
            form.push(("username".into(), user.0.into()));
            form.push(("password".into(), user.1.into()));
            let action = format!(
                "{}://{}{}",
                parsed.scheme(),
                parsed.host_str().unwrap(),
                parsed.port().map(|p| format!(":{p}")).unwrap_or_default()
            ) + parsed.path();
            let resp = http.post(action).form(&form).send().await.unwrap();
            let location = resp.headers()["location"].to_str().unwrap().to_string();
            let page = http.get(location).send().await.unwrap().text().await.unwrap();
            assert!(page.contains("Signed in"), "{page}");
        });
        Ok(())
    }
}

impl Sim {
    pub async fn start(fixture: Fixture) -> Sim {
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        let running = tenant::start_with_clock(fixture, "127.0.0.1:0".parse().unwrap(), clock.clone()).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Sim { running, clock, http }
    }
    pub async fn hybrid() -> Sim {
        Sim::start(hybrid_fixture()).await
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
    }
    pub async fn token_request(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let tenant = &self.running.info().tenant_id;
        let resp = self.http.post(self.url(&format!("/{tenant}/oauth2/v2.0/token"))).form(form).send().await.unwrap();
        (resp.status(), resp.json().await.unwrap())
    }
    pub async fn password_token(&self, user: (&str, &str), scope: &str) -> Value {
        let (status, body) = self
            .token_request(&[
                ("grant_type", "password"),
                ("client_id", APP),
                ("username", user.0),
                ("password", user.1),
                ("scope", scope),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
    /// A token that carries User.Read alone: from the app consented for nothing else (Entra puts
    /// every consented permission in a token, whatever was asked for).
    pub async fn user_read_token(&self, user: (&str, &str)) -> String {
        let (status, body) = self
            .token_request(&[
                ("grant_type", "password"),
                ("client_id", USER_READ_APP),
                ("username", user.0),
                ("password", user.1),
                ("scope", "User.Read"),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }
    pub async fn access(&self, user: (&str, &str)) -> String {
        self.password_token(user, ALL_SCOPES).await["access_token"].as_str().unwrap().to_string()
    }
    pub async fn graph(&self, token: &str, path: &str) -> (StatusCode, HashMap<String, String>, Value) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .header("ConsistencyLevel", "eventual")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let headers =
            resp.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }
}

/// Checks Entra's error body: error, AADSTS code in description and error_codes, trace ids.
pub fn assert_entra_error(body: &Value, error: &str, code: u32) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
    assert!(
        description.contains("Trace ID: ")
            && description.contains("Correlation ID: ")
            && description.contains("Timestamp: ")
    );
    for key in ["trace_id", "correlation_id", "timestamp"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
}

/// Checks Graph's error body and request-id header.
pub fn assert_graph_error(
    status: StatusCode,
    headers: &HashMap<String, String>,
    body: &Value,
    want: StatusCode,
    code: &str,
) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    let inner = &body["error"]["innerError"];
    assert!(inner["request-id"].is_string() && inner["date"].is_string(), "{body}");
    assert_eq!(headers.get("request-id").map(String::as_str), inner["request-id"].as_str());
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn pkce() -> (String, String) {
    let verifier = "a-verifier-of-at-least-43-characters-for-pkce-0123456789".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[tokio::test]
async fn discovery_keys_and_tenant_names() {
    let sim = Sim::hybrid().await;
    for name in [TENANT, "contoso.example", "contosohybrid.onmicrosoft.com", "organizations", "common"] {
        let doc: Value = sim
            .http
            .get(sim.url(&format!("/{name}/v2.0/.well-known/openid-configuration")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], format!("{}/{TENANT}/v2.0", sim.running.url()), "{name}");
        assert_eq!(doc["token_endpoint"], format!("{}/{TENANT}/oauth2/v2.0/token", sim.running.url()));
        // Entra's v2.0 document names the device authorization endpoint (entra-docs,
        // v2-protocols-oidc.md and the device-code flow page); the simulator's does too.
        assert_eq!(
            doc["device_authorization_endpoint"],
            format!("{}/{TENANT}/oauth2/v2.0/devicecode", sim.running.url())
        );
    }
    let resp =
        sim.http.get(sim.url("/nosuchtenant.example/v2.0/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_entra_error(&resp.json().await.unwrap(), "invalid_request", 90002);

    // The access token's RS256 signature verifies against the published key.
    let jwks: Value =
        sim.http.get(sim.url(&format!("/{TENANT}/discovery/v2.0/keys"))).send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    let token = sim.access(GA).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let decoding =
        jsonwebtoken::DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["https://graph.microsoft.com"]);
    let data = jsonwebtoken::decode::<Value>(&token, &decoding, &v).unwrap();
    let c = data.claims;
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["upn"], GA.0);
    assert_eq!(c["oid"], "0a000000-0000-4000-8000-000000000001");
    assert_eq!(
        c["scp"],
        "Domain.Read.All OnPremDirectorySynchronization.Read.All Organization.Read.All RoleEligibilitySchedule.Read.Directory RoleManagement.Read.Directory User.Read"
    );
    assert!(c["exp"].as_u64().unwrap() > c["iat"].as_u64().unwrap());
    // A tampered token is refused by Graph.
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    let (s, h, b) = sim.graph(&forged, "/v1.0/me").await;
    assert_graph_error(s, &h, &b, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn password_grant_and_its_refusals() {
    let sim = Sim::hybrid().await;
    let body = sim.password_token(GA, "User.Read offline_access openid").await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string());
    assert_eq!(claims(body["id_token"].as_str().unwrap())["aud"], APP);
    // Asked for User.Read, the token carries every permission consented for the app, as Entra's do.
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["scp"],
        "Domain.Read.All OnPremDirectorySynchronization.Read.All Organization.Read.All RoleEligibilitySchedule.Read.Directory RoleManagement.Read.Directory User.Read"
    );
    assert_eq!(claims(&sim.user_read_token(GA).await)["scp"], "User.Read");
    let no_offline = sim.password_token(GA, "https://graph.microsoft.com/User.Read").await;
    assert!(no_offline.get("refresh_token").is_none() && no_offline.get("id_token").is_none());

    type Case<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str, u32);
    let cases: &[Case] = &[
        (&[("username", GA.0), ("password", "wrong")], StatusCode::BAD_REQUEST, "invalid_grant", 50126),
        (&[("username", "nobody@contoso.example"), ("password", "x")], StatusCode::BAD_REQUEST, "invalid_grant", 50034),
        (
            &[("username", "mfa@contosohybrid.onmicrosoft.com"), ("password", "Mfa-Passw0rd!")],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50076,
        ),
        (
            &[("username", "disabled@contosohybrid.onmicrosoft.com"), ("password", "Dis-Passw0rd!")],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50057,
        ),
        (&[("username", GA.0)], StatusCode::BAD_REQUEST, "invalid_request", 900144),
    ];
    for (extra, status, error, code) in cases {
        let mut form = vec![("grant_type", "password"), ("client_id", APP), ("scope", "User.Read")];
        form.extend_from_slice(extra);
        let (s, b) = sim.token_request(&form).await;
        assert_eq!(s, *status, "{b}");
        assert_entra_error(&b, error, *code);
    }
    // Scopes: not consented, unknown, another resource, .default mixed with named scopes.
    let scope_cases = [
        ("66666666-7777-4888-8999-000000000000", "Organization.Read.All", "invalid_grant", 65001),
        (APP, "Mail.Send", "invalid_scope", 650053),
        (APP, "https://management.azure.com/user_impersonation", "invalid_scope", 70011),
        (APP, "https://graph.microsoft.com/.default User.Read", "invalid_scope", 70011),
    ];
    for (client, scope, error, code) in scope_cases {
        let (s, b) = sim
            .token_request(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("username", GA.0),
                ("password", GA.1),
                ("scope", scope),
            ])
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{scope}: {b}");
        assert_entra_error(&b, error, code);
    }
    // Clients: unknown, not public, sending a secret; and an unsupported grant.
    let (s, b) = sim
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", "00000000-0000-0000-0000-00000000dead"),
            ("username", GA.0),
            ("password", GA.1),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_entra_error(&b, "unauthorized_client", 700016);
    let (s, b) = sim
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", "99999999-aaaa-4bbb-8ccc-dddddddddddd"),
            ("username", GA.0),
            ("password", GA.1),
        ])
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_entra_error(&b, "invalid_client", 7000218);
    let (_, b) = sim
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", APP),
            ("client_secret", "s"),
            ("username", GA.0),
            ("password", GA.1),
        ])
        .await;
    assert_entra_error(&b, "invalid_client", 700025);
    let (_, b) = sim.token_request(&[("grant_type", "client_credentials"), ("client_id", APP)]).await;
    assert_entra_error(&b, "unsupported_grant_type", 70003);
}

async fn authorize(sim: &Sim, port: u16, challenge: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut form: Vec<(&str, &str)> = vec![
        ("client_id", APP),
        ("response_type", "code"),
        ("redirect_uri", &redirect),
        ("scope", "https://graph.microsoft.com/.default offline_access openid"),
        ("state", "st-123"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    form.extend_from_slice(extra);
    sim.http.post(sim.url(&format!("/{TENANT}/oauth2/v2.0/authorize"))).form(&form).send().await.unwrap()
}

fn location_params(resp: &reqwest::Response) -> (String, HashMap<String, String>) {
    let loc = resp.headers()["location"].to_str().unwrap().to_string();
    let url = reqwest::Url::parse(&loc).unwrap();
    let params = url.query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    (format!("{}://{}{}", url.scheme(), url.host_str().unwrap(), url.path()), params)
}

#[tokio::test]
async fn authorization_code_with_pkce_on_any_loopback_port() {
    let sim = Sim::hybrid().await;
    let (verifier, challenge) = pkce();
    // The sign-in form.
    let form_url = format!(
        "/{TENANT}/oauth2/v2.0/authorize?client_id={APP}&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A5123%2Fcallback&scope=User.Read&state=s&code_challenge={challenge}&code_challenge_method=S256"
    );
    let html = sim.http.get(sim.url(&form_url)).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("name=\"username\"") && html.contains("name=\"password\"") && html.contains("value=\"s\""),
        "{html}"
    );

    // Wrong password: the form again, with the reason.
    let resp = authorize(&sim, 5123, &challenge, &[("username", GA.0), ("password", "nope")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("AADSTS50126"));

    for port in [5123u16, 61999] {
        let resp = authorize(&sim, port, &challenge, &[("username", GA.0), ("password", GA.1)]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (target, params) = location_params(&resp);
        assert_eq!(
            target,
            "http://127.0.0.1/callback"
                .replace("127.0.0.1", &format!("127.0.0.1:{port}"))
                .replace(&format!(":{port}"), ""),
            "host and path"
        );
        assert_eq!(params["state"], "st-123");
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let redeem = [
            ("grant_type", "authorization_code"),
            ("client_id", APP),
            ("code", params["code"].as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        if port == 61999 {
            // A wrong verifier is refused and does not use the code up.
            let mut bad = redeem;
            bad[4] = ("code_verifier", "another-verifier-that-is-long-enough-000000000000");
            let (s, b) = sim.token_request(&bad).await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            assert_entra_error(&b, "invalid_grant", 501481);
            let mut wrong_redirect = redeem;
            wrong_redirect[3] = ("redirect_uri", "http://127.0.0.1:1/other");
            assert_entra_error(&sim.token_request(&wrong_redirect).await.1, "invalid_grant", 50011);
        }
        let (s, tokens) = sim.token_request(&redeem).await;
        assert_eq!(s, StatusCode::OK, "{tokens}");
        assert!(tokens["refresh_token"].is_string() && tokens["id_token"].is_string());
        assert_eq!(claims(tokens["access_token"].as_str().unwrap())["upn"], GA.0);
        // A code is good once.
        assert_entra_error(&sim.token_request(&redeem).await.1, "invalid_grant", 54005);
    }

    // An expired code.
    let resp = authorize(&sim, 5123, &challenge, &[("username", GA.0), ("password", GA.1)]).await;
    let (_, params) = location_params(&resp);
    sim.clock.advance(Duration::from_secs(601));
    let (_, b) = sim
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("client_id", APP),
            ("code", &params["code"]),
            ("redirect_uri", "http://127.0.0.1:5123/callback"),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_entra_error(&b, "invalid_grant", 70008);
}

#[tokio::test]
async fn authorization_request_errors() {
    let sim = Sim::hybrid().await;
    let (_, challenge) = pkce();
    // No PKCE: the error goes back to the (trusted, loopback) redirect URI.
    let resp = sim
        .http
        .post(sim.url(&format!("/{TENANT}/oauth2/v2.0/authorize")))
        .form(&[
            ("client_id", APP),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:7000/cb"),
            ("scope", "User.Read"),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    let (_, params) = location_params(&resp);
    assert_eq!(params["error"], "invalid_request");
    assert!(params["error_description"].starts_with("AADSTS50148"));
    assert_eq!(params["state"], "x");
    // plain PKCE is refused too.
    let resp = authorize(&sim, 7000, &challenge, &[("code_challenge_method", "plain")]).await;
    assert_eq!(location_params(&resp).1["error"], "invalid_request");
    // A non-loopback redirect URI is never redirected to.
    let resp = sim
        .http
        .get(sim.url(&format!("/{TENANT}/oauth2/v2.0/authorize?client_id={APP}&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=User.Read&code_challenge={challenge}&code_challenge_method=S256")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("AADSTS50011"));
    // Unknown client: a page, not a redirect.
    let resp = sim.http.get(sim.url(&format!("/{TENANT}/oauth2/v2.0/authorize?client_id=deadbeef&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F"))).send().await.unwrap();
    assert!(resp.text().await.unwrap().contains("AADSTS700016"));
    // Cancel on the form.
    let resp = authorize(&sim, 7000, &challenge, &[("action", "cancel")]).await;
    let (_, params) = location_params(&resp);
    assert_eq!(params["error"], "access_denied");
    assert!(params["error_description"].starts_with("AADSTS65004"));
    // A non-admin cannot consent to what the app lacks; an admin can, once for the tenant.
    let redirect = "http://127.0.0.1:7001/cb";
    let ask = |user: (&'static str, &'static str)| {
        let challenge = challenge.clone();
        let sim = &sim;
        async move {
            sim.http
                .post(sim.url(&format!("/{TENANT}/oauth2/v2.0/authorize")))
                .form(&[
                    ("client_id", "66666666-7777-4888-8999-000000000000"),
                    ("response_type", "code"),
                    ("redirect_uri", redirect),
                    ("scope", "Organization.Read.All"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("username", user.0),
                    ("password", user.1),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let resp = ask(PLAIN).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("AADSTS90094"));
    assert_eq!(ask(GA).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(ask(PLAIN).await.status(), StatusCode::SEE_OTHER, "consent is now tenant-wide");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_can_be_revoked() {
    let sim = Sim::hybrid().await;
    let first = sim.password_token(GA, ALL_SCOPES).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();
    let (s, second) =
        sim.token_request(&[("grant_type", "refresh_token"), ("client_id", APP), ("refresh_token", &rt1)]).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    assert_eq!(
        claims(second["access_token"].as_str().unwrap())["scp"],
        claims(first["access_token"].as_str().unwrap())["scp"]
    );
    // The used token is spent.
    assert_entra_error(
        &sim.token_request(&[("grant_type", "refresh_token"), ("client_id", APP), ("refresh_token", &rt1)]).await.1,
        "invalid_grant",
        50173,
    );
    // Another client cannot use it.
    assert_entra_error(
        &sim.token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", "66666666-7777-4888-8999-000000000000"),
            ("refresh_token", &rt2),
        ])
        .await
        .1,
        "invalid_grant",
        70000,
    );
    // "Revoke sessions" (HTTP control endpoint) kills it.
    let resp =
        sim.http.post(sim.url("/lab/revoke-sessions")).json(&serde_json::json!({"upn": GA.0})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (s, b) =
        sim.token_request(&[("grant_type", "refresh_token"), ("client_id", APP), ("refresh_token", &rt2)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_entra_error(&b, "invalid_grant", 50173);
    assert_entra_error(
        &sim.token_request(&[("grant_type", "refresh_token"), ("client_id", APP), ("refresh_token", "garbage")])
            .await
            .1,
        "invalid_grant",
        9002313,
    );
}

async fn device_code(sim: &Sim) -> Value {
    let resp = sim
        .http
        .post(sim.url(&format!("/{TENANT}/oauth2/v2.0/devicecode")))
        .form(&[("client_id", APP), ("scope", ALL_SCOPES)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn poll(sim: &Sim, device_code: &str) -> (StatusCode, Value) {
    sim.token_request(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", APP),
        ("device_code", device_code),
    ])
    .await
}

pub async fn device_login(sim: &Sim, user_code: &str, user: (&str, &str), action: &str) -> String {
    sim.http
        .post(sim.url("/devicelogin"))
        .form(&[("user_code", user_code), ("username", user.0), ("password", user.1), ("action", action)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn device_code_flow_pending_slow_down_approve_decline_expire() {
    let sim = Sim::hybrid().await;
    let dc = device_code(&sim).await;
    for key in ["user_code", "device_code", "verification_uri", "expires_in", "interval", "message"] {
        assert!(!dc[key].is_null(), "{key} missing: {dc}");
    }
    assert_eq!(dc["verification_uri"], sim.url("/devicelogin"));
    assert_eq!(dc["interval"], 5);
    let code = dc["device_code"].as_str().unwrap();
    let user_code = dc["user_code"].as_str().unwrap();
    let (s, b) = poll(&sim, code).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_entra_error(&b, "authorization_pending", 70016);
    // Polling again at once is too fast.
    assert_entra_error(&poll(&sim, code).await.1, "slow_down", 70016);
    // slow_down added 5 s to the interval: 5 s later is still too fast, 10 s is fine.
    sim.clock.advance(Duration::from_secs(5));
    assert_entra_error(&poll(&sim, code).await.1, "slow_down", 70016);
    sim.clock.advance(Duration::from_secs(15));
    assert_entra_error(&poll(&sim, code).await.1, "authorization_pending", 70016);

    // The device-login page: wrong code, wrong password, then approval.
    let page = sim.http.get(sim.url("/devicelogin")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"user_code\""));
    assert!(device_login(&sim, "NOTACODE1", GA, "approve").await.contains("AADSTS70018"));
    assert!(device_login(&sim, user_code, (GA.0, "wrong"), "approve").await.contains("AADSTS50126"));
    let lower = user_code.to_lowercase();
    assert!(device_login(&sim, &lower, GA, "approve").await.contains("You have signed in"));
    sim.clock.advance(Duration::from_secs(15));
    let (s, tokens) = poll(&sim, code).await;
    assert_eq!(s, StatusCode::OK, "{tokens}");
    assert_eq!(claims(tokens["access_token"].as_str().unwrap())["upn"], GA.0);
    assert!(tokens["refresh_token"].is_string());
    // The code is gone once used.
    assert_entra_error(&poll(&sim, code).await.1, "bad_verification_code", 70018);

    // Declined.
    let dc = device_code(&sim).await;
    assert!(device_login(&sim, dc["user_code"].as_str().unwrap(), GA, "decline").await.contains("declined"));
    assert_entra_error(&poll(&sim, dc["device_code"].as_str().unwrap()).await.1, "authorization_declined", 70000);

    // Expired.
    let dc = device_code(&sim).await;
    sim.clock.advance(Duration::from_secs(901));
    assert!(device_login(&sim, dc["user_code"].as_str().unwrap(), GA, "approve").await.contains("AADSTS70019"));
    assert_entra_error(&poll(&sim, dc["device_code"].as_str().unwrap()).await.1, "expired_token", 70019);
}

#[tokio::test]
async fn graph_reads_roles_scopes_and_bearer_errors() {
    let sim = Sim::hybrid().await;
    let ga = sim.access(GA).await;
    let (s, _, me) = sim.graph(&ga, "/v1.0/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["userPrincipalName"], GA.0);
    assert!(me.get("onPremisesSyncEnabled").is_none(), "not a default property");
    let (_, _, me) = sim.graph(&ga, "/v1.0/me?$select=id,onPremisesSyncEnabled,userPrincipalName").await;
    assert_eq!(me["onPremisesSyncEnabled"], Value::Null, "cloud-only");
    let synced = sim.access(("synced@contoso.example", "Syn-Passw0rd!")).await;
    assert_eq!(sim.graph(&synced, "/v1.0/me?$select=onPremisesSyncEnabled").await.2["onPremisesSyncEnabled"], true);
    let (s, h, b) = sim.graph(&ga, "/v1.0/me?$select=madeUp").await;
    assert_graph_error(s, &h, &b, StatusCode::BAD_REQUEST, "BadRequest");

    // Roles: direct for GA and HIA; through a group for Greta (memberOf shows the group only).
    let roles = |body: &Value| -> Vec<String> {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["@odata.type"] == "#microsoft.graph.directoryRole")
            .map(|i| i["roleTemplateId"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, _, b) = sim.graph(&ga, "/v1.0/me/memberOf").await;
    assert_eq!(roles(&b), vec!["62e90394-69f5-4237-9190-012177145e10"]);
    let hia = sim.access(HIA).await;
    let (_, _, b) = sim.graph(&hia, "/v1.0/me/memberOf/microsoft.graph.directoryRole?$count=true").await;
    assert_eq!(roles(&b), vec!["8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"]);
    assert_eq!(b["@odata.count"], 1);
    let grp = sim.access(VIA_GROUP).await;
    let (_, _, b) = sim.graph(&grp, "/v1.0/me/memberOf").await;
    assert!(roles(&b).is_empty());
    assert_eq!(b["value"][0]["@odata.type"], "#microsoft.graph.group");
    let (_, _, b) = sim.graph(&grp, "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'0a000000-0000-4000-8000-000000000003'").await;
    assert_eq!(b["value"].as_array().unwrap().len(), 0, "no direct assignment");
    let (_, _, b) = sim.graph(&grp, "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'0b000000-0000-4000-8000-000000000001'").await;
    assert_eq!(b["value"][0]["roleDefinitionId"], "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2");
    // PIM-eligible only: invisible.
    let pim = sim.access(("eligible@contosohybrid.onmicrosoft.com", "Pim-Passw0rd!")).await;
    assert!(roles(&sim.graph(&pim, "/v1.0/me/memberOf").await.2).is_empty());
    let (s, h, b) =
        sim.graph(&ga, "/v1.0/roleManagement/directory/roleAssignments?$filter=displayName%20eq%20'x'").await;
    assert_graph_error(s, &h, &b, StatusCode::BAD_REQUEST, "BadRequest");

    // The OData cast needs ConsistencyLevel and $count.
    let resp =
        sim.http.get(sim.url("/v1.0/me/memberOf/microsoft.graph.directoryRole")).bearer_auth(&ga).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "Request_UnsupportedQuery");

    // Organization: full with Organization.Read.All, three properties with User.Read alone.
    let (_, _, org) = sim.graph(&ga, "/v1.0/organization").await;
    assert_eq!(org["value"][0]["onPremisesSyncEnabled"], true);
    assert!(org["value"][0]["onPremisesLastSyncDateTime"].as_str().unwrap().ends_with('Z'));
    let user_read = sim.user_read_token(GA).await;
    let (_, _, org) = sim.graph(&user_read, "/v1.0/organization").await;
    let keys: Vec<&String> = org["value"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    // subscribedSkus needs Organization.Read.All.
    let (s, h, b) = sim.graph(&user_read, "/v1.0/subscribedSkus").await;
    assert_graph_error(s, &h, &b, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    let (_, _, skus) = sim.graph(&ga, "/v1.0/subscribedSkus").await;
    assert_eq!(skus["value"][0]["id"], format!("{TENANT}_b05e124f-c7cc-45a0-a6aa-8cf78c946968"));

    // Bearer errors.
    let (s, h, b) = sim.graph("", "/v1.0/me").await;
    assert_graph_error(s, &h, &b, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    let (s, h, b) = sim.graph("not.a.jwt", "/v1.0/me").await;
    assert_graph_error(s, &h, &b, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    sim.clock.advance(Duration::from_secs(3600));
    let (s, h, b) = sim.graph(&ga, "/v1.0/me").await;
    assert_graph_error(s, &h, &b, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    assert!(b["error"]["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn on_premises_synchronization_is_informational_and_global_admin_only() {
    let sim = Sim::hybrid().await;
    let ga = sim.access(GA).await;
    let (s, _, list) = sim.graph(&ga, "/v1.0/directory/onPremisesSynchronization").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["value"][0]["id"], TENANT);
    assert_eq!(list["value"][0]["features"]["passwordWritebackEnabled"], false);
    let (s, h, b) = sim.graph(&sim.access(HIA).await, "/v1.0/directory/onPremisesSynchronization").await;
    assert_graph_error(s, &h, &b, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    // PATCH needs the ReadWrite scope, answers 204, is stored, and switches nothing.
    let patch = serde_json::json!({"features": {"passwordWritebackEnabled": true}});
    let url = sim.url(&format!("/v1.0/directory/onPremisesSynchronization/{TENANT}"));
    let resp = sim.http.patch(&url).bearer_auth(&ga).json(&patch).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "the app has only the Read permission");
    let rw = {
        let fx = Fixture { apps: vec![], ..hybrid_fixture() };
        let sim2 = Sim::start(fx).await;
        let token = sim2.password_token(GA, "OnPremDirectorySynchronization.ReadWrite.All").await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let url2 = sim2.url(&format!("/v1.0/directory/onPremisesSynchronization/{TENANT}"));
        let resp = sim2.http.patch(&url2).bearer_auth(&token).json(&patch).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let bad = sim2
            .http
            .patch(&url2)
            .bearer_auth(&token)
            .json(&serde_json::json!({"features": {"noSuch": true}}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let (_, _, item) = sim2.graph(&token, &format!("/v1.0/directory/onPremisesSynchronization/{TENANT}")).await;
        (item["features"]["passwordWritebackEnabled"].clone(), sim2.running.sync_engine_writeback())
    };
    assert_eq!(rw, (Value::Bool(true), false), "stored, but the sync engine is untouched");
    // Not available outside the public cloud: 404.
    let sovereign = Sim::start(Fixture { on_premises_synchronization_available: false, ..hybrid_fixture() }).await;
    let (s, h, b) = sovereign.graph(&sovereign.access(GA).await, "/v1.0/directory/onPremisesSynchronization").await;
    assert_graph_error(s, &h, &b, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn lab_sync_engine_needs_an_admin_and_updates_last_sync() {
    let sim = Sim::hybrid().await;
    let get = |token: String| {
        let sim = &sim;
        async move {
            let resp = sim.http.get(sim.url("/lab/sync-engine")).bearer_auth(token).send().await.unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(get(String::new()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(sim.access(PLAIN).await).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        get(sim.access(VIA_GROUP).await).await.0,
        StatusCode::OK,
        "a role through a role-assignable group is the role"
    );
    let hia = sim.access(HIA).await;
    let (s, state) = get(hia.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(state["writeback_enabled"], false);
    assert_eq!(state["last_sync_cycle"], Value::Null);
    let resp = sim
        .http
        .post(sim.url("/lab/sync-engine"))
        .bearer_auth(&hia)
        .json(&serde_json::json!({"writeback_enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(sim.running.sync_engine_writeback());
    let bad = sim
        .http
        .post(sim.url("/lab/sync-engine"))
        .bearer_auth(&hia)
        .json(&serde_json::json!({"writeback": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let ga = sim.access(GA).await;
    let before = sim.graph(&ga, "/v1.0/organization").await.2["value"][0]["onPremisesLastSyncDateTime"].clone();
    sim.clock.advance(Duration::from_secs(120));
    let resp = sim.http.post(sim.url("/lab/sync-engine/sync-cycle")).bearer_auth(&hia).send().await.unwrap();
    let cycle: Value = resp.json().await.unwrap();
    let after = sim.graph(&ga, "/v1.0/organization").await.2["value"][0]["onPremisesLastSyncDateTime"].clone();
    assert_ne!(before, after);
    assert_eq!(cycle["last_sync_cycle"], after);
    assert_eq!(cycle["writeback_enabled"], true);
}

#[tokio::test]
async fn faults_throttle_unavailable_latency_and_paging() {
    let sim = Sim::hybrid().await;
    let ga = sim.access(GA).await;
    sim.running.set_faults(Faults {
        throttle_first: 2,
        unavailable_first: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    for want in [StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS, StatusCode::SERVICE_UNAVAILABLE] {
        let (s, h, b) = sim.graph(&ga, "/v1.0/me").await;
        let code = if want == StatusCode::TOO_MANY_REQUESTS { "TooManyRequests" } else { "serviceNotAvailable" };
        assert_graph_error(s, &h, &b, want, code);
        assert_eq!(h.get("retry-after").map(String::as_str), Some("7"));
    }
    assert_eq!(sim.graph(&ga, "/v1.0/me").await.0, StatusCode::OK);
    // The same over HTTP, for a simulator in another process; and latency.
    let resp = sim
        .http
        .put(sim.url("/lab/faults"))
        .json(&serde_json::json!({"throttle_first": 1, "latency_ms": 150}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let started = std::time::Instant::now();
    assert_eq!(sim.graph(&ga, "/v1.0/me").await.0, StatusCode::TOO_MANY_REQUESTS);
    assert!(started.elapsed() >= Duration::from_millis(150), "latency is added before the answer");
    // Short-lived tokens.
    sim.running.set_faults(Faults { token_lifetime_secs: 30, ..Faults::default() });
    let short = sim.access(GA).await;
    assert_eq!(sim.graph(&short, "/v1.0/me").await.0, StatusCode::OK);
    sim.clock.advance(Duration::from_secs(31));
    assert_eq!(sim.graph(&short, "/v1.0/me").await.0, StatusCode::UNAUTHORIZED);

    // Paging: 25 groups with page_size 10 arrive in three pages linked by @odata.nextLink.
    let mut fx = hybrid_fixture();
    fx.page_size = 10;
    let mut ids = Vec::new();
    for i in 0..25 {
        let id = format!("0c000000-0000-4000-8000-{i:012}");
        fx.groups.push(writeback_lab::tenant::fixture::FixtureGroup {
            id: id.clone(),
            display_name: format!("Team {i}"),
            ..Default::default()
        });
        ids.push(id);
    }
    fx.users[0].groups = ids.clone();
    let paged = Sim::start(fx).await;
    let token = paged.access(GA).await;
    let mut url = "/v1.0/me/memberOf".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (s, _, body) = paged.graph(&token, &url).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        pages += 1;
        seen.extend(body["value"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()));
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.trim_start_matches(paged.running.url()).to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 26, "25 groups and the Global Administrator role");
}

#[tokio::test]
async fn fixtures_are_checked_at_start() {
    let mut fx = hybrid_fixture();
    fx.users[0].roles = vec!["Global Admin".into()];
    let err = tenant::start(fx, "127.0.0.1:0".parse().unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("unknown role 'Global Admin'"), "{err}");
    let mut fx = hybrid_fixture();
    fx.groups[0].is_assignable_to_role = false;
    assert!(
        tenant::start(fx, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap_err()
            .to_string()
            .contains("not role-assignable")
    );
    // The default tenant: one P1 SKU, directory sync on, a Global Administrator.
    let sim = Sim::start(Fixture::default()).await;
    let info = sim.running.info().clone();
    assert!(info.admin_upn.starts_with("admin@") && info.admin_password.len() >= 16);
    let (s, body) = sim
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", "any-client-id"),
            ("username", &info.admin_upn),
            ("password", &info.admin_password),
            ("scope", ALL_SCOPES),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (_, _, skus) = sim.graph(&token, "/v1.0/subscribedSkus").await;
    assert_eq!(skus["value"][0]["skuPartNumber"], "AAD_PREMIUM");
    assert_eq!(sim.graph(&token, "/v1.0/organization").await.2["value"][0]["onPremisesSyncEnabled"], true);
    let roles = sim.graph(&token, "/v1.0/me/memberOf").await.2;
    assert_eq!(roles["value"][0]["roleTemplateId"], "62e90394-69f5-4237-9190-012177145e10");
}

#[test]
fn lab_tenant_command_prints_its_line_and_stops_on_sigterm() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tenant-hybrid.json");
    let mut child = crate::support::bin(home.path())
        .args(["lab", "tenant", "--fixture", fixture.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(info["tenant_id"], TENANT);
    assert_eq!(info["admin_upn"], GA.0);
    assert_eq!(info["admin_password"], GA.1);
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    let status = reqwest::blocking_get(&format!("{url}/{TENANT}/discovery/v2.0/keys"));
    assert_eq!(status, 200);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());

    // A bad fixture: exit 2 naming the problem.
    let bad = home.path().join("bad.json");
    std::fs::write(&bad, "{\"users\": [{\"upn\": \"x@y\", \"roles\": [\"Nope\"]}]}").unwrap();
    let out = crate::support::run(home.path(), &["lab", "tenant", "--fixture", bad.to_str().unwrap(), "--json"]);
    assert_eq!(crate::support::code(&out), 2);
    assert_eq!(crate::support::json(&out)["error"]["code"], "TENANT-FIXTURE");
}

mod reqwest {
    pub use ::reqwest::*;
    /// A GET from a synchronous test, on a throw-away runtime.
    pub fn blocking_get(url: &str) -> u16 {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }
}

#[tokio::test]
async fn every_example_fixture_loads_and_serves() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut served = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("tenant-") && name.ends_with(".json")) {
            continue;
        }
        let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let running =
            tenant::start(fixture, "127.0.0.1:0".parse().unwrap()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let info = running.info().clone();
        let url = format!("{}/{}/v2.0/.well-known/openid-configuration", info.url, info.tenant_id);
        assert_eq!(::reqwest::get(&url).await.unwrap().status(), StatusCode::OK, "{name}");
        running.stop().await;
        served += 1;
    }
    assert!(served >= 3, "only {served} example fixtures");
}
