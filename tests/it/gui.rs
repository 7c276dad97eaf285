//! The wizard driven by accessibility labels (egui_kittest, no window): the seed's procedure end
//! to end against a lab DC and the tenant simulator, turning writeback on and off again, and the
//! ways out (Cancel, "Are you sure?").

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use writeback_core::config::Cloud;
use writeback_core::config::SettingsOverlay as ConnectionArgs;
use writeback_core::engine::Paths;
use writeback_gui::App;
use writeback_gui::wizard::{PageId, Task};

use writeback_ad::writeback;
use writeback_lab::tenant::Faults;

use crate::ad_engine::BASE;
use crate::support::LabDc;
use crate::tenant::{APP, GA, Sim, TENANT};

pub(crate) fn harness(app: App) -> Harness<'static, App> {
    Harness::builder().with_size([940.0, 620.0]).build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

pub(crate) fn app(home: &std::path::Path, args: ConnectionArgs) -> App {
    let mut app = App::new(home.join("settings.toml"), None, args, Arc::new(|| {})).unwrap();
    app.set_paths(Paths {
        state_dir: home.join("state"),
        audit_log: home.join("audit.jsonl"),
        settings: home.join("settings.toml"),
    });
    app
}

/// Steps frames until `done` holds (the engine answers on its own threads).
pub(crate) fn wait(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        h.step();
        if done(h.state()) {
            return;
        }
        if let Some(e) = h.state().error() {
            panic!("waiting for {what}: {}: {} ({})", e.code, e.message, e.remedy);
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Clicks a button once it is enabled (as a person would: the bar is off while work runs).
pub(crate) fn click(h: &mut Harness<'static, App>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while h.get_by_label(label).accesskit_node().is_disabled() {
        assert!(Instant::now() < deadline, "{label} stayed disabled");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Types into the field labelled `label` (focus first: kittest types nothing into an unfocused field).
pub(crate) fn type_into(h: &mut Harness<'static, App>, label: &str, text: &str) {
    let field = h.get_by_label(label);
    field.focus();
    field.type_text(text);
    h.step();
}

/// Replaces what the field labelled `label` holds with `text` (select all, then type over it).
fn retype(h: &mut Harness<'static, App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    type_into(h, label, text);
}

/// The wizard with the lab DC's fields, the task labelled `task` chosen, and Connect pressed with
/// the lab administrator's password.
fn connected_for(lab: &LabDc, home: &std::path::Path, task: &str) -> Harness<'static, App> {
    let mut h = harness(app(home, ad_args(lab)));
    h.step();
    click(&mut h, "Next");
    h.get_by_label(task).click();
    h.step();
    click(&mut h, "Next");
    type_into(&mut h, "Password", lab.password("admin_password_file").expose());
    click(&mut h, "Connect");
    h
}

/// From the first frame to Connect your directories: Welcome, Tasks (as they are), and Connect to
/// Microsoft Entra ID signed in through the app's browser.
pub(crate) fn signed_in(h: &mut Harness<'static, App>) {
    h.step();
    click(h, "Next");
    click(h, "Next");
    click(h, "Sign in with a browser");
    wait(h, "the sign-in", |a| a.wizard().facts.tenant_ready && idle(a));
    click(h, "Next");
}

pub(crate) fn idle(app: &App) -> bool {
    !app.wizard().facts.busy
}

#[test]
fn the_seed_procedure_turns_writeback_on_then_off_again() {
    let lab = LabDc::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Sim::hybrid());
    // Entra asks for 5 s between device-code polls; the simulator may ask for less.
    sim.running.set_faults(Faults { device_code_interval_secs: 1, ..Faults::default() });
    let canary = format!("CN=Writeback Canary,OU=Support,OU=Staff,OU=Corp,{BASE}");
    let (mut admin, _) = rt.block_on(crate::ad_engine::discover(&lab));
    let dacl_before = rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes;
    let mut connector = rt.block_on(crate::ad_engine::as_connector(&lab));
    let (reset, _) = rt.block_on(crate::ad_engine::writeback_as_connector(&mut connector, &canary));
    assert!(crate::ad_engine::denied(&reset), "before: the connector may not reset passwords");
    let home = tempfile::tempdir().unwrap();
    let args = lab_args(&lab, &sim, TENANT);
    let admin_password = lab.password("admin_password_file").expose().to_string();

    let opened: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let mut a = app(home.path(), args.clone());
    let seen = opened.clone();
    a.worker().unwrap().set_browser(Arc::new(move |url: String| {
        seen.lock().unwrap().push(url);
        Ok(())
    }));
    let mut h = harness(a);
    h.step();
    assert_eq!(h.state().wizard().page, PageId::Welcome);
    click(&mut h, "Next");
    h.get_by_label("Customize synchronization options");
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectEntra);
    h.step();
    assert!(h.get_by_label("Next").accesskit_node().is_disabled(), "not signed in yet");
    // The device code, approved on the simulator's device-login page as a person would.
    click(&mut h, "Sign in with a device code");
    wait(&mut h, "the device code", |a| a.pages().entra().device_code().is_some());
    let (code, uri) = h.state().pages().entra().device_code().map(|(c, u)| (c.to_string(), u.to_string())).unwrap();
    assert_eq!(uri, sim.url("/devicelogin"));
    h.get_by_label(&code);
    h.get_by_label("Copy");
    rt.block_on(crate::tenant::device_login(&sim, &code, GA, "approve"));
    wait(&mut h, "the sign-in", |a| a.pages().entra().tenant().is_some() && idle(a));
    assert!(h.state().wizard().facts.tenant_ready, "{:?}", h.state().pages().entra().tenant().unwrap().problems);
    click(&mut h, "Next");

    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    type_into(&mut h, "Password", &admin_password);
    // The CLI's --ad-timeout: a bad value is said, a good one is used.
    type_into(&mut h, "Timeout (seconds)", "0");
    h.get_by_label_contains("a number of seconds from 1 to 3600");
    retype(&mut h, "Timeout (seconds)", "45");
    assert!(h.query_by_label_contains("a number of seconds from 1 to 3600").is_none());
    click(&mut h, "Connect");
    assert!(
        h.state().pages().directories().typed_password().is_empty(),
        "the password is not kept in the form once sent"
    );
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    let d = h.state().pages().directories().directory().cloned().unwrap();
    assert!(d.enterprise_admin && h.state().pages().directories().connector().is_some(), "{d:?}");
    // Another connector account can be picked from the domain: gMSAs too.
    type_into(&mut h, "Another account", "provAg");
    wait(&mut h, "the connector's matches", |a| a.pages().directories().other_connector().matches().is_some());
    h.get_by_label("provAgentgMSA$");
    click(&mut h, "Next");

    assert_eq!(h.state().wizard().page, PageId::Scope);
    assert_eq!(h.state().pages().scope().candidates(), vec![(d.domain.clone(), true)], "the domain root by default");
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::OptionalFeatures);
    wait(&mut h, "today's state", |a| a.pages().features().status().is_some() && idle(a));
    assert_eq!(h.state().pages().features().status().unwrap().state, "disabled");
    assert!(h.state().pages().features().writeback(), "the Password writeback box is ticked for the Customize task");
    h.get_by_label("Password writeback");
    // The findings: a line each to scan, what to do one click away, with the objects.
    {
        use writeback_ad::scan::PROTECTED;
        use writeback_gui::pages::optional_features::words;
        let f = h.state().pages().features().findings().cloned().unwrap();
        assert!(!f.protected_accounts.is_empty(), "the lab seeds protected accounts");
        let count = PROTECTED.count(f.protected_accounts.len());
        h.get_by_label(&count);
        assert!(h.query_by_label(PROTECTED.remedy).is_none(), "the remedy waits for its click");
        click(&mut h, &words::what_to_do(&count));
        h.get_by_label(PROTECTED.remedy);
        h.get_by_label(&f.protected_accounts[0]);
        h.get_by_label(&writeback_ad::scan::MIN_AGE.count(1));
    }
    // The CLI's --include-adminsdholder, with its warning.
    click(&mut h, writeback_gui::pages::optional_features::words::ADMINSDHOLDER);
    h.get_by_label(writeback_gui::pages::optional_features::words::ADMINSDHOLDER_WARNING);
    click(&mut h, "Next");

    wait(&mut h, "the plan", |a| a.pages().ready().plan().is_some() && idle(a));
    assert_eq!(h.state().wizard().page, PageId::Ready);
    let plan = h.state().pages().ready().plan().cloned().unwrap();
    assert!(plan.ready() && !plan.steps.is_empty(), "{plan:?}");
    assert!(plan.steps.iter().any(|s| s.target.to_string().starts_with("CN=AdminSDHolder,CN=System,")), "{plan:?}");
    h.get_by_label("Start the synchronization process when configuration completes");
    // The canary proves it end to end, bound as the connector account.
    // Picked from the domain as it is typed, never typed whole.
    type_into(&mut h, "Canary user (optional)", "wb.can");
    wait(&mut h, "the canary's matches", |a| a.pages().ready().canary().matches().is_some());
    press(&mut h, &format!("{} (Writeback Canary)", lab.field("canary_user")));
    assert_eq!(h.state().pages().ready().canary().text(), lab.field("canary_user"));
    let connector_password = h.get_by_label("Connector account password");
    connector_password.focus();
    connector_password.type_text(lab.password("connector_password_file").expose());
    h.step();
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete);
    let outcome = h.state().pages().complete().outcome().cloned().unwrap().unwrap();
    assert!(outcome.verified && outcome.sync_started, "{outcome:?}");
    let c = h.state().pages().complete().canary().cloned().unwrap().unwrap();
    assert!(c.reset && c.unlock, "{c:?}");
    assert!(h.state().pages().ready().typed_connector_password().is_empty(), "not kept once sent");
    h.get_by_label(&format!("The connector account reset {}'s password", c.user));
    assert!(h.query_all_by_label("Passed").count() >= 3, "verdicts carry a spoken icon");
    assert!(!h.state().wizard().failed);
    assert_eq!(h.state().wizard().next_label(), "Exit");
    h.get_by_label("Configuration complete");
    // The seed's last step, in the admin center: named, not claimed, one click away.
    use writeback_gui::pages::complete::words;
    h.get_by_label(words::REMAINS);
    h.get_by_label(words::NOT_CHECKED);
    h.get_by_label(&format!("2. {}", words::ON_PREM));
    assert!(h.query_by_label(&format!("3. {}", words::CLOUD_SYNC)).is_none(), "Entra Connect, not Cloud Sync");
    click(&mut h, words::OPEN);
    wait(&mut h, "the browser", |a| a.note().is_some_and(|n| n.starts_with("Opened")));
    let url = opened.lock().unwrap().last().cloned().unwrap();
    assert_eq!(url, sim.url("/lab/admin-center"));
    let page = rt.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    assert!(
        page.contains("On-premises integration") && page.contains("Enable password write back for synced users"),
        "{page}"
    );
    let audit = std::fs::read_to_string(home.path().join("audit.jsonl")).unwrap();
    assert!(audit.lines().count() >= plan.steps.len(), "{audit}");
    assert!(!audit.contains(&admin_password), "no secret in the audit log");
    click(&mut h, "Exit");
    assert!(h.state().exiting());
    drop(h);
    // On the DC and in the sync engine, not just on the page.
    assert!(sim.running.sync_engine_writeback());
    let (reset, unlock) = rt.block_on(crate::ad_engine::writeback_as_connector(&mut connector, &canary));
    assert!(reset.is_ok() && unlock.is_ok(), "after: the connector resets and unlocks: {reset:?} {unlock:?}");

    // Re-run: "Disable password writeback" removes what was granted, with no tenant role
    // checked (the lab's sync engine still signs in, as Entra Connect's own account would).
    let mut a = app(home.path(), args);
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(GA)));
    let mut h = harness(a);
    h.step();
    click(&mut h, "Next");
    h.get_by_label("Disable password writeback").click();
    h.step();
    assert_eq!(h.state().wizard().task, Task::Disable);
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories, "disabling needs no cloud sign-in");
    type_into(&mut h, "Password", &admin_password);
    click(&mut h, "Connect");
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    click(&mut h, "Next");
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::OptionalFeatures);
    wait(&mut h, "today's state", |a| a.pages().features().status().is_some() && idle(a));
    let st = h.state().pages().features().status().cloned().unwrap();
    assert_eq!(st.state, "enabled", "{:?}", st.missing);
    assert!(!h.state().pages().features().writeback(), "unticked for Disable");
    // The Disable task cannot be ticked back into an enable.
    assert!(h.get_by_label("Password writeback").accesskit_node().is_disabled());
    h.get_by_label("Also remove permissions that were there before (not added by this tool)");
    assert!(!h.state().pages().features().choice().1.remove_preexisting, "off unless asked");
    click(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.pages().ready().plan().is_some() && idle(a));
    assert!(!h.state().pages().ready().plan().unwrap().steps.is_empty());
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete);
    assert!(h.state().pages().complete().outcome().cloned().unwrap().unwrap().verified);
    assert!(h.query_by_label(words::REMAINS).is_none(), "nothing remains in the portal after a disable");
    drop(h);
    assert!(!sim.running.sync_engine_writeback());
    assert_eq!(rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes, dacl_before, "the very same DACL");
    let (reset, _) = rt.block_on(crate::ad_engine::writeback_as_connector(&mut connector, &canary));
    assert!(crate::ad_engine::denied(&reset), "after disabling: denied again");
    drop(sim);
}

#[test]
fn cancel_asks_only_when_something_would_be_lost_and_bad_input_is_said() {
    let home = tempfile::tempdir().unwrap();
    // Nothing entered: Cancel leaves at once.
    let mut h = harness(app(home.path(), ConnectionArgs::default()));
    h.step();
    click(&mut h, "Cancel");
    assert!(h.state().exiting());

    // "Export settings…" writes the settings, flags included, where the person chose.
    let mut a = app(
        home.path(),
        ConnectionArgs { ad_url: Some("ldaps://dc1.corp.example".into()), ..ConnectionArgs::default() },
    );
    let exported = home.path().join("exported.toml");
    let target = exported.clone();
    a.worker().unwrap().set_chooser(Arc::new(move |name: String| {
        assert_eq!(name, "writeback-wizard.toml");
        let target = target.clone();
        Box::pin(async move { Some(target) })
    }));
    let mut h = harness(a);
    h.step();
    click(&mut h, "Next");
    click(&mut h, "Export settings…");
    wait(&mut h, "the export", |a| a.note().is_some() && idle(a));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.contains("\nversion = 1\n") && text.contains("ad_url = \"ldaps://dc1.corp.example\""), "{text}");
    h.get_by_label(&format!("Saved {}.", exported.display()));

    // Past the first pages: "Are you sure?", and Stay keeps everything. Enter is Next.
    let mut h = harness(app(home.path(), ConnectionArgs::default()));
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert_eq!(h.state().wizard().page, PageId::Tasks, "Enter pressed Next");
    // About names the version and commit.
    click(&mut h, "About");
    h.get_by_label(&format!("Version {}", env!("CARGO_PKG_VERSION")));
    click(&mut h, "Close");
    assert!(!h.state().showing_about());
    h.get_by_label("View current configuration").click();
    h.step();
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert!(h.state().asking_to_leave() && !h.state().exiting(), "Esc is Cancel, which asks");
    click(&mut h, "Stay");
    assert!(!h.state().asking_to_leave() && !h.state().exiting());
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);

    // Connecting with no DC named: the error names the cause and the remedy, on the page.
    click(&mut h, "Connect");
    wait(&mut h, "the error", |a| a.error().is_some() || (idle(a) && a.pages().directories().directory().is_some()));
    let e = h.state().error().cloned().unwrap();
    assert_eq!(e.code, "GUI-MISSING-INPUT");
    assert!(e.message.contains("no forest (or domain controller)"), "{e:?}");
    assert!(h.query_by_label_contains("What to do:").is_some());
    assert!(!h.state().wizard().can_advance());

    click(&mut h, "Cancel");
    click(&mut h, "Leave the wizard");
    assert!(h.state().exiting());
}

/// The lab DC, trusted through its CA, with its connector account.
fn ad_args(lab: &LabDc) -> ConnectionArgs {
    ConnectionArgs {
        ad_url: Some(lab.field("ldap_url")),
        ad_user: Some(lab.field("admin_user")),
        ad_ca_file: Some(lab.field("ca_file").into()),
        ad_tls_name: Some(lab.field("tls_name")),
        connector_account: Some(lab.field("connector_account")),
        ..ConnectionArgs::default()
    }
}

/// [`ad_args`] and the simulator as the tenant (and its lab sync engine).
pub(crate) fn lab_args(lab: &LabDc, sim: &Sim, tenant: &str) -> ConnectionArgs {
    ConnectionArgs {
        cloud: Some(Cloud::Lab),
        tenant: Some(tenant.into()),
        lab_url: Some(sim.running.url().to_string()),
        client_id: Some(APP.into()),
        ..ad_args(lab)
    }
}

#[test]
fn wrong_password_no_licence_and_cancel_while_configuring() {
    let lab = LabDc::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let home = tempfile::tempdir().unwrap();

    // No licence: signed in, the reason shown, and Next stays off.
    let fx = writeback_lab::tenant::Fixture::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tenant-no-licence.json"),
    )
    .unwrap();
    let bare = rt.block_on(Sim::start(fx));
    let mut a = app(home.path(), lab_args(&lab, &bare, "organizations"));
    a.worker()
        .unwrap()
        .set_browser(Arc::new(crate::tenant::form_browser(("admin@fabrikamstd.onmicrosoft.com", "Fab-Passw0rd!"))));
    let mut h = harness(a);
    h.step();
    click(&mut h, "Next");
    click(&mut h, "Next");
    click(&mut h, "Sign in with a browser");
    wait(&mut h, "the sign-in", |a| a.pages().entra().tenant().is_some() && idle(a));
    let t = h.state().pages().entra().tenant().cloned().unwrap();
    assert!(!t.licence.eligible && !h.state().wizard().facts.tenant_ready);
    h.get_by_label(&t.licence.reason);
    h.get_by_label("Failed");
    assert!(h.get_by_label("Next").accesskit_node().is_disabled(), "no licence, no Next");
    drop(h);
    drop(bare);

    // A wrong AD password: AD's sub-code in words, and the remedy.
    let sim = rt.block_on(Sim::hybrid());
    let args = lab_args(&lab, &sim, TENANT);
    let mut a = app(home.path(), args.clone());
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(GA)));
    let mut h = harness(a);
    crate::gui::signed_in(&mut h);
    type_into(&mut h, "Password", "not-the-password");
    click(&mut h, "Connect");
    wait(&mut h, "the bind error", |a| a.error().is_some());
    let e = h.state().error().cloned().unwrap();
    assert_eq!(e.code, "AD-BIND");
    assert!(e.message.contains("the user name or password is wrong") && e.message.contains("52e"), "{e:?}");
    h.get_by_label(&format!("What to do: {}", e.remedy));
    assert!(h.get_by_label("Next").accesskit_node().is_disabled());

    // The right one, then Cancel while the sync engine is switching: everything is undone.
    let admin_password = lab.password("admin_password_file").expose().to_string();
    type_into(&mut h, "Password", &admin_password);
    click(&mut h, "Connect");
    wait(&mut h, "the directory connection", |a| a.wizard().facts.directory_ready && idle(a));
    let (mut admin, _) = rt.block_on(crate::ad_engine::discover(&lab));
    let dacl_before = rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes;
    click(&mut h, "Next");
    click(&mut h, "Next");
    click(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.wizard().facts.plan_ready && idle(a));
    sim.running.set_faults(Faults { sync_engine_latency_ms: 1500, ..Faults::default() });
    click(&mut h, "Configure");
    wait(&mut h, "the sync engine step", |a| {
        a.pages()
            .configuring()
            .steps()
            .iter()
            .any(|(id, s)| id == "writeback" && *s == writeback_gui::StepState::Running)
    });
    click(&mut h, "Cancel");
    wait(&mut h, "the roll-back", |a| a.wizard().page == PageId::Complete);
    assert!(h.state().wizard().failed);
    h.get_by_label("Configuration failed");
    let e = h.state().error().cloned().unwrap();
    assert!(e.message.contains("cancelled"), "{e:?}");
    assert!(!sim.running.sync_engine_writeback(), "the switch was undone");
    assert_eq!(rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes, dacl_before, "the grant was undone");

    // Save log…: without a log file, said so with a way out; with one, copied where chosen.
    let saved = home.path().join("saved.log");
    let target = saved.clone();
    h.state_mut().worker().unwrap().set_chooser(Arc::new(move |name: String| {
        assert_eq!(name, "writeback-wizard.log");
        let target = target.clone();
        Box::pin(async move { Some(target) })
    }));
    h.state_mut().worker().unwrap().set_log_file(home.path().join("no-such.log"));
    click(&mut h, "Save log…");
    wait(&mut h, "the missing log", |a| a.error().is_some_and(|e| e.message.contains("no log file")) && idle(a));
    assert!(h.state().error().unwrap().remedy.contains("WRITEBACK_LOG_DIR"));
    let log = home.path().join("wizard.log");
    std::fs::write(&log, "INFO page shown: Configuration failed\n").unwrap();
    h.state_mut().worker().unwrap().set_log_file(log.clone());
    click(&mut h, "Save log…");
    wait(&mut h, "the saved log", |a| a.note().is_some() && idle(a));
    assert_eq!(std::fs::read(&saved).unwrap(), std::fs::read(&log).unwrap());

    // Retry: a fresh plan on Ready, and this time it goes through.
    sim.running.set_faults(Faults::default());
    click(&mut h, "Retry");
    assert_eq!(h.state().wizard().page, PageId::Ready);
    wait(&mut h, "the fresh plan", |a| a.wizard().facts.plan_ready && idle(a));
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete);
    assert!(!h.state().wizard().failed && sim.running.sync_engine_writeback(), "{:?}", h.state().error());
}

#[test]
fn an_untrusted_certificate_is_shown_and_trusted_or_not_on_request() {
    let lab = LabDc::up();
    let home = tempfile::tempdir().unwrap();
    let settings = home.path().join("settings.toml");
    // No CA file: nothing here vouches for the lab DC's certificate.
    let args = ConnectionArgs {
        ad_url: Some(lab.field("ldap_url")),
        ad_user: Some(lab.field("admin_user")),
        ..ConnectionArgs::default()
    };
    let admin_password = lab.password("admin_password_file").expose().to_string();
    // Welcome → Tasks ("View current configuration") → Connect your directories → Connect.
    let connect = |args: ConnectionArgs| {
        let mut h = harness(app(home.path(), args));
        h.step();
        click(&mut h, "Next");
        h.get_by_label("View current configuration").click();
        h.step();
        click(&mut h, "Next");
        type_into(&mut h, "Password", &admin_password);
        click(&mut h, "Connect");
        h
    };
    let to_directories = |args: ConnectionArgs| {
        let mut h = connect(args);
        wait(&mut h, "the trust question", |a| a.pages().directories().untrusted().is_some());
        h
    };

    // "Do not trust": the handshake error stands, with its remedy; nothing is saved.
    let mut h = to_directories(args.clone());
    let sha = h.state().pages().directories().untrusted().unwrap().certificate.sha256.clone();
    h.get_by_label(&format!("SHA-256: {sha}"));
    click(&mut h, "Do not trust");
    let e = h.state().error().cloned().unwrap();
    assert_eq!(e.code, "AD-TLS");
    assert!(h.state().pages().directories().directory().is_none() && !settings.exists());
    drop(h);

    // "Trust this certificate": connected (the password typed once is reused), and pinned.
    let mut h = to_directories(args.clone());
    click(&mut h, "Trust this certificate");
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    let saved = std::fs::read_to_string(&settings).unwrap();
    assert!(saved.contains(&format!("ad_fingerprint = \"{sha}\"")), "{saved}");
    assert!(!saved.contains(&admin_password), "no password in the settings");
    drop(h);

    // The next run trusts it without asking.
    let mut h = connect(args.clone());
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    assert!(h.state().pages().directories().untrusted().is_none());
    drop(h);

    // The pinned certificate is not the one the DC presents any more: CHANGED, said as such, and
    // trusted only once the last 8 characters of the new fingerprint are typed.
    let old_pin = "ab:".repeat(31) + "ab";
    std::fs::write(&settings, saved.replace(&sha, &old_pin)).unwrap();
    let mut h = connect(args);
    wait(&mut h, "the changed-certificate question", |a| {
        a.pages().directories().untrusted().is_some_and(|u| u.changed_from.is_some())
    });
    h.get_by_label("This server's certificate has CHANGED since you trusted it.");
    h.get_by_label(&format!("Trusted before: SHA-256 {old_pin}"));
    h.step();
    assert!(h.get_by_label("Trust the new certificate").accesskit_node().is_disabled(), "not a click-through");
    type_into(&mut h, "Last 8 characters of the new fingerprint", "00:00:00:00");
    assert!(h.get_by_label("Trust the new certificate").accesskit_node().is_disabled());
    let hex: String = sha.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let tail = &hex[hex.len() - 8..];
    // Retyped (upper case and all: case does not matter).
    retype(&mut h, "Last 8 characters of the new fingerprint", &tail.to_uppercase());
    h.step();
    click(&mut h, "Trust the new certificate");
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    let now = std::fs::read_to_string(&settings).unwrap();
    assert!(now.contains(&sha) && !now.contains(&old_pin), "{now}");
}

#[test]
fn the_scope_browser_counts_users_and_chooses_an_ou() {
    let lab = LabDc::up();
    let home = tempfile::tempdir().unwrap();
    let mut h = connected_for(&lab, home.path(), "Disable password writeback");
    wait(&mut h, "the directory connection", |a| a.wizard().facts.directory_ready && idle(a));
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::Scope);

    // Open the domain, then Corp, then Staff: each level read from the DC with its user count.
    let open = |h: &mut Harness<'static, App>, dn: &str, name: &str| {
        wait(h, &format!("{dn} to be read"), |a| a.pages().scope().tree().contains_key(dn));
        let users = h.state().pages().scope().tree()[dn].0;
        let title = if dn == BASE { format!("{BASE} ({users} users)") } else { format!("{name} ({users} users)") };
        click(h, &title);
        users
    };
    let domain_users = open(&mut h, BASE, BASE);
    assert!(domain_users >= 50, "the seed's 50 users and more: {domain_users}");
    wait(&mut h, "the domain's OUs", |a| a.pages().scope().tree().contains_key(BASE));
    let l = label_of(&h, BASE, "Corp");
    click(&mut h, &l);
    let corp = format!("OU=Corp,{BASE}");
    wait(&mut h, "Corp's OUs", |a| a.pages().scope().tree().contains_key(&corp));
    let l = label_of(&h, &corp, "Staff");
    click(&mut h, &l);
    let staff = format!("OU=Staff,{corp}");
    wait(&mut h, "Staff's OUs", |a| a.pages().scope().tree().contains_key(&staff));
    let sales = h.state().pages().scope().tree()[&staff].1.iter().find(|c| c.name == "Sales").unwrap().clone();
    assert!(sales.users > 0 && sales.users < domain_users);
    let l = label_of(&h, &staff, "Sales");
    click(&mut h, &l);

    // Only Sales: unchoose the domain root, choose Sales.
    click(&mut h, &format!("Include {BASE}"));
    click(&mut h, &format!("Include {}", sales.dn));
    assert!(h.state().pages().scope().on(&sales.dn) && !h.state().pages().scope().on(BASE));
    click(&mut h, "Next");
    wait(&mut h, "the findings", |a| a.pages().features().findings().is_some() && idle(a));
    assert_eq!(
        h.state().pages().features().findings().as_ref().unwrap().users_in_scope,
        sales.users,
        "the scan agrees with the count"
    );
    h.get_by_label(&format!("{} users in scope.", sales.users));
    // Access, decided as Windows decides: every Sales user is reached after the plan.
    let found = h.state().pages().features().findings().cloned().unwrap();
    let access = found.access.as_ref().expect("the connector is known: each user's access is answered");
    assert_eq!(access.counts.users, sales.users);
    assert_eq!(access.counts.after_plan.get("reachable"), Some(&sales.users), "{access:?}");
    h.get_by_label(writeback_gui::pages::optional_features::words::ACCESS_ALL);

    // The whole domain: the users it will not reach are one click away, each with its ACE.
    click(&mut h, "Previous");
    click(&mut h, &format!("Include {BASE}"));
    click(&mut h, &format!("Include {}", sales.dn));
    click(&mut h, "Next");
    wait(&mut h, "the domain's findings", |a| {
        a.pages().features().findings().as_ref().is_some_and(|f| f.users_in_scope == domain_users) && idle(a)
    });
    let found = h.state().pages().features().findings().cloned().unwrap();
    let access = found.access.clone().unwrap();
    let not = access.counts.after_plan.iter().filter(|(k, _)| *k != "reachable").map(|(_, v)| v).sum::<usize>();
    assert!(not >= 5, "Legacy's four behind blocked inheritance and Kofi's deny: {access:?}");
    h.get_by_label(&writeback_gui::pages::optional_features::words::unreachable(not, domain_users));
    press(&mut h, writeback_gui::pages::optional_features::words::WHICH);
    let kofi = format!("CN=Kofi Kumah,OU=Support,OU=Staff,OU=Corp,{BASE}");
    h.get_by_label(&writeback_gui::pages::optional_features::words::user_line(
        &kofi,
        "after this plan",
        &format!("an ACE denies it (Change Password): (OD;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD) on {kofi}"),
    ));
}

/// The header of `name` among `parent`'s children.
fn label_of(h: &Harness<'static, App>, parent: &str, name: &str) -> String {
    let c = h.state().pages().scope().tree()[parent].1.iter().find(|c| c.name == name).unwrap();
    format!("{} ({} user{})", c.name, c.users, if c.users == 1 { "" } else { "s" })
}

#[cfg(feature = "crash-points")]
#[test]
fn an_unfinished_configuration_is_offered_at_start_and_rolled_back_from_the_wizard() {
    let lab = LabDc::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Sim::hybrid());
    let token = rt.block_on(sim.access(crate::tenant::HIA));
    let (mut admin, _) = rt.block_on(crate::ad_engine::discover(&lab));
    let before = rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes;
    // An apply killed after its grant (plan, begin, done): its journal is left.
    let out = crate::engine_cli::cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json"])
        .env("WRITEBACK_CRASH_AT", "journal:3")
        .output()
        .unwrap();
    assert!(
        out.status.code().is_none(),
        "killed: {:?} {} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes, before, "the grant was made");
    let data = lab.home.path().join("data/writeback-wizard");
    let mut a =
        App::new(lab.home.path().join("settings.toml"), None, lab_args(&lab, &sim, TENANT), Arc::new(|| {})).unwrap();
    a.set_paths(Paths {
        state_dir: data.join("state"),
        audit_log: data.join("audit.jsonl"),
        settings: lab.home.path().join("settings.toml"),
    });
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(GA)));
    let mut h = harness(a);
    h.step();
    // Found at start: a banner, and a task of its own.
    h.get_by_label_contains("An earlier configuration did not finish");
    click(&mut h, "Next");
    h.get_by_label("Finish the unfinished configuration").click();
    h.step();
    assert_eq!(h.state().wizard().task, Task::Recover);
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    type_into(&mut h, "Password", lab.password("admin_password_file").expose());
    click(&mut h, "Connect");
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::Ready);
    // What the journal set out to do is read, checked and shown before anything runs.
    wait(&mut h, "the journal", |a| !a.pages().ready().journal_lines().is_empty() && idle(a));
    let lines = h.state().pages().ready().journal_lines();
    assert!(lines[0].starts_with("grant-1 (done): grant 8 ACE(s) on DC="), "{lines:?}");
    h.get_by_label(&lines[0]);
    h.get_by_label("Roll back: undo every change it made (only its own, checked)");
    h.get_by_label("Resume: make the changes it had not made yet");
    click(&mut h, "Configure");
    wait(&mut h, "the rollback", |a| a.wizard().page == PageId::Complete);
    assert!(
        h.state().pages().complete().outcome().cloned().unwrap().is_ok(),
        "{:?}",
        h.state().pages().complete().outcome()
    );
    assert!(h.state().pages().unfinished().is_none());
    drop(h);
    assert!(writeback_core::engine::journal::unfinished(&data.join("state")).unwrap().is_none(), "journal finished");
    assert_eq!(rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes, before, "the very same DACL");
}

/// Presses Tab until the widget labelled `label` has the keyboard focus.
fn tab_to(h: &mut Harness<'static, App>, label: &str) {
    for _ in 0..60 {
        if h.query_by_label(label).is_some_and(|n| n.is_focused()) {
            return;
        }
        h.key_press(egui::Key::Tab);
        h.step();
    }
    panic!("Tab never reached {label}");
}

/// Presses a button from the keyboard: Tab to it, then Space (once it is enabled).
pub(crate) fn press(h: &mut Harness<'static, App>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while h.get_by_label(label).accesskit_node().is_disabled() {
        assert!(Instant::now() < deadline, "{label} stayed disabled");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    tab_to(h, label);
    h.key_press(egui::Key::Space);
    h.step();
    h.step();
}

#[test]
fn the_whole_procedure_and_its_undo_by_keyboard_alone() {
    let lab = LabDc::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Sim::hybrid());
    sim.running.set_faults(Faults { device_code_interval_secs: 1, ..Faults::default() });
    let (mut admin, _) = rt.block_on(crate::ad_engine::discover(&lab));
    let before = rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes;
    let home = tempfile::tempdir().unwrap();
    let args = lab_args(&lab, &sim, TENANT);
    let password = lab.password("admin_password_file").expose().to_string();
    let connect = |h: &mut Harness<'static, App>| {
        tab_to(h, "Password");
        h.event(egui::Event::Text(password.clone()));
        h.step();
        press(h, "Connect");
        wait(h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    };

    let mut h = harness(app(home.path(), args.clone()));
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    assert_eq!(h.state().wizard().page, PageId::Tasks, "Enter is Next");
    press(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectEntra);
    press(&mut h, "Sign in with a device code");
    wait(&mut h, "the device code", |a| a.pages().entra().device_code().is_some());
    let (code, _) = h.state().pages().entra().device_code().map(|(c, u)| (c.to_string(), u.to_string())).unwrap();
    rt.block_on(crate::tenant::device_login(&sim, &code, GA, "approve"));
    wait(&mut h, "the sign-in", |a| a.pages().entra().tenant().is_some() && idle(a));
    press(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    connect(&mut h);
    press(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::Scope);
    press(&mut h, "Next");
    wait(&mut h, "today's state", |a| a.pages().features().status().is_some() && idle(a));
    press(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.pages().ready().plan().is_some() && idle(a));
    assert_eq!(h.state().wizard().page, PageId::Ready);
    press(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete && idle(a));
    assert!(h.state().pages().complete().outcome().cloned().unwrap().unwrap().verified);
    press(&mut h, "Exit");
    assert!(h.state().exiting());
    drop(h);
    assert!(sim.running.sync_engine_writeback());

    // And back, through Disable.
    let mut a = app(home.path(), args);
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(GA)));
    let mut h = harness(a);
    h.step();
    press(&mut h, "Next");
    press(&mut h, "Disable password writeback");
    assert_eq!(h.state().wizard().task, Task::Disable);
    press(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    connect(&mut h);
    press(&mut h, "Next");
    press(&mut h, "Next");
    wait(&mut h, "today's state", |a| a.pages().features().status().is_some() && idle(a));
    press(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.pages().ready().plan().is_some() && idle(a));
    press(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete && idle(a));
    assert!(h.state().pages().complete().outcome().cloned().unwrap().unwrap().verified);
    drop(h);
    assert!(!sim.running.sync_engine_writeback());
    assert_eq!(rt.block_on(writeback::read_dacl(&mut admin, BASE)).unwrap().bytes, before, "the very same DACL");
}

#[test]
fn import_settings_fills_the_pages_and_keeps_this_machines_pin() {
    let home = tempfile::tempdir().unwrap();
    let ours = "11".repeat(32);
    let theirs = "22".repeat(32);
    std::fs::write(home.path().join("settings.toml"), format!("version = 1\nad_fingerprint = \"{ours}\"\n")).unwrap();
    let other = home.path().join("other.toml");
    std::fs::write(
        &other,
        format!(
            "version = 1\nad_url = \"ldaps://dc9.corp.example.com\"\nad_user = \"CORP\\\\bob.admin\"\nscope = [\"OU=Staff,DC=corp,DC=example,DC=com\"]\nad_fingerprint = \"{theirs}\"\n"
        ),
    )
    .unwrap();
    let mut a = app(home.path(), ConnectionArgs::default());
    let picked = other.clone();
    a.worker().unwrap().set_opener(Arc::new(move |_| {
        let p = picked.clone();
        Box::pin(async move { Some(p) })
    }));
    let mut h = harness(a);
    h.step();
    click(&mut h, "Next");
    click(&mut h, "Import settings…");
    // Every connection key it changes is shown, and nothing is written before the answer.
    wait(&mut h, "what the import changes", |a| a.pages().import_waiting());
    h.get_by_label("ad_url: (none), becomes ldaps://dc9.corp.example.com");
    h.get_by_label("scope: (none), becomes OU=Staff,DC=corp,DC=example,DC=com");
    h.get_by_label(&format!("ad_fingerprint: {ours}, becomes {theirs}"));
    assert!(!std::fs::read_to_string(home.path().join("settings.toml")).unwrap().contains("dc9"));
    click(&mut h, "Do not import");
    assert!(!h.state().pages().import_waiting());
    assert!(!std::fs::read_to_string(home.path().join("settings.toml")).unwrap().contains("dc9"), "not imported");
    click(&mut h, "Import settings…");
    wait(&mut h, "what the import changes", |a| a.pages().import_waiting());
    click(&mut h, "Import these settings");
    wait(&mut h, "the import", |a| a.note().is_some_and(|n| n.starts_with("Imported")));
    assert_eq!(h.state().pages().directories().ad_url(), "ldaps://dc9.corp.example.com");
    assert_eq!(h.state().pages().directories().ad_user(), "CORP\\bob.admin");
    assert_eq!(h.state().pages().scope().candidates(), vec![("OU=Staff,DC=corp,DC=example,DC=com".to_string(), true)]);
    assert!(h.state().note().unwrap().contains("this machine's pin was kept"), "{:?}", h.state().note());
    let saved = std::fs::read_to_string(home.path().join("settings.toml")).unwrap();
    assert!(saved.contains("dc9.corp.example.com") && saved.contains(&ours) && !saved.contains(&theirs), "{saved}");
}

#[test]
fn cloud_sync_asks_ready_for_a_global_administrator_and_names_the_portal_switch() {
    use writeback_gui::pages::{complete, ready};
    let lab = LabDc::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Sim::hybrid());
    sim.running.with_sync_engine(|m| m.flavour = "cloudsync".into());
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), lab_args(&lab, &sim, TENANT));
    a.worker().unwrap().set_browser(Arc::new(crate::tenant::form_browser(GA)));
    let mut h = harness(a);
    crate::gui::signed_in(&mut h);
    type_into(&mut h, "Password", lab.password("admin_password_file").expose());
    click(&mut h, "Connect");
    wait(&mut h, "the directory connection", |a| a.wizard().facts.directory_ready && idle(a));
    click(&mut h, "Next");
    click(&mut h, "Next");
    click(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.wizard().facts.plan_ready && idle(a));

    // The signed-in account is offered; with no password the switch is refused before anything
    // changes, and the error says where to give one.
    h.get_by_label(ready::words::CLOUDSYNC);
    assert_eq!(h.state().pages().ready().cloudsync_admin(), GA.0);
    click(&mut h, "Configure");
    wait(&mut h, "the missing credential", |a| a.error().is_some() && idle(a));
    let e = h.state().error().cloned().unwrap();
    assert_eq!(e.code, "SYNC-NEEDS-CREDENTIAL", "{e:?}");
    assert!(e.remedy.contains("Ready to configure"), "{e:?}");
    assert!(!sim.running.sync_engine_writeback());

    // A wrong password: Entra's refusal, everything undone.
    click(&mut h, "Retry");
    wait(&mut h, "the fresh plan", |a| a.wizard().facts.plan_ready && idle(a));
    type_into(&mut h, ready::words::CLOUDSYNC_PASSWORD, "not-the-password");
    click(&mut h, "Configure");
    wait(&mut h, "the refusal", |a| a.error().is_some() && a.wizard().page == PageId::Complete && idle(a));
    let e = h.state().error().cloned().unwrap();
    assert!(e.code == "SYNC-CREDENTIAL-REFUSED" || e.message.contains("AADSTS50126"), "{e:?}");
    assert!(e.message.contains("AADSTS50126"), "Entra's own code is kept: {e:?}");
    assert!(h.state().wizard().failed && !sim.running.sync_engine_writeback());
    assert!(h.state().pages().ready().typed_cloudsync_password().is_empty(), "the password left the field when sent");

    // The right one: configured, and the Complete page names Cloud Sync's own portal checkbox.
    click(&mut h, "Retry");
    wait(&mut h, "the fresh plan", |a| a.wizard().facts.plan_ready && idle(a));
    type_into(&mut h, ready::words::CLOUDSYNC_PASSWORD, GA.1);
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete && idle(a));
    assert!(!h.state().wizard().failed && sim.running.sync_engine_writeback(), "{:?}", h.state().error());
    h.get_by_label(&format!("3. {}", complete::words::CLOUD_SYNC));
}

#[test]
fn the_password_test_says_what_ad_would_refuse_the_minimum_age_included() {
    use writeback_gui::pages::optional_features::words;
    let lab = LabDc::up();
    let home = tempfile::tempdir().unwrap();
    let mut h = connected_for(&lab, home.path(), "Test a password against policy");
    assert_eq!(h.state().wizard().task, Task::TestPassword);
    wait(&mut h, "the directory connection", |a| a.pages().directories().directory().is_some() && idle(a));
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::OptionalFeatures);
    let strong = writeback_ad::passgen::generate_os(20);

    // Whose password was set less than a day ago, under a PSO with a one-day minimum age.
    type_into(&mut h, words::ACCOUNT, "olga.olsen");
    type_into(&mut h, words::NEW_PASSWORD, strong.expose());
    click(&mut h, words::TEST);
    wait(&mut h, "the verdict", |a| a.pages().features().verdict().is_some() && idle(a));
    h.get_by_label(words::REFUSED);
    let v = h.state().pages().features().verdict().cloned().unwrap();
    assert_eq!(v.reasons.iter().map(|r| r.rule).collect::<Vec<_>>(), vec!["min_age"], "{v:?}");
    h.get_by_label(&v.reasons[0].text);
    assert!(h.state().pages().features().typed_test_password().is_empty(), "the password left the field when sent");

    // Someone else, the same password: acceptable, with what cannot be known offline.
    retype(&mut h, words::ACCOUNT, "alice.archer");
    type_into(&mut h, words::NEW_PASSWORD, strong.expose());
    click(&mut h, words::TEST);
    wait(&mut h, "the verdict", |a| a.pages().features().verdict().is_some() && idle(a));
    h.get_by_label(words::ACCEPTABLE);
    assert!(h.state().pages().features().verdict().as_ref().unwrap().acceptable);
    h.get_by_label_contains("Not checked here: password history");
}

#[test]
fn a_browser_that_will_not_start_gives_the_admin_centers_address_to_open_by_hand() {
    use writeback_core::session::{Front, Options};
    use writeback_gui::worker::{Engine, Job, Msg, Worker};
    let home = tempfile::tempdir().unwrap();
    let opts = Options::new(home.path().join("settings.toml"), false, Front::Wizard, ConnectionArgs::default());
    let mut worker = Worker::new(opts, Arc::new(|| {})).unwrap();
    worker.set_browser(Arc::new(|_url: String| Err("no default browser is set".to_string())));
    worker.send(Job::OpenPortal(Cloud::Usgov));
    let deadline = Instant::now() + Duration::from_secs(30);
    let e = loop {
        if let Some(Msg::Opened(r)) = worker.poll().into_iter().find(|m| matches!(m, Msg::Opened(_))) {
            break r.unwrap_err();
        }
        assert!(Instant::now() < deadline, "no answer");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(e.code, "GUI-BROWSER", "{e:?}");
    let url = writeback_entra::clouds::password_reset_page(Cloud::Usgov, None);
    assert!(e.message.contains(&url) && e.message.contains("no default browser"), "the chosen cloud's page: {e:?}");
    assert!(e.remedy.contains(&url) && e.remedy.starts_with("Open"), "{e:?}");
}
