//! Why the engine stopped: each failure with its raw cause, what to do, and the exit code.

use std::path::PathBuf;

use crate::ad::AdError;
use crate::diagnose::{Diagnose, Exit};

/// What stopped an apply, as its rollback reports it: its words, its code and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub text: String,
    pub code: &'static str,
    pub remedy: String,
}

impl Cause {
    /// The cause an error is.
    pub fn of(e: &EngineError) -> Cause {
        Cause { text: e.to_string(), code: e.code(), remedy: e.remedy() }
    }
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
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another apply holds the lock (an OS file lock, released when its process ends however it
    /// ends, so a crash never leaves it behind).
    #[error("another apply is running (it holds the lock {})", lock.display())]
    Busy {
        /// The lock file.
        lock: PathBuf,
    },
    /// An unfinished journal blocks a new apply.
    #[error("an earlier apply did not finish (journal {})", path.display())]
    Unfinished { path: PathBuf },
    /// Cancel was pressed (or SIGINT came) while a step ran.
    #[error("the apply was cancelled")]
    Cancelled,
    /// The canary named an account whose password must not be reset to a forgotten value.
    #[error("{user} cannot be the canary: {why}")]
    CanaryRefused { user: String, why: String },
    /// A precondition failed.
    #[error("a precondition is not met: {check}")]
    Precondition {
        check: String,
        /// What to do.
        remedy: String,
    },
    /// Failed (or cancelled), and everything done was undone and verified.
    #[error("{} [{}]; everything done was rolled back and verified{}", cause.text, cause.code, kept.iter().map(|k| format!("; {k}")).collect::<String>())]
    RolledBack {
        /// The first failure, or the cancel.
        cause: Cause,
        /// Objects someone else changed meanwhile: only our change was undone there.
        kept: Vec<String>,
    },
    /// Failed, and the undo failed too: the journal is kept.
    #[error("{cause}; rolling back failed too ({undo_error}); the journal {} holds the prior values", journal.display())]
    NotRolledBack {
        /// The first failure.
        cause: String,
        /// The undo's failure.
        undo_error: String,
        journal: PathBuf,
    },
    /// The grant record cannot be read.
    #[error("the grant record {} is damaged: {detail}", path.display())]
    BadGrantRecord { path: PathBuf, detail: String },
    /// A journal written in one domain, recovered while bound to another.
    #[error("the unfinished apply in {} changed the domain {wrote_to}, but this connection is to {here}", journal.display())]
    OtherDirectory { journal: PathBuf, wrote_to: String, here: String },
    /// A journal that says nothing of where its changes were made (older versions wrote none).
    #[error("the unfinished apply in {} does not say which domain and DC it changed", path.display())]
    UnplacedJournal { path: PathBuf },
    /// A journal holding steps no plan of this tool could have produced.
    #[error("the unfinished apply in {} is refused: {detail}", path.display())]
    UnsafeJournal { path: PathBuf, detail: String },
    /// A DN in a domain no connection of this run reaches.
    #[error("no connection of this run reaches the domain of {dn} (forest {forest})")]
    NoConnection { dn: String, forest: String },
    /// The journal is damaged.
    #[error("the journal {} is damaged: {detail}", path.display())]
    BadJournal { path: PathBuf, detail: String },
    #[error("internal error: {detail}")]
    Internal { detail: String },
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
            EngineError::Cancelled => "ENGINE-CANCELLED",
            EngineError::CanaryRefused { .. } => "ENGINE-CANARY-REFUSED",
            EngineError::RolledBack { .. } => "ENGINE-ROLLED-BACK",
            EngineError::NotRolledBack { .. } => "ENGINE-NOT-ROLLED-BACK",
            EngineError::BadJournal { .. } => "ENGINE-BAD-JOURNAL",
            EngineError::UnplacedJournal { .. } => "ENGINE-JOURNAL-UNPLACED",
            EngineError::UnsafeJournal { .. } => "ENGINE-JOURNAL-REFUSED",
            EngineError::OtherDirectory { .. } => "ENGINE-OTHER-DIRECTORY",
            EngineError::NoConnection { .. } => "ENGINE-NO-DOMAIN-DC",
            EngineError::BadGrantRecord { .. } => "ENGINE-BAD-GRANT-RECORD",
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
            EngineError::Busy { .. } => "Wait for the other apply to finish (or end it), then run again; the lock goes with the process that holds it.".into(),
            EngineError::Unfinished { .. } => "Run `apply --rollback` to undo it, or `apply --resume` to finish it.".into(),
            EngineError::Precondition { remedy, .. } => remedy.clone(),
            EngineError::RolledBack { cause, .. } => cause.remedy.clone(),
            EngineError::Cancelled => "Run it again when ready.".into(),
            EngineError::CanaryRefused { .. } => "Name a test account nobody uses (the lab's wb.canary, or one made for it): its password is reset to a random value nobody keeps.".into(),
            EngineError::OtherDirectory { .. } => "Connect to every forest and domain the journal names (the same settings, or --ad-url per forest), then run `apply --rollback` or `--resume` again; nothing was changed.".into(),
            EngineError::NoConnection { dn, .. } => format!(
                "A DC of the domain holding {dn} is found in DNS (_ldap._tcp.dc._msdcs.<domain>) and signed in to with the same account: check that the domain's DCs are registered and reachable from here and that the account is an Enterprise Admin, or choose scopes in a domain this run reaches. Nothing was changed."
            ),
            EngineError::BadGrantRecord { .. } => "Restore the file from a backup; without it, `apply --disable` treats this tool's ACEs as pre-existing (`--remove-preexisting` removes them). Nothing was changed.".into(),
            EngineError::NotRolledBack { .. } => "Fix the cause (usually the DC or the network), then run `apply --rollback` to restore the prior values from the journal.".into(),
            EngineError::BadJournal { .. } => "Inspect the journal by hand (JSON lines); it holds every prior DACL in base64.".into(),
            EngineError::UnplacedJournal { path } => format!(
                "Finish it by hand: each Begin record of {} holds an object's DN and its prior DACL (base64 of the SD_FLAGS=4 bytes); compare them with the objects now (`writeback-wizard acl show DN`) and restore what this tool changed, then move the journal aside. Nothing was changed.",
                path.display()
            ),
            EngineError::UnsafeJournal { path, .. } => format!(
                "Nothing was changed. Someone may have altered {}: read it, restore what it names by hand if it is genuine, and move it aside (the state folder must be writable by administrators only).",
                path.display()
            ),
            EngineError::Internal { .. } => "Report this as a bug.".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            EngineError::Ad(e) => e.exit(),
            EngineError::Sync(e) => e.exit(),
            EngineError::Precondition { .. } => Exit::No,
            EngineError::Unfinished { .. } | EngineError::Busy { .. } => Exit::Failed,
            EngineError::OtherDirectory { .. }
            | EngineError::CanaryRefused { .. }
            | EngineError::UnplacedJournal { .. }
            | EngineError::UnsafeJournal { .. } => Exit::Usage,
            EngineError::NotRolledBack { .. } => Exit::NotRolledBack,
            _ => Exit::Failed,
        }
    }
}
