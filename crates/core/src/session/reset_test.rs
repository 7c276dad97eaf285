//! The test reset: a password reset started in the cloud (Graph's resetPassword, as an
//! administrator resets a synced user's password) and followed hop by hop to the DC, and on the
//! sync server, its writeback events. Unlike the canary it needs no connector password: the sync
//! engine writes as the connector with the credentials it holds.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Error, Session};
use crate::ad::{directory, policy};
use crate::sync_engine::{Backend, WinEvent};

/// Graph's password method id: the same for every user (Graph's resetPassword page).
const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// One hop of the trace.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub name: &'static str,
    pub ok: bool,
    /// How long the hop took.
    pub ms: u64,
    /// What was seen (the DC that answered, the operation's status, the events' ids…).
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

/// The trace of a test reset.
#[derive(Debug, Clone, Serialize)]
pub struct ResetTrace {
    /// The test user's DN.
    pub user: String,
    pub hops: Vec<Hop>,
    /// The reset reached the DC.
    pub reached: bool,
    /// What could not be looked at, and why.
    pub not_checked: Vec<String>,
    /// The new password, only when asked to show it (never serialized, never logged: the front
    /// shows it once and drops it).
    #[serde(skip)]
    pub password: Option<crate::secrets::Secret>,
}

/// The hops' names, in order.
pub mod hops {
    pub const USER: &str = "test user";
    pub const CLOUD_USER: &str = "synced user in the tenant";
    pub const ACCEPTED: &str = "Graph accepted the reset";
    pub const OPERATION: &str = "the reset operation";
    pub const DC: &str = "the DC shows the new password";
    pub const EVENTS: &str = "the sync server's events";
    pub const AUDIT: &str = "the tenant's audit log";
}

struct Timer(Instant);

impl Timer {
    fn hop(&self, name: &'static str, ok: bool, detail: String) -> Hop {
        Hop { name, ok, ms: self.0.elapsed().as_millis() as u64, detail, code: None, event_id: None, remedy: None }
    }
}

impl Hop {
    fn failed(mut self, code: &str, remedy: &str) -> Hop {
        self.code = Some(code.into());
        self.remedy = Some(remedy.into());
        self
    }
}

/// Remedies of the admin-reset writeback events (reference/writeback-events.csv).
fn event_remedy(id: u32) -> Option<&'static str> {
    Some(match id {
        33002 => {
            "The user was not found on premises by the sync engine: check that the user lies under a domain and OU the AD connector synchronises."
        }
        33004 => {
            "The connector account may not set this user's password: grant writeback on an OU holding the user (apply --enable with that scope), and look for a deny or adminCount=1 on the user (ad check)."
        }
        33005 => "The account is disabled on premises: enable it, or test with another user.",
        33008 => {
            "The new password breaks the on-premises password policy (length, complexity, history or minimum age): check the policy that applies to the user (policy test USER)."
        }
        33009 => "An AD configuration problem stopped the write: check the connector account's sign-in to its DC.",
        33001 | 31011 => "Active Directory refused the write: the event's message gives its reason.",
        _ => return None,
    })
}

impl Session {
    /// Resets `user`'s password from the cloud and follows it to the DC. `timeout` bounds the
    /// wait for Graph's long-running operation; with `reveal` the trace carries the new password.
    pub async fn reset_test(
        &mut self,
        user: &str,
        timeout: Duration,
        reveal: bool,
        cancel: &CancellationToken,
    ) -> Result<ResetTrace, Error> {
        let mut hops = Vec::new();
        let mut not_checked = Vec::new();
        // 1. The test user, on the DC: a person, never an account that matters.
        let t = Timer(Instant::now());
        let mut at = 0;
        for (i, f) in self.forests.iter_mut().enumerate() {
            if f.ad.account(user).await?.is_some() {
                at = i;
                break;
            }
        }
        let f = &mut self.forests[at];
        let account = f.ad.account(user).await?.ok_or(crate::ad::AdError::NoSuchAccount { name: user.to_string() })?;
        if let Some(why) = directory::not_a_person(&mut f.ad.conn, &f.ad.disc, &account).await? {
            return Err(crate::engine::EngineError::CanaryRefused { user: account.dn, why }.into());
        }
        if account.admin_count {
            return Err(crate::engine::EngineError::CanaryRefused {
                user: account.dn,
                why: "it is a protected account (adminCount=1): writeback does not serve it".into(),
            }
            .into());
        }
        let same = |a: Option<&directory::Account>| a.is_some_and(|a| a.dn.eq_ignore_ascii_case(&account.dn));
        if same(Some(&f.ad.account)) || same(f.connector.as_ref()) {
            return Err(crate::engine::EngineError::CanaryRefused {
                user: account.dn,
                why: "it is the account you signed in with, or the connector account".into(),
            }
            .into());
        }
        let dc = f.ad.disc.dc_name.clone();
        let before = account.pwd_last_set.unwrap_or(0);
        hops.push(t.hop(hops::USER, true, format!("{} on {dc}", account.dn)));

        let Some(Ok(entra)) = &self.entra else {
            let why = match &self.entra {
                Some(Err(e)) => e.to_string(),
                _ => "not signed in to the tenant".into(),
            };
            hops.push(
                Timer(Instant::now()).hop(hops::CLOUD_USER, false, why).failed(
                    "RESET-TEST-NOT-RUN",
                    "Sign in to the tenant (entra check shows how) and run the test again.",
                ),
            );
            return Ok(ResetTrace { user: account.dn, hops, reached: false, not_checked, password: None });
        };

        // 2. The same person in the tenant, synced: matched by the on-premises SID.
        let t = Timer(Instant::now());
        let upn = account.user_principal_name.clone().unwrap_or_else(|| {
            format!(
                "{}@{}",
                account.sam_account_name,
                f.ad.disc.domain_of(&account.dn).map(|d| d.dns_name.clone()).unwrap_or_default()
            )
        });
        let select = "id,userPrincipalName,onPremisesSyncEnabled,onPremisesSecurityIdentifier";
        let cloud = entra.graph.get(&format!("/users/{}?$select={select}", encode(&upn)), false).await;
        let cloud_id = match cloud {
            Ok(v) if v["onPremisesSecurityIdentifier"].as_str() == Some(account.sid.as_str()) => {
                hops.push(t.hop(hops::CLOUD_USER, true, format!("{upn} ({})", v["id"].as_str().unwrap_or_default())));
                v["id"].as_str().unwrap_or_default().to_string()
            }
            Ok(v) => {
                hops.push(
                    t.hop(
                        hops::CLOUD_USER,
                        false,
                        format!(
                            "{upn} in the tenant is not this user (on-premises SID {})",
                            v["onPremisesSecurityIdentifier"]
                        ),
                    )
                    .failed(
                        "RESET-TEST-NOT-SYNCED",
                        "Choose a user the sync engine synchronises (its cloud account carries the on-premises SID).",
                    ),
                );
                return Ok(ResetTrace { user: account.dn, hops, reached: false, not_checked, password: None });
            }
            Err(e) => {
                hops.push(t.hop(hops::CLOUD_USER, false, e.to_string()).failed(
                    "RESET-TEST-NOT-SYNCED",
                    "The user is not in the tenant: run a sync cycle (apply --start-sync, or Start-ADSyncSyncCycle -PolicyType Delta on the sync server) and check that the user is in a synchronised OU.",
                ));
                return Ok(ResetTrace { user: account.dn, hops, reached: false, not_checked, password: None });
            }
        };

        // 3. A password the user's policy takes, sent once and never kept.
        let effective = policy::effective_policy(&mut f.ad.conn, &f.ad.disc, &account.dn).await?;
        let len = 24.max(effective.min_length as usize + 4);
        let mut password = crate::ad::passgen::generate_os(len);
        for _ in 0..20 {
            if policy::test_password(&effective, &account, &password, None).acceptable {
                break;
            }
            password = crate::ad::passgen::generate_os(len);
        }
        let t = Timer(Instant::now());
        let posted = entra
            .graph
            .post_accepted(
                &format!("/users/{cloud_id}/authentication/methods/{PASSWORD_METHOD_ID}/resetPassword"),
                &json!({ "newPassword": password.expose() }),
            )
            .await;
        let shown = (reveal && posted.is_ok()).then(|| password.clone());
        drop(password);
        let (location, retry) = match posted {
            Ok((Some(l), r)) => {
                hops.push(t.hop(hops::ACCEPTED, true, "202 Accepted".into()));
                (l, r)
            }
            Ok((None, _)) => {
                hops.push(t.hop(hops::ACCEPTED, false, "202 Accepted without a Location".into()).failed(
                    "RESET-TEST-NO-OPERATION",
                    "Graph gave no operation to follow: check the user's password in the portal (Users > the user > Reset password).",
                ));
                return Ok(ResetTrace { user: account.dn, hops, reached: false, not_checked, password: shown });
            }
            Err(e) => {
                let (code, remedy) = match &e {
                    crate::entra::EntraError::Graph { status: 401 | 403, .. } => (
                        "RESET-TEST-NOT-RUN",
                        "Not run: the reset needs the delegated permission UserAuthenticationMethod.ReadWrite.All (an administrator consents to it for this app under Enterprise applications > Permissions) and a role that may reset this user: Authentication Administrator, Privileged Authentication Administrator, Password, Helpdesk or User Administrator, or Global Administrator.",
                    ),
                    _ => ("RESET-TEST-REFUSED", "Graph refused the reset: its message says why."),
                };
                hops.push(t.hop(hops::ACCEPTED, false, e.to_string()).failed(code, remedy));
                return Ok(ResetTrace { user: account.dn, hops, reached: false, not_checked, password: None });
            }
        };
        let started = crate::clock::rfc3339(self.opts.clock.now() - Duration::from_secs(5));

        // 4. The long-running operation, polled to its end.
        let t = Timer(Instant::now());
        let wait = Duration::from_secs(retry.unwrap_or(1).clamp(1, 10));
        let operation = loop {
            match entra.graph.get(&location, false).await {
                Ok(v) if matches!(v["status"].as_str(), Some("succeeded" | "failed")) => break Ok(v),
                Ok(_) => {}
                Err(e) => break Err(e.to_string()),
            }
            if t.0.elapsed() + wait > timeout {
                break Err(format!("the operation had not finished after {} s", timeout.as_secs()));
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => break Err("cancelled".into()),
            }
        };
        let succeeded = match &operation {
            Ok(v) if v["status"] == "succeeded" => {
                hops.push(t.hop(hops::OPERATION, true, "succeeded".into()));
                true
            }
            Ok(v) => {
                let detail = v["statusDetail"].as_str().unwrap_or("failed").to_string();
                hops.push(t.hop(hops::OPERATION, false, detail.clone()).failed(
                    "RESET-TEST-FAILED",
                    if detail.contains("not enabled") {
                        "Password writeback is off: turn it on (apply --enable)."
                    } else if detail.contains("staging") {
                        "The sync server is in staging mode: writeback runs on the active server only."
                    } else {
                        "The sync server's events below say why."
                    },
                ));
                false
            }
            Err(e) => {
                hops.push(t.hop(hops::OPERATION, false, e.clone()).failed(
                    "RESET-TEST-TIMEOUT",
                    "Graph's operation did not finish in time: check that the sync server runs (ADSync service, PasswordResetService events) and try again with a longer --reset-timeout.",
                ));
                false
            }
        };

        // 5. On the DC: pwdLastSet moved.
        let t = Timer(Instant::now());
        let now = f.ad.account(&account.dn).await?.and_then(|a| a.pwd_last_set).unwrap_or(0);
        let reached = now > before;
        let dc_hop = t.hop(
            hops::DC,
            reached,
            if reached { format!("pwdLastSet changed on {dc}") } else { format!("pwdLastSet unchanged on {dc}") },
        );
        hops.push(if reached || !succeeded {
            dc_hop
        } else {
            dc_hop.failed(
                "RESET-TEST-NOT-ON-DC",
                "The cloud says the reset succeeded but this DC has not seen it: wait for replication from the DC the sync engine wrote to, and test again.",
            )
        });

        // 6. The sync server's events for this user since the request.
        let t = Timer(Instant::now());
        match self.sync_events().await {
            Ok(events) => {
                let mut mine: Vec<&WinEvent> =
                    events.iter().filter(|e| e.time_created >= started && e.message.contains(&upn)).collect();
                // This reset's events start at its ResetUserPasswordByAdminStart (31009): an
                // earlier reset of the same user in the window is not this one.
                if let Some(i) = mine.iter().rposition(|e| e.id == 31009) {
                    mine.drain(..i);
                }
                let ids: Vec<String> = mine.iter().map(|e| e.id.to_string()).collect();
                let failure = mine.iter().find(|e| (33001..=33009).contains(&e.id));
                let mut hop = t.hop(hops::EVENTS, failure.is_none() && !mine.is_empty(), ids.join(", "));
                if let Some(e) = failure {
                    hop.code = Some("RESET-TEST-EVENT".into());
                    hop.event_id = Some(e.id);
                    hop.detail = format!("{}: {}", e.id, e.message);
                    hop.remedy = event_remedy(e.id).map(String::from);
                } else if mine.is_empty() {
                    hop.code = Some("RESET-TEST-NO-EVENTS".into());
                    hop.remedy = Some("No writeback event reached the sync server: the reset never got there (writeback off, staging mode, or the service stopped).".into());
                }
                hops.push(hop);
            }
            Err(e) => not_checked.push(format!("the sync server's events: {e}")),
        }
        // 7. The tenant's audit log, where the administrator consented to reading it: the reset
        // as Entra recorded it, and which agent wrote it on premises.
        let t = Timer(Instant::now());
        let filter = format!("activityDisplayName eq 'Reset password (by admin)' and activityDateTime ge {started}");
        let path = format!("/auditLogs/directoryAudits?$filter={}&$orderby=activityDateTime%20desc", encode(&filter));
        match entra.graph.get(&path, false).await {
            Ok(v) => {
                let entry = v["value"].as_array().into_iter().flatten().find(|a| {
                    a["targetResources"].as_array().into_iter().flatten().any(|r| r["id"].as_str() == Some(cloud_id.as_str()))
                });
                match entry {
                    Some(a) => {
                        let agent = a["additionalDetails"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|d| d["key"] == "OnPremisesAgent")
                            .and_then(|d| d["value"].as_str())
                            .unwrap_or("not given");
                        let ok = a["result"] == "success";
                        let hop = t.hop(hops::AUDIT, ok, format!("Reset password (by admin): {}, on-premises agent {agent}", a["result"].as_str().unwrap_or("?")));
                        hops.push(if ok { hop } else { hop.failed("RESET-TEST-AUDIT", "Entra recorded the reset as failed: the hops above say where it stopped.") });
                    }
                    None => not_checked.push("the tenant's audit log: the reset is not in it yet (entries can take minutes to appear)".into()),
                }
            }
            Err(crate::entra::EntraError::Graph { status: 401 | 403, .. }) => not_checked.push(
                "the tenant's audit log: reading it needs AuditLog.Read.All and Directory.Read.All, consented for this app".into(),
            ),
            Err(e) => not_checked.push(format!("the tenant's audit log: {e}")),
        }
        Ok(ResetTrace { user: account.dn, hops, reached, not_checked, password: shown })
    }
}

impl Session {
    /// The sync server's writeback events: Entra Connect's through Get-WinEvent, the lab sync
    /// engine's from the simulator. Cloud Sync's agent logs elsewhere: not read.
    pub async fn sync_events(&self) -> Result<Vec<WinEvent>, Error> {
        match &self.backend {
            Ok(Backend::AdSync(a)) => Ok(a.events().await?),
            Ok(Backend::Lab(l)) => Ok(l.events().await?),
            Ok(Backend::CloudSync(_)) => Err(Error::Usage {
                message: "the Cloud Sync agent does not log writeback to the Entra Connect event sources".into(),
                remedy: "Export the events you want explained (Get-WinEvent … | Select-Object Id, ProviderName, TimeCreated, LevelDisplayName, Message | ConvertTo-Json) and give the file with --events.".into(),
            }),
            Err(e) => Err(e.clone().into()),
        }
    }
}

/// A UPN in a URL path: what is not unreserved is percent-encoded.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The events' JSON as the lab prints it, for the fuzz target and tests.
pub fn parse_events(text: &str) -> Result<Vec<WinEvent>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    WinEvent::parse_list(&doc)
}
