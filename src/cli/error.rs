//! The command line's error: the session's, the lab's, and a lab asked of a build without one.

use crate::types::{Diagnose, Exit};

/// Every error a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Session(#[from] crate::session::Error),
    #[cfg(feature = "lab")]
    #[error(transparent)]
    Lab(#[from] writeback_lab::LabError),
    #[cfg(feature = "lab")]
    #[error(transparent)]
    Tenant(#[from] writeback_lab::tenant::TenantError),
    /// `lab …` or `--lab` in a build without the lab.
    #[cfg(not(feature = "lab"))]
    #[error("this build of writeback-wizard carries no lab (the Windows release is built without it)")]
    NoLab,
}

impl Error {
    fn inner(&self) -> Option<&dyn Diagnose> {
        match self {
            Error::Session(e) => Some(e),
            #[cfg(feature = "lab")]
            Error::Lab(e) => Some(e),
            #[cfg(feature = "lab")]
            Error::Tenant(e) => Some(e),
            #[cfg(not(feature = "lab"))]
            Error::NoLab => None,
        }
    }
}

impl Diagnose for Error {
    fn code(&self) -> &'static str {
        self.inner().map_or("LAB-NOT-IN-THIS-BUILD", |e| e.code())
    }
    fn remedy(&self) -> String {
        self.inner().map_or_else(
            || "Run `writeback-wizard lab up` on a Linux machine and connect to its DC from here with --ad-url, --ad-ca-file and --ad-tls-name, and to its tenant simulator (`lab tenant`) with --cloud lab --lab-url.".into(),
            |e| e.remedy(),
        )
    }
    fn exit(&self) -> Exit {
        self.inner().map_or(Exit::Usage, |e| e.exit())
    }
}
