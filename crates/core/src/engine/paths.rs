//! Where the engine keeps its files.

use std::path::PathBuf;

/// Where the engine keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Journals and the apply lock.
    pub state_dir: PathBuf,
    /// The audit log (JSON lines).
    pub audit_log: PathBuf,
    /// The settings file (its `[granted]` table records what was added).
    pub settings: PathBuf,
}

impl Paths {
    /// The defaults: `state/` and `audit.jsonl` in the platform's data folder.
    pub fn default_for(settings: PathBuf) -> Paths {
        let base = crate::platform::data_dir();
        Paths { state_dir: base.join("state"), audit_log: base.join("audit.jsonl"), settings }
    }
}
