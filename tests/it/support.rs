//! Shared fixtures: running the binary, and a lab DC that is stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use writeback_ad::{AdConnection, ConnectOptions, TlsTrust};
use writeback_base::secrets::Secret;

/// The binary under test, with its state kept inside the test's own folders.
pub fn bin(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_writeback-wizard"));
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("WRITEBACK_LOG_DIR", home.join("logs"))
        .env("WRITEBACK_LAB_TEMPLATE_DIR", template_dir())
        .env_remove("RUST_LOG")
        .env_remove("WRITEBACK_AD_PASSWORD")
        .env_remove("WRITEBACK_CONNECTOR_PASSWORD")
        .env_remove("WRITEBACK_ENTRA_TOKEN");
    cmd
}

/// One template for the whole run, kept under target/ so reruns are fast and nothing is left
/// in the user's folders.
pub fn template_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lab-template")
}

/// Runs the binary and returns its output.
pub fn run(home: &Path, args: &[&str]) -> Output {
    bin(home).args(args).output().expect("the binary runs")
}

/// stdout parsed as exactly one JSON document.
pub fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("stdout is not one JSON document ({e}):\n{text}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr))
    })
}

/// The exit code.
pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

/// A running lab DC in a temporary folder; `lab down` when dropped, so a failing test leaves no
/// process behind.
pub struct LabDc {
    /// The lab folder's parent (also the binary's home for this lab).
    pub home: tempfile::TempDir,
    /// `lab up --json`'s document.
    pub info: Value,
}

impl LabDc {
    /// `lab up --dir <tmp>/lab --json`.
    pub fn up() -> LabDc {
        LabDc::up_with(&[])
    }

    /// `lab up --dir <tmp>/lab --json` with more arguments (`--no-tls`).
    pub fn up_with(extra: &[&str]) -> LabDc {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("lab");
        let out = run(home.path(), &[&["lab", "up", "--dir", dir.to_str().unwrap(), "--json"][..], extra].concat());
        assert_eq!(code(&out), 0, "lab up failed: {}", String::from_utf8_lossy(&out.stderr));
        let info = json(&out);
        LabDc { home, info }
    }

    /// The lab folder.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(self.field("dir"))
    }

    /// A string field of the `lab up` document.
    pub fn field(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.info)).to_string()
    }

    /// A password from one of the lab's 0600 files.
    pub fn password(&self, file_key: &str) -> Secret {
        Secret::new(std::fs::read_to_string(self.field(file_key)).unwrap().trim_end().to_string())
    }

    /// How the tests trust the DC: the printed CA file and TLS name.
    pub fn trust(&self) -> TlsTrust {
        TlsTrust {
            ca_file: Some(self.field("ca_file").into()),
            tls_name: Some(self.field("tls_name")),
            fingerprint: None,
        }
    }

    /// A connection bound as the lab's administrator.
    pub async fn admin(&self) -> AdConnection {
        let mut conn = AdConnection::connect(&ConnectOptions::new(self.field("ldap_url"), self.trust())).await.unwrap();
        conn.bind(&self.field("admin_user"), &self.password("admin_password_file")).await.unwrap();
        conn
    }

    /// `lab <cmd> --dir <dir> --json`.
    pub fn lab(&self, cmd: &str) -> Output {
        let dir = self.dir();
        run(self.home.path(), &["lab", cmd, "--dir", dir.to_str().unwrap(), "--json"])
    }

    /// Adds `line` to the DC's smb.conf `[global]` and restarts it (`lab down`, `lab up` with
    /// `extra`): the lab keeps it, on whatever address it gets.
    pub fn reconfigure(&mut self, line: &str, extra: &[&str]) {
        let conf = self.dir().join("dc/etc/smb.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        std::fs::write(&conf, text.replacen("[global]\n", &format!("[global]\n\t{line}\n"), 1)).unwrap();
        assert_eq!(code(&self.lab("down")), 0);
        let dir = self.dir();
        let out =
            run(self.home.path(), &[&["lab", "up", "--dir", dir.to_str().unwrap(), "--json"][..], extra].concat());
        assert_eq!(code(&out), 0, "lab up failed: {}", String::from_utf8_lossy(&out.stderr));
        self.info = json(&out);
    }

    /// `cmd` run where this lab's DNS server is the resolver and its KDC the realm's: in a
    /// private mount namespace with the lab's resolv.conf over /etc/resolv.conf (the machine's own
    /// is never touched), with `KRB5_CONFIG` naming the lab's krb5.conf and `KRB5CCNAME` a ticket
    /// cache of this test's own (empty unless a test `kinit`s into it).
    pub fn in_lab_dns(&self, cmd: &Command) -> Command {
        let args: Vec<&std::ffi::OsStr> = cmd.get_args().collect();
        let mut wrapped = writeback_lab::with_resolver(Path::new(&self.field("resolv_conf")), cmd.get_program(), &args);
        envs_from(&mut wrapped, cmd);
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
            .env("KRB5_CONFIG", self.field("krb5_conf"))
            .env("KRB5CCNAME", format!("FILE:{}", self.ticket_cache().display()))
            .stdin(std::process::Stdio::null());
        wrapped
    }

    /// The ticket cache [`Self::in_lab_dns`] names.
    pub fn ticket_cache(&self) -> PathBuf {
        self.home.path().join("krb5cc")
    }

    /// The Samba PID from the PID file.
    pub fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir().join("dc/run/samba.pid")).ok()?.trim().parse().ok()
    }
}

impl Drop for LabDc {
    fn drop(&mut self) {
        let _ = self.lab("down");
    }
}

/// True while the process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    writeback_lab::samba::process_alive(pid)
}

/// What the relay does to the DC's answers.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Passes everything.
    None,
    /// Closes the connection once the DC has sent this many bytes (a dropped connection).
    CutAfter(u64),
    /// Passes this many bytes, then nothing more while keeping the connection open (a stalled DC).
    StallAfter(u64),
}

/// A TCP relay in front of a lab DC that passes bytes, or cuts or stalls every connection after
/// a number of bytes from the DC. It stands for a network or a DC that drops or hangs mid-answer;
/// the LDAP and TLS on both ends are the real ones, the relay only passes bytes.
pub struct Relay {
    /// Where clients connect instead of the DC.
    pub addr: std::net::SocketAddr,
    /// Bytes the DC has sent through the relay so far.
    pub from_dc: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Every byte that crossed, both ways.
    pub recorded: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    scheme: String,
}

impl Relay {
    /// Starts relaying to the host and port of `ldap_url`. The listener thread ends with the test
    /// process.
    pub fn start(ldap_url: &str, fault: Fault) -> Relay {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let (scheme, host) = ldap_url.split_once("://").unwrap();
        let host = host.trim_end_matches('/');
        let port = if scheme == "ldaps" { 636 } else { 389 };
        let upstream = if host.contains(':') { host.to_string() } else { format!("{host}:{port}") };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let from_dc = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let recorded = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let counter = from_dc.clone();
        let tape = recorded.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(dc) = TcpStream::connect(&upstream) else { continue };
                let (mut c_read, mut dc_write) = (client.try_clone().unwrap(), dc.try_clone().unwrap());
                let to_dc = tape.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n @ 1..) = c_read.read(&mut buf) {
                        to_dc.lock().unwrap().extend_from_slice(&buf[..n]);
                        if dc_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = dc_write.shutdown(Shutdown::Write);
                });
                let counter = counter.clone();
                let from = tape.clone();
                std::thread::spawn(move || {
                    let (mut dc, mut client) = (dc, client);
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        let n = match dc.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        from.lock().unwrap().extend_from_slice(&buf[..n]);
                        let before = counter.fetch_add(n as u64, Ordering::SeqCst);
                        let limit = match fault {
                            Fault::None => u64::MAX,
                            Fault::CutAfter(at) | Fault::StallAfter(at) => at,
                        };
                        let pass = limit.saturating_sub(before).min(n as u64) as usize;
                        if client.write_all(&buf[..pass]).is_err() {
                            break;
                        }
                        if pass < n {
                            if let Fault::StallAfter(_) = fault {
                                // Swallow the rest until the client gives up and the DC hangs up.
                                while matches!(dc.read(&mut buf), Ok(m) if m > 0) {}
                            }
                            break;
                        }
                    }
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = dc.shutdown(Shutdown::Both);
                });
            }
        });
        Relay { addr, from_dc, recorded, scheme: scheme.to_string() }
    }

    /// The relay's URL, with the DC's scheme.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Bytes the DC has sent so far.
    pub fn bytes_from_dc(&self) -> u64 {
        self.from_dc.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether `needle` crossed the relay, either way, as bytes of UTF-8 or of UTF-16LE.
    pub fn saw(&self, needle: &str) -> bool {
        let tape = self.recorded.lock().unwrap();
        let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
        [needle.as_bytes().to_vec(), utf16].iter().any(|n| tape.windows(n.len()).any(|w| w == n.as_slice()))
    }
}

/// The explicit ACEs of `dn`'s DACL, as SDDL with numeric SIDs.
pub async fn explicit_aces(conn: &mut AdConnection, dn: &str) -> Vec<String> {
    let d = writeback_ad::writeback::read_dacl(conn, dn).await.unwrap();
    d.sd.dacl.unwrap().aces.iter().filter(|a| !a.is_inherited()).map(writeback_ad::sd::sddl::persisted::text).collect()
}

/// `lab down` of the default lab folder in `home` when dropped: a command run with `--lab` brings
/// that lab's DC up and leaves it running (as an administrator would want), which a test must not.
pub struct DefaultLabDown<'a>(pub &'a Path);

impl Drop for DefaultLabDown<'_> {
    fn drop(&mut self) {
        let _ = run(self.0, &["lab", "down", "--json"]);
    }
}

/// Sets on `to` every variable `from` sets or removes: a wrapper (`script`, `faketime`, a mount
/// namespace) runs the inner command with its environment.
pub fn envs_from(to: &mut Command, from: &Command) {
    for (k, v) in from.get_envs() {
        match v {
            Some(v) => to.env(k, v),
            None => to.env_remove(k),
        };
    }
}
