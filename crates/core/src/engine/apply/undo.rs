//! Taking steps back, in reverse: each DACL from its journalled prior value (or only this tool's
//! change, where someone else changed the object since), the sync engine's switch to its prior
//! value.

use super::{Env, Progress, as_wanted, batches, dacl_sddl, record, save_grants};
use crate::ad::sd::{Ace, SecurityDescriptor, SidContext};
use crate::ad::writeback;
use crate::engine::EngineError;
use crate::engine::journal::{self, AuditRecord, Journal, Prior, Record, StoredStep};
use crate::sync_engine::SyncEngine;

/// Records an undo in the audit log when the disk allows: the undo is already made and checked,
/// and failing the rollback over its log line would leave the journal claiming work that is done.
pub(super) fn audit_undo(env: &Env<'_>, record: &AuditRecord<'_>) {
    if let Err(e) = journal::audit(&env.paths.audit_log, record) {
        tracing::warn!("the audit log could not record an undo of {}: {e}", record.target);
    }
}

/// What a DACL step changed, exactly, worked out from its journalled prior DACL: the ACEs a grant
/// added (those of the step the prior DACL lacked — the very ones `grant_over` inserted) and the
/// ACEs a revoke removed (every explicit copy the prior DACL held).
pub(super) fn delta(step: &StoredStep, prior: &crate::ad::sd::Acl) -> Result<(Vec<Ace>, Vec<Ace>), EngineError> {
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
pub(super) struct UndoDacl<'s> {
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
pub(super) fn undo_change<'s>(
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
pub(super) fn undo_check(undo: &UndoDacl<'_>, back: &writeback::Dacl) -> Result<(), EngineError> {
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
pub(super) async fn undo_dacls(items: &[(StoredStep, Prior)], env: &mut Env<'_>) -> Result<Vec<String>, EngineError> {
    let mut targets = Vec::new();
    for (step, prior) in items {
        if let Prior::Dacl { dn, sd } = prior {
            targets.push((step, dn.as_str(), sd.clone()));
        }
    }
    let Some((_, first, _)) = targets.first() else { return Ok(Vec::new()) };
    // The items are one domain's (see `batches`): the first DN names the connection.
    let route = env.route_of(first)?;
    // A write of ours that timed out may still be made: read only once the DC has answered it.
    env.routes[route].conn.confirm_writes().await?;
    let read =
        writeback::read_dacls(&*env.routes[route].conn, targets.iter().map(|(_, dn, _)| dn.to_string()).collect())
            .await;
    let mut undos = Vec::new();
    for ((step, dn, prior), current) in targets.into_iter().zip(read) {
        undos.extend(undo_change(step, dn, prior, current?)?);
    }
    let writes: Vec<(usize, String, SecurityDescriptor)> =
        undos.iter().enumerate().filter_map(|(i, u)| Some((i, u.dn.to_string(), u.write.clone()?))).collect();
    let mut after: Vec<Vec<u8>> = undos.iter().map(|u| u.current.bytes.clone()).collect();
    for (i, back) in writeback::write_then_read(&*env.routes[route].conn, writes).await.map_err(|(_, e)| e)? {
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
pub(super) async fn undo_switch(
    step: &StoredStep,
    enabled: bool,
    env: &mut Env<'_>,
) -> Result<Option<String>, EngineError> {
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
pub(super) async fn undo_all(
    done: &[(StoredStep, Prior)],
    env: &mut Env<'_>,
    journal: &mut Journal,
) -> Result<Vec<String>, EngineError> {
    let mut notes = Vec::new();
    let reversed: Vec<(StoredStep, Prior)> = done.iter().rev().cloned().collect();
    // The same runs as the apply's: DACL undos on distinct objects together, the switch alone.
    let roots: Vec<String> = env.routes.iter().map(|r| r.root.clone()).collect();
    let route = |dn: &str| crate::engine::plan::route(&roots.iter().map(String::as_str).collect::<Vec<_>>(), dn);
    for items in batches(&reversed, |(step, _)| step, route) {
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
