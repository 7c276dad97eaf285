//! Tasks: "Customize synchronization options" and the wizard's other tasks. The task chosen is
//! navigation state (it decides the pages), so it lives in the wizard, not here.

use super::Nav;
use crate::gui::wizard::Task;

/// Draws the page.
pub fn ui(ui: &mut egui::Ui, nav: &mut Nav<'_>, unfinished: Option<&std::path::Path>) {
    if let Some(journal) = unfinished {
        super::unfinished_banner(ui, journal);
    }
    ui.label("What would you like to do?");
    ui.add_space(6.0);
    let mut task = nav.wiz.task;
    ui.radio_value(&mut task, Task::Customize, "Customize synchronization options");
    ui.radio_value(&mut task, Task::View, "View current configuration");
    ui.radio_value(&mut task, Task::TestPassword, "Test a password against policy");
    ui.radio_value(&mut task, Task::Disable, "Disable password writeback");
    if unfinished.is_some() {
        ui.radio_value(&mut task, Task::Recover, "Finish the unfinished configuration");
    }
    ui.add_space(12.0);
    ui.label("Keep these settings for another server, or for the command line (`--config FILE`):");
    ui.horizontal(|ui| {
        if ui.add_enabled(!nav.busy(), egui::Button::new("Export settings…")).clicked() {
            nav.start(crate::gui::worker::Job::Export);
        }
        if ui.add_enabled(!nav.busy(), egui::Button::new("Import settings…")).clicked() {
            nav.start(crate::gui::worker::Job::Import);
        }
    });
    if task != nav.wiz.task {
        nav.wiz.choose(task);
    }
}
