//! Domain and OU filtering: where the writeback permissions go, chosen from a browsable tree of
//! the domain's OUs and containers with their user counts.

use crate::gui::{App, field};

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.label(
        "Choose where the connector account gets its writeback permissions. The domain root covers every \
         user below it; choose organizational units to limit writeback to them.",
    );
    ui.add_space(6.0);
    let roots: Vec<String> = match &app.directory {
        Some(d) => d.domains.clone(),
        None => Vec::new(),
    };
    for root in &roots {
        node(app, ui, root, root, None);
    }
    // Scopes chosen that the tree does not show (from the settings, or typed in).
    let shown_elsewhere: Vec<String> = app
        .scopes
        .iter()
        .map(|(s, _)| s.clone())
        .filter(|s| !roots.iter().any(|r| r.eq_ignore_ascii_case(s)) && !in_tree(app, s))
        .collect();
    if !shown_elsewhere.is_empty() {
        ui.add_space(6.0);
        ui.label("Also chosen:");
        for dn in shown_elsewhere {
            let mut on = app.scope_on(&dn);
            if ui.checkbox(&mut on, format!("Include {dn}")).changed() {
                app.set_scope(&dn, on);
            }
        }
    }
    ui.add_space(6.0);
    field(ui, "Organizational unit", &mut app.new_scope, false);
    let dn = app.new_scope.trim().to_string();
    if ui.add_enabled(!dn.is_empty(), egui::Button::new("Add organizational unit")).clicked() {
        app.set_scope(&dn, true);
        app.new_scope.clear();
    }
    if !app.scopes.iter().any(|(_, on)| *on) {
        super::verdict(ui, false, "Choose at least one domain or organizational unit.");
    }
}

fn in_tree(app: &App, dn: &str) -> bool {
    app.tree.values().any(|(_, children)| children.iter().any(|c| c.dn.eq_ignore_ascii_case(dn)))
}

/// One node: a header with its name and user count that opens onto its children, and inside, the
/// checkbox that chooses it.
fn node(app: &mut App, ui: &mut egui::Ui, dn: &str, name: &str, listed: Option<usize>) {
    let count = app.tree.get(dn).map(|(users, _)| *users).or(listed);
    if count.is_none() {
        // A domain root: its count is read before it is opened.
        app.browse(dn);
    }
    let title = match count {
        Some(1) => format!("{name} (1 user)"),
        Some(n) => format!("{name} ({n} users)"),
        None => format!("{name} (counting…)"),
    };
    egui::CollapsingHeader::new(title).id_salt(dn).default_open(false).show(ui, |ui| {
        let mut on = app.scope_on(dn);
        if ui.checkbox(&mut on, format!("Include {dn}")).changed() {
            app.set_scope(dn, on);
        }
        let children = app.tree.get(dn).map(|(_, c)| c.clone());
        match children {
            Some(children) => {
                for c in children {
                    node(app, ui, &c.dn, &c.name, Some(c.users));
                }
            }
            None => {
                app.browse(dn);
                ui.weak("Reading…");
            }
        }
    });
}
