//! A forest by its name and Kerberos, sealed, against the lab DC's own KDC and DNS server: found
//! through DNS SRV, signed in to with typed credentials (a ticket in the process's memory only)
//! or an existing ticket, the whole procedure on a DC with no certificate, every refusal
//! Kerberos gives named with its remedy, and — with a byte recorder between the product and the
//! DC — nothing readable on the wire. Each command runs where the lab's DNS server answers (a
//! private mount namespace with the lab's resolv.conf) and `KRB5_CONFIG` names the lab's KDC.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::ad_engine::BASE;
use crate::support::{LabDc, Relay, bin, code, json};
use crate::tenant::{HIA, Sim};

const FOREST: &str = "lab.example.test";

/// The binary, as the lab's administrator by name and password, for the forest by its name.
fn as_admin(lab: &LabDc, args: &[&str]) -> Command {
    let mut c = bin(lab.home.path());
    c.args(args)
        .args(["--config", lab.home.path().join("settings.toml").to_str().unwrap()])
        .args(["--ad-user", "LAB\\Administrator"])
        .env("WRITEBACK_AD_PASSWORD", lab.password("admin_password_file").expose());
    c
}

fn run_in(lab: &LabDc, cmd: &Command) -> Output {
    lab.in_lab_dns(cmd).output().unwrap()
}

fn error_of(out: &Output) -> serde_json::Value {
    json(out)["error"].clone()
}

/// `kinit` into the test's own ticket cache, the password on stdin.
fn kinit(lab: &LabDc, principal: &str, password: &str) {
    let mut k = Command::new("kinit");
    k.arg(principal);
    let mut child =
        lab.in_lab_dns(&k).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kinit: {}", String::from_utf8_lossy(&out.stderr));
}

/// The DACL of `dn` as the DC holds it (SD_FLAGS=4), read by OpenLDAP's ldapsearch with the
/// ticket in the test's cache — a reader that is not the product.
fn dacl_bytes(lab: &LabDc, dn: &str) -> Vec<u8> {
    let mut s = Command::new("ldapsearch");
    s.args(["-LLL", "-Q", "-Y", "GSSAPI", "-O", "maxssf=256", "-N", "-o", "ldif-wrap=no"])
        .args(["-H", &format!("ldap://{}", lab.field("dc_host")), "-s", "base", "-b", dn])
        .args(["-E", "!1.2.840.113556.1.4.801=::MAMCAQQ=", "nTSecurityDescriptor"]);
    let out = lab.in_lab_dns(&s).output().unwrap();
    assert!(out.status.success(), "ldapsearch: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let b64 = text.lines().find_map(|l| l.strip_prefix("nTSecurityDescriptor:: ")).expect("a descriptor");
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64.trim()).unwrap()
}

#[test]
fn a_forest_is_found_by_name_and_signed_in_to_with_kerberos_sealed() {
    let lab = LabDc::up_with(&["--no-tls"]);
    assert_eq!(lab.info["tls"], false);
    assert!(lab.field("ldap_url").starts_with("ldap://"));
    let out = run_in(&lab, as_admin(&lab, &["ad", "check", "--forest", FOREST, "--json", "-v"]).stderr(Stdio::piped()));
    assert_eq!(code(&out), 0, "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    let c = &doc["connection"];
    assert_eq!(
        (c["dc"].as_str(), c["auth"].as_str(), c["layer"].as_str()),
        (Some("dc1.lab.example.test"), Some("kerberos"), Some("sealed")),
        "{c}"
    );
    assert_eq!(c["discovery"]["record"], "_ldap._tcp.dc._msdcs.lab.example.test");
    assert_eq!(c["discovery"]["dns_servers"][0], lab.field("dns_server"));
    assert!(c["kerberos_not_used"].is_null());
    assert_eq!(doc["enterprise_admin"], true);
    // -v says how long finding the DC took, and how the connection is protected.
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("domain controllers located") && log.contains("took_ms"), "{log}");
    assert!(log.contains("dc1.lab.example.test · Kerberos · sealed"), "{log}");
    // The ticket was kept in the process's memory: the user's ticket cache was never written.
    assert!(!lab.ticket_cache().exists(), "a ticket cache was written");
    // `status` says the same.
    let out = run_in(
        &lab,
        &as_admin(
            &lab,
            &["status", "--forest", FOREST, "--connector-account", &lab.field("connector_account"), "--json"],
        ),
    );
    assert_eq!(json(&out)["ad"]["connection"]["layer"], "sealed", "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_procedure_runs_on_a_dc_without_a_certificate() {
    let lab = LabDc::up_with(&["--no-tls"]);
    let sim = Sim::hybrid().await;
    let token = sim.access(HIA).await;
    let run = |args: &[&str]| {
        let mut c = as_admin(&lab, args);
        c.args(["--forest", FOREST, "--connector-account", &lab.field("connector_account")])
            .args(["--cloud", "lab", "--lab-url", sim.running.url(), "--tenant", crate::tenant::TENANT])
            .env("WRITEBACK_CONNECTOR_PASSWORD", lab.password("connector_password_file").expose())
            .env("WRITEBACK_ENTRA_TOKEN", &token);
        run_in(&lab, &c)
    };
    kinit(&lab, "Administrator@LAB.EXAMPLE.TEST", lab.password("admin_password_file").expose());
    let targets = [BASE.to_string(), format!("CN=AdminSDHolder,CN=System,{BASE}")];
    let before: Vec<Vec<u8>> = targets.iter().map(|dn| dacl_bytes(&lab, dn)).collect();
    let out = run(&["apply", "--enable", "--yes", "--canary", "wb.canary", "--json"]);
    assert_eq!(code(&out), 0, "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["verified"], true, "{doc}");
    // The canary signed in as the connector account with Kerberos too, and reset a password
    // over the sealed connection.
    assert_eq!(doc["canary"]["reset"], true, "{doc}");
    assert_ne!(dacl_bytes(&lab, BASE), before[0], "the grant is on the domain root");
    let out = run(&["apply", "--disable", "--yes", "--json"]);
    assert_eq!(code(&out), 0, "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let after: Vec<Vec<u8>> = targets.iter().map(|dn| dacl_bytes(&lab, dn)).collect();
    assert_eq!(after, before, "byte for byte as before");
}

#[test]
fn an_existing_ticket_signs_in_as_the_signed_in_user() {
    let lab = LabDc::up_with(&["--no-tls"]);
    let current = |lab: &LabDc| {
        let mut c = bin(lab.home.path());
        c.args(["ad", "check", "--forest", FOREST, "--ad-current-user", "--json"]);
        run_in(lab, &c)
    };
    // No ticket yet: said, with how to get one.
    let out = current(&lab);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let e = error_of(&out);
    assert_eq!(e["code"], "AD-KERBEROS-NO-TICKET", "{e}");
    assert!(e["remedy"].as_str().unwrap().contains("kinit"), "{e}");
    kinit(&lab, "Administrator@LAB.EXAMPLE.TEST", lab.password("admin_password_file").expose());
    let out = current(&lab);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["account"], format!("CN=Administrator,CN=Users,{BASE}"));
    assert_eq!(doc["connection"]["account"], "lab.example.test\\Administrator");
    assert_eq!(doc["connection"]["layer"], "sealed");
}

#[test]
fn kerberos_goes_over_ldaps_where_the_dc_has_a_certificate() {
    let lab = LabDc::up();
    let url = format!("ldaps://{}", lab.field("dc_host"));
    let ldaps = |lab: &LabDc| {
        let out = run_in(
            lab,
            &as_admin(lab, &["ad", "check", "--ad-url", &url, "--ad-ca-file", &lab.field("ca_file"), "--json"]),
        );
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
        json(&out)["connection"].clone()
    };
    // Samba 4.17 by default takes Kerberos over TLS only with a security layer, which TLS rules
    // out: the product signs in sealed on 389 of the same DC instead, and says so.
    let c = ldaps(&lab);
    assert_eq!(
        (c["auth"].as_str(), c["layer"].as_str(), c["url"].as_str()),
        (Some("kerberos"), Some("sealed"), Some("ldap://dc1.lab.example.test:389")),
        "{c}"
    );
    // A DC that takes SASL over TLS (as AD does, checking the channel binding when it is made to):
    // Kerberos inside LDAPS, the tls-server-end-point binding sent.
    let mut lab = lab;
    lab.reconfigure("ldap server require strong auth = allow_sasl_over_tls", &[]);
    let c = ldaps(&lab);
    assert_eq!(
        (c["auth"].as_str(), c["layer"].as_str(), c["certificate"].as_str()),
        (Some("kerberos"), Some("ldaps"), Some("ca_file")),
        "{c}"
    );
    // Asked for, a password over TLS instead.
    let out = run_in(
        &lab,
        &as_admin(
            &lab,
            &["ad", "check", "--ad-url", &url, "--ad-ca-file", &lab.field("ca_file"), "--ad-simple-bind", "--json"],
        ),
    );
    let c = &json(&out)["connection"];
    assert_eq!((c["auth"].as_str(), c["layer"].as_str()), (Some("password"), Some("ldaps")), "{c}");
    // No KDC to be had (a workgroup machine): the password goes over TLS, and the output says why.
    let dead = lab.home.path().join("no-kdc.conf");
    std::fs::write(
        &dead,
        std::fs::read_to_string(lab.field("krb5_conf"))
            .unwrap()
            .replace(&format!("kdc = {}", lab.field("dns_server")), "kdc = 127.0.0.1:9"),
    )
    .unwrap();
    let mut c = lab.in_lab_dns(&as_admin(
        &lab,
        &["ad", "check", "--forest", FOREST, "--ad-ca-file", &lab.field("ca_file"), "--json"],
    ));
    c.env("KRB5_CONFIG", &dead);
    let out = c.output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let c = &json(&out)["connection"];
    assert_eq!((c["auth"].as_str(), c["layer"].as_str()), (Some("password"), Some("ldaps")), "{c}");
    assert!(c["kerberos_not_used"].as_str().unwrap().contains("no Kerberos KDC could be reached"), "{c}");
}

/// Proof of sealing: a recorder between the product and the DC sees neither a DN nor an
/// attribute value the product read — and, as the control, the same read unprotected (a lab DC
/// that allows simple binds in the clear) does put them on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_readable_crosses_the_wire_of_a_sealed_connection() {
    let mut lab = LabDc::up_with(&["--no-tls"]);
    let relay = Relay::start(&format!("ldap://{}", lab.field("dns_server")), crate::support::Fault::None);
    // By the relay's address: the SPN is the DC's own name, from its rootDSE.
    let url = format!("ldap://{}", relay.addr);
    let out = run_in(&lab, &as_admin(&lab, &["ad", "check", "--ad-url", &url, "--json"]));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["connection"]["layer"], "sealed");
    let protected = doc["protected_accounts"][0].as_str().unwrap().to_string();
    assert!(protected.starts_with("CN=Ada Admin,"), "{doc}");
    assert!(relay.bytes_from_dc() > 10_000, "the scan went through the relay");
    for secret in [
        protected.as_str(),
        "Ada Admin",
        "Writeback Canary",
        "OU=Engineering",
        lab.password("admin_password_file").expose(),
    ] {
        assert!(!relay.saw(secret), "{secret:?} crossed the wire readable");
    }
    // The control: the same DC allowing simple binds in the clear, the same read unprotected.
    lab.reconfigure("ldap server require strong auth = no", &["--no-tls"]);
    let relay = Relay::start(&format!("ldap://{}", lab.field("dns_server")), crate::support::Fault::None);
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&format!("ldap://{}", relay.addr)).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind("LAB\\Administrator", lab.password("admin_password_file").expose())
        .await
        .unwrap()
        .success()
        .unwrap();
    let (found, _) = ldap
        .search(&protected, ldap3::Scope::Base, "(objectClass=*)", vec!["displayName"])
        .await
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(relay.saw(&protected) && relay.saw("Ada Admin"), "the recorder sees what is not sealed");
    assert!(relay.saw(lab.password("admin_password_file").expose()), "and a simple bind's password");
}

#[test]
fn every_refusal_kerberos_gives_is_named_with_its_remedy() {
    let lab = LabDc::up_with(&["--no-tls"]);
    let check = |user: &str, password: &str, extra: &[&str]| {
        let mut c = bin(lab.home.path());
        c.args(["ad", "check", "--ad-user", user, "--json"]).args(extra).env("WRITEBACK_AD_PASSWORD", password);
        if !extra.contains(&"--ad-url") && !extra.contains(&"--forest") {
            c.args(["--forest", FOREST]);
        }
        c
    };
    let refused = |out: &Output, code_: &str, says: &[&str]| {
        let e = error_of(out);
        assert_eq!(e["code"], code_, "{e}");
        let text = format!("{} {}", e["message"], e["remedy"]);
        for s in says {
            assert!(text.contains(s), "{s:?} not in {e}");
        }
    };
    let admin_pw = lab.password("admin_password_file");
    // A wrong password: the KDC's own words.
    refused(
        &run_in(&lab, &check("LAB\\Administrator", "not-the-password", &[])),
        "AD-KERBEROS-PASSWORD",
        &["KDC_ERR_PREAUTH_FAILED", "Preauthentication failed"],
    );
    // No such account.
    refused(
        &run_in(&lab, &check("LAB\\nobody.here", "x", &[])),
        "AD-KERBEROS-UNKNOWN-USER",
        &["KDC_ERR_C_PRINCIPAL_UNKNOWN", "nobody.here@LAB.EXAMPLE.TEST"],
    );
    // A disabled account, and one whose password has expired (made so by the administrator over
    // a sealed connection of the product's own library is not at hand here: ldapmodify with the
    // administrator's ticket does it).
    kinit(&lab, "Administrator@LAB.EXAMPLE.TEST", admin_pw.expose());
    let modify = |ldif: &str| {
        let mut m = Command::new("ldapmodify");
        m.args(["-Q", "-Y", "GSSAPI", "-O", "maxssf=256", "-N", "-H", &format!("ldap://{}", lab.field("dc_host"))]);
        let mut child =
            lab.in_lab_dns(&m).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "ldapmodify: {}", String::from_utf8_lossy(&out.stderr));
    };
    let connector = lab.field("connector_account");
    let connector_pw = lab.password("connector_password_file");
    let connector_dn = format!("CN={connector},CN=Users,{BASE}");
    modify(&format!("dn: {connector_dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n"));
    refused(
        &run_in(&lab, &check(&format!("LAB\\{connector}"), connector_pw.expose(), &[])),
        "AD-KERBEROS-REVOKED",
        &["KDC_ERR_CLIENT_REVOKED"],
    );
    modify(&format!(
        "dn: {connector_dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 512\n-\nreplace: pwdLastSet\npwdLastSet: 0\n"
    ));
    refused(
        &run_in(&lab, &check(&format!("LAB\\{connector}"), connector_pw.expose(), &[])),
        "AD-KERBEROS-EXPIRED",
        &["KDC_ERR_KEY_EXPIRED"],
    );
    // The DC known by a name its SPN does not carry: the SPN named, with setspn.
    let url = format!("ldap://{}", lab.field("dns_server"));
    refused(
        &run_in(
            &lab,
            &check(
                "LAB\\Administrator",
                admin_pw.expose(),
                &["--ad-url", &url, "--ad-tls-name", "alias.lab.example.test"],
            ),
        ),
        "AD-KERBEROS-SPN",
        &["ldap/alias.lab.example.test", "setspn"],
    );
    // Clocks apart (this process an hour ahead, and a krb5.conf that does not follow the KDC's
    // clock, as Windows does not): both times said.
    let strict = lab.home.path().join("strict.conf");
    std::fs::write(
        &strict,
        std::fs::read_to_string(lab.field("krb5_conf")).unwrap().replacen(
            "[libdefaults]\n",
            "[libdefaults]\n\tkdc_timesync = 0\n",
            1,
        ),
    )
    .unwrap();
    let mut skewed = Command::new("faketime");
    let inner = check("LAB\\Administrator", admin_pw.expose(), &[]);
    skewed.args(["-f", "+1h"]).arg(inner.get_program()).args(inner.get_args());
    crate::support::envs_from(&mut skewed, &inner);
    let mut skewed = lab.in_lab_dns(&skewed);
    skewed.env("KRB5_CONFIG", &strict);
    refused(
        &skewed.output().unwrap(),
        "AD-KERBEROS-SKEW",
        &["KRB_AP_ERR_SKEW", "this machine's clock says", "the domain controller's"],
    );
    // No KDC, and no TLS to fall back to: Kerberos's reason, not a password in the clear.
    let dead = lab.home.path().join("no-kdc.conf");
    std::fs::write(
        &dead,
        std::fs::read_to_string(lab.field("krb5_conf"))
            .unwrap()
            .replace(&format!("kdc = {}", lab.field("dns_server")), "kdc = 127.0.0.1:9"),
    )
    .unwrap();
    let mut c = lab.in_lab_dns(&check("LAB\\Administrator", admin_pw.expose(), &[]));
    c.env("KRB5_CONFIG", &dead);
    refused(&c.output().unwrap(), "AD-KERBEROS-NO-KDC", &["Cannot contact any KDC", "port 88"]);
    // A forest DNS does not know: the record asked for and the servers asked.
    refused(
        &run_in(&lab, &check("LAB\\Administrator", admin_pw.expose(), &["--forest", "nosuch.example.test"])),
        "AD-NO-SRV",
        &["_ldap._tcp.dc._msdcs.nosuch.example.test", &lab.field("dns_server")],
    );
    // A DN cannot sign in with Kerberos, and a DC without TLS takes no password.
    refused(
        &run_in(&lab, &check(&format!("CN=Administrator,CN=Users,{BASE}"), admin_pw.expose(), &[])),
        "AD-KERBEROS-NAME",
        &["DOMAIN\\\\user"],
    );
    // Asked for a password, a DC without TLS gets none: the connection fails before a bind.
    let out = run_in(&lab, &check("LAB\\Administrator", admin_pw.expose(), &["--ad-simple-bind"]));
    assert_eq!(code(&out), 1);
    assert!(!error_of(&out)["code"].as_str().unwrap().starts_with("AD-BIND"), "{}", error_of(&out));
}

/// The wizard's Connect your directories with the forest's name and Kerberos. The wizard runs in
/// this test process, so the test runs itself again inside the lab's DNS namespace with the
/// lab's krb5.conf (the variable names the lab's `lab up` document; the passwords stay in the
/// lab's files).
#[test]
fn the_wizard_signs_in_to_a_forest_by_name_with_kerberos() {
    const INSIDE: &str = "WRITEBACK_TEST_LAB_INFO";
    let Some(info) = std::env::var_os(INSIDE) else {
        let lab = LabDc::up_with(&["--no-tls"]);
        let mut me = Command::new(std::env::current_exe().unwrap());
        me.args(["--exact", "kerberos::the_wizard_signs_in_to_a_forest_by_name_with_kerberos", "--nocapture"])
            .env(INSIDE, lab.info.to_string());
        let out = run_in(&lab, &me);
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && said.contains("1 passed"), "{said}");
        return;
    };
    use crate::gui::{app, click, harness, idle, type_into, wait};
    use egui_kittest::kittest::Queryable;
    let info: serde_json::Value = serde_json::from_str(info.to_str().unwrap()).unwrap();
    let password = std::fs::read_to_string(info["admin_password_file"].as_str().unwrap()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut h = harness(app(home.path(), writeback_core::config::SettingsOverlay::default()));
    h.step();
    click(&mut h, "Next");
    h.get_by_label("View current configuration").click();
    h.step();
    click(&mut h, "Next");
    type_into(&mut h, "Forest", FOREST);
    type_into(&mut h, "Username", "LAB\\Administrator");
    type_into(&mut h, "Password", password.trim_end());
    click(&mut h, "Connect");
    wait(&mut h, "the connection", |a| idle(a) && a.pages().directories().directory().is_some());
    let d = h.state().pages().directories().directory().unwrap().clone();
    assert_eq!(d.connection, "dc1.lab.example.test · Kerberos · sealed");
    assert!(d.enterprise_admin);
    h.get_by_label("Connection: dc1.lab.example.test · Kerberos · sealed");
    // The forest is remembered for the next run, never the password.
    let saved = std::fs::read_to_string(home.path().join("settings.toml")).unwrap_or_default();
    assert!(!saved.contains(password.trim_end()));
}
