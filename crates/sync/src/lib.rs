//! The sync engine's password-writeback switch, behind one trait with three backends: `adsync`
//! (the ADSync PowerShell module of Microsoft Entra Connect Sync), `cloudsync` (the PowerShell
//! module of the Microsoft Entra provisioning agent, for Entra Cloud Sync), both on the Windows
//! sync server, and `lab` (the tenant simulator's sync engine, in either flavour). Every cmdlet and
//! property used is named with its source in docs/sync-engines.md.

#![allow(clippy::result_large_err)]

pub(crate) use writeback_base::{clock, diagnose, netstats, platform, secrets};

pub mod adsync;
pub mod cloudsync;
pub mod lab;
pub mod support;

use std::future::Future;

use serde::Serialize;

use crate::diagnose::{Diagnose, Exit};

/// Which sync engine switches the writeback feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SyncEngineKind {
    /// Entra Connect's ADSync PowerShell module (Windows).
    #[default]
    Adsync,
    /// Entra Cloud Sync's provisioning agent and its PowerShell module (Windows).
    Cloudsync,
    /// The tenant simulator's sync engine.
    Lab,
}

impl SyncEngineKind {
    /// Its name in flags, settings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncEngineKind::Adsync => "adsync",
            SyncEngineKind::Cloudsync => "cloudsync",
            SyncEngineKind::Lab => "lab",
        }
    }
}

impl std::fmt::Display for SyncEngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the sync engine's state means for writeback today (never a failure; the plan lists them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineWarning {
    /// Entra Connect's staging mode: it writes no password back.
    Staging,
    /// SyncCycleEnabled is False.
    CyclesDisabled,
    /// SchedulerSuspended is True.
    SchedulerSuspended,
    /// The configuration's version is not the installed binaries'.
    UpgradeUnfinished { configured: String, installed: String },
    /// A connector runs now.
    RunInProgress { run: String },
    /// Past its end of support.
    Unsupported { version: String, ended: String },
}

impl std::fmt::Display for EngineWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineWarning::Staging => f.write_str("this Entra Connect server is in staging mode: it exports nothing and writes no password back; configure writeback on the active server"),
            EngineWarning::CyclesDisabled => f.write_str("the sync scheduler's cycles are disabled (SyncCycleEnabled is False): no change reaches Entra ID until they run; turn them back on with Set-ADSyncScheduler -SyncCycleEnabled $true"),
            EngineWarning::SchedulerSuspended => f.write_str("the sync scheduler is suspended (SchedulerSuspended is True): Entra Connect sets this during an upgrade or while its wizard is open; close the wizard or finish the upgrade"),
            EngineWarning::UpgradeUnfinished { configured, installed } => write!(f, "the sync engine's configuration is version {configured} but the installed binaries are {installed}: an upgrade did not finish; run the Entra Connect wizard and choose Upgrade"),
            EngineWarning::RunInProgress { run } => write!(f, "a sync is running now ({run}): the switch is made between runs, which may take a while"),
            EngineWarning::Unsupported { version, ended } => write!(f, "Microsoft Entra Connect {version} is past its end of support ({ended}, see docs/sync-engines.md): it may stop working without warning; upgrade to the latest version"),
        }
    }
}

impl Serialize for EngineWarning {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Whether `url` is an http(s) URL whose host is a loopback address (127.0.0.0/8, ::1,
/// `localhost`): where the lab's simulator and sync engine may be.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What the sync engine says about itself. What a backend cannot read stays `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EngineState {
    /// Which backend answered: `adsync`, `cloudsync` or `lab`.
    pub backend: SyncEngineKind,
    /// The kind of engine it is: `adsync` (Entra Connect Sync) or `cloudsync` (Entra Cloud Sync);
    /// the lab's is either.
    pub flavour: SyncEngineKind,
    /// The writeback switch.
    pub writeback_enabled: bool,
    /// Whether the switch could be read. Cloud Sync has no documented way to read it: its state
    /// is then what this tool last set, or unknown, and nothing claims it was checked.
    pub writeback_readable: bool,
    /// The last sync run, when known (the result and when it ended).
    pub last_sync_cycle: Option<String>,
    /// The sync engine's own version (Entra Connect: the server configuration's version).
    pub version: Option<String>,
    /// The installed binaries' version (Entra Connect: miiserver.exe), to tell a half-finished
    /// upgrade.
    pub installed_version: Option<String>,
    /// The Entra ID connector's name (adsync).
    pub connector: Option<String>,
    /// Entra Connect's staging mode: it imports and synchronises but exports nothing, and
    /// writes no password back.
    pub staging_mode: Option<bool>,
    /// The scheduler runs sync cycles.
    pub sync_cycle_enabled: Option<bool>,
    /// The scheduler is suspended (Entra Connect sets this during an upgrade or while its wizard
    /// is open).
    pub scheduler_suspended: Option<bool>,
    /// When the scheduler starts the next cycle (UTC).
    pub next_sync_cycle: Option<String>,
    /// A connector running now (a sync is in progress).
    pub run_in_progress: Option<String>,
    /// The AD DS connectors and the account each signs in with, as the sync engine has them.
    pub ad_connectors: Vec<AdConnector>,
    /// The account the Cloud Sync agent runs as (its gMSA), `DOMAIN\name$`.
    pub agent_account: Option<String>,
    /// What the state means for writeback, each with its remedy (warnings, never failures).
    pub warnings: Vec<EngineWarning>,
    /// How this backend switches writeback, in its own words (shown in the plan).
    #[serde(skip)]
    pub switch: SwitchCalls,
}

/// An AD DS connector of Entra Connect and the account it signs in to its forest with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AdConnector {
    /// The connector's name (usually the forest's DNS name).
    pub name: String,
    /// `forest-login-domain`: the account's domain (DNS name).
    pub domain: String,
    /// `forest-login-user`: the account's sAMAccountName.
    pub user: String,
    /// The domains it synchronises (DNS names), where the engine says (the lab's does; Microsoft
    /// documents no property of Entra Connect's connector that lists them: docs/sync-engines.md).
    #[serde(default)]
    pub domains: Vec<String>,
}

/// Why enabling cannot go ahead on this engine, as the plan's precondition codes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub code: &'static str,
    pub check: String,
    pub remedy: String,
}

impl EngineState {
    /// Works out the warnings for `today` (the support dates depend on it).
    pub fn assess(&mut self, now: std::time::SystemTime) {
        let mut w = Vec::new();
        if self.staging_mode == Some(true) {
            w.push(EngineWarning::Staging);
        }
        if self.sync_cycle_enabled == Some(false) {
            w.push(EngineWarning::CyclesDisabled);
        }
        if self.scheduler_suspended == Some(true) {
            w.push(EngineWarning::SchedulerSuspended);
        }
        if let (Some(v), Some(i)) = (&self.version, &self.installed_version)
            && !v.is_empty()
            && !i.is_empty()
            && adsync::version_at_least(v, i) != adsync::version_at_least(i, v)
        {
            w.push(EngineWarning::UpgradeUnfinished { configured: v.clone(), installed: i.clone() });
        }
        if let Some(run) = &self.run_in_progress {
            w.push(EngineWarning::RunInProgress { run: run.clone() });
        }
        if self.flavour == SyncEngineKind::Adsync
            && let Some(v) = self.version.as_deref().or(self.installed_version.as_deref())
            && let Some(ended) = support::ended(v, now)
        {
            w.push(EngineWarning::Unsupported { version: v.to_string(), ended: ended.to_string() });
        }
        self.warnings = w;
    }

    /// What refuses an enable here: staging mode, and a Connect older than the minimum. Never
    /// a disable or a status.
    pub fn enable_blockers(&self) -> Vec<Blocker> {
        let mut out = Vec::new();
        if self.staging_mode == Some(true) {
            out.push(Blocker {
                code: "SYNC-STAGING",
                check: "the Entra Connect server is active (not in staging mode)".into(),
                remedy: "This server is in staging mode and writes no password back: run writeback-wizard on the active Entra Connect server (or take this one out of staging mode in the Entra Connect wizard first).".into(),
            });
        }
        if self.flavour == SyncEngineKind::Adsync
            && let Some(v) = self.version.as_deref().or(self.installed_version.as_deref())
            && !adsync::version_at_least(v, adsync::MINIMUM_VERSION)
        {
            out.push(Blocker {
                code: "SYNC-TOO-OLD",
                check: format!("Microsoft Entra Connect is {} or later (found {v})", adsync::MINIMUM_VERSION),
                remedy: SyncError::TooOld { found: v.to_string(), minimum: adsync::MINIMUM_VERSION }.remedy(),
            });
        }
        // Microsoft's Cloud Sync writeback tutorial: "Microsoft Entra Connect cloud sync version
        // 1.1.977.0 or later" (tutorial-enable-cloud-sync-sspr-writeback.md, Prerequisites).
        if self.flavour == SyncEngineKind::Cloudsync
            && let Some(v) = self.installed_version.as_deref()
            && !adsync::version_at_least(v, cloudsync::MINIMUM_AGENT_VERSION)
        {
            out.push(Blocker {
                code: "SYNC-AGENT-TOO-OLD",
                check: format!("the Microsoft Entra provisioning agent is {} or later (found {v})", cloudsync::MINIMUM_AGENT_VERSION),
                remedy: format!(
                    "Upgrade the provisioning agent to {} or later (Microsoft Entra admin center > Entra Connect > Cloud sync > Agents, or let it upgrade itself), then enable again.",
                    cloudsync::MINIMUM_AGENT_VERSION
                ),
            });
        }
        out
    }
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

/// One event of the sync server's log, in the properties Get-WinEvent gives an EventLogRecord
/// (Microsoft: Get-WinEvent; System.Diagnostics.Eventing.Reader.EventLogRecord): what
/// `ConvertTo-Json` prints of `Select-Object Id, ProviderName, TimeCreated, LevelDisplayName,
/// Message`, TimeCreated as an RFC 3339 string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WinEvent {
    pub id: u32,
    pub provider_name: String,
    pub time_created: String,
    #[serde(default)]
    pub level_display_name: Option<String>,
    #[serde(default)]
    pub message: String,
}

impl WinEvent {
    /// A list of events; ConvertTo-Json prints a lone one as an object, not a list.
    pub fn parse_list(doc: &serde_json::Value) -> Result<Vec<WinEvent>, String> {
        let list = match doc {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Null => Vec::new(),
            one => vec![one.clone()],
        };
        list.into_iter()
            .map(|v| serde_json::from_value(v).map_err(|e| format!("not an event as Get-WinEvent gives it: {e}")))
            .collect()
    }
}

/// The backend in use.
#[derive(Debug)]
pub enum Backend {
    /// Entra Connect's ADSync module.
    AdSync(adsync::AdSync),
    /// The Entra provisioning agent's module (Entra Cloud Sync).
    CloudSync(cloudsync::CloudSync),
    Lab(lab::LabEngine),
}

impl SyncEngine for Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::AdSync(e) => e.name(),
            Backend::CloudSync(e) => e.name(),
            Backend::Lab(e) => e.name(),
        }
    }
    async fn state(&self) -> Result<EngineState, SyncError> {
        match self {
            Backend::AdSync(e) => e.state().await,
            Backend::CloudSync(e) => e.state().await,
            Backend::Lab(e) => e.state().await,
        }
    }
    async fn set_writeback(&self, enabled: bool) -> Result<(), SyncError> {
        match self {
            Backend::AdSync(e) => e.set_writeback(enabled).await,
            Backend::CloudSync(e) => e.set_writeback(enabled).await,
            Backend::Lab(e) => e.set_writeback(enabled).await,
        }
    }
    async fn start_sync_cycle(&self) -> Result<(), SyncError> {
        match self {
            Backend::AdSync(e) => e.start_sync_cycle().await,
            Backend::CloudSync(e) => e.start_sync_cycle().await,
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
    NoPowerShell { program: String, detail: String },
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
    /// The server is in staging mode (it writes no password back).
    #[error("this Microsoft Entra Connect server is in staging mode: it exports nothing and writes no password back")]
    Staging,
    /// The cmdlet wanted an interactive cloud sign-in, which a non-interactive PowerShell cannot give.
    #[error("{command} asked for an interactive sign-in to Microsoft Entra ID: {detail}")]
    NeedsSignIn { command: &'static str, detail: String },
    /// The Cloud Sync agent's PowerShell module is not there.
    #[error("the Microsoft Entra provisioning agent's PowerShell module is not installed here: {detail}")]
    NoCloudSync { detail: String },
    /// Switching Cloud Sync writeback needs a Global or Hybrid Identity Administrator's credential,
    /// and none was given.
    #[error(
        "switching Cloud Sync password writeback needs a Global Administrator's or Hybrid Identity Administrator's user name and password, and none was given"
    )]
    NeedsCredential,
    /// The credential was refused (wrong, or an account that must use MFA).
    #[error("Microsoft Entra ID refused the administrator credential for Cloud Sync: {detail}")]
    CredentialRefused { detail: String },
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

/// The portal's own switches, for when a cmdlet cannot do it.
pub const PORTAL: &str = "or, in the Microsoft Entra admin center, Password reset > On-premises integration > \"Enable password write back for synced users\" (with Cloud Sync also \"Write back passwords with Microsoft Entra Cloud Sync\")";

impl Diagnose for SyncError {
    fn code(&self) -> &'static str {
        match self {
            SyncError::NoPowerShell { .. } => "SYNC-NO-POWERSHELL",
            SyncError::NoAdSync { .. } => "SYNC-NO-ADSYNC",
            SyncError::TooOld { .. } => "SYNC-TOO-OLD",
            SyncError::Staging => "SYNC-STAGING",
            SyncError::NeedsSignIn { .. } => "SYNC-NEEDS-SIGN-IN",
            SyncError::NoCloudSync { .. } => "SYNC-NO-CLOUDSYNC",
            SyncError::NeedsCredential => "SYNC-NEEDS-CREDENTIAL",
            SyncError::CredentialRefused { .. } => "SYNC-CREDENTIAL-REFUSED",
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
            SyncError::Staging => "Run writeback-wizard on the active Entra Connect server (or take this one out of staging mode in the Entra Connect wizard first).".into(),
            SyncError::NeedsSignIn { .. } => format!("This version of the sync engine wants an administrator to sign in interactively for this change: turn writeback on or off in the Entra Connect wizard (Configure > Customize synchronization options > Optional features > Password writeback), then run `writeback-wizard status`; {PORTAL}"),
            SyncError::NoCloudSync { .. } => "Run writeback-wizard on a server where the Microsoft Entra provisioning agent is installed, or choose --sync-engine adsync on an Entra Connect server.".into(),
            SyncError::NeedsCredential => "Give a Global Administrator's or Hybrid Identity Administrator's user name and password: in the wizard on Ready to configure; on the command line with --cloudsync-admin NAME@DOMAIN and the password in WRITEBACK_CLOUDSYNC_PASSWORD. It is used for this switch only and never stored.".into(),
            SyncError::CredentialRefused { .. } => format!("Check the user name and password; an account that must use MFA cannot be used here (the cmdlet takes a user name and password only): {PORTAL}"),
            SyncError::NoConnector => "Finish Entra Connect's own setup (it creates the Entra ID connector) first.".into(),
            SyncError::Command { .. } => {
                "Read PowerShell's message above; run the wizard elevated, as a member of ADSyncAdmins, while no other Entra Connect wizard is open.".into()
            }
            SyncError::Output { .. } => "Report this with the message above.".into(),
            SyncError::NoOutput { .. } => "Run writeback-wizard on the Microsoft Entra Connect server itself, elevated, where Windows PowerShell 5.1 and the ADSync module are installed; nothing was changed in the sync engine.".into(),
            SyncError::Timeout { .. } => "The sync engine may be busy (a sync cycle, or another Entra Connect wizard open): wait and run again, or give PowerShell longer with --sync-engine-timeout SECONDS (setting sync_engine_timeout). A switch cut off may have been made: run `status` to see.".into(),
            SyncError::Lab { status: 401 | 403, .. } => "Sign in as a Global Administrator or Hybrid Identity Administrator.".into(),
            SyncError::Lab { .. } | SyncError::Unavailable { .. } => "Check that the lab tenant simulator runs (--lab-url).".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            SyncError::TooOld { .. }
            | SyncError::Staging
            | SyncError::NoCloudSync { .. }
            | SyncError::NeedsCredential
            | SyncError::NoAdSync { .. }
            | SyncError::NoPowerShell { .. }
            | SyncError::NoConnector
            | SyncError::NoOutput { .. } => Exit::No,
            _ => Exit::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_is_reached_on_loopback_only() {
        for ok in ["http://127.0.0.1:8080", "http://127.0.0.9/x", "http://[::1]:3000/", "https://localhost:1"] {
            assert!(is_loopback_url(ok), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:80",
            "http://lab.example.com",
            "http://127.0.0.1@evil.example",
            "ftp://127.0.0.1",
            "http://[2001:db8::1]:80",
            "127.0.0.1:80",
        ] {
            assert!(!is_loopback_url(bad), "{bad}");
        }
    }

    #[test]
    fn a_cloud_sync_agent_older_than_microsofts_minimum_refuses_an_enable() {
        let state = |v: &str| EngineState {
            flavour: SyncEngineKind::Cloudsync,
            backend: SyncEngineKind::Cloudsync,
            installed_version: Some(v.into()),
            ..EngineState::default()
        };
        let old = state("1.1.900.0").enable_blockers();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].code, "SYNC-AGENT-TOO-OLD");
        assert!(old[0].check.contains("1.1.977.0") && old[0].check.contains("1.1.900.0"), "{}", old[0].check);
        assert!(state("1.1.977.0").enable_blockers().is_empty() && state("1.2.10.0").enable_blockers().is_empty());
    }
}
