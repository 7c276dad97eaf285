//! What keeps an apply recoverable: the journal (append-only JSON lines, fsynced before every
//! change, holding each prior value whole), the lock that allows one apply at a time, and the
//! audit log.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::EngineError;
use crate::ad::sd::Ace;

/// A step as the journal keeps it: enough to redo or undo it. ACEs are SDDL with numeric SIDs on
/// disk and typed once read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StoredStep {
    /// Add these ACEs to a DN's DACL.
    Grant {
        id: String,
        dn: String,
        #[serde(with = "crate::ad::sd::sddl::persisted")]
        aces: Vec<Ace>,
        /// The forest and the domain (DNS names) of `dn` (journals of older versions do not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forest: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain: Option<String>,
    },
    /// Remove these ACEs from a DN's DACL.
    Revoke {
        id: String,
        dn: String,
        #[serde(with = "crate::ad::sd::sddl::persisted")]
        aces: Vec<Ace>,
        /// The forest and the domain (DNS names) of `dn` (journals of older versions do not say).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forest: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain: Option<String>,
    },
    /// Switch the sync engine's writeback.
    Writeback { id: String, enabled: bool },
}

impl StoredStep {
    /// The step id.
    pub fn id(&self) -> &str {
        match self {
            StoredStep::Grant { id, .. } | StoredStep::Revoke { id, .. } | StoredStep::Writeback { id, .. } => id,
        }
    }
}

/// The directory a journal's changes were made in: recovering against another one is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// The SID of the domain the DC serves (its default naming context's).
    pub domain_sid: Option<String>,
    /// The DC written to.
    pub dc: String,
    /// The forest's domain roots, as that DC saw them (not kept by journals of older versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roots: Vec<String>,
    /// The forest's DNS name (not kept by journals of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest: Option<String>,
    /// The domain naming context the DC writes (not kept by journals of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes: Option<String>,
}

impl Directory {
    /// The directory a discovery describes.
    pub fn of(disc: &crate::ad::directory::Discovery) -> Directory {
        let sid = disc
            .domains
            .iter()
            .find(|d| d.dn.eq_ignore_ascii_case(&disc.default_naming_context))
            .and_then(|d| d.sid.clone());
        let roots = disc.domains.iter().map(|d| d.dn.clone()).collect();
        Directory {
            domain_sid: sid,
            dc: disc.dc_name.clone(),
            roots,
            forest: None,
            writes: Some(disc.default_naming_context.clone()),
        }
    }

    /// The same, naming its forest.
    pub fn in_forest(disc: &crate::ad::directory::Discovery, forest: &str) -> Directory {
        Directory { forest: Some(forest.to_string()), ..Directory::of(disc) }
    }

    /// Whether `dn` lies in a domain of its forest.
    pub fn serves(&self, dn: &str) -> bool {
        let roots: Vec<&str> = self.roots.iter().map(String::as_str).collect();
        super::routing::route(&roots, dn).is_some()
    }

    /// Whether both write the same domain (journals of older versions name none: the same).
    fn same_domain(&self, other: &Directory) -> bool {
        match (&self.writes, &other.writes) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        }
    }

    /// How it is named to a person: `S-1-5-21-… (dc1.corp.example)`.
    pub fn said(&self) -> String {
        format!("{} ({})", self.domain_sid.clone().unwrap_or_default(), self.dc)
    }

    /// Of `here` (the directories this run reaches), the one that writes the domain this one
    /// wrote.
    pub fn counterpart<'h>(&self, here: &'h [Directory]) -> Option<&'h Directory> {
        here.iter().find(|h| self.same_domain(h))
    }

    /// Both name a domain SID, and they differ.
    pub fn is_other_than(&self, here: &Directory) -> bool {
        matches!((&self.domain_sid, &here.domain_sid), (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b))
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The plan being applied, whole, so a crashed apply can be resumed.
    Plan {
        action: super::Action,
        steps: Vec<StoredStep>,
        time: String,
        /// Where the changes are made (journals of older versions do not say): the first
        /// forest's DC.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        directory: Option<Directory>,
        /// Every further forest's (and domain's) DC.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        others: Vec<Directory>,
    },
    /// About to change a step's target; its prior value follows.
    Begin {
        step: String,
        /// The prior value: the DACL (base64 of the SD_FLAGS=4 bytes) or the writeback switch.
        prior: Prior,
        time: String,
    },
    /// The step's change is made and verified.
    Done { step: String, time: String },
    /// The step failed.
    Failed { step: String, error: String, time: String },
    /// A step was undone and the undo verified.
    Undone { step: String, time: String },
    /// Every step is done (terminal).
    Complete { time: String },
    /// Every begun step is undone (terminal).
    RolledBack { time: String },
}

/// A value before a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prior {
    /// An object's DACL, as read with SD_FLAGS=4.
    Dacl {
        dn: String,
        /// The descriptor's bytes (base64 on disk).
        #[serde(with = "base64_bytes")]
        sd: Vec<u8>,
    },
    /// The sync engine's writeback switch.
    Writeback { enabled: bool },
}

/// Bytes as base64 text in the journal's JSON.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Creates a new journal in `dir`.
    pub fn create(dir: &Path, stamp: &str) -> Result<Journal, EngineError> {
        crate::platform::ensure_private_dir(dir).map_err(|source| EngineError::Io {
            what: "create the journal folder",
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(format!("journal-{stamp}-{}.jsonl", std::process::id()));
        let file = crate::platform::private_file()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|source| EngineError::Io { what: "create the journal", path: path.clone(), source })?;
        Ok(Journal { path, file })
    }

    /// Reopens an existing journal to append to it (recovery).
    pub fn reopen(path: &Path) -> Result<Journal, EngineError> {
        let file = OpenOptions::new().append(true).open(path).map_err(|source| EngineError::Io {
            what: "open the journal",
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Journal { path: path.to_path_buf(), file })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record; a plan or a Begin record is forced to disk before this returns.
    pub fn append(&mut self, record: &Record) -> Result<(), EngineError> {
        self.append_all(std::slice::from_ref(record))
    }

    /// Appends records with one sync at the end, when any of them must be durable (the Begin
    /// records of a batch of steps are all on disk before the first of their changes).
    pub fn append_all(&mut self, records: &[Record]) -> Result<(), EngineError> {
        // Records are written whole or not at all: on a full disk what was written is cut off
        // again, so the next record does not glue onto half a line and the journal stays
        // readable (and none of the batch counts: the caller changes nothing of it).
        let length = self.file.metadata().map(|m| m.len()).ok();
        // Only the plan and a step's prior value must be on disk before the change they cover.
        // Any other record lost in a crash makes a recovery do again what is idempotent (redo a
        // done step, undo an undone one), and the next synced record flushes it anyway.
        let durable = records.iter().any(|r| matches!(r, Record::Plan { .. } | Record::Begin { .. }));
        let mut lines = Vec::new();
        for record in records {
            let mut line = serde_json::to_vec(record).map_err(|e| EngineError::Internal { detail: e.to_string() })?;
            line.push(b'\n');
            lines.push(line);
        }
        let mut written = Ok(());
        for line in &lines {
            written = self.file.write_all(line);
            if written.is_err() {
                break;
            }
            crate::crash::reached(crate::crash::Point::JournalRecord);
        }
        let written = written.and_then(|()| if durable { self.file.sync_data() } else { Ok(()) });
        if let (Err(_), Some(length)) = (&written, length) {
            let _ = self.file.set_len(length);
        }
        written.map_err(|source| EngineError::Io { what: "write the journal", path: self.path.clone(), source })
    }

    /// Removes a finished journal.
    pub fn finish(self) -> Result<(), EngineError> {
        drop(self.file);
        std::fs::remove_file(&self.path).map_err(|source| EngineError::Io {
            what: "remove the finished journal",
            path: self.path,
            source,
        })
    }
}

/// Reads a journal. A torn last line (a crash mid-write) is ignored: its change never started.
pub fn read(path: &Path) -> Result<Vec<Record>, EngineError> {
    let text = std::fs::read(path).map_err(|source| EngineError::Io {
        what: "read the journal",
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|detail| EngineError::BadJournal { path: path.to_path_buf(), detail })
}

/// Parses a journal's bytes. A last line without its newline is a record the crash cut short:
/// its writer never learned it was written, so it is dropped. Anything else that is not a record
/// is damage, reported with its line number.
pub fn parse(text: &[u8]) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    let mut lines = text.split(|b| *b == b'\n').enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(line) {
            Ok(r) => records.push(r),
            Err(_) if last => {}
            Err(e) => return Err(format!("line {}: {e}", n + 1)),
        }
    }
    Ok(records)
}

/// The journal of an apply that neither completed nor rolled back, if any.
pub fn unfinished(dir: &Path) -> Result<Option<PathBuf>, EngineError> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(None) };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("journal-")))
        .collect();
    found.sort();
    for path in found {
        let records = match read(&path) {
            Ok(r) => r,
            Err(EngineError::BadJournal { detail, .. }) => {
                // Damage a person must look at, but not a lock on every later command.
                let aside = path.with_extension("jsonl.damaged");
                std::fs::rename(&path, &aside).map_err(|source| EngineError::Io {
                    what: "move a damaged journal aside",
                    path: path.clone(),
                    source,
                })?;
                tracing::warn!(
                    "the journal {} is damaged ({detail}); it was moved aside to {}: read it to see what an earlier apply changed",
                    path.display(),
                    aside.display()
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        let terminal = records.last().is_some_and(|r| matches!(r, Record::Complete { .. } | Record::RolledBack { .. }));
        if !terminal {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// One apply at a time, across processes and users: an OS lock on `apply.lock` in the state
/// folder, held for the whole apply or recovery. A second one is refused within a second.
#[derive(Debug)]
pub struct Lock {
    _held: crate::platform::FileLock,
}

/// How long a lock that looks held is tried again before the apply is refused. On Unix a lock this
/// process has just let go can still look held for a moment: a child being spawned on another
/// thread holds a copy of every descriptor from its fork until its exec closes them, and flock
/// goes with the open file, not the descriptor. Another apply holds it for far longer.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

impl Lock {
    /// Takes the lock in `dir`, or [`EngineError::Busy`] when another apply holds it.
    pub async fn acquire(dir: &Path) -> Result<Lock, EngineError> {
        crate::platform::ensure_private_dir(dir).map_err(|source| EngineError::Io {
            what: "create the state folder",
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("apply.lock");
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match crate::platform::FileLock::try_acquire(&path) {
                Ok(Some(held)) => return Ok(Lock { _held: held }),
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await
                }
                Ok(None) => return Err(EngineError::Busy { lock: path }),
                Err(source) => return Err(EngineError::Io { what: "take the apply lock", path, source }),
            }
        }
    }
}

/// The objects the steps of the journal at `path` change (to connect to their domains before it
/// is recovered).
pub fn step_targets(path: &Path) -> Result<Vec<String>, EngineError> {
    Ok(read(path)?
        .into_iter()
        .filter_map(|r| match r {
            Record::Plan { steps, .. } => Some(steps),
            _ => None,
        })
        .flatten()
        .filter_map(|s| match s {
            StoredStep::Grant { dn, .. } | StoredStep::Revoke { dn, .. } => Some(dn),
            StoredStep::Writeback { .. } => None,
        })
        .collect())
}

/// One audit record: who changed what, from what, to what, with what result.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// When (RFC 3339).
    pub time: String,
    /// Who ran it (the bound AD account).
    pub operator: &'a str,
    /// `grant`, `revoke`, `writeback-on`, `writeback-off`, `rollback`, `sync-cycle`.
    pub action: &'a str,
    /// The DN or `sync-engine`.
    pub target: &'a str,
    /// The forest and the domain (DNS names) of the DN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    /// Before (SDDL of the DACL, or the switch).
    pub before: String,
    pub after: String,
    /// `ok` or the error.
    pub result: String,
}

/// Appends an audit record (JSON lines) and syncs it. Holds no secret: DACLs and switches only.
pub fn audit(path: &Path, record: &AuditRecord<'_>) -> Result<(), EngineError> {
    audit_all(path, std::slice::from_ref(record))
}

/// Appends audit records with one sync.
pub fn audit_all(path: &Path, records: &[AuditRecord<'_>]) -> Result<(), EngineError> {
    if let Some(dir) = path.parent() {
        crate::platform::ensure_private_dir(dir).map_err(|source| EngineError::Io {
            what: "create the audit folder",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut f = crate::platform::private_file()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| EngineError::Io { what: "open the audit log", path: path.to_path_buf(), source })?;
    let mut lines = Vec::new();
    for record in records {
        lines.extend(serde_json::to_vec(record).map_err(|e| EngineError::Internal { detail: e.to_string() })?);
        lines.push(b'\n');
    }
    f.write_all(&lines).and_then(|_| f.sync_all()).map_err(|source| EngineError::Io {
        what: "write the audit log",
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_dropped_and_damage_elsewhere_is_named() {
        let good = br#"{"record":"complete","time":"t"}"#;
        let mut text = good.to_vec();
        text.extend_from_slice(b"\n");
        text.extend_from_slice(&good[..10]);
        assert_eq!(parse(&text).unwrap().len(), 1, "the torn record is not claimed");
        let mut damaged = good[..10].to_vec();
        damaged.extend_from_slice(b"\n\n");
        damaged.extend_from_slice(good);
        damaged.extend_from_slice(b"\n");
        let err = parse(&damaged).unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn a_damaged_journal_is_moved_aside_and_blocks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("journal-1-1.jsonl"), b"{not json\n{\"record\":\"complete\",\"time\":\"t\"}\n")
            .unwrap();
        assert_eq!(unfinished(dir.path()).unwrap(), None);
        assert!(dir.path().join("journal-1-1.jsonl.damaged").exists());
        assert!(!dir.path().join("journal-1-1.jsonl").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_journal_is_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::create(dir.path(), "1").unwrap();
        assert_eq!(std::fs::metadata(j.path()).unwrap().permissions().mode() & 0o777, 0o600);
        j.finish().unwrap();
    }

    #[test]
    fn the_fuzz_corpus_holds_journals_of_this_format() {
        let records = parse(include_bytes!("../../../../fuzz/corpus/journal/applied.jsonl")).unwrap();
        assert_eq!(records.len(), 7);
        assert!(matches!(&records[1], Record::Begin { prior: Prior::Dacl { .. }, .. }));
        // Cut in the middle of the second line: the plan is read, the torn Begin is not.
        assert_eq!(parse(include_bytes!("../../../../fuzz/corpus/journal/torn.jsonl")).unwrap().len(), 1);
    }
}
