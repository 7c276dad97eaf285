//! Connect to Microsoft Entra ID: sign in, then the role, licence and sync verdicts.

use super::{Nav, verdict};
use crate::config::Cloud;
use crate::entra::check::EntraCheck;
use crate::gui::worker::Job;

/// The page's state.
#[derive(Default)]
pub struct ConnectEntra {
    /// The cloud to sign in to (`None`: the settings' or the lab's, set when the wizard opens).
    pub cloud: Option<Cloud>,
    /// A device code being waited on, and where to enter it.
    pub device_code: Option<(String, String)>,
    /// The tenant check after sign-in.
    pub tenant: Option<Box<EntraCheck>>,
}

fn cloud_name(c: Cloud) -> &'static str {
    match c {
        Cloud::Public => "Microsoft Entra ID (worldwide)",
        Cloud::Usgov => "US Government (GCC High)",
        Cloud::UsgovDod => "US Government (DoD)",
        Cloud::China => "China (21Vianet)",
        Cloud::Lab => "Lab (tenant simulator)",
    }
}

impl ConnectEntra {
    /// Draws the page.
    pub fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(
            "Sign in as a Global Administrator or Hybrid Identity Administrator of the tenant. \
             The account needs no licence of its own.",
        );
        let idle = !nav.busy();
        let mut cloud = self.cloud.unwrap_or(Cloud::Public);
        if nav.lab {
            ui.label("Lab mode: the sign-in uses the simulated tenant's administrator.");
            ui.add_space(6.0);
            if ui.add_enabled(idle, egui::Button::new("Sign in to the lab tenant")).clicked() {
                nav.start(Job::SignIn { cloud: None, device_code: false });
            }
        } else {
            ui.horizontal(|ui| {
                let l = ui.add_sized([150.0, 20.0], egui::Label::new("Cloud"));
                egui::ComboBox::from_id_salt("cloud")
                    .selected_text(cloud_name(cloud))
                    .show_ui(ui, |ui| {
                        for c in [Cloud::Public, Cloud::Usgov, Cloud::UsgovDod, Cloud::China, Cloud::Lab] {
                            ui.selectable_value(&mut cloud, c, cloud_name(c));
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            self.cloud = Some(cloud);
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(idle, egui::Button::new("Sign in with a browser")).clicked() {
                    nav.start(Job::SignIn { cloud: Some(cloud), device_code: false });
                }
                if ui.add_enabled(idle, egui::Button::new("Sign in with a device code")).clicked() {
                    nav.start(Job::SignIn { cloud: Some(cloud), device_code: true });
                }
            });
        }
        if let Some((code, uri)) = self.device_code.clone() {
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
        let Some(t) = &self.tenant else { return };
        ui.add_space(6.0);
        ui.label(format!("Signed in as {} ({})", t.account.display_name, t.account.user_principal_name));
        let roles: Vec<&str> = t.roles.iter().map(|r| r.display_name.as_str()).collect();
        verdict(ui, t.role_ok, &format!("Roles: {}", if roles.is_empty() { "none".into() } else { roles.join(", ") }));
        verdict(ui, t.licence.eligible, &t.licence.reason);
        if !t.licence.eligible {
            for n in &t.licence.not_counted {
                ui.label(format!(
                    "    {} ({}): {}",
                    n.product_name.as_deref().unwrap_or("?"),
                    n.sku_part_number,
                    n.why
                ));
            }
        }
        for p in t.problems.iter().filter(|p| **p != t.licence.reason) {
            verdict(ui, false, p);
        }
        for w in t.warnings.iter().chain(&t.licence.warnings) {
            crate::gui::theme::verdict_line(ui, crate::gui::theme::Verdict::Warning, w);
        }
    }
}
