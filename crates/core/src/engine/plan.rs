//! Planning: what enabling or disabling would change, the checks that must pass first, and the
//! ACEs already in place that stay. Nothing here writes.

use serde::{Serialize, Serializer};

use super::EngineError;
use super::grants::GrantRecord;
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

/// One step of a plan. Serialised as `{id, description, target, forest, domain, change}`,
/// `change` being one SDDL ACE per line or the sync engine's call (the CLI contract); the sync
/// engine's switch has no forest or domain (`null`).
#[derive(Debug, Clone)]
pub struct Step {
    /// Stable within the plan: `grant-1`, `revoke-2`, `writeback`.
    pub id: String,
    pub description: String,
    pub target: Target,
    /// The forest (DNS name) of the object it changes.
    pub forest: Option<String>,
    /// The domain (DNS name) of the object it changes.
    pub domain: Option<String>,
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
        let (forest, domain) = (self.forest.clone(), self.domain.clone());
        match &self.op {
            StepOp::Grant(_) => StoredStep::Grant { id, dn, aces: aces(), forest, domain },
            StepOp::Revoke(_) => StoredStep::Revoke { id, dn, aces: aces(), forest, domain },
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
            forest: Option<&'a str>,
            domain: Option<&'a str>,
            change: Vec<String>,
        }
        let target = self.target.to_string();
        Shown {
            id: &self.id,
            description: &self.description,
            target,
            forest: self.forest.as_deref(),
            domain: self.domain.as_deref(),
            change: self.change(),
        }
        .serialize(s)
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
    /// The forest it is about (none: the tenant or the sync engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forest: Option<String>,
}

impl Precondition {
    fn new(check: String, ok: bool, remedy: String) -> Precondition {
        Precondition { check, ok, remedy, code: None, forest: None }
    }
}

/// An ACE that is already there and stays.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub target: String,
    pub forest: String,
    pub sddl: String,
    /// In words, and why it stays.
    pub description: String,
}

/// A forest the sync engine serves that this configuration does not cover, and what that means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uncovered {
    pub forest: String,
    /// Left out on purpose (`--leave-out`, or unticked in the wizard), rather than not reached.
    pub left_out: bool,
    /// Why it is not covered (not reached: the error; left out: said so).
    pub why: String,
    /// What it means for its users, in Microsoft's words.
    pub consequence: String,
}

/// Microsoft's consequence of a forest the sync engine serves but writeback does not cover.
pub fn uncovered_consequence(added_after_enable: bool) -> String {
    if added_after_enable {
        "it was added after writeback was turned on: Microsoft: password resets of its users fail with ADSync event 6329 (0x8023061f, \"password synchronization is not enabled on this management agent\") until password writeback is turned off and on again (troubleshoot-sspr-writeback)".into()
    } else {
        "the connector account has no writeback permissions there: password resets of its users fail (PasswordResetService event 33004 ADPermissionsError, SSPR_0029 for the user) until it has (troubleshoot-sspr-writeback)".into()
    }
}

/// A forest as the plan covers it (the wizard's Ready page lists them).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedForest {
    pub forest: String,
    /// The DC that answered.
    pub dc: String,
    /// The account signed in (an Enterprise Admin of the forest).
    pub operator: String,
    pub connector_account: Option<String>,
    pub connector_source: Option<String>,
    pub scopes: Vec<String>,
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
    /// MSOL_ account); with several forests, each forest's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_source: Option<String>,
    /// The forests it covers.
    pub forests: Vec<PlannedForest>,
    /// The forests the sync engine serves that it does not cover.
    pub uncovered: Vec<Uncovered>,
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

pub use super::routing::route;

/// One forest as the engine works on it.
pub struct Forest<'a> {
    /// Its DNS name.
    pub name: String,
    /// A connection bound as an Enterprise Admin to a DC of each domain the work reaches, with
    /// that domain's naming context: the DC the forest was reached at first.
    pub conns: Vec<(String, &'a mut AdConnection)>,
    pub disc: &'a Discovery,
    /// The bound account.
    pub operator: &'a Account,
    /// The AD DS connector account.
    pub connector: Option<&'a Account>,
    /// Where the connector account came from, in words.
    pub connector_source: Option<String>,
    pub scopes: &'a [String],
    /// What the readiness scan found in the scopes (enable: each kind is a warning of the plan).
    pub findings: Option<crate::ad::scan::Findings>,
}

impl<'a> Forest<'a> {
    /// A forest reached through one DC (all its targets in that DC's domain), its name from the
    /// partitions.
    pub fn one(
        conn: &'a mut AdConnection,
        disc: &'a Discovery,
        operator: &'a Account,
        connector: Option<&'a Account>,
        scopes: &'a [String],
    ) -> Forest<'a> {
        let name = disc
            .domains
            .iter()
            .find(|d| d.dn.eq_ignore_ascii_case(&disc.root_domain_naming_context))
            .map(|d| d.dns_name.to_ascii_lowercase())
            .unwrap_or_default();
        Forest {
            name,
            conns: vec![(disc.default_naming_context.clone(), conn)],
            disc,
            operator,
            connector,
            connector_source: None,
            scopes,
            findings: None,
        }
    }
}

impl Forest<'_> {
    /// The connection that serves `dn`.
    pub(super) fn conn_for(&mut self, dn: &str) -> Result<&mut AdConnection, EngineError> {
        let roots: Vec<&str> = self.conns.iter().map(|(r, _)| r.as_str()).collect();
        match route(&roots, dn) {
            Some(i) => Ok(&mut *self.conns[i].1),
            None => Err(EngineError::NoConnection { dn: dn.to_string(), forest: self.name.clone() }),
        }
    }

    /// The domain (DNS name) `dn` lies in.
    pub fn domain_of(&self, dn: &str) -> Option<String> {
        self.disc.domain_of(dn).map(|d| d.dns_name.clone())
    }

    /// Whether `dn` lies in a domain of this forest.
    pub fn holds(&self, dn: &str) -> bool {
        self.disc.domain_of(dn).is_some()
    }

    fn summary(&self) -> PlannedForest {
        PlannedForest {
            forest: self.name.clone(),
            dc: self.disc.dc_name.clone(),
            operator: self.operator.dn.clone(),
            connector_account: self.connector.map(|c| c.sam_account_name.clone()),
            connector_source: self.connector_source.clone(),
            scopes: self.scopes.to_vec(),
        }
    }
}

/// What the engine works on. The tenant and the sync engine come as answers already read (or the
/// typed reason they could not be), so the plan and the status are pure over them.
pub struct Inputs<'a> {
    /// Each forest the configuration covers.
    pub forests: Vec<Forest<'a>>,
    pub include_adminsdholder: bool,
    /// The tenant check (enable only), or why it could not be made.
    pub tenant: Option<Result<EntraCheck, ErrorReport>>,
    /// The sync engine's state, or why it could not be read.
    pub sync: Result<EngineState, SyncError>,
    /// What this tool granted before (the grant record).
    pub granted: &'a GrantRecord,
    /// The forests the sync engine serves that this run does not cover.
    pub uncovered: Vec<Uncovered>,
}

impl<'a> Inputs<'a> {
    /// One forest, no tenant answer, no forest left uncovered.
    pub fn one(forest: Forest<'a>, sync: Result<EngineState, SyncError>, granted: &'a GrantRecord) -> Inputs<'a> {
        Inputs {
            forests: vec![forest],
            include_adminsdholder: false,
            tenant: None,
            sync,
            granted,
            uncovered: Vec::new(),
        }
    }
}

impl Inputs<'_> {
    pub(super) fn connector_source(&self) -> Option<String> {
        match self.forests.as_slice() {
            [one] => one.connector_source.clone(),
            many => {
                let said: Vec<String> = many
                    .iter()
                    .filter_map(|f| f.connector_source.as_ref().map(|s| format!("{}: {s}", f.name)))
                    .collect();
                (!said.is_empty()).then(|| said.join("; "))
            }
        }
    }

    fn several(&self) -> bool {
        self.forests.len() > 1
    }
}

/// What including AdminSDHolder means, in the plan and in the wizard's option.
pub const ADMINSDHOLDER_WARNING: &str = "AdminSDHolder is included, which Microsoft does not support: SDProp keeps the permissions of users in protected groups as AdminSDHolder's, so granting there gives the connector account reset rights over your most privileged accounts (Domain Admins, Enterprise Admins and the like)";

/// The targets writeback needs: each scope, the root of each domain holding a scope (Unexpire
/// Password), AdminSDHolder of those domains when asked.
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

/// The ACEs a plan for `connector` adds, by target, as the access evaluator takes them.
pub fn grants(
    disc: &Discovery,
    scopes: &[String],
    include_adminsdholder: bool,
    connector: &Sid,
) -> crate::ad::access::Plan {
    crate::ad::access::Plan {
        grants: targets(disc, scopes, include_adminsdholder)
            .into_iter()
            .map(|(dn, kind)| (dn, writeback::wanted(kind, connector).into_iter().map(|w| w.ace).collect()))
            .collect(),
    }
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

/// Reads each target's DACL (those of one domain in flight together on its connection) and
/// compares it with what the connector account needs there (the plan and the status ask the
/// same question). Nothing when the connector account is not known.
pub(super) async fn survey(f: &mut Forest<'_>, include_adminsdholder: bool) -> Result<Vec<Surveyed>, EngineError> {
    let Some(connector) = f.connector else { return Ok(Vec::new()) };
    let sid = connector_sid(connector)?;
    let wanted_targets = targets(f.disc, f.scopes, include_adminsdholder);
    let dns: Vec<String> = wanted_targets.iter().map(|(dn, _)| dn.clone()).collect();
    let dacls = read_dacls_routed(f, &dns).await?;
    let mut out = Vec::new();
    for ((dn, kind), dacl) in wanted_targets.into_iter().zip(dacls) {
        let dacl = dacl?;
        let wanted = writeback::wanted(kind, &sid);
        let Some(acl) = dacl.sd.dacl.clone() else { return Err(AdError::NullDacl { dn }.into()) };
        let (lacking, present) = writeback::missing(&acl, &wanted, &sid);
        out.push(Surveyed { dn, kind, wanted, inheritance_blocked: dacl.sd.dacl_protected(), lacking, present });
    }
    Ok(out)
}

/// Reads the DACLs of `dns`, each on the connection of its domain (those of one domain in flight
/// together), in the order given.
pub(super) async fn read_dacls_routed(
    f: &mut Forest<'_>,
    dns: &[String],
) -> Result<Vec<Result<writeback::Dacl, AdError>>, EngineError> {
    let roots: Vec<&str> = f.conns.iter().map(|(r, _)| r.as_str()).collect();
    let mut routed: Vec<(usize, usize)> = Vec::new();
    for (i, dn) in dns.iter().enumerate() {
        let Some(r) = route(&roots, dn) else {
            return Err(EngineError::NoConnection { dn: dn.clone(), forest: f.name.clone() });
        };
        routed.push((i, r));
    }
    let mut out: Vec<Option<Result<writeback::Dacl, AdError>>> = (0..dns.len()).map(|_| None).collect();
    for (r, (_, conn)) in f.conns.iter().enumerate() {
        let mine: Vec<usize> = routed.iter().filter(|(_, c)| *c == r).map(|(i, _)| *i).collect();
        if mine.is_empty() {
            continue;
        }
        let read = writeback::read_dacls(conn, mine.iter().map(|i| dns[*i].clone()).collect()).await;
        for (i, d) in mine.into_iter().zip(read) {
            out[i] = Some(d);
        }
    }
    Ok(out
        .into_iter()
        .map(|d| d.unwrap_or_else(|| Err(AdError::Protocol { op: "read".into(), detail: "not read".into() })))
        .collect())
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
            forest: None,
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
        forest: None,
    })
}

/// What one forest adds to a plan.
#[derive(Default)]
struct ForestPart {
    pre: Vec<Precondition>,
    steps: Vec<Step>,
    kept: Vec<Kept>,
    warnings: Vec<String>,
}

impl ForestPart {
    /// Names the forest in what it says, when the plan covers several.
    fn said_for(mut self, forest: &str, several: bool) -> ForestPart {
        for p in &mut self.pre {
            p.forest = Some(forest.to_string());
            if several {
                p.check = format!("{forest}: {}", p.check);
            }
        }
        if several {
            for w in &mut self.warnings {
                *w = format!("{forest}: {w}");
            }
        }
        self
    }

    /// The forests' parts as one: their preconditions, steps, kept ACEs and warnings in order.
    fn merge(parts: Vec<ForestPart>) -> ForestPart {
        let mut all = ForestPart::default();
        for part in parts {
            all.pre.extend(part.pre);
            all.steps.extend(part.steps);
            all.kept.extend(part.kept);
            all.warnings.extend(part.warnings);
        }
        all
    }
}

fn step(f: &Forest<'_>, description: String, dn: String, op: StepOp) -> Step {
    Step {
        id: String::new(),
        description,
        forest: Some(f.name.clone()),
        domain: f.domain_of(&dn),
        target: Target::Object { dn },
        op,
    }
}

async fn forest_preconditions(f: &mut Forest<'_>) -> Result<Vec<Precondition>, EngineError> {
    let (disc, operator) = (f.disc, f.operator);
    let conn = f.conn_for(&disc.default_naming_context.clone())?;
    let ea = directory::enterprise_admin(conn, disc, operator).await?;
    let mut pre = vec![Precondition::new(
        format!("{} is an Enterprise Admin", f.operator.sam_account_name),
        ea.enterprise_admin,
        format!("Use an account in Enterprise Admins ({}).", ea.enterprise_admins_sid),
    )];
    pre.push(match f.connector {
        Some(c) => Precondition::new(
            format!("the connector account {} exists and is enabled", c.sam_account_name),
            c.enabled,
            "Enable the AD DS connector account, or name the right one with --connector-account.".into(),
        ),
        None => Precondition::new(
            "the AD DS connector account is known".into(),
            false,
            "Name it with --connector-account (its name starts with MSOL_ when Entra Connect created it).".into(),
        ),
    });
    Ok(pre)
}

async fn enable_forest(
    f: &mut Forest<'_>,
    include_adminsdholder: bool,
    sync: Option<&EngineState>,
) -> Result<ForestPart, EngineError> {
    let mut part = ForestPart { pre: forest_preconditions(f).await?, ..ForestPart::default() };
    if let Some(c) = f.connector.filter(|c| c.admin_count) {
        part.warnings.push(format!(
            "the connector account {} has adminCount=1 (it is, or was, in a protected group): on Windows, \
             AdminSDHolder resets its own permissions every hour; take it out of the protected group and clear \
             adminCount, as Entra Connect expects",
            c.sam_account_name
        ));
    }
    for Surveyed { dn, kind, wanted, inheritance_blocked, lacking, present } in survey(f, include_adminsdholder).await?
    {
        for p in &present {
            let w = wanted.iter().find(|w| &w.ace == p).map(|w| w.description.clone()).unwrap_or_default();
            part.kept.push(Kept {
                target: dn.clone(),
                forest: f.name.clone(),
                sddl: persisted::text(p),
                description: format!("{w} — already there, kept"),
            });
        }
        if inheritance_blocked && kind == TargetKind::Scope {
            part.warnings.push(format!(
                "{dn} blocks inheritance: the permissions granted on it apply below it, but not from above"
            ));
        }
        if kind == TargetKind::AdminSdHolder && !part.warnings.iter().any(|w| w == ADMINSDHOLDER_WARNING) {
            part.warnings.push(ADMINSDHOLDER_WARNING.into());
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
            part.steps.push(step(f, description, dn, StepOp::Grant(aces)));
        }
    }
    if let (Some(state), Some(c)) = (sync, f.connector) {
        part.pre.extend(connector_for_connect(c, state.flavour));
    }
    part.warnings.extend(samba_root_warning(f.disc, &part.steps));
    // Microsoft: "To use the password writeback feature, you must enable the control" (6329,
    // MMS(3040), troubleshoot-sspr-writeback.md). A Samba DC never offers it and is not a DC
    // Entra Connect supports: said, so the lab still runs.
    match policy_hints(f.disc.policy_hints(), f.disc.is_samba()) {
        Some(Ok(failed)) => part.pre.push(failed),
        Some(Err(warning)) => part.warnings.push(warning),
        None => {}
    }
    if let Some(findings) = &f.findings {
        part.warnings.extend(findings.warnings());
    }
    Ok(part)
}

/// Numbers the steps (`grant-1`, `revoke-2`, … across every forest; the switch keeps its id).
fn number(steps: &mut [Step]) {
    let mut n = 0;
    for s in steps.iter_mut() {
        match s.op {
            StepOp::Grant(_) => {
                n += 1;
                s.id = format!("grant-{n}");
            }
            StepOp::Revoke(_) => {
                n += 1;
                s.id = format!("revoke-{n}");
            }
            StepOp::Writeback { .. } => {}
        }
    }
}

fn dedup(list: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|w| seen.insert(w.clone()));
}

/// Plans enabling writeback in every forest of `inp`: one plan, each forest checked and surveyed
/// on its own connections at the same time.
pub async fn plan_enable(inp: &mut Inputs<'_>) -> Result<Plan, EngineError> {
    let several = inp.several();
    let connector_source = inp.connector_source();
    let summaries: Vec<PlannedForest> = inp.forests.iter().map(Forest::summary).collect();
    let include = inp.include_adminsdholder;
    let sync = inp.sync.as_ref().ok();
    let parts = futures_util::future::try_join_all(inp.forests.iter_mut().map(|f| async move {
        let name = f.name.clone();
        enable_forest(f, include, sync).await.map(|p| p.said_for(&name, several))
    }))
    .await?;
    let mut pre = Vec::new();
    // What the tenant check warns of (a federated account, room SKUs, a stale sync) and could
    // not check: said in the plan too, never a failed precondition.
    let mut warnings: Vec<String> = match &inp.tenant {
        Some(Ok(t)) => {
            t.warnings.iter().cloned().chain(t.not_checked.iter().map(|n| format!("not checked: {n}"))).collect()
        }
        _ => Vec::new(),
    };
    let ForestPart { pre: forests_pre, mut steps, kept: preexisting, warnings: forests_warnings } =
        ForestPart::merge(parts);
    pre.extend(forests_pre);
    warnings.extend(forests_warnings);
    pre.push(sync_answers(&inp.sync));
    match &inp.tenant {
        Some(Ok(t)) => {
            pre.push(Precondition::new(
                "role: Global Administrator or Hybrid Identity Administrator, assigned directly, cloud account".into(),
                t.role_ok,
                t.problems.first().cloned().unwrap_or_default(),
            ));
            pre.push(Precondition::new(
                "licence carrying Microsoft Entra ID P1 or P2".into(),
                t.licence.eligible,
                t.licence.reason.clone(),
            ));
            pre.push(Precondition::new(
                "directory synchronisation enabled".into(),
                t.directory_sync.enabled,
                "Install and run Microsoft Entra Connect for the tenant first.".into(),
            ));
        }
        Some(Err(e)) => pre.push(Precondition::new(
            "the tenant could be checked (role, licence, directory sync)".into(),
            false,
            e.message.clone(),
        )),
        None => pre.push(Precondition::new(
            "the tenant was checked".into(),
            false,
            "Sign in to Microsoft Entra ID (entra check) first.".into(),
        )),
    }
    for u in &inp.uncovered {
        if u.left_out {
            warnings.push(format!("{} is left out: {}", u.forest, u.consequence));
        } else {
            pre.push(Precondition {
                code: Some("AD-FOREST-NOT-COVERED"),
                check: format!("forest {}, which the sync engine serves, is connected", u.forest),
                ok: false,
                remedy: format!(
                    "{} ({}). Connect to it (a [[directory]] table with forest = \"{}\" and its Enterprise Admin, or a row on Connect your directories), or leave it out on purpose with --leave-out {} — {}.",
                    u.why, u.forest, u.forest, u.forest, u.consequence
                ),
                forest: Some(u.forest.clone()),
            });
        }
    }
    if let Ok(state) = &inp.sync {
        for b in state.enable_blockers() {
            pre.push(Precondition { code: Some(b.code), check: b.check, ok: false, remedy: b.remedy, forest: None });
        }
        warnings.extend(state.warnings.iter().map(ToString::to_string));
        // A switch that cannot be read is set either way (the cmdlet is idempotent).
        if !state.writeback_enabled || !state.writeback_readable {
            steps.push(writeback_step("writeback", true, state));
        } else if let Some(added) = newly_covered(inp, &steps) {
            // Microsoft's remedy for a forest added after writeback was turned on: turn it off
            // and on again (6329 0x8023061f, troubleshoot-sspr-writeback).
            warnings.push(format!(
                "writeback is turned off and on again for {added}, which it did not cover when it was turned on (Microsoft's remedy for event 6329 0x8023061f); resets wait for the few seconds it is off"
            ));
            steps.push(writeback_step("writeback-off", false, state));
            steps.push(writeback_step("writeback", true, state));
        }
    }
    number(&mut steps);
    dedup(&mut warnings);
    Ok(Plan {
        action: Action::Enable,
        steps,
        preconditions: pre,
        preexisting,
        warnings,
        connector_source,
        forests: summaries,
        uncovered: inp.uncovered.clone(),
    })
}

/// The forests an enable covers that the switch, already on, was not turned on with: those with
/// steps of their own and no grant of this tool yet, when the record says which forests the
/// switch was turned on with.
fn newly_covered(inp: &Inputs<'_>, steps: &[Step]) -> Option<String> {
    let with = inp.granted.switched_on_with()?;
    let new: Vec<&str> = inp
        .forests
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !with.iter().any(|w| w.eq_ignore_ascii_case(name)))
        .filter(|name| steps.iter().any(|s| s.forest.as_deref() == Some(*name)))
        .collect();
    (!new.is_empty()).then(|| new.join(", "))
}

fn sync_answers(sync: &Result<EngineState, SyncError>) -> Precondition {
    Precondition::new(
        "the sync engine answers".into(),
        sync.is_ok(),
        sync.as_ref().err().map(ToString::to_string).unwrap_or_default(),
    )
}

fn writeback_step(id: &str, enabled: bool, state: &EngineState) -> Step {
    Step {
        id: id.into(),
        description: format!(
            "Turn password writeback {} in the sync engine ({})",
            if enabled { "on" } else { "off" },
            state.backend
        ),
        target: Target::SyncEngine,
        forest: None,
        domain: None,
        op: StepOp::Writeback { enabled, call: state.switch.call(enabled).to_string() },
    }
}

async fn disable_forest(
    f: &mut Forest<'_>,
    granted: &GrantRecord,
    include_adminsdholder: bool,
    remove_preexisting: bool,
) -> Result<ForestPart, EngineError> {
    let mut part = ForestPart { pre: forest_preconditions(f).await?, ..ForestPart::default() };
    let recorded: Vec<(&String, &Vec<Ace>)> = granted.table().iter().filter(|(dn, _)| f.holds(dn)).collect();
    let mut dns: Vec<String> = recorded.iter().map(|(k, _)| (*k).clone()).collect();
    let (wanted_by_dn, every_wanted): (Vec<(String, Vec<WantedAce>)>, Vec<WantedAce>) = match f.connector {
        Some(c) => {
            let sid = connector_sid(c)?;
            let by_dn = targets(f.disc, f.scopes, include_adminsdholder)
                .into_iter()
                .map(|(dn, kind)| (dn, writeback::wanted(kind, &sid)))
                .collect();
            let all = [TargetKind::Scope, TargetKind::DomainRoot, TargetKind::AdminSdHolder]
                .into_iter()
                .flat_map(|k| writeback::wanted(k, &sid))
                .collect();
            (by_dn, all)
        }
        None => (Vec::new(), Vec::new()),
    };
    for (dn, _) in &wanted_by_dn {
        if !dns.contains(dn) {
            dns.push(dn.clone());
        }
    }
    let read = read_dacls_routed(f, &dns).await?;
    for (dn, dacl) in dns.into_iter().zip(read) {
        let dacl = match dacl {
            Ok(d) => d,
            Err(AdError::NoSuchObject { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let acl = dacl.sd.dacl.clone().unwrap_or_else(|| Acl::new(4));
        let ours: &[Ace] = recorded.iter().find(|(k, _)| **k == dn).map(|(_, v)| v.as_slice()).unwrap_or_default();
        let mut remove: Vec<Ace> =
            ours.iter().filter(|a| acl.aces.iter().any(|x| !x.is_inherited() && x == *a)).cloned().collect();
        for w in wanted_by_dn.iter().filter(|(d, _)| *d == dn).flat_map(|(_, w)| w) {
            let explicit = acl.aces.iter().find(|x| !x.is_inherited() && x.same_meaning(&w.ace)).cloned();
            if let Some(existing) = explicit.filter(|e| !ours.contains(e)) {
                if remove_preexisting {
                    remove.push(existing);
                } else {
                    part.kept.push(Kept {
                        target: dn.clone(),
                        forest: f.name.clone(),
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
            part.steps.push(step(f, description, dn, StepOp::Revoke(aces)));
        }
    }
    part.warnings.extend(samba_root_warning(f.disc, &part.steps));
    Ok(part)
}

/// Plans disabling writeback in every forest of `inp`: removes what the grant record says this
/// tool added; pre-existing ACEs stay unless `remove_preexisting`. Needs no licence and no cloud
/// role.
pub async fn plan_disable(inp: &mut Inputs<'_>, remove_preexisting: bool) -> Result<Plan, EngineError> {
    let several = inp.several();
    let connector_source = inp.connector_source();
    let summaries: Vec<PlannedForest> = inp.forests.iter().map(Forest::summary).collect();
    let (granted, include) = (inp.granted, inp.include_adminsdholder);
    let parts = futures_util::future::try_join_all(inp.forests.iter_mut().map(|f| async move {
        let name = f.name.clone();
        disable_forest(f, granted, include, remove_preexisting).await.map(|p| p.said_for(&name, several))
    }))
    .await?;
    let ForestPart { mut pre, mut steps, kept: preexisting, mut warnings } = ForestPart::merge(parts);
    pre.push(sync_answers(&inp.sync));
    // What this tool granted in a forest this run does not reach stays there: said, with where.
    let elsewhere: Vec<String> = granted
        .table()
        .keys()
        .filter(|dn| !inp.forests.iter().any(|f| f.holds(dn)))
        .map(|dn| match granted.forest_of(dn) {
            Some(forest) => format!("{dn} (forest {forest})"),
            None => dn.clone(),
        })
        .collect();
    if !elsewhere.is_empty() {
        warnings.push(format!(
            "this tool's permissions on {} stay: the forest is not connected in this run (connect to it to take them away)",
            elsewhere.join(", ")
        ));
    }
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
            steps.insert(0, writeback_step("writeback", false, state));
        }
    }
    number(&mut steps);
    dedup(&mut warnings);
    Ok(Plan {
        action: Action::Disable,
        steps,
        preconditions: pre,
        preexisting,
        warnings,
        connector_source,
        forests: summaries,
        uncovered: inp.uncovered.clone(),
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

    /// crossRef sets as a Windows forest of three domains would answer (CN=Partitions: nCName,
    /// dnsRoot, nETBIOSName), and as the lab's Samba DC answers: each DN goes to the connection of
    /// the deepest domain holding it; a DN in no connected domain to none.
    #[test]
    fn each_dn_goes_to_the_connection_of_its_own_domain() {
        let forest = ["DC=corp,DC=example", "DC=emea,DC=corp,DC=example", "DC=child,DC=emea,DC=corp,DC=example"];
        assert_eq!(route(&forest, "OU=Staff,DC=corp,DC=example"), Some(0));
        assert_eq!(route(&forest, "OU=Staff,DC=emea,DC=corp,DC=example"), Some(1));
        assert_eq!(route(&forest, "dc=Child,DC=EMEA,dc=corp,DC=example"), Some(2));
        assert_eq!(route(&forest, "CN=AdminSDHolder,CN=System,DC=emea,DC=corp,DC=example"), Some(1));
        assert_eq!(route(&forest, "OU=x,DC=south,DC=example"), None);
        // A name that merely ends in the same letters is not under the root.
        assert_eq!(route(&forest, "DC=notcorp,DC=example"), None);
        let lab = ["DC=lab,DC=example,DC=test"];
        assert_eq!(route(&lab, "OU=Users,OU=Corp,DC=lab,DC=example,DC=test"), Some(0));
    }
}
