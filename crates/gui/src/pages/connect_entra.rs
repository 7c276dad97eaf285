//! Connect to Microsoft Entra ID: sign in, then the role, licence and sync verdicts.

use super::{Nav, verdict};
use crate::worker::Job;
use writeback_core::types::{Cloud, EntraCheck, ErrorReport};

/// The cloud to sign in to, a device code being waited on (and where to enter it), and the tenant
/// check after sign-in.
#[derive(Default)]
pub struct ConnectEntra {
    cloud: Option<Cloud>,
    /// "Keep me signed in on this server" (off unless ticked).
    remember: bool,
    device_code: Option<(String, String)>,
    tenant: Option<Box<EntraCheck>>,
}

/// The page's own words.
pub mod words {
    use writeback_core::types::Cloud;
    pub const WHO: &str = "Sign in as a Global Administrator or Hybrid Identity Administrator of the tenant. The account needs no licence of its own.";
    pub const LAB: &str = "Lab mode: the sign-in uses the simulated tenant's administrator.";
    pub const SIGN_IN_LAB: &str = "Sign in to the lab tenant";
    pub const CLOUD: &str = "Cloud";
    pub const BROWSER: &str = "Sign in with a browser";
    pub const DEVICE: &str = "Sign in with a device code";
    pub const BROWSER_ELEVATED: &str = "Sign in with a browser (it runs as administrator, as this wizard)";
    pub const COPY: &str = "Copy";
    pub const REMEMBER: &str = "Keep me signed in on this server";
    pub const REMEMBER_HOW: &str = "Your refresh token is then kept in this server's credential store (Credential Manager on Windows) until you sign out (`writeback-wizard entra sign-out`); left unticked, nothing of the sign-in outlives the wizard.";
    pub const WAITING: &str = "Waiting for the sign-in… (Cancel stops waiting)";
    pub const NO_ROLES: &str = "none";
    pub fn cloud(c: Cloud) -> &'static str {
        match c {
            Cloud::Public => "Microsoft Entra ID (worldwide)",
            Cloud::Usgov => "US Government (GCC High)",
            Cloud::UsgovDod => "US Government (DoD)",
            Cloud::China => "China (21Vianet)",
            Cloud::Lab => "Lab (tenant simulator)",
        }
    }
    pub fn enter_code(uri: &str) -> String {
        format!("On any device, open {uri} and enter this code:")
    }
    pub fn signed_in(name: &str, upn: &str) -> String {
        format!("Signed in as {name} ({upn})")
    }
    pub fn not_checked(what: &str) -> String {
        format!("Not checked: {what}")
    }
    pub fn roles(roles: &str) -> String {
        format!("Roles: {roles}")
    }
    pub fn not_counted(product: Option<&str>, sku: &str, why: &str) -> String {
        format!("    {} ({sku}): {why}", product.unwrap_or("?"))
    }
}

impl ConnectEntra {
    /// The cloud chosen.
    pub fn cloud(&self) -> Cloud {
        self.cloud.unwrap_or(Cloud::Public)
    }

    pub(crate) fn set_cloud(&mut self, cloud: Cloud) {
        self.cloud = Some(cloud);
    }

    /// The device code being waited on, and where to enter it.
    pub fn device_code(&self) -> Option<(&str, &str)> {
        self.device_code.as_ref().map(|(c, u)| (c.as_str(), u.as_str()))
    }

    /// The tenant check, once signed in.
    pub fn tenant(&self) -> Option<&EntraCheck> {
        self.tenant.as_deref()
    }

    pub(crate) fn take_device_code(&mut self, code: String, uri: String) {
        self.device_code = Some((code, uri));
    }

    /// The sign-in answered; returns whether the tenant is ready.
    pub(crate) fn take_signed_in(&mut self, result: Result<Box<EntraCheck>, ErrorReport>) -> Result<bool, ErrorReport> {
        self.device_code = None;
        let check = result?;
        let ready = check.ready();
        self.tenant = Some(check);
        Ok(ready)
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(words::WHO);
        let idle = !nav.busy();
        let mut cloud = self.cloud.unwrap_or(Cloud::Public);
        if nav.lab() {
            ui.label(words::LAB);
            ui.add_space(crate::theme::space::ITEM);
            if ui.add_enabled(idle, egui::Button::new(words::SIGN_IN_LAB)).clicked() {
                nav.start(Job::SignIn { cloud: None, device_code: false, remember: self.remember });
            }
        } else {
            ui.horizontal(|ui| {
                let l = ui.add_sized(crate::theme::space::LABEL, egui::Label::new(words::CLOUD));
                egui::ComboBox::from_id_salt("cloud")
                    .selected_text(words::cloud(cloud))
                    .show_ui(ui, |ui| {
                        for c in [Cloud::Public, Cloud::Usgov, Cloud::UsgovDod, Cloud::China, Cloud::Lab] {
                            ui.selectable_value(&mut cloud, c, words::cloud(c));
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            self.cloud = Some(cloud);
            ui.add_space(crate::theme::space::ITEM);
            ui.checkbox(&mut self.remember, words::REMEMBER);
            if self.remember {
                ui.label(words::REMEMBER_HOW);
            }
            // Where the wizard runs elevated (Windows: it asks to run as administrator), a browser it
            // starts would run elevated too: the device code comes first there, the browser second
            // and said as such.
            let elevated = writeback_base::platform::RUNS_ELEVATED;
            ui.horizontal(|ui| {
                let browser = if elevated { words::BROWSER_ELEVATED } else { words::BROWSER };
                if elevated && ui.add_enabled(idle, egui::Button::new(words::DEVICE)).clicked() {
                    nav.start(Job::SignIn { cloud: Some(cloud), device_code: true, remember: self.remember });
                }
                if ui.add_enabled(idle, egui::Button::new(browser)).clicked() {
                    nav.start(Job::SignIn { cloud: Some(cloud), device_code: false, remember: self.remember });
                }
                if !elevated && ui.add_enabled(idle, egui::Button::new(words::DEVICE)).clicked() {
                    nav.start(Job::SignIn { cloud: Some(cloud), device_code: true, remember: self.remember });
                }
            });
        }
        if let Some((code, uri)) = self.device_code.clone() {
            ui.add_space(crate::theme::space::ITEM);
            ui.label(words::enter_code(&uri));
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(&code).monospace().size(crate::theme::text::CODE).strong());
                if ui.button(words::COPY).clicked() {
                    ui.ctx().copy_text(code.clone());
                }
            });
            ui.label(words::WAITING);
        }
        let Some(t) = &self.tenant else { return };
        ui.add_space(crate::theme::space::ITEM);
        ui.label(words::signed_in(&t.account.display_name, &t.account.user_principal_name));
        let roles: Vec<&str> = t.roles.iter().map(|r| r.display_name.as_str()).collect();
        verdict(
            ui,
            t.role_ok,
            &words::roles(&if roles.is_empty() { words::NO_ROLES.into() } else { roles.join(", ") }),
        );
        verdict(ui, t.licence.eligible, &t.licence.reason);
        if !t.licence.eligible {
            for n in &t.licence.not_counted {
                ui.label(words::not_counted(n.product_name.as_deref(), &n.sku_part_number, &n.why));
            }
        }
        for p in t.problems.iter().filter(|p| **p != t.licence.reason) {
            verdict(ui, false, p);
        }
        // The check's warnings already hold the licence's.
        for w in &t.warnings {
            crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, w);
        }
        for n in &t.not_checked {
            ui.label(words::not_checked(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_clears_the_device_code_and_says_whether_the_tenant_is_ready() {
        let mut page = ConnectEntra::default();
        assert_eq!(page.cloud(), Cloud::Public);
        page.take_device_code("F7K2".into(), "https://microsoft.com/devicelogin".into());
        assert_eq!(page.device_code(), Some(("F7K2", "https://microsoft.com/devicelogin")));
        let err =
            ErrorReport { code: "ENTRA-CANCELLED".into(), message: String::new(), remedy: String::new(), exit_code: 1 };
        assert!(page.take_signed_in(Err(err)).is_err());
        assert!(page.device_code().is_none() && page.tenant().is_none());
    }
}
