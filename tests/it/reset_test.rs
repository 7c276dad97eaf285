//! The test reset: `verify --reset-test USER` resets a synced user's password from the cloud
//! (Graph's resetPassword, as an administrator does) and follows it to the lab DC, where the lab
//! sync engine writes it as the connector account with that account's own credentials — so what
//! stops writeback in production (writeback off, a user outside the granted scope, a missing
//! permission in the tenant) stops it here too, with the sync server's event.

use serde_json::Value;

use crate::ad_engine::BASE;
use crate::engine_cli::cmd;
use crate::support::{LabDc, code, json};
use crate::tenant::{APP, GA, Sim};

const USER: &str = "wb.canary";

/// The hybrid tenant, its app consented for the reset and for reading users, the lab sync engine
/// holding the lab DC's connector as Connect stores it; a sync cycle has imported the DC's users.
async fn set_up() -> (LabDc, Sim, String) {
    let lab = LabDc::up();
    let mut fx = crate::tenant::hybrid_fixture();
    let app = fx.apps.iter_mut().find(|a| a.client_id == APP).unwrap();
    app.consented_scopes.extend(
        ["UserAuthenticationMethod.ReadWrite.All", "User.Read.All", "AuditLog.Read.All", "Directory.Read.All"]
            .map(String::from),
    );
    let sim = Sim::start(fx).await;
    let info: writeback_lab::LabInfo = serde_json::from_value(lab.info.clone()).unwrap();
    let connector = writeback_lab::ad_connector(&info).unwrap();
    assert!(connector.fingerprint.is_some() && connector.password.is_some());
    sim.running.with_sync_engine(|m| m.ad_connectors = vec![connector]);
    let token = sim.access(GA).await;
    let (status, doc) = sim_post(&sim, &token, "/lab/sync-engine/cycle").await;
    assert_eq!(status, 200, "{doc}");
    // The engine's GET never gives the connector's password back.
    let (_, _, state) = sim.graph(&token, "/lab/sync-engine").await;
    assert!(state["ad_connectors"][0].get("password").is_none(), "{state}");
    assert!(state["ad_connectors"][0]["dc_url"].is_string(), "{state}");
    (lab, sim, token)
}

async fn sim_post(sim: &Sim, token: &str, path: &str) -> (u16, Value) {
    let resp = sim.http.post(sim.url(path)).bearer_auth(token).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

fn hop<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no hop {name}: {doc:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_in_the_cloud_reaches_the_dc_hop_by_hop() {
    use writeback_core::session::reset_hops as hops;
    let (lab, sim, token) = set_up().await;
    // The synced user as Graph shows it, with its on-premises properties.
    let (status, _, user) = sim
        .graph(&token, &format!("/v1.0/users/{USER}@lab.example.test?$select=id,onPremisesSyncEnabled,onPremisesSamAccountName,onPremisesDomainName,onPremisesSecurityIdentifier,onPremisesDistinguishedName"))
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        (user["onPremisesSyncEnabled"].as_bool(), user["onPremisesSamAccountName"].as_str()),
        (Some(true), Some(USER))
    );
    assert_eq!(user["onPremisesDomainName"], "lab.example.test");
    assert!(user["onPremisesSecurityIdentifier"].as_str().unwrap().starts_with("S-1-5-21-"));

    // Writeback off: the operation fails as Graph reports it, and nothing reaches the DC.
    let out = cmd(&lab, &sim, &token, &["verify", "--reset-test", USER, "--json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(code(&out), 3, "{doc:#}");
    assert_eq!(hop(&doc, hops::ACCEPTED)["ok"], true);
    assert_eq!(hop(&doc, hops::OPERATION)["code"], "RESET-TEST-FAILED", "{doc:#}");
    assert!(hop(&doc, hops::OPERATION)["remedy"].as_str().unwrap().contains("apply --enable"));
    assert_eq!(hop(&doc, hops::DC)["ok"], false);

    // Writeback on, but granted only on an OU the user is not in: the engine's write is refused
    // on the DC and the sync server logs ADPermissionsError.
    let sales = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    let out = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json", "--scope", &sales]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out = cmd(&lab, &sim, &token, &["verify", "--reset-test", USER, "--json", "--scope", &sales]).output().unwrap();
    let doc = json(&out);
    assert_eq!(code(&out), 3, "{doc:#}");
    let events = hop(&doc, hops::EVENTS);
    assert_eq!(events["event_id"], 33004, "{doc:#}");
    assert!(events["remedy"].as_str().unwrap().contains("grant writeback on an OU holding the user"), "{doc:#}");
    assert_eq!(hop(&doc, hops::DC)["ok"], false);
    // The sync server's events, explained: the refusal first (newest), with Microsoft's remedy.
    let out = cmd(&lab, &sim, &token, &["diagnose", "--json"]).output().unwrap();
    let diag = json(&out);
    assert_eq!(code(&out), 0, "{diag:#}");
    let groups = diag["groups"].as_array().unwrap();
    let refused = groups.iter().find(|g| g["key"] == "33004").expect("ADPermissionsError grouped");
    assert!(refused["meaning"].as_str().unwrap().starts_with("ADPermissionsError"), "{diag:#}");
    assert!(!refused["remedy"].as_str().unwrap().is_empty());
    assert!(groups.iter().any(|g| g["key"] == "31011"), "{diag:#}");
    // The same events from an export file; a file that is none is refused with how to make one.
    let file = lab.home.path().join("events.json");
    std::fs::write(&file, serde_json::to_string(&diag["events"].as_array().unwrap().iter().map(|e| serde_json::json!({
        "Id": e["id"], "ProviderName": e["provider"], "TimeCreated": e["time"], "LevelDisplayName": e["level"], "Message": e["message"]
    })).collect::<Vec<_>>()).unwrap()).unwrap();
    let out = crate::support::bin(lab.home.path())
        .args(["diagnose", "--json", "--events", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(json(&out)["groups"], diag["groups"]);
    std::fs::write(&file, "<Events/>").unwrap();
    let out = crate::support::bin(lab.home.path())
        .args(["diagnose", "--json", "--events", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!((code(&out), json(&out)["error"]["code"].as_str()), (2, Some("CLI-USAGE")));
    assert!(json(&out)["error"]["remedy"].as_str().unwrap().contains("Get-WinEvent"));
    let out = cmd(&lab, &sim, &token, &["apply", "--disable", "--yes", "--json", "--scope", &sales]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));

    // Granted on the domain: every hop green, the new password on the DC, the events said.
    let out = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out = cmd(&lab, &sim, &token, &["verify", "--reset-test", USER, "--json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(code(&out), 0, "{doc:#}");
    let names: Vec<&str> = doc["hops"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        vec![hops::USER, hops::CLOUD_USER, hops::ACCEPTED, hops::OPERATION, hops::DC, hops::EVENTS, hops::AUDIT]
    );
    assert!(
        hop(&doc, hops::AUDIT)["detail"].as_str().unwrap().contains("on-premises agent Microsoft Entra Connect"),
        "{doc:#}"
    );
    for h in doc["hops"].as_array().unwrap() {
        assert!(h["ok"] == true && h["ms"].is_u64() && h.get("code").is_none(), "{h}");
    }
    assert_eq!(doc["reset_test"]["reached"], true);
    assert!(hop(&doc, hops::EVENTS)["detail"].as_str().unwrap().contains("31010"), "{doc:#}");
    // The generated password is nowhere in what the tool wrote.
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("newPassword"), "{text}");
    // Shown once only on a terminal: with stderr captured it is refused before anything runs.
    let out = cmd(&lab, &sim, &token, &["verify", "--reset-test", USER, "--show-password", "--json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(doc["error"]["code"], "CLI-USAGE", "{doc:#}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("terminal"), "{doc:#}");
    assert!(doc.get("hops").is_none());
    let out = cmd(&lab, &sim, &token, &["apply", "--disable", "--yes", "--json"]).output().unwrap();
    assert_eq!(code(&out), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_user_is_a_person_and_the_reset_needs_its_permission() {
    use writeback_core::session::reset_hops as hops;
    let (lab, sim, token) = set_up().await;
    // Never an administrator, never a computer.
    for who in ["Administrator", "DC1$"] {
        let out = cmd(&lab, &sim, &token, &["verify", "--reset-test", who, "--json"]).output().unwrap();
        let doc = json(&out);
        assert_eq!(doc["error"]["code"], "ENGINE-CANARY-REFUSED", "{who}: {doc:#}");
    }
    // A Hybrid Identity Administrator may configure writeback but may not reset a password with
    // this call: not run, and why.
    let hia = sim.access(crate::tenant::HIA).await;
    let out = cmd(&lab, &sim, &hia, &["verify", "--reset-test", USER, "--json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(code(&out), 3, "{doc:#}");
    let accepted = hop(&doc, hops::ACCEPTED);
    assert_eq!(accepted["code"], "RESET-TEST-NOT-RUN", "{doc:#}");
    assert!(accepted["remedy"].as_str().unwrap().contains("UserAuthenticationMethod.ReadWrite.All"));
    assert!(doc["hops"].as_array().unwrap().iter().all(|h| h["name"] != hops::OPERATION), "nothing was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_that_never_finishes_is_a_clear_timeout() {
    use writeback_core::session::reset_hops as hops;
    let (lab, sim, token) = set_up().await;
    sim.running.set_faults(writeback_lab::tenant::Faults { reset_operations_hang: true, ..Default::default() });
    let out =
        cmd(&lab, &sim, &token, &["verify", "--reset-test", USER, "--reset-timeout", "2", "--json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(code(&out), 3, "{doc:#}");
    let op = hop(&doc, hops::OPERATION);
    assert_eq!(op["code"], "RESET-TEST-TIMEOUT", "{doc:#}");
    assert!(op["detail"].as_str().unwrap().contains("after 2 s"), "{doc:#}");
}

#[test]
fn the_event_reader_takes_get_winevents_shapes_and_refuses_others() {
    use writeback_core::session::parse_events;
    let one = r#"{"Id":31010,"ProviderName":"PasswordResetService","TimeCreated":"2026-12-06T10:00:00Z","LevelDisplayName":"Information","Message":"ResetUserPasswordByAdminSuccess"}"#;
    assert_eq!(parse_events(one).unwrap().len(), 1, "ConvertTo-Json prints a lone event as an object");
    assert_eq!(parse_events(&format!("[{one},{one}]")).unwrap().len(), 2);
    assert!(parse_events("null").unwrap().is_empty());
    assert!(parse_events(r#"[{"Id":"x"}]"#).is_err());
    assert!(parse_events(&one[..40]).is_err(), "truncated");
}

/// The simulator's answers to the reset as Graph gives them: 202 with a Location on Graph's own
/// origin, the user and the operation matching Microsoft's schema, failure as the operation's
/// status — and the reset refused on the caller's own account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_reset_answers_match_microsofts_schema() {
    let (_lab, sim, token) = set_up().await;
    let schema = crate::graph_schema::Schema::load();
    let upn = format!("{USER}@lab.example.test");
    let (_, _, user) = sim
        .graph(&token, &format!("/v1.0/users/{upn}?$select=id,userPrincipalName,onPremisesSyncEnabled,onPremisesSamAccountName,onPremisesDomainName,onPremisesSecurityIdentifier,onPremisesDistinguishedName,onPremisesImmutableId,onPremisesLastSyncDateTime,lastPasswordChangeDateTime"))
        .await;
    assert_eq!(schema.check_response("/users/{id | userPrincipalName}", &user), Vec::<String>::new(), "{user}");
    let id = user["id"].as_str().unwrap();
    let resp = sim
        .http
        .post(sim.url(&format!(
            "/v1.0/users/{id}/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword"
        )))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "newPassword": "Xy-9876-kittens-Lab!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(sim.running.url()), "{location}");
    let mut op = Value::Null;
    for _ in 0..100 {
        let r = sim.http.get(&location).bearer_auth(&token).send().await.unwrap();
        op = r.json().await.unwrap();
        if op["status"] == "failed" || op["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(op["status"], "failed", "writeback is off: {op}");
    assert!(op["statusDetail"].as_str().unwrap().contains("not enabled"), "{op}");
    assert_eq!(
        schema
            .check_response("/users/{id | userPrincipalName}/authentication/operations/{longRunningOperation-id}", &op),
        Vec::<String>::new(),
        "{op}"
    );
    // The reset in the tenant's audit log, as Graph lists it.
    let (status, _, audits) = sim
        .graph(
            &token,
            "/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName%20eq%20'Reset%20password%20(by%20admin)'",
        )
        .await;
    assert_eq!(status, 200, "{audits}");
    assert_eq!(audits["value"][0]["result"], "failure", "{audits}");
    assert_eq!(audits["value"][0]["targetResources"][0]["id"], id);
    assert_eq!(schema.check_response("/auditLogs/directoryAudits", &audits), Vec::<String>::new(), "{audits}");
    // Only a synced user of the lab, and never an unknown method.
    let (status, body) = sim_post(
        &sim,
        &token,
        "/v1.0/users/nobody@lab.example.test/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword",
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("Request_ResourceNotFound")), "{body}");
}

/// The done criterion, in the wizard: an administrator who knows no connector password turns
/// writeback on, then clicks "Test writeback now" and sees the reset reach the DC hop by hop.
#[test]
fn the_wizard_tests_writeback_from_the_cloud_on_configuration_complete() {
    use crate::gui::{app, click, idle, type_into, wait};
    use egui_kittest::kittest::{NodeT, Queryable};
    use writeback_gui::pages::complete::words;
    use writeback_gui::wizard::PageId;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (lab, sim, _) = rt.block_on(set_up());
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), crate::gui::lab_args(&lab, &sim, crate::tenant::TENANT));
    a.worker().unwrap().set_browser(std::sync::Arc::new(crate::tenant::form_browser(GA)));
    // Tall enough that the test's section below the portal's steps is on screen.
    let mut h = crate::forests::tall(a);
    crate::gui::signed_in(&mut h);
    type_into(&mut h, "Password", lab.password("admin_password_file").expose());
    click(&mut h, "Connect");
    wait(&mut h, "the directory connection", |a| a.wizard().facts.directory_ready && idle(a));
    click(&mut h, "Next");
    click(&mut h, "Next");
    click(&mut h, "Next");
    wait(&mut h, "the plan", |a| a.wizard().facts.plan_ready && idle(a));
    click(&mut h, "Configure");
    wait(&mut h, "the configuration", |a| a.wizard().page == PageId::Complete && idle(a));
    h.get_by_label(words::TEST);
    assert!(h.get_by_label(words::TEST_NOW).accesskit_node().is_disabled(), "no user chosen yet");
    // Picked from the domain as it is typed, as the canary is.
    type_into(&mut h, words::TEST_USER, "wb.can");
    wait(&mut h, "the test user's matches", |a| a.pages().complete().reset_user().matches().is_some());
    crate::gui::press(&mut h, &format!("{USER} (Writeback Canary)"));
    assert_eq!(h.state().pages().complete().reset_user().chosen().as_deref(), Some(USER));
    // The new password, shown once on request.
    click(&mut h, words::REVEAL);
    click(&mut h, words::TEST_NOW);
    wait(&mut h, "the test reset", |a| a.pages().complete().reset().is_some() && idle(a));
    let trace = h.state().pages().complete().reset().cloned().unwrap().unwrap();
    assert!(trace.reached && trace.hops.iter().all(|h| h.ok), "{trace:#?}");
    assert!(trace.password.is_none(), "the page took it: the trace keeps no copy");
    h.get_by_label(words::REACHED);
    let dc = trace.hops.iter().find(|x| x.name == writeback_core::session::reset_hops::DC).unwrap();
    h.get_by_label(&words::hop(dc.name, &dc.detail, dc.ms));
    h.get_by_label(words::SHOWN);
    let shown = h.state().pages().complete().shown_password().cloned().expect("shown");
    h.get_by_label(shown.expose());
    // It is the password the DC now holds: a bind with it is refused only because the user must
    // change it at next sign-in (AD's sub-code 773), not as a wrong password (52e).
    let bound = rt.block_on(async {
        let mut c =
            writeback_ad::AdConnection::connect(&writeback_ad::ConnectOptions::new(lab.field("ldap_url"), lab.trust()))
                .await
                .unwrap();
        c.bind(&format!("LAB\\{USER}"), &shown).await
    });
    // Accepted, or refused only because the user must change it at next sign-in (sub-code 773);
    // a wrong password would be 52e.
    let text = format!("{bound:?}");
    assert!(bound.is_ok() || text.contains("data 773"), "{text}");
    click(&mut h, words::HIDE);
    assert!(h.state().pages().complete().shown_password().is_none());
    assert!(h.query_by_label(words::SHOWN).is_none());
}

/// Resets `upn`'s password through the simulator's Graph, as an administrator, and waits for the
/// operation's end: its status and detail.
async fn reset_via_graph(sim: &Sim, token: &str, upn: &str, password: &str) -> (String, String) {
    let resp = sim
        .http
        .post(sim.url(&format!(
            "/v1.0/users/{upn}/authentication/methods/28c10230-6103-485e-b985-444c60001490/resetPassword"
        )))
        .bearer_auth(token)
        .json(&serde_json::json!({ "newPassword": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    for _ in 0..200 {
        let op: Value = sim.http.get(&location).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        if op["status"] == "failed" || op["status"] == "succeeded" {
            return (op["status"].as_str().unwrap().into(), op["statusDetail"].as_str().unwrap_or_default().into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the operation never ended");
}

async fn last_event_ids(sim: &Sim, token: &str) -> Vec<u64> {
    let (_, _, events) = sim.graph(token, "/lab/sync-engine/events").await;
    events.as_array().unwrap().iter().rev().take(3).map(|e| e["Id"].as_u64().unwrap()).collect()
}

/// What stops writeback on premises stops the lab engine's too, each with the event the sync
/// server logs: a password the policy refuses (33008), a deny of Reset Password to the connector
/// on the user (33004), a staging-mode server (no event: nothing reaches it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_on_premises_is_the_servers_event() {
    let (lab, sim, token) = set_up().await;
    let out = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let upn = format!("{USER}@lab.example.test");
    let (status, _) = reset_via_graph(&sim, &token, &upn, "Good-Enough-Passw0rd-42").await;
    assert_eq!(status, "succeeded");
    assert_eq!(last_event_ids(&sim, &token).await[..2], [31010, 31009]);

    let (status, detail) = reset_via_graph(&sim, &token, &upn, "short").await;
    assert_eq!(status, "failed");
    assert!(detail.contains("33008"), "{detail}");
    assert_eq!(last_event_ids(&sim, &token).await, vec![31011, 33008, 31009]);

    // An explicit deny of Reset Password to the connector on the user.
    let (mut admin, disc) = crate::ad_engine::discover(&lab).await;
    let sid = crate::ad_engine::connector_sid(&mut admin, &disc, &lab).await;
    let dn = format!("CN=Writeback Canary,OU=Support,OU=Staff,OU=Corp,{BASE}");
    let before = writeback_ad::writeback::read_dacl(&mut admin, &dn).await.unwrap();
    let mut sd = before.sd.clone();
    let ctx = writeback_ad::sd::SidContext::default();
    let deny =
        writeback_ad::sd::sddl::parse_one_ace(&format!("(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;{sid})"), &ctx)
            .unwrap();
    sd.dacl.as_mut().unwrap().insert_canonical(deny);
    writeback_ad::writeback::write_dacl(&mut admin, &dn, &sd).await.unwrap();
    let (status, detail) = reset_via_graph(&sim, &token, &upn, "Another-Good-Passw0rd-43").await;
    assert_eq!(status, "failed");
    assert!(detail.contains("33004"), "{detail}");
    // `diagnose`: the events explained, and the user they name checked against the DC — the
    // deny named as the ACE that stops the connector.
    let out = cmd(&lab, &sim, &token, &["diagnose", "--json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(code(&out), 0, "{doc:#}");
    assert!(doc["groups"].as_array().unwrap().iter().any(|g| g["key"] == "33004"), "{doc:#}");
    let named = doc["users"].as_array().unwrap().iter().find(|u| u["name"] == upn.as_str()).expect("the user is named");
    assert_eq!(named["dn"], dn.as_str());
    assert_eq!((named["in_scope"].as_bool(), named["protected"].as_bool()), (Some(true), Some(false)));
    assert_eq!(named["reachable"], false, "{named}");
    let verdict = named["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("cannot reach it")
            && verdict.contains(&format!("(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;{sid})")),
        "{verdict}"
    );
    writeback_ad::writeback::write_dacl(&mut admin, &dn, &before.sd).await.unwrap();
    // Reached again once the deny is gone.
    let doc = json(&cmd(&lab, &sim, &token, &["diagnose", "--json"]).output().unwrap());
    let named = doc["users"].as_array().unwrap().iter().find(|u| u["name"] == upn.as_str()).unwrap().clone();
    assert_eq!(named["reachable"], true, "{named}");

    // A staging-mode server runs no writeback: the operation fails and no event is logged.
    let events_before = last_event_ids(&sim, &token).await;
    sim.running.with_sync_engine(|m| m.staging_mode = true);
    let (status, detail) = reset_via_graph(&sim, &token, &upn, "Third-Good-Passw0rd-44").await;
    assert_eq!(status, "failed");
    assert!(detail.contains("staging mode"), "{detail}");
    assert_eq!(last_event_ids(&sim, &token).await, events_before);
    sim.running.with_sync_engine(|m| m.staging_mode = false);
    let out = cmd(&lab, &sim, &token, &["apply", "--disable", "--yes", "--json"]).output().unwrap();
    assert_eq!(code(&out), 0);
}

/// The Troubleshoot task: the sync server's events grouped by what Microsoft says they mean, and
/// the users they name checked against the DC.
#[test]
fn the_wizard_troubleshoots_from_the_sync_servers_events() {
    use crate::gui::{app, click, idle, type_into, wait};
    use egui_kittest::kittest::Queryable;
    use writeback_gui::pages::troubleshoot::words;
    use writeback_gui::wizard::PageId;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (lab, sim, token) = rt.block_on(set_up());
    let out = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let upn = format!("{USER}@lab.example.test");
    // A password the policy refuses: event 33008 naming the user.
    let (status, _) = rt.block_on(reset_via_graph(&sim, &token, &upn, "short"));
    assert_eq!(status, "failed");

    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), crate::gui::lab_args(&lab, &sim, crate::tenant::TENANT));
    // The lab's sync engine answers a signed-in administrator: the sign-in goes through the
    // app's browser, as on Connect to Microsoft Entra ID.
    a.worker().unwrap().set_browser(std::sync::Arc::new(crate::tenant::form_browser(GA)));
    let mut h = crate::forests::tall(a);
    h.step();
    click(&mut h, "Next");
    h.get_by_label(writeback_gui::pages::tasks::words::TROUBLESHOOT).click();
    h.step();
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::ConnectDirectories);
    type_into(&mut h, "Password", lab.password("admin_password_file").expose());
    click(&mut h, "Connect");
    wait(&mut h, "the directory connection", |a| a.wizard().facts.directory_ready && idle(a));
    click(&mut h, "Next");
    assert_eq!(h.state().wizard().page, PageId::Troubleshoot);
    wait(&mut h, "the events", |a| a.pages().troubleshoot().diagnosis().is_some() && idle(a));
    let d = h.state().pages().troubleshoot().diagnosis().cloned().unwrap().unwrap();
    let g = d.groups.iter().find(|g| g.key == "33008").expect("the policy refusal's group");
    h.get_by_label(&words::group(&g.key, g.count, &g.newest, &g.meaning));
    h.get_by_label(&words::remedy(&g.remedy));
    let u = d.users.iter().find(|u| u.name == upn).expect("the user the events name");
    assert_eq!((u.in_scope, u.protected, u.reachable), (Some(true), Some(false), Some(true)), "{u:?}");
    h.get_by_label(&words::user(&u.name, u.events, &u.verdict));
    assert_eq!(h.state().wizard().next_label(), "Exit");
}
