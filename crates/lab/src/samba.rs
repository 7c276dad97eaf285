//! Running Debian's Samba as an AD DC: finding it, provisioning, starting and stopping exactly
//! the process this lab started.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::LabError;

/// The realm every lab domain uses.
pub const REALM: &str = "LAB.EXAMPLE.TEST";
/// The NetBIOS domain name.
pub const NETBIOS_DOMAIN: &str = "LAB";
/// The DC's host name.
pub const HOST_NAME: &str = "dc1";
/// The DC's DNS name, as its certificate carries it.
pub const DNS_NAME: &str = "dc1.lab.example.test";
/// The domain's naming context.
pub const BASE_DN: &str = "DC=lab,DC=example,DC=test";
/// The forest's (and domain's) DNS name.
pub const FOREST: &str = "lab.example.test";

/// A lab forest's names, from its DNS name (one domain, whose DC is `dc1`): `lab.example.test`
/// by default; `lab up --forest south.example.test` makes a second forest beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LabForest(String);

impl Default for LabForest {
    fn default() -> Self {
        LabForest(FOREST.into())
    }
}

impl LabForest {
    /// A forest named `dns` (a DNS name of two labels or more, its first at most 15 characters:
    /// the NetBIOS domain name is made from it).
    pub fn new(dns: &str) -> Result<LabForest, LabError> {
        let dns = dns.trim().trim_end_matches('.').to_ascii_lowercase();
        let labels: Vec<&str> = dns.split('.').collect();
        let ok = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && labels[0].len() <= 15
            && !labels[0].starts_with('-');
        if ok { Ok(LabForest(dns)) } else { Err(LabError::BadForest { given: dns }) }
    }
    /// `lab.example.test`.
    pub fn dns(&self) -> &str {
        &self.0
    }
    /// `LAB.EXAMPLE.TEST`.
    pub fn realm(&self) -> String {
        self.0.to_ascii_uppercase()
    }
    /// `LAB`.
    pub fn netbios(&self) -> String {
        self.0.split('.').next().unwrap_or_default().to_ascii_uppercase()
    }
    /// `DC=lab,DC=example,DC=test`.
    pub fn base_dn(&self) -> String {
        self.0.split('.').map(|l| format!("DC={l}")).collect::<Vec<_>>().join(",")
    }
    /// `dc1.lab.example.test`.
    pub fn dc_host(&self) -> String {
        format!("{HOST_NAME}.{}", self.0)
    }
    /// Whether this is the default forest (its template keeps the folder name of older labs).
    pub fn is_default(&self) -> bool {
        self.0 == FOREST
    }
}

/// The Debian packages the lab needs, as one install command.
pub const INSTALL_COMMAND: &str = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends samba samba-ad-dc samba-ad-provision ldap-utils";

/// The two Samba programs the lab runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SambaTools {
    /// `samba`, the DC daemon (Debian: /usr/sbin/samba).
    pub samba: PathBuf,
    /// `samba-tool`, for provisioning.
    pub samba_tool: PathBuf,
}

impl SambaTools {
    /// Looks for the programs in `dirs`, in order.
    pub fn locate_in(dirs: &[PathBuf]) -> Result<SambaTools, LabError> {
        let find = |name: &str| dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p));
        let samba = find("samba");
        let samba_tool = find("samba-tool");
        // samba-ad-provision ships the provisioning data; without it samba-tool fails late.
        let provision_data = Path::new("/usr/share/samba/setup").exists();
        match (samba, samba_tool) {
            (Some(samba), Some(samba_tool)) if provision_data || !cfg!(target_os = "linux") => {
                Ok(SambaTools { samba, samba_tool })
            }
            (samba, tool) => {
                let mut missing = Vec::new();
                if samba.is_none() {
                    missing.push("samba (package samba-ad-dc)");
                }
                if tool.is_none() {
                    missing.push("samba-tool (package samba)");
                }
                if !provision_data {
                    missing.push("/usr/share/samba/setup (package samba-ad-provision)");
                }
                Err(LabError::SambaMissing { missing: missing.join(", ") })
            }
        }
    }

    /// Looks in PATH and in the sbin folders a non-root PATH often lacks.
    pub fn locate() -> Result<SambaTools, LabError> {
        let mut dirs: Vec<PathBuf> =
            std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
        for extra in ["/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"] {
            dirs.push(PathBuf::from(extra));
        }
        SambaTools::locate_in(&dirs)
    }

    /// The Python samba-tool runs on, with Samba's own modules (for scripts on a DC's databases).
    pub fn python(&self) -> PathBuf {
        python_of(&self.samba_tool)
    }

    /// The installed Samba version, e.g. `4.17.12-Debian`.
    pub fn version(&self) -> Result<String, LabError> {
        let out = run(crate::platform::child(&self.samba, &[]).arg("-V"), "samba -V")?;
        Ok(out.trim().trim_start_matches("Version ").to_string())
    }

    /// Provisions a new domain into `dc_dir` (which must not exist), listening on `addr` only,
    /// and returns the Administrator password Samba generated.
    ///
    /// The password is left to Samba and read from its report, because `samba-tool` would take
    /// ours only as a command-line argument, and secrets never go on a command line.
    pub fn provision(
        &self,
        dc_dir: &Path,
        addr: Ipv4Addr,
        forest: &LabForest,
    ) -> Result<crate::secrets::Secret, LabError> {
        for sub in ["run", "log"] {
            let p = dc_dir.join(sub);
            std::fs::create_dir_all(&p).map_err(|source| LabError::Io {
                what: "create the DC folder",
                path: p,
                source,
            })?;
        }
        let d = dc_dir.display();
        let options = [
            format!("interfaces={addr}/8"),
            "bind interfaces only=yes".into(),
            // The KDC and the DNS server make the lab a forest found by name and signed in to
            // with Kerberos, as production domains are.
            "server services=ldap kdc dns".into(),
            "ldb:nosync=true".into(),
            format!("pid directory={d}/run"),
            format!("log file={d}/log/log.%m"),
            format!("winbindd socket directory={d}/run/winbindd"),
            format!("ntp signd socket directory={d}/run/ntp_signd"),
        ];
        let mut cmd = crate::platform::child(&self.samba_tool, &[]);
        cmd.args(["domain", "provision"])
            .arg(format!("--targetdir={d}"))
            .arg(format!("--realm={}", forest.realm()))
            .arg(format!("--domain={}", forest.netbios()))
            .args(["--server-role=dc", "--dns-backend=SAMBA_INTERNAL"])
            .arg(format!("--host-ip={addr}"))
            .arg(format!("--host-name={HOST_NAME}"));
        for o in &options {
            cmd.arg(format!("--option={o}"));
        }
        let out = cmd.output().map_err(|source| LabError::Spawn { what: "samba-tool domain provision", source })?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            // Never echo the report whole: it holds the generated password.
            let shown: String = text.lines().filter(|l| !l.contains("Admin password")).collect::<Vec<_>>().join("\n");
            return Err(LabError::Command {
                what: "samba-tool domain provision",
                status: out.status.to_string(),
                output: tail(&shown, 15),
            });
        }
        parse_admin_password(&text).ok_or(LabError::Command {
            what: "samba-tool domain provision",
            status: out.status.to_string(),
            output: "the report did not include the generated Administrator password".into(),
        })
    }

    /// Registers the DC's `ldap/` service principal name. Samba's `dnsupdate` service would (the
    /// lab does not run it); without it a Kerberos sign-in to LDAP meets "Server not found in
    /// Kerberos database".
    pub fn add_ldap_spn(&self, dc_dir: &Path, forest: &LabForest) -> Result<(), LabError> {
        let mut cmd = crate::platform::child(&self.samba_tool, &[]);
        cmd.args([
            "spn",
            "add",
            &format!("ldap/{}", forest.dc_host()),
            &format!("{}$", HOST_NAME.to_uppercase()),
            "-s",
        ])
        .arg(smb_conf(dc_dir));
        run(&mut cmd, "samba-tool spn add").map(|_| ())
    }

    /// Prepares a stopped DC for its address (and, for a new lab, its passwords), writing to its
    /// databases directly with Samba's own Python library (the interpreter samba-tool runs
    /// on): every loopback A record of the lab's DNS zones becomes `addr` (a lab copied from the
    /// template, or restarted on another address, would else name the old one), and each
    /// `(sAMAccountName, password)` is set. The passwords go on stdin, never on a command line.
    pub fn prepare(
        &self,
        dc_dir: &Path,
        addr: Ipv4Addr,
        passwords: &[(&str, &crate::secrets::Secret)],
    ) -> Result<(), LabError> {
        use std::io::Write;
        let python = self.python();
        let input = serde_json::json!({
            "conf": smb_conf(dc_dir),
            "address": addr.to_string(),
            "passwords": passwords.iter().map(|(sam, pw)| [sam.to_string(), pw.expose().to_string()]).collect::<Vec<_>>(),
        });
        let mut child = crate::platform::child(&python, &[])
            .args(["-c", PREPARE_SCRIPT])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|source| LabError::Spawn { what: "the DC's preparation (python3)", source })?;
        let fed = child.stdin.take().map(|mut s| s.write_all(input.to_string().as_bytes()));
        let out = child
            .wait_with_output()
            .map_err(|source| LabError::Spawn { what: "the DC's preparation (python3)", source })?;
        if let Some(Err(source)) = fed {
            return Err(LabError::Spawn { what: "the DC's preparation (python3)", source });
        }
        if !out.status.success() {
            return Err(LabError::Command {
                what: "the DC's preparation (python3)",
                status: out.status.to_string(),
                output: tail(&String::from_utf8_lossy(&out.stderr), 15),
            });
        }
        Ok(())
    }

    /// Starts the DC in the background (`samba -D -M single`). Returns once the daemon has
    /// forked; [`wait_pid`] and an LDAP probe tell when it serves.
    pub fn start(&self, dc_dir: &Path) -> Result<(), LabError> {
        let conf = smb_conf(dc_dir);
        // Nothing of this process's environment: the daemon runs as root for as long as the lab.
        let mut cmd = crate::platform::child(&self.samba, &[]);
        // Its working folder identifies the process later (see `running_pid`).
        cmd.args(["-D", "-M", "single", "-s"]).arg(&conf).current_dir(dc_dir);
        run(&mut cmd, "samba -D").map(|_| ())
    }
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

fn run(cmd: &mut Command, what: &'static str) -> Result<String, LabError> {
    let out = cmd.output().map_err(|source| LabError::Spawn { what, source })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Err(LabError::Command { what, status: out.status.to_string(), output: tail(&format!("{stdout}{stderr}"), 15) })
}

/// The Python that runs `samba_tool` (its `#!` line): Samba's modules are installed for that
/// interpreter, not necessarily for the first `python3` on PATH.
fn python_of(samba_tool: &Path) -> PathBuf {
    std::fs::read_to_string(samba_tool)
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .and_then(|l| l.strip_prefix("#!"))
                .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        })
        .filter(|p| p.starts_with('/'))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/python3"))
}

/// Moves the lab's DNS records to the DC's address and sets passwords, on the stopped DC's
/// databases (see [`SambaTools::prepare`]). Only loopback A records change: the root hints the
/// provisioning adds stay as they are.
const PREPARE_SCRIPT: &str = r#"
import sys, json
import ldb
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
from samba.ndr import ndr_unpack, ndr_pack
from samba.dcerpc import dnsp
d = json.load(sys.stdin)
lp = LoadParm()
lp.load(d["conf"])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
for part in ["DC=DomainDnsZones," + str(db.get_default_basedn()), "DC=ForestDnsZones," + str(db.get_root_basedn())]:
    for m in db.search(base=part, scope=ldb.SCOPE_SUBTREE, expression="(objectClass=dnsNode)", attrs=["dnsRecord"]):
        if "dnsRecord" not in m:
            continue
        recs = [ndr_unpack(dnsp.DnssrvRpcRecord, bytes(v)) for v in m["dnsRecord"]]
        changed = False
        for r in recs:
            if r.wType == dnsp.DNS_TYPE_A and r.data.startswith("127.") and r.data != d["address"]:
                r.data = d["address"]
                changed = True
        if changed:
            msg = ldb.Message(m.dn)
            msg["dnsRecord"] = ldb.MessageElement([ndr_pack(r) for r in recs], ldb.FLAG_MOD_REPLACE, "dnsRecord")
            db.modify(msg)
for sam, pw in d["passwords"]:
    db.setpassword("(sAMAccountName=%s)" % ldb.binary_encode(sam), pw)
"#;

/// Reads `Admin password:   XXXX` from samba-tool's provisioning report.
fn parse_admin_password(report: &str) -> Option<crate::secrets::Secret> {
    report.lines().find_map(|line| {
        let (_, rest) = line.split_once("Admin password:")?;
        let value = rest.trim();
        (!value.is_empty()).then(|| crate::secrets::Secret::new(value))
    })
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The DC's smb.conf.
pub fn smb_conf(dc_dir: &Path) -> PathBuf {
    dc_dir.join("etc").join("smb.conf")
}

/// The PID file `samba -D` writes.
pub fn pid_file(dc_dir: &Path) -> PathBuf {
    dc_dir.join("run").join("samba.pid")
}

/// The main Samba log.
pub fn log_file(dc_dir: &Path) -> PathBuf {
    dc_dir.join("log").join("log.samba")
}

/// The PID of the Samba process serving `dc_dir`, if it runs. The PID file alone is not trusted,
/// so a reused PID is never taken for the DC: the process must run the `samba` executable and
/// work in `dc_dir` or hold a file open inside it. (Samba rewrites its command line to
/// "samba: root process", so the command line cannot tell.)
pub fn running_pid(dc_dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(pid_file(dc_dir)).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    serves(pid, dc_dir).then_some(pid)
}

/// Whether process `pid` is a Samba serving `dc_dir`.
fn serves(pid: i32, dc_dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let is_samba =
        std::fs::read_link(proc_dir.join("exe")).is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "samba"));
    if !is_samba || !process_alive(pid) {
        return false;
    }
    if std::fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd == dc_dir) {
        return true;
    }
    std::fs::read_dir(proc_dir.join("fd"))
        .map(|fds| fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(dc_dir))))
        .unwrap_or(false)
}

/// Waits until `samba -D` has written a PID file whose process serves `dc_dir`.
pub fn wait_pid(dc_dir: &Path, deadline: Instant) -> Option<i32> {
    loop {
        if let Some(pid) = running_pid(dc_dir) {
            return Some(pid);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every Samba process serving `dc_dir` — the root process and the smbd and winbindd it starts,
/// also those a killed root process left behind (their parent is then init) or whose PID file
/// was lost: any `samba`, `smbd` or `winbindd` working in `dc_dir` or holding a file open in it.
pub fn processes(dc_dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mine = std::process::id() as i32;
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| *pid != mine && belongs(*pid, dc_dir))
        .collect()
}

/// Whether process `pid` is one of Samba's daemons for `dc_dir`.
fn belongs(pid: i32, dc_dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let daemon = std::fs::read_link(proc_dir.join("exe"))
        .is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "samba" || n == "smbd" || n == "winbindd"));
    if !daemon || !process_alive(pid) {
        return false;
    }
    std::fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd.starts_with(dc_dir))
        || std::fs::read_dir(proc_dir.join("fd")).is_ok_and(|fds| {
            fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target.starts_with(dc_dir)))
        })
}

/// Stops the DC serving `dc_dir` and everything of it: SIGTERM to the root process, then to
/// whatever of it is left (orphans included), then SIGKILL after `grace`. Returns whether a
/// process was running.
pub fn stop(dc_dir: &Path, grace: Duration) -> Result<bool, LabError> {
    let root = running_pid(dc_dir);
    let mut all = processes(dc_dir);
    if root.is_none() && all.is_empty() {
        let _ = std::fs::remove_file(pid_file(dc_dir));
        return Ok(false);
    }
    // The root process first: it takes its children down with it when it can.
    if let Some(pid) = root {
        crate::platform::signal_stop(pid, false);
        let deadline = Instant::now() + grace;
        while process_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        all = processes(dc_dir);
    }
    for pid in &all {
        crate::platform::signal_stop(*pid, false);
    }
    let deadline = Instant::now() + grace;
    loop {
        let left = processes(dc_dir);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for pid in &left {
                crate::platform::signal_stop(*pid, true);
            }
            let hard = Instant::now() + Duration::from_secs(5);
            while let Some(pid) = processes(dc_dir).first().copied() {
                if Instant::now() >= hard {
                    return Err(LabError::StopFailed { pid });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(pid_file(dc_dir));
    Ok(true)
}

/// True while `/proc/PID` exists and the process is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the command name in parentheses.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Rewrites a copied DC's smb.conf: every path from `old_dir` to `new_dir`, and the listening
/// interface to `addr`. The DNS forwarder provisioning copied from the machine's resolver goes:
/// the lab's DNS server answers for its own forest and forwards nothing (a name it does not have
/// is answered at once rather than after the machine's resolver times out).
pub fn rewrite_conf(conf_text: &str, old_dir: &str, new_dir: &str, addr: Ipv4Addr) -> String {
    conf_text
        .replace(old_dir, new_dir)
        .lines()
        .filter(|line| !line.trim_start().starts_with("dns forwarder ="))
        .map(|line| {
            if line.trim_start().starts_with("interfaces =") {
                format!("\tinterfaces = {addr}/8")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Turns TLS (LDAPS and StartTLS) on or off: a lab with none shows the product working where a
/// DC has no certificate.
pub fn set_tls(conf_text: &str, enabled: bool) -> String {
    let value = if enabled { "yes" } else { "no" };
    conf_text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("tls enabled =") {
                format!("\ttls enabled = {value}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The lab's Kerberos configuration: its realm's KDC at `addr`, and nothing looked up in DNS
/// (the machine's resolver knows nothing of the lab).
pub fn krb5_conf(addr: Ipv4Addr, forest: &LabForest) -> String {
    let (realm, dns) = (forest.realm(), forest.dns());
    format!(
        "[libdefaults]\n\tdefault_realm = {realm}\n\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n\trdns = false\n\tdns_canonicalize_hostname = false\n\n[realms]\n\t{realm} = {{\n\t\tkdc = {addr}\n\t}}\n\n[domain_realm]\n\t.{dns} = {realm}\n\t{dns} = {realm}\n"
    )
}

/// Adds the lab's TLS files to `[global]` (once).
pub fn add_tls_settings(conf_text: &str, files: &super::certs::TlsFiles) -> String {
    if conf_text.contains("tls keyfile") {
        return conf_text.to_string();
    }
    let lines = format!(
        "[global]\n\ttls enabled = yes\n\ttls keyfile = {}\n\ttls certfile = {}\n\ttls cafile = {}\n",
        files.key.display(),
        files.cert.display(),
        files.ca.display()
    );
    conf_text.replacen("[global]\n", &lines, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_samba_names_the_packages() {
        let empty = tempfile::tempdir().unwrap();
        let err = SambaTools::locate_in(&[empty.path().to_path_buf()]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("samba-ad-dc"), "{text}");
        use crate::diagnose::Diagnose;
        assert!(err.remedy().contains("apt-get install"), "{}", err.remedy());
    }

    #[test]
    fn conf_rewrite_moves_paths_and_interface() {
        let conf = "[global]\n\tinterfaces = 127.0.0.5/8\n\tdns forwarder = 10.0.0.53\n\tpid directory = /old/dc/run\n\tprivate dir = /old/dc/private\n";
        let out = rewrite_conf(conf, "/old/dc", "/new/place/dc", Ipv4Addr::new(127, 0, 0, 9));
        assert!(out.contains("\tinterfaces = 127.0.0.9/8\n"), "{out}");
        assert!(out.contains("/new/place/dc/run"));
        assert!(!out.contains("/old/dc"));
        assert!(!out.contains("forwarder"), "{out}");
    }

    #[test]
    fn tls_is_turned_off_and_on_and_kerberos_finds_the_labs_kdc() {
        let files = super::super::certs::TlsFiles::in_dc_dir(Path::new("/x/dc"));
        let on = add_tls_settings("[global]\n\trealm = X\n", &files);
        let off = set_tls(&on, false);
        assert!(off.contains("\ttls enabled = no\n") && !off.contains("tls enabled = yes"), "{off}");
        assert_eq!(set_tls(&off, true), on);
        let krb5 = krb5_conf(Ipv4Addr::new(127, 0, 0, 9), &LabForest::default());
        assert!(krb5.contains("kdc = 127.0.0.9\n") && krb5.contains(".lab.example.test = LAB.EXAMPLE.TEST"), "{krb5}");
        assert_eq!(python_of(Path::new("/nonexistent/samba-tool")), PathBuf::from("/usr/bin/python3"));
        let south = LabForest::new("South.Example.Test.").unwrap();
        assert_eq!(
            (south.realm(), south.netbios(), south.base_dn()),
            ("SOUTH.EXAMPLE.TEST".into(), "SOUTH".into(), "DC=south,DC=example,DC=test".into())
        );
        assert_eq!(south.dc_host(), "dc1.south.example.test");
        assert!(
            LabForest::new("single").is_err()
                && LabForest::new("a_b.test").is_err()
                && LabForest::new("sixteen-letters-x.test").is_err()
        );
    }

    #[test]
    fn tls_settings_are_added_once() {
        let files = super::super::certs::TlsFiles::in_dc_dir(Path::new("/x/dc"));
        let once = add_tls_settings("[global]\n\trealm = X\n", &files);
        assert!(once.contains("tls keyfile = /x/dc/private/tls/lab-dc-key.pem"), "{once}");
        assert_eq!(add_tls_settings(&once, &files), once);
    }

    #[test]
    fn generated_password_is_read_from_the_report() {
        let report =
            "INFO 2026 x.py #491: Server Role: dc\nINFO 2026 x.py #492: Admin password:        aB3$xyz.Q9\nINFO done";
        assert_eq!(parse_admin_password(report).unwrap().expose(), "aB3$xyz.Q9");
        assert!(parse_admin_password("nothing").is_none());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }

    #[test]
    fn our_own_process_is_alive_and_a_bogus_pid_is_not() {
        assert!(process_alive(std::process::id() as i32));
        assert!(!process_alive(i32::MAX));
    }
}
