//! The wizard window: a left rail of page titles, the page, and a bottom bar with Previous,
//! Next (Configure, Exit) and Cancel. Navigation lives in [`wizard`] (pure, no egui); engine work
//! runs on [`worker`]; each page draws itself from `pages/`. `App::ui` takes a plain `egui::Ui`
//! so the tests drive it with egui_kittest, by accessibility label, without a window.

// Errors keep their raw diagnostics by design; they are the cold path.
#![allow(clippy::result_large_err)]

mod error;
pub mod pages;
pub mod theme;
pub mod wizard;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::GuiError;
pub use pages::configuring::StepState;

use pages::{Nav, Pages};
use wizard::{PageId, RailState, Wizard};
use worker::{Engine, Job, Msg, Worker};
use writeback_core::config::{SettingsOverlay, Theme};
use writeback_core::session::{Front, Options as SessionOptions};
use writeback_core::types::ErrorReport;

pub(crate) use writeback_base::version;

/// How the wizard is started (the CLI's only way in).
pub struct Options {
    /// The settings file.
    pub config_path: PathBuf,
    /// Lab mode: brings the lab's DC and tenant simulator up and hands over their settings.
    pub lab: Option<worker::LabStarter>,
    /// `--theme` (over the setting).
    pub theme: Option<Theme>,
}

/// The wizard: navigation, the pages' states, the engine, the dialogs.
pub struct App {
    wiz: Wizard,
    pages: Pages,
    /// The page last drawn and whether it showed as failed: each new one is noted in the log.
    shown: Option<(wizard::PageId, bool)>,
    engine: Box<dyn Engine>,
    /// Lab mode, and whether the lab is up.
    lab: Option<bool>,
    /// The last error, with its remedy.
    error: Option<ErrorReport>,
    /// A passing note (e.g. where a file was saved).
    note: Option<String>,
    /// The "Are you sure?" dialog is open.
    confirm_exit: bool,
    /// The person chose to leave: the window closes.
    exit: bool,
    /// The About dialog is open.
    about: bool,
    /// Where the audit log is (said on the last page).
    audit_log: PathBuf,
    /// Jobs sent and not yet answered (the bar stays off until all have answered).
    pending: usize,
    /// The colours (`--theme`, the setting, else the system's); installed on the first frame.
    theme: Theme,
    themed: Option<Theme>,
}
impl App {
    /// A wizard over the settings at `config_path`, with `flags` over them, its engine the
    /// worker (lab mode: `lab` brings the lab up and hands its settings over).
    pub fn new(
        config_path: PathBuf,
        lab: Option<worker::LabStarter>,
        flags: SettingsOverlay,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<App, GuiError> {
        let opts = SessionOptions::new(config_path, lab.is_some(), Front::Wizard, flags);
        let worker = Worker::new(opts.clone(), repaint)?;
        let lab_mode = lab.is_some();
        if let Some(starter) = lab {
            // Not counted as busy: the Welcome and Tasks pages need no DC.
            worker.start_lab(starter);
        }
        App::with_engine(&opts, lab_mode, Box::new(worker))
    }

    /// A wizard whose jobs go to `engine` (the worker, or a script in tests of how pages draw).
    pub fn with_engine(opts: &SessionOptions, lab: bool, engine: Box<dyn Engine>) -> Result<App, GuiError> {
        writeback_core::session::guard::check(opts)?;
        let settings = opts.settings()?;
        let mut pages = Pages::default();
        pages.start_from(&settings, lab);
        pages.unfinished = writeback_core::engine::journal::unfinished(&opts.paths.state_dir).ok().flatten();
        Ok(App {
            wiz: Wizard::default(),
            pages,
            shown: None,
            engine,
            lab: lab.then_some(false),
            error: None,
            note: None,
            confirm_exit: false,
            exit: false,
            about: false,
            audit_log: opts.paths.audit_log.clone(),
            pending: 0,
            theme: settings.theme.unwrap_or_default(),
            themed: None,
        })
    }

    /// The worker, to replace its dialogs and browser (tests; a portable install).
    pub fn worker(&mut self) -> Option<&mut Worker> {
        self.engine.worker()
    }

    /// Keeps the journal and audit log elsewhere (tests; a portable install).
    pub fn set_paths(&mut self, paths: writeback_core::engine::paths::Paths) {
        self.audit_log = paths.audit_log.clone();
        self.pages.unfinished = writeback_core::engine::journal::unfinished(&paths.state_dir).ok().flatten();
        if let Some(w) = self.engine.worker() {
            w.set_paths(paths);
        }
    }

    /// The colours to draw with.
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
    }

    /// Where the person is: the page, the task, what is established.
    pub fn wizard(&self) -> &Wizard {
        &self.wiz
    }

    /// What the pages hold.
    pub fn pages(&self) -> &Pages {
        &self.pages
    }

    /// The error shown, with its remedy.
    pub fn error(&self) -> Option<&ErrorReport> {
        self.error.as_ref()
    }

    /// The passing note shown.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// The person chose to leave.
    pub fn exiting(&self) -> bool {
        self.exit
    }

    /// "Are you sure?" is open.
    pub fn asking_to_leave(&self) -> bool {
        self.confirm_exit
    }

    /// The About dialog is open.
    pub fn showing_about(&self) -> bool {
        self.about
    }

    /// Work is under way.
    pub fn busy(&self) -> bool {
        self.wiz.facts.busy
    }

    /// The pages' way to the engine and the message area.
    fn nav(&mut self) -> (&mut Pages, Nav<'_>) {
        let nav = Nav {
            wiz: &mut self.wiz,
            engine: self.engine.as_ref(),
            pending: &mut self.pending,
            error: &mut self.error,
            note: &mut self.note,
            lab: self.lab,
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
        for msg in self.engine.poll() {
            self.handle(msg);
        }
    }

    /// Routes an answer to the page that asked for it.
    fn handle(&mut self, msg: Msg) {
        if msg.holds_bar() {
            self.pending = self.pending.saturating_sub(1);
            self.wiz.facts.busy = self.pending > 0;
        }
        let result = match msg {
            Msg::LabUp(found) => found.map(|fields| {
                self.lab = Some(true);
                self.pages.directories.take_lab(&fields);
            }),
            Msg::Children { dn, found } => self.pages.scope.take_children(dn, found),
            Msg::Accounts { picker, text, found } => found.map(|hits| self.pages.found(picker, text, hits)),
            Msg::Saved(saved) => saved.map(|path| self.note = Some(pages::words::saved(path.as_deref()))),
            Msg::ImportPreview(preview) => preview.map(|p| match p {
                Some(p) => self.pages.import = Some(p),
                None => self.note = Some(pages::words::NOTHING_IMPORTED.into()),
            }),
            Msg::Imported(imported) => imported.map(|i| self.note = Some(self.pages.take_imported(i))),
            Msg::Opened(opened) => opened.map(|url| self.note = Some(pages::words::opened(&url))),
            Msg::DeviceCode { user_code, uri } => {
                self.pages.entra.take_device_code(user_code, uri);
                Ok(())
            }
            Msg::SignedIn(result) => {
                self.pages.entra.take_signed_in(result).map(|ready| self.wiz.facts.tenant_ready = ready)
            }
            Msg::Untrusted { question, report } => {
                self.pages.directories.take_untrusted(question, report);
                Ok(())
            }
            Msg::Connected(result) => self.pages.take_connected(result),
            Msg::Forests(forests) => {
                self.pages.directories.take_forests(forests);
                Ok(())
            }
            Msg::Overview(result) => result.map(|o| self.pages.features.take_overview(self.wiz.task, *o)),
            Msg::Planned(result) => result.map(|plan| self.wiz.facts.plan_ready = self.pages.take_plan(plan)),
            Msg::Progress(progress) => {
                self.pages.configuring.progress(progress);
                Ok(())
            }
            Msg::Configured(result) => {
                let outcome = self.pages.complete.take_configured(result);
                self.configured(outcome)
            }
            Msg::Recovered(result) => {
                let outcome = self.pages.complete.take_recovered(result);
                if outcome.is_ok() {
                    self.pages.unfinished = None;
                }
                self.configured(outcome)
            }
            Msg::Tested(result) => result.map(|t| self.pages.features.take_tested(t)),
            Msg::Troubleshot(result) => {
                self.pages.troubleshoot.take(result);
                Ok(())
            }
            Msg::ResetTested(result) => {
                self.pages.complete.take_reset(result);
                Ok(())
            }
            Msg::Journal(result) => {
                let view = result.map(|v| self.pages.ready.take_journal(*v));
                self.wiz.facts.plan_ready = view.is_ok();
                view
            }
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// The configuration ended (done, or failed and undone): the last page shows how. A canary
    /// that fails does not undo the configuration; its verdict on the last page says what to look
    /// at.
    fn configured(&mut self, outcome: Result<bool, ErrorReport>) -> Result<(), ErrorReport> {
        self.wiz.failed = !matches!(outcome, Ok(true));
        self.wiz.facts.configured = true;
        self.wiz.advance();
        outcome.map(|_| ())
    }

    /// Next (or Configure, or Exit): leaving a page starts what it asks for.
    fn on_next(&mut self) {
        if self.wiz.is_last() {
            self.leave();
            return;
        }
        let from = self.wiz.page;
        if self.wiz.advance().is_none() {
            return;
        }
        let task = self.wiz.task;
        match self.pages.leave(from, task, &mut self.wiz.facts) {
            // Read in the background: the page is usable before (or without) the answer.
            Some(job @ Job::Forests) => self.engine.send(job),
            Some(job) => self.start(job),
            None => {}
        }
    }

    /// Plans again after a failure (the Ready page shows the fresh plan).
    fn retry(&mut self) {
        self.error = None;
        let job = self.pages.retry();
        self.start(job);
    }

    fn on_cancel(&mut self) {
        if self.wiz.facts.busy {
            // Cancel stops the work under way (an apply stops between steps and undoes what it
            // did; a sign-in stops waiting); leaving is a second Cancel.
            self.engine.cancel();
        } else if self.wiz.should_confirm_exit() {
            self.confirm_exit = true;
        } else {
            self.leave();
        }
    }

    fn leave(&mut self) {
        self.engine.cancel();
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
        self.wiz.facts.scope_chosen = self.pages.scope.any_chosen();
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
            .frame(
                egui::Frame::new()
                    .fill(t.rail)
                    .inner_margin(egui::Margin::symmetric(theme::space::MARGIN, theme::space::BAR)),
            )
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
            if self.lab.is_some() {
                // So nobody mistakes the lab for production.
                let badge = egui::RichText::new(" LAB ").strong().color(t.on_badge).background_color(t.badge);
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
            ui.add_space(crate::theme::space::PARAGRAPH);
            if ui.button("About").clicked() {
                self.about = true;
            }
        });
    }

    fn bar(&mut self, ui: &mut egui::Ui) {
        ui.add_space(crate::theme::space::ITEM);
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
        ui.add_space(crate::theme::space::ITEM);
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
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, t.line))
        .inner_margin(theme::space::BOX)
        .corner_radius(theme::space::CORNER)
        .show(ui, |ui| {
            theme::verdict_line(ui, theme::Verdict::Failed, &e.message);
            ui.label(format!("What to do: {}", e.remedy));
            ui.label(egui::RichText::new(e.code.as_str()).small().color(t.weak));
        });
}

/// A label and a single-line field it names (so screen readers and tests find it by label).
pub(crate) fn field(ui: &mut egui::Ui, label: &str, value: &mut String, password: bool) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.add_sized(crate::theme::space::LABEL, egui::Label::new(label));
        ui.add(egui::TextEdit::singleline(value).password(password).desired_width(crate::theme::space::FIELD))
            .labelled_by(l.id)
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
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../../../assets/icon.png")).ok();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(format!(
            "writeback-wizard {}{}",
            crate::version::VERSION,
            if lab.is_some() { " (lab)" } else { "" }
        ))
        .with_app_id("writeback-wizard")
        .with_inner_size(theme::space::WINDOW);
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
                        app.set_theme(t);
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
