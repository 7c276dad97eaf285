//! The whole state in one read: each target's writeback ACEs, the sync engine's switch, the
//! tenant's readiness, and an unfinished apply if one was left.

use std::path::PathBuf;

use serde::Serialize;

use super::EngineError;
use super::plan::{Inputs, Surveyed, Uncovered, survey};
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
    /// The forest (DNS name) it is in.
    pub forest: String,
    /// The domain (DNS name) it is in.
    pub domain: Option<String>,
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
    /// Which DC answered and how the connection is protected (the first forest's; set by the
    /// session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<crate::ad::signin::Protection>,
    /// Every target of every forest.
    pub scopes: Vec<TargetStatus>,
    /// Where the connector account came from, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_source: Option<String>,
    /// Each forest covered, with its own state.
    pub forests: Vec<ForestStatus>,
    /// The forests the sync engine serves that writeback does not cover.
    pub uncovered: Vec<Uncovered>,
}

/// One forest in the status.
#[derive(Debug, Clone, Serialize)]
pub struct ForestStatus {
    pub forest: String,
    /// Its permissions: `enabled` (all in place), `disabled` (none of ours), `partial`.
    pub state: WritebackState,
    pub dc: String,
    /// Which DC answered and how (set by the session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<crate::ad::signin::Protection>,
    pub connector_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_source: Option<String>,
    /// What it lacks, in words.
    pub missing: Vec<String>,
}

/// Microsoft's repair of the Cloud Sync agent's writeback permissions.
pub const CLOUDSYNC_REPAIR: &str = "the Cloud Sync agent's account lacks writeback permissions: `writeback-wizard apply --enable` grants them, or Microsoft's own repair on the agent's server: Import-Module 'C:\\Program Files\\Microsoft Azure AD Connect Provisioning Agent\\Microsoft.CloudSync.Powershell.dll'; Set-AADCloudSyncPermissions -PermissionType PasswordWriteBack -EACredential $(Get-Credential) (an Enterprise Admin's credential; the change can take an hour to reach every object)";

/// The whole state in one call: each forest surveyed on its own connections at the same time.
pub async fn status(inp: &mut Inputs<'_>, unfinished_journal: Option<PathBuf>) -> Result<Status, EngineError> {
    let include = inp.include_adminsdholder;
    let several = inp.forests.len() > 1;
    let surveyed = futures_util::future::try_join_all(inp.forests.iter_mut().map(|f| async move {
        let s = if f.connector.is_some() { survey(f, include).await? } else { Vec::new() };
        Ok::<_, EngineError>((f.name.clone(), s))
    }))
    .await?;
    let mut scopes = Vec::new();
    let mut missing = Vec::new();
    let mut present_any = false;
    let mut forests = Vec::new();
    for (f, (name, surveyed)) in inp.forests.iter().zip(surveyed) {
        let mut own_missing = Vec::new();
        let mut own_present = false;
        if f.connector.is_none() {
            own_missing.push("the AD DS connector account is not known (--connector-account)".to_string());
        }
        for Surveyed { dn, kind, wanted, inheritance_blocked, lacking, .. } in surveyed {
            let aces: Vec<AceStatus> = wanted
                .iter()
                .map(|w| AceStatus {
                    sddl: persisted::text(&w.ace),
                    description: w.description.clone(),
                    present: !lacking.contains(&w.ace),
                })
                .collect();
            for a in aces.iter().filter(|a| !a.present) {
                own_missing.push(format!("{} on {dn}", a.description));
            }
            own_present |= kind != TargetKind::DomainRoot && aces.iter().any(|a| a.present);
            let domain = f.domain_of(&dn);
            scopes.push(TargetStatus { dn, forest: name.clone(), domain, aces, inheritance_blocked });
        }
        let state = if own_missing.is_empty() {
            WritebackState::Enabled
        } else if own_present {
            WritebackState::Partial
        } else {
            WritebackState::Disabled
        };
        present_any |= own_present;
        missing.extend(own_missing.iter().map(|m| if several { format!("{name}: {m}") } else { m.clone() }));
        forests.push(ForestStatus {
            forest: name,
            state,
            dc: f.disc.dc_name.clone(),
            connection: None,
            connector_account: f.connector.map(|c| c.sam_account_name.clone()),
            connector_source: f.connector_source.clone(),
            missing: own_missing,
        });
    }
    // With Cloud Sync, Microsoft's own repair for the agent's gMSA (its writeback tutorial,
    // Troubleshooting): said beside what is missing on AD's side.
    let lacks_aces = missing.iter().any(|m| m.contains(" on "));
    if lacks_aces && inp.sync.as_ref().is_ok_and(|s| s.flavour == crate::types::SyncEngineKind::Cloudsync) {
        missing.push(CLOUDSYNC_REPAIR.into());
    }
    // A forest covered now that the switch was not turned on with (this tool's record says
    // which it was): Microsoft's 6329 0x8023061f until writeback is turned off and on again.
    if inp.sync.as_ref().is_ok_and(|s| s.writeback_enabled)
        && let Some(with) = inp.granted.switched_on_with()
    {
        for f in inp.forests.iter().filter(|f| !with.iter().any(|w| w.eq_ignore_ascii_case(&f.name))) {
            missing.push(format!(
                "forest {}: {}; `apply --enable` turns it off and on again",
                f.name,
                super::plan::uncovered_consequence(true)
            ));
        }
    }
    for u in &inp.uncovered {
        missing.push(format!(
            "forest {}, which the sync engine serves, is not covered{}: {}",
            u.forest,
            if u.left_out { " (left out)" } else { "" },
            u.consequence
        ));
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
    let connector_source = inp.connector_source();
    Ok(Status {
        state,
        tenant,
        ad: AdStatus { connection: None, scopes, connector_source, forests, uncovered: inp.uncovered.clone() },
        sync_engine,
        missing,
        unfinished_journal,
    })
}
