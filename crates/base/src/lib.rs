//! The floor every other crate stands on: exit codes and the [`diagnose::Diagnose`] trait, the
//! injected clock, atomic and private files, what differs between systems, secrets, logging,
//! the network tally `-v` prints, and the test-only crash points.

// Errors keep their raw diagnostics by design; they are the cold path.
#![allow(clippy::result_large_err)]

pub mod clock;
pub mod crash;
pub mod diagnose;
pub mod fsutil;
pub mod logging;
pub mod netstats;
pub mod platform;
pub mod secrets;
pub mod version;
