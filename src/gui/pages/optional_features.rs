//! Optional features: the "Password writeback" checkbox with today's state and the readiness
//! findings; for the View task the whole state, for the password test the tester.

use super::verdict;
use crate::gui::wizard::Task;
use crate::gui::worker::Job;
use crate::gui::{App, field};
use crate::secrets::Secret;

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    match app.wiz.task {
        Task::TestPassword => return test_password(app, ui),
        Task::Customize | Task::Disable => {
            ui.checkbox(&mut app.writeback, "Password writeback");
            ui.label(if app.writeback {
                "Next plans granting the connector account its writeback permissions and switching writeback on in the sync engine."
            } else {
                "Next plans removing what this tool granted and switching writeback off in the sync engine."
            });
            ui.add_space(6.0);
        }
        Task::View => {}
    }
    let Some(st) = app.status.clone() else {
        if app.wiz.facts.busy {
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
    if app.wiz.task == Task::View {
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
    if ui.add_enabled(!app.wiz.facts.busy, egui::Button::new("Refresh")).clicked() {
        app.start(Job::Status);
    }
}

fn test_password(app: &mut App, ui: &mut egui::Ui) {
    ui.label(
        "Would Active Directory accept this password for this account? Tested here against the policy that \
         applies to the account (its fine-grained policy, else the domain's); nothing is sent to the account.",
    );
    ui.add_space(6.0);
    field(ui, "Account", &mut app.test_user, false);
    field(ui, "New password", &mut app.test_password, true);
    let ready = !app.test_user.trim().is_empty() && !app.test_password.is_empty() && !app.wiz.facts.busy;
    if ui.add_enabled(ready, egui::Button::new("Test password")).clicked() {
        let password = Secret::new(std::mem::take(&mut app.test_password));
        app.verdict = None;
        app.start(Job::TestPassword { user: app.test_user.trim().to_string(), password });
    }
    let Some(v) = &app.verdict else { return };
    ui.add_space(6.0);
    verdict(ui, v.acceptable, if v.acceptable { "Acceptable" } else { "Refused" });
    for r in &v.reasons {
        verdict(ui, false, &r.text);
    }
    for u in &v.unknown {
        ui.label(format!("Not checked here: {u}"));
    }
}
