//! The wizard's pages as a pure state machine: which pages a task walks through, in the source
//! document's order, when Next is allowed, what the left rail shows. No egui here: unit-tested on
//! its own.

use std::collections::BTreeSet;

/// The pages, in the order of the source document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageId {
    /// What the wizard does and what it needs.
    Welcome,
    /// Which task.
    Tasks,
    /// Sign in to the tenant; role and licence verdicts.
    ConnectEntra,
    /// The DC, the Enterprise Admin, the connector account.
    ConnectDirectories,
    /// Domain roots or OUs.
    Scope,
    /// The "Password writeback" checkbox and the readiness findings.
    OptionalFeatures,
    /// The plan, and "Start the synchronization process when configuration completes".
    Ready,
    /// Per-step progress.
    Configuring,
    /// What changed (or, on failure, what failed and what was rolled back).
    Complete,
    /// The sync server's writeback events, explained (the Troubleshoot task's own page).
    Troubleshoot,
}

/// What the person chose on the Tasks page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// "Customize synchronization options": the source document's path to enable writeback.
    Customize,
    /// "View current configuration".
    View,
    /// "Test a password against policy".
    TestPassword,
    /// "Disable password writeback".
    Disable,
    /// "Finish the unfinished configuration": roll back or resume an apply that did not end.
    Recover,
    /// "Troubleshoot writeback": the sync server's events explained, their users checked.
    Troubleshoot,
}

impl PageId {
    /// The page's title (also its label in the left rail).
    pub fn title(self, failed: bool) -> &'static str {
        match self {
            PageId::Welcome => "Welcome",
            PageId::Tasks => "Tasks",
            PageId::ConnectEntra => "Connect to Microsoft Entra ID",
            PageId::ConnectDirectories => "Connect your directories",
            PageId::Scope => "Domain and OU filtering",
            PageId::OptionalFeatures => "Optional features",
            PageId::Ready => "Ready to configure",
            PageId::Configuring => "Configuring",
            PageId::Complete if failed => "Configuration failed",
            PageId::Complete => "Configuration complete",
            PageId::Troubleshoot => "Troubleshoot",
        }
    }
}

/// The pages a task walks through. Disabling needs no cloud sign-in (a lapsed licence must not
/// block the clean-up); viewing and testing a password need only the directory.
pub fn pages_for(task: Task) -> Vec<PageId> {
    use PageId::*;
    match task {
        Task::Customize => vec![
            Welcome,
            Tasks,
            ConnectEntra,
            ConnectDirectories,
            Scope,
            OptionalFeatures,
            Ready,
            Configuring,
            Complete,
        ],
        Task::Disable => {
            vec![Welcome, Tasks, ConnectDirectories, Scope, OptionalFeatures, Ready, Configuring, Complete]
        }
        Task::View | Task::TestPassword => vec![Welcome, Tasks, ConnectDirectories, OptionalFeatures],
        Task::Troubleshoot => vec![Welcome, Tasks, ConnectDirectories, PageId::Troubleshoot],
        // The journal holds the plan: only the directory is needed, then the choice.
        Task::Recover => vec![Welcome, Tasks, ConnectDirectories, Ready, Configuring, Complete],
    }
}

/// How a page shows in the left rail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RailState {
    /// Visited and left forward: ticked.
    Done,
    /// The page shown: highlighted.
    Current,
    /// Not reached yet: greyed.
    Later,
}

/// What each page has established (set by the app from the engine's answers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Signed in, and the tenant is ready (role, licence, directory sync).
    pub tenant_ready: bool,
    /// Connected to a DC as an Enterprise Admin, with a connector account chosen.
    pub directory_ready: bool,
    /// At least one scope chosen.
    pub scope_chosen: bool,
    /// A plan is there and its preconditions pass.
    pub plan_ready: bool,
    /// The configuration finished (done, or failed and rolled back).
    pub configured: bool,
    /// Work is under way (sign-in, connect, scan, apply).
    pub busy: bool,
}

/// The wizard's navigation state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wizard {
    /// The page shown.
    pub page: PageId,
    /// The task chosen.
    pub task: Task,
    /// Pages left forward.
    pub done: BTreeSet<PageId>,
    /// What is established.
    pub facts: Facts,
    /// The configuration failed (the last page says so).
    pub failed: bool,
}

impl Default for Wizard {
    fn default() -> Self {
        Wizard {
            page: PageId::Welcome,
            task: Task::Customize,
            done: BTreeSet::new(),
            facts: Facts::default(),
            failed: false,
        }
    }
}

impl Wizard {
    /// The pages of the current task.
    pub fn pages(&self) -> Vec<PageId> {
        pages_for(self.task)
    }

    /// Whether Next may be pressed on the current page.
    pub fn can_advance(&self) -> bool {
        if self.facts.busy {
            return false;
        }
        match self.page {
            PageId::Welcome | PageId::Tasks => true,
            PageId::ConnectEntra => self.facts.tenant_ready,
            PageId::ConnectDirectories => self.facts.directory_ready,
            PageId::Scope => self.facts.scope_chosen,
            PageId::OptionalFeatures => !self.is_last(),
            PageId::Ready => self.facts.plan_ready,
            PageId::Configuring => self.facts.configured,
            PageId::Complete | PageId::Troubleshoot => true,
        }
    }

    /// Whether Previous may be pressed (never once configuring has started).
    pub fn can_go_back(&self) -> bool {
        !self.facts.busy && self.page != PageId::Welcome && !matches!(self.page, PageId::Configuring | PageId::Complete)
    }

    /// The page is the task's last.
    pub fn is_last(&self) -> bool {
        self.pages().last() == Some(&self.page)
    }

    /// The Next button's label: "Configure" on the Ready page, "Exit" on the last one.
    pub fn next_label(&self) -> &'static str {
        match self.page {
            PageId::Ready => "Configure",
            _ if self.is_last() => "Exit",
            _ => "Next",
        }
    }

    /// Goes forward. Returns the new page, or `None` when Next is not allowed or on the last page.
    pub fn advance(&mut self) -> Option<PageId> {
        if !self.can_advance() {
            return None;
        }
        let pages = self.pages();
        let i = pages.iter().position(|p| *p == self.page)?;
        let next = *pages.get(i + 1)?;
        self.done.insert(self.page);
        self.page = next;
        Some(next)
    }

    /// Goes back one page.
    pub fn previous(&mut self) -> Option<PageId> {
        if !self.can_go_back() {
            return None;
        }
        let pages = self.pages();
        let i = pages.iter().position(|p| *p == self.page)?;
        let prev = *pages.get(i.checked_sub(1)?)?;
        self.page = prev;
        Some(prev)
    }

    /// After a failed configuration: back to Ready to configure, for a fresh plan.
    pub fn retry(&mut self) -> bool {
        if self.page != PageId::Complete || !self.failed || self.facts.busy {
            return false;
        }
        self.failed = false;
        self.facts.configured = false;
        self.facts.plan_ready = false;
        self.done.remove(&PageId::Ready);
        self.done.remove(&PageId::Configuring);
        self.page = PageId::Ready;
        true
    }

    /// Chooses a task (on the Tasks page); pages of another task are forgotten.
    pub fn choose(&mut self, task: Task) {
        self.task = task;
        let keep: BTreeSet<PageId> = self.done.iter().copied().filter(|p| pages_for(task).contains(p)).collect();
        self.done = keep;
    }

    /// The left rail: each page of the task with its state.
    pub fn rail(&self) -> Vec<(PageId, RailState)> {
        self.pages()
            .into_iter()
            .map(|p| {
                let state = if p == self.page {
                    RailState::Current
                } else if self.done.contains(&p) {
                    RailState::Done
                } else {
                    RailState::Later
                };
                (p, state)
            })
            .collect()
    }

    /// Whether Cancel (or closing the window) should ask "Are you sure?": work is running, or
    /// something was entered that leaving would lose.
    pub fn should_confirm_exit(&self) -> bool {
        self.facts.busy || (!self.done.is_empty() && self.page != PageId::Complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_procedure_in_order() {
        let mut w = Wizard::default();
        assert_eq!(w.next_label(), "Next");
        assert_eq!(w.advance(), Some(PageId::Tasks));
        assert_eq!(w.advance(), Some(PageId::ConnectEntra));
        assert_eq!(w.advance(), None, "not signed in yet");
        w.facts.tenant_ready = true;
        assert_eq!(w.advance(), Some(PageId::ConnectDirectories));
        assert!(!w.can_advance());
        w.facts.directory_ready = true;
        assert_eq!(w.advance(), Some(PageId::Scope));
        w.facts.scope_chosen = true;
        assert_eq!(w.advance(), Some(PageId::OptionalFeatures));
        assert_eq!(w.advance(), Some(PageId::Ready));
        assert_eq!(w.next_label(), "Configure");
        assert!(!w.can_advance());
        w.facts.plan_ready = true;
        assert_eq!(w.advance(), Some(PageId::Configuring));
        assert!(!w.can_go_back(), "no way back once configuring");
        assert!(!w.can_advance());
        w.facts.configured = true;
        assert_eq!(w.advance(), Some(PageId::Complete));
        assert_eq!(w.next_label(), "Exit");
        assert_eq!(w.advance(), None, "Exit closes; there is no page after");
        assert_eq!(PageId::Complete.title(false), "Configuration complete");
        assert_eq!(PageId::Complete.title(true), "Configuration failed");
        assert!(!w.retry(), "nothing to retry after a success");
        w.failed = true;
        assert!(w.retry());
        assert_eq!((w.page, w.failed, w.facts.plan_ready), (PageId::Ready, false, false));
        assert_eq!(w.rail()[7].1, RailState::Later, "Configuring is to come again");
    }

    #[test]
    fn rail_back_busy_and_tasks() {
        let mut w = Wizard::default();
        w.advance();
        w.advance();
        let rail = w.rail();
        assert_eq!(rail[0], (PageId::Welcome, RailState::Done));
        assert_eq!(rail[2], (PageId::ConnectEntra, RailState::Current));
        assert_eq!(rail[3].1, RailState::Later);
        assert_eq!(w.previous(), Some(PageId::Tasks));
        assert_eq!(w.rail()[2].1, RailState::Later);
        w.facts.busy = true;
        assert!(!w.can_advance() && w.previous().is_none() && w.should_confirm_exit());
        w.facts.busy = false;
        // Disable skips the cloud sign-in.
        w.choose(Task::Disable);
        assert_eq!(w.advance(), Some(PageId::ConnectDirectories));
        assert!(!w.pages().contains(&PageId::ConnectEntra));
        // Viewing ends on Optional features, whose Next reads Exit.
        let mut v = Wizard::default();
        v.advance();
        v.choose(Task::View);
        v.facts.directory_ready = true;
        v.advance();
        v.advance();
        assert_eq!(v.page, PageId::OptionalFeatures);
        assert_eq!(v.next_label(), "Exit");
        assert!(!Wizard::default().should_confirm_exit());
        // Finishing an unfinished configuration needs the directory, then the choice.
        let mut r = Wizard::default();
        r.advance();
        r.choose(Task::Recover);
        assert_eq!(r.advance(), Some(PageId::ConnectDirectories));
        r.facts.directory_ready = true;
        assert_eq!(r.advance(), Some(PageId::Ready));
        assert_eq!(r.next_label(), "Configure");
        // Troubleshooting needs the directory, then its own page, which ends the task.
        let mut t = Wizard::default();
        t.advance();
        t.choose(Task::Troubleshoot);
        assert_eq!(t.advance(), Some(PageId::ConnectDirectories));
        assert!(!t.can_advance(), "not before the directory is connected");
        t.facts.directory_ready = true;
        assert_eq!(t.advance(), Some(PageId::Troubleshoot));
        assert_eq!((t.next_label(), t.can_advance()), ("Exit", true));
    }
}
