//! Applying a plan: journal, run, verify, and undo in reverse on failure or cancel. The steps run
//! in [`batch`]es; [`undo`] takes them back; [`recovery`] finishes or rolls back a crashed apply
//! from its journal; [`canary`] proves a reset as the connector account.

mod batch;
mod canary;
mod recovery;
mod undo;

pub use canary::{Canary, canary};
pub use recovery::{JournalView, Recovery, inspect, recover, validate};

use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::error::Cause;
use super::journal::{self, AuditRecord, Journal, Lock, Prior, Record, StoredStep};
use super::paths::Paths;
use super::{Action, EngineError, Plan};
use crate::ad::AdConnection;
use crate::ad::sd::{Ace, SecurityDescriptor, SidContext};
use crate::ad::writeback::WantedAce;
use crate::clock::Clock;
use crate::sync_engine::{Backend, SyncEngine};
use batch::{run_batch, run_switch};
use undo::undo_all;

/// Progress, as steps run (the wizard's Configuring page draws these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// A step started.
    Started { id: String },
    /// A step is done and verified.
    Done {
        id: String,
        /// How long it took.
        elapsed_ms: u64,
    },
    /// A step failed.
    Failed { id: String, error: String },
    /// A step was undone and the undo verified.
    Undone { id: String },
    /// The sync cycle was started.
    SyncStarted,
}

/// One connection an apply writes through: a DC of one domain, bound as an Enterprise Admin of
/// its forest.
pub struct Route<'a> {
    pub conn: &'a mut AdConnection,
    /// What it is connected to (the journal names it; a recovery checks it).
    pub directory: super::journal::Directory,
    /// The domain naming context it writes.
    pub root: String,
    /// The domain's DNS name.
    pub domain: String,
    /// Who (the bound account, for the audit log).
    pub operator: String,
}

impl<'a> Route<'a> {
    /// The route through `conn`, bound as `operator` to the DC `disc` describes, in `forest`.
    pub fn of(
        conn: &'a mut AdConnection,
        disc: &crate::ad::directory::Discovery,
        forest: &str,
        operator: &str,
    ) -> Route<'a> {
        let root = disc.default_naming_context.clone();
        Route {
            domain: disc.domain_of(&root).map(|d| d.dns_name.clone()).unwrap_or_default(),
            directory: super::journal::Directory::in_forest(disc, forest),
            root,
            operator: operator.to_string(),
            conn,
        }
    }
}

/// What the engine needs to change things.
pub struct Env<'a> {
    /// A connection to each domain the changes reach, of every forest.
    pub routes: Vec<Route<'a>>,
    /// The sync engine.
    pub sync: &'a Backend,
    pub paths: &'a Paths,
    /// What this tool granted: noted as steps run, saved (merged under the lock) at the end.
    pub grants: &'a mut super::grants::GrantRecord,
    /// Stops the apply between steps; what was done is undone.
    pub cancel: &'a CancellationToken,
    /// Told about each step.
    pub progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// The time the journal and the audit log record.
    pub clock: &'a dyn Clock,
}

impl Env<'_> {
    fn now(&self) -> String {
        crate::clock::rfc3339(self.clock.now())
    }

    /// The route that writes `dn`.
    fn route_of(&self, dn: &str) -> Result<usize, EngineError> {
        let roots: Vec<&str> = self.routes.iter().map(|r| r.root.as_str()).collect();
        super::plan::route(&roots, dn).ok_or_else(|| EngineError::NoConnection {
            dn: dn.to_string(),
            forest: self
                .routes
                .iter()
                .find(|r| r.directory.serves(dn))
                .and_then(|r| r.directory.forest.clone())
                .unwrap_or_default(),
        })
    }

    /// The forests the routes reach, each once, in order.
    fn forests(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.routes.iter().filter_map(|r| r.directory.forest.clone()) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// An audit line for a change made (or undone) now on `target`: by the operator of the route
    /// that writes it (the first route's for the sync engine).
    fn audit_line<'b>(&'b self, action: &'b str, target: &'b str, before: String, after: String) -> AuditRecord<'b> {
        let route = self.route_of(target).ok().and_then(|i| self.routes.get(i));
        let first = self.routes.first();
        AuditRecord {
            time: self.now(),
            operator: route.or(first).map(|r| r.operator.as_str()).unwrap_or_default(),
            action,
            target,
            forest: route.and_then(|r| r.directory.forest.as_deref()),
            domain: route.map(|r| r.domain.as_str()),
            before,
            after,
            result: "ok".into(),
        }
    }
}

/// What an apply did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyOutcome {
    /// Step ids applied.
    pub applied: Vec<String>,
    /// Everything read back as planned.
    pub verified: bool,
    /// A sync cycle was started.
    pub sync_started: bool,
    /// Warnings (e.g. the sync cycle could not be started).
    pub warnings: Vec<String>,
}

fn dacl_sddl(bytes: &[u8]) -> String {
    SecurityDescriptor::decode(bytes)
        .map(|sd| sd.to_sddl(&SidContext::default()))
        .unwrap_or_else(|e| format!("(undecodable: {e})"))
}

/// Saves the grant record (once per apply, rollback or recovery: a write per step made 1,000
/// scopes quadratic). Between two saves the journal is what makes it recoverable: an apply that
/// stops half-way leaves its journal, and [`recover`] notes the journalled steps before saving.
fn save_grants(env: &mut Env<'_>) -> Result<(), EngineError> {
    env.grants.save()
}

/// Notes what a grant added or a revoke removed; [`save_grants`] persists it.
fn record(env: &mut Env<'_>, dn: &str, aces: &[Ace], add: bool) {
    let forest = env.route_of(dn).ok().and_then(|i| env.routes[i].directory.forest.clone());
    env.grants.note(forest.as_deref(), dn, aces, add);
}

/// A grant step's ACEs as the writeback module takes them, with the trustee they are for.
fn as_wanted(parsed: &[Ace]) -> Result<(crate::ad::sd::Sid, Vec<WantedAce>), EngineError> {
    let sid = parsed
        .first()
        .and_then(|a| a.sid().cloned())
        .ok_or_else(|| EngineError::Internal { detail: "a grant without ACEs".into() })?;
    Ok((sid, parsed.iter().map(|a| WantedAce { ace: a.clone(), description: String::new() }).collect()))
}

/// The object a DACL step changes (`None` for the sync engine's switch).
fn dacl_target(step: &StoredStep) -> Option<&str> {
    match step {
        StoredStep::Grant { dn, .. } | StoredStep::Revoke { dn, .. } => Some(dn),
        StoredStep::Writeback { .. } => None,
    }
}

/// Splits `items` into runs the apply (and the undo) takes together: consecutive DACL steps on
/// distinct objects of one domain, written through its connection (two changes of one object in
/// flight at once would each write over the other), and the sync engine's switch alone. `step`
/// finds an item's step; `route` the connection of a DN.
fn batches<T>(items: &[T], step: impl Fn(&T) -> &StoredStep, route: impl Fn(&str) -> Option<usize>) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut objects = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let here = dacl_target(step(item)).map(str::to_ascii_lowercase);
        let joins = match (&here, dacl_target(step(&items[start]))) {
            (Some(dn), Some(first)) => i > start && !objects.contains(dn) && route(dn) == route(first),
            _ => false,
        };
        if i > start && !joins {
            out.push(&items[start..i]);
            start = i;
            objects.clear();
        }
        objects.extend(here);
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

async fn run_steps(
    steps: &[StoredStep],
    env: &mut Env<'_>,
    journal: &mut Journal,
    mut done: Vec<(StoredStep, Prior)>,
    already_begun: &[(String, Prior)],
) -> Result<Vec<String>, EngineError> {
    let mut applied = Vec::new();
    let roots: Vec<String> = env.routes.iter().map(|r| r.root.clone()).collect();
    let route = |dn: &str| super::plan::route(&roots.iter().map(String::as_str).collect::<Vec<_>>(), dn);
    for batch in batches(steps, |s| s, route) {
        if env.cancel.is_cancelled() {
            return rollback(done, env, journal, Cause::of(&EngineError::Cancelled)).await;
        }
        if dacl_target(&batch[0]).is_some() {
            match run_batch(batch, env, journal, &mut done, already_begun).await {
                Ok(ids) => applied.extend(ids),
                Err((id, e)) => {
                    let _ = journal.append(&Record::Failed { step: id.clone(), error: e.to_string(), time: env.now() });
                    (env.progress)(Progress::Failed { id, error: e.to_string() });
                    return rollback(done, env, journal, Cause::of(&e)).await;
                }
            }
            continue;
        }
        let step = &batch[0];
        let id = step.id().to_string();
        (env.progress)(Progress::Started { id: id.clone() });
        let started = Instant::now();
        let begun = already_begun.iter().find(|(s, _)| *s == id).map(|(_, p)| p.clone());
        let mut touched = None;
        let StoredStep::Writeback { enabled, .. } = step else {
            return Err(EngineError::Internal { detail: format!("step {id} is neither a DACL change nor the switch") });
        };
        match run_switch(&id, enabled, env, journal, begun.is_some(), &mut touched).await {
            Ok(prior) => {
                journal.append(&Record::Done { step: id.clone(), time: env.now() })?;
                if let Some(p) = begun.or(prior) {
                    done.push((step.clone(), p));
                }
                applied.push(id.clone());
                (env.progress)(Progress::Done { id, elapsed_ms: started.elapsed().as_millis() as u64 });
            }
            Err(e) => {
                let _ = journal.append(&Record::Failed { step: id.clone(), error: e.to_string(), time: env.now() });
                (env.progress)(Progress::Failed { id: id.clone(), error: e.to_string() });
                // The failed step may have changed its target before failing: undo it too.
                if let Some(p) = begun.or(touched) {
                    done.push((step.clone(), p));
                }
                return rollback(done, env, journal, Cause::of(&e)).await;
            }
        }
    }
    // Cancel pressed while the last step ran: the person wanted out, so that step is undone too.
    if env.cancel.is_cancelled() {
        return rollback(done, env, journal, Cause::of(&EngineError::Cancelled)).await;
    }
    // What was granted is kept only if it can be written down: otherwise the disable could not
    // find it again, so the whole apply is undone instead.
    if let Err(e) = save_grants(env) {
        return rollback(done, env, journal, Cause::of(&e)).await;
    }
    Ok(applied)
}

async fn rollback(
    done: Vec<(StoredStep, Prior)>,
    env: &mut Env<'_>,
    journal: &mut Journal,
    cause: Cause,
) -> Result<Vec<String>, EngineError> {
    match undo_all(&done, env, journal).await {
        Ok(kept) => {
            let path = journal.path().to_path_buf();
            let _ = std::fs::remove_file(path);
            Err(EngineError::RolledBack { cause, kept })
        }
        Err(undo_error) => Err(EngineError::NotRolledBack {
            cause: cause.text,
            undo_error: undo_error.to_string(),
            journal: journal.path().to_path_buf(),
        }),
    }
}

/// Applies a plan. Refuses when a precondition fails, when another apply runs, or when an earlier
/// apply left an unfinished journal. An empty plan changes nothing and says so.
pub async fn apply(plan: &Plan, env: &mut Env<'_>, start_sync: bool) -> Result<ApplyOutcome, EngineError> {
    if let Some(p) = plan.preconditions.iter().find(|p| !p.ok) {
        return Err(EngineError::Precondition { check: p.check.clone(), remedy: p.remedy.clone() });
    }
    let _lock = Lock::acquire(&env.paths.state_dir).await?;
    if let Some(path) = journal::unfinished(&env.paths.state_dir)? {
        return Err(EngineError::Unfinished { path });
    }
    let steps: Vec<StoredStep> = plan.steps.iter().map(super::Step::stored).collect();
    let mut applied = Vec::new();
    if !steps.is_empty() {
        let stamp = crate::clock::unix_secs(env.clock.now()).to_string();
        let mut journal = Journal::create(&env.paths.state_dir, &stamp)?;
        let mut directories = env.routes.iter().map(|r| r.directory.clone());
        if let Err(e) = journal.append(&Record::Plan {
            action: plan.action,
            steps: steps.clone(),
            time: env.now(),
            directory: directories.next(),
            others: directories.collect(),
        }) {
            // Nothing is changed yet: leave no journal that would block the next run.
            let _ = journal.finish();
            return Err(e);
        }
        applied = run_steps(&steps, env, &mut journal, Vec::new(), &[]).await?;
        complete(journal, env)?;
    }
    finish(env, plan.action, start_sync, applied).await
}

/// Ends a journal whose steps are all done and recorded. The Complete record only matters if
/// the file cannot be removed, so a full disk refusing it does not undo a finished apply.
fn complete(mut journal: Journal, env: &Env<'_>) -> Result<(), EngineError> {
    if let Err(e) = journal.append(&Record::Complete { time: env.now() }) {
        tracing::warn!("the journal could not record its end (it is removed next): {e}");
    }
    journal.finish()
}

async fn finish(
    env: &mut Env<'_>,
    action: Action,
    start_sync: bool,
    applied: Vec<String>,
) -> Result<ApplyOutcome, EngineError> {
    let mut warnings = Vec::new();
    let mut sync_started = false;
    if start_sync {
        match env.sync.start_sync_cycle().await {
            Ok(()) => {
                sync_started = true;
                (env.progress)(Progress::SyncStarted);
                let _ = journal::audit(
                    &env.paths.audit_log,
                    &env.audit_line("sync-cycle", "sync-engine", String::new(), String::new()),
                );
            }
            Err(e) => warnings.push(format!("the configuration is done, but the sync cycle could not be started: {e}")),
        }
    }
    let verified = match env.sync.state().await {
        Ok(s) if !s.writeback_readable => {
            warnings.push(format!(
                "the sync engine's writeback switch ({}) has no documented way to be read: it was set, not checked; see it in the Entra admin center (Password reset > On-premises integration)",
                s.backend
            ));
            true
        }
        Ok(s) => s.writeback_enabled == (action == Action::Enable),
        Err(e) => {
            warnings.push(format!("the sync engine could not be read back: {e}"));
            false
        }
    };
    // Which forests the switch is on with: a forest the sync engine serves beyond them was
    // added after writeback was turned on (Microsoft: 6329 0x8023061f until off and on).
    let with = (action == Action::Enable).then(|| env.forests());
    if env.grants.switched_on_with().map(<[String]>::to_vec) != with {
        env.grants.note_switched_on_with(with);
        if let Err(e) = env.grants.save() {
            warnings.push(format!("the record of the forests writeback was turned on with could not be saved: {e}"));
        }
    }
    Ok(ApplyOutcome { applied, verified, sync_started, warnings })
}
