//! The sync engine's password-writeback switch, behind one trait with two backends: `adsync` (the
//! ADSync PowerShell module of Microsoft Entra Connect, on the Windows sync server) and `lab` (the
//! tenant simulator's sync engine).

pub mod adsync;
pub mod lab;

use std::future::Future;

use serde::Serialize;

use crate::diagnose::{Diagnose, Exit};

/// What the sync engine says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineState {
    /// `adsync` or `lab`.
    pub backend: &'static str,
    /// The writeback switch.
    pub writeback_enabled: bool,
    /// The last sync cycle, when known.
    pub last_sync_cycle: Option<String>,
    /// Entra Connect's version (adsync).
    pub version: Option<String>,
    /// The Entra ID connector's name (adsync).
    pub connector: Option<String>,
    /// How this backend switches writeback, in its own words (shown in the plan).
    #[serde(skip)]
    pub switch: SwitchCalls,
}

/// A backend's writeback switch as text, for each direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwitchCalls {
    pub on: String,
    pub off: String,
}

impl SwitchCalls {
    /// The call that sets the switch to `enabled`.
    pub fn call(&self, enabled: bool) -> &str {
        if enabled { &self.on } else { &self.off }
    }
}

/// A sync engine that can switch password writeback.
pub trait SyncEngine: Send + Sync {
    /// Its name, for plans and messages.
    fn name(&self) -> &'static str;
    /// Reads the switch and the last sync cycle.
    fn state(&self) -> impl Future<Output = Result<EngineState, SyncError>> + Send;
    /// Turns writeback on or off.
    fn set_writeback(&self, enabled: bool) -> impl Future<Output = Result<(), SyncError>> + Send;
    /// Starts a delta sync cycle ("Start the synchronization process when configuration completes").
    fn start_sync_cycle(&self) -> impl Future<Output = Result<(), SyncError>> + Send;
}

/// The backend in use.
#[derive(Debug)]
pub enum Backend {
    /// Entra Connect's ADSync module.
    AdSync(adsync::AdSync),
    Lab(lab::LabEngine),
}

impl SyncEngine for Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::AdSync(e) => e.name(),
            Backend::Lab(e) => e.name(),
        }
    }
    async fn state(&self) -> Result<EngineState, SyncError> {
        match self {
            Backend::AdSync(e) => e.state().await,
            Backend::Lab(e) => e.state().await,
        }
    }
    async fn set_writeback(&self, enabled: bool) -> Result<(), SyncError> {
        match self {
            Backend::AdSync(e) => e.set_writeback(enabled).await,
            Backend::Lab(e) => e.set_writeback(enabled).await,
        }
    }
    async fn start_sync_cycle(&self) -> Result<(), SyncError> {
        match self {
            Backend::AdSync(e) => e.start_sync_cycle().await,
            Backend::Lab(e) => e.start_sync_cycle().await,
        }
    }
}

/// Why the sync engine could not be read or switched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    /// There is no backend to ask (e.g. the lab engine without the simulator's token).
    #[error("{detail}")]
    Unavailable { detail: String },
    /// PowerShell could not be started.
    #[error("cannot run {program}: {detail}")]
    NoPowerShell {
        program: String,
        /// The OS error.
        detail: String,
    },
    /// The ADSync module is not there.
    #[error("the ADSync PowerShell module is not installed here: {detail}")]
    NoAdSync {
        /// PowerShell's message.
        detail: String,
    },
    /// Entra Connect is too old.
    #[error(
        "Microsoft Entra Connect {found} is installed; password writeback needs {minimum} or later (older versions stopped working on 30 September 2026)"
    )]
    TooOld {
        /// The installed version.
        found: String,
        minimum: &'static str,
    },
    /// No Entra ID connector was found.
    #[error("the sync engine has no Microsoft Entra ID connector")]
    NoConnector,
    /// A PowerShell command failed.
    #[error("{command} failed: {detail}")]
    Command {
        command: &'static str,
        /// PowerShell's message.
        detail: String,
    },
    /// PowerShell ended well but printed nothing: not the real Windows PowerShell (a stub), or a
    /// profile that swallowed the output.
    #[error("{program} ran {command} and printed nothing")]
    NoOutput { command: &'static str, program: String },
    /// PowerShell did not answer in time (it was stopped).
    #[error("{command} did not finish within {seconds} s and was stopped")]
    Timeout { command: &'static str, seconds: u64 },
    /// The output could not be read.
    #[error("cannot read the output of {command}: {detail}")]
    Output {
        command: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The lab engine answered an error.
    #[error("the lab sync engine answered {status}: {detail}")]
    Lab {
        /// HTTP status (0 when unreachable).
        status: u16,
        /// The body or the network error.
        detail: String,
    },
}

impl Diagnose for SyncError {
    fn code(&self) -> &'static str {
        match self {
            SyncError::NoPowerShell { .. } => "SYNC-NO-POWERSHELL",
            SyncError::NoAdSync { .. } => "SYNC-NO-ADSYNC",
            SyncError::TooOld { .. } => "SYNC-TOO-OLD",
            SyncError::NoConnector => "SYNC-NO-CONNECTOR",
            SyncError::Command { .. } => "SYNC-COMMAND",
            SyncError::Output { .. } => "SYNC-OUTPUT",
            SyncError::NoOutput { .. } => "SYNC-NO-OUTPUT",
            SyncError::Timeout { .. } => "SYNC-TIMEOUT",
            SyncError::Lab { .. } | SyncError::Unavailable { .. } => "SYNC-LAB",
        }
    }
    fn remedy(&self) -> String {
        match self {
            SyncError::NoPowerShell { .. } | SyncError::NoAdSync { .. } => {
                "Run writeback-wizard on the Microsoft Entra Connect server, as a member of ADSyncAdmins (or use --sync-engine lab with the lab).".into()
            }
            SyncError::TooOld { .. } => {
                "Upgrade Microsoft Entra Connect (download the latest from the Entra admin center, or let auto-upgrade run), then run the wizard again.".into()
            }
            SyncError::NoConnector => "Finish Entra Connect's own setup (it creates the Entra ID connector) first.".into(),
            SyncError::Command { .. } => {
                "Read PowerShell's message above; run the wizard elevated, as a member of ADSyncAdmins, while no other Entra Connect wizard is open.".into()
            }
            SyncError::Output { .. } => "Report this with the message above.".into(),
            SyncError::NoOutput { .. } => "Run writeback-wizard on the Microsoft Entra Connect server itself, elevated, where Windows PowerShell 5.1 and the ADSync module are installed; nothing was changed in the sync engine.".into(),
            SyncError::Timeout { .. } => "The sync engine may be busy (a sync cycle, or another Entra Connect wizard open): wait and run again, or give PowerShell longer with --sync-engine-timeout SECONDS (setting sync_engine_timeout). A switch cut off may have been made: run `status` to see.".into(),
            SyncError::Lab { status: 401 | 403, .. } => "Sign in as a Global Administrator or Hybrid Identity Administrator assigned directly.".into(),
            SyncError::Lab { .. } | SyncError::Unavailable { .. } => "Check that the lab tenant simulator runs (--lab-url).".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            SyncError::TooOld { .. }
            | SyncError::NoAdSync { .. }
            | SyncError::NoPowerShell { .. }
            | SyncError::NoConnector
            | SyncError::NoOutput { .. } => Exit::No,
            _ => Exit::Failed,
        }
    }
}
