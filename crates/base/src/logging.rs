//! Tracing to stderr (for people) and to a log file (for support), never to stdout.

use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Target for events meant for the log file only (errors the CLI also reports to the person).
pub const FILE_ONLY: &str = "writeback_wizard::file_only";

/// The folder chosen when logging was set up (lab mode has its own).
static LOG_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The log folder: lab mode's own (`lab-mode/logs` in the platform's data folder), else
/// `WRITEBACK_LOG_DIR`, else `logs` in the platform's data folder.
pub fn log_dir() -> PathBuf {
    LOG_DIR.get().cloned().unwrap_or_else(|| {
        std::env::var_os("WRITEBACK_LOG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::platform::data_dir().join("logs"))
    })
}

/// The log file.
pub fn log_file() -> PathBuf {
    log_dir().join("writeback-wizard.log")
}

/// Keeps logging alive for the process; dropping it changes nothing today, but callers hold it
/// so a buffered writer can be added without touching them.
#[derive(Debug)]
pub struct LogGuard;

/// Sets up tracing: stderr at warn (info with -v, debug with -vv; RUST_LOG wins), and the log
/// file at info — lab mode's in its own folder, so nothing of the lab mixes with production's
/// log. A log file that cannot be opened is reported once and skipped.
pub fn init(verbose: u8, lab: bool) -> LogGuard {
    if lab {
        let _ = LOG_DIR.set(crate::platform::data_dir().join("lab-mode").join("logs"));
    }
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let stderr_filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default))
        .add_directive(format!("{FILE_ONLY}=off").parse().unwrap_or_default());
    let stderr =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(stderr_filter);

    let path = log_file();
    let file = path
        .parent()
        .map(crate::platform::ensure_private_dir)
        .transpose()
        .and_then(|_| crate::platform::private_file().create(true).append(true).open(&path));
    let registry = tracing_subscriber::registry().with(stderr);
    match file {
        Ok(file) => {
            let file_layer = tracing_subscriber::fmt::layer()
                .with_writer(Mutex::new(file))
                .with_ansi(false)
                .with_filter(EnvFilter::new("info"));
            let _ = registry.with(file_layer).try_init();
        }
        Err(e) => {
            let _ = registry.try_init();
            tracing::warn!(path = %path.display(), error = %e, "cannot open the log file; logging to stderr only");
        }
    }
    LogGuard
}
