//! Configuring: each step and its progress; Cancel stops between steps and undoes.

use crate::gui::{App, StepState};

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    let described = |id: &str| {
        app.plan
            .as_ref()
            .and_then(|p| p.steps.iter().find(|s| s.id == id))
            .map(|s| s.description.clone())
            .unwrap_or_else(|| if id == "start-sync" { "Start a synchronization cycle".into() } else { id.to_string() })
    };
    for (id, state) in &app.steps {
        let text = described(id);
        match state {
            StepState::Waiting => ui.weak(format!("Waiting: {text}")),
            StepState::Running => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Running: {text}"));
                })
                .response
            }
            StepState::Done(ms) => ui.label(format!("Done: {text} ({ms} ms)")),
            StepState::Failed(e) => ui.colored_label(ui.visuals().error_fg_color, format!("Failed: {text}: {e}")),
            StepState::Undone => ui.label(format!("Undone: {text}")),
        };
    }
    if app.wiz.facts.busy {
        ui.add_space(6.0);
        ui.label("Cancel stops after the current step and undoes what was done.");
    }
}
