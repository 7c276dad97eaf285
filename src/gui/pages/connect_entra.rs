//! Connect to Microsoft Entra ID: sign in, then the role, licence and sync verdicts.

use super::verdict;
use crate::config::Cloud;
use crate::gui::App;
use crate::gui::worker::Job;

fn cloud_name(c: Cloud) -> &'static str {
    match c {
        Cloud::Public => "Microsoft Entra ID (worldwide)",
        Cloud::Usgov => "US Government (GCC High)",
        Cloud::UsgovDod => "US Government (DoD)",
        Cloud::China => "China (21Vianet)",
        Cloud::Lab => "Lab (tenant simulator)",
    }
}

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.label(
        "Sign in as a Global Administrator or Hybrid Identity Administrator of the tenant. \
         The account needs no licence of its own.",
    );
    let idle = !app.wiz.facts.busy;
    if app.lab {
        ui.label("Lab mode: the sign-in uses the simulated tenant's administrator.");
        ui.add_space(6.0);
        if ui.add_enabled(idle, egui::Button::new("Sign in to the lab tenant")).clicked() {
            app.start(Job::SignIn { cloud: None, device_code: false });
        }
    } else {
        ui.horizontal(|ui| {
            let l = ui.add_sized([150.0, 20.0], egui::Label::new("Cloud"));
            egui::ComboBox::from_id_salt("cloud")
                .selected_text(cloud_name(app.cloud))
                .show_ui(ui, |ui| {
                    for c in [Cloud::Public, Cloud::Usgov, Cloud::UsgovDod, Cloud::China, Cloud::Lab] {
                        ui.selectable_value(&mut app.cloud, c, cloud_name(c));
                    }
                })
                .response
                .labelled_by(l.id);
        });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui.add_enabled(idle, egui::Button::new("Sign in with a browser")).clicked() {
                app.start(Job::SignIn { cloud: Some(app.cloud), device_code: false });
            }
            if ui.add_enabled(idle, egui::Button::new("Sign in with a device code")).clicked() {
                app.start(Job::SignIn { cloud: Some(app.cloud), device_code: true });
            }
        });
    }
    if let Some((code, uri)) = app.device_code.clone() {
        ui.add_space(6.0);
        ui.label(format!("On any device, open {uri} and enter this code:"));
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(&code).monospace().size(28.0).strong());
            if ui.button("Copy").clicked() {
                ui.ctx().copy_text(code.clone());
            }
        });
        ui.label("Waiting for the sign-in… (Cancel stops waiting)");
    }
    let Some(t) = &app.tenant else { return };
    ui.add_space(6.0);
    ui.label(format!("Signed in as {} ({})", t.account.display_name, t.account.user_principal_name));
    let roles: Vec<&str> = t.roles.iter().map(|r| r.display_name.as_str()).collect();
    verdict(ui, t.role_ok, &format!("Roles: {}", if roles.is_empty() { "none".into() } else { roles.join(", ") }));
    verdict(ui, t.licence.eligible, &t.licence.reason);
    if !t.licence.eligible {
        for n in &t.licence.not_counted {
            ui.label(format!("    {} ({}): {}", n.product_name.as_deref().unwrap_or("?"), n.sku_part_number, n.why));
        }
    }
    for p in t.problems.iter().filter(|p| **p != t.licence.reason) {
        verdict(ui, false, p);
    }
    for w in t.warnings.iter().chain(&t.licence.warnings) {
        ui.label(format!("Note: {w}"));
    }
}
