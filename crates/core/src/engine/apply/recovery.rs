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
            Record::Plan { action, steps, directory, .. } => Some((*action, steps.clone(), directory.clone())),
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
