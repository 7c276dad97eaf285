//! Configuration complete (or failed): what changed, the verification, where the log is.

use super::configuring::Configuring;
use super::{Nav, verdict};
use crate::diagnose::ErrorReport;
use crate::engine::apply::{ApplyOutcome, Canary};

/// The page's state.
#[derive(Default)]
pub struct Complete {
    /// The apply's result.
    pub outcome: Option<Result<ApplyOutcome, ErrorReport>>,
    /// The canary's answer.
    pub canary: Option<Result<Canary, ErrorReport>>,
}

/// What the page asks the wizard to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Plan again after a failure.
    Retry,
}

impl Complete {
    /// Draws the page.
    pub fn ui(&self, ui: &mut egui::Ui, nav: &mut Nav<'_>, configuring: &Configuring) -> Option<Action> {
        let mut action = None;
        match &self.outcome {
            Some(Ok(o)) => {
                if o.applied.is_empty() {
                    ui.label("Nothing needed changing.");
                }
                for id in &o.applied {
                    ui.label(format!("Done: {}", configuring.describe(id)));
                }
                verdict(
                    ui,
                    o.verified,
                    if o.verified { "Verified: every change reads back as planned" } else { "Not verified" },
                );
                match &self.canary {
                    Some(Ok(c)) => {
                        verdict(ui, c.reset, &format!("The connector account reset {}'s password", c.user));
                        verdict(ui, c.unlock, &format!("The connector account cleared {}'s lockout", c.user));
                        if let Some(d) = &c.detail {
                            ui.label(format!("Note: {d}"));
                        }
                    }
                    Some(Err(e)) => crate::gui::error_box(ui, e),
                    None => {}
                }
                if o.sync_started {
                    ui.label("A synchronization cycle was started.");
                }
                for w in &o.warnings {
                    ui.label(format!("Note: {w}"));
                }
            }
            Some(Err(_)) => {
                configuring.ui(ui, nav);
                ui.add_space(6.0);
                ui.label("Nothing was left half done: the steps that ran were undone, and each undo was checked.");
                ui.horizontal(|ui| {
                    if ui.button("Retry").clicked() && nav.wiz.retry() {
                        action = Some(Action::Retry);
                    }
                    if ui.button("Save log…").clicked() {
                        nav.start(crate::gui::worker::Job::SaveLog);
                    }
                });
            }
            None => {}
        }
        ui.add_space(6.0);
        ui.label(format!("Every change is recorded in {}.", nav.audit_log.display()));
        ui.label("Run the wizard again at any time to see the state or to turn writeback off.");
        action
    }
}
