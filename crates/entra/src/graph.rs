//! A small Microsoft Graph client: bearer token, timeouts, retries on 429/503/504 honouring
//! Retry-After within a total deadline, `@odata.nextLink` paging, Graph's error body kept whole.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::EntraError;
use crate::secrets::Secret;

/// Waits between retries. Injected so tests can check the waits without waiting.
pub trait Sleeper: Send + Sync {
    /// Waits `d`.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Whether `next` (an `@odata.nextLink`) is on the same scheme, host and port as the Graph base
/// the client was made for: the bearer token goes to that host and no other. A relative link is.
pub fn same_origin(base: &str, next: &str) -> bool {
    let origin = |u: &str| -> Option<String> {
        let (scheme, rest) = u.split_once("://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
    };
    if !next.contains("://") {
        return next.starts_with('/');
    }
    matches!((origin(base), origin(next)), (Some(a), Some(b)) if a == b)
}

/// Waits on the tokio timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// How long a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most one answer may hold: the largest collection page Graph sends is far smaller, and an
/// answer past it (a proxy, a broken server) is refused rather than read into memory.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The most items a collection read keeps (the tenant checks read a few dozen).
pub const MAX_ITEMS: usize = 50_000;
/// How long retries may wait in all before giving up.
pub const RETRY_DEADLINE: Duration = Duration::from_secs(120);

/// A Graph client for one signed-in token.
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    token: Secret,
    sleeper: Arc<dyn Sleeper>,
    deadline: Duration,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient").field("base", &self.base).field("token", &self.token).finish_non_exhaustive()
    }
}

impl GraphClient {
    /// A client for Graph v1.0 at `base` (e.g. `https://graph.microsoft.com/v1.0`).
    pub fn new(base: impl Into<String>, token: Secret) -> Result<GraphClient, EntraError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("writeback-wizard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EntraError::Http { url: "(client)".into(), detail: e.to_string() })?;
        Ok(GraphClient {
            http,
            base: base.into().trim_end_matches('/').to_string(),
            token,
            sleeper: Arc::new(TokioSleeper),
            deadline: RETRY_DEADLINE,
        })
    }

    /// Replaces the sleeper (tests).
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> GraphClient {
        self.sleeper = sleeper;
        self
    }

    /// Replaces the retry deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> GraphClient {
        self.deadline = deadline;
        self
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// GET a JSON document, with retries. `eventual` adds `ConsistencyLevel: eventual` (Graph's
    /// advanced queries need it).
    pub async fn get(&self, path: &str, eventual: bool) -> Result<Value, EntraError> {
        self.send(reqwest::Method::GET, path, eventual, None).await.map(|v| v.unwrap_or(Value::Null))
    }

    /// PATCH a JSON body; Graph answers 204.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<(), EntraError> {
        self.send(reqwest::Method::PATCH, path, false, Some(body)).await.map(|_| ())
    }

    /// POST an action that Graph answers with 202 Accepted and a long-running operation: once
    /// (an action is not repeated on a retry). Returns the operation's URL (`Location`), refused
    /// unless it is on Graph's own origin (the token goes there next), and `Retry-After`.
    pub async fn post_accepted(&self, path: &str, body: &Value) -> Result<(Option<String>, Option<u64>), EntraError> {
        let url = self.url(path);
        let timed = crate::netstats::timed(crate::netstats::Kind::Http);
        let resp = self
            .http
            .post(&url)
            .bearer_auth(self.token.expose())
            .header("Accept", "application/json")
            .json(body)
            .send()
            .await
            .map_err(|e| EntraError::Http { url: url.clone(), detail: e.to_string() })?;
        drop(timed);
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
        let request_id = header("request-id").unwrap_or_default();
        let location = header("location");
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        if (200..300).contains(&status) {
            if let Some(l) = location.as_deref().filter(|l| !same_origin(&self.base, l)) {
                return Err(EntraError::BadResponse {
                    url,
                    detail: format!(
                        "the operation's Location points away from Graph ({}): not followed",
                        l.chars().take(120).collect::<String>()
                    ),
                });
            }
            return Ok((location, retry_after));
        }
        let text = read_capped(resp, &url).await?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        Err(error_from_body(status, json.as_ref(), &text, request_id))
    }

    /// GET every page of a collection, following `@odata.nextLink`.
    pub async fn get_all(&self, path: &str, eventual: bool) -> Result<Vec<Value>, EntraError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 1000 || items.len() > MAX_ITEMS {
                return Err(EntraError::BadResponse {
                    url,
                    detail: format!("more than {MAX_ITEMS} items or 1000 pages: not read further"),
                });
            }
            let page = self.get(&url, eventual).await?;
            match page.get("value").and_then(Value::as_array) {
                Some(list) => items.extend(list.iter().cloned()),
                None => return Err(EntraError::BadResponse { url, detail: "a collection without \"value\"".into() }),
            }
            next = page.get("@odata.nextLink").and_then(Value::as_str).map(String::from);
            if let Some(n) = next.as_deref().filter(|n| !same_origin(&self.base, n)) {
                return Err(EntraError::BadResponse {
                    url,
                    detail: format!(
                        "the next page points away from Graph ({}): not followed",
                        n.chars().take(120).collect::<String>()
                    ),
                });
            }
        }
        Ok(items)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        eventual: bool,
        body: Option<&Value>,
    ) -> Result<Option<Value>, EntraError> {
        let url = self.url(path);
        let mut attempts = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            attempts += 1;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.token.expose())
                .header("Accept", "application/json");
            if eventual {
                req = req.header("ConsistencyLevel", "eventual");
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let timed = crate::netstats::timed(crate::netstats::Kind::Http);
            let resp = req.send().await.map_err(|e| EntraError::Http {
                url: url.clone(),
                detail: if e.is_timeout() {
                    format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
                } else {
                    e.to_string()
                },
            })?;
            let status = resp.status().as_u16();
            let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
            let request_id = header("request-id").unwrap_or_default();
            let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
            if matches!(status, 429 | 503 | 504) {
                // Retry-After when given, else exponential backoff: 1, 2, 4 … 30 s.
                let wait = Duration::from_secs(
                    retry_after.unwrap_or_else(|| (1u64 << attempts.min(5).saturating_sub(1)).min(30)),
                );
                if waited + wait > self.deadline {
                    return Err(EntraError::Throttled { status, attempts, waited_secs: waited.as_secs(), request_id });
                }
                tracing::info!(status, wait_secs = wait.as_secs(), attempts, "Graph asked to retry");
                drop(timed); // the wait is ours, not the network's
                self.sleeper.sleep(wait).await;
                waited += wait;
                continue;
            }
            if status == 204 {
                return Ok(None);
            }
            let text = read_capped(resp, &url).await?;
            drop(timed);
            let json: Option<Value> = serde_json::from_str(&text).ok();
            if (200..300).contains(&status) {
                return json
                    .map(Some)
                    .ok_or_else(|| EntraError::BadResponse { url: url.clone(), detail: "not JSON".into() });
            }
            return Err(error_from_body(status, json.as_ref(), &text, request_id));
        }
    }
}

/// An answer's body as text, refused past [`MAX_BODY_BYTES`] (read chunk by chunk, so a huge one
/// is never held whole).
async fn read_capped(mut resp: reqwest::Response, url: &str) -> Result<String, EntraError> {
    let mut body = Vec::new();
    while let Some(chunk) =
        resp.chunk().await.map_err(|e| EntraError::Http { url: url.to_string(), detail: e.to_string() })?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(EntraError::BadResponse {
                url: url.to_string(),
                detail: format!("an answer larger than {} MiB: not read further", MAX_BODY_BYTES / (1024 * 1024)),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Graph's error answer in our terms: its `error.code`, message (at most 500 characters: a proxy's
/// HTML page is not shown whole) and the request-id Microsoft support asks for — from the body,
/// else from the `request-id` header.
pub fn error_from_body(status: u16, json: Option<&Value>, text: &str, header_request_id: String) -> EntraError {
    let err = json.map(|j| &j["error"]);
    EntraError::Graph {
        status,
        code: err.and_then(|e| e["code"].as_str()).unwrap_or("unknown").to_string(),
        message: err.and_then(|e| e["message"].as_str()).unwrap_or(text.trim()).chars().take(500).collect(),
        request_id: err
            .and_then(|e| e["innerError"]["request-id"].as_str())
            .map(String::from)
            .unwrap_or(header_request_id),
        date: err.and_then(|e| e["innerError"]["date"].as_str()).unwrap_or("").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn next_links_are_followed_only_on_the_clouds_graph_host() {
        let base = "https://graph.microsoft.us/v1.0";
        assert!(same_origin(base, "https://graph.microsoft.us/v1.0/users?$skiptoken=x"));
        assert!(same_origin(base, "https://GRAPH.microsoft.us/v1.0/users"));
        assert!(!same_origin(base, "https://graph.microsoft.com/v1.0/users?$skiptoken=x"), "another cloud");
        assert!(!same_origin(base, "https://evil.example/v1.0/users"));
        assert!(!same_origin(base, "https://graph.microsoft.us.evil.example/v1.0"));
        assert!(!same_origin(base, "http://graph.microsoft.us/v1.0/users"), "not downgraded");
        assert!(!same_origin(base, "https://graph.microsoft.us:8443/v1.0/users"));
        assert!(same_origin("http://127.0.0.1:41234/v1.0", "http://127.0.0.1:41234/v1.0/users?page=2"));
    }
}
