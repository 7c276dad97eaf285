//! Crash proof: a crash at any moment of an enable or a disable is recoverable. With the
//! test-only feature `crash-points` the binary kills itself (SIGKILL) right after its Nth journal
//! record or Nth LDAP write, N drawn from a seeded RNG, on a lab DC with 50 OUs in scope; then
//! `apply --rollback` or `--resume`, and every DACL must be its exact bytes from before the run or
//! from the complete target state — all of them the same one — with the grant record and the sync
//! engine's switch agreeing.
//!
//! The test command runs 20 points (`WRITEBACK_CRASH_POINTS` for more: docs/performance.md
//! reports a 500-point run; `WRITEBACK_CRASH_SEED` another seed).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use writeback_ad::writeback;

use crate::ad_engine::BASE;
use crate::support::{LabDc, bin, code};
use crate::tenant::{HIA, Sim};

const OUS: usize = 50;

struct Rig {
    lab: LabDc,
    sim: Sim,
    token: String,
    scopes: Vec<String>,
}

impl Rig {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bin(self.lab.home.path());
        c.args(args)
            .args(["--yes", "--json"])
            .args(["--ad-url", &self.lab.field("ldap_url"), "--ad-ca-file", &self.lab.field("ca_file")])
            .args(["--ad-tls-name", &self.lab.field("tls_name"), "--ad-user", "LAB\\Administrator"])
            .args(["--connector-account", &self.lab.field("connector_account")])
            .args(["--cloud", "lab", "--lab-url", self.sim.running.url(), "--tenant", crate::tenant::TENANT])
            .env("WRITEBACK_AD_PASSWORD", self.lab.password("admin_password_file").expose())
            .env("WRITEBACK_ENTRA_TOKEN", &self.token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for s in &self.scopes {
            c.args(["--scope", s]);
        }
        c
    }

    fn apply(&self, how: &str) {
        let out = self.cmd(&["apply", how]).output().unwrap();
        assert_eq!(code(&out), 0, "apply {how}: {}", String::from_utf8_lossy(&out.stdout));
    }

    async fn dacls(&self) -> BTreeMap<String, Vec<u8>> {
        let mut conn = self.lab.admin().await;
        let mut out = BTreeMap::new();
        for dn in self.scopes.iter().chain([&BASE.to_string()]) {
            out.insert(dn.clone(), writeback::read_dacl(&mut conn, dn).await.unwrap().bytes);
        }
        out
    }

    fn state_dir(&self) -> std::path::PathBuf {
        self.lab.home.path().join("data/writeback-wizard/state")
    }

    fn unfinished(&self) -> bool {
        writeback_core::engine::journal::unfinished(&self.state_dir()).unwrap().is_some()
    }

    /// The OUs in the grant record.
    fn recorded(&self) -> usize {
        let paths = writeback_core::engine::Paths {
            state_dir: self.state_dir(),
            audit_log: self.lab.home.path().join("data/writeback-wizard/audit.jsonl"),
            settings: self.lab.home.path().join("config/writeback-wizard/settings.toml"),
        };
        let record = writeback_core::engine::grants::GrantRecord::load(&paths).unwrap();
        self.scopes.iter().filter(|s| record.table().contains_key(*s)).count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_point_of_an_enable_or_a_disable_is_recovered_whole() {
    let points: usize = std::env::var("WRITEBACK_CRASH_POINTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let seed: u64 = std::env::var("WRITEBACK_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20_261_201);
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let parent = format!("OU=CrashTest,{BASE}");
    let mut conn = lab.admin().await;
    conn.add(&parent, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    let scopes: Vec<String> = (0..OUS).map(|i| format!("OU=C{i:02},{parent}")).collect();
    for ou in &scopes {
        conn.add(ou, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    }
    let rig = Rig { lab, sim, token, scopes };

    // The two states every crash must end in: before, and the complete enabled state.
    let before = rig.dacls().await;
    rig.apply("--enable");
    let enabled = rig.dacls().await;
    assert_ne!(enabled, before);
    rig.apply("--disable");
    assert_eq!(rig.dacls().await, before, "a clean round trip gives back the same bytes");

    // A step is a journal Begin and Done; the plan and the end add two: 51 steps → 104 records.
    let (journal_max, ldap_max) = (2 * (OUS + 1) + 2, OUS);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut inconsistent = Vec::new();
    let mut recovery_ms = Vec::new();
    let mut kills = 0;
    for i in 0..points {
        let enable = i % 2 == 0;
        if !enable {
            rig.apply("--enable");
        }
        let (from, to) = if enable { (&before, &enabled) } else { (&enabled, &before) };
        let at = if rng.random_bool(0.5) {
            format!("journal:{}", rng.random_range(1..=journal_max))
        } else {
            format!("ldap:{}", rng.random_range(1..=ldap_max))
        };
        let out = rig
            .cmd(&["apply", if enable { "--enable" } else { "--disable" }])
            .env("WRITEBACK_CRASH_AT", &at)
            .output()
            .unwrap();
        let killed = out.status.code().is_none();
        kills += usize::from(killed);
        let rollback = rng.random_bool(0.5);
        let started = Instant::now();
        let recovered = if rig.unfinished() {
            rig.apply(if rollback { "--rollback" } else { "--resume" });
            Some(rollback)
        } else {
            None
        };
        recovery_ms.push(started.elapsed().as_millis());
        let now = rig.dacls().await;
        let whole = if &now == from {
            "before"
        } else if &now == to {
            "target"
        } else {
            "MIXED"
        };
        let expected = match recovered {
            Some(true) => "before",
            Some(false) => "target",
            None => whole,
        };
        let recorded = rig.recorded();
        let writeback = rig.sim.running.sync_engine_writeback();
        let on = (whole == "target") == enable;
        let agrees = recorded == if on { OUS } else { 0 } && writeback == on;
        if whole != expected || whole == "MIXED" || !agrees {
            inconsistent.push(format!(
                "point {i} ({} crash at {at}, killed {killed}, recovery {recovered:?}): DACLs {whole}, record {recorded}/{OUS}, switch {writeback}",
                if enable { "enable" } else { "disable" }
            ));
        }
        if on {
            rig.apply("--disable");
        }
        assert_eq!(rig.dacls().await, before, "point {i}: back to the start for the next one");
    }
    recovery_ms.sort_unstable();
    eprintln!(
        "crash points: {points} tried (seed {seed}), {kills} killed the process, {} inconsistent; recovery median {} ms, max {} ms",
        inconsistent.len(),
        recovery_ms.get(recovery_ms.len() / 2).copied().unwrap_or(0),
        recovery_ms.last().copied().unwrap_or(0)
    );
    assert!(inconsistent.is_empty(), "{inconsistent:#?}");
    assert!(kills * 4 >= points * 3, "only {kills} of {points} points crashed the process: the counts drifted");
}

/// Sends SIGCONT to the DC when dropped, so a failing assertion never leaves it frozen.
struct Frozen(i32);

impl Frozen {
    fn freeze(pid: i32) -> Frozen {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGSTOP).unwrap();
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.0), nix::sys::signal::Signal::SIGCONT);
    }
}

/// Waits (60 s at most) until `what` holds.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_dc_has_not_answered_is_read_back_before_the_undo_and_the_journal_waits_for_it() {
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let scope = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    let rig = Rig { lab, sim, token, scopes: vec![scope.clone()] };
    let before = rig.dacls().await;
    let pid = rig.lab.pid().expect("the lab DC's pid");
    let pause = rig.lab.home.path().join("pause");
    let journal_has = |what: &str| {
        std::fs::read_dir(rig.state_dir())
            .is_ok_and(|d| d.flatten().any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(what))))
    };
    // The apply stops just before its first write; the DC is frozen (SIGSTOP: a hung DC), the
    // write goes out, and no answer comes.
    let start = || {
        let _ = std::fs::remove_file(&pause);
        rig.cmd(&["apply", "--enable", "--ad-timeout", "2"])
            .env("WRITEBACK_PAUSE_AT", "ldap:1")
            .env("WRITEBACK_PAUSE_FILE", &pause)
            .spawn()
            .unwrap()
    };

    // 1. The DC stays frozen: the write timed out and the undo cannot learn whether it was made.
    // It says so, and keeps the journal (exit 4).
    let child = start();
    until("the pause before the first write", || pause.exists()).await;
    let frozen = Frozen::freeze(pid);
    std::fs::remove_file(&pause).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    drop(frozen);
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = crate::support::json(&out);
    assert_eq!(doc["error"]["code"], "ENGINE-NOT-ROLLED-BACK", "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("did not answer within 2 s"), "{message}");
    assert!(message.contains("has not confirmed a change sent to"), "{message}");
    assert!(rig.unfinished(), "the journal is kept until the DC confirms");
    // The DC runs again; the rollback reads every object back and leaves each as it was.
    rig.apply("--rollback");
    assert!(!rig.unfinished());
    assert_eq!(rig.dacls().await, before);
    assert_eq!(rig.recorded(), 0);

    // 2. The DC answers late, while the undo waits for it: the write was made, the undo reads it
    // back and takes it away, and only then is the rollback declared done.
    let audit = rig.lab.home.path().join("data/writeback-wizard/audit.jsonl");
    let audited = std::fs::read_to_string(&audit).unwrap_or_default().lines().count();
    let child = start();
    until("the pause before the first write", || pause.exists()).await;
    let frozen = Frozen::freeze(pid);
    std::fs::remove_file(&pause).unwrap();
    until("the write's timeout", || journal_has("\"record\":\"failed\"")).await;
    drop(frozen);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = crate::support::json(&out);
    assert_eq!(doc["error"]["code"], "ENGINE-ROLLED-BACK", "{doc}");
    assert!(!rig.unfinished());
    assert_eq!(rig.dacls().await, before, "the late write was undone");
    let text = std::fs::read_to_string(&audit).unwrap();
    let undone: Vec<serde_json::Value> = text
        .lines()
        .skip(audited)
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["action"] == "rollback")
        .collect();
    assert_eq!(undone.len(), 1, "{text}");
    assert_ne!(undone[0]["before"], undone[0]["after"], "the undo saw the late write: {}", undone[0]);
}
