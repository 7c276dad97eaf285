//! The lab backend: the tenant simulator's sync engine (`{url}/lab/sync-engine`), with the
//! signed-in administrator's token, as the real sync engine needs a tenant administrator.

use serde_json::Value;

use super::{EngineState, SyncEngine, SyncError};
use crate::secrets::Secret;

/// The simulator's sync engine.
#[derive(Debug)]
pub struct LabEngine {
    base: String,
    token: Secret,
    http: reqwest::Client,
    /// With the cloudsync flavour, the switch's administrator (as the real module wants).
    credential: Option<super::cloudsync::Credential>,
}

impl LabEngine {
    /// The engine of the simulator at `base` (a loopback address: the lab's engine is never
    /// reached across a network), called with `token`.
    pub fn new(base: &str, token: Secret) -> Result<LabEngine, SyncError> {
        if !crate::is_loopback_url(base) {
            return Err(SyncError::Unavailable {
                detail: format!("the lab sync engine is reached on a loopback address only, not {base}"),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| SyncError::Lab { status: 0, detail: e.to_string() })?;
        Ok(LabEngine { base: base.trim_end_matches('/').to_string(), token, http, credential: None })
    }

    /// Replaces the credential (given in the wizard after the session was opened).
    pub fn set_credential(&mut self, credential: Option<super::cloudsync::Credential>) {
        self.credential = credential;
    }

    /// The administrator credential a cloudsync-flavoured switch sends.
    pub fn with_credential(self, credential: Option<super::cloudsync::Credential>) -> LabEngine {
        LabEngine { credential, ..self }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, SyncError> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(self.token.expose());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let _timed = crate::netstats::timed(crate::netstats::Kind::Http);
        let resp = req.send().await.map_err(|e| SyncError::Lab { status: 0, detail: e.to_string() })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            // The simulator's Cloud Sync switch refuses as the real module does.
            let doc: Value = serde_json::from_str(&text).unwrap_or_default();
            let detail = doc["error"]["message"].as_str().unwrap_or_default().to_string();
            return Err(match doc["error"]["code"].as_str() {
                Some("CredentialRequired") => SyncError::NeedsCredential,
                Some("CredentialRefused") => SyncError::CredentialRefused { detail },
                _ => SyncError::Lab { status, detail: text.chars().take(300).collect() },
            });
        }
        serde_json::from_str(&text).map_err(|e| SyncError::Lab { status, detail: format!("not JSON: {e}") })
    }
}

impl LabEngine {
    /// The lab sync server's writeback events (`GET /lab/sync-engine/events`), in the shape
    /// `Get-WinEvent | Select-Object Id, ProviderName, TimeCreated, LevelDisplayName, Message |
    /// ConvertTo-Json` prints.
    pub async fn events(&self) -> Result<Vec<super::WinEvent>, SyncError> {
        let doc = self.call(reqwest::Method::GET, "/lab/sync-engine/events", None).await?;
        super::WinEvent::parse_list(&doc).map_err(|detail| SyncError::Lab { status: 200, detail })
    }

    /// Reads `GET /lab/sync-engine`'s document (public for tests).
    pub fn parse_state(v: &Value) -> EngineState {
        let cloudsync = v["flavour"].as_str() == Some("cloudsync");
        EngineState {
            backend: crate::SyncEngineKind::Lab,
            flavour: if cloudsync { crate::SyncEngineKind::Cloudsync } else { crate::SyncEngineKind::Adsync },
            writeback_enabled: v["writeback_enabled"].as_bool().unwrap_or(false),
            writeback_readable: true,
            last_sync_cycle: v["last_sync_cycle"].as_str().map(String::from),
            version: if cloudsync { None } else { v["version"].as_str().map(String::from) },
            installed_version: v["version"].as_str().map(String::from),
            staging_mode: (!cloudsync).then(|| v["staging_mode"].as_bool()).flatten(),
            sync_cycle_enabled: v["sync_cycle_enabled"].as_bool(),
            scheduler_suspended: (!cloudsync).then(|| v["scheduler_suspended"].as_bool()).flatten(),
            agent_account: v["agent_account"].as_str().map(String::from),
            ad_connectors: v["ad_connectors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    let (domain, user) = c["account"].as_str()?.split_once('\\')?;
                    Some(super::AdConnector {
                        name: c["forest"].as_str()?.to_string(),
                        domain: domain.to_string(),
                        user: user.to_string(),
                        domains: c["domains"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|d| d.as_str().map(String::from))
                            .collect(),
                    })
                })
                .collect(),
            switch: crate::SwitchCalls {
                on: r#"POST /lab/sync-engine {"writeback_enabled": true}"#.into(),
                off: r#"POST /lab/sync-engine {"writeback_enabled": false}"#.into(),
            },
            ..EngineState::default()
        }
    }
}

impl SyncEngine for LabEngine {
    fn name(&self) -> &'static str {
        "lab"
    }
    async fn state(&self) -> Result<EngineState, SyncError> {
        let v = self.call(reqwest::Method::GET, "/lab/sync-engine", None).await?;
        Ok(Self::parse_state(&v))
    }
    async fn set_writeback(&self, enabled: bool) -> Result<(), SyncError> {
        let mut body = serde_json::json!({ "writeback_enabled": enabled });
        if let Some(c) = &self.credential {
            body["credential"] = serde_json::json!({ "user": c.user, "password": c.password.expose() });
        }
        self.call(reqwest::Method::POST, "/lab/sync-engine", Some(body)).await.map(|_| ())
    }
    async fn start_sync_cycle(&self) -> Result<(), SyncError> {
        self.call(reqwest::Method::POST, "/lab/sync-engine/sync-cycle", None).await.map(|_| ())
    }
}
