//! A forest's domain controllers from DNS, as Windows' DC locator finds them: the SRV records
//! `_ldap._tcp.dc._msdcs.<domain>` (MS-ADTS 6.3.2.3), asked of the machine's own resolver
//! configuration (/etc/resolv.conf; on Windows the system's DNS servers), ordered by priority and,
//! within a priority, by weight (RFC 2782).

use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use rand::Rng;

use super::AdError;

/// One domain controller a SRV record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcRecord {
    /// The DC's DNS name (no trailing dot).
    pub host: String,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
}

/// What DNS said of a forest.
#[derive(Debug, Clone)]
pub struct Located {
    /// The record asked for.
    pub record: String,
    /// The DNS servers asked.
    pub servers: Vec<String>,
    /// The DCs, in the order to try them.
    pub dcs: Vec<DcRecord>,
    /// How long the lookup took.
    pub took: Duration,
}

/// The SRV record that names the DCs of `domain`.
pub fn record_for(domain: &str) -> String {
    format!("_ldap._tcp.dc._msdcs.{}", domain.trim_end_matches('.'))
}

/// Looks the DCs of `domain` up. No record, an unknown name or no answer is AD-NO-SRV, naming
/// the record and the servers asked.
pub async fn locate(domain: &str, timeout: Duration, rng: &mut impl Rng) -> Result<Located, AdError> {
    let record = record_for(domain);
    let started = Instant::now();
    let no_srv = |servers: Vec<String>, detail: String| AdError::NoSrv { record: record.clone(), servers, detail };
    let mut builder = TokioResolver::builder_tokio()
        .map_err(|e| no_srv(Vec::new(), format!("the resolver configuration cannot be read: {e}")))?;
    builder.options_mut().timeout = timeout.min(Duration::from_secs(5));
    let resolver = builder.build();
    let servers: Vec<String> = resolver.config().name_servers().iter().map(|s| s.socket_addr.ip().to_string()).fold(
        Vec::new(),
        |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        },
    );
    // The fully qualified name: a search domain appended would find another forest's records.
    let answer = resolver.srv_lookup(format!("{record}.")).await;
    let took = started.elapsed();
    let records: Vec<DcRecord> = match answer {
        Ok(found) => found
            .iter()
            .map(|r| DcRecord {
                host: r.target().to_utf8().trim_end_matches('.').to_string(),
                port: r.port(),
                priority: r.priority(),
                weight: r.weight(),
            })
            // "." as the target: the service is decidedly not available there (RFC 2782).
            .filter(|r| !r.host.is_empty())
            .collect(),
        Err(e) if e.is_nx_domain() || e.is_no_records_found() => Vec::new(),
        Err(e) => return Err(no_srv(servers, e.to_string())),
    };
    if records.is_empty() {
        return Err(no_srv(servers, "DNS has no such record".into()));
    }
    tracing::info!(%record, took_ms = took.as_millis() as u64, dcs = records.len(), "domain controllers located");
    Ok(Located { record, servers, dcs: order(records, rng), took })
}

/// RFC 2782's order: lowest priority first; within a priority, each next one drawn with a chance
/// proportional to its weight (weight 0 ones last but possible).
pub fn order(mut records: Vec<DcRecord>, rng: &mut impl Rng) -> Vec<DcRecord> {
    records.sort_by_key(|r| r.priority);
    let mut out = Vec::with_capacity(records.len());
    while !records.is_empty() {
        let priority = records[0].priority;
        let mut group: Vec<DcRecord> = Vec::new();
        while records.first().is_some_and(|r| r.priority == priority) {
            group.push(records.remove(0));
        }
        // Zero weights first in the running sum, as the RFC asks, so they get a chance only when
        // everything else has been drawn or the draw lands on 0.
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = rng.random_range(0..=total);
            let mut running = 0u32;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            out.push(group.remove(index));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn dc(host: &str, priority: u16, weight: u16) -> DcRecord {
        DcRecord { host: host.into(), port: 389, priority, weight }
    }

    #[test]
    fn lower_priority_first_and_weight_decides_how_often_one_leads() {
        let records = vec![dc("backup", 10, 100), dc("heavy", 0, 90), dc("light", 0, 10)];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut heavy_first = 0;
        for _ in 0..1000 {
            let ordered = order(records.clone(), &mut rng);
            assert_eq!(ordered[2].host, "backup", "a higher priority value is tried last");
            if ordered[0].host == "heavy" {
                heavy_first += 1;
            }
        }
        assert!((850..=950).contains(&heavy_first), "weight 90 of 100 leads about 90% of the time: {heavy_first}");
        let zero = vec![dc("zero", 0, 0), dc("some", 0, 5)];
        let firsts: Vec<String> = (0..200).map(|_| order(zero.clone(), &mut rng)[0].host.clone()).collect();
        assert!(firsts.iter().any(|h| h == "some") && firsts.iter().filter(|h| *h == "zero").count() < 60);
    }

    #[test]
    fn the_record_is_the_dc_locators() {
        assert_eq!(record_for("corp.example.com."), "_ldap._tcp.dc._msdcs.corp.example.com");
    }
}
