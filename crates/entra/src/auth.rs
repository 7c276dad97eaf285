//! Signing in to Microsoft Entra ID as a public client (oauth2 crate): authorization code with
//! PKCE on a loopback redirect, device code, silent refresh from the OS keyring, and (lab only) the
//! password grant. Tokens are [`Secret`]s from the moment they arrive.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername,
    Scope, StandardDeviceAuthorizationResponse, TokenResponse,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::clouds::Endpoints;
use super::{EntraError, aadsts_error};
use crate::netstats::{Kind, TimedExt};
use crate::secrets::{Secret, SecretStore};

/// The public client used when none is configured: Microsoft Graph Command Line Tools, Microsoft's
/// own public client for delegated Graph access (docs/entra.md says why, and how to use your own).
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// The delegated Graph permissions the wizard asks for.
pub const PERMISSIONS: &[&str] =
    &["User.Read", "Organization.Read.All", "RoleManagement.Read.Directory", "OnPremDirectorySynchronization.Read.All"];

type Client = BasicClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Tokens from a sign-in.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The access token for Graph.
    pub access: Secret,
    /// The refresh token, when `offline_access` was granted.
    pub refresh: Option<Secret>,
    /// Seconds until the access token expires.
    pub expires_in_secs: Option<u64>,
}

/// Where and as what to sign in.
#[derive(Debug, Clone)]
pub struct SignIn {
    endpoints: Endpoints,
    tenant: String,
    client_id: String,
    scopes: Vec<String>,
    http: reqwest::Client,
}

fn to_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + serde::Serialize + 'static>(
    e: RequestTokenError<RE, T>,
    url: &str,
) -> EntraError {
    match e {
        RequestTokenError::ServerResponse(body) => aadsts_error(&serde_json::to_value(&body).unwrap_or_default()),
        RequestTokenError::Parse(_, body) => token_error_from_body(&body, url),
        RequestTokenError::Request(e) => EntraError::Http { url: url.to_string(), detail: e.to_string() },
        RequestTokenError::Other(detail) => EntraError::BadResponse { url: url.to_string(), detail },
    }
}

/// The sign-in endpoint's answer when it is not a token: Entra's error JSON (AADSTS code in
/// words), or anything else named as not an OAuth answer (a proxy's page, a truncated body).
pub fn token_error_from_body(body: &[u8], url: &str) -> EntraError {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) if v.get("error").is_some() => aadsts_error(&v),
        _ => EntraError::BadResponse {
            url: url.to_string(),
            detail: "an answer that is not an OAuth token response".into(),
        },
    }
}

/// The tokens of a token response, each wrapped as a secret.
pub fn tokens<TR: TokenResponse>(t: &TR) -> Tokens {
    Tokens {
        access: Secret::new(t.access_token().secret().clone()),
        refresh: t.refresh_token().map(|r| Secret::new(r.secret().clone())),
        expires_in_secs: t.expires_in().map(|d| d.as_secs()),
    }
}

impl SignIn {
    /// Sign-in to `tenant` (GUID, verified domain, or `organizations`) with `client_id`, asking for
    /// the wizard's permissions plus `offline_access` (so a re-run signs in silently).
    pub fn new(
        endpoints: Endpoints,
        tenant: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Result<SignIn, EntraError> {
        let mut scopes: Vec<String> = PERMISSIONS.iter().map(|p| endpoints.scope(p)).collect();
        scopes.extend(["offline_access".to_string(), "openid".into(), "profile".into()]);
        // No redirects: an OAuth endpoint that redirects is not one to follow (SSRF).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| EntraError::Http { url: "(client)".into(), detail: e.to_string() })?;
        Ok(SignIn { endpoints, tenant: tenant.into(), client_id: client_id.into(), scopes, http })
    }

    /// The endpoints in use.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn client(&self) -> Result<Client, EntraError> {
        self.client_with_device(self.endpoints.device_code_url(&self.tenant))
    }

    fn client_with_device(&self, device: String) -> Result<Client, EntraError> {
        let bad = |e: oauth2::url::ParseError| EntraError::BadResponse {
            url: self.endpoints.authority.clone(),
            detail: e.to_string(),
        };
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.endpoints.authorize_url(&self.tenant)).map_err(bad)?)
            .set_token_uri(oauth2::TokenUrl::new(self.endpoints.token_url(&self.tenant)).map_err(bad)?)
            .set_device_authorization_url(DeviceAuthorizationUrl::new(device).map_err(bad)?)
            .set_auth_type(AuthType::RequestBody))
    }

    /// The device authorization endpoint, as the tenant's OpenID Connect discovery document
    /// names it (`device_authorization_endpoint`, which Entra's v2.0 document carries). Taken
    /// only when it is on the authority's own origin; a document that names none, or one
    /// elsewhere, leaves the cloud's known endpoint (`{authority}/{tenant}/oauth2/v2.0/devicecode`).
    pub async fn device_endpoint(&self) -> String {
        let known = self.endpoints.device_code_url(&self.tenant);
        let discovery = format!("{}/{}/v2.0/.well-known/openid-configuration", self.endpoints.authority, self.tenant);
        let found = async {
            let resp = self.http.get(&discovery).send().timed(Kind::Http).await.ok()?;
            if !resp.status().is_success() {
                return None;
            }
            let doc: serde_json::Value = resp.json().await.ok()?;
            doc["device_authorization_endpoint"].as_str().map(str::to_string)
        }
        .await;
        match found {
            Some(url) if url.starts_with(&format!("{}/", self.endpoints.authority)) => url,
            Some(elsewhere) => {
                tracing::warn!(%elsewhere, "the discovery document names a device endpoint off the authority: not taken");
                known
            }
            None => known,
        }
    }

    fn scopes(&self) -> Vec<Scope> {
        self.scopes.iter().map(|s| Scope::new(s.clone())).collect()
    }

    /// Starts a device-code sign-in: the caller shows the code and the page, then calls
    /// [`DeviceFlow::finish`].
    pub async fn device(&self) -> Result<DeviceFlow, EntraError> {
        let url = self.device_endpoint().await;
        let client = self.client_with_device(url.clone())?;
        let details: StandardDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .timed(Kind::Http)
            .await
            .map_err(|e| to_error(e, &url))?;
        Ok(DeviceFlow { details, client, http: self.http.clone(), url: self.endpoints.token_url(&self.tenant) })
    }

    /// The resource-owner password grant. Only for the lab's simulator: real tenants with MFA refuse
    /// it (AADSTS50076), and passwords should never pass through an app.
    pub async fn password(&self, user: &str, password: &Secret) -> Result<Tokens, EntraError> {
        let url = self.endpoints.token_url(&self.tenant);
        let (u, p) =
            (ResourceOwnerUsername::new(user.to_string()), ResourceOwnerPassword::new(password.expose().to_string()));
        let resp = self
            .client()?
            .exchange_password(&u, &p)
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .timed(Kind::Http)
            .await
            .map_err(|e| to_error(e, &url))?;
        Ok(tokens(&resp))
    }

    /// Exchanges a refresh token (rotated: the answer carries the next one). The scopes are sent,
    /// as Entra expects; a server that granted fewer (RFC 6749 §6 forbids asking for more) answers
    /// invalid_scope, and the request is repeated without them, meaning "what was granted".
    pub async fn refresh(&self, refresh: &Secret) -> Result<Tokens, EntraError> {
        let url = self.endpoints.token_url(&self.tenant);
        let rt = RefreshToken::new(refresh.expose().to_string());
        let client = self.client()?;
        let first = client
            .exchange_refresh_token(&rt)
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .timed(Kind::Http)
            .await
            .map_err(|e| to_error(e, &url));
        let resp = match first {
            Err(EntraError::Aadsts { error, .. }) if error == "invalid_scope" => client
                .exchange_refresh_token(&rt)
                .request_async(&self.http)
                .timed(Kind::Http)
                .await
                .map_err(|e| to_error(e, &url))?,
            other => other?,
        };
        let mut t = tokens(&resp);
        if t.refresh.is_none() {
            t.refresh = Some(refresh.clone());
        }
        Ok(t)
    }

    /// The keyring entry holding this sign-in's refresh token.
    pub fn cache_key(&self) -> String {
        format!("entra-refresh:{}:{}:{}", self.endpoints.authority, self.tenant, self.client_id)
    }

    /// Signs in silently with the saved refresh token, saving its successor. `Ok(None)` when none
    /// is saved; a refused token (revoked, expired) is deleted and its error returned.
    pub async fn silent(&self, store: &dyn SecretStore) -> Result<Option<Tokens>, EntraError> {
        let Some(saved) = store.get(&self.cache_key())? else { return Ok(None) };
        match self.refresh(&saved).await {
            Ok(t) => {
                self.remember(store, &t)?;
                Ok(Some(t))
            }
            Err(e @ EntraError::Aadsts { .. }) => {
                store.delete(&self.cache_key())?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Saves the refresh token of a sign-in, so the next run signs in silently.
    pub fn remember(&self, store: &dyn SecretStore, t: &Tokens) -> Result<(), EntraError> {
        if let Some(rt) = &t.refresh {
            store.set(&self.cache_key(), rt)?;
        }
        Ok(())
    }

    /// Forgets the saved sign-in.
    pub fn sign_out(&self, store: &dyn SecretStore) -> Result<(), EntraError> {
        Ok(store.delete(&self.cache_key())?)
    }

    /// Authorization code with PKCE: listens on a loopback port, has `open` show the sign-in page
    /// (the system browser), waits for the redirect, and redeems the code. `redirect_host` is
    /// `localhost` for Entra (any port matches a registered `http://localhost`) or `127.0.0.1`.
    pub async fn browser(
        &self,
        redirect_host: &str,
        open: &(dyn Fn(String) -> Result<(), String> + Sync),
        cancel: &CancellationToken,
        timeout: Duration,
    ) -> Result<Tokens, EntraError> {
        let listener = Loopback::bind().await?;
        let port = listener.port;
        let redirect = format!("http://{redirect_host}:{port}/callback");
        let client = self
            .client()?
            .set_redirect_uri(RedirectUrl::new(redirect).map_err(|e| EntraError::Browser { detail: e.to_string() })?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) =
            client.authorize_url(CsrfToken::new_random).add_scopes(self.scopes()).set_pkce_challenge(challenge).url();
        open(url.to_string())
            .map_err(|detail| EntraError::Browser { detail: format!("cannot open the browser: {detail}") })?;
        let code = tokio::select! {
            _ = cancel.cancelled() => return Err(EntraError::Cancelled),
            _ = tokio::time::sleep(timeout) => return Err(EntraError::Browser { detail: format!("no sign-in came back within {} s", timeout.as_secs()) }),
            code = wait_for_code(&listener, state.secret()) => code?,
        };
        let token_url = self.endpoints.token_url(&self.tenant);
        let resp = client
            .exchange_code(AuthorizationCode::new(code.expose().to_string()))
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .timed(Kind::Http)
            .await
            .map_err(|e| to_error(e, &token_url))?;
        Ok(tokens(&resp))
    }
}

/// How long one connection to the redirect listener may take to send its request: an idle one
/// (a port scanner, another local process) is dropped instead of holding up the sign-in.
const REDIRECT_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads one request head, or `None` for a connection that stays idle or closes.
async fn read_head(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let read = async {
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        while len < buf.len() {
            let n = socket.read(&mut buf[len..]).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        String::from_utf8_lossy(&buf[..len]).into_owned()
    };
    tokio::time::timeout(REDIRECT_READ_TIMEOUT, read).await.ok().filter(|h| !h.is_empty())
}

async fn answer(socket: &mut tokio::net::TcpStream, status: &str, page: &str) {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>writeback-wizard</title></head><body><p>{page}</p></body></html>"
    );
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    let _ = socket.write_all(resp.as_bytes()).await;
}

/// The redirect's listener: one port on both loopback addresses, since `http://localhost:PORT`
/// (the URI the default client is registered for) may resolve to either (RFC 8252 §7.3 asks a
/// client to listen on both). Where the system has no IPv6 loopback, 127.0.0.1 alone.
pub struct Loopback {
    v4: tokio::net::TcpListener,
    v6: Option<tokio::net::TcpListener>,
    pub port: u16,
}

impl Loopback {
    /// Listens on a free port of 127.0.0.1 and the same of [::1].
    pub async fn bind() -> Result<Loopback, EntraError> {
        let mut last = None;
        // Another program may hold the port on [::1]: a few fresh ports, then IPv4 alone.
        for _ in 0..8 {
            let v4 = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| EntraError::Browser { detail: format!("cannot listen on a loopback port: {e}") })?;
            let port = v4.local_addr().map_err(|e| EntraError::Browser { detail: e.to_string() })?.port();
            match tokio::net::TcpListener::bind(("::1", port)).await {
                Ok(v6) => return Ok(Loopback { v4, v6: Some(v6), port }),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(v4),
                // No IPv6 loopback here: localhost is 127.0.0.1 alone.
                Err(_) => return Ok(Loopback { v4, v6: None, port }),
            }
        }
        let v4 = last.ok_or_else(|| EntraError::Browser { detail: "cannot listen on a loopback port".into() })?;
        let port = v4.local_addr().map_err(|e| EntraError::Browser { detail: e.to_string() })?.port();
        Ok(Loopback { v4, v6: None, port })
    }

    /// Whether it also listens on [::1].
    pub fn dual_stack(&self) -> bool {
        self.v6.is_some()
    }

    async fn accept(&self) -> std::io::Result<tokio::net::TcpStream> {
        match &self.v6 {
            Some(v6) => tokio::select! {
                a = self.v4.accept() => a.map(|(s, _)| s),
                a = v6.accept() => a.map(|(s, _)| s),
            },
            None => self.v4.accept().await.map(|(s, _)| s),
        }
    }
}

/// Accepts connections on the loopback listener until the redirect of this sign-in arrives. The
/// `state` is checked first: a request that does not carry this sign-in's state — a stray one, an
/// old tab, another local process — is answered and ignored, never taken as the answer (not even
/// as an error). Idle connections are dropped after [`REDIRECT_READ_TIMEOUT`].
pub async fn wait_for_code(listener: &Loopback, state: &str) -> Result<Secret, EntraError> {
    loop {
        let mut socket = listener.accept().await.map_err(|e| EntraError::Browser { detail: e.to_string() })?;
        let Some(head) = read_head(&mut socket).await else { continue };
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let Some(query) = target.strip_prefix("/callback?") else {
            let _ = socket.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            continue;
        };
        let params: std::collections::HashMap<String, String> =
            oauth2::url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        if params.get("state").map(String::as_str) != Some(state) {
            answer(&mut socket, "400 Bad Request", "This sign-in answer was not for this session.").await;
            continue;
        }
        let result = if let Some(error) = params.get("error") {
            let body = serde_json::json!({ "error": error, "error_description": params.get("error_description").cloned().unwrap_or_default() });
            answer(&mut socket, "200 OK", "The sign-in did not complete. Return to writeback-wizard for the reason.")
                .await;
            Err(aadsts_error(&body))
        } else if let Some(code) = params.get("code") {
            answer(&mut socket, "200 OK", "Signed in. You can close this tab and return to writeback-wizard.").await;
            Ok(Secret::new(code.clone()))
        } else {
            answer(&mut socket, "200 OK", "The sign-in answer had no code.").await;
            Err(EntraError::Browser { detail: "the redirect carried no code".into() })
        };
        return result;
    }
}

/// A device-code sign-in under way.
pub struct DeviceFlow {
    details: StandardDeviceAuthorizationResponse,
    client: Client,
    http: reqwest::Client,
    url: String,
}

impl std::fmt::Debug for DeviceFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceFlow").field("user_code", &self.user_code()).finish_non_exhaustive()
    }
}

impl DeviceFlow {
    /// The code the person types.
    pub fn user_code(&self) -> &str {
        self.details.user_code().secret()
    }
    /// Where they type it.
    pub fn verification_uri(&self) -> &str {
        self.details.verification_uri().as_str()
    }
    /// How long the code lives.
    pub fn expires_in(&self) -> Duration {
        self.details.expires_in()
    }
    /// The polling interval the server asked for (5 s when it names none).
    pub fn interval(&self) -> Duration {
        self.details.interval()
    }
    /// The sentence to show.
    pub fn message(&self) -> String {
        format!("To sign in, open {} in a browser and enter the code {}.", self.verification_uri(), self.user_code())
    }

    /// Polls until the person signs in, declines, or the code expires. Waits with `sleep`
    /// between polls (tokio's timer in production; tests move a clock instead), honouring the
    /// interval and slow_down. Cancel by dropping the future (e.g. with `tokio::select!`).
    pub async fn finish<S, F>(self, sleep: S) -> Result<Tokens, EntraError>
    where
        S: Fn(Duration) -> F + Send + Sync,
        F: Future<Output = ()> + Send,
    {
        let resp = self
            .client
            .exchange_device_access_token(&self.details)
            .request_async(&self.http, sleep, None)
            .await
            .map_err(|e| to_error(e, &self.url))?;
        Ok(tokens(&resp))
    }
}

/// Opens a sign-in page in the system browser.
pub fn open_in_browser(url: String) -> Result<(), String> {
    crate::platform::open_url(&url)
}

/// A shared handle to a secret store, for sign-ins that outlive one call.
pub type Store = Arc<dyn SecretStore>;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn send(port: u16, target: &str) -> String {
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        c.write_all(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        let _ = c.read_to_string(&mut out).await;
        out
    }

    #[tokio::test]
    async fn the_redirect_listener_takes_only_its_own_answer() {
        let listener = Loopback::bind().await.unwrap();
        let port = listener.port;
        let waiting = tokio::spawn(async move { wait_for_code(&listener, "our-state").await });
        // An idle connection holds nothing up for long; stray requests are answered and ignored,
        // an error without our state included.
        let _idle = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        assert!(send(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        assert!(send(port, "/callback?code=theirs&state=old-tab").await.starts_with("HTTP/1.1 400"));
        assert!(send(port, "/callback?error=access_denied").await.starts_with("HTTP/1.1 400"));
        assert!(!waiting.is_finished());
        assert!(send(port, "/callback?code=ours&state=our-state").await.contains("Signed in"));
        assert_eq!(waiting.await.unwrap().unwrap().expose(), "ours");
    }
}
