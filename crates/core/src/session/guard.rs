//! The state and settings folders are trusted only once checked, on every start: the sync server
//! is a Tier 0 machine, and a folder someone else made first (a standard user may create folders
//! under ProgramData and owns them) would hand them the DC the Enterprise Admin's password goes to,
//! the journal a recovery carries out, and the grant record a disable removes.

use std::path::{Path, PathBuf};

use super::{Error, Options};
use crate::ad::sd::SecurityDescriptor;
use crate::platform::{self, Ownership};

/// Why a file or folder may not be trusted, from who owns it and who may change it. `inside`:
/// a file in a folder that already passed.
pub fn judge(ownership: &Ownership, euid: u32, inside: bool) -> Result<(), String> {
    use crate::ad::sd::private::{Owner, private_to_administrators};
    match ownership {
        Ownership::Unix { uid, mode, symlink } => platform::unix_private(*uid, *mode, *symlink, euid),
        Ownership::Windows { descriptor, user } => {
            let sd = SecurityDescriptor::decode(descriptor)
                .map_err(|e| format!("its security descriptor cannot be read: {e}"))?;
            let me = crate::ad::sd::Sid::decode(user, 0).ok().map(|(s, _)| s);
            let owner = if inside { Owner::FileInside { me: me.as_ref() } } else { Owner::Folder { me: me.as_ref() } };
            private_to_administrators(&sd, owner)
        }
    }
}

/// The product's own files and folders these options read from, each with whether it is a file
/// inside one of them: the settings file and its folder, the data folder, the state folder and
/// what is in it, the audit log.
fn watched(opts: &Options) -> Vec<(PathBuf, bool)> {
    let mut paths = Vec::new();
    if let Some(dir) = opts.config_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        paths.push((dir.to_path_buf(), false));
    }
    paths.push((opts.config_path.clone(), true));
    let state = &opts.paths.state_dir;
    if let Some(data) = state.parent() {
        paths.push((data.to_path_buf(), false));
    }
    paths.push((state.clone(), false));
    if let Ok(entries) = std::fs::read_dir(state) {
        let mut inside: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        inside.sort();
        paths.extend(inside.into_iter().map(|p| (p, true)));
    }
    paths.push((opts.paths.audit_log.clone(), true));
    paths.dedup();
    paths
}

/// Checks every file and folder the product would read its state from; nothing is read from one
/// that fails.
pub fn check(opts: &Options) -> Result<(), Error> {
    let euid = platform::effective_uid().unwrap_or(0);
    for (path, inside) in watched(opts) {
        let owned = platform::ownership(&path).map_err(|e| Error::UnsafeFolder {
            path: path.clone(),
            why: format!("who may change it cannot be read: {e}"),
        })?;
        if let Some(o) = owned
            && let Err(why) = judge(&o, euid, inside)
        {
            return Err(Error::UnsafeFolder { path, why });
        }
    }
    Ok(())
}

/// The commands that make `path` safe again, for the remedy.
pub fn fix(path: &Path) -> String {
    if cfg!(windows) {
        format!(
            "As an administrator, move it aside and look at what it holds (Rename-Item '{p}' '{p}.suspect'); the next run makes it anew for Administrators and SYSTEM alone. To keep it instead: icacls \"{p}\" /setowner *S-1-5-32-544 /T /C, then icacls \"{p}\" /inheritance:r /grant:r *S-1-5-32-544:(OI)(CI)F *S-1-5-18:(OI)(CI)F /T /C.",
            p = path.display()
        )
    } else {
        format!(
            "If you did not make it so, move it aside and look at what it holds (mv '{p}' '{p}.suspect'); the next run makes it anew. To keep it: chown \"$(id -u)\" '{p}' && chmod go-w '{p}'.",
            p = path.display()
        )
    }
}
