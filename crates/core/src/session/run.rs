//! What a session does with the engine: status, plan, configure (apply, start a sync, prove it),
//! recover an unfinished apply, and the wizard's overview of today's state.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{AdSession, Error, ForestPart, Input, Session};
use crate::diagnose::ErrorReport;
use crate::engine::apply::{self, ApplyOutcome, Canary, Env, Progress, Recovery};
use crate::engine::grants::GrantRecord;
use crate::engine::plan::{Forest, Uncovered};
use crate::engine::{self, Action, Inputs, Plan};
use crate::entra::check::EntraCheck;
use crate::secrets::{self, Secret};
use crate::sync_engine::{EngineState, SyncError};

/// How a plan is asked for, besides its direction (the CLI's `plan` flags, the wizard's boxes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanChoice {
    /// `--include-adminsdholder`.
    pub include_adminsdholder: bool,
    /// `--remove-preexisting` (disable only).
    pub remove_preexisting: bool,
}

/// Today's state and what the readiness scan finds in the scopes (the findings `ad check`
/// prints): the wizard's Optional features.
#[derive(Debug, Clone)]
pub struct Overview {
    pub status: engine::Status,
    pub findings: crate::types::Findings,
}

/// What configuring did: the apply's outcome, and the canary's answer when one was asked for.
#[derive(Debug, Clone)]
pub struct Configured {
    pub outcome: ApplyOutcome,
    pub canary: Option<Result<Canary, ErrorReport>>,
}

impl Session {
    /// The tenant's readiness, when there is a tenant.
    pub async fn tenant(&self) -> Option<Result<EntraCheck, ErrorReport>> {
        super::tenant_check(self.entra.as_ref(), self.opts.clock.as_ref()).await
    }

    /// The engine's view of every forest: its connections (the first DC's, then each further
    /// domain's), discovery, operator, connector account, scopes and what the scan found there.
    fn inputs<'a>(
        &'a mut self,
        tenant: Option<Result<EntraCheck, ErrorReport>>,
        sync: Result<EngineState, SyncError>,
        granted: &'a GrantRecord,
        findings: Vec<Option<crate::ad::scan::Findings>>,
        include_adminsdholder: bool,
    ) -> Inputs<'a> {
        let uncovered = self.uncovered(granted, sync.as_ref().ok());
        let mut findings = findings.into_iter();
        let forests = self
            .forests
            .iter_mut()
            .map(|f| {
                let ForestPart { ad, domains, connector, connector_source, scopes } = f;
                let AdSession { conn, disc, account, forest, .. } = ad;
                let mut conns = vec![(disc.default_naming_context.clone(), conn)];
                for d in domains.iter_mut() {
                    conns.push((d.disc.default_naming_context.clone(), &mut d.conn));
                }
                Forest {
                    name: forest.clone(),
                    conns,
                    disc,
                    operator: account,
                    connector: connector.as_ref(),
                    connector_source: connector_source.clone(),
                    scopes,
                    findings: findings.next().flatten(),
                }
            })
            .collect();
        Inputs { forests, include_adminsdholder, tenant, sync, granted, uncovered }
    }

    /// The forests the sync engine (or the settings) name that this run does not cover, with
    /// Microsoft's consequence: a forest added after this tool turned writeback on fails with 6329
    /// 0x8023061f until writeback is turned off and on again.
    fn uncovered(&self, granted: &GrantRecord, state: Option<&EngineState>) -> Vec<Uncovered> {
        let on = state.is_some_and(|s| s.writeback_enabled);
        self.not_covered
            .iter()
            .map(|n| {
                let added_after = on
                    && granted.switched_on_with().is_some_and(|w| !w.iter().any(|f| f.eq_ignore_ascii_case(&n.forest)));
                Uncovered {
                    forest: n.forest.clone(),
                    left_out: n.left_out,
                    why: n.why.clone(),
                    consequence: crate::engine::plan::uncovered_consequence(added_after),
                }
            })
            .collect()
    }

    /// Connects to a DC of each further domain the work reaches in each forest: the domains of
    /// its targets, of what this tool granted there, and of `more` (a journal's steps).
    async fn reach_domains(&mut self, granted: &GrantRecord, include: bool, more: &[String]) -> Result<(), Error> {
        futures_util::future::try_join_all(self.forests.iter_mut().map(|f| async move {
            let mut dns: Vec<String> =
                crate::engine::targets(&f.ad.disc, &f.scopes, include).into_iter().map(|(dn, _)| dn).collect();
            dns.extend(granted.table().keys().cloned());
            dns.extend(more.iter().cloned());
            f.reach_domains(&dns).await
        }))
        .await?;
        Ok(())
    }

    /// What the readiness scan finds in each forest's scopes (each domain's on its own
    /// connection, with its own minimum age), the forests scanned at the same time.
    async fn findings(&mut self, cancel: &CancellationToken) -> Result<Vec<Option<crate::ad::scan::Findings>>, Error> {
        let now = self.opts.clock.now();
        futures_util::future::try_join_all(self.forests.iter_mut().map(|f| f.findings(now, cancel)))
            .await
            .map(|all| all.into_iter().map(Some).collect())
    }

    /// The engine's status, with the tenant and sync-engine answers the caller already has.
    pub async fn status(
        &mut self,
        tenant: Option<Result<EntraCheck, ErrorReport>>,
        sync: Result<EngineState, SyncError>,
    ) -> Result<engine::Status, Error> {
        let unfinished = engine::journal::unfinished(&self.opts.paths.state_dir)?;
        let record = GrantRecord::load(&self.opts.paths)?;
        let include = self.opts.flags.include_adminsdholder;
        self.reach_domains(&record, include, &[]).await?;
        let none = vec![None; self.forests.len()];
        let mut inp = self.inputs(tenant, sync, &record, none, include);
        let mut status = engine::status(&mut inp, unfinished).await?;
        status.ad.connection = Some(self.forests[0].ad.protection.clone());
        for (f, part) in status.ad.forests.iter_mut().zip(&self.forests) {
            f.connection = Some(part.ad.protection.clone());
        }
        Ok(status)
    }

    /// Today's state and the readiness report, for the connector accounts and scopes chosen.
    pub async fn overview(&mut self, cancel: &CancellationToken) -> Result<Overview, Error> {
        let (tenant, sync) = tokio::join!(self.tenant(), self.sync_state());
        let status = self.status(tenant, sync).await?;
        let mut findings = crate::ad::scan::Findings::default();
        for f in self.findings(cancel).await?.into_iter().flatten() {
            findings.merge(f);
        }
        Ok(Overview { status, findings })
    }

    /// Chooses the first forest's connector account (by DN) and scopes; an empty list keeps the
    /// scopes.
    pub async fn choose(&mut self, connector: Option<&str>, scopes: Vec<String>) -> Result<(), Error> {
        let first = self.forest_names().remove(0);
        self.choose_in(&first, connector, scopes).await
    }

    /// Chooses a forest's connector account (by DN) and scopes; an empty list keeps the scopes.
    pub async fn choose_in(&mut self, forest: &str, connector: Option<&str>, scopes: Vec<String>) -> Result<(), Error> {
        let Some(f) = self.forests.iter_mut().find(|f| f.name().eq_ignore_ascii_case(forest)) else {
            return Err(Error::Usage {
                message: format!("{forest} is not a forest of this session"),
                remedy: "Choose one of the forests on Connect your directories.".into(),
            });
        };
        if let Some(dn) = connector
            && let Some(a) = f.ad.account(dn).await?
        {
            f.connector = Some(a);
        }
        if !scopes.is_empty() {
            f.scopes = scopes;
        }
        Ok(())
    }

    /// Plans enabling or disabling. `cancel` stops the readiness scan an enable plan runs (the
    /// wizard's Cancel).
    pub async fn plan(
        &mut self,
        action: Action,
        choice: PlanChoice,
        cancel: &CancellationToken,
    ) -> Result<Plan, Error> {
        let enable = action == Action::Enable;
        let (tenant, sync) = tokio::join!(async { if enable { self.tenant().await } else { None } }, self.sync_state());
        let record = GrantRecord::load(&self.opts.paths)?;
        let include = choice.include_adminsdholder || self.opts.flags.include_adminsdholder;
        self.reach_domains(&record, include, &[]).await?;
        let findings = if enable { self.findings(cancel).await? } else { vec![None; self.forests.len()] };
        let mut inp = self.inputs(tenant, sync, &record, findings, include);
        Ok(match action {
            Action::Enable => engine::plan_enable(&mut inp).await?,
            Action::Disable => engine::plan_disable(&mut inp, choice.remove_preexisting).await?,
        })
    }

    /// Applies a plan (`recovery`: roll back or resume the unfinished apply in that journal
    /// instead).
    pub async fn apply(
        &mut self,
        plan: Option<&Plan>,
        recovery: Option<(&Path, Recovery)>,
        start_sync: bool,
        cancel: &CancellationToken,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<ApplyOutcome, Error> {
        let mut grants = GrantRecord::load(&self.opts.paths)?;
        // Every domain the changes reach, connected before anything is journalled.
        let mut dns: Vec<String> =
            plan.map(|p| p.steps.iter().filter_map(|s| s.target.dn().map(String::from)).collect()).unwrap_or_default();
        if let Some((path, _)) = recovery {
            dns.extend(engine::journal::step_targets(path)?);
        }
        self.reach_domains(&grants, false, &dns).await?;
        let backend = self.backend.as_ref().map_err(Clone::clone)?;
        let routes = self
            .forests
            .iter_mut()
            .flat_map(ForestPart::sessions_mut)
            .map(|s| {
                let AdSession { conn, disc, account, forest, .. } = s;
                apply::Route::of(conn, disc, forest, &account.dn)
            })
            .collect();
        let mut env = Env {
            routes,
            sync: backend,
            paths: &self.opts.paths,
            grants: &mut grants,
            cancel,
            progress,
            clock: self.opts.clock.as_ref(),
        };
        Ok(match (recovery, plan) {
            (Some((path, how)), _) => apply::recover(path, how, &mut env).await?,
            (None, Some(plan)) => apply::apply(plan, &mut env, start_sync).await?,
            (None, None) => {
                ApplyOutcome { applied: Vec::new(), verified: false, sync_started: false, warnings: Vec::new() }
            }
        })
    }

    /// The wizard's Configure: the Cloud Sync credential for the switch (when given), the apply,
    /// then the canary (when asked for and the apply verified).
    pub async fn configure(
        &mut self,
        plan: &Plan,
        start_sync: bool,
        canary: Option<(String, Option<Secret>)>,
        cloudsync: Option<(String, Option<Secret>)>,
        cancel: &CancellationToken,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Configured, Error> {
        if let Some((user, password)) = cloudsync {
            self.set_cloudsync_credential(user, password)?;
        }
        let outcome = self.apply(Some(plan), None, start_sync, cancel, progress).await?;
        let canary = match canary {
            Some((user, password)) if outcome.verified => {
                Some(self.canary(&user, password).await.map_err(|e| ErrorReport::from_error(&e)))
            }
            _ => None,
        };
        Ok(Configured { outcome, canary })
    }

    /// Rolls back (or resumes) the unfinished apply whose journal is at `journal`.
    pub async fn recover(
        &mut self,
        journal: &Path,
        how: Recovery,
        cancel: &CancellationToken,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<ApplyOutcome, Error> {
        self.apply(None, Some((journal, how)), false, cancel, progress).await
    }

    /// The journal of an apply that did not finish, if any.
    pub fn unfinished(&self) -> Result<Option<std::path::PathBuf>, Error> {
        Ok(engine::journal::unfinished(&self.opts.paths.state_dir)?)
    }

    /// What recovering the unfinished journal at `path` would do, checked against the directories
    /// this session reaches (refused when it holds anything a plan could not have produced).
    pub async fn inspect_journal(&mut self, path: &Path) -> Result<apply::JournalView, Error> {
        let grants = GrantRecord::load(&self.opts.paths)?;
        self.reach_domains(&grants, false, &engine::journal::step_targets(path)?).await?;
        let here: Vec<crate::engine::journal::Directory> = self
            .forests
            .iter_mut()
            .flat_map(ForestPart::sessions_mut)
            .map(|s| crate::engine::journal::Directory::in_forest(&s.disc, &s.forest))
            .collect();
        Ok(apply::inspect(path, &here)?)
    }

    /// Proves writeback on `user`, bound as its forest's connector account (its password typed
    /// into the wizard, lab mode's, or from the secrets lookup).
    pub async fn canary(&mut self, user: &str, typed: Option<Secret>) -> Result<Canary, Error> {
        // The forest that holds the user (the first, when none finds it: its error says so).
        let mut at = 0;
        for (i, f) in self.forests.iter_mut().enumerate() {
            if f.ad.account(user).await?.is_some() {
                at = i;
                break;
            }
        }
        let front = self.opts.front;
        let f = &mut self.forests[at];
        // Not the operator, not the connector: resetting either to a forgotten value locks out the
        // very accounts this procedure needs.
        if let Some(a) = f.ad.account(user).await? {
            let who = [
                (Some(&f.ad.account), "the account you are signed in with"),
                (f.connector.as_ref(), "the AD DS connector account"),
            ];
            if let Some((_, what)) =
                who.iter().find(|(acc, _)| acc.is_some_and(|acc| acc.dn.eq_ignore_ascii_case(&a.dn)))
            {
                return Err(engine::EngineError::CanaryRefused { user: a.dn, why: format!("it is {what}") }.into());
            }
        }
        let connector = f.connector.clone().ok_or(Error::Missing { input: Input::ConnectorAccount, front })?;
        let from_env = std::env::var_os(secrets::CONNECTOR_PASSWORD.env_var).is_some();
        let password = match (typed, f.ad.preset_connector_password.clone()) {
            (Some(p), _) => p,
            (None, Some(p)) if !from_env => p,
            _ => secrets::resolve_default(secrets::CONNECTOR_PASSWORD)?,
        };
        let mut as_connector = f.ad.bind_as(&connector, &password).await?;
        let result = apply::canary(&mut f.ad.conn, &f.ad.disc, &mut as_connector, user).await;
        as_connector.close().await;
        Ok(result?)
    }
}
