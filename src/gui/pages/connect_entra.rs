//! Connect to Microsoft Entra ID: sign in, then the role, licence and sync verdicts.

use super::verdict;
use crate::gui::App;
use crate::gui::worker::Job;

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.label(
        "Sign in as a Global Administrator or Hybrid Identity Administrator of the tenant. \
         The account needs no licence of its own.",
    );
    if app.lab {
        ui.label("Lab mode: Sign in uses the simulated tenant's administrator.");
    } else {
        ui.label("Your browser opens for the sign-in; come back here when it says you may close it.");
    }
    ui.add_space(6.0);
    if ui.add_enabled(!app.wiz.facts.busy, egui::Button::new("Sign in")).clicked() {
        app.start(Job::SignIn);
    }
    let Some(t) = &app.tenant else { return };
    ui.add_space(6.0);
    ui.label(format!("Signed in as {} ({})", t.account.display_name, t.account.user_principal_name));
    let roles: Vec<&str> = t.roles.iter().map(|r| r.display_name.as_str()).collect();
    verdict(ui, t.role_ok, &format!("Roles: {}", if roles.is_empty() { "none".into() } else { roles.join(", ") }));
    verdict(ui, t.licence.eligible, &t.licence.reason);
    for p in &t.problems {
        verdict(ui, false, p);
    }
    for w in t.warnings.iter().chain(&t.licence.warnings) {
        ui.label(format!("Note: {w}"));
    }
}
