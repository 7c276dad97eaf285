//! Reaching the two directories: AD bound as the operator (settings, then flags, then with `--lab`
//! the lab's own values for whatever is still missing; the password from the wizard's field or
//! the secrets lookup), and a Graph client for the tenant.

use super::{Error, Input, Options};
use crate::ad::directory::{self, Account, Discovery};
use crate::ad::{AdConnection, ConnectOptions, TlsTrust};
use crate::config::Settings;
use crate::secrets::{self, Secret};

/// A bound connection and what it found.
pub struct AdSession {
    /// How it was reached (the canary connects the same way as the connector).
    pub options: ConnectOptions,
    /// The lab, with `--lab`.
    pub lab: Option<crate::lab::LabInfo>,
    pub conn: AdConnection,
    /// rootDSE and the forest.
    pub disc: Discovery,
    /// The bound account.
    pub account: Account,
    /// How the bound account was identified (Who-Am-I, or the bind name where the DC has none).
    pub identity: directory::IdentitySource,
    /// The effective settings (file and flags).
    pub settings: Settings,
}

/// Reads a lab password file (exactly the password; a trailing newline from older labs is cut).
pub(super) fn lab_password(path: &std::path::Path) -> Result<Secret, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::lab::LabError::Io {
        what: "read",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Secret::new(text.trim_end_matches('\n')))
}

/// Connects and binds as the settings and flags say; `typed` is a password typed into the
/// wizard (it wins over the secrets lookup).
pub async fn connect(opts: &Options, typed: Option<Secret>) -> Result<AdSession, Error> {
    let mut settings = opts.settings()?;
    let mut password: Option<Secret> = None;
    let mut lab_info = None;
    if opts.lab {
        crate::lab::needs_linux()?;
        // Sealed: the lab's own loopback DC, and no other.
        if let Some(url) = settings.ad_url.as_deref() {
            let status = crate::lab::status(&crate::lab::default_dir()).await.ok();
            let lab_url = status.and_then(|s| s.info).map(|i| i.ldap_url);
            if lab_url.as_deref() != Some(url) {
                return Err(crate::lab::LabError::Sealed { url: url.to_string() }.into());
            }
        }
        let info = crate::lab::up(&crate::lab::default_dir()).await?;
        lab_info = Some(info.clone());
        settings.ad_url.get_or_insert(info.ldap_url.clone());
        settings.ad_ca_file.get_or_insert(info.ca_file.clone());
        settings.ad_tls_name.get_or_insert(info.tls_name.clone());
        settings.connector_account.get_or_insert(info.connector_account.clone());
        if settings.ad_user.as_deref().is_none_or(|u| u == info.admin_user) {
            settings.ad_user = Some(info.admin_user.clone());
            if typed.is_none() && std::env::var_os(secrets::AD_PASSWORD.env_var).is_none() {
                password = Some(lab_password(&info.admin_password_file)?);
            }
        }
    }
    let missing = |input| Error::Missing { input, front: opts.front };
    let url = settings.ad_url.clone().ok_or_else(|| missing(Input::DomainController))?;
    let user = settings.ad_user.clone().ok_or_else(|| missing(Input::AdUser))?;
    let password = match typed.or(password) {
        Some(p) => p,
        None => secrets::resolve_default(secrets::AD_PASSWORD)?,
    };
    let trust = TlsTrust {
        ca_file: settings.ad_ca_file.clone(),
        tls_name: settings.ad_tls_name.clone(),
        fingerprint: settings.ad_fingerprint.clone(),
    };
    let mut options = ConnectOptions { insecure: opts.flags.insecure_ldap, ..ConnectOptions::new(url, trust) };
    if let Some(secs) = opts.flags.ad_timeout {
        options.timeout = std::time::Duration::from_secs(secs);
    }
    let mut conn = AdConnection::connect(&options).await?;
    conn.bind(&user, &password).await?;
    let disc = directory::discover(&mut conn).await?;
    let (account, identity) = directory::bound_account(&mut conn, &disc, &user).await?;
    Ok(AdSession { options, lab: lab_info, conn, disc, account, identity, settings })
}

/// A Graph client for the configured tenant, and what keeps it alive.
pub struct EntraSession {
    pub graph: crate::entra::graph::GraphClient,
    /// Its access token (the lab sync engine takes it too).
    pub token: Secret,
    /// The simulator's URL when the cloud is the lab.
    pub lab_url: Option<String>,
    /// The in-process simulator with `--lab` (dropped with the session).
    pub _lab_tenant: Option<crate::lab::tenant::RunningTenant>,
}

/// The sign-in settings: cloud (lab with `--lab`), tenant (default `organizations`), client id.
pub fn sign_in_for(settings: &Settings, front: super::Front) -> Result<crate::entra::auth::SignIn, Error> {
    use crate::config::Cloud;
    let cloud = settings.cloud.unwrap_or(if settings.lab_url.is_some() { Cloud::Lab } else { Cloud::Public });
    if cloud == Cloud::Lab && settings.lab_url.is_none() {
        return Err(Error::Missing { input: Input::LabUrl, front });
    }
    let endpoints = crate::entra::clouds::endpoints(cloud, settings.lab_url.as_deref());
    let tenant = settings.tenant.clone().unwrap_or_else(|| "organizations".into());
    let client = settings.client_id.clone().unwrap_or_else(|| crate::entra::auth::DEFAULT_CLIENT_ID.into());
    Ok(crate::entra::auth::SignIn::new(endpoints, tenant, client)?)
}

/// A device code to show while the sign-in waits for it.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub user_code: String,
    pub uri: String,
    /// Entra's own sentence saying where to enter it.
    pub message: String,
}

/// How an interactive sign-in may happen when there is no saved one.
pub enum Interactive<'a> {
    /// Not at all: no saved sign-in is an error (a command without a terminal).
    Never,
    /// The system browser, with PKCE and a loopback redirect.
    Browser {
        /// Opens the sign-in page.
        open: &'a (dyn Fn(String) -> Result<(), String> + Sync),
        cancel: &'a tokio_util::sync::CancellationToken,
    },
    /// A device code, shown by the front (for a sync server with no browser, or a terminal).
    Device { shown: &'a (dyn Fn(DeviceCode) + Sync), cancel: &'a tokio_util::sync::CancellationToken },
}

/// Gets a Graph token: WRITEBACK_ENTRA_TOKEN; with `--lab`, the in-process simulator's
/// administrator; a saved sign-in; an interactive one as `how` allows; else exit 2.
pub async fn entra(opts: &Options, how: Interactive<'_>) -> Result<EntraSession, Error> {
    let mut settings = opts.settings()?;
    if let Some(token) = secrets::brought_token(&|name| std::env::var(name).ok(), &secrets::KeyringStore) {
        let si = sign_in_for(&settings, opts.front)?;
        let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), token.clone())?;
        return Ok(EntraSession { graph, token, lab_url: settings.lab_url.clone(), _lab_tenant: None });
    }
    if opts.lab && settings.lab_url.is_none() {
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let running = crate::lab::tenant::start(crate::lab::tenant::Fixture::default(), loopback).await?;
        settings.cloud = Some(crate::config::Cloud::Lab);
        settings.lab_url = Some(running.url().to_string());
        settings.tenant = Some(running.info().tenant_id.clone());
        let si = sign_in_for(&settings, opts.front)?;
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
    let si = sign_in_for(&settings, opts.front)?;
    let store = secrets::KeyringStore;
    let interactive = !matches!(how, Interactive::Never);
    let tokens = match si.silent(&store).await {
        Ok(Some(t)) => t,
        Err(e) if !interactive => return Err(e.into()),
        Ok(None) if !interactive => {
            return Err(crate::entra::EntraError::NoToken { env_var: secrets::ENTRA_TOKEN.env_var }.into());
        }
        _ => {
            let t = match how {
                Interactive::Never => {
                    return Err(crate::entra::EntraError::NoToken { env_var: secrets::ENTRA_TOKEN.env_var }.into());
                }
                Interactive::Browser { open, cancel } => {
                    si.browser("localhost", open, cancel, std::time::Duration::from_secs(300)).await?
                }
                Interactive::Device { shown, cancel } => {
                    let flow = si.device().await?;
                    shown(DeviceCode {
                        user_code: flow.user_code().to_string(),
                        uri: flow.verification_uri().to_string(),
                        message: flow.message().to_string(),
                    });
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
