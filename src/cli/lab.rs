//! `lab up|down|status|tenant` and `--lab`: the lab brought up beside the product, and handed to
//! the session as ordinary settings (a loopback DC with its CA, the simulator's URL) with their
//! secrets. A build without the `lab` feature (the Windows release) carries none of it and says
//! so.

use std::path::PathBuf;
use std::sync::Arc;

use super::output::{Outcome, Output};
use super::{Error, LabCommand, LabDirArg, LabMode, LabTenantArgs};
use crate::config::SettingsOverlay;
use crate::session::Preset;
use crate::types::{Cloud, Exit, Secret};
use writeback_lab::{self as lab, LabInfo};

/// Lab mode's preset for a command run with `--lab`: the lab DC up in the default lab folder,
/// and a tenant simulator in this process.
pub async fn preset(wanted: bool) -> Result<LabMode, Error> {
    if !wanted {
        return Ok(None);
    }
    Ok(Some(Arc::new(bring_up().await?)))
}

/// The wizard's lab mode: brought up on the wizard's own runtime once the window shows.
#[cfg(feature = "gui")]
pub fn starter(wanted: bool) -> Result<Option<writeback_gui::worker::LabStarter>, Error> {
    if !wanted {
        return Ok(None);
    }
    lab::needs_linux()?;
    Ok(Some(Box::new(|| Box::pin(async { bring_up().await.map_err(|e| crate::types::ErrorReport::from_error(&e)) }))))
}

fn read_secret(path: &std::path::Path) -> Result<Secret, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| lab::LabError::Io {
        what: "read a password file",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Secret::new(text.trim_end_matches('\n')))
}

async fn bring_up() -> Result<Preset, Error> {
    lab::needs_linux()?;
    let info = lab::up(&lab::default_dir(), lab::UpOptions::default()).await?;
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let tenant = lab::tenant::start(lab::tenant::Fixture::default(), loopback).await?;
    // The lab's sync engine holds its AD connector as Connect does, so it writes passwords back.
    let connector = lab::ad_connector(&info)?;
    tenant.with_sync_engine(|m| m.ad_connectors = vec![connector]);
    let settings = SettingsOverlay {
        ad_url: Some(info.ldap_url.clone()),
        ad_user: Some(info.admin_user.clone()),
        ad_ca_file: Some(info.ca_file.clone()),
        ad_tls_name: Some(info.tls_name.clone()),
        connector_account: Some(info.connector_account.clone()),
        cloud: Some(Cloud::Lab),
        lab_url: Some(tenant.url().to_string()),
        tenant: Some(tenant.info().tenant_id.clone()),
        ..SettingsOverlay::default()
    };
    Ok(Preset {
        settings,
        ad_password: Some(read_secret(&info.admin_password_file)?),
        connector_password: Some(read_secret(&info.connector_password_file)?),
        tenant_admin: Some((tenant.info().admin_upn.clone(), tenant.admin_password())),
        keep: vec![Arc::new(tenant)],
    })
}

fn dir_of(arg: &LabDirArg) -> PathBuf {
    arg.dir.clone().unwrap_or_else(lab::default_dir)
}

fn human(info: &LabInfo) -> String {
    format!(
        "Lab domain controller ready.\n  dir:                     {}\n  ldap_url:                {}\n  forest:                  {}\n  dc_host:                 {}\n  realm:                   {}\n  dns_server:              {}\n  krb5_conf:               {}\n  tls_name:                {}\n  ca_file:                 {}\n  base_dn:                 {}\n  admin_user:              {}\n  admin_password_file:     {}\n  connector_account:       {}\n  connector_password_file: {}\n  canary_user:             {}",
        info.dir.display(),
        info.ldap_url,
        info.forest,
        info.dc_host,
        info.realm,
        info.dns_server,
        info.krb5_conf.display(),
        info.tls_name,
        info.ca_file.display(),
        info.base_dn,
        info.admin_user,
        info.admin_password_file.display(),
        info.connector_account,
        info.connector_password_file.display(),
        info.canary_user
    )
}

/// Runs one `lab` command.
pub async fn run(command: LabCommand, out: Output) -> Result<Outcome, Error> {
    match command {
        LabCommand::Up(arg) => {
            let forest = match &arg.forest {
                Some(name) => lab::LabForest::new(name)?,
                None => lab::LabForest::default(),
            };
            up(dir_of(&arg.dir), lab::UpOptions { tls: !arg.no_tls, forest }, out).await
        }
        LabCommand::Down(arg) => {
            let dir = dir_of(&arg);
            let was_running = lab::down(&dir)?;
            out.result(&serde_json::json!({ "dir": dir, "stopped": was_running }), || {
                if was_running {
                    format!("Stopped the lab DC in {}.", dir.display())
                } else {
                    format!("No lab DC was running in {}.", dir.display())
                }
            });
            Ok(Outcome::OK)
        }
        LabCommand::Status(arg) => {
            let dir = dir_of(&arg);
            let status = lab::status(&dir).await?;
            out.result(&status, || match (&status.info, status.running) {
                (Some(info), true) => {
                    human(info).replace("Lab domain controller ready.", "Lab domain controller running.")
                }
                (Some(info), false) => {
                    format!("The lab DC in {} is not running (`lab up` starts it again).", info.dir.display())
                }
                (None, _) => format!("{} holds no lab (`lab up --dir {}` creates one).", dir.display(), dir.display()),
            });
            Ok(Outcome { exit: if status.running { Exit::Ok } else { Exit::No } })
        }
        LabCommand::Tenant(args) => tenant(args, out).await,
    }
}

/// Runs the simulator until SIGINT or SIGTERM. The first stdout line is the contract's JSON,
/// in either output mode, so scripts can read it and carry on.
async fn tenant(args: LabTenantArgs, out: Output) -> Result<Outcome, Error> {
    use writeback_lab::tenant::{self, Fixture};
    let fixture = match &args.fixture {
        Some(path) => Fixture::load(path).map_err(tenant::TenantError::from)?,
        None => Fixture::default(),
    };
    if !args.listen.ip().is_loopback() {
        return Err(crate::session::Error::Usage {
            message: format!("--listen {} is not a loopback address", args.listen),
            remedy: "The simulator hands out tokens to anyone who asks: give it 127.0.0.1:PORT or [::1]:PORT.".into(),
        }
        .into());
    }
    let running = tenant::start(fixture, args.listen).await?;
    // Listen for SIGTERM before announcing the URL: a script may stop us as soon as it reads it.
    let stop = stop_signal();
    let line =
        serde_json::to_string(running.info()).map_err(|e| tenant::TenantError::Internal { detail: e.to_string() })?;
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
    out.note(&format!(
        "Tenant simulator listening on {} (tenant {}). Stop it with Ctrl-C.",
        running.url(),
        running.info().tenant_id
    ));
    stop.await;
    running.stop().await;
    Ok(Outcome::OK)
}

/// A future that completes on SIGTERM or Ctrl-C. The handlers are installed when this is
/// called, not when the future is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {},
                _ = ctrl_c => {},
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}

async fn up(dir: PathBuf, opts: lab::UpOptions, out: Output) -> Result<Outcome, Error> {
    out.note(&format!("Bringing the lab domain controller up in {} …", dir.display()));
    let info = lab::up(&dir, opts).await?;
    out.result(&info, || human(&info));
    Ok(Outcome::OK)
}
