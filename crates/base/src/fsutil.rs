//! File writes that survive a crash: temp file + fsync + rename + fsync of the directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically: readers see the old content or the new, never a mix, and
/// after a crash the file is whole. With `private`, the file is created readable by its owner
/// only (0600 on Unix) before any byte is written.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let file_name =
        path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    // A name nobody can guess, created exclusively and never through a link: a file or symlink
    // planted at the temp path makes the write fail instead of sending the bytes elsewhere.
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}-{:016x}", std::process::id(), rand::random::<u64>()));
    let tmp = dir.join(tmp_name);
    let mut file = create_new(&tmp, private)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is harmless but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates a new file, failing when anything (a file, a symlink) is already at `path`, and never
/// following a link; owner-only on Unix when `private`.
pub fn create_new(path: &Path, private: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 }).custom_flags(nix::libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)
}

/// Flushes a directory entry change (a rename) to disk. A no-op where directories cannot be
/// opened as files.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        write_atomic(&p, b"one", false).unwrap();
        write_atomic(&p, b"two", false).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, b"new", true).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        let q = dir.path().join("direct");
        drop(create_new(&q, true).unwrap());
        assert_eq!(fs::metadata(&q).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_receives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(create_new(&link, true).is_err(), "an existing link is refused, not followed");
        // The real file a write replaces is renamed over, never written through.
        let target = dir.path().join("settings.toml");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, b"secret", true).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(&target).unwrap(), "secret");
    }

    #[test]
    fn write_into_a_missing_parent_creates_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x/y/z.txt");
        write_atomic(&p, b"ok", false).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "ok");
    }
}
