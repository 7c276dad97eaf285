//! Connect your directories: the DC, an Enterprise Admin, the connector account.

use super::{Nav, verdict};
use crate::ad::tls::CertDetails;
use crate::diagnose::ErrorReport;
use crate::gui::field;
use crate::gui::wizard::Task;
use crate::gui::worker::{DirectoryView, Job};
use crate::secrets::Secret;

/// The page's own words.
pub mod words {
    pub const WHO: &str = "Connect to a domain controller as a member of Enterprise Admins.";
    pub const LAB_READY: &str = "Lab mode: the lab's domain controller and administrator are filled in; leave the password empty to use the lab's.";
    pub const LAB_STARTING: &str = "Lab mode: the lab's domain controller is starting…";
    pub const DC: &str = "Domain controller";
    pub const USER: &str = "Username";
    pub const PASSWORD: &str = "Password";
    pub const TIMEOUT: &str = "Timeout (seconds)";
    pub const BAD_TIMEOUT: &str =
        "The timeout is a number of seconds from 1 to 3600 (30 when empty); give more for a slow DC.";
    pub const CONNECT: &str = "Connect";
    pub const CHANGED: &str = "This server's certificate has CHANGED since you trusted it.";
    pub const CHANGED_HOW: &str = "If the DC's certificate was renewed, check the new fingerprint on the DC (export it as DER and run Get-FileHash -Algorithm SHA256 on the file) and type its last 8 characters below. If it was not renewed, do not connect: something may be standing in for the DC.";
    pub const TAIL: &str = "Last 8 characters of the new fingerprint";
    pub const TRUST_NEW: &str = "Trust the new certificate";
    pub const DISTRUST: &str = "Do not trust";
    pub const UNTRUSTED: &str = "This computer does not trust the domain controller's certificate.";
    pub const UNTRUSTED_HOW: &str = "Trust it only if this SHA-256 matches the DC's certificate: on the DC, export it as DER (.cer) and run Get-FileHash -Algorithm SHA256 on the file (colons and case do not matter). Trusting pins this certificate in the settings.";
    pub const TRUST: &str = "Trust this certificate";
    pub const NONE: &str = "none";
    pub const NO_CONNECTOR: &str =
        "No connector account (MSOL_*) was found: choose the account the sync engine uses below.";
    pub const CONNECTOR: &str = "Connector account";
    pub const OTHER: &str = "Another account";
    pub fn trusted_before(fp: &str) -> String {
        format!("Trusted before: SHA-256 {fp}")
    }
    pub fn presented(fp: &str) -> String {
        format!("Presented now: SHA-256 {fp}")
    }
    pub fn cert_line(subject: &str, issuer: &str, until: &str) -> String {
        format!("Subject: {subject}; issued by {issuer}; valid until {until}")
    }
    pub fn subject(v: &str) -> String {
        format!("Subject: {v}")
    }
    pub fn dns_names(v: &str) -> String {
        format!("DNS names: {v}")
    }
    pub fn issuer(v: &str) -> String {
        format!("Issued by: {v}")
    }
    pub fn until(v: &str) -> String {
        format!("Valid until: {v}")
    }
    pub fn sha256(v: &str) -> String {
        format!("SHA-256: {v}")
    }
    pub fn connected(dc: &str, domain: &str) -> String {
        format!("Connected to {dc} ({domain})")
    }
    pub fn enterprise_admin(who: &str) -> String {
        format!("{who} is an Enterprise Admin")
    }
    pub fn only_domain_admin(who: &str) -> String {
        format!("{who} is a Domain Admin but not an Enterprise Admin: sign in with an Enterprise Admin")
    }
    pub fn not_enterprise_admin(who: &str) -> String {
        format!("{who} is not in Enterprise Admins: sign in with an Enterprise Admin")
    }
}

/// The page's state.
#[derive(Default)]
pub struct ConnectDirectories {
    /// "Domain controller" field.
    pub ad_url: String,
    /// "Username" field.
    pub ad_user: String,
    /// How long one LDAP operation may take, in seconds (empty: 30, or the setting).
    pub ad_timeout: String,
    /// "Another account": a custom connector account or gMSA, picked from the domain.
    pub other_connector: super::Picker,
    /// "Password" field (cleared as soon as it is sent).
    pub ad_password: String,
    /// What the connection found.
    pub directory: Option<DirectoryView>,
    /// A certificate waiting for "Trust this certificate" or "Do not trust", and the error that
    /// stands if it is not trusted.
    pub untrusted: Option<(Box<CertDetails>, ErrorReport)>,
    /// With `untrusted`: the fingerprint pinned before, when the certificate CHANGED since.
    pub changed_from: Option<String>,
    /// "Last 8 characters of the new fingerprint" field: a changed certificate is trusted only
    /// once they are typed, so it is never a click-through.
    pub typed_tail: String,
    /// The password typed, kept only until the trust question is answered.
    pub(crate) pending_password: Option<Secret>,
    /// The connector account chosen (DN).
    pub connector: Option<String>,
}

impl ConnectDirectories {
    /// Connected as an Enterprise Admin, with a connector account when the task changes things.
    pub fn ready(&self, task: Task) -> bool {
        match &self.directory {
            Some(d) => match task {
                Task::View | Task::TestPassword => true,
                Task::Recover => d.enterprise_admin,
                Task::Customize | Task::Disable => d.enterprise_admin && self.connector.is_some(),
            },
            None => false,
        }
    }

    /// Connects with what the fields hold (`trust`: a certificate the person trusted).
    pub fn connect(&mut self, nav: &mut Nav<'_>, trust: Option<String>) {
        if !self.ad_password.is_empty() {
            self.pending_password = Some(Secret::new(std::mem::take(&mut self.ad_password)));
        }
        self.directory = None;
        self.untrusted = None;
        nav.start(Job::Connect {
            ad_url: self.ad_url.clone(),
            ad_user: self.ad_user.clone(),
            password: self.pending_password.clone(),
            trust,
            ad_timeout: self.ad_timeout.trim().parse().ok().filter(|s| (1..=3600).contains(s)),
        });
    }

    /// "Do not trust": the handshake error stands, and nothing is kept.
    fn distrust(&mut self, nav: &mut Nav<'_>) {
        if let Some((_, report)) = self.untrusted.take() {
            *nav.error = Some(report);
        }
        self.pending_password = None;
    }

    /// Draws the page.
    pub fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(words::WHO);
        if nav.lab {
            ui.label(if nav.lab_info.is_some() { words::LAB_READY } else { words::LAB_STARTING });
        }
        ui.add_space(6.0);
        field(ui, words::DC, &mut self.ad_url, false);
        field(ui, words::USER, &mut self.ad_user, false);
        field(ui, words::PASSWORD, &mut self.ad_password, true);
        field(ui, words::TIMEOUT, &mut self.ad_timeout, false);
        if !self.ad_timeout.trim().is_empty()
            && self.ad_timeout.trim().parse::<u64>().ok().filter(|s| (1..=3600).contains(s)).is_none()
        {
            crate::gui::theme::verdict_line(ui, crate::gui::theme::Verdict::Warning, words::BAD_TIMEOUT);
        }
        if ui.add_enabled(!nav.busy() && self.untrusted.is_none(), egui::Button::new(words::CONNECT)).clicked() {
            self.connect(nav, None);
        }
        if let (Some((cert, _)), Some(pinned)) = (self.untrusted.clone(), self.changed_from.clone()) {
            ui.add_space(6.0);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.colored_label(ui.visuals().warn_fg_color, words::CHANGED);
                ui.label(words::trusted_before(&pinned));
                ui.label(words::presented(&cert.sha256));
                ui.label(words::cert_line(&cert.subject, &cert.issuer, &cert.not_after));
                ui.label(words::CHANGED_HOW);
                field(ui, words::TAIL, &mut self.typed_tail, false);
                let tail: String = cert.sha256.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>();
                let tail = tail.get(tail.len().saturating_sub(8)..).unwrap_or_default().to_ascii_lowercase();
                let typed: String =
                    self.typed_tail.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase();
                ui.horizontal(|ui| {
                    if ui.add_enabled(typed == tail, egui::Button::new(words::TRUST_NEW)).clicked() {
                        self.changed_from = None;
                        self.connect(nav, Some(cert.sha256.clone()));
                    }
                    if ui.button(words::DISTRUST).clicked() {
                        self.changed_from = None;
                        self.distrust(nav);
                    }
                });
            });
        } else if let Some((cert, _)) = self.untrusted.clone() {
            ui.add_space(6.0);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.strong(words::UNTRUSTED);
                ui.label(words::subject(&cert.subject));
                let names = if cert.dns_names.is_empty() { words::NONE.to_string() } else { cert.dns_names.join(", ") };
                ui.label(words::dns_names(&names));
                ui.label(words::issuer(&cert.issuer));
                ui.label(words::until(&cert.not_after));
                ui.label(words::sha256(&cert.sha256));
                ui.label(words::UNTRUSTED_HOW);
                ui.horizontal(|ui| {
                    if ui.button(words::TRUST).clicked() {
                        self.connect(nav, Some(cert.sha256.clone()));
                    }
                    if ui.button(words::DISTRUST).clicked() {
                        self.distrust(nav);
                    }
                });
            });
        }
        let Some(d) = &self.directory else { return };
        ui.add_space(6.0);
        ui.label(words::connected(&d.dc, &d.domain));
        verdict(
            ui,
            d.enterprise_admin,
            &if d.enterprise_admin {
                words::enterprise_admin(&d.operator)
            } else if d.domain_admin {
                words::only_domain_admin(&d.operator)
            } else {
                words::not_enterprise_admin(&d.operator)
            },
        );
        ui.add_space(6.0);
        if d.candidates.is_empty() {
            verdict(ui, false, words::NO_CONNECTOR);
        }
        let shown = self
            .connector
            .as_ref()
            .and_then(|dn| d.candidates.iter().find(|c| &c.0 == dn))
            .map(|c| c.1.clone())
            .unwrap_or_default();
        ui.horizontal(|ui| {
            let l = ui.add_sized([150.0, 20.0], egui::Label::new(words::CONNECTOR));
            egui::ComboBox::from_id_salt("connector")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (dn, sam) in &d.candidates {
                        ui.selectable_value(&mut self.connector, Some(dn.clone()), sam);
                    }
                })
                .response
                .labelled_by(l.id);
        });
        // A custom account or a gMSA the sync engine signs in with (Cloud Sync's agent runs as one).
        if let Some(hit) = self.other_connector.ui(ui, nav, "connector", words::OTHER) {
            if let Some(d) = self.directory.as_mut()
                && !d.candidates.iter().any(|c| c.0 == hit.dn)
            {
                d.candidates.push((hit.dn.clone(), hit.sam.clone()));
            }
            self.connector = Some(hit.dn);
        }
    }
}
