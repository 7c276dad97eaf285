//! The subsystems' types the fronts show, named here so a front never reaches a subsystem for
//! them.

pub use writeback_ad::access::{
    AccessFindings, Answer as AccessAnswer, Cause as AccessCause, Counts as AccessCounts, UserAccess,
};
pub use writeback_ad::directory::{AccountHit, DomainInfo, ScopeNode};
pub use writeback_ad::policy::{Reason, Verdict};
pub use writeback_ad::readiness::Readiness;
pub use writeback_ad::scan::{Findings, Kind as FindingKind};
pub use writeback_ad::tls::CertDetails;
pub use writeback_base::clock::{Clock, ManualClock, SystemClock};
pub use writeback_base::diagnose::{Diagnose, ErrorReport, Exit};
pub use writeback_base::secrets::Secret;
pub use writeback_entra::check::{DirectorySync, EntraCheck, Me, Role};
pub use writeback_entra::clouds::Cloud;
pub use writeback_entra::licence::{Grant, LicenceVerdict, NotCounted};
pub use writeback_sync::{EngineState, SyncEngineKind};
