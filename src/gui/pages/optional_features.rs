//! Optional features: the "Password writeback" checkbox with today's state and the readiness
//! findings; for the View task the whole state, for the password test the tester.

use super::{Nav, verdict};
use crate::ad::policy::Verdict;
use crate::ad::readiness::Readiness;
use crate::ad::scan::Findings;
use crate::engine::{Status, WritebackState};
use crate::gui::field;
use crate::gui::wizard::Task;
use crate::gui::worker::Job;
use crate::secrets::Secret;

/// The page's state.
pub struct OptionalFeatures {
    /// The "Password writeback" checkbox.
    pub writeback: bool,
    /// Today's state.
    pub status: Option<Box<Status>>,
    /// What breaks writeback in the scopes: the readiness report's findings.
    pub findings: Option<Findings>,
    /// "Account" field of the password test.
    pub test_user: String,
    /// "New password" field (cleared as soon as it is sent).
    pub test_password: String,
    /// The tester's answer.
    pub verdict: Option<Verdict>,
    /// "Also grant the permissions on AdminSDHolder" (`--include-adminsdholder`).
    pub include_adminsdholder: bool,
    /// "Also remove permissions that were there before" (`--remove-preexisting`, disable only).
    pub remove_preexisting: bool,
}

impl Default for OptionalFeatures {
    fn default() -> Self {
        OptionalFeatures {
            writeback: true,
            status: None,
            findings: None,
            test_user: String::new(),
            test_password: String::new(),
            verdict: None,
            include_adminsdholder: false,
            remove_preexisting: false,
        }
    }
}

impl OptionalFeatures {
    /// Today's state arrived: the checkbox starts where the task (or, for View, the state) says.
    pub fn set_status(&mut self, task: Task, status: Status, readiness: Readiness) {
        self.writeback = match task {
            Task::Disable => false,
            Task::Customize => true,
            _ => status.state == WritebackState::Enabled,
        };
        self.status = Some(Box::new(status));
        self.findings = Some(readiness.findings());
    }

    /// What Next asks the engine to plan.
    pub fn choice(&self) -> crate::gui::worker::PlanChoice {
        crate::gui::worker::PlanChoice {
            enable: self.writeback,
            include_adminsdholder: self.writeback && self.include_adminsdholder,
            remove_preexisting: !self.writeback && self.remove_preexisting,
        }
    }

    /// Draws the page.
    pub fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        match nav.wiz.task {
            Task::TestPassword => return self.test_password(ui, nav),
            Task::Customize | Task::Disable => {
                // The Disable task stays a disable: it cannot be ticked back into an enable.
                let disabling = nav.wiz.task == Task::Disable;
                ui.add_enabled(!disabling, egui::Checkbox::new(&mut self.writeback, "Password writeback"));
                ui.label(if self.writeback {
                    "Next plans granting the connector account its writeback permissions and switching writeback on in the sync engine."
                } else {
                    "Next plans removing what this tool granted and switching writeback off in the sync engine."
                });
                let (flag, label, warning) = if self.writeback {
                    (
                        &mut self.include_adminsdholder,
                        "Also grant the permissions on AdminSDHolder (protected accounts)",
                        "The connector account will be able to reset the passwords of protected accounts (Domain Admins and the like). Tick it only when protected accounts must reset their own passwords.",
                    )
                } else {
                    (
                        &mut self.remove_preexisting,
                        "Also remove permissions that were there before (not added by this tool)",
                        "Permissions the connector account had before this tool (set by Entra Connect's own wizard, or by hand) are taken away too.",
                    )
                };
                ui.checkbox(flag, label);
                if *flag {
                    crate::gui::theme::verdict_line(ui, crate::gui::theme::Verdict::Warning, warning);
                }
                ui.add_space(6.0);
            }
            Task::View | Task::Recover => {}
        }
        let Some(st) = &self.status else {
            if nav.busy() {
                ui.label("Reading today's state…");
            }
            return;
        };
        ui.label(format!("Today, password writeback is {}.", st.state));
        // What "enabled" still lacks: a finding for View, the to-do list for Customize.
        for m in &st.missing {
            ui.label(format!("Not in place: {m}"));
        }
        if let Some(j) = &st.unfinished_journal {
            verdict(
                ui,
                false,
                &format!(
                    "An earlier configuration did not finish ({}): run `writeback-wizard apply --rollback` or `--resume`.",
                    j.display()
                ),
            );
        }
        if let Some(f) = &self.findings {
            ui.add_space(6.0);
            ui.label(format!("{} user{} in scope.", f.users_in_scope, if f.users_in_scope == 1 { "" } else { "s" }));
            finding(
                ui,
                &f.protected_accounts,
                ("protected account (adminCount=1)", "protected accounts (adminCount=1)"),
                "On Windows, AdminSDHolder resets their permissions every hour, so writeback cannot reset them unless the permissions are also granted on AdminSDHolder (writeback-wizard plan --enable --include-adminsdholder).",
            );
            finding(
                ui,
                &f.blocked_inheritance,
                ("object that blocks inheritance", "objects that block inheritance"),
                "Permissions granted above do not reach the users at or below these; add them as scopes, or turn inheritance back on.",
            );
            finding(
                ui,
                &f.explicit_deny,
                ("explicit deny that hits the connector account", "explicit denies that hit the connector account"),
                "A deny wins over the grant: remove the deny, or writeback fails for these users.",
            );
            finding(
                ui,
                &f.cannot_change_password,
                ("user who cannot change their password", "users who cannot change their password"),
                "Self-service password change from the cloud fails for them (a reset by an administrator still works); clear \"User cannot change password\" if they should.",
            );
        }
        if nav.wiz.task == Task::View {
            ui.add_space(6.0);
            for t in &st.ad.scopes {
                ui.strong(&t.dn);
                for a in &t.aces {
                    verdict(ui, a.present, &a.description);
                }
                if t.inheritance_blocked {
                    verdict(ui, false, "blocks inheritance: writeback permissions do not reach below it");
                }
            }
            if let Some(e) = &st.sync_engine {
                verdict(ui, e.writeback_enabled, &format!("Writeback in the sync engine ({})", e.backend));
            }
        }
        if ui.add_enabled(!nav.busy(), egui::Button::new("Refresh")).clicked() {
            nav.start(Job::Status);
        }
    }

    fn test_password(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(
            "Would Active Directory accept this password for this account? Tested here against the policy that \
             applies to the account (its fine-grained policy, else the domain's); nothing is sent to the account.",
        );
        ui.add_space(6.0);
        field(ui, "Account", &mut self.test_user, false);
        field(ui, "New password", &mut self.test_password, true);
        let ready = !self.test_user.trim().is_empty() && !self.test_password.is_empty() && !nav.busy();
        if ui.add_enabled(ready, egui::Button::new("Test password")).clicked() {
            let password = Secret::new(std::mem::take(&mut self.test_password));
            self.verdict = None;
            nav.start(Job::TestPassword { user: self.test_user.trim().to_string(), password });
        }
        let Some(v) = &self.verdict else { return };
        ui.add_space(6.0);
        verdict(ui, v.acceptable, if v.acceptable { "Acceptable" } else { "Refused" });
        for r in &v.reasons {
            verdict(ui, false, &r.text);
        }
        for u in &v.unknown {
            ui.label(format!("Not checked here: {u}"));
        }
    }
}

/// One kind of finding: how many, the first few, and what to do.
fn finding(ui: &mut egui::Ui, dns: &[String], what: (&str, &str), remedy: &str) {
    if dns.is_empty() {
        return;
    }
    let what = if dns.len() == 1 { what.0 } else { what.1 };
    egui::CollapsingHeader::new(format!("{} {what}", dns.len())).show(ui, |ui| {
        for dn in dns.iter().take(50) {
            ui.label(dn);
        }
        if dns.len() > 50 {
            ui.label(format!("… and {} more (writeback-wizard ad check --json lists them all)", dns.len() - 50));
        }
    });
    ui.label(format!("What to do: {remedy}"));
}
