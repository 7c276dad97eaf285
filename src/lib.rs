//! writeback-wizard: turns Microsoft Entra ID password writeback on, verifies it, and turns it
//! off, for hybrid identity (Entra ID in the cloud, Active Directory on premises).
//!
//! The library is shared by the binary, the tests and the benchmarks. The engine modules
//! (`ad`, and later `entra`, `sync_engine`, `engine`) never depend on the GUI; `cli` (and later
//! `gui`) are thin fronts over the same calls.

// Errors keep their raw diagnostics (AD's text, result codes, remedies) by design; they are the
// cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod ad;
pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod entra;
pub mod error;
pub mod fsutil;
#[cfg(feature = "gui")]
pub mod gui;
pub mod lab;
pub mod logging;
pub mod netstats;
pub mod secrets;
pub mod sync_engine;
pub mod version;
