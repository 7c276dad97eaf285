//! Connecting to AD from the command line: settings file, then flags, then (with `--lab`) the lab's
//! own values for whatever is still missing; the password from the secrets lookup.

use std::path::Path;

use super::ConnectionArgs;
use crate::ad::directory::{self, Account, Discovery};
use crate::ad::{AdConnection, ConnectOptions, TlsTrust};
use crate::config::Settings;
use crate::error::Error;
use crate::secrets::{self, Secret};

/// A bound connection and what it found.
pub struct AdSession {
    /// The connection, bound.
    pub conn: AdConnection,
    /// rootDSE and the forest.
    pub disc: Discovery,
    /// The bound account.
    pub account: Account,
    /// The effective settings.
    pub settings: Settings,
}

/// Connects and binds as the settings and flags say.
pub async fn connect(config_path: &Path, args: &ConnectionArgs, lab: bool) -> Result<AdSession, Error> {
    let mut settings = Settings::load(config_path)?.overlay(&args.overlay());
    let mut password: Option<Secret> = None;
    if lab {
        let info = crate::lab::up(&crate::lab::default_dir()).await?;
        settings.ad_url.get_or_insert(info.ldap_url.clone());
        settings.ad_ca_file.get_or_insert(info.ca_file.clone());
        settings.ad_tls_name.get_or_insert(info.tls_name.clone());
        settings.connector_account.get_or_insert(info.connector_account.clone());
        if settings.ad_user.is_none() {
            settings.ad_user = Some(info.admin_user.clone());
            if std::env::var_os(secrets::AD_PASSWORD.env_var).is_none() {
                let text = std::fs::read_to_string(&info.admin_password_file).map_err(|source| {
                    crate::lab::LabError::Io { what: "read", path: info.admin_password_file.clone(), source }
                })?;
                password = Some(Secret::new(text.trim_end_matches('\n')));
            }
        }
    }
    let url = settings.ad_url.clone().ok_or_else(|| Error::Usage {
        message: "no domain controller was given".into(),
        remedy:
            "Give --ad-url ldaps://dc.example.com (or set ad_url in the settings file, or add --lab for the lab DC)."
                .into(),
    })?;
    let user = settings.ad_user.clone().ok_or_else(|| Error::Usage {
        message: "no account to sign in to Active Directory with".into(),
        remedy: "Give --ad-user DOMAIN\\name (an Enterprise Admin), or set ad_user in the settings file.".into(),
    })?;
    let password = match password {
        Some(p) => p,
        None => secrets::resolve_default(secrets::AD_PASSWORD)?,
    };
    let trust = TlsTrust {
        ca_file: settings.ad_ca_file.clone(),
        tls_name: settings.ad_tls_name.clone(),
        fingerprint: settings.ad_fingerprint.clone(),
    };
    let options = ConnectOptions { insecure: args.insecure_ldap, ..ConnectOptions::new(url, trust) };
    let mut conn = AdConnection::connect(&options).await?;
    conn.bind(&user, &password).await?;
    let disc = directory::discover(&mut conn).await?;
    let account = directory::find_account(&mut conn, &disc, &user)
        .await?
        .ok_or(crate::ad::AdError::NoSuchAccount { name: user })?;
    Ok(AdSession { conn, disc, account, settings })
}
