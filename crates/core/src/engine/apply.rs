//! Applying a plan: journal, run, verify, and undo in reverse on failure or cancel; recovering a
//! crashed apply from its journal; the canary check.

use std::path::Path;
use std::time::Instant;

use base64::Engine as _;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::journal::{self, AuditRecord, Journal, Lock, Prior, Record, StoredStep};
use super::paths::Paths;
use super::{Action, EngineError, Plan};
use crate::ad::AdConnection;
use crate::ad::sd::{Ace, SecurityDescriptor, SidContext};
use crate::ad::writeback::{self, WantedAce};
use crate::clock::Clock;
use crate::sync_engine::{Backend, SyncEngine};

/// Progress, as steps run (the wizard's Configuring page draws these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// A step started.
    Started {
        /// Step id.
        id: String,
    },
    /// A step is done and verified.
    Done {
        /// Step id.
        id: String,
        /// How long it took.
        elapsed_ms: u64,
    },
    /// A step failed.
    Failed {
        /// Step id.
        id: String,
        error: String,
    },
    /// A step was undone and the undo verified.
    Undone {
        /// Step id.
        id: String,
    },
    /// The sync cycle was started.
    SyncStarted,
}

/// What the engine needs to change things.
pub struct Env<'a> {
    /// Bound as an Enterprise Admin.
    pub ad: &'a mut AdConnection,
    /// The sync engine.
    pub sync: &'a Backend,
    pub paths: &'a Paths,
    /// What this tool granted: noted as steps run, saved (merged under the lock) at the end.
    pub grants: &'a mut super::grants::GrantRecord,
    /// Who (for the audit log).
    pub operator: &'a str,
    /// Stops the apply between steps; what was done is undone.
    pub cancel: &'a CancellationToken,
    /// Told about each step.
    pub progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// The time the journal and the audit log record.
    pub clock: &'a dyn Clock,
    /// The directory `ad` is bound to (the journal names it; a recovery checks it).
    pub directory: super::journal::Directory,
}

impl Env<'_> {
    fn now(&self) -> String {
        crate::clock::rfc3339(self.clock.now())
    }

    /// An audit line for a change made (or undone) now by this run's operator.
    fn audit_line<'b>(&'b self, action: &'b str, target: &'b str, before: String, after: String) -> AuditRecord<'b> {
        AuditRecord { time: self.now(), operator: self.operator, action, target, before, after, result: "ok".into() }
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

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, EngineError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| EngineError::Internal { detail: format!("journal DACL: {e}") })
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
    env.grants.note(dn, aces, add);
}

/// What a journalled step changed, worked out from its prior DACL: the ACEs a grant found
/// missing (so pre-existing ones are never claimed as ours), or the ACEs a revoke removes. Used
/// when resuming, where the run that made the change is gone.
fn changed_since(step: &StoredStep, prior: &Prior) -> Result<Vec<Ace>, EngineError> {
    match (step, prior) {
        (StoredStep::Grant { aces, .. }, Prior::Dacl { sd, .. }) => {
            let before = SecurityDescriptor::decode(&unb64(sd)?)
                .map_err(|e| EngineError::Internal { detail: format!("journal DACL: {e}") })?;
            let (sid, wanted) = as_wanted(aces)?;
            let empty = crate::ad::sd::ace::Acl::new(crate::ad::sd::ace::ACL_REVISION_DS);
            let (lacking, _) = writeback::missing(before.dacl.as_ref().unwrap_or(&empty), &wanted, &sid);
            Ok(lacking)
        }
        (StoredStep::Revoke { aces, .. }, _) => Ok(aces.clone()),
        _ => Ok(Vec::new()),
    }
}

/// A grant step's ACEs as the writeback module takes them, with the trustee they are for.
fn as_wanted(parsed: &[Ace]) -> Result<(crate::ad::sd::Sid, Vec<WantedAce>), EngineError> {
    let sid = parsed
        .first()
        .and_then(|a| a.sid().cloned())
        .ok_or_else(|| EngineError::Internal { detail: "a grant without ACEs".into() })?;
    Ok((sid, parsed.iter().map(|a| WantedAce { ace: a.clone(), description: String::new() }).collect()))
}

/// Switches the sync engine's writeback, journalling its prior value first. `started` is set once
/// the switch may have been made (its prior value is journalled), so a failure after that point is
/// undone.
async fn run_switch(
    id: &str,
    enabled: &bool,
    env: &mut Env<'_>,
    journal: &mut Journal,
    begun: bool,
    started: &mut Option<Prior>,
) -> Result<Option<Prior>, EngineError> {
    let cancelled = || EngineError::Cancelled;
    let state = tokio::select! {
        s = env.sync.state() => s?,
        _ = env.cancel.cancelled() => return Err(cancelled()),
    };
    // A switch that cannot be read (Cloud Sync) is journalled as already at its target:
    // nothing claims to know what it was, so an undo leaves it as set and says so.
    let readable = state.writeback_readable;
    let before = if readable { state.writeback_enabled } else { *enabled };
    let prior = Prior::Writeback { enabled: before };
    if !begun {
        journal.append(&Record::Begin { step: id.to_string(), prior: prior.clone(), time: env.now() })?;
        *started = Some(prior.clone());
    }
    // A switch cut off by Cancel may have been made: the step counts as begun (its prior
    // value is journalled), so the rollback sets the switch back either way.
    tokio::select! {
        r = env.sync.set_writeback(*enabled) => r?,
        _ = env.cancel.cancelled() => return Err(cancelled()),
    }
    let after = if readable { env.sync.state().await?.writeback_enabled } else { *enabled };
    if after != *enabled {
        return Err(EngineError::Internal { detail: "the sync engine did not take the writeback switch".into() });
    }
    let action = if *enabled { "writeback-on" } else { "writeback-off" };
    journal::audit(
        &env.paths.audit_log,
        &env.audit_line(action, "sync-engine", before.to_string(), after.to_string()),
    )?;
    Ok(Some(prior))
}

/// Records an undo in the audit log when the disk allows: the undo is already made and checked,
/// and failing the rollback over its log line would leave the journal claiming work that is done.
fn audit_undo(env: &Env<'_>, record: &AuditRecord<'_>) {
    if let Err(e) = journal::audit(&env.paths.audit_log, record) {
        tracing::warn!("the audit log could not record an undo of {}: {e}", record.target);
    }
}

/// What a DACL step changed, exactly, worked out from its journalled prior DACL: the ACEs a grant
/// added (those of the step the prior DACL lacked — the very ones `grant_over` inserted) and the
/// ACEs a revoke removed (every explicit copy the prior DACL held).
fn delta(step: &StoredStep, prior: &crate::ad::sd::Acl) -> Result<(Vec<Ace>, Vec<Ace>), EngineError> {
    match step {
        StoredStep::Grant { aces, .. } => {
            let (sid, wanted) = as_wanted(aces)?;
            Ok((writeback::missing(prior, &wanted, &sid).0, Vec::new()))
        }
        StoredStep::Revoke { aces, .. } => {
            Ok((Vec::new(), aces.iter().flat_map(|a| std::iter::repeat_n(a.clone(), prior.count_exact(a))).collect()))
        }
        StoredStep::Writeback { .. } => Ok((Vec::new(), Vec::new())),
    }
}

/// How one DACL step is undone over the DACL as it is now. When nobody else changed the object
/// since our change, the journalled prior DACL is written back whole (byte-identical). When someone
/// did, only our change is reversed — one copy of each ACE we added is removed, each we removed is
/// put back — and every other difference stays; the note says so.
struct UndoDacl<'s> {
    dn: &'s str,
    prior_bytes: Vec<u8>,
    current: writeback::Dacl,
    added: Vec<Ace>,
    removed: Vec<Ace>,
    /// What to write (`None`: nothing to undo), and whether it is the prior DACL whole.
    write: Option<SecurityDescriptor>,
    whole: bool,
    note: Option<String>,
}

/// Works out the undo of `step` over `current` (no I/O); `None` when the prior DACL was NULL
/// (nothing was granted over it: refused before any write).
fn undo_change<'s>(
    step: &'s StoredStep,
    dn: &'s str,
    prior_bytes: Vec<u8>,
    current: writeback::Dacl,
) -> Result<Option<UndoDacl<'s>>, EngineError> {
    let prior = SecurityDescriptor::decode(&prior_bytes)
        .map_err(|e| EngineError::Internal { detail: format!("journal DACL: {e}") })?;
    let Some(prior_acl) = prior.dacl.clone() else { return Ok(None) };
    let (added, removed) = delta(step, &prior_acl)?;
    let mut ours = prior_acl;
    for a in &added {
        ours.insert_canonical(a.clone());
    }
    for a in &removed {
        ours.remove_one_exact(a);
    }
    let mut undo = UndoDacl { dn, prior_bytes, current, added, removed, write: None, whole: false, note: None };
    if undo.current.bytes == undo.prior_bytes {
        // Never changed, or already undone.
        return Ok(Some(undo));
    }
    if undo.current.sd.dacl.as_ref().is_some_and(|n| n.aces == ours.aces) {
        (undo.write, undo.whole) = (Some(prior), true);
        return Ok(Some(undo));
    }
    let mut sd = undo.current.sd.clone();
    let Some(dacl) = sd.dacl.as_mut() else {
        return Err(crate::ad::AdError::NullDacl { dn: dn.to_string() }.into());
    };
    for a in &undo.added {
        dacl.remove_one_exact(a);
    }
    for a in &undo.removed {
        if dacl.count_exact(a) < undo.removed.iter().filter(|r| *r == a).count() {
            dacl.insert_canonical(a.clone());
        }
    }
    undo.note = Some(format!(
        "{dn} was changed by someone else after this tool's change: only this tool's change was undone ({} ACE(s) taken back, {} put back), the other changes were kept",
        undo.added.len(),
        undo.removed.len()
    ));
    undo.write = Some(sd);
    Ok(Some(undo))
}

/// Checks an undo's DACL read back: the prior bytes exactly, or our change reversed.
fn undo_check(undo: &UndoDacl<'_>, back: &writeback::Dacl) -> Result<(), EngineError> {
    let explicit = |acl: Option<&crate::ad::sd::Acl>| {
        acl.map(|a| a.aces.iter().filter(|x| !x.is_inherited()).cloned().collect::<Vec<_>>()).unwrap_or_default()
    };
    let (ok, what) = match &undo.write {
        Some(_) if undo.whole => (back.bytes == undo.prior_bytes, "the one restored"),
        Some(sd) => (explicit(back.sd.dacl.as_ref()) == explicit(sd.dacl.as_ref()), "the one written by the undo"),
        None => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(EngineError::Internal { detail: format!("the DACL of {} read back differs from {what}", undo.dn) })
    }
}

/// Undoes DACL steps on distinct objects together, their requests in flight at once: every
/// current DACL read (once every write that timed out has been answered), every undo written,
/// every one read back and checked, the audit lines written. Returns the notes, in order.
async fn undo_dacls(items: &[(StoredStep, Prior)], env: &mut Env<'_>) -> Result<Vec<String>, EngineError> {
    // A write of ours that timed out may still be made: read only once the DC has answered it.
    env.ad.confirm_writes().await?;
    let mut targets = Vec::new();
    for (step, prior) in items {
        if let Prior::Dacl { dn, sd } = prior {
            targets.push((step, dn.as_str(), unb64(sd)?));
        }
    }
    let read = writeback::read_dacls(env.ad, targets.iter().map(|(_, dn, _)| dn.to_string()).collect()).await;
    let mut undos = Vec::new();
    for ((step, dn, prior), current) in targets.into_iter().zip(read) {
        undos.extend(undo_change(step, dn, prior, current?)?);
    }
    let writes: Vec<(usize, String, SecurityDescriptor)> =
        undos.iter().enumerate().filter_map(|(i, u)| Some((i, u.dn.to_string(), u.write.clone()?))).collect();
    let mut after: Vec<Vec<u8>> = undos.iter().map(|u| u.current.bytes.clone()).collect();
    for (i, back) in writeback::write_then_read(env.ad, writes).await.map_err(|(_, e)| e)? {
        undo_check(&undos[i], &back)?;
        after[i] = back.bytes;
    }
    for u in &undos {
        record(env, u.dn, &u.added, false);
        record(env, u.dn, &u.removed, true);
    }
    let lines: Vec<AuditRecord<'_>> = undos
        .iter()
        .zip(&after)
        .map(|(u, after)| {
            let mut line =
                env.audit_line("rollback", u.dn, u.current.sd.to_sddl(&SidContext::default()), dacl_sddl(after));
            if let Some(n) = &u.note {
                line.result = format!("ok; {n}");
            }
            line
        })
        .collect();
    // The undo is made and checked: failing the rollback over its log lines would leave the
    // journal claiming work that is done.
    if let Err(e) = journal::audit_all(&env.paths.audit_log, &lines) {
        tracing::warn!("the audit log could not record {} undo(s): {e}", lines.len());
    }
    Ok(undos.into_iter().filter_map(|u| u.note).collect())
}

/// Sets the sync engine's switch back to `enabled`, its journalled prior value.
async fn undo_switch(step: &StoredStep, enabled: bool, env: &mut Env<'_>) -> Result<Option<String>, EngineError> {
    if let StoredStep::Writeback { enabled: target, .. } = step
        && *target == enabled
    {
        return Ok(Some(format!(
            "the sync engine's writeback switch was set {} and cannot be read back, so the undo left it as set: check it in the Entra admin center (Password reset > On-premises integration)",
            if enabled { "on" } else { "off" }
        )));
    }
    // A switch that failed (or was never reached) is still at its prior value: nothing to undo,
    // and no second call that may fail for the same reason (a missing credential).
    if env.sync.state().await?.writeback_enabled == enabled {
        return Ok(None);
    }
    env.sync.set_writeback(enabled).await?;
    if env.sync.state().await?.writeback_enabled != enabled {
        return Err(EngineError::Internal {
            detail: "the sync engine did not take the restored writeback switch".into(),
        });
    }
    audit_undo(env, &env.audit_line("rollback", "sync-engine", (!enabled).to_string(), enabled.to_string()));
    Ok(None)
}

/// Undoes `done` in reverse; a failure stops the undo and is returned.
///
/// The journal's Undone records are written when the disk allows: a rollback is often the answer
/// to a full disk, and an undo missing from the journal is only done again (each undo compares
/// before it writes).
async fn undo_all(
    done: &[(StoredStep, Prior)],
    env: &mut Env<'_>,
    journal: &mut Journal,
) -> Result<Vec<String>, EngineError> {
    let mut notes = Vec::new();
    let reversed: Vec<(StoredStep, Prior)> = done.iter().rev().cloned().collect();
    // The same runs as the apply's: DACL undos on distinct objects together, the switch alone.
    for items in batches(&reversed, |(step, _)| step) {
        match &items[0] {
            (_, Prior::Dacl { .. }) => notes.extend(undo_dacls(items, env).await?),
            // The switch is a run of its own.
            (step, Prior::Writeback { enabled }) => notes.extend(undo_switch(step, *enabled, env).await?),
        }
        for (step, _) in items {
            if let Err(e) = journal.append(&Record::Undone { step: step.id().to_string(), time: env.now() }) {
                tracing::warn!("the journal could not record an undo (it will be redone if needed): {e}");
            }
            (env.progress)(Progress::Undone { id: step.id().to_string() });
        }
    }
    save_grants(env)?;
    if let Err(e) = journal.append(&Record::RolledBack { time: env.now() }) {
        tracing::warn!("the journal could not record the rollback: {e}");
    }
    Ok(notes)
}

/// The object a DACL step changes (`None` for the sync engine's switch).
fn dacl_target(step: &StoredStep) -> Option<&str> {
    match step {
        StoredStep::Grant { dn, .. } | StoredStep::Revoke { dn, .. } => Some(dn),
        StoredStep::Writeback { .. } => None,
    }
}

/// Splits `items` into runs the apply (and the undo) takes together: consecutive DACL steps on
/// distinct objects (two changes of one object in flight at once would each write over the
/// other), and the sync engine's switch alone. `step` finds an item's step.
fn batches<T>(items: &[T], step: impl Fn(&T) -> &StoredStep) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut objects = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let here = dacl_target(step(item)).map(str::to_ascii_lowercase);
        let joins = match &here {
            Some(dn) => i > start && dacl_target(step(&items[start])).is_some() && !objects.contains(dn),
            None => false,
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

/// One DACL step of a batch, as its phases fill it in.
struct Pending<'s> {
    step: &'s StoredStep,
    dn: &'s str,
    before: writeback::Dacl,
    prior: Prior,
    /// The descriptor to write, and the ACEs it adds (grant) or removes (revoke).
    write: Option<SecurityDescriptor>,
    changed: Vec<Ace>,
}

/// Runs consecutive DACL steps on distinct objects in phases, their requests in flight together
/// on the one connection: every prior DACL read; every Begin record journalled with one sync; every
/// change written; every change read back and checked; the audit lines written with one sync. As
/// one step at a time: nothing is written before its prior value is on disk, and once the Begin
/// records are, every step of the batch counts as begun (in `done`), so a failure undoes each.
/// The error names the step it came from.
async fn run_batch(
    batch: &[StoredStep],
    env: &mut Env<'_>,
    journal: &mut Journal,
    done: &mut Vec<(StoredStep, Prior)>,
    already_begun: &[(String, Prior)],
) -> Result<Vec<String>, (String, EngineError)> {
    let started = Instant::now();
    let id_of = |i: usize| batch[i].id().to_string();
    let begun_before = |step: &StoredStep| already_begun.iter().find(|(s, _)| s == step.id()).map(|(_, p)| p.clone());
    for step in batch {
        (env.progress)(Progress::Started { id: step.id().to_string() });
        // Begun by a run that crashed: it may have changed its object, so it is undone on failure.
        if let Some(p) = begun_before(step) {
            done.push((step.clone(), p));
        }
    }
    let dns: Vec<&str> = batch.iter().filter_map(dacl_target).collect();
    let read = writeback::read_dacls(env.ad, dns.iter().map(|d| d.to_string()).collect()).await;
    let mut pending = Vec::new();
    let mut begins = Vec::new();
    for (i, (step, before)) in batch.iter().zip(read).enumerate() {
        let before = before.map_err(|e| (id_of(i), e.into()))?;
        let dn = dns[i];
        let prior = match begun_before(step) {
            Some(p) => p,
            None => {
                let prior = Prior::Dacl { dn: dn.to_string(), sd: b64(&before.bytes) };
                begins.push(Record::Begin { step: step.id().to_string(), prior: prior.clone(), time: env.now() });
                prior
            }
        };
        pending.push(Pending { step, dn, before, prior, write: None, changed: Vec::new() });
    }
    journal.append_all(&begins).map_err(|e| (id_of(0), e))?;
    done.extend(pending.iter().filter(|p| begun_before(p.step).is_none()).map(|p| (p.step.clone(), p.prior.clone())));
    for (i, p) in pending.iter_mut().enumerate() {
        match p.step {
            StoredStep::Grant { aces, .. } => {
                let (sid, wanted) = as_wanted(aces).map_err(|e| (id_of(i), e))?;
                let change = writeback::grant_change(&p.before, &wanted, &sid).map_err(|e| (id_of(i), e.into()))?;
                (p.write, p.changed) = (change.write, change.added);
            }
            StoredStep::Revoke { aces, .. } => {
                p.write = writeback::revoke_change(&p.before, aces).map(|(sd, _)| sd);
                p.changed = aces.clone();
            }
            StoredStep::Writeback { .. } => {}
        }
    }
    let writes: Vec<(usize, String, SecurityDescriptor)> =
        pending.iter().enumerate().filter_map(|(i, p)| Some((i, p.dn.to_string(), p.write.clone()?))).collect();
    let mut after: Vec<Vec<u8>> = pending.iter().map(|p| p.before.bytes.clone()).collect();
    for (i, back) in writeback::write_then_read(env.ad, writes).await.map_err(|(i, e)| (id_of(i), e.into()))? {
        let p = &pending[i];
        let checked = match p.step {
            StoredStep::Grant { .. } => writeback::verify_grant(&back, &p.changed),
            _ => writeback::verify_revoke(&back, &p.changed),
        };
        checked.map_err(|e| (id_of(i), e.into()))?;
        after[i] = back.bytes;
    }
    for p in &pending {
        record(env, p.dn, &p.changed, matches!(p.step, StoredStep::Grant { .. }));
    }
    let lines: Vec<AuditRecord<'_>> = pending
        .iter()
        .zip(&after)
        .map(|(p, after)| {
            let action = if matches!(p.step, StoredStep::Grant { .. }) { "grant" } else { "revoke" };
            env.audit_line(action, p.dn, p.before.sd.to_sddl(&SidContext::default()), dacl_sddl(after))
        })
        .collect();
    journal::audit_all(&env.paths.audit_log, &lines).map_err(|e| (id_of(0), e))?;
    let mut applied = Vec::new();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    for p in &pending {
        let id = p.step.id().to_string();
        journal.append(&Record::Done { step: id.clone(), time: env.now() }).map_err(|e| (id.clone(), e))?;
        applied.push(id.clone());
        (env.progress)(Progress::Done { id, elapsed_ms });
    }
    Ok(applied)
}

async fn run_steps(
    steps: &[StoredStep],
    env: &mut Env<'_>,
    journal: &mut Journal,
    mut done: Vec<(StoredStep, Prior)>,
    already_begun: &[(String, Prior)],
) -> Result<Vec<String>, EngineError> {
    let mut applied = Vec::new();
    for batch in batches(steps, |s| s) {
        if env.cancel.is_cancelled() {
            return rollback(done, env, journal, "the apply was cancelled".into(), "Run it again when ready.".into())
                .await;
        }
        if dacl_target(&batch[0]).is_some() {
            match run_batch(batch, env, journal, &mut done, already_begun).await {
                Ok(ids) => applied.extend(ids),
                Err((id, e)) => {
                    let _ = journal.append(&Record::Failed { step: id.clone(), error: e.to_string(), time: env.now() });
                    (env.progress)(Progress::Failed { id, error: e.to_string() });
                    let remedy = crate::diagnose::Diagnose::remedy(&e);
                    return rollback(done, env, journal, e.to_string(), remedy).await;
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
                let remedy = crate::diagnose::Diagnose::remedy(&e);
                return rollback(done, env, journal, e.to_string(), remedy).await;
            }
        }
    }
    // Cancel pressed while the last step ran: the person wanted out, so that step is undone too.
    if env.cancel.is_cancelled() {
        return rollback(done, env, journal, "the apply was cancelled".into(), "Run it again when ready.".into()).await;
    }
    // What was granted is kept only if it can be written down: otherwise the disable could not
    // find it again, so the whole apply is undone instead.
    if let Err(e) = save_grants(env) {
        let remedy = crate::diagnose::Diagnose::remedy(&e);
        return rollback(done, env, journal, e.to_string(), remedy).await;
    }
    Ok(applied)
}

async fn rollback(
    done: Vec<(StoredStep, Prior)>,
    env: &mut Env<'_>,
    journal: &mut Journal,
    cause: String,
    remedy: String,
) -> Result<Vec<String>, EngineError> {
    match undo_all(&done, env, journal).await {
        Ok(kept) => {
            let path = journal.path().to_path_buf();
            let _ = std::fs::remove_file(path);
            Err(EngineError::RolledBack { cause, remedy, kept })
        }
        Err(undo_error) => Err(EngineError::NotRolledBack {
            cause,
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
    let _lock = Lock::acquire(&env.paths.state_dir)?;
    if let Some(path) = journal::unfinished(&env.paths.state_dir)? {
        return Err(EngineError::Unfinished { path });
    }
    let steps: Vec<StoredStep> = plan.steps.iter().map(super::Step::stored).collect();
    let mut applied = Vec::new();
    if !steps.is_empty() {
        let stamp = crate::clock::unix_secs(env.clock.now()).to_string();
        let mut journal = Journal::create(&env.paths.state_dir, &stamp)?;
        let action = match plan.action {
            Action::Enable => "enable",
            Action::Disable => "disable",
        };
        if let Err(e) = journal.append(&Record::Plan {
            action: action.into(),
            steps: steps.clone(),
            time: env.now(),
            directory: Some(env.directory.clone()),
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
    Ok(ApplyOutcome { applied, verified, sync_started, warnings })
}

/// What to do with an unfinished journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Undo every begun step from its journalled prior value.
    Rollback,
    /// Run the steps that are not done (each is idempotent).
    Resume,
}

/// Rolls back or resumes the apply recorded in `path`.
pub async fn recover(path: &Path, how: Recovery, env: &mut Env<'_>) -> Result<ApplyOutcome, EngineError> {
    let _lock = Lock::acquire(&env.paths.state_dir)?;
    let records = journal::read(path)?;
    let (action, steps, directory) = records
        .iter()
        .find_map(|r| match r {
            Record::Plan { action, steps, directory, .. } => Some((action.clone(), steps.clone(), directory.clone())),
            _ => None,
        })
        .ok_or_else(|| EngineError::BadJournal { path: path.to_path_buf(), detail: "no plan record".into() })?;
    if let Some(there) = directory.filter(|d| d.is_other_than(&env.directory)) {
        return Err(EngineError::OtherDirectory {
            journal: path.to_path_buf(),
            wrote_to: format!("{} ({})", there.domain_sid.unwrap_or_default(), there.dc),
            here: format!("{} ({})", env.directory.domain_sid.clone().unwrap_or_default(), env.directory.dc),
        });
    }
    let mut begun: Vec<(String, Prior)> = Vec::new();
    let mut done_ids = Vec::new();
    let mut undone_ids = Vec::new();
    for r in &records {
        match r {
            Record::Begin { step, prior, .. } if !begun.iter().any(|(s, _)| s == step) => {
                begun.push((step.clone(), prior.clone()))
            }
            Record::Done { step, .. } => done_ids.push(step.clone()),
            Record::Undone { step, .. } => undone_ids.push(step.clone()),
            _ => {}
        }
    }
    let mut journal = Journal::reopen(path)?;
    let action = if action == "enable" { Action::Enable } else { Action::Disable };
    match how {
        Recovery::Rollback => {
            let to_undo: Vec<(StoredStep, Prior)> = begun
                .iter()
                .filter(|(s, _)| !undone_ids.contains(s))
                .filter_map(|(s, p)| steps.iter().find(|st| st.id() == s).map(|st| (st.clone(), p.clone())))
                .collect();
            let kept = undo_all(&to_undo, env, &mut journal).await.map_err(|e| EngineError::NotRolledBack {
                cause: "recovering an unfinished apply".into(),
                undo_error: e.to_string(),
                journal: path.to_path_buf(),
            })?;
            journal.finish()?;
            Ok(ApplyOutcome { applied: Vec::new(), verified: true, sync_started: false, warnings: kept })
        }
        Recovery::Resume => {
            let done: Vec<(StoredStep, Prior)> = begun
                .iter()
                .filter(|(s, _)| done_ids.contains(s))
                .filter_map(|(s, p)| steps.iter().find(|st| st.id() == s).map(|st| (st.clone(), p.clone())))
                .collect();
            let remaining: Vec<StoredStep> =
                steps.iter().filter(|s| !done_ids.contains(&s.id().to_string())).cloned().collect();
            // The run that made these changes may have stopped before writing them into
            // [granted]: record them from the journal (recording is idempotent).
            for (s, p) in &begun {
                if let Some(st) = steps.iter().find(|st| st.id() == s)
                    && let StoredStep::Grant { dn, .. } | StoredStep::Revoke { dn, .. } = st
                {
                    let changed = changed_since(st, p)?;
                    record(env, dn, &changed, matches!(st, StoredStep::Grant { .. }));
                }
            }
            let mut applied: Vec<String> = done_ids.clone();
            applied.extend(run_steps(&remaining, env, &mut journal, done, &begun).await?);
            complete(journal, env)?;
            finish(env, action, false, applied).await
        }
    }
}

/// The canary check's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Canary {
    /// The test account.
    pub user: String,
    /// The connector account reset its password (to a random value nobody keeps).
    pub reset: bool,
    /// The connector account cleared its lockout (lockoutTime = 0).
    pub unlock: bool,
    /// What went wrong, if anything.
    pub detail: Option<String>,
}

/// Proves writeback end to end on AD: bound as the connector account, resets `user`'s password to
/// a random value that passes the user's policy (and is then forgotten), and writes lockoutTime=0.
pub async fn canary(
    admin: &mut AdConnection,
    disc: &crate::ad::directory::Discovery,
    as_connector: &mut AdConnection,
    user: &str,
) -> Result<Canary, EngineError> {
    use crate::ad::{directory, policy, unicode_pwd};
    let account = directory::find_account(admin, disc, user)
        .await?
        .ok_or(crate::ad::AdError::NoSuchAccount { name: user.to_string() })?;
    // The canary's password is reset to a value nobody keeps: never an account that matters.
    let refuse = |why: String| Err(EngineError::CanaryRefused { user: account.dn.clone(), why });
    if account.sam_account_name.eq_ignore_ascii_case("krbtgt") {
        return refuse("it is the domain's Kerberos key account (krbtgt)".into());
    }
    if account.admin_count {
        return refuse("it is a protected account (adminCount=1)".into());
    }
    let groups = directory::privileged_groups(admin, disc, &account).await?;
    if !groups.is_empty() {
        return refuse(format!("it is in {}", groups.join(", ")));
    }
    let effective = policy::effective_policy(admin, disc, &account.dn).await?;
    let mut password = crate::ad::passgen::generate_os(24.max(effective.min_length as usize + 4));
    for _ in 0..20 {
        // The age is the DC's to judge on the canary's own reset (its detail says so).
        if policy::test_password(&effective, &account, &password, None).acceptable {
            break;
        }
        password = crate::ad::passgen::generate_os(24.max(effective.min_length as usize + 4));
    }
    let reset = as_connector
        .modify(&account.dn, vec![ldap3::Mod::Replace(b"unicodePwd".to_vec(), [unicode_pwd(&password)].into())], vec![])
        .await;
    drop(password);
    let unlock = as_connector
        .modify(&account.dn, vec![ldap3::Mod::Replace(b"lockoutTime".to_vec(), [b"0".to_vec()].into())], vec![])
        .await;
    let detail = match (&reset, &unlock) {
        (Ok(()), Ok(())) => None,
        (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
    };
    Ok(Canary { user: account.dn, reset: reset.is_ok(), unlock: unlock.is_ok(), detail })
}
