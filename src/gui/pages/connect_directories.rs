//! Connect your directories: the DC, an Enterprise Admin, the connector account.

use super::verdict;
use crate::gui::{App, field};

/// Draws the page.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.label("Connect to a domain controller as a member of Enterprise Admins.");
    if app.lab {
        ui.label(match &app.lab_info {
            Some(_) => "Lab mode: the lab's domain controller and administrator are filled in; leave the password empty to use the lab's.",
            None => "Lab mode: the lab's domain controller is starting…",
        });
    }
    ui.add_space(6.0);
    field(ui, "Domain controller", &mut app.ad_url, false);
    field(ui, "Username", &mut app.ad_user, false);
    field(ui, "Password", &mut app.ad_password, true);
    if ui.add_enabled(!app.wiz.facts.busy && app.untrusted.is_none(), egui::Button::new("Connect")).clicked() {
        app.connect(None);
    }
    if let Some((cert, _)) = app.untrusted.clone() {
        ui.add_space(6.0);
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.strong("This computer does not trust the domain controller's certificate.");
            ui.label(format!("Subject: {}", cert.subject));
            let names = if cert.dns_names.is_empty() { "none".to_string() } else { cert.dns_names.join(", ") };
            ui.label(format!("DNS names: {names}"));
            ui.label(format!("Issued by: {}", cert.issuer));
            ui.label(format!("Valid until: {}", cert.not_after));
            ui.label(format!("SHA-256: {}", cert.sha256));
            ui.label(
                "Trust it only if this SHA-256 matches the DC's certificate: on the DC, export it as DER \
                 (.cer) and run Get-FileHash -Algorithm SHA256 on the file (colons and case do not matter). \
                 Trusting pins this certificate in the settings.",
            );
            ui.horizontal(|ui| {
                if ui.button("Trust this certificate").clicked() {
                    app.connect(Some(cert.sha256.clone()));
                }
                if ui.button("Do not trust").clicked() {
                    app.distrust();
                }
            });
        });
    }
    let Some(d) = app.directory.clone() else { return };
    ui.add_space(6.0);
    ui.label(format!("Connected to {} ({})", d.dc, d.domain));
    verdict(
        ui,
        d.enterprise_admin,
        &if d.enterprise_admin {
            format!("{} is an Enterprise Admin", d.operator)
        } else if d.domain_admin {
            format!("{} is a Domain Admin but not an Enterprise Admin: sign in with an Enterprise Admin", d.operator)
        } else {
            format!("{} is not in Enterprise Admins: sign in with an Enterprise Admin", d.operator)
        },
    );
    ui.add_space(6.0);
    if d.candidates.is_empty() {
        verdict(ui, false, "No connector account (MSOL_*) was found; name it in the settings (connector_account).");
        return;
    }
    let before = app.connector.clone();
    let shown = app
        .connector
        .as_ref()
        .and_then(|dn| d.candidates.iter().find(|c| &c.0 == dn))
        .map(|c| c.1.clone())
        .unwrap_or_default();
    ui.horizontal(|ui| {
        let l = ui.add_sized([150.0, 20.0], egui::Label::new("Connector account"));
        egui::ComboBox::from_id_salt("connector")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (dn, sam) in &d.candidates {
                    ui.selectable_value(&mut app.connector, Some(dn.clone()), sam);
                }
            })
            .response
            .labelled_by(l.id);
    });
    if app.connector != before {
        app.refresh_directory_ready();
    }
}
