//! Planning: what enabling or disabling would change, the checks that must pass first, and the
//! ACEs already in place that stay. Nothing here writes.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::EngineError;
use super::journal::StoredStep;
use crate::ad::directory::{self, Account, Discovery};
use crate::ad::sd::sddl::persisted;
use crate::ad::sd::{Ace, Acl, Sid};
use crate::ad::writeback::{self, TargetKind, WantedAce};
use crate::ad::{AdConnection, AdError};
use crate::diagnose::ErrorReport;
use crate::entra::check::EntraCheck;
use crate::sync_engine::{EngineState, SyncError};

/// Enable or disable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Turn writeback on.
    Enable,
    /// Turn writeback off.
    Disable,
}

/// An ACE a step adds or removes, with what it means in words (empty when it is not one of the
/// writeback permissions, e.g. a recorded ACE on a target no longer in scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAce {
    pub ace: Ace,
    pub words: String,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepOp {
    /// Add these ACEs to the target's DACL.
    Grant(Vec<PlannedAce>),
    /// Remove these ACEs from the target's DACL.
    Revoke(Vec<PlannedAce>),
    /// Switch the sync engine's writeback; `call` is the backend's own description of it.
    Writeback { enabled: bool, call: String },
}

/// What a step changes: an object's DACL, or the sync engine's switch. Shown as the DN or as
/// `sync-engine` (the CLI contract's `target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Object { dn: String },
    SyncEngine,
}

impl Target {
    /// The object's DN (`None` for the sync engine).
    pub fn dn(&self) -> Option<&str> {
        match self {
            Target::Object { dn } => Some(dn),
            Target::SyncEngine => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Object { dn } => f.write_str(dn),
            Target::SyncEngine => f.write_str("sync-engine"),
        }
    }
}

/// One step of a plan. Serialised as `{id, description, target, change}`, `change` being one
/// SDDL ACE per line or the sync engine's call (the CLI contract).
#[derive(Debug, Clone)]
pub struct Step {
    /// Stable within the plan: `grant-1`, `revoke-2`, `writeback`.
    pub id: String,
    pub description: String,
    pub target: Target,
    pub op: StepOp,
}

impl Step {
    /// It switches the sync engine.
    pub fn is_switch(&self) -> bool {
        matches!(self.op, StepOp::Writeback { .. })
    }

    /// The ACEs it adds or removes (none for the sync engine's switch).
    pub fn aces(&self) -> &[PlannedAce] {
        match &self.op {
            StepOp::Grant(a) | StepOp::Revoke(a) => a,
            StepOp::Writeback { .. } => &[],
        }
    }

    /// The exact change as text: SDDL with numeric SIDs, or the call.
    pub fn change(&self) -> Vec<String> {
        match &self.op {
            StepOp::Writeback { call, .. } => vec![call.clone()],
            _ => self.aces().iter().map(|a| persisted::text(&a.ace)).collect(),
        }
    }

    /// What the journal keeps of it (enough to redo or undo it).
    pub fn stored(&self) -> StoredStep {
        let (id, dn) = (self.id.clone(), self.target.to_string());
        let aces = || self.aces().iter().map(|a| a.ace.clone()).collect();
        match &self.op {
            StepOp::Grant(_) => StoredStep::Grant { id, dn, aces: aces() },
            StepOp::Revoke(_) => StoredStep::Revoke { id, dn, aces: aces() },
            StepOp::Writeback { enabled, .. } => StoredStep::Writeback { id, enabled: *enabled },
        }
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            id: &'a str,
            description: &'a str,
            target: String,
            change: Vec<String>,
        }
        let target = self.target.to_string();
        Shown { id: &self.id, description: &self.description, target, change: self.change() }.serialize(s)
    }
}

/// A check that must pass before the plan may run.
#[derive(Debug, Clone, Serialize)]
pub struct Precondition {
    pub check: String,
    pub ok: bool,
    /// What to do when it did not pass.
    pub remedy: String,
    /// The error code a failure means, where one applies (SYNC-STAGING, SYNC-TOO-OLD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// An ACE that is already there and stays.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub target: String,
    pub sddl: String,
    /// In words, and why it stays.
    pub description: String,
}

/// What enable or disable would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub action: Action,
    /// The changes, in order.
    pub steps: Vec<Step>,
    pub preconditions: Vec<Precondition>,
    /// ACEs already in place that the plan leaves alone.
    pub preexisting: Vec<Kept>,
    pub warnings: Vec<String>,
    /// Where the connector account came from (named, read from the sync engine, the only
    /// MSOL_ account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_source: Option<String>,
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

/// What the engine works on. The tenant and the sync engine come as answers already read (or the
/// typed reason they could not be), so the plan and the status are pure over them.
pub struct Inputs<'a> {
    /// Bound as an Enterprise Admin.
    pub ad: &'a mut AdConnection,
    pub disc: &'a Discovery,
    /// The bound account.
    pub operator: &'a Account,
    /// The AD DS connector account.
    pub connector: Option<&'a Account>,
    pub scopes: &'a [String],
    pub include_adminsdholder: bool,
    /// The tenant check (enable only), or why it could not be made.
    pub tenant: Option<Result<EntraCheck, ErrorReport>>,
    /// The sync engine's state, or why it could not be read.
    pub sync: Result<EngineState, SyncError>,
    /// What this tool granted before (the grant record).
    pub granted: &'a BTreeMap<String, Vec<Ace>>,
    /// Where the connector account came from, in words.
    pub connector_source: Option<String>,
    /// What the readiness scan found in the scopes (enable: each kind is a warning of the plan).
    pub findings: Option<crate::ad::scan::Findings>,
}

/// What including AdminSDHolder means, in the plan and in the wizard's option.
pub const ADMINSDHOLDER_WARNING: &str = "AdminSDHolder is included, which Microsoft does not support: SDProp keeps the permissions of users in protected groups as AdminSDHolder's, so granting there gives the connector account reset rights over your most privileged accounts (Domain Admins, Enterprise Admins and the like)";

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
    let root = steps.iter().find(|s| disc.domains.iter().any(|d| Some(d.dn.as_str()) == s.target.dn()))?;
    Some(format!(
        "the DC runs {vendor}, which recomputes the inherited permissions of every object below {} before it \
         answers a change there (Windows does this in the background): with 50,000 users that took 9 s per \
         change, and past the LDAP timeout (30 s; --ad-timeout gives more) the step fails. Choosing the OUs \
         that hold the users as scopes avoids it",
        root.target
    ))
}

/// One target as it stands: the writeback ACEs it needs, which it lacks and which it already has.
pub(super) struct Surveyed {
    pub dn: String,
    pub kind: TargetKind,
    pub wanted: Vec<WantedAce>,
    pub inheritance_blocked: bool,
    pub lacking: Vec<Ace>,
    pub present: Vec<Ace>,
}

pub(super) fn connector_sid(connector: &Account) -> Result<Sid, EngineError> {
    Sid::parse(&connector.sid).map_err(|e| EngineError::Internal { detail: e.to_string() })
}

/// Reads each target's DACL and compares it with what the connector account needs there (the plan
/// and the status ask the same question). Nothing when the connector account is not known.
pub(super) async fn survey(inp: &mut Inputs<'_>) -> Result<Vec<Surveyed>, EngineError> {
    let Some(connector) = inp.connector else { return Ok(Vec::new()) };
    let sid = connector_sid(connector)?;
    let mut out = Vec::new();
    for (dn, kind) in targets(inp.disc, inp.scopes, inp.include_adminsdholder) {
        let wanted = writeback::wanted(kind, &sid);
        let dacl = writeback::read_dacl(inp.ad, &dn).await?;
        let Some(acl) = dacl.sd.dacl.clone() else { return Err(AdError::NullDacl { dn }.into()) };
        let (lacking, present) = writeback::missing(&acl, &wanted, &sid);
        out.push(Surveyed { dn, kind, wanted, inheritance_blocked: dacl.sd.dacl_protected(), lacking, present });
    }
    Ok(out)
}

/// An ACE with its words, from the writeback permissions it is one of.
fn planned(ace: &Ace, wanted: &[WantedAce]) -> PlannedAce {
    let words = wanted.iter().find(|w| w.ace.same_meaning(ace)).map(|w| w.description.clone()).unwrap_or_default();
    PlannedAce { ace: ace.clone(), words }
}

/// What a DC without the password-policy-hints control means for an enable: a failing
/// precondition on a Windows DC, a warning on Samba (which Entra Connect does not support, and
/// which the lab runs on), nothing where the DC offers it.
pub(super) fn policy_hints(offered: bool, samba: bool) -> Option<Result<Precondition, String>> {
    match (offered, samba) {
        (true, _) => None,
        (false, true) => Some(Err(directory::NO_POLICY_HINTS_SAMBA.into())),
        (false, false) => Some(Ok(Precondition {
            code: Some("AD-NO-POLICY-HINTS"),
            check: "the DC offers the password-policy-hints control (1.2.840.113556.1.4.2066)".into(),
            ok: false,
            remedy: format!(
                "{}. Run the domain's DCs on Windows Server 2016 or later, where the control is enabled.",
                directory::NO_POLICY_HINTS
            ),
        })),
    }
}

/// Entra Connect's AD DS connector account must be "a normal user object (VSA, MSA, or gMSA aren't
/// supported)" (reference-connect-accounts-permissions.md, "Create the AD DS Connector account").
/// A managed service account is Cloud Sync's model, never Connect's: refused for Connect.
pub(super) fn connector_for_connect(
    connector: &Account,
    flavour: crate::types::SyncEngineKind,
) -> Option<Precondition> {
    const WORKSTATION_TRUST: u32 = 0x1000;
    let managed = connector.sam_account_name.ends_with('$') || connector.user_account_control & WORKSTATION_TRUST != 0;
    (flavour == crate::types::SyncEngineKind::Adsync && managed).then(|| Precondition {
        code: Some("AD-CONNECTOR-NOT-A-USER"),
        check: format!("the AD DS connector account ({}) is a normal user object", connector.sam_account_name),
        ok: false,
        remedy: "Microsoft Entra Connect's AD DS connector account must be a normal user object: VSA, MSA and gMSA are not supported (Microsoft Entra Connect: Accounts and permissions). Name the account Connect's AD connector uses (Get-ADSyncConnector lists it), or a user created for it.".into(),
    })
}

/// Plans enabling writeback.
pub async fn plan_enable(inp: &mut Inputs<'_>) -> Result<Plan, EngineError> {
    let mut pre = common_preconditions(inp).await?;
    // What the tenant check warns of (a federated account, room SKUs, a stale sync) and could
    // not check: said in the plan too, never a failed precondition.
    let tenant_warnings: Vec<String> = match &inp.tenant {
        Some(Ok(t)) => {
            t.warnings.iter().cloned().chain(t.not_checked.iter().map(|n| format!("not checked: {n}"))).collect()
        }
        _ => Vec::new(),
    };
    match &inp.tenant {
        Some(Ok(t)) => {
            pre.push(Precondition {
                code: None,
                check: "role: Global Administrator or Hybrid Identity Administrator, assigned directly, cloud account"
                    .into(),
                ok: t.role_ok,
                remedy: t.problems.first().cloned().unwrap_or_default(),
            });
            pre.push(Precondition {
                code: None,
                check: "licence carrying Microsoft Entra ID P1 or P2".into(),
                ok: t.licence.eligible,
                remedy: t.licence.reason.clone(),
            });
            pre.push(Precondition {
                code: None,
                check: "directory synchronisation enabled".into(),
                ok: t.directory_sync.enabled,
                remedy: "Install and run Microsoft Entra Connect for the tenant first.".into(),
            });
        }
        Some(Err(e)) => pre.push(Precondition {
            code: None,
            check: "the tenant could be checked (role, licence, directory sync)".into(),
            ok: false,
            remedy: e.message.clone(),
        }),
        None => pre.push(Precondition {
            code: None,
            check: "the tenant was checked".into(),
            ok: false,
            remedy: "Sign in to Microsoft Entra ID (entra check) first.".into(),
        }),
    }
    let mut steps = Vec::new();
    let mut preexisting = Vec::new();
    let mut warnings = tenant_warnings;
    if let Some(c) = inp.connector.filter(|c| c.admin_count) {
        warnings.push(format!(
            "the connector account {} has adminCount=1 (it is, or was, in a protected group): on Windows, \
             AdminSDHolder resets its own permissions every hour; take it out of the protected group and clear \
             adminCount, as Entra Connect expects",
            c.sam_account_name
        ));
    }
    for Surveyed { dn, kind, wanted, inheritance_blocked, lacking, present } in survey(inp).await? {
        for p in &present {
            let w = wanted.iter().find(|w| &w.ace == p).map(|w| w.description.clone()).unwrap_or_default();
            preexisting.push(Kept {
                target: dn.clone(),
                sddl: persisted::text(p),
                description: format!("{w} — already there, kept"),
            });
        }
        if inheritance_blocked && kind == TargetKind::Scope {
            warnings.push(format!(
                "{dn} blocks inheritance: the permissions granted on it apply below it, but not from above"
            ));
        }
        if kind == TargetKind::AdminSdHolder {
            warnings.push(ADMINSDHOLDER_WARNING.into());
        }
        if !lacking.is_empty() {
            let description = match kind {
                TargetKind::Scope => format!("Grant the connector account the 8 writeback permissions on {dn}"),
                TargetKind::DomainRoot => format!("Grant the connector account Unexpire Password on {dn}"),
                TargetKind::AdminSdHolder => {
                    format!("Grant the connector account the 4 writeback permissions on AdminSDHolder ({dn})")
                }
            };
            let aces = lacking.iter().map(|a| planned(a, &wanted)).collect();
            steps.push(Step {
                id: format!("grant-{}", steps.len() + 1),
                description,
                target: Target::Object { dn },
                op: StepOp::Grant(aces),
            });
        }
    }
    if let Ok(state) = &inp.sync {
        for b in state.enable_blockers() {
            pre.push(Precondition { code: Some(b.code), check: b.check, ok: false, remedy: b.remedy });
        }
        if let Some(c) = inp.connector {
            pre.extend(connector_for_connect(c, state.flavour));
        }
        warnings.extend(state.warnings.iter().map(ToString::to_string));
        // A switch that cannot be read is set either way (the cmdlet is idempotent).
        if !state.writeback_enabled || !state.writeback_readable {
            steps.push(writeback_step(true, state));
        }
    }
    warnings.extend(samba_root_warning(inp.disc, &steps));
    // Microsoft: "To use the password writeback feature, you must enable the control" (6329,
    // MMS(3040), troubleshoot-sspr-writeback.md). A Samba DC never offers it and is not a DC
    // Entra Connect supports: said, so the lab still runs.
    match policy_hints(inp.disc.policy_hints(), inp.disc.is_samba()) {
        Some(Ok(failed)) => pre.push(failed),
        Some(Err(warning)) => warnings.push(warning),
        None => {}
    }
    if let Some(f) = &inp.findings {
        warnings.extend(f.warnings());
    }
    Ok(Plan {
        action: Action::Enable,
        steps,
        preconditions: pre,
        preexisting,
        warnings,
        connector_source: inp.connector_source.clone(),
    })
}

fn writeback_step(enabled: bool, state: &EngineState) -> Step {
    Step {
        id: "writeback".into(),
        description: format!(
            "Turn password writeback {} in the sync engine ({})",
            if enabled { "on" } else { "off" },
            state.backend
        ),
        target: Target::SyncEngine,
        op: StepOp::Writeback { enabled, call: state.switch.call(enabled).to_string() },
    }
}

async fn common_preconditions(inp: &mut Inputs<'_>) -> Result<Vec<Precondition>, EngineError> {
    let ea = directory::enterprise_admin(inp.ad, inp.disc, inp.operator).await?;
    let mut pre = vec![Precondition {
        code: None,
        check: format!("{} is an Enterprise Admin", inp.operator.sam_account_name),
        ok: ea.enterprise_admin,
        remedy: format!("Use an account in Enterprise Admins ({}).", ea.enterprise_admins_sid),
    }];
    pre.push(match inp.connector {
        Some(c) => Precondition {
            code: None,
            check: format!("the connector account {} exists and is enabled", c.sam_account_name),
            ok: c.enabled,
            remedy: "Enable the AD DS connector account, or name the right one with --connector-account.".into(),
        },
        None => Precondition {
            code: None,
            check: "the AD DS connector account is known".into(),
            ok: false,
            remedy: "Name it with --connector-account (its name starts with MSOL_ when Entra Connect created it)."
                .into(),
        },
    });
    pre.push(Precondition {
        code: None,
        check: "the sync engine answers".into(),
        ok: inp.sync.is_ok(),
        remedy: inp.sync.as_ref().err().map(ToString::to_string).unwrap_or_default(),
    });
    Ok(pre)
}

/// Plans disabling writeback: removes what the grant record says this tool added; pre-existing
/// ACEs stay unless `remove_preexisting`. Needs no licence and no cloud role.
pub async fn plan_disable(inp: &mut Inputs<'_>, remove_preexisting: bool) -> Result<Plan, EngineError> {
    let pre = common_preconditions(inp).await?;
    let mut steps = Vec::new();
    let mut preexisting = Vec::new();
    let recorded: BTreeMap<&String, &Vec<Ace>> =
        inp.granted.iter().filter(|(k, _)| !k.starts_with("sync-engine")).collect();
    let mut dns: Vec<String> = recorded.keys().map(|k| (*k).clone()).collect();
    let (wanted_by_dn, every_wanted): (BTreeMap<String, Vec<WantedAce>>, Vec<WantedAce>) = match inp.connector {
        Some(c) => {
            let sid = connector_sid(c)?;
            let by_dn = targets(inp.disc, inp.scopes, inp.include_adminsdholder)
                .into_iter()
                .map(|(dn, kind)| (dn, writeback::wanted(kind, &sid)))
                .collect();
            let all = [TargetKind::Scope, TargetKind::DomainRoot, TargetKind::AdminSdHolder]
                .into_iter()
                .flat_map(|k| writeback::wanted(k, &sid))
                .collect();
            (by_dn, all)
        }
        None => (BTreeMap::new(), Vec::new()),
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
        let acl = dacl.sd.dacl.clone().unwrap_or_else(|| Acl::new(4));
        let ours: &[Ace] = recorded.get(&dn).map(|v| v.as_slice()).unwrap_or_default();
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
                        sddl: persisted::text(&existing),
                        description: format!(
                            "{} — pre-existing (not added by this tool), kept; --remove-preexisting removes it",
                            w.description
                        ),
                    });
                }
            }
        }
        if !remove.is_empty() {
            let description =
                format!("Remove {} writeback permission(s) of the connector account from {dn}", remove.len());
            let aces = remove.iter().map(|a| planned(a, &every_wanted)).collect();
            steps.push(Step {
                id: format!("revoke-{}", steps.len() + 1),
                description,
                target: Target::Object { dn },
                op: StepOp::Revoke(aces),
            });
        }
    }
    let mut warnings: Vec<String> = Vec::new();
    if let Ok(state) = &inp.sync {
        // Staging mode says nothing against a disable; the rest still matters.
        warnings.extend(
            state
                .warnings
                .iter()
                .filter(|w| **w != crate::sync_engine::EngineWarning::Staging)
                .map(ToString::to_string),
        );
        if state.writeback_enabled || !state.writeback_readable {
            steps.insert(0, writeback_step(false, state));
        }
    }
    warnings.extend(samba_root_warning(inp.disc, &steps));
    Ok(Plan {
        action: Action::Disable,
        steps,
        preconditions: pre,
        preexisting,
        warnings,
        connector_source: inp.connector_source.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_managed_service_account_is_no_connector_for_connect_but_is_cloud_syncs() {
        use crate::types::SyncEngineKind;
        let account = |sam: &str, uac: u32| Account {
            dn: format!("CN={sam},CN=Users,DC=x"),
            sam_account_name: sam.into(),
            user_principal_name: None,
            display_name: None,
            sid: "S-1-5-21-1-2-3-1105".into(),
            enabled: true,
            admin_count: false,
            user_account_control: uac,
            pwd_last_set: None,
        };
        let gmsa = account("provAgentgMSA$", 0x1000);
        let refused = connector_for_connect(&gmsa, SyncEngineKind::Adsync).unwrap();
        assert_eq!(refused.code, Some("AD-CONNECTOR-NOT-A-USER"));
        assert!(refused.remedy.contains("gMSA are not supported"), "{}", refused.remedy);
        assert!(connector_for_connect(&gmsa, SyncEngineKind::Cloudsync).is_none());
        assert!(connector_for_connect(&account("MSOL_0123456789ab", 0x200), SyncEngineKind::Adsync).is_none());
    }

    #[test]
    fn a_windows_dc_without_policy_hints_blocks_an_enable_and_samba_is_only_said() {
        let blocked = policy_hints(false, false).unwrap().unwrap();
        assert_eq!((blocked.ok, blocked.code), (false, Some("AD-NO-POLICY-HINTS")));
        assert!(
            blocked.remedy.contains("MMS(3040)") && blocked.remedy.contains("Windows Server 2016"),
            "{}",
            blocked.remedy
        );
        let said = policy_hints(false, true).unwrap().unwrap_err();
        assert!(said.contains("does not support") && said.contains("6329"), "{said}");
        assert!(policy_hints(true, false).is_none() && policy_hints(true, true).is_none());
    }
}
