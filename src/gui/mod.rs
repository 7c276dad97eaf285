//! The wizard window: a left rail of page titles, the page, and a bottom bar with Previous,
//! Next (Configure, Exit) and Cancel. Navigation lives in [`wizard`] (pure, no egui); engine work
//! runs on [`worker`]; each page draws itself from `pages/`. `App::ui` takes a plain `egui::Ui`
//! so the tests drive it with egui_kittest, by accessibility label, without a window.

pub mod pages;
pub mod wizard;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use crate::ad::policy::Verdict;
use crate::cli::ConnectionArgs;
use crate::engine::apply::{ApplyOutcome, Progress};
use crate::engine::{Plan, Status};
use crate::entra::check::EntraCheck;
use crate::error::{Error, ErrorReport};
use wizard::{PageId, RailState, Task, Wizard};
use worker::{DirectoryView, Job, Msg, Worker};

/// One step on the Configuring page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    /// Not started.
    Waiting,
    /// Running.
    Running,
    /// Done and verified, in this many milliseconds.
    Done(u64),
    /// Failed, with why.
    Failed(String),
    /// Undone after a failure or cancel.
    Undone,
}

/// The wizard's state: navigation, what each page holds, the engine's latest answers.
pub struct App {
    /// Navigation.
    pub wiz: Wizard,
    /// The page last drawn and whether it showed as failed: each new one is noted in the log.
    shown: Option<(wizard::PageId, bool)>,
    worker: Worker,
    /// Lab mode: the lab DC and the in-process tenant simulator.
    pub lab: bool,
    /// The lab DC, once up (lab mode).
    pub lab_info: Option<Box<crate::lab::LabInfo>>,
    /// The tenant check after sign-in.
    pub tenant: Option<Box<EntraCheck>>,
    /// The cloud to sign in to.
    pub cloud: crate::config::Cloud,
    /// A device code being waited on, and where to enter it.
    pub device_code: Option<(String, String)>,
    /// "Domain controller" field.
    pub ad_url: String,
    /// "User name" field.
    pub ad_user: String,
    /// "Password" field (cleared as soon as it is sent).
    pub ad_password: String,
    /// What the connection found.
    pub directory: Option<DirectoryView>,
    /// A certificate waiting for "Trust this certificate" or "Do not trust", and the error that
    /// stands if it is not trusted.
    pub untrusted: Option<(Box<crate::ad::tls::CertDetails>, ErrorReport)>,
    /// The password typed, kept only until the trust question is answered.
    pending_password: Option<crate::secrets::Secret>,
    /// The connector account chosen (DN).
    pub connector: Option<String>,
    /// Scope candidates and whether each is chosen.
    pub scopes: Vec<(String, bool)>,
    /// "Organizational unit" field.
    pub new_scope: String,
    /// The scope browser: each opened node's user count and children.
    pub tree: std::collections::HashMap<String, (usize, Vec<crate::ad::directory::ScopeNode>)>,
    /// Nodes asked for (so each is read once).
    tree_requested: std::collections::HashSet<String>,
    /// Today's state.
    pub status: Option<Box<Status>>,
    /// What breaks writeback in the scopes.
    pub findings: Option<worker::Findings>,
    /// The "Password writeback" checkbox.
    pub writeback: bool,
    /// The plan.
    pub plan: Option<Box<Plan>>,
    /// "Start the synchronization process when configuration completes".
    pub start_sync: bool,
    /// Configuring: each step and its state.
    pub steps: Vec<(String, StepState)>,
    /// The apply's result.
    pub outcome: Option<Result<ApplyOutcome, ErrorReport>>,
    /// "Canary user (optional)" field.
    pub canary_user: String,
    /// "Connector account password" field (cleared as soon as it is sent).
    pub connector_password: String,
    /// The canary's answer.
    pub canary: Option<Result<crate::engine::apply::Canary, ErrorReport>>,
    /// "Account" field of the password test.
    pub test_user: String,
    /// "New password" field (cleared as soon as it is sent).
    pub test_password: String,
    /// The tester's answer.
    pub verdict: Option<Verdict>,
    /// The last error, with its remedy.
    pub error: Option<ErrorReport>,
    /// A passing note (e.g. where a file was saved).
    pub note: Option<String>,
    /// The "Are you sure?" dialog is open.
    pub confirm_exit: bool,
    /// The person chose to leave: the window closes.
    pub exit: bool,
    /// The About dialog is open.
    pub about: bool,
    /// Where the audit log is (said on the last page).
    pub audit_log: PathBuf,
    /// Jobs sent and not yet answered (the bar stays off until all have answered).
    pending: usize,
}

impl App {
    /// A wizard over the settings at `config_path` and the connection flags given.
    pub fn new(
        config_path: PathBuf,
        lab: bool,
        args: ConnectionArgs,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<App, Error> {
        let settings = crate::config::Settings::load(&config_path)?.overlay(&args.overlay());
        let audit_log = crate::engine::apply::Paths::default_for(config_path.clone()).audit_log;
        let worker = Worker::new(config_path, lab, args, repaint)?;
        if lab {
            // Not counted as busy: the Welcome and Tasks pages need no DC.
            worker.send(Job::LabUp);
        }
        Ok(App {
            wiz: Wizard::default(),
            shown: None,
            worker,
            lab,
            lab_info: None,
            tenant: None,
            cloud: settings.cloud.unwrap_or(if settings.lab_url.is_some() || lab {
                crate::config::Cloud::Lab
            } else {
                crate::config::Cloud::Public
            }),
            device_code: None,
            ad_url: settings.ad_url.unwrap_or_default(),
            ad_user: settings.ad_user.unwrap_or_default(),
            ad_password: String::new(),
            directory: None,
            untrusted: None,
            pending_password: None,
            connector: None,
            scopes: settings.scope.into_iter().map(|s| (s, true)).collect(),
            new_scope: String::new(),
            tree: Default::default(),
            tree_requested: Default::default(),
            status: None,
            findings: None,
            writeback: true,
            plan: None,
            start_sync: true,
            steps: Vec::new(),
            outcome: None,
            canary_user: String::new(),
            connector_password: String::new(),
            canary: None,
            test_user: String::new(),
            test_password: String::new(),
            verdict: None,
            error: None,
            note: None,
            confirm_exit: false,
            exit: false,
            about: false,
            audit_log,
            pending: 0,
        })
    }

    /// Replaces how sign-in pages are opened (tests fill in the simulator's form).
    pub fn set_browser(&mut self, open: worker::Browser) {
        self.worker.set_browser(open);
    }

    /// Replaces the save dialog (tests pick the file themselves).
    pub fn set_chooser(&mut self, chooser: worker::Chooser) {
        self.worker.set_chooser(chooser);
    }

    /// Copies another file on "Save log…" (tests; a log kept elsewhere).
    pub fn set_log_file(&mut self, path: PathBuf) {
        self.worker.set_log_file(path);
    }

    /// Keeps the journal and audit log elsewhere (tests; a portable install).
    pub fn set_paths(&mut self, paths: crate::engine::apply::Paths) {
        self.audit_log = paths.audit_log.clone();
        self.worker.set_paths(paths);
    }

    /// Starts engine work: the pages call this; the bar's buttons stay off until it answers.
    pub(crate) fn start(&mut self, job: Job) {
        self.error = None;
        self.note = None;
        self.pending += 1;
        self.wiz.facts.busy = true;
        self.worker.send(job);
    }

    /// Reads the engine's answers.
    fn poll(&mut self) {
        for msg in self.worker.poll() {
            self.handle(msg);
        }
    }

    fn fail(&mut self, e: ErrorReport) {
        self.error = Some(e);
    }

    fn handle(&mut self, msg: Msg) {
        if !matches!(msg, Msg::Progress(_) | Msg::DeviceCode { .. } | Msg::LabUp(_) | Msg::Children { .. }) {
            self.pending = self.pending.saturating_sub(1);
            self.wiz.facts.busy = self.pending > 0;
        }
        match msg {
            Msg::Children { dn, found: Ok((users, children)) } => {
                self.tree.insert(dn, (users, children));
            }
            Msg::Children { dn, found: Err(e) } => {
                self.tree_requested.remove(&dn);
                self.fail(e);
            }
            Msg::Saved(Ok(Some(path))) => self.note = Some(format!("Saved {}.", path.display())),
            Msg::Saved(Ok(None)) => self.note = Some("No file was chosen: nothing was saved.".into()),
            Msg::Saved(Err(e)) => self.fail(e),
            Msg::LabUp(Ok(info)) => {
                if self.ad_url.is_empty() {
                    self.ad_url = info.ldap_url.clone();
                }
                if self.ad_user.is_empty() {
                    self.ad_user = info.admin_user.clone();
                }
                self.lab_info = Some(info);
            }
            Msg::LabUp(Err(e)) => self.fail(e),
            Msg::DeviceCode { user_code, uri } => self.device_code = Some((user_code, uri)),
            Msg::SignedIn(Ok(check)) => {
                self.device_code = None;
                self.wiz.facts.tenant_ready = check.ready();
                self.tenant = Some(check);
            }
            Msg::SignedIn(Err(e)) => {
                self.device_code = None;
                self.fail(e);
            }
            Msg::Untrusted { certificate, report } => self.untrusted = Some((certificate, report)),
            Msg::Connected(Ok(view)) => {
                self.pending_password = None;
                self.connector = view.chosen.clone().or_else(|| view.candidates.first().map(|c| c.0.clone()));
                if self.scopes.is_empty() {
                    self.scopes = view.domains.iter().map(|d| (d.clone(), *d == view.domain)).collect();
                }
                self.directory = Some(view);
                self.refresh_directory_ready();
            }
            Msg::Connected(Err(e)) => {
                self.pending_password = None;
                self.fail(e);
            }
            Msg::Status(Ok(view)) => {
                let worker::StatusView { status, findings } = *view;
                self.writeback = match self.wiz.task {
                    Task::Disable => false,
                    Task::Customize => true,
                    _ => status.state == "enabled",
                };
                self.status = Some(Box::new(status));
                self.findings = Some(findings);
            }
            Msg::Status(Err(e)) | Msg::Planned(Err(e)) => self.fail(e),
            Msg::Planned(Ok(plan)) => {
                self.wiz.facts.plan_ready = plan.ready();
                self.steps = plan.steps.iter().map(|s| (s.id.clone(), StepState::Waiting)).collect();
                self.plan = Some(plan);
            }
            Msg::Progress(p) => self.progress(p),
            Msg::Applied(result) => {
                let result = result.map(|(outcome, canary)| {
                    self.canary = canary;
                    outcome
                });
                // A canary that fails does not undo the configuration: its verdict on the last page
                // says what to look at.
                self.wiz.failed = !matches!(&result, Ok(o) if o.verified);
                self.wiz.facts.configured = true;
                if let Err(e) = &result {
                    self.error = Some(e.clone());
                }
                self.outcome = Some(result);
                self.wiz.advance();
            }
            Msg::Tested(Ok(v)) => self.verdict = Some(v),
            Msg::Tested(Err(e)) => self.fail(e),
        }
    }

    fn progress(&mut self, p: Progress) {
        let (id, state) = match p {
            Progress::Started { id } => (id, StepState::Running),
            Progress::Done { id, elapsed_ms } => (id, StepState::Done(elapsed_ms)),
            Progress::Failed { id, error } => (id, StepState::Failed(error)),
            Progress::Undone { id } => (id, StepState::Undone),
            Progress::SyncStarted => ("start-sync".to_string(), StepState::Done(0)),
        };
        match self.steps.iter_mut().find(|(s, _)| *s == id) {
            Some(entry) => entry.1 = state,
            None => self.steps.push((id, state)),
        }
    }

    /// Connected as an Enterprise Admin, with a connector account when the task changes things.
    pub(crate) fn refresh_directory_ready(&mut self) {
        let needs_connector = matches!(self.wiz.task, Task::Customize | Task::Disable);
        self.wiz.facts.directory_ready = match &self.directory {
            Some(d) => match self.wiz.task {
                Task::View | Task::TestPassword => true,
                _ => d.enterprise_admin && (!needs_connector || self.connector.is_some()),
            },
            None => false,
        };
    }

    fn chosen_scopes(&self) -> Vec<String> {
        self.scopes.iter().filter(|(_, on)| *on).map(|(s, _)| s.clone()).collect()
    }

    /// Next (or Configure, or Exit): what leaving each page starts.
    fn on_next(&mut self) {
        if self.wiz.is_last() {
            self.leave();
            return;
        }
        let from = self.wiz.page;
        if self.wiz.advance().is_none() {
            return;
        }
        match from {
            PageId::ConnectDirectories => {
                self.status = None;
                self.start(Job::Choose { connector: self.connector.clone(), scopes: Vec::new() });
            }
            PageId::Scope => {
                self.status = None;
                self.start(Job::Choose { connector: self.connector.clone(), scopes: self.chosen_scopes() });
            }
            PageId::OptionalFeatures => {
                self.plan = None;
                self.wiz.facts.plan_ready = false;
                self.start(Job::Plan(self.writeback));
            }
            PageId::Ready => {
                if let Some(plan) = self.plan.clone() {
                    let user = self.canary_user.trim().to_string();
                    let password = std::mem::take(&mut self.connector_password);
                    let canary = (!user.is_empty())
                        .then(|| (user, (!password.is_empty()).then(|| crate::secrets::Secret::new(password))));
                    self.canary = None;
                    self.start(Job::Apply { plan, start_sync: self.start_sync, canary });
                }
            }
            _ => {}
        }
    }

    /// Connects with what the page's fields hold (`trust`: a certificate the person trusted).
    pub(crate) fn connect(&mut self, trust: Option<String>) {
        if !self.ad_password.is_empty() {
            self.pending_password = Some(crate::secrets::Secret::new(std::mem::take(&mut self.ad_password)));
        }
        self.directory = None;
        self.untrusted = None;
        self.wiz.facts.directory_ready = false;
        self.start(Job::Connect {
            ad_url: self.ad_url.clone(),
            ad_user: self.ad_user.clone(),
            password: self.pending_password.clone(),
            trust,
        });
    }

    /// "Do not trust": the handshake error stands, and nothing is kept.
    pub(crate) fn distrust(&mut self) {
        if let Some((_, report)) = self.untrusted.take() {
            self.error = Some(report);
        }
        self.pending_password = None;
    }

    /// Reads a node of the scope browser, once; browsing does not hold the Next button.
    pub(crate) fn browse(&mut self, dn: &str) {
        if self.tree_requested.insert(dn.to_string()) {
            self.worker.send(Job::Children(dn.to_string()));
        }
    }

    /// Whether `dn` is a chosen scope.
    pub fn scope_on(&self, dn: &str) -> bool {
        self.scopes.iter().any(|(s, on)| *on && s.eq_ignore_ascii_case(dn))
    }

    /// Chooses or unchooses `dn` as a scope.
    pub fn set_scope(&mut self, dn: &str, on: bool) {
        match self.scopes.iter_mut().find(|(s, _)| s.eq_ignore_ascii_case(dn)) {
            Some(entry) => entry.1 = on,
            None if on => self.scopes.push((dn.to_string(), true)),
            None => {}
        }
    }

    /// Plans again after a failure (the Ready page shows the fresh plan).
    pub(crate) fn retry(&mut self) {
        self.outcome = None;
        self.error = None;
        self.plan = None;
        self.steps.clear();
        self.start(Job::Plan(self.writeback));
    }

    fn on_cancel(&mut self) {
        if self.wiz.facts.busy {
            // Cancel stops the work under way (an apply stops between steps and undoes what it
            // did; a sign-in stops waiting); leaving is a second Cancel.
            self.worker.cancel();
        } else if self.wiz.should_confirm_exit() {
            self.confirm_exit = true;
        } else {
            self.leave();
        }
    }

    fn leave(&mut self) {
        self.worker.cancel();
        self.exit = true;
    }

    /// Draws the wizard into `ui` (the whole window).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll();
        // Before the bar is drawn, so Next is right on the frame the page first shows.
        self.wiz.facts.scope_chosen = self.scopes.iter().any(|(_, on)| *on);
        egui::Panel::left("rail").resizable(false).exact_size(230.0).show(ui, |ui| self.rail(ui));
        egui::Panel::bottom("bar").resizable(false).show(ui, |ui| self.bar(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading(self.wiz.page.title(self.wiz.failed));
            ui.separator();
            egui::ScrollArea::vertical().show(ui, |ui| {
                pages::show(self, ui);
                if let Some(n) = &self.note {
                    ui.separator();
                    ui.label(n);
                }
                if let Some(e) = &self.error {
                    ui.separator();
                    error_box(ui, e);
                }
            });
        });
        if self.confirm_exit {
            self.confirm_dialog(ui.ctx());
        }
        if self.about {
            self.about_dialog(ui.ctx());
        }
        self.keys(ui.ctx());
        // The log tells support (and the window benchmark) which page the person reached.
        if self.shown != Some((self.wiz.page, self.wiz.failed)) {
            self.shown = Some((self.wiz.page, self.wiz.failed));
            tracing::info!("page shown: {}", self.wiz.page.title(self.wiz.failed));
        }
    }

    /// Enter presses the default button (Next, Configure, Exit) when no field has the focus;
    /// Esc is Cancel (or closes the dialog that is open).
    fn keys(&mut self, ctx: &egui::Context) {
        let (enter, esc) = ctx.input(|i| (i.key_pressed(egui::Key::Enter), i.key_pressed(egui::Key::Escape)));
        let focused = ctx.memory(|m| m.focused().is_some());
        if esc {
            if self.confirm_exit || self.about {
                self.confirm_exit = false;
                self.about = false;
            } else {
                self.on_cancel();
            }
        } else if enter
            && !focused
            && !self.confirm_exit
            && !self.about
            && (self.wiz.can_advance() || (self.wiz.is_last() && !self.wiz.facts.busy))
        {
            self.on_next();
        }
    }

    fn about_dialog(&mut self, ctx: &egui::Context) {
        egui::Modal::new(egui::Id::unique("about")).show(ctx, |ui| {
            ui.heading("writeback-wizard");
            ui.label(format!("Version {}", crate::version::VERSION));
            ui.label(format!("Commit {}", crate::version::COMMIT));
            ui.label("Turns Microsoft Entra ID password writeback on, verifies it, and turns it off.");
            if ui.button("Close").clicked() {
                self.about = false;
            }
        });
    }

    fn rail(&mut self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.strong("writeback-wizard");
            if self.lab {
                // So nobody mistakes the lab for production.
                let badge = egui::RichText::new(" LAB ")
                    .strong()
                    .color(egui::Color32::BLACK)
                    .background_color(egui::Color32::from_rgb(250, 200, 60));
                ui.label(badge);
            }
        });
        ui.add_space(8.0);
        for (page, state) in self.wiz.rail() {
            let title = page.title(self.wiz.failed);
            let text = match state {
                RailState::Done => egui::RichText::new(format!("•  {title}")),
                RailState::Current => egui::RichText::new(format!("› {title}")).strong(),
                RailState::Later => egui::RichText::new(format!("   {title}")).weak(),
            };
            ui.label(text);
        }
        ui.with_layout(egui::Layout::bottom_up(egui::Align::Min), |ui| {
            ui.add_space(8.0);
            if ui.button("About").clicked() {
                self.about = true;
            }
        });
    }

    fn bar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let cancel_enabled = !self.exit && self.wiz.page != PageId::Complete;
            if ui.add_enabled(cancel_enabled, egui::Button::new("Cancel")).clicked() {
                self.on_cancel();
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let next_enabled = self.wiz.can_advance() || (self.wiz.is_last() && !self.wiz.facts.busy);
                if ui.add_enabled(next_enabled, egui::Button::new(self.wiz.next_label())).clicked() {
                    self.on_next();
                }
                if ui.add_enabled(self.wiz.can_go_back(), egui::Button::new("Previous")).clicked() {
                    self.error = None;
                    self.wiz.previous();
                }
                if self.wiz.facts.busy {
                    ui.spinner();
                }
            });
        });
        ui.add_space(6.0);
    }

    fn confirm_dialog(&mut self, ctx: &egui::Context) {
        egui::Modal::new(egui::Id::unique("confirm-exit")).show(ctx, |ui| {
            ui.heading("Leave the wizard?");
            ui.label(if self.wiz.facts.busy {
                "Work is under way; leaving stops it, and an unfinished configuration is rolled back."
            } else {
                "Nothing has been changed yet; what you entered will be lost."
            });
            ui.horizontal(|ui| {
                if ui.button("Stay").clicked() {
                    self.confirm_exit = false;
                }
                if ui.button("Leave the wizard").clicked() {
                    self.confirm_exit = false;
                    self.leave();
                }
            });
        });
    }
}

/// An error: code, what happened (with the raw diagnostic), and the remedy.
pub(crate) fn error_box(ui: &mut egui::Ui, e: &ErrorReport) {
    ui.colored_label(ui.visuals().error_fg_color, format!("{}: {}", e.code, e.message));
    ui.label(format!("What to do: {}", e.remedy));
}

/// A label and a single-line field it names (so screen readers and tests find it by label).
pub(crate) fn field(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.add_sized([150.0, 20.0], egui::Label::new(label));
        ui.add(egui::TextEdit::singleline(value).password(password).desired_width(360.0)).labelled_by(l.id)
    })
    .inner
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
        if ui.ctx().input(|i| i.viewport().close_requested()) && !self.exit && self.wiz.should_confirm_exit() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_exit = true;
        }
        if self.exit {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

/// Opens the wizard window and returns when it closes.
pub fn run(config_path: PathBuf, lab: bool, args: ConnectionArgs) -> Result<(), Error> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(Error::Usage {
            message: "there is no display to open the wizard on (neither DISPLAY nor WAYLAND_DISPLAY is set)".into(),
            remedy: "Run it in a desktop session, or use the commands instead (see --help; `lab up` starts the lab headless)."
                .into(),
        });
    }
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")).ok();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(format!("writeback-wizard {}{}", crate::version::VERSION, if lab { " (lab)" } else { "" }))
        .with_app_id("writeback-wizard")
        .with_inner_size([940.0, 620.0]);
    if let Some(icon) = icon {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions { viewport, ..Default::default() };
    let mut failure: Option<Error> = None;
    let result = eframe::run_native(
        "writeback-wizard",
        options,
        Box::new(|cc| {
            let ctx = cc.egui_ctx.clone();
            let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
            match App::new(config_path, lab, args, repaint) {
                Ok(app) => Ok(Box::new(app) as Box<dyn eframe::App>),
                Err(e) => {
                    let text = ErrorReport::from_error(&e);
                    failure = Some(e);
                    Err(format!("{}: {}", text.code, text.message).into())
                }
            }
        }),
    );
    if let Some(e) = failure {
        return Err(e);
    }
    result.map_err(|e| Error::Usage {
        message: format!("the wizard window could not be opened: {e}"),
        remedy: "Check the display (DISPLAY / WAYLAND_DISPLAY) and OpenGL drivers (Mesa), or use the commands instead (see --help).".into(),
    })
}
