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
    pub const RECOVER: &str = "Finish the unfinished configuration";
    pub const SETTINGS: &str = "Keep these settings for another server, or for the command line (`--config FILE`):";
    pub const EXPORT: &str = "Export settings…";
    pub const IMPORT: &str = "Import settings…";
}

pub(crate) fn ui(ui: &mut egui::Ui, nav: &mut Nav<'_>, unfinished: Option<&std::path::Path>) {
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
    if task != nav.wiz.task {
        nav.wiz.choose(task);
    }
}
