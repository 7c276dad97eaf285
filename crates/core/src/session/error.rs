//! The error of the session layer and of both fronts: every subsystem's error unchanged, and the
//! inputs a person has to give, named the way the front they use names them.

use crate::diagnose::{Diagnose, Exit};

/// Which front a session serves: the same missing input is a flag on the command line and a
/// field in the wizard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Front {
    /// The command line.
    #[default]
    Cli,
    /// The wizard window.
    Wizard,
}

/// Something the person has to give before the session can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Which DC to connect to.
    DomainController,
    /// Who to bind as.
    AdUser,
    /// The tenant simulator's URL, for the lab cloud.
    LabUrl,
    /// The AD DS connector account, for the canary.
    ConnectorAccount,
}

impl Input {
    fn message(self) -> &'static str {
        match self {
            Input::DomainController => "no forest (or domain controller) was given",
            Input::AdUser => "no account to sign in to Active Directory with",
            Input::LabUrl => "--cloud lab needs the simulator's URL",
            Input::ConnectorAccount => "the canary needs the connector account",
        }
    }

    fn remedy(self, front: Front) -> &'static str {
        match (self, front) {
            (Input::DomainController, Front::Cli) => {
                "Give --forest corp.example.com (a DC is found in DNS), or --ad-url ldaps://dc.example.com for one DC (or set forest or ad_url in the settings file, or add --lab for the lab DC)."
            }
            (Input::DomainController, Front::Wizard) => {
                "Fill in \"Forest\" with the forest's DNS name (for example corp.example.com), or name one domain controller under \"A specific domain controller\", then press Connect."
            }
            (Input::AdUser, Front::Cli) => {
                "Give --ad-user DOMAIN\\name (an Enterprise Admin), or set ad_user in the settings file."
            }
            (Input::AdUser, Front::Wizard) => {
                "Fill in \"Username\" with DOMAIN\\name of an Enterprise Admin, then press Connect."
            }
            (Input::LabUrl, Front::Cli) => {
                "Give --lab-url (the url printed by `writeback-wizard lab tenant`), or use --lab."
            }
            (Input::LabUrl, Front::Wizard) => {
                "Choose another cloud, or start the wizard with --lab (or with lab_url in the settings file)."
            }
            (Input::ConnectorAccount, Front::Cli) => "Name it with --connector-account.",
            (Input::ConnectorAccount, Front::Wizard) => "Choose the connector account on \"Connect your directories\".",
        }
    }
}

/// Every error a session or a front can meet.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Ad(#[from] crate::ad::AdError),
    #[error(transparent)]
    Entra(#[from] crate::entra::EntraError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Sync(#[from] crate::sync_engine::SyncError),
    /// Lab mode with a DC that is not the lab's own.
    #[error("lab mode works only with the lab's own DC, not {url}")]
    LabSealed { url: String },
    /// A state or settings file or folder someone else may have made or may change.
    #[error("{} is not to be trusted: {why}; nothing was read from it", path.display())]
    UnsafeFolder { path: std::path::PathBuf, why: String },
    /// Lab mode, before the lab is up.
    #[error("the lab is not up yet")]
    LabNotReady,
    /// An input the person has not given yet.
    #[error("{}", input.message())]
    Missing { input: Input, front: Front },
    /// One forest's failure, named by the forest (a configuration of several).
    #[error("forest {forest}: {source}")]
    InForest {
        forest: String,
        #[source]
        source: Box<Error>,
    },
    /// A combination of flags that clap cannot express.
    #[error("{message}")]
    Usage { message: String, remedy: String },
}

impl Error {
    fn inner(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            Error::Config(e) => e,
            Error::Secret(e) => e,
            Error::Ad(e) => e,
            Error::Entra(e) => e,
            Error::Sync(e) => e,
            Error::Engine(e) => e,
            Error::InForest { source, .. } => source.as_ref(),
            Error::Missing { .. }
            | Error::Usage { .. }
            | Error::LabSealed { .. }
            | Error::LabNotReady
            | Error::UnsafeFolder { .. } => return None,
        })
    }
}

impl Diagnose for Error {
    fn code(&self) -> &'static str {
        match (self.inner(), self) {
            (Some(e), _) => e.code(),
            (None, Error::Missing { front: Front::Wizard, .. }) => "GUI-MISSING-INPUT",
            (None, Error::LabSealed { .. }) => "LAB-SEALED",
            (None, Error::LabNotReady) => "LAB-NOT-READY",
            (None, Error::UnsafeFolder { .. }) => "STATE-UNSAFE",
            (None, _) => "CLI-USAGE",
        }
    }
    fn remedy(&self) -> String {
        match (self.inner(), self) {
            (Some(e), _) => e.remedy(),
            (None, Error::Missing { input, front }) => input.remedy(*front).into(),
            (None, Error::Usage { remedy, .. }) => remedy.clone(),
            (None, Error::LabSealed { .. }) => "Leave out --lab to work with another DC (lab mode keeps its own settings and state, so it can never touch a production domain); or leave out --ad-url to use the lab's.".into(),
            (None, Error::LabNotReady) => "Wait until the lab's domain controller has started (the page says so), then try again.".into(),
            (None, Error::UnsafeFolder { path, .. }) => super::guard::fix(path),
            (None, _) => String::new(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            Error::UnsafeFolder { .. } => Exit::Failed,
            Error::InForest { source, .. } => source.exit(),
            _ => self.inner().map_or(Exit::Usage, |e| e.exit()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::ErrorReport;

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

    #[test]
    fn a_missing_input_is_named_as_each_front_names_it() {
        let cli = Error::Missing { input: Input::DomainController, front: Front::Cli };
        let gui = Error::Missing { input: Input::DomainController, front: Front::Wizard };
        assert_eq!((cli.code(), gui.code()), ("CLI-USAGE", "GUI-MISSING-INPUT"));
        assert_eq!(cli.to_string(), gui.to_string());
        assert!(cli.remedy().contains("--forest") && gui.remedy().contains("\"Forest\""));
        assert_eq!((cli.exit(), gui.exit()), (Exit::Usage, Exit::Usage));
    }
}
