//! The version and the git commit the binary was built from (embedded by build.rs).

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit (12 hex digits), or `unknown` when built outside a git checkout.
pub const COMMIT: &str = env!("WRITEBACK_GIT_COMMIT");
/// `0.1.0 (commit 0123456789ab)`, as `--version` prints it.
pub const LONG: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("WRITEBACK_GIT_COMMIT"), ")");
