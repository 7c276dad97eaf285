//! Ready to configure: the plan, line by line, and "Start the synchronization process when
//! configuration completes".

use super::verdict;
use crate::gui::{App, field};

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    // Taken out while drawing (and put back below) so the page can change the App's fields without
    // copying a plan of a thousand steps every frame.
    let Some(plan) = app.plan.take() else {
        ui.label(if app.wiz.facts.busy { "Working out the plan…" } else { "There is no plan." });
        return;
    };
    for c in &plan.preconditions {
        verdict(ui, c.ok, &if c.ok { c.check.clone() } else { format!("{} — {}", c.check, c.remedy) });
    }
    ui.add_space(6.0);
    if plan.steps.is_empty() {
        ui.label("Nothing to change: it is already so.");
    }
    // The SDDL is exact but unreadable: say each ACE in words (the status knows them), and keep
    // the SDDL one click away.
    let words: std::collections::HashMap<&str, &str> = app
        .status
        .iter()
        .flat_map(|st| st.ad.scopes.iter().flat_map(|t| t.aces.iter()))
        .map(|a| (a.sddl.as_str(), a.description.as_str()))
        .collect();
    let sign = if plan.action == crate::engine::Action::Enable { "+" } else { "-" };
    for (i, s) in plan.steps.iter().enumerate() {
        ui.label(format!("{}. {}", i + 1, s.description));
        for c in &s.change {
            if let Some(w) = words.get(c.as_str()) {
                ui.label(format!("      {sign} {w}"));
            }
        }
        if s.change.iter().any(|c| c.starts_with('(')) {
            egui::CollapsingHeader::new(format!("Exact ACEs of step {} (SDDL)", i + 1)).show(ui, |ui| {
                for c in &s.change {
                    ui.add(egui::Label::new(egui::RichText::new(c).monospace().small()).wrap());
                }
            });
        }
    }
    for k in &plan.preexisting {
        ui.label(format!("Kept (there before): {} on {}", k.description, k.target));
    }
    for w in &plan.warnings {
        ui.label(format!("Note: {w}"));
    }
    ui.add_space(6.0);
    ui.checkbox(&mut app.start_sync, "Start the synchronization process when configuration completes");
    if plan.action == crate::engine::Action::Enable {
        ui.add_space(6.0);
        ui.label(
            "Optionally prove writeback afterwards: bound as the connector account, the wizard resets this test \
             account's password to a random value it does not keep, and clears its lockout. Name an account \
             nobody uses; never a real person's.",
        );
        field(ui, "Canary user (optional)", &mut app.canary_user, false);
        if !app.canary_user.trim().is_empty() {
            field(ui, "Connector account password", &mut app.connector_password, true);
            if app.lab {
                ui.label("Lab mode: leave it empty to use the lab connector account's password.");
            }
        }
    }
    if plan.ready() {
        ui.label("Press Configure to make these changes. Each is checked after it is made; a failure undoes them all.");
    }
    app.plan = Some(plan);
}
