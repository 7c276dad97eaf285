//! Reaching the two directories: AD bound as the operator (settings, then flags, then lab mode's
//! preset for whatever is still missing; the password from the wizard's field, the preset or the
//! secrets lookup), and a Graph client for the tenant.

use super::{Error, Input, Options};
use crate::ad::directory::{self, Account, Discovery};
use crate::ad::signin::{self, Place, Protection, SignIn, Who};
use crate::ad::{AdConnection, AdError, TlsTrust};
use crate::config::Settings;
use crate::entra::check::EntraCheck;
use crate::secrets::{self, Secret};
use crate::types::CertDetails;

/// A bound connection and what it found.
pub struct AdSession {
    /// How it signed in (the canary signs in the same way, as the connector, to the same DC).
    pub(crate) sign_in: SignIn,
    /// Which DC answered and how the connection is protected.
    pub(crate) protection: Protection,
    pub(crate) conn: AdConnection,
    /// rootDSE and the forest.
    pub(crate) disc: Discovery,
    /// The bound account.
    pub(crate) account: Account,
    /// The effective settings (file, flags and preset; a `[[directory]]` table's keys for its
    /// forest).
    pub(crate) settings: Settings,
    /// The connector's password lab mode knows.
    pub(crate) preset_connector_password: Option<Secret>,
    /// The forest's DNS name (its root domain's).
    pub(crate) forest: String,
    /// Where this directory came from, in words.
    pub(crate) source: String,
    /// The connector account the settings name, looked up beside the bound account (taken once,
    /// by `named_account`).
    pub(crate) named_connector: Option<(String, Result<Option<Account>, AdError>)>,
}

/// One directory of the configuration before it is reached: a forest named on the command line,
/// in the settings (top-level keys, or a `[[directory]]` table), or by the sync engine.
#[derive(Debug, Clone)]
pub struct DirectorySpec {
    /// The forest's DNS name, when known before connecting.
    pub forest: Option<String>,
    /// Its settings: the file's, with this forest's keys.
    pub settings: Settings,
    /// Where it came from, in words.
    pub source: String,
    /// Lab mode's password for `settings.ad_user`.
    pub(crate) preset_password: Option<Secret>,
    pub(crate) preset_connector_password: Option<Secret>,
}

/// A DC certificate nothing here vouches for (or, with `changed_from`, another one than the
/// certificate pinned): the wizard asks the person.
#[derive(Debug, Clone)]
pub struct Untrusted {
    /// The fingerprint that was pinned, when the certificate CHANGED.
    pub changed_from: Option<String>,
    /// What the DC presented.
    pub certificate: Box<CertDetails>,
}

impl Error {
    /// The certificate question this error asks, when it is a TLS handshake the person can
    /// decide on.
    pub fn untrusted(&self) -> Option<Untrusted> {
        match self {
            Error::InForest { source, .. } => source.untrusted(),
            Error::Ad(AdError::TlsHandshake { certificate: Some(c), .. }) => {
                Some(Untrusted { changed_from: None, certificate: c.clone() })
            }
            Error::Ad(AdError::CertChanged { pinned, certificate, .. }) => {
                Some(Untrusted { changed_from: Some(pinned.clone()), certificate: certificate.clone() })
            }
            _ => None,
        }
    }
}

/// Fills `settings` from lab mode's preset, sealed to the lab's own DC; returns the passwords the
/// preset knows for the account it fills in.
fn apply_preset(opts: &Options, settings: &mut Settings) -> Result<(Option<Secret>, Option<Secret>), Error> {
    let Some(preset) = &opts.preset else {
        return if opts.lab { Err(Error::LabNotReady) } else { Ok((None, None)) };
    };
    let lab = &preset.settings;
    if let (Some(url), Some(lab_url)) = (settings.ad_url.as_deref(), lab.ad_url.as_deref())
        && url != lab_url
    {
        return Err(Error::LabSealed { url: url.to_string() });
    }
    fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
        if slot.is_none() {
            slot.clone_from(value);
        }
    }
    if settings.forest.is_none() {
        fill(&mut settings.ad_url, &lab.ad_url);
    }
    fill(&mut settings.ad_ca_file, &lab.ad_ca_file);
    fill(&mut settings.ad_tls_name, &lab.ad_tls_name);
    fill(&mut settings.connector_account, &lab.connector_account);
    let mut password = None;
    if settings.ad_user.is_none() || settings.ad_user == lab.ad_user {
        settings.ad_user.clone_from(&lab.ad_user);
        if std::env::var_os(secrets::AD_PASSWORD.env_var).is_none() {
            password.clone_from(&preset.ad_password);
        }
    }
    let connector =
        (settings.connector_account == lab.connector_account).then(|| preset.connector_password.clone()).flatten();
    Ok((password, connector))
}

impl DirectorySpec {
    /// A spec of nothing yet (its fields are filled by whoever makes it).
    pub(crate) fn blank() -> DirectorySpec {
        DirectorySpec {
            forest: None,
            settings: Settings::new(),
            source: String::new(),
            preset_password: None,
            preset_connector_password: None,
        }
    }

    /// A forest the wizard's row names: its DNS name and the Enterprise Admin typed there.
    pub fn row(opts: &Options, forest: &str, ad_user: Option<String>) -> Result<DirectorySpec, Error> {
        let base = opts.settings()?;
        let table = base.directories.iter().find(|d| d.forest.eq_ignore_ascii_case(forest)).cloned();
        let mut table =
            table.unwrap_or(crate::config::DirectorySettings { forest: forest.to_string(), ..Default::default() });
        if ad_user.is_some() {
            table.ad_user = ad_user;
        }
        Ok(DirectorySpec {
            forest: Some(forest.to_string()),
            settings: table.over(&base),
            source: format!("the wizard's row for {forest}"),
            ..DirectorySpec::blank()
        })
    }
}

/// The directory the flags name (`--ad-url`, `--forest`), else the settings' top-level keys,
/// else their first `[[directory]]` table: the one [`connect`] reaches. Lab mode's preset fills
/// what is missing.
pub fn primary(opts: &Options) -> Result<DirectorySpec, Error> {
    let mut settings = opts.settings()?;
    // A forest named (by a flag, the wizard's field or the top-level key) without a DC, that has
    // a `[[directory]]` table: its table's keys, under the flags.
    if settings.ad_url.is_none()
        && let Some(forest) = settings.forest.clone()
        && let Some(table) = settings.directories.iter().find(|d| d.forest.eq_ignore_ascii_case(&forest)).cloned()
    {
        settings = table.over(&Settings::load(&opts.config_path)?).overlay(&opts.flags);
    }
    let (preset_password, preset_connector_password) = apply_preset(opts, &mut settings)?;
    let flags = opts.flags.ad_url.is_some() || opts.flags.forest.is_some();
    let top = settings.ad_url.is_some() || settings.forest.is_some();
    if !flags
        && !top
        && let Some(first) = settings.directories.first()
    {
        return Ok(DirectorySpec {
            forest: Some(first.forest.clone()),
            settings: first.over(&settings),
            source: format!("the settings' [[directory]] table for {}", first.forest),
            preset_password: None,
            preset_connector_password: None,
        });
    }
    let source = if flags { "the command line (or the wizard's fields)" } else { "the settings" };
    Ok(DirectorySpec {
        forest: settings.forest.clone(),
        settings,
        source: source.into(),
        preset_password,
        preset_connector_password,
    })
}

/// Signs in as `sign_in` says, then reads the rootDSE, the partitions and the bound account: the
/// session of that DC (its forest as the partitions name it, else `forest`).
pub(super) async fn reach(
    sign_in: SignIn,
    settings: Settings,
    preset_connector_password: Option<Secret>,
    forest: Option<String>,
    source: String,
) -> Result<AdSession, Error> {
    let (mut conn, protection) =
        signin::sign_in(&sign_in, &mut <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng()).await?;
    let disc = directory::discover(&mut conn).await?;
    // The session needs the connector account the settings name too: both searches in flight.
    let mut beside = conn.handle();
    let (bound, named_connector) =
        tokio::join!(directory::bound_account(&mut conn, &disc, &protection.account), async {
            match settings.connector_account.clone() {
                Some(name) => {
                    let found = directory::find_account(&mut beside, &disc, &name).await;
                    Some((name, found))
                }
                None => None,
            }
        });
    let (account, _) = bound?;
    let forest = forest_name(&disc).or(forest).unwrap_or_default();
    Ok(AdSession {
        sign_in,
        protection,
        conn,
        disc,
        account,
        settings,
        preset_connector_password,
        forest,
        source,
        named_connector,
    })
}

/// Connects and binds as the settings and flags say; `typed` is a password typed into the
/// wizard (it wins over the secrets lookup).
pub async fn connect(opts: &Options, typed: Option<Secret>) -> Result<AdSession, Error> {
    connect_to(opts, &primary(opts)?, typed).await
}

/// Connects to one directory and binds as its settings say. The password: `typed` (the wizard's
/// field), lab mode's, else the forest's own lookup (`WRITEBACK_AD_PASSWORD_<FOREST>`, …) when
/// the forest is named, else `WRITEBACK_AD_PASSWORD`'s.
pub async fn connect_to(opts: &Options, spec: &DirectorySpec, typed: Option<Secret>) -> Result<AdSession, Error> {
    let settings = spec.settings.clone();
    let missing = |input| Error::Missing { input, front: opts.front };
    // An explicit DC wins over the forest's name (the DC locator is for when none is named).
    let place = match (settings.ad_url.clone(), settings.forest.clone()) {
        (Some(url), _) => Place::Dc { url },
        (None, Some(name)) => Place::Forest { name },
        (None, None) => return Err(missing(Input::DomainController)),
    };
    let who = if opts.flags.ad_current_user {
        Who::CurrentUser
    } else {
        let user = settings.ad_user.clone().ok_or_else(|| missing(Input::AdUser))?;
        let password = match (typed.or(spec.preset_password.clone()), &spec.forest) {
            (Some(p), _) => p,
            (None, Some(forest)) => secrets::resolve_forest_default(forest)?,
            (None, None) => secrets::resolve_default(secrets::AD_PASSWORD)?,
        };
        Who::Password { user, password }
    };
    let trust = TlsTrust {
        ca_file: settings.ad_ca_file.clone(),
        tls_name: settings.ad_tls_name.clone(),
        fingerprint: settings.ad_fingerprint.clone(),
    };
    let timeout = std::time::Duration::from_secs(opts.flags.ad_timeout.unwrap_or(30));
    // Lab mode's DC is reached over LDAPS with the lab's password (the process has no Kerberos
    // configuration for the lab's realm).
    let simple = opts.flags.ad_simple_bind || opts.preset.is_some();
    let sign_in = SignIn { place, who, simple, trust, timeout, domains: Vec::new() };
    reach(sign_in, settings, spec.preset_connector_password.clone(), spec.forest.clone(), spec.source.clone()).await
}

/// The forest's DNS name: its root domain's, from the partitions.
pub(crate) fn forest_name(disc: &Discovery) -> Option<String> {
    disc.domains
        .iter()
        .find(|d| d.dn.eq_ignore_ascii_case(&disc.root_domain_naming_context))
        .map(|d| d.dns_name.to_ascii_lowercase())
}

/// A Graph client for the configured tenant, and what keeps it alive.
pub struct EntraSession {
    pub(crate) graph: crate::entra::graph::GraphClient,
    /// Its access token (the lab sync engine takes it too).
    pub(crate) token: Secret,
    /// The simulator's URL when the cloud is the lab.
    pub(crate) lab_url: Option<String>,
}

impl EntraSession {
    /// The tenant's readiness: the account and its role, the licence, directory sync.
    pub async fn check(&self, clock: &dyn crate::clock::Clock) -> Result<EntraCheck, Error> {
        Ok(crate::entra::check::check(&self.graph, clock.now()).await?)
    }

    /// The simulator's base URL, when the tenant is the lab's.
    pub fn lab_url(&self) -> Option<String> {
        self.lab_url.clone()
    }

    /// The licence verdict alone (`licences`).
    pub async fn licence(&self) -> Result<crate::types::LicenceVerdict, Error> {
        Ok(crate::entra::check::licence(&self.graph).await?)
    }
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

/// Gets a Graph token: WRITEBACK_ENTRA_TOKEN; with lab mode, the lab tenant's administrator; a
/// saved sign-in; an interactive one as `how` allows; else exit 2.
pub async fn entra(opts: &Options, how: Interactive<'_>) -> Result<EntraSession, Error> {
    entra_when(opts, how, std::future::ready(true)).await
}

/// [`entra`], asking the person (a browser, a device code) only once `may_ask` says yes: the
/// directory's sign-in runs beside this one and asks at the terminal first, so that two questions
/// never interleave. A no ends this sign-in without asking (its result is not wanted).
pub(crate) async fn entra_when(
    opts: &Options,
    how: Interactive<'_>,
    may_ask: impl std::future::Future<Output = bool>,
) -> Result<EntraSession, Error> {
    let mut settings = opts.settings()?;
    if let Some(preset) = &opts.preset
        && settings.lab_url.is_none()
        && let Some((user, password)) = &preset.tenant_admin
    {
        settings.cloud = preset.settings.cloud;
        settings.lab_url.clone_from(&preset.settings.lab_url);
        settings.tenant.clone_from(&preset.settings.tenant);
        let si = sign_in_for(&settings, opts.front)?;
        let tokens = si.password(user, password).await?;
        let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), tokens.access.clone())?;
        return Ok(EntraSession { graph, token: tokens.access, lab_url: settings.lab_url.clone() });
    }
    if let Some(token) = secrets::brought_token(&|name| std::env::var(name).ok(), &secrets::KeyringStore) {
        let si = sign_in_for(&settings, opts.front)?;
        let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), token.clone())?;
        return Ok(EntraSession { graph, token, lab_url: settings.lab_url.clone() });
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
            if !may_ask.await {
                return Err(crate::entra::EntraError::Cancelled.into());
            }
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
            // A Global or Hybrid Identity Administrator's refresh token outlives this run only when
            // the person asked for it.
            if opts.flags.remember_sign_in {
                si.remember(&store, &t)?;
            }
            t
        }
    };
    let graph = crate::entra::graph::GraphClient::new(si.endpoints().graph_v1(), tokens.access.clone())?;
    Ok(EntraSession { graph, token: tokens.access, lab_url: settings.lab_url.clone() })
}

/// Signs in and checks the tenant (the wizard's Connect to Microsoft Entra ID).
pub async fn sign_in(opts: &Options, how: Interactive<'_>) -> Result<(EntraSession, EntraCheck), Error> {
    let e = entra(opts, how).await?;
    let check = e.check(opts.clock.as_ref()).await?;
    Ok((e, check))
}

/// Forgets the saved sign-in (`entra sign-out`).
pub fn sign_out(opts: &Options) -> Result<(), Error> {
    let si = sign_in_for(&opts.settings()?, opts.front)?;
    Ok(si.sign_out(&secrets::KeyringStore)?)
}

/// The admin center's Password reset page of `cloud` (the simulator's, with the lab cloud).
pub fn password_reset_page(cloud: crate::config::Cloud, lab_url: Option<&str>) -> String {
    crate::entra::clouds::password_reset_page(cloud, lab_url)
}

/// Opens a sign-in or admin-center page in the system's browser.
pub fn open_in_browser(url: String) -> Result<(), String> {
    crate::entra::auth::open_in_browser(url)
}

/// Decides a licence from a saved `/subscribedSkus` answer (`licences --from-file`).
pub fn licence_from_json(json: &serde_json::Value) -> Result<crate::types::LicenceVerdict, String> {
    crate::entra::licence::verdict_from_json(json).map_err(|e| e.to_string())
}
