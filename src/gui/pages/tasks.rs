//! Tasks: "Customize synchronization options" and the wizard's other tasks.

use crate::gui::App;
use crate::gui::wizard::Task;

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.label("What would you like to do?");
    ui.add_space(6.0);
    let mut task = app.wiz.task;
    ui.radio_value(&mut task, Task::Customize, "Customize synchronization options");
    ui.radio_value(&mut task, Task::View, "View current configuration");
    ui.radio_value(&mut task, Task::TestPassword, "Test a password against policy");
    ui.radio_value(&mut task, Task::Disable, "Disable password writeback");
    ui.add_space(12.0);
    ui.label("Keep these settings for another server, or for the command line (`--config FILE`):");
    if ui.add_enabled(!app.wiz.facts.busy, egui::Button::new("Export settings…")).clicked() {
        app.start(crate::gui::worker::Job::Export);
    }
    if task != app.wiz.task {
        app.wiz.choose(task);
        app.refresh_directory_ready();
    }
}
