//! One file per page; each draws itself from the [`App`](super::App) and starts engine work
//! through it.

mod complete;
pub(crate) mod configuring;
mod connect_directories;
mod connect_entra;
mod optional_features;
mod ready;
mod scope;
mod tasks;
mod welcome;

use super::App;
use super::wizard::PageId;

/// Draws the current page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    match app.wiz.page {
        PageId::Welcome => welcome::show(app, ui),
        PageId::Tasks => tasks::show(app, ui),
        PageId::ConnectEntra => connect_entra::show(app, ui),
        PageId::ConnectDirectories => connect_directories::show(app, ui),
        PageId::Scope => scope::show(app, ui),
        PageId::OptionalFeatures => optional_features::show(app, ui),
        PageId::Ready => ready::show(app, ui),
        PageId::Configuring => configuring::show(app, ui),
        PageId::Complete => complete::show(app, ui),
    }
}

/// A verdict line: a tick or a cross, then the words.
pub(crate) fn verdict(ui: &mut egui::Ui, ok: bool, text: &str) {
    if ok {
        ui.label(format!("OK: {text}"));
    } else {
        ui.colored_label(ui.visuals().error_fg_color, format!("Problem: {text}"));
    }
}
