//! The engine task behind the wizard: the UI thread sends a [`Job`], the worker runs the one
//! session call it names on its tokio runtime, and the answer comes back as a [`Msg`] the next
//! frame reads. Nothing here blocks the caller, and nothing here decides anything: the session
//! does the work, the pages take the answers.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use writeback_core::config::ImportPreview;
use writeback_core::engine::Plan;
use writeback_core::engine::apply::{ApplyOutcome, JournalView, Progress, Recovery};
use writeback_core::engine::paths::Paths;
use writeback_core::session::{
    self, Configured, DeviceCode, DirectoryView, EntraSession, Error, Interactive, Options, Overview, PasswordTest,
    PlanChoice, Preset, Session, Untrusted,
};
use writeback_core::types::{AccountHit, Cloud, EntraCheck, ErrorReport, ScopeNode, Secret};

use super::GuiError;

/// Which picker a search is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerId {
    /// Another connector account, on Connect your directories.
    Connector,
    /// The canary, on Ready to configure.
    Canary,
    /// The test reset's user, on Configuration complete.
    ResetTest,
}

/// A row of another forest on Connect your directories: its Enterprise Admin (typed, or the
/// signed-in account), or left out.
#[derive(Clone)]
pub struct OtherForest {
    pub forest: String,
    pub ad_user: String,
    /// `None`: the forest's own lookup (`WRITEBACK_AD_PASSWORD_<FOREST>`, the keyring).
    pub password: Option<Secret>,
    pub current_user: bool,
    /// Unticked: left out on purpose (said in the plan).
    pub include: bool,
}

/// What the wizard asks for: each one session call.
pub enum Job {
    /// "Export settings…": the settings file with what the pages hold, to a file the person picks.
    Export,
    /// "Save log…": a copy of the log file, to a file the person picks.
    SaveLog,
    /// "Import settings…": a settings file the person picks; what importing it would change
    /// comes back to be confirmed.
    Import,
    /// The import the person confirmed (this machine's certificate pin is kept).
    ConfirmImport { file: PathBuf, preview: Box<ImportPreview> },
    /// The scope browser opened a node: its user count and its child OUs and containers.
    Children(String),
    /// A picker's search as the person types: the users and gMSAs whose name starts so.
    FindAccounts { picker: PickerId, text: String },
    /// Sign in to the tenant and check it.
    SignIn {
        /// The cloud chosen on the page (`None`: the settings').
        cloud: Option<Cloud>,
        /// A device code instead of the browser.
        device_code: bool,
        /// "Keep me signed in on this server".
        remember: bool,
    },
    /// Connect to the DC and bind; the password as typed (never stored by the wizard).
    Connect {
        /// The forest's DNS name (a DC is found in DNS); `ad_url` wins when both are given.
        forest: String,
        ad_url: String,
        ad_user: String,
        /// `None` lets lab mode (or the secrets lookup) supply it.
        password: Option<Secret>,
        /// Sign in as the account the wizard runs as (Kerberos, no password).
        current_user: bool,
        /// A password over TLS instead of Kerberos.
        simple: bool,
        /// A certificate the person chose to trust (SHA-256): pinned, and kept in the settings.
        trust: Option<String>,
        /// How long one LDAP operation may take, in seconds (`--ad-timeout`).
        ad_timeout: Option<u64>,
        /// The other forests' rows.
        others: Vec<OtherForest>,
    },
    /// The forests of the settings and the sync engine (answered without holding the bar).
    Forests,
    /// Choose the connector account and the scopes, then read today's state.
    Choose { connector: Option<String>, scopes: Vec<String> },
    /// Today's state and the readiness findings.
    Overview,
    /// What recovering the unfinished journal at this path would do (checked before it is shown).
    InspectJournal(PathBuf),
    /// Rolls back (or resumes) the unfinished apply whose journal is at this path.
    Recover { journal: PathBuf, how: Recovery },
    /// Opens the admin center's Password reset page of the chosen cloud in the browser.
    OpenPortal(Cloud),
    /// Plan enabling or disabling.
    Plan { action: writeback_core::engine::Action, choice: PlanChoice },
    /// Apply the plan shown.
    Configure {
        plan: Box<Plan>,
        /// "Start the synchronization process when configuration completes".
        start_sync: bool,
        /// Prove writeback afterwards on this test account, with the connector's password.
        canary: Option<(String, Option<Secret>)>,
        /// With Cloud Sync: the administrator its switch signs in as, and the password.
        cloudsync: Option<(String, Option<Secret>)>,
    },
    /// Test a password for an account against the policy that applies to it.
    TestPassword { user: String, password: Secret },
    /// The Troubleshoot task: the sync server's events explained, their users checked.
    Troubleshoot,
    /// "Test writeback now": a reset from the cloud, followed to the DC.
    ResetTest { user: String, reveal: bool },
}

/// The engine's answers, each for the page that asked.
pub enum Msg {
    /// Lab mode is up: the fields it fills.
    LabUp(Result<Box<writeback_core::config::SettingsOverlay>, ErrorReport>),
    /// A node of the scope browser.
    Children {
        dn: String,
        found: Result<(usize, Vec<ScopeNode>), ErrorReport>,
    },
    /// A picker's matches (for the text it searched).
    Accounts {
        picker: PickerId,
        text: String,
        found: Result<Vec<AccountHit>, ErrorReport>,
    },
    /// A file was saved (`None`: the person chose no file).
    Saved(Result<Option<PathBuf>, ErrorReport>),
    /// What importing the file picked would change (`None`: no file was chosen).
    ImportPreview(Result<Option<(PathBuf, Box<ImportPreview>)>, ErrorReport>),
    /// Settings were imported (the file, whether its pin was set aside, and what the pages start
    /// from now).
    Imported(Result<(PathBuf, bool, Box<writeback_core::config::Settings>), ErrorReport>),
    /// The admin center page was handed to the browser (its URL), or why not.
    Opened(Result<String, ErrorReport>),
    /// A device code to show while the sign-in waits.
    DeviceCode {
        user_code: String,
        uri: String,
    },
    SignedIn(Result<Box<EntraCheck>, ErrorReport>),
    /// Each forest reached, the first being the form's.
    Connected(Result<Vec<DirectoryView>, ErrorReport>),
    /// The forests the sync engine serves (none when it names none or cannot be read).
    Forests(Vec<String>),
    /// The DC presented a certificate nothing here vouches for: ask the person; `report` stands
    /// if they do not trust it.
    Untrusted {
        question: Untrusted,
        report: ErrorReport,
    },
    Overview(Result<Box<Overview>, ErrorReport>),
    Planned(Result<Box<Plan>, ErrorReport>),
    Progress(Progress),
    Configured(Result<Configured, ErrorReport>),
    Recovered(Result<ApplyOutcome, ErrorReport>),
    /// The unfinished journal, read and checked.
    Journal(Result<Box<JournalView>, ErrorReport>),
    Tested(Result<PasswordTest, ErrorReport>),
    ResetTested(Result<Box<writeback_core::session::ResetTrace>, ErrorReport>),
    Troubleshot(Result<Box<writeback_core::events::Diagnosis>, ErrorReport>),
}

impl Msg {
    /// Answers that do not end a job the bar waits for (the bar stays off until all have come).
    pub fn holds_bar(&self) -> bool {
        !matches!(
            self,
            Msg::Progress(_)
                | Msg::DeviceCode { .. }
                | Msg::LabUp(_)
                | Msg::Children { .. }
                | Msg::Opened(_)
                | Msg::Forests(_)
        )
    }
}

/// What runs the wizard's jobs: the [`Worker`] on its tokio runtime, or, in tests of how pages
/// draw, a script.
pub trait Engine {
    /// Starts a job; its answer comes through [`Engine::poll`].
    fn send(&self, job: Job);
    /// Answers that have arrived since the last call.
    fn poll(&self) -> Vec<Msg>;
    /// Cancels the running job (an apply stops between steps and undoes what it did).
    fn cancel(&mut self);
    /// The worker itself, when this engine is one (its dialogs and browser can be replaced).
    fn worker(&mut self) -> Option<&mut Worker> {
        None
    }
}

/// Opens a sign-in page (the system browser; tests fill the simulator's form instead).
pub type Browser = Arc<dyn Fn(String) -> Result<(), String> + Send + Sync>;

/// Asks where to save (or which file to open), given a suggested name; `None` when the person
/// cancels or there is no dialog to show.
pub type Chooser =
    Arc<dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<PathBuf>> + Send>> + Send + Sync>;

/// Brings lab mode up (the lab's DC and tenant simulator) and hands over its settings.
pub type LabStarter = Box<
    dyn FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Preset, ErrorReport>> + Send>> + Send,
>;

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

/// What the worker's jobs share: the session's options (the pages' fields are written into its
/// flags as they are used), the tenant sign-in until the directory connection takes it, the
/// session, and the log "Save log…" copies.
struct Shared {
    opts: std::sync::Mutex<Options>,
    entra: Mutex<Option<EntraSession>>,
    session: Mutex<Option<Session>>,
    log_file: std::sync::Mutex<PathBuf>,
}

impl Shared {
    fn opts(&self) -> Options {
        self.opts.lock().map(|a| a.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    fn set_opts(&self, f: impl FnOnce(&mut Options)) {
        match self.opts.lock() {
            Ok(mut o) => f(&mut o),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

fn report(e: impl Into<GuiError>) -> ErrorReport {
    ErrorReport::from_error(&e.into())
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
    opener: Chooser,
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
            log_file: std::sync::Mutex::new(writeback_base::logging::log_file()),
        });
        let open: Browser = Arc::new(session::open_in_browser);
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

    /// Starts lab mode: the answer is [`Msg::LabUp`]; from then on the session uses its preset.
    pub fn start_lab(&self, starter: LabStarter) {
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        let repaint = self.repaint.clone();
        self.rt.spawn(async move {
            let msg = match starter().await {
                Ok(preset) => {
                    let fields = Box::new(preset.settings.clone());
                    let preset = Arc::new(preset);
                    shared.set_opts(|o| o.preset = Some(preset));
                    Msg::LabUp(Ok(fields))
                }
                Err(e) => Msg::LabUp(Err(e)),
            };
            let _ = tx.send(msg);
            repaint();
        });
    }

    /// Keeps the journal and audit log elsewhere than the platform's data folder.
    pub fn set_paths(&self, paths: Paths) {
        self.shared.set_opts(|o| o.paths = paths);
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
}

impl Engine for Worker {
    fn worker(&mut self) -> Option<&mut Worker> {
        Some(self)
    }

    fn poll(&self) -> Vec<Msg> {
        self.rx.try_iter().collect()
    }

    fn cancel(&mut self) {
        self.cancel.cancel();
        self.cancel = CancellationToken::new();
    }

    fn send(&self, job: Job) {
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        let cancel = self.cancel.clone();
        let repaint = self.repaint.clone();
        let ctx = Ctx { open: self.open.clone(), chooser: self.chooser.clone(), opener: self.opener.clone() };
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
            let msg = run(&shared, job, &ctx, &cancel, &progress, &shown).await;
            let _ = tx.send(msg);
            repaint();
        });
    }
}

/// What a running job can reach besides the shared state.
struct Ctx {
    open: Browser,
    chooser: Chooser,
    opener: Chooser,
}

/// Runs `f` on the connected session, or says there is none.
async fn with_session<T>(
    shared: &Shared,
    f: impl AsyncFnOnce(&mut Session) -> Result<T, Error>,
) -> Result<T, ErrorReport> {
    let mut guard = shared.session.lock().await;
    match guard.as_mut() {
        Some(s) => f(s).await.map_err(report),
        None => Err(report(GuiError::NotConnected)),
    }
}

async fn run(
    shared: &Shared,
    job: Job,
    ctx: &Ctx,
    cancel: &CancellationToken,
    progress: &(dyn Fn(Progress) + Send + Sync),
    shown: &(dyn Fn(DeviceCode) + Sync),
) -> Msg {
    match job {
        Job::Export => Msg::Saved(export(shared, &ctx.chooser).await),
        Job::SaveLog => Msg::Saved(save_log(shared, &ctx.chooser).await),
        Job::Import => Msg::ImportPreview(preview_import(shared, &ctx.opener).await),
        Job::ConfirmImport { file, preview } => {
            let pin_set_aside = preview.changes_pin();
            Msg::Imported(
                shared.opts().import(*preview, false).map(|s| (file, pin_set_aside, Box::new(s))).map_err(report),
            )
        }
        Job::Children(dn) => {
            let found = with_session(shared, async |s| s.directory().children(&dn, cancel).await).await;
            Msg::Children { dn, found }
        }
        Job::FindAccounts { picker, text } => {
            let found = with_session(shared, async |s| match picker {
                PickerId::Connector => s.directory().find_accounts(&text, 12).await,
                PickerId::Canary | PickerId::ResetTest => s.directory().find_people(&text, 12).await,
            })
            .await;
            Msg::Accounts { picker, text, found }
        }
        Job::SignIn { cloud, device_code, remember } => {
            shared.set_opts(|o| {
                o.flags.remember_sign_in = remember;
                if let Some(c) = cloud {
                    o.flags.cloud = Some(c);
                }
            });
            let open = ctx.open.clone();
            let open = move |url: String| open(url);
            let how = if device_code {
                Interactive::Device { shown, cancel }
            } else {
                Interactive::Browser { open: &open, cancel }
            };
            Msg::SignedIn(match session::sign_in(&shared.opts(), how).await {
                Ok((e, check)) => {
                    *shared.entra.lock().await = Some(e);
                    Ok(Box::new(check))
                }
                Err(e) => Err(report(e)),
            })
        }
        Job::Connect { forest, ad_url, ad_user, password, current_user, simple, trust, ad_timeout, others } => {
            let job = ConnectJob { forest, ad_url, ad_user, password, current_user, simple, trust, ad_timeout, others };
            match connect(shared, job, ctx, cancel).await {
                Err(e) => match e.untrusted() {
                    Some(question) => Msg::Untrusted { question, report: report(e) },
                    None => Msg::Connected(Err(report(e))),
                },
                Ok(view) => Msg::Connected(Ok(view)),
            }
        }
        Job::Choose { connector, scopes } => {
            let chosen = with_session(shared, async |s| s.choose(connector.as_deref(), scopes).await).await;
            match chosen {
                Ok(()) => Msg::Overview(with_session(shared, async |s| s.overview(cancel).await).await.map(Box::new)),
                Err(e) => Msg::Overview(Err(e)),
            }
        }
        Job::Overview => Msg::Overview(with_session(shared, async |s| s.overview(cancel).await).await.map(Box::new)),
        Job::OpenPortal(cloud) => {
            // The simulator's address, when the cloud is the lab (from whichever sign-in holds it).
            let lab_url = match shared.entra.lock().await.as_ref().and_then(EntraSession::lab_url) {
                Some(u) => Some(u),
                None => shared.session.lock().await.as_ref().and_then(Session::lab_url),
            };
            let url = session::password_reset_page(cloud, lab_url.as_deref());
            Msg::Opened(
                (ctx.open)(url.clone())
                    .map(|()| url.clone())
                    .map_err(|detail| report(GuiError::Browser { url, detail })),
            )
        }
        Job::Plan { action, choice } => {
            Msg::Planned(with_session(shared, async |s| s.plan(action, choice, cancel).await).await.map(Box::new))
        }
        Job::Configure { plan, start_sync, canary, cloudsync } => Msg::Configured(
            with_session(shared, async |s| s.configure(&plan, start_sync, canary, cloudsync, cancel, progress).await)
                .await,
        ),
        Job::Forests => {
            let entra = shared.entra.lock().await;
            Msg::Forests(session::configured_forests(&shared.opts(), entra.as_ref()).await)
        }
        Job::InspectJournal(path) => {
            Msg::Journal(with_session(shared, async |s| s.inspect_journal(&path).await).await.map(Box::new))
        }
        Job::Recover { journal, how } => {
            Msg::Recovered(with_session(shared, async |s| s.recover(&journal, how, cancel, progress).await).await)
        }
        Job::ResetTest { user, reveal } => Msg::ResetTested(
            with_session(shared, async |s| {
                s.reset_test(&user, std::time::Duration::from_secs(120), reveal, cancel).await
            })
            .await
            .map(Box::new),
        ),
        Job::Troubleshoot => {
            let now = shared.opts().clock.now();
            Msg::Troubleshot(
                with_session(shared, async |s| s.troubleshoot(None, now, cancel).await).await.map(Box::new),
            )
        }
        Job::TestPassword { user, password } => {
            let now = shared.opts().clock.now();
            Msg::Tested(with_session(shared, async |s| s.directory().test_password(&user, &password, now).await).await)
        }
    }
}

struct ConnectJob {
    forest: String,
    ad_url: String,
    ad_user: String,
    password: Option<Secret>,
    current_user: bool,
    simple: bool,
    trust: Option<String>,
    ad_timeout: Option<u64>,
    others: Vec<OtherForest>,
}

async fn connect(
    shared: &Shared,
    job: ConnectJob,
    ctx: &Ctx,
    cancel: &CancellationToken,
) -> Result<Vec<DirectoryView>, Error> {
    let ConnectJob { forest, ad_url, ad_user, password, current_user, simple, trust, ad_timeout, others } = job;
    let mut opts = shared.opts();
    // The fields are the truth (they start from the settings and flags): an emptied one is unset.
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    if let Some(f) = non_empty(&forest) {
        writeback_core::config::check_forest(&f).map_err(|message| Error::Usage {
            message,
            remedy: "Type the forest's DNS name, for example corp.example.com.".into(),
        })?;
    }
    opts.flags.forest = non_empty(&forest);
    opts.flags.ad_url = non_empty(&ad_url);
    opts.flags.ad_user = non_empty(&ad_user);
    opts.flags.ad_current_user = current_user;
    opts.flags.ad_simple_bind = simple;
    opts.flags.ad_timeout = ad_timeout;
    if let Some(fp) = &trust {
        opts.flags.ad_fingerprint = Some(fp.clone());
    }
    let first = session::connect(&opts, password).await?;
    if let Some(fp) = trust {
        // Trusted once, remembered: the next run connects without asking.
        opts.trust_certificate(&fp)?;
    }
    // The other forests at the same time, each as its row says; a row asked for and not reached
    // fails the whole, named by its forest.
    let rows: Vec<&OtherForest> = others
        .iter()
        .filter(|o| o.include && !o.forest.trim().is_empty() && !o.forest.trim().eq_ignore_ascii_case(&first.forest()))
        .collect();
    let reached = futures_util::future::join_all(rows.iter().map(|row| {
        let mut row_opts = opts.clone();
        row_opts.flags.ad_current_user = row.current_user;
        async move {
            let spec = session::DirectorySpec::row(&row_opts, row.forest.trim(), non_empty(&row.ad_user))?;
            session::connect_to(&row_opts, &spec, if row.current_user { None } else { row.password.clone() })
                .await
                .map_err(|e| Error::InForest { forest: row.forest.trim().to_string(), source: Box::new(e) })
        }
    }))
    .await;
    let mut ads = vec![first];
    for r in reached {
        ads.push(r?);
    }
    let left_out: Vec<String> = others.iter().filter(|o| !o.include).map(|o| o.forest.trim().to_string()).collect();
    let entra = shared.entra.lock().await.take().map(Ok);
    // Disabling needs no tenant; the lab's sync engine still needs the simulator's token.
    let entra = match entra {
        None if opts.sync_engine(&opts.settings()?) == writeback_core::types::SyncEngineKind::Lab => {
            let open = ctx.open.clone();
            let open = move |url: String| open(url);
            Some(session::entra(&opts, Interactive::Browser { open: &open, cancel }).await)
        }
        other => other,
    };
    let mut s = Session::assemble_with(&opts, ads, entra, left_out).await?;
    let views = s.views().await?;
    shared.set_opts(|o| *o = opts);
    *shared.session.lock().await = Some(s);
    Ok(views)
}

async fn preview_import(
    shared: &Shared,
    opener: &Chooser,
) -> Result<Option<(PathBuf, Box<ImportPreview>)>, ErrorReport> {
    let Some(file) = opener("writeback-wizard.toml".into()).await else { return Ok(None) };
    let preview = shared.opts().preview_import(&file).map_err(report)?;
    Ok(Some((file, Box::new(preview))))
}

async fn export(shared: &Shared, chooser: &Chooser) -> Result<Option<PathBuf>, ErrorReport> {
    let Some(path) = chooser("writeback-wizard.toml".into()).await else { return Ok(None) };
    shared.opts().export(&path).map_err(report)?;
    Ok(Some(path))
}

async fn save_log(shared: &Shared, chooser: &Chooser) -> Result<Option<PathBuf>, ErrorReport> {
    let Some(path) = chooser("writeback-wizard.log".into()).await else { return Ok(None) };
    let log = shared.log_file.lock().map(|p| p.clone()).unwrap_or_else(|p| p.into_inner().clone());
    if !log.exists() {
        return Err(report(GuiError::NoLog { path: log }));
    }
    std::fs::copy(&log, &path)
        .map_err(|e| report(GuiError::Save { from: log.clone(), to: path.clone(), detail: e.to_string() }))?;
    Ok(Some(path))
}
