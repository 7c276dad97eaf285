//! Ready to configure: the plan, line by line, and "Start the synchronization process when
//! configuration completes".

use super::{Nav, verdict};
use crate::engine::{Action, Plan};
use crate::gui::field;

/// The page's state.
pub struct Ready {
    /// The plan shown.
    pub plan: Option<Box<Plan>>,
    /// "Start the synchronization process when configuration completes".
    pub start_sync: bool,
    /// "Canary user (optional)": picked from the domain as it is typed.
    pub canary: super::Picker,
    /// "Connector account password" field (cleared as soon as it is sent).
    pub connector_password: String,
    /// Finishing an unfinished configuration: roll it back (`true`, the default) or resume it.
    pub roll_back: bool,
    /// With Cloud Sync: the Global Administrator its switch signs in as (the signed-in account
    /// at first).
    pub cloudsync_admin: String,
    /// Their password (cleared as soon as it is sent; never stored).
    pub cloudsync_password: String,
}

impl Default for Ready {
    fn default() -> Self {
        Ready {
            plan: None,
            start_sync: true,
            canary: super::Picker::default(),
            connector_password: String::new(),
            roll_back: true,
            cloudsync_admin: String::new(),
            cloudsync_password: String::new(),
        }
    }
}

/// The page's own words.
pub mod words {
    pub const CLOUDSYNC: &str = "Cloud Sync switches writeback with a Global Administrator's user name and password (Set-AADCloudSyncPasswordWritebackConfiguration): used for this switch only, never stored. An account that must use MFA cannot sign in this way; switch it in the Entra admin center instead.";
    pub const CLOUDSYNC_ADMIN: &str = "Global Administrator for Cloud Sync";
    pub const CLOUDSYNC_PASSWORD: &str = "Global Administrator's password";
    pub const CLOUDSYNC_LAB: &str = "Lab mode: leave it empty to use the lab tenant administrator's password.";
    pub const NO_JOURNAL: &str = "There is no unfinished configuration.";
    pub const ROLL_BACK: &str = "Roll back: undo every change it made (only its own, checked)";
    pub const RESUME: &str = "Resume: make the changes it had not made yet";
    pub const RECOVER_HOW: &str =
        "Press Configure to do it. Each object is read back first; what someone else changed meanwhile stays.";
    pub const PLANNING: &str = "Working out the plan…";
    pub const NO_PLAN: &str = "There is no plan.";
    pub const NOTHING: &str = "Nothing to change: it is already so.";
    pub const START_SYNC: &str = "Start the synchronization process when configuration completes";
    pub const CANARY_WHY: &str = "Optionally prove writeback afterwards: bound as the connector account, the wizard resets this test account's password to a random value it does not keep, and clears its lockout. Name an account nobody uses; never a real person's.";
    pub const CANARY: &str = "Canary user (optional)";
    pub const CONNECTOR_PASSWORD: &str = "Connector account password";
    pub const CONNECTOR_LAB: &str = "Lab mode: leave it empty to use the lab connector account's password.";
    pub const GO: &str =
        "Press Configure to make these changes. Each is checked after it is made; a failure undoes them all.";
    pub fn journal(path: &std::path::Path) -> String {
        format!("The journal of the unfinished configuration: {}", path.display())
    }
    pub fn failed_check(check: &str, remedy: &str) -> String {
        format!("{check}: {remedy}")
    }
    pub fn sddl(step: usize) -> String {
        format!("Exact ACEs of step {step} (SDDL)")
    }
    pub fn kept(what: &str, target: &str) -> String {
        format!("Kept (there before): {what} on {target}")
    }
}

impl Ready {
    /// The plan switches the sync engine (and so, with Cloud Sync, needs its credential).
    pub fn switches_cloudsync(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| p.steps.iter().any(|s| s.id == "writeback"))
    }

    /// The Cloud Sync credential typed, for the apply (the password taken out of the field).
    pub fn take_cloudsync(&mut self) -> Option<(String, Option<crate::secrets::Secret>)> {
        let password = std::mem::take(&mut self.cloudsync_password);
        let user = self.cloudsync_admin.trim().to_string();
        (!user.is_empty() && self.switches_cloudsync())
            .then(|| (user, (!password.is_empty()).then(|| crate::secrets::Secret::new(password))))
    }

    /// The choice for an unfinished configuration.
    pub fn recovery_ui(&mut self, ui: &mut egui::Ui, journal: Option<&std::path::Path>) {
        let Some(journal) = journal else {
            ui.label(words::NO_JOURNAL);
            return;
        };
        ui.label(words::journal(journal));
        ui.add_space(6.0);
        ui.radio_value(&mut self.roll_back, true, words::ROLL_BACK);
        ui.radio_value(&mut self.roll_back, false, words::RESUME);
        ui.add_space(6.0);
        ui.label(words::RECOVER_HOW);
    }

    /// Draws the page.
    pub fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>, cloudsync: bool) {
        let Some(plan) = &self.plan else {
            ui.label(if nav.busy() { words::PLANNING } else { words::NO_PLAN });
            return;
        };
        for c in &plan.preconditions {
            verdict(ui, c.ok, &if c.ok { c.check.clone() } else { words::failed_check(&c.check, &c.remedy) });
        }
        ui.add_space(6.0);
        if plan.steps.is_empty() {
            ui.label(words::NOTHING);
        }
        // The SDDL is exact but unreadable: each ACE in words, the SDDL one click away.
        let sign = if plan.action == Action::Enable { "+" } else { "-" };
        for (i, s) in plan.steps.iter().enumerate() {
            ui.label(format!("{}. {}", i + 1, s.description));
            for a in s.aces().iter().filter(|a| !a.words.is_empty()) {
                ui.label(format!("      {sign} {}", a.words));
            }
            if !s.aces().is_empty() {
                egui::CollapsingHeader::new(words::sddl(i + 1)).show(ui, |ui| {
                    for c in s.change() {
                        ui.add(egui::Label::new(egui::RichText::new(c).monospace().small()).wrap());
                    }
                });
            }
        }
        for k in &plan.preexisting {
            ui.label(words::kept(&k.description, &k.target));
        }
        for w in &plan.warnings {
            crate::gui::theme::verdict_line(ui, crate::gui::theme::Verdict::Warning, w);
        }
        if cloudsync && self.switches_cloudsync() {
            ui.add_space(6.0);
            ui.label(words::CLOUDSYNC);
            field(ui, words::CLOUDSYNC_ADMIN, &mut self.cloudsync_admin, false);
            field(ui, words::CLOUDSYNC_PASSWORD, &mut self.cloudsync_password, true);
            if nav.lab {
                ui.label(words::CLOUDSYNC_LAB);
            }
        }
        ui.add_space(6.0);
        ui.checkbox(&mut self.start_sync, words::START_SYNC);
        if plan.action == Action::Enable {
            ui.add_space(6.0);
            ui.label(words::CANARY_WHY);
            self.canary.ui(ui, nav, "canary", words::CANARY);
            if !self.canary.text.trim().is_empty() {
                field(ui, words::CONNECTOR_PASSWORD, &mut self.connector_password, true);
                if nav.lab {
                    ui.label(words::CONNECTOR_LAB);
                }
            }
        }
        if plan.ready() {
            ui.label(words::GO);
        }
    }
}
