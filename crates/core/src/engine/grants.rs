//! The grant record: which ACEs this tool added, by target DN — what a disable takes away, and the
//! only thing that tells ours from ACEs that were there before. It lives in the state folder beside
//! the journal (`granted.json`; one record for the machine on Windows, where several
//! administrators share the sync server), whatever `--config` names. It is written only under the
//! apply lock, and never from a copy: a save re-reads the file and applies this run's changes to
//! what it holds now, so a wizard left open for an hour cannot erase another run's record.
//!
//! Older versions kept it as the settings file's `[granted]` table: while the record does not
//! exist that table is read, and the first save moves it here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::EngineError;
use super::paths::Paths;
use crate::ad::sd::Ace;

/// The record's format on disk.
const FORMAT: u32 = 1;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    #[serde(with = "crate::ad::sd::sddl::persisted::table")]
    granted: BTreeMap<String, Vec<Ace>>,
    /// The forest of each DN of `granted` (records of older versions do not say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    forests: BTreeMap<String, String>,
    /// The forests this tool's last enable turned the sync engine's switch on with (or found it
    /// on with): a forest the sync engine serves beyond them was added after writeback was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    switched_on_with: Option<Vec<String>>,
}

/// One change noted by this run.
#[derive(Debug)]
enum Noted {
    Ace { forest: Option<String>, dn: String, ace: Ace, add: bool },
    SwitchedOnWith(Option<Vec<String>>),
}

/// The record as this run sees it, and what this run changed in it.
#[derive(Debug, Default)]
pub struct GrantRecord {
    path: PathBuf,
    settings: PathBuf,
    record: OnDisk,
    /// What this run changed, in the order it noted it.
    pending: Vec<Noted>,
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> EngineError {
    let path = path.to_path_buf();
    move |source| EngineError::Io { what, path, source }
}

/// Reads what is on disk: the record, or (before the first save) the settings' `[granted]`.
fn read(path: &Path, settings: &Path) -> Result<OnDisk, EngineError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<OnDisk>(&bytes)
            .map_err(|e| EngineError::BadGrantRecord { path: path.to_path_buf(), detail: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(OnDisk {
            version: FORMAT,
            granted: crate::config::Settings::load(settings)
                .map_err(|e| EngineError::BadGrantRecord { path: settings.to_path_buf(), detail: e.to_string() })?
                .granted,
            ..OnDisk::default()
        }),
        Err(e) => Err(io("read the grant record", path)(e)),
    }
}

fn note_into(record: &mut OnDisk, noted: &Noted) {
    let (forest, dn, ace, add) = match noted {
        Noted::Ace { forest, dn, ace, add } => (forest, dn, ace, *add),
        Noted::SwitchedOnWith(with) => {
            record.switched_on_with.clone_from(with);
            return;
        }
    };
    let entry = record.granted.entry(dn.to_string()).or_default();
    if add {
        if !entry.contains(ace) {
            entry.push(ace.clone());
        }
        if let Some(f) = forest {
            record.forests.insert(dn.clone(), f.clone());
        }
    } else {
        entry.retain(|x| x != ace);
    }
    if entry.is_empty() {
        record.granted.remove(dn);
        record.forests.remove(dn);
    }
}

impl GrantRecord {
    /// Where the record of a state folder is.
    pub fn path_in(state_dir: &Path) -> PathBuf {
        state_dir.join("granted.json")
    }

    /// Reads the record the engine's files point at.
    pub fn load(paths: &Paths) -> Result<GrantRecord, EngineError> {
        let path = Self::path_in(&paths.state_dir);
        let record = read(&path, &paths.settings)?;
        Ok(GrantRecord { path, settings: paths.settings.clone(), record, pending: Vec::new() })
    }

    /// Target DN → the ACEs this tool added there.
    pub fn table(&self) -> &BTreeMap<String, Vec<Ace>> {
        &self.record.granted
    }

    /// The forest a granted DN is in, when the record says.
    pub fn forest_of(&self, dn: &str) -> Option<&str> {
        self.record.forests.get(dn).map(String::as_str)
    }

    /// The forests the switch was last turned on with by this tool (`None`: it never was, or
    /// the record is older than the question).
    pub fn switched_on_with(&self) -> Option<&[String]> {
        self.record.switched_on_with.as_deref()
    }

    /// Notes that this run added (or took away) `aces` on `dn` in `forest`; [`GrantRecord::save`]
    /// persists it.
    pub fn note(&mut self, forest: Option<&str>, dn: &str, aces: &[Ace], add: bool) {
        for a in aces {
            let noted = Noted::Ace { forest: forest.map(String::from), dn: dn.to_string(), ace: a.clone(), add };
            note_into(&mut self.record, &noted);
            self.pending.push(noted);
        }
    }

    /// Notes the forests an enable left the switch on with (`None` after a disable).
    pub fn note_switched_on_with(&mut self, forests: Option<Vec<String>>) {
        let noted = Noted::SwitchedOnWith(forests);
        note_into(&mut self.record, &noted);
        self.pending.push(noted);
    }

    /// Applies this run's changes to the record as it is on disk now, and writes it (only when it
    /// changes, so a rollback on a full disk does not need the disk). The caller holds the apply
    /// lock. The first save also takes `[granted]` out of the settings file.
    pub fn save(&mut self) -> Result<(), EngineError> {
        let migrating = !self.path.exists();
        let on_disk = read(&self.path, &self.settings)?;
        let mut merged = on_disk.clone();
        for noted in &self.pending {
            note_into(&mut merged, noted);
        }
        merged.version = FORMAT;
        if merged != on_disk || (migrating && !merged.granted.is_empty()) {
            if let Some(dir) = self.path.parent() {
                crate::platform::ensure_private_dir(dir).map_err(io("create the state folder", dir))?;
            }
            let bytes =
                serde_json::to_vec_pretty(&merged).map_err(|e| EngineError::Internal { detail: e.to_string() })?;
            crate::fsutil::write_atomic(&self.path, &bytes, true).map_err(io("write the grant record", &self.path))?;
        }
        if migrating && self.settings.exists() {
            let mut settings = crate::config::Settings::load(&self.settings)
                .map_err(|e| EngineError::BadGrantRecord { path: self.settings.clone(), detail: e.to_string() })?;
            if !settings.granted.is_empty() {
                settings.granted.clear();
                settings.save(&self.settings).map_err(|e| EngineError::Io {
                    what: "move [granted] out of the settings",
                    path: self.settings.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?;
            }
        }
        self.record = merged;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ace(n: u32) -> Ace {
        crate::ad::sd::sddl::persisted::read(&format!("(A;;RP;;;S-1-5-21-1-2-3-{n})")).unwrap()
    }

    fn paths(dir: &Path) -> Paths {
        Paths { state_dir: dir.join("state"), audit_log: dir.join("audit.jsonl"), settings: dir.join("settings.toml") }
    }

    #[test]
    fn two_runs_from_stale_copies_both_keep_their_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        // The wizard opened an hour ago; a command ran since and recorded its grant.
        let mut wizard = GrantRecord::load(&p).unwrap();
        let mut command = GrantRecord::load(&p).unwrap();
        command.note(Some("corp.example"), "OU=A", &[ace(1), ace(2)], true);
        command.save().unwrap();
        wizard.note(None, "OU=B", &[ace(3)], true);
        wizard.save().unwrap();
        let now = GrantRecord::load(&p).unwrap();
        assert_eq!(now.table().len(), 2, "{:?}", now.table());
        assert_eq!(now.table()["OU=A"], vec![ace(1), ace(2)]);
        // A later disable by the stale wizard takes away only what it is told to.
        wizard.note(None, "OU=A", &[ace(1)], false);
        wizard.save().unwrap();
        let now = GrantRecord::load(&p).unwrap();
        assert_eq!(now.table()["OU=A"], vec![ace(2)]);
        assert_eq!((now.forest_of("OU=A"), now.forest_of("OU=B")), (Some("corp.example"), None));
        // The forests the switch was turned on with are kept beside, and cleared by a disable.
        wizard.note_switched_on_with(Some(vec!["corp.example".into()]));
        wizard.save().unwrap();
        assert_eq!(GrantRecord::load(&p).unwrap().switched_on_with(), Some(&["corp.example".to_string()][..]));
        wizard.note(None, "OU=A", &[ace(2)], false);
        wizard.save().unwrap();
        assert_eq!(GrantRecord::load(&p).unwrap().forest_of("OU=A"), None, "gone with its last ACE");
    }

    #[test]
    fn the_settings_granted_table_moves_to_the_record_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let mut old = crate::config::Settings::new();
        old.ad_url = Some("ldaps://dc1.example".into());
        old.granted.insert("OU=A".into(), vec![ace(1)]);
        old.save(&p.settings).unwrap();
        let mut record = GrantRecord::load(&p).unwrap();
        assert_eq!(record.table()["OU=A"], vec![ace(1)], "read from the settings until the first save");
        record.save().unwrap();
        assert!(GrantRecord::path_in(&p.state_dir).exists());
        let settings = crate::config::Settings::load(&p.settings).unwrap();
        assert!(settings.granted.is_empty() && settings.ad_url.is_some(), "{settings:?}");
        assert_eq!(GrantRecord::load(&p).unwrap().table()["OU=A"], vec![ace(1)]);
    }

    #[test]
    fn a_damaged_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::fs::create_dir_all(&p.state_dir).unwrap();
        std::fs::write(GrantRecord::path_in(&p.state_dir), r#"{"version":1,"granted":{"OU=A":["(not sddl"]}}"#)
            .unwrap();
        let err = GrantRecord::load(&p).unwrap_err();
        assert_eq!(crate::diagnose::Diagnose::code(&err), "ENGINE-BAD-GRANT-RECORD");
        assert!(err.to_string().contains("(not sddl"), "{err}");
    }
}
