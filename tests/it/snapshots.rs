//! Pictures of every page, rendered on the CPU (wgpu through Mesa's lavapipe) and compared with
//! the checked-in tests/snapshots/*.png; `UPDATE_SNAPSHOTS=1` rewrites them. The wizard is walked
//! to each page as a person would, by its labels, while a script stands in for the engine and
//! answers each job with fixed values (a lab's MSOL_ name, SIDs and timings differ per run), so a
//! difference is a change in how the wizard draws. One test per page or small group.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, SnapshotResults};
use writeback_ad::scan::Findings;
use writeback_core::config::{SettingsOverlay as ConnectionArgs, Theme};
use writeback_core::engine::Paths;
use writeback_core::engine::apply::{ApplyOutcome, Canary, Progress};
use writeback_core::engine::{
    AceStatus, Action, AdStatus, Kept, Plan, PlannedAce, Precondition, Status, Step, StepOp, Target, TargetStatus,
    WritebackState,
};
use writeback_core::session::{Configured, DirectoryView, Front, Options, Overview, Untrusted};
use writeback_core::types::{
    CertDetails, DirectorySync, EngineState, EntraCheck, ErrorReport, Grant, LicenceVerdict, Me, Role, ScopeNode,
    SyncEngineKind,
};
use writeback_gui::App;
use writeback_gui::worker::{Engine, Job, Msg};

const BASE: &str = "DC=corp,DC=example,DC=com";

/// How the script answers a job.
type Answer = Box<dyn Fn(&Job) -> Vec<Msg>>;

/// The engine's stand-in: each job is answered at once, as `answer` says; messages can also be
/// delivered unasked (a device code the sign-in shows while it waits).
struct Script {
    inbox: Arc<Mutex<VecDeque<Msg>>>,
    answer: Answer,
}

impl Engine for Script {
    fn send(&self, job: Job) {
        self.inbox.lock().unwrap().extend((self.answer)(&job));
    }
    fn poll(&self) -> Vec<Msg> {
        self.inbox.lock().unwrap().drain(..).collect()
    }
    fn cancel(&mut self) {}
}

/// The answers of a tenant and a directory that are ready for writeback, today disabled.
fn ready_answers(job: &Job) -> Vec<Msg> {
    match job {
        Job::SignIn { .. } => vec![Msg::SignedIn(Ok(tenant()))],
        Job::Connect { .. } => vec![Msg::Connected(Ok(vec![directory()]))],
        Job::Children(dn) if dn == BASE => vec![Msg::Children {
            dn: dn.clone(),
            found: Ok((
                1234,
                vec![
                    ScopeNode { dn: format!("OU=Corp,{BASE}"), name: "Corp".into(), users: 1190 },
                    ScopeNode { dn: format!("CN=Users,{BASE}"), name: "Users".into(), users: 44 },
                ],
            )),
        }],
        Job::Choose { .. } | Job::Overview => {
            vec![Msg::Overview(Ok(Box::new(Overview { status: *status(false), findings: findings() })))]
        }
        Job::Plan { .. } => vec![Msg::Planned(Ok(plan()))],
        _ => vec![],
    }
}

/// A wizard whose jobs the script answers; `unfinished` leaves a journal the wizard finds.
fn app(answer: Answer, unfinished: bool) -> (App, Arc<Mutex<VecDeque<Msg>>>, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let args = ConnectionArgs {
        forest: Some("corp.example.com".into()),
        ad_user: Some("CORP\\alice.admin".into()),
        ..ConnectionArgs::default()
    };
    let mut opts = Options::new(home.path().join("settings.toml"), false, Front::Wizard, args);
    // Fixed paths: the pages show them.
    let state = std::env::temp_dir().join("writeback-wizard-snapshots/state");
    let _ = std::fs::remove_dir_all(&state);
    if unfinished {
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(
            state.join("journal-1796169600-1.jsonl"),
            "{\"record\":\"plan\",\"action\":\"enable\",\"steps\":[],\"time\":\"2026-12-01T00:00:00Z\"}\n",
        )
        .unwrap();
    }
    opts.paths = Paths {
        state_dir: state,
        audit_log: PathBuf::from("/var/lib/writeback-wizard/audit.jsonl"),
        settings: home.path().join("settings.toml"),
    };
    let inbox = Arc::new(Mutex::new(VecDeque::new()));
    let engine = Script { inbox: inbox.clone(), answer };
    (App::with_engine(&opts, false, Box::new(engine)).unwrap(), inbox, home)
}

fn harness(mut app: App) -> Harness<'static, App> {
    app.set_theme(Theme::Light);
    Harness::builder().with_size([940.0, 620.0]).wgpu().build_ui_state(|ui, a: &mut App| a.ui(ui), app)
}

/// Presses the button labelled `label` and lets the answers arrive.
fn press(h: &mut Harness<'static, App>, label: &str) {
    h.get_by_label(label).click();
    h.run_steps(3);
}

/// Walks from Welcome to `stop` (a page title) on the Customize task, as a person would.
fn walk(h: &mut Harness<'static, App>, stop: &str) {
    h.run_steps(2);
    let walk: [(&str, &[&str]); 7] = [
        ("Tasks", &["Next"]),
        ("Connect to Microsoft Entra ID", &["Next"]),
        ("signed in", &["Sign in with a browser"]),
        ("Connect your directories", &["Next"]),
        ("connected", &["Connect"]),
        ("Domain and OU filtering", &["Next"]),
        ("Optional features", &["Next"]),
    ];
    for (reached, buttons) in walk {
        for b in buttons {
            press(h, b);
        }
        if reached == stop {
            return;
        }
    }
    for (reached, button) in [("Ready to configure", "Next"), ("Configuring", "Configure")] {
        press(h, button);
        if reached == stop {
            return;
        }
    }
    panic!("no page {stop}");
}

/// Pages shot at 1.5x as well (a 150 % display, common on servers' consoles).
const SCALED: [&str; 3] = ["welcome", "ready", "complete"];

/// The page in the light theme (`NAME.png`, the default where the system is light), the dark
/// theme (`NAME-dark.png`) and, for some, at 1.5x (`NAME-1.5x.png`).
fn shoot(results: &mut SnapshotResults, h: &mut Harness<'static, App>, name: &str) {
    // Nothing hovered: the pictures show the page, not where the last click was.
    h.remove_cursor();
    h.ctx.set_pixels_per_point(1.0);
    h.state_mut().set_theme(Theme::Light);
    h.run_steps(4);
    h.snapshot(name);
    h.state_mut().set_theme(Theme::Dark);
    h.run_steps(4);
    h.snapshot(format!("{name}-dark"));
    if SCALED.contains(&name) {
        h.state_mut().set_theme(Theme::Light);
        h.ctx.set_pixels_per_point(1.5);
        h.run_steps(4);
        h.snapshot(format!("{name}-1.5x"));
    }
    results.extend_harness(h);
}

#[test]
fn welcome_and_tasks_look_as_they_did() {
    let mut r = SnapshotResults::new();
    let (a, _, _home) = app(Box::new(ready_answers), false);
    let mut h = harness(a);
    h.run_steps(2);
    shoot(&mut r, &mut h, "welcome");
    walk(&mut h, "Tasks");
    shoot(&mut r, &mut h, "tasks");
    r.unwrap();
}

#[test]
fn tasks_with_an_unfinished_configuration_look_as_they_did() {
    let mut r = SnapshotResults::new();
    let (a, _, _home) = app(Box::new(ready_answers), true);
    let mut h = harness(a);
    walk(&mut h, "Tasks");
    shoot(&mut r, &mut h, "tasks-unfinished");
    r.unwrap();
}

#[test]
fn connect_to_entra_looks_as_it_did() {
    let mut r = SnapshotResults::new();
    let (a, inbox, _home) = app(Box::new(ready_answers), false);
    let mut h = harness(a);
    walk(&mut h, "Connect to Microsoft Entra ID");
    // What the device-code sign-in shows while it waits.
    inbox
        .lock()
        .unwrap()
        .push_back(Msg::DeviceCode { user_code: "F7K2-9QXM".into(), uri: "https://microsoft.com/devicelogin".into() });
    shoot(&mut r, &mut h, "connect-entra-device-code");
    let (a, _, _home) = app(Box::new(ready_answers), false);
    let mut h = harness(a);
    walk(&mut h, "signed in");
    shoot(&mut r, &mut h, "connect-entra");
    r.unwrap();
}

#[test]
fn connect_your_directories_looks_as_it_did() {
    let mut r = SnapshotResults::new();
    let untrusted = |job: &Job| match job {
        Job::Connect { .. } => vec![Msg::Untrusted {
            question: Untrusted {
                changed_from: None,
                certificate: Box::new(CertDetails {
                    subject: "CN=dc1.corp.example.com".into(),
                    issuer: "CN=corp-DC1-CA, DC=corp, DC=example, DC=com".into(),
                    dns_names: vec!["dc1.corp.example.com".into()],
                    not_after: "Nov 26 12:00:00 2027 +00:00".into(),
                    sha256: "3f:8a:".repeat(10) + "3f:8a",
                }),
            },
            report: ErrorReport { code: "AD-TLS".into(), message: String::new(), remedy: String::new(), exit_code: 3 },
        }],
        other => ready_answers(other),
    };
    let (a, _, _home) = app(Box::new(untrusted), false);
    let mut h = harness(a);
    walk(&mut h, "connected");
    shoot(&mut r, &mut h, "connect-directories-certificate");
    let (a, _, _home) = app(Box::new(ready_answers), false);
    let mut h = harness(a);
    walk(&mut h, "connected");
    shoot(&mut r, &mut h, "connect-directories");
    r.unwrap();
}

#[test]
fn scope_and_optional_features_look_as_they_did() {
    let mut r = SnapshotResults::new();
    let (a, _, _home) = app(Box::new(ready_answers), false);
    let mut h = harness(a);
    walk(&mut h, "Domain and OU filtering");
    shoot(&mut r, &mut h, "scope");
    walk_on(&mut h, "Next");
    shoot(&mut r, &mut h, "optional-features");
    r.unwrap();
}

/// Presses `label` on the page shown.
fn walk_on(h: &mut Harness<'static, App>, label: &str) {
    press(h, label);
}

#[test]
fn ready_and_configuring_look_as_they_did() {
    let mut r = SnapshotResults::new();
    let (a, _, _home) = app(Box::new(ready_answers), false);
    let mut h = harness(a);
    walk(&mut h, "Ready to configure");
    shoot(&mut r, &mut h, "ready");
    let halfway = |job: &Job| match job {
        Job::Configure { .. } => vec![Msg::Progress(Progress::Done { id: "grant-1".into(), elapsed_ms: 41 })],
        other => ready_answers(other),
    };
    let (a, _, _home) = app(Box::new(halfway), false);
    let mut h = harness(a);
    walk(&mut h, "Configuring");
    shoot(&mut r, &mut h, "configuring");
    r.unwrap();
}

#[test]
fn configuration_complete_and_failed_look_as_they_did() {
    let mut r = SnapshotResults::new();
    let done = |job: &Job| match job {
        Job::Configure { .. } => vec![Msg::Configured(Ok(Configured {
            outcome: ApplyOutcome {
                applied: vec!["grant-1".into(), "writeback".into()],
                verified: true,
                sync_started: true,
                warnings: vec![],
            },
            canary: Some(Ok(Canary { user: "wb.canary".into(), reset: true, unlock: true, detail: None })),
        }))],
        other => ready_answers(other),
    };
    let (a, _, _home) = app(Box::new(done), false);
    let mut h = harness(a);
    walk(&mut h, "Configuring");
    shoot(&mut r, &mut h, "complete");
    let failed = |job: &Job| match job {
        Job::Configure { .. } => vec![
            Msg::Progress(Progress::Undone { id: "grant-1".into() }),
            Msg::Progress(Progress::Failed { id: "writeback".into(), error: "the sync engine did not answer".into() }),
            Msg::Configured(Err(ErrorReport {
                code: "ENGINE-ROLLED-BACK".into(),
                message: "the apply failed and was rolled back: the sync engine did not answer".into(),
                remedy: "Check that the ADSync service runs on the sync server, then Retry.".into(),
                exit_code: 1,
            })),
        ],
        other => ready_answers(other),
    };
    let (a, _, _home) = app(Box::new(failed), false);
    let mut h = harness(a);
    walk(&mut h, "Configuring");
    shoot(&mut r, &mut h, "failed");
    r.unwrap();
}

#[test]
fn the_complete_page_opens_the_chosen_clouds_admin_center() {
    let done = |job: &Job| match job {
        Job::Configure { .. } => vec![Msg::Configured(Ok(Configured {
            outcome: ApplyOutcome { applied: vec![], verified: true, sync_started: false, warnings: vec![] },
            canary: None,
        }))],
        other => ready_answers(other),
    };
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = sent.clone();
    let answer = move |job: &Job| {
        if let Job::OpenPortal(cloud) = job {
            seen.lock().unwrap().push(format!("{cloud:?}"));
        }
        done(job)
    };
    let (a, _, _home) = app(Box::new(answer), false);
    let mut h = harness(a);
    walk(&mut h, "Configuring");
    press(&mut h, writeback_gui::pages::complete::words::OPEN);
    assert_eq!(*sent.lock().unwrap(), vec!["Public".to_string()], "the cloud signed in to");
}

fn findings() -> Findings {
    Findings {
        scopes: vec![BASE.into()],
        users_in_scope: 1234,
        protected_accounts: vec![format!("CN=Alice Admin,OU=Admins,{BASE}")],
        blocked_inheritance: vec![format!("OU=Legacy,OU=Corp,{BASE}")],
        explicit_deny: vec![],
        cannot_change_password: vec![format!("CN=Kiosk,OU=Shared,OU=Corp,{BASE}")],
        min_age_not_reached: vec![format!("CN=Amir Abbasi,OU=Finance,OU=Corp,{BASE}")],
        access: None,
    }
}

fn tenant() -> Box<EntraCheck> {
    Box::new(EntraCheck {
        account: Me {
            id: "00000000-0000-4000-8000-000000000001".into(),
            user_principal_name: "alice@contoso.onmicrosoft.com".into(),
            display_name: "Alice Admin".into(),
            cloud_account: true,
        },
        roles: vec![Role {
            template_id: "62e90394-69f5-4237-9190-012177145e10".into(),
            display_name: "Global Administrator".into(),
        }],
        role_ok: true,
        roles_through_groups: vec![],
        licence: LicenceVerdict {
            eligible: true,
            granted_by: vec![Grant {
                sku_part_number: "AAD_PREMIUM".into(),
                sku_id: "078d2b04-f1bd-4111-bbd4-b4b1b354cef4".into(),
                product_name: Some("Microsoft Entra ID P1".into()),
                service_plan_name: "AAD_PREMIUM".into(),
                capability_status: "Enabled".into(),
                for_devices: false,
            }],
            warnings: vec![],
            reason: "password writeback is licensed through Microsoft Entra ID P1".into(),
            not_counted: vec![],
        },
        directory_sync: DirectorySync { enabled: true, last_sync: None, minutes_since_last_sync: Some(12) },
        graph_password_writeback_flag: None,
        eligible_roles: vec![],
        domain_authentication: Some("Managed".into()),
        not_checked: vec![],
        problems: vec![],
        warnings: vec![],
    })
}

fn directory() -> DirectoryView {
    DirectoryView {
        forest: "corp.example.com".into(),
        dc: "dc1.corp.example.com".into(),
        connection: "dc1.corp.example.com · Kerberos · sealed".into(),
        domain: BASE.into(),
        domains: vec![BASE.into()],
        operator: format!("CN=Alice Admin,OU=Admins,{BASE}"),
        enterprise_admin: true,
        domain_admin: true,
        candidates: vec![(format!("CN=MSOL_1a2b3c4d5e6f,CN=Users,{BASE}"), "MSOL_1a2b3c4d5e6f".into())],
        chosen: Some(format!("CN=MSOL_1a2b3c4d5e6f,CN=Users,{BASE}")),
        chosen_source: None,
    }
}

const WANTED: [&str; 4] = [
    "Reset Password on descendant user objects",
    "Change Password on descendant user objects",
    "Write lockoutTime on descendant user objects",
    "Write pwdLastSet on descendant user objects",
];

fn status(present: bool) -> Box<Status> {
    Box::new(Status {
        state: if present { WritebackState::Enabled } else { WritebackState::Disabled },
        tenant: None,
        ad: AdStatus {
            connection: None,
            connector_source: None,
            forests: vec![],
            uncovered: vec![],
            scopes: vec![TargetStatus {
                dn: BASE.into(),
                forest: "corp.example.com".into(),
                domain: Some("corp.example.com".into()),
                aces: WANTED
                    .iter()
                    .enumerate()
                    .map(|(i, d)| AceStatus {
                        sddl: format!("(OA;CIIO;CR;{i};;S-1-5-21-1-2-3-1105)"),
                        description: d.to_string(),
                        present,
                    })
                    .collect(),
                inheritance_blocked: false,
            }],
        },
        sync_engine: Some(EngineState {
            backend: SyncEngineKind::Adsync,
            writeback_enabled: present,
            last_sync_cycle: None,
            version: Some("2.5.79.0".into()),
            connector: Some("contoso.onmicrosoft.com - AAD".into()),
            flavour: SyncEngineKind::Adsync,
            writeback_readable: true,
            ..Default::default()
        }),
        missing: if present { vec![] } else { WANTED.iter().map(|d| format!("{d} on {BASE}")).collect() },
        unfinished_journal: None,
    })
}

fn plan() -> Box<Plan> {
    let aces: Vec<PlannedAce> = WANTED
        .iter()
        .enumerate()
        .map(|(i, words)| PlannedAce {
            ace: writeback_ad::sd::sddl::persisted::read(&format!(
                "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e052{i};bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)"
            ))
            .unwrap(),
            words: words.to_string(),
        })
        .collect();
    Box::new(Plan {
        action: Action::Enable,
        steps: vec![
            Step {
                id: "grant-1".into(),
                description: format!("Grant the connector account the 4 writeback permissions on {BASE}"),
                target: Target::Object { dn: BASE.into() },
                forest: Some("corp.example.com".into()),
                domain: Some("corp.example.com".into()),
                op: StepOp::Grant(aces),
            },
            Step {
                id: "writeback".into(),
                description: "Turn password writeback on in the sync engine (adsync)".into(),
                target: Target::SyncEngine,
                forest: None,
                domain: None,
                op: StepOp::Writeback {
                    enabled: true,
                    call: "Set-ADSyncAADPasswordResetConfiguration -Enable $true".into(),
                },
            },
        ],
        preconditions: vec![
            Precondition {
                check: "CORP\\alice.admin is an Enterprise Admin".into(),
                ok: true,
                remedy: String::new(),
                code: None,
                forest: Some("corp.example.com".into()),
            },
            Precondition {
                code: None,
                check: "licence carrying Microsoft Entra ID P1 or P2".into(),
                ok: true,
                remedy: String::new(),
                forest: None,
            },
        ],
        preexisting: vec![Kept {
            target: BASE.into(),
            forest: "corp.example.com".into(),
            sddl: "(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;AU)".into(),
            description: "Unexpire Password on the domain — already there, kept".into(),
        }],
        warnings: vec![],
        connector_source: None,
        forests: vec![],
        uncovered: vec![],
    })
}
