//! `status`, `plan`, `apply`, `verify` through the binary, against a lab DC and the simulator's
//! sync engine: the contract's JSON and exit codes, and the round trip.

use std::process::{Command, Stdio};

use writeback_ad::writeback;

use crate::ad_engine::BASE;
use crate::support::{LabDc, bin, code, json};
use crate::tenant::{HIA, Sim};

/// The binary on the lab DC and the simulator, the connector account named (never guessed).
pub(crate) fn cmd(lab: &LabDc, sim: &Sim, token: &str, args: &[&str]) -> Command {
    let mut c = cmd_unnamed(lab, sim, token, args);
    c.args(["--connector-account", &lab.field("connector_account")]);
    c
}

/// [`cmd`] with the connector account left to the sync engine.
pub(crate) fn cmd_unnamed(lab: &LabDc, sim: &Sim, token: &str, args: &[&str]) -> Command {
    let mut c = bin(lab.home.path());
    let config = lab.home.path().join("settings.toml");
    c.args(args)
        .args(["--config", config.to_str().unwrap()])
        .args([
            "--ad-url",
            &lab.field("ldap_url"),
            "--ad-ca-file",
            &lab.field("ca_file"),
            "--ad-tls-name",
            &lab.field("tls_name"),
            "--ad-user",
            "LAB\\Administrator",
        ])
        .args(["--cloud", "lab", "--lab-url", sim.running.url(), "--tenant", crate::tenant::TENANT])
        .env("WRITEBACK_AD_PASSWORD", lab.password("admin_password_file").expose())
        .env("WRITEBACK_CONNECTOR_PASSWORD", lab.password("connector_password_file").expose())
        .env("WRITEBACK_ENTRA_TOKEN", token)
        .stdin(Stdio::null());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_plan_apply_verify_round_trip_on_the_command_line() {
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let mut conn = lab.admin().await;
    let before = writeback::read_dacl(&mut conn, BASE).await.unwrap().bytes;
    let run = |args: &[&str]| cmd(&lab, &sim, &token, args).output().unwrap();

    let out = run(&["status", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["state"], "disabled");
    for key in ["state", "tenant", "ad", "sync_engine", "missing"] {
        assert!(doc.get(key).is_some(), "{key}");
    }
    assert_eq!(doc["ad"]["scopes"][0]["dn"], BASE);
    // -v says where the time went: the network round trips, counted.
    let out = run(&["status", "--json", "-v"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.contains("on the network:")).unwrap_or_else(|| panic!("{stderr}"));
    let count = |what: &str| -> u64 {
        let before = line.split(what).next().unwrap();
        before.split_whitespace().last().unwrap().parse().unwrap()
    };
    // Connect, bind, discovery and the DACL reads; /me, roles, licence, organisation and the
    // sync engine's state.
    assert!(count(" LDAP round trips") >= 5, "{line}");
    assert!(count(" HTTPS requests") >= 5, "{line}");

    let out = run(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let plan = json(&out);
    assert_eq!(plan["action"], "enable");
    let ids: Vec<&str> = plan["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["grant-1", "writeback"]);
    // Every breaker the lab seeds is a warning of the plan, in the words `ad check` and the
    // wizard use; none fails a precondition.
    {
        use writeback_ad::scan::{BLOCKED, CANNOT_CHANGE, MIN_AGE, PROTECTED};
        let warnings: Vec<&str> = plan["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
        // Administrator, krbtgt and Ada Admin: however many, the plural line.
        let protected = format!(" {} in scope: {}", PROTECTED.many, PROTECTED.remedy);
        assert!(warnings.iter().any(|w| w.ends_with(&protected)), "{protected}\nnot in {warnings:#?}");
        for expected in [
            format!("{} in scope: {}", BLOCKED.count(1), BLOCKED.remedy),
            format!("{} in scope: {}", CANNOT_CHANGE.count(1), CANNOT_CHANGE.remedy),
            format!("{} in scope: {}", MIN_AGE.count(1), MIN_AGE.remedy),
            writeback_ad::directory::NO_POLICY_HINTS_SAMBA.to_string(),
        ] {
            assert!(warnings.contains(&expected.as_str()), "{expected}\nnot in {warnings:#?}");
        }
    }
    // The tenant check's warnings reach the plan too: a synced account of a federated domain is
    // warned of (event 32009), never refused for being synced.
    let federated = sim.access(("synced@contoso.example", "Syn-Passw0rd!")).await;
    let out = cmd(&lab, &sim, &federated, &["plan", "--enable", "--json"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let warned = json(&out);
    assert!(warned["warnings"].to_string().contains("is in a federated domain (contoso.example)"), "{warned}");
    assert!(warned["preconditions"].as_array().unwrap().iter().all(|p| p["ok"] == true), "{warned}");
    for key in ["id", "description", "target", "change"] {
        assert!(plan["steps"][0].get(key).is_some(), "{key}");
    }
    assert!(
        plan["preconditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["ok"] == true && p.get("check").is_some() && p.get("remedy").is_some())
    );

    // No --yes and no terminal: exit 2 and nothing changed.
    let out = run(&["apply", "--enable"]);
    assert_eq!(code(&out), 2);
    assert_eq!(writeback::read_dacl(&mut conn, BASE).await.unwrap().bytes, before);
    // Neither --enable nor --disable.
    assert_eq!(code(&run(&["apply", "--yes"])), 2);
    // Nothing unfinished to roll back.
    assert_eq!(code(&run(&["apply", "--rollback"])), 2);

    let out = run(&["apply", "--enable", "--yes", "--start-sync", "--canary", "wb.canary", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["applied"], serde_json::json!(["grant-1", "writeback"]));
    assert_eq!((doc["verified"].as_bool(), doc["sync_started"].as_bool()), (Some(true), Some(true)));
    assert_eq!(doc["canary"]["reset"], true);
    assert!(sim.running.sync_engine_writeback());
    // The settings file is not written by an apply at all (no flag persisted behind the user's back).
    let settings = std::fs::read_to_string(lab.home.path().join("settings.toml")).unwrap_or_default();
    // What was granted is recorded in the state folder, beside the journal, not in the settings.
    let record = std::fs::read_to_string(lab.home.path().join("data/writeback-wizard/state/granted.json")).unwrap();
    assert!(record.contains("00299570-246d-11d0-a768-00aa006e0529"), "{record}");
    assert!(!settings.contains("[granted]"), "{settings}");
    assert!(
        !settings.contains("ad_url") && !settings.contains("lab_url"),
        "flags are not persisted behind the user's back: {settings}"
    );

    assert_eq!(json(&run(&["status", "--json"]))["state"], "enabled");
    let out = run(&["verify", "--canary", "wb.canary", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(json(&out)["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true));
    // A second enable changes nothing.
    let out = run(&["apply", "--enable", "--yes", "--json"]);
    assert_eq!(code(&out), 0);
    assert_eq!(json(&out)["applied"], serde_json::json!([]));

    // Disable: byte-identical DACL, writeback off, verify answers no.
    let out = run(&["apply", "--disable", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(writeback::read_dacl(&mut conn, BASE).await.unwrap().bytes, before);
    assert!(!sim.running.sync_engine_writeback());
    assert_eq!(json(&run(&["status", "--json"]))["state"], "disabled");
    assert_eq!(code(&run(&["verify", "--json"])), 3);
    // The audit log holds each change, and no secret.
    let audit = std::fs::read_to_string(lab.home.path().join("data/writeback-wizard/audit.jsonl")).unwrap();
    assert!(audit.lines().count() >= 5);
    assert!(!audit.contains(lab.password("admin_password_file").expose()) && !audit.contains(&token));
}

/// Adds and removes ACEs on `dn` as another administrator would.
async fn meddle(lab: &LabDc, dn: &str, add: &[&str], remove: &[&str]) {
    let mut conn = lab.admin().await;
    let mut d = writeback::read_dacl(&mut conn, dn).await.unwrap();
    let acl = d.sd.dacl.as_mut().unwrap();
    let read = writeback_ad::sd::sddl::persisted::read;
    for a in add {
        acl.insert_canonical(read(a).unwrap());
    }
    for r in remove {
        assert_eq!(acl.remove_exact(&read(r).unwrap()), 1, "{r}");
    }
    writeback::write_dacl(&mut conn, dn, &d.sd).await.unwrap();
}

async fn explicit(lab: &LabDc, dn: &str) -> Vec<String> {
    crate::support::explicit_aces(&mut lab.admin().await, dn).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_after_a_kill_and_a_disable_leave_other_administrators_changes_alone() {
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let scope = format!("OU=Support,OU=Staff,OU=Corp,{BASE}");
    let connector = {
        let mut conn = lab.admin().await;
        let disc = writeback_ad::directory::discover(&mut conn).await.unwrap();
        writeback_ad::directory::find_account(&mut conn, &disc, &lab.field("connector_account"))
            .await
            .unwrap()
            .unwrap()
            .sid
    };
    meddle(&lab, &scope, &["(A;;RP;;;AO)"], &[]).await;
    // The sync engine is slow: the apply is killed (SIGKILL) once its grant is audited.
    sim.running.set_faults(writeback_lab::tenant::Faults { sync_engine_latency_ms: 3000, ..Default::default() });
    let mut child = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json", "--scope", &scope])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let audit = lab.home.path().join("data/writeback-wizard/audit.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&audit).is_ok_and(|t| t.contains("\"grant\"")) {
        assert!(std::time::Instant::now() < deadline, "the grant never happened");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    sim.running.set_faults(writeback_lab::tenant::Faults::default());
    // Meanwhile another administrator adds one ACE and takes away their old one.
    meddle(&lab, &scope, &["(A;;RP;;;PO)"], &["(A;;RP;;;AO)"]).await;
    // What the journal would do is shown first, and nothing runs unconfirmed.
    let out = cmd(&lab, &sim, &token, &["apply", "--rollback", "--json", "--scope", &scope]).output().unwrap();
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stdout));
    let shown = String::from_utf8_lossy(&out.stderr);
    assert!(shown.contains("would be rolled back") && shown.contains(&format!("grant 8 ACE(s) on {scope}")), "{shown}");
    let out = cmd(&lab, &sim, &token, &["apply", "--rollback", "--yes", "--json", "--scope", &scope]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let warnings = json(&out)["warnings"].to_string();
    assert!(warnings.contains("changed by someone else"), "{warnings}");
    let after = explicit(&lab, &scope).await;
    assert!(after.contains(&"(A;;RP;;;PO)".to_string()) && !after.contains(&"(A;;RP;;;AO)".to_string()), "{after:?}");
    assert!(!after.iter().any(|a| a.contains(&connector)), "{after:?}");

    // Enabled in full, then they change the OU again; the disable takes only ours away.
    let out = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json", "--scope", &scope]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    meddle(&lab, &scope, &["(A;;RP;;;AO)"], &["(A;;RP;;;PO)"]).await;
    let out = cmd(&lab, &sim, &token, &["apply", "--disable", "--yes", "--json", "--scope", &scope]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let after = explicit(&lab, &scope).await;
    assert!(after.contains(&"(A;;RP;;;AO)".to_string()) && !after.contains(&"(A;;RP;;;PO)".to_string()), "{after:?}");
    assert!(!after.iter().any(|a| a.contains(&connector)), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_cuts_a_slow_sync_engine_call_off_and_the_undo_finishes_within_30_s() {
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let scope = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    let mut conn = lab.admin().await;
    let before = writeback::read_dacl(&mut conn, &scope).await.unwrap().bytes;
    // Every call to the sync engine takes 8 s: the switch is under way when SIGINT comes.
    sim.running.set_faults(writeback_lab::tenant::Faults { sync_engine_latency_ms: 8000, ..Default::default() });
    let child = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json", "--scope", &scope])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = lab.home.path().join("data/writeback-wizard/state");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    // The grants are made and the switch has begun (its prior value journalled): SIGINT now.
    let switching = || {
        std::fs::read_dir(&state).is_ok_and(|d| {
            d.flatten().any(|e| {
                std::fs::read_to_string(e.path())
                    .is_ok_and(|t| t.lines().any(|l| l.contains("\"begin\"") && l.contains("\"writeback\"")))
            })
        })
    };
    while !switching() {
        assert!(std::time::Instant::now() < deadline, "the switch never began");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sent = std::time::Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let took = sent.elapsed();
    sim.running.set_faults(writeback_lab::tenant::Faults::default());
    assert!(took < std::time::Duration::from_secs(30), "the undo took {took:?}");
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["error"]["code"], "ENGINE-ROLLED-BACK", "{doc}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("cancelled"), "{doc}");
    assert_eq!(writeback::read_dacl(&mut conn, &scope).await.unwrap().bytes, before, "every grant undone");
    assert!(!sim.running.sync_engine_writeback(), "the switch cut off was set back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_is_never_an_account_that_matters_and_names_resolve_exactly() {
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let run = |args: &[&str]| cmd(&lab, &sim, &token, args).output().unwrap();
    let connector = lab.field("connector_account");
    let protected = writeback_lab::seed::ADMIN_SAM;
    for (who, why) in [
        ("Administrator", "the account you are signed in with"),
        (connector.as_str(), "the AD DS connector account"),
        ("krbtgt", "krbtgt"),
        (protected, "adminCount=1"),
        // The DC's own account is a computer's; the Cloud Sync agent's gMSA is no person.
        ("DC1$", "computer"),
        (writeback_lab::seed::CLOUD_SYNC_AGENT_SAM, "managed service account"),
    ] {
        let out = run(&["verify", "--canary", who, "--json"]);
        assert_eq!(code(&out), 2, "{who}: {}", String::from_utf8_lossy(&out.stdout));
        let e = &json(&out)["error"];
        assert_eq!(e["code"], "ENGINE-CANARY-REFUSED", "{who}: {e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{who}: {e}");
    }
    // A member of a privileged group (without adminCount) is refused too, the group named.
    let mut conn = lab.admin().await;
    let member = format!("CN=Backup Op,OU=Support,OU=Staff,OU=Corp,{BASE}");
    conn.add(&member, vec![("objectClass", vec![b"user".to_vec()]), ("sAMAccountName", vec![b"backup.op".to_vec()])])
        .await
        .unwrap();
    conn.modify(
        &format!("CN=Backup Operators,CN=Builtin,{BASE}"),
        vec![ldap3::Mod::Add(b"member".to_vec(), [member.as_bytes().to_vec()].into())],
        vec![],
    )
    .await
    .unwrap();
    let out = run(&["verify", "--canary", "backup.op", "--json"]);
    assert_eq!(code(&out), 2);
    assert!(json(&out)["error"]["message"].as_str().unwrap().contains("Backup Operators"));
    // Groups that can take over a domain though SDProp does not protect them, nested one deep.
    // DnsAdmins comes with a DC's DNS server; a lab provisioned without one lacks it: made here.
    match conn
        .add(
            &format!("CN=DnsAdmins,CN=Users,{BASE}"),
            vec![("objectClass", vec![b"group".to_vec()]), ("sAMAccountName", vec![b"DnsAdmins".to_vec()])],
        )
        .await
    {
        Ok(()) | Err(writeback_ad::AdError::Ldap { rc: 68, .. }) => {}
        Err(e) => panic!("{e}"),
    }
    for (group, sam) in
        [("CN=Group Policy Creator Owners,CN=Users", "gpo.maker"), ("CN=DnsAdmins,CN=Users", "dns.admin")]
    {
        let user = format!("CN={sam},OU=Support,OU=Staff,OU=Corp,{BASE}");
        let nested = format!("CN={sam}-team,OU=Support,OU=Staff,OU=Corp,{BASE}");
        conn.add(
            &user,
            vec![("objectClass", vec![b"user".to_vec()]), ("sAMAccountName", vec![sam.as_bytes().to_vec()])],
        )
        .await
        .unwrap();
        conn.add(&nested, vec![("objectClass", vec![b"group".to_vec()]), ("member", vec![user.as_bytes().to_vec()])])
            .await
            .unwrap();
        conn.modify(
            &format!("{group},{BASE}"),
            vec![ldap3::Mod::Add(b"member".to_vec(), [nested.as_bytes().to_vec()].into())],
            vec![],
        )
        .await
        .unwrap();
        let out = run(&["verify", "--canary", sam, "--json"]);
        assert_eq!(code(&out), 2, "{sam}: {}", String::from_utf8_lossy(&out.stdout));
        let name = group.trim_start_matches("CN=").split(',').next().unwrap();
        assert!(json(&out)["error"]["message"].as_str().unwrap().contains(name), "{sam}: {}", json(&out));
    }
    // DOMAIN\name resolves in that domain; an unknown DOMAIN is named with the forest's domains.
    let out = run(&["verify", "--canary", "NOPE\\wb.canary", "--json"]);
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["error"]["code"], "AD-UNKNOWN-DOMAIN");
    // Without Who-Am-I in its rootDSE (Samba 4.17), ad check says how the bound account was found.
    let out = run(&["ad", "check", "--json"]);
    let doc = json(&out);
    let lists_who_am_i = doc.to_string().contains("1.3.6.1.4.1.4203.1.11.3");
    let said = doc["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("Who-Am-I"));
    assert!(said || lists_who_am_i, "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_from_another_process_is_refused_at_once() {
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let scope = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    // A slow sync engine keeps the first apply (and its lock) going for a while.
    sim.running.set_faults(writeback_lab::tenant::Faults { sync_engine_latency_ms: 6000, ..Default::default() });
    let mut first = cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json", "--scope", &scope])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = lab.home.path().join("data/writeback-wizard/state");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_dir(&state)
        .is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("journal-")))
    {
        assert!(std::time::Instant::now() < deadline, "the first apply never began");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let second =
        cmd(&lab, &sim, &token, &["apply", "--enable", "--yes", "--json", "--scope", &scope]).output().unwrap();
    assert_eq!(code(&second), 1, "{}", String::from_utf8_lossy(&second.stdout));
    assert_eq!(json(&second)["error"]["code"], "ENGINE-BUSY");
    // Refused while the first still runs, not after waiting for its lock.
    assert!(first.try_wait().unwrap().is_none(), "the first apply still holds the lock");
    let first = tokio::task::spawn_blocking(move || first.wait_with_output().unwrap()).await.unwrap();
    sim.running.set_faults(writeback_lab::tenant::Faults::default());
    assert_eq!(code(&first), 0, "{}", String::from_utf8_lossy(&first.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_sync_engine_models_staging_versions_the_scheduler_and_cloud_sync_end_to_end() {
    use serde_json::{Value, json};
    use writeback_ad::sd::sddl::persisted;
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let scope = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    let run_unnamed = |args: &[&str]| {
        let mut c = cmd_unnamed(&lab, &sim, &token, args);
        c.args(["--scope", &scope]);
        c.output().unwrap()
    };
    let run = |args: &[&str]| {
        let mut c = cmd(&lab, &sim, &token, args);
        c.args(["--scope", &scope]);
        c.output().unwrap()
    };
    let engine = format!("{}/lab/sync-engine", sim.running.url());
    let http = reqwest::Client::new();
    let post = |body: Value| {
        let req = http.post(&engine).bearer_auth(&token).json(&body);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let precondition_codes = |plan: &Value| -> Vec<String> {
        plan["preconditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["ok"] == false)
            .filter_map(|p| p["code"].as_str().map(String::from))
            .collect()
    };

    // What was never posted has its defaults; GET returns every field.
    let got: Value = http.get(&engine).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        got,
        json!({"writeback_enabled": false, "last_sync_cycle": null, "staging_mode": false, "sync_cycle_enabled": true,
               "scheduler_suspended": false, "version": "2.5.190.0", "flavour": "adsync", "agent_account": null,
               "ad_connectors": []})
    );

    // Staging mode: enable refused with SYNC-STAGING (exit 3), status shows it, disable is fine.
    let (status, doc) = post(json!({"staging_mode": true})).await;
    assert_eq!((status, &doc["staging_mode"], &doc["writeback_enabled"]), (200, &json!(true), &json!(false)));
    let out = run(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(precondition_codes(&json(&out)), ["SYNC-STAGING"]);
    let out = run(&["status", "--json"]);
    let doc = json(&out);
    assert_eq!(doc["sync_engine"]["staging_mode"], true, "{doc}");
    assert!(doc["sync_engine"]["warnings"].to_string().contains("staging mode"), "{doc}");
    let out = run(&["plan", "--disable", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(precondition_codes(&json(&out)).is_empty());

    // A Connect older than 2.5.79.0: enable refused with SYNC-TOO-OLD; disable and status go through.
    post(json!({"staging_mode": false, "version": "2.4.131.0", "writeback_enabled": true})).await;
    let out = run(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(precondition_codes(&json(&out)), ["SYNC-TOO-OLD"]);
    let out = run(&["apply", "--enable", "--yes", "--json"]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(code(&run(&["status", "--json"])), 0);
    let out = run(&["apply", "--disable", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(!sim.running.sync_engine_writeback(), "the old engine's switch was turned off");

    // A build past its support date, a disabled or suspended scheduler: warnings with remedies.
    post(json!({"version": "2.5.79.0", "sync_cycle_enabled": false, "scheduler_suspended": true})).await;
    let out = run(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let warnings = json(&out)["warnings"].to_string();
    for needle in ["past its end of support (2026-10-23", "SyncCycleEnabled is False", "SchedulerSuspended is True"] {
        assert!(warnings.contains(needle), "{needle}: {warnings}");
    }
    assert!(json(&out)["connector_source"].as_str().unwrap().contains("--connector-account"), "{warnings}");
    // No connector named and none from the sync engine: none is taken on its MSOL_ name.
    let out = run_unnamed(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    let plan = json(&out);
    assert!(plan["connector_source"].is_null(), "{plan}");
    assert!(
        plan["preconditions"].to_string().contains("the AD DS connector account is known"),
        "the plan cannot pass without it: {plan}"
    );
    // A DC without the password-policy-hints control is named in the plan, as in `ad check`.
    let hints = {
        let mut conn = lab.admin().await;
        writeback_ad::directory::discover(&mut conn).await.unwrap().policy_hints()
    };
    assert_eq!(warnings.contains("password-policy-hints control"), !hints, "{warnings}");

    // Cloud Sync: the agent's gMSA is the connector account. The agent set Reset Password itself:
    // it shows as pre-existing, and stays after a disable.
    let (status, doc) =
        post(json!({"flavour": "cloudsync", "version": "2.5.190.0", "sync_cycle_enabled": true, "scheduler_suspended": false}))
            .await;
    assert_eq!((status, doc["agent_account"].as_str()), (200, Some("provAgentgMSA$")));
    let gmsa = {
        let mut conn = lab.admin().await;
        let disc = writeback_ad::directory::discover(&mut conn).await.unwrap();
        let a = writeback_ad::directory::find_account(&mut conn, &disc, "provAgentgMSA$").await.unwrap().unwrap();
        writeback_ad::sd::Sid::parse(&a.sid).unwrap()
    };
    let agents = persisted::text(&writeback::wanted(writeback::TargetKind::Scope, &gmsa)[0].ace);
    meddle(&lab, &scope, &[&agents], &[]).await;
    // What the agent's account lacks comes with Microsoft's own repair for it.
    let out = run_unnamed(&["status", "--json"]);
    let missing = json(&out)["missing"].to_string();
    assert!(missing.contains("Set-AADCloudSyncPermissions -PermissionType PasswordWriteBack"), "{missing}");
    let out = run_unnamed(&["plan", "--enable", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let plan = json(&out);
    assert!(plan["connector_source"].as_str().unwrap().contains("Cloud Sync agent runs as provAgentgMSA$"), "{plan}");
    assert!(plan["preexisting"].to_string().contains(&agents), "{plan}");
    assert!(plan["steps"].to_string().contains(&gmsa.to_string()), "{plan}");
    // Cloud Sync's switch wants a Global or Hybrid Identity Administrator's user name and
    // password, as the real module does: without them nothing changes; with them (the password
    // from the environment).
    let out = run_unnamed(&["apply", "--enable", "--yes", "--json"]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let refused = json(&out);
    assert_eq!(refused["error"]["code"], "ENGINE-ROLLED-BACK", "{refused}");
    assert!(refused["error"]["remedy"].as_str().unwrap().contains("--cloudsync-admin"), "{refused}");
    assert!(!sim.running.sync_engine_writeback());
    let with_admin = |admin: (&str, &str), args: &[&str]| {
        let mut c = cmd_unnamed(&lab, &sim, &token, args);
        c.args(["--scope", &scope, "--cloudsync-admin", admin.0]);
        c.env(writeback_base::secrets::CLOUDSYNC_PASSWORD_ENV, admin.1);
        c.output().unwrap()
    };
    // Microsoft's tutorial enables with a Global Administrator and disables with a Hybrid
    // Identity Administrator.
    let out = with_admin(crate::tenant::GA, &["apply", "--enable", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(sim.running.sync_engine_writeback());
    let out = with_admin(crate::tenant::HIA, &["apply", "--disable", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let after = explicit(&lab, &scope).await;
    assert_eq!(after.iter().filter(|a| a.contains(&gmsa.to_string())).count(), 1, "only the agent's own: {after:?}");
    assert!(after.contains(&agents), "{after:?}");

    // What the lab engine does not model is refused, and says what it takes.
    let (status, doc) = post(json!({"flavour": "dirsync"})).await;
    assert_eq!(status, 400, "{doc}");
    assert!(doc.to_string().contains("neither adsync nor cloudsync"), "{doc}");
}

/// At a terminal (script(1) gives the binary one), the directory's password is asked first and
/// the tenant's device code only once it is answered — the two sign-ins run at once, their
/// questions never interleave — and a directory that refuses the password ends the run before
/// the tenant asks anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_a_terminal_the_directory_asks_first_and_the_tenant_only_after_it() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    let lab = LabDc::up();
    let sim = Sim::hybrid().await;
    sim.running.set_faults(writeback_lab::tenant::Faults { device_code_interval_secs: 1, ..Default::default() });
    let good = lab.password("admin_password_file").expose().to_string();
    const ASKED: &str = "Password for the Active Directory account";
    const DEVICE: &str = "enter the code ";
    for (typed, accepted) in [("Not-the-Passw0rd", false), (good.as_str(), true)] {
        let mut c = cmd(&lab, &sim, "", &["status"]);
        c.args(["--client-id", crate::tenant::APP]);
        let quoted: Vec<String> = std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| format!("'{}'", a.to_string_lossy().replace('\'', r"'\''")))
            .collect();
        let mut script = Command::new("script");
        script.args(["-qec", &quoted.join(" "), "/dev/null"]);
        crate::support::envs_from(&mut script, &c);
        script.env_remove("WRITEBACK_AD_PASSWORD").env_remove("WRITEBACK_ENTRA_TOKEN");
        let mut child = script.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let seen = Arc::new(Mutex::new(String::new()));
        let mut out = child.stdout.take().unwrap();
        let tape = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                tape.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let wait_for = |what: &str| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !seen.lock().unwrap().contains(what) {
                assert!(std::time::Instant::now() < deadline, "no {what:?} in {:?}", seen.lock().unwrap());
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        };
        wait_for(ASKED);
        assert!(!seen.lock().unwrap().contains(DEVICE), "the tenant asked while the directory was asking");
        let mut stdin = child.stdin.take().unwrap();
        let answered = seen.lock().unwrap().len();
        stdin.write_all(format!("{typed}\n").as_bytes()).unwrap();
        if accepted {
            wait_for(DEVICE);
            let text = seen.lock().unwrap().clone();
            assert!(text.find(DEVICE) > Some(answered), "the tenant asked before the directory had its answer: {text}");
            let code = text.split(DEVICE).nth(1).unwrap().split_whitespace().next().unwrap().to_string();
            crate::tenant::device_login(&sim, &code, HIA, "approve").await;
            let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
            assert!(status.success(), "{}", seen.lock().unwrap());
            assert!(seen.lock().unwrap().contains("Password writeback:"), "{}", seen.lock().unwrap());
        } else {
            let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
            let text = seen.lock().unwrap().clone();
            assert!(!status.success(), "{text}");
            assert!(!text.contains(DEVICE), "the tenant asked after the directory refused the password: {text}");
            assert_eq!(text.matches(ASKED).count(), 1, "{text}");
        }
        drop(stdin);
    }
}
