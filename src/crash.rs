//! Crash points, for the test that proves a crash at any moment is recoverable. Built only with
//! the test-only cargo feature `crash-points` (the test command enables it; a release never
//! does): `WRITEBACK_CRASH_AT=journal:N` or `ldap:N` makes the process kill itself with SIGKILL
//! right after its Nth journal record or its Nth LDAP write — no unwinding, no clean-up, as a
//! power cut or `kill -9` would. Without the feature every call here is empty.

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
