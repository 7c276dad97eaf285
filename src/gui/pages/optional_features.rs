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

/// The page's own words.
pub mod words {
    pub const WRITEBACK: &str = "Password writeback";
    pub const ENABLE_PLAN: &str = "Next plans granting the connector account its writeback permissions and switching writeback on in the sync engine.";
    pub const DISABLE_PLAN: &str =
        "Next plans removing what this tool granted and switching writeback off in the sync engine.";
    pub const ADMINSDHOLDER: &str = "Also grant the permissions on AdminSDHolder (protected accounts)";
    pub const ADMINSDHOLDER_WARNING: &str = "The connector account will be able to reset the passwords of protected accounts (Domain Admins and the like). Tick it only when protected accounts must reset their own passwords.";
    pub const PREEXISTING: &str = "Also remove permissions that were there before (not added by this tool)";
    pub const PREEXISTING_WARNING: &str = "Permissions the connector account had before this tool (set by Entra Connect's own wizard, or by hand) are taken away too.";
    pub const READING: &str = "Reading today's state…";
    pub const CLEAR: &str = "Nothing found in scope that stops writeback for these users.";
    pub const INHERITANCE_HERE: &str = "blocks inheritance: writeback permissions do not reach below it";
    pub const REFRESH: &str = "Refresh";
    pub const TESTER: &str = "Would Active Directory accept this password for this account? Tested here against the policy that applies to the account (its fine-grained policy, else the domain's); nothing is sent to the account.";
    pub const ACCOUNT: &str = "Account";
    pub const NEW_PASSWORD: &str = "New password";
    pub const TEST: &str = "Test password";
    pub const ACCEPTABLE: &str = "Acceptable";
    pub const REFUSED: &str = "Refused";
    pub fn today(state: &str) -> String {
        format!("Today, password writeback is {state}.")
    }
    pub fn missing(what: &str) -> String {
        format!("Not in place: {what}")
    }
    pub fn unfinished(journal: &std::path::Path) -> String {
        format!(
            "An earlier configuration did not finish ({}): choose \"Finish the unfinished configuration\" on Tasks, or run `writeback-wizard apply --rollback` or `--resume`.",
            journal.display()
        )
    }
    pub fn in_scope(users: usize) -> String {
        format!("{users} user{} in scope.", if users == 1 { "" } else { "s" })
    }
    pub fn what_to_do(count: &str) -> String {
        format!("What to do about the {count}")
    }
    pub fn more(n: usize) -> String {
        format!("… and {n} more (writeback-wizard ad check --json lists them all)")
    }
    pub fn engine(backend: &str) -> String {
        format!("Writeback in the sync engine ({backend})")
    }
    pub fn not_checked(what: &str) -> String {
        format!("Not checked here: {what}")
    }
}

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
                ui.add_enabled(!disabling, egui::Checkbox::new(&mut self.writeback, words::WRITEBACK));
                ui.label(if self.writeback { words::ENABLE_PLAN } else { words::DISABLE_PLAN });
                let (flag, label, warning) = if self.writeback {
                    (&mut self.include_adminsdholder, words::ADMINSDHOLDER, words::ADMINSDHOLDER_WARNING)
                } else {
                    (&mut self.remove_preexisting, words::PREEXISTING, words::PREEXISTING_WARNING)
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
                ui.label(words::READING);
            }
            return;
        };
        ui.label(words::today(&st.state.to_string()));
        // What "enabled" still lacks: a finding for View, the to-do list for Customize.
        for m in &st.missing {
            ui.label(words::missing(m));
        }
        if let Some(j) = &st.unfinished_journal {
            verdict(ui, false, &words::unfinished(j));
        }
        if let Some(f) = &self.findings {
            ui.add_space(6.0);
            ui.strong(words::in_scope(f.users_in_scope));
            let kinds = f.each();
            if kinds.iter().all(|(_, dns)| dns.is_empty()) {
                verdict(ui, true, words::CLEAR);
            }
            for (kind, dns) in kinds {
                finding(ui, dns, &kind);
            }
        }
        if nav.wiz.task == Task::View {
            ui.add_space(6.0);
            for t in &st.ad.scopes {
                ui.strong(&t.dn);
                for a in &t.aces {
                    verdict(ui, a.present, &a.description);
                }
                if t.inheritance_blocked {
                    verdict(ui, false, words::INHERITANCE_HERE);
                }
            }
            if let Some(e) = &st.sync_engine {
                verdict(ui, e.writeback_enabled, &words::engine(e.backend));
            }
        }
        if ui.add_enabled(!nav.busy(), egui::Button::new(words::REFRESH)).clicked() {
            nav.start(Job::Status);
        }
    }

    fn test_password(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(words::TESTER);
        ui.add_space(6.0);
        field(ui, words::ACCOUNT, &mut self.test_user, false);
        field(ui, words::NEW_PASSWORD, &mut self.test_password, true);
        let ready = !self.test_user.trim().is_empty() && !self.test_password.is_empty() && !nav.busy();
        if ui.add_enabled(ready, egui::Button::new(words::TEST)).clicked() {
            let password = Secret::new(std::mem::take(&mut self.test_password));
            self.verdict = None;
            nav.start(Job::TestPassword { user: self.test_user.trim().to_string(), password });
        }
        let Some(v) = &self.verdict else { return };
        ui.add_space(6.0);
        verdict(ui, v.acceptable, if v.acceptable { words::ACCEPTABLE } else { words::REFUSED });
        for r in &v.reasons {
            verdict(ui, false, &r.text);
        }
        for u in &v.unknown {
            ui.label(words::not_checked(u));
        }
    }
}

/// One kind of finding, one line to scan (a warning and how many), and one click away under it,
/// what to do and which objects. The words are the engine's, the same in the plan and `ad check`.
fn finding(ui: &mut egui::Ui, dns: &[String], kind: &crate::ad::scan::Kind) {
    if dns.is_empty() {
        return;
    }
    let count = kind.count(dns.len());
    crate::gui::theme::verdict_line(ui, crate::gui::theme::Verdict::Warning, &count);
    ui.indent(kind.field, |ui| {
        egui::CollapsingHeader::new(words::what_to_do(&count)).id_salt(kind.field).show(ui, |ui| {
            ui.label(kind.remedy);
            ui.add_space(crate::gui::theme::space::ITEM);
            for dn in dns.iter().take(50) {
                ui.label(egui::RichText::new(dn).small());
            }
            if dns.len() > 50 {
                ui.label(words::more(dns.len() - 50));
            }
        });
    });
}
