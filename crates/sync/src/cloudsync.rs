//! The cloudsync backend: Microsoft Entra Cloud Sync, through the PowerShell module the
//! provisioning agent installs (Microsoft.CloudSync.Powershell.dll). Writeback is switched with
//! `Set-AADCloudSyncPasswordWritebackConfiguration -Enable $true|$false -Credential …`, which
//! wants the user name and password of a Global Administrator or a Hybrid Identity Administrator
//! (Microsoft's tutorial asks for the first to enable and the second to disable): they are asked
//! for only when a switch is made, written to PowerShell's stdin (never its command line or
//! environment) and never stored.
//! An account that must use MFA cannot sign in this way; the portal's own switch ("Write back
//! passwords with Microsoft Entra Cloud Sync") is the way for it.
//!
//! Microsoft documents no cmdlet that reads the switch, so this backend never claims to know it:
//! `writeback_readable` is false, a plan always includes the switch, and an undo leaves it as set.
//! The agent's account (its gMSA) is read from the agent's Windows service.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::adsync::powershell;
use super::{EngineState, SyncEngine, SyncError};
use crate::secrets::Secret;

/// A Global or Hybrid Identity Administrator's credential for the switch; held for one run,
/// never stored.
#[derive(Debug, Clone)]
pub struct Credential {
    pub user: String,
    pub password: Secret,
}

/// Runs the provisioning agent's cmdlets through PowerShell.
#[derive(Debug, Clone)]
pub struct CloudSync {
    program: PathBuf,
    timeout: Duration,
    credential: Option<Credential>,
}

impl Default for CloudSync {
    fn default() -> Self {
        CloudSync { program: crate::platform::powershell(), timeout: super::adsync::DEFAULT_TIMEOUT, credential: None }
    }
}

/// The oldest provisioning agent Microsoft's Cloud Sync writeback tutorial names (its
/// Prerequisites: "version 1.1.977.0 or later").
pub const MINIMUM_AGENT_VERSION: &str = "1.1.977.0";

/// Where the agent installs its module, under Program Files.
pub const MODULE: &str = crate::platform::CLOUDSYNC_MODULE;

impl CloudSync {
    /// Uses `program` as PowerShell (tests point it at a stand-in).
    pub fn with_program(program: impl Into<PathBuf>) -> CloudSync {
        CloudSync { program: program.into(), ..CloudSync::default() }
    }

    /// Gives each PowerShell call `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> CloudSync {
        CloudSync { timeout, ..self }
    }

    /// Replaces the credential (given in the wizard after the session was opened).
    pub fn set_credential(&mut self, credential: Option<Credential>) {
        self.credential = credential;
    }

    /// The administrator's credential the switch will use.
    pub fn with_credential(self, credential: Option<Credential>) -> CloudSync {
        CloudSync { credential, ..self }
    }

    /// The state query: the agent's service (its account, whether it runs) and version.
    pub fn state_script() -> String {
        "$ErrorActionPreference = 'Stop'\n\
$agent = Get-CimInstance -ClassName Win32_Service -Filter \"Name='AADConnectProvisioningAgent'\"\n\
if (-not $agent) { throw 'the Microsoft Entra provisioning agent (service AADConnectProvisioningAgent, CloudSync) was not found' }\n\
$exe = Join-Path $env:ProgramFiles 'Microsoft Azure AD Connect Provisioning Agent\\AADConnectProvisioningAgent.exe'\n\
[pscustomobject]@{\n\
  account = [string]$agent.StartName\n\
  state = [string]$agent.State\n\
  version = [string](Get-Item $exe).VersionInfo.ProductVersion\n\
} | ConvertTo-Json -Compress\n"
            .into()
    }

    /// The switch. The credential comes on stdin: the user name, then the password, a line each.
    pub fn set_script(enabled: bool) -> String {
        format!(
            "$ErrorActionPreference = 'Stop'\n\
Import-Module (Join-Path $env:ProgramFiles '{MODULE}')\n\
$user = [Console]::In.ReadLine()\n\
$secure = ConvertTo-SecureString -String ([Console]::In.ReadLine()) -AsPlainText -Force\n\
$credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $user, $secure\n\
Set-AADCloudSyncPasswordWritebackConfiguration -Enable ${enabled} -Credential $credential\n\
'{{\"ok\":true}}'\n"
        )
    }

    /// Reads the JSON of [`Self::state_script`] (public for tests).
    pub fn parse_state(v: &Value) -> EngineState {
        let text = |k: &str| v[k].as_str().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let state = text("state");
        EngineState {
            backend: crate::SyncEngineKind::Cloudsync,
            flavour: crate::SyncEngineKind::Cloudsync,
            writeback_enabled: false,
            writeback_readable: false,
            installed_version: text("version"),
            agent_account: text("account"),
            run_in_progress: None,
            warnings: Vec::new(),
            sync_cycle_enabled: state.as_deref().map(|s| s.eq_ignore_ascii_case("Running")),
            switch: switch_calls(),
            ..EngineState::default()
        }
    }
}

/// The switch as the plan shows it.
pub fn switch_calls() -> super::SwitchCalls {
    super::SwitchCalls {
        on: "Set-AADCloudSyncPasswordWritebackConfiguration -Enable $true -Credential <Global or Hybrid Identity Administrator>".into(),
        off: "Set-AADCloudSyncPasswordWritebackConfiguration -Enable $false -Credential <Global or Hybrid Identity Administrator>".into(),
    }
}

impl SyncEngine for CloudSync {
    fn name(&self) -> &'static str {
        "cloudsync"
    }
    async fn state(&self) -> Result<EngineState, SyncError> {
        let v = powershell(&self.program, self.timeout, "Get-CimInstance Win32_Service", &Self::state_script(), None)
            .await
            .map_err(|e| match e {
                SyncError::Command { detail, .. } if detail.contains("AADConnectProvisioningAgent") => {
                    SyncError::NoCloudSync { detail }
                }
                other => other,
            })?;
        Ok(Self::parse_state(&v))
    }
    async fn set_writeback(&self, enabled: bool) -> Result<(), SyncError> {
        let credential = self.credential.as_ref().ok_or(SyncError::NeedsCredential)?;
        let mut input = zeroize::Zeroizing::new(Vec::new());
        input.extend_from_slice(credential.user.as_bytes());
        input.push(b'\n');
        input.extend_from_slice(credential.password.expose().as_bytes());
        input.push(b'\n');
        powershell(
            &self.program,
            self.timeout,
            "Set-AADCloudSyncPasswordWritebackConfiguration",
            &Self::set_script(enabled),
            Some(&input),
        )
        .await
        .map(|_| ())
    }
    async fn start_sync_cycle(&self) -> Result<(), SyncError> {
        // Cloud Sync runs in the cloud on its own schedule; there is no cycle to start here.
        Ok(())
    }
}
