//! The `writeback-wizard` binary: the wizard with no command, else the command line. It stands on
//! the session (`writeback-core`) alone; the lab, when built in, stands beside it.

// Errors keep their raw diagnostics by design; they are the cold path.
#![allow(clippy::result_large_err)]

mod cli;

pub(crate) use writeback_base::{diagnose, secrets, version};
pub(crate) use writeback_core::{config, engine, session, types};

fn main() -> std::process::ExitCode {
    cli::main()
}
