//! The whole state in one read: each target's writeback ACEs, the sync engine's switch, the
//! tenant's readiness, and an unfinished apply if one was left.

use std::path::PathBuf;

use serde::Serialize;

use super::EngineError;
use super::plan::{Inputs, Surveyed, survey};
use crate::ad::sd::sddl::persisted;
use crate::ad::writeback::TargetKind;
use crate::entra::check::EntraCheck;
use crate::sync_engine::EngineState;

/// Writeback as a whole. Serialised as `enabled`, `disabled`, `partial` (the CLI contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WritebackState {
    /// Every permission in place, the sync engine's switch on, the tenant ready.
    Enabled,
    /// None of ours in place and the switch off.
    Disabled,
    /// Anything in between.
    Partial,
}

impl WritebackState {
    /// The contract's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            WritebackState::Enabled => "enabled",
            WritebackState::Disabled => "disabled",
            WritebackState::Partial => "partial",
        }
    }
}

impl std::fmt::Display for WritebackState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for WritebackState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One target's ACEs in the status.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    pub dn: String,
    /// Each wanted ACE and whether it is in place.
    pub aces: Vec<AceStatus>,
    pub inheritance_blocked: bool,
}

/// One wanted ACE in the status.
#[derive(Debug, Clone, Serialize)]
pub struct AceStatus {
    pub sddl: String,
    /// In words.
    pub description: String,
    /// Present explicitly (or, for Unexpire Password, held through a broader grant).
    pub present: bool,
}

/// `status`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub state: WritebackState,
    /// The tenant check, when made.
    pub tenant: Option<EntraCheck>,
    pub ad: AdStatus,
    pub sync_engine: Option<EngineState>,
    /// What is missing for "enabled", in words.
    pub missing: Vec<String>,
    /// An apply that neither completed nor rolled back.
    pub unfinished_journal: Option<PathBuf>,
}

/// The AD part of the status.
#[derive(Debug, Clone, Serialize)]
pub struct AdStatus {
    /// Which DC answered and how the connection is protected (set by the session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<crate::ad::signin::Protection>,
    pub scopes: Vec<TargetStatus>,
    /// Where the connector account came from, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_source: Option<String>,
}

/// Microsoft's repair of the Cloud Sync agent's writeback permissions.
pub const CLOUDSYNC_REPAIR: &str = "the Cloud Sync agent's account lacks writeback permissions: `writeback-wizard apply --enable` grants them, or Microsoft's own repair on the agent's server: Import-Module 'C:\\Program Files\\Microsoft Azure AD Connect Provisioning Agent\\Microsoft.CloudSync.Powershell.dll'; Set-AADCloudSyncPermissions -PermissionType PasswordWriteBack -EACredential $(Get-Credential) (an Enterprise Admin's credential; the change can take an hour to reach every object)";

/// The whole state in one call.
pub async fn status(inp: &mut Inputs<'_>, unfinished_journal: Option<PathBuf>) -> Result<Status, EngineError> {
    let mut scopes = Vec::new();
    let mut missing = Vec::new();
    let mut present_any = false;
    if inp.connector.is_some() {
        for Surveyed { dn, kind, wanted, inheritance_blocked, lacking, .. } in survey(inp).await? {
            let aces: Vec<AceStatus> = wanted
                .iter()
                .map(|w| AceStatus {
                    sddl: persisted::text(&w.ace),
                    description: w.description.clone(),
                    present: !lacking.contains(&w.ace),
                })
                .collect();
            for a in aces.iter().filter(|a| !a.present) {
                missing.push(format!("{} on {dn}", a.description));
            }
            present_any |= kind != TargetKind::DomainRoot && aces.iter().any(|a| a.present);
            scopes.push(TargetStatus { dn, aces, inheritance_blocked });
        }
    } else {
        missing.push("the AD DS connector account is not known (--connector-account)".into());
    }
    // With Cloud Sync, Microsoft's own repair for the agent's gMSA (its writeback tutorial,
    // Troubleshooting): said beside what is missing on AD's side.
    let lacks_aces = missing.iter().any(|m| m.contains(" on "));
    if lacks_aces && inp.sync.as_ref().is_ok_and(|s| s.flavour == crate::types::SyncEngineKind::Cloudsync) {
        missing.push(CLOUDSYNC_REPAIR.into());
    }
    let sync_engine = inp.sync.as_ref().ok().cloned();
    let writeback_on = sync_engine.as_ref().is_some_and(|s| s.writeback_enabled);
    match &inp.sync {
        Ok(s) if !s.writeback_readable => missing.push(format!(
            "the writeback switch of the sync engine ({}) cannot be read: check it in the Entra admin center (Password reset > On-premises integration)",
            s.backend
        )),
        Ok(s) if !s.writeback_enabled => {
            missing.push(format!("password writeback is off in the sync engine ({})", s.backend))
        }
        Err(e) => missing.push(format!("the sync engine could not be read: {e}")),
        _ => {}
    }
    let tenant = inp.tenant.as_ref().and_then(|t| t.as_ref().ok()).cloned();
    if let Some(t) = &tenant {
        missing.extend(t.problems.iter().cloned());
    }
    let state = if missing.is_empty() {
        WritebackState::Enabled
    } else if !present_any && !writeback_on {
        WritebackState::Disabled
    } else {
        WritebackState::Partial
    };
    Ok(Status {
        state,
        tenant,
        ad: AdStatus { connection: None, scopes, connector_source: inp.connector_source.clone() },
        sync_engine,
        missing,
        unfinished_journal,
    })
}
