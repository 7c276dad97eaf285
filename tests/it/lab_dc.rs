//! `lab up|down|status` against real Samba DCs.

use std::collections::HashSet;

use ldap3::Scope;
use writeback_ad::{AdConnection, AdError, ConnectOptions, TlsTrust};
use writeback_lab::seed;

use crate::support::{LabDc, alive, code, json};

const BASE: &str = "DC=lab,DC=example,DC=test";

fn first(entries: &[ldap3::SearchEntry], attr: &str) -> Option<String> {
    entries.first().and_then(|e| e.attrs.get(attr)).and_then(|v| v.first()).cloned()
}

#[tokio::test]
async fn lab_up_prints_the_contract_and_serves_ldaps_with_the_printed_trust() {
    let lab = LabDc::up();
    let keys: HashSet<&str> = lab.info.as_object().unwrap().keys().map(String::as_str).collect();
    let want: HashSet<&str> = [
        "dir",
        "ldap_url",
        "tls_name",
        "ca_file",
        "base_dn",
        "admin_user",
        "admin_password_file",
        "connector_account",
        "connector_password_file",
        "canary_user",
        "tls",
        "forest",
        "dc_host",
        "realm",
        "dns_server",
        "krb5_conf",
        "resolv_conf",
    ]
    .into();
    assert_eq!(keys, want);
    assert!(lab.field("ldap_url").starts_with("ldaps://127.0.0."), "{}", lab.info);
    assert_eq!(lab.field("base_dn"), BASE);

    // Password files: owner-only, generated (not the same in two labs, see the parallel test).
    for key in ["admin_password_file", "connector_password_file"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(lab.field(key)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
        assert!(lab.password(key).expose().len() >= 20);
        // Exactly the password: OpenLDAP's `-y FILE` reads every byte, a newline included.
        let bytes = std::fs::read(lab.field(key)).unwrap();
        assert_eq!(bytes, lab.password(key).expose().as_bytes(), "{key} holds exactly the password");
    }

    // Bound as the admin over LDAPS, trusting only the printed CA for the printed name.
    let mut conn = lab.admin().await;
    let root = conn.root_dse().await.unwrap();
    assert_eq!(root["defaultNamingContext"], vec![BASE.to_string()]);
    assert!(root["vendorName"][0].starts_with("Samba Team"), "{:?}", root["vendorName"]);

    // An independent TLS client agrees: openssl verifies the chain and the name.
    let host = lab.field("ldap_url").trim_start_matches("ldaps://").to_string();
    let out = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &format!("{host}:636"), "-CAfile", &lab.field("ca_file")])
        .args(["-verify_hostname", &lab.field("tls_name"), "-verify_return_error", "-brief"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Verification: OK"), "openssl said:\n{text}");

    // The seeded company.
    for ou in seed::OUS {
        assert!(conn.read(&format!("{ou},{BASE}"), &["ou"]).await.unwrap().is_some(), "{ou}");
    }
    let people = conn
        .search(
            &format!("OU=Corp,{BASE}"),
            Scope::Subtree,
            "(&(objectCategory=person)(objectClass=user))",
            &["sAMAccountName", "displayName"],
        )
        .await
        .unwrap();
    let sams: HashSet<String> = people.iter().filter_map(|e| e.attrs.get("sAMAccountName")?.first().cloned()).collect();
    for (given, surname, ou) in seed::STAFF {
        let sam = seed::sam_account_name(given, surname);
        assert!(sams.contains(&sam), "{sam} missing");
        let found = conn
            .search(&format!("{ou},{BASE}"), Scope::OneLevel, &format!("(sAMAccountName={sam})"), &["displayName"])
            .await
            .unwrap();
        assert_eq!(first(&found, "displayName"), Some(format!("{given} {surname}")));
    }
    assert_eq!(sams.len(), seed::STAFF.len() + 2, "staff + canary + protected admin: {sams:?}");

    // The connector: MSOL_ + 12 hex, in CN=Users (outside the user OUs), its password works.
    let connector = lab.field("connector_account");
    assert!(
        connector.len() == 17
            && connector.starts_with("MSOL_")
            && connector[5..].chars().all(|c| c.is_ascii_hexdigit()),
        "{connector}"
    );
    let c = conn
        .search(
            &format!("CN=Users,{BASE}"),
            Scope::OneLevel,
            &format!("(sAMAccountName={connector})"),
            &["description"],
        )
        .await
        .unwrap();
    assert!(first(&c, "description").unwrap().contains("Azure Active Directory Connect"));
    let mut as_connector =
        AdConnection::connect(&ConnectOptions::new(lab.field("ldap_url"), lab.trust())).await.unwrap();
    as_connector.bind(&format!("LAB\\{connector}"), &lab.password("connector_password_file")).await.unwrap();
    as_connector.close().await;

    // The canary.
    let canary = conn
        .search(BASE, Scope::Subtree, &format!("(sAMAccountName={})", lab.field("canary_user")), &["cn"])
        .await
        .unwrap();
    assert_eq!(canary.len(), 1);

    // The PSO applies to the Finance group, so to a Finance user and not to a Sales user.
    let pso_dn = format!("{},{BASE}", seed::PSO);
    let pso = conn.read(&pso_dn, &["msDS-PSOAppliesTo", "msDS-MinimumPasswordLength"]).await.unwrap().unwrap();
    assert_eq!(pso.attrs["msDS-PSOAppliesTo"], vec![format!("{},{BASE}", seed::PSO_GROUP)]);
    assert_eq!(pso.attrs["msDS-MinimumPasswordLength"], vec![seed::PSO_MIN_LENGTH.to_string()]);
    let finance =
        conn.search(BASE, Scope::Subtree, "(sAMAccountName=amir.abbasi)", &["msDS-ResultantPSO"]).await.unwrap();
    assert_eq!(first(&finance, "msDS-ResultantPSO"), Some(pso_dn));
    let sales =
        conn.search(BASE, Scope::Subtree, "(sAMAccountName=alice.archer)", &["msDS-ResultantPSO"]).await.unwrap();
    assert_eq!(first(&sales, "msDS-ResultantPSO"), None);

    // The protected account: adminCount=1 and in Domain Admins.
    let admin = conn.read(&format!("{},{BASE}", seed::ADMIN_USER), &["adminCount", "memberOf"]).await.unwrap().unwrap();
    assert_eq!(admin.attrs["adminCount"], vec!["1".to_string()]);
    assert!(admin.attrs["memberOf"].contains(&format!("CN=Domain Admins,CN=Users,{BASE}")));

    // The OU with a protected DACL.
    let sd = conn
        .search_with(
            &format!("{},{BASE}", seed::PROTECTED_OU),
            Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![writeback_ad::sd_flags_control(writeback_ad::SD_FLAGS_DACL)],
        )
        .await
        .unwrap();
    let bytes = &sd[0].bin_attrs["nTSecurityDescriptor"][0];
    let control = u16::from_le_bytes([bytes[2], bytes[3]]);
    assert_ne!(control & seed::SE_DACL_PROTECTED, 0, "control {control:#06x}");
    let open = conn
        .search_with(
            &format!("OU=Staff,OU=Corp,{BASE}"),
            Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![writeback_ad::sd_flags_control(4)],
        )
        .await
        .unwrap();
    let b = &open[0].bin_attrs["nTSecurityDescriptor"][0];
    assert_eq!(u16::from_le_bytes([b[2], b[3]]) & seed::SE_DACL_PROTECTED, 0, "only the Legacy OU is protected");
    conn.close().await;
}

#[tokio::test]
async fn tls_trust_is_enforced_name_ca_and_pin() {
    let lab = LabDc::up();
    let url = lab.field("ldap_url");
    // Wrong expected name: refused, and the error shows what the DC presented.
    let wrong_name = TlsTrust { tls_name: Some("dc9.elsewhere.test".into()), ..lab.trust() };
    let err = AdConnection::connect(&ConnectOptions::new(url.clone(), wrong_name)).await.unwrap_err();
    assert!(matches!(err, AdError::TlsHandshake { presented: Some(_), .. }), "{err}");
    // System roots do not know the lab CA.
    let system = TlsTrust { ca_file: None, ..lab.trust() };
    assert!(matches!(
        AdConnection::connect(&ConnectOptions::new(url.clone(), system)).await.unwrap_err(),
        AdError::TlsHandshake { .. }
    ));
    // Pinning the presented certificate works without CA or name; a wrong pin does not.
    let presented = {
        let conn = AdConnection::connect(&ConnectOptions::new(url.clone(), lab.trust())).await.unwrap();
        conn.presented_fingerprint().unwrap()
    };
    let pinned = TlsTrust { fingerprint: Some(presented.to_uppercase()), ..Default::default() };
    let mut conn = AdConnection::connect(&ConnectOptions::new(url.clone(), pinned)).await.unwrap();
    conn.bind(&lab.field("admin_user"), &lab.password("admin_password_file")).await.unwrap();
    let bad_pin = TlsTrust { fingerprint: Some("00".repeat(32)), ..Default::default() };
    let err = AdConnection::connect(&ConnectOptions::new(url.clone(), bad_pin)).await.unwrap_err();
    assert!(err.to_string().contains(&presented), "{err}");
    // A wrong password is decoded from AD's sub-code.
    let mut conn = AdConnection::connect(&ConnectOptions::new(url, lab.trust())).await.unwrap();
    let err = conn
        .bind(&lab.field("admin_user"), &writeback_base::secrets::Secret::new("not-the-password"))
        .await
        .unwrap_err();
    match err {
        AdError::Bind { rc, subcode, words, .. } => {
            assert_eq!(rc, 49);
            assert_eq!(subcode.as_deref(), Some("52e"));
            assert!(words.contains("password is wrong"));
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn status_down_and_restart_leave_no_stray_process() {
    let lab = LabDc::up();
    let out = lab.lab("status");
    assert_eq!(code(&out), 0);
    assert_eq!(json(&out)["running"], true);
    let pid = lab.pid().expect("a PID file");
    assert!(alive(pid));

    // `up` again while running reuses the DC.
    let again = lab.lab("up");
    assert_eq!(code(&again), 0);
    assert_eq!(json(&again), lab.info);
    assert_eq!(lab.pid(), Some(pid));

    let down = lab.lab("down");
    assert_eq!(code(&down), 0, "{}", String::from_utf8_lossy(&down.stderr));
    assert_eq!(json(&down)["stopped"], true);
    assert!(!alive(pid), "samba {pid} still runs after lab down");
    let leftover = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "for p in /proc/[0-9]*; do [ \"$(readlink $p/cwd)\" = '{}' ] && echo $p; done; true",
            lab.dir().join("dc").display()
        ))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&leftover.stdout).trim().is_empty(), "processes still in the DC folder");

    let status = lab.lab("status");
    assert_eq!(code(&status), 3);
    assert_eq!(json(&status)["running"], false);
    assert_eq!(json(&lab.lab("down"))["stopped"], false, "a second down has nothing to stop");

    // Restart keeps the data and the passwords.
    let restarted = lab.lab("up");
    assert_eq!(code(&restarted), 0, "{}", String::from_utf8_lossy(&restarted.stderr));
    let info = json(&restarted);
    let mut conn =
        AdConnection::connect(&ConnectOptions::new(info["ldap_url"].as_str().unwrap(), lab.trust())).await.unwrap();
    conn.bind(&lab.field("admin_user"), &lab.password("admin_password_file")).await.unwrap();
    assert!(conn.read(&format!("{},{BASE}", seed::CANARY), &["cn"]).await.unwrap().is_some());
}

#[tokio::test]
async fn parallel_labs_have_their_own_address_passwords_and_data() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(LabDc::up);
        let b = s.spawn(LabDc::up);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.field("ldap_url"), b.field("ldap_url"));
    assert_ne!(a.password("admin_password_file"), b.password("admin_password_file"));
    assert_ne!(a.password("connector_password_file"), b.password("connector_password_file"));
    assert_ne!(
        std::fs::read(a.field("ca_file")).unwrap(),
        std::fs::read(b.field("ca_file")).unwrap(),
        "each DC has its own CA"
    );

    let mut ca = a.admin().await;
    let mut cb = b.admin().await;
    let marker = format!("OU=Only In A,{BASE}");
    ca.add(&marker, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    assert!(ca.read(&marker, &["ou"]).await.unwrap().is_some());
    assert!(cb.read(&marker, &["ou"]).await.unwrap().is_none());
    // A's CA does not vouch for B.
    let cross = TlsTrust { ca_file: Some(a.field("ca_file").into()), ..b.trust() };
    assert!(AdConnection::connect(&ConnectOptions::new(b.field("ldap_url"), cross)).await.is_err());
}

#[test]
fn lab_up_without_dir_uses_the_default_lab() {
    let home = tempfile::tempdir().unwrap();
    let out = crate::support::run(home.path(), &["lab", "up", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let info = json(&out);
    let dir = std::path::PathBuf::from(info["dir"].as_str().unwrap());
    assert_eq!(dir, home.path().join("data/writeback-wizard/lab").canonicalize().unwrap());
    // `lab status` and `lab down` without --dir find the same default lab.
    assert_eq!(code(&crate::support::run(home.path(), &["lab", "status"])), 0);
    assert_eq!(json(&crate::support::run(home.path(), &["lab", "down", "--json"]))["stopped"], true);
}

#[test]
fn not_root_is_refused_with_the_reason_before_anything_starts() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("lab");
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(["lab", "up", "--dir", dir.to_str().unwrap(), "--json"])
        .env("WRITEBACK_LOG_DIR", "/nonexistent-log-dir")
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["error"]["code"], "LAB-NOT-ROOT");
    assert!(doc["error"]["remedy"].as_str().unwrap().contains("root"));
    assert!(!dir.exists(), "nothing was created");
}

#[tokio::test]
async fn starttls_plain_refusal_tls_details_and_every_bind_subcode() {
    use ldap3::Mod;
    use writeback_ad::unicode_pwd;
    use writeback_base::secrets::Secret;
    let lab = LabDc::up();
    let host = lab.field("ldap_url").trim_start_matches("ldaps://").to_string();
    let admin = lab.field("admin_user");
    let pw = lab.password("admin_password_file");

    // StartTLS on 389 with the same trust.
    let mut c = AdConnection::connect(&ConnectOptions::new(format!("ldap://{host}"), lab.trust())).await.unwrap();
    c.bind(&admin, &pw).await.unwrap();
    assert!(c.presented_fingerprint().is_some(), "TLS was used");
    // A connection without TLS (for Kerberos) never carries a password: the simple bind is
    // refused before anything is sent.
    let plain = ConnectOptions { plain: true, ..ConnectOptions::new(format!("ldap://{host}"), lab.trust()) };
    let mut c = AdConnection::connect(&plain).await.unwrap();
    assert!(c.presented_fingerprint().is_none() && !c.has_tls());
    let refused = c.bind(&admin, &pw).await.unwrap_err();
    assert_eq!(writeback_base::diagnose::Diagnose::code(&refused), "AD-CLEAR-TEXT", "{refused}");
    // What the DC itself says to one (Samba's default, as an AD DC requiring LDAP signing):
    // strongerAuthRequired, which the product words with its remedy.
    let (conn, mut raw) = ldap3::LdapConnAsync::new(&format!("ldap://{host}")).await.unwrap();
    ldap3::drive!(conn);
    let answer = raw.simple_bind(&admin, pw.expose()).await.unwrap();
    assert_eq!(answer.rc, 8, "{answer:?}");
    match AdError::bind_refused(&admin, answer) {
        AdError::Bind { rc: 8, words, remedy, .. } => {
            assert!(words.contains("stronger sign-in") && remedy.contains("Kerberos"), "{words} / {remedy}");
        }
        other => panic!("{other}"),
    }
    // A TLS failure says what was expected and what the DC presented.
    let wrong = TlsTrust { tls_name: Some("dc9.elsewhere.test".into()), ..lab.trust() };
    let msg = AdConnection::connect(&ConnectOptions::new(lab.field("ldap_url"), wrong)).await.unwrap_err().to_string();
    assert!(msg.contains("expected a certificate for dc9.elsewhere.test issued by a CA in"), "{msg}");
    assert!(
        msg.contains("the DC presented subject CN=dc1.lab.example.test (dc1.lab.example.test), issued by"),
        "{msg}"
    );

    // Accounts in each state AD refuses, and the sub-code decoded for each.
    let mut conn = lab.admin().await;
    let base = "OU=Support,OU=Staff,OU=Corp,DC=lab,DC=example,DC=test";
    let secret = writeback_ad::passgen::generate_os(20);
    let mut make = async |cn: &str, extra: Vec<(&str, Vec<Vec<u8>>)>| {
        let dn = format!("CN={cn},{base}");
        let mut attrs = vec![
            ("objectClass", vec![b"user".to_vec()]),
            ("sAMAccountName", vec![cn.as_bytes().to_vec()]),
            ("unicodePwd", vec![unicode_pwd(&secret)]),
        ];
        attrs.extend(extra);
        conn.add(&dn, attrs).await.unwrap();
        dn
    };
    let disabled = make("state.disabled", vec![("userAccountControl", vec![b"514".to_vec()])]).await;
    let expired = make(
        "state.expired",
        vec![("userAccountControl", vec![b"512".to_vec()]), ("accountExpires", vec![b"116444736000000000".to_vec()])],
    )
    .await;
    let must_change = make(
        "state.mustchange",
        vec![("userAccountControl", vec![b"512".to_vec()]), ("pwdLastSet", vec![b"0".to_vec()])],
    )
    .await;
    let locked = make("state.locked", vec![("userAccountControl", vec![b"512".to_vec()])]).await;
    // Lock one out through the Finance PSO (threshold 10) by failing 10 times.
    conn.modify(
        "CN=Finance Staff,OU=Groups,OU=Corp,DC=lab,DC=example,DC=test",
        vec![Mod::Add(b"member".to_vec(), [locked.clone().into_bytes()].into())],
        vec![],
    )
    .await
    .unwrap();
    for _ in 0..10 {
        let mut c = AdConnection::connect(&ConnectOptions::new(lab.field("ldap_url"), lab.trust())).await.unwrap();
        let _ = c.bind(&locked, &Secret::new("wrong-password")).await;
    }
    for (dn, code) in [(&disabled, "533"), (&expired, "701"), (&must_change, "773"), (&locked, "775")] {
        let mut c = AdConnection::connect(&ConnectOptions::new(lab.field("ldap_url"), lab.trust())).await.unwrap();
        match c.bind(dn, &secret).await.unwrap_err() {
            AdError::Bind { rc: 49, subcode, words, remedy, .. } => {
                assert_eq!(subcode.as_deref(), Some(code), "{dn}");
                let (w, r) = writeback_ad::bind_subcode_words(code).unwrap();
                assert_eq!((words.as_str(), remedy.as_str()), (w, r));
            }
            other => panic!("{dn}: {other}"),
        }
    }
}

#[test]
fn lab_mode_is_sealed_from_production_settings_and_state() {
    let home = tempfile::tempdir().unwrap();
    let _down = crate::support::DefaultLabDown(home.path());
    // A production settings file naming a production DC: --lab never reads it.
    let production = home.path().join("config/writeback-wizard/settings.toml");
    std::fs::create_dir_all(production.parent().unwrap()).unwrap();
    std::fs::write(&production, "version = 1\nad_url = \"ldaps://dc1.corp.example\"\n").unwrap();
    let before = std::fs::read(&production).unwrap();
    // Another DC with --lab is refused before anything starts.
    let out = crate::support::run(home.path(), &["ad", "check", "--lab", "--ad-url", "ldaps://10.9.9.9", "--json"]);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json(&out)["error"]["code"], "LAB-SEALED");
    // The lab's whole procedure: its settings, journal, grant record and audit log are its own.
    let out = crate::support::run(home.path(), &["apply", "--enable", "--yes", "--lab", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let data = home.path().join("data/writeback-wizard");
    assert!(data.join("lab-mode/audit.jsonl").exists());
    assert!(data.join("lab-mode/state/granted.json").exists());
    assert!(!data.join("audit.jsonl").exists() && !data.join("state").exists(), "production state untouched");
    // Its log too: lab mode logs to its own folder, never to production's.
    let lab_log = std::fs::read_to_string(data.join("lab-mode/logs/writeback-wizard.log")).unwrap();
    assert!(lab_log.contains("LAB-SEALED"), "{lab_log}");
    assert!(!home.path().join("logs/writeback-wizard.log").exists(), "nothing in the production log");
    assert_eq!(std::fs::read(&production).unwrap(), before, "production settings untouched");
    let down = crate::support::run(home.path(), &["lab", "down", "--json"]);
    assert_eq!(code(&down), 0);
}

/// The PID's parent, from /proc.
fn parent(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn two_starts_at_once_share_one_dc_and_down_leaves_no_samba_process_even_after_a_crash() {
    // The wizard starts the lab when it opens and again when it connects: two `lab up` at once.
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("lab");
    let start = || {
        crate::support::bin(home.path())
            .args(["lab", "up", "--dir", dir.to_str().unwrap(), "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(
        (code(&a), code(&b)),
        (0, 0),
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(json(&a)["ldap_url"], json(&b)["ldap_url"], "both name the one DC");
    // One Samba: every process serving the folder descends from the PID file's.
    let root: i32 = std::fs::read_to_string(dir.join("dc/run/samba.pid")).unwrap().trim().parse().unwrap();
    let all = writeback_lab::processes(&dir);
    assert!(all.contains(&root), "{all:?}");
    for pid in &all {
        let mut p = *pid;
        while p != root {
            p = parent(p).filter(|pp| *pp > 1).unwrap_or_else(|| panic!("{pid} is not the DC's ({root}): {all:?}"));
        }
    }
    // A crash of the root process leaves its children to init; `lab down` still stops them all.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(root), nix::sys::signal::Signal::SIGKILL).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(root) {
        assert!(std::time::Instant::now() < deadline, "the killed root process {root} still runs");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = crate::support::run(home.path(), &["lab", "down", "--dir", dir.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let left = writeback_lab::processes(&dir);
    assert!(left.is_empty(), "left running: {left:?}");
    // And it starts again, answers, and stops completely.
    let out = crate::support::run(home.path(), &["lab", "up", "--dir", dir.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let out = crate::support::run(home.path(), &["lab", "down", "--dir", dir.to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 0);
    assert!(writeback_lab::processes(&dir).is_empty());
}

/// The lab's Samba runs as root for as long as the lab: it inherits nothing of the caller's
/// environment (a `sudo -E` run's secrets would otherwise live on in it).
#[test]
fn the_lab_dc_keeps_nothing_of_the_callers_environment() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("lab");
    let out = crate::support::bin(home.path())
        .args(["lab", "up", "--dir", dir.to_str().unwrap(), "--json"])
        .env("WRITEBACK_AD_PASSWORD", "a-secret-of-the-caller")
        .env("AWS_SECRET_ACCESS_KEY", "another-secret-of-the-caller")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let pid: i32 = std::fs::read_to_string(dir.join("dc/run/samba.pid")).unwrap().trim().parse().unwrap();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let names: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).split('=').next().unwrap().to_string())
        .collect();
    let down = crate::support::run(home.path(), &["lab", "down", "--dir", dir.to_str().unwrap()]);
    assert_eq!(code(&down), 0);
    assert!(
        names.iter().all(|n| !n.starts_with("WRITEBACK_") && n != "AWS_SECRET_ACCESS_KEY" && n != "HOME"),
        "{names:?}"
    );
}
