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
    /// How it was reached (the canary connects the same way as the connector).
    pub options: ConnectOptions,
    /// The lab, with --lab.
    pub lab: Option<crate::lab::LabInfo>,
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
    connect_with(config_path, args, lab, None).await
}

/// [`connect`], with the password typed into the wizard (it wins over the secrets lookup).
pub async fn connect_with(
    config_path: &Path,
    args: &ConnectionArgs,
    lab: bool,
    typed: Option<Secret>,
) -> Result<AdSession, Error> {
    let mut settings = Settings::load(config_path)?.overlay(&args.overlay());
    let mut password: Option<Secret> = None;
    let mut lab_info = None;
    if lab {
        let info = crate::lab::up(&crate::lab::default_dir()).await?;
        lab_info = Some(info.clone());
        settings.ad_url.get_or_insert(info.ldap_url.clone());
        settings.ad_ca_file.get_or_insert(info.ca_file.clone());
        settings.ad_tls_name.get_or_insert(info.tls_name.clone());
        settings.connector_account.get_or_insert(info.connector_account.clone());
        if settings.ad_user.as_deref().is_none_or(|u| u == info.admin_user) {
            settings.ad_user = Some(info.admin_user.clone());
            if typed.is_none() && std::env::var_os(secrets::AD_PASSWORD.env_var).is_none() {
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
    let password = match typed.or(password) {
        Some(p) => p,
        None => secrets::resolve_default(secrets::AD_PASSWORD)?,
    };
    let trust = TlsTrust {
        ca_file: settings.ad_ca_file.clone(),
        tls_name: settings.ad_tls_name.clone(),
        fingerprint: settings.ad_fingerprint.clone(),
    };
    let mut options = ConnectOptions { insecure: args.insecure_ldap, ..ConnectOptions::new(url, trust) };
    if let Some(secs) = args.ad_timeout {
        options.timeout = std::time::Duration::from_secs(secs);
    }
    let mut conn = AdConnection::connect(&options).await?;
    conn.bind(&user, &password).await?;
    let disc = directory::discover(&mut conn).await?;
    let account = directory::find_account(&mut conn, &disc, &user)
        .await?
        .ok_or(crate::ad::AdError::NoSuchAccount { name: user })?;
    Ok(AdSession { options, lab: lab_info, conn, disc, account, settings })
}

/// A Graph client for the configured tenant, and what keeps it alive.
pub struct EntraSession {
    /// The client.
    pub graph: crate::entra::graph::GraphClient,
    /// Its access token (the lab sync engine takes it too).
    pub token: Secret,
    /// The simulator's URL when the cloud is the lab.
    pub lab_url: Option<String>,
    /// The in-process simulator with `--lab` (dropped with the session).
    pub _lab_tenant: Option<crate::lab::tenant::RunningTenant>,
}

/// The sign-in settings: cloud (lab with --lab), tenant (default `organizations`), client id.
pub fn sign_in_for(settings: &Settings) -> Result<crate::entra::auth::SignIn, Error> {
    use crate::config::Cloud;
    let cloud = settings.cloud.unwrap_or(if settings.lab_url.is_some() { Cloud::Lab } else { Cloud::Public });
    if cloud == Cloud::Lab && settings.lab_url.is_none() {
        return Err(Error::Usage {
            message: "--cloud lab needs the simulator's URL".into(),
            remedy: "Give --lab-url (the url printed by `writeback-wizard lab tenant`), or use --lab.".into(),
        });
    }
    let endpoints = crate::entra::clouds::endpoints(cloud, settings.lab_url.as_deref());
    let tenant = settings.tenant.clone().unwrap_or_else(|| "organizations".into());
    let client = settings.client_id.clone().unwrap_or_else(|| crate::entra::auth::DEFAULT_CLIENT_ID.into());
    Ok(crate::entra::auth::SignIn::new(endpoints, tenant, client)?)
}

/// How an interactive sign-in may happen when there is no saved one.
pub enum Interactive<'a> {
    /// A device-code sign-in, when stdin is a terminal (the CLI).
    Terminal,
    /// The system browser, with PKCE and a loopback redirect (the wizard).
    Browser {
        /// Opens the sign-in page.
        open: &'a (dyn Fn(String) -> Result<(), String> + Sync),
        /// The Cancel button.
        cancel: &'a tokio_util::sync::CancellationToken,
    },
    /// A device code the wizard shows (for a sync server with no browser).
    Device {
        /// Shows the code and the page to enter it on.
        shown: &'a (dyn Fn(String, String) + Sync),
        /// The Cancel button.
        cancel: &'a tokio_util::sync::CancellationToken,
    },
}

/// Gets a Graph token: WRITEBACK_ENTRA_TOKEN; with --lab, the in-process simulator's
/// administrator; a saved sign-in; a device-code sign-in on a terminal; else exit 2.
pub async fn entra(config_path: &Path, args: &ConnectionArgs, lab: bool) -> Result<EntraSession, Error> {
    entra_with(config_path, args, lab, Interactive::Terminal).await
}

/// [`entra`], choosing how to sign in interactively.
pub async fn entra_with(
    config_path: &Path,
    args: &ConnectionArgs,
    lab: bool,
    how: Interactive<'_>,
) -> Result<EntraSession, Error> {
    use std::io::IsTerminal;
    let mut settings = Settings::load(config_path)?.overlay(&args.overlay());
    if let Ok(token) = std::env::var(secrets::ENTRA_TOKEN.env_var) {
        let si = sign_in_for(&settings)?;
        let token = Secret::new(token);
        let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), token.clone())?;
        return Ok(EntraSession { graph, token, lab_url: settings.lab_url.clone(), _lab_tenant: None });
    }
    if lab && settings.lab_url.is_none() {
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let running = crate::lab::tenant::start(crate::lab::tenant::Fixture::default(), loopback).await?;
        settings.cloud = Some(crate::config::Cloud::Lab);
        settings.lab_url = Some(running.url().to_string());
        settings.tenant = Some(running.info().tenant_id.clone());
        let si = sign_in_for(&settings)?;
        // The lab's own administrator, whose password the simulator generated: a lab shortcut.
        let tokens = si.password(&running.info().admin_upn, &running.admin_password()).await?;
        let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), tokens.access.clone())?;
        return Ok(EntraSession {
            graph,
            token: tokens.access,
            lab_url: settings.lab_url.clone(),
            _lab_tenant: Some(running),
        });
    }
    let si = sign_in_for(&settings)?;
    let store = secrets::KeyringStore;
    let interactive = match how {
        Interactive::Terminal => std::io::stdin().is_terminal(),
        Interactive::Browser { .. } | Interactive::Device { .. } => true,
    };
    let silent = si.silent(&store).await;
    let tokens = match silent {
        Ok(Some(t)) => t,
        Err(e) if !interactive => return Err(e.into()),
        Ok(None) if !interactive => {
            return Err(crate::entra::EntraError::NoToken { env_var: secrets::ENTRA_TOKEN.env_var }.into());
        }
        _ => {
            let t = match how {
                Interactive::Terminal => {
                    let flow = si.device().await?;
                    eprintln!("{}", flow.message());
                    flow.finish(tokio::time::sleep).await?
                }
                Interactive::Browser { open, cancel } => {
                    si.browser("localhost", open, cancel, std::time::Duration::from_secs(300)).await?
                }
                Interactive::Device { shown, cancel } => {
                    let flow = si.device().await?;
                    shown(flow.user_code().to_string(), flow.verification_uri().to_string());
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(crate::entra::EntraError::Cancelled.into()),
                        t = flow.finish(tokio::time::sleep) => t?,
                    }
                }
            };
            si.remember(&store, &t)?;
            t
        }
    };
    let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), tokens.access.clone())?;
    Ok(EntraSession { graph, token: tokens.access, lab_url: settings.lab_url.clone(), _lab_tenant: None })
}
