//! Embeds the git commit for `--version` and the About box.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=WRITEBACK_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves. Only existing paths are named: a missing one makes cargo rerun
    // the script on every build.
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        let git_dir = Path::new(&git_dir);
        let head = git_dir.join("HEAD");
        let mut watch = vec![head.clone(), git_dir.join("packed-refs")];
        if let Some(reference) =
            std::fs::read_to_string(&head).ok().and_then(|t| t.strip_prefix("ref: ").map(|r| r.trim().to_string()))
        {
            watch.push(git_dir.join(reference));
        }
        for path in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
