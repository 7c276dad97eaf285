//! Optional features: the "Password writeback" checkbox with today's state and the readiness
//! findings; for the View task the whole state, for the password test the tester.

use super::{Nav, verdict};
use crate::field;
use crate::wizard::Task;
use crate::worker::Job;
use writeback_core::engine::{Action, Status, WritebackState};
use writeback_core::session::{Overview, PasswordTest, PlanChoice};
use writeback_core::types::{AccessCounts, AccessFindings, FindingKind, Findings, Secret, SyncEngineKind, Verdict};

/// The page's own words.
pub mod words {
    pub const WRITEBACK: &str = "Password writeback";
    pub const ENABLE_PLAN: &str = "Next plans granting the connector account its writeback permissions and switching writeback on in the sync engine.";
    pub const DISABLE_PLAN: &str =
        "Next plans removing what this tool granted and switching writeback off in the sync engine.";
    pub const ADMINSDHOLDER: &str = "Also grant the permissions on AdminSDHolder (unsupported by Microsoft: gives the connector reset rights over your most privileged accounts)";
    pub const ADMINSDHOLDER_WARNING: &str = "Microsoft does not support writeback for users in protected groups. SDProp keeps their permissions as AdminSDHolder's: granting there gives the connector account reset rights over your most privileged accounts (Domain Admins, Enterprise Admins and the like).";
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
    pub const ACCESS_ALL: &str =
        "After this plan the connector account reaches every user in scope (decided as Windows' access check decides).";
    pub fn unreachable(n: usize, users: usize) -> String {
        format!("{n} of {users} users in scope writeback will not reach after this plan")
    }
    pub fn unreachable_sdprop(n: usize, users: usize) -> String {
        format!("{n} of {users} users in scope writeback will not reach once SDProp has run (Windows)")
    }
    pub const WHICH: &str = "Which users, and why";
    pub const AFTER_PLAN: &str = "after this plan";
    pub const AFTER_SDPROP: &str = "after SDProp";
    pub fn user_line(dn: &str, when: &str, why: &str) -> String {
        format!("{dn} — {when}: {why}")
    }
    pub fn more_access(n: usize, account: &str) -> String {
        format!("… and {n} more (writeback-wizard ad access --as \"{account}\" lists them all)")
    }
    pub fn engine(backend: &str) -> String {
        format!("Writeback in the sync engine ({backend})")
    }
    pub fn not_checked(what: &str) -> String {
        format!("Not checked here: {what}")
    }
    pub fn uncovered(forest: &str, why: &str, consequence: &str) -> String {
        format!("Writeback does not cover {forest}, which the sync engine serves ({why}): {consequence}")
    }
    pub fn include(forest: &str) -> String {
        format!("Include {forest} (back to Connect your directories)")
    }
}

/// The "Password writeback" box and its options, today's state and the readiness findings, and
/// the password tester's fields and answer.
pub struct OptionalFeatures {
    writeback: bool,
    status: Option<Box<Status>>,
    findings: Option<Findings>,
    test_user: String,
    /// Emptied as soon as it is sent.
    test_password: String,
    verdict: Option<Verdict>,
    /// "Also grant the permissions on AdminSDHolder" (`--include-adminsdholder`).
    include_adminsdholder: bool,
    /// "Also remove permissions that were there before" (`--remove-preexisting`, disable only).
    remove_preexisting: bool,
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
    /// The "Password writeback" box.
    pub fn writeback(&self) -> bool {
        self.writeback
    }

    /// Today's state.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_deref()
    }

    /// What breaks writeback in the scopes.
    pub fn findings(&self) -> Option<&Findings> {
        self.findings.as_ref()
    }

    /// The password tester's answer.
    pub fn verdict(&self) -> Option<&Verdict> {
        self.verdict.as_ref()
    }

    /// The tester's password field (emptied as soon as it is sent).
    pub fn typed_test_password(&self) -> &str {
        &self.test_password
    }

    /// The sync engine is Entra Cloud Sync.
    pub fn cloudsync(&self) -> bool {
        self.status
            .as_ref()
            .and_then(|s| s.sync_engine.as_ref())
            .is_some_and(|e| e.flavour == SyncEngineKind::Cloudsync)
    }

    pub(crate) fn forget_overview(&mut self) {
        self.status = None;
    }

    /// Today's state arrived: the box starts where the task (or, for View, the state) says.
    pub(crate) fn take_overview(&mut self, task: Task, overview: Overview) {
        let Overview { status, findings } = overview;
        self.writeback = match task {
            Task::Disable => false,
            Task::Customize => true,
            _ => status.state == WritebackState::Enabled,
        };
        self.status = Some(Box::new(status));
        self.findings = Some(findings);
    }

    pub(crate) fn take_tested(&mut self, test: PasswordTest) {
        self.verdict = Some(test.verdict);
    }

    /// What Next asks the engine to plan.
    pub fn choice(&self) -> (Action, PlanChoice) {
        let action = if self.writeback { Action::Enable } else { Action::Disable };
        let choice = PlanChoice {
            include_adminsdholder: self.writeback && self.include_adminsdholder,
            remove_preexisting: !self.writeback && self.remove_preexisting,
        };
        (action, choice)
    }

    pub(crate) fn plan_job(&self) -> Job {
        let (action, choice) = self.choice();
        Job::Plan { action, choice }
    }

    /// Draws the page; returns a forest the person asked to include (from the uncovered ones).
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) -> Option<String> {
        match nav.wiz.task {
            Task::TestPassword => {
                self.test_password(ui, nav);
                return None;
            }
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
                    crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, warning);
                }
                ui.add_space(crate::theme::space::ITEM);
            }
            Task::View | Task::Recover | Task::Troubleshoot => {}
        }
        let Some(st) = &self.status else {
            if nav.busy() {
                ui.label(words::READING);
            }
            return None;
        };
        ui.label(words::today(&st.state.to_string()));
        // What "enabled" still lacks: a finding for View, the to-do list for Customize.
        for m in &st.missing {
            ui.label(words::missing(m));
        }
        let mut include = None;
        for u in &st.ad.uncovered {
            crate::theme::verdict_line(
                ui,
                crate::theme::Verdict::Warning,
                &words::uncovered(&u.forest, &u.why, &u.consequence),
            );
            if ui.button(words::include(&u.forest)).clicked() {
                include = Some(u.forest.clone());
            }
        }
        if let Some(j) = &st.unfinished_journal {
            verdict(ui, false, &words::unfinished(j));
        }
        if let Some(f) = &self.findings {
            ui.add_space(crate::theme::space::ITEM);
            ui.strong(words::in_scope(f.users_in_scope));
            let kinds = f.each();
            if kinds.iter().all(|(_, dns)| dns.is_empty()) {
                verdict(ui, true, words::CLEAR);
            }
            for (kind, dns) in kinds {
                finding(ui, dns, &kind);
            }
            if let Some(a) = &f.access {
                access(ui, a);
            }
        }
        if nav.wiz.task == Task::View {
            ui.add_space(crate::theme::space::ITEM);
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
                verdict(ui, e.writeback_enabled, &words::engine(e.backend.as_str()));
            }
        }
        if ui.add_enabled(!nav.busy(), egui::Button::new(words::REFRESH)).clicked() {
            nav.start(Job::Overview);
        }
        include
    }

    fn test_password(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(words::TESTER);
        ui.add_space(crate::theme::space::ITEM);
        field(ui, words::ACCOUNT, &mut self.test_user, false);
        field(ui, words::NEW_PASSWORD, &mut self.test_password, true);
        let ready = !self.test_user.trim().is_empty() && !self.test_password.is_empty() && !nav.busy();
        if ui.add_enabled(ready, egui::Button::new(words::TEST)).clicked() {
            let password = Secret::new(std::mem::take(&mut self.test_password));
            self.verdict = None;
            nav.start(Job::TestPassword { user: self.test_user.trim().to_string(), password });
        }
        let Some(v) = &self.verdict else { return };
        ui.add_space(crate::theme::space::ITEM);
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
fn access(ui: &mut egui::Ui, a: &AccessFindings) {
    let not = a.unreachable.len() + a.more;
    if not == 0 {
        verdict(ui, true, words::ACCESS_ALL);
        return;
    }
    let headline = match AccessCounts::not_reached(&a.counts.after_plan) {
        0 => words::unreachable_sdprop(AccessCounts::not_reached(&a.counts.after_sdprop), a.counts.users),
        n => words::unreachable(n, a.counts.users),
    };
    crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, &headline);
    if let Some(summary) = a.summary() {
        ui.label(egui::RichText::new(summary).small());
    }
    ui.indent("access", |ui| {
        egui::CollapsingHeader::new(words::WHICH).id_salt("access").show(ui, |ui| {
            for u in &a.unreachable {
                let (when, answer) = if u.after_plan.reachable {
                    (words::AFTER_SDPROP, &u.after_sdprop)
                } else {
                    (words::AFTER_PLAN, &u.after_plan)
                };
                ui.label(egui::RichText::new(words::user_line(&u.dn, when, &answer.why())).small());
            }
            if a.more > 0 {
                ui.label(words::more_access(a.more, &a.account));
            }
        });
    });
}

fn finding(ui: &mut egui::Ui, dns: &[String], kind: &FindingKind) {
    if dns.is_empty() {
        return;
    }
    let count = kind.count(dns.len());
    crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, &count);
    ui.indent(kind.field, |ui| {
        egui::CollapsingHeader::new(words::what_to_do(&count)).id_salt(kind.field).show(ui, |ui| {
            ui.label(kind.remedy);
            ui.add_space(crate::theme::space::ITEM);
            for dn in dns.iter().take(50) {
                ui.label(egui::RichText::new(dn).small());
            }
            if dns.len() > 50 {
                ui.label(words::more(dns.len() - 50));
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::status;
    use super::*;

    fn overview(state: WritebackState, flavour: SyncEngineKind) -> Overview {
        Overview { status: status(state, flavour), findings: Findings::default() }
    }

    #[test]
    fn the_box_starts_where_the_task_says_and_the_plan_follows_it() {
        let mut page = OptionalFeatures::default();
        page.take_overview(Task::Disable, overview(WritebackState::Enabled, SyncEngineKind::Adsync));
        assert!(!page.writeback());
        page.include_adminsdholder = true;
        page.remove_preexisting = true;
        assert_eq!(
            page.choice(),
            (Action::Disable, PlanChoice { include_adminsdholder: false, remove_preexisting: true }),
            "AdminSDHolder is an enable's option, pre-existing ACEs a disable's"
        );
        page.take_overview(Task::View, overview(WritebackState::Enabled, SyncEngineKind::Cloudsync));
        assert!(page.writeback() && page.cloudsync());
        page.take_overview(Task::Customize, overview(WritebackState::Disabled, SyncEngineKind::Adsync));
        assert!(page.writeback() && !page.cloudsync());
        assert_eq!(page.choice().1, PlanChoice { include_adminsdholder: true, remove_preexisting: false });
    }
}
