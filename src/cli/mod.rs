//! The command line: clap types here, one file of behaviour per command group, one place that
//! maps errors to exit codes (`run.rs`).

mod ad_cmd;
mod config_cmd;
mod engine_cmd;
mod entra_cmd;
mod error;
#[cfg(feature = "lab")]
mod lab;
#[cfg(not(feature = "lab"))]
#[path = "no_lab.rs"]
mod lab;
mod output;
mod run;
mod secret_cmd;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Cloud, SettingsOverlay};
use crate::types::SyncEngineKind;

pub use error::Error;
pub use run::main;

/// Lab mode's preset, with `--lab` (the lab's DC and tenant simulator, up).
pub type LabMode = Option<std::sync::Arc<crate::session::Preset>>;

/// Turns Microsoft Entra ID password writeback on, verifies it, and turns it off.
///
/// With no command it opens the wizard. Secrets are never flags: set WRITEBACK_AD_PASSWORD,
/// WRITEBACK_CONNECTOR_PASSWORD or WRITEBACK_ENTRA_TOKEN, store them in the OS keyring, or type
/// them when asked.
#[derive(Debug, Parser)]
#[command(name = "writeback-wizard", version = crate::version::LONG, about, long_about)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; none opens the wizard.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print exactly one JSON document on stdout (human text goes to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Settings file (TOML). Default: settings.toml in the platform's config folder.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More detail on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Lab mode: start (or reuse) the lab domain controller in the default lab folder and connect
    /// to it (its URL, CA, administrator and connector fill in what is not given); with no
    /// command, the wizard on the lab and an in-process tenant simulator.
    #[arg(long, global = true)]
    pub lab: bool,
    /// The wizard's colours (default: as the system says; setting `theme`).
    #[arg(long, value_enum, value_name = "THEME")]
    pub theme: Option<crate::config::Theme>,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum Command {
    /// The lab: a Samba AD domain controller on loopback (needs root and Samba).
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// The whole state: enabled, disabled or partial, and what is missing.
    Status {
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Show what enable or disable would change, without changing anything. Exit 3 when a
    /// precondition fails.
    Plan {
        #[command(flatten)]
        action: ActionArgs,
        /// With --disable: also remove writeback ACEs this tool did not add.
        #[arg(long)]
        remove_preexisting: bool,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Make the change: journalled, verified, rolled back on failure or Ctrl-C.
    Apply {
        #[command(flatten)]
        action: ActionArgs,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
        /// Start a delta sync cycle when the configuration completes.
        #[arg(long)]
        start_sync: bool,
        /// After applying, prove writeback on this test account (its password is reset to a random
        /// value nobody keeps).
        #[arg(long, value_name = "USER")]
        canary: Option<String>,
        /// With --disable: also remove writeback ACEs this tool did not add.
        #[arg(long)]
        remove_preexisting: bool,
        /// Undo the unfinished apply its journal describes.
        #[arg(long, conflicts_with = "resume")]
        rollback: bool,
        /// Finish the unfinished apply its journal describes.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Read everything back; with --canary, prove a reset as the connector account. Exit 0 when
    /// all is well, 3 otherwise.
    Verify {
        /// A test account to reset as the connector account.
        #[arg(long, value_name = "USER")]
        canary: Option<String>,
        /// A synced test user (sAMAccountName, DOMAIN\name or UPN) whose password is reset from
        /// the cloud (Graph's resetPassword) and followed to the DC, hop by hop.
        #[arg(long, value_name = "USER")]
        reset_test: Option<String>,
        /// How long to wait for the cloud's reset operation to finish, in seconds (default 120).
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
        reset_timeout: Option<u64>,
        /// Show the test user's new password once, on the terminal (never in --json, never
        /// stored): for signing in as them. They must change it at next sign-in.
        #[arg(long, requires = "reset_test")]
        show_password: bool,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// On-premises Active Directory: the readiness check.
    Ad {
        #[command(subcommand)]
        command: AdCommand,
    },
    /// The sync server's writeback events, explained (Microsoft's event tables), newest first and
    /// grouped: read from the sync engine, or from an export.
    Diagnose {
        /// A file of events as `Get-WinEvent … | Select-Object Id, ProviderName, TimeCreated,
        /// LevelDisplayName, Message | ConvertTo-Json` writes it, instead of the sync engine's.
        #[arg(long, value_name = "FILE")]
        events: Option<PathBuf>,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Security descriptors of AD objects.
    Acl {
        #[command(subcommand)]
        command: AclCommand,
    },
    /// The password policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Microsoft Entra ID: the tenant check.
    Entra {
        #[command(subcommand)]
        command: EntraCommand,
    },
    /// Is the tenant licensed for password writeback (a licence carrying Entra ID P1 or P2)?
    /// Exit 0 eligible, 3 not.
    Licences {
        /// Decide from a file instead of the tenant: Graph's /subscribedSkus answer
        /// (`{"value": [...]}`) or a bare array.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Export or import the settings file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The secrets kept in the OS keyring (Windows Credential Manager, the Linux kernel keyring):
    /// store one from standard input, delete one, list which are stored.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
}

/// `secret …`
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store NAME in the OS keyring; the value is read from standard input (asked without echo
    /// on a terminal), never from a flag.
    Set {
        name: SecretName,
        /// The forest whose Enterprise Admin password it is (ad-password only): kept as
        /// `ad-password/<forest>`, sent to that forest's DCs alone.
        #[arg(long, value_name = "DNS-NAME", value_parser = forest_arg)]
        forest: Option<String>,
    },
    /// Delete NAME from the OS keyring (deleting one that is not there is not an error).
    Delete {
        name: SecretName,
        /// The forest's entry (ad-password only).
        #[arg(long, value_name = "DNS-NAME", value_parser = forest_arg)]
        forest: Option<String>,
    },
    /// List which secrets are stored (names only, never values), with the password entry of each
    /// forest the settings name.
    List,
}

fn forest_arg(text: &str) -> Result<String, String> {
    crate::config::check_forest(text).map(|()| text.to_string())
}

/// The secrets the product can keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretName {
    /// The on-premises account's password (`--ad-user`).
    AdPassword,
    /// The AD DS connector account's password (the canary).
    ConnectorPassword,
    /// A Microsoft Graph access token for headless use.
    EntraToken,
}

impl SecretName {
    fn kind(self) -> crate::secrets::SecretKind {
        match self {
            SecretName::AdPassword => crate::secrets::AD_PASSWORD,
            SecretName::ConnectorPassword => crate::secrets::CONNECTOR_PASSWORD,
            SecretName::EntraToken => crate::secrets::ENTRA_TOKEN,
        }
    }
}

/// Reads a secret from standard input: without echo on a terminal, else all of it (one trailing
/// newline removed).
pub(crate) fn read_stdin_secret(prompt: &str) -> Result<crate::secrets::Secret, crate::session::Error> {
    use std::io::{IsTerminal, Read};
    let usage = |message: &str| crate::session::Error::Usage {
        message: message.into(),
        remedy: "Pipe it on standard input (for example from a password manager), or run on a terminal to be asked."
            .into(),
    };
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).map_err(|e| usage(&format!("cannot read it: {e}")))?
    } else {
        let mut buf = String::new();
        std::io::stdin().read_to_string(&mut buf).map_err(|e| usage(&format!("cannot read standard input: {e}")))?;
        let trimmed = buf.strip_suffix('\n').map(|b| b.strip_suffix('\r').unwrap_or(b)).unwrap_or(&buf).to_string();
        zeroize::Zeroize::zeroize(&mut buf);
        trimmed
    };
    if text.is_empty() {
        return Err(usage("nothing was given on standard input"));
    }
    Ok(crate::secrets::Secret::new(text))
}

/// `lab …`
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Provision (from a template) and start a lab DC, or reuse the one running in DIR.
    Up(LabUpArgs),
    /// Stop the lab DC started in DIR.
    Down(LabDirArg),
    /// Say whether the lab DC in DIR runs and answers (exit 0) or not (exit 3).
    Status(LabDirArg),
    /// Run the tenant simulator (Entra ID sign-in and Microsoft Graph) until stopped. The first
    /// stdout line is JSON: url, tenant_id, admin_upn, admin_password.
    Tenant(LabTenantArgs),
}

/// `ad …`
#[derive(Debug, Subcommand)]
pub enum AdCommand {
    /// Check the on-premises side: Enterprise Admins, domains, password policy, the connector
    /// account, and what in the scopes would break writeback. Exit 3 when the account is not an
    /// Enterprise Admin.
    Check {
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Which users under the scopes (--scope, else the settings', else each domain) ACCOUNT can
    /// reach for password writeback, decided as Windows' access check decides: now, after the plan
    /// that grants it on those scopes, and after SDProp's next run. Each user not reached is named with the ACE responsible. Exit 0
    /// whatever the verdicts.
    Access {
        /// The account whose access is evaluated (sAMAccountName, DOMAIN\name, UPN or DN):
        /// usually the AD DS connector account.
        #[arg(long = "as", value_name = "ACCOUNT")]
        account: String,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

/// `--enable` or `--disable`.
#[derive(Debug, Args, Clone, Copy)]
pub struct ActionArgs {
    /// Turn password writeback on.
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Turn password writeback off.
    #[arg(long)]
    pub disable: bool,
}

/// `entra …`
#[derive(Debug, Subcommand)]
pub enum EntraCommand {
    /// Sign in (or use WRITEBACK_ENTRA_TOKEN) and check the tenant: the account and its role, the
    /// licence, directory synchronisation. Exit 0 when ready, 3 when not.
    Check {
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Forget the saved sign-in (the refresh token in the OS keyring).
    SignOut {
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

/// `acl …`
#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Show an object's DACL: SDDL, and one line per ACE in words.
    Show {
        /// The object's distinguished name.
        dn: String,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

/// `policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Test a new password for USER against the policy that applies to them. The password is read
    /// from standard input (asked without echo on a terminal), never from a flag. Exit 0
    /// acceptable, 3 rejected, 1 could not check.
    Test {
        /// sAMAccountName, UPN or DN.
        user: String,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

/// `lab tenant` options.
#[derive(Debug, Args)]
pub struct LabTenantArgs {
    /// A tenant fixture (JSON, see docs/lab.md). Default: one P1 licence, directory sync on, one
    /// Global Administrator with a generated password.
    #[arg(long, value_name = "FILE")]
    pub fixture: Option<PathBuf>,
    /// Where to listen (a loopback address; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
}

/// `--dir DIR`
#[derive(Debug, Args)]
pub struct LabDirArg {
    /// The lab folder. Default: `lab` in the platform's data folder.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `lab up`'s arguments.
#[derive(Debug, Args)]
pub struct LabUpArgs {
    #[command(flatten)]
    pub dir: LabDirArg,
    /// A DC with no certificate at all (no LDAPS, no StartTLS): reached only with Kerberos, as
    /// many production DCs are.
    #[arg(long)]
    pub no_tls: bool,
    /// The forest the lab holds (default lab.example.test); a second lab with another forest in
    /// another --dir makes two forests side by side, each with its own realm, KDC and DNS.
    #[arg(long, value_name = "DNS-NAME")]
    pub forest: Option<String>,
}

/// `config …`
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum ConfigCommand {
    /// Write the effective settings (the settings file with any flags applied) to FILE.
    Export {
        /// Where to write.
        file: PathBuf,
        /// Connection flags to apply before exporting.
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Check FILE and make it the settings file (--config, or the default).
    Import {
        /// The settings to import.
        file: PathBuf,
        /// Take the file's pinned DC certificate even when it differs from this machine's.
        #[arg(long)]
        yes: bool,
    },
}

/// The connection flags of the CLI contract, accepted by every command that connects. The same
/// keys may stand in the settings file; flags win.
#[derive(Debug, Args, Default, Clone)]
pub struct ConnectionArgs {
    /// One domain controller: ldaps://host[:port] (LDAPS), or ldap://host (Kerberos sealed on
    /// 389; StartTLS for a password). Wins over --forest.
    #[arg(long, value_name = "URL")]
    pub ad_url: Option<String>,
    /// The forest's (or a domain's) DNS name: a domain controller is found in DNS
    /// (_ldap._tcp.dc._msdcs.NAME), as Windows finds one.
    #[arg(long, value_name = "DNS-NAME", value_parser = forest_name)]
    pub forest: Option<String>,
    /// DOMAIN\user, user@domain, or a DN (a DN signs in with a password over TLS only).
    #[arg(long, value_name = "NAME")]
    pub ad_user: Option<String>,
    /// Sign in to AD as the account this runs as, with Kerberos (Windows: your Windows sign-in;
    /// Linux: your ticket cache, from kinit). No password is asked.
    #[arg(long, conflicts_with_all = ["ad_user", "ad_simple_bind"])]
    pub ad_current_user: bool,
    /// Sign in with a password inside TLS (LDAPS or StartTLS) instead of Kerberos. Without it a
    /// password is sent only when Kerberos cannot be had (no KDC), and only inside TLS.
    #[arg(long)]
    pub ad_simple_bind: bool,
    /// Trust this CA (PEM) instead of the system roots.
    #[arg(long, value_name = "PEM")]
    pub ad_ca_file: Option<PathBuf>,
    /// Name expected in the DC certificate when --ad-url holds an IP.
    #[arg(long, value_name = "NAME")]
    pub ad_tls_name: Option<String>,
    /// Pin the SHA-256 of the DER leaf certificate (colons and case ignored).
    #[arg(long, value_name = "HEX")]
    pub ad_fingerprint: Option<String>,
    /// How long to wait for each LDAP answer, in seconds (default 30). A permission change on the
    /// root of a large Samba domain can need more.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub ad_timeout: Option<u64>,
    /// sAMAccountName or DN of the AD DS connector account.
    #[arg(long, value_name = "NAME")]
    pub connector_account: Option<String>,
    /// Where to grant (repeatable). Default: the root of the bound account's domain.
    #[arg(long, value_name = "DN")]
    pub scope: Vec<String>,
    /// Also grant on AdminSDHolder — unsupported by Microsoft: SDProp copies its permissions to
    /// every protected account, so the connector could reset your most privileged accounts' passwords.
    #[arg(long)]
    pub include_adminsdholder: bool,
    /// Leave the forest (DNS name) the sync engine or the settings name out of this run, on
    /// purpose (repeatable): said in the plan and the status, with what it means for its users.
    #[arg(long, value_name = "DNS-NAME", value_parser = forest_name)]
    pub leave_out: Vec<String>,
    /// The national cloud.
    #[arg(long, value_enum, value_name = "CLOUD")]
    pub cloud: Option<Cloud>,
    /// Tenant GUID or verified domain.
    #[arg(long, value_name = "ID", value_parser = tenant_id)]
    pub tenant: Option<String>,
    /// The tenant simulator's base URL (with --cloud lab): a loopback address only.
    #[arg(long, value_name = "URL", value_parser = loopback_url)]
    pub lab_url: Option<String>,
    /// The public client used for sign-in.
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Which sync engine to switch. Default: lab with --cloud lab; else cloudsync where the Entra
    /// provisioning agent is installed and Entra Connect is not; else adsync.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub sync_engine: Option<SyncEngineKind>,
    /// How long one call to the sync engine's PowerShell may take, in seconds (default 120).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub sync_engine_timeout: Option<u64>,
    /// Keep the tenant sign-in (its refresh token) in the OS keyring, so the next run signs in
    /// silently. Off by default: an administrator's refresh token outlives the run only when asked.
    #[arg(long)]
    pub remember_sign_in: bool,
    /// The Global Administrator whose user name and password switch Cloud Sync writeback (the
    /// password from WRITEBACK_CLOUDSYNC_PASSWORD, used for that call only, never stored).
    #[arg(long, value_name = "USER@DOMAIN")]
    pub cloudsync_admin: Option<String>,
}

impl ConnectionArgs {
    /// The settings these flags override.
    pub fn overlay(&self) -> SettingsOverlay {
        SettingsOverlay {
            ad_url: self.ad_url.clone(),
            forest: self.forest.clone(),
            ad_user: self.ad_user.clone(),
            ad_ca_file: self.ad_ca_file.clone(),
            ad_tls_name: self.ad_tls_name.clone(),
            ad_fingerprint: self.ad_fingerprint.clone(),
            connector_account: self.connector_account.clone(),
            scope: self.scope.clone(),
            cloud: self.cloud,
            tenant: self.tenant.clone(),
            lab_url: self.lab_url.clone(),
            client_id: self.client_id.clone(),
            sync_engine: self.sync_engine,
            sync_engine_timeout: self.sync_engine_timeout,
            cloudsync_admin: self.cloudsync_admin.clone(),
            ad_current_user: self.ad_current_user,
            leave_out: self.leave_out.clone(),
            ad_simple_bind: self.ad_simple_bind,
            ad_timeout: self.ad_timeout,
            include_adminsdholder: self.include_adminsdholder,
            remember_sign_in: self.remember_sign_in,
        }
    }

    /// The session's options for a command run with these flags (and lab mode's preset).
    pub fn options(&self, config_path: &std::path::Path, lab: &LabMode) -> crate::session::Options {
        let mut opts = crate::session::Options::new(
            config_path.to_path_buf(),
            lab.is_some(),
            crate::session::Front::Cli,
            self.overlay(),
        );
        opts.preset.clone_from(lab);
        opts
    }
}

fn loopback_url(text: &str) -> Result<String, String> {
    if crate::session::is_loopback_url(text) {
        Ok(text.to_string())
    } else {
        Err("the lab's simulator is reached on a loopback address only (http://127.0.0.1:PORT or http://[::1]:PORT)"
            .into())
    }
}

fn forest_name(text: &str) -> Result<String, String> {
    crate::config::check_forest(text).map(|()| text.trim_end_matches('.').to_string())
}

fn tenant_id(text: &str) -> Result<String, String> {
    crate::config::check_tenant(text).map(|()| text.to_string())
}

/// How a command may sign in when there is no saved sign-in: with a device code on a terminal,
/// not at all without one.
pub(crate) fn interactive<'a>(
    shown: &'a (dyn Fn(crate::session::DeviceCode) + Sync),
    cancel: &'a tokio_util::sync::CancellationToken,
) -> crate::session::Interactive<'a> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        crate::session::Interactive::Device { shown, cancel }
    } else {
        crate::session::Interactive::Never
    }
}

/// Prints a device code's instructions where a person at the terminal reads them.
pub(crate) fn print_device_code(code: crate::session::DeviceCode) {
    eprintln!("{}", code.message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn connection_flags_parse_with_their_contract_names() {
        let cli = Cli::try_parse_from([
            "writeback-wizard",
            "config",
            "export",
            "out.toml",
            "--ad-url",
            "ldaps://dc",
            "--ad-user",
            "LAB\\a",
            "--ad-ca-file",
            "ca.pem",
            "--ad-tls-name",
            "dc1.x",
            "--ad-fingerprint",
            "AB:CD",
            "--forest",
            "corp.example.com",
            "--ad-simple-bind",
            "--connector-account",
            "MSOL_1",
            "--scope",
            "OU=A,DC=x",
            "--scope",
            "OU=B,DC=x",
            "--include-adminsdholder",
            "--cloud",
            "usgov-dod",
            "--tenant",
            "contoso.com",
            "--lab-url",
            "http://127.0.0.1:1",
            "--client-id",
            "00000000-0000-0000-0000-000000000001",
            "--sync-engine",
            "lab",
        ])
        .unwrap();
        let Some(Command::Config { command: ConfigCommand::Export { connection, .. } }) = cli.command else {
            panic!("parsed as something else")
        };
        let o = connection.overlay();
        assert_eq!(o.scope.len(), 2);
        assert_eq!(o.cloud, Some(Cloud::UsgovDod));
        assert_eq!(o.sync_engine, Some(SyncEngineKind::Lab));
        assert!(connection.ad_simple_bind && connection.include_adminsdholder);
        assert_eq!(o.forest.as_deref(), Some("corp.example.com"));
    }

    #[test]
    fn there_is_no_password_flag() {
        let err = Cli::try_parse_from(["writeback-wizard", "config", "export", "x", "--ad-password", "p"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
