//! One file per page: each owns its state next to the `ui` that draws it, and starts engine work
//! through [`Nav`]. `App` keeps only navigation, the worker and the dialogs.

pub mod complete;
pub mod configuring;
pub mod connect_directories;
pub mod connect_entra;
pub mod optional_features;
pub mod ready;
pub mod scope;
mod tasks;
mod welcome;

use std::path::Path;

use super::wizard::Wizard;
use super::worker::{Job, Worker};
use crate::diagnose::ErrorReport;

/// The words shared by several pages (the picker, the unfinished-configuration banner).
pub mod words {
    pub fn no_match(text: &str) -> String {
        format!("No user or gMSA starts with \"{text}\".")
    }
    pub fn unfinished(journal: &std::path::Path) -> String {
        format!(
            "An earlier configuration did not finish; its journal is {}. Choose \"Finish the unfinished configuration\" to roll it back (every change undone) or resume it (the rest done).",
            journal.display()
        )
    }
}

/// Every page's state.
#[derive(Default)]
pub struct Pages {
    pub entra: connect_entra::ConnectEntra,
    pub directories: connect_directories::ConnectDirectories,
    pub scope: scope::Scope,
    pub features: optional_features::OptionalFeatures,
    pub ready: ready::Ready,
    pub configuring: configuring::Configuring,
    pub complete: complete::Complete,
    /// An apply that neither completed nor rolled back (its journal), found at start.
    pub unfinished: Option<std::path::PathBuf>,
}

impl Pages {
    /// The sync engine is Entra Cloud Sync.
    pub fn cloudsync(&self) -> bool {
        self.features.status.as_ref().and_then(|s| s.sync_engine.as_ref()).is_some_and(|e| e.flavour == "cloudsync")
    }

    /// A picker's matches arrived.
    pub fn found(&mut self, picker: &str, text: String, hits: Vec<crate::ad::directory::AccountHit>) {
        let target = match picker {
            "connector" => &mut self.directories.other_connector,
            _ => &mut self.ready.canary,
        };
        target.found = Some((text, hits));
    }
}

/// What a page may reach besides its own state: navigation, the engine, the message area.
pub struct Nav<'a> {
    pub wiz: &'a mut Wizard,
    pub(crate) worker: &'a Worker,
    pub(crate) pending: &'a mut usize,
    pub error: &'a mut Option<ErrorReport>,
    pub note: &'a mut Option<String>,
    /// Lab mode.
    pub lab: bool,
    /// The lab DC, once up.
    pub lab_info: Option<&'a crate::lab::LabInfo>,
    pub audit_log: &'a Path,
}

impl Nav<'_> {
    /// Starts engine work; the bar's buttons stay off until it answers.
    pub fn start(&mut self, job: Job) {
        *self.error = None;
        *self.note = None;
        *self.pending += 1;
        self.wiz.facts.busy = true;
        self.worker.send(job);
    }

    /// Starts engine work that does not hold the bar (browsing the OU tree).
    pub fn send(&self, job: Job) {
        self.worker.send(job);
    }

    /// Work is under way.
    pub fn busy(&self) -> bool {
        self.wiz.facts.busy
    }
}

/// A verdict line: a check or a cross (named "Passed" or "Failed" for screen readers), then the
/// words.
pub(crate) fn verdict(ui: &mut egui::Ui, ok: bool, text: &str) {
    let v = if ok { super::theme::Verdict::Ok } else { super::theme::Verdict::Failed };
    super::theme::verdict_line(ui, v, text);
}

/// A search-as-you-type picker over the domain's users and gMSAs: a field, and under it the
/// first matches, each a button that picks it. Searches from two characters on.
#[derive(Debug, Default)]
pub struct Picker {
    /// What is typed.
    pub text: String,
    /// The last search sent.
    asked: String,
    /// The matches for the text they were found for.
    pub found: Option<(String, Vec<crate::ad::directory::AccountHit>)>,
    /// The text whose matches were last scrolled into view.
    shown: String,
}

impl Picker {
    /// Draws the field and the matches; returns the account picked on this frame.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        nav: &Nav<'_>,
        picker: &'static str,
        label: &str,
    ) -> Option<crate::ad::directory::AccountHit> {
        super::field(ui, label, &mut self.text, false);
        let text = self.text.trim().to_string();
        if text.chars().count() >= 2 && text != self.asked {
            self.asked = text.clone();
            nav.send(Job::FindAccounts { picker, text: text.clone() });
        }
        let mut picked = None;
        if let Some((for_text, hits)) = &self.found
            && *for_text == text
            && !text.is_empty()
        {
            if hits.is_empty() {
                ui.label(words::no_match(&text));
            }
            for hit in hits {
                let words =
                    if hit.display.is_empty() || hit.display.trim_end_matches('$') == hit.sam.trim_end_matches('$') {
                        hit.sam.clone()
                    } else {
                        format!("{} ({})", hit.sam, hit.display)
                    };
                // A stable id per account, so a click lands whatever the frame before drew.
                let clicked = ui.push_id(&hit.dn, |ui| {
                    ui.add(egui::Button::new(words).frame(false)).on_hover_text(&hit.dn).clicked()
                });
                if clicked.inner {
                    picked = Some(hit.clone());
                }
                // New matches come into view (the page may be scrolled to the field's height).
                if self.shown != text {
                    clicked.response.scroll_to_me(None);
                }
            }
        }
        if self.found.as_ref().is_some_and(|(t, _)| *t == text) {
            self.shown = text.clone();
        }
        if let Some(hit) = &picked {
            self.text = hit.sam.clone();
            self.asked = hit.sam.clone();
            self.found = None;
        }
        picked
    }
}

/// The banner for an unfinished configuration (Welcome and Tasks show it).
pub(crate) fn unfinished_banner(ui: &mut egui::Ui, journal: &Path) {
    super::theme::verdict_line(ui, super::theme::Verdict::Warning, &words::unfinished(journal));
    ui.add_space(super::theme::space::SECTION);
}

/// Draws the current page.
pub(crate) fn ui(pages: &mut Pages, ui: &mut egui::Ui, nav: &mut Nav<'_>) -> Option<complete::Action> {
    use super::wizard::PageId;
    match nav.wiz.page {
        PageId::Welcome => welcome::ui(ui, nav, pages.unfinished.as_deref()),
        PageId::Tasks => tasks::ui(ui, nav, pages.unfinished.as_deref()),
        PageId::ConnectEntra => pages.entra.ui(ui, nav),
        PageId::ConnectDirectories => pages.directories.ui(ui, nav),
        PageId::Scope => pages.scope.ui(ui, nav, pages.directories.directory.as_ref()),
        PageId::OptionalFeatures => pages.features.ui(ui, nav),
        PageId::Ready if nav.wiz.task == super::wizard::Task::Recover => {
            pages.ready.recovery_ui(ui, pages.unfinished.as_deref())
        }
        PageId::Ready => {
            let cloudsync = pages.cloudsync();
            pages.ready.ui(ui, nav, cloudsync)
        }
        PageId::Configuring => pages.configuring.ui(ui, nav),
        PageId::Complete => {
            let cx = complete::Context {
                enabling: nav.wiz.task == super::wizard::Task::Customize,
                cloudsync: pages.cloudsync(),
                cloud: pages.entra.cloud.unwrap_or(crate::config::Cloud::Public),
                configuring: &pages.configuring,
            };
            return pages.complete.ui(ui, nav, &cx);
        }
    }
    None
}
