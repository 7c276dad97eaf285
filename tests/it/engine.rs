//! The configuration engine on a real lab DC and the simulator's sync engine: the round trip,
//! idempotence, and every fault the design names — cancel at every step, the DC killed between two
//! writes, a token expiring mid-run, a second apply, an unfinished journal rolled back or resumed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use writeback_ad::directory::{self, Account, Discovery};
use writeback_ad::writeback;
use writeback_ad::{AdConnection, ConnectOptions};
use writeback_base::secrets::Secret;
use writeback_core::config::Settings;
use writeback_core::engine::Paths;
use writeback_core::engine::apply::{self, Env, Progress, Recovery};
use writeback_core::engine::grants::GrantRecord;
use writeback_core::engine::plan::Forest;
use writeback_core::engine::{self, EngineError, Inputs, Precondition, journal};
use writeback_entra::check;
use writeback_lab::tenant::Faults;
use writeback_sync::lab::LabEngine;
use writeback_sync::{Backend, SyncEngine};

use crate::ad_engine::BASE;
use crate::support::LabDc;
use crate::tenant::{HIA, Sim};

pub struct World {
    pub lab: LabDc,
    pub sim: Sim,
    pub conn: AdConnection,
    pub disc: Discovery,
    pub operator: Account,
    pub connector: Account,
    pub backend: Backend,
    pub paths: Paths,
    pub grants: GrantRecord,
    /// Holds the state folder alive for the test.
    pub _dir: tempfile::TempDir,
    pub token: Secret,
}

impl World {
    pub async fn new() -> World {
        let lab = LabDc::up();
        let sim = Sim::hybrid().await;
        let (mut conn, disc) = crate::ad_engine::discover(&lab).await;
        let operator = directory::find_account(&mut conn, &disc, "LAB\\Administrator").await.unwrap().unwrap();
        let connector =
            directory::find_account(&mut conn, &disc, &lab.field("connector_account")).await.unwrap().unwrap();
        let token = Secret::new(sim.access(HIA).await);
        let backend = Backend::Lab(LabEngine::new(sim.running.url(), token.clone()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            state_dir: dir.path().join("state"),
            audit_log: dir.path().join("audit.jsonl"),
            settings: dir.path().join("settings.toml"),
        };
        let grants = GrantRecord::load(&paths).unwrap();
        World { lab, sim, conn, disc, operator, connector, backend, paths, grants, _dir: dir, token }
    }

    pub async fn tenant(&self) -> Result<check::EntraCheck, writeback_base::diagnose::ErrorReport> {
        let g =
            writeback_entra::graph::GraphClient::new(format!("{}/v1.0", self.sim.running.url()), self.token.clone())
                .unwrap();
        check::check(&g, SystemTime::now()).await.map_err(|e| writeback_base::diagnose::ErrorReport::brief(&e))
    }

    pub async fn plan(&mut self, scopes: &[String], enable: bool) -> engine::Plan {
        let tenant = if enable { Some(self.tenant().await) } else { None };
        let sync = self.backend.state().await;
        let granted = GrantRecord::load(&self.paths).unwrap();
        let forest = Forest::one(&mut self.conn, &self.disc, &self.operator, Some(&self.connector), scopes);
        let mut inp = Inputs { tenant, ..Inputs::one(forest, sync, &granted) };
        if enable {
            engine::plan_enable(&mut inp).await.unwrap()
        } else {
            engine::plan_disable(&mut inp, false).await.unwrap()
        }
    }

    pub async fn apply(
        &mut self,
        plan: &engine::Plan,
        cancel: &CancellationToken,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<apply::ApplyOutcome, EngineError> {
        apply::apply(plan, &mut self.env(cancel, progress), true).await
    }

    /// What the engine needs to change things, bound as the lab's administrator.
    fn env<'a>(&'a mut self, cancel: &'a CancellationToken, progress: &'a (dyn Fn(Progress) + Send + Sync)) -> Env<'a> {
        Env {
            routes: vec![apply::Route::of(&mut self.conn, &self.disc, "lab.example.test", "LAB\\Administrator")],
            sync: &self.backend,
            paths: &self.paths,
            grants: &mut self.grants,
            cancel,
            progress,
            clock: &writeback_base::clock::SystemClock,
        }
    }

    /// Rolls back or resumes the unfinished apply in `path`.
    pub async fn recover(&mut self, path: &std::path::Path, how: Recovery) -> Result<apply::ApplyOutcome, EngineError> {
        let (cancel, progress) = (CancellationToken::new(), quiet());
        apply::recover(path, how, &mut self.env(&cancel, &progress)).await
    }

    pub async fn dacls(&mut self, dns: &[String]) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for dn in dns {
            out.insert(dn.clone(), writeback::read_dacl(&mut self.conn, dn).await.unwrap().bytes);
        }
        out
    }

    pub async fn status(&mut self, scopes: &[String]) -> engine::Status {
        let sync = self.backend.state().await;
        let granted = GrantRecord::load(&self.paths).unwrap();
        let forest = Forest::one(&mut self.conn, &self.disc, &self.operator, Some(&self.connector), scopes);
        engine::status(&mut Inputs::one(forest, sync, &granted), None).await.unwrap()
    }

    async fn reconnect(&mut self) {
        let mut conn =
            AdConnection::connect(&ConnectOptions::new(self.lab.field("ldap_url"), self.lab.trust())).await.unwrap();
        conn.bind(&self.lab.field("admin_user"), &self.lab.password("admin_password_file")).await.unwrap();
        self.conn = conn;
    }
}

fn quiet() -> impl Fn(Progress) + Send + Sync {
    |_| {}
}

#[tokio::test]
async fn enable_status_disable_round_trips_to_identical_dacls() {
    let mut w = World::new().await;
    let scopes = vec![BASE.to_string()];
    let before = w.dacls(&scopes).await;
    assert_eq!(w.status(&scopes).await.state, "disabled");

    let plan = w.plan(&scopes, true).await;
    assert!(plan.ready(), "{:?}", plan.preconditions);
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["grant-1", "writeback"]);
    assert_eq!(plan.steps[0].change().len(), 8);
    assert!(plan.steps[0].change()[0].starts_with(
        "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-"
    ));
    assert_eq!(plan.preexisting.len(), 1, "Unexpire Password is held by Authenticated Users");
    assert!(
        plan.warnings.iter().any(|w| w.contains("recomputes the inherited permissions of every object below DC=lab")),
        "a domain-root step on Samba is warned about: {:?}",
        plan.warnings
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    let started = std::time::Instant::now();
    let out = w.apply(&plan, &CancellationToken::new(), &move |p| e.lock().unwrap().push(p)).await.unwrap();
    eprintln!("enable took {:?}", started.elapsed());
    assert_eq!(out.applied, vec!["grant-1", "writeback"]);
    assert!(out.verified && out.sync_started);
    assert!(events.lock().unwrap().contains(&Progress::SyncStarted));
    assert_eq!(w.grants.table()[BASE].len(), 8, "the settings record exactly what was added");
    assert_eq!(GrantRecord::load(&w.paths).unwrap().table(), w.grants.table(), "saved");
    assert!(journal::unfinished(&w.paths.state_dir).unwrap().is_none());
    let audit = std::fs::read_to_string(&w.paths.audit_log).unwrap();
    let first: serde_json::Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    for key in ["time", "operator", "action", "target", "before", "after", "result"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let status = w.status(&scopes).await;
    assert_eq!(status.state, "enabled", "{:?}", status.missing);

    // A second enable changes nothing and says so.
    let again = w.plan(&scopes, true).await;
    assert!(again.is_empty(), "{:?}", again.steps);
    let out = w.apply(&again, &CancellationToken::new(), &quiet()).await.unwrap();
    assert!(out.applied.is_empty());

    // The canary: the connector account itself resets a test user.
    let mut as_connector =
        AdConnection::connect(&ConnectOptions::new(w.lab.field("ldap_url"), w.lab.trust())).await.unwrap();
    as_connector
        .bind(&format!("LAB\\{}", w.lab.field("connector_account")), &w.lab.password("connector_password_file"))
        .await
        .unwrap();
    let c = apply::canary(&mut w.conn, &w.disc, &mut as_connector, "wb.canary").await.unwrap();
    assert!(c.reset && c.unlock, "{c:?}");

    // Disable: back to the very same bytes.
    let plan = w.plan(&scopes, false).await;
    assert!(plan.ready());
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["writeback", "revoke-1"]);
    w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap();
    assert_eq!(w.dacls(&scopes).await, before, "enable then disable must leave the DACL byte-identical");
    assert!(w.grants.table().is_empty());
    assert_eq!(w.status(&scopes).await.state, "disabled");
    let c = apply::canary(&mut w.conn, &w.disc, &mut as_connector, "wb.canary").await.unwrap();
    assert!(!c.reset && c.detail.is_some());
}

#[tokio::test]
async fn cancel_at_every_step_rolls_everything_back() {
    let mut w = World::new().await;
    let scopes = vec![format!("OU=Sales,OU=Staff,OU=Corp,{BASE}"), format!("OU=Support,OU=Staff,OU=Corp,{BASE}")];
    let all: Vec<String> = scopes.iter().cloned().chain([BASE.to_string()]).collect();
    let before = w.dacls(&all).await;
    let plan = w.plan(&scopes, true).await;
    assert_eq!(plan.steps.len(), 3, "two OUs and the writeback switch");
    for k in 0..plan.steps.len() {
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let target = plan.steps[k].id.clone();
        let undone = Arc::new(Mutex::new(Vec::new()));
        let u = undone.clone();
        let progress = move |p: Progress| match p {
            Progress::Done { id, .. } if id == target => c.cancel(),
            Progress::Undone { id } => u.lock().unwrap().push(id),
            _ => {}
        };
        let result = w.apply(&plan, &cancel, &progress).await;
        // Even a cancel during the last step undoes everything: whoever pressed Cancel before
        // "Configuration complete" gets nothing changed.
        match &result {
            Err(EngineError::RolledBack { cause, .. }) => {
                assert!(cause.text.contains("cancelled") && cause.code == "ENGINE-CANCELLED", "{cause:?}")
            }
            other => panic!("step {k}: {other:?}"),
        }
        // The two OU grants run as one batch (their requests in flight together): a cancel lands
        // between batches, so a cancel after either grant undoes both, and after the switch all.
        let batch_end = if plan.steps[k].id == "writeback" { plan.steps.len() } else { 2 };
        assert_eq!(undone.lock().unwrap().len(), batch_end, "step {k}");
        assert_eq!(w.dacls(&all).await, before, "cancel after step {k}");
        assert!(!w.backend.state().await.unwrap().writeback_enabled);
        assert!(w.grants.table().is_empty(), "{:?}", w.grants.table());
        assert!(journal::unfinished(&w.paths.state_dir).unwrap().is_none());
    }
}

#[tokio::test]
async fn a_dc_killed_mid_run_leaves_a_journal_to_roll_back_or_resume() {
    let mut w = World::new().await;
    let scopes = vec![format!("OU=Sales,OU=Staff,OU=Corp,{BASE}"), format!("OU=Engineering,OU=Staff,OU=Corp,{BASE}")];
    let before = w.dacls(&scopes).await;
    for recovery in [Recovery::Rollback, Recovery::Resume] {
        let plan = w.plan(&scopes, true).await;
        let first = plan.steps[0].id.clone();
        let dir = w.lab.dir();
        let home = w.lab.home.path().to_path_buf();
        // Kill the DC right after the ACE writes, and cancel: the undo finds no DC.
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let progress = move |p: Progress| {
            if let Progress::Done { id, .. } = p
                && id == first
            {
                let out = crate::support::run(&home, &["lab", "down", "--dir", dir.to_str().unwrap()]);
                assert_eq!(crate::support::code(&out), 0);
                c.cancel();
            }
        };
        let err = w.apply(&plan, &cancel, &progress).await.unwrap_err();
        let EngineError::NotRolledBack { journal: path, .. } = &err else { panic!("{err}") };
        assert_eq!(writeback_base::diagnose::Diagnose::exit(&err).code(), 4);
        assert_eq!(journal::unfinished(&w.paths.state_dir).unwrap().as_ref(), Some(path));
        // While it is unfinished, a new apply is refused.
        assert!(matches!(
            w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap_err(),
            EngineError::Unfinished { .. }
        ));

        // The DC comes back (possibly on another loopback address).
        let out = w.lab.lab("up");
        assert_eq!(crate::support::code(&out), 0);
        w.lab.info = crate::support::json(&out);
        w.reconnect().await;
        w.recover(path, recovery).await.unwrap();
        assert!(journal::unfinished(&w.paths.state_dir).unwrap().is_none());
        match recovery {
            Recovery::Rollback => {
                assert_eq!(w.dacls(&scopes).await, before);
                assert!(w.grants.table().is_empty(), "{:?}", w.grants.table());
            }
            Recovery::Resume => {
                assert_eq!(w.status(&scopes).await.state, "enabled");
                assert_eq!(w.grants.table().len(), 2);
                // The killed run never wrote [granted]: the resume rebuilt it from the journal.
                assert_eq!(GrantRecord::load(&w.paths).unwrap().table(), w.grants.table());
            }
        }
    }
}

#[tokio::test]
async fn a_token_expiring_mid_run_is_rolled_back_and_one_apply_at_a_time() {
    let mut w = World::new().await;
    let scopes = vec![format!("OU=Finance,OU=Staff,OU=Corp,{BASE}")];
    let before = w.dacls(&scopes).await;
    // Tokens that live 60 s; the clock jumps past that after the first step.
    w.sim.running.set_faults(Faults { token_lifetime_secs: 60, ..Faults::default() });
    w.token = Secret::new(w.sim.access(HIA).await);
    w.backend = Backend::Lab(LabEngine::new(w.sim.running.url(), w.token.clone()).unwrap());
    let plan = w.plan(&scopes, true).await;
    let clock = w.sim.clock.clone();
    let first = plan.steps[0].id.clone();
    let progress = move |p: Progress| {
        if matches!(&p, Progress::Done { id, .. } if *id == first) {
            clock.advance(Duration::from_secs(61));
        }
    };
    let err = w.apply(&plan, &CancellationToken::new(), &progress).await;
    // The writeback switch failed with 401, and the undo of the DACL needs no token.
    match err {
        Err(EngineError::RolledBack { cause, .. }) => {
            assert!(cause.text.contains("401") && cause.code == "SYNC-LAB", "the cause keeps its code: {cause:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.dacls(&scopes).await, before);

    // A second apply while one runs is refused; a stale lock (dead PID) is taken over.
    w.token = Secret::new(w.sim.access(HIA).await);
    w.backend = Backend::Lab(LabEngine::new(w.sim.running.url(), w.token.clone()).unwrap());
    let plan = w.plan(&scopes, true).await;
    let held = journal::Lock::acquire(&w.paths.state_dir).await.unwrap();
    let err = w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap_err();
    assert!(matches!(&err, EngineError::Busy { lock } if lock.ends_with("apply.lock")), "{err}");
    drop(held);
    // What a dead process left in the lock file means nothing: the OS lock went with it.
    std::fs::write(w.paths.state_dir.join("apply.lock"), "2147483646\n").unwrap();
    w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap();
    drop(journal::Lock::acquire(&w.paths.state_dir).await.expect("released when the apply ended"));
}

#[tokio::test]
async fn preconditions_block_enable_but_not_disable() {
    let mut w = World::new().await;
    let scopes = vec![BASE.to_string()];
    // A tenant without a licence: enable is refused with the reason; disable needs no licence.
    let fx = writeback_lab::tenant::Fixture::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tenant-no-licence.json"),
    )
    .unwrap();
    w.sim = Sim::start(fx).await;
    w.token = Secret::new(
        writeback_entra::auth::SignIn::new(
            writeback_entra::clouds::endpoints(writeback_core::config::Cloud::Lab, Some(w.sim.running.url())),
            "organizations",
            "c",
        )
        .unwrap()
        .password("admin@fabrikamstd.onmicrosoft.com", &Secret::new("Fab-Passw0rd!"))
        .await
        .unwrap()
        .access
        .expose()
        .to_string(),
    );
    w.backend = Backend::Lab(LabEngine::new(w.sim.running.url(), w.token.clone()).unwrap());
    let plan = w.plan(&scopes, true).await;
    assert!(!plan.ready());
    let failed: Vec<&str> = plan.preconditions.iter().filter(|p| !p.ok).map(|p| p.check.as_str()).collect();
    assert_eq!(failed, vec!["licence carrying Microsoft Entra ID P1 or P2"]);
    let err = w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::exit(&err).code(), 3);
    assert!(plan.preconditions.iter().any(|p| !p.ok && p.remedy.contains("P1 or P2")));
    let disable = w.plan(&scopes, false).await;
    assert!(disable.ready(), "{:?}", disable.preconditions);
    // A damaged [granted] table is named where it is loaded, with the ACE that is not SDDL.
    std::fs::write(&w.paths.settings, format!("version = 1\n[granted]\n\"{BASE}\" = [\"(not sddl\"]\n")).unwrap();
    let err = Settings::load(&w.paths.settings).unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::code(&err), "CONFIG-PARSE");
    assert!(err.to_string().contains("(not sddl"), "{err}");
}

#[tokio::test]
async fn a_graph_storm_while_planning_is_ridden_out() {
    let mut w = World::new().await;
    let scopes = vec![format!("OU=Support,OU=Staff,OU=Corp,{BASE}")];
    // Two 429s then a 503, each with Retry-After 1 s: the tenant check waits them out.
    w.sim.running.set_faults(Faults {
        throttle_first: 2,
        unavailable_first: 1,
        retry_after_secs: 1,
        ..Faults::default()
    });
    let before = w.sim.running.graph_requests();
    let plan = w.plan(&scopes, true).await;
    assert!(plan.ready(), "{:?}", plan.preconditions);
    assert!(w.sim.running.graph_requests() >= before + 3);
    w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap();
    assert_eq!(w.status(&scopes).await.state, "enabled");
}

#[tokio::test]
async fn a_disabled_or_protected_connector_is_named_before_anything_changes() {
    use ldap3::Mod;
    let mut w = World::new().await;
    let scopes = vec![format!("OU=Corp,{BASE}")];
    let before = w.dacls(&scopes).await;
    let dn = w.connector.dn.clone();
    let uac = w.connector.user_account_control;
    // Disabled: enable is refused with the remedy, and nothing is applied.
    let disabled = (uac | directory::UAC_ACCOUNTDISABLE).to_string();
    w.conn
        .modify(&dn, vec![Mod::Replace(b"userAccountControl".to_vec(), [disabled.into_bytes()].into())], vec![])
        .await
        .unwrap();
    w.connector = directory::find_account(&mut w.conn, &w.disc, &dn).await.unwrap().unwrap();
    let plan = w.plan(&scopes, true).await;
    assert!(!plan.ready());
    let failed: Vec<&Precondition> = plan.preconditions.iter().filter(|p| !p.ok).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].check.contains("exists and is enabled") && failed[0].remedy.contains("Enable"), "{failed:?}");
    let err = w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap_err();
    assert!(matches!(err, EngineError::Precondition { .. }), "{err}");
    assert_eq!(w.dacls(&scopes).await, before, "nothing changed");
    // Enabled again but protected (adminCount=1): the plan goes ahead and says what to fix.
    w.conn
        .modify(&dn, vec![Mod::Replace(b"userAccountControl".to_vec(), [uac.to_string().into_bytes()].into())], vec![])
        .await
        .unwrap();
    w.conn.modify(&dn, vec![Mod::Replace(b"adminCount".to_vec(), [b"1".to_vec()].into())], vec![]).await.unwrap();
    w.connector = directory::find_account(&mut w.conn, &w.disc, &dn).await.unwrap().unwrap();
    let plan = w.plan(&scopes, true).await;
    assert!(plan.ready(), "{:?}", plan.preconditions);
    assert!(
        plan.warnings.iter().any(|x| x.contains("adminCount=1") && x.contains("AdminSDHolder")),
        "{:?}",
        plan.warnings
    );
}

#[tokio::test]
async fn a_thousand_ous_in_scope_are_planned_applied_and_undone() {
    let mut w = World::new().await;
    let parent = format!("OU=Many,{BASE}");
    w.conn.add(&parent, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    let scopes: Vec<String> = (0..1000).map(|i| format!("OU=M{i:04},{parent}")).collect();
    for ou in &scopes {
        w.conn.add(ou, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    }
    let before = w.dacls(&scopes).await;
    let plan = w.plan(&scopes, true).await;
    assert!(plan.ready(), "{:?}", plan.preconditions);
    assert_eq!(plan.steps.len(), 1001, "one grant per OU and the switch");
    let out = w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap();
    assert!(out.verified && out.applied.len() == 1001);
    assert_eq!(w.grants.table().len(), 1000, "every grant is recorded for the disable");
    assert_eq!(GrantRecord::load(&w.paths).unwrap().table(), w.grants.table(), "and written to disk");
    let status = w.status(&scopes).await;
    assert_eq!(status.state, "enabled", "{:?}", status.missing.first());
    let disable = w.plan(&scopes, false).await;
    assert_eq!(disable.steps.len(), 1001);
    w.apply(&disable, &CancellationToken::new(), &quiet()).await.unwrap();
    assert_eq!(w.dacls(&scopes).await, before, "the very same bytes on all 1,000");
}

/// A small tmpfs mounted for one test (the tests run as root, like the lab DC), unmounted after.
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(dir: std::path::PathBuf) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mount a tmpfs (the tests run as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    /// Takes every free byte with one file (removed by [`SmallDisk::free`]).
    fn fill(dir: &std::path::Path) {
        use std::io::Write;
        let mut f = std::fs::File::create(dir.join("filler")).unwrap();
        let chunk = vec![0u8; 4096];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
                    break;
                }
            }
        }
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[tokio::test]
async fn a_full_disk_under_the_journal_or_the_settings_changes_nothing() {
    let mut w = World::new().await;
    let disk = SmallDisk::mount(w._dir.path().join("small"));
    w.paths = Paths {
        state_dir: disk.dir.join("state"),
        audit_log: disk.dir.join("audit.jsonl"),
        settings: disk.dir.join("settings.toml"),
    };
    w.grants = GrantRecord::load(&w.paths).unwrap();
    let scopes = vec![format!("OU=Sales,OU=Staff,OU=Corp,{BASE}"), format!("OU=Support,OU=Staff,OU=Corp,{BASE}")];
    let all: Vec<String> = scopes.iter().cloned().chain([BASE.to_string()]).collect();
    let before = w.dacls(&all).await;
    let plan = w.plan(&scopes, true).await;
    assert_eq!(plan.steps.len(), 3);
    let unchanged = |w: &World, err: &EngineError| {
        let report = writeback_base::diagnose::ErrorReport::from_error(err);
        assert!(report.message.contains("No space left on device"), "{report:?}");
        assert!(report.remedy.contains("is full: free space there"), "{report:?}");
        assert!(journal::unfinished(&w.paths.state_dir).unwrap().is_none(), "no journal blocks the next run");
        assert!(w.grants.table().is_empty(), "{:?}", w.grants.table());
        let on_disk = GrantRecord::load(&w.paths).unwrap();
        assert!(on_disk.table().is_empty(), "{:?}", on_disk.table());
    };

    // A journal record is written whole or not at all: one refused by the full disk leaves no
    // half line for the next record to glue onto.
    {
        let mut j = journal::Journal::create(&disk.dir.join("probe"), "0").unwrap();
        j.append(&journal::Record::Complete { time: "first".into() }).unwrap();
        SmallDisk::fill(&disk.dir);
        let big = journal::Record::Failed { step: "s".into(), error: "x".repeat(64 * 1024), time: "t".into() };
        assert!(j.append(&big).is_err());
        disk.free();
        j.append(&journal::Record::RolledBack { time: "after".into() }).unwrap();
        let records = journal::read(j.path()).unwrap();
        assert_eq!(records.len(), 2, "{records:?}");
        assert!(matches!(&records[1], journal::Record::RolledBack { time } if time == "after"));
        j.finish().unwrap();
    }

    // Full before anything starts: the journal cannot take the plan, so nothing is touched.
    SmallDisk::fill(&disk.dir);
    let err = w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap_err();
    assert!(matches!(err, EngineError::Io { what: "write the journal", .. }), "{err}");
    unchanged(&w, &err);
    disk.free();

    // Full after the first change (the journal or the audit log cannot take the next step), and
    // full after the last change (the settings cannot record what was granted): either way every
    // change is undone and checked.
    for k in [0, plan.steps.len() - 1] {
        let trigger = plan.steps[k].id.clone();
        let dir = disk.dir.clone();
        let progress = move |p: Progress| {
            if let Progress::Done { id, .. } = p
                && id == trigger
            {
                SmallDisk::fill(&dir);
            }
        };
        let err = w.apply(&plan, &CancellationToken::new(), &progress).await.unwrap_err();
        assert!(matches!(err, EngineError::RolledBack { .. }), "step {k}: {err}");
        unchanged(&w, &err);
        assert_eq!(w.dacls(&all).await, before, "full after step {k}");
        assert!(!w.backend.state().await.unwrap().writeback_enabled);
        disk.free();
    }

    // With space again the same plan goes through and [granted] is on disk once.
    let out = w.apply(&plan, &CancellationToken::new(), &quiet()).await.unwrap();
    assert!(out.verified);
    assert_eq!(GrantRecord::load(&w.paths).unwrap().table(), w.grants.table());
    assert_eq!(w.grants.table().len(), 2, "{:?}", w.grants.table());
}

/// Another administrator: changes a DACL on a connection of their own, from a thread of their
/// own (the engine's progress callbacks, where the tests make them act, are synchronous).
#[derive(Clone)]
struct Other {
    url: String,
    trust: writeback_ad::TlsTrust,
    user: String,
    password: Secret,
}

impl Other {
    fn of(lab: &LabDc) -> Other {
        Other {
            url: lab.field("ldap_url"),
            trust: lab.trust(),
            user: lab.field("admin_user"),
            password: lab.password("admin_password_file"),
        }
    }

    /// Adds `add` to and removes `remove` from `dn`'s DACL.
    fn change(&self, dn: &str, add: Option<&str>, remove: Option<&str>) {
        let (me, dn) = (self.clone(), dn.to_string());
        let (add, remove) = (add.map(String::from), remove.map(String::from));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut conn = AdConnection::connect(&ConnectOptions::new(me.url, me.trust)).await.unwrap();
                conn.bind(&me.user, &me.password).await.unwrap();
                let mut d = writeback::read_dacl(&mut conn, &dn).await.unwrap();
                let acl = d.sd.dacl.as_mut().unwrap();
                let read = writeback_ad::sd::sddl::persisted::read;
                if let Some(a) = add {
                    acl.insert_canonical(read(&a).unwrap());
                }
                if let Some(r) = remove {
                    assert_eq!(acl.remove_exact(&read(&r).unwrap()), 1, "{r} was there");
                }
                writeback::write_dacl(&mut conn, &dn, &d.sd).await.unwrap();
            });
        })
        .join()
        .unwrap();
    }
}

async fn explicit(w: &mut World, dn: &str) -> Vec<String> {
    crate::support::explicit_aces(&mut w.conn, dn).await
}

const THEIRS_BEFORE: &str = "(A;;RP;;;AO)";
const THEIRS_DURING: &str = "(A;;RP;;;PO)";

/// A progress callback that lets `other` change `dn` right after the step `id` is done, then
/// (with `cancel`) presses Cancel.
fn meddle(
    other: Other,
    id: &'static str,
    dn: String,
    change: (Option<&'static str>, Option<&'static str>),
    cancel: Option<CancellationToken>,
) -> impl Fn(Progress) + Send + Sync {
    move |p: Progress| {
        if matches!(&p, Progress::Done { id: done, .. } if done == id) {
            other.change(&dn, change.0, change.1);
            if let Some(c) = &cancel {
                c.cancel();
            }
        }
    }
}

#[tokio::test]
async fn an_undo_takes_back_only_our_change_and_keeps_anyone_elses() {
    let mut w = World::new().await;
    let other = Other::of(&w.lab);
    let scope = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    let connector = w.connector.sid.clone();
    // Another administrator's ACE, there before we start.
    other.change(&scope, Some(THEIRS_BEFORE), None);
    let before_bytes = w.dacls(std::slice::from_ref(&scope)).await;

    // Nobody else touches the object: the round trip is still byte-identical.
    let plan = w.plan(std::slice::from_ref(&scope), true).await;
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let progress = move |p: Progress| {
        if matches!(&p, Progress::Done { id, .. } if id == "grant-1") {
            c.cancel();
        }
    };
    let err = w.apply(&plan, &cancel, &progress).await.unwrap_err();
    assert!(matches!(&err, EngineError::RolledBack { kept, .. } if kept.is_empty()), "{err:?}");
    assert_eq!(w.dacls(std::slice::from_ref(&scope)).await, before_bytes, "byte-identical when nobody else touched it");

    // Between our grant and its undo (a cancel), they add an ACE and remove their old one.
    let cancel = CancellationToken::new();
    let progress = meddle(
        other.clone(),
        "grant-1",
        scope.clone(),
        (Some(THEIRS_DURING), Some(THEIRS_BEFORE)),
        Some(cancel.clone()),
    );
    let err = w.apply(&plan, &cancel, &progress).await.unwrap_err();
    match &err {
        EngineError::RolledBack { kept, .. } => {
            assert_eq!(kept.len(), 1, "{kept:?}");
            assert!(kept[0].contains("changed by someone else") && kept[0].contains(&scope), "{kept:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("only this tool's change was undone"), "{err}");
    let after = explicit(&mut w, &scope).await;
    assert!(after.contains(&THEIRS_DURING.to_string()), "their new ACE survives: {after:?}");
    assert!(!after.contains(&THEIRS_BEFORE.to_string()), "their removal stands: {after:?}");
    assert!(!after.iter().any(|a| a.contains(&connector)), "ours are gone: {after:?}");
    assert!(w.grants.table().is_empty(), "{:?}", w.grants.table());
    let audit = std::fs::read_to_string(&w.paths.audit_log).unwrap();
    assert!(audit.contains("changed by someone else"), "the audit log says so");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&w.paths.audit_log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the audit log is the owner's alone");

    // A failed later step undoes the same way: they add an ACE after our grant, then the
    // sync-engine switch fails (a token without a role).
    other.change(&scope, Some(THEIRS_BEFORE), Some(THEIRS_DURING));
    let plan = w.plan(std::slice::from_ref(&scope), true).await;
    let progress = meddle(other, "grant-1", scope.clone(), (Some(THEIRS_DURING), None), None);
    w.backend = Backend::Lab(
        LabEngine::new(w.sim.running.url(), Secret::new(w.sim.access(crate::tenant::PLAIN).await)).unwrap(),
    );
    let err = w.apply(&plan, &CancellationToken::new(), &progress).await.unwrap_err();
    assert!(matches!(&err, EngineError::RolledBack { kept, .. } if kept.len() == 1), "{err:?}");
    let after = explicit(&mut w, &scope).await;
    assert!(after.contains(&THEIRS_DURING.to_string()) && after.contains(&THEIRS_BEFORE.to_string()), "{after:?}");
    assert!(!after.iter().any(|a| a.contains(&connector)), "{after:?}");
}

#[tokio::test]
async fn a_journal_from_another_domain_is_not_recovered_here() {
    let mut w = World::new().await;
    std::fs::create_dir_all(&w.paths.state_dir).unwrap();
    let path = w.paths.state_dir.join("journal-1-1.jsonl");
    let plan = serde_json::json!({
        "record": "plan", "action": "enable", "time": "2026-12-01T00:00:00Z", "steps": [],
        "directory": { "domain_sid": "S-1-5-21-1-2-3", "dc": "dc9.other.example" }
    });
    std::fs::write(&path, format!("{plan}\n")).unwrap();
    let err = w.recover(&path, Recovery::Rollback).await.unwrap_err();
    assert!(
        matches!(&err, EngineError::OtherDirectory { wrote_to, .. } if wrote_to.contains("dc9.other.example")),
        "{err:?}"
    );
    assert_eq!(writeback_base::diagnose::Diagnose::code(&err), "ENGINE-OTHER-DIRECTORY");
    assert!(path.exists(), "the journal is kept for the right domain");
}

/// A journal is a file: recovering it writes what it says. One that names no domain, or holds
/// anything a plan could not have produced, is refused before anything is read from AD or written.
#[tokio::test]
async fn a_crafted_journal_is_refused_and_nothing_changes() {
    let mut w = World::new().await;
    std::fs::create_dir_all(&w.paths.state_dir).unwrap();
    let here = writeback_core::engine::journal::Directory::of(&w.disc);
    let connector = w.connector.sid.clone();
    let reset =
        format!("(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;{connector})");
    let before = writeback::read_dacl(&mut w.conn, BASE).await.unwrap().bytes;
    let state = w.paths.state_dir.clone();
    let write = |name: &str, steps: serde_json::Value, directory: Option<serde_json::Value>| {
        let path = state.join(name);
        let mut plan = serde_json::json!({
            "record": "plan", "action": "enable", "time": "2026-12-01T00:00:00Z", "steps": steps
        });
        if let Some(d) = directory {
            plan["directory"] = d;
        }
        std::fs::write(&path, format!("{plan}\n")).unwrap();
        path
    };
    let dir = serde_json::to_value(&here).unwrap();
    let cases = [
        // Full control for Everyone on the domain root: not a writeback permission.
        (
            "journal-1-1.jsonl",
            serde_json::json!([{"op": "grant", "id": "grant-1", "dn": BASE, "aces": ["(A;;GA;;;WD)"]}]),
            Some(dir.clone()),
            "ENGINE-JOURNAL-REFUSED",
        ),
        // Two accounts in one journal.
        (
            "journal-2-1.jsonl",
            serde_json::json!([{"op": "grant", "id": "grant-1", "dn": BASE, "aces": [reset.clone(), reset.replace(&connector, "S-1-5-21-9-9-9-1105")]}]),
            Some(dir.clone()),
            "ENGINE-JOURNAL-REFUSED",
        ),
        // A target in no domain of this forest.
        (
            "journal-3-1.jsonl",
            serde_json::json!([{"op": "grant", "id": "grant-1", "dn": "OU=X,DC=evil,DC=example", "aces": [reset.clone()]}]),
            Some(dir.clone()),
            "ENGINE-JOURNAL-REFUSED",
        ),
        // Unexpire Password is a domain root's, never an OU's.
        (
            "journal-4-1.jsonl",
            serde_json::json!([{"op": "grant", "id": "grant-1", "dn": format!("OU=Corp,{BASE}"), "aces": [format!("(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;{connector})")]}]),
            Some(dir.clone()),
            "ENGINE-JOURNAL-REFUSED",
        ),
        (
            "journal-7-1.jsonl",
            serde_json::json!([{"op": "grant", "id": "grant-1", "dn": format!("OU=Corp,{BASE}"), "aces": [reset.clone()]}]),
            Some(dir.clone()),
            "ENGINE-JOURNAL-REFUSED",
        ),
        // No domain SID and DC: an older version's journal, to be finished by hand.
        (
            "journal-5-1.jsonl",
            serde_json::json!([{"op": "grant", "id": "grant-1", "dn": BASE, "aces": [reset.clone()]}]),
            None,
            "ENGINE-JOURNAL-UNPLACED",
        ),
    ];
    for (name, steps, directory, code) in cases {
        let path = write(name, steps, directory);
        if name == "journal-7-1.jsonl" {
            // A genuine step whose kept prior DACL is another object's: the undo would write there.
            let prior = writeback::read_dacl(&mut w.conn, &format!("CN=Users,{BASE}")).await.unwrap().bytes;
            let begin = serde_json::json!({"record": "begin", "step": "grant-1", "time": "2026-12-01T00:00:01Z",
                "prior": {"kind": "dacl", "dn": format!("CN=Users,{BASE}"), "sd": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, prior)}});
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str(&format!("{begin}\n"));
            std::fs::write(&path, text).unwrap();
        }
        for how in [Recovery::Rollback, Recovery::Resume] {
            let err = w.recover(&path, how).await.unwrap_err();
            assert_eq!(writeback_base::diagnose::Diagnose::code(&err), code, "{name}: {err}");
        }
        assert!(path.exists(), "{name}: kept for a person to read");
        std::fs::remove_file(&path).unwrap();
    }
    assert_eq!(writeback::read_dacl(&mut w.conn, BASE).await.unwrap().bytes, before, "nothing was written");
    // The genuine article passes: the writeback ACEs of one account on a scope of this forest.
    let genuine = write(
        "journal-6-1.jsonl",
        serde_json::json!([{"op": "grant", "id": "grant-1", "dn": format!("OU=Corp,{BASE}"), "aces": [reset]}]),
        Some(dir),
    );
    assert!(writeback_core::engine::apply::inspect(&genuine, std::slice::from_ref(&here)).is_ok());
}
