//! Loopback addresses for lab DCs.
//!
//! Samba's ports are fixed (389, 636, 3268, 3269), so each DC listens on its own 127.0.0.N. A DC
//! claims its address with a file created exclusively in a machine-wide folder; a claim whose DC
//! is no longer running (and that is not fresh, i.e. still being started) is stale and reused.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::LabError;

/// Claims younger than this belong to a DC still starting up.
const FRESH: Duration = Duration::from_secs(120);

/// The folder claims are kept in.
pub fn claims_dir() -> PathBuf {
    std::env::temp_dir().join("writeback-wizard-lab-claims")
}

/// A claimed address. The claim file stays after this value is dropped (the DC keeps running);
/// [`release`] removes it when the DC stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The address, e.g. 127.0.0.7.
    pub addr: Ipv4Addr,
}

fn claim_path(dir: &Path, addr: Ipv4Addr) -> PathBuf {
    dir.join(addr.to_string())
}

fn ports_free(addr: Ipv4Addr) -> bool {
    [389u16, 636, 3268, 3269].iter().all(|port| TcpListener::bind(SocketAddr::from((addr, *port))).is_ok())
}

/// Claims a free 127.0.0.N (N from 2 to 254) for the DC in `dc_dir`. `is_running(dir)` tells
/// whether the DC of an existing claim still runs.
pub fn claim(dc_dir: &Path, is_running: &dyn Fn(&Path) -> bool, now: SystemTime) -> Result<Claim, LabError> {
    let dir = claims_dir();
    std::fs::create_dir_all(&dir).map_err(|source| LabError::Io {
        what: "create the address claims folder",
        path: dir.clone(),
        source,
    })?;
    for n in 2u8..=254 {
        let addr = Ipv4Addr::new(127, 0, 0, n);
        let path = claim_path(&dir, addr);
        if path.exists() && !is_stale(&path, is_running, now) {
            continue;
        }
        if path.exists() {
            // Stale: its DC is gone. Whoever removes it first may take it.
            let _ = std::fs::remove_file(&path);
        }
        let created = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
        let mut file = match created {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(LabError::Io { what: "write an address claim", path, source }),
        };
        if !ports_free(addr) {
            // Something outside our claims (another program, or a DC whose claim was lost)
            // listens there. Keep the claim file away from the next caller only briefly.
            drop(file);
            let _ = std::fs::remove_file(&path);
            continue;
        }
        use std::io::Write;
        file.write_all(dc_dir.as_os_str().as_encoded_bytes()).map_err(|source| LabError::Io {
            what: "write an address claim",
            path: path.clone(),
            source,
        })?;
        return Ok(Claim { addr });
    }
    Err(LabError::NoAddress)
}

fn is_stale(path: &Path, is_running: &dyn Fn(&Path) -> bool, now: SystemTime) -> bool {
    let fresh = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age < FRESH);
    if fresh {
        return false;
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            let owner = PathBuf::from(String::from_utf8_lossy(&bytes).into_owned());
            !is_running(&owner)
        }
        Err(_) => true,
    }
}

/// Releases the claim on `addr` if `dc_dir` holds it.
pub fn release(addr: Ipv4Addr, dc_dir: &Path) {
    let path = claim_path(&claims_dir(), addr);
    if std::fs::read(&path).is_ok_and(|bytes| bytes == dc_dir.as_os_str().as_encoded_bytes()) {
        let _ = std::fs::remove_file(&path);
    }
}
