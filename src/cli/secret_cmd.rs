//! `secret set|delete|list`: the administrator's way to the secrets kept in the OS keyring, so a
//! scheduled or repeated run finds its password there instead of in the environment.

use serde::Serialize;

use super::output::{Outcome, Output};
use super::{SecretCommand, SecretName};
use crate::secrets::{KeyringStore, SecretStore};
use crate::session::Error;

#[derive(Debug, Serialize)]
struct Stored {
    name: String,
    stored: bool,
}

/// The keyring entry NAME (of FOREST) is kept under.
fn entry(name: SecretName, forest: Option<&str>) -> Result<String, Error> {
    match (name, forest) {
        (SecretName::AdPassword, Some(f)) => Ok(crate::secrets::forest_keyring_user(f)),
        (_, Some(_)) => Err(Error::Usage {
            message: "--forest names a forest's Enterprise Admin password: it goes with ad-password only".into(),
            remedy: "Leave out --forest, or store ad-password.".into(),
        }),
        (_, None) => Ok(name.kind().keyring_user.to_string()),
    }
}

/// Runs one `secret` command against the OS keyring.
pub fn run(command: SecretCommand, config_path: &std::path::Path, out: Output) -> Result<Outcome, Error> {
    let store = KeyringStore;
    match command {
        SecretCommand::Set { name, forest } => {
            let entry = entry(name, forest.as_deref())?;
            let value = super::read_stdin_secret(name.kind().prompt)?;
            store.set(&entry, &value)?;
            out.result(&serde_json::json!({ "stored": entry }), || format!("Stored {entry} in the OS keyring.\n"));
        }
        SecretCommand::Delete { name, forest } => {
            let entry = entry(name, forest.as_deref())?;
            store.delete(&entry)?;
            out.result(&serde_json::json!({ "deleted": entry }), || {
                format!("{entry} is not in the OS keyring (any more).\n")
            });
        }
        SecretCommand::List => {
            let mut list = Vec::new();
            let mut names: Vec<String> =
                [SecretName::AdPassword, SecretName::ConnectorPassword, SecretName::EntraToken]
                    .iter()
                    .map(|n| n.kind().keyring_user.to_string())
                    .collect();
            // A damaged settings file does not hide what the keyring holds.
            let forests = crate::config::Settings::load(config_path).map(|s| s.directories).unwrap_or_default();
            names.extend(forests.iter().map(|d| crate::secrets::forest_keyring_user(&d.forest)));
            for name in names {
                let stored = store.get(&name)?.is_some();
                list.push(Stored { name, stored });
            }
            out.result(&serde_json::json!({ "secrets": list }), || {
                list.iter()
                    .map(|s| format!("{}: {}\n", s.name, if s.stored { "stored" } else { "not stored" }))
                    .collect()
            });
        }
    }
    Ok(Outcome::OK)
}
