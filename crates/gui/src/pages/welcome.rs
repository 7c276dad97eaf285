//! Welcome: what the wizard does and what it needs.

use super::Nav;

/// The page's own words.
pub mod words {
    pub const WHAT: &str = "This wizard turns on password writeback for hybrid identity: passwords changed or reset in Microsoft Entra ID are written back to your on-premises Active Directory.";
    pub const NEEDS: &str = "You will need:";
    pub const NEED_ADMIN: &str = "  • a Global Administrator or Hybrid Identity Administrator of the tenant (no licence needed for the account);";
    pub const NEED_LICENCE: &str = "  • a tenant licence that includes Microsoft Entra ID P1 or P2;";
    pub const NEED_EA: &str = "  • an on-premises account in Enterprise Admins;";
    pub const NEED_CONNECTOR: &str =
        "  • the AD DS connector account your sync engine (Entra Connect or Cloud Sync) uses.";
    pub const PROMISE: &str =
        "Every change is shown before it is made, checked after, and can be undone by running the wizard again.";
    pub const LAB: &str =
        "Lab mode: a Samba domain controller on this machine and a simulated tenant stand in for the real ones.";
}

pub(crate) fn ui(ui: &mut egui::Ui, nav: &Nav<'_>, unfinished: Option<&std::path::Path>) {
    if let Some(journal) = unfinished {
        super::unfinished_banner(ui, journal);
    }
    ui.label(words::WHAT);
    ui.add_space(crate::theme::space::PARAGRAPH);
    ui.label(words::NEEDS);
    for need in [words::NEED_ADMIN, words::NEED_LICENCE, words::NEED_EA, words::NEED_CONNECTOR] {
        ui.label(need);
    }
    ui.add_space(crate::theme::space::PARAGRAPH);
    ui.label(words::PROMISE);
    if nav.lab() {
        ui.add_space(crate::theme::space::PARAGRAPH);
        ui.label(words::LAB);
    }
}
