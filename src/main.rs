//! The `writeback-wizard` binary: the wizard with no command, else the CLI.

fn main() -> std::process::ExitCode {
    writeback_wizard::cli::main()
}
