//! Ready to configure: the plan, line by line, and "Start the synchronization process when
//! configuration completes".

use super::{Nav, verdict};
use crate::field;
use crate::worker::{Job, PickerId};
use writeback_core::engine::{Action, Plan};
use writeback_core::types::Secret;

/// The plan shown, "Start the synchronization process when configuration completes", the canary
/// and its connector password, the choice for an unfinished configuration, and with Cloud Sync
/// the administrator its switch signs in as (passwords emptied as soon as they are sent).
pub struct Ready {
    plan: Option<Box<Plan>>,
    start_sync: bool,
    pub(crate) canary: super::Picker,
    connector_password: String,
    /// Finishing an unfinished configuration: roll it back (the default) or resume it.
    roll_back: bool,
    cloudsync_admin: String,
    cloudsync_password: String,
    /// The unfinished journal, read and checked, for the recovery's page.
    journal: Option<Box<writeback_core::engine::apply::JournalView>>,
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
            journal: None,
        }
    }
}

/// The page's own words.
pub mod words {
    pub const CLOUDSYNC: &str = "Cloud Sync switches writeback with the user name and password of a Global Administrator or a Hybrid Identity Administrator (Set-AADCloudSyncPasswordWritebackConfiguration): used for this switch only, never stored. An account that must use MFA cannot sign in this way; switch it in the Entra admin center instead.";
    pub const CLOUDSYNC_ADMIN: &str = "Administrator for Cloud Sync";
    pub const CLOUDSYNC_PASSWORD: &str = "Administrator's password";
    pub const CLOUDSYNC_LAB: &str = "Lab mode: leave it empty to use the lab tenant administrator's password.";
    pub const NO_JOURNAL: &str = "There is no unfinished configuration.";
    pub const READING_JOURNAL: &str = "Reading and checking the journal…";
    pub const JOURNAL_NOT_READ: &str =
        "The journal could not be read or was refused: nothing will be done (the message below says why).";
    pub const JOURNAL_STEPS: &str =
        "What it set out to do (checked: the writeback permissions of one account, on objects of this forest):";
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
    /// The plan shown.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_deref()
    }

    /// The canary picker.
    pub fn canary(&self) -> &super::Picker {
        &self.canary
    }

    /// The connector password field (emptied as soon as it is sent).
    pub fn typed_connector_password(&self) -> &str {
        &self.connector_password
    }

    /// The administrator Cloud Sync's switch signs in as.
    pub fn cloudsync_admin(&self) -> &str {
        &self.cloudsync_admin
    }

    /// Their password field (emptied as soon as it is sent).
    pub fn typed_cloudsync_password(&self) -> &str {
        &self.cloudsync_password
    }

    pub(crate) fn rolls_back(&self) -> bool {
        self.roll_back
    }

    pub(crate) fn take_journal(&mut self, view: writeback_core::engine::apply::JournalView) {
        self.journal = Some(Box::new(view));
    }

    pub(crate) fn forget_journal(&mut self) {
        self.journal = None;
    }

    /// The unfinished journal's steps, once read and checked.
    pub fn journal_lines(&self) -> Vec<String> {
        self.journal.as_ref().map(|j| j.lines()).unwrap_or_default()
    }

    pub(crate) fn forget_plan(&mut self) {
        self.plan = None;
    }

    /// A plan arrived (`signed_in`: the account signed in to the tenant, offered for Cloud Sync's
    /// switch). Returns whether it may run.
    pub(crate) fn take_plan(&mut self, plan: Box<Plan>, signed_in: Option<String>) -> bool {
        if self.cloudsync_admin.is_empty()
            && let Some(upn) = signed_in
        {
            self.cloudsync_admin = upn;
        }
        let ready = plan.ready();
        self.plan = Some(plan);
        ready
    }

    /// The plan switches the sync engine (and so, with Cloud Sync, needs its credential).
    pub fn switches_sync_engine(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| p.steps.iter().any(|s| s.is_switch()))
    }

    /// Configure: the plan, the sync box, the canary and the Cloud Sync credential, the passwords
    /// taken out of their fields.
    pub(crate) fn configure_job(&mut self, cloudsync: bool) -> Option<Job> {
        let plan = self.plan.clone()?;
        let password = std::mem::take(&mut self.connector_password);
        let canary = self.canary.chosen().map(|user| (user, (!password.is_empty()).then(|| Secret::new(password))));
        let admin_password = std::mem::take(&mut self.cloudsync_password);
        let admin = self.cloudsync_admin.trim().to_string();
        let cloudsync = (cloudsync && !admin.is_empty() && self.switches_sync_engine())
            .then(|| (admin, (!admin_password.is_empty()).then(|| Secret::new(admin_password))));
        Some(Job::Configure { plan, start_sync: self.start_sync, canary, cloudsync })
    }

    pub(crate) fn recovery_ui(&mut self, ui: &mut egui::Ui, journal: Option<&std::path::Path>, busy: bool) {
        let Some(journal) = journal else {
            ui.label(words::NO_JOURNAL);
            return;
        };
        ui.label(words::journal(journal));
        let Some(view) = &self.journal else {
            ui.label(if busy { words::READING_JOURNAL } else { words::JOURNAL_NOT_READ });
            return;
        };
        ui.label(words::JOURNAL_STEPS);
        for line in view.lines() {
            ui.add(egui::Label::new(egui::RichText::new(line).monospace().small()).wrap());
        }
        ui.add_space(crate::theme::space::ITEM);
        ui.radio_value(&mut self.roll_back, true, words::ROLL_BACK);
        ui.radio_value(&mut self.roll_back, false, words::RESUME);
        ui.add_space(crate::theme::space::ITEM);
        ui.label(words::RECOVER_HOW);
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>, cloudsync: bool) {
        let Some(plan) = &self.plan else {
            ui.label(if nav.busy() { words::PLANNING } else { words::NO_PLAN });
            return;
        };
        for c in &plan.preconditions {
            verdict(ui, c.ok, &if c.ok { c.check.clone() } else { words::failed_check(&c.check, &c.remedy) });
        }
        ui.add_space(crate::theme::space::ITEM);
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
            crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, w);
        }
        if cloudsync && self.switches_sync_engine() {
            ui.add_space(crate::theme::space::ITEM);
            ui.label(words::CLOUDSYNC);
            field(ui, words::CLOUDSYNC_ADMIN, &mut self.cloudsync_admin, false);
            field(ui, words::CLOUDSYNC_PASSWORD, &mut self.cloudsync_password, true);
            if nav.lab() {
                ui.label(words::CLOUDSYNC_LAB);
            }
        }
        ui.add_space(crate::theme::space::ITEM);
        ui.checkbox(&mut self.start_sync, words::START_SYNC);
        if plan.action == Action::Enable {
            ui.add_space(crate::theme::space::ITEM);
            ui.label(words::CANARY_WHY);
            self.canary.ui(ui, nav, PickerId::Canary, words::CANARY);
            if self.canary.chosen().is_some() {
                field(ui, words::CONNECTOR_PASSWORD, &mut self.connector_password, true);
                if nav.lab() {
                    ui.label(words::CONNECTOR_LAB);
                }
            }
        }
        if plan.ready() {
            ui.label(words::GO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::plan;
    use super::*;

    #[test]
    fn configure_takes_the_passwords_out_of_their_fields() {
        let mut ready = Ready::default();
        assert!(ready.take_plan(plan(true), Some("alice@contoso.com".into())));
        assert_eq!(ready.cloudsync_admin(), "alice@contoso.com", "the signed-in account is offered");
        ready.take_plan(plan(true), Some("bob@contoso.com".into()));
        assert_eq!(ready.cloudsync_admin(), "alice@contoso.com", "what is there stays");
        ready.cloudsync_password = "gp".into();
        ready.connector_password = "cp".into();
        ready.canary.text = "wb.canary".into();
        let Some(Job::Configure { canary, cloudsync, start_sync, .. }) = ready.configure_job(true) else {
            panic!("Configure")
        };
        assert!(start_sync, "the seed's box is ticked by default");
        let (user, password) = canary.unwrap();
        assert_eq!((user.as_str(), password.unwrap().expose()), ("wb.canary", "cp"));
        assert_eq!(cloudsync.unwrap().1.unwrap().expose(), "gp");
        assert!(ready.typed_cloudsync_password().is_empty() && ready.typed_connector_password().is_empty());
    }

    #[test]
    fn the_cloud_sync_credential_goes_only_to_a_plan_that_switches_cloud_sync() {
        let mut ready = Ready::default();
        ready.take_plan(plan(false), Some("alice@contoso.com".into()));
        assert!(!ready.switches_sync_engine());
        let Some(Job::Configure { cloudsync, canary, .. }) = ready.configure_job(true) else { panic!() };
        assert!(cloudsync.is_none() && canary.is_none());
        ready.take_plan(plan(true), None);
        let Some(Job::Configure { cloudsync, .. }) = ready.configure_job(false) else { panic!() };
        assert!(cloudsync.is_none(), "not Cloud Sync");
    }
}
