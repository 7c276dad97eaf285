//! Tasks: "Customize synchronization options" and the wizard's other tasks. The task chosen is
//! navigation state (it decides the pages), so it lives in the wizard, not here.

use super::Nav;
use crate::wizard::Task;

/// The page's own words.
pub mod words {
    pub const QUESTION: &str = "What would you like to do?";
    pub const CUSTOMIZE: &str = "Customize synchronization options";
    pub const VIEW: &str = "View current configuration";
    pub const TEST: &str = "Test a password against policy";
    pub const DISABLE: &str = "Disable password writeback";
    pub const TROUBLESHOOT: &str = "Troubleshoot writeback (the sync server's events, explained)";
    pub const RECOVER: &str = "Finish the unfinished configuration";
    pub const SETTINGS: &str = "Keep these settings for another server, or for the command line (`--config FILE`):";
    pub const EXPORT: &str = "Export settings…";
    pub const IMPORT: &str = "Import settings…";
    pub const IMPORT_SAME: &str = "It changes none of this machine's connection settings.";
    pub const IMPORT_YES: &str = "Import these settings";
    pub const IMPORT_NO: &str = "Do not import";
    pub const IMPORT_PIN: &str = "It pins another certificate for the DC: this machine's pin is kept; take theirs with `writeback-wizard config import --yes` once you have checked it on the DC.";
    pub const NONE: &str = "(none)";
    pub fn import_changes(file: &std::path::Path) -> String {
        format!("Importing {} changes these settings of this machine:", file.display())
    }
    pub fn change(key: &str, ours: &str, theirs: &str) -> String {
        // Words, not an arrow: the wizard's font has no glyph for "→".
        format!("{key}: {ours}, becomes {theirs}")
    }
}

pub(crate) fn ui(
    ui: &mut egui::Ui,
    nav: &mut Nav<'_>,
    unfinished: Option<&std::path::Path>,
    import: &mut Option<(std::path::PathBuf, Box<writeback_core::config::ImportPreview>)>,
) {
    if let Some(journal) = unfinished {
        super::unfinished_banner(ui, journal);
    }
    ui.label(words::QUESTION);
    ui.add_space(crate::theme::space::ITEM);
    let mut task = nav.wiz.task;
    ui.radio_value(&mut task, Task::Customize, words::CUSTOMIZE);
    ui.radio_value(&mut task, Task::View, words::VIEW);
    ui.radio_value(&mut task, Task::TestPassword, words::TEST);
    ui.radio_value(&mut task, Task::Disable, words::DISABLE);
    ui.radio_value(&mut task, Task::Troubleshoot, words::TROUBLESHOOT);
    if unfinished.is_some() {
        ui.radio_value(&mut task, Task::Recover, words::RECOVER);
    }
    ui.add_space(crate::theme::space::GROUP);
    ui.label(words::SETTINGS);
    ui.horizontal(|ui| {
        if ui.add_enabled(!nav.busy(), egui::Button::new(words::EXPORT)).clicked() {
            nav.start(crate::worker::Job::Export);
        }
        if ui.add_enabled(!nav.busy(), egui::Button::new(words::IMPORT)).clicked() {
            nav.start(crate::worker::Job::Import);
        }
    });
    if let Some((file, preview)) = import.take() {
        ui.add_space(crate::theme::space::ITEM);
        let mut answer = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            if preview.changes.is_empty() {
                ui.label(words::IMPORT_SAME);
            } else {
                ui.strong(words::import_changes(&file));
                for c in &preview.changes {
                    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| words::NONE.to_string());
                    ui.label(words::change(c.key, &show(&c.ours), &show(&c.theirs)));
                }
                if preview.changes_pin() {
                    crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, words::IMPORT_PIN);
                }
            }
            ui.horizontal(|ui| {
                if ui.button(words::IMPORT_YES).clicked() {
                    answer = Some(true);
                }
                if ui.button(words::IMPORT_NO).clicked() {
                    answer = Some(false);
                }
            });
        });
        match answer {
            Some(true) => nav.start(crate::worker::Job::ConfirmImport { file, preview }),
            Some(false) => {}
            None => *import = Some((file, preview)),
        }
    }
    if task != nav.wiz.task {
        nav.wiz.choose(task);
    }
}
