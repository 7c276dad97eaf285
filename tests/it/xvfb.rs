//! An Xvfb server for the real-window test and the start-up benchmark (benches/perf.rs includes
//! this file).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb server on a free display, stopped when dropped.
pub struct Xvfb {
    child: Child,
    /// `:N`.
    pub display: String,
}

impl Xvfb {
    /// Starts one.
    pub fn start() -> Xvfb {
        for n in 70..200 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                continue;
            }
            let mut child = Command::new("Xvfb")
                .args([format!(":{n}").as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb runs (the README's test command installs it)");
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let deadline = Instant::now() + Duration::from_secs(20);
            while !socket.exists() {
                if child.try_wait().unwrap().is_some() {
                    break; // lost a race for the display: try the next one
                }
                assert!(Instant::now() < deadline, "Xvfb did not come up");
                std::thread::sleep(Duration::from_millis(20));
            }
            if socket.exists() {
                return Xvfb { child, display: format!(":{n}") };
            }
            let _ = child.wait();
        }
        panic!("no free X display");
    }

    /// A command for this display.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display);
        c
    }

    /// The wizard's window id, once it is mapped.
    pub fn window(&self, title: &str) -> Option<String> {
        let out = self.cmd("xwininfo").args(["-root", "-tree"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains(&format!("\"{title}\"")))
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
    }

    /// Waits for `child`'s window titled `title`; a child that exits first fails the test with
    /// what it printed on stderr.
    pub fn wait_window(&self, title: &str, child: &mut std::process::Child, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(id) = self.window(title) {
                return id;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(e) = child.stderr.as_mut() {
                    let _ = std::io::Read::read_to_string(e, &mut err);
                }
                panic!("the wizard exited ({status}) before its window \"{title}\" showed:\n{err}");
            }
            assert!(Instant::now() < deadline, "no window \"{title}\"");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A screenshot of the window, once two in a row are the same (the frame has settled).
    pub fn settled_shot(&self, id: &str, out: &Path) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last: Option<Vec<u8>> = None;
        loop {
            let o = self.cmd("import").args(["-window", id, "rgb:-"]).output().unwrap();
            if o.status.success() && !o.stdout.is_empty() && last.as_ref() == Some(&o.stdout) {
                let png = self.cmd("import").args(["-window", id, out.to_str().unwrap()]).status().unwrap();
                assert!(png.success());
                return o.stdout;
            }
            last = Some(o.stdout);
            assert!(Instant::now() < deadline, "the window never settled");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
