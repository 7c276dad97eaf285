//! Welcome: what the wizard does and what it needs.

use super::Nav;

/// Draws the page.
pub fn ui(ui: &mut egui::Ui, nav: &Nav<'_>, unfinished: Option<&std::path::Path>) {
    if let Some(journal) = unfinished {
        super::unfinished_banner(ui, journal);
    }
    ui.label(
        "This wizard turns on password writeback for hybrid identity: passwords changed or reset in \
         Microsoft Entra ID are written back to your on-premises Active Directory.",
    );
    ui.add_space(8.0);
    ui.label("You will need:");
    ui.label("  • a Global Administrator or Hybrid Identity Administrator of the tenant (no licence needed for the account);");
    ui.label("  • a tenant licence that includes Microsoft Entra ID P1 or P2;");
    ui.label("  • an on-premises account in Enterprise Admins;");
    ui.label("  • the AD DS connector account Microsoft Entra Connect uses.");
    ui.add_space(8.0);
    ui.label("Every change is shown before it is made, checked after, and can be undone by running the wizard again.");
    if nav.lab {
        ui.add_space(8.0);
        ui.label(
            "Lab mode: a Samba domain controller on this machine and a simulated tenant stand in for the real ones.",
        );
    }
}
