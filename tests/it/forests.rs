//! Two forests side by side — the default lab (`lab.example.test`) and a second lab made with
//! `lab up --forest south.example.test`, each its own realm, KDC, DNS and connector account on its
//! own 127.0.0.N — and a lab sync engine that lists both AD connectors: one configuration across
//! them, atomic, on the command line, through the session and in the wizard.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use egui_kittest::kittest::Queryable;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use writeback_ad::writeback;
use writeback_lab::tenant::LabAdConnector;

use crate::support::{LabDc, bin, code, json};
use crate::tenant::{HIA, Sim, TENANT};

pub const SOUTH: &str = "south.example.test";
const LAB: &str = "lab.example.test";

pub struct Two {
    pub lab: LabDc,
    pub south: LabDc,
    pub sim: Sim,
    pub token: String,
    pub home: tempfile::TempDir,
}

impl Two {
    /// The wizard's settings for the lab's cloud (its simulator and app).
    fn wizard_args(&self) -> writeback_core::config::SettingsOverlay {
        writeback_core::config::SettingsOverlay {
            cloud: Some(writeback_core::config::Cloud::Lab),
            tenant: Some(TENANT.into()),
            lab_url: Some(self.sim.running.url().to_string()),
            client_id: Some(crate::tenant::APP.into()),
            ..Default::default()
        }
    }

    pub async fn up() -> Two {
        let (lab, south) = std::thread::scope(|s| {
            let lab = s.spawn(LabDc::up);
            let south = s.spawn(|| LabDc::up_with(&["--forest", SOUTH]));
            (lab.join().unwrap(), south.join().unwrap())
        });
        assert_eq!((lab.field("forest"), south.field("forest")), (LAB.to_string(), SOUTH.to_string()));
        assert_ne!(lab.field("ldap_url"), south.field("ldap_url"), "each on its own address");
        let sim = Sim::hybrid().await;
        let token = sim.access(HIA).await;
        let home = tempfile::tempdir().unwrap();
        let two = Two { lab, south, sim, token, home };
        two.serve(&[LAB, SOUTH]);
        two
    }

    pub fn lab_of(&self, forest: &str) -> &LabDc {
        if forest == SOUTH { &self.south } else { &self.lab }
    }

    /// The lab sync engine lists an AD connector for each of `forests`, as `POST /lab/sync-engine`
    /// sets it.
    pub fn serve(&self, forests: &[&str]) {
        let connectors = forests
            .iter()
            .map(|f| {
                let lab = self.lab_of(f);
                let netbios = f.split('.').next().unwrap().to_ascii_uppercase();
                LabAdConnector {
                    forest: f.to_string(),
                    account: format!("{netbios}\\{}", lab.field("connector_account")),
                    domains: vec![f.to_string()],
                    ..Default::default()
                }
            })
            .collect();
        self.sim.running.with_sync_engine(|m| m.ad_connectors = connectors);
    }

    /// A settings file with a `[[directory]]` table for each of `forests`.
    pub fn settings(&self, forests: &[&str]) -> PathBuf {
        let mut text = String::from("version = 1\n");
        for f in forests {
            let lab = self.lab_of(f);
            text.push_str(&format!(
                "\n[[directory]]\nforest = \"{f}\"\nad_url = \"{}\"\nad_ca_file = \"{}\"\nad_tls_name = \"{}\"\nad_user = '{}'\n",
                lab.field("ldap_url"),
                lab.field("ca_file"),
                lab.field("tls_name"),
                lab.field("admin_user"),
            ));
        }
        let path = self.home.path().join("settings.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The binary with the settings file, the simulator as tenant and sync engine, and each
    /// forest's password in its own variable.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bin(self.home.path());
        c.args(args)
            .args(["--config", self.home.path().join("settings.toml").to_str().unwrap()])
            .args(["--cloud", "lab", "--lab-url", self.sim.running.url(), "--tenant", TENANT])
            .env("WRITEBACK_AD_PASSWORD_LAB_EXAMPLE_TEST", self.lab.password("admin_password_file").expose())
            .env("WRITEBACK_AD_PASSWORD_SOUTH_EXAMPLE_TEST", self.south.password("admin_password_file").expose())
            .env("WRITEBACK_ENTRA_TOKEN", &self.token)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd(args).output().unwrap()
    }

    /// Each forest's domain root DACL, as bytes.
    pub async fn dacls(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for lab in [&self.lab, &self.south] {
            let mut conn = lab.admin().await;
            let root = lab.field("base_dn");
            out.insert(root.clone(), writeback::read_dacl(&mut conn, &root).await.unwrap().bytes);
        }
        out
    }

    fn state_dir(&self) -> PathBuf {
        self.home.path().join("data/writeback-wizard/state")
    }
}

fn ok(out: &std::process::Output) -> Value {
    assert_eq!(code(out), 0, "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    json(out)
}

fn forests_of(doc: &Value) -> Vec<String> {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["target"] != "sync-engine")
        .map(|s| s["forest"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forests_are_enabled_and_disabled_in_one_run_and_come_back_byte_identical() {
    let two = Two::up().await;
    two.settings(&[LAB, SOUTH]);
    let before = two.dacls().await;

    let status = ok(&two.run(&["status", "--json"]));
    assert_eq!(status["state"], "disabled");
    let forests: Vec<&str> =
        status["ad"]["forests"].as_array().unwrap().iter().map(|f| f["forest"].as_str().unwrap()).collect();
    assert_eq!(forests, vec![LAB, SOUTH]);
    assert!(
        status["ad"]["scopes"].as_array().unwrap().iter().all(|s| s["forest"].is_string() && s["domain"].is_string())
    );
    assert_eq!(status["ad"]["uncovered"], serde_json::json!([]));

    let plan = ok(&two.run(&["plan", "--enable", "--json"]));
    let planned = forests_of(&plan);
    assert!(planned.contains(&LAB.to_string()) && planned.contains(&SOUTH.to_string()), "{plan:#}");
    for step in plan["steps"].as_array().unwrap() {
        assert!(step.get("forest").is_some() && step.get("domain").is_some(), "every step says its forest: {step}");
    }
    let ids: Vec<&str> = plan["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.last(), Some(&"writeback"), "one switch, after every forest's permissions: {ids:?}");
    assert_eq!(ids.iter().filter(|i| **i == "writeback").count(), 1);
    // Each forest's Enterprise Admin is checked in its own forest, the connector its own engine's.
    for f in [LAB, SOUTH] {
        let named: Vec<&Value> =
            plan["preconditions"].as_array().unwrap().iter().filter(|p| p["forest"] == f).collect();
        assert!(named.iter().any(|p| p["check"].as_str().unwrap().contains("is an Enterprise Admin")), "{plan:#}");
        assert!(named.iter().all(|p| p["ok"] == true), "{plan:#}");
    }
    let sources = plan["connector_source"].as_str().unwrap();
    assert!(sources.contains(&format!("{SOUTH}: read from the sync engine")), "{sources}");

    ok(&two.run(&["apply", "--enable", "--yes", "--json"]));
    let after = two.dacls().await;
    assert!(after.iter().all(|(dn, bytes)| before[dn] != *bytes), "both forests changed");
    let status = ok(&two.run(&["status", "--json"]));
    assert_eq!(status["state"], "enabled", "{status:#}");
    assert!(status["ad"]["forests"].as_array().unwrap().iter().all(|f| f["state"] == "enabled"), "{status:#}");
    let verify = two.run(&["verify", "--json"]);
    assert_eq!(code(&verify), 0, "{}", String::from_utf8_lossy(&verify.stdout));
    // The audit log and the grant record carry each change's forest and domain.
    let audit = std::fs::read_to_string(two.home.path().join("data/writeback-wizard/audit.jsonl")).unwrap();
    let grants: Vec<Value> =
        audit.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|l| l["action"] == "grant").collect();
    assert!(grants.iter().any(|g| g["forest"] == SOUTH && g["domain"] == SOUTH), "{audit}");
    assert!(grants.iter().any(|g| g["forest"] == LAB && g["operator"].as_str().unwrap().contains("DC=lab")), "{audit}");
    let record: Value = serde_json::from_slice(&std::fs::read(two.state_dir().join("granted.json")).unwrap()).unwrap();
    assert_eq!(record["forests"][two.south.field("base_dn")], SOUTH, "{record:#}");
    assert_eq!(record["switched_on_with"], serde_json::json!([LAB, SOUTH]));

    let plan = ok(&two.run(&["plan", "--disable", "--json"]));
    let planned = forests_of(&plan);
    assert!(planned.contains(&LAB.to_string()) && planned.contains(&SOUTH.to_string()), "{plan:#}");
    ok(&two.run(&["apply", "--disable", "--yes", "--json"]));
    assert_eq!(two.dacls().await, before, "each forest's DACL comes back byte for byte");
    assert!(!two.sim.running.sync_engine_writeback());
    assert_eq!(ok(&two.run(&["status", "--json"]))["state"], "disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_forests_wrong_password_changes_nothing_anywhere() {
    let two = Two::up().await;
    two.settings(&[LAB, SOUTH]);
    let before = two.dacls().await;
    let out = two
        .cmd(&["apply", "--enable", "--yes", "--json"])
        .env("WRITEBACK_AD_PASSWORD_SOUTH_EXAMPLE_TEST", "not-it")
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    let doc = json(&out);
    assert_eq!(doc["error"]["code"], "AD-BIND", "{doc:#}");
    assert!(doc["error"]["message"].as_str().unwrap().starts_with(&format!("forest {SOUTH}: ")), "{doc:#}");
    assert_eq!(two.dacls().await, before);
    assert!(!two.sim.running.sync_engine_writeback());
    assert!(writeback_core::engine::journal::unfinished(&two.state_dir()).unwrap().is_none());
    // Only the forest's own variable or the shared one: the first forest's is never sent to it.
    let out = two.cmd(&["status", "--json"]).env_remove("WRITEBACK_AD_PASSWORD_SOUTH_EXAMPLE_TEST").output().unwrap();
    let doc = json(&out);
    assert_eq!(doc["error"]["code"], "SECRET-MISSING", "{doc:#}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("WRITEBACK_AD_PASSWORD_SOUTH_EXAMPLE_TEST"), "{doc:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_in_either_forest_is_rolled_back_or_resumed_in_both() {
    let two = Two::up().await;
    two.settings(&[LAB, SOUTH]);
    let before = two.dacls().await;
    ok(&two.run(&["apply", "--enable", "--yes", "--json"]));
    let enabled = two.dacls().await;
    ok(&two.run(&["apply", "--disable", "--yes", "--json"]));
    // One DACL write per forest (each lab connector already holds Unexpire Password, as Entra
    // Connect's own set-up grants it): killed after the first forest's write (before the
    // second's), and after the second forest's write (before its journal says it is done and
    // before the sync engine is switched).
    for (at, how, expected) in
        [("ldap:1", "--rollback", &before), ("ldap:2", "--rollback", &before), ("ldap:2", "--resume", &enabled)]
    {
        let out = two.cmd(&["apply", "--enable", "--yes", "--json"]).env("WRITEBACK_CRASH_AT", at).output().unwrap();
        assert!(out.status.code().is_none(), "killed: {}", String::from_utf8_lossy(&out.stdout));
        assert!(!two.sim.running.sync_engine_writeback());
        let journal =
            writeback_core::engine::journal::unfinished(&two.state_dir()).unwrap().expect("a journal to recover");
        let records = writeback_core::engine::journal::read(&journal).unwrap();
        let Some(writeback_core::engine::journal::Record::Plan { directory, others, .. }) = records.first() else {
            panic!("{records:?}")
        };
        let written: Vec<Option<String>> = directory.iter().chain(others).map(|d| d.forest.clone()).collect();
        assert_eq!(written, vec![Some(LAB.into()), Some(SOUTH.into())], "the journal names both forests' DCs");
        let mid = two.dacls().await;
        assert!(mid != before, "half done");
        assert_eq!(mid == enabled, at == "ldap:2", "the second forest written only in the second kill");
        let status = ok(&two.run(&["status", "--json"]));
        assert!(status["unfinished_journal"].is_string());
        ok(&two.run(&["apply", how, "--yes", "--json"]));
        assert_eq!(&two.dacls().await, expected, "{how} after {at} finishes both forests");
        assert_eq!(two.sim.running.sync_engine_writeback(), how == "--resume");
        assert!(writeback_core::engine::journal::unfinished(&two.state_dir()).unwrap().is_none());
        if how == "--resume" {
            ok(&two.run(&["apply", "--disable", "--yes", "--json"]));
        }
    }
    assert_eq!(two.dacls().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_the_second_forest_undoes_both() {
    use writeback_core::engine::apply::Progress;
    use writeback_core::session::{Front, Interactive, Options, PlanChoice, Preset, Session};
    let two = Two::up().await;
    let config = two.settings(&[LAB, SOUTH]);
    let before = two.dacls().await;
    // The session as the wizard opens it: the lab's tenant signed in with a password.
    let preset = Preset {
        settings: writeback_core::config::SettingsOverlay {
            cloud: Some(writeback_core::config::Cloud::Lab),
            lab_url: Some(two.sim.running.url().to_string()),
            tenant: Some(TENANT.into()),
            ..Default::default()
        },
        tenant_admin: Some((HIA.0.into(), writeback_core::types::Secret::new(HIA.1))),
        ..Default::default()
    };
    let flags = writeback_core::config::SettingsOverlay {
        sync_engine: Some(writeback_core::config::SyncEngineKind::Lab),
        // The simulated tenant's registration of this app.
        client_id: Some("11111111-2222-4333-8444-555555555555".into()),
        ..Default::default()
    };
    let mut opts = Options::new(config, false, Front::Wizard, flags);
    opts.preset = Some(Arc::new(preset));
    opts.paths = writeback_core::engine::Paths {
        state_dir: two.home.path().join("state"),
        audit_log: two.home.path().join("audit.jsonl"),
        settings: two.home.path().join("settings.toml"),
    };
    // Each forest's password as the wizard's rows would type it: here, through its variable's
    // lookup is not wanted in-process, so the first is typed and the second comes from the row.
    let first = writeback_core::session::connect(&opts, Some(two.lab.password("admin_password_file"))).await.unwrap();
    let spec = writeback_core::session::DirectorySpec::row(&opts, SOUTH, None).unwrap();
    let second = writeback_core::session::connect_to(&opts, &spec, Some(two.south.password("admin_password_file")))
        .await
        .unwrap();
    let entra = writeback_core::session::entra(&opts, Interactive::Never).await;
    let mut s = Session::assemble_with(&opts, vec![first, second], Some(entra), Vec::new()).await.unwrap();
    assert_eq!(s.forest_names(), vec![LAB.to_string(), SOUTH.to_string()]);
    let cancel = CancellationToken::new();
    let plan = s.plan(writeback_core::engine::Action::Enable, PlanChoice::default(), &cancel).await.unwrap();
    let first_south = plan.steps.iter().find(|st| st.forest.as_deref() == Some(SOUTH)).unwrap().id.clone();
    let seen: Arc<std::sync::Mutex<Vec<Progress>>> = Arc::default();
    let (c, log, at) = (cancel.clone(), seen.clone(), first_south.clone());
    let progress = move |p: Progress| {
        if matches!(&p, Progress::Started { id } if *id == at) {
            c.cancel();
        }
        log.lock().unwrap().push(p);
    };
    let err = s.configure(&plan, false, None, None, &cancel, &progress).await.expect_err("cancelled");
    assert_eq!(writeback_core::types::Diagnose::code(&err), "ENGINE-ROLLED-BACK", "{err}");
    assert!(err.to_string().contains("cancelled"), "{err}");
    let undone: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|p| match p {
            Progress::Undone { id } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let first_lab = plan.steps.iter().find(|st| st.forest.as_deref() == Some(LAB)).unwrap().id.clone();
    assert!(
        undone.contains(&first_south) && undone.contains(&first_lab),
        "the first forest's step and the second's begun one: {:?}",
        seen.lock().unwrap()
    );
    assert_eq!(two.dacls().await, before, "both forests as they were");
    assert!(!two.sim.running.sync_engine_writeback());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forest_added_after_the_enable_is_flagged_and_a_new_enable_covers_it_without_touching_the_first() {
    let two = Two::up().await;
    two.serve(&[LAB]);
    two.settings(&[LAB]);
    let before = two.dacls().await;
    ok(&two.run(&["apply", "--enable", "--yes", "--json"]));
    let enabled_lab = two.dacls().await;
    let lab_root = two.lab.field("base_dn");
    let south_root = two.south.field("base_dn");
    assert_eq!(enabled_lab[&south_root], before[&south_root]);

    // The sync engine now serves the second forest too: the status says so, with Microsoft's
    // consequence, and an enable refuses to leave it out silently.
    two.serve(&[LAB, SOUTH]);
    let status = ok(&two.run(&["status", "--json"]));
    assert_eq!(status["state"], "partial", "{status:#}");
    assert_eq!(status["ad"]["uncovered"][0]["forest"], SOUTH);
    let consequence = status["ad"]["uncovered"][0]["consequence"].as_str().unwrap();
    assert!(consequence.contains("6329") && consequence.contains("0x8023061f"), "{consequence}");
    assert!(status["missing"].to_string().contains(SOUTH));
    let out = two.run(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 3, "a failed precondition");
    let plan = json(&out);
    let refused: Vec<&Value> = plan["preconditions"].as_array().unwrap().iter().filter(|p| p["ok"] == false).collect();
    assert_eq!(refused.len(), 1, "{plan:#}");
    assert_eq!(refused[0]["code"], "AD-FOREST-NOT-COVERED");
    assert!(refused[0]["remedy"].as_str().unwrap().contains(&format!("--leave-out {SOUTH}")));
    // Left out on purpose: said, and nothing refuses.
    let plan = ok(&two.run(&["plan", "--enable", "--json", "--leave-out", SOUTH]));
    assert_eq!(plan["uncovered"][0]["left_out"], true);
    assert!(plan["warnings"].to_string().contains(&format!("{SOUTH} is left out")), "{plan:#}");
    // A typo is refused, never taken as leaving out nothing.
    let out = two.run(&["plan", "--enable", "--json", "--leave-out", "sauth.example.test"]);
    assert_eq!(code(&out), 2);

    // Its Enterprise Admin named: the new enable covers it, turns the switch off and on again
    // (Microsoft's remedy for a forest added after writeback), and leaves the first alone.
    two.settings(&[LAB, SOUTH]);
    let plan = ok(&two.run(&["plan", "--enable", "--json"]));
    assert!(forests_of(&plan).iter().all(|f| f == SOUTH), "{plan:#}");
    let ids: Vec<&str> = plan["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(&ids[ids.len() - 2..], &["writeback-off", "writeback"], "{ids:?}");
    ok(&two.run(&["apply", "--enable", "--yes", "--json"]));
    let now = two.dacls().await;
    assert_eq!(now[&lab_root], enabled_lab[&lab_root], "the first forest untouched");
    assert_ne!(now[&south_root], before[&south_root]);
    assert!(two.sim.running.sync_engine_writeback());
    let status = ok(&two.run(&["status", "--json"]));
    assert_eq!(status["state"], "enabled", "{status:#}");
    ok(&two.run(&["apply", "--disable", "--yes", "--json"]));
    assert_eq!(two.dacls().await, before);
}

/// A window tall enough for a long page (two forests' rows above Connect; Configuration complete with the test reset).
pub(crate) fn tall(app: writeback_gui::App) -> egui_kittest::Harness<'static, writeback_gui::App> {
    egui_kittest::Harness::builder()
        .with_size([940.0, 1400.0])
        .build_ui_state(|ui, app: &mut writeback_gui::App| app.ui(ui), app)
}

/// The wizard as an administrator with two forests uses it: the second forest's row comes from the
/// settings and the sync engine, each forest's Enterprise Admin typed in its own row, one plan
/// and one Configure for both; then Disable brings both DACLs back byte for byte.
#[test]
fn the_wizard_enables_and_disables_two_forests_in_one_run() {
    use crate::gui::{app, click, idle, type_into, wait};
    use writeback_gui::pages::connect_directories::words;
    use writeback_gui::wizard::{PageId, Task};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let two = rt.block_on(Two::up());
    two.settings(&[LAB, SOUTH]);
    let before = rt.block_on(two.dacls());
    let args = two.wizard_args();
    let passwords = |h: &mut egui_kittest::Harness<'static, writeback_gui::App>| {
        wait(h, "the other forest's row", |a| a.pages().directories().rows().iter().any(|r| r.forest == SOUTH));
        assert_eq!(h.state().pages().directories().forest(), LAB, "the first [[directory]] table fills the form");
        h.get_by_label(&words::include(SOUTH));
        assert_eq!(h.state().pages().directories().rows()[0].ad_user, two.south.field("admin_user"));
        type_into(h, "Password", two.lab.password("admin_password_file").expose());
        type_into(h, &words::password_of(SOUTH), two.south.password("admin_password_file").expose());
        click(h, "Connect");
        wait(h, "both forests", |a| a.wizard().facts.directory_ready && idle(a));
        let others = h.state().pages().directories().others().to_vec();
        assert_eq!(others.iter().map(|v| v.forest.as_str()).collect::<Vec<_>>(), vec![SOUTH], "{others:?}");
        assert!(others[0].enterprise_admin, "{others:?}");
        h.get_by_label_contains(&format!("{SOUTH}: connected to "));
        h.get_by_label_contains(&format!("{SOUTH}: connector account {}", two.south.field("connector_account")));
    };

    let mut a = app(two.home.path(), args.clone());
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(crate::tenant::GA)));
    let mut h = tall(a);
    crate::gui::signed_in(&mut h);
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    passwords(&mut h);
    click(&mut h, "Next");
    click(&mut h, "Next");
    click(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.wizard().facts.plan_ready && idle(a));
    let plan = h.state().pages().ready().plan().cloned().unwrap();
    let forests: std::collections::BTreeSet<&str> = plan.steps.iter().filter_map(|s| s.forest.as_deref()).collect();
    assert_eq!(forests, [LAB, SOUTH].into_iter().collect(), "one plan for both: {plan:?}");
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete);
    let outcome = h.state().pages().complete().outcome().cloned().unwrap().unwrap();
    assert!(outcome.verified, "{outcome:?}");
    drop(h);
    let enabled = rt.block_on(two.dacls());
    assert!(enabled.iter().all(|(dn, bytes)| before[dn] != *bytes), "both forests changed");
    assert!(two.sim.running.sync_engine_writeback());

    let mut a = app(two.home.path(), args);
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(crate::tenant::GA)));
    let mut h = tall(a);
    h.step();
    click(&mut h, "Next");
    h.get_by_label("Disable password writeback").click();
    h.step();
    assert_eq!(h.state().wizard().task, Task::Disable);
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    passwords(&mut h);
    click(&mut h, "Next");
    click(&mut h, "Next");
    wait(&mut h, "today's state", |a| a.pages().features().status().is_some() && idle(a));
    assert_eq!(h.state().pages().features().status().unwrap().state, "enabled");
    click(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.wizard().facts.plan_ready && idle(a));
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete);
    assert!(h.state().pages().complete().outcome().cloned().unwrap().unwrap().verified);
    drop(h);
    assert_eq!(rt.block_on(two.dacls()), before, "each forest's DACL comes back byte for byte");
    assert!(!two.sim.running.sync_engine_writeback());
}

type Attrs = std::collections::HashMap<String, Vec<String>>;

fn crossref_set(name: &str) -> (String, Vec<Attrs>) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/partitions.json"),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let set = &doc["sets"][name];
    (set["default_nc"].as_str().unwrap().to_string(), serde_json::from_value(set["crossrefs"].clone()).unwrap())
}

fn discovery(default_nc: &str, crossrefs: &[Attrs]) -> writeback_ad::directory::Discovery {
    let sid = writeback_ad::sd::Sid::parse("S-1-5-21-1-2-3").unwrap();
    let root = crossrefs
        .iter()
        .find(|c| c["cn"][0] == "Enterprise Configuration")
        .map(|c| c["nCName"][0].trim_start_matches("CN=Configuration,").to_string())
        .unwrap();
    writeback_ad::directory::Discovery {
        dc_name: "dc1".into(),
        default_naming_context: default_nc.into(),
        configuration_naming_context: format!("CN=Configuration,{root}"),
        schema_naming_context: format!("CN=Schema,CN=Configuration,{root}"),
        root_domain_naming_context: root,
        naming_contexts: Vec::new(),
        supported_controls: Vec::new(),
        supported_extensions: Vec::new(),
        vendor_name: None,
        forest_functionality: None,
        domains: writeback_ad::directory::domains_of(crossrefs, default_nc, &sid),
        domain_sid: sid.clone(),
        forest_root_sid: sid,
    }
}

/// The recorded Samba set is the lab's own: every crossRef of its CN=Partitions, as it answers now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_crossrefs_are_the_lab_dcs_own() {
    let lab = LabDc::up();
    let mut conn = lab.admin().await;
    let base = lab.field("base_dn");
    let found = conn
        .search(
            &format!("CN=Partitions,CN=Configuration,{base}"),
            ldap3::Scope::OneLevel,
            "(objectClass=crossRef)",
            &["cn", "nCName", "dnsRoot", "nETBIOSName", "systemFlags"],
        )
        .await
        .unwrap();
    let mut live: Vec<Attrs> = found.into_iter().map(|e| e.attrs).collect();
    let (_, mut recorded) = crossref_set("samba-lab");
    // Samba names its DNS application partitions' crossRefs by a GUID new on each provision.
    for a in live.iter_mut().chain(recorded.iter_mut()) {
        a.remove("cn");
    }
    let key = |a: &Attrs| a["nCName"][0].to_ascii_lowercase();
    live.sort_by_key(key);
    recorded.sort_by_key(key);
    assert_eq!(live, recorded);
}

/// Every domain of a forest, from its crossRefs: only domain naming contexts count; Unexpire
/// Password goes on the root of each domain that holds a scope (and no other); each DN is
/// written through its own domain's connection.
#[test]
fn every_domain_holding_a_scope_gets_its_root_and_each_dn_its_domains_connection() {
    use writeback_ad::writeback::TargetKind;
    let (nc, refs) = crossref_set("samba-lab");
    let lab = discovery(&nc, &refs);
    let names: Vec<(&str, &str, &str)> =
        lab.domains.iter().map(|d| (d.dn.as_str(), d.dns_name.as_str(), d.netbios_name.as_str())).collect();
    assert_eq!(names, vec![("DC=lab,DC=example,DC=test", "lab.example.test", "LAB")], "DNS zones are no domains");
    assert!(lab.domains[0].sid.is_some());

    let (nc, refs) = crossref_set("windows-three-domains");
    let forest = discovery(&nc, &refs);
    let dns: Vec<&str> = forest.domains.iter().map(|d| d.dns_name.as_str()).collect();
    assert_eq!(dns, vec!["corp.example", "emea.corp.example", "fabrikam.example"]);
    let sids: Vec<bool> = forest.domains.iter().map(|d| d.sid.is_some()).collect();
    assert_eq!(sids, vec![false, true, false], "only the DC's own domain's SID is known from here");
    let scopes = ["OU=Staff,DC=emea,DC=corp,DC=example".to_string(), "OU=Sales,DC=fabrikam,DC=example".to_string()];
    let targets = writeback_core::engine::plan::targets(&forest, &scopes, false);
    let roots: Vec<&str> =
        targets.iter().filter(|(_, k)| *k == TargetKind::DomainRoot).map(|(dn, _)| dn.as_str()).collect();
    assert_eq!(roots, vec!["DC=emea,DC=corp,DC=example", "DC=fabrikam,DC=example"], "not corp: it holds no scope");
    let with_holder = writeback_core::engine::plan::targets(&forest, &scopes, true);
    assert_eq!(with_holder.iter().filter(|(_, k)| *k == TargetKind::AdminSdHolder).count(), 2);
    let domain_roots: Vec<&str> = forest.domains.iter().map(|d| d.dn.as_str()).collect();
    for (dn, _) in &with_holder {
        let served =
            writeback_core::engine::routing::route(&domain_roots, dn).map(|i| forest.domains[i].dns_name.as_str());
        let expected = if dn.contains("DC=fabrikam") { "fabrikam.example" } else { "emea.corp.example" };
        assert_eq!(served, Some(expected), "{dn}");
    }
}

/// A forest the sync engine serves that the settings leave out: Optional features says so with
/// Microsoft's consequence, and "Include" brings the wizard back to connect it, its row added.
#[test]
fn the_wizard_says_which_served_forest_is_not_covered_and_offers_to_include_it() {
    use crate::gui::{app, click, idle, type_into, wait};
    use writeback_gui::pages::optional_features::words;
    use writeback_gui::wizard::PageId;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let two = rt.block_on(Two::up());
    two.settings(&[LAB]);
    let args = two.wizard_args();
    let mut a = app(two.home.path(), args);
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(crate::tenant::GA)));
    let mut h = tall(a);
    crate::gui::signed_in(&mut h);
    // Only the settings' forest is offered; the engine's other one is not a row yet.
    wait(&mut h, "the forests", |a| !a.pages().directories().forests().is_empty());
    type_into(&mut h, "Password", two.lab.password("admin_password_file").expose());
    if h.state().pages().directories().rows().iter().any(|r| r.forest == SOUTH) {
        // The engine named it: untick it, so this run leaves it out.
        h.get_by_label(&writeback_gui::pages::connect_directories::words::include(SOUTH)).click();
        h.step();
    }
    click(&mut h, "Connect");
    wait(&mut h, "the directory", |a| a.wizard().facts.directory_ready && idle(a));
    click(&mut h, "Next");
    click(&mut h, "Next");
    wait(&mut h, "today's state", |a| a.pages().features().status().is_some() && idle(a));
    let st = h.state().pages().features().status().cloned().unwrap();
    let u = st.ad.uncovered.iter().find(|u| u.forest == SOUTH).unwrap_or_else(|| panic!("{:?}", st.ad.uncovered));
    h.get_by_label(&words::uncovered(SOUTH, &u.why, &u.consequence));
    click(&mut h, &words::include(SOUTH));
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    assert!(!h.state().wizard().facts.directory_ready, "connect again, with the forest");
    let row = h.state().pages().directories().rows().iter().find(|r| r.forest == SOUTH).cloned().unwrap();
    assert!(row.include, "{row:?}");
}
