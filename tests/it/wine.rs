//! The Windows build, for real, under Wine (Debian's wine64 8.0): the cross-built .exe that
//! scripts/windows.sh leaves in target/windows/ runs the procedure against a lab DC and the
//! tenant simulator running natively, keeps secrets in Wine's Credential Manager, names Wine's
//! stub PowerShell as an error, draws its window under Xvfb, and its MSI installs, upgrades and
//! uninstalls with msiexec.
//!
//! What belongs to the harness and never ships: `bcryptprimitives.dll` (tests/wine/processprng.c),
//! a five-line stand-in for the ProcessPrng that Windows 10 and later have and Wine 8 lacks.
//! Nothing here ran on a real Windows Server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use writeback_ad::writeback;

use crate::ad_engine::BASE;
use crate::support::{LabDc, code};
use crate::tenant::{HIA, Sim, TENANT};

const WINE: &str = "/usr/lib/wine/wine64";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder the .exe under test runs from: a copy of the build, with the harness's DLL.
fn app_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let built = repo().join("target/windows/writeback-wizard.exe");
        assert!(built.exists(), "{} is missing: run scripts/windows.sh first (the test command does)", built.display());
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wine-app");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&built, dir.join("writeback-wizard.exe")).unwrap();
        shim(&dir);
        dir
    })
}

/// Builds the harness's bcryptprimitives.dll into `dir`.
fn shim(dir: &Path) {
    let out = Command::new("x86_64-w64-mingw32-gcc-posix")
        .args(["-shared", "-O2", "-o"])
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(repo().join("tests/wine/processprng.c"))
        .arg(repo().join("tests/wine/processprng.def"))
        .arg("-ladvapi32")
        .output()
        .unwrap();
    assert!(out.status.success(), "the ProcessPrng shim: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh Wine prefix under target/tmp, made with `wineboot` (nothing an earlier run installed or
/// left in its state folder counts). `display`: the X display its desktop process gets — Wine's
/// desktop belongs to the first process of a prefix, so the window test has a prefix of its own.
fn fresh_prefix(name: &str, display: Option<&str>) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = Command::new("/usr/lib/wine/wineserver").env("WINEPREFIX", &p).arg("-k").status();
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    let mut boot = wine_cmd(&p);
    boot.args(["wineboot", "-i"]);
    if let Some(d) = display {
        boot.env("DISPLAY", d);
    }
    let out = run(&mut boot);
    assert!(out.status.success(), "wineboot: {}", String::from_utf8_lossy(&out.stderr));
    p
}

/// The prefix the command-line tests share (its first start takes ≈20 s).
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| fresh_prefix("wineprefix", None))
}

/// Runs a Wine command to its end with its output in files, not pipes: the wineserver and the
/// services the first process of a prefix starts inherit its standard handles and outlive it, so
/// a pipe would never see its end.
fn run(cmd: &mut Command) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let status =
        cmd.stdout(std::fs::File::create(&out).unwrap()).stderr(std::fs::File::create(&err).unwrap()).status().unwrap();
    Output { status, stdout: std::fs::read(&out).unwrap(), stderr: std::fs::read(&err).unwrap() }
}

/// A child killed when dropped, so a failing test leaves no process behind.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wine_cmd(prefix: &Path) -> Command {
    let mut c = Command::new(WINE);
    c.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WRITEBACK_AD_PASSWORD")
        .env_remove("WRITEBACK_CONNECTOR_PASSWORD")
        .env_remove("WRITEBACK_ENTRA_TOKEN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    c
}

/// The .exe under Wine, with `args`.
fn exe(args: &[&str]) -> Command {
    let mut c = wine_cmd(prefix());
    c.arg(app_dir().join("writeback-wizard.exe")).args(args);
    c
}

/// A Linux path as Wine's Z: drive names it.
fn z(path: &str) -> String {
    format!("Z:{}", path.replace('/', "\\"))
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}), exit status {}:\n{text}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The connection flags for the lab DC as the .exe sees it (the CA file through Z:).
fn ad_flags(lab: &LabDc) -> Vec<String> {
    vec![
        "--ad-url".into(),
        lab.field("ldap_url"),
        "--ad-user".into(),
        lab.field("admin_user"),
        "--ad-ca-file".into(),
        z(&lab.field("ca_file")),
        "--ad-tls-name".into(),
        lab.field("tls_name"),
        "--connector-account".into(),
        lab.field("connector_account"),
    ]
}

fn run_exe(args: &[String], env: &[(&str, String)]) -> Output {
    let mut c = exe(&[]);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c)
}

#[test]
fn version_and_help_are_the_linux_builds() {
    let out = run(&mut exe(&["--version"]));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let linux = crate::support::run(tempfile::tempdir().unwrap().path(), &["--version"]);
    assert_eq!(text.trim(), String::from_utf8_lossy(&linux.stdout).trim(), "the same version and commit");
    assert!(text.starts_with(&format!("writeback-wizard {} (commit ", env!("CARGO_PKG_VERSION"))), "{text}");
    let help = run(&mut exe(&["--help"]));
    assert_eq!(code(&help), 0);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("secret") && help.contains("apply"), "{help}");
    // The release carries no lab: said with the way out, exit 2.
    let out = run(&mut exe(&["lab", "status", "--json"]));
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["error"]["code"], "LAB-NOT-IN-THIS-BUILD");
    let out = run(&mut exe(&["ad", "check", "--lab", "--json"]));
    assert_eq!(code(&out), 2);
    assert!(json(&out)["error"]["remedy"].as_str().unwrap().contains("--lab-url"));
}

#[test]
fn the_procedure_runs_from_the_exe_and_leaves_the_dacl_as_it_was() {
    let lab = LabDc::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Sim::hybrid());
    let scope = format!("OU=Support,OU=Staff,OU=Corp,{BASE}");
    let mut admin = rt.block_on(lab.admin());
    let before = rt.block_on(writeback::read_dacl(&mut admin, &scope)).unwrap().bytes;
    let env = [
        ("WRITEBACK_AD_PASSWORD", lab.password("admin_password_file").expose().to_string()),
        ("WRITEBACK_ENTRA_TOKEN", rt.block_on(sim.access(HIA))),
    ];
    let mut flags = ad_flags(&lab);
    flags.extend(
        ["--scope", &scope, "--cloud", "lab", "--lab-url", sim.running.url(), "--tenant", TENANT]
            .iter()
            .map(|s| s.to_string()),
    );
    let with = |cmd: &[&str]| {
        let mut a: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        a.push("--json".into());
        a.extend(flags.iter().cloned());
        a
    };
    let check = run_exe(&with(&["ad", "check"]), &env);
    assert_eq!(code(&check), 0, "{}", String::from_utf8_lossy(&check.stderr));
    assert_eq!(json(&check)["enterprise_admin"], true);
    let status = run_exe(&with(&["status"]), &env);
    assert_eq!(json(&status)["state"], "disabled", "{}", String::from_utf8_lossy(&status.stderr));
    let plan = run_exe(&with(&["plan", "--enable"]), &env);
    assert_eq!(code(&plan), 0, "{}", String::from_utf8_lossy(&plan.stdout));
    assert!(!json(&plan)["steps"].as_array().unwrap().is_empty());
    let apply = run_exe(&with(&["apply", "--enable", "--yes", "--start-sync"]), &env);
    assert_eq!(
        code(&apply),
        0,
        "{}\n{}",
        String::from_utf8_lossy(&apply.stdout),
        String::from_utf8_lossy(&apply.stderr)
    );
    assert_eq!(json(&apply)["verified"], true);
    assert_eq!(json(&apply)["sync_started"], true);
    let status = run_exe(&with(&["status"]), &env);
    assert_eq!(json(&status)["state"], "enabled", "{}", String::from_utf8_lossy(&status.stdout));
    assert!(sim.running.sync_engine_writeback());
    let disable = run_exe(&with(&["apply", "--disable", "--yes"]), &env);
    assert_eq!(code(&disable), 0, "{}", String::from_utf8_lossy(&disable.stderr));
    let after = rt.block_on(writeback::read_dacl(&mut admin, &scope)).unwrap().bytes;
    assert_eq!(after, before, "enable then disable from the .exe gives back the very same DACL");
    // The machine's state folder holds the audit log of both.
    let audit = prefix().join("drive_c/ProgramData/writeback-wizard/audit.jsonl");
    let audit = std::fs::read_to_string(&audit).unwrap_or_else(|e| panic!("{}: {e}", audit.display()));
    assert!(audit.contains("\"grant\"") && audit.contains("\"revoke\""), "{audit}");
}

#[test]
fn secrets_live_in_credential_manager_and_a_command_finds_them_there() {
    let lab = LabDc::up();
    // The value on standard input, from a file (pipes meet Wine's inherited handles, see `run`).
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), lab.password("admin_password_file").expose()).unwrap();
    let set = run(exe(&["secret", "set", "ad-password"]).stdin(std::fs::File::open(input.path()).unwrap()));
    assert_eq!(code(&set), 0, "{}", String::from_utf8_lossy(&set.stderr));
    let list = run(&mut exe(&["secret", "list", "--json"]));
    let names = json(&list)["secrets"].clone();
    assert_eq!(names[0], serde_json::json!({ "name": "ad-password", "stored": true }), "{names}");
    assert!(!String::from_utf8_lossy(&list.stdout).contains(lab.password("admin_password_file").expose()));
    // No WRITEBACK_AD_PASSWORD: the password comes from Credential Manager.
    let mut args = vec!["ad".to_string(), "check".into(), "--json".into()];
    args.extend(ad_flags(&lab));
    let check = run_exe(&args, &[]);
    assert_eq!(code(&check), 0, "{}", String::from_utf8_lossy(&check.stderr));
    let delete = run(&mut exe(&["secret", "delete", "ad-password"]));
    assert_eq!(code(&delete), 0);
    let list = run(&mut exe(&["secret", "list", "--json"]));
    assert_eq!(json(&list)["secrets"][0]["stored"], false);
    let check = run_exe(&args, &[]);
    assert_eq!(code(&check), 2, "no password anywhere: asked for, not guessed");
    assert_eq!(json(&check)["error"]["code"], "SECRET-MISSING");
}

#[test]
fn the_adsync_backend_names_wines_stub_powershell() {
    let lab = LabDc::up();
    let mut args =
        vec!["plan".to_string(), "--disable".into(), "--json".into(), "--sync-engine".into(), "adsync".into()];
    args.extend(ad_flags(&lab));
    let out = run_exe(&args, &[("WRITEBACK_AD_PASSWORD", lab.password("admin_password_file").expose().to_string())]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    let failed: Vec<&Value> = doc["preconditions"].as_array().unwrap().iter().filter(|p| p["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{doc}");
    assert_eq!(failed[0]["check"], "the sync engine answers");
    let remedy = failed[0]["remedy"].as_str().unwrap();
    assert!(remedy.contains("powershell.exe") && remedy.contains("printed nothing"), "{remedy}");
    assert!(remedy.contains(r"System32\WindowsPowerShell\v1.0"), "started by absolute path: {remedy}");
}

/// The words tesseract reads in a screenshot.
fn ocr(png: &Path) -> String {
    let out = Command::new("tesseract").arg(png).arg("stdout").stderr(Stdio::null()).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_wizard_draws_its_window_under_wine_and_answers_a_click() {
    let x = crate::xvfb::Xvfb::start();
    // A prefix of its own, whose desktop is this display's.
    let own = fresh_prefix("wineprefix-window", Some(&x.display));
    let mut wizard = Reaped(
        wine_cmd(&own)
            .env("DISPLAY", &x.display)
            .arg(app_dir().join("writeback-wizard.exe"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let title = format!("writeback-wizard {}", env!("CARGO_PKG_VERSION"));
    let id = x.wait_window(&title, &mut wizard.0, Duration::from_secs(90));
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wine-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let welcome_png = shots.join("welcome.png");
    let welcome = x.settled_shot(&id, &welcome_png);
    let text = ocr(&welcome_png);
    assert!(text.contains("Welcome"), "the screenshot's text: {text}");
    // Next, bottom right of the 940×620 window: a real pointer click through Wine.
    let clicked = x.cmd("xdotool").args(["mousemove", "--window", &id, "908", "599", "click", "1"]).status().unwrap();
    assert!(clicked.success());
    let tasks_png = shots.join("tasks.png");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tasks = x.settled_shot(&id, &tasks_png);
    while tasks == welcome {
        assert!(Instant::now() < deadline, "the click did not change the page under Wine");
        tasks = x.settled_shot(&id, &tasks_png);
    }
    let text = ocr(&tasks_png);
    assert!(text.contains("What would you like to do"), "the next page's text: {text}");
    drop(wizard);
    let _ = Command::new("/usr/lib/wine/wineserver").env("WINEPREFIX", &own).arg("-k").status();
}

fn program_files() -> PathBuf {
    prefix().join("drive_c/Program Files/writeback-wizard")
}

fn msiexec(args: &[&str]) -> Output {
    run(wine_cmd(prefix()).arg("msiexec").args(args))
}

/// The uninstall entries of writeback-wizard: their DisplayVersion values.
fn installed_versions() -> Vec<String> {
    let out = run(wine_cmd(prefix()).args([
        "reg",
        "query",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall",
        "/s",
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut versions = Vec::new();
    for block in text.split("HKEY_LOCAL_MACHINE").filter(|b| b.contains("writeback-wizard")) {
        if let Some(line) = block.lines().find(|l| l.trim_start().starts_with("DisplayVersion")) {
            versions.push(line.split_whitespace().last().unwrap_or_default().to_string());
        }
    }
    versions
}

/// Runs the installed .exe (with the harness's DLL beside it for the run only).
fn installed_version() -> String {
    let dll = program_files().join("bcryptprimitives.dll");
    std::fs::copy(app_dir().join("bcryptprimitives.dll"), &dll).unwrap();
    let out = run(wine_cmd(prefix()).arg(program_files().join("writeback-wizard.exe")).arg("--version"));
    std::fs::remove_file(&dll).unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_msi_installs_upgrades_and_uninstalls_keeping_the_state_folder() {
    let version = env!("CARGO_PKG_VERSION");
    let current = repo().join(format!("target/windows/writeback-wizard-{version}.msi"));
    assert!(current.exists(), "{} is missing: run scripts/windows.sh first", current.display());
    // An older version of the same product (same UpgradeCode), to upgrade from.
    let old = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("writeback-wizard-0.0.1.msi");
    // wixl takes its sources relative to where it runs, as scripts/windows.sh gives them.
    let built = Command::new("wixl")
        .current_dir(repo())
        .args(["-a", "x64", "-D", "Version=0.0.1", "-D", "ExeSource=target/windows/writeback-wizard.exe"])
        .args(["-D", "IconSource=assets/windows/writeback-wizard.ico", "-o"])
        .arg(&old)
        .arg("packaging/writeback-wizard.wxs")
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let state = prefix().join("drive_c/ProgramData/writeback-wizard");

    let out = msiexec(&["/i", &z(old.to_str().unwrap()), "/qn"]);
    assert_eq!(code(&out), 0, "install: {}", String::from_utf8_lossy(&out.stderr));
    assert!(program_files().join("writeback-wizard.exe").exists());
    assert_eq!(installed_versions(), vec!["0.0.1".to_string()]);
    assert!(installed_version().starts_with(&format!("writeback-wizard {version} ")), "the installed .exe runs");
    // The state folder is the program's: made by a run, kept by the installer.
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("msi-test-marker"), "kept").unwrap();

    let out = msiexec(&["/i", &z(current.to_str().unwrap()), "/qn"]);
    assert_eq!(code(&out), 0, "upgrade: {}", String::from_utf8_lossy(&out.stderr));
    // The installer makes the state folder private to Administrators and SYSTEM (Windows Installer
    // 5.0's MsiLockPermissionsEx: Wine's msi ignores it, so the table is read back here).
    let table = Command::new("msiinfo").arg("export").arg(&current).arg("MsiLockPermissionsEx").output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&format!(
            "StateFolderLock\tSTATEDIR\tCreateFolder\t{}",
            writeback_base::platform::STATE_FOLDER_SDDL
        )),
        "{table}"
    );
    assert!(state.is_dir());
    assert_eq!(installed_versions(), vec![version.to_string()], "one entry, upgraded in place");
    assert!(installed_version().starts_with(&format!("writeback-wizard {version} ")));
    let menu = [
        "drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs",
        "drive_c/users/root/AppData/Roaming/Microsoft/Windows/Start Menu/Programs",
    ];
    assert!(menu.iter().any(|m| prefix().join(m).join("writeback-wizard.lnk").exists()), "a Start-menu shortcut");

    let out = msiexec(&["/x", &z(current.to_str().unwrap()), "/qn"]);
    assert_eq!(code(&out), 0, "uninstall: {}", String::from_utf8_lossy(&out.stderr));
    assert!(!program_files().exists(), "Program Files is clean");
    assert!(installed_versions().is_empty());
    assert!(state.join("msi-test-marker").exists(), "the state folder stays");
}

/// The state folder through the real Win32 calls: made by the .exe (CreateDirectoryW with its
/// descriptor) and checked on every start (GetFileSecurityW). Wine 8 keeps no file security
/// descriptor (stored ACLs are a Wine Staging patch): it answers with one made from the Unix owner
/// and mode, so what a planted folder looks like to Windows is made here with chmod and chown.
#[test]
fn a_planted_state_folder_is_refused_through_the_win32_calls() {
    let p = fresh_prefix("wineprefix-state", None);
    let folder = p.join("drive_c/ProgramData/writeback-wizard");
    let export = |p: &Path| {
        let mut c = wine_cmd(p);
        c.arg(app_dir().join("writeback-wizard.exe")).args(["config", "export", "C:\\x.toml", "--json"]);
        run(&mut c)
    };
    // Made by the .exe, it passes on the next start.
    assert_eq!(code(&export(&p)), 0);
    assert!(folder.is_dir());
    let out = export(&p);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    // Everyone may write to it: refused, nothing read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = export(&p);
    assert_eq!(code(&out), 1);
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "STATE-UNSAFE", "{e}");
    assert!(e["message"].as_str().unwrap().contains("S-1-1-0 may change it"), "{e}");
    assert!(e["remedy"].as_str().unwrap().contains("icacls"), "{e}");
    // Someone else's: refused.
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o750)).unwrap();
    nix::unistd::chown(&folder, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    let out = export(&p);
    assert_eq!((code(&out), json(&out)["error"]["code"].as_str()), (1, Some("STATE-UNSAFE")));
    let _ = Command::new("/usr/lib/wine/wineserver").env("WINEPREFIX", &p).arg("-k").status();
}

/// Kerberos from the .exe under Wine, as far as Wine goes: the forest's DC found through DNS SRV
/// (hickory on Windows asks the system's DNS servers, which Wine takes from the lab's
/// resolv.conf), a Kerberos credential for the typed account from SSPI (Wine's kerberos.dll,
/// which uses the host's MIT library and the lab's krb5.conf), and the security context with the
/// DC established. It stops at the first sealed message: Wine's DecryptMessage for Kerberos takes
/// a SECBUFFER_TOKEN and a SECBUFFER_DATA only (dlls/kerberos/krb5_ap.c), not the
/// SECBUFFER_STREAM layout Windows documents for SASL, which cross-krb5 uses. docs/windows.md
/// says so; this test shows where it stops, so a Wine that gets further is noticed.
#[test]
fn the_exe_finds_the_forest_in_dns_and_reaches_the_dc_with_kerberos_as_far_as_wine_goes() {
    let lab = LabDc::up_with(&["--no-tls"]);
    let check = |forest: &str, password: &str| {
        let mut c =
            lab.in_lab_dns(&exe(&["ad", "check", "--forest", forest, "--ad-user", "LAB\\Administrator", "--json"]));
        c.env("WRITEBACK_AD_PASSWORD", password);
        run(&mut c)
    };
    let out = check("lab.example.test", lab.password("admin_password_file").expose());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "AD-KERBEROS", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("to ldap/dc1.lab.example.test"), "the DC DNS named: {e}");
    assert!(message.contains("decrypt message failed"), "stopped at the sealed layer: {e}");
    // A forest DNS does not know: the record and the DNS server Windows asked.
    let out = check("nosuch.example.test", "x");
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "AD-NO-SRV", "{e}");
    assert!(e["message"].as_str().unwrap().contains(&lab.field("dns_server")), "{e}");
}
