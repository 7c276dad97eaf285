//! The CLI skeleton: version, exit codes, JSON documents, settings, logging.

use crate::support::{code, json, run};

#[test]
fn version_names_the_version_and_commit() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["--version"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("writeback-wizard {} (commit ", env!("CARGO_PKG_VERSION"))), "{text}");
    let commit = text.trim().trim_end_matches(')').rsplit(' ').next().unwrap().to_string();
    assert!(commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{commit}");
}

#[test]
fn usage_errors_exit_2_with_one_json_document() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["lab", "up", "--no-such-flag", "--json"]);
    assert_eq!(code(&out), 2);
    assert_eq!(json(&out)["error"]["code"], "CLI-USAGE");
    // No command opens the wizard; with no display that is a usage error naming the cause.
    let none = crate::support::bin(home.path())
        .args(["--json"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(code(&none), 2);
    let doc = json(&none);
    assert!(doc["error"]["message"].as_str().unwrap().contains("no display"), "{doc}");
    assert!(doc["error"]["remedy"].as_str().unwrap().contains("lab up"), "{doc}");
    // A password is never a flag.
    let out = run(home.path(), &["config", "export", "x.toml", "--ad-password", "p"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn config_export_applies_flags_over_the_file_and_import_checks_first() {
    let home = tempfile::tempdir().unwrap();
    let settings = home.path().join("settings.toml");
    std::fs::write(&settings, "version = 1\nad_url = \"ldaps://dc1.corp.example\"\nad_user = \"CORP\\\\admin\"\n")
        .unwrap();
    let exported = home.path().join("exported.toml");
    let out = run(
        home.path(),
        &[
            "config",
            "export",
            exported.to_str().unwrap(),
            "--config",
            settings.to_str().unwrap(),
            "--json",
            "--ad-url",
            "ldaps://dc2.corp.example",
            "--scope",
            "OU=Staff,DC=corp,DC=example",
            "--cloud",
            "usgov",
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["exported"], exported.to_str().unwrap());
    let text = std::fs::read_to_string(&exported).unwrap();
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(parsed["version"].as_integer(), Some(1));
    assert_eq!(parsed["ad_url"].as_str(), Some("ldaps://dc2.corp.example"), "flag wins");
    assert_eq!(parsed["ad_user"].as_str(), Some("CORP\\admin"), "file kept");
    assert_eq!(parsed["cloud"].as_str(), Some("usgov"));
    assert_eq!(parsed["scope"][0].as_str(), Some("OU=Staff,DC=corp,DC=example"));

    // Import into a new settings file: every connection key it changes is shown; without a
    // terminal to confirm on, nothing is written until --yes.
    let target = home.path().join("new/settings.toml");
    let import = ["config", "import", exported.to_str().unwrap(), "--config", target.to_str().unwrap()];
    let out = run(home.path(), &import);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ad_url: (none) → ldaps://dc2.corp.example") && err.contains("--yes"), "{err}");
    assert!(!target.exists(), "nothing written before the answer");
    let out = run(home.path(), &[&import[..], &["--yes"]].concat());
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);

    // A file from a newer version is refused, and the current settings are untouched.
    let newer = home.path().join("newer.toml");
    std::fs::write(&newer, "version = 7\nfuture = 1\n").unwrap();
    let out = run(
        home.path(),
        &["config", "import", newer.to_str().unwrap(), "--config", target.to_str().unwrap(), "--json"],
    );
    assert_eq!(code(&out), 2);
    let doc = json(&out);
    assert_eq!(doc["error"]["code"], "CONFIG-NEWER");
    assert!(doc["error"]["remedy"].as_str().unwrap().contains("Upgrade"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);

    // A corrupt settings file is named with its line.
    std::fs::write(&settings, "version = 1\nad_url = \n").unwrap();
    let out =
        run(home.path(), &["config", "export", exported.to_str().unwrap(), "--config", settings.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CONFIG-PARSE") && err.contains("line 2"), "{err}");
}

#[test]
fn errors_reach_the_log_file_and_stdout_stays_clean() {
    let home = tempfile::tempdir().unwrap();
    let newer = home.path().join("newer.toml");
    std::fs::write(&newer, "version = 9\n").unwrap();
    let out = run(
        home.path(),
        &["config", "import", newer.to_str().unwrap(), "--config", home.path().join("s.toml").to_str().unwrap()],
    );
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty(), "human mode prints errors on stderr only");
    let log = std::fs::read_to_string(home.path().join("logs/writeback-wizard.log")).unwrap();
    assert!(log.contains("CONFIG-NEWER"), "{log}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(home.path().join("logs/writeback-wizard.log")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the log is the owner's alone");
}

#[test]
fn lab_status_of_an_empty_folder_answers_no() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["lab", "status", "--dir", home.path().to_str().unwrap(), "--json"]);
    assert_eq!(code(&out), 3);
    assert_eq!(json(&out), serde_json::json!({ "running": false }));
}

#[test]
fn every_error_code_in_the_source_is_documented() {
    fn walk(dir: &std::path::Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut source = String::new();
    walk(&root.join("src"), &mut source);
    walk(&root.join("crates"), &mut source);
    let docs = std::fs::read_to_string(root.join("docs/troubleshooting.md")).unwrap();
    let mut codes: Vec<&str> = source
        .split('"')
        .filter(|s| {
            let prefix = s.split('-').next().unwrap_or("");
            ["CLI", "CONFIG", "SECRET", "LAB", "AD", "TENANT", "ENTRA", "ENGINE", "SYNC", "GUI", "STATE", "RESET"]
                .contains(&prefix)
                && s.contains('-')
                && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        })
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert!(codes.len() > 30, "found only {codes:?}");
    let missing: Vec<_> = codes.iter().filter(|c| !docs.contains(&format!("| {c} |"))).collect();
    assert!(missing.is_empty(), "not in docs/troubleshooting.md: {missing:?}");
}

#[test]
fn secrets_are_set_listed_and_deleted_in_the_os_keyring_by_name_only() {
    use std::io::Write;
    let home = tempfile::tempdir().unwrap();
    let value = format!("Kr-{}-Passw0rd!", std::process::id());
    let mut child = crate::support::bin(home.path())
        .args(["secret", "set", "connector-password", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{value}\n").as_bytes()).unwrap();
    let set = child.wait_with_output().unwrap();
    assert_eq!(code(&set), 0, "{}", String::from_utf8_lossy(&set.stderr));
    let list = run(home.path(), &["secret", "list", "--json"]);
    let doc = json(&list);
    assert!(
        doc["secrets"].as_array().unwrap().contains(&serde_json::json!({"name": "connector-password", "stored": true})),
        "{doc}"
    );
    assert!(!String::from_utf8_lossy(&list.stdout).contains(&value), "names only");
    let store = writeback_base::secrets::KeyringStore;
    use writeback_base::secrets::SecretStore;
    assert_eq!(store.get("connector-password").unwrap().unwrap().expose(), value, "one trailing newline cut");
    assert_eq!(code(&run(home.path(), &["secret", "delete", "connector-password"])), 0);
    assert!(store.get("connector-password").unwrap().is_none());
    // An unknown name, or a value on the command line, is a usage error.
    assert_eq!(code(&run(home.path(), &["secret", "set", "root-password"])), 2);
    assert_eq!(code(&run(home.path(), &["secret", "set", "ad-password", "hunter2"])), 2);
    // Nothing on standard input: said, nothing stored.
    let empty = crate::support::bin(home.path())
        .args(["secret", "set", "ad-password"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&empty), 2);
    assert!(store.get("ad-password").unwrap().is_none());
}

#[test]
fn a_tenant_flag_is_a_guid_or_a_domain() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["entra", "check", "--tenant", "contoso.com/../../x", "--json"]);
    assert_eq!(code(&out), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a tenant"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_import_keeps_what_this_machine_granted_and_asks_before_taking_another_pin() {
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("settings.toml");
    let ours = "(A;;RP;;;S-1-5-21-1-2-3-1105)";
    let theirs = "(A;;RP;;;S-1-5-21-9-9-9-2222)";
    std::fs::write(
        &local,
        format!("version = 1\nad_fingerprint = \"aa:bb\"\n[granted]\n\"OU=Ours,DC=x\" = [\"{ours}\"]\n"),
    )
    .unwrap();
    let other = home.path().join("other.toml");
    std::fs::write(&other, format!("version = 1\nad_url = \"ldaps://dc9\"\nad_fingerprint = \"cc:dd\"\n[granted]\n\"OU=Theirs,DC=x\" = [\"{theirs}\"]\n")).unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec!["config", "import", other.to_str().unwrap(), "--config", local.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        run(home.path(), &args)
    };
    // Another pin, no terminal to ask on: refused, nothing changed.
    let out = import(&[]);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(json(&out)["error"]["remedy"].as_str().unwrap().contains("--yes"));
    assert!(std::fs::read_to_string(&local).unwrap().contains("aa:bb"));
    // Asked and answered: the pin and URL come over, the local [granted] stays, theirs does not.
    let out = import(&["--yes"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let now = std::fs::read_to_string(&local).unwrap();
    assert!(now.contains("cc:dd") && now.contains("ldaps://dc9"), "{now}");
    assert!(now.contains(ours) && !now.contains(theirs), "{now}");
}

#[test]
fn the_tenant_simulator_listens_on_loopback_only() {
    let home = tempfile::tempdir().unwrap();
    for addr in ["0.0.0.0:0", "10.1.2.3:8080"] {
        let out = run(home.path(), &["lab", "tenant", "--listen", addr, "--json"]);
        assert_eq!(code(&out), 2, "{addr}");
        assert!(json(&out)["error"]["message"].as_str().unwrap().contains("not a loopback address"), "{addr}");
    }
}

/// Nothing is read from a state or settings folder someone else made or may change: checked on
/// every start, named with the way out, and nothing read from it.
#[test]
fn a_planted_or_open_state_folder_is_refused_on_every_start() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config/writeback-wizard");
    let data = home.path().join("data/writeback-wizard");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(data.join("state")).unwrap();
    std::fs::write(config.join("settings.toml"), "version = 1\nad_url = \"ldaps://attacker.example\"\n").unwrap();
    let status = |home: &std::path::Path| run(home, &["status", "--json"]);
    let refused = |out: &std::process::Output, what: &std::path::Path| {
        assert_eq!(code(out), 1, "{}", String::from_utf8_lossy(&out.stdout));
        let e = &json(out)["error"];
        assert_eq!(e["code"], "STATE-UNSAFE", "{e}");
        assert!(e["message"].as_str().unwrap().contains(&what.display().to_string()), "{e}");
        assert!(!e["message"].as_str().unwrap().contains("attacker"), "nothing read from it: {e}");
        assert!(e["remedy"].as_str().unwrap().contains("chmod go-w"), "{e}");
    };
    // A folder others may write to.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o777)).unwrap();
    refused(&status(home.path()), &config);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A state folder, and files in it, made by another user.
    nix::unistd::chown(&data.join("state"), Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    refused(&status(home.path()), &data.join("state"));
    nix::unistd::chown(&data.join("state"), Some(nix::unistd::geteuid()), None).unwrap();
    let granted = data.join("state/granted.json");
    std::fs::write(&granted, r#"{"version":1,"granted":{}}"#).unwrap();
    nix::unistd::chown(&granted, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    refused(&status(home.path()), &granted);
    std::fs::remove_file(&granted).unwrap();
    // A journal that is a link to somewhere else.
    let journal = data.join("state/journal-1-1.jsonl");
    std::os::unix::fs::symlink("/etc/passwd", &journal).unwrap();
    refused(&status(home.path()), &journal);
    std::fs::remove_file(&journal).unwrap();
    // Made right, it is read (and the bad DC named in it is what fails next).
    let out = status(home.path());
    assert_ne!(json(&out)["error"]["code"], "STATE-UNSAFE", "{}", String::from_utf8_lossy(&out.stdout));
}

/// The lab runs Samba as root from its folder and copies its template into every lab: a folder
/// (or the template's parent) another account may change is refused before Samba runs.
#[test]
fn the_lab_refuses_a_folder_others_may_change() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let refused = |out: &std::process::Output, what: &std::path::Path| {
        assert_eq!(code(out), 2, "{}", String::from_utf8_lossy(&out.stdout));
        let e = &json(out)["error"];
        assert_eq!(e["code"], "LAB-UNSAFE-FOLDER", "{e}");
        assert!(e["message"].as_str().unwrap().contains(&what.display().to_string()), "{e}");
        assert!(e["remedy"].as_str().unwrap().contains("chmod 700"), "{e}");
    };
    let open = home.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    for cmd in ["up", "status", "down"] {
        refused(&run(home.path(), &["lab", cmd, "--dir", open.to_str().unwrap(), "--json"]), &open);
    }
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0, "nothing written into it");
    let foreign = home.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).unwrap();
    nix::unistd::chown(&foreign, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    refused(&run(home.path(), &["lab", "status", "--dir", foreign.to_str().unwrap(), "--json"]), &foreign);
    // A template whose parent folder anyone may write to.
    let shared = home.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let fresh = home.path().join("fresh-lab");
    let out = crate::support::bin(home.path())
        .env("WRITEBACK_LAB_TEMPLATE_DIR", shared.join("lab-template"))
        .args(["lab", "up", "--dir", fresh.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    refused(&out, &shared);
    assert!(!shared.join("lab-template").exists(), "no template built there");
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "a lab folder it creates is its owner's alone");
}

#[test]
fn the_lab_simulator_url_is_a_loopback_address_only() {
    let home = tempfile::tempdir().unwrap();
    for url in ["http://10.1.2.3:8080", "https://login.example.com", "http://127.0.0.1.example.com:1"] {
        let out = run(home.path(), &["status", "--cloud", "lab", "--lab-url", url, "--json"]);
        assert_eq!(code(&out), 2, "{url}");
        let e = &json(&out)["error"];
        assert!(e["message"].as_str().unwrap().contains("loopback address only"), "{url}: {e}");
    }
}
