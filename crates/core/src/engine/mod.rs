//! The configuration engine: status → plan → apply → verify → (roll back). The only place that
//! changes anything. Every step's prior value is journalled before it runs, the step is verified
//! after, and what was done is undone in reverse when a later step fails or the user cancels.
//!
//! - [`plan`]: the steps enable or disable would take, their preconditions, what stays;
//! - [`status`]: the state as it is;
//! - [`apply`]: run a plan, recover an unfinished one, the canary;
//! - [`journal`]: the journal, the apply lock and the audit log;
//! - [`grants`]: the record of what this tool granted, merged under the lock;
//! - [`routing`]: which connection serves a DN;
//! - [`error`]: why the engine stopped.

pub mod apply;
pub mod error;
pub mod grants;
pub mod journal;
pub mod paths;
pub mod plan;
pub mod routing;
pub mod status;

pub use error::EngineError;
pub use paths::Paths;
pub use plan::{
    Action, Inputs, Kept, Plan, PlannedAce, Precondition, Step, StepOp, Target, plan_disable, plan_enable, targets,
};
pub use status::{AceStatus, AdStatus, Status, TargetStatus, WritebackState, status};
