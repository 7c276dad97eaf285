//! Finishing or rolling back an apply that did not end, from its journal.

use std::path::Path;

use super::undo::undo_all;
use super::{ApplyOutcome, Env, as_wanted, complete, finish, record, run_steps};
use crate::ad::sd::{Ace, SecurityDescriptor};
use crate::ad::writeback;
use crate::engine::EngineError;
use crate::engine::journal::{self, Journal, Lock, Prior, Record, StoredStep};

/// What a journalled step changed, worked out from its prior DACL: the ACEs a grant found
/// missing (so pre-existing ones are never claimed as ours), or the ACEs a revoke removes. Used
/// when resuming, where the run that made the change is gone.
pub(super) fn changed_since(step: &StoredStep, prior: &Prior) -> Result<Vec<Ace>, EngineError> {
    match (step, prior) {
        (StoredStep::Grant { aces, .. }, Prior::Dacl { sd, .. }) => {
            let before = SecurityDescriptor::decode(sd)
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

/// An unfinished journal as it would be recovered: what it set out to do, and how far it got.
#[derive(Debug, Clone)]
pub struct JournalView {
    pub path: std::path::PathBuf,
    pub action: crate::engine::Action,
    pub steps: Vec<StoredStep>,
    /// Steps whose change was begun (their prior value is journalled).
    pub begun: Vec<String>,
    /// Steps done and verified.
    pub done: Vec<String>,
}

impl JournalView {
    /// Each step in words, with the exact ACEs, for the person to read before anything runs.
    pub fn lines(&self) -> Vec<String> {
        let state = |id: &str| {
            if self.done.iter().any(|d| d == id) {
                "done"
            } else if self.begun.iter().any(|b| b == id) {
                "begun"
            } else {
                "not begun"
            }
        };
        let mut out = Vec::new();
        for s in &self.steps {
            match s {
                StoredStep::Grant { id, dn, aces, .. } | StoredStep::Revoke { id, dn, aces, .. } => {
                    let verb = if matches!(s, StoredStep::Grant { .. }) { "grant" } else { "revoke" };
                    out.push(format!("{id} ({}): {verb} {} ACE(s) on {dn}", state(id), aces.len()));
                    out.extend(aces.iter().map(|a| format!("    {}", crate::ad::sd::sddl::persisted::text(a))));
                }
                StoredStep::Writeback { id, enabled } => out.push(format!(
                    "{id} ({}): switch writeback {} in the sync engine",
                    state(id),
                    if *enabled { "on" } else { "off" }
                )),
            }
        }
        out
    }
}

/// Whether a journal's steps are what a plan of this tool could have produced: the writeback ACEs
/// of one connector account per forest, each on a target of its kind (a scope in a domain of a
/// forest of `forests`, a domain root, AdminSDHolder). `forests` lists each forest's domain roots.
/// A journal is a file on disk: recovering it writes what it says, so anything else is refused
/// rather than carried out.
pub fn validate(steps: &[StoredStep], forests: &[Vec<String>]) -> Result<(), String> {
    use crate::ad::writeback::{TargetKind, wanted};
    let mut trustees: Vec<Option<crate::ad::sd::Sid>> = vec![None; forests.len()];
    for step in steps {
        let (StoredStep::Grant { id, dn, aces, .. } | StoredStep::Revoke { id, dn, aces, .. }) = step else { continue };
        let found = forests.iter().enumerate().find_map(|(i, roots)| {
            let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
            crate::engine::plan::route(&roots, dn).map(|r| (i, roots[r].to_string()))
        });
        let Some((forest, root)) = found else {
            return Err(format!("step {id} changes {dn}, which is in no domain of the forests connected"));
        };
        let kinds: Vec<TargetKind> = if dn.eq_ignore_ascii_case(&root) {
            vec![TargetKind::Scope, TargetKind::DomainRoot]
        } else if dn.eq_ignore_ascii_case(&format!("CN=AdminSDHolder,CN=System,{root}")) {
            vec![TargetKind::AdminSdHolder]
        } else {
            vec![TargetKind::Scope]
        };
        for ace in aces {
            let Some(sid) = ace.sid() else { return Err(format!("step {id} holds an ACE without a trustee")) };
            match &trustees[forest] {
                None => trustees[forest] = Some(sid.clone()),
                Some(t) if t != sid => {
                    return Err(format!(
                        "step {id} names another account ({sid}) than the journal's others in its forest ({t})"
                    ));
                }
                Some(_) => {}
            }
            let allowed = kinds.iter().flat_map(|k| wanted(*k, sid)).any(|w| w.ace.same_meaning(ace));
            if !allowed {
                return Err(format!(
                    "step {id} holds {} on {dn}, which is not one of the writeback permissions for that object",
                    crate::ad::sd::sddl::persisted::text(ace)
                ));
            }
        }
    }
    Ok(())
}

/// Each prior value a rollback would restore belongs to its step: the DACL of the object the
/// step changes (a valid descriptor), or the switch for the switch's step. A prior naming another
/// object would turn an undo into a write there.
fn priors_match(records: &[Record], steps: &[StoredStep]) -> Result<(), String> {
    for r in records {
        let Record::Begin { step: id, prior, .. } = r else { continue };
        let Some(step) = steps.iter().find(|s| s.id() == id) else {
            return Err(format!("it begins step {id}, which its plan does not hold"));
        };
        match (step, prior) {
            (StoredStep::Grant { dn, .. } | StoredStep::Revoke { dn, .. }, Prior::Dacl { dn: on, sd }) => {
                if !on.eq_ignore_ascii_case(dn) {
                    return Err(format!("step {id} changes {dn} but keeps the prior DACL of {on}"));
                }
                SecurityDescriptor::decode(sd).map_err(|e| format!("the prior DACL of step {id} is damaged: {e}"))?;
            }
            (StoredStep::Writeback { .. }, Prior::Writeback { .. }) => {}
            _ => return Err(format!("the prior value kept for step {id} is not of that step's kind")),
        }
    }
    Ok(())
}

/// Reads an unfinished journal and checks it can be recovered here: every domain it wrote to
/// reached by this run (its SID and DC recorded), holding only what a plan could have produced.
pub fn inspect(path: &Path, here: &[journal::Directory]) -> Result<JournalView, EngineError> {
    let records = journal::read(path)?;
    let (action, steps, directory, others) = records
        .iter()
        .find_map(|r| match r {
            Record::Plan { action, steps, directory, others, .. } => {
                Some((*action, steps.clone(), directory.clone(), others.clone()))
            }
            _ => None,
        })
        .ok_or_else(|| EngineError::BadJournal { path: path.to_path_buf(), detail: "no plan record".into() })?;
    let placed = |d: &journal::Directory| d.domain_sid.is_some() && !d.dc.is_empty();
    let Some(first) = directory.filter(placed) else {
        return Err(EngineError::UnplacedJournal { path: path.to_path_buf() });
    };
    let mut there = vec![first];
    there.extend(others.into_iter().filter(placed));
    let here_said = || here.iter().map(journal::Directory::said).collect::<Vec<_>>().join(", ");
    for wrote in &there {
        match wrote.counterpart(here) {
            Some(h) if !wrote.is_other_than(h) => {}
            _ => {
                return Err(EngineError::OtherDirectory {
                    journal: path.to_path_buf(),
                    wrote_to: format!(
                        "{}{}",
                        wrote.said(),
                        wrote.forest.as_ref().map(|f| format!(" in forest {f}")).unwrap_or_default()
                    ),
                    here: here_said(),
                });
            }
        }
    }
    let forests: Vec<Vec<String>> = {
        let mut out: Vec<Vec<String>> = Vec::new();
        for h in here {
            if !out.iter().any(|roots| roots == &h.roots) {
                out.push(h.roots.clone());
            }
        }
        out
    };
    validate(&steps, &forests).map_err(|detail| EngineError::UnsafeJournal { path: path.to_path_buf(), detail })?;
    priors_match(&records, &steps).map_err(|detail| EngineError::UnsafeJournal { path: path.to_path_buf(), detail })?;
    let mut begun = Vec::new();
    let mut done = Vec::new();
    for r in &records {
        match r {
            Record::Begin { step, .. } if !begun.contains(step) => begun.push(step.clone()),
            Record::Done { step, .. } => done.push(step.clone()),
            _ => {}
        }
    }
    Ok(JournalView { path: path.to_path_buf(), action, steps, begun, done })
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
    let _lock = Lock::acquire(&env.paths.state_dir).await?;
    let here: Vec<journal::Directory> = env.routes.iter().map(|r| r.directory.clone()).collect();
    let JournalView { action, steps, .. } = inspect(path, &here)?;
    let records = journal::read(path)?;
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
