//! The adsync backend: Microsoft Entra Connect's ADSync PowerShell module on the Windows sync
//! server. Each call runs one short script in Windows PowerShell, started by absolute path with
//! `-NoProfile -NonInteractive -EncodedCommand` (the script never passes through a command line's
//! quoting), within a timeout, killed when dropped or cancelled, with no `WRITEBACK_*` variable in
//! its environment. It reads JSON from `ConvertTo-Json` and maps PowerShell's errors to remedies;
//! empty output is an error, never success (Wine's powershell.exe is a stub that prints nothing
//! and exits 0).
//!
//! Not run against a real Entra Connect here (this project's machines cannot run Windows): the
//! tests parse every script with a PowerShell grammar, check each cmdlet call against Microsoft's
//! documented parameters, and run the output parsing against a stand-in `powershell` script that
//! prints only documented shapes.

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

/// The script preamble: stop on any error, load the module, find the Entra ID connector by the
/// list name Microsoft's documentation filters on.
const PREAMBLE: &str = "$ErrorActionPreference = 'Stop'\n\
Import-Module ADSync\n\
$connectors = @(Get-ADSyncConnector)\n\
$aad = $connectors | Where-Object { $_.ListName -eq 'Windows Azure Active Directory (Microsoft)' } | Select-Object -First 1\n\
if (-not $aad) { throw 'NO_AAD_CONNECTOR' }\n";

impl AdSync {
    /// Uses `program` as PowerShell (tests point it at a stand-in).
    pub fn with_program(program: impl Into<PathBuf>) -> AdSync {
        AdSync { program: program.into(), timeout: DEFAULT_TIMEOUT }
    }

    /// Gives each PowerShell call `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> AdSync {
        AdSync { timeout, ..self }
    }

    /// The script of the state query (public for tests and docs). Each value is read from a
    /// documented cmdlet or property (docs/sync-engines.md); a property a build lacks reads as
    /// empty, never as an error.
    pub fn state_script() -> String {
        format!(
            "{PREAMBLE}\
$reset = Get-ADSyncAADPasswordResetConfiguration -Connector $aad.Name\n\
$scheduler = Get-ADSyncScheduler\n\
$running = @(Get-ADSyncConnectorRunStatus)\n\
$configured = (Get-ADSyncGlobalSettings).Parameters | Where-Object {{ $_.Name -eq 'Microsoft.Synchronize.ServerConfigurationVersion' }} | Select-Object -First 1\n\
$installed = (Get-Item (Join-Path $env:ProgramFiles 'Microsoft Azure AD Sync\\Bin\\miiserver.exe')).VersionInfo.ProductVersion\n\
$last = Get-ADSyncRunProfileResult -ConnectorId $aad.Identifier -NumberRequested 1 | Select-Object -First 1\n\
$ad = @($connectors | Where-Object {{ $_.ConnectorTypeName -eq 'AD' }} | ForEach-Object {{\n\
  [pscustomobject]@{{\n\
    name = [string]$_.Name\n\
    user = [string]($_.ConnectivityParameters | Where-Object {{ $_.Name -eq 'forest-login-user' }}).Value\n\
    domain = [string]($_.ConnectivityParameters | Where-Object {{ $_.Name -eq 'forest-login-domain' }}).Value\n\
  }}\n\
}})\n\
[pscustomobject]@{{\n\
  connector = [string]$aad.Name\n\
  enabled = [bool]$reset.Enabled\n\
  configurationVersion = [string]$configured.Value\n\
  installedVersion = [string]$installed\n\
  syncCycleEnabled = [bool]$scheduler.SyncCycleEnabled\n\
  stagingModeEnabled = [bool]$scheduler.StagingModeEnabled\n\
  schedulerSuspended = [bool]$scheduler.SchedulerSuspended\n\
  nextSyncCycle = [string]$scheduler.NextSyncCycleStartTimeInUTC\n\
  running = [string]($running -join ', ')\n\
  lastRun = [string](@($last.RunProfileName, $last.Result, $last.EndDate) -join ' ')\n\
  adConnectors = $ad\n\
}} | ConvertTo-Json -Compress -Depth 4\n"
        )
    }

    /// The script that switches writeback.
    pub fn set_script(enabled: bool) -> String {
        format!(
            "{PREAMBLE}Set-ADSyncAADPasswordResetConfiguration -Connector $aad.Name -Enable ${enabled}\n'{{\"ok\":true}}'\n"
        )
    }

    /// The script that reads the sync server's writeback events: PasswordResetService's and
    /// ADSync's, from the Application log, newest 500, each as Get-WinEvent's EventLogRecord gives
    /// it (the time in UTC, RFC 3339). None found is an empty list, not an error.
    pub fn events_script() -> String {
        "$ErrorActionPreference = 'Stop'\n\
$events = @(Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = 'PasswordResetService', 'ADSync' } -MaxEvents 500 -ErrorAction SilentlyContinue)\n\
$list = @($events | ForEach-Object { [pscustomobject]@{ Id = $_.Id; ProviderName = $_.ProviderName; TimeCreated = $_.TimeCreated.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'); LevelDisplayName = $_.LevelDisplayName; Message = $_.Message } })\n\
ConvertTo-Json -InputObject $list -Compress -Depth 3\n"
            .into()
    }

    /// The sync server's writeback events ([`Self::events_script`]).
    pub async fn events(&self) -> Result<Vec<super::WinEvent>, SyncError> {
        let doc = self.run("Get-WinEvent", &Self::events_script()).await?;
        super::WinEvent::parse_list(&doc).map_err(|detail| SyncError::Output { command: "Get-WinEvent", detail })
    }

    /// The script that starts a delta sync.
    pub fn sync_script() -> String {
        "$ErrorActionPreference = 'Stop'\nImport-Module ADSync\nStart-ADSyncSyncCycle -PolicyType Delta | ConvertTo-Json -Compress\n".into()
    }

    /// Reads the JSON of [`Self::state_script`] (public for tests).
    pub fn parse_state(v: &Value) -> EngineState {
        let text = |k: &str| v[k].as_str().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let ad_connectors = match &v["adConnectors"] {
            // ConvertTo-Json writes a one-element array as the element itself in PowerShell 5.1.
            Value::Object(_) => vec![v["adConnectors"].clone()],
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        }
        .into_iter()
        .filter_map(|c| serde_json::from_value::<super::AdConnector>(c).ok())
        .collect();
        EngineState {
            backend: crate::SyncEngineKind::Adsync,
            flavour: crate::SyncEngineKind::Adsync,
            writeback_enabled: v["enabled"].as_bool().unwrap_or(false),
            writeback_readable: true,
            last_sync_cycle: text("lastRun"),
            version: text("configurationVersion"),
            installed_version: text("installedVersion"),
            connector: text("connector"),
            staging_mode: v["stagingModeEnabled"].as_bool(),
            sync_cycle_enabled: v["syncCycleEnabled"].as_bool(),
            scheduler_suspended: v["schedulerSuspended"].as_bool(),
            next_sync_cycle: text("nextSyncCycle"),
            run_in_progress: text("running"),
            ad_connectors,
            agent_account: None,
            warnings: Vec::new(),
            switch: crate::SwitchCalls {
                on: "Set-ADSyncAADPasswordResetConfiguration -Connector <Entra ID connector> -Enable $true".into(),
                off: "Set-ADSyncAADPasswordResetConfiguration -Connector <Entra ID connector> -Enable $false".into(),
            },
        }
    }

    async fn run(&self, command: &'static str, script: &str) -> Result<Value, SyncError> {
        powershell(&self.program, self.timeout, command, script, None).await
    }
}

/// Runs `script` in PowerShell (by absolute path, `-NoProfile -NonInteractive -EncodedCommand`,
/// within `timeout`, killed when dropped, no `WRITEBACK_*` variable in its environment), writes
/// `input` (a secret, never on the command line) to its stdin, and reads the last JSON line it
/// prints. PowerShell's errors are mapped to remedies; empty output is an error.
pub(super) async fn powershell(
    program: &std::path::Path,
    timeout: Duration,
    command: &'static str,
    script: &str,
    input: Option<&[u8]>,
) -> Result<Value, SyncError> {
    use tokio::io::AsyncWriteExt as _;
    let mut cmd = std::process::Command::new(program);
    cmd.args(["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"])
        .arg(encode_command(script))
        .stdin(if input.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    crate::platform::scrub_child_env(&mut cmd);
    let mut cmd = tokio::process::Command::from(cmd);
    // Dropped on timeout or cancel: the child goes with it.
    cmd.kill_on_drop(true);
    let shown = program.display().to_string();
    let run = async {
        let mut child = cmd.spawn()?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(bytes).await?;
            stdin.shutdown().await?;
        }
        child.wait_with_output().await
    };
    let out = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| SyncError::Timeout { command, seconds: timeout.as_secs() })?
        .map_err(|e| SyncError::NoPowerShell { program: shown.clone(), detail: e.to_string() })?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if out.status.success() && stdout.is_empty() {
        return Err(SyncError::NoOutput { command, program: shown });
    }
    if !out.status.success() {
        let detail = if stderr.is_empty() { stdout.clone() } else { stderr };
        return Err(map_failure(command, &detail));
    }
    let json_line =
        stdout.lines().rev().find(|l| l.trim_start().starts_with('{') || l.trim_start().starts_with('[')).unwrap_or("");
    serde_json::from_str(json_line)
        .map_err(|e| SyncError::Output { command, detail: format!("{e}: {}", first_line(&stdout)) })
}

/// PowerShell's error text, as the error it means.
fn map_failure(command: &'static str, detail: &str) -> SyncError {
    let line = first_line(detail);
    if detail.contains("NO_AAD_CONNECTOR") {
        return SyncError::NoConnector;
    }
    // -NonInteractive turns a prompt (Get-Credential, a sign-in window, a mandatory parameter
    // such as -AADUsername on newer builds) into this error instead of a hang.
    if detail.contains("NonInteractive") || detail.contains("AADUsername") {
        return SyncError::NeedsSignIn { command, detail: line };
    }
    let missing =
        detail.contains("not loaded") || detail.contains("was not found") || detail.contains("not recognized");
    if missing && detail.contains("CloudSync") {
        return SyncError::NoCloudSync { detail: line };
    }
    if missing && detail.contains("ADSync") {
        return SyncError::NoAdSync { detail: line };
    }
    if detail.contains("AADSTS") {
        return SyncError::CredentialRefused { detail: line };
    }
    SyncError::Command { command, detail: line }
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
        Ok(Self::parse_state(&v))
    }
    async fn set_writeback(&self, enabled: bool) -> Result<(), SyncError> {
        // An enable is refused on a staging server or an old engine (the plan says so first); a
        // disable always goes through.
        if enabled {
            let state = self.state().await?;
            if state.staging_mode == Some(true) {
                return Err(SyncError::Staging);
            }
            if let Some(v) = state.version.as_deref().or(state.installed_version.as_deref())
                && !version_at_least(v, MINIMUM_VERSION)
            {
                return Err(SyncError::TooOld { found: v.to_string(), minimum: MINIMUM_VERSION });
            }
        }
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
        assert!(AdSync::state_script().contains("Get-ADSyncAADPasswordResetConfiguration -Connector $aad.Name"));
        assert!(
            AdSync::set_script(true)
                .contains("Set-ADSyncAADPasswordResetConfiguration -Connector $aad.Name -Enable $true")
        );
        assert!(AdSync::set_script(false).contains("-Enable $false"));
        assert!(AdSync::sync_script().contains("Start-ADSyncSyncCycle -PolicyType Delta"));
    }
}
