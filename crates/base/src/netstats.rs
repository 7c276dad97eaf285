//! How many network round trips this process made, and how long it waited on them: `--verbose`
//! prints it after a command, so an administrator can tell a slow DC or tenant from slow work of
//! ours, and the benchmarks compare a command's wall time with it. Counting only: no behaviour
//! depends on these figures.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What kind of round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An LDAP operation and its answer (a TLS connect counts as one; a paged search as one per
    /// page).
    Ldap,
    /// An HTTPS request and its answer (sign-in, Graph, the sync engine).
    Http,
}

static COUNT: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static NANOS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

fn slot(kind: Kind) -> usize {
    match kind {
        Kind::Ldap => 0,
        Kind::Http => 1,
    }
}

/// Adds `count` round trips that took `waited` together.
pub fn record(kind: Kind, count: u64, waited: Duration) {
    COUNT[slot(kind)].fetch_add(count, Ordering::Relaxed);
    NANOS[slot(kind)].fetch_add(u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Times one round trip until dropped.
#[must_use = "the round trip is timed until this is dropped"]
pub struct Timed {
    kind: Kind,
    start: Instant,
}

/// Starts timing a round trip of `kind`.
pub fn timed(kind: Kind) -> Timed {
    Timed { kind, start: Instant::now() }
}

impl Drop for Timed {
    fn drop(&mut self) {
        record(self.kind, 1, self.start.elapsed());
    }
}

/// Awaits `request`, timed as one round trip of `kind`.
pub async fn time<F: std::future::Future>(kind: Kind, request: F) -> F::Output {
    let _timed = timed(kind);
    request.await
}

/// `.timed(kind)` on a request's future: [`time`] as a method, for builder chains.
pub trait TimedExt: std::future::Future + Sized {
    /// Awaits this, timed as one round trip of `kind`.
    fn timed(self, kind: Kind) -> impl std::future::Future<Output = Self::Output> {
        time(kind, self)
    }
}

impl<F: std::future::Future> TimedExt for F {}

/// Round trips of one kind so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// Time spent waiting on them, summed.
    pub waited: Duration,
}

/// Both kinds so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub ldap: Tally,
    pub http: Tally,
}

impl Snapshot {
    /// Network time in total.
    pub fn waited(&self) -> Duration {
        self.ldap.waited + self.http.waited
    }

    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let diff = |a: Tally, b: Tally| Tally {
            count: a.count.saturating_sub(b.count),
            waited: a.waited.saturating_sub(b.waited),
        };
        Snapshot { ldap: diff(self.ldap, earlier.ldap), http: diff(self.http, earlier.http) }
    }
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} LDAP round trips ({} ms), {} HTTPS requests ({} ms)",
            self.ldap.count,
            self.ldap.waited.as_millis(),
            self.http.count,
            self.http.waited.as_millis()
        )
    }
}

/// The figures so far.
pub fn snapshot() -> Snapshot {
    let tally = |k: Kind| Tally {
        count: COUNT[slot(k)].load(Ordering::Relaxed),
        waited: Duration::from_nanos(NANOS[slot(k)].load(Ordering::Relaxed)),
    };
    Snapshot { ldap: tally(Kind::Ldap), http: tally(Kind::Http) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_are_counted_and_differenced() {
        let before = snapshot();
        record(Kind::Http, 2, Duration::from_millis(30));
        {
            let _t = timed(Kind::Ldap);
        }
        let d = snapshot().since(&before);
        // Other tests may count too (the figures are process-wide): at least ours are there.
        assert!(d.http.count >= 2 && d.http.waited >= Duration::from_millis(30), "{d}");
        assert!(d.ldap.count >= 1, "{d}");
        assert!(d.to_string().contains("HTTPS requests"));
    }
}
