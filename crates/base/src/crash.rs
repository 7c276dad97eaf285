//! Crash points, for the test that proves a crash at any moment is recoverable. Built only with
//! the test-only cargo feature `crash-points` (the test command enables it; a release never
//! does): `WRITEBACK_CRASH_AT=journal:N` or `ldap:N` makes the process kill itself with SIGKILL
//! right after its Nth journal record or its Nth LDAP write — no unwinding, no clean-up, as a
//! power cut or `kill -9` would. `WRITEBACK_PAUSE_AT=ldap:N` with `WRITEBACK_PAUSE_FILE=PATH`
//! makes it create PATH just before sending its Nth LDAP write and wait until PATH is removed, so
//! a test can freeze the DC at that moment. Without the feature every call here is empty.

/// Where a crash can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// A journal record was written.
    JournalRecord,
    /// An LDAP modify was answered by the DC.
    LdapWrite,
}

/// Counts `point`, and dies here when the environment asks for it.
#[cfg(feature = "crash-points")]
pub fn reached(point: Point) {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PLAN: OnceLock<Option<(Point, u64)>> = OnceLock::new();
    static COUNTS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
    let plan = PLAN.get_or_init(|| {
        let text = std::env::var("WRITEBACK_CRASH_AT").ok()?;
        let (kind, n) = text.split_once(':')?;
        let kind = match kind {
            "journal" => Point::JournalRecord,
            "ldap" => Point::LdapWrite,
            _ => return None,
        };
        Some((kind, n.parse().ok()?))
    });
    let index = if point == Point::JournalRecord { 0 } else { 1 };
    let count = COUNTS[index].fetch_add(1, Ordering::SeqCst) + 1;
    if let Some((kind, n)) = *plan
        && kind == point
        && n == count
    {
        crate::platform::signal_stop(std::process::id() as i32, true);
        // SIGKILL is not caught; wait for it rather than run on.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// Counts `point` (nothing, without the `crash-points` feature).
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn reached(_point: Point) {}

/// Pauses before `point` when the environment asks for it (see the module's words).
#[cfg(feature = "crash-points")]
pub fn before(point: Point) {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PLAN: OnceLock<Option<(u64, std::path::PathBuf)>> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    if point != Point::LdapWrite {
        return;
    }
    let plan = PLAN.get_or_init(|| {
        let n = std::env::var("WRITEBACK_PAUSE_AT").ok()?.strip_prefix("ldap:")?.parse().ok()?;
        Some((n, std::env::var_os("WRITEBACK_PAUSE_FILE")?.into()))
    });
    let count = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some((n, file)) = plan
        && *n == count
        && std::fs::write(file, b"paused").is_ok()
    {
        while file.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Nothing, without the `crash-points` feature.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn before(_point: Point) {}
