//! One place that turns every error into its message, remedy and exit code.
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

    /// The text shown on a terminal.
    pub fn human(&self) -> String {
        format!("error [{}]: {}\n  what to do: {}", self.code, self.message, self.remedy)
    }
}

/// The top-level error of the product: every subsystem's error, unchanged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Settings file problems.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Secrets lookup problems.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// The lab domain controller.
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// Active Directory.
    #[error(transparent)]
    Ad(#[from] crate::ad::AdError),
    /// Microsoft Entra ID and Graph.
    #[error(transparent)]
    Entra(#[from] crate::entra::EntraError),
    /// The configuration engine.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The sync engine.
    #[error(transparent)]
    Sync(#[from] crate::sync_engine::SyncError),
    /// The tenant simulator.
    #[error(transparent)]
    Tenant(#[from] crate::lab::tenant::TenantError),
    /// Bad combinations of flags that clap cannot express.
    #[error("{message}")]
    Usage {
        /// What is wrong with the command line.
        message: String,
        /// What to type instead.
        remedy: String,
    },
}

impl Diagnose for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Config(e) => e.code(),
            Error::Secret(e) => e.code(),
            Error::Lab(e) => e.code(),
            Error::Ad(e) => e.code(),
            Error::Tenant(e) => e.code(),
            Error::Entra(e) => e.code(),
            Error::Sync(e) => e.code(),
            Error::Engine(e) => e.code(),
            Error::Usage { .. } => "CLI-USAGE",
        }
    }
    fn remedy(&self) -> String {
        match self {
            Error::Config(e) => e.remedy(),
            Error::Secret(e) => e.remedy(),
            Error::Lab(e) => e.remedy(),
            Error::Ad(e) => e.remedy(),
            Error::Tenant(e) => e.remedy(),
            Error::Entra(e) => e.remedy(),
            Error::Sync(e) => e.remedy(),
            Error::Engine(e) => e.remedy(),
            Error::Usage { remedy, .. } => remedy.clone(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            Error::Config(e) => e.exit(),
            Error::Secret(e) => e.exit(),
            Error::Lab(e) => e.exit(),
            Error::Ad(e) => e.exit(),
            Error::Tenant(e) => e.exit(),
            Error::Entra(e) => e.exit(),
            Error::Sync(e) => e.exit(),
            Error::Engine(e) => e.exit(),
            Error::Usage { .. } => Exit::Usage,
        }
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

    #[test]
    fn report_includes_the_source_chain_once() {
        let err = Error::Config(crate::config::ConfigError::Read {
            path: "/x/settings.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied by test"),
        });
        let report = ErrorReport::from_error(&err);
        assert_eq!(report.code, "CONFIG-READ");
        assert!(report.message.contains("/x/settings.toml"), "{}", report.message);
        assert_eq!(report.message.matches("denied by test").count(), 1, "{}", report.message);
        assert_eq!(report.exit_code, 1);
        assert!(report.human().contains("what to do:"));
    }
}
