//! Every forest of a configuration: which directories a run covers (the one the command line
//! names; else the settings' top-level keys and each `[[directory]]` table; then each forest the
//! sync engine serves that none of those reached), reaching them at the same time, the forests
//! left uncovered and why, and the connection to a DC of each further domain a forest's work
//! reaches (found in DNS, signed in the same way).

use super::connect::{DirectorySpec, connect_to, primary};
use super::{AdSession, Error, Options};
use crate::ad::directory::Account;
use crate::sync_engine::EngineState;

/// One forest of a session: its connections, the connector account and the scopes.
pub(crate) struct ForestPart {
    /// The connection the forest was reached at.
    pub(crate) ad: AdSession,
    /// A connection to a DC of each further domain the work reaches.
    pub(crate) domains: Vec<AdSession>,
    pub(crate) connector: Option<Account>,
    /// Where it came from, in words.
    pub(crate) connector_source: Option<String>,
    pub(crate) scopes: Vec<String>,
}

impl ForestPart {
    pub(crate) fn name(&self) -> &str {
        &self.ad.forest
    }

    /// Every connection with the domain naming context it writes: the first DC's, then each
    /// further domain's.
    pub(crate) fn sessions_mut(&mut self) -> impl Iterator<Item = &mut AdSession> {
        std::iter::once(&mut self.ad).chain(self.domains.iter_mut())
    }

    /// What the readiness scan finds in this forest's scopes: each domain's scopes on its own
    /// connection, against its own minimum age (its policy, else its PSOs').
    pub(crate) async fn findings(
        &mut self,
        now: std::time::SystemTime,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<crate::ad::scan::Findings, Error> {
        let sid = self.connector.as_ref().and_then(|c| crate::ad::sd::Sid::parse(&c.sid).ok());
        let connector = self.connector.clone();
        let scopes = self.scopes.clone();
        let roots: Vec<String> = self.sessions_mut().map(|s| s.disc.default_naming_context.clone()).collect();
        let route = |dn: &str| crate::engine::plan::route(&roots.iter().map(String::as_str).collect::<Vec<_>>(), dn);
        let mut all = crate::ad::scan::Findings::default();
        for (i, s) in self.sessions_mut().enumerate() {
            let mine: Vec<String> = scopes.iter().filter(|sc| route(sc) == Some(i)).cloned().collect();
            if mine.is_empty() {
                continue;
            }
            let domain = crate::ad::policy::domain_policy(&mut s.conn, &s.disc).await?;
            let min_age = crate::ad::readiness::min_age(&mut s.conn, &s.disc, &domain, now).await?;
            let evaluator = match &connector {
                Some(c) => crate::ad::access::for_connector(&mut s.conn, &s.disc, c, &mine, cancel).await?,
                None => None,
            };
            let found = crate::ad::scan::scan_with_access(
                &mut s.conn,
                &mine,
                sid.as_ref(),
                Some(&min_age),
                evaluator.as_ref(),
                cancel,
                &mut |_| {},
            )
            .await?;
            all.merge(found);
        }
        Ok(all)
    }

    /// Connects to a DC of each domain of `dns` this forest has no connection to yet: found in
    /// DNS (`_ldap._tcp.dc._msdcs.<domain>`) and signed in as the forest's first DC was. A DN in no
    /// domain of the forest is left to the engine, which names it.
    pub(crate) async fn reach_domains(&mut self, dns: &[String]) -> Result<(), Error> {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for dn in dns {
            let Some(d) = self.ad.disc.domain_of(dn) else { continue };
            let served = d.dn.eq_ignore_ascii_case(&self.ad.disc.default_naming_context)
                || self.domains.iter().any(|s| s.disc.default_naming_context.eq_ignore_ascii_case(&d.dn));
            if !served && !wanted.iter().any(|(root, _)| root.eq_ignore_ascii_case(&d.dn)) {
                wanted.push((d.dn.clone(), d.dns_name.clone()));
            }
        }
        let first = &self.ad;
        let reached =
            futures_util::future::join_all(wanted.iter().map(|(_, dns_name)| first.reach_domain(dns_name))).await;
        for ((_, dns_name), r) in wanted.iter().zip(reached) {
            let session = r.map_err(|e| Error::InForest {
                forest: format!("{} (domain {dns_name})", self.ad.forest),
                source: Box::new(e),
            })?;
            self.domains.push(session);
        }
        Ok(())
    }
}

/// A forest the sync engine (or the settings) names that this run does not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotCovered {
    pub forest: String,
    pub left_out: bool,
    pub why: String,
}

fn left_out(opts: &Options, forest: &str) -> bool {
    opts.flags.leave_out.iter().any(|l| l.trim_end_matches('.').eq_ignore_ascii_case(forest.trim_end_matches('.')))
}

fn left(forest: &str) -> NotCovered {
    NotCovered { forest: forest.to_string(), left_out: true, why: "left out on purpose (--leave-out)".into() }
}

/// The directories the configuration names, the first being [`primary`]'s: with a place on the
/// command line that one alone; else the settings' top-level one (when it names a place) and
/// each `[[directory]]` table of another forest.
pub fn named_directories(opts: &Options) -> Result<Vec<DirectorySpec>, Error> {
    let first = primary(opts)?;
    let mut out = vec![first.clone()];
    if opts.flags.ad_url.is_some() || opts.flags.forest.is_some() {
        return Ok(out);
    }
    let settings = opts.settings()?;
    for table in &settings.directories {
        let same = |f: &Option<String>| f.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(&table.forest));
        if out.iter().any(|d| same(&d.forest)) {
            continue;
        }
        out.push(DirectorySpec {
            forest: Some(table.forest.clone()),
            settings: table.over(&settings),
            source: format!("the settings' [[directory]] table for {}", table.forest),
            ..DirectorySpec::blank()
        });
    }
    Ok(out)
}

/// Reaches every directory the configuration names at the same time (`typed` is the first's
/// password, from the wizard), leaving out those `--leave-out` names. Any of them failing fails
/// the whole, named by its forest: they were asked for.
pub(crate) async fn connect_named(
    opts: &Options,
    typed: Option<crate::secrets::Secret>,
) -> Result<(Vec<AdSession>, Vec<NotCovered>), Error> {
    let specs = named_directories(opts)?;
    let mut skipped = Vec::new();
    let mut wanted = Vec::new();
    for (i, spec) in specs.into_iter().enumerate() {
        match &spec.forest {
            Some(f) if left_out(opts, f) => skipped.push(left(f)),
            _ => wanted.push((i, spec)),
        }
    }
    let typed = &typed;
    let reached = futures_util::future::join_all(
        wanted
            .iter()
            .map(|(i, spec)| async move { connect_to(opts, spec, if *i == 0 { typed.clone() } else { None }).await }),
    )
    .await;
    let mut ads: Vec<AdSession> = Vec::new();
    for ((_, spec), r) in wanted.iter().zip(reached) {
        let ad = r.map_err(|e| in_forest(spec, e))?;
        if left_out(opts, &ad.forest) {
            skipped.push(left(&ad.forest));
            continue;
        }
        if ads.iter().any(|a| a.forest.eq_ignore_ascii_case(&ad.forest)) {
            return Err(Error::Usage {
                message: format!("the forest {} is named twice ({} and an earlier one)", ad.forest, ad.source),
                remedy:
                    "Name each forest once: one [[directory]] table per forest, or the top-level keys for one of them."
                        .into(),
            });
        }
        ads.push(ad);
    }
    Ok((ads, skipped))
}

/// Names the forest (or the DC) an error came from, when the configuration has several.
fn in_forest(spec: &DirectorySpec, e: Error) -> Error {
    match (&spec.forest, &spec.settings.ad_url) {
        (Some(f), _) => Error::InForest { forest: f.clone(), source: Box::new(e) },
        (None, Some(url)) => Error::InForest { forest: url.clone(), source: Box::new(e) },
        _ => e,
    }
}

/// The forests the sync engine serves, as its AD connectors name them.
pub(crate) fn engine_forests(state: &EngineState) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &state.ad_connectors {
        let name = c.name.trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Reaches each forest the sync engine serves that `reached` does not: with the signed-in account
/// (`--ad-current-user`, the wizard's "Use my Windows sign-in"), the forest's DCs found in DNS. A
/// forest it cannot reach, or has no account for, is not covered, with why.
pub(crate) async fn connect_engine_forests(
    opts: &Options,
    state: &EngineState,
    reached: &[AdSession],
) -> Result<(Vec<AdSession>, Vec<NotCovered>), Error> {
    let base = opts.settings()?;
    let mut not_covered = Vec::new();
    let mut specs = Vec::new();
    for forest in engine_forests(state) {
        if reached.iter().any(|a| a.forest.eq_ignore_ascii_case(&forest)) {
            continue;
        }
        if left_out(opts, &forest) {
            not_covered.push(left(&forest));
            continue;
        }
        if !opts.flags.ad_current_user {
            not_covered.push(NotCovered {
                forest: forest.clone(),
                left_out: false,
                why:
                    "no Enterprise Admin of it is named (a [[directory]] table with its ad_user, or --ad-current-user)"
                        .into(),
            });
            continue;
        }
        let settings = crate::config::DirectorySettings { forest: forest.clone(), ..Default::default() }.over(&base);
        specs.push(DirectorySpec {
            forest: Some(forest.clone()),
            settings,
            source: format!("the sync engine's AD connector for {forest}"),
            ..DirectorySpec::blank()
        });
    }
    let tried = futures_util::future::join_all(specs.iter().map(|s| connect_to(opts, s, None))).await;
    let mut ads = Vec::new();
    for (spec, r) in specs.iter().zip(tried) {
        let forest = spec.forest.clone().unwrap_or_default();
        match r {
            Ok(ad) => ads.push(ad),
            Err(e) => not_covered.push(NotCovered {
                forest,
                left_out: false,
                why: format!("it could not be reached: {} [{}]", e, crate::diagnose::Diagnose::code(&e)),
            }),
        }
    }
    Ok((ads, not_covered))
}

/// Refuses a `--leave-out` that names no forest of this run: a typo would otherwise leave out
/// nothing, silently.
pub(crate) fn check_left_out(opts: &Options, known: &[String]) -> Result<(), Error> {
    match opts.flags.leave_out.iter().find(|l| !known.iter().any(|k| k.eq_ignore_ascii_case(l.trim_end_matches('.')))) {
        None => Ok(()),
        Some(l) => Err(Error::Usage {
            message: format!("--leave-out {l} names no forest of this configuration ({})", known.join(", ")),
            remedy: "Name a forest the settings or the sync engine name, as its DNS name.".into(),
        }),
    }
}
