//! Configuration complete (or failed): what changed, the verification, where the log is.

use super::verdict;
use crate::gui::App;

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    match &app.outcome {
        Some(Ok(o)) => {
            if o.applied.is_empty() {
                ui.label("Nothing needed changing.");
            }
            for id in &o.applied {
                let said = app.plan.as_ref().and_then(|p| p.steps.iter().find(|s| &s.id == id));
                ui.label(format!("Done: {}", said.map_or(id.as_str(), |s| s.description.as_str())));
            }
            verdict(
                ui,
                o.verified,
                if o.verified { "Verified: every change reads back as planned" } else { "Not verified" },
            );
            match &app.canary {
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
            super::configuring::show(app, ui);
            ui.add_space(6.0);
            ui.label("Nothing was left half done: the steps that ran were undone, and each undo was checked.");
            ui.horizontal(|ui| {
                if ui.button("Retry").clicked() && app.wiz.retry() {
                    app.retry();
                }
                if ui.button("Save log…").clicked() {
                    app.start(crate::gui::worker::Job::SaveLog);
                }
            });
        }
        None => {}
    }
    ui.add_space(6.0);
    ui.label(format!("Every change is recorded in {}.", app.audit_log.display()));
    ui.label("Run the wizard again at any time to see the state or to turn writeback off.");
}
