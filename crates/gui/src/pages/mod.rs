//! One file per page: each owns its state next to the `ui` that draws it, and starts engine work
//! through [`Nav`]. `App` keeps only navigation, the worker and the dialogs.

pub mod complete;
pub mod configuring;
pub mod connect_directories;
pub mod connect_entra;
pub mod optional_features;
pub mod ready;
pub mod scope;
pub mod tasks;
pub mod troubleshoot;
mod welcome;

use std::path::{Path, PathBuf};

use super::wizard::{Facts, PageId, Task, Wizard};
use super::worker::{Engine, Job, PickerId};
use writeback_core::config::Settings;
use writeback_core::engine::Plan;
use writeback_core::engine::apply::Recovery;
use writeback_core::session::DirectoryView;
use writeback_core::types::{AccountHit, ErrorReport};

/// The words shared by several pages (the picker, the unfinished-configuration banner) and the
/// message area's.
pub mod words {
    pub fn no_match(text: &str) -> String {
        format!("No user or gMSA starts with \"{text}\".")
    }
    pub fn unfinished(journal: &std::path::Path) -> String {
        format!(
            "An earlier configuration did not finish; its journal is {}. Choose \"Finish the unfinished configuration\" to roll it back (every change undone) or resume it (the rest done).",
            journal.display()
        )
    }
    pub fn saved(path: Option<&std::path::Path>) -> String {
        match path {
            Some(p) => format!("Saved {}.", p.display()),
            None => "No file was chosen: nothing was saved.".into(),
        }
    }
    pub fn opened(url: &str) -> String {
        format!("Opened {url} in the browser.")
    }
    pub const NOTHING_IMPORTED: &str = "No file was chosen: nothing was imported.";
    pub fn imported(file: &std::path::Path, pin_kept: bool) -> String {
        if pin_kept {
            format!(
                "Imported {}. It pins another certificate for the DC than this machine trusts: this machine's pin was kept (the wizard never takes another machine's; check it on the DC and take it with `writeback-wizard config import --yes`).",
                file.display()
            )
        } else {
            format!("Imported {}.", file.display())
        }
    }
}

/// Every page's state.
#[derive(Default)]
pub struct Pages {
    pub(crate) entra: connect_entra::ConnectEntra,
    pub(crate) directories: connect_directories::ConnectDirectories,
    pub(crate) scope: scope::Scope,
    pub(crate) features: optional_features::OptionalFeatures,
    pub(crate) ready: ready::Ready,
    pub(crate) configuring: configuring::Configuring,
    pub(crate) complete: complete::Complete,
    pub(crate) troubleshoot: troubleshoot::Troubleshoot,
    /// An apply that neither completed nor rolled back (its journal), found at start.
    pub(crate) unfinished: Option<PathBuf>,
    /// A settings file picked for import, and what importing it would change, waiting for the
    /// person's answer.
    pub(crate) import: Option<(PathBuf, Box<writeback_core::config::ImportPreview>)>,
}

impl Pages {
    /// Connect to Microsoft Entra ID.
    pub fn entra(&self) -> &connect_entra::ConnectEntra {
        &self.entra
    }
    /// Connect your directories.
    pub fn directories(&self) -> &connect_directories::ConnectDirectories {
        &self.directories
    }
    /// Domain and OU filtering.
    pub fn scope(&self) -> &scope::Scope {
        &self.scope
    }
    /// Optional features.
    pub fn features(&self) -> &optional_features::OptionalFeatures {
        &self.features
    }
    /// Ready to configure.
    pub fn ready(&self) -> &ready::Ready {
        &self.ready
    }
    /// Configuring.
    pub fn configuring(&self) -> &configuring::Configuring {
        &self.configuring
    }
    /// Configuration complete.
    pub fn complete(&self) -> &complete::Complete {
        &self.complete
    }
    /// Troubleshoot.
    pub fn troubleshoot(&self) -> &troubleshoot::Troubleshoot {
        &self.troubleshoot
    }
    /// An import waits for the person's answer.
    pub fn import_waiting(&self) -> bool {
        self.import.is_some()
    }

    /// The unfinished configuration found at start.
    pub fn unfinished(&self) -> Option<&Path> {
        self.unfinished.as_deref()
    }

    /// The pages start from the settings (and, with lab mode, the lab's cloud).
    pub(crate) fn start_from(&mut self, settings: &Settings, lab: bool) {
        use writeback_core::types::Cloud;
        let lab_cloud = settings.lab_url.is_some() || lab;
        self.entra.set_cloud(settings.cloud.unwrap_or(if lab_cloud { Cloud::Lab } else { Cloud::Public }));
        self.directories.start_from(settings);
        self.scope.start_from(settings);
    }

    /// Settings were imported: the pages start again from them. Returns the note to show.
    pub(crate) fn take_imported(&mut self, imported: (PathBuf, bool, Box<Settings>)) -> String {
        let (file, pin_kept, settings) = imported;
        self.directories.start_from(&settings);
        self.scope.start_from(&settings);
        if let Some(c) = settings.cloud {
            self.entra.set_cloud(c);
        }
        words::imported(&file, pin_kept)
    }

    /// The sync engine is Entra Cloud Sync.
    pub fn cloudsync(&self) -> bool {
        self.features.cloudsync()
    }

    /// A picker's matches arrived.
    pub(crate) fn found(&mut self, picker: PickerId, text: String, hits: Vec<AccountHit>) {
        match picker {
            PickerId::Connector => self.directories.other_connector.found(text, hits),
            PickerId::Canary => self.ready.canary.found(text, hits),
            PickerId::ResetTest => self.complete.reset_user.found(text, hits),
        }
    }

    /// The directory connection answered: the connector chosen, the scopes' defaults.
    pub(crate) fn take_connected(
        &mut self,
        result: Result<Vec<DirectoryView>, ErrorReport>,
    ) -> Result<(), ErrorReport> {
        let view = self.directories.take_connected(result)?;
        self.scope.take_connected(&view);
        self.directories.set_view(view);
        Ok(())
    }

    /// A plan arrived: Ready shows it, Configuring lists its steps. Returns whether it may run.
    pub(crate) fn take_plan(&mut self, plan: Box<Plan>) -> bool {
        self.configuring.set_plan(&plan);
        let signed_in = self.entra.tenant().map(|t| t.account.user_principal_name.clone());
        self.ready.take_plan(plan, signed_in)
    }

    /// What leaving `from` forward starts (`Next` was pressed; the wizard has moved on).
    pub(crate) fn leave(&mut self, from: PageId, task: Task, facts: &mut Facts) -> Option<Job> {
        let connector = self.directories.connector().map(str::to_string);
        if task == Task::Recover {
            return match from {
                // The journal holds the plan: it is read and checked, then shown with the choice.
                PageId::ConnectDirectories => {
                    facts.plan_ready = false;
                    self.ready.forget_journal();
                    self.unfinished.clone().map(Job::InspectJournal)
                }
                PageId::Ready => self.unfinished.clone().map(|journal| Job::Recover {
                    journal,
                    how: if self.ready.rolls_back() { Recovery::Rollback } else { Recovery::Resume },
                }),
                _ => None,
            };
        }
        match from {
            // The forests the sync engine serves fill "Forest" on the next page (disabling goes
            // there straight from Tasks).
            PageId::ConnectEntra => Some(Job::Forests),
            PageId::Tasks if task == Task::Disable => Some(Job::Forests),
            PageId::ConnectDirectories if task == Task::Troubleshoot => {
                self.troubleshoot.forget();
                Some(Job::Troubleshoot)
            }
            // Where Domain and OU filtering comes next, today's state waits for its scopes: read
            // now, it would be read again with them (a whole scan, across a slow link twice).
            PageId::ConnectDirectories if super::wizard::pages_for(task).contains(&PageId::Scope) => {
                self.features.forget_overview();
                None
            }
            PageId::ConnectDirectories => {
                self.features.forget_overview();
                Some(Job::Choose { connector, scopes: Vec::new() })
            }
            PageId::Scope => {
                self.features.forget_overview();
                Some(Job::Choose { connector, scopes: self.scope.chosen() })
            }
            PageId::OptionalFeatures => {
                self.ready.forget_plan();
                facts.plan_ready = false;
                Some(self.features.plan_job())
            }
            PageId::Ready => {
                let cloudsync = self.cloudsync();
                let job = self.ready.configure_job(cloudsync)?;
                self.complete.forget();
                Some(job)
            }
            _ => None,
        }
    }

    /// Plans again after a failure.
    pub(crate) fn retry(&mut self) -> Job {
        self.complete.forget();
        self.ready.forget_plan();
        self.configuring.clear();
        self.features.plan_job()
    }
}

/// What a page may reach besides its own state: navigation, the engine, the message area.
pub struct Nav<'a> {
    pub(crate) wiz: &'a mut Wizard,
    pub(crate) engine: &'a dyn Engine,
    pub(crate) pending: &'a mut usize,
    pub(crate) error: &'a mut Option<ErrorReport>,
    pub(crate) note: &'a mut Option<String>,
    /// Lab mode (`Some`), and whether the lab is up.
    pub(crate) lab: Option<bool>,
    pub(crate) audit_log: &'a Path,
}

impl Nav<'_> {
    /// Starts engine work; the bar's buttons stay off until it answers.
    pub fn start(&mut self, job: Job) {
        *self.error = None;
        *self.note = None;
        *self.pending += 1;
        self.wiz.facts.busy = true;
        self.engine.send(job);
    }

    /// Starts engine work that does not hold the bar (browsing the OU tree).
    pub fn send(&self, job: Job) {
        self.engine.send(job);
    }

    /// Work is under way.
    pub fn busy(&self) -> bool {
        self.wiz.facts.busy
    }

    /// Lab mode.
    pub fn lab(&self) -> bool {
        self.lab.is_some()
    }
}

/// A verdict line: a check or a cross (named "Passed" or "Failed" for screen readers), then the
/// words.
pub(crate) fn verdict(ui: &mut egui::Ui, ok: bool, text: &str) {
    let v = if ok { super::theme::Verdict::Ok } else { super::theme::Verdict::Failed };
    super::theme::verdict_line(ui, v, text);
}

/// A search-as-you-type picker over the domain's users and gMSAs: a field, and under it the
/// first matches, each a button that picks it. Searches from two characters on.
#[derive(Debug, Default)]
pub struct Picker {
    /// What is typed.
    text: String,
    /// The last search sent.
    asked: String,
    /// The matches for the text they were found for.
    found: Option<(String, Vec<AccountHit>)>,
    /// The text whose matches were last scrolled into view.
    shown: String,
}

impl Picker {
    /// What is typed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The matches, once they have come for what is typed.
    pub fn matches(&self) -> Option<&[AccountHit]> {
        self.found.as_ref().filter(|(t, _)| *t == self.text.trim()).map(|(_, h)| h.as_slice())
    }

    /// Matches arrived for `text`.
    pub(crate) fn found(&mut self, text: String, hits: Vec<AccountHit>) {
        self.found = Some((text, hits));
    }

    /// What the field holds, when there is something.
    pub fn chosen(&self) -> Option<String> {
        Some(self.text.trim().to_string()).filter(|t| !t.is_empty())
    }

    /// Draws the field and the matches; returns the account picked on this frame.
    pub fn ui(&mut self, ui: &mut egui::Ui, nav: &Nav<'_>, picker: PickerId, label: &str) -> Option<AccountHit> {
        super::field(ui, label, &mut self.text, false);
        let text = self.text.trim().to_string();
        if text.chars().count() >= 2 && text != self.asked {
            self.asked = text.clone();
            nav.send(Job::FindAccounts { picker, text: text.clone() });
        }
        let mut picked = None;
        if let Some((for_text, hits)) = &self.found
            && *for_text == text
            && !text.is_empty()
        {
            if hits.is_empty() {
                ui.label(words::no_match(&text));
            }
            for hit in hits {
                let words =
                    if hit.display.is_empty() || hit.display.trim_end_matches('$') == hit.sam.trim_end_matches('$') {
                        hit.sam.clone()
                    } else {
                        format!("{} ({})", hit.sam, hit.display)
                    };
                // A stable id per account, so a click lands whatever the frame before drew.
                let clicked = ui.push_id(&hit.dn, |ui| {
                    ui.add(egui::Button::new(words).frame(false)).on_hover_text(&hit.dn).clicked()
                });
                if clicked.inner {
                    picked = Some(hit.clone());
                }
                // New matches come into view (the page may be scrolled to the field's height).
                if self.shown != text {
                    clicked.response.scroll_to_me(None);
                }
            }
        }
        if self.found.as_ref().is_some_and(|(t, _)| *t == text) {
            self.shown = text.clone();
        }
        if let Some(hit) = &picked {
            self.text = hit.sam.clone();
            self.asked = hit.sam.clone();
            self.found = None;
        }
        picked
    }
}

/// The banner for an unfinished configuration (Welcome and Tasks show it).
pub(crate) fn unfinished_banner(ui: &mut egui::Ui, journal: &Path) {
    super::theme::verdict_line(ui, super::theme::Verdict::Warning, &words::unfinished(journal));
    ui.add_space(super::theme::space::SECTION);
}

/// Draws the current page.
pub(crate) fn ui(pages: &mut Pages, ui: &mut egui::Ui, nav: &mut Nav<'_>) -> Option<complete::Action> {
    match nav.wiz.page {
        PageId::Welcome => welcome::ui(ui, nav, pages.unfinished.as_deref()),
        PageId::Tasks => tasks::ui(ui, nav, pages.unfinished.as_deref(), &mut pages.import),
        PageId::ConnectEntra => pages.entra.ui(ui, nav),
        PageId::ConnectDirectories => pages.directories.ui(ui, nav),
        PageId::Scope => pages.scope.ui(ui, nav, pages.directories.directory()),
        PageId::OptionalFeatures => {
            // An uncovered forest to include: a row for it, and back to connect it.
            if let Some(forest) = pages.features.ui(ui, nav) {
                pages.directories.add_row(&forest);
                while nav.wiz.page != PageId::ConnectDirectories && nav.wiz.previous().is_some() {}
            }
        }
        PageId::Ready if nav.wiz.task == super::wizard::Task::Recover => {
            pages.ready.recovery_ui(ui, pages.unfinished.as_deref(), nav.busy())
        }
        PageId::Ready => {
            let cloudsync = pages.cloudsync();
            pages.ready.ui(ui, nav, cloudsync)
        }
        PageId::Configuring => pages.configuring.ui(ui, nav),
        PageId::Troubleshoot => pages.troubleshoot.ui(ui, nav),
        PageId::Complete => {
            let cx = complete::Context {
                enabling: nav.wiz.task == super::wizard::Task::Customize,
                cloudsync: pages.cloudsync(),
                cloud: pages.entra.cloud(),
                configuring: &pages.configuring,
            };
            return pages.complete.ui(ui, nav, &cx);
        }
    }
    None
}

/// What the pages' tests are answered with.
#[cfg(test)]
pub(crate) mod fixtures {
    use writeback_core::engine::{Action, AdStatus, Plan, Status, Step, StepOp, Target, WritebackState};
    use writeback_core::session::DirectoryView;
    use writeback_core::types::{EngineState, SyncEngineKind};

    pub const BASE: &str = "DC=corp,DC=example,DC=com";

    pub fn view(chosen: Option<&str>) -> DirectoryView {
        DirectoryView {
            forest: "corp.example.com".into(),
            dc: "dc1.corp.example.com".into(),
            connection: "dc1.corp.example.com · Kerberos · sealed".into(),
            domain: BASE.into(),
            domains: vec![BASE.into(), "DC=south,DC=corp,DC=example,DC=com".into()],
            operator: format!("CN=Alice,{BASE}"),
            enterprise_admin: true,
            domain_admin: true,
            candidates: vec![(format!("CN=MSOL_1,CN=Users,{BASE}"), "MSOL_1".into())],
            chosen: chosen.map(str::to_string),
            chosen_source: chosen.map(|_| "named in the settings".to_string()),
        }
    }

    pub fn status(state: WritebackState, flavour: SyncEngineKind) -> Status {
        Status {
            state,
            tenant: None,
            ad: AdStatus {
                connection: None,
                scopes: vec![],
                connector_source: None,
                forests: vec![],
                uncovered: vec![],
            },
            sync_engine: Some(EngineState { backend: flavour, flavour, ..EngineState::default() }),
            missing: vec![],
            unfinished_journal: None,
        }
    }

    pub fn plan(switch: bool) -> Box<Plan> {
        let mut steps = vec![Step {
            id: "grant-1".into(),
            description: "Grant".into(),
            target: Target::Object { dn: BASE.into() },
            forest: Some("corp.example.com".into()),
            domain: Some("corp.example.com".into()),
            op: StepOp::Grant(vec![]),
        }];
        if switch {
            steps.push(Step {
                id: "writeback".into(),
                description: "Turn it on".into(),
                target: Target::SyncEngine,
                forest: None,
                domain: None,
                op: StepOp::Writeback { enabled: true, call: "Set-…".into() },
            });
        }
        Box::new(Plan {
            action: Action::Enable,
            steps,
            preconditions: vec![],
            preexisting: vec![],
            warnings: vec![],
            connector_source: None,
            forests: vec![],
            uncovered: vec![],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{BASE, plan, view};
    use super::*;
    use writeback_core::engine::Action;

    #[test]
    fn leaving_a_page_asks_for_what_the_next_one_shows() {
        let mut pages = Pages::default();
        let mut facts = Facts::default();
        pages.take_connected(Ok(vec![view(Some(&format!("CN=MSOL_1,CN=Users,{BASE}")))])).unwrap();
        // Viewing goes from the directory straight to today's state: read it now.
        let Some(Job::Choose { connector, scopes }) = pages.leave(PageId::ConnectDirectories, Task::View, &mut facts)
        else {
            panic!("Choose")
        };
        assert_eq!((connector.as_deref(), scopes.len()), (Some(format!("CN=MSOL_1,CN=Users,{BASE}").as_str()), 0));
        // Customizing chooses the scopes first: the state is read once, with them.
        assert!(pages.leave(PageId::ConnectDirectories, Task::Customize, &mut facts).is_none());
        assert!(pages.leave(PageId::ConnectDirectories, Task::Disable, &mut facts).is_none());
        let Some(Job::Choose { connector, scopes }) = pages.leave(PageId::Scope, Task::Customize, &mut facts) else {
            panic!("Choose with the scopes")
        };
        assert_eq!(connector.as_deref(), Some(format!("CN=MSOL_1,CN=Users,{BASE}").as_str()));
        assert_eq!(scopes, vec![BASE.to_string()], "the bound domain, chosen by default");
        assert!(matches!(
            pages.leave(PageId::OptionalFeatures, Task::Customize, &mut facts),
            Some(Job::Plan { action: Action::Enable, .. })
        ));
        assert!(pages.leave(PageId::Ready, Task::Customize, &mut facts).is_none(), "no plan, nothing to configure");
        assert!(pages.take_plan(plan(true)));
        assert!(matches!(pages.leave(PageId::Ready, Task::Customize, &mut facts), Some(Job::Configure { .. })));
    }

    #[test]
    fn finishing_an_unfinished_configuration_needs_only_the_choice() {
        let mut pages = Pages { unfinished: Some(PathBuf::from("/s/journal-1-1.jsonl")), ..Pages::default() };
        let mut facts = Facts::default();
        assert!(matches!(
            pages.leave(PageId::ConnectDirectories, Task::Recover, &mut facts),
            Some(Job::InspectJournal(_))
        ));
        assert!(!facts.plan_ready, "not before the journal is read and checked");
        let Some(Job::Recover { how, .. }) = pages.leave(PageId::Ready, Task::Recover, &mut facts) else {
            panic!("Recover")
        };
        assert_eq!(how, Recovery::Rollback, "rolling back is the default");
        // Troubleshooting reads the events once the directory is connected.
        assert!(matches!(
            pages.leave(PageId::ConnectDirectories, Task::Troubleshoot, &mut facts),
            Some(Job::Troubleshoot)
        ));
    }

    #[test]
    fn an_import_starts_the_pages_again_from_its_settings() {
        let mut pages = Pages::default();
        let mut s = Settings::new();
        s.ad_url = Some("ldaps://dc9".into());
        s.scope = vec![format!("OU=Staff,{BASE}")];
        let note = pages.take_imported((PathBuf::from("/x.toml"), true, Box::new(s)));
        assert!(note.contains("this machine's pin was kept"), "{note}");
        assert_eq!(pages.directories.ad_url(), "ldaps://dc9");
        assert_eq!(pages.scope.chosen(), vec![format!("OU=Staff,{BASE}")]);
    }
}
