//! What differs between the systems the product runs on, in one place.

#[cfg(windows)]
mod win32;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The state folder as the product creates it on Windows: owner Administrators, its DACL
/// protected (nothing inherited from ProgramData), full control to Administrators and SYSTEM,
/// inherited by everything made in it.
pub const STATE_FOLDER_SDDL: &str = "O:BAG:SYD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)";

/// Who may change a file or folder, as the system says (a folder and a file differ on Windows: see
/// the state guard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Owner and mode bits; whether the path itself is a symbolic link.
    Unix { uid: u32, mode: u32, symlink: bool },
    /// The self-relative security descriptor (owner, group, DACL), and the SID (binary) of the
    /// account this process runs as.
    Windows { descriptor: Vec<u8>, user: Vec<u8> },
}

/// Who may change `path` (`None` when nothing is there). A symbolic link is described, never
/// followed.
pub fn ownership(path: &Path) -> std::io::Result<Option<Ownership>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(Some(Ownership::Unix { uid: meta.uid(), mode: meta.mode(), symlink: meta.file_type().is_symlink() }))
    }
    #[cfg(windows)]
    {
        let _ = meta;
        Ok(Some(Ownership::Windows { descriptor: win32::security_descriptor(path)?, user: win32::current_user_sid()? }))
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = meta;
        Ok(None)
    }
}

/// Whether a Unix file or folder is the running user's (or root's) alone to change: owned by
/// root or `euid`, writable by neither its group nor others, and not a symbolic link.
pub fn unix_private(uid: u32, mode: u32, symlink: bool, euid: u32) -> Result<(), String> {
    if symlink {
        return Err("it is a symbolic link".into());
    }
    if uid != 0 && uid != euid {
        return Err(format!("it is owned by user id {uid}, neither root nor the user running this (user id {euid})"));
    }
    if mode & 0o022 != 0 {
        return Err(format!("its group or other users may write to it (mode {:o})", mode & 0o7777));
    }
    Ok(())
}

/// Whether the Samba lab DC can run here (`lab up|down|status`, `--lab`): Samba's AD DC is a
/// Linux program. The tenant simulator and the lab sync engine run everywhere.
pub const SAMBA_LAB: bool = cfg!(target_os = "linux");

/// Whether the product runs elevated where it runs for real: the Windows build's manifest asks to
/// run as administrator (the ADSync module needs it), so whatever it starts — a browser — runs
/// elevated too.
pub const RUNS_ELEVATED: bool = cfg!(windows);

/// Why the system's Kerberos refused: its own words, and its code when it gave one (MIT's minor
/// status on Unix — the KDC's error number plus 0x96C73A00 for a KDC error —, the SSPI status on
/// Windows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerberosFailure {
    pub text: String,
    pub code: Option<u32>,
}

/// A Kerberos credential for `user@realm` from its password, held by this process alone and gone
/// when dropped: on Unix MIT's gss_acquire_cred_with_password, which asks the KDC for a ticket
/// and keeps it in a MEMORY cache of this process, never the user's ticket cache; on Windows
/// SSPI's Kerberos package with explicit credentials (AcquireCredentialsHandleW with
/// SEC_WINNT_AUTH_IDENTITY_W), which the KDC judges at the first use. Blocks (it may wait for the
/// KDC): call it off the async runtime's threads.
pub fn kerberos_with_password(
    user: &str,
    realm: &str,
    password: &crate::secrets::Secret,
) -> Result<cross_krb5::Cred, KerberosFailure> {
    #[cfg(unix)]
    {
        use libgssapi::credential::{Cred, CredUsage};
        use libgssapi::name::Name;
        use libgssapi::oid::GSS_NT_KRB5_PRINCIPAL;
        let name =
            Name::new(format!("{user}@{realm}").as_bytes(), Some(&GSS_NT_KRB5_PRINCIPAL)).map_err(gss_failure)?;
        let cred =
            Cred::acquire_with_password(Some(&name), password.expose(), None, CredUsage::Initiate, Some(&krb5_only()?))
                .map_err(gss_failure)?;
        Ok(cross_krb5::Cred::from(cred))
    }
    #[cfg(windows)]
    return win32::kerberos_with_password(user, realm, password.expose());
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (user, realm, password);
        Err(KerberosFailure { text: "Kerberos is not supported on this system".into(), code: None })
    }
}

/// The signed-in account's Kerberos credential, and its name as the system gives it: on Unix the
/// principal of the default ticket cache (`KRB5CCNAME`; a `kinit` made it), on Windows the logon
/// session's account (`DOMAIN\user`).
pub fn kerberos_current_user() -> Result<(cross_krb5::Cred, String), KerberosFailure> {
    #[cfg(unix)]
    {
        use libgssapi::credential::{Cred, CredUsage};
        let cred = Cred::acquire(None, None, CredUsage::Initiate, Some(&krb5_only()?)).map_err(gss_failure)?;
        let name = cred.name().map_err(gss_failure)?.to_string();
        Ok((cross_krb5::Cred::from(cred), name))
    }
    #[cfg(windows)]
    return win32::kerberos_current_user();
    #[cfg(not(any(unix, windows)))]
    Err(KerberosFailure { text: "Kerberos is not supported on this system".into(), code: None })
}

#[cfg(unix)]
fn krb5_only() -> Result<libgssapi::oid::OidSet, KerberosFailure> {
    let mut mechs = libgssapi::oid::OidSet::new().map_err(gss_failure)?;
    mechs.add(&libgssapi::oid::GSS_MECH_KRB5).map_err(gss_failure)?;
    Ok(mechs)
}

#[cfg(unix)]
fn gss_failure(e: libgssapi::error::Error) -> KerberosFailure {
    KerberosFailure { text: e.to_string(), code: Some(e.minor) }
}

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

/// The search path a child of the lab gets: the system's folders, nothing of the caller's.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A child that inherits nothing of this process's environment but `keep` (each taken from this
/// process when set) and, when `keep` names no PATH, the system's search path: a `sudo -E` run
/// may carry secrets of every kind, and a daemon started as root keeps its environment for life.
pub fn child(program: impl AsRef<std::ffi::OsStr>, keep: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.env_clear();
    if !keep.contains(&"PATH") {
        cmd.env("PATH", SYSTEM_PATH);
    }
    for name in keep {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    cmd
}

/// What a desktop's URL opener needs to reach the desktop's browser, and nothing else.
pub const DESKTOP_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "LANG",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "XDG_RUNTIME_DIR",
    "XDG_CURRENT_DESKTOP",
    "XDG_SESSION_TYPE",
    "XDG_DATA_DIRS",
    "XDG_CONFIG_DIRS",
    "DBUS_SESSION_BUS_ADDRESS",
    "DESKTOP_SESSION",
    "BROWSER",
];

/// The opener's command for `url`, as `open` would run it, in the desktop's environment alone.
pub fn desktop_command(program: &std::ffi::OsStr, args: &[&std::ffi::OsStr]) -> std::process::Command {
    let mut cmd = child(program, DESKTOP_ENV);
    cmd.args(args);
    cmd
}

/// Opens an http(s) URL in the system's browser. On Windows through ShellExecute (the `open`
/// crate's `shellexecute-on-windows`), never through cmd.exe, whose parsing of `&` and `^` a URL
/// must not meet; elsewhere the desktop's opener (xdg-open, …) with the desktop's environment
/// alone ([`DESKTOP_ENV`]).
pub fn open_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("not a web address: {}", url.chars().take(80).collect::<String>()));
    }
    #[cfg(windows)]
    return open::that_detached(url).map_err(|e| format!("the browser could not be opened: {e}"));
    #[cfg(not(windows))]
    {
        let mut last = String::from("no program to open a browser with was found");
        for opener in open::commands(url) {
            let args: Vec<&std::ffi::OsStr> = opener.get_args().collect();
            let mut cmd = desktop_command(opener.get_program(), &args);
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
/// domain: 0700 on Linux; on Windows the state folder is created with [`STATE_FOLDER_SDDL`] in the
/// one call (its DACL inherited by what is made in it). Whether an existing folder may be trusted
/// is the caller's to check on every start.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        let root = machine_dir();
        if !root.exists() {
            if let Some(parent) = root.parent() {
                std::fs::create_dir_all(parent)?;
            }
            win32::create_dir_with(&root, STATE_FOLDER_SDDL)?;
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

    /// The variables a child was started with, by running `env` through the same builder.
    #[cfg(unix)]
    fn env_of(mut cmd: std::process::Command) -> Vec<String> {
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('=').next().unwrap().to_string()).collect()
    }

    #[cfg(unix)]
    #[test]
    fn a_child_inherits_only_what_it_is_given() {
        assert!(
            std::env::var_os("HOME").is_some() || std::env::var_os("PATH").is_some(),
            "the test has an environment"
        );
        assert_eq!(env_of(child("/usr/bin/env", &[])), vec!["PATH"], "nothing of ours, the system's PATH");
        let names = env_of(desktop_command(std::ffi::OsStr::new("/usr/bin/env"), &[]));
        assert!(names.iter().all(|n| DESKTOP_ENV.contains(&n.as_str())), "{names:?}");
    }

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apply.lock");
        let first = FileLock::try_acquire(&path).unwrap().expect("free");
        assert!(FileLock::try_acquire(&path).unwrap().is_none(), "held");
        drop(first);
        // A child another test is spawning holds a copy of every descriptor of this process from
        // its fork until its exec closes them (they are close-on-exec), and a flock goes with the
        // open file, not the descriptor: the lock is free once that copy is gone, so wait for it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while FileLock::try_acquire(&path).unwrap().is_none() {
            assert!(std::time::Instant::now() < deadline, "released");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_unix_folder_is_private_when_only_its_owner_may_change_it() {
        assert_eq!(unix_private(1000, 0o40700, false, 1000), Ok(()));
        assert_eq!(unix_private(0, 0o40755, false, 1000), Ok(()), "root's, read by others");
        assert!(unix_private(1001, 0o40700, false, 1000).unwrap_err().contains("user id 1001"));
        assert!(unix_private(1000, 0o40775, false, 1000).unwrap_err().contains("775"));
        assert!(unix_private(1000, 0o41777, false, 1000).is_err(), "/tmp's like");
        assert!(unix_private(1000, 0o120777, true, 1000).unwrap_err().contains("symbolic link"));
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
