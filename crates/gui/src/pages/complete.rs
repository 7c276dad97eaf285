//! Configuration complete (or failed): what changed, the verification, where the log is.

use super::configuring::Configuring;
use super::{Nav, verdict};
use writeback_core::engine::apply::{ApplyOutcome, Canary};
use writeback_core::session::{Configured, ResetTrace};
use writeback_core::types::{Cloud, ErrorReport};

/// The apply's result, and the canary's answer.
#[derive(Default)]
pub struct Complete {
    outcome: Option<Result<ApplyOutcome, ErrorReport>>,
    canary: Option<Result<Canary, ErrorReport>>,
    /// "Test writeback now": its user, and its trace.
    pub(crate) reset_user: super::Picker,
    reset: Option<Result<Box<ResetTrace>, ErrorReport>>,
    /// "Show me the new password once".
    pub(crate) reveal: bool,
    /// The new password, while it is shown (dropped, and zeroed, by "Hide").
    shown: Option<writeback_core::types::Secret>,
}

impl Complete {
    /// The apply's result.
    pub fn outcome(&self) -> Option<&Result<ApplyOutcome, ErrorReport>> {
        self.outcome.as_ref()
    }

    /// The canary's answer.
    pub fn canary(&self) -> Option<&Result<Canary, ErrorReport>> {
        self.canary.as_ref()
    }

    /// The test reset's trace.
    pub fn reset(&self) -> Option<&Result<Box<ResetTrace>, ErrorReport>> {
        self.reset.as_ref()
    }

    /// The test reset's user picker.
    pub fn reset_user(&self) -> &super::Picker {
        &self.reset_user
    }

    /// The new password while it is on screen.
    pub fn shown_password(&self) -> Option<&writeback_core::types::Secret> {
        self.shown.as_ref()
    }

    pub(crate) fn forget(&mut self) {
        self.outcome = None;
        self.canary = None;
        self.reset = None;
        self.shown = None;
    }

    pub(crate) fn take_reset(&mut self, mut result: Result<Box<ResetTrace>, ErrorReport>) {
        self.shown = result.as_mut().ok().and_then(|t| t.password.take());
        self.reset = Some(result);
    }

    /// The configuration answered; returns whether it is done and verified.
    pub(crate) fn take_configured(&mut self, result: Result<Configured, ErrorReport>) -> Result<bool, ErrorReport> {
        let result = result.map(|c| {
            self.canary = c.canary;
            c.outcome
        });
        self.take_recovered(result)
    }

    /// The recovery (or the apply) answered; returns whether it is done and verified.
    pub(crate) fn take_recovered(&mut self, result: Result<ApplyOutcome, ErrorReport>) -> Result<bool, ErrorReport> {
        let verified = result.as_ref().map(|o| o.verified).map_err(Clone::clone);
        self.outcome = Some(result);
        verified
    }
}

/// What the page asks the wizard to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Plan again after a failure.
    Retry,
}

/// What the page needs to know of the rest of the wizard.
pub struct Context<'a> {
    /// The task was to turn writeback on (the portal's last step then remains).
    pub enabling: bool,
    /// The sync engine is Entra Cloud Sync.
    pub cloudsync: bool,
    /// The cloud chosen.
    pub cloud: Cloud,
    pub configuring: &'a Configuring,
}

/// The seed's last step, which the wizard cannot take or check: Graph v1.0 has no documented API
/// for these switches (docs/entra.md). All of the page's own words are here.
pub mod words {
    pub const REMAINS: &str = "What remains in the Microsoft Entra admin center";
    pub const NOT_CHECKED: &str = "These switches are in the tenant, where Microsoft documents no Graph API for them: this wizard cannot set or check them.";
    pub const SSPR: &str = "Password reset > Properties: self-service password reset enabled for the users who will use it (All, or a group).";
    pub const ON_PREM: &str = "Password reset > On-premises integration: \"Enable password write back for synced users\" and \"Allow users to unlock accounts without resetting their password\".";
    pub const CLOUD_SYNC: &str =
        "With Cloud Sync, on the same page: \"Write back passwords with Microsoft Entra Cloud Sync\".";
    pub const OPEN: &str = "Open Password reset in the Entra admin center";
    pub const TRY_PUBLIC: &str = "To try it, a synced user goes to https://aka.ms/sspr (or \"Forgot my password\" on the sign-in page), resets their password, then signs in to a domain-joined computer with the new one.";
    pub const TRY_OTHER: &str = "To try it, a synced user chooses \"Forgot my password\" on the sign-in page, resets their password, then signs in to a domain-joined computer with the new one.";
    pub const NOTHING: &str = "Nothing needed changing.";
    pub const VERIFIED: &str = "Verified: every change reads back as planned";
    pub const NOT_VERIFIED: &str = "Not verified";
    pub const SYNC_STARTED: &str = "A synchronization cycle was started.";
    pub const UNDONE: &str = "Nothing was left half done: the steps that ran were undone, and each undo was checked.";
    pub const RETRY: &str = "Retry";
    pub const SAVE_LOG: &str = "Save log…";
    pub const AGAIN: &str = "Run the wizard again at any time to see the state or to turn writeback off.";
    pub fn done(step: &str) -> String {
        format!("Done: {step}")
    }
    pub fn canary_reset(user: &str) -> String {
        format!("The connector account reset {user}'s password")
    }
    pub fn canary_unlock(user: &str) -> String {
        format!("The connector account cleared {user}'s lockout")
    }
    pub fn note(detail: &str) -> String {
        format!("Note: {detail}")
    }
    pub const TEST: &str = "Prove it: a password reset from the cloud, followed to your domain controller";
    pub const TEST_HOW: &str = "Resets a synced test user's password the way an administrator does in the cloud (Microsoft Graph's resetPassword), with a new password that passes your policy, kept nowhere and shown once only if you ask; the user must change it at next sign-in. Needs an Authentication Administrator (or Privileged Authentication, Password, Helpdesk or User Administrator, or Global Administrator) sign-in with UserAuthenticationMethod.ReadWrite.All. Choose a person, never an administrator.";
    pub const TEST_USER: &str = "Test user";
    pub const TEST_NOW: &str = "Test writeback now";
    pub const REVEAL: &str = "Show me the new password once (to sign in as the test user)";
    pub const SHOWN: &str =
        "The test user's new password, shown once and kept nowhere; they must change it at next sign-in:";
    pub const HIDE: &str = "Hide the password";
    pub const REACHED: &str = "The reset reached your domain controller.";
    pub const NOT_REACHED: &str = "The reset did not reach your domain controller.";
    pub fn hop(name: &str, detail: &str, ms: u64) -> String {
        format!("{name}: {detail} ({ms} ms)")
    }
    pub fn not_checked(what: &str) -> String {
        format!("Not checked: {what}")
    }
    pub fn audit(path: &std::path::Path) -> String {
        format!("Every change is recorded in {}.", path.display())
    }
}

impl Complete {
    /// The portal's last step, with the button that opens it.
    fn portal(ui: &mut egui::Ui, nav: &mut Nav<'_>, cx: &Context<'_>) {
        ui.add_space(crate::theme::space::PARAGRAPH);
        ui.strong(words::REMAINS);
        ui.label(words::NOT_CHECKED);
        ui.label(format!("1. {}", words::SSPR));
        ui.label(format!("2. {}", words::ON_PREM));
        if cx.cloudsync {
            ui.label(format!("3. {}", words::CLOUD_SYNC));
        }
        if ui.button(words::OPEN).clicked() {
            nav.send(crate::worker::Job::OpenPortal(cx.cloud));
        }
        ui.label(if cx.cloud == Cloud::Public { words::TRY_PUBLIC } else { words::TRY_OTHER });
    }

    /// "Test writeback now": the user picker, the button, and the trace hop by hop.
    fn reset_test(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.add_space(crate::theme::space::PARAGRAPH);
        ui.strong(words::TEST);
        ui.label(words::TEST_HOW);
        self.reset_user.ui(ui, nav, crate::worker::PickerId::ResetTest, words::TEST_USER);
        let user = self.reset_user.chosen();
        if ui.add_enabled(user.is_some() && !nav.busy(), egui::Button::new(words::TEST_NOW)).clicked()
            && let Some(user) = user
        {
            self.reset = None;
            self.shown = None;
            nav.start(crate::worker::Job::ResetTest { user, reveal: self.reveal });
        }
        ui.checkbox(&mut self.reveal, words::REVEAL);
        if let Some(p) = &self.shown {
            let mut hide = false;
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.label(words::SHOWN);
                ui.monospace(p.expose());
                hide = ui.button(words::HIDE).clicked();
            });
            if hide {
                self.shown = None;
            }
        }
        match &self.reset {
            Some(Ok(t)) => {
                for h in &t.hops {
                    verdict(ui, h.ok, &words::hop(h.name, &h.detail, h.ms));
                    if let Some(r) = &h.remedy {
                        ui.label(words::note(r));
                    }
                }
                for n in &t.not_checked {
                    ui.weak(words::not_checked(n));
                }
                verdict(ui, t.reached, if t.reached { words::REACHED } else { words::NOT_REACHED });
            }
            Some(Err(e)) => crate::error_box(ui, e),
            None => {}
        }
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>, cx: &Context<'_>) -> Option<Action> {
        let configuring = cx.configuring;
        let mut action = None;
        let outcome = self.outcome.clone();
        match &outcome {
            Some(Ok(o)) => {
                if o.applied.is_empty() {
                    ui.label(words::NOTHING);
                }
                for id in &o.applied {
                    ui.label(words::done(&configuring.describe(id)));
                }
                verdict(ui, o.verified, if o.verified { words::VERIFIED } else { words::NOT_VERIFIED });
                match &self.canary {
                    Some(Ok(c)) => {
                        verdict(ui, c.reset, &words::canary_reset(&c.user));
                        verdict(ui, c.unlock, &words::canary_unlock(&c.user));
                        if let Some(d) = &c.detail {
                            ui.label(words::note(d));
                        }
                    }
                    Some(Err(e)) => crate::error_box(ui, e),
                    None => {}
                }
                if o.sync_started {
                    ui.label(words::SYNC_STARTED);
                }
                for w in &o.warnings {
                    crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, w);
                }
                if cx.enabling && o.verified {
                    Self::portal(ui, nav, cx);
                    self.reset_test(ui, nav);
                }
            }
            Some(Err(_)) => {
                configuring.ui(ui, nav);
                ui.add_space(crate::theme::space::ITEM);
                ui.label(words::UNDONE);
                ui.horizontal(|ui| {
                    if ui.button(words::RETRY).clicked() && nav.wiz.retry() {
                        action = Some(Action::Retry);
                    }
                    if ui.button(words::SAVE_LOG).clicked() {
                        nav.start(crate::worker::Job::SaveLog);
                    }
                });
            }
            None => {}
        }
        ui.add_space(crate::theme::space::ITEM);
        ui.label(words::audit(nav.audit_log));
        ui.label(words::AGAIN);
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verified: bool) -> ApplyOutcome {
        ApplyOutcome { applied: vec![], verified, sync_started: false, warnings: vec![] }
    }

    #[test]
    fn the_page_says_done_only_when_verified_and_keeps_the_canarys_answer() {
        let mut page = Complete::default();
        let canary = Canary { user: "wb.canary".into(), reset: true, unlock: true, detail: None };
        assert_eq!(page.take_configured(Ok(Configured { outcome: outcome(true), canary: Some(Ok(canary)) })), Ok(true));
        assert!(page.canary().is_some());
        assert_eq!(page.take_recovered(Ok(outcome(false))), Ok(false));
        let err = ErrorReport { code: "E".into(), message: String::new(), remedy: String::new(), exit_code: 1 };
        assert!(page.take_recovered(Err(err)).is_err());
        assert!(page.outcome().is_some_and(|o| o.is_err()));
        page.forget();
        assert!(page.outcome().is_none() && page.canary().is_none());
    }
}
