//! Configuring: each step and its progress; Cancel stops between steps and undoes.

use std::collections::HashMap;

use super::Nav;
use writeback_core::engine::Plan;
use writeback_core::engine::apply::Progress;

/// The page's own words.
pub mod words {
    pub const START_SYNC: &str = "Start a synchronization cycle";
    pub const CANCEL: &str = "Cancel stops after the current step and undoes what was done.";
    pub fn waiting(step: &str) -> String {
        format!("Waiting: {step}")
    }
    pub fn running(step: &str) -> String {
        format!("Running: {step}")
    }
    pub fn done(step: &str, ms: u64) -> String {
        format!("Done: {step} ({ms} ms)")
    }
    pub fn failed(step: &str, why: &str) -> String {
        format!("Failed: {step}: {why}")
    }
    pub fn undone(step: &str) -> String {
        format!("Undone: {step}")
    }
}

/// One step on the Configuring page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    Waiting,
    Running,
    /// Done and verified, in this many milliseconds.
    Done(u64),
    /// Failed, with why.
    Failed(String),
    /// Undone after a failure or cancel.
    Undone,
}

/// Each step of the plan and its state, in order, and each step's description by id.
#[derive(Default)]
pub struct Configuring {
    steps: Vec<(String, StepState)>,
    described: HashMap<String, String>,
}

impl Configuring {
    /// Each step and its state, in order.
    pub fn steps(&self) -> &[(String, StepState)] {
        &self.steps
    }

    pub(crate) fn clear(&mut self) {
        self.steps.clear();
    }

    /// A new plan: every step waits.
    pub(crate) fn set_plan(&mut self, plan: &Plan) {
        self.steps = plan.steps.iter().map(|s| (s.id.clone(), StepState::Waiting)).collect();
        self.described = plan.steps.iter().map(|s| (s.id.clone(), s.description.clone())).collect();
    }

    /// What a step is, in words.
    pub fn describe(&self, id: &str) -> String {
        self.described
            .get(id)
            .cloned()
            .unwrap_or_else(|| if id == "start-sync" { words::START_SYNC.into() } else { id.to_string() })
    }

    /// The engine's progress report.
    pub(crate) fn progress(&mut self, p: Progress) {
        let (id, state) = match p {
            Progress::Started { id } => (id, StepState::Running),
            Progress::Done { id, elapsed_ms } => (id, StepState::Done(elapsed_ms)),
            Progress::Failed { id, error } => (id, StepState::Failed(error)),
            Progress::Undone { id } => (id, StepState::Undone),
            Progress::SyncStarted => ("start-sync".to_string(), StepState::Done(0)),
        };
        match self.steps.iter_mut().find(|(s, _)| *s == id) {
            Some(entry) => entry.1 = state,
            None => self.steps.push((id, state)),
        }
    }

    pub(crate) fn ui(&self, ui: &mut egui::Ui, nav: &Nav<'_>) {
        for (id, state) in &self.steps {
            let text = self.describe(id);
            match state {
                StepState::Waiting => ui.weak(words::waiting(&text)),
                StepState::Running => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(words::running(&text));
                    })
                    .response
                }
                StepState::Done(ms) => {
                    crate::theme::verdict_line(ui, crate::theme::Verdict::Ok, &words::done(&text, *ms))
                }
                StepState::Failed(e) => {
                    crate::theme::verdict_line(ui, crate::theme::Verdict::Failed, &words::failed(&text, e))
                }
                StepState::Undone => ui.label(words::undone(&text)),
            };
        }
        if nav.busy() {
            ui.add_space(crate::theme::space::ITEM);
            ui.label(words::CANCEL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::plan;
    use super::*;

    #[test]
    fn progress_moves_each_step_and_the_sync_cycle_joins_the_list() {
        let mut c = Configuring::default();
        c.set_plan(&plan(true));
        assert!(c.steps().iter().all(|(_, s)| *s == StepState::Waiting));
        c.progress(Progress::Started { id: "grant-1".into() });
        c.progress(Progress::Done { id: "writeback".into(), elapsed_ms: 7 });
        c.progress(Progress::SyncStarted);
        assert_eq!(
            c.steps().iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
            vec![StepState::Running, StepState::Done(7), StepState::Done(0)]
        );
        assert_eq!(c.describe("grant-1"), "Grant");
        assert_eq!(c.describe("start-sync"), words::START_SYNC);
        c.clear();
        assert!(c.steps().is_empty());
    }
}
