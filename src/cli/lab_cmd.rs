//! `lab up|down|status` and `--lab`.

use std::path::PathBuf;

use super::output::{Outcome, Output};
use super::{LabCommand, LabDirArg, LabTenantArgs};
use crate::diagnose::Exit;
use crate::lab::{self, LabInfo};
use crate::session::Error;

fn dir_of(arg: &LabDirArg) -> PathBuf {
    arg.dir.clone().unwrap_or_else(lab::default_dir)
}

fn human(info: &LabInfo) -> String {
    format!(
        "Lab domain controller ready.\n  dir:                     {}\n  ldap_url:                {}\n  tls_name:                {}\n  ca_file:                 {}\n  base_dn:                 {}\n  admin_user:              {}\n  admin_password_file:     {}\n  connector_account:       {}\n  connector_password_file: {}\n  canary_user:             {}",
        info.dir.display(),
        info.ldap_url,
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
        LabCommand::Up(arg) => up(dir_of(&arg), out).await,
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
    use crate::lab::tenant::{self, Fixture};
    let fixture = match &args.fixture {
        Some(path) => Fixture::load(path).map_err(tenant::TenantError::from)?,
        None => Fixture::default(),
    };
    if !args.listen.ip().is_loopback() {
        return Err(Error::Usage {
            message: format!("--listen {} is not a loopback address", args.listen),
            remedy: "The simulator hands out tokens to anyone who asks: give it 127.0.0.1:PORT or [::1]:PORT.".into(),
        });
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

async fn up(dir: PathBuf, out: Output) -> Result<Outcome, Error> {
    out.note(&format!("Bringing the lab domain controller up in {} …", dir.display()));
    let info = lab::up(&dir).await?;
    out.result(&info, || human(&info));
    Ok(Outcome::OK)
}
