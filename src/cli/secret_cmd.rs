//! `secret set|delete|list`: the administrator's way to the secrets kept in the OS keyring, so a
//! scheduled or repeated run finds its password there instead of in the environment.

use serde::Serialize;

use super::output::{Outcome, Output};
use super::{SecretCommand, SecretName};
use crate::secrets::{KeyringStore, SecretStore};
use crate::session::Error;

#[derive(Debug, Serialize)]
struct Stored {
    name: &'static str,
    stored: bool,
}

/// Runs one `secret` command against the OS keyring.
pub fn run(command: SecretCommand, out: Output) -> Result<Outcome, Error> {
    let store = KeyringStore;
    match command {
        SecretCommand::Set { name } => {
            let kind = name.kind();
            let value = super::read_stdin_secret(kind.prompt)?;
            store.set(kind.keyring_user, &value)?;
            out.result(&serde_json::json!({ "stored": kind.keyring_user }), || {
                format!("Stored {} in the OS keyring.\n", kind.keyring_user)
            });
        }
        SecretCommand::Delete { name } => {
            let kind = name.kind();
            store.delete(kind.keyring_user)?;
            out.result(&serde_json::json!({ "deleted": kind.keyring_user }), || {
                format!("{} is not in the OS keyring (any more).\n", kind.keyring_user)
            });
        }
        SecretCommand::List => {
            let mut list = Vec::new();
            for name in [SecretName::AdPassword, SecretName::ConnectorPassword, SecretName::EntraToken] {
                let kind = name.kind();
                list.push(Stored { name: kind.keyring_user, stored: store.get(kind.keyring_user)?.is_some() });
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
