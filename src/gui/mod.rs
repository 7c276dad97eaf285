//! The wizard window: a left rail of page titles, the page, and a bottom bar with Previous,
//! Next (Configure, Exit) and Cancel. Navigation lives in [`wizard`] (pure, no egui); engine work
//! runs on [`worker`]; each page draws itself from `pages/`. `App::ui` takes a plain `egui::Ui`
//! so the tests drive it with egui_kittest, by accessibility label, without a window.

mod error;
pub mod pages;
pub mod theme;
pub mod wizard;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::GuiError;
pub use pages::configuring::StepState;

use crate::config::SettingsOverlay;
use crate::diagnose::ErrorReport;
use crate::session::{Front, Options as SessionOptions};
use pages::{Nav, Pages};
use wizard::{PageId, RailState, Wizard};
use worker::{Job, Msg, Worker};

/// How the wizard is started (the CLI's only way in).
#[derive(Debug, Clone)]
pub struct Options {
    /// The settings file.
    pub config_path: PathBuf,
    /// Lab mode: the lab DC and an in-process tenant simulator.
    pub lab: bool,
    /// `--theme` (over the setting).
    pub theme: Option<crate::config::Theme>,
}

/// The wizard: navigation, the pages' states, the worker, the dialogs.
pub struct App {
    pub wiz: Wizard,
    /// Each page's state.
    pub pages: Pages,
    /// The page last drawn and whether it showed as failed: each new one is noted in the log.
    shown: Option<(wizard::PageId, bool)>,
    worker: Worker,
    /// Lab mode: the lab DC and the in-process tenant simulator.
    pub lab: bool,
    /// The lab DC, once up (lab mode).
    pub lab_info: Option<Box<crate::lab::LabInfo>>,
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
    /// The colours (`--theme`, the setting, else the system's); installed on the first frame.
    pub theme: crate::config::Theme,
    themed: Option<crate::config::Theme>,
}

impl App {
    /// A wizard over the settings at `config_path`, with `flags` over them.
    pub fn new(
        config_path: PathBuf,
        lab: bool,
        flags: SettingsOverlay,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<App, GuiError> {
        let opts = SessionOptions::new(config_path, lab, Front::Wizard, flags);
        let settings = opts.settings()?;
        let opts_paths = opts.paths();
        let audit_log = opts_paths.audit_log.clone();
        let worker = Worker::new(opts, repaint)?;
        if lab {
            // Not counted as busy: the Welcome and Tasks pages need no DC.
            worker.send(Job::LabUp);
        }
        let mut pages = Pages::default();
        pages.entra.cloud = Some(settings.cloud.unwrap_or(if settings.lab_url.is_some() || lab {
            crate::config::Cloud::Lab
        } else {
            crate::config::Cloud::Public
        }));
        pages.directories.ad_url = settings.ad_url.unwrap_or_default();
        pages.directories.ad_user = settings.ad_user.unwrap_or_default();
        pages.scope.scopes = settings.scope.into_iter().map(|s| (s, true)).collect();
        pages.unfinished = crate::engine::journal::unfinished(&opts_paths.state_dir).ok().flatten();
        Ok(App {
            wiz: Wizard::default(),
            pages,
            shown: None,
            worker,
            lab,
            lab_info: None,
            error: None,
            note: None,
            confirm_exit: false,
            exit: false,
            about: false,
            audit_log,
            pending: 0,
            theme: settings.theme.unwrap_or_default(),
            themed: None,
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

    /// Replaces the open dialog (tests pick the file themselves).
    pub fn set_opener(&mut self, opener: worker::Chooser) {
        self.worker.set_opener(opener);
    }

    /// Copies another file on "Save log…" (tests; a log kept elsewhere).
    pub fn set_log_file(&mut self, path: PathBuf) {
        self.worker.set_log_file(path);
    }

    /// Keeps the journal and audit log elsewhere (tests; a portable install).
    pub fn set_paths(&mut self, paths: crate::engine::apply::Paths) {
        self.audit_log = paths.audit_log.clone();
        self.pages.unfinished = crate::engine::journal::unfinished(&paths.state_dir).ok().flatten();
        self.worker.set_paths(paths);
    }

    /// The pages' way to the engine and the message area.
    fn nav(&mut self) -> (&mut Pages, Nav<'_>) {
        let nav = Nav {
            wiz: &mut self.wiz,
            worker: &self.worker,
            pending: &mut self.pending,
            error: &mut self.error,
            note: &mut self.note,
            lab: self.lab,
            lab_info: self.lab_info.as_deref(),
            audit_log: &self.audit_log,
        };
        (&mut self.pages, nav)
    }

    /// Starts engine work; the bar's buttons stay off until it answers.
    fn start(&mut self, job: Job) {
        self.nav().1.start(job);
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
        if !matches!(
            msg,
            Msg::Progress(_) | Msg::DeviceCode { .. } | Msg::LabUp(_) | Msg::Children { .. } | Msg::Opened(_)
        ) {
            self.pending = self.pending.saturating_sub(1);
            self.wiz.facts.busy = self.pending > 0;
        }
        let p = &mut self.pages;
        match msg {
            Msg::Children { dn, found: Ok((users, children)) } => {
                p.scope.tree.insert(dn, (users, children));
            }
            Msg::Children { dn, found: Err(e) } => {
                p.scope.requested.remove(&dn);
                self.fail(e);
            }
            Msg::Accounts { picker, text, found: Ok(hits) } => p.found(picker, text, hits),
            Msg::Accounts { found: Err(e), .. } => self.fail(e),
            Msg::Saved(Ok(Some(path))) => self.note = Some(format!("Saved {}.", path.display())),
            Msg::Saved(Ok(None)) => self.note = Some("No file was chosen: nothing was saved.".into()),
            Msg::Saved(Err(e)) => self.fail(e),
            Msg::Imported(Ok(None)) => self.note = Some("No file was chosen: nothing was imported.".into()),
            Msg::Imported(Ok(Some((file, pin_kept, settings)))) => {
                // The pages start again from the imported settings.
                p.directories.ad_url = settings.ad_url.clone().unwrap_or_default();
                p.directories.ad_user = settings.ad_user.clone().unwrap_or_default();
                p.scope.scopes = settings.scope.iter().map(|s| (s.clone(), true)).collect();
                if let Some(c) = settings.cloud {
                    p.entra.cloud = Some(c);
                }
                self.note = Some(if pin_kept {
                    format!(
                        "Imported {}. It pins another certificate for the DC than this machine trusts: this machine's pin was kept (take theirs with `writeback-wizard config import --yes` after checking it).",
                        file.display()
                    )
                } else {
                    format!("Imported {}.", file.display())
                });
            }
            Msg::Imported(Err(e)) => self.fail(e),
            Msg::Opened(Ok(url)) => self.note = Some(format!("Opened {url} in the browser.")),
            Msg::Opened(Err(e)) => self.fail(e),
            Msg::LabUp(Ok(info)) => {
                if p.directories.ad_url.is_empty() {
                    p.directories.ad_url = info.ldap_url.clone();
                }
                if p.directories.ad_user.is_empty() {
                    p.directories.ad_user = info.admin_user.clone();
                }
                self.lab_info = Some(info);
            }
            Msg::LabUp(Err(e)) => self.fail(e),
            Msg::DeviceCode { user_code, uri } => p.entra.device_code = Some((user_code, uri)),
            Msg::SignedIn(Ok(check)) => {
                p.entra.device_code = None;
                self.wiz.facts.tenant_ready = check.ready();
                p.entra.tenant = Some(check);
            }
            Msg::SignedIn(Err(e)) => {
                p.entra.device_code = None;
                self.fail(e);
            }
            Msg::Untrusted { changed_from, certificate, report } => {
                p.directories.changed_from = changed_from;
                p.directories.typed_tail.clear();
                p.directories.untrusted = Some((certificate, report));
            }
            Msg::Connected(Ok(view)) => {
                p.directories.pending_password = None;
                p.directories.connector = view.chosen.clone().or_else(|| view.candidates.first().map(|c| c.0.clone()));
                if p.scope.scopes.is_empty() {
                    p.scope.scopes = view.domains.iter().map(|d| (d.clone(), *d == view.domain)).collect();
                }
                p.directories.directory = Some(view);
            }
            Msg::Connected(Err(e)) => {
                p.directories.pending_password = None;
                self.fail(e);
            }
            Msg::Status(Ok(view)) => {
                let worker::StatusView { status, readiness } = *view;
                p.features.set_status(self.wiz.task, status, readiness);
            }
            Msg::Status(Err(e)) | Msg::Planned(Err(e)) => self.fail(e),
            Msg::Planned(Ok(plan)) => {
                self.wiz.facts.plan_ready = plan.ready();
                p.configuring.set_plan(&plan);
                p.ready.plan = Some(plan);
                if p.ready.cloudsync_admin.is_empty()
                    && let Some(t) = &p.entra.tenant
                {
                    p.ready.cloudsync_admin = t.account.user_principal_name.clone();
                }
            }
            Msg::Progress(progress) => p.configuring.progress(progress),
            Msg::Applied(result) => {
                let result = result.map(|(outcome, canary)| {
                    p.complete.canary = canary;
                    outcome
                });
                // A canary that fails does not undo the configuration: its verdict on the last page
                // says what to look at.
                self.wiz.failed = !matches!(&result, Ok(o) if o.verified);
                self.wiz.facts.configured = true;
                if result.is_ok() && self.wiz.task == wizard::Task::Recover {
                    p.unfinished = None;
                }
                if let Err(e) = &result {
                    self.error = Some(e.clone());
                }
                p.complete.outcome = Some(result);
                self.wiz.advance();
            }
            Msg::Tested(Ok(v)) => p.features.verdict = Some(v),
            Msg::Tested(Err(e)) => self.fail(e),
        }
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
        let connector = self.pages.directories.connector.clone();
        if self.wiz.task == wizard::Task::Recover {
            match from {
                // The journal holds the plan: the choice is all Ready needs.
                PageId::ConnectDirectories => self.wiz.facts.plan_ready = self.pages.unfinished.is_some(),
                PageId::Ready => {
                    if let Some(journal) = self.pages.unfinished.clone() {
                        let roll_back = self.pages.ready.roll_back;
                        self.start(Job::Recover { journal, roll_back });
                    }
                }
                _ => {}
            }
            return;
        }
        match from {
            PageId::ConnectDirectories => {
                self.pages.features.status = None;
                self.start(Job::Choose { connector, scopes: Vec::new() });
            }
            PageId::Scope => {
                self.pages.features.status = None;
                let scopes = self.pages.scope.chosen();
                self.start(Job::Choose { connector, scopes });
            }
            PageId::OptionalFeatures => {
                self.pages.ready.plan = None;
                self.wiz.facts.plan_ready = false;
                self.start(Job::Plan(self.pages.features.choice()));
            }
            PageId::Ready => {
                let ready = &mut self.pages.ready;
                if let Some(plan) = ready.plan.clone() {
                    let user = ready.canary.text.trim().to_string();
                    let password = std::mem::take(&mut ready.connector_password);
                    let canary = (!user.is_empty())
                        .then(|| (user, (!password.is_empty()).then(|| crate::secrets::Secret::new(password))));
                    let start_sync = ready.start_sync;
                    let cloudsync = if self.pages.cloudsync() { self.pages.ready.take_cloudsync() } else { None };
                    self.pages.complete.canary = None;
                    self.start(Job::Apply { plan, start_sync, canary, cloudsync });
                }
            }
            _ => {}
        }
    }

    /// Plans again after a failure (the Ready page shows the fresh plan).
    fn retry(&mut self) {
        self.pages.complete.outcome = None;
        self.error = None;
        self.pages.ready.plan = None;
        self.pages.configuring.steps.clear();
        self.start(Job::Plan(self.pages.features.choice()));
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
        if self.themed != Some(self.theme) {
            theme::install(ui.ctx(), self.theme);
            self.themed = Some(self.theme);
        }
        self.poll();
        // Before the bar is drawn, so Next is right on the frame the page first shows.
        self.wiz.facts.scope_chosen = self.pages.scope.scopes.iter().any(|(_, on)| *on);
        self.wiz.facts.directory_ready = self.pages.directories.ready(self.wiz.task);
        let t = theme::tokens(ui.ctx());
        let margin = egui::Margin::same(theme::space::MARGIN);
        egui::Panel::left("rail")
            .resizable(false)
            .exact_size(theme::space::RAIL)
            .frame(egui::Frame::new().fill(t.rail).inner_margin(margin).stroke(egui::Stroke::new(1.0, t.line)))
            .show(ui, |ui| self.rail(ui));
        egui::Panel::bottom("bar")
            .resizable(false)
            .frame(egui::Frame::new().fill(t.rail).inner_margin(egui::Margin::symmetric(theme::space::MARGIN, 8)))
            .show(ui, |ui| self.bar(ui));
        // The title band: the page's title on the accent's light tint, as Microsoft's wizard has.
        egui::Panel::top("band").resizable(false).frame(egui::Frame::new().fill(t.band).inner_margin(margin)).show(
            ui,
            |ui| {
                ui.heading(egui::RichText::new(self.wiz.page.title(self.wiz.failed)).color(t.text));
            },
        );
        egui::CentralPanel::default().frame(egui::Frame::new().fill(t.page).inner_margin(margin)).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let (pages, mut nav) = self.nav();
                if let Some(pages::complete::Action::Retry) = pages::ui(pages, ui, &mut nav) {
                    self.retry();
                }
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
        let t = theme::tokens(ui.ctx());
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("writeback-wizard").size(theme::text::SECTION).strong());
            if self.lab {
                // So nobody mistakes the lab for production.
                let badge = egui::RichText::new(" LAB ")
                    .strong()
                    .color(egui::Color32::BLACK)
                    .background_color(egui::Color32::from_rgb(250, 200, 60));
                ui.label(badge);
            }
        });
        ui.add_space(theme::space::SECTION);
        for (page, state) in self.wiz.rail() {
            let title = page.title(self.wiz.failed);
            let text = match state {
                RailState::Done => egui::RichText::new(format!("•  {title}")).color(t.text),
                RailState::Current => egui::RichText::new(format!("› {title}")).strong().color(t.accent),
                RailState::Later => egui::RichText::new(format!("   {title}")).color(t.weak),
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
                // The default button (Enter presses it) in the accent colour, as Windows draws it.
                let t = theme::tokens(ui.ctx());
                let label = egui::RichText::new(self.wiz.next_label());
                let next = if next_enabled {
                    egui::Button::new(label.color(t.on_accent)).fill(t.accent)
                } else {
                    egui::Button::new(label)
                };
                if ui.add_enabled(next_enabled, next).clicked() {
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

/// An error: what happened, with its icon; what to do; and the code (for support), quietly.
pub(crate) fn error_box(ui: &mut egui::Ui, e: &ErrorReport) {
    let t = theme::tokens(ui.ctx());
    egui::Frame::new().stroke(egui::Stroke::new(1.0, t.line)).inner_margin(10).corner_radius(4).show(ui, |ui| {
        theme::verdict_line(ui, theme::Verdict::Failed, &e.message);
        ui.label(format!("What to do: {}", e.remedy));
        ui.label(egui::RichText::new(e.code.as_str()).small().color(t.weak));
    });
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
pub fn run(options: Options) -> Result<(), GuiError> {
    let Options { config_path, lab, theme } = options;
    if cfg!(unix) && std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(GuiError::NoDisplay);
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
    let mut failure: Option<GuiError> = None;
    let result = eframe::run_native(
        "writeback-wizard",
        options,
        Box::new(|cc| {
            let ctx = cc.egui_ctx.clone();
            let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
            match App::new(config_path, lab, SettingsOverlay::default(), repaint) {
                Ok(mut app) => {
                    if let Some(t) = theme {
                        app.theme = t;
                    }
                    Ok(Box::new(app) as Box<dyn eframe::App>)
                }
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
    result.map_err(|e| GuiError::Window { detail: e.to_string() })
}
