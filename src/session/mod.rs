//! The session: what both fronts need to go from settings, options and secrets to a bound AD
//! connection, a checked tenant, a sync-engine backend, and the engine's inputs. The CLI and the
//! wizard build an [`Options`], open a [`Session`] and call the same methods; neither knows the
//! other.

mod connect;
mod error;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use connect::{AdSession, DeviceCode, EntraSession, Interactive, connect, entra, sign_in_for};
pub use error::{Error, Front, Input};

use crate::ad::directory::{self, Account};
use crate::clock::{Clock, SystemClock};
use crate::config::{Cloud, Settings, SettingsOverlay, SyncEngineKind};
use crate::diagnose::ErrorReport;
use crate::engine::apply::{self, ApplyOutcome, Env, Paths, Progress, Recovery};
use crate::engine::grants::GrantRecord;
use crate::engine::{self, Inputs, Plan};
use crate::entra::check::EntraCheck;
use crate::secrets::{self, Secret};
use crate::sync_engine::cloudsync::{CloudSync, Credential};
use crate::sync_engine::{Backend, EngineState, SyncEngine, SyncError, adsync::AdSync, lab::LabEngine};

/// What a front hands the session: where the settings are, lab mode, which front it is, the
/// options given on top of the settings file, and the clock.
#[derive(Debug, Clone)]
pub struct Options {
    pub config_path: PathBuf,
    /// `--lab`: the lab DC and, without a lab URL, an in-process tenant simulator.
    pub lab: bool,
    pub front: Front,
    /// Flags (or the wizard's fields) over the settings file.
    pub flags: SettingsOverlay,
    /// Read for every time the product records or compares.
    pub clock: Arc<dyn Clock>,
}

impl Options {
    /// Options with the system clock. Lab mode is sealed: its settings and state live in a
    /// folder of their own (`lab-mode` in the data folder), whatever `--config` names, so nothing
    /// done in the lab touches production settings, journal, grant record or audit log.
    pub fn new(config_path: PathBuf, lab: bool, front: Front, flags: SettingsOverlay) -> Options {
        let config_path = if lab { lab_mode_dir().join("settings.toml") } else { config_path };
        Options { config_path, lab, front, flags, clock: Arc::new(SystemClock) }
    }

    /// The settings file with the flags over it.
    pub fn settings(&self) -> Result<Settings, Error> {
        Ok(Settings::load(&self.config_path)?.overlay(&self.flags))
    }

    /// Which sync engine the settings name: the lab's when the cloud is the lab; else Cloud Sync
    /// where its provisioning agent is installed and Entra Connect is not; else Entra Connect.
    pub fn sync_engine(&self, settings: &Settings) -> SyncEngineKind {
        settings.sync_engine.unwrap_or_else(|| {
            if self.lab || settings.cloud == Some(Cloud::Lab) || settings.lab_url.is_some() {
                return SyncEngineKind::Lab;
            }
            match crate::platform::installed_sync_engines() {
                (false, true) => SyncEngineKind::Cloudsync,
                _ => SyncEngineKind::Adsync,
            }
        })
    }

    /// The engine's files for these settings (lab mode's own, with `--lab`).
    pub fn paths(&self) -> Paths {
        if self.lab {
            let dir = lab_mode_dir();
            return Paths {
                state_dir: dir.join("state"),
                audit_log: dir.join("audit.jsonl"),
                settings: self.config_path.clone(),
            };
        }
        Paths::default_for(self.config_path.clone())
    }
}

/// Lab mode's own folder for its settings and state.
pub fn lab_mode_dir() -> PathBuf {
    crate::platform::data_dir().join("lab-mode")
}

/// The AD DS connector account: named in the settings; else the one the sync engine signs in
/// with (Entra Connect's AD connector for the bound DC's forest, or Cloud Sync's agent account);
/// else the only `MSOL_` account. With where it came from, in words.
async fn find_connector(
    ad: &mut AdSession,
    state: Option<&EngineState>,
) -> Result<(Option<Account>, Option<String>), Error> {
    if let Some(name) = ad.settings.connector_account.clone() {
        let found = directory::find_account(&mut ad.conn, &ad.disc, &name).await?;
        return Ok((found, Some(format!("named in the settings or with --connector-account ({name})"))));
    }
    if let Some(state) = state {
        let here = |domain: &str| ad.disc.domains.iter().any(|d| d.dns_name.eq_ignore_ascii_case(domain));
        let ours: Vec<&crate::sync_engine::AdConnector> =
            state.ad_connectors.iter().filter(|c| here(&c.domain) && !c.user.is_empty()).collect();
        if let Some(c) = ours.first() {
            let name = format!("{}\\{}", c.domain, c.user);
            let found = directory::find_account(&mut ad.conn, &ad.disc, &name).await?;
            let mut source = format!("read from the sync engine: AD connector '{}' signs in as {name}", c.name);
            if state.ad_connectors.len() > 1 {
                let all: Vec<&str> = state.ad_connectors.iter().map(|c| c.name.as_str()).collect();
                source.push_str(&format!(
                    "; the sync engine has {} AD connectors ({}): only this forest, the bound DC's, is acted on",
                    all.len(),
                    all.join(", ")
                ));
            }
            return Ok((found, Some(source)));
        }
        if let Some(agent) = &state.agent_account {
            let found = directory::find_account(&mut ad.conn, &ad.disc, agent).await?;
            return Ok((found, Some(format!("read from the sync engine: the Cloud Sync agent runs as {agent}"))));
        }
    }
    let found = directory::connector_candidates(&mut ad.conn, &ad.disc, None).await?;
    Ok(if found.len() == 1 {
        let only = found.into_iter().next();
        let source = only.as_ref().map(|a| format!("the only MSOL_ account in the domain ({})", a.sam_account_name));
        (only, source)
    } else {
        (None, None)
    })
}

/// Where the permissions go: the scopes chosen, else the root of the bound account's domain.
pub fn scopes_of(settings: &Settings, disc: &directory::Discovery) -> Vec<String> {
    if settings.scope.is_empty() { vec![disc.default_naming_context.clone()] } else { settings.scope.clone() }
}

/// Everything the engine's calls need, opened once per command (or per wizard connection).
pub struct Session {
    pub opts: Options,
    pub ad: AdSession,
    /// The tenant, when it was wanted (or why it could not be reached).
    pub entra: Option<Result<EntraSession, Error>>,
    /// The sync engine, or why there is none.
    pub backend: Result<Backend, SyncError>,
    /// The connector account, when named, known to the sync engine or the only candidate.
    pub connector: Option<Account>,
    /// Where it came from, in words (the plan and the status say it).
    pub connector_source: Option<String>,
    pub scopes: Vec<String>,
    /// The engine's files.
    pub paths: Paths,
}

impl Session {
    /// Connects to AD and, when `want_tenant` (or the lab sync engine needs its token), signs in
    /// to the tenant as `how` allows.
    pub async fn open(opts: &Options, want_tenant: bool, how: Interactive<'_>) -> Result<Session, Error> {
        let ad = connect(opts, None).await?;
        let entra = if want_tenant || opts.sync_engine(&ad.settings) == SyncEngineKind::Lab {
            Some(entra(opts, how).await)
        } else {
            None
        };
        Session::assemble(opts, ad, entra).await
    }

    /// Puts a session together from a directory connection and (maybe) a tenant sign-in: the
    /// sync engine, the connector account, the scopes.
    pub async fn assemble(
        opts: &Options,
        mut ad: AdSession,
        entra: Option<Result<EntraSession, Error>>,
    ) -> Result<Session, Error> {
        let backend = match opts.sync_engine(&ad.settings) {
            SyncEngineKind::Adsync => Ok(Backend::AdSync(match ad.settings.sync_engine_timeout {
                Some(secs) => AdSync::default().with_timeout(std::time::Duration::from_secs(secs)),
                None => AdSync::default(),
            })),
            SyncEngineKind::Cloudsync => {
                let engine = CloudSync::default().with_credential(cloudsync_credential(&ad.settings));
                Ok(Backend::CloudSync(match ad.settings.sync_engine_timeout {
                    Some(secs) => engine.with_timeout(std::time::Duration::from_secs(secs)),
                    None => engine,
                }))
            }
            SyncEngineKind::Lab => match &entra {
                Some(Ok(e)) => match &e.lab_url {
                    Some(url) => Ok(Backend::Lab(
                        LabEngine::new(url, e.token.clone()).with_credential(cloudsync_credential(&ad.settings)),
                    )),
                    None => Err("the lab sync engine needs --lab-url (or --lab)".to_string()),
                },
                Some(Err(e)) => Err(format!("the lab sync engine needs a tenant administrator's token: {e}")),
                None => Err("no token for the lab sync engine".into()),
            }
            .map_err(|detail| SyncError::Unavailable { detail }),
        };
        let known = match &backend {
            Ok(b) => b.state().await.ok(),
            Err(_) => None,
        };
        let (connector, connector_source) = find_connector(&mut ad, known.as_ref()).await?;
        let scopes = scopes_of(&ad.settings, &ad.disc);
        Ok(Session { opts: opts.clone(), ad, entra, backend, connector, connector_source, scopes, paths: opts.paths() })
    }

    /// The Global Administrator whom Cloud Sync's switch signs in as, given in the wizard: the
    /// typed password, or with `--lab` (no password typed) the in-process tenant's administrator.
    pub fn set_cloudsync_credential(&mut self, user: String, typed: Option<Secret>) -> Result<(), Error> {
        let password = match (typed, &self.entra) {
            (Some(p), _) => p,
            (None, Some(Ok(EntraSession { _lab_tenant: Some(t), .. }))) => t.admin_password(),
            (None, _) => return Err(crate::sync_engine::SyncError::NeedsCredential.into()),
        };
        let credential = Some(Credential { user, password });
        if let Ok(b) = &mut self.backend {
            match b {
                Backend::CloudSync(e) => e.set_credential(credential),
                Backend::Lab(e) => e.set_credential(credential),
                Backend::AdSync(_) => {}
            }
        }
        Ok(())
    }

    /// The tenant's readiness, when there is a tenant.
    pub async fn tenant(&self) -> Option<Result<EntraCheck, ErrorReport>> {
        match &self.entra {
            Some(Ok(e)) => Some(
                crate::entra::check::check(&e.graph, self.opts.clock.now())
                    .await
                    .map_err(|err| ErrorReport::brief(&err)),
            ),
            Some(Err(e)) => Some(Err(ErrorReport::brief(e))),
            None => None,
        }
    }

    /// The sync engine's state, with what it means today (its warnings).
    pub async fn sync_state(&self) -> Result<EngineState, SyncError> {
        let mut state = match &self.backend {
            Ok(b) => b.state().await?,
            Err(e) => return Err(e.clone()),
        };
        state.assess(self.opts.clock.now());
        Ok(state)
    }

    fn inputs<'a>(
        &'a mut self,
        tenant: Option<Result<EntraCheck, ErrorReport>>,
        sync: Result<EngineState, SyncError>,
        granted: &'a std::collections::BTreeMap<String, Vec<crate::ad::sd::Ace>>,
        findings: Option<crate::ad::scan::Findings>,
    ) -> Inputs<'a> {
        Inputs {
            ad: &mut self.ad.conn,
            disc: &self.ad.disc,
            operator: &self.ad.account,
            connector: self.connector.as_ref(),
            scopes: &self.scopes,
            include_adminsdholder: self.opts.flags.include_adminsdholder,
            tenant,
            sync,
            granted,
            connector_source: self.connector_source.clone(),
            findings,
        }
    }

    /// What the readiness scan finds in the scopes, the minimum age included (for the plan).
    pub async fn findings(&mut self, cancel: &CancellationToken) -> Result<crate::ad::scan::Findings, Error> {
        let domain = crate::ad::policy::domain_policy(&mut self.ad.conn, &self.ad.disc).await?;
        let min_age =
            crate::ad::readiness::min_age(&mut self.ad.conn, &self.ad.disc, &domain, self.opts.clock.now()).await?;
        let sid = self.connector.as_ref().and_then(|c| crate::ad::sd::Sid::parse(&c.sid).ok());
        Ok(crate::ad::scan::scan_with(
            &mut self.ad.conn,
            &self.scopes,
            sid.as_ref(),
            Some(&min_age),
            cancel,
            &mut |_| {},
        )
        .await?)
    }

    /// The engine's status, with the tenant and sync-engine answers the caller already has.
    pub async fn status(
        &mut self,
        tenant: Option<Result<EntraCheck, ErrorReport>>,
        sync: Result<EngineState, SyncError>,
    ) -> Result<engine::Status, Error> {
        let unfinished = engine::journal::unfinished(&self.paths.state_dir)?;
        let record = GrantRecord::load(&self.paths)?;
        let mut inp = self.inputs(tenant, sync, record.table(), None);
        Ok(engine::status(&mut inp, unfinished).await?)
    }

    /// Plans enabling or disabling.
    /// `cancel` stops the readiness scan an enable plan runs (the wizard's Cancel).
    pub async fn plan(
        &mut self,
        enable: bool,
        remove_preexisting: bool,
        cancel: &CancellationToken,
    ) -> Result<Plan, Error> {
        let tenant = if enable { self.tenant().await } else { None };
        let sync = self.sync_state().await;
        let record = GrantRecord::load(&self.paths)?;
        let findings = if enable { Some(self.findings(cancel).await?) } else { None };
        let mut inp = self.inputs(tenant, sync, record.table(), findings);
        Ok(if enable {
            engine::plan_enable(&mut inp).await?
        } else {
            engine::plan_disable(&mut inp, remove_preexisting).await?
        })
    }

    /// Applies a plan (`recovery`: roll back or resume the unfinished apply in that journal
    /// instead).
    pub async fn apply(
        &mut self,
        plan: Option<&Plan>,
        recovery: Option<(&Path, Recovery)>,
        start_sync: bool,
        cancel: &CancellationToken,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<ApplyOutcome, Error> {
        let backend = self.backend.as_ref().map_err(Clone::clone)?;
        let mut grants = GrantRecord::load(&self.paths)?;
        let mut env = Env {
            ad: &mut self.ad.conn,
            sync: backend,
            paths: &self.paths,
            grants: &mut grants,
            operator: &self.ad.account.dn,
            cancel,
            progress,
            clock: self.opts.clock.as_ref(),
            directory: crate::engine::journal::Directory::of(&self.ad.disc),
        };
        Ok(match (recovery, plan) {
            (Some((path, how)), _) => apply::recover(path, how, &mut env).await?,
            (None, Some(plan)) => apply::apply(plan, &mut env, start_sync).await?,
            (None, None) => {
                ApplyOutcome { applied: Vec::new(), verified: false, sync_started: false, warnings: Vec::new() }
            }
        })
    }

    /// Binds as the connector account (for the canary), with the password typed into the
    /// wizard, or the lab's, or from the secrets lookup.
    pub async fn connector_connection(&self, typed: Option<Secret>) -> Result<crate::ad::AdConnection, Error> {
        let connector =
            self.connector.as_ref().ok_or(Error::Missing { input: Input::ConnectorAccount, front: self.opts.front })?;
        let password = match (typed, &self.ad.lab, std::env::var_os(secrets::CONNECTOR_PASSWORD.env_var)) {
            (Some(p), _, _) => p,
            (None, Some(info), None) => connect::lab_password(&info.connector_password_file)?,
            _ => secrets::resolve_default(secrets::CONNECTOR_PASSWORD)?,
        };
        let mut conn = crate::ad::AdConnection::connect(&self.ad.options).await?;
        conn.bind(&connector.dn, &password).await?;
        Ok(conn)
    }

    /// Proves writeback on `user`, bound as the connector account.
    pub async fn canary(&mut self, user: &str, typed: Option<Secret>) -> Result<apply::Canary, Error> {
        // Not the operator, not the connector: resetting either to a forgotten value locks out the
        // very accounts this procedure needs.
        if let Some(a) = directory::find_account(&mut self.ad.conn, &self.ad.disc, user).await? {
            let who = [
                (Some(&self.ad.account), "the account you are signed in with"),
                (self.connector.as_ref(), "the AD DS connector account"),
            ];
            if let Some((_, what)) =
                who.iter().find(|(acc, _)| acc.is_some_and(|acc| acc.dn.eq_ignore_ascii_case(&a.dn)))
            {
                return Err(
                    crate::engine::EngineError::CanaryRefused { user: a.dn, why: format!("it is {what}") }.into()
                );
            }
        }
        let mut as_connector = self.connector_connection(typed).await?;
        let result = apply::canary(&mut self.ad.conn, &self.ad.disc, &mut as_connector, user).await;
        as_connector.close().await;
        Ok(result?)
    }

    /// The on-premises readiness report (`ad check`, and the wizard's findings).
    pub async fn readiness(
        &mut self,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<crate::ad::readiness::Readiness, Error> {
        let named =
            self.connector.as_ref().map(|a| a.dn.clone()).or_else(|| self.ad.settings.connector_account.clone());
        Ok(crate::ad::readiness::check(
            &mut self.ad.conn,
            &self.ad.disc,
            &self.ad.account,
            crate::ad::readiness::Ask { named: named.as_deref(), scopes: &self.scopes, now: self.opts.clock.now() },
            cancel,
            progress,
        )
        .await?)
    }
}

/// Cloud Sync's switch credential from the settings and the environment (`--cloudsync-admin` and
/// WRITEBACK_CLOUDSYNC_PASSWORD), for one run.
fn cloudsync_credential(settings: &crate::config::Settings) -> Option<Credential> {
    match (&settings.cloudsync_admin, secrets::from_env_only(secrets::CLOUDSYNC_PASSWORD_ENV)) {
        (Some(user), Some(password)) => Some(Credential { user: user.clone(), password }),
        _ => None,
    }
}
