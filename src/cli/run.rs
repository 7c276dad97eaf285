//! Parsing, dispatch, and the one place errors become messages and exit codes.

use std::process::ExitCode;

use clap::Parser;

use super::output::{Outcome, Output};
use super::{Cli, Command, LabMode};
use crate::types::{Diagnose, ErrorReport, Exit};

/// The binary's entry point: parse, set up logging, run, map the result to an exit code.
pub fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let json_requested = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e, json_requested),
    };
    let out = Output { json: cli.global.json };
    let _log_guard = writeback_base::logging::init(cli.global.verbose, cli.global.lab);
    #[cfg(not(feature = "gui"))]
    if cli.command.is_none() {
        let err = crate::session::Error::Usage {
            message: "this build has no wizard (it was built without the `gui` feature)".into(),
            remedy: "Run a command (see `writeback-wizard --help`), or use a build with the default features.".into(),
        };
        out.error(&ErrorReport::from_error(&err));
        return ExitCode::from(err.exit().code());
    }
    #[cfg(feature = "gui")]
    if cli.command.is_none() {
        // The wizard: eframe owns the main thread; the engine runs on the wizard's own runtime.
        let config_path = cli.global.config.clone().unwrap_or_else(crate::config::default_path);
        let lab = match super::lab::starter(cli.global.lab) {
            Ok(lab) => lab,
            Err(err) => {
                out.error(&ErrorReport::from_error(&err));
                return ExitCode::from(err.exit().code());
            }
        };
        return match writeback_gui::run(writeback_gui::Options { config_path, lab, theme: cli.global.theme }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                out.error(&ErrorReport::from_error(&err));
                ExitCode::from(err.exit().code())
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&ErrorReport {
                code: "CLI-RUNTIME".into(),
                message: format!("cannot start the async runtime: {e}"),
                remedy: "Check the process limits (threads, memory).".into(),
                exit_code: Exit::Failed.code(),
            });
            return ExitCode::from(Exit::Failed.code());
        }
    };
    let result = runtime.block_on(dispatch(cli, out));
    // With -v: where the time went, so a slow DC or tenant can be told from slow work of ours.
    tracing::info!(
        "the command took {} ms; on the network: {}",
        started.elapsed().as_millis(),
        writeback_base::netstats::snapshot()
    );
    let exit = match result {
        Ok(outcome) => outcome.exit,
        Err(err) => {
            let report = ErrorReport::from_error(&err);
            // To the log file only: the report below is what the person reads.
            tracing::error!(target: writeback_base::logging::FILE_ONLY, code = %report.code, message = %report.message, "command failed");
            out.error(&report);
            err.exit()
        }
    };
    ExitCode::from(exit.code())
}

fn clap_error(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            if json {
                let report = ErrorReport {
                    code: "CLI-USAGE".into(),
                    // clap's own first line names the flag and why ("invalid value 'x' for
                    // '--lab-url <URL>': …"); its kind alone says neither.
                    message: e
                        .render()
                        .to_string()
                        .lines()
                        .next()
                        .map(|l| l.trim_start_matches("error: ").to_string())
                        .unwrap_or_else(|| e.kind().to_string()),
                    remedy: "See `writeback-wizard --help`.".into(),
                    exit_code: Exit::Usage.code(),
                };
                Output { json: true }.error(&report);
            }
            let _ = e.print();
            ExitCode::from(Exit::Usage.code())
        }
    }
}

async fn dispatch(cli: Cli, out: Output) -> Result<Outcome, super::Error> {
    let config_path = cli.global.config.clone().unwrap_or_else(crate::config::default_path);
    let lab: LabMode = match &cli.command {
        Some(Command::Lab { .. } | Command::Config { .. } | Command::Secret { .. }) | None => None,
        Some(_) => super::lab::preset(cli.global.lab).await?,
    };
    let lab = &lab;
    if !matches!(cli.command, Some(Command::Lab { .. } | Command::Secret { .. }) | None) {
        // Nothing is read from a state or settings folder someone else made or may change.
        let opts = super::ConnectionArgs::default().options(&config_path, lab);
        crate::session::guard::check(&opts)?;
    }
    Ok(match cli.command {
        Some(Command::Lab { command }) => return super::lab::run(command, out).await,
        Some(Command::Config { command }) => super::config_cmd::run(command, &config_path, out)?,
        Some(Command::Secret { command }) => super::secret_cmd::run(command, &config_path, out)?,
        Some(Command::Status { connection }) => super::engine_cmd::status(&connection, &config_path, lab, out).await?,
        Some(Command::Plan { action, remove_preexisting, connection }) => {
            super::engine_cmd::plan(action, remove_preexisting, &connection, &config_path, lab, out).await?
        }
        Some(Command::Apply { action, yes, start_sync, canary, remove_preexisting, rollback, resume, connection }) => {
            let opts =
                super::engine_cmd::ApplyOptions { yes, start_sync, canary, remove_preexisting, rollback, resume };
            super::engine_cmd::apply(action, opts, &connection, &config_path, lab, out).await?
        }
        Some(Command::Verify { canary, reset_test, reset_timeout, show_password, connection }) => {
            let reset =
                reset_test.map(|u| (u, std::time::Duration::from_secs(reset_timeout.unwrap_or(120)), show_password));
            super::engine_cmd::verify(canary, reset, &connection, &config_path, lab, out).await?
        }
        Some(Command::Entra { command }) => super::entra_cmd::entra(command, &config_path, lab, out).await?,
        Some(Command::Diagnose { events, connection }) => {
            super::engine_cmd::diagnose(events, &connection, &config_path, lab, out).await?
        }
        Some(Command::Licences { from_file, connection }) => {
            super::entra_cmd::licences(from_file, connection, &config_path, lab, out).await?
        }
        Some(Command::Ad { command }) => super::ad_cmd::ad(command, &config_path, lab, out).await?,
        Some(Command::Acl { command }) => super::ad_cmd::acl(command, &config_path, lab, out).await?,
        Some(Command::Policy { command }) => super::ad_cmd::policy(command, &config_path, lab, out).await?,
        // Handled before the runtime starts (see `main`).
        None => {
            return Err(crate::session::Error::Usage {
                message: "no command given".into(),
                remedy: "See --help.".into(),
            }
            .into());
        }
    })
}
