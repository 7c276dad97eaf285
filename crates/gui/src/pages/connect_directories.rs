//! Connect your directories: the forest (or a DC), an Enterprise Admin or the signed-in account,
//! the connector account.

use super::{Nav, verdict};
use crate::field;
use crate::wizard::Task;
use crate::worker::{Job, OtherForest, PickerId};
use writeback_core::config::{Settings, SettingsOverlay};
use writeback_core::session::{DirectoryView, Untrusted};
use writeback_core::types::{CertDetails, ErrorReport, Secret};

/// The page's own words.
pub mod words {
    pub const WHO: &str = "Connect to your forest as a member of Enterprise Admins: a domain controller is found from the forest's name, and the sign-in uses Kerberos, signed and sealed.";
    pub const FOREST: &str = "Forest";
    pub fn forests_served(list: &str) -> String {
        format!("The sync engine serves: {list}")
    }
    /// The signed-in account's Kerberos sign-in: the Windows logon, or a Linux ticket cache.
    pub const CURRENT_USER: &str =
        if cfg!(windows) { "Use my Windows sign-in" } else { "Use my Kerberos ticket (kinit)" };
    pub const MORE: &str = "A specific domain controller";
    pub const SIMPLE: &str = "Sign in with a password over TLS instead of Kerberos";
    pub fn connection(said: &str) -> String {
        format!("Connection: {said}")
    }
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
    pub const PICK_CONNECTOR: &str = "Choose the AD DS connector account your sync engine signs in with: accounts named MSOL_* are offered, never taken on their name alone.";
    pub const PICKED: &str = "Chosen here.";
    pub fn connector_from(source: &str) -> String {
        format!("From: {source}")
    }
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
    pub const OTHERS: &str = "Other forests";
    pub const OTHERS_HOW: &str = "Each forest is configured with an Enterprise Admin of its own. Untick a forest to leave it out: the plan says what that means for its users.";
    pub fn include(forest: &str) -> String {
        format!("Include {forest}")
    }
    pub fn user_of(forest: &str) -> String {
        format!("Username for {forest}")
    }
    pub fn password_of(forest: &str) -> String {
        format!("Password for {forest}")
    }
    pub fn current_user_of(forest: &str) -> String {
        format!("{CURRENT_USER} for {forest}")
    }
    pub const ADD_NAME: &str = "Another forest's name";
    pub const ADD: &str = "Add forest";
    pub fn forest_connected(forest: &str, dc: &str) -> String {
        format!("{forest}: connected to {dc}")
    }
    pub fn forest_connector(forest: &str, sam: &str, source: &str) -> String {
        format!("{forest}: connector account {sam} ({source})")
    }
    pub fn forest_no_connector(forest: &str) -> String {
        format!(
            "{forest}: no connector account is named: name it in the settings' [[directory]] table for the forest (connector_account)"
        )
    }
}

/// Another forest's row: whether it is included, and its Enterprise Admin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub forest: String,
    pub include: bool,
    pub ad_user: String,
    password: String,
    pub current_user: bool,
}

/// The fields (the password only until it is sent), what the connection found, a certificate
/// waiting for the person's answer, and the connector account chosen.
#[derive(Default)]
pub struct ConnectDirectories {
    forest: String,
    /// The forests the sync engine's AD connectors name.
    forests: Vec<String>,
    /// "Use my Windows sign-in".
    current_user: bool,
    /// A password over TLS instead of Kerberos.
    simple: bool,
    ad_url: String,
    ad_user: String,
    /// How long one LDAP operation may take, in seconds (empty: 30, or the setting).
    ad_timeout: String,
    /// "Another account": a custom connector account or gMSA, picked from the domain.
    pub(crate) other_connector: super::Picker,
    ad_password: String,
    directory: Option<DirectoryView>,
    /// The error that stands if the certificate is not trusted.
    untrusted: Option<(Untrusted, ErrorReport)>,
    /// "Last 8 characters of the new fingerprint": a changed certificate is trusted only once
    /// they are typed, so it is never a click-through.
    typed_tail: String,
    /// The password typed, kept only until the trust question is answered.
    pending_password: Option<Secret>,
    /// The connector account chosen (DN).
    connector: Option<String>,
    /// The other forests of the configuration, one row each.
    rows: Vec<Row>,
    /// The settings' `[[directory]]` tables: forest and Enterprise Admin.
    table_users: Vec<(String, String)>,
    /// "Another forest's name".
    new_forest: String,
    /// What each other forest's connection found.
    others: Vec<DirectoryView>,
}

impl ConnectDirectories {
    /// What the connection found.
    pub fn directory(&self) -> Option<&DirectoryView> {
        self.directory.as_ref()
    }

    /// The connector account chosen (DN).
    pub fn connector(&self) -> Option<&str> {
        self.connector.as_deref()
    }

    /// The "Domain controller" field.
    pub fn ad_url(&self) -> &str {
        &self.ad_url
    }

    /// The "Forest" field.
    pub fn forest(&self) -> &str {
        &self.forest
    }

    /// The forests the sync engine serves, as it named them.
    pub fn forests(&self) -> &[String] {
        &self.forests
    }

    /// The other forests' rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// What each other forest's connection found.
    pub fn others(&self) -> &[DirectoryView] {
        &self.others
    }

    /// The "Username" field.
    pub fn ad_user(&self) -> &str {
        &self.ad_user
    }

    /// The password field (emptied as soon as it is sent).
    pub fn typed_password(&self) -> &str {
        &self.ad_password
    }

    /// The "Another account" picker.
    pub fn other_connector(&self) -> &super::Picker {
        &self.other_connector
    }

    /// The certificate question waiting for an answer.
    pub fn untrusted(&self) -> Option<&Untrusted> {
        self.untrusted.as_ref().map(|(u, _)| u)
    }

    /// The fields start from the settings.
    pub(crate) fn start_from(&mut self, settings: &Settings) {
        self.forest = settings.forest.clone().unwrap_or_default();
        self.ad_url = settings.ad_url.clone().unwrap_or_default();
        self.ad_user = settings.ad_user.clone().unwrap_or_default();
        self.table_users =
            settings.directories.iter().map(|d| (d.forest.clone(), d.ad_user.clone().unwrap_or_default())).collect();
        if self.forest.is_empty()
            && self.ad_url.is_empty()
            && let Some(first) = settings.directories.first()
        {
            self.forest = first.forest.clone();
            self.ad_user = first.ad_user.clone().unwrap_or_default();
        }
    }

    /// The settings and the sync engine named their forests: the first is the form's (it fills
    /// an empty Forest field, unless a DC is named: then it is taken to be that DC's), each other
    /// becomes a row (its Enterprise Admin from its settings table).
    pub(crate) fn take_forests(&mut self, forests: Vec<String>) {
        if self.forest.is_empty() && self.ad_url.is_empty() {
            self.forest = forests.first().cloned().unwrap_or_default();
        }
        let form = if self.forest.trim().is_empty() { forests.first().cloned() } else { None };
        for f in &forests {
            if form.as_deref().is_some_and(|first| first.eq_ignore_ascii_case(f)) {
                continue;
            }
            self.add_row(f);
        }
        self.forests = forests;
    }

    /// A row for `forest`, included, unless it is the form's.
    pub(crate) fn add_row(&mut self, forest: &str) {
        let forest = forest.trim().trim_end_matches('.').to_ascii_lowercase();
        if forest.is_empty() || forest.eq_ignore_ascii_case(self.forest.trim()) {
            return;
        }
        // A row left out before is included again (the person asked for it).
        if let Some(r) = self.rows.iter_mut().find(|r| r.forest.eq_ignore_ascii_case(&forest)) {
            r.include = true;
            return;
        }
        let ad_user = self
            .table_users
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(&forest))
            .map(|(_, u)| u.clone())
            .unwrap_or_default();
        self.rows.push(Row { forest, include: true, ad_user, ..Row::default() });
    }

    /// Lab mode is up: its DC and administrator fill the fields left empty.
    pub(crate) fn take_lab(&mut self, lab: &SettingsOverlay) {
        if self.ad_url.is_empty() {
            self.ad_url = lab.ad_url.clone().unwrap_or_default();
        }
        if self.ad_user.is_empty() {
            self.ad_user = lab.ad_user.clone().unwrap_or_default();
        }
    }

    /// The DC asked a certificate question.
    pub(crate) fn take_untrusted(&mut self, question: Untrusted, report: ErrorReport) {
        self.typed_tail.clear();
        self.untrusted = Some((question, report));
    }

    /// The connection answered: the passwords are forgotten either way; the connector is the one
    /// the settings or the sync engine name, else none until the person picks one (candidates
    /// found by their name are offered, never taken). The other forests' views are kept here.
    pub(crate) fn take_connected(
        &mut self,
        result: Result<Vec<DirectoryView>, ErrorReport>,
    ) -> Result<DirectoryView, ErrorReport> {
        self.pending_password = None;
        for r in &mut self.rows {
            r.password.clear();
        }
        let mut views = result?;
        if views.is_empty() {
            return Err(ErrorReport::from_error(&crate::error::GuiError::NotConnected));
        }
        let view = views.remove(0);
        self.others = views;
        self.connector = view.chosen.clone();
        Ok(view)
    }

    pub(crate) fn set_view(&mut self, view: DirectoryView) {
        self.directory = Some(view);
    }

    /// Connected as an Enterprise Admin, with a connector account when the task changes things.
    pub fn ready(&self, task: Task) -> bool {
        match &self.directory {
            Some(d) => match task {
                Task::View | Task::TestPassword | Task::Troubleshoot => true,
                Task::Recover => d.enterprise_admin && self.others.iter().all(|o| o.enterprise_admin),
                Task::Customize | Task::Disable => {
                    d.enterprise_admin
                        && self.connector.is_some()
                        && self.others.iter().all(|o| o.enterprise_admin && o.chosen.is_some())
                        // A forest included after connecting is connected before going on.
                        && self
                            .rows
                            .iter()
                            .filter(|r| r.include)
                            .all(|r| self.others.iter().any(|o| o.forest.eq_ignore_ascii_case(&r.forest)))
                }
            },
            None => false,
        }
    }

    /// The timeout field as seconds, when it holds 1 to 3600.
    fn timeout(&self) -> Option<u64> {
        self.ad_timeout.trim().parse().ok().filter(|s| (1..=3600).contains(s))
    }

    /// Connects with what the fields hold (`trust`: a certificate the person trusted).
    fn connect(&mut self, nav: &mut Nav<'_>, trust: Option<String>) {
        if !self.ad_password.is_empty() {
            self.pending_password = Some(Secret::new(std::mem::take(&mut self.ad_password)));
        }
        self.directory = None;
        self.others.clear();
        self.untrusted = None;
        let others = self
            .rows
            .iter_mut()
            .map(|r| OtherForest {
                forest: r.forest.clone(),
                ad_user: r.ad_user.clone(),
                password: (!r.current_user && !r.password.is_empty())
                    .then(|| Secret::new(std::mem::take(&mut r.password))),
                current_user: r.current_user,
                include: r.include,
            })
            .collect();
        nav.start(Job::Connect {
            forest: self.forest.clone(),
            ad_url: self.ad_url.clone(),
            ad_user: self.ad_user.clone(),
            password: if self.current_user { None } else { self.pending_password.clone() },
            current_user: self.current_user,
            simple: self.simple,
            trust,
            ad_timeout: self.timeout(),
            others,
        });
    }

    /// "Do not trust": the handshake error stands, and nothing is kept.
    fn distrust(&mut self, nav: &mut Nav<'_>) {
        if let Some((_, report)) = self.untrusted.take() {
            *nav.error = Some(report);
        }
        self.pending_password = None;
    }

    /// Whether the typed tail is the last 8 hex digits of the fingerprint.
    fn tail_matches(&self, cert: &CertDetails) -> bool {
        let hex = |s: &str| s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase();
        let full = hex(&cert.sha256);
        let tail = full.get(full.len().saturating_sub(8)..).unwrap_or_default();
        hex(&self.typed_tail) == tail
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>) {
        ui.label(words::WHO);
        if let Some(up) = nav.lab {
            ui.label(if up { words::LAB_READY } else { words::LAB_STARTING });
        }
        // The certificate question comes first, where it is seen without scrolling; the fields
        // it is about stay below.
        let question = self.untrusted.as_ref().map(|(q, _)| q.clone());
        if let Some(Untrusted { changed_from: Some(pinned), certificate: cert }) = &question {
            ui.add_space(crate::theme::space::ITEM);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.colored_label(ui.visuals().warn_fg_color, words::CHANGED);
                ui.label(words::trusted_before(pinned));
                ui.label(words::presented(&cert.sha256));
                ui.label(words::cert_line(&cert.subject, &cert.issuer, &cert.not_after));
                ui.label(words::CHANGED_HOW);
                field(ui, words::TAIL, &mut self.typed_tail, false);
                let matches = self.tail_matches(cert);
                ui.horizontal(|ui| {
                    if ui.add_enabled(matches, egui::Button::new(words::TRUST_NEW)).clicked() {
                        self.connect(nav, Some(cert.sha256.clone()));
                    }
                    if ui.button(words::DISTRUST).clicked() {
                        self.distrust(nav);
                    }
                });
            });
        } else if let Some(Untrusted { certificate: cert, .. }) = &question {
            ui.add_space(crate::theme::space::ITEM);
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
        ui.add_space(crate::theme::space::ITEM);
        field(ui, words::FOREST, &mut self.forest, false);
        // Said when there are several: one forest is the form's own.
        if self.forests.len() > 1 {
            ui.weak(words::forests_served(&self.forests.join(", ")));
        }
        ui.add_enabled_ui(!self.current_user, |ui| {
            field(ui, words::USER, &mut self.ad_user, false);
            field(ui, words::PASSWORD, &mut self.ad_password, true);
        });
        ui.checkbox(&mut self.current_user, words::CURRENT_USER);
        // Open where something in it is set (a DC named in the settings, lab mode's DC).
        let open = !self.ad_url.is_empty() || !self.ad_timeout.is_empty() || self.simple;
        egui::CollapsingHeader::new(words::MORE).default_open(open).show(ui, |ui| {
            field(ui, words::DC, &mut self.ad_url, false);
            field(ui, words::TIMEOUT, &mut self.ad_timeout, false);
            if !self.ad_timeout.trim().is_empty() && self.timeout().is_none() {
                crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, words::BAD_TIMEOUT);
            }
            ui.add_enabled(!self.current_user, egui::Checkbox::new(&mut self.simple, words::SIMPLE));
        });
        // Other forests' rows come before Connect (it reaches them too); with none yet, adding
        // one waits, folded, below it, so a single forest's page is as it always was.
        if !self.rows.is_empty() {
            self.rows_ui(ui);
        }
        if ui.add_enabled(!nav.busy() && self.untrusted.is_none(), egui::Button::new(words::CONNECT)).clicked() {
            self.connect(nav, None);
        }
        if self.rows.is_empty() {
            egui::CollapsingHeader::new(words::OTHERS).default_open(false).show(ui, |ui| self.rows_ui(ui));
        }
        let Some(d) = &self.directory else { return };
        for o in &self.others {
            ui.add_space(crate::theme::space::ITEM);
            ui.label(words::forest_connected(&o.forest, &o.dc));
            verdict(
                ui,
                o.enterprise_admin,
                &if o.enterprise_admin {
                    words::enterprise_admin(&o.operator)
                } else {
                    words::not_enterprise_admin(&o.operator)
                },
            );
            let sam = o.chosen.as_ref().and_then(|dn| o.candidates.iter().find(|c| &c.0 == dn)).map(|c| c.1.clone());
            match (&o.chosen, sam) {
                (Some(dn), sam) => ui.weak(words::forest_connector(
                    &o.forest,
                    &sam.unwrap_or_else(|| dn.clone()),
                    o.chosen_source.as_deref().unwrap_or_default(),
                )),
                (None, _) => {
                    verdict(ui, false, &words::forest_no_connector(&o.forest));
                    ui.label("")
                }
            };
        }
        ui.add_space(crate::theme::space::ITEM);
        ui.label(words::connected(&d.dc, &d.domain));
        ui.label(words::connection(&d.connection));
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
        ui.add_space(crate::theme::space::ITEM);
        if d.candidates.is_empty() {
            verdict(ui, false, words::NO_CONNECTOR);
        } else if self.connector.is_none() {
            crate::theme::verdict_line(ui, crate::theme::Verdict::Warning, words::PICK_CONNECTOR);
        }
        let shown = self
            .connector
            .as_ref()
            .and_then(|dn| d.candidates.iter().find(|c| &c.0 == dn))
            .map(|c| c.1.clone())
            .unwrap_or_default();
        ui.horizontal(|ui| {
            let l = ui.add_sized(crate::theme::space::LABEL, egui::Label::new(words::CONNECTOR));
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
        let from_view = self.connector.is_some() && self.connector == d.chosen;
        if let (Some(source), true) = (&d.chosen_source, from_view) {
            ui.weak(words::connector_from(source));
        } else if !from_view && self.connector.is_some() {
            ui.weak(words::PICKED);
        }
        // A custom account or a gMSA the sync engine signs in with (Cloud Sync's agent runs as one).
        if let Some(hit) = self.other_connector.ui(ui, nav, PickerId::Connector, words::OTHER) {
            if let Some(d) = self.directory.as_mut()
                && !d.candidates.iter().any(|c| c.0 == hit.dn)
            {
                d.candidates.push((hit.dn.clone(), hit.sam.clone()));
            }
            self.connector = Some(hit.dn);
        }
    }
}

impl ConnectDirectories {
    /// The other forests: a row each, and a field to add one.
    fn rows_ui(&mut self, ui: &mut egui::Ui) {
        if !self.rows.is_empty() {
            ui.add_space(crate::theme::space::ITEM);
            ui.strong(words::OTHERS);
        }
        ui.weak(words::OTHERS_HOW);
        for r in &mut self.rows {
            ui.checkbox(&mut r.include, words::include(&r.forest));
            if r.include {
                ui.indent(("row", r.forest.clone()), |ui| {
                    ui.add_enabled_ui(!r.current_user, |ui| {
                        field(ui, &words::user_of(&r.forest), &mut r.ad_user, false);
                        field(ui, &words::password_of(&r.forest), &mut r.password, true);
                    });
                    ui.checkbox(&mut r.current_user, words::current_user_of(&r.forest));
                });
            }
        }
        field(ui, words::ADD_NAME, &mut self.new_forest, false);
        let valid = writeback_core::config::check_forest(self.new_forest.trim()).is_ok();
        if ui.add_enabled(valid, egui::Button::new(words::ADD)).clicked() {
            let name = std::mem::take(&mut self.new_forest);
            self.add_row(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::view;
    use super::*;

    #[test]
    fn connecting_takes_the_named_connector_never_a_guessed_one_and_forgets_the_password() {
        let mut page = ConnectDirectories { pending_password: Some(Secret::new("p")), ..Default::default() };
        let v = page.take_connected(Ok(vec![view(Some("CN=Named,DC=x"))])).unwrap();
        page.set_view(v);
        assert_eq!(page.connector(), Some("CN=Named,DC=x"));
        assert!(page.pending_password.is_none());
        let v = page.take_connected(Ok(vec![view(None)])).unwrap();
        assert!(!v.candidates.is_empty() && page.connector().is_none(), "an MSOL_ candidate is offered, not taken");
        let err = ErrorReport { code: "AD-BIND".into(), message: String::new(), remedy: String::new(), exit_code: 1 };
        assert_eq!(page.take_connected(Err(err)).unwrap_err().code, "AD-BIND");
    }

    #[test]
    fn ready_needs_an_enterprise_admin_and_a_connector_when_the_task_changes_things() {
        let mut page = ConnectDirectories::default();
        assert!(!page.ready(Task::View));
        let mut v = view(None);
        v.enterprise_admin = false;
        page.set_view(v);
        assert!(page.ready(Task::View) && page.ready(Task::TestPassword));
        assert!(!page.ready(Task::Recover) && !page.ready(Task::Customize));
        let v = page.take_connected(Ok(vec![view(Some("CN=MSOL_1,DC=x"))])).unwrap();
        page.set_view(v);
        assert!(page.ready(Task::Customize) && page.ready(Task::Disable) && page.ready(Task::Recover));
        // Another forest without a connector account holds the configuration back.
        let mut south = view(None);
        south.forest = "south.example".into();
        let v = page.take_connected(Ok(vec![view(Some("CN=MSOL_1,DC=x")), south])).unwrap();
        page.set_view(v);
        assert!(!page.ready(Task::Customize) && page.ready(Task::Recover) && page.ready(Task::View));
    }

    #[test]
    fn each_other_forest_is_a_row_once_with_its_settings_user_and_can_be_left_out() {
        let mut settings = Settings::new();
        settings.directories = vec![
            writeback_core::config::DirectorySettings { forest: "corp.example".into(), ..Default::default() },
            writeback_core::config::DirectorySettings {
                forest: "south.example".into(),
                ad_user: Some("SOUTH\\admin".into()),
                ..Default::default()
            },
        ];
        let mut page = ConnectDirectories::default();
        page.start_from(&settings);
        assert_eq!(page.forest(), "corp.example", "the first table fills the form");
        page.take_forests(vec!["corp.example".into(), "South.Example".into(), "north.example".into()]);
        let rows: Vec<(&str, &str)> = page.rows().iter().map(|r| (r.forest.as_str(), r.ad_user.as_str())).collect();
        assert_eq!(rows, vec![("south.example", "SOUTH\\admin"), ("north.example", "")]);
        page.take_forests(vec!["north.example".into()]);
        assert_eq!(page.rows().len(), 2, "a forest named again is not a second row");
        assert!(page.rows().iter().all(|r| r.include), "included until unticked");
    }

    #[test]
    fn lab_mode_fills_only_the_empty_fields() {
        let mut page = ConnectDirectories { ad_url: "ldaps://mine".into(), ..Default::default() };
        let lab = SettingsOverlay {
            ad_url: Some("ldaps://127.0.0.2".into()),
            ad_user: Some("LAB\\Administrator".into()),
            ..SettingsOverlay::default()
        };
        page.take_lab(&lab);
        assert_eq!((page.ad_url(), page.ad_user()), ("ldaps://mine", "LAB\\Administrator"));
    }

    #[test]
    fn a_changed_certificate_is_trusted_only_on_its_last_eight_hex_digits() {
        let cert = CertDetails {
            subject: String::new(),
            issuer: String::new(),
            dns_names: vec![],
            not_after: String::new(),
            sha256: "AB:CD:".repeat(15) + "12:34",
        };
        let mut page = ConnectDirectories { typed_tail: "cd:ab:cd:12:34".into(), ..Default::default() };
        assert!(!page.tail_matches(&cert), "ten digits are not the last eight");
        page.typed_tail = "CD12 34".into();
        assert!(!page.tail_matches(&cert));
        page.typed_tail = "ABCD1234".into();
        assert!(page.tail_matches(&cert), "case and separators do not matter");
    }
}
