//! The configuration engine: status → plan → apply → verify → (roll back). The only place that
//! changes anything. Every step is journalled before it runs, verified after, and undone in
//! reverse order when a later one fails or the user cancels.

pub mod apply;
pub mod journal;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ad::directory::{self, Account, Discovery};
use crate::ad::sd::{Ace, SecurityDescriptor, SidContext, sddl};
use crate::ad::writeback::{self, TargetKind, WantedAce};
use crate::ad::{AdConnection, AdError};
use crate::entra::check::EntraCheck;
use crate::error::{Diagnose, Exit};
use crate::sync_engine::EngineState;

/// Enable or disable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Turn writeback on.
    Enable,
    /// Turn writeback off.
    Disable,
}

/// A step as stored in the journal (enough to redo or undo it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StoredStep {
    /// Add these ACEs to a DN's DACL.
    Grant {
        /// Step id.
        id: String,
        /// The object.
        dn: String,
        /// ACEs in SDDL (numeric SIDs, exact).
        aces: Vec<String>,
    },
    /// Remove these ACEs from a DN's DACL.
    Revoke {
        /// Step id.
        id: String,
        /// The object.
        dn: String,
        /// ACEs in SDDL.
        aces: Vec<String>,
    },
    /// Switch the sync engine's writeback.
    Writeback {
        /// Step id.
        id: String,
        /// The new value.
        enabled: bool,
    },
}

impl StoredStep {
    /// The step id.
    pub fn id(&self) -> &str {
        match self {
            StoredStep::Grant { id, .. } | StoredStep::Revoke { id, .. } | StoredStep::Writeback { id, .. } => id,
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Stable id (`grant-1`, `writeback`).
    pub id: String,
    /// In words.
    pub description: String,
    /// The DN, or `sync-engine`.
    pub target: String,
    /// The exact change: one SDDL ACE per line, or the call.
    pub change: Vec<String>,
    /// What the journal keeps.
    #[serde(skip)]
    pub stored: StoredStep,
}

/// A check that must pass before the plan may run.
#[derive(Debug, Clone, Serialize)]
pub struct Precondition {
    /// What is checked.
    pub check: String,
    /// Whether it passed.
    pub ok: bool,
    /// What to do when it did not.
    pub remedy: String,
}

/// An ACE that is already there and stays.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    /// The object.
    pub target: String,
    /// The ACE.
    pub sddl: String,
    /// In words, and why it stays.
    pub description: String,
}

/// What enable or disable would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Enable or disable.
    pub action: Action,
    /// The changes, in order.
    pub steps: Vec<Step>,
    /// The checks.
    pub preconditions: Vec<Precondition>,
    /// ACEs already in place that the plan leaves alone.
    pub preexisting: Vec<Kept>,
    /// Things to know.
    pub warnings: Vec<String>,
}

impl Plan {
    /// All preconditions pass.
    pub fn ready(&self) -> bool {
        self.preconditions.iter().all(|p| p.ok)
    }
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// What the engine works on.
pub struct Inputs<'a> {
    /// A connection bound as an Enterprise Admin.
    pub ad: &'a mut AdConnection,
    /// The forest.
    pub disc: &'a Discovery,
    /// The bound account.
    pub operator: &'a Account,
    /// The AD DS connector account.
    pub connector: Option<&'a Account>,
    /// Where to grant.
    pub scopes: &'a [String],
    /// Also AdminSDHolder.
    pub include_adminsdholder: bool,
    /// The tenant check (enable only), or why it could not be made.
    pub tenant: Option<Result<EntraCheck, String>>,
    /// The sync engine's state, or why it could not be read.
    pub sync: Result<EngineState, String>,
    /// What this tool granted before (`[granted]` of the settings).
    pub granted: &'a BTreeMap<String, Vec<String>>,
}

/// SDDL of one ACE with numeric SIDs: exact, and parseable without a domain.
pub fn ace_sddl(a: &Ace) -> String {
    sddl::render_ace(a, &SidContext::default())
}

/// Parses an ACE stored by [`ace_sddl`].
pub fn parse_ace(text: &str) -> Result<Ace, EngineError> {
    let sd = SecurityDescriptor::from_sddl(&format!("D:{text}"), &SidContext::default())
        .map_err(|e| EngineError::BadSettings { detail: format!("the granted ACE {text} is not SDDL: {e}") })?;
    sd.dacl
        .and_then(|d| d.aces.into_iter().next())
        .ok_or_else(|| EngineError::BadSettings { detail: format!("the granted ACE {text} is empty") })
}

/// The targets writeback needs: each scope, each scope's domain root, AdminSDHolder when asked.
pub fn targets(disc: &Discovery, scopes: &[String], include_adminsdholder: bool) -> Vec<(String, TargetKind)> {
    let mut out: Vec<(String, TargetKind)> = scopes.iter().map(|s| (s.clone(), TargetKind::Scope)).collect();
    let mut roots: Vec<String> = scopes.iter().filter_map(|s| disc.domain_of(s).map(|d| d.dn.clone())).collect();
    roots.sort();
    roots.dedup();
    for root in &roots {
        out.push((root.clone(), TargetKind::DomainRoot));
        if include_adminsdholder {
            out.push((format!("CN=AdminSDHolder,CN=System,{root}"), TargetKind::AdminSdHolder));
        }
    }
    out
}

/// Samba recomputes the inherited permissions of every object below a changed DACL before it
/// answers (Windows leaves that to a background thread), so on a Samba DC a step on a domain root
/// waits for the whole domain. Measured in docs/performance.md.
fn samba_root_warning(disc: &Discovery, steps: &[Step]) -> Option<String> {
    let vendor = disc.vendor_name.as_deref().filter(|v| v.contains("Samba"))?;
    let root = steps.iter().find(|s| disc.domains.iter().any(|d| d.dn == s.target))?;
    Some(format!(
        "the DC runs {vendor}, which recomputes the inherited permissions of every object below {} before it \
         answers a change there (Windows does this in the background): with 50,000 users that took 9 s per \
         change, and past the LDAP timeout (30 s; --ad-timeout gives more) the step fails. Choosing the OUs \
         that hold the users as scopes avoids it",
        root.target
    ))
}

/// One target as it stands: the writeback ACEs it needs, which it lacks and which it already has.
struct Surveyed {
    dn: String,
    kind: TargetKind,
    wanted: Vec<WantedAce>,
    inheritance_blocked: bool,
    lacking: Vec<crate::ad::sd::Ace>,
    present: Vec<crate::ad::sd::Ace>,
}

/// Reads each target's DACL and compares it with what the connector account needs there (the plan
/// and the status ask the same question). Nothing when the connector account is not known.
async fn survey(inp: &mut Inputs<'_>) -> Result<Vec<Surveyed>, EngineError> {
    let Some(connector) = inp.connector else { return Ok(Vec::new()) };
    let sid = crate::ad::sd::Sid::parse(&connector.sid).map_err(|e| EngineError::Internal { detail: e.to_string() })?;
    let mut out = Vec::new();
    for (dn, kind) in targets(inp.disc, inp.scopes, inp.include_adminsdholder) {
        let wanted = writeback::wanted(kind, &sid);
        let dacl = writeback::read_dacl(inp.ad, &dn).await?;
        let acl = dacl.sd.dacl.clone().unwrap_or_else(|| crate::ad::sd::Acl::new(4));
        let (lacking, present) = writeback::missing(&acl, &wanted, &sid);
        out.push(Surveyed { dn, kind, wanted, inheritance_blocked: dacl.sd.dacl_protected(), lacking, present });
    }
    Ok(out)
}

fn describe(w: &WantedAce) -> String {
    w.description.clone()
}

/// Plans enabling writeback.
pub async fn plan_enable(inp: &mut Inputs<'_>) -> Result<Plan, EngineError> {
    let mut pre = common_preconditions(inp).await?;
    match &inp.tenant {
        Some(Ok(t)) => {
            pre.push(Precondition {
                check: "role: Global Administrator or Hybrid Identity Administrator, assigned directly, cloud account"
                    .into(),
                ok: t.role_ok,
                remedy: t.problems.first().cloned().unwrap_or_default(),
            });
            pre.push(Precondition {
                check: "licence carrying Microsoft Entra ID P1 or P2".into(),
                ok: t.licence.eligible,
                remedy: t.licence.reason.clone(),
            });
            pre.push(Precondition {
                check: "directory synchronisation enabled".into(),
                ok: t.directory_sync.enabled,
                remedy: "Install and run Microsoft Entra Connect for the tenant first.".into(),
            });
        }
        Some(Err(e)) => pre.push(Precondition {
            check: "the tenant could be checked (role, licence, directory sync)".into(),
            ok: false,
            remedy: e.clone(),
        }),
        None => pre.push(Precondition {
            check: "the tenant was checked".into(),
            ok: false,
            remedy: "Sign in to Microsoft Entra ID (entra check) first.".into(),
        }),
    }
    let mut steps = Vec::new();
    let mut preexisting = Vec::new();
    let mut warnings = Vec::new();
    if let Some(c) = inp.connector.filter(|c| c.admin_count) {
        warnings.push(format!(
            "the connector account {} has adminCount=1 (it is, or was, in a protected group): on Windows, \
             AdminSDHolder resets its own permissions every hour; take it out of the protected group and clear \
             adminCount, as Entra Connect expects",
            c.sam_account_name
        ));
    }
    if inp.connector.is_some() {
        for Surveyed { dn, kind, wanted, inheritance_blocked, lacking, present } in survey(inp).await? {
            for p in &present {
                let w = wanted.iter().find(|w| &w.ace == p).map(describe).unwrap_or_default();
                preexisting.push(Kept {
                    target: dn.clone(),
                    sddl: ace_sddl(p),
                    description: format!("{w} — already there, kept"),
                });
            }
            if inheritance_blocked && kind == TargetKind::Scope {
                warnings.push(format!(
                    "{dn} blocks inheritance: the permissions granted on it apply below it, but not from above"
                ));
            }
            if kind == TargetKind::AdminSdHolder {
                warnings.push("AdminSDHolder is included: the connector account will be able to reset the passwords of protected accounts (Domain Admins and the like)".into());
            }
            if !lacking.is_empty() {
                let id = format!("grant-{}", steps.len() + 1);
                let description = match kind {
                    TargetKind::Scope => format!("Grant the connector account the 8 writeback permissions on {dn}"),
                    TargetKind::DomainRoot => format!("Grant the connector account Unexpire Password on {dn}"),
                    TargetKind::AdminSdHolder => {
                        format!("Grant the connector account the 4 writeback permissions on AdminSDHolder ({dn})")
                    }
                };
                let change: Vec<String> = lacking.iter().map(ace_sddl).collect();
                steps.push(Step {
                    id: id.clone(),
                    description,
                    target: dn.clone(),
                    change: change.clone(),
                    stored: StoredStep::Grant { id, dn, aces: change },
                });
            }
        }
    }
    if let Ok(state) = &inp.sync
        && !state.writeback_enabled
    {
        steps.push(writeback_step(true, state.backend));
    }
    warnings.extend(samba_root_warning(inp.disc, &steps));
    Ok(Plan { action: Action::Enable, steps, preconditions: pre, preexisting, warnings })
}

fn writeback_step(enabled: bool, backend: &str) -> Step {
    let id = "writeback".to_string();
    let call = if backend == "adsync" {
        format!("Set-ADSyncAADPasswordResetConfiguration -Connector <Entra ID connector> -Enable ${enabled}")
    } else {
        format!("POST /lab/sync-engine {{\"writeback_enabled\": {enabled}}}")
    };
    Step {
        id: id.clone(),
        description: format!(
            "Turn password writeback {} in the sync engine ({backend})",
            if enabled { "on" } else { "off" }
        ),
        target: "sync-engine".into(),
        change: vec![call],
        stored: StoredStep::Writeback { id, enabled },
    }
}

async fn common_preconditions(inp: &mut Inputs<'_>) -> Result<Vec<Precondition>, EngineError> {
    let ea = directory::enterprise_admin(inp.ad, inp.disc, inp.operator).await?;
    let mut pre = vec![Precondition {
        check: format!("{} is an Enterprise Admin", inp.operator.sam_account_name),
        ok: ea.enterprise_admin,
        remedy: format!("Use an account in Enterprise Admins ({}).", ea.enterprise_admins_sid),
    }];
    pre.push(match inp.connector {
        Some(c) => Precondition {
            check: format!("the connector account {} exists and is enabled", c.sam_account_name),
            ok: c.enabled,
            remedy: "Enable the AD DS connector account, or name the right one with --connector-account.".into(),
        },
        None => Precondition {
            check: "the AD DS connector account is known".into(),
            ok: false,
            remedy: "Name it with --connector-account (its name starts with MSOL_ when Entra Connect created it)."
                .into(),
        },
    });
    pre.push(Precondition {
        check: "the sync engine answers".into(),
        ok: inp.sync.is_ok(),
        remedy: inp.sync.as_ref().err().cloned().unwrap_or_default(),
    });
    Ok(pre)
}

/// Plans disabling writeback: removes what the settings record as added; pre-existing ACEs stay
/// unless `remove_preexisting`. Needs no licence and no cloud role.
pub async fn plan_disable(inp: &mut Inputs<'_>, remove_preexisting: bool) -> Result<Plan, EngineError> {
    let pre = common_preconditions(inp).await?;
    let mut steps = Vec::new();
    let mut preexisting = Vec::new();
    let mut recorded: BTreeMap<String, Vec<Ace>> = BTreeMap::new();
    for (dn, aces) in inp.granted.iter().filter(|(k, _)| !k.starts_with("sync-engine")) {
        recorded.insert(dn.clone(), aces.iter().map(|a| parse_ace(a)).collect::<Result<_, _>>()?);
    }
    let mut dns: Vec<String> = recorded.keys().cloned().collect();
    let wanted_by_dn: BTreeMap<String, Vec<WantedAce>> = match inp.connector {
        Some(c) => {
            let sid = crate::ad::sd::Sid::parse(&c.sid).map_err(|e| EngineError::Internal { detail: e.to_string() })?;
            targets(inp.disc, inp.scopes, inp.include_adminsdholder)
                .into_iter()
                .map(|(dn, kind)| (dn, writeback::wanted(kind, &sid)))
                .collect()
        }
        None => BTreeMap::new(),
    };
    for dn in wanted_by_dn.keys() {
        if !dns.contains(dn) {
            dns.push(dn.clone());
        }
    }
    for dn in dns {
        let dacl = match writeback::read_dacl(inp.ad, &dn).await {
            Ok(d) => d,
            Err(AdError::NoSuchObject { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let acl = dacl.sd.dacl.clone().unwrap_or_else(|| crate::ad::sd::Acl::new(4));
        let ours = recorded.get(&dn).cloned().unwrap_or_default();
        let mut remove: Vec<Ace> =
            ours.iter().filter(|a| acl.aces.iter().any(|x| !x.is_inherited() && x == *a)).cloned().collect();
        for w in wanted_by_dn.get(&dn).into_iter().flatten() {
            let explicit = acl.aces.iter().find(|x| !x.is_inherited() && x.same_meaning(&w.ace)).cloned();
            if let Some(existing) = explicit.filter(|e| !ours.contains(e)) {
                if remove_preexisting {
                    remove.push(existing);
                } else {
                    preexisting.push(Kept {
                        target: dn.clone(),
                        sddl: ace_sddl(&existing),
                        description: format!(
                            "{} — pre-existing (not added by this tool), kept; --remove-preexisting removes it",
                            w.description
                        ),
                    });
                }
            }
        }
        if !remove.is_empty() {
            let id = format!("revoke-{}", steps.len() + 1);
            let change: Vec<String> = remove.iter().map(ace_sddl).collect();
            steps.push(Step {
                id: id.clone(),
                description: format!(
                    "Remove {} writeback permission(s) of the connector account from {dn}",
                    remove.len()
                ),
                target: dn.clone(),
                change: change.clone(),
                stored: StoredStep::Revoke { id, dn, aces: change },
            });
        }
    }
    if let Ok(state) = &inp.sync
        && state.writeback_enabled
    {
        steps.insert(0, writeback_step(false, state.backend));
    }
    let warnings = samba_root_warning(inp.disc, &steps).into_iter().collect();
    Ok(Plan { action: Action::Disable, steps, preconditions: pre, preexisting, warnings })
}

/// One target's ACEs in the status.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    /// The object.
    pub dn: String,
    /// Each wanted ACE and whether it is in place.
    pub aces: Vec<AceStatus>,
    /// The object blocks inheritance.
    pub inheritance_blocked: bool,
}

/// One wanted ACE in the status.
#[derive(Debug, Clone, Serialize)]
pub struct AceStatus {
    /// SDDL.
    pub sddl: String,
    /// In words.
    pub description: String,
    /// Present explicitly (or, for Unexpire Password, held through a broader grant).
    pub present: bool,
}

/// `status`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `enabled`, `disabled` or `partial`.
    pub state: &'static str,
    /// The tenant check, when made.
    pub tenant: Option<EntraCheck>,
    /// Per target.
    pub ad: AdStatus,
    /// The sync engine.
    pub sync_engine: Option<EngineState>,
    /// What is missing for "enabled", in words.
    pub missing: Vec<String>,
    /// An apply that neither completed nor rolled back.
    pub unfinished_journal: Option<PathBuf>,
}

/// The AD part of the status.
#[derive(Debug, Clone, Serialize)]
pub struct AdStatus {
    /// The targets.
    pub scopes: Vec<TargetStatus>,
}

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
                    sddl: ace_sddl(&w.ace),
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
    let sync_engine = inp.sync.as_ref().ok().cloned();
    let writeback_on = sync_engine.as_ref().is_some_and(|s| s.writeback_enabled);
    match &inp.sync {
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
        "enabled"
    } else if !present_any && !writeback_on {
        "disabled"
    } else {
        "partial"
    };
    Ok(Status { state, tenant, ad: AdStatus { scopes }, sync_engine, missing, unfinished_journal })
}

/// Why the engine stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// AD failed.
    #[error(transparent)]
    Ad(#[from] AdError),
    /// The sync engine failed.
    #[error(transparent)]
    Sync(#[from] crate::sync_engine::SyncError),
    /// A file failed.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// The operation.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Another apply runs.
    #[error("another apply is running (process {pid}; lock {})", lock.display())]
    Busy {
        /// Its process.
        pid: i32,
        /// The lock file.
        lock: PathBuf,
    },
    /// An unfinished journal blocks a new apply.
    #[error("an earlier apply did not finish (journal {})", path.display())]
    Unfinished {
        /// The journal.
        path: PathBuf,
    },
    /// A precondition failed.
    #[error("a precondition is not met: {check}")]
    Precondition {
        /// Which.
        check: String,
        /// What to do.
        remedy: String,
    },
    /// Failed (or cancelled), and everything done was undone and verified.
    #[error("{cause}; everything done was rolled back and verified")]
    RolledBack {
        /// The first failure, or the cancel.
        cause: String,
        /// Its remedy.
        remedy: String,
    },
    /// Failed, and the undo failed too: the journal is kept.
    #[error("{cause}; rolling back failed too ({undo_error}); the journal {} holds the prior values", journal.display())]
    NotRolledBack {
        /// The first failure.
        cause: String,
        /// The undo's failure.
        undo_error: String,
        /// The journal.
        journal: PathBuf,
    },
    /// The journal is damaged.
    #[error("the journal {} is damaged: {detail}", path.display())]
    BadJournal {
        /// The journal.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The settings' [granted] table is damaged.
    #[error("the settings' [granted] table is damaged: {detail}")]
    BadSettings {
        /// Why.
        detail: String,
    },
    /// A bug.
    #[error("internal error: {detail}")]
    Internal {
        /// What.
        detail: String,
    },
}

impl Diagnose for EngineError {
    fn code(&self) -> &'static str {
        match self {
            EngineError::Ad(e) => e.code(),
            EngineError::Sync(e) => e.code(),
            EngineError::Io { .. } => "ENGINE-IO",
            EngineError::Busy { .. } => "ENGINE-BUSY",
            EngineError::Unfinished { .. } => "ENGINE-UNFINISHED",
            EngineError::Precondition { .. } => "ENGINE-PRECONDITION",
            EngineError::RolledBack { .. } => "ENGINE-ROLLED-BACK",
            EngineError::NotRolledBack { .. } => "ENGINE-NOT-ROLLED-BACK",
            EngineError::BadJournal { .. } => "ENGINE-BAD-JOURNAL",
            EngineError::BadSettings { .. } => "ENGINE-BAD-SETTINGS",
            EngineError::Internal { .. } => "ENGINE-INTERNAL",
        }
    }
    fn remedy(&self) -> String {
        match self {
            EngineError::Ad(e) => e.remedy(),
            EngineError::Sync(e) => e.remedy(),
            EngineError::Io { path, source, .. } if source.kind() == std::io::ErrorKind::StorageFull => format!(
                "The disk holding {} is full: free space there, then run again. Nothing this run changed in AD or the sync engine was kept.",
                path.parent().unwrap_or(path).display()
            ),
            EngineError::Io { .. } => "Check free disk space and the state folder's permissions; nothing was changed past the last journalled step.".into(),
            EngineError::Busy { .. } => "Wait for the other apply to finish (or end it), then run again.".into(),
            EngineError::Unfinished { .. } => "Run `apply --rollback` to undo it, or `apply --resume` to finish it.".into(),
            EngineError::Precondition { remedy, .. } | EngineError::RolledBack { remedy, .. } => remedy.clone(),
            EngineError::NotRolledBack { .. } => "Fix the cause (usually the DC or the network), then run `apply --rollback` to restore the prior values from the journal.".into(),
            EngineError::BadJournal { .. } => "Inspect the journal by hand (JSON lines); it holds every prior DACL in base64.".into(),
            EngineError::BadSettings { .. } => "Restore the settings file from a backup or `config import`; the [granted] table lists what this tool added.".into(),
            EngineError::Internal { .. } => "Report this as a bug.".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            EngineError::Ad(e) => e.exit(),
            EngineError::Sync(e) => e.exit(),
            EngineError::Precondition { .. } => Exit::No,
            EngineError::Unfinished { .. } | EngineError::Busy { .. } => Exit::Failed,
            EngineError::NotRolledBack { .. } => Exit::NotRolledBack,
            _ => Exit::Failed,
        }
    }
}
