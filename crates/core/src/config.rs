//! The settings file: versioned TOML, written atomically, never holding a secret.
//!
//! Keys (ARCHITECTURE.md, "Engine rules"): `version = 1` first, then the connection flags' long
//! names in snake_case, then a `[granted]` table the engine owns. Command-line flags override the
//! file; the file overrides the built-in defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ad::sd::Ace;
use crate::diagnose::{Diagnose, Exit};
pub use writeback_entra::clouds::Cloud;
pub use writeback_sync::SyncEngineKind;

/// The wizard's colours: light, dark, or as the system says (the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

/// The settings format this build reads and writes.
pub const SETTINGS_VERSION: u32 = 1;

/// Everything the product remembers between runs. Secrets are never part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Format version; always [`SETTINGS_VERSION`] when written by this build.
    pub version: u32,
    /// One domain controller: `ldaps://host[:port]`, or `ldap://host` (Kerberos sealed, or
    /// StartTLS for a password). Wins over `forest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_url: Option<String>,
    /// The forest's (or a domain's) DNS name: its domain controllers are found in DNS.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forest_field")]
    pub forest: Option<String>,
    /// `DOMAIN\user`, UPN or DN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_user: Option<String>,
    /// A PEM file of CA certificates to trust instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_ca_file: Option<PathBuf>,
    /// The name expected in the DC certificate when `ad_url` holds an IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_tls_name: Option<String>,
    /// SHA-256 of the DC's DER leaf certificate, pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_fingerprint: Option<String>,
    /// sAMAccountName or DN of the AD DS connector account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_account: Option<String>,
    /// Distinguished names the writeback permissions are granted on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// The national cloud (`public`, `usgov`, `usgov-dod`, `china`, `lab`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    /// Tenant GUID or verified domain (checked by [`check_tenant`] when read).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "tenant_field")]
    pub tenant: Option<String>,
    /// The tenant simulator's base URL (with `cloud = "lab"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab_url: Option<String>,
    /// The public client used for sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `adsync`, `cloudsync` or `lab`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_engine: Option<SyncEngineKind>,
    /// How long one sync-engine (PowerShell) call may take, in seconds (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_engine_timeout: Option<u64>,
    /// The Global Administrator whose credential switches Cloud Sync writeback (the password is
    /// never stored: WRITEBACK_CLOUDSYNC_PASSWORD, for one run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudsync_admin: Option<String>,
    /// The wizard's colours (`light`, `dark`, `system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    /// One table per forest (`[[directory]]`): where each is reached and as whom, for a sync
    /// engine that serves several. A forest's password is never here: `WRITEBACK_AD_PASSWORD_<FOREST>`,
    /// `WRITEBACK_AD_PASSWORD`, the keyring's `ad-password/<forest>`, or a prompt.
    #[serde(default, rename = "directory", skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<DirectorySettings>,
    /// What older versions recorded as granted (the engine's grant record in the state folder now
    /// holds it; its first save moves this table there). Decoded on load.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", with = "crate::ad::sd::sddl::persisted::table")]
    pub granted: BTreeMap<String, Vec<Ace>>,
}

/// One forest of the configuration (`[[directory]]`): today's connection keys, each optional
/// where DNS (the forest's domain controllers) or the sync engine (its connector account)
/// supplies it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySettings {
    /// The forest's DNS name.
    #[serde(deserialize_with = "forest_name")]
    pub forest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_tls_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_account: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

impl DirectorySettings {
    /// The settings of this forest alone: the file's other keys (tenant, sync engine, …) with
    /// this table's connection keys in place of the top-level ones.
    pub fn over(&self, base: &Settings) -> Settings {
        Settings {
            ad_url: self.ad_url.clone(),
            forest: Some(self.forest.clone()),
            ad_user: self.ad_user.clone(),
            ad_ca_file: self.ad_ca_file.clone(),
            ad_tls_name: self.ad_tls_name.clone(),
            ad_fingerprint: self.ad_fingerprint.clone(),
            connector_account: self.connector_account.clone(),
            scope: self.scope.clone(),
            directories: Vec::new(),
            ..base.clone()
        }
    }
}

fn forest_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    check_forest(&text).map_err(serde::de::Error::custom)?;
    Ok(text)
}

impl Settings {
    /// Empty settings of the current version.
    pub fn new() -> Self {
        Settings { version: SETTINGS_VERSION, ..Default::default() }
    }

    /// Parses settings text, refusing other versions with a clear reason.
    pub fn parse(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        // Read the version alone first, so a file from a newer build is refused for that reason
        // rather than for a key this build does not know.
        #[derive(Deserialize)]
        struct VersionOnly {
            version: Option<i64>,
        }
        let probe: VersionOnly =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), detail: e.to_string() })?;
        match probe.version {
            None => return Err(ConfigError::NoVersion { path: path.to_path_buf() }),
            Some(v) if v == i64::from(SETTINGS_VERSION) => {}
            Some(v) if v > i64::from(SETTINGS_VERSION) => {
                return Err(ConfigError::NewerVersion { path: path.to_path_buf(), found: v });
            }
            Some(v) => return Err(ConfigError::UnknownVersion { path: path.to_path_buf(), found: v }),
        }
        let settings: Settings =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), detail: e.to_string() })?;
        // The lab is chosen on the command line only (`--lab`, `--cloud lab --lab-url`): a file
        // that names it would turn a production run into one that signs in to, and sends
        // credentials to, whatever URL it holds.
        let lab_keys: Vec<&str> = [
            ("lab_url", settings.lab_url.is_some()),
            ("cloud = \"lab\"", settings.cloud == Some(Cloud::Lab)),
            ("sync_engine = \"lab\"", settings.sync_engine == Some(SyncEngineKind::Lab)),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect();
        if !lab_keys.is_empty() {
            return Err(ConfigError::LabKey { path: path.to_path_buf(), keys: lab_keys.join(", ") });
        }
        Ok(settings)
    }

    /// Reads a settings file. A missing file gives empty settings: first runs have none.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Settings::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::new()),
            Err(source) => Err(ConfigError::Read { path: path.to_path_buf(), source }),
        }
    }

    /// Reads a settings file that must exist (an import).
    pub fn load_existing(path: &Path) -> Result<Settings, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Settings::parse(&text, path)
    }

    /// The TOML text, `version` first. The lab's keys are never written: they come from the
    /// command line only.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        let mut kept = self.clone();
        kept.lab_url = None;
        kept.cloud = kept.cloud.filter(|c| *c != Cloud::Lab);
        kept.sync_engine = kept.sync_engine.filter(|e| *e != SyncEngineKind::Lab);
        let body = toml::to_string(&kept).map_err(|e| ConfigError::Serialize { detail: e.to_string() })?;
        Ok(format!("# writeback-wizard settings. Secrets are never stored here.\n{body}"))
    }

    /// Writes the settings atomically (temp + fsync + rename), owner-readable only.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = self.to_toml()?;
        crate::fsutil::write_atomic(path, text.as_bytes(), true)
            .map_err(|source| ConfigError::Write { path: path.to_path_buf(), source })
    }

    /// Applies command-line values over the file's: each flag given wins; `scope` given at all
    /// replaces the whole list.
    pub fn overlay(mut self, flags: &SettingsOverlay) -> Settings {
        fn set<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
            if value.is_some() {
                slot.clone_from(value);
            }
        }
        set(&mut self.ad_url, &flags.ad_url);
        set(&mut self.forest, &flags.forest);
        set(&mut self.ad_user, &flags.ad_user);
        set(&mut self.ad_ca_file, &flags.ad_ca_file);
        set(&mut self.ad_tls_name, &flags.ad_tls_name);
        set(&mut self.ad_fingerprint, &flags.ad_fingerprint);
        set(&mut self.connector_account, &flags.connector_account);
        set(&mut self.cloud, &flags.cloud);
        set(&mut self.tenant, &flags.tenant);
        set(&mut self.lab_url, &flags.lab_url);
        set(&mut self.client_id, &flags.client_id);
        set(&mut self.sync_engine, &flags.sync_engine);
        set(&mut self.sync_engine_timeout, &flags.sync_engine_timeout);
        set(&mut self.cloudsync_admin, &flags.cloudsync_admin);
        if !flags.scope.is_empty() {
            self.scope.clone_from(&flags.scope);
        }
        self
    }
}

/// A forest is a DNS name: letters, digits and hyphens in dot-separated labels, nothing that could
/// carry text into a DNS query or a message.
pub fn check_forest(text: &str) -> Result<(), String> {
    let text = text.trim_end_matches('.');
    let labels: Vec<&str> = text.split('.').collect();
    let ok = !text.is_empty()
        && text.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if ok { Ok(()) } else { Err(format!("'{text}' is not a forest's DNS name (for example corp.example.com)")) }
}

fn forest_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    check_forest(&text).map_err(serde::de::Error::custom)?;
    Ok(Some(text))
}

/// A tenant is a GUID, a DNS name (a verified domain), or one of Entra's own words for "any"
/// (`organizations`, `common`). Nothing else is accepted anywhere it can come from (a flag, the
/// settings, an import), so a tenant can never carry text into a URL's path or a command line.
pub fn check_tenant(text: &str) -> Result<(), String> {
    let guid = uuid::Uuid::try_parse(text).is_ok() && text.len() == 36;
    let word = matches!(text, "organizations" | "common");
    let labels: Vec<&str> = text.split('.').collect();
    let dns = text.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if guid || word || dns {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a tenant: give its GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or a verified domain such as contoso.onmicrosoft.com",
            text.chars().take(80).collect::<String>()
        ))
    }
}

fn tenant_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    check_tenant(&text).map_err(serde::de::Error::custom)?;
    Ok(Some(text))
}

/// Two certificate pins name the same certificate (colons, spaces and case do not matter).
pub fn same_pin(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase();
    norm(a) == norm(b)
}

/// One connection setting an import would change: its key, this machine's value and the file's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub key: &'static str,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

/// What importing a settings file would do, worked out before anything is written: the settings
/// as they would be (this machine's record of grants kept) and every connection key that changes.
#[derive(Debug, Clone)]
pub struct ImportPreview {
    pub settings: Settings,
    pub changes: Vec<KeyChange>,
    /// This machine's pin, kept unless the person takes the file's.
    ours_pin: Option<String>,
    /// This machine's pin of each `[[directory]]` forest.
    ours_forest_pins: Vec<(String, Option<String>)>,
}

impl ImportPreview {
    /// The file pins another DC certificate than this machine (or pins one where this machine
    /// pins none).
    pub fn changes_pin(&self) -> bool {
        let theirs = |forest: &str| {
            self.settings
                .directories
                .iter()
                .find(|d| d.forest.eq_ignore_ascii_case(forest))
                .and_then(|d| d.ad_fingerprint.clone())
        };
        let forest_pin_changes = self.settings.directories.iter().any(|d| {
            let ours = self
                .ours_forest_pins
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(&d.forest))
                .and_then(|(_, p)| p.clone());
            match (ours, theirs(&d.forest)) {
                (Some(a), Some(b)) => !same_pin(&a, &b),
                (None, Some(_)) => true,
                _ => false,
            }
        });
        self.changes.iter().any(|c| c.key == "ad_fingerprint") || forest_pin_changes
    }
}

/// Reads `file` (and so validates it) and works out what importing it over `config_path` would
/// change. Nothing is written.
pub fn preview_import(file: &Path, config_path: &Path) -> Result<ImportPreview, ConfigError> {
    let mut settings = Settings::load_existing(file)?;
    let local = Settings::load(config_path)?;
    // What another machine granted is not ours: the local record (or its [granted]) stays.
    settings.granted = local.granted.clone();
    let show = |v: &Option<String>| v.clone();
    let path = |v: &Option<PathBuf>| v.as_ref().map(|p| p.display().to_string());
    // As the file spells it (`usgov-dod`).
    fn named<T: Serialize>(v: &Option<T>) -> Option<String> {
        v.as_ref().and_then(|v| serde_json::to_value(v).ok()).and_then(|v| v.as_str().map(String::from))
    }
    let list = |v: &[String]| (!v.is_empty()).then(|| v.join("; "));
    let pairs: Vec<(&'static str, Option<String>, Option<String>)> = vec![
        ("ad_url", show(&local.ad_url), show(&settings.ad_url)),
        ("forest", show(&local.forest), show(&settings.forest)),
        ("ad_user", show(&local.ad_user), show(&settings.ad_user)),
        ("ad_ca_file", path(&local.ad_ca_file), path(&settings.ad_ca_file)),
        ("ad_tls_name", show(&local.ad_tls_name), show(&settings.ad_tls_name)),
        ("ad_fingerprint", show(&local.ad_fingerprint), show(&settings.ad_fingerprint)),
        ("connector_account", show(&local.connector_account), show(&settings.connector_account)),
        ("scope", list(&local.scope), list(&settings.scope)),
        ("cloud", named(&local.cloud), named(&settings.cloud)),
        ("tenant", show(&local.tenant), show(&settings.tenant)),
        ("client_id", show(&local.client_id), show(&settings.client_id)),
        ("sync_engine", named(&local.sync_engine), named(&settings.sync_engine)),
        ("cloudsync_admin", show(&local.cloudsync_admin), show(&settings.cloudsync_admin)),
        ("directory", directories(&local.directories), directories(&settings.directories)),
    ];
    let changes = pairs
        .into_iter()
        .filter(|(key, ours, theirs)| match (*key, ours, theirs) {
            ("ad_fingerprint", Some(a), Some(b)) => !same_pin(a, b),
            _ => ours != theirs,
        })
        .map(|(key, ours, theirs)| KeyChange { key, ours, theirs })
        .collect();
    let ours_forest_pins = local.directories.iter().map(|d| (d.forest.clone(), d.ad_fingerprint.clone())).collect();
    Ok(ImportPreview { settings, changes, ours_pin: local.ad_fingerprint, ours_forest_pins })
}

/// The `[[directory]]` tables in one line each (`forest: key=value, …`), for an import's preview.
fn directories(list: &[DirectorySettings]) -> Option<String> {
    let lines: Vec<String> = list
        .iter()
        .map(|d| {
            let mut text = toml::to_string(d).unwrap_or_default().replace('\n', ", ");
            text.truncate(text.trim_end_matches([',', ' ']).len());
            text
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// Writes an import worked out by [`preview_import`]. The file's certificate pin is taken only
/// with `take_their_pin` (after the person checked it); otherwise this machine's pin (or none)
/// stays.
pub fn apply_import(preview: ImportPreview, config_path: &Path, take_their_pin: bool) -> Result<(), ConfigError> {
    let ImportPreview { mut settings, ours_pin, ours_forest_pins, .. } = preview;
    if !take_their_pin {
        settings.ad_fingerprint = ours_pin;
        for d in &mut settings.directories {
            d.ad_fingerprint = ours_forest_pins
                .iter()
                .find(|(forest, _)| forest.eq_ignore_ascii_case(&d.forest))
                .and_then(|(_, pin)| pin.clone());
        }
    }
    settings.save(config_path)
}

/// The settings keys as given on a command line (`None` = not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsOverlay {
    /// `--ad-url`
    pub ad_url: Option<String>,
    /// `--forest`
    pub forest: Option<String>,
    /// `--ad-user`
    pub ad_user: Option<String>,
    /// `--ad-ca-file`
    pub ad_ca_file: Option<PathBuf>,
    /// `--ad-tls-name`
    pub ad_tls_name: Option<String>,
    /// `--ad-fingerprint`
    pub ad_fingerprint: Option<String>,
    /// `--connector-account`
    pub connector_account: Option<String>,
    /// `--scope` (repeatable)
    pub scope: Vec<String>,
    /// `--cloud`
    pub cloud: Option<Cloud>,
    /// `--tenant`
    pub tenant: Option<String>,
    /// `--lab-url`
    pub lab_url: Option<String>,
    /// `--client-id`
    pub client_id: Option<String>,
    /// `--sync-engine`
    pub sync_engine: Option<SyncEngineKind>,
    /// `--sync-engine-timeout` in seconds
    pub sync_engine_timeout: Option<u64>,
    /// `--cloudsync-admin`
    pub cloudsync_admin: Option<String>,
    /// `--ad-current-user`: sign in to AD as the account this runs as (never kept in the file).
    pub ad_current_user: bool,
    /// `--ad-simple-bind`: a password inside TLS instead of Kerberos (never kept in the file).
    pub ad_simple_bind: bool,
    /// `--ad-timeout` in seconds (never kept in the file)
    pub ad_timeout: Option<u64>,
    /// `--include-adminsdholder` (never kept in the file)
    pub include_adminsdholder: bool,
    /// `--leave-out` (never kept in the file): forests left out of this run on purpose.
    pub leave_out: Vec<String>,
    /// `--remember-sign-in`: keep the tenant sign-in's refresh token in the OS keyring (never kept
    /// in the file; off unless asked).
    pub remember_sign_in: bool,
}

/// The settings file used when `--config` is not given: `settings.toml` in the platform's config
/// directory (`~/.config/writeback-wizard/` on Linux, `%APPDATA%\writeback-wizard\` on Windows).
pub fn default_path() -> PathBuf {
    crate::platform::config_dir().join("settings.toml")
}

/// Why the settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read the settings file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file cannot be written.
    #[error("cannot write the settings file {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a key of the wrong type or unknown.
    #[error("the settings file {} is not valid: {detail}", path.display())]
    Parse {
        path: PathBuf,
        /// The parser's message with line and column.
        detail: String,
    },
    /// No `version` key.
    #[error("the settings file {} has no `version` key", path.display())]
    NoVersion { path: PathBuf },
    /// Written by a newer build.
    #[error("the settings file {} is version {found}, newer than this build understands (version {SETTINGS_VERSION})", path.display())]
    NewerVersion {
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// A version that never existed.
    #[error("the settings file {} has version {found}, which no build of writeback-wizard writes", path.display())]
    UnknownVersion {
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// Serialising failed (should not happen for valid settings).
    /// The file names the lab, which only the command line may.
    #[error("the settings file {} names the lab ({keys}); the lab is chosen on the command line only", path.display())]
    LabKey { path: PathBuf, keys: String },
    #[error("cannot serialise the settings: {detail}")]
    Serialize {
        /// The serialiser's message.
        detail: String,
    },
}

impl Diagnose for ConfigError {
    fn code(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "CONFIG-READ",
            ConfigError::Write { .. } => "CONFIG-WRITE",
            ConfigError::Parse { .. } => "CONFIG-PARSE",
            ConfigError::NoVersion { .. } => "CONFIG-NO-VERSION",
            ConfigError::NewerVersion { .. } => "CONFIG-NEWER",
            ConfigError::UnknownVersion { .. } => "CONFIG-VERSION",
            ConfigError::Serialize { .. } => "CONFIG-SERIALIZE",
            ConfigError::LabKey { .. } => "CONFIG-LAB-KEY",
        }
    }
    fn remedy(&self) -> String {
        match self {
            ConfigError::Read { .. } => "Check the file's permissions, or point --config at another file.".into(),
            ConfigError::Write { .. } => {
                "Check free disk space and that the folder is writable, or point --config at another file; the previous settings file is unchanged.".into()
            }
            ConfigError::Parse { .. } => {
                "Correct the line named above (keys are listed in docs/cli.md), or move the file aside to start from defaults.".into()
            }
            ConfigError::NoVersion { .. } => "Add `version = 1` as the first line, or export the settings again with `writeback-wizard config export`.".into(),
            ConfigError::NewerVersion { .. } => {
                "Upgrade writeback-wizard to the version that wrote this file, or use --config with a file this version wrote.".into()
            }
            ConfigError::UnknownVersion { .. } => "Set `version = 1`, or export the settings again with `writeback-wizard config export`.".into(),
            ConfigError::Serialize { .. } => "Report this as a bug, with the settings file attached (it holds no secrets).".into(),
            ConfigError::LabKey { .. } => "Remove those lines from the file (nobody but you should have put them there), and give the lab on the command line: --lab, or --cloud lab --lab-url http://127.0.0.1:PORT.".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            ConfigError::Parse { .. }
            | ConfigError::NoVersion { .. }
            | ConfigError::NewerVersion { .. }
            | ConfigError::UnknownVersion { .. }
            | ConfigError::LabKey { .. } => Exit::Usage,
            ConfigError::Read { .. } | ConfigError::Write { .. } | ConfigError::Serialize { .. } => Exit::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Settings {
        let mut s = Settings::new();
        s.ad_url = Some("ldaps://dc1.corp.example".into());
        s.ad_user = Some(r"CORP\admin".into());
        s.scope = vec!["OU=Staff,DC=corp,DC=example".into()];
        s.cloud = Some(Cloud::UsgovDod);
        let ace = crate::ad::sd::sddl::persisted::read(
            "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)",
        )
        .unwrap();
        s.granted.insert("DC=corp,DC=example".into(), vec![ace]);
        s
    }

    #[test]
    fn round_trip_keeps_everything_and_version_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.toml");
        let s = sample();
        s.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let first_key = text.lines().find(|l| !l.starts_with('#')).unwrap();
        assert_eq!(first_key, "version = 1");
        assert!(text.contains("[granted]"), "{text}");
        assert_eq!(Settings::load(&p).unwrap(), s);
    }

    #[test]
    fn cloud_names_are_the_flags_values() {
        let s = Settings::parse("version = 1\ncloud = \"usgov-dod\"\nsync_engine = \"cloudsync\"\n", Path::new("s"))
            .unwrap();
        assert_eq!(s.cloud, Some(Cloud::UsgovDod));
        assert_eq!(s.sync_engine, Some(SyncEngineKind::Cloudsync));
        let e = Settings::parse("version = 1\ncloud = \"mars\"\n", Path::new("s")).unwrap_err();
        assert!(e.to_string().contains("mars"), "{e}");
    }

    #[test]
    fn missing_file_is_empty_settings() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(&dir.path().join("none.toml")).unwrap(), Settings::new());
    }

    #[test]
    fn the_fuzz_corpus_holds_settings_of_this_format() {
        let p = Path::new("full.toml");
        let s = Settings::parse(include_str!("../../../fuzz/corpus/settings/full.toml"), p).unwrap();
        assert_eq!(s.granted.len(), 2);
        assert_eq!(s.cloud, Some(Cloud::UsgovDod));
        let e = Settings::parse(include_str!("../../../fuzz/corpus/settings/lab.toml"), p).unwrap_err();
        assert_eq!(e.code(), "CONFIG-LAB-KEY", "a file never names the lab: {e}");
        assert!(matches!(
            Settings::parse(include_str!("../../../fuzz/corpus/settings/newer.toml"), p),
            Err(ConfigError::NewerVersion { .. })
        ));
    }

    #[test]
    fn the_lab_is_never_taken_from_a_file_nor_written_to_one() {
        for text in [
            "version = 1\nlab_url = \"http://127.0.0.1:1\"\n",
            "version = 1\ncloud = \"lab\"\n",
            "version = 1\nsync_engine = \"lab\"\n",
        ] {
            let e = Settings::parse(text, Path::new("s.toml")).unwrap_err();
            assert_eq!((e.code(), e.exit()), ("CONFIG-LAB-KEY", Exit::Usage), "{text}");
            assert!(e.remedy().contains("--lab-url"), "{}", e.remedy());
        }
        let mut s = Settings::new();
        s.ad_url = Some("ldaps://dc1".into());
        s.cloud = Some(Cloud::Lab);
        s.lab_url = Some("http://127.0.0.1:9".into());
        s.sync_engine = Some(SyncEngineKind::Lab);
        let text = s.to_toml().unwrap();
        assert!(!text.contains("lab") && text.contains("ldaps://dc1"), "{text}");
    }

    #[test]
    fn newer_version_is_refused_before_unknown_keys() {
        let err = Settings::parse("version = 2\nfuture_key = true\n", Path::new("s.toml")).unwrap_err();
        assert_eq!(err.code(), "CONFIG-NEWER");
        assert!(err.to_string().contains("version 2"));
        assert!(err.remedy().contains("Upgrade"));
        assert_eq!(err.exit(), Exit::Usage);
    }

    #[test]
    fn a_tenant_is_a_guid_or_a_domain_and_nothing_else() {
        for ok in ["contoso.onmicrosoft.com", "9188040d-6c67-4c5b-b112-36a304b66dad", "organizations", "fabrikam.com"] {
            assert!(check_tenant(ok).is_ok(), "{ok}");
        }
        for bad in
            ["", "contoso", "a b.com", "x.com/../v2.0", "x.com\"; calc", "-x.com", "9188040d6c674c5bb11236a304b66dad"]
        {
            assert!(check_tenant(bad).is_err(), "{bad}");
        }
        let e = Settings::parse("version = 1\ntenant = \"x.com & calc\"\n", Path::new("s.toml")).unwrap_err();
        assert_eq!(e.code(), "CONFIG-PARSE");
        assert!(e.to_string().contains("is not a tenant"), "{e}");
    }

    #[test]
    fn unknown_key_missing_version_and_bad_toml_are_clear() {
        let e = Settings::parse("version = 1\nad_password = \"x\"\n", Path::new("s.toml")).unwrap_err();
        assert_eq!(e.code(), "CONFIG-PARSE");
        assert!(e.to_string().contains("ad_password"), "{e}");
        let e = Settings::parse("ad_url = \"ldaps://x\"\n", Path::new("s.toml")).unwrap_err();
        assert_eq!(e.code(), "CONFIG-NO-VERSION");
        let e = Settings::parse("version = = 1", Path::new("s.toml")).unwrap_err();
        assert_eq!(e.code(), "CONFIG-PARSE");
        let e = Settings::parse("version = 0", Path::new("s.toml")).unwrap_err();
        assert_eq!(e.code(), "CONFIG-VERSION");
    }

    #[test]
    fn one_directory_table_per_forest_round_trips_and_is_checked() {
        let text = "version = 1\ntenant = \"contoso.com\"\n\n[[directory]]\nforest = \"corp.example\"\nad_user = \"CORP\\\\admin\"\n\n[[directory]]\nforest = \"south.corp.test\"\nad_url = \"ldaps://dc1.south.corp.test\"\nad_fingerprint = \"aa:bb\"\nscope = [\"OU=Staff,DC=south,DC=corp,DC=test\"]\n";
        let s = Settings::parse(text, Path::new("s")).unwrap();
        assert_eq!(s.directories.len(), 2);
        assert_eq!(s.directories[1].scope, vec!["OU=Staff,DC=south,DC=corp,DC=test".to_string()]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        s.save(&p).unwrap();
        assert_eq!(Settings::load(&p).unwrap(), s);
        assert!(std::fs::read_to_string(&p).unwrap().contains("[[directory]]"));
        // The table's keys replace the top level's for its forest; the rest is shared.
        let south = s.directories[1].over(&s);
        assert_eq!((south.forest.as_deref(), south.tenant.as_deref()), (Some("south.corp.test"), Some("contoso.com")));
        for bad in [
            "version = 1\n[[directory]]\nforest = \"x y\"\n",
            "version = 1\n[[directory]]\nad_url = \"ldaps://dc\"\n",
            "version = 1\n[[directory]]\nforest = \"a.b\"\nad_password = \"x\"\n",
        ] {
            assert_eq!(Settings::parse(bad, Path::new("s")).unwrap_err().code(), "CONFIG-PARSE", "{bad}");
        }
        // An import keeps this machine's pin of each forest unless told otherwise.
        let mut ours = s.clone();
        ours.directories[1].ad_fingerprint = Some("cc:dd".into());
        let local = dir.path().join("local.toml");
        ours.save(&local).unwrap();
        let preview = preview_import(&p, &local).unwrap();
        assert!(preview.changes_pin() && preview.changes.iter().any(|c| c.key == "directory"));
        apply_import(preview, &local, false).unwrap();
        assert_eq!(Settings::load(&local).unwrap().directories[1].ad_fingerprint.as_deref(), Some("cc:dd"));
    }

    #[test]
    fn flags_override_the_file_and_scope_replaces_the_list() {
        let s = sample();
        let flags = SettingsOverlay {
            ad_url: Some("ldaps://dc2.corp.example".into()),
            scope: vec!["OU=A,DC=corp,DC=example".into(), "OU=B,DC=corp,DC=example".into()],
            ..Default::default()
        };
        let merged = s.clone().overlay(&flags);
        assert_eq!(merged.ad_url.as_deref(), Some("ldaps://dc2.corp.example"));
        assert_eq!(merged.ad_user, s.ad_user);
        assert_eq!(merged.scope.len(), 2);
        assert_eq!(merged.granted, s.granted);
        assert_eq!(s.clone().overlay(&SettingsOverlay::default()), s);
    }
}
