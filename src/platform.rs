//! What differs between the systems the product runs on, in one place.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// An exclusive lock on a file, held until dropped. It is the operating system's lock (flock on
/// Linux, LockFileEx on Windows), so it goes with the process that holds it however that process
/// ends: a crash never leaves a stale lock, and no process id needs checking.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock on `path` (created if missing), or `Ok(None)` at once when another holder
    /// has it.
    pub fn try_acquire(path: &Path) -> std::io::Result<Option<FileLock>> {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apply.lock");
        let first = FileLock::try_acquire(&path).unwrap().expect("free");
        assert!(FileLock::try_acquire(&path).unwrap().is_none(), "held");
        drop(first);
        assert!(FileLock::try_acquire(&path).unwrap().is_some(), "released");
    }
}
