//! Pictures of every page, rendered on the CPU (wgpu through Mesa's lavapipe) and compared with
//! the checked-in tests/snapshots/*.png; `UPDATE_SNAPSHOTS=1` rewrites them. The engine's answers
//! are fixed here (a lab's MSOL_ name, SIDs and timings differ per run), so a difference is a
//! change in how the wizard draws.

use std::path::PathBuf;
use std::sync::Arc;

use egui_kittest::{Harness, SnapshotResults};
use writeback_wizard::ad::directory::ScopeNode;
use writeback_wizard::ad::scan::Findings;
use writeback_wizard::ad::tls::CertDetails;
use writeback_wizard::config::SettingsOverlay as ConnectionArgs;
use writeback_wizard::diagnose::ErrorReport;
use writeback_wizard::engine::apply::{ApplyOutcome, Canary, Paths};
use writeback_wizard::engine::{
    AceStatus, Action, AdStatus, Kept, Plan, PlannedAce, Precondition, Status, Step, StepOp, TargetStatus,
    WritebackState,
};
use writeback_wizard::entra::check::{DirectorySync, EntraCheck, Me, Role};
use writeback_wizard::entra::licence::{Grant, LicenceVerdict};
use writeback_wizard::gui::wizard::PageId;
use writeback_wizard::gui::worker::DirectoryView;
use writeback_wizard::gui::{App, StepState};
use writeback_wizard::sync_engine::EngineState;

const BASE: &str = "DC=corp,DC=example,DC=com";

fn app() -> (App, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let args = ConnectionArgs {
        ad_url: Some("ldaps://dc1.corp.example.com".into()),
        ad_user: Some("CORP\\alice.admin".into()),
        ..ConnectionArgs::default()
    };
    let mut app = App::new(home.path().join("settings.toml"), false, args, Arc::new(|| {})).unwrap();
    app.set_paths(Paths {
        state_dir: home.path().join("state"),
        audit_log: PathBuf::from("/var/lib/writeback-wizard/audit.jsonl"),
        settings: home.path().join("settings.toml"),
    });
    (app, home)
}

/// Shows `page` as if the person had walked there.
fn at(app: &mut App, page: PageId) {
    for p in app.wiz.pages() {
        if p == page {
            break;
        }
        app.wiz.done.insert(p);
    }
    app.wiz.page = page;
}

/// Pages shot at 1.5x as well (a 150 % display, common on servers' consoles).
const SCALED: [&str; 3] = ["welcome", "ready", "complete"];

/// Each page in the light theme (`NAME.png`, the default where the system is light), the dark
/// theme (`NAME-dark.png`) and, for some, at 1.5x (`NAME-1.5x.png`).
fn shoot(results: &mut SnapshotResults, mut app: App, name: &str) {
    app.theme = writeback_wizard::config::Theme::Light;
    let mut h = Harness::builder().with_size([940.0, 620.0]).wgpu().build_ui_state(|ui, a: &mut App| a.ui(ui), app);
    h.run_steps(4);
    h.snapshot(name);
    h.state_mut().theme = writeback_wizard::config::Theme::Dark;
    h.run_steps(4);
    h.snapshot(format!("{name}-dark"));
    if SCALED.contains(&name) {
        h.state_mut().theme = writeback_wizard::config::Theme::Light;
        h.ctx.set_pixels_per_point(1.5);
        h.run_steps(4);
        h.snapshot(format!("{name}-1.5x"));
    }
    results.extend_harness(&mut h);
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
        dc: "dc1.corp.example.com".into(),
        domain: BASE.into(),
        domains: vec![BASE.into()],
        operator: format!("CN=Alice Admin,OU=Admins,{BASE}"),
        enterprise_admin: true,
        domain_admin: true,
        candidates: vec![(format!("CN=MSOL_1a2b3c4d5e6f,CN=Users,{BASE}"), "MSOL_1a2b3c4d5e6f".into())],
        chosen: Some(format!("CN=MSOL_1a2b3c4d5e6f,CN=Users,{BASE}")),
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
            connector_source: None,
            scopes: vec![TargetStatus {
                dn: BASE.into(),
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
            backend: "adsync",
            writeback_enabled: present,
            last_sync_cycle: None,
            version: Some("2.5.79.0".into()),
            connector: Some("contoso.onmicrosoft.com - AAD".into()),
            flavour: "adsync",
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
            ace: writeback_wizard::ad::sd::sddl::persisted::read(&format!(
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
                target: BASE.into(),
                op: StepOp::Grant(aces),
            },
            Step {
                id: "writeback".into(),
                description: "Turn password writeback on in the sync engine (adsync)".into(),
                target: "sync-engine".into(),
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
            },
            Precondition {
                code: None,
                check: "licence carrying Microsoft Entra ID P1 or P2".into(),
                ok: true,
                remedy: String::new(),
            },
        ],
        preexisting: vec![Kept {
            target: BASE.into(),
            sddl: "(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;AU)".into(),
            description: "Unexpire Password on the domain — already there, kept".into(),
        }],
        warnings: vec![],
        connector_source: None,
    })
}

#[test]
fn every_page_looks_as_it_did() {
    let mut r = SnapshotResults::new();
    let (a, _h1) = app();
    shoot(&mut r, a, "welcome");

    let (mut a, _h2) = app();
    at(&mut a, PageId::Tasks);
    shoot(&mut r, a, "tasks");

    let (mut a, _h2b) = app();
    at(&mut a, PageId::Tasks);
    a.pages.unfinished = Some(PathBuf::from("/var/lib/writeback-wizard/state/apply-1796169600.journal"));
    shoot(&mut r, a, "tasks-unfinished");

    let (mut a, _h3) = app();
    at(&mut a, PageId::ConnectEntra);
    a.pages.entra.device_code = Some(("F7K2-9QXM".into(), "https://microsoft.com/devicelogin".into()));
    shoot(&mut r, a, "connect-entra-device-code");

    let (mut a, _h4) = app();
    at(&mut a, PageId::ConnectEntra);
    a.pages.entra.tenant = Some(tenant());
    a.wiz.facts.tenant_ready = true;
    shoot(&mut r, a, "connect-entra");

    let (mut a, _h5) = app();
    at(&mut a, PageId::ConnectDirectories);
    a.pages.directories.untrusted = Some((
        Box::new(CertDetails {
            subject: "CN=dc1.corp.example.com".into(),
            issuer: "CN=corp-DC1-CA, DC=corp, DC=example, DC=com".into(),
            dns_names: vec!["dc1.corp.example.com".into()],
            not_after: "Nov 26 12:00:00 2027 +00:00".into(),
            sha256: "3f:8a:".repeat(10) + "3f:8a",
        }),
        ErrorReport { code: "AD-TLS".into(), message: String::new(), remedy: String::new(), exit_code: 3 },
    ));
    shoot(&mut r, a, "connect-directories-certificate");

    let (mut a, _h6) = app();
    at(&mut a, PageId::ConnectDirectories);
    a.pages.directories.directory = Some(directory());
    a.pages.directories.connector = directory().chosen;
    a.wiz.facts.directory_ready = true;
    shoot(&mut r, a, "connect-directories");

    let (mut a, _h7) = app();
    at(&mut a, PageId::Scope);
    a.pages.directories.directory = Some(directory());
    a.pages.scope.scopes = vec![(BASE.into(), true)];
    a.pages.scope.tree.insert(
        BASE.into(),
        (
            1234,
            vec![
                ScopeNode { dn: format!("OU=Corp,{BASE}"), name: "Corp".into(), users: 1190 },
                ScopeNode { dn: format!("CN=Users,{BASE}"), name: "Users".into(), users: 44 },
            ],
        ),
    );
    shoot(&mut r, a, "scope");

    let (mut a, _h8) = app();
    at(&mut a, PageId::OptionalFeatures);
    a.pages.features.status = Some(status(false));
    a.pages.features.findings = Some(Findings {
        scopes: vec![BASE.into()],
        users_in_scope: 1234,
        protected_accounts: vec![format!("CN=Alice Admin,OU=Admins,{BASE}")],
        blocked_inheritance: vec![format!("OU=Legacy,OU=Corp,{BASE}")],
        explicit_deny: vec![],
        cannot_change_password: vec![format!("CN=Kiosk,OU=Shared,OU=Corp,{BASE}")],
        min_age_not_reached: vec![format!("CN=Amir Abbasi,OU=Finance,OU=Corp,{BASE}")],
    });
    shoot(&mut r, a, "optional-features");

    let (mut a, _h9) = app();
    at(&mut a, PageId::Ready);
    a.pages.features.status = Some(status(false));
    a.pages.ready.plan = Some(plan());
    a.wiz.facts.plan_ready = true;
    shoot(&mut r, a, "ready");

    let (mut a, _h10) = app();
    at(&mut a, PageId::Configuring);
    a.pages.ready.plan = Some(plan());
    a.pages.configuring.set_plan(&plan());
    a.pages.configuring.steps = vec![("grant-1".into(), StepState::Done(41)), ("writeback".into(), StepState::Waiting)];
    shoot(&mut r, a, "configuring");

    let (mut a, _h11) = app();
    at(&mut a, PageId::Complete);
    a.pages.ready.plan = Some(plan());
    a.pages.configuring.set_plan(&plan());
    a.wiz.facts.configured = true;
    a.pages.complete.outcome = Some(Ok(ApplyOutcome {
        applied: vec!["grant-1".into(), "writeback".into()],
        verified: true,
        sync_started: true,
        warnings: vec![],
    }));
    a.pages.complete.canary = Some(Ok(Canary { user: "wb.canary".into(), reset: true, unlock: true, detail: None }));
    shoot(&mut r, a, "complete");

    let (mut a, _h12) = app();
    at(&mut a, PageId::Complete);
    a.pages.ready.plan = Some(plan());
    a.pages.configuring.set_plan(&plan());
    a.wiz.failed = true;
    a.wiz.facts.configured = true;
    a.pages.configuring.steps = vec![
        ("grant-1".into(), StepState::Undone),
        ("writeback".into(), StepState::Failed("the sync engine did not answer".into())),
    ];
    let e = ErrorReport {
        code: "ENGINE-ROLLED-BACK".into(),
        message: "the apply failed and was rolled back: the sync engine did not answer".into(),
        remedy: "Check that the ADSync service runs on the sync server, then Retry.".into(),
        exit_code: 1,
    };
    a.error = Some(e.clone());
    a.pages.complete.outcome = Some(Err(e));
    shoot(&mut r, a, "failed");
    // Every page is compared before any failure is reported.
    r.unwrap();
}
