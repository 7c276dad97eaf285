//! The adsync backend: Microsoft Entra Connect's ADSync PowerShell module on the Windows sync
//! server. Each call runs one short script in Windows PowerShell, started by absolute path with
//! `-NoProfile -NonInteractive -EncodedCommand` (the script never passes through a command line's
//! quoting), within a timeout, killed when dropped or cancelled, with no `WRITEBACK_*` variable in
//! its environment. It reads JSON from `ConvertTo-Json` and maps PowerShell's errors to remedies;
//! empty output is an error, never success (Wine's powershell.exe is a stub that prints nothing
//! and exits 0).
//!
//! Not run against a real Entra Connect here (this project's machines cannot run Windows): the
//! tests run the command building and output parsing against a stand-in `powershell` script.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::{EngineState, SyncEngine, SyncError};

/// The oldest Entra Connect that still works (older versions stopped on 30 September 2026).
pub const MINIMUM_VERSION: &str = "2.5.79.0";

/// How long one PowerShell call may take unless told otherwise (`--sync-engine-timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the ADSync cmdlets through PowerShell.
#[derive(Debug, Clone)]
pub struct AdSync {
    program: PathBuf,
    timeout: Duration,
}

impl Default for AdSync {
    fn default() -> Self {
        AdSync { program: crate::platform::powershell(), timeout: DEFAULT_TIMEOUT }
    }
}

/// A script as `-EncodedCommand` takes it: base64 of its UTF-16LE text.
pub fn encode_command(script: &str) -> String {
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(utf16)
}

/// Compares dotted versions numerically (`2.5.79.0` < `2.10.0.0`).
pub fn version_at_least(found: &str, minimum: &str) -> bool {
    let parse = |v: &str| v.split('.').map(|p| p.trim().parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    let (a, b) = (parse(found), parse(minimum));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        if x != y {
            return x > y;
        }
    }
    true
}

/// The script preamble: stop on any error, load the module, find the Entra ID connector.
const PREAMBLE: &str = "$ErrorActionPreference = 'Stop'; Import-Module ADSync; \
$c = Get-ADSyncConnector | Where-Object { $_.SubType -eq 'Windows Azure Active Directory (Microsoft)' } | Select-Object -First 1; \
if (-not $c) { throw 'NO_AAD_CONNECTOR' }; ";

impl AdSync {
    /// Uses `program` as PowerShell (tests point it at a stand-in).
    pub fn with_program(program: impl Into<PathBuf>) -> AdSync {
        AdSync { program: program.into(), timeout: DEFAULT_TIMEOUT }
    }

    /// Gives each PowerShell call `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> AdSync {
        AdSync { timeout, ..self }
    }

    /// The script of the state query (public for tests and docs).
    pub fn state_script() -> String {
        format!(
            "{PREAMBLE}$r = Get-ADSyncAADPasswordResetConfiguration -Connector $c.Name; \
$v = (Get-Item (Join-Path $env:ProgramFiles 'Microsoft Azure AD Sync\\Bin\\miiserver.exe')).VersionInfo.ProductVersion; \
$h = Get-ADSyncScheduler; \
[pscustomobject]@{{ connector = $c.Name; enabled = [bool]$r.Enabled; version = \"$v\"; lastSync = \"$($h.LastSyncCycleResult) $($h.NextSyncCycleStartTimeInUTC)\" }} | ConvertTo-Json -Compress"
        )
    }

    /// The script that switches writeback.
    pub fn set_script(enabled: bool) -> String {
        format!(
            "{PREAMBLE}Set-ADSyncAADPasswordResetConfiguration -Connector $c.Name -Enable ${enabled}; '{{\"ok\":true}}'"
        )
    }

    /// The script that starts a delta sync.
    pub fn sync_script() -> String {
        "$ErrorActionPreference = 'Stop'; Import-Module ADSync; Start-ADSyncSyncCycle -PolicyType Delta | ConvertTo-Json -Compress".into()
    }

    async fn run(&self, command: &'static str, script: &str) -> Result<Value, SyncError> {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"])
            .arg(encode_command(script))
            .stdin(std::process::Stdio::null());
        crate::platform::scrub_child_env(&mut cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        // Dropped on timeout or cancel: the child goes with it.
        cmd.kill_on_drop(true);
        let program = self.program.display().to_string();
        let out = tokio::time::timeout(self.timeout, cmd.output())
            .await
            .map_err(|_| SyncError::Timeout { command, seconds: self.timeout.as_secs() })?
            .map_err(|e| SyncError::NoPowerShell { program: program.clone(), detail: e.to_string() })?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if out.status.success() && stdout.is_empty() {
            return Err(SyncError::NoOutput { command, program });
        }
        if !out.status.success() {
            let detail = if stderr.is_empty() { stdout.clone() } else { stderr };
            if detail.contains("NO_AAD_CONNECTOR") {
                return Err(SyncError::NoConnector);
            }
            if detail.contains("ADSync")
                && (detail.contains("not loaded")
                    || detail.contains("was not found")
                    || detail.contains("not recognized"))
            {
                return Err(SyncError::NoAdSync { detail: first_line(&detail) });
            }
            return Err(SyncError::Command { command, detail: first_line(&detail) });
        }
        let json_line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{') || l.trim_start().starts_with('['))
            .unwrap_or("");
        serde_json::from_str(json_line)
            .map_err(|e| SyncError::Output { command, detail: format!("{e}: {}", first_line(&stdout)) })
    }
}

fn first_line(text: &str) -> String {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().chars().take(300).collect()
}

impl SyncEngine for AdSync {
    fn name(&self) -> &'static str {
        "adsync"
    }
    async fn state(&self) -> Result<EngineState, SyncError> {
        let v = self.run("Get-ADSyncAADPasswordResetConfiguration", &Self::state_script()).await?;
        let version = v["version"].as_str().unwrap_or("").to_string();
        if !version_at_least(&version, MINIMUM_VERSION) {
            return Err(SyncError::TooOld { found: version, minimum: MINIMUM_VERSION });
        }
        Ok(EngineState {
            backend: "adsync",
            writeback_enabled: v["enabled"].as_bool().unwrap_or(false),
            last_sync_cycle: v["lastSync"].as_str().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            version: Some(version),
            connector: v["connector"].as_str().map(String::from),
            switch: crate::sync_engine::SwitchCalls {
                on: "Set-ADSyncAADPasswordResetConfiguration -Connector <Entra ID connector> -Enable $true".into(),
                off: "Set-ADSyncAADPasswordResetConfiguration -Connector <Entra ID connector> -Enable $false".into(),
            },
        })
    }
    async fn set_writeback(&self, enabled: bool) -> Result<(), SyncError> {
        // Check the version first: an old engine must not be half-configured.
        self.state().await?;
        self.run("Set-ADSyncAADPasswordResetConfiguration", &Self::set_script(enabled)).await.map(|_| ())
    }
    async fn start_sync_cycle(&self) -> Result<(), SyncError> {
        match self.run("Start-ADSyncSyncCycle", &Self::sync_script()).await {
            Ok(_) => Ok(()),
            // A cycle already under way will pick the change up: that is what was wanted.
            Err(SyncError::Command { detail, .. }) if detail.contains("already running") || detail.contains("busy") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_at_least("2.5.79.0", MINIMUM_VERSION));
        assert!(version_at_least("2.10.1.0", MINIMUM_VERSION));
        assert!(!version_at_least("2.5.3.0", MINIMUM_VERSION));
        assert!(!version_at_least("1.6.16.0", MINIMUM_VERSION));
        assert!(!version_at_least("", MINIMUM_VERSION));
    }

    #[test]
    fn scripts_name_the_cmdlets() {
        assert!(AdSync::state_script().contains("Get-ADSyncAADPasswordResetConfiguration -Connector $c.Name"));
        assert!(
            AdSync::set_script(true)
                .contains("Set-ADSyncAADPasswordResetConfiguration -Connector $c.Name -Enable $true")
        );
        assert!(AdSync::set_script(false).contains("-Enable $false"));
        assert!(AdSync::sync_script().contains("Start-ADSyncSyncCycle -PolicyType Delta"));
    }
}
