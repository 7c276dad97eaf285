//! Speed, as ratios against a peer measured in the same run on the same machine and DC
//! (docs/performance.md records the results). `cargo bench --bench perf` runs the full sizes;
//! `-- --smoke` runs tiny ones (the test command does, so the benchmark never rots).
//!
//! - SD codec: decode + encode of the lab's real security descriptors, beside a plain copy.
//! - Grant on N OUs: our grant (read, insert, write, read back) beside the bare LDAP round trips
//!   (read and write of each DACL with ldap3 directly).
//! - Readiness scan of N users: ours beside `ldapsearch` with paged results fetching the same
//!   attributes with the same SD_FLAGS control.
//!
//! The lab parts need root (the lab DC); without it they are skipped and said so.
// A measuring tool, like a test: a broken input should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ldap3::Mod;
use writeback_ad::directory;
use writeback_ad::sd::{SecurityDescriptor, Sid};
use writeback_ad::writeback::{self, TargetKind};
use writeback_ad::{AdConnection, ConnectOptions, TlsTrust, sd_flags_control};
use writeback_base::secrets::Secret;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

#[path = "../tests/it/xvfb.rs"]
#[allow(dead_code)]
mod xvfb;

/// egui's hello world, built the same way as the wizard (same eframe, same features, same
/// profile): the peer of the start-up benchmark. `perf --hello` runs it.
fn hello() -> BenchResult<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("hello-egui").with_inner_size([940.0, 620.0]),
        ..Default::default()
    };
    eframe::run_ui_native("hello-egui", options, |ui, _frame| {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Hello World");
            ui.label("egui's hello world, for scale.");
        });
    })?;
    Ok(())
}

/// Process start until the window shows settled content, and its resident memory then.
fn start_to_frame(
    x: &xvfb::Xvfb,
    mut cmd: std::process::Command,
    title: &str,
    work: &Path,
) -> BenchResult<(Duration, u64)> {
    let start = Instant::now();
    let mut child = cmd
        .env("DISPLAY", &x.display)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let id = loop {
        if let Some(id) = x.window(title) {
            break id;
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!("no window titled {title}").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Drawn: the window holds more than a background (text and widgets).
    loop {
        let out = x.cmd("import").args(["-window", &id, "-format", "%k", "info:"]).output()?;
        let colours: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
        if colours > 16 {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err("the window never drew".into());
        }
    }
    let shown = start.elapsed();
    x.settled_shot(&id, &work.join(format!("{title}.png")));
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    child.kill()?;
    child.wait()?;
    Ok((shown, rss))
}

fn wizard_start(smoke: bool) -> BenchResult<()> {
    if std::process::Command::new("Xvfb").arg("-help").output().is_err() {
        println!("(no Xvfb: the start-up benchmark is skipped)");
        return Ok(());
    }
    let x = xvfb::Xvfb::start();
    let work = tempfile::tempdir()?;
    let runs = if smoke { 1 } else { 5 };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let mut wizard = std::process::Command::new(env!("CARGO_BIN_EXE_writeback-wizard"));
        wizard
            .args(["--config", work.path().join("settings.toml").to_str().unwrap_or("settings.toml")])
            .env("XDG_RUNTIME_DIR", work.path())
            .env("WRITEBACK_LOG_DIR", work.path().join("logs"));
        ours.push(start_to_frame(&x, wizard, &format!("writeback-wizard {}", env!("CARGO_PKG_VERSION")), work.path())?);
        let mut hello = std::process::Command::new(std::env::current_exe()?);
        hello.arg("--hello").env("XDG_RUNTIME_DIR", work.path());
        peer.push(start_to_frame(&x, hello, "hello-egui", work.path())?);
    }
    let (start_ours, start_peer): (Vec<Duration>, Vec<Duration>) =
        (ours.iter().map(|o| o.0).collect(), peer.iter().map(|p| p.0).collect());
    row(
        "wizard: process start to first drawn frame (Xvfb, Mesa GL)",
        &start_ours,
        "egui's hello world, same build",
        &start_peer,
    );
    ours.sort();
    peer.sort();
    let (o, p) = (ours[runs / 2], peer[runs / 2]);
    println!(
        "Resident memory once drawn (Welcome page): wizard {} KiB, hello world {} KiB ({:.2}×)",
        o.1,
        p.1,
        o.1 as f64 / p.1.max(1) as f64
    );
    Ok(())
}

/// Resident memory of a process, in KiB (VmRSS).
fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The wizard in lab mode in a real window, driven by pointer clicks (as scripts/screenshots.sh
/// does) from Welcome to "Ready to configure", which its log confirms page by page; its resident
/// memory there, beside egui's hello world once drawn.
fn wizard_ready() -> BenchResult<()> {
    if std::process::Command::new("Xvfb").arg("-help").output().is_err() {
        println!("(no Xvfb: the Ready-page memory benchmark is skipped)");
        return Ok(());
    }
    let x = xvfb::Xvfb::start();
    let work = tempfile::tempdir()?;
    let env = |cmd: &mut std::process::Command| {
        cmd.env("DISPLAY", &x.display)
            .env("XDG_RUNTIME_DIR", work.path())
            .env("XDG_DATA_HOME", work.path().join("data"))
            .env("XDG_CONFIG_HOME", work.path().join("config"))
            .env("WRITEBACK_LOG_DIR", work.path().join("logs"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
    };
    let bin = env!("CARGO_BIN_EXE_writeback-wizard");
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("--lab");
    env(&mut cmd);
    let mut wizard = cmd.spawn()?;
    let result = (|| -> BenchResult<u64> {
        let title = format!("writeback-wizard {} (lab)", env!("CARGO_PKG_VERSION"));
        let deadline = Instant::now() + Duration::from_secs(120);
        let id = loop {
            if let Some(id) = x.window(&title) {
                break id;
            }
            if Instant::now() > deadline {
                return Err("no wizard window".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Lab mode keeps its log in its own folder.
        let log = work.path().join("data/writeback-wizard/lab-mode/logs/writeback-wizard.log");
        let on =
            |page: &str| std::fs::read_to_string(&log).unwrap_or_default().contains(&format!("page shown: {page}\n"));
        let click = |at: (u32, u32)| {
            let _ = x
                .cmd("xdotool")
                .args(["mousemove", "--window", &id, &at.0.to_string(), &at.1.to_string(), "click", "1"])
                .status();
        };
        // Positions in the 940x620 window (as scripts/screenshots.sh has them).
        const NEXT: (u32, u32) = (897, 588);
        // (what to click first, if anything; then Next until this page shows)
        let steps: [(Option<(u32, u32)>, &str); 6] = [
            (None, "Tasks"),
            (None, "Connect to Microsoft Entra ID"),
            (Some((346, 160)), "Connect your directories"), // Sign in to the lab tenant
            (Some((304, 401)), "Domain and OU filtering"),  // Connect
            (None, "Optional features"),
            (None, "Ready to configure"),
        ];
        while !on("Welcome") {
            if Instant::now() > deadline {
                return Err("the wizard never showed Welcome".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for (first, page) in steps {
            // The sign-in button stays off until lab mode is up (the DC and the simulator).
            while first.is_some()
                && !std::fs::read_to_string(&log).unwrap_or_default().contains("tenant simulator listening")
            {
                if Instant::now() > deadline {
                    return Err("lab mode never came up".into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if let Some(at) = first {
                std::thread::sleep(Duration::from_millis(500));
                click(at);
            }
            // Next stays off until the engine has answered: press it until the page changes.
            while !on(page) {
                if Instant::now() > deadline {
                    return Err(format!("the wizard did not reach {page}").into());
                }
                click(NEXT);
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        x.settled_shot(&id, &work.path().join("ready.png"));
        Ok(rss_of(wizard.id()))
    })();
    let _ = wizard.kill();
    let _ = wizard.wait();
    let mut down = std::process::Command::new(bin);
    down.args(["lab", "down"]);
    env(&mut down);
    let _ = down.status();
    let ours = result?;
    let mut hello = std::process::Command::new(std::env::current_exe()?);
    hello.arg("--hello").env("XDG_RUNTIME_DIR", work.path());
    let (_, peer) = start_to_frame(&x, hello, "hello-egui", work.path())?;
    println!(
        "Resident memory on the Ready page (lab mode: the tenant simulator runs inside the wizard): wizard {ours} KiB, hello world {peer} KiB ({:.2}×)",
        ours as f64 / peer.max(1) as f64
    );
    Ok(())
}

/// `runs` timings of `f`.
fn times(runs: usize, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    (0..runs).map(|_| f()).collect()
}

/// The median of some timings.
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One table row: the median of ours and of the peer's runs, each with its spread (min–max), and
/// the ratio of the medians with the spread of the run-by-run ratios (run i of ours beside run i
/// of the peer's, measured one after the other).
/// Appended to the first cell of every row while the link rows run: `(RTT N ms)`.
static ROW_SUFFIX: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn row(what: &str, ours: &[Duration], peer_name: &str, peer: &[Duration]) {
    let suffix = ROW_SUFFIX.lock().map(|s| s.clone()).unwrap_or_default();
    let what = &format!("{what}{suffix}");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let spread = |v: &[Duration]| {
        let (lo, hi) = (v.iter().min().copied().unwrap_or_default(), v.iter().max().copied().unwrap_or_default());
        if v.len() > 1 { format!(" ({:.1}–{:.1})", ms(lo), ms(hi)) } else { String::new() }
    };
    let (o, p) = (median(ours.to_vec()), median(peer.to_vec()));
    let mut ratios: Vec<f64> =
        ours.iter().zip(peer).map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(1e-9)).collect();
    ratios.sort_by(f64::total_cmp);
    let ratio_spread = match (ratios.first(), ratios.last()) {
        (Some(lo), Some(hi)) if ratios.len() > 1 => format!(" ({lo:.2}–{hi:.2})"),
        _ => String::new(),
    };
    println!(
        "| {what} | {:.1} ms{} | {peer_name} | {:.1} ms{} | {:.2}×{ratio_spread} |",
        ms(o),
        spread(ours),
        ms(p),
        spread(peer),
        o.as_secs_f64() / p.as_secs_f64().max(1e-9)
    );
}

fn sd_codec(smoke: bool) -> BenchResult<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/sd_decode");
    let mut sds = Vec::new();
    for entry in std::fs::read_dir(&corpus)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("lab-")) {
            sds.push(std::fs::read(path)?);
        }
    }
    let bytes: usize = sds.iter().map(Vec::len).sum();
    let rounds = if smoke { 10 } else { 2000 };
    let ours = times(5, || {
        let start = Instant::now();
        for _ in 0..rounds {
            for sd in &sds {
                let decoded = SecurityDescriptor::decode(std::hint::black_box(sd)).expect("lab SDs decode");
                std::hint::black_box(decoded.encode());
            }
        }
        start.elapsed()
    });
    let copy = times(5, || {
        let start = Instant::now();
        for _ in 0..rounds {
            for sd in &sds {
                std::hint::black_box(std::hint::black_box(sd).clone());
            }
        }
        start.elapsed()
    });
    let mb = (bytes * rounds) as f64 / 1e6;
    println!(
        "SD codec: {} real lab descriptors, {bytes} bytes, ×{rounds}: decode+encode {:.0} MB/s, plain copy {:.0} MB/s",
        sds.len(),
        mb / median(ours.clone()).as_secs_f64(),
        mb / median(copy.clone()).as_secs_f64()
    );
    row("SD decode + encode", &ours, "copy of the same bytes", &copy);
    Ok(())
}

struct Lab {
    info: writeback_lab::LabInfo,
    admin: AdConnection,
    password: Secret,
}

async fn lab_up(dir: &Path) -> BenchResult<Lab> {
    let info = writeback_lab::up(dir, writeback_lab::UpOptions::default()).await?;
    let password = Secret::new(std::fs::read_to_string(&info.admin_password_file)?.trim_end().to_string());
    let trust =
        TlsTrust { ca_file: Some(info.ca_file.clone()), tls_name: Some(info.tls_name.clone()), fingerprint: None };
    let mut admin = AdConnection::connect(&ConnectOptions::new(info.ldap_url.clone(), trust)).await?;
    admin.bind(&info.admin_user, &password).await?;
    Ok(Lab { info, admin, password })
}

/// Adds an OU; one that is there already (an earlier row's) is kept.
async fn add_ou(conn: &mut AdConnection, dn: &str) -> BenchResult<()> {
    match conn.add(dn, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await {
        Ok(()) | Err(writeback_ad::AdError::Ldap { rc: 68, .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn grant_ous(lab: &mut Lab, smoke: bool) -> BenchResult<()> {
    let n = if smoke { 5 } else { 200 };
    let base = format!("OU=BenchGrant,{}", lab.info.base_dn);
    add_ou(&mut lab.admin, &base).await?;
    let ous: Vec<String> = (0..n).map(|i| format!("OU=G{i:04},{base}")).collect();
    for ou in &ous {
        add_ou(&mut lab.admin, ou).await?;
    }
    let disc = directory::discover(&mut lab.admin).await?;
    let connector = directory::find_account(&mut lab.admin, &disc, &lab.info.connector_account)
        .await?
        .ok_or("no connector account")?;
    let sid = Sid::parse(&connector.sid)?;
    let wanted = writeback::wanted(TargetKind::Scope, &sid);
    let runs = if smoke { 1 } else { 5 };
    let mut ours = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let added = writeback::grant_many(&lab.admin, ous.clone(), &wanted, &sid).await?;
        ours.push(start.elapsed());
        if added.iter().any(|a| a.added.len() != wanted.len()) {
            return Err("a grant wrote less than the 8 ACEs".into());
        }
        for a in &added {
            writeback::revoke(&mut lab.admin, &a.dn, &a.added).await?;
        }
        bare.push(bare_round_trips(&mut lab.admin, &ous).await?);
    }
    row(
        &format!("verified grant on {n} OUs, pipelined ({} in flight)", writeback_ad::WINDOW),
        &ours,
        "bare read + write of each DACL, one at a time (ldap3)",
        &bare,
    );
    Ok(())
}

/// The bare round trips a grant needs: read each DACL with SD_FLAGS, write the same bytes back.
async fn bare_round_trips(conn: &mut AdConnection, ous: &[String]) -> BenchResult<Duration> {
    let start = Instant::now();
    for ou in ous {
        let entries = conn
            .search_with(
                ou,
                ldap3::Scope::Base,
                "(objectClass=*)",
                &["nTSecurityDescriptor"],
                vec![sd_flags_control(0x04)],
            )
            .await?;
        let bytes = entries[0].bin_attrs["nTSecurityDescriptor"][0].clone();
        let result = conn
            .ldap()
            .with_controls(vec![sd_flags_control(0x04)])
            .modify(ou, vec![Mod::Replace(b"nTSecurityDescriptor".to_vec(), [bytes].into())])
            .await;
        conn.check("modify", result)?;
    }
    Ok(start.elapsed())
}

/// What the engine benchmarks plan and apply with: the lab's directory, the two accounts, a
/// state folder of its own.
struct Rig {
    disc: directory::Discovery,
    operator: directory::Account,
    connector: directory::Account,
    paths: writeback_core::engine::Paths,
    grants: writeback_core::engine::grants::GrantRecord,
    cancel: tokio_util::sync::CancellationToken,
    _state: tempfile::TempDir,
}

impl Rig {
    async fn new(lab: &mut Lab) -> BenchResult<Rig> {
        let disc = directory::discover(&mut lab.admin).await?;
        let operator = directory::find_account(&mut lab.admin, &disc, &lab.info.admin_user).await?.ok_or("no admin")?;
        let connector =
            directory::find_account(&mut lab.admin, &disc, &lab.info.connector_account).await?.ok_or("no connector")?;
        let state = tempfile::tempdir()?;
        let paths = writeback_core::engine::Paths {
            state_dir: state.path().join("state"),
            audit_log: state.path().join("audit.jsonl"),
            settings: state.path().join("settings.toml"),
        };
        let grants = writeback_core::engine::grants::GrantRecord::load(&paths)?;
        Ok(Rig {
            disc,
            operator,
            connector,
            paths,
            grants,
            cancel: tokio_util::sync::CancellationToken::new(),
            _state: state,
        })
    }

    /// Plans enabling or disabling on `scopes` and applies it, timing the apply. There is no
    /// tenant here, so the plan's preconditions are dropped: the steps are what is measured.
    async fn cycle(
        &mut self,
        lab: &mut Lab,
        backend: &writeback_sync::Backend,
        scopes: &[String],
        enable: bool,
    ) -> BenchResult<(writeback_core::engine::Plan, writeback_core::engine::apply::ApplyOutcome, Duration)> {
        use writeback_core::engine::{self, Inputs, apply};
        use writeback_sync::SyncEngine;
        let granted = writeback_core::engine::grants::GrantRecord::load(&self.paths)?;
        let forest =
            engine::plan::Forest::one(&mut lab.admin, &self.disc, &self.operator, Some(&self.connector), scopes);
        let mut inp = Inputs::one(forest, backend.state().await, &granted);
        let plan =
            if enable { engine::plan_enable(&mut inp).await? } else { engine::plan_disable(&mut inp, false).await? };
        let plan = engine::Plan { preconditions: Vec::new(), ..plan };
        let quiet = |_: apply::Progress| {};
        let mut env = apply::Env {
            routes: vec![apply::Route::of(&mut lab.admin, &self.disc, "lab.example.test", &self.operator.dn)],
            sync: backend,
            paths: &self.paths,
            grants: &mut self.grants,
            cancel: &self.cancel,
            progress: &quiet,
            clock: &writeback_base::clock::SystemClock,
        };
        let start = Instant::now();
        let out = apply::apply(&plan, &mut env, false).await?;
        Ok((plan, out, start.elapsed()))
    }
}

/// The same 200 OUs through the engine's apply — each step journalled (fsynced) before its change,
/// verified, audited (fsynced), and [granted] written once — beside the same bare round trips: what
/// an administrator's `apply` costs over the LDAP it cannot avoid.
async fn apply_ous(lab: &mut Lab, smoke: bool) -> BenchResult<()> {
    let n = if smoke { 5 } else { 200 };
    let ous: Vec<String> = (0..n).map(|i| format!("OU=G{i:04},OU=BenchGrant,{}", lab.info.base_dn)).collect();
    let mut rig = Rig::new(lab).await?;
    // No sync engine here (nothing listens on port 9): the plan's steps are the grants alone.
    let backend = writeback_sync::Backend::Lab(
        writeback_sync::lab::LabEngine::new("http://127.0.0.1:9", Secret::new("")).unwrap(),
    );
    let runs = if smoke { 1 } else { 5 };
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (plan, _, took) = rig.cycle(lab, &backend, &ous, true).await?;
        assert_eq!(plan.steps.len(), n, "one grant per OU");
        ours.push(took);
        rig.cycle(lab, &backend, &ous, false).await?;
        bare.push(bare_round_trips(&mut lab.admin, &ous).await?);
    }
    row(&format!("`apply` of the same {n} OU grants through the engine"), &ours, "the same bare round trips", &bare);
    Ok(())
}

/// The readiness scan at each size of `BENCH_USERS` (comma-separated; default 10,000 and 50,000),
/// the users seeded once, growing from one size to the next.
async fn scan_users(lab: &mut Lab, smoke: bool) -> BenchResult<()> {
    let sizes: Vec<usize> = if smoke {
        vec![50]
    } else {
        std::env::var("BENCH_USERS")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![10_000, 50_000])
    };
    let base = format!("OU=BenchUsers,{}", lab.info.base_dn);
    add_ou(&mut lab.admin, &base).await?;
    let mut seeded = 0;
    let mut peaks = Vec::new();
    for n in sizes {
        seed_users(lab, &base, seeded, n).await?;
        seeded = seeded.max(n);
        peaks.push((n, scan_once(lab, &base, n, smoke).await?));
    }
    for (n, kib) in &peaks {
        println!("Scan memory: {n} users, peak heap {kib} KiB above the heap in use before the scan");
    }
    if let (Some((n0, k0)), Some((n1, k1))) = (peaks.first(), peaks.last())
        && n1 > n0
    {
        println!(
            "Scan memory at {n1} users over {n0}: {:.2}× ({} KiB over {} KiB)",
            *k1 as f64 / (*k0).max(1) as f64,
            k1,
            k0
        );
    }
    root_write(lab, seeded).await
}

/// Every heap allocation of the benchmark is counted, so a scan's peak is its own: the bytes in
/// use at its highest above those in use when it began (resident memory would not do: the
/// allocator keeps what an earlier scan freed).
#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// Starts a heap measurement: returns the bytes in use now, and resets the peak to them.
fn reset_peak() -> usize {
    HEAP.reset_peak_usage();
    HEAP.current_usage()
}

/// The heap's peak since [`reset_peak`], in KiB above `base`.
fn peak_kib(base: usize) -> u64 {
    (HEAP.peak_usage().saturating_sub(base) / 1024) as u64
}

async fn seed_users(lab: &mut Lab, base: &str, from: usize, to: usize) -> BenchResult<()> {
    let seeding = Instant::now();
    for i in from..to {
        let dn = format!("CN=bench{i:06},{base}");
        let added = lab
            .admin
            .add(
                &dn,
                vec![
                    ("objectClass", vec![b"user".to_vec()]),
                    ("sAMAccountName", vec![format!("bench{i:06}").into_bytes()]),
                ],
            )
            .await;
        match added {
            Ok(()) | Err(writeback_ad::AdError::Ldap { rc: 68, .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    eprintln!("seeded users {from}..{to} in {:.1} s", seeding.elapsed().as_secs_f64());
    Ok(())
}

/// The readiness scan as `ad check` and the plan run it (the minimum age included: pwdLastSet for
/// every user, the resultant PSO read afterwards for the young ones), beside `ldapsearch` asking
/// for the same attributes. Returns the scan's
/// peak resident memory above the process's before it, in KiB.
async fn scan_once(lab: &mut Lab, base: &str, n: usize, smoke: bool) -> BenchResult<u64> {
    let base = base.to_string();
    let cancel = tokio_util::sync::CancellationToken::new();
    let runs = if smoke { 1 } else { 5 };
    let disc = directory::discover(&mut lab.admin).await?;
    let domain = writeback_ad::policy::domain_policy(&mut lab.admin, &disc).await?;
    let min_age =
        writeback_ad::readiness::min_age(&mut lab.admin, &disc, &domain, std::time::SystemTime::now()).await?;
    let mut ours = Vec::new();
    let mut with_access = Vec::new();
    let mut peak = 0;
    let mut access_peak = 0;
    let connector = directory::find_account(&mut lab.admin, &disc, &lab.info.connector_account)
        .await?
        .ok_or("the lab's connector account is missing")?;
    let connector_sid = writeback_ad::sd::Sid::parse(&connector.sid).map_err(|e| e.to_string())?;
    for _ in 0..runs {
        let before = reset_peak();
        let start = Instant::now();
        let found = writeback_ad::scan::scan_with(
            &mut lab.admin,
            std::slice::from_ref(&base),
            Some(&connector_sid),
            Some(&min_age),
            &cancel,
            &mut |_| {},
        )
        .await?;
        ours.push(start.elapsed());
        peak = peak.max(peak_kib(before));
        assert_eq!(found.users_in_scope, n);
        // The same scan answering each user's access (the evaluator's own reads included).
        let before = reset_peak();
        let start = Instant::now();
        let evaluator = writeback_ad::access::for_connector(
            &mut lab.admin,
            &disc,
            &connector,
            std::slice::from_ref(&base),
            &cancel,
        )
        .await?
        .ok_or("no evaluator for the connector")?;
        let found = writeback_ad::scan::scan_with_access(
            &mut lab.admin,
            std::slice::from_ref(&base),
            Some(&connector_sid),
            Some(&min_age),
            Some(&evaluator),
            &cancel,
            &mut |_| {},
        )
        .await?;
        with_access.push(start.elapsed());
        access_peak = access_peak.max(peak_kib(before));
        assert_eq!(found.access.map(|a| a.counts.users), Some(n));
    }
    row(
        &format!("each user's access answered in the scan of {n} users"),
        &with_access,
        "the same scan without it",
        &ours,
    );
    println!("Scan memory with access: {n} users, peak heap {access_peak} KiB (without: {peak} KiB)");
    let pw_file = lab.info.dir.join("bench.pw");
    std::fs::write(&pw_file, lab.password.expose())?;
    let mut peer = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = std::process::Command::new("ldapsearch")
            .env("LDAPTLS_CACERT", &lab.info.ca_file)
            // The URL holds an IP; ldapsearch cannot be told the certificate's name, so it does not check it.
            .env("LDAPTLS_REQCERT", "never")
            .args(["-LLL", "-x", "-H", &lab.info.ldap_url, "-D", &lab.info.admin_user, "-y"])
            .arg(&pw_file)
            .args(["-E", "pr=1000/noprompt", "-E", "!1.2.840.113556.1.4.801=::MAMCAQQ=", "-b", &base, "-s", "sub"])
            .arg("(|(objectClass=organizationalUnit)(objectClass=container)(&(objectCategory=person)(objectClass=user)))")
            .args(["objectClass", "adminCount", "nTSecurityDescriptor", "pwdLastSet"])
            .output()?;
        peer.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("ldapsearch failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let entries = String::from_utf8_lossy(&out.stdout).matches("\ndn: ").count() + 1;
        assert!(entries > n, "ldapsearch saw {entries} entries");
    }
    std::fs::remove_file(&pw_file)?;
    row(&format!("readiness scan of {n} users"), &ours, "ldapsearch, paged, same attributes and control", &peer);
    Ok(peak)
}

/// One permission change on the domain root once the users are seeded, beside the same change on
/// an empty OU: Samba recomputes the inherited ACEs of every object below a changed parent before
/// it answers (Windows does it in the background), which the plan warns about.
async fn root_write(lab: &mut Lab, users: usize) -> BenchResult<()> {
    let trust = TlsTrust {
        ca_file: Some(lab.info.ca_file.clone()),
        tls_name: Some(lab.info.tls_name.clone()),
        fingerprint: None,
    };
    let mut opts = ConnectOptions::new(lab.info.ldap_url.clone(), trust);
    opts.timeout = Duration::from_secs(1800);
    let mut conn = AdConnection::connect(&opts).await?;
    conn.bind(&lab.info.admin_user, &lab.password).await?;
    let disc = directory::discover(&mut conn).await?;
    // A trustee that holds nothing yet, so the change is a real write on both objects.
    let trustee = format!("CN=benchtrustee,{}", lab.info.base_dn);
    conn.add(
        &trustee,
        vec![("objectClass", vec![b"user".to_vec()]), ("sAMAccountName", vec![b"benchtrustee".to_vec()])],
    )
    .await?;
    let account = directory::find_account(&mut conn, &disc, "benchtrustee").await?.ok_or("no trustee")?;
    let sid = Sid::parse(&account.sid)?;
    let mut time_grant = async |dn: &str, kind: TargetKind| -> BenchResult<Duration> {
        let wanted = writeback::wanted(kind, &sid);
        let start = Instant::now();
        let out = writeback::grant(&mut conn, dn, &wanted, &sid).await?;
        let took = start.elapsed();
        if out.added.is_empty() {
            return Err(format!("nothing was written on {dn}").into());
        }
        writeback::revoke(&mut conn, dn, &out.added).await?;
        Ok(took)
    };
    let empty = format!("OU=G0000,OU=BenchGrant,{}", lab.info.base_dn);
    // The writeback ACEs of a scope: the domain root is the wizard's default scope.
    let ou = time_grant(&empty, TargetKind::Scope).await?;
    let root = time_grant(&lab.info.base_dn, TargetKind::Scope).await?;
    row(
        &format!("granting the 8 scope ACEs on the domain root, {users} users below (Samba)"),
        &[root],
        "the same change on an empty OU",
        &[ou],
    );
    Ok(())
}

/// Resident memory of this process, in KiB (VmRSS).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Enable and disable, again and again, in one process (as the wizard would over a long day):
/// resident memory after the first cycles and after the last.
async fn cycles(lab: &mut Lab, tenant: &Tenant, smoke: bool) -> BenchResult<()> {
    use writeback_sync::{Backend, lab::LabEngine};
    let n = if smoke { 3 } else { 100 };
    let backend = Backend::Lab(LabEngine::new(tenant.running.url(), tenant.token.clone()).unwrap());
    let mut rig = Rig::new(lab).await?;
    let scopes = vec![format!("OU=Corp,{}", lab.info.base_dn)];
    let mut after_warmup = 0;
    let started = Instant::now();
    for i in 0..n {
        for enable in [true, false] {
            let (_, out, _) = rig.cycle(lab, &backend, &scopes, enable).await?;
            assert!(out.verified, "cycle {i}: {out:?}");
        }
        if i == 9.min(n - 1) {
            after_warmup = rss_kib();
        }
    }
    let last = rss_kib();
    println!(
        "Enable + disable × {n} in one process ({:.0} ms per cycle): resident memory {} KiB after {} cycles, {} KiB after {n} ({:+} KiB)",
        started.elapsed().as_secs_f64() * 1e3 / n as f64,
        after_warmup,
        10.min(n),
        last,
        last as i64 - after_warmup as i64
    );
    Ok(())
}

/// The tenant simulator the lab benchmarks share, and its administrator's access token.
struct Tenant {
    running: writeback_lab::tenant::RunningTenant,
    token: Secret,
    /// Where the commands reach it (the simulator itself, or a link in front of it).
    url: String,
}

async fn tenant_up() -> BenchResult<Tenant> {
    let running = writeback_lab::tenant::start(
        writeback_lab::tenant::Fixture::default(),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let endpoints = writeback_entra::clouds::endpoints(writeback_core::config::Cloud::Lab, Some(running.url()));
    let si = writeback_entra::auth::SignIn::new(endpoints, running.info().tenant_id.clone(), "bench")?;
    let token = si.password(&running.info().admin_upn, &running.admin_password()).await?.access;
    let url = running.url().to_string();
    Ok(Tenant { running, token, url })
}

/// The binary with the bench lab's and tenant's connection flags, its state in `work`; the secrets
/// only in the environment.
fn cli(lab: &Lab, tenant: &Tenant, work: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_writeback-wizard"));
    cmd.args(args)
        .args(["--config", &work.join("settings.toml").to_string_lossy()])
        .args(["--ad-url", &lab.info.ldap_url, "--ad-ca-file", &lab.info.ca_file.to_string_lossy()])
        .args(["--ad-tls-name", &lab.info.tls_name, "--ad-user", &lab.info.admin_user])
        .args(["--connector-account", &lab.info.connector_account])
        .args(["--scope", &format!("OU=Corp,{}", lab.info.base_dn)])
        .args(["--cloud", "lab", "--lab-url", &tenant.url, "--tenant", &tenant.running.info().tenant_id])
        .env("WRITEBACK_AD_PASSWORD", lab.password.expose())
        .env("WRITEBACK_ENTRA_TOKEN", tenant.token.expose())
        .env("XDG_DATA_HOME", work.join("data"))
        .env("XDG_CONFIG_HOME", work.join("config"))
        .env("WRITEBACK_LOG_DIR", work.join("logs"))
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    cmd
}

/// `status` through the binary: the process's wall time beside the sum of the network round trips
/// it made (which it reports with -v), so what is left is our own work: process start, TLS, JSON.
async fn status_round_trips(lab: &Lab, tenant: &Tenant, smoke: bool) -> BenchResult<()> {
    round_trips(lab, tenant, smoke, &["status", "--json", "-v"], "`status` (CLI process, wall)").await
}

/// A command through the binary: its wall time beside the sum of its own round trips (`-v`).
async fn round_trips(lab: &Lab, tenant: &Tenant, smoke: bool, args: &[&str], what: &str) -> BenchResult<()> {
    let work = tempfile::tempdir()?;
    let runs = if smoke { 1 } else { 9 };
    let mut samples = Vec::new();
    for _ in 0..runs {
        let cmd = cli(lab, tenant, work.path(), args);
        let start = Instant::now();
        let out = tokio::process::Command::from(cmd).output().await?;
        let wall = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("{args:?} failed: {stderr}").into());
        }
        let line = stderr.lines().find(|l| l.contains("on the network:")).ok_or("no round-trip line with -v")?;
        // "… a LDAP round trips (b ms), c HTTPS requests (d ms)"
        let numbers: Vec<u64> = line
            .split("on the network:")
            .nth(1)
            .unwrap_or_default()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|t| t.parse().ok())
            .collect();
        let [ldap, ldap_ms, http, http_ms] = numbers[..] else { return Err(format!("cannot read {line}").into()) };
        samples.push((wall, Duration::from_millis(ldap_ms + http_ms), ldap, http));
    }
    let (_, _, ldap, http) = samples[0];
    let walls: Vec<Duration> = samples.iter().map(|s| s.0).collect();
    let network: Vec<Duration> = samples.iter().map(|s| s.1).collect();
    row(what, &walls, &format!("sum of its {ldap} LDAP + {http} HTTPS round trips"), &network);
    Ok(())
}

/// Peak resident memory (KiB) of this process's finished children, the largest of them.
fn children_max_rss_kib() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).map(|u| u.max_rss()).unwrap_or(0)
}

/// `perf --cli-cycles N`: run as its own process so that its only children are the CLI's, whose
/// peak resident memory the kernel then reports (the largest of any finished child): enable and
/// disable through the binary N times; print the time per cycle and that peak.
fn cli_cycles_child(n: usize) -> BenchResult<()> {
    let args: Vec<String> = serde_json::from_str(&std::env::var("PERF_CLI_ARGS")?)?;
    let started = Instant::now();
    for i in 0..n {
        for action in ["--enable", "--disable"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
                .args(["apply", action, "--yes", "--json"])
                .args(&args)
                .stdin(std::process::Stdio::null())
                .output()?;
            if !out.status.success() {
                return Err(format!("cycle {i} {action}: {}", String::from_utf8_lossy(&out.stdout)).into());
            }
        }
    }
    println!("cli-cycles {:.0} {}", started.elapsed().as_secs_f64() * 1e3 / n as f64, children_max_rss_kib());
    Ok(())
}

/// Enable and disable through the CLI, one process each, against the lab, in blocks of 10 cycles
/// (a helper process per block, all on the same settings, journal folder and audit log): the
/// largest peak resident memory of a CLI process in each block. A leak across runs would make the
/// later blocks larger; the blocks are not cumulative, so noise cannot pass for growth.
async fn cli_cycles(lab: &Lab, tenant: &Tenant, smoke: bool) -> BenchResult<()> {
    let (blocks, per_block) = if smoke { (1, 2) } else { (10, 10) };
    let work = tempfile::tempdir()?;
    let template = cli(lab, tenant, work.path(), &[]);
    let args: Vec<String> = template.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut peaks = Vec::new();
    let mut per_cycle = Vec::new();
    for _ in 0..blocks {
        let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
        cmd.args(["--cli-cycles", &per_block.to_string()]).env("PERF_CLI_ARGS", serde_json::to_string(&args)?);
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let out = cmd.output().await?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!("the CLI cycles failed: {text}{}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let line = text.lines().find_map(|l| l.strip_prefix("cli-cycles ")).ok_or("no cli-cycles line")?;
        let f: Vec<f64> = line.split_whitespace().filter_map(|t| t.parse().ok()).collect();
        let [ms, peak] = f[..] else { return Err(format!("cannot read {line}").into()) };
        per_cycle.push(ms);
        peaks.push(peak as i64);
    }
    let (first, last) = (peaks[0], peaks[peaks.len() - 1]);
    println!(
        "Enable + disable × {} through the CLI, a process each ({:.0} ms per cycle): largest peak resident memory of a CLI process per block of {per_block} cycles: {} KiB (first block {first}, last {last}: {:+} KiB)",
        blocks * per_block,
        per_cycle.iter().sum::<f64>() / per_cycle.len() as f64,
        peaks.iter().map(i64::to_string).collect::<Vec<_>>().join(", "),
        last - first
    );
    Ok(())
}

/// The scan (`plan --enable`) and `status` of two forests in one run, beside the same two
/// commands for each forest alone (the other left out) run one after the other: the forests are
/// reached, checked and scanned at the same time, so one run of both takes less than the sum.
async fn two_forests(lab: &Lab, tenant: &Tenant, smoke: bool, south_dir: &Path) -> BenchResult<()> {
    let south_forest = writeback_lab::LabForest::new("south.example.test")?;
    let south =
        writeback_lab::up(south_dir, writeback_lab::UpOptions { forest: south_forest, ..Default::default() }).await?;
    let south_password = Secret::new(std::fs::read_to_string(&south.admin_password_file)?.trim_end().to_string());
    let labs = [(&lab.info, &lab.password), (&south, &south_password)];
    let connectors = labs
        .iter()
        .map(|(info, _)| {
            let netbios = info.forest.split('.').next().unwrap_or_default().to_ascii_uppercase();
            writeback_lab::tenant::LabAdConnector {
                forest: info.forest.clone(),
                account: format!("{netbios}\\{}", info.connector_account),
                domains: vec![info.forest.clone()],
                ..Default::default()
            }
        })
        .collect();
    tenant.running.with_sync_engine(|m| m.ad_connectors = connectors);
    let work = tempfile::tempdir()?;
    let write = |name: &str, which: &[usize]| -> BenchResult<PathBuf> {
        let mut text = String::from("version = 1\n");
        for i in which {
            let info = labs[*i].0;
            text.push_str(&format!(
                "\n[[directory]]\nforest = \"{}\"\nad_url = \"{}\"\nad_ca_file = \"{}\"\nad_tls_name = \"{}\"\nad_user = '{}'\n",
                info.forest,
                info.ldap_url,
                info.ca_file.display(),
                info.tls_name,
                info.admin_user
            ));
        }
        let path = work.path().join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    };
    let both = write("both.toml", &[0, 1])?;
    let alone = [write("first.toml", &[0])?, write("second.toml", &[1])?];
    let run = async |config: &Path, leave_out: Option<&str>| -> BenchResult<Duration> {
        let start = Instant::now();
        for args in [&["plan", "--enable", "--json"][..], &["status", "--json"][..]] {
            let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_writeback-wizard"));
            cmd.args(args)
                .args(["--config", &config.to_string_lossy()])
                .args([
                    "--cloud",
                    "lab",
                    "--lab-url",
                    tenant.running.url(),
                    "--tenant",
                    &tenant.running.info().tenant_id,
                ])
                .args(leave_out.map(|f| vec!["--leave-out", f]).unwrap_or_default())
                .env("XDG_DATA_HOME", work.path().join("data"))
                .env("XDG_CONFIG_HOME", work.path().join("config"))
                .env("WRITEBACK_LOG_DIR", work.path().join("logs"))
                .env("WRITEBACK_ENTRA_TOKEN", tenant.token.expose())
                .env_remove("RUST_LOG")
                .stdin(std::process::Stdio::null());
            for (info, password) in &labs {
                let var = format!("WRITEBACK_AD_PASSWORD_{}", info.forest.to_ascii_uppercase().replace('.', "_"));
                cmd.env(var, password.expose());
            }
            let out = cmd.output().await?;
            if !out.status.success() {
                return Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stdout)).into());
            }
        }
        Ok(start.elapsed())
    };
    let runs = if smoke { 1 } else { 7 };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(run(&both, None).await?);
        let first = run(&alone[0], Some(&south.forest)).await?;
        let second = run(&alone[1], Some(&lab.info.forest)).await?;
        peer.push(first + second);
    }
    tenant.running.with_sync_engine(|m| m.ad_connectors = Vec::new());
    row("two forests: `plan --enable` + `status` (CLI, wall)", &ours, "each forest alone, one after the other", &peer);
    Ok(())
}

/// The wizard (driven by its accessibility labels, as the GUI tests drive it) from Next on
/// *Connect your directories* until the readiness verdicts show on *Optional features* — Next on
/// *Domain and OU filtering* pressed as soon as it is enabled, the default scope kept — beside the
/// sum of the round trips it made in that time (counted by the process itself, as `-v` counts a
/// command's).
async fn wizard_next(lab: &Lab, tenant: &Tenant, smoke: bool) -> BenchResult<()> {
    use egui_kittest::kittest::{NodeT, Queryable};
    let args = writeback_core::config::SettingsOverlay {
        ad_url: Some(lab.info.ldap_url.clone()),
        ad_user: Some(lab.info.admin_user.clone()),
        ad_ca_file: Some(lab.info.ca_file.clone()),
        ad_tls_name: Some(lab.info.tls_name.clone()),
        connector_account: Some(lab.info.connector_account.clone()),
        cloud: Some(writeback_core::config::Cloud::Lab),
        tenant: Some(tenant.running.info().tenant_id.clone()),
        lab_url: Some(tenant.url.clone()),
        ..Default::default()
    };
    let user = (tenant.running.info().admin_upn.clone(), tenant.running.admin_password());
    let password = lab.password.clone();
    let runs = if smoke { 1 } else { 5 };
    let samples =
        tokio::task::spawn_blocking(move || -> Result<Vec<(Duration, writeback_base::netstats::Snapshot)>, String> {
            type H = egui_kittest::Harness<'static, writeback_gui::App>;
            let home = tempfile::tempdir().map_err(|e| e.to_string())?;
            let mut app =
                writeback_gui::App::new(home.path().join("settings.toml"), None, args, std::sync::Arc::new(|| {}))
                    .map_err(|e| format!("{e:?}"))?;
            app.set_paths(writeback_core::engine::Paths {
                state_dir: home.path().join("state"),
                audit_log: home.path().join("audit.jsonl"),
                settings: home.path().join("settings.toml"),
            });
            // The browser: the sign-in form posted as the tenant's administrator would fill it.
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?;
            app.worker().ok_or("no worker")?.set_browser(std::sync::Arc::new(move |url: String| {
                let (http, user) = (http.clone(), user.clone());
                tokio::spawn(async move {
                    let Ok(parsed) = reqwest::Url::parse(&url) else { return };
                    let mut form: Vec<(String, String)> =
                        parsed.query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                    form.push(("username".into(), user.0.clone()));
                    form.push(("password".into(), user.1.expose().to_string()));
                    let mut action = parsed.clone();
                    action.set_query(None);
                    let Ok(resp) = http.post(action).form(&form).send().await else { return };
                    if let Some(location) = resp.headers().get("location").and_then(|l| l.to_str().ok()) {
                        let _ = http.get(location).send().await;
                    }
                });
                Ok(())
            }));
            let mut h: H = egui_kittest::Harness::builder()
                .with_size([940.0, 620.0])
                .build_ui_state(|ui, app: &mut writeback_gui::App| app.ui(ui), app);
            let deadline = Instant::now() + Duration::from_secs(300);
            let wait = |h: &mut H, what: &str, done: &dyn Fn(&writeback_gui::App) -> bool| -> Result<(), String> {
                loop {
                    h.step();
                    if done(h.state()) {
                        return Ok(());
                    }
                    if let Some(e) = h.state().error() {
                        return Err(format!("waiting for {what}: {}: {}", e.code, e.message));
                    }
                    if Instant::now() > deadline {
                        return Err(format!("timed out waiting for {what}"));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            };
            let click = |h: &mut H, label: &str| -> Result<(), String> {
                wait(h, label, &|_| true)?;
                while h.get_by_label(label).accesskit_node().is_disabled() {
                    wait(h, label, &|_| true)?;
                }
                h.get_by_label(label).click();
                h.step();
                Ok(())
            };
            let idle = |a: &writeback_gui::App| !a.wizard().facts.busy;
            click(&mut h, "Next")?;
            click(&mut h, "Next")?;
            click(&mut h, "Sign in with a browser")?;
            wait(&mut h, "the sign-in", &|a| a.wizard().facts.tenant_ready && idle(a))?;
            click(&mut h, "Next")?;
            let field = h.get_by_label("Password");
            field.focus();
            field.type_text(password.expose());
            h.step();
            click(&mut h, "Connect")?;
            wait(&mut h, "the directory connection", &|a| a.pages().directories().directory().is_some() && idle(a))?;
            let mut samples = Vec::new();
            for _ in 0..runs {
                let before = writeback_base::netstats::snapshot();
                let started = Instant::now();
                click(&mut h, "Next")?;
                click(&mut h, "Next")?;
                wait(&mut h, "the verdicts", &|a| a.pages().features().findings().is_some() && idle(a))?;
                let took = started.elapsed();
                let net = writeback_base::netstats::snapshot().since(&before);
                samples.push((took, net));
                // Back to Connect your directories for the next run.
                click(&mut h, "Previous")?;
                click(&mut h, "Previous")?;
                wait(&mut h, "Connect your directories", &|a| {
                    a.wizard().page == writeback_gui::wizard::PageId::ConnectDirectories && idle(a)
                })?;
            }
            Ok(samples)
        })
        .await?
        .map_err(|e| format!("the wizard: {e}"))?;
    let ours: Vec<Duration> = samples.iter().map(|s| s.0).collect();
    let peer: Vec<Duration> = samples.iter().map(|s| s.1.waited()).collect();
    let first = samples.first().map(|s| s.1).unwrap_or_default();
    row(
        "the wizard: Next on *Connect your directories* to the verdicts (in process)",
        &ours,
        &format!("sum of its {} LDAP + {} HTTPS round trips", first.ldap.count, first.http.count),
        &peer,
    );
    Ok(())
}

/// Where the DNS and KDC relays listen: a loopback address no lab DC claims (they take
/// 127.0.0.N), so that resolv.conf and krb5.conf can name it with the standard ports.
const RELAY_IP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 0, 1, 53);
/// The name the SRV record gives the DC behind the link (an alias with its own A record and SPN,
/// as a DNS alias of a real DC has).
const FAR_DC: &str = "far";

/// Points the lab's `_ldap._tcp.dc._msdcs` SRV record at `far.<forest>:port` (an A record for
/// 127.0.0.1, the LDAP relay's address, and the SPN `ldap/far.<forest>` on the DC's account), on the running DC's own databases with Samba's Python
/// library (the lab DC runs no DNS management RPC).
fn point_srv_at(lab: &Lab, port: u16) -> BenchResult<()> {
    use std::io::Write;
    const SCRIPT: &str = r#"
import sys, json, ldb
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
from samba.ndr import ndr_pack
from samba.provision.sambadns import ARecord, SRVRecord
d = json.load(sys.stdin)
lp = LoadParm()
lp.load(d["conf"])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
forest = d["forest"]
def put(dn, recs):
    el = ldb.MessageElement([ndr_pack(r) for r in recs], ldb.FLAG_MOD_REPLACE, "dnsRecord")
    try:
        db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=[])
        m = ldb.Message(ldb.Dn(db, dn))
        m["dnsRecord"] = el
        db.modify(m)
    except ldb.LdbError:
        db.add({"dn": dn, "objectClass": "dnsNode", "dnsRecord": [ndr_pack(r) for r in recs]})
put("DC=%s,DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s" % (d["name"], forest, db.get_default_basedn()), [ARecord("127.0.0.1")])
put("DC=_ldap._tcp.dc,DC=_msdcs.%s,CN=MicrosoftDNS,DC=ForestDnsZones,%s" % (forest, db.get_root_basedn()),
    [SRVRecord("%s.%s" % (d["name"], forest), d["port"])])
spn = "ldap/%s.%s" % (d["name"], forest)
dc = db.search(expression="(sAMAccountName=%s)" % ldb.binary_encode(d["dc_account"]), attrs=["servicePrincipalName"])[0]
if spn not in [str(v) for v in dc.get("servicePrincipalName", [])]:
    m = ldb.Message(dc.dn)
    m["servicePrincipalName"] = ldb.MessageElement([spn], ldb.FLAG_MOD_ADD, "servicePrincipalName")
    db.modify(m)
"#;
    let input = serde_json::json!({
        "conf": writeback_lab::samba::smb_conf(&lab.info.dir.join("dc")),
        "forest": lab.info.forest,
        "name": FAR_DC,
        "port": port,
        "dc_account": format!("{}$", lab.info.dc_host.split('.').next().unwrap_or_default().to_ascii_uppercase()),
    });
    let python = writeback_lab::samba::SambaTools::locate()?.python();
    let mut child = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("stdin")?.write_all(input.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("the SRV record: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// `perf --sign-in FOREST PRINCIPAL` (the password on stdin), run where the lab's resolv.conf and
/// krb5.conf point at the relays: ours — the DC found by DNS SRV, Kerberos with the typed password
/// and the sealed bind, as the product signs in — then the peer: the same SRV query, `kinit` and
/// OpenLDAP's `ldapsearch -Y GSSAPI` of the rootDSE from the DC the record names, one after the
/// other. Prints the two times in microseconds.
fn sign_in_child(forest: &str, principal: &str) -> BenchResult<()> {
    use writeback_ad::signin::{self, Place, SignIn, Who};
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = Secret::new(password.trim_end().to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let ours = rt.block_on(async {
        let s = SignIn {
            place: Place::Forest { name: forest.to_string() },
            who: Who::Password { user: principal.to_string(), password: password.clone() },
            simple: false,
            trust: TlsTrust::default(),
            timeout: Duration::from_secs(30),
            domains: Vec::new(),
        };
        let started = Instant::now();
        let (_conn, protection) = signin::sign_in(&s, &mut rand::rng()).await?;
        let took = started.elapsed();
        let said = protection.said();
        if !protection.dc.starts_with(&format!("{FAR_DC}.")) || !said.contains("sealed") {
            return Err(format!("signed in other than through the link: {said}").into());
        }
        BenchResult::Ok(took)
    })?;
    let started = Instant::now();
    let located = rt.block_on(writeback_ad::locate::locate(forest, Duration::from_secs(30), &mut rand::rng()))?;
    let dc = located.dcs.first().ok_or("no DC in DNS")?.clone();
    let mut kinit = std::process::Command::new("kinit")
        .arg(principal)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    {
        use std::io::Write;
        kinit.stdin.take().ok_or("stdin")?.write_all(format!("{}\n", password.expose()).as_bytes())?;
    }
    let out = kinit.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("kinit: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    // The rootDSE after the bind (Samba has no Who am I? operation): the one read ours makes
    // before it.
    let out = std::process::Command::new("ldapsearch")
        .args(["-LLL", "-Q", "-Y", "GSSAPI", "-N", "-H", &format!("ldap://{}:{}", dc.host, dc.port)])
        .args(["-s", "base", "-b", "", "dnsHostName"])
        .output()?;
    if !out.status.success() || !String::from_utf8_lossy(&out.stdout).contains("dnsHostName") {
        return Err(format!("ldapsearch: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let peer = started.elapsed();
    println!("{} {}", ours.as_micros(), peer.as_micros());
    Ok(())
}

/// Discovery and sign-in across the link: the lab's DNS server and KDC behind relays on
/// [`RELAY_IP`] (UDP and TCP, ports 53 and 88), the DC's LDAP behind another, the forest's SRV
/// record naming that one; [`sign_in_child`] run in a private mount namespace where resolv.conf
/// names the DNS relay and `KRB5_CONFIG` the KDC relay (the machine's own are never changed).
async fn discovery_row(lab: &Lab, smoke: bool, one_way: Duration) -> BenchResult<()> {
    let dc_ip: std::net::IpAddr = lab.info.dns_server.parse()?;
    let at = |port: u16| std::net::SocketAddr::new(std::net::IpAddr::V4(RELAY_IP), port);
    let to = |port: u16| std::net::SocketAddr::new(dc_ip, port);
    use writeback_lab::link::{Link, UdpLink};
    let udp = [
        on_link_runtime(UdpLink::start_at(at(53), to(53), one_way)).await?,
        on_link_runtime(UdpLink::start_at(at(88), to(88), one_way)).await?,
    ];
    let tcp = [
        on_link_runtime(Link::start_at(at(53), to(53), one_way)).await?,
        on_link_runtime(Link::start_at(at(88), to(88), one_way)).await?,
        on_link_runtime(Link::start(to(389), one_way)).await?,
    ];
    let result = sign_in_runs(lab, smoke, tcp[2].addr().port()).await;
    // The next delay's relays take the same ports.
    for link in udp {
        link.stop().await;
    }
    for link in tcp {
        link.stop().await;
    }
    result
}

/// [`discovery_row`]'s runs, the forest's SRV record naming the DC at 127.0.0.1:`ldap_port`.
async fn sign_in_runs(lab: &Lab, smoke: bool, ldap_port: u16) -> BenchResult<()> {
    point_srv_at(lab, ldap_port)?;
    let work = tempfile::tempdir()?;
    let resolv = work.path().join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {RELAY_IP}\n"))?;
    let krb5 = work.path().join("krb5.conf");
    let lab_krb5 = std::fs::read_to_string(&lab.info.krb5_conf)?;
    std::fs::write(&krb5, lab_krb5.replace(&format!("kdc = {}", lab.info.dns_server), &format!("kdc = {RELAY_IP}")))?;
    let principal = format!("Administrator@{}", lab.info.realm);
    let runs = if smoke { 1 } else { 5 };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let cache = work.path().join("krb5cc");
        let _ = std::fs::remove_file(&cache);
        let exe = std::env::current_exe()?;
        let args = ["--sign-in", &lab.info.forest, &principal].map(std::ffi::OsStr::new);
        let mut child = tokio::process::Command::from(writeback_lab::with_resolver(&resolv, exe.as_os_str(), &args))
            .env("KRB5_CONFIG", &krb5)
            .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        {
            use tokio::io::AsyncWriteExt;
            let mut stdin = child.stdin.take().ok_or("stdin")?;
            stdin.write_all(format!("{}\n", lab.password.expose()).as_bytes()).await?;
        }
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            return Err(format!("perf --sign-in: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let times: Vec<u64> = text.split_whitespace().filter_map(|t| t.parse().ok()).collect();
        let [o, p] = times[..] else { return Err(format!("perf --sign-in printed {text:?}").into()) };
        ours.push(Duration::from_micros(o));
        peer.push(Duration::from_micros(p));
    }
    row(
        "discovery and sign-in: the DC from DNS SRV, Kerberos with a typed password (AS, TGS), the sealed bind",
        &ours,
        "the same SRV query, then `kinit`, then `ldapsearch -Y GSSAPI` of the rootDSE (MIT, OpenLDAP), one after the other",
        &peer,
    );
    Ok(())
}

/// Starts a relay on a runtime of its own (one thread): on the benchmark's runtime, our in-process
/// work (a scan decoding descriptors, a pipelined grant) would hold back the relay's chunks, and
/// not those of a peer that runs as another process (`ldapsearch`).
async fn on_link_runtime<L: Send + 'static>(
    start: impl std::future::Future<Output = std::io::Result<L>> + Send + 'static,
) -> std::io::Result<L> {
    static LINKS: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let rt = LINKS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("link")
            .enable_all()
            .build()
            .expect("a runtime for the emulated link")
    });
    rt.spawn(start).await.map_err(std::io::Error::other)?
}

/// The address an `ldaps://host[:port]` or `http://host:port` URL names (loopback addresses only
/// here: the lab's DC and simulator).
fn socket_of(url: &str, default_port: u16) -> BenchResult<std::net::SocketAddr> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url).trim_end_matches('/');
    let with_port = if rest.contains(':') { rest.to_string() } else { format!("{rest}:{default_port}") };
    Ok(with_port.parse()?)
}

/// `BENCH_LINK_RTT_MS=0,1,10`: the grant, apply, scan, `status` and `ad check` rows again with the
/// DC and the tenant simulator behind an emulated link of each round-trip time
/// (writeback_lab::link), the peers behind the same link; each row's first cell ends `(RTT N ms)`.
async fn link_rows(lab: &mut Lab, tenant: &mut Tenant, smoke: bool, rtts: &[u64]) -> BenchResult<()> {
    let n = if smoke {
        50
    } else {
        std::env::var("BENCH_USERS")
            .ok()
            .and_then(|v| v.split(',').next().and_then(|n| n.trim().parse().ok()))
            .unwrap_or(10_000)
    };
    let base = format!("OU=BenchUsers,{}", lab.info.base_dn);
    add_ou(&mut lab.admin, &base).await?;
    seed_users(lab, &base, 0, n).await?;
    let dc = socket_of(&lab.info.ldap_url, 636)?;
    let sim = socket_of(tenant.running.url(), 80)?;
    let direct = tenant.url.clone();
    for rtt in rtts {
        let one_way = Duration::from_micros(rtt * 500);
        let dc_link = on_link_runtime(writeback_lab::link::Link::start(dc, one_way)).await?;
        let sim_link = on_link_runtime(writeback_lab::link::Link::start(sim, one_way)).await?;
        let url = format!("ldaps://{}", dc_link.addr());
        let trust = TlsTrust {
            ca_file: Some(lab.info.ca_file.clone()),
            tls_name: Some(lab.info.tls_name.clone()),
            fingerprint: None,
        };
        let mut admin = AdConnection::connect(&ConnectOptions::new(url.clone(), trust)).await?;
        admin.bind(&lab.info.admin_user, &lab.password).await?;
        let info = writeback_lab::LabInfo { ldap_url: url, ..lab.info.clone() };
        let mut via = Lab { info, admin, password: lab.password.clone() };
        tenant.url = format!("http://{}", sim_link.addr());
        if let Ok(mut s) = ROW_SUFFIX.lock() {
            *s = format!(" (RTT {rtt} ms)");
        }
        let result = async {
            grant_ous(&mut via, smoke).await?;
            apply_ous(&mut via, smoke).await?;
            scan_once(&mut via, &base, n, smoke).await?;
            round_trips(&via, tenant, smoke, &["status", "--json", "-v"], "`status` (CLI process, wall)").await?;
            round_trips(&via, tenant, smoke, &["ad", "check", "--json", "-v"], "`ad check` (CLI process, wall)")
                .await?;
            wizard_next(&via, tenant, smoke).await?;
            discovery_row(&via, smoke, one_way).await
        }
        .await;
        if let Ok(mut s) = ROW_SUFFIX.lock() {
            s.clear();
        }
        tenant.url.clone_from(&direct);
        result?;
    }
    Ok(())
}

fn main() -> BenchResult<()> {
    if std::env::args().any(|a| a == "--hello") {
        return hello();
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sign-in") {
        return sign_in_child(
            args.get(i + 1).ok_or("--sign-in FOREST PRINCIPAL")?,
            args.get(i + 2).ok_or("--sign-in FOREST PRINCIPAL")?,
        );
    }
    if let Some(i) = args.iter().position(|a| a == "--cli-cycles") {
        return cli_cycles_child(args.get(i + 1).ok_or("--cli-cycles N")?.parse()?);
    }
    let smoke = std::env::args().any(|a| a == "--smoke");
    // BENCH_ONLY=ldap: the grant and apply rows alone (for a run under an emulated network delay).
    let only_ldap = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "ldap");
    // BENCH_ONLY=forests: the two-forest row alone.
    let only_forests = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "forests");
    // BENCH_ONLY=scan: the readiness scan rows alone (with and without each user's access).
    let only_scan = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "scan");
    // BENCH_LINK_RTT_MS: the link rows alone.
    let only_lab_rows = only_forests || only_scan || std::env::var("BENCH_LINK_RTT_MS").is_ok();
    println!("| measured | ours | peer | peer's | ratio |\n|---|---|---|---|---|");
    if !only_ldap && !only_lab_rows {
        sd_codec(smoke)?;
        wizard_start(smoke)?;
    }
    if !nix::unistd::geteuid().is_root() {
        println!("(the lab benchmarks need root for the lab DC: skipped)");
        return Ok(());
    }
    if !only_ldap && !only_lab_rows {
        wizard_ready()?;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(if smoke { "bench-lab-smoke" } else { "bench-lab" });
    let south_dir = dir.with_extension("south");
    for d in [&dir, &south_dir] {
        let _ = writeback_lab::down(d);
        let _ = std::fs::remove_dir_all(d);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = rt.block_on(async {
        let mut lab = lab_up(&dir).await?;
        let mut tenant = tenant_up().await?;
        // BENCH_LINK_RTT_MS=0,1,10: the rows behind an emulated link, alone.
        if let Ok(list) = std::env::var("BENCH_LINK_RTT_MS") {
            let rtts: Vec<u64> = list.split(',').filter_map(|v| v.trim().parse().ok()).collect();
            link_rows(&mut lab, &mut tenant, smoke, &rtts).await?;
            tenant.running.stop().await;
            return Ok(());
        }
        if only_scan {
            scan_users(&mut lab, smoke).await?;
            tenant.running.stop().await;
            return Ok(());
        }
        if only_forests {
            two_forests(&lab, &tenant, smoke, &south_dir).await?;
            tenant.running.stop().await;
            return Ok(());
        }
        grant_ous(&mut lab, smoke).await?;
        apply_ous(&mut lab, smoke).await?;
        if only_ldap {
            tenant.running.stop().await;
            return Ok(());
        }
        status_round_trips(&lab, &tenant, smoke).await?;
        // Before the users are seeded: a DACL change on a domain root makes Samba rewrite the
        // inherited ACEs of every object below it, at once (see docs/performance.md).
        cycles(&mut lab, &tenant, smoke).await?;
        cli_cycles(&lab, &tenant, smoke).await?;
        two_forests(&lab, &tenant, smoke, &south_dir).await?;
        scan_users(&mut lab, smoke).await?;
        // The link rows at smoke sizes too, so they never rot.
        if smoke {
            link_rows(&mut lab, &mut tenant, smoke, &[10]).await?;
        }
        tenant.running.stop().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    // Nothing of the benchmark's labs may outlive it (an orphaned Samba keeps its address).
    let mut left = Vec::new();
    for d in [&dir, &south_dir] {
        let _ = writeback_lab::down(d);
        left.extend(writeback_lab::processes(d));
        let _ = std::fs::remove_dir_all(d);
    }
    if !left.is_empty() {
        return Err(format!("the benchmark's lab left Samba processes running: {left:?}").into());
    }
    result
}
