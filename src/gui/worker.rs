//! The engine task behind the wizard: the UI thread sends a [`Job`], the tokio runtime runs the
//! same engine calls as the CLI, and each answer comes back as a [`Msg`] the next frame reads.
//! Nothing here blocks the caller.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::GuiError;
use crate::ad::directory;
use crate::ad::readiness::Readiness;
use crate::config::SyncEngineKind;
use crate::diagnose::ErrorReport;
use crate::engine::apply::{self, ApplyOutcome, Progress};
use crate::engine::{Plan, Status};
use crate::entra::check::EntraCheck;
use crate::secrets::Secret;
use crate::session::{self, DeviceCode, EntraSession, Error, Interactive, Options, Session};

/// What the wizard asks for.
pub enum Job {
    /// Start (or reuse) the lab DC, to fill in the connection fields.
    LabUp,
    /// "Export settings…": the settings file with what the pages hold, to a file the person picks.
    Export,
    /// "Save log…": a copy of the log file, to a file the person picks.
    SaveLog,
    /// "Import settings…": a settings file the person picks, over this machine's (its own record
    /// of grants and its certificate pin stay).
    Import,
    /// The scope browser opened a node: its user count and its child OUs and containers.
    Children(String),
    /// A picker's search as the person types: the users and gMSAs whose name starts so.
    FindAccounts { picker: &'static str, text: String },
    /// Sign in to the tenant and check it.
    SignIn {
        /// The cloud chosen on the page (`None`: the settings').
        cloud: Option<crate::config::Cloud>,
        /// A device code instead of the browser.
        device_code: bool,
    },
    /// Connect to the DC and bind; the password as typed (never stored by the wizard).
    Connect {
        /// The DC's URL.
        ad_url: String,
        /// The Enterprise Admin.
        ad_user: String,
        /// Their password; `None` lets the lab (or the secrets lookup) supply it.
        password: Option<Secret>,
        /// A certificate the person chose to trust (SHA-256): pinned, and kept in the settings.
        trust: Option<String>,
        /// How long one LDAP operation may take, in seconds (`--ad-timeout`).
        ad_timeout: Option<u64>,
    },
    /// Choose the connector account and the scopes, then read today's state.
    Choose {
        /// The connector account's DN.
        connector: Option<String>,
        /// Where the permissions go.
        scopes: Vec<String>,
    },
    /// Today's state.
    Status,
    /// Rolls back (or resumes) the unfinished apply whose journal is at this path.
    Recover { journal: PathBuf, roll_back: bool },
    /// Opens the admin center's Password reset page of the chosen cloud in the browser.
    OpenPortal(crate::config::Cloud),
    /// Plan enabling or disabling, with the page's options.
    Plan(PlanChoice),
    /// Apply the plan.
    Apply {
        /// The plan shown on the Ready page.
        plan: Box<Plan>,
        /// "Start the synchronization process when configuration completes".
        start_sync: bool,
        /// Prove writeback afterwards on this test account, with the connector's password (typed,
        /// or `None` for the lab's or the secrets lookup).
        canary: Option<(String, Option<Secret>)>,
        /// With Cloud Sync: the Global Administrator its switch signs in as, and the password typed
        /// (`None`: the lab tenant's administrator).
        cloudsync: Option<(String, Option<Secret>)>,
    },
    /// Test a password for an account against the policy that applies to it.
    TestPassword {
        /// sAMAccountName, UPN or DN.
        user: String,
        password: Secret,
    },
}

/// What the directory connection found.
#[derive(Debug, Clone)]
pub struct DirectoryView {
    /// The DC's name.
    pub dc: String,
    /// The domain root.
    pub domain: String,
    /// Every naming context that is a domain (scope candidates).
    pub domains: Vec<String>,
    /// The bound account.
    pub operator: String,
    /// It is an Enterprise Admin.
    pub enterprise_admin: bool,
    /// It is a Domain Admin (the usual near miss).
    pub domain_admin: bool,
    /// Connector account candidates, DNs with their sAMAccountName.
    pub candidates: Vec<(String, String)>,
    /// The one chosen by the settings (or the only candidate).
    pub chosen: Option<String>,
}

/// What the Optional features page asks of a plan (the CLI's `plan` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanChoice {
    /// Enable (`true`) or disable.
    pub enable: bool,
    /// `--include-adminsdholder`.
    pub include_adminsdholder: bool,
    /// `--remove-preexisting` (disable only).
    pub remove_preexisting: bool,
}

/// Today's state and the readiness report (the same value `ad check` prints).
#[derive(Debug, Clone)]
pub struct StatusView {
    pub status: Status,
    pub readiness: Readiness,
}

pub enum Msg {
    /// A node of the scope browser.
    Children {
        dn: String,
        /// Its users and children (or why they could not be read).
        found: Result<(usize, Vec<directory::ScopeNode>), ErrorReport>,
    },
    /// A picker's matches (for the text it searched).
    Accounts {
        picker: &'static str,
        text: String,
        found: Result<Vec<directory::AccountHit>, ErrorReport>,
    },
    /// A file was saved (`None`: the person chose no file).
    Saved(Result<Option<PathBuf>, ErrorReport>),
    /// Settings were imported (the file, and whether its pin was set aside), or none was chosen.
    Imported(Result<Option<(PathBuf, bool, Box<crate::config::Settings>)>, ErrorReport>),
    /// The admin center page was handed to the browser (its URL), or why not.
    Opened(Result<String, ErrorReport>),
    /// The lab DC is up.
    LabUp(Result<Box<crate::lab::LabInfo>, ErrorReport>),
    /// A device code to show while the sign-in waits.
    DeviceCode {
        /// The code to type.
        user_code: String,
        /// Where to type it.
        uri: String,
    },
    /// Signed in (or why not).
    SignedIn(Result<Box<EntraCheck>, ErrorReport>),
    /// Connected (or why not).
    Connected(Result<DirectoryView, ErrorReport>),
    /// The DC presented a certificate nothing here vouches for (or, with `changed_from`, another
    /// one than the certificate pinned): ask the person.
    Untrusted {
        /// The fingerprint that was pinned, when the certificate CHANGED.
        changed_from: Option<String>,
        /// What it presented.
        certificate: Box<crate::ad::tls::CertDetails>,
        /// The handshake error, for "Do not trust".
        report: ErrorReport,
    },
    /// Today's state, and the scan for what breaks writeback.
    Status(Result<Box<StatusView>, ErrorReport>),
    Planned(Result<Box<Plan>, ErrorReport>),
    /// A step's progress.
    Progress(Progress),
    /// The apply finished (and the canary's answer, when one was asked for).
    Applied(Result<(ApplyOutcome, Option<Result<apply::Canary, ErrorReport>>), ErrorReport>),
    /// The password tester's answer.
    Tested(Result<crate::ad::policy::Verdict, ErrorReport>),
}

/// The runtime and the state that outlives one job.
pub struct Worker {
    rt: tokio::runtime::Runtime,
    tx: mpsc::Sender<Msg>,
    rx: mpsc::Receiver<Msg>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    repaint: Arc<dyn Fn() + Send + Sync>,
    open: Browser,
    chooser: Chooser,
    /// Picks a file to open (Import settings…).
    opener: Chooser,
}

/// Opens a sign-in page (the system browser; tests fill the simulator's form instead).
pub type Browser = Arc<dyn Fn(String) -> Result<(), String> + Send + Sync>;

/// Asks where to save a file, given a suggested name (the system's save dialog through rfd;
/// `None` when the person cancels or there is no dialog to show).
pub type Chooser =
    Arc<dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<PathBuf>> + Send>> + Send + Sync>;

fn open_dialog() -> Chooser {
    Arc::new(|_name: String| {
        Box::pin(async move {
            rfd::AsyncFileDialog::new()
                .add_filter("Settings", &["toml"])
                .pick_file()
                .await
                .map(|h| h.path().to_path_buf())
        })
    })
}

fn save_dialog() -> Chooser {
    Arc::new(|name: String| {
        Box::pin(async move {
            rfd::AsyncFileDialog::new().set_file_name(name).save_file().await.map(|h| h.path().to_path_buf())
        })
    })
}

struct Shared {
    /// The session's options; the pages' fields (DC, user, cloud, a trusted certificate) are
    /// written into its flags as they are used.
    opts: std::sync::Mutex<Options>,
    entra: Mutex<Option<EntraSession>>,
    session: Mutex<Option<Session>>,
    paths: std::sync::Mutex<Option<apply::Paths>>,
    /// The log "Save log…" copies (the process's log file unless replaced).
    log_file: std::sync::Mutex<PathBuf>,
}

fn report(e: impl Into<GuiError>) -> ErrorReport {
    ErrorReport::from_error(&e.into())
}

impl Worker {
    /// Starts the runtime. `repaint` wakes the UI when an answer arrives.
    pub fn new(opts: Options, repaint: Arc<dyn Fn() + Send + Sync>) -> Result<Worker, GuiError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| GuiError::Runtime { detail: e.to_string() })?;
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            opts: std::sync::Mutex::new(opts),
            entra: Mutex::new(None),
            session: Mutex::new(None),
            paths: std::sync::Mutex::new(None),
            log_file: std::sync::Mutex::new(crate::logging::log_file()),
        });
        let open: Browser = Arc::new(crate::entra::auth::open_in_browser);
        Ok(Worker {
            rt,
            tx,
            rx,
            shared,
            cancel: CancellationToken::new(),
            repaint,
            open,
            chooser: save_dialog(),
            opener: open_dialog(),
        })
    }

    /// Keeps the journal and audit log elsewhere than the platform's data folder.
    pub fn set_paths(&self, paths: apply::Paths) {
        if let Ok(mut p) = self.shared.paths.lock() {
            *p = Some(paths);
        }
    }

    /// Copies another file on "Save log…" (tests; a log kept elsewhere).
    pub fn set_log_file(&self, path: PathBuf) {
        if let Ok(mut p) = self.shared.log_file.lock() {
            *p = path;
        }
    }

    /// Replaces the save dialog.
    pub fn set_chooser(&mut self, chooser: Chooser) {
        self.chooser = chooser;
    }

    /// Replaces the open dialog (tests pick the file themselves).
    pub fn set_opener(&mut self, opener: Chooser) {
        self.opener = opener;
    }

    /// Replaces how sign-in pages are opened.
    pub fn set_browser(&mut self, open: Browser) {
        self.open = open;
    }

    /// Answers that have arrived since the last call.
    pub fn poll(&self) -> Vec<Msg> {
        self.rx.try_iter().collect()
    }

    /// Cancels the running job (an apply stops between steps and undoes what it did).
    pub fn cancel(&mut self) {
        self.cancel.cancel();
        self.cancel = CancellationToken::new();
    }

    /// Starts a job.
    pub fn send(&self, job: Job) {
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        let cancel = self.cancel.clone();
        let repaint = self.repaint.clone();
        let open = self.open.clone();
        let chooser = self.chooser.clone();
        let opener = self.opener.clone();
        self.rt.spawn(async move {
            let progress_tx = tx.clone();
            let progress_repaint = repaint.clone();
            let progress = move |p: Progress| {
                let _ = progress_tx.send(Msg::Progress(p));
                progress_repaint();
            };
            let code_tx = tx.clone();
            let code_repaint = repaint.clone();
            let shown = move |code: DeviceCode| {
                let _ = code_tx.send(Msg::DeviceCode { user_code: code.user_code, uri: code.uri });
                code_repaint();
            };
            let ctx = Ctx {
                cancel: &cancel,
                progress: &progress,
                open: &open,
                shown: &shown,
                chooser: &chooser,
                opener: &opener,
            };
            let msg = run(&shared, job, &ctx).await;
            let _ = tx.send(msg);
            repaint();
        });
    }
}

fn opts_of(shared: &Shared) -> Options {
    shared.opts.lock().map(|a| a.clone()).unwrap_or_else(|p| p.into_inner().clone())
}

/// What a running job can reach besides the shared state.
struct Ctx<'a> {
    cancel: &'a CancellationToken,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    open: &'a Browser,
    shown: &'a (dyn Fn(DeviceCode) + Sync),
    chooser: &'a Chooser,
    opener: &'a Chooser,
}

async fn run(shared: &Shared, job: Job, ctx: &Ctx<'_>) -> Msg {
    let Ctx { cancel, progress, open, shown, chooser, opener } = *ctx;
    match job {
        Job::Export => Msg::Saved(save(shared, true, chooser).await),
        Job::SaveLog => Msg::Saved(save(shared, false, chooser).await),
        Job::Import => Msg::Imported(import(shared, opener).await),
        Job::Children(dn) => {
            let mut guard = shared.session.lock().await;
            let found = match guard.as_mut() {
                Some(s) => async {
                    let users = directory::count_users(&mut s.ad.conn, &dn, cancel).await?;
                    let children = directory::child_scopes(&mut s.ad.conn, &dn, cancel).await?;
                    Ok::<_, crate::ad::AdError>((users, children))
                }
                .await
                .map_err(report),
                None => Err(not_connected()),
            };
            Msg::Children { dn, found }
        }
        Job::FindAccounts { picker, text } => {
            let mut guard = shared.session.lock().await;
            let found = match guard.as_mut() {
                Some(s) => directory::search_accounts(&mut s.ad.conn, &s.ad.disc, &text, 12).await.map_err(report),
                None => Err(not_connected()),
            };
            Msg::Accounts { picker, text, found }
        }
        Job::LabUp => Msg::LabUp(
            crate::lab::up(&crate::lab::default_dir()).await.map(Box::new).map_err(|e| report(Error::from(e))),
        ),
        Job::SignIn { cloud, device_code } => {
            if let Some(c) = cloud
                && let Ok(mut o) = shared.opts.lock()
            {
                o.flags.cloud = Some(c);
            }
            let how = if device_code {
                Interactive::Device { shown, cancel }
            } else {
                Interactive::Browser { open: &|url: String| open(url), cancel }
            };
            Msg::SignedIn(sign_in(shared, how).await)
        }
        Job::Connect { ad_url, ad_user, password, trust, ad_timeout } => {
            match connect(shared, ConnectJob { ad_url, ad_user, password, trust, ad_timeout }, cancel, open).await {
                Err(GuiError::Session(Error::Ad(crate::ad::AdError::TlsHandshake {
                    url,
                    detail,
                    expected,
                    presented,
                    certificate: Some(certificate),
                }))) => {
                    let err = crate::ad::AdError::TlsHandshake { url, detail, expected, presented, certificate: None };
                    Msg::Untrusted { changed_from: None, certificate, report: report(err) }
                }
                Err(GuiError::Session(Error::Ad(crate::ad::AdError::CertChanged { url, pinned, certificate }))) => {
                    let err = crate::ad::AdError::CertChanged {
                        url,
                        pinned: pinned.clone(),
                        certificate: certificate.clone(),
                    };
                    Msg::Untrusted { changed_from: Some(pinned), certificate, report: report(err) }
                }
                other => Msg::Connected(other.map_err(report)),
            }
        }
        Job::Choose { connector, scopes } => {
            let mut guard = shared.session.lock().await;
            if let Some(s) = guard.as_mut() {
                if let Some(dn) = connector
                    && let Ok(Some(a)) = directory::find_account(&mut s.ad.conn, &s.ad.disc, &dn).await
                {
                    s.connector = Some(a);
                }
                if !scopes.is_empty() {
                    s.scopes = scopes;
                }
            }
            drop(guard);
            Msg::Status(status(shared, cancel).await)
        }
        Job::Status => Msg::Status(status(shared, cancel).await),
        Job::OpenPortal(cloud) => {
            // The simulator's address, when the cloud is the lab (from whichever sign-in holds it).
            let lab_url = shared.entra.lock().await.as_ref().and_then(|e| e.lab_url.clone());
            let session_lab = match shared.session.lock().await.as_ref().and_then(|s| s.entra.as_ref()) {
                Some(Ok(e)) => e.lab_url.clone(),
                _ => None,
            };
            let lab_url = lab_url.or(session_lab);
            let url = crate::entra::clouds::password_reset_page(cloud, lab_url.as_deref());
            Msg::Opened(
                open(url.clone()).map(|()| url.clone()).map_err(|detail| report(GuiError::Browser { url, detail })),
            )
        }
        Job::Plan(choice) => {
            let mut guard = shared.session.lock().await;
            Msg::Planned(match guard.as_mut() {
                Some(s) => {
                    s.opts.flags.include_adminsdholder = choice.include_adminsdholder;
                    s.plan(choice.enable, choice.remove_preexisting && !choice.enable, cancel)
                        .await
                        .map(Box::new)
                        .map_err(report)
                }
                None => Err(not_connected()),
            })
        }
        Job::Apply { plan, start_sync, canary, cloudsync } => {
            let mut guard = shared.session.lock().await;
            let Some(s) = guard.as_mut() else { return Msg::Applied(Err(not_connected())) };
            if let Some((user, password)) = cloudsync
                && let Err(e) = s.set_cloudsync_credential(user, password)
            {
                return Msg::Applied(Err(report(e)));
            }
            let outcome = match s.apply(Some(&plan), None, start_sync, cancel, progress).await {
                Ok(o) => o,
                Err(e) => return Msg::Applied(Err(report(e))),
            };
            let proved = match canary {
                Some((user, password)) if outcome.verified => Some(prove(s, &user, password).await),
                _ => None,
            };
            Msg::Applied(Ok((outcome, proved)))
        }
        Job::Recover { journal, roll_back } => {
            let mut guard = shared.session.lock().await;
            let Some(s) = guard.as_mut() else { return Msg::Applied(Err(not_connected())) };
            let how = if roll_back { apply::Recovery::Rollback } else { apply::Recovery::Resume };
            Msg::Applied(
                s.apply(None, Some((&journal, how)), false, cancel, progress).await.map(|o| (o, None)).map_err(report),
            )
        }
        Job::TestPassword { user, password } => {
            let mut guard = shared.session.lock().await;
            Msg::Tested(match guard.as_mut() {
                Some(s) => test_password(s, &user, &password).await,
                None => Err(not_connected()),
            })
        }
    }
}

fn not_connected() -> ErrorReport {
    report(GuiError::NotConnected)
}

async fn sign_in(shared: &Shared, how: Interactive<'_>) -> Result<Box<EntraCheck>, ErrorReport> {
    let opts = opts_of(shared);
    let e = session::entra(&opts, how).await.map_err(report)?;
    let check = crate::entra::check::check(&e.graph, opts.clock.now()).await.map_err(|e| report(Error::from(e)))?;
    *shared.entra.lock().await = Some(e);
    Ok(Box::new(check))
}

struct ConnectJob {
    ad_url: String,
    ad_user: String,
    password: Option<Secret>,
    trust: Option<String>,
    ad_timeout: Option<u64>,
}

async fn connect(
    shared: &Shared,
    job: ConnectJob,
    cancel: &CancellationToken,
    open: &Browser,
) -> Result<DirectoryView, GuiError> {
    let ConnectJob { ad_url, ad_user, password, trust, ad_timeout: job_timeout } = job;
    let mut opts = opts_of(shared);
    if let Some(fp) = &trust {
        opts.flags.ad_fingerprint = Some(fp.clone());
    }
    // The fields are the truth (they start from the settings and flags): an emptied one is unset.
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    opts.flags.ad_url = non_empty(&ad_url);
    opts.flags.ad_user = non_empty(&ad_user);
    opts.flags.ad_timeout = job_timeout;
    let ad = session::connect(&opts, password).await?;
    if let Some(fp) = trust {
        // Trusted once, remembered: the next run connects without asking.
        let mut saved = crate::config::Settings::load(&opts.config_path).map_err(Error::from)?;
        saved.ad_fingerprint = Some(fp);
        saved.save(&opts.config_path).map_err(Error::from)?;
    }
    let entra = shared.entra.lock().await.take().map(Ok);
    // Disabling needs no tenant; the lab's sync engine still needs the simulator's token.
    let entra = match entra {
        None if opts.sync_engine(&ad.settings) == SyncEngineKind::Lab => {
            let open = |url: String| open(url);
            Some(session::entra(&opts, Interactive::Browser { open: &open, cancel }).await)
        }
        other => other,
    };
    let mut s = Session::assemble(&opts, ad, entra).await?;
    if let Some(p) = shared.paths.lock().ok().and_then(|p| p.clone()) {
        s.paths = p;
    }
    let ea = directory::enterprise_admin(&mut s.ad.conn, &s.ad.disc, &s.ad.account).await.map_err(Error::from)?;
    let named = s.connector.as_ref().map(|a| a.dn.clone());
    let candidates = directory::connector_candidates(&mut s.ad.conn, &s.ad.disc, named.as_deref())
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|a| (a.dn, a.sam_account_name))
        .collect();
    let view = DirectoryView {
        dc: s.ad.disc.dc_name.clone(),
        domain: s.ad.disc.default_naming_context.clone(),
        domains: s.ad.disc.domains.iter().map(|d| d.dn.clone()).collect(),
        operator: s.ad.account.dn.clone(),
        enterprise_admin: ea.enterprise_admin,
        domain_admin: ea.domain_admin,
        candidates,
        chosen: named,
    };
    if let Ok(mut o) = shared.opts.lock() {
        *o = opts;
    }
    *shared.session.lock().await = Some(s);
    Ok(view)
}

async fn status(shared: &Shared, cancel: &CancellationToken) -> Result<Box<StatusView>, ErrorReport> {
    let mut guard = shared.session.lock().await;
    let s = guard.as_mut().ok_or_else(not_connected)?;
    let tenant = s.tenant().await;
    let sync = s.sync_state().await;
    let status = s.status(tenant, sync).await.map_err(report)?;
    let readiness = s.readiness(cancel, &mut |_| {}).await.map_err(report)?;
    Ok(Box::new(StatusView { status, readiness }))
}

async fn import(
    shared: &Shared,
    opener: &Chooser,
) -> Result<Option<(PathBuf, bool, Box<crate::config::Settings>)>, ErrorReport> {
    let Some(file) = opener("writeback-wizard.toml".into()).await else { return Ok(None) };
    let config_path = opts_of(shared).config_path.clone();
    // Another machine's certificate pin is never taken silently: the wizard keeps this one's.
    let change = crate::config::import(&file, &config_path, false).map_err(|e| report(Error::from(e)))?;
    let settings = crate::config::Settings::load(&config_path).map_err(|e| report(Error::from(e)))?;
    Ok(Some((file, change != crate::config::PinChange::Same, Box::new(settings))))
}

async fn save(shared: &Shared, settings: bool, chooser: &Chooser) -> Result<Option<PathBuf>, ErrorReport> {
    let name = if settings { "writeback-wizard.toml" } else { "writeback-wizard.log" };
    let Some(path) = chooser(name.to_string()).await else { return Ok(None) };
    if settings {
        // What the pages hold, over the settings file: the same as `config export` with flags.
        let s = opts_of(shared).settings().map_err(report)?;
        s.save(&path).map_err(|e| report(Error::from(e)))?;
    } else {
        let log = shared.log_file.lock().map(|p| p.clone()).unwrap_or_else(|p| p.into_inner().clone());
        if !log.exists() {
            return Err(report(GuiError::NoLog { path: log }));
        }
        std::fs::copy(&log, &path)
            .map_err(|e| report(GuiError::Save { from: log.clone(), to: path.clone(), detail: e.to_string() }))?;
    }
    Ok(Some(path))
}

async fn prove(s: &mut Session, user: &str, password: Option<Secret>) -> Result<apply::Canary, ErrorReport> {
    s.canary(user, password).await.map_err(report)
}

async fn test_password(
    s: &mut Session,
    user: &str,
    password: &Secret,
) -> Result<crate::ad::policy::Verdict, ErrorReport> {
    let ad = |e: crate::ad::AdError| report(Error::from(e));
    let account = directory::find_account(&mut s.ad.conn, &s.ad.disc, user)
        .await
        .map_err(ad)?
        .ok_or_else(|| ad(crate::ad::AdError::NoSuchAccount { name: user.to_string() }))?;
    let policy = crate::ad::policy::effective_policy(&mut s.ad.conn, &s.ad.disc, &account.dn).await.map_err(ad)?;
    Ok(crate::ad::policy::test_password(&policy, &account, password, Some(s.opts.clock.now())))
}
