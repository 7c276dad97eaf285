//! Domain and OU filtering: where the writeback permissions go, chosen from a browsable tree of
//! the domain's OUs and containers with their user counts.

use std::collections::{HashMap, HashSet};

use super::{Nav, verdict};
use crate::ad::directory::ScopeNode;
use crate::gui::worker::{DirectoryView, Job};

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

/// The page's state.
#[derive(Default)]
pub struct Scope {
    /// Scope candidates and whether each is chosen.
    pub scopes: Vec<(String, bool)>,
    /// The tree: each opened node's user count and children.
    pub tree: HashMap<String, (usize, Vec<ScopeNode>)>,
    /// Nodes asked for (so each is read once).
    pub(crate) requested: HashSet<String>,
}

impl Scope {
    /// Whether `dn` is a chosen scope.
    pub fn on(&self, dn: &str) -> bool {
        self.scopes.iter().any(|(s, on)| *on && s.eq_ignore_ascii_case(dn))
    }

    /// Chooses or unchooses `dn`.
    pub fn set(&mut self, dn: &str, on: bool) {
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

    /// Draws the page.
    pub fn ui(&mut self, ui: &mut egui::Ui, nav: &mut Nav<'_>, directory: Option<&DirectoryView>) {
        ui.label(words::WHERE);
        ui.add_space(6.0);
        let roots: Vec<String> = directory.map(|d| d.domains.clone()).unwrap_or_default();
        for root in &roots {
            self.node(ui, nav, root, root, None);
        }
        // Scopes chosen that the tree does not show (from the settings, or typed in).
        let shown_elsewhere: Vec<String> = self
            .scopes
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| !roots.iter().any(|r| r.eq_ignore_ascii_case(s)) && !self.in_tree(s))
            .collect();
        if !shown_elsewhere.is_empty() {
            ui.add_space(6.0);
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
    fn node(&mut self, ui: &mut egui::Ui, nav: &Nav<'_>, dn: &str, name: &str, listed: Option<usize>) {
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
                        self.node(ui, nav, &c.dn, &c.name, Some(c.users));
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
