//! Troubleshoot: the sync server's writeback events explained — grouped by what Microsoft says
//! they mean, newest first — and the users they name checked against the DC.

use super::{Nav, verdict};
use crate::worker::Job;
use writeback_core::events::Diagnosis;
use writeback_core::types::ErrorReport;

/// The page's own words.
pub mod words {
    pub const READING: &str = "Reading the sync server's writeback events…";
    pub const NONE: &str = "No writeback events on the sync server.";
    pub const AGAIN: &str = "Read the events again";
    pub const USERS: &str = "The users the events name";
    pub const EVENTS: &str = "Every event, newest first";
    pub fn count(n: usize) -> String {
        format!(
            "{n} writeback event{} on the sync server, by what Microsoft says they mean:",
            if n == 1 { "" } else { "s" }
        )
    }
    pub fn group(key: &str, count: usize, newest: &str, meaning: &str) -> String {
        format!("{key} ×{count} (newest {newest}): {meaning}")
    }
    pub fn remedy(r: &str) -> String {
        format!("What to do: {r}")
    }
    pub fn user(name: &str, events: usize, verdict: &str) -> String {
        format!("{name} (in {events} event{}): {verdict}", if events == 1 { "" } else { "s" })
    }
    pub fn not_checked(why: &str) -> String {
        format!("The users were not checked: {why}")
    }
    pub fn event(id: u32, provider: &str, time: &str, message: &str) -> String {
        format!("{time} {provider} {id}: {message}")
    }
}

#[derive(Default)]
pub struct Troubleshoot {
    diagnosis: Option<Result<Box<Diagnosis>, ErrorReport>>,
}

impl Troubleshoot {
    /// What was read.
    pub fn diagnosis(&self) -> Option<&Result<Box<Diagnosis>, ErrorReport>> {
        self.diagnosis.as_ref()
    }

    pub(crate) fn forget(&mut self) {
        self.diagnosis = None;
    }

    pub(crate) fn take(&mut self, result: Result<Box<Diagnosis>, ErrorReport>) {
        self.diagnosis = Some(result);
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        match &self.diagnosis {
            None => {
                ui.label(words::READING);
            }
            Some(Err(e)) => crate::error_box(ui, e),
            Some(Ok(d)) if d.events.is_empty() => verdict(ui, true, words::NONE),
            Some(Ok(d)) => {
                ui.strong(words::count(d.events.len()));
                for g in &d.groups {
                    let known = !g.remedy.is_empty();
                    crate::theme::verdict_line(
                        ui,
                        if known { crate::theme::Verdict::Warning } else { crate::theme::Verdict::Info },
                        &words::group(&g.key, g.count, &g.newest, &g.meaning),
                    );
                    if known {
                        ui.indent(("remedy", &g.key), |ui| ui.label(words::remedy(&g.remedy)));
                    }
                }
                if !d.users.is_empty() {
                    ui.add_space(crate::theme::space::ITEM);
                    ui.strong(words::USERS);
                    for u in &d.users {
                        let fine = u.reachable == Some(true)
                            && u.in_scope == Some(true)
                            && u.protected == Some(false)
                            && u.password_too_young == Some(false);
                        verdict(ui, fine, &words::user(&u.name, u.events, &u.verdict));
                    }
                }
                if let Some(why) = &d.users_not_checked {
                    ui.weak(words::not_checked(why));
                }
                ui.add_space(crate::theme::space::ITEM);
                egui::CollapsingHeader::new(words::EVENTS).id_salt("events").show(ui, |ui| {
                    for e in &d.events {
                        ui.label(egui::RichText::new(words::event(e.id, &e.provider, &e.time, &e.message)).small());
                    }
                });
            }
        }
        if ui.add_enabled(!nav.busy(), egui::Button::new(words::AGAIN)).clicked() {
            self.diagnosis = None;
            nav.start(Job::Troubleshoot);
        }
    }
}
