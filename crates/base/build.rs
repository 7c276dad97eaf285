//! Embeds the git commit for `--version` and the About box.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=WRITEBACK_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves. Only existing paths are named: a missing one makes cargo rerun
    // the script on every build. `--git-path` finds each where it is, in a worktree too (HEAD in
    // the worktree's folder, the branch's ref in the common one).
    let path = |p: &str| git(&["rev-parse", "--git-path", p]).map(std::path::PathBuf::from);
    let mut watch: Vec<std::path::PathBuf> = ["HEAD", "packed-refs"].iter().filter_map(|p| path(p)).collect();
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.extend(path(&reference));
    }
    for p in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
