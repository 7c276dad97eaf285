//! The configuration engine and the session: what both fronts stand on.
//!
//! The fronts (the wizard, the CLI) depend on this crate alone for everything that reaches a
//! directory, the tenant or the sync engine. Its public surface is the [`session`], the
//! [`engine`]'s types, the [`config`] and the shared [`types`]; the subsystems (`writeback-ad`,
//! `writeback-entra`, `writeback-sync`) are its private dependencies, so a front cannot call them
//! past the session — the compiler refuses.

#![allow(clippy::result_large_err)]

pub(crate) use writeback_ad as ad;
pub(crate) use writeback_base::{clock, crash, diagnose, fsutil, platform, secrets};
pub(crate) use writeback_entra as entra;
pub(crate) use writeback_sync as sync_engine;

pub mod config;
pub mod engine;
pub mod events;
pub mod session;
pub mod types;
