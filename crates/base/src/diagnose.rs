//! The floor every subsystem stands on: the exit codes of the CLI contract, the [`Diagnose`] trait
//! every error implements, and [`ErrorReport`], an error rendered for people and for `--json`.
//!
//! Each subsystem has its own `thiserror` enum that keeps the raw diagnostic (an LDAP result code,
//! an AADSTS code, a process exit status, an OS error). They all implement [`Diagnose`], so the
//! CLI and the GUI render any of them the same way: a stable code a support search can find,
//! what happened, and one sentence saying what to do about it.

use serde::Serialize;

/// The process exit codes of the CLI contract (docs/cli.md), shared by every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// 0: done, or the answer is yes.
    Ok,
    /// 1: failed, and nothing was left changed.
    Failed,
    /// 2: bad usage or missing input (a flag, a secret, a confirmation).
    Usage,
    /// 3: the answer is no: not eligible, not an Enterprise Admin, a precondition not met.
    No,
    /// 4: failed and not fully rolled back; the journal was kept.
    NotRolledBack,
}

impl Exit {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::No => 3,
            Exit::NotRolledBack => 4,
        }
    }
}

/// What every error of the product can say about itself.
pub trait Diagnose: std::error::Error {
    /// A stable identifier with a subsystem prefix, e.g. `LAB-NOT-ROOT`.
    fn code(&self) -> &'static str;
    /// One sentence telling the administrator what to do next.
    fn remedy(&self) -> String;
    /// The exit code the CLI ends with.
    fn exit(&self) -> Exit;
}

/// An error rendered for people and for `--json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorReport {
    /// Stable code, see [`Diagnose::code`].
    pub code: String,
    /// What went wrong, including the raw diagnostic.
    pub message: String,
    /// What to do about it.
    pub remedy: String,
    /// The process exit code.
    pub exit_code: u8,
}

impl ErrorReport {
    /// Renders any diagnosable error, including the chain of its sources.
    pub fn from_error<E: Diagnose + ?Sized>(err: &E) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        ErrorReport { code: err.code().to_string(), message, remedy: err.remedy(), exit_code: err.exit().code() }
    }

    /// Renders an error by its own message alone, without the chain of its sources (where the
    /// message is shown inside another sentence).
    pub fn brief<E: Diagnose + ?Sized>(err: &E) -> Self {
        ErrorReport {
            code: err.code().to_string(),
            message: err.to_string(),
            remedy: err.remedy(),
            exit_code: err.exit().code(),
        }
    }

    /// The text shown on a terminal.
    pub fn human(&self) -> String {
        format!("error [{}]: {}\n  what to do: {}", self.code, self.message, self.remedy)
    }
}

impl std::fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_contract() {
        let codes: Vec<u8> =
            [Exit::Ok, Exit::Failed, Exit::Usage, Exit::No, Exit::NotRolledBack].into_iter().map(Exit::code).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4]);
    }
}
