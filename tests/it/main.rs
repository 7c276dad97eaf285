//! Integration tests: the real binary against real Samba lab DCs. One test binary (each extra
//! one costs link time). Needs root and Samba, as the README's test command provides.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::disallowed_methods)]

mod access;
mod ad_cli;
mod ad_engine;
mod architecture;
mod cli;
#[cfg(feature = "crash-points")]
mod crash;
mod engine;
mod engine_cli;
mod entra;
mod forests;
mod graph_schema;
mod gui;
mod kerberos;
mod lab_dc;
mod oidc;
mod policy;
mod powershell_scripts;
mod reset_test;
mod sd_lab;
mod snapshots;
mod support;
mod sync_engine;
mod tenant;
mod window;
mod wine;
mod xvfb;
