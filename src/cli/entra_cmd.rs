//! `entra check`, `entra sign-out`, `licences`.

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::output::{Outcome, Output};
use super::{ConnectionArgs, EntraCommand};
use crate::session::{self, Error};
use crate::types::{Exit, LicenceVerdict};

async fn sign_in(
    connection: &ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
) -> Result<session::EntraSession, Error> {
    let cancel = CancellationToken::new();
    let how = super::interactive(&super::print_device_code, &cancel);
    session::entra(&connection.options(config_path, lab), how).await
}

fn licence_text(v: &LicenceVerdict) -> String {
    let mut t = format!(
        "{}\n",
        if v.eligible { "Licensed for password writeback." } else { "NOT licensed for password writeback." }
    );
    t.push_str(&format!("  {}\n", v.reason));
    for g in &v.granted_by {
        t.push_str(&format!(
            "  + {} ({}) via {} [{}]\n",
            g.product_name.as_deref().unwrap_or(&g.sku_part_number),
            g.sku_part_number,
            g.service_plan_name,
            g.capability_status
        ));
    }
    for n in &v.not_counted {
        t.push_str(&format!("  - {}: {}\n", n.sku_part_number, n.why));
    }
    for w in &v.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
    t
}

/// `licences [--from-file F]`.
pub async fn licences(
    from_file: Option<PathBuf>,
    connection: ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let verdict = match from_file {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::Usage {
                message: format!("cannot read {}: {e}", path.display()),
                remedy: "Give the path of a saved /subscribedSkus answer.".into(),
            })?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Usage {
                message: format!("{} is not JSON: {e}", path.display()),
                remedy: "Save Graph's /subscribedSkus answer as it came (JSON).".into(),
            })?;
            session::licence_from_json(&json).map_err(|e| Error::Usage {
                message: format!("{}: {e}", path.display()),
                remedy: "Save Graph's /subscribedSkus answer as it came.".into(),
            })?
        }
        None => {
            let s = sign_in(&connection, config_path, lab).await?;
            s.licence().await?
        }
    };
    out.result(&verdict, || licence_text(&verdict));
    Ok(Outcome { exit: if verdict.eligible { Exit::Ok } else { Exit::No } })
}

/// `entra …`.
pub async fn entra(
    command: EntraCommand,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    match command {
        EntraCommand::Check { connection } => {
            let opts = connection.options(config_path, lab);
            let s = sign_in(&connection, config_path, lab).await?;
            let c = s.check(opts.clock.as_ref()).await?;
            out.result(&c, || {
                let mut t = format!(
                    "Signed in as {} ({})\n",
                    c.account.user_principal_name,
                    if c.account.cloud_account { "cloud account" } else { "synced from AD" }
                );
                let roles: Vec<&str> = c.roles.iter().map(|r| r.display_name.as_str()).collect();
                t.push_str(&format!(
                    "Roles: {}\n",
                    if roles.is_empty() { "none held directly".to_string() } else { roles.join(", ") }
                ));
                t.push_str(&format!(
                    "Directory sync: {}{}\n",
                    if c.directory_sync.enabled { "on" } else { "OFF" },
                    c.directory_sync.last_sync.as_ref().map(|l| format!(", last {l}")).unwrap_or_default()
                ));
                t.push_str(&licence_text(&c.licence));
                for p in &c.problems {
                    t.push_str(&format!("problem: {p}\n"));
                }
                for w in &c.warnings {
                    t.push_str(&format!("warning: {w}\n"));
                }
                for n in &c.not_checked {
                    t.push_str(&format!("not checked: {n}\n"));
                }
                t
            });
            Ok(Outcome { exit: if c.ready() { Exit::Ok } else { Exit::No } })
        }
        EntraCommand::SignOut { connection } => {
            session::sign_out(&connection.options(config_path, lab))?;
            out.result(&serde_json::json!({ "signed_out": true }), || "The saved sign-in was forgotten.".into());
            Ok(Outcome::OK)
        }
    }
}
