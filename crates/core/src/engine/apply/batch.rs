//! Running a batch of steps: consecutive DACL changes on distinct objects in phases, their
//! requests in flight together; the sync engine's switch alone.

use std::time::Instant;

use super::{Env, Progress, as_wanted, dacl_sddl, dacl_target, record};
use crate::ad::sd::{Ace, SecurityDescriptor, SidContext};
use crate::ad::writeback;
use crate::engine::EngineError;
use crate::engine::journal::{self, AuditRecord, Journal, Prior, Record, StoredStep};
use crate::sync_engine::SyncEngine;

/// Switches the sync engine's writeback, journalling its prior value first. `started` is set once
/// the switch may have been made (its prior value is journalled), so a failure after that point is
/// undone.
pub(super) async fn run_switch(
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

/// One DACL step of a batch, as its phases fill it in.
pub(super) struct Pending<'s> {
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
pub(super) async fn run_batch(
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
    // A batch is one domain's (see `batches`): its first DN names the connection.
    let route = env.route_of(dns.first().copied().unwrap_or_default()).map_err(|e| (id_of(0), e))?;
    let read = writeback::read_dacls(&*env.routes[route].conn, dns.iter().map(|d| d.to_string()).collect()).await;
    let mut pending = Vec::new();
    let mut begins = Vec::new();
    for (i, (step, before)) in batch.iter().zip(read).enumerate() {
        let before = before.map_err(|e| (id_of(i), e.into()))?;
        let dn = dns[i];
        let prior = match begun_before(step) {
            Some(p) => p,
            None => {
                let prior = Prior::Dacl { dn: dn.to_string(), sd: before.bytes.clone() };
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
    for (i, back) in
        writeback::write_then_read(&*env.routes[route].conn, writes).await.map_err(|(i, e)| (id_of(i), e.into()))?
    {
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
