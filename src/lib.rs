//! writeback-wizard: turns Microsoft Entra ID password writeback on, verifies it, and turns it
//! off, for hybrid identity (Entra ID in the cloud, Active Directory on premises).
//!
//! Who imports whom (docs/architecture.md draws it; `tests/it/architecture.rs` checks it):
//! - `diagnose`, `clock`, `fsutil`, `netstats`, `version`, `platform`: the floor, importing
//!   nothing of the crate's above them;
//! - `secrets`, `config`, `ad`, `entra`, `sync_engine`, `lab`: one subsystem each;
//! - `engine`: plan, status, apply over `ad` and `sync_engine`; never a front;
//! - `session`: settings + options + secrets → a bound AD connection, a checked tenant, a
//!   backend, the engine's inputs; the one layer both fronts stand on;
//! - `cli` and `gui`: thin fronts over `session` and `engine`; `cli` reaches `gui` only through
//!   `gui::run`, and `gui` never reaches `cli`.

// Errors keep their raw diagnostics (AD's text, result codes, remedies) by design; they are the
// cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod ad;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crash;
pub mod diagnose;
pub mod engine;
pub mod entra;
pub mod fsutil;
#[cfg(feature = "gui")]
pub mod gui;
pub mod lab;
pub mod logging;
pub mod netstats;
pub mod platform;
pub mod secrets;
pub mod session;
pub mod sync_engine;
pub mod version;
