//! The wizard in a real window: Xvfb, Mesa's OpenGL, real X input. It opens, draws and answers a
//! click. (scripts/screenshots.sh drives the whole flow the same way for the README's pictures.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::xvfb::Xvfb;
use std::time::{Duration, Instant};

fn colours(png: &Path) -> u32 {
    let out = Command::new("/usr/bin/identify").args(["-format", "%k"]).arg(png).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn the_wizard_opens_draws_and_answers_a_click_in_a_real_window() {
    let x = Xvfb::start();
    let home = tempfile::tempdir().unwrap();
    let _down = crate::support::DefaultLabDown(home.path());
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let mut wizard = crate::support::bin(home.path())
        .args(["--lab", "--config", home.path().join("settings.toml").to_str().unwrap()])
        .env("DISPLAY", &x.display)
        .env("XDG_RUNTIME_DIR", &runtime)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The title names the product, its version and the lab.
    let title = format!("writeback-wizard {} (lab)", env!("CARGO_PKG_VERSION"));
    let id = x.wait_window(&title, &mut wizard, Duration::from_secs(60));
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let welcome = x.settled_shot(&id, &shots.join("welcome.png"));
    assert!(colours(&shots.join("welcome.png")) > 16, "text was drawn");

    // Next sits at the bottom right of the 940×620 window: a real pointer click.
    let clicked = x.cmd("xdotool").args(["mousemove", "--window", &id, "908", "599", "click", "1"]).status().unwrap();
    assert!(clicked.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tasks = x.settled_shot(&id, &shots.join("tasks.png"));
    while tasks == welcome {
        assert!(Instant::now() < deadline, "the click did not change the page");
        tasks = x.settled_shot(&id, &shots.join("tasks.png"));
    }
    assert!(wizard.try_wait().unwrap().is_none(), "still running");
    // --lab brings the lab DC up behind the first pages: let it finish before stopping it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while crate::support::code(&crate::support::run(home.path(), &["lab", "status"])) != 0 {
        assert!(Instant::now() < deadline, "the lab DC never came up behind the wizard");
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = crate::support::run(home.path(), &["lab", "status", "--json"]);
    let lab_dir = PathBuf::from(crate::support::json(&status)["dir"].as_str().unwrap());
    let _ = wizard.kill();
    let _ = wizard.wait();
    // --lab started the lab DC in this test's home: stop it, all of it.
    let down = crate::support::run(home.path(), &["lab", "down"]);
    assert_eq!(crate::support::code(&down), 0, "{}", String::from_utf8_lossy(&down.stderr));
    let left = writeback_lab::processes(&lab_dir);
    assert!(left.is_empty(), "the wizard's lab left Samba running: {left:?}");
}
