//! Domain and OU filtering: where the writeback permissions go.

use crate::gui::{App, field};

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.label(
        "Choose where the connector account gets its writeback permissions. The domain root covers every \
         user below it; choose organizational units to limit writeback to them.",
    );
    ui.add_space(6.0);
    for (dn, on) in app.scopes.iter_mut() {
        ui.checkbox(on, dn.as_str());
    }
    ui.add_space(6.0);
    field(ui, "Organizational unit", &mut app.new_scope, false);
    let dn = app.new_scope.trim().to_string();
    if ui.add_enabled(!dn.is_empty(), egui::Button::new("Add organizational unit")).clicked() {
        if !app.scopes.iter().any(|(s, _)| s.eq_ignore_ascii_case(&dn)) {
            app.scopes.push((dn, true));
        }
        app.new_scope.clear();
    }
    if !app.scopes.iter().any(|(_, on)| *on) {
        super::verdict(ui, false, "Choose at least one domain or organizational unit.");
    }
}
