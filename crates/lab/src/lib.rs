//! The lab: a real Samba AD domain controller on a loopback address, seeded with a small company.
//!
//! `lab up` provisions once into a template (≈7 s), then copies the template for each new DC
//! (ready in about a second), rewrites its paths and address, issues it a fresh certificate and
//! fresh Administrator and connector passwords. Several DCs run at once, each on its own
//! 127.0.0.N. See docs/lab.md.

#![allow(clippy::result_large_err)]

pub(crate) use writeback_ad as ad;
pub(crate) use writeback_base::{clock, diagnose, fsutil, platform, secrets};

pub mod addr;
pub mod certs;
pub mod link;
pub mod samba;
pub mod seed;
pub mod tenant;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ad::{AdConnection, ConnectOptions, TlsTrust};
use crate::diagnose::{Diagnose, Exit};
use crate::secrets::Secret;
use certs::TlsFiles;
pub use samba::LabForest;
use samba::SambaTools;

/// Bump when the seeded content or layout changes: older templates are rebuilt.
const TEMPLATE_FORMAT: u32 = 6;
/// How long a starting DC may take to answer LDAP.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What `lab up` and `lab status` report (the CLI contract's fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabInfo {
    /// The lab folder.
    pub dir: PathBuf,
    /// `ldaps://127.0.0.N`; `ldap://127.0.0.N` for a lab without TLS.
    pub ldap_url: String,
    /// Whether the DC has a certificate (LDAPS and StartTLS); `lab up --no-tls` makes one without.
    pub tls: bool,
    /// The forest's DNS name: what an administrator gives `--forest`.
    pub forest: String,
    /// The DC's DNS name (in its SRV records, its SPN `ldap/…` and its certificate).
    pub dc_host: String,
    /// The Kerberos realm.
    pub realm: String,
    /// The DC's DNS server, which answers for the forest (SRV and A records): `127.0.0.N`.
    pub dns_server: String,
    /// A krb5.conf naming the realm's KDC (`KRB5_CONFIG=` it to sign in with Kerberos).
    pub krb5_conf: PathBuf,
    /// A resolv.conf naming the DC's DNS server, for a process run where it is mounted over
    /// /etc/resolv.conf (a private mount namespace: the machine's own is never changed).
    pub resolv_conf: PathBuf,
    /// The name in the DC's certificate (the URL holds an IP).
    pub tls_name: String,
    /// The lab CA's PEM file.
    pub ca_file: PathBuf,
    /// The domain's naming context.
    pub base_dn: String,
    /// The domain administrator, as `LAB\Administrator`.
    pub admin_user: String,
    /// File (0600) holding the administrator's password.
    pub admin_password_file: PathBuf,
    /// The AD DS connector account's sAMAccountName (`MSOL_…`).
    pub connector_account: String,
    /// File (0600) holding the connector account's password.
    pub connector_password_file: PathBuf,
    /// A test user for the canary check.
    pub canary_user: String,
}

/// `lab.json`: the info plus what restarting the DC needs. Holds no secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LabState {
    #[serde(flatten)]
    info: LabInfo,
    address: Ipv4Addr,
}

/// How `lab up` makes a new lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpOptions {
    /// Give the DC a certificate (LDAPS, StartTLS). Without, it is reached only with Kerberos.
    pub tls: bool,
    /// The forest it holds (a second lab beside the first is another forest).
    pub forest: LabForest,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions { tls: true, forest: LabForest::default() }
    }
}

/// `template.json` beside the template's `dc/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TemplateInfo {
    format: u32,
    samba_version: String,
    /// The DC folder path written in the template's smb.conf (it was built elsewhere).
    dc_dir_in_conf: String,
    connector_account: String,
    /// Templates of older versions hold the default forest.
    #[serde(default)]
    forest: LabForest,
}

/// `program` with `args`, run where `resolv_conf` is mounted over /etc/resolv.conf: a private mount
/// namespace (`unshare -m`, root), so the program's resolver asks the lab's DNS while the
/// machine's own resolver is never changed. The caller adds the environment and stdio.
pub fn with_resolver(
    resolv_conf: &Path,
    program: &std::ffi::OsStr,
    args: &[&std::ffi::OsStr],
) -> std::process::Command {
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\""])
        .arg(resolv_conf)
        .arg(program)
        .args(args);
    cmd
}

/// The default lab folder: `lab` in the platform's data folder.
pub fn default_dir() -> PathBuf {
    dirs::data_local_dir().unwrap_or_else(std::env::temp_dir).join("writeback-wizard").join("lab")
}

/// The template folder of `forest`: `WRITEBACK_LAB_TEMPLATE_DIR`, else `lab-template` in the
/// data folder; another forest's has its name appended (`lab-template-south.example.test`).
pub fn template_dir(forest: &LabForest) -> PathBuf {
    let base = std::env::var_os("WRITEBACK_LAB_TEMPLATE_DIR").map(PathBuf::from).unwrap_or_else(|| {
        dirs::data_local_dir().unwrap_or_else(std::env::temp_dir).join("writeback-wizard").join("lab-template")
    });
    if forest.is_default() {
        return base;
    }
    let mut name = base.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!("-{}", forest.dns()));
    base.with_file_name(name)
}

/// The lab DC's AD connector as Entra Connect stores it: the forest, the connector account
/// (`DOMAIN\\name`) with its password, the DC and its certificate's fingerprint — what the lab sync
/// engine needs to write passwords back as the connector (`POST /lab/sync-engine`'s
/// `ad_connectors`).
pub fn ad_connector(info: &LabInfo) -> Result<tenant::LabAdConnector, LabError> {
    let forest = LabForest::new(&info.forest)?;
    let password = std::fs::read_to_string(&info.connector_password_file).map_err(|source| LabError::Io {
        what: "read a password file",
        path: info.connector_password_file.clone(),
        source,
    })?;
    let cert = certs::TlsFiles::in_dc_dir(&info.dir.join("dc")).cert;
    let fingerprint =
        info.tls.then(|| writeback_ad::tls::pem_file_fingerprint(&cert)).transpose().map_err(|e| LabError::Io {
            what: "read the DC's certificate",
            path: cert.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    Ok(tenant::LabAdConnector {
        forest: info.forest.clone(),
        account: format!("{}\\{}", forest.netbios(), info.connector_account),
        domains: vec![info.forest.clone()],
        password: Some(password.trim_end_matches('\n').to_string()),
        dc_url: Some(info.ldap_url.clone()),
        fingerprint,
    })
}

/// The Samba lab runs on Linux only; elsewhere its commands say so.
pub fn needs_linux() -> Result<(), LabError> {
    if crate::platform::SAMBA_LAB { Ok(()) } else { Err(LabError::NeedsLinux) }
}

/// The lab runs Samba as root from what its folders hold (smb.conf, the databases, the password
/// files): a folder another account may change, or one that is a link, would be code run as root.
/// Refused, with the way to fix it.
pub fn check_folder(dir: &Path) -> Result<(), LabError> {
    let euid = crate::platform::effective_uid().unwrap_or(0);
    match crate::platform::ownership(dir).map_err(io("check the owner of", dir))? {
        Some(crate::platform::Ownership::Unix { uid, mode, symlink }) => {
            crate::platform::unix_private(uid, mode, symlink, euid)
                .map_err(|why| LabError::UnsafeFolder { dir: dir.to_path_buf(), why })
        }
        _ => Ok(()),
    }
}

/// Fails unless the effective user is root (Samba's DC binds ports below 1024 and chowns its
/// files).
pub fn check_root(euid: u32) -> Result<(), LabError> {
    if euid == 0 { Ok(()) } else { Err(LabError::NotRoot { euid }) }
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> LabError {
    let path = path.to_path_buf();
    move |source| LabError::Io { what, path, source }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, LabError> + Send + 'static) -> Result<T, LabError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| LabError::Internal { detail: e.to_string() })?
}

fn admin_user(forest: &LabForest) -> String {
    format!("{}\\Administrator", forest.netbios())
}

fn trust_for(dc_dir: &Path, forest: &LabForest) -> TlsTrust {
    TlsTrust { ca_file: Some(TlsFiles::in_dc_dir(dc_dir).ca), tls_name: Some(forest.dc_host()), fingerprint: None }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, LabError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| LabError::Corrupt { path: path.to_path_buf(), detail: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LabError::Io { what: "read", path: path.to_path_buf(), source }),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), LabError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| LabError::Internal { detail: e.to_string() })?;
    crate::fsutil::write_atomic(path, &text, false).map_err(io("write", path))
}

fn write_secret(path: &Path, secret: &Secret) -> Result<(), LabError> {
    // Exactly the password, no newline: OpenLDAP's `-y FILE` (ldapsearch) reads every byte.
    crate::fsutil::write_atomic(path, secret.expose().as_bytes(), true).map_err(io("write a password file", path))
}

/// Waits until the DC in `dc_dir` answers a rootDSE read at `addr`: over LDAPS, or in the clear
/// (no bind: nothing but the rootDSE is asked) when it has no TLS.
async fn wait_ready(dc_dir: &Path, addr: Ipv4Addr, tls: bool, forest: &LabForest) -> Result<(), LabError> {
    let deadline = Instant::now() + START_TIMEOUT;
    let url = if tls { format!("ldaps://{addr}") } else { format!("ldap://{addr}") };
    let opts = ConnectOptions {
        timeout: Duration::from_secs(2),
        plain: !tls,
        ..ConnectOptions::new(url, trust_for(dc_dir, forest))
    };
    let pid_deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if Instant::now() > pid_deadline && samba::running_pid(dc_dir).is_none() {
            return Err(LabError::Died { log_tail: log_tail(dc_dir) });
        }
        if let Ok(mut conn) = AdConnection::connect(&opts).await
            && conn.root_dse().await.is_ok()
        {
            conn.close().await;
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(LabError::StartTimeout { dir: dc_dir.to_path_buf(), log_tail: log_tail(dc_dir) });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Samba's own last words: the last lines of each log it wrote in the DC's log folder (the root
/// process's log.samba, and those of smbd and winbindd), newest first.
fn log_tail(dc_dir: &Path) -> String {
    let folder = samba::log_file(dc_dir).parent().map(Path::to_path_buf).unwrap_or_else(|| dc_dir.join("log"));
    let mut logs: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&folder)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let meta = e.metadata().ok()?;
                    let modified = meta.modified().ok()?;
                    (meta.is_file() && meta.len() > 0).then(|| (modified, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    logs.sort_by_key(|l| std::cmp::Reverse(l.0));
    let parts: Vec<String> = logs
        .iter()
        .take(3)
        .filter_map(|(_, path)| {
            let text = std::fs::read_to_string(path).ok()?;
            Some(format!("{}:\n{}", path.display(), samba::tail(&text, 8)))
        })
        .collect();
    if parts.is_empty() {
        format!(
            "(Samba wrote no log in {}; `samba -i -s {}` shows why it stops)",
            folder.display(),
            samba::smb_conf(dc_dir).display()
        )
    } else {
        parts.join("\n")
    }
}

async fn bind_admin(
    dc_dir: &Path,
    addr: Ipv4Addr,
    password: &Secret,
    forest: &LabForest,
) -> Result<AdConnection, LabError> {
    let opts = ConnectOptions::new(format!("ldaps://{addr}"), trust_for(dc_dir, forest));
    let mut conn = AdConnection::connect(&opts).await?;
    conn.bind(&admin_user(forest), password).await?;
    Ok(conn)
}

fn lock_file(dir: &Path) -> Result<std::fs::File, LabError> {
    let path = dir.join("lab.lock");
    std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io("open", &path))
}

/// Takes the lab folder's lock, waiting (without blocking the runtime) for another start.
async fn lock_folder(dir: &Path) -> Result<crate::platform::FileLock, LabError> {
    let file = lock_file(dir)?;
    let dir = dir.to_path_buf();
    blocking(move || crate::platform::FileLock::acquire(file).map_err(io("lock the lab folder", &dir))).await
}

/// Every Samba process of the lab in `dir` (for tests: none may be left after `lab down`).
pub fn processes(dir: &Path) -> Vec<i32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    samba::processes(&dir.join("dc"))
}

/// Starts the DC in `dc_dir` on a newly claimed address — its DNS records moved there, TLS on or
/// off, `passwords` set, the lab's krb5.conf and resolv.conf written beside it — and waits until
/// it answers. On failure the DC is stopped and the claim released.
async fn start_claimed(
    tools: &SambaTools,
    dc_dir: &Path,
    tls: bool,
    forest: &LabForest,
    passwords: Vec<(String, Secret)>,
) -> Result<Ipv4Addr, LabError> {
    // A process outside the claims (a DC whose lab folder was deleted under it) may take the
    // address between the check and Samba's start: another address, a few times.
    let mut tries = 0;
    loop {
        match start_once(tools, dc_dir, tls, forest, passwords.clone()).await {
            Err(LabError::Died { log_tail }) if log_tail.contains("ADDRESS_ALREADY_ASSOCIATED") && tries < 3 => {
                tries += 1;
                tracing::info!("the lab DC's address was taken meanwhile; trying another");
            }
            other => return other,
        }
    }
}

async fn start_once(
    tools: &SambaTools,
    dc_dir: &Path,
    tls: bool,
    forest: &LabForest,
    passwords: Vec<(String, Secret)>,
) -> Result<Ipv4Addr, LabError> {
    let claim = addr::claim(
        dc_dir,
        &|d| samba::running_pid(d).is_some(),
        crate::clock::Clock::now(&crate::clock::SystemClock),
    )?;
    let result = async {
        // Whatever of an earlier run is left (an orphaned smbd holds the folder's databases) would
        // keep this start from answering.
        let strays = dc_dir.to_path_buf();
        blocking(move || samba::stop(&strays, Duration::from_secs(5))).await?;
        let conf = samba::smb_conf(dc_dir);
        let text = std::fs::read_to_string(&conf).map_err(io("read", &conf))?;
        let dir_text = dc_dir.display().to_string();
        let text = samba::set_tls(&samba::rewrite_conf(&text, &dir_text, &dir_text, claim.addr), tls);
        std::fs::write(&conf, text).map_err(io("write", &conf))?;
        let (tools2, dc, addr) = (tools.clone(), dc_dir.to_path_buf(), claim.addr);
        blocking(move || {
            let named: Vec<(&str, &Secret)> = passwords.iter().map(|(s, p)| (s.as_str(), p)).collect();
            tools2.prepare(&dc, addr, &named)
        })
        .await?;
        if let Some(lab_dir) = dc_dir.parent() {
            let krb5 = lab_dir.join("krb5.conf");
            crate::fsutil::write_atomic(&krb5, samba::krb5_conf(claim.addr, forest).as_bytes(), false)
                .map_err(io("write", &krb5))?;
            let resolv = lab_dir.join("resolv.conf");
            crate::fsutil::write_atomic(&resolv, format!("nameserver {}\n", claim.addr).as_bytes(), false)
                .map_err(io("write", &resolv))?;
        }
        tools.start(dc_dir)?;
        wait_ready(dc_dir, claim.addr, tls, forest).await
    }
    .await;
    if let Err(e) = result {
        let _ = samba::stop(dc_dir, Duration::from_secs(5));
        addr::release(claim.addr, dc_dir);
        return Err(e);
    }
    Ok(claim.addr)
}

/// Makes sure a template for the installed Samba exists, building it under a lock.
async fn ensure_template(tools: &SambaTools, forest: &LabForest) -> Result<(PathBuf, TemplateInfo), LabError> {
    let template = template_dir(forest);
    let parent = template.parent().map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
    if !parent.exists() {
        std::fs::create_dir_all(&parent).map_err(io("create", &parent))?;
        restrict(&parent)?;
    }
    // The template is copied into every lab: it and the folder that holds it are trusted only
    // when nobody else may change them.
    check_folder(&parent)?;
    if template.exists() {
        check_folder(&template)?;
    }
    let mut lock_name = template.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    lock_name.push(".lock");
    let lock_path = template.with_file_name(lock_name);
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io("open", &lock_path))?;
    // Another process may be building it: wait for its lock (provisioning takes seconds).
    let lock = blocking(move || {
        crate::platform::FileLock::acquire(lock_file)
            .map_err(|e| LabError::Internal { detail: format!("cannot lock the template: {e}") })
    })
    .await?;
    let version = tools.version()?;
    if let Some(info) = read_json::<TemplateInfo>(&template.join("template.json"))? {
        if info.format == TEMPLATE_FORMAT && info.samba_version == version && info.forest == *forest {
            drop(lock);
            return Ok((template, info));
        }
        tracing::info!(old = %info.samba_version, new = %version, "rebuilding the lab template");
    }
    let building = parent.join(format!("lab-template-{}.building-{}", forest.dns(), std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let built = build_template(tools, &building, &version, forest).await;
    let info = match built {
        Ok(info) => info,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&building);
            return Err(e);
        }
    };
    if template.exists() {
        std::fs::remove_dir_all(&template).map_err(io("remove the old template", &template))?;
    }
    std::fs::rename(&building, &template).map_err(io("move the template into place", &template))?;
    drop(lock);
    Ok((template, info))
}

async fn build_template(
    tools: &SambaTools,
    building: &Path,
    version: &str,
    forest: &LabForest,
) -> Result<TemplateInfo, LabError> {
    let started = Instant::now();
    let dc_dir = building.join("dc");
    std::fs::create_dir_all(building).map_err(io("create", building))?;
    let claim = addr::claim(
        &dc_dir,
        &|d| samba::running_pid(d).is_some(),
        crate::clock::Clock::now(&crate::clock::SystemClock),
    )?;
    let result = async {
        let provision_dir = dc_dir.clone();
        let tools2 = tools.clone();
        let addr = claim.addr;
        let forest2 = forest.clone();
        let admin = blocking(move || tools2.provision(&provision_dir, addr, &forest2)).await?;
        tools.add_ldap_spn(&dc_dir, forest)?;
        let files = TlsFiles::in_dc_dir(&dc_dir);
        certs::issue(&files, &forest.dc_host())?;
        let conf = samba::smb_conf(&dc_dir);
        let text = std::fs::read_to_string(&conf).map_err(io("read", &conf))?;
        std::fs::write(&conf, samba::add_tls_settings(&text, &files)).map_err(io("write", &conf))?;
        tools.start(&dc_dir)?;
        wait_ready(&dc_dir, claim.addr, true, forest).await?;
        let mut conn = bind_admin(&dc_dir, claim.addr, &admin, forest).await?;
        // StdRng, not the thread-local rng: this future must be Send (the wizard runs it on tokio).
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
        let seeded = seed::seed(&mut conn, forest, &mut rng).await?;
        conn.close().await;
        Ok::<_, LabError>(seeded)
    }
    .await;
    let stop_dir = dc_dir.clone();
    let stopped = blocking(move || samba::stop(&stop_dir, Duration::from_secs(10))).await;
    addr::release(claim.addr, &dc_dir);
    let seeded = result?;
    stopped?;
    let info = TemplateInfo {
        format: TEMPLATE_FORMAT,
        samba_version: version.to_string(),
        dc_dir_in_conf: dc_dir.display().to_string(),
        connector_account: seeded.connector_account,
        forest: forest.clone(),
    };
    write_json(&building.join("template.json"), &info)?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "lab template built");
    Ok(info)
}

/// Brings the lab DC in `dir` up: reuses it when it runs, restarts it when it was stopped, or
/// creates it from the template (with or without TLS, as `opts` say; a lab keeps the choice it
/// was made with). Returns the contract's fields.
pub async fn up(dir: &Path, opts: UpOptions) -> Result<LabInfo, LabError> {
    needs_linux()?;
    check_root(crate::platform::effective_uid().unwrap_or(0))?;
    let tools = SambaTools::locate()?;
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(io("create the lab folder", dir))?;
        restrict(dir)?;
    }
    check_folder(dir)?;
    let dir = std::fs::canonicalize(dir).map_err(io("resolve the lab folder", dir))?;
    // One start at a time per lab folder: two at once (the wizard starts the lab when it opens,
    // and again when it connects) each claimed an address and started a Samba in the same
    // folder, and the one whose PID file was overwritten ran on as an orphan.
    let _lock = lock_folder(&dir).await?;
    let dc_dir = dir.join("dc");
    let state_path = dir.join("lab.json");

    if let Some(mut state) = read_json::<LabState>(&state_path)? {
        if state.info.tls != opts.tls {
            return Err(LabError::TlsMismatch { dir, tls: state.info.tls });
        }
        let forest = LabForest::new(&state.info.forest)?;
        if forest != opts.forest {
            return Err(LabError::ForestMismatch { dir, forest: forest.dns().to_string() });
        }
        if samba::running_pid(&dc_dir).is_some() {
            wait_ready(&dc_dir, state.address, state.info.tls, &forest).await?;
            return Ok(state.info);
        }
        state.address = start_claimed(&tools, &dc_dir, state.info.tls, &forest, Vec::new()).await?;
        state.info = info_for(&dir, state.address, state.info.tls, &state.info.connector_account, &forest);
        write_json(&state_path, &state)?;
        return Ok(state.info);
    }
    if dc_dir.exists() {
        return Err(LabError::DirInUse { dir });
    }

    let forest = opts.forest.clone();
    let (template, tinfo) = ensure_template(&tools, &forest).await?;
    let src = template.join("dc");
    let dst = dc_dir.clone();
    blocking(move || copy_tree(Path::new("/bin/cp"), &src, &dst)).await?;
    let conf = samba::smb_conf(&dc_dir);
    let text = std::fs::read_to_string(&conf).map_err(io("read", &conf))?;
    let moved = text.replace(&tinfo.dc_dir_in_conf, &dc_dir.display().to_string());
    std::fs::write(&conf, moved).map_err(io("write", &conf))?;
    let _ = std::fs::remove_file(samba::pid_file(&dc_dir));
    certs::issue(&TlsFiles::in_dc_dir(&dc_dir), &forest.dc_host())?;

    let admin_password = crate::ad::passgen::generate_os(24);
    let connector_password = crate::ad::passgen::generate_os(24);
    // RECENT_USER's password is new in every lab, so it is younger than its PSO's minimum age
    // (a password nobody keeps).
    let passwords = vec![
        ("Administrator".to_string(), admin_password.clone()),
        (tinfo.connector_account.clone(), connector_password.clone()),
        (seed::RECENT_SAM.to_string(), crate::ad::passgen::generate_os(24)),
    ];
    let address = start_claimed(&tools, &dc_dir, opts.tls, &forest, passwords).await?;
    let finish = async {
        let info = info_for(&dir, address, opts.tls, &tinfo.connector_account, &forest);
        write_secret(&info.admin_password_file, &admin_password)?;
        write_secret(&info.connector_password_file, &connector_password)?;
        write_json(&state_path, &LabState { info: info.clone(), address })?;
        Ok::<_, LabError>(info)
    }
    .await;
    if finish.is_err() {
        // Leave nothing running that `lab down` could not find (there is no lab.json yet).
        let _ = samba::stop(&dc_dir, Duration::from_secs(5));
        addr::release(address, &dc_dir);
    }
    finish
}

/// The contract's fields of the lab in `dir` at `address`.
fn info_for(dir: &Path, address: Ipv4Addr, tls: bool, connector_account: &str, forest: &LabForest) -> LabInfo {
    let dc_dir = dir.join("dc");
    LabInfo {
        dir: dir.to_path_buf(),
        ldap_url: if tls { format!("ldaps://{address}") } else { format!("ldap://{address}") },
        tls,
        forest: forest.dns().to_string(),
        dc_host: forest.dc_host(),
        realm: forest.realm(),
        dns_server: address.to_string(),
        krb5_conf: dir.join("krb5.conf"),
        resolv_conf: dir.join("resolv.conf"),
        tls_name: forest.dc_host(),
        ca_file: TlsFiles::in_dc_dir(&dc_dir).ca,
        base_dn: forest.base_dn(),
        admin_user: admin_user(forest),
        admin_password_file: dir.join("admin.password"),
        connector_account: connector_account.to_string(),
        connector_password_file: dir.join("connector.password"),
        canary_user: seed::CANARY_SAM.to_string(),
    }
}

/// Copies a folder whole (`cp -a`), with nothing of this process's environment.
fn copy_tree(cp: &Path, src: &Path, dst: &Path) -> Result<(), LabError> {
    let out = crate::platform::child(cp, &[])
        .arg("-a")
        .arg(src)
        .arg(dst)
        .output()
        .map_err(|source| LabError::Spawn { what: "cp -a", source })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Command {
            what: "cp -a",
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Makes a folder the lab created its owner's alone.
fn restrict(dir: &Path) -> Result<(), LabError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io("restrict", dir))?;
    }
    let _ = dir;
    Ok(())
}

/// Stops the lab DC in `dir` (only the process it started). Returns whether one was running.
pub fn down(dir: &Path) -> Result<bool, LabError> {
    needs_linux()?;
    if dir.exists() {
        check_folder(dir)?;
    }
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let _lock = if dir.is_dir() {
        Some(crate::platform::FileLock::acquire(lock_file(&dir)?).map_err(io("lock the lab folder", &dir))?)
    } else {
        None
    };
    let dc_dir = dir.join("dc");
    let state = read_json::<LabState>(&dir.join("lab.json"))?;
    let was_running = samba::stop(&dc_dir, Duration::from_secs(10))?;
    if let Some(state) = state {
        addr::release(state.address, &dc_dir);
    }
    Ok(was_running)
}

/// Whether the lab DC in `dir` runs and answers.
#[derive(Debug, Clone, Serialize)]
pub struct LabStatus {
    /// True when the process runs and answers a rootDSE read over LDAPS.
    pub running: bool,
    /// The lab's fields, when the folder holds a lab.
    #[serde(flatten)]
    pub info: Option<LabInfo>,
}

/// Reads the lab's state and probes the DC.
pub async fn status(dir: &Path) -> Result<LabStatus, LabError> {
    needs_linux()?;
    if dir.exists() {
        check_folder(dir)?;
    }
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let dc_dir = dir.join("dc");
    let Some(state) = read_json::<LabState>(&dir.join("lab.json"))? else {
        return Ok(LabStatus { running: false, info: None });
    };
    let mut running = false;
    if samba::running_pid(&dc_dir).is_some() {
        let opts = ConnectOptions {
            timeout: Duration::from_secs(5),
            ..ConnectOptions::new(state.info.ldap_url.clone(), trust_for(&dc_dir, &LabForest::new(&state.info.forest)?))
        };
        if let Ok(mut conn) = AdConnection::connect(&opts).await {
            running = conn.root_dse().await.is_ok();
            conn.close().await;
        }
    }
    Ok(LabStatus { running, info: Some(state.info) })
}

/// Everything that can go wrong with the lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// `--lab` with a DC that is not the lab's own.
    #[error("lab mode works only with the lab's own DC, not {url}")]
    Sealed { url: String },
    /// The Samba lab DC on a system other than Linux.
    #[error("the lab's Samba domain controller runs only on Linux")]
    NeedsLinux,
    /// Not running as root.
    #[error(
        "the lab's Samba domain controller needs root (it binds ports 389 and 636), but this runs as user id {euid}"
    )]
    NotRoot {
        /// The effective user id.
        euid: u32,
    },
    /// Samba is not installed.
    #[error("Samba's AD DC is not installed: missing {missing}")]
    SambaMissing {
        /// What is missing.
        missing: String,
    },
    /// A program could not be started.
    #[error("cannot run {what}: {source}")]
    Spawn {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A program failed.
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        what: &'static str,
        /// Its exit status.
        status: String,
        /// The end of its output.
        output: String,
    },
    /// A file operation failed.
    #[error("cannot {what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Issuing the lab certificate failed.
    #[error("cannot issue the lab certificate: {detail}")]
    Certificate {
        /// The library's message.
        detail: String,
    },
    /// All of 127.0.0.2–254 are taken.
    #[error("no free loopback address between 127.0.0.2 and 127.0.0.254 for another lab DC")]
    NoAddress,
    /// The DC did not answer in time.
    #[error("the lab DC in {} did not answer LDAPS within 30 s; the end of its log:\n{log_tail}", dir.display())]
    StartTimeout {
        /// The DC folder.
        dir: PathBuf,
        /// The end of Samba's log.
        log_tail: String,
    },
    /// The DC exited while starting.
    #[error("the lab DC exited while starting; the end of its log:\n{log_tail}")]
    Died {
        /// The end of Samba's log.
        log_tail: String,
    },
    /// Seeding found something unexpected.
    #[error("seeding the lab domain failed: {detail}")]
    Seed { detail: String },
    /// An LDAP operation failed.
    #[error(transparent)]
    Ad(#[from] crate::ad::AdError),
    /// The DC did not stop.
    #[error("the lab DC (process {pid}) did not stop after SIGTERM and SIGKILL")]
    StopFailed { pid: i32 },
    /// A state file is unreadable.
    #[error("{} is damaged: {detail}", path.display())]
    Corrupt {
        path: PathBuf,
        /// The parser's message.
        detail: String,
    },
    /// The folder holds a DC but no lab.json.
    #[error("{} already holds a dc/ folder that this lab did not record", dir.display())]
    DirInUse {
        /// The lab folder.
        dir: PathBuf,
    },
    /// `lab up` of an existing lab asked for the other TLS choice than it was made with.
    #[error("the lab in {} was made {}", dir.display(), if *tls { "with TLS" } else { "without TLS (--no-tls)" })]
    TlsMismatch { dir: PathBuf, tls: bool },
    /// `lab up --forest` with a name that cannot be a lab forest.
    #[error(
        "'{given}' cannot name a lab forest: it takes a DNS name of two labels or more (letters, digits, hyphens), the first at most 15 characters (it becomes the NetBIOS domain name)"
    )]
    BadForest { given: String },
    /// `lab up` of an existing lab asked for another forest than it holds.
    #[error("the lab in {} holds the forest {forest}", dir.display())]
    ForestMismatch { dir: PathBuf, forest: String },
    /// A lab folder another account may change.
    #[error("the lab folder {} is not to be trusted: {why}", dir.display())]
    UnsafeFolder { dir: PathBuf, why: String },
    /// A bug or a runtime failure.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

impl Diagnose for LabError {
    fn code(&self) -> &'static str {
        match self {
            LabError::NeedsLinux => "LAB-NEEDS-LINUX",
            LabError::Sealed { .. } => "LAB-SEALED",
            LabError::NotRoot { .. } => "LAB-NOT-ROOT",
            LabError::SambaMissing { .. } => "LAB-NO-SAMBA",
            LabError::Spawn { .. } | LabError::Command { .. } => "LAB-COMMAND",
            LabError::Io { .. } => "LAB-IO",
            LabError::Certificate { .. } => "LAB-CERT",
            LabError::NoAddress => "LAB-NO-ADDRESS",
            LabError::StartTimeout { .. } => "LAB-START-TIMEOUT",
            LabError::Died { .. } => "LAB-DIED",
            LabError::Seed { .. } => "LAB-SEED",
            LabError::Ad(e) => e.code(),
            LabError::StopFailed { .. } => "LAB-STOP",
            LabError::Corrupt { .. } => "LAB-CORRUPT",
            LabError::DirInUse { .. } => "LAB-DIR-IN-USE",
            LabError::Internal { .. } => "LAB-INTERNAL",
            LabError::UnsafeFolder { .. } => "LAB-UNSAFE-FOLDER",
            LabError::TlsMismatch { .. } => "LAB-TLS-MISMATCH",
            LabError::BadForest { .. } => "LAB-BAD-FOREST",
            LabError::ForestMismatch { .. } => "LAB-FOREST-MISMATCH",
        }
    }
    fn remedy(&self) -> String {
        match self {
            LabError::Sealed { .. } => "Leave out --lab to work with another DC (lab mode keeps its own settings and state, so it can never touch a production domain); or leave out --ad-url to use the lab's.".into(),
            LabError::NeedsLinux => "Run `lab up` on a Linux machine and connect to its DC from here with --ad-url, --ad-ca-file and --ad-tls-name; `lab tenant`, `--cloud lab --lab-url URL` and `--sync-engine lab` work on this system.".into(),
            LabError::NotRoot { .. } => "Run the lab as root (for example with sudo); production use needs no root.".into(),
            LabError::SambaMissing { .. } => format!("Install it as root: {}", samba::INSTALL_COMMAND),
            LabError::Spawn { .. } | LabError::Command { .. } => "Check that Samba is installed completely; the output above says what it met.".into(),
            LabError::Io { .. } => "Check free disk space and the folder's permissions, or choose another --dir.".into(),
            LabError::Certificate { .. } => "Report this as a bug with the message above.".into(),
            LabError::NoAddress => "Stop lab DCs you no longer need with `writeback-wizard lab down --dir DIR`.".into(),
            LabError::StartTimeout { .. } | LabError::Died { .. } => {
                "Read the log lines above; `writeback-wizard lab down` and `lab up` again, or remove the lab folder to start afresh.".into()
            }
            LabError::Seed { .. } => "Remove the lab template folder (it is rebuilt) and try again.".into(),
            LabError::Ad(e) => e.remedy(),
            LabError::StopFailed { pid } => format!("Kill process {pid} by hand (kill -9 {pid})."),
            LabError::Corrupt { .. } => "Stop the lab with `lab down`, remove the lab folder, and bring a new one up.".into(),
            LabError::DirInUse { .. } => "Choose an empty --dir, or remove that folder.".into(),
            LabError::Internal { .. } => "Try again; report it as a bug if it persists.".into(),
            LabError::TlsMismatch { tls, .. } => format!(
                "Bring it up {} as it was made, or make the other kind in another --dir.",
                if *tls { "without --no-tls" } else { "with --no-tls" }
            ),
            LabError::BadForest { .. } => "Give a name such as south.example.test: `writeback-wizard lab up --forest south.example.test --dir DIR`.".into(),
            LabError::ForestMismatch { forest, .. } => format!(
                "Bring it up with --forest {forest} (or without --forest for lab.example.test), or make the other forest in another --dir."
            ),
            LabError::UnsafeFolder { dir, .. } => format!(
                "The lab runs Samba as root from this folder: use a folder only you (or root) may change, e.g. `chown root '{d}' && chmod 700 '{d}'` after checking what it holds, or another --dir.",
                d = dir.display()
            ),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            LabError::NeedsLinux | LabError::Sealed { .. } => Exit::Usage,
            LabError::NotRoot { .. } | LabError::SambaMissing { .. } => Exit::No,
            LabError::DirInUse { .. }
            | LabError::UnsafeFolder { .. }
            | LabError::TlsMismatch { .. }
            | LabError::BadForest { .. }
            | LabError::ForestMismatch { .. } => Exit::Usage,
            LabError::Ad(e) => e.exit(),
            _ => Exit::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a program of the lab that writes the variables it was started with next to
    /// itself, so a test sees what each child inherits.
    fn stand_in(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\nenv | cut -d= -f1 > \"$0.env\"\necho 'Admin password: x'\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn names(p: &Path) -> Vec<String> {
        std::fs::read_to_string(p.with_extension("env")).unwrap().lines().map(String::from).collect()
    }

    #[test]
    fn samba_samba_tool_and_cp_inherit_nothing_of_this_process() {
        let dir = tempfile::tempdir().unwrap();
        let tools = SambaTools { samba: stand_in(dir.path(), "samba"), samba_tool: stand_in(dir.path(), "samba-tool") };
        tools.version().unwrap();
        let _ = tools.provision(&dir.path().join("dc"), Ipv4Addr::new(127, 0, 0, 9), &LabForest::default());
        tools.start(&dir.path().join("dc")).unwrap();
        let cp = stand_in(dir.path(), "cp");
        copy_tree(&cp, dir.path(), &dir.path().join("copy")).unwrap();
        for program in [&tools.samba, &tools.samba_tool, &cp] {
            // `sh` itself sets PWD, SHLVL and `_`.
            let mut seen = names(program);
            seen.retain(|n| !["PWD", "SHLVL", "_", "OLDPWD"].contains(&n.as_str()));
            assert_eq!(seen, vec!["PATH"], "{}", program.display());
        }
    }

    #[test]
    fn root_is_required_and_the_error_says_why() {
        assert!(check_root(0).is_ok());
        let e = check_root(1000).unwrap_err();
        assert_eq!(e.exit(), Exit::No);
        assert!(e.to_string().contains("389"), "{e}");
        assert!(e.remedy().contains("root"));
    }

    #[test]
    fn lab_state_file_has_the_contract_fields_and_no_secret() {
        let info =
            info_for(Path::new("/l"), Ipv4Addr::new(127, 0, 0, 2), true, "MSOL_0123456789ab", &LabForest::default());
        let v = serde_json::to_value(LabState { info, address: Ipv4Addr::new(127, 0, 0, 2) }).unwrap();
        for key in [
            "dir",
            "ldap_url",
            "tls_name",
            "ca_file",
            "base_dn",
            "admin_user",
            "admin_password_file",
            "connector_account",
            "connector_password_file",
            "canary_user",
            "tls",
            "forest",
            "dc_host",
            "realm",
            "dns_server",
            "krb5_conf",
            "resolv_conf",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!((v["forest"].as_str(), v["dns_server"].as_str()), (Some("lab.example.test"), Some("127.0.0.2")));
        assert_eq!(v["admin_user"], "LAB\\Administrator");
    }
}
