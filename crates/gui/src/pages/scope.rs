//! Domain and OU filtering: where the writeback permissions go, chosen from a browsable tree of
//! the domain's OUs and containers with their user counts.

use std::collections::{HashMap, HashSet};

use super::{Nav, verdict};
use crate::worker::Job;
use writeback_core::config::Settings;
use writeback_core::session::DirectoryView;
use writeback_core::types::{ErrorReport, ScopeNode};

/// The page's own words.
pub mod words {
    pub const WHERE: &str = "Choose where the connector account gets its writeback permissions. The domain root covers every user below it; choose organizational units to limit writeback to them.";
    pub const ALSO: &str = "Also chosen (from the settings):";
    pub const NONE: &str = "Choose at least one domain or organizational unit.";
    pub const READING: &str = "Reading…";
    pub fn include(dn: &str) -> String {
        format!("Include {dn}")
    }
    pub fn node(name: &str, users: Option<usize>) -> String {
        match users {
            Some(1) => format!("{name} (1 user)"),
            Some(n) => format!("{name} ({n} users)"),
            None => format!("{name} (counting…)"),
        }
    }
}

/// Scope candidates and whether each is chosen; the tree (each opened node's user count and
/// children); the nodes asked for, so each is read once.
#[derive(Default)]
pub struct Scope {
    scopes: Vec<(String, bool)>,
    tree: HashMap<String, (usize, Vec<ScopeNode>)>,
    requested: HashSet<String>,
}

impl Scope {
    /// The scopes from the settings, all chosen.
    pub(crate) fn start_from(&mut self, settings: &Settings) {
        self.scopes = settings.scope.iter().map(|s| (s.clone(), true)).collect();
    }

    /// Connected: with no scope from the settings, the domains, the bound account's chosen.
    pub(crate) fn take_connected(&mut self, view: &DirectoryView) {
        if self.scopes.is_empty() {
            self.scopes = view.domains.iter().map(|d| (d.clone(), *d == view.domain)).collect();
        }
    }

    /// A node of the tree was read (or could not be: it may be asked again).
    pub(crate) fn take_children(
        &mut self,
        dn: String,
        found: Result<(usize, Vec<ScopeNode>), ErrorReport>,
    ) -> Result<(), ErrorReport> {
        match found {
            Ok(node) => {
                self.tree.insert(dn, node);
                Ok(())
            }
            Err(e) => {
                self.requested.remove(&dn);
                Err(e)
            }
        }
    }

    /// Each node read: its user count and children.
    pub fn tree(&self) -> &HashMap<String, (usize, Vec<ScopeNode>)> {
        &self.tree
    }

    /// Scope candidates and whether each is chosen.
    pub fn candidates(&self) -> &[(String, bool)] {
        &self.scopes
    }

    /// At least one scope is chosen.
    pub fn any_chosen(&self) -> bool {
        self.scopes.iter().any(|(_, on)| *on)
    }

    /// Whether `dn` is a chosen scope.
    pub fn on(&self, dn: &str) -> bool {
        self.scopes.iter().any(|(s, on)| *on && s.eq_ignore_ascii_case(dn))
    }

    /// Chooses or unchooses `dn`.
    pub(crate) fn set(&mut self, dn: &str, on: bool) {
        match self.scopes.iter_mut().find(|(s, _)| s.eq_ignore_ascii_case(dn)) {
            Some(entry) => entry.1 = on,
            None if on => self.scopes.push((dn.to_string(), true)),
            None => {}
        }
    }

    /// The chosen scopes.
    pub fn chosen(&self) -> Vec<String> {
        self.scopes.iter().filter(|(_, on)| *on).map(|(s, _)| s.clone()).collect()
    }

    /// Reads a node of the tree, once; browsing does not hold the Next button.
    fn browse(&mut self, nav: &Nav<'_>, dn: &str) {
        if self.requested.insert(dn.to_string()) {
            nav.send(Job::Children(dn.to_string()));
        }
    }

    fn in_tree(&self, dn: &str) -> bool {
        self.tree.values().any(|(_, children)| children.iter().any(|c| c.dn.eq_ignore_ascii_case(dn)))
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>, directory: Option<&DirectoryView>) {
        ui.label(words::WHERE);
        ui.add_space(crate::theme::space::ITEM);
        let roots: Vec<String> = directory.map(|d| d.domains.clone()).unwrap_or_default();
        for root in &roots {
            self.node_ui(ui, nav, root, root, None);
        }
        // Scopes chosen that the tree does not show (from the settings, or typed in).
        let shown_elsewhere: Vec<String> = self
            .scopes
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| !roots.iter().any(|r| r.eq_ignore_ascii_case(s)) && !self.in_tree(s))
            .collect();
        if !shown_elsewhere.is_empty() {
            ui.add_space(crate::theme::space::ITEM);
            ui.label(words::ALSO);
            for dn in shown_elsewhere {
                let mut on = self.on(&dn);
                if ui.checkbox(&mut on, words::include(&dn)).changed() {
                    self.set(&dn, on);
                }
            }
        }
        if !self.scopes.iter().any(|(_, on)| *on) {
            verdict(ui, false, words::NONE);
        }
    }

    /// One node: a header with its name and user count that opens onto its children, and inside,
    /// the checkbox that chooses it.
    fn node_ui(&mut self, ui: &mut egui::Ui, nav: &Nav<'_>, dn: &str, name: &str, listed: Option<usize>) {
        let count = self.tree.get(dn).map(|(users, _)| *users).or(listed);
        if count.is_none() {
            // A domain root: its count is read before it is opened.
            self.browse(nav, dn);
        }
        egui::CollapsingHeader::new(words::node(name, count)).id_salt(dn).default_open(false).show(ui, |ui| {
            let mut on = self.on(dn);
            if ui.checkbox(&mut on, words::include(dn)).changed() {
                self.set(dn, on);
            }
            match self.tree.get(dn).map(|(_, c)| c.clone()) {
                Some(children) => {
                    for c in children {
                        self.node_ui(ui, nav, &c.dn, &c.name, Some(c.users));
                    }
                }
                None => {
                    self.browse(nav, dn);
                    ui.weak(words::READING);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{BASE, view};
    use super::*;

    #[test]
    fn the_settings_scopes_win_else_the_bound_domain_is_chosen() {
        let mut scope = Scope::default();
        scope.take_connected(&view(None));
        assert_eq!(scope.chosen(), vec![BASE.to_string()]);
        assert_eq!(scope.candidates().len(), 2, "every domain is offered");
        let mut s = Settings::new();
        s.scope = vec![format!("OU=A,{BASE}")];
        let mut scope = Scope::default();
        scope.start_from(&s);
        scope.take_connected(&view(None));
        assert_eq!(scope.chosen(), vec![format!("OU=A,{BASE}")]);
    }

    #[test]
    fn choosing_ignores_case_and_a_failed_read_may_be_asked_again() {
        let mut scope = Scope::default();
        scope.set("OU=A,DC=x", true);
        scope.set("ou=a,dc=x", false);
        assert!(!scope.any_chosen() && !scope.on("OU=A,DC=x"));
        scope.requested.insert("OU=B".into());
        let err =
            ErrorReport { code: "AD-TIMEOUT".into(), message: String::new(), remedy: String::new(), exit_code: 1 };
        assert!(scope.take_children("OU=B".into(), Err(err)).is_err());
        assert!(!scope.requested.contains("OU=B"));
        scope.take_children("OU=B".into(), Ok((3, vec![]))).unwrap();
        assert_eq!(scope.tree()["OU=B"].0, 3);
    }
}
