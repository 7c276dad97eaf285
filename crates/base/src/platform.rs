//! What differs between the systems the product runs on, in one place.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Whether the Samba lab DC can run here (`lab up|down|status`, `--lab`): Samba's AD DC is a
/// Linux program. The tenant simulator and the lab sync engine run everywhere.
pub const SAMBA_LAB: bool = cfg!(target_os = "linux");

/// The effective user id (the lab binds privileged ports, so it needs root); `None` where the
/// system has no such thing.
pub fn effective_uid() -> Option<u32> {
    #[cfg(unix)]
    return Some(nix::unistd::geteuid().as_raw());
    #[cfg(not(unix))]
    return None;
}

/// Asks process `pid` to stop (`hard`: kills it). Only the lab's own Samba is ever signalled.
pub fn signal_stop(pid: i32, hard: bool) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, kill};
        let _ = kill(nix::unistd::Pid::from_raw(pid), if hard { Signal::SIGKILL } else { Signal::SIGTERM });
    }
    #[cfg(not(unix))]
    let _ = (pid, hard);
}

/// Windows PowerShell 5.1, by absolute path on Windows (never found through PATH, which a local
/// user could plant a `powershell.exe` in front of); elsewhere `powershell` on PATH, which only
/// tests use (a stand-in).
pub fn powershell() -> PathBuf {
    #[cfg(windows)]
    {
        let root = std::env::var_os("SystemRoot").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
        root.join(r"System32\WindowsPowerShell\v1.0\powershell.exe")
    }
    #[cfg(not(windows))]
    PathBuf::from("powershell")
}

/// Where the Entra provisioning agent installs its PowerShell module, under Program Files.
pub const CLOUDSYNC_MODULE: &str = "Microsoft Azure AD Connect Provisioning Agent\\Microsoft.CloudSync.Powershell.dll";

/// Which sync engines are installed here, from their files under Program Files: Entra Connect
/// Sync's `Microsoft Azure AD Sync\Bin\miiserver.exe` and Entra Cloud Sync's provisioning agent
/// module. (Neither is ever installed off Windows.)
pub fn installed_sync_engines() -> (bool, bool) {
    #[cfg(windows)]
    {
        let Some(root) = std::env::var_os("ProgramFiles").map(PathBuf::from) else { return (false, false) };
        (root.join(r"Microsoft Azure AD Sync\Bin\miiserver.exe").is_file(), root.join(CLOUDSYNC_MODULE).is_file())
    }
    #[cfg(not(windows))]
    {
        (false, false)
    }
}

/// Takes every `WRITEBACK_*` variable out of a child's environment: the secrets they may carry
/// are this process's, never a child's (PowerShell, Samba, a browser launcher).
pub fn scrub_child_env(cmd: &mut std::process::Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WRITEBACK_") {
            cmd.env_remove(name);
        }
    }
}

/// Opens an http(s) URL in the system's browser. On Windows through ShellExecute (the `open`
/// crate's `shellexecute-on-windows`), never through cmd.exe, whose parsing of `&` and `^` a URL
/// must not meet; elsewhere the desktop's opener (xdg-open, …) with no `WRITEBACK_*` variable in
/// its environment.
pub fn open_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("not a web address: {}", url.chars().take(80).collect::<String>()));
    }
    #[cfg(windows)]
    return open::that_detached(url).map_err(|e| format!("the browser could not be opened: {e}"));
    #[cfg(not(windows))]
    {
        let mut last = String::from("no program to open a browser with was found");
        for mut cmd in open::commands(url) {
            scrub_child_env(&mut cmd);
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            match cmd.spawn() {
                Ok(_) => return Ok(()),
                Err(e) => last = format!("{:?} failed: {e}", cmd.get_program()),
            }
        }
        Err(last)
    }
}

/// Where the settings file lives by default. On Windows the machine's state folder (several
/// administrators share a sync server, and one record must serve them all); elsewhere the user's
/// configuration folder.
pub fn config_dir() -> PathBuf {
    #[cfg(windows)]
    return machine_dir();
    #[cfg(not(windows))]
    return dirs::config_dir().unwrap_or_else(|| PathBuf::from(".")).join("writeback-wizard");
}

/// Where the journal, the grant record, the audit log and the logs live: on Windows
/// `%ProgramData%\writeback-wizard`, readable and writable only by Administrators and SYSTEM;
/// elsewhere the user's data folder.
pub fn data_dir() -> PathBuf {
    #[cfg(windows)]
    return machine_dir();
    #[cfg(not(windows))]
    return dirs::data_local_dir().unwrap_or_else(std::env::temp_dir).join("writeback-wizard");
}

#[cfg(windows)]
fn machine_dir() -> PathBuf {
    std::env::var_os("ProgramData")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"))
        .join("writeback-wizard")
}

/// Creates `dir` (and its parents) for the product's state, private to who may change the
/// domain: 0700 on Linux; on Windows the state folder's ACL is replaced by one granting full
/// control to Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18) only, inherited below, set
/// once, when the folder is created, by `icacls.exe` started by absolute path.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let root = machine_dir();
        if !root.exists() {
            std::fs::create_dir_all(&root)?;
            restrict_to_administrators(&root)?;
        }
    }
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(windows)]
fn restrict_to_administrators(dir: &Path) -> std::io::Result<()> {
    let system = std::env::var_os("SystemRoot").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
    let mut cmd = std::process::Command::new(system.join(r"System32\icacls.exe"));
    cmd.arg(dir)
        .args(["/inheritance:r", "/grant:r", "*S-1-5-32-544:(OI)(CI)F", "/grant:r", "*S-1-5-18:(OI)(CI)F"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    scrub_child_env(&mut cmd);
    let out = cmd.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "icacls could not restrict {} to Administrators and SYSTEM ({}): {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Options that create a file readable and writable by its owner alone (0600 on Unix; on Windows
/// the state folder's ACL is inherited): the journal, the audit log, the log.
pub fn private_file() -> OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut o = OpenOptions::new();
        o.mode(0o600);
        o
    }
    #[cfg(not(unix))]
    OpenOptions::new()
}

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

    /// Takes the lock on an open file, waiting for another holder to let go.
    pub fn acquire(file: File) -> std::io::Result<FileLock> {
        file.lock()?;
        Ok(FileLock { _file: file })
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

    #[cfg(unix)]
    #[test]
    fn state_folders_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/state");
        ensure_private_dir(&state).unwrap();
        assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
        ensure_private_dir(&state).unwrap();
    }
}
