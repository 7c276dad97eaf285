//! The session: what both fronts need to go from settings, options and secrets to a bound AD
//! connection, a checked tenant, a sync-engine backend, and the engine's inputs. The CLI and the
//! wizard build an [`Options`], open a [`Session`] (or an [`AdSession`] for the directory alone)
//! and call the same methods; neither knows the other, and neither reaches the subsystems.

mod connect;
mod directory;
mod error;
mod forests;
pub mod guard;
mod reset_test;
mod run;
mod troubleshoot;

use std::path::PathBuf;
use std::sync::Arc;

pub use connect::{
    AdSession, DeviceCode, DirectorySpec, EntraSession, Interactive, Untrusted, connect, connect_to, entra,
    licence_from_json, open_in_browser, password_reset_page, primary, sign_in, sign_in_for, sign_out,
};
pub use directory::{AccessSummary, AclLine, AclView, DirectoryView, PasswordTest};
pub use error::{Error, Front, Input};
use forests::connect_named;
pub use forests::named_directories;
use forests::{ForestPart, NotCovered};
pub use reset_test::{Hop, ResetTrace, hops as reset_hops, parse_events};
pub use run::{Configured, Overview, PlanChoice};
pub use writeback_sync::is_loopback_url;

use crate::clock::{Clock, SystemClock};
use crate::config::{Settings, SettingsOverlay, SyncEngineKind};
use crate::diagnose::ErrorReport;
use crate::engine::paths::Paths;
use crate::entra::check::EntraCheck;
use crate::secrets::{self, Secret};
use crate::sync_engine::cloudsync::{CloudSync, Credential};
use crate::sync_engine::{Backend, EngineState, SyncError, adsync::AdSync, lab::LabEngine};

/// What lab mode hands the session before anything else: ordinary settings (a loopback DC with
/// its CA, the simulator's URL) and the secrets that go with them. The session does not know
/// where they came from; the lab makes them.
#[derive(Default)]
pub struct Preset {
    /// Settings that fill what the settings file and the flags leave empty; a DC the file or the
    /// flags name that is not this one is refused (lab mode is sealed to its own DC).
    pub settings: SettingsOverlay,
    /// The password of `settings.ad_user`.
    pub ad_password: Option<Secret>,
    /// The password of `settings.connector_account` (the canary).
    pub connector_password: Option<Secret>,
    /// An account of the tenant at `settings.lab_url` that signs in with a password.
    pub tenant_admin: Option<(String, Secret)>,
    /// What must stay alive while the session runs (the in-process tenant simulator).
    pub keep: Vec<Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preset").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// What a front hands the session: where the settings are, lab mode, which front it is, the
/// options given on top of the settings file, and the clock.
#[derive(Debug, Clone)]
pub struct Options {
    pub config_path: PathBuf,
    /// `--lab`: settings and state of its own, sealed to the lab's DC and tenant.
    pub lab: bool,
    /// Lab mode's values, once the lab is up.
    pub preset: Option<Arc<Preset>>,
    pub front: Front,
    /// Flags (or the wizard's fields) over the settings file.
    pub flags: SettingsOverlay,
    /// Read for every time the product records or compares.
    pub clock: Arc<dyn Clock>,
    /// Where the engine keeps its files (the platform's, or lab mode's own).
    pub paths: Paths,
}

impl Options {
    /// Options with the system clock. Lab mode is sealed: its settings and state live in a
    /// folder of their own (`lab-mode` in the data folder), whatever `--config` names, so nothing
    /// done in the lab touches production settings, journal, grant record or audit log.
    pub fn new(config_path: PathBuf, lab: bool, front: Front, flags: SettingsOverlay) -> Options {
        let config_path = if lab { lab_mode_dir().join("settings.toml") } else { config_path };
        let paths = if lab {
            let dir = lab_mode_dir();
            Paths { state_dir: dir.join("state"), audit_log: dir.join("audit.jsonl"), settings: config_path.clone() }
        } else {
            Paths::default_for(config_path.clone())
        };
        Options { config_path, lab, preset: None, front, flags, clock: Arc::new(SystemClock), paths }
    }

    /// The settings file with the flags over it.
    pub fn settings(&self) -> Result<Settings, Error> {
        Ok(Settings::load(&self.config_path)?.overlay(&self.flags))
    }

    /// Which sync engine the settings name: the lab's when the cloud is the lab; else Cloud Sync
    /// where its provisioning agent is installed and Entra Connect is not; else Entra Connect.
    pub fn sync_engine(&self, settings: &Settings) -> SyncEngineKind {
        settings.sync_engine.unwrap_or_else(|| {
            if self.lab || settings.cloud == Some(crate::config::Cloud::Lab) || settings.lab_url.is_some() {
                return SyncEngineKind::Lab;
            }
            match crate::platform::installed_sync_engines() {
                (false, true) => SyncEngineKind::Cloudsync,
                _ => SyncEngineKind::Adsync,
            }
        })
    }

    /// Writes the settings (with the flags over them) to `path`: `config export`, and the
    /// wizard's "Export settings…".
    pub fn export(&self, path: &std::path::Path) -> Result<(), Error> {
        Ok(self.settings()?.save(path)?)
    }

    /// What importing `file` over this machine's settings would change (nothing is written).
    pub fn preview_import(&self, file: &std::path::Path) -> Result<crate::config::ImportPreview, Error> {
        Ok(crate::config::preview_import(file, &self.config_path)?)
    }

    /// Writes an import the person confirmed. The file's certificate pin only with
    /// `take_their_pin` (the command line's `--yes`, after the fingerprint was shown); the
    /// wizard never takes another machine's pin.
    pub fn import(&self, preview: crate::config::ImportPreview, take_their_pin: bool) -> Result<Settings, Error> {
        crate::config::apply_import(preview, &self.config_path, take_their_pin)?;
        Ok(Settings::load(&self.config_path)?)
    }

    /// Remembers a DC certificate the person trusted: the next run connects without asking.
    pub fn trust_certificate(&mut self, fingerprint: &str) -> Result<(), Error> {
        self.flags.ad_fingerprint = Some(fingerprint.to_string());
        let mut saved = Settings::load(&self.config_path)?;
        saved.ad_fingerprint = Some(fingerprint.to_string());
        Ok(saved.save(&self.config_path)?)
    }
}

/// Lab mode's own folder for its settings and state.
pub fn lab_mode_dir() -> PathBuf {
    crate::platform::data_dir().join("lab-mode")
}

/// Everything the engine's calls need, opened once per command (or per wizard connection).
pub struct Session {
    opts: Options,
    /// Each forest covered, the first being the one the command line or the settings name first.
    forests: Vec<ForestPart>,
    /// The tenant, when it was wanted (or why it could not be reached).
    entra: Option<Result<EntraSession, Error>>,
    /// The sync engine, or why there is none.
    backend: Result<Backend, SyncError>,
    /// The forests the sync engine (or the settings) name that this run does not cover.
    not_covered: Vec<NotCovered>,
}

impl Session {
    /// Connects to every directory the configuration names and, when `want_tenant` (or the lab
    /// sync engine needs its token), signs in to the tenant as `how` allows; then to each forest
    /// the sync engine serves beyond them.
    pub async fn open(opts: &Options, want_tenant: bool, how: Interactive<'_>) -> Result<Session, Error> {
        Session::opening(opts, want_tenant, how, false).await.map(|(s, _)| s)
    }

    /// [`Session::open`] signed in to the tenant, with what `status` and `verify` read first —
    /// the tenant's check and the sync engine's state — read while the directories are reached.
    pub async fn open_reading(opts: &Options, how: Interactive<'_>) -> Result<(Session, FirstReads), Error> {
        Session::opening(opts, true, how, true).await
    }

    async fn opening(
        opts: &Options,
        want_tenant: bool,
        how: Interactive<'_>,
        check_tenant: bool,
    ) -> Result<(Session, FirstReads), Error> {
        let settings = opts.settings()?;
        let wanted = want_tenant || opts.sync_engine(&settings) == SyncEngineKind::Lab;
        // The two sign-ins at once (across a WAN each is several round trips); only the tenant's
        // questions wait until the directories are done with theirs.
        let (asked, may_ask) = tokio::sync::oneshot::channel::<bool>();
        let directories = async {
            let connected = connect_named(opts, None).await;
            let _ = asked.send(connected.is_ok());
            connected
        };
        // Neither the sync engine's state (PowerShell on a sync server takes seconds) nor the
        // tenant's check needs a directory: read beside them too.
        let tenant_and_engine = async {
            let entra = match wanted {
                true => Some(connect::entra_when(opts, how, async { may_ask.await.unwrap_or(false) }).await),
                false => None,
            };
            let check = async {
                match check_tenant {
                    true => tenant_check(entra.as_ref(), opts.clock.as_ref()).await,
                    false => None,
                }
            };
            let (engine, tenant) = tokio::join!(Engine::read(opts, &settings, entra.as_ref()), check);
            Ok::<_, Error>((entra, engine, tenant))
        };
        // A directory that fails ends it at once (the other reads are dropped, not waited for).
        let ((ads, left_out), (entra, engine, tenant)) = tokio::try_join!(directories, tenant_and_engine)?;
        let sync = engine.state.clone().map(|mut state| {
            state.assess(opts.clock.now());
            state
        });
        let session = Session::assemble_all(opts, ads, entra, left_out, Some(engine)).await?;
        Ok((session, FirstReads { tenant, sync }))
    }

    /// Puts a session together from one directory connection and (maybe) a tenant sign-in.
    pub async fn assemble(
        opts: &Options,
        ad: AdSession,
        entra: Option<Result<EntraSession, Error>>,
    ) -> Result<Session, Error> {
        Session::assemble_all(opts, vec![ad], entra, Vec::new(), None).await
    }

    /// Puts a session together from the directories reached and (maybe) a tenant sign-in: the
    /// sync engine, each forest it serves beyond them, each forest's connector account and
    /// scopes. `left_out` are forests left out on purpose (the wizard's unticked rows).
    pub async fn assemble_with(
        opts: &Options,
        ads: Vec<AdSession>,
        entra: Option<Result<EntraSession, Error>>,
        left_out: Vec<String>,
    ) -> Result<Session, Error> {
        let left = left_out
            .into_iter()
            .map(|forest| NotCovered { forest, left_out: true, why: "left out on purpose (unticked)".into() })
            .collect();
        Session::assemble_all(opts, ads, entra, left, None).await
    }

    async fn assemble_all(
        opts: &Options,
        mut ads: Vec<AdSession>,
        entra: Option<Result<EntraSession, Error>>,
        mut not_covered: Vec<NotCovered>,
        engine: Option<Engine>,
    ) -> Result<Session, Error> {
        let Some(first) = ads.first() else {
            return Err(Error::Usage {
                message: "every forest of the configuration is left out".into(),
                remedy: "Leave at least one forest in (drop a --leave-out, or tick a row).".into(),
            });
        };
        let Engine { backend, state } = match engine {
            Some(read) => read,
            None => Engine::read(opts, &first.settings.clone(), entra.as_ref()).await,
        };
        let known = state.ok();
        if let Some(state) = &known {
            let (more, missed) = forests::connect_engine_forests(opts, state, &ads).await?;
            ads.extend(more);
            // A forest left out in the wizard and also named by the engine is said once.
            for m in missed {
                if !not_covered.iter().any(|n| n.forest.eq_ignore_ascii_case(&m.forest)) {
                    not_covered.push(m);
                }
            }
        }
        let mut known_forests: Vec<String> = ads.iter().map(|a| a.forest.clone()).collect();
        known_forests.extend(not_covered.iter().map(|n| n.forest.clone()));
        forests::check_left_out(opts, &known_forests)?;
        let mut parts = Vec::new();
        for mut ad in ads {
            let (connector, connector_source) = ad.find_connector(known.as_ref()).await?;
            let scopes = ad.default_scopes(known.as_ref());
            parts.push(ForestPart { ad, domains: Vec::new(), connector, connector_source, scopes });
        }
        Ok(Session { opts: opts.clone(), forests: parts, entra, backend, not_covered })
    }

    /// The options this session was opened with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    fn first(&mut self) -> &mut ForestPart {
        // A session always holds a forest (assemble refuses none).
        &mut self.forests[0]
    }

    /// The first forest's directory connection.
    pub fn directory(&mut self) -> &mut AdSession {
        &mut self.first().ad
    }

    /// The forests covered, by DNS name, in order.
    pub fn forest_names(&self) -> Vec<String> {
        self.forests.iter().map(|f| f.name().to_string()).collect()
    }

    /// Where the permissions go in the first forest.
    pub fn scopes(&self) -> &[String] {
        &self.forests[0].scopes
    }

    /// The first forest's connector account's DN, when known.
    pub fn connector_dn(&self) -> Option<&str> {
        self.forests[0].connector.as_ref().map(|a| a.dn.as_str())
    }

    /// What the wizard shows once connected, for the first forest: the DC, the domains, the
    /// Enterprise Admins verdict, the connector account candidates, and the one chosen with where
    /// it came from.
    pub async fn view(&mut self) -> Result<DirectoryView, Error> {
        Ok(self.views().await?.remove(0))
    }

    /// The same for every forest covered, in order.
    pub async fn views(&mut self) -> Result<Vec<DirectoryView>, Error> {
        let views = futures_util::future::try_join_all(
            self.forests
                .iter_mut()
                .map(|f| async move { f.ad.view(f.connector.as_ref(), f.connector_source.as_deref()).await }),
        )
        .await?;
        Ok(views)
    }

    /// The simulator's base URL, when the tenant is the lab's.
    pub fn lab_url(&self) -> Option<String> {
        match &self.entra {
            Some(Ok(e)) => e.lab_url.clone(),
            _ => None,
        }
    }

    /// Keeps the engine's files elsewhere (tests; a portable install).
    pub fn set_paths(&mut self, paths: Paths) {
        self.opts.paths = paths;
    }

    /// The Global Administrator whom Cloud Sync's switch signs in as, given in the wizard: the
    /// typed password, or with lab mode (no password typed) the lab tenant's administrator.
    pub fn set_cloudsync_credential(&mut self, user: String, typed: Option<Secret>) -> Result<(), Error> {
        let lab_admin = self.opts.preset.as_ref().and_then(|p| p.tenant_admin.as_ref()).map(|(_, p)| p.clone());
        let password = match typed.or(lab_admin) {
            Some(p) => p,
            None => return Err(SyncError::NeedsCredential.into()),
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

    /// The sync engine's state, with what it means today (its warnings).
    pub async fn sync_state(&self) -> Result<EngineState, SyncError> {
        let mut state = match &self.backend {
            Ok(b) => crate::sync_engine::SyncEngine::state(b).await?,
            Err(e) => return Err(e.clone()),
        };
        state.assess(self.opts.clock.now());
        Ok(state)
    }

    /// Fails when there is no sync engine to switch (why, as the sync engine's error).
    pub fn sync_engine_ready(&self) -> Result<(), Error> {
        self.backend.as_ref().map(|_| ()).map_err(|e| e.clone().into())
    }

    /// The sync engine is Entra Cloud Sync.
    pub async fn is_cloudsync(&self) -> bool {
        self.sync_state().await.is_ok_and(|s| s.flavour == SyncEngineKind::Cloudsync)
    }
}

/// What `status` and `verify` read first (see [`Session::open_reading`]).
pub struct FirstReads {
    /// The tenant's check, as [`Session::tenant`] gives it.
    pub tenant: Option<Result<EntraCheck, ErrorReport>>,
    /// The sync engine's state, as [`Session::sync_state`] gives it.
    pub sync: Result<EngineState, SyncError>,
}

/// The sync engine and what it said of itself when the session opened.
struct Engine {
    backend: Result<Backend, SyncError>,
    state: Result<EngineState, SyncError>,
}

impl Engine {
    async fn read(opts: &Options, settings: &Settings, entra: Option<&Result<EntraSession, Error>>) -> Engine {
        let backend = backend_for(opts, settings, lab_access(entra));
        let state = match &backend {
            Ok(b) => crate::sync_engine::SyncEngine::state(b).await,
            Err(e) => Err(e.clone()),
        };
        Engine { backend, state }
    }
}

/// The tenant's check (`None`: no sign-in was wanted).
async fn tenant_check(
    entra: Option<&Result<EntraSession, Error>>,
    clock: &dyn Clock,
) -> Option<Result<EntraCheck, ErrorReport>> {
    match entra {
        Some(Ok(e)) => Some(e.check(clock).await.map_err(|err| ErrorReport::brief(&err))),
        Some(Err(e)) => Some(Err(ErrorReport::brief(e))),
        None => None,
    }
}

/// What the lab sync engine is reached with: the simulator's URL and the tenant's token.
fn lab_access(entra: Option<&Result<EntraSession, Error>>) -> Result<(String, Secret), SyncError> {
    match entra {
        Some(Ok(e)) => match &e.lab_url {
            Some(url) => Ok((url.clone(), e.token.clone())),
            None => Err(SyncError::Unavailable { detail: "the lab sync engine needs --lab-url (or --lab)".into() }),
        },
        Some(Err(e)) => Err(SyncError::Unavailable {
            detail: format!("the lab sync engine needs a tenant administrator's token: {e}"),
        }),
        None => Err(SyncError::Unavailable { detail: "no token for the lab sync engine".into() }),
    }
}

/// The sync engine the settings name, reached as they say (the lab's with `lab`).
fn backend_for(
    opts: &Options,
    settings: &Settings,
    lab: Result<(String, Secret), SyncError>,
) -> Result<Backend, SyncError> {
    let timeout = settings.sync_engine_timeout.map(std::time::Duration::from_secs);
    match opts.sync_engine(settings) {
        SyncEngineKind::Adsync => {
            let engine = AdSync::default();
            Ok(Backend::AdSync(match timeout {
                Some(t) => engine.with_timeout(t),
                None => engine,
            }))
        }
        SyncEngineKind::Cloudsync => {
            let engine = CloudSync::default().with_credential(cloudsync_credential(settings));
            Ok(Backend::CloudSync(match timeout {
                Some(t) => engine.with_timeout(t),
                None => engine,
            }))
        }
        SyncEngineKind::Lab => {
            let (url, token) = lab?;
            LabEngine::new(&url, token)
                .map(|engine| Backend::Lab(engine.with_credential(cloudsync_credential(settings))))
        }
    }
}

/// The forests of the configuration, for the wizard's rows: the settings' (the top-level
/// forest and each `[[directory]]` table's), then each the sync engine serves (Entra Connect
/// names each AD connector after its forest: `Get-ADSyncConnector`, docs/sync-engines.md; the
/// lab's lists its `ad_connectors`). The sync engine is asked with `entra`'s token where it needs
/// one; one it cannot ask adds nothing — a convenience, never a requirement.
pub async fn configured_forests(opts: &Options, entra: Option<&EntraSession>) -> Vec<String> {
    let Ok(settings) = opts.settings() else { return Vec::new() };
    let mut names: Vec<String> = settings.forest.iter().cloned().collect();
    names.extend(settings.directories.iter().map(|d| d.forest.clone()));
    let lab = match entra {
        Some(e) => e.lab_url.clone().map(|u| (u, e.token.clone())).ok_or(SyncError::NeedsCredential),
        None => Err(SyncError::NeedsCredential),
    };
    match backend_for(opts, &settings, lab) {
        Ok(b) => match crate::sync_engine::SyncEngine::state(&b).await {
            Ok(state) => names.extend(forests::engine_forests(&state)),
            Err(e) => tracing::info!(error = %e, "the sync engine names no forests"),
        },
        Err(e) => tracing::info!(error = %e, "no sync engine to ask for its forests"),
    }
    let mut seen = Vec::<String>::new();
    names.retain(|n| {
        let new = !seen.iter().any(|s| s.eq_ignore_ascii_case(n));
        seen.push(n.clone());
        new
    });
    names
}

/// Cloud Sync's switch credential from the settings and the environment (`--cloudsync-admin` and
/// WRITEBACK_CLOUDSYNC_PASSWORD), for one run.
fn cloudsync_credential(settings: &Settings) -> Option<Credential> {
    match (&settings.cloudsync_admin, secrets::from_env_only(secrets::CLOUDSYNC_PASSWORD_ENV)) {
        (Some(user), Some(password)) => Some(Credential { user: user.clone(), password }),
        _ => None,
    }
}
