//! Microsoft Entra Connect's support dates. Microsoft retires each 2.x build 12 months after a
//! newer one supersedes it ("Retiring Microsoft Entra Connect 2.x versions", Microsoft Entra
//! Connect: Version release history). The dates below are that policy applied to the builds'
//! release dates, as docs/sync-engines.md lists them with their source and the day they were
//! copied; a build not listed takes the date of the nearest listed build below it.

use std::time::SystemTime;

/// (build, last day of support as YYYY-MM-DD), ascending.
pub const SUPPORT_ENDS: &[(&str, &str)] = &[
    ("2.5.3.0", "2026-07-31"),
    ("2.5.76.0", "2026-09-01"),
    ("2.5.79.0", "2026-10-23"),
    ("2.5.190.0", "2027-02-02"),
    ("2.6.1.0", "2027-03-10"),
    ("2.6.3.0", "2027-07-07"),
];

/// The day the table was copied (newer builds than its last are taken as supported).
pub const TABLE_AS_OF: &str = "2026-07-17";

/// When `version` is past its end of support on `now`: that end date.
pub fn ended(version: &str, now: SystemTime) -> Option<&'static str> {
    let (_, end) = SUPPORT_ENDS.iter().rev().find(|(build, _)| super::adsync::version_at_least(version, build))?;
    let today = crate::clock::rfc3339(now);
    (today.get(..10)? > *end).then_some(*end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> SystemTime {
        let secs = match text {
            "2026-10-23" => 1_792_756_800,
            "2026-10-24" => 1_792_843_200,
            _ => 1_796_212_800,
        };
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        assert!(crate::clock::rfc3339(t).starts_with(text));
        t
    }

    #[test]
    fn a_build_is_past_support_after_its_date_and_unlisted_builds_take_the_one_below() {
        assert_eq!(ended("2.5.79.0", day("2026-10-23")), None);
        assert_eq!(ended("2.5.79.0", day("2026-10-24")), Some("2026-10-23"));
        assert_eq!(ended("2.5.100.0", day("2026-12-02")), Some("2026-10-23"));
        assert_eq!(ended("2.5.190.0", day("2026-12-02")), None);
        assert_eq!(ended("2.6.84.0", day("2026-12-02")), None);
        assert_eq!(ended("2.4.0.0", day("2026-12-02")), None, "below the table: SYNC-TOO-OLD says it");
    }
}
