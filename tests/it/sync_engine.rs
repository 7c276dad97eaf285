//! The sync-engine backends: `lab` against the simulator; `adsync` against a stand-in PowerShell
//! (a script that plays the ADSync cmdlets), since Windows cannot run here.

use std::os::unix::fs::PermissionsExt;

use writeback_base::secrets::Secret;
use writeback_sync::adsync::AdSync;
use writeback_sync::cloudsync::{CloudSync, Credential};
use writeback_sync::lab::LabEngine;
use writeback_sync::{SyncEngine, SyncError};

use crate::tenant::{HIA, PLAIN, Sim};

#[tokio::test]
async fn the_lab_engine_switches_and_syncs_for_an_administrator_only() {
    let sim = Sim::hybrid().await;
    let engine = LabEngine::new(sim.running.url(), Secret::new(sim.access(HIA).await)).unwrap();
    let s = engine.state().await.unwrap();
    assert!(!s.writeback_enabled && s.last_sync_cycle.is_none());
    engine.set_writeback(true).await.unwrap();
    assert!(engine.state().await.unwrap().writeback_enabled);
    assert!(sim.running.sync_engine_writeback());
    engine.start_sync_cycle().await.unwrap();
    assert!(engine.state().await.unwrap().last_sync_cycle.is_some());
    let nobody = LabEngine::new(sim.running.url(), Secret::new(sim.access(PLAIN).await)).unwrap();
    assert!(matches!(nobody.set_writeback(false).await.unwrap_err(), SyncError::Lab { status: 403, .. }));
    assert!(sim.running.sync_engine_writeback(), "unchanged");
}

/// A stand-in for powershell.exe: checks its arguments, logs them, plays the cmdlets from files.
fn stand_in(dir: &std::path::Path, version: &str) -> std::path::PathBuf {
    let script = format!(
        r#"#!/bin/sh
d="{dir}"
[ "$1 $2 $3 $4 $5" = "-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand" ] || {{ echo "bad arguments: $*" >&2; exit 9; }}
cmd=$(printf %s "$6" | base64 -d | iconv -f UTF-16LE -t UTF-8)
echo "$cmd" >> "$d/calls.log"
env | grep '^WRITEBACK_' >> "$d/env.log"
if [ -f "$d/silent" ]; then exit 0; fi
if [ -f "$d/slow" ]; then echo $$ > "$d/slow.pid"; exec sleep 30; fi
if [ -f "$d/fail" ]; then cat "$d/fail" >&2; exit 1; fi
case "$cmd" in
  *Get-ADSyncAADPasswordResetConfiguration*)
    enabled=false; [ -f "$d/enabled" ] && enabled=true
    staging=false; [ -f "$d/staging" ] && staging=true
    installed="{version}"; [ -f "$d/installed" ] && installed=$(cat "$d/installed")
    echo "WARNING: some chatter before the JSON"
    printf '{{"connector":"contoso.onmicrosoft.com - AAD","enabled":%s,"configurationVersion":"{version}","installedVersion":"%s","syncCycleEnabled":true,"stagingModeEnabled":%s,"schedulerSuspended":false,"nextSyncCycle":"11/26/2026 13:30:00","running":"","lastRun":"Delta Import success 11/26/2026 13:00:00","adConnectors":{{"name":"lab.example.test","user":"MSOL_0123456789ab","domain":"lab.example.test"}}}}\n' "$enabled" "$installed" "$staging" ;;
  *'-Connector $aad.Name -Enable $true'*) touch "$d/enabled"; echo '{{"ok":true}}' ;;
  *'-Connector $aad.Name -Enable $false'*) rm -f "$d/enabled"; echo '{{"ok":true}}' ;;
  *'Start-ADSyncSyncCycle -PolicyType Delta'*)
    if [ -f "$d/busy" ]; then echo "Start-ADSyncSyncCycle : System.InvalidOperationException: Connector: Sync is already running" >&2; exit 1; fi
    echo '{{"Result":"Success"}}' ;;
  *"Name='AADConnectProvisioningAgent'"*)
    if [ -f "$d/no-agent" ]; then echo "the Microsoft Entra provisioning agent (service AADConnectProvisioningAgent, CloudSync) was not found" >&2; exit 1; fi
    printf '{{"account":"LAB\\\\provAgentgMSA$","state":"Running","version":"1.1.1586.0"}}\n' ;;
  *'Set-AADCloudSyncPasswordWritebackConfiguration -Enable'*)
    read user; read password
    echo "$user" > "$d/cloudsync.user"
    case "$password" in
      mfa-only) echo "Set-AADCloudSyncPasswordWritebackConfiguration : AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication" >&2; exit 1 ;;
      "") echo "no password on stdin" >&2; exit 7 ;;
    esac
    printf %s "$password" > "$d/cloudsync.password"
    echo '{{"ok":true}}' ;;
  *) echo "unexpected script: $cmd" >&2; exit 8 ;;
esac
"#,
        dir = dir.display()
    );
    let path = dir.join("powershell");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn adsync_builds_the_cmdlets_parses_their_output_and_maps_errors() {
    let dir = tempfile::tempdir().unwrap();
    let engine = AdSync::with_program(stand_in(dir.path(), "2.5.79.0"));
    let s = engine.state().await.unwrap();
    assert_eq!((s.backend, s.writeback_enabled), (writeback_sync::SyncEngineKind::Adsync, false));
    assert_eq!(s.version.as_deref(), Some("2.5.79.0"));
    assert_eq!(s.installed_version.as_deref(), Some("2.5.79.0"));
    assert_eq!(s.connector.as_deref(), Some("contoso.onmicrosoft.com - AAD"));
    assert_eq!((s.staging_mode, s.sync_cycle_enabled, s.scheduler_suspended), (Some(false), Some(true), Some(false)));
    assert_eq!(s.last_sync_cycle.as_deref(), Some("Delta Import success 11/26/2026 13:00:00"));
    assert_eq!(s.run_in_progress, None);
    assert_eq!(s.ad_connectors.len(), 1);
    assert_eq!(
        (s.ad_connectors[0].user.as_str(), s.ad_connectors[0].domain.as_str()),
        ("MSOL_0123456789ab", "lab.example.test")
    );
    engine.set_writeback(true).await.unwrap();
    assert!(engine.state().await.unwrap().writeback_enabled);
    engine.set_writeback(false).await.unwrap();
    assert!(!engine.state().await.unwrap().writeback_enabled);
    engine.start_sync_cycle().await.unwrap();
    std::fs::write(dir.path().join("busy"), "").unwrap();
    engine.start_sync_cycle().await.unwrap();
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert!(calls.contains("Import-Module ADSync"));

    // Errors, each mapped.
    std::fs::write(
        dir.path().join("fail"),
        "Import-Module : The specified module 'ADSync' was not loaded because no valid module file was found",
    )
    .unwrap();
    assert!(matches!(engine.state().await.unwrap_err(), SyncError::NoAdSync { .. }));
    std::fs::write(dir.path().join("fail"), "Exception: NO_AAD_CONNECTOR").unwrap();
    assert!(matches!(engine.state().await.unwrap_err(), SyncError::NoConnector));
    std::fs::write(dir.path().join("fail"), "Set-ADSyncAADPasswordResetConfiguration : Access is denied").unwrap();
    assert!(matches!(engine.set_writeback(true).await.unwrap_err(), SyncError::Command { .. }));
    std::fs::remove_file(dir.path().join("fail")).unwrap();

    // An interactive sign-in asked for (newer builds' cloud-changing cmdlets) is named as such.
    std::fs::write(
        dir.path().join("fail"),
        "Set-ADSyncAADPasswordResetConfiguration : PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
    )
    .unwrap();
    let e = engine.set_writeback(false).await.unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::code(&e), "SYNC-NEEDS-SIGN-IN", "{e}");
    assert!(writeback_base::diagnose::Diagnose::remedy(&e).contains("Optional features"));
    std::fs::remove_file(dir.path().join("fail")).unwrap();

    // Too old: an enable is refused before anything is switched; a disable and the state are not.
    let old_dir = tempfile::tempdir().unwrap();
    let old = AdSync::with_program(stand_in(old_dir.path(), "2.4.131.0"));
    match old.set_writeback(true).await.unwrap_err() {
        e @ SyncError::TooOld { .. } => {
            assert!(e.to_string().contains("2.4.131.0") && e.to_string().contains("2.5.79.0"));
            assert!(writeback_base::diagnose::Diagnose::remedy(&e).contains("Upgrade"));
        }
        other => panic!("{other}"),
    }
    assert!(!old_dir.path().join("enabled").exists());
    let s = old.state().await.unwrap();
    assert_eq!(s.enable_blockers().iter().map(|b| b.code).collect::<Vec<_>>(), ["SYNC-TOO-OLD"]);
    std::fs::write(old_dir.path().join("enabled"), "").unwrap();
    old.set_writeback(false).await.unwrap();
    assert!(!old_dir.path().join("enabled").exists(), "a disable goes through on an old engine");

    // Staging mode: an enable is refused, a disable is not; a half-finished upgrade is a warning.
    std::fs::write(dir.path().join("staging"), "").unwrap();
    std::fs::write(dir.path().join("installed"), "2.5.190.0").unwrap();
    assert!(matches!(engine.set_writeback(true).await.unwrap_err(), SyncError::Staging));
    assert!(!dir.path().join("enabled").exists());
    engine.set_writeback(false).await.unwrap();
    let mut s = engine.state().await.unwrap();
    assert_eq!(s.staging_mode, Some(true));
    s.assess(std::time::SystemTime::now());
    assert!(s.warnings.iter().any(|w| w.to_string().contains("staging mode")), "{:?}", s.warnings);
    assert!(s.warnings.iter().any(|w| w.to_string().contains("did not finish")), "{:?}", s.warnings);
    std::fs::remove_file(dir.path().join("staging")).unwrap();
    std::fs::remove_file(dir.path().join("installed")).unwrap();

    // No PowerShell at all.
    let none = AdSync::with_program("/nonexistent/powershell");
    assert!(matches!(none.state().await.unwrap_err(), SyncError::NoPowerShell { .. }));

    // A PowerShell that ends well and prints nothing (Wine's stub does) is an error, never success.
    std::fs::write(dir.path().join("silent"), "").unwrap();
    let e = engine.set_writeback(true).await.unwrap_err();
    assert!(matches!(e, SyncError::NoOutput { .. }), "{e}");
    assert_eq!(writeback_base::diagnose::Diagnose::code(&e), "SYNC-NO-OUTPUT");
    std::fs::remove_file(dir.path().join("silent")).unwrap();
    // One that hangs is stopped at the timeout, and its process goes with it.
    std::fs::write(dir.path().join("slow"), "").unwrap();
    let hasty = AdSync::with_program(dir.path().join("powershell")).with_timeout(std::time::Duration::from_secs(1));
    let e = hasty.state().await.unwrap_err();
    assert!(matches!(e, SyncError::Timeout { seconds: 1, .. }), "{e}");
    let pid = std::fs::read_to_string(dir.path().join("slow.pid")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let running = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
    };
    while running(&pid) {
        assert!(std::time::Instant::now() < deadline, "the timed-out PowerShell {pid} still runs");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // No child ever saw a WRITEBACK_* variable.
    let seen = std::fs::read_to_string(dir.path().join("env.log")).unwrap_or_default();
    assert!(seen.is_empty(), "{seen}");
}

#[test]
fn powershell_gets_none_of_the_writeback_variables() {
    // The CLI, with a password in WRITEBACK_AD_PASSWORD, runs the adsync backend: the stand-in
    // PowerShell found on PATH records every WRITEBACK_* variable it was given.
    let lab = crate::support::LabDc::up();
    let dir = tempfile::tempdir().unwrap();
    stand_in(dir.path(), "2.5.79.0");
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let home = tempfile::tempdir().unwrap();
    let out = crate::support::bin(home.path())
        .args(["plan", "--disable", "--json", "--sync-engine", "adsync"])
        .args(["--ad-url", &lab.field("ldap_url"), "--ad-user", &lab.field("admin_user")])
        .args(["--ad-ca-file", &lab.field("ca_file"), "--ad-tls-name", &lab.field("tls_name")])
        .args(["--connector-account", &lab.field("connector_account")])
        .env("PATH", path)
        .env("WRITEBACK_AD_PASSWORD", lab.password("admin_password_file").expose())
        .env("WRITEBACK_CONNECTOR_PASSWORD", "not-for-children")
        .output()
        .unwrap();
    assert_eq!(crate::support::code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert!(calls.contains("Get-ADSyncAADPasswordResetConfiguration"), "PowerShell was asked: {calls}");
    let seen = std::fs::read_to_string(dir.path().join("env.log")).unwrap_or_default();
    assert!(seen.is_empty(), "a child saw: {seen}");
}

#[tokio::test]
async fn cloudsync_reads_the_agent_account_and_sends_the_credential_on_stdin_only() {
    let dir = tempfile::tempdir().unwrap();
    let program = stand_in(dir.path(), "2.5.79.0");
    let bare = CloudSync::with_program(&program);
    // No agent on this server: said so, with where to run instead.
    std::fs::write(dir.path().join("no-agent"), "").unwrap();
    let e = bare.state().await.unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::code(&e), "SYNC-NO-CLOUDSYNC", "{e}");
    assert!(writeback_base::diagnose::Diagnose::remedy(&e).contains("--sync-engine adsync"), "{e}");
    std::fs::remove_file(dir.path().join("no-agent")).unwrap();
    let s = bare.state().await.unwrap();
    assert_eq!(
        (s.backend, s.flavour, s.writeback_readable),
        (writeback_sync::SyncEngineKind::Cloudsync, writeback_sync::SyncEngineKind::Cloudsync, false)
    );
    assert_eq!(s.agent_account.as_deref(), Some("LAB\\provAgentgMSA$"));
    assert_eq!(s.installed_version.as_deref(), Some("1.1.1586.0"));
    assert!(s.enable_blockers().is_empty(), "no Connect version rule for Cloud Sync");
    // Without a credential the switch is not tried.
    let e = bare.set_writeback(true).await.unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::code(&e), "SYNC-NEEDS-CREDENTIAL");
    assert!(!std::fs::read_to_string(dir.path().join("calls.log")).unwrap().contains("Set-AADCloudSync"));
    let password = "Cl0ud-Sync-Secret!";
    let with = |pw: &str| {
        CloudSync::with_program(&program)
            .with_credential(Some(Credential { user: "ga@lab.onmicrosoft.com".into(), password: Secret::new(pw) }))
    };
    with(password).set_writeback(true).await.unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("cloudsync.user")).unwrap().trim(), "ga@lab.onmicrosoft.com");
    assert_eq!(std::fs::read_to_string(dir.path().join("cloudsync.password")).unwrap(), password);
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert!(!calls.contains(password), "the password never reaches the command line");
    assert!(calls.contains("Set-AADCloudSyncPasswordWritebackConfiguration -Enable $true -Credential $credential"));
    // An account that must use MFA is refused, and the remedy names the portal's switch.
    let e = with("mfa-only").set_writeback(false).await.unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::code(&e), "SYNC-CREDENTIAL-REFUSED", "{e}");
    let remedy = writeback_base::diagnose::Diagnose::remedy(&e);
    assert!(
        remedy.contains("Write back passwords with Microsoft Entra Cloud Sync") && remedy.contains("MFA"),
        "{remedy}"
    );
    let seen = std::fs::read_to_string(dir.path().join("env.log")).unwrap_or_default();
    assert!(seen.is_empty(), "{seen}");
}
