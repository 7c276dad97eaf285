//! `ad check`, `acl show`, `policy test` through the binary, against a lab DC: the contract's JSON,
//! exit codes, and every bad input named with its remedy.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ldap3::Mod;
use writeback_ad::unicode_pwd;

use crate::ad_engine::BASE;
use crate::support::{Fault, LabDc, bin, code, json};

/// The binary with the lab's connection flags and `--json`; the password only in the environment.
fn ad_cmd(lab: &LabDc, user: &str, password: &str, args: &[&str]) -> Command {
    let mut cmd = ad_cmd_to(lab, &lab.field("ldap_url"), &lab.field("tls_name"), user, password, args);
    cmd.arg("--json");
    cmd
}

/// The binary connecting to `url` (the lab DC, or a relay in front of it) and expecting
/// `tls_name` in the certificate, with the lab's CA; no `--json`.
fn ad_cmd_to(lab: &LabDc, url: &str, tls_name: &str, user: &str, password: &str, args: &[&str]) -> Command {
    let mut cmd = bin(lab.home.path());
    cmd.args(args)
        .args(["--ad-url", url, "--ad-ca-file", &lab.field("ca_file"), "--ad-tls-name", tls_name])
        .args(["--ad-user", user])
        .env("WRITEBACK_AD_PASSWORD", password)
        .stdin(Stdio::null());
    cmd
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn admin_password(lab: &LabDc) -> String {
    lab.password("admin_password_file").expose().to_string()
}

#[tokio::test]
async fn ad_check_reports_the_contracts_fields_and_answers_no_for_a_non_enterprise_admin() {
    let lab = LabDc::up();
    // Not named: no account is taken on its MSOL_ name; the candidates are listed.
    let out = ad_cmd(&lab, "LAB\\Administrator", &admin_password(&lab), &["ad", "check"]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert!(doc["connector_account"].is_null(), "{doc}");
    assert_eq!(doc["connector_candidates"][0]["sam_account_name"], lab.field("connector_account").as_str());
    assert!(doc["warnings"].to_string().contains("name it with --connector-account"), "{doc}");
    let connector = lab.field("connector_account");
    let out =
        ad_cmd(&lab, "LAB\\Administrator", &admin_password(&lab), &["ad", "check", "--connector-account", &connector])
            .output()
            .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    for key in [
        "enterprise_admin",
        "domains",
        "password_policy",
        "connector_account",
        "protected_accounts",
        "blocked_inheritance",
        "cannot_change_password",
        "policy_hints_control",
    ] {
        assert!(doc.get(key).is_some(), "{key} missing: {doc}");
    }
    assert_eq!(doc["enterprise_admin"], true);
    assert_eq!(doc["connector_account"]["sam_account_name"], lab.field("connector_account").as_str());
    assert_eq!(doc["password_policy"]["min_length"], 7);
    assert_eq!(doc["blocked_inheritance"], serde_json::json!([format!("OU=Legacy,OU=Corp,{BASE}")]));
    assert_eq!(
        doc["cannot_change_password"],
        serde_json::json!([format!("CN=Kofi Kumah,OU=Support,OU=Staff,OU=Corp,{BASE}")])
    );
    assert_eq!(doc["policy_hints_control"], false);
    assert_eq!(doc["domains"][0]["netbios_name"], "LAB");
    // The lab renews one user's password at every start, under a PSO with a one-day minimum age.
    assert_eq!(doc["min_age_not_reached"], serde_json::json!([format!("{},{BASE}", writeback_lab::seed::RECENT_USER)]));
    // A name that finds nobody is said, and no account is taken for it.
    let out =
        ad_cmd(&lab, "LAB\\Administrator", &admin_password(&lab), &["ad", "check", "--connector-account", "nobody"])
            .output()
            .unwrap();
    let doc = json(&out);
    assert!(doc["connector_account"].is_null(), "{doc}");
    assert!(doc["warnings"].to_string().contains("the connector account 'nobody' was not found"), "{doc}");
    assert_eq!(doc["connector_candidates"][0]["sam_account_name"], lab.field("connector_account").as_str());

    // Ada is a Domain Admin, not an Enterprise Admin: exit 3 and the reason.
    let mut conn = lab.admin().await;
    let ada_pw = writeback_ad::passgen::generate_os(20);
    let ada = format!("CN=Ada Admin,OU=Admins,OU=Corp,{BASE}");
    conn.modify(&ada, vec![Mod::Replace(b"unicodePwd".to_vec(), [unicode_pwd(&ada_pw)].into())], vec![]).await.unwrap();
    let out = ad_cmd(&lab, "ada.admin@lab.example.test", ada_pw.expose(), &["ad", "check"]).output().unwrap();
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["enterprise_admin"], false);
    assert_eq!(doc["domain_admin"], true);
    // The human form says what is missing.
    let (url, name) = (lab.field("ldap_url"), lab.field("tls_name"));
    let out = ad_cmd_to(&lab, &url, &name, "LAB\\ada.admin", ada_pw.expose(), &["ad", "check"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Enterprise Admins: NO")
            && text.contains(&doc["enterprise_admins_sid"].as_str().unwrap().to_string()),
        "{text}"
    );
}

#[tokio::test]
async fn bad_inputs_are_named_with_their_remedy_and_secrets_stay_out_of_logs() {
    let lab = LabDc::up();
    let pw = admin_password(&lab);
    // Wrong password: AD's sub-code in words.
    let out = ad_cmd(&lab, "LAB\\Administrator", "wrong-password", &["ad", "check"]).output().unwrap();
    assert_eq!(code(&out), 1);
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "AD-BIND");
    assert!(
        e["message"].as_str().unwrap().contains("data 52e") || e["message"].as_str().unwrap().contains("52e"),
        "{e}"
    );
    assert!(e["remedy"].as_str().unwrap().contains("password"), "{e}");
    // No password anywhere and no terminal: exit 2 naming the variable.
    let mut cmd = ad_cmd(&lab, "LAB\\Administrator", "x", &["ad", "check"]);
    cmd.env_remove("WRITEBACK_AD_PASSWORD");
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(json(&out)["error"]["remedy"].as_str().unwrap().contains("WRITEBACK_AD_PASSWORD"));
    // No DC given.
    let out = bin(lab.home.path())
        .args(["ad", "check", "--json"])
        .env("WRITEBACK_AD_PASSWORD", "x")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(json(&out)["error"]["remedy"].as_str().unwrap().contains("--ad-url"));
    // A DC URL that is not ldaps:// or ldap://host[:port]: the forms it takes, before any connection.
    for bad in ["https://dc1.lab.example.test", "ldaps://dc1.lab.example.test:sixthreesix", "ldap://"] {
        let out = ad_cmd_to(&lab, bad, "dc1", "LAB\\Administrator", &pw, &["ad", "check", "--json"]).output().unwrap();
        assert_eq!(code(&out), 2, "{bad}");
        let e = &json(&out)["error"];
        assert_eq!(e["code"], "AD-URL", "{bad}: {e}");
        assert!(e["remedy"].as_str().unwrap().contains("ldaps://dc.example.com"), "{e}");
    }
    // A certificate for another name: refused, naming what the DC presented.
    let url = lab.field("ldap_url");
    let out = ad_cmd_to(&lab, &url, "dc9.other.test", "LAB\\Administrator", &pw, &["ad", "check", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "AD-TLS");
    assert!(e["message"].as_str().unwrap().contains("SHA-256"), "{e}");
    // A scope that does not exist.
    let mut cmd = ad_cmd(&lab, "LAB\\Administrator", &pw, &["ad", "check"]);
    cmd.args(["--scope", &format!("OU=Nowhere,{BASE}")]);
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["error"]["code"], "AD-NO-OBJECT");
    // The password never reached the log file (or stdout).
    let logs = std::fs::read_to_string(lab.home.path().join("logs/writeback-wizard.log")).unwrap_or_default();
    assert!(!logs.is_empty());
    assert!(!logs.contains(&pw), "the AD password is in the log file");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&pw));
}

#[tokio::test]
async fn acl_show_and_policy_test() {
    let lab = LabDc::up();
    let pw = admin_password(&lab);
    let sales = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    // Grant on Sales through the library, then look at it.
    let mut conn = lab.admin().await;
    let disc = writeback_ad::directory::discover(&mut conn).await.unwrap();
    let connector = crate::ad_engine::connector_sid(&mut conn, &disc, &lab).await;
    let wanted = writeback_ad::writeback::wanted(writeback_ad::writeback::TargetKind::Scope, &connector);
    writeback_ad::writeback::grant(&mut conn, &sales, &wanted, &connector).await.unwrap();
    let out = ad_cmd(&lab, "LAB\\Administrator", &pw, &["acl", "show", &sales]).output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["dn"], sales.as_str());
    assert!(doc["sddl"].as_str().unwrap().starts_with("D:"));
    let aces = doc["aces"].as_array().unwrap();
    let line = aces
        .iter()
        .find(|a| a["sddl"].as_str().unwrap().contains("00299570-246d-11d0-a768-00aa006e0529;bf967aba"))
        .unwrap();
    assert_eq!(
        line["text"],
        format!(
            "Allow LAB\\{}: extended right Reset Password on descendant user objects",
            lab.field("connector_account")
        )
    );
    assert!(aces.iter().any(|a| a["text"].as_str().unwrap().ends_with("(inherited)")));
    let out =
        ad_cmd(&lab, "LAB\\Administrator", &pw, &["acl", "show", &format!("OU=Nowhere,{BASE}")]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["error"]["code"], "AD-NO-OBJECT");

    // policy test: stdin, exit 0 / 3 / 1 / 2.
    let strong = writeback_ad::passgen::generate_os(16);
    let out = with_stdin(
        ad_cmd(&lab, "LAB\\Administrator", &pw, &["policy", "test", "amir.abbasi"]),
        &format!("{}\n", strong.expose()),
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["acceptable"], true);
    assert!(doc["unknown"].as_array().unwrap().iter().any(|u| u.as_str().unwrap().contains("history")));
    assert_eq!(doc["policy"]["source"]["kind"], "pso");
    let out = with_stdin(
        ad_cmd(&lab, "LAB\\Administrator", &pw, &["policy", "test", "amir.abbasi@lab.example.test"]),
        "Amir-2026-x!",
    );
    assert_eq!(code(&out), 3);
    let rules: Vec<String> =
        json(&out)["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_string()).collect();
    assert_eq!(rules, vec!["too_short", "contains_display_name"]);
    let out =
        with_stdin(ad_cmd(&lab, "LAB\\Administrator", &pw, &["policy", "test", "nobody.here"]), "Whatever-1234567");
    assert_eq!(code(&out), 1);
    assert_eq!(json(&out)["error"]["code"], "AD-NO-ACCOUNT");
    let out = with_stdin(ad_cmd(&lab, "LAB\\Administrator", &pw, &["policy", "test", "amir.abbasi"]), "");
    assert_eq!(code(&out), 2);

    // A password younger than the minimum age: refused (Microsoft's writeback documentation checks
    // the age on a reset), with when it can next change; the rest of the password is fine.
    let out = with_stdin(
        ad_cmd(&lab, "LAB\\Administrator", &pw, &["policy", "test", "olga.olsen"]),
        &format!("{}\n", strong.expose()),
    );
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    let reasons = doc["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{doc}");
    assert_eq!(reasons[0]["rule"], "min_age");
    let text = reasons[0]["text"].as_str().unwrap();
    assert!(
        text.contains("Lab Minimum Age") && text.contains("at least 1 day") && text.contains("can be changed from"),
        "{text}"
    );
    assert!(!doc["unknown"].to_string().contains("minimum password age"), "no longer said not to apply: {doc}");
}

#[tokio::test]
async fn a_dc_dropping_or_stalling_mid_scan_is_named_and_nothing_partial_is_reported() {
    let lab = LabDc::up();
    let pw = admin_password(&lab);
    // Enough objects for more than one page of the paged scan (1000 a page).
    let parent = format!("OU=Pages,{BASE}");
    let mut conn = lab.admin().await;
    conn.add(&parent, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    for i in 0..1200 {
        conn.add(&format!("OU=P{i:04},{parent}"), vec![("objectClass", vec![b"organizationalUnit".to_vec()])])
            .await
            .unwrap();
    }
    // The binary talks to the relay, which talks to the DC (the certificate is the DC's own).
    let name = lab.field("tls_name");
    let via = |url: &str, more: &[&str]| {
        let args: Vec<&str> =
            ["ad", "check", "--scope", &parent, "--json"].into_iter().chain(more.iter().copied()).collect();
        ad_cmd_to(&lab, url, &name, "LAB\\Administrator", &pw, &args).output().unwrap()
    };
    let check = |url: &str| via(url, &[]);
    // Through a relay that never cuts: it works, and tells how many bytes the whole check takes.
    let whole = crate::support::Relay::start(&lab.field("ldap_url"), Fault::None);
    let out = check(&whole.url());
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(json(&out)["scopes"][0] == parent.as_str());
    let total = whole.bytes_from_dc();
    // The scan's pages are most of those bytes: cut half-way and the DC goes away mid-search.
    let cut = crate::support::Relay::start(&lab.field("ldap_url"), Fault::CutAfter(total / 2));
    let out = check(&cut.url());
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    let e = &doc["error"];
    assert_eq!(e["code"], "AD-PROTOCOL", "{e}");
    assert!(e["message"].as_str().unwrap().contains(&format!("paged search of '{parent}'")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("closed before its answer was complete"), "{e}");
    assert!(e["remedy"].as_str().unwrap().contains("Try again"), "{e}");
    assert!(doc.get("users_in_scope").is_none(), "no partial findings are reported as a result: {doc}");
    assert!(cut.bytes_from_dc() >= total / 2);

    // A DC that stops answering half-way, with the connection open: the operation's own timeout
    // (--ad-timeout) ends it, naming the operation and the limit, and the remedy names the flag.
    let stall = crate::support::Relay::start(&lab.field("ldap_url"), Fault::StallAfter(total / 2));
    let started = std::time::Instant::now();
    let out = via(&stall.url(), &["--ad-timeout", "2"]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "AD-TIMEOUT", "{e}");
    assert!(e["message"].as_str().unwrap().contains("did not answer within 2 s"), "{e}");
    assert!(e["remedy"].as_str().unwrap().contains("--ad-timeout"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "the limit ended it, not something else");
    // Out of range: a usage error.
    let out = ad_cmd(&lab, "LAB\\Administrator", &pw, &["ad", "check", "--ad-timeout", "0"]).output().unwrap();
    assert_eq!(code(&out), 2);
}

#[test]
fn a_pinned_certificate_that_changed_is_refused_until_the_new_one_is_given() {
    let lab = LabDc::up();
    let home = lab.home.path();
    let wrong = "ab:".repeat(31) + "ab";
    let run_with = |pin: &str| {
        crate::support::bin(home)
            .args(["ad", "check", "--json", "--ad-url", &lab.field("ldap_url"), "--ad-user", &lab.field("admin_user")])
            .args(["--ad-fingerprint", pin])
            .env("WRITEBACK_AD_PASSWORD", lab.password("admin_password_file").expose())
            .output()
            .unwrap()
    };
    let out = run_with(&wrong);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stdout));
    let e = &json(&out)["error"];
    assert_eq!(e["code"], "AD-CERT-CHANGED");
    assert!(e["message"].as_str().unwrap().contains("has CHANGED since you trusted it"), "{e}");
    // The remedy names the new fingerprint, to be checked on the DC and then given.
    let remedy = e["remedy"].as_str().unwrap();
    let new = remedy.split("--ad-fingerprint ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let out = run_with(&new);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
}
