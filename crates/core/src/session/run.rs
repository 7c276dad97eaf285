//! What a session does with the engine: status, plan, configure (apply, start a sync, prove it),
//! recover an unfinished apply, and the wizard's overview of today's state.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{Error, Input, Session};
use crate::diagnose::ErrorReport;
use crate::engine::apply::{self, ApplyOutcome, Canary, Env, Progress, Recovery};
use crate::engine::grants::GrantRecord;
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
        match &self.entra {
            Some(Ok(e)) => Some(e.check(self.opts.clock.as_ref()).await.map_err(|err| ErrorReport::brief(&err))),
            Some(Err(e)) => Some(Err(ErrorReport::brief(e))),
            None => None,
        }
    }

    fn inputs<'a>(
        &'a mut self,
        tenant: Option<Result<EntraCheck, ErrorReport>>,
        sync: Result<EngineState, SyncError>,
        granted: &'a std::collections::BTreeMap<String, Vec<crate::ad::sd::Ace>>,
        findings: Option<crate::ad::scan::Findings>,
        include_adminsdholder: bool,
    ) -> Inputs<'a> {
        Inputs {
            ad: &mut self.ad.conn,
            disc: &self.ad.disc,
            operator: &self.ad.account,
            connector: self.connector.as_ref(),
            scopes: &self.scopes,
            include_adminsdholder,
            tenant,
            sync,
            granted,
            connector_source: self.connector_source.clone(),
            findings,
        }
    }

    /// What the readiness scan finds in the scopes, the minimum age included (for the plan).
    async fn findings(&mut self, cancel: &CancellationToken) -> Result<crate::ad::scan::Findings, Error> {
        let ad = &mut self.ad;
        let domain = crate::ad::policy::domain_policy(&mut ad.conn, &ad.disc).await?;
        let min_age = crate::ad::readiness::min_age(&mut ad.conn, &ad.disc, &domain, self.opts.clock.now()).await?;
        let sid = self.connector.as_ref().and_then(|c| crate::ad::sd::Sid::parse(&c.sid).ok());
        Ok(crate::ad::scan::scan_with(&mut ad.conn, &self.scopes, sid.as_ref(), Some(&min_age), cancel, &mut |_| {})
            .await?)
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
        let mut inp = self.inputs(tenant, sync, record.table(), None, include);
        let mut status = engine::status(&mut inp, unfinished).await?;
        status.ad.connection = Some(self.ad.protection.clone());
        Ok(status)
    }

    /// Today's state and the readiness report, for the connector account and scopes chosen.
    pub async fn overview(&mut self, cancel: &CancellationToken) -> Result<Overview, Error> {
        let tenant = self.tenant().await;
        let sync = self.sync_state().await;
        let status = self.status(tenant, sync).await?;
        let connector = self.connector.as_ref().map(|a| a.dn.clone());
        let scopes = self.scopes.clone();
        let now = self.opts.clock.now();
        let readiness = self.ad.readiness(connector.as_deref(), &scopes, now, cancel, &mut |_| {}).await?;
        Ok(Overview { status, findings: readiness.findings() })
    }

    /// Chooses the connector account (by DN) and the scopes; an empty list keeps the scopes.
    pub async fn choose(&mut self, connector: Option<&str>, scopes: Vec<String>) -> Result<(), Error> {
        if let Some(dn) = connector
            && let Some(a) = self.ad.account(dn).await?
        {
            self.connector = Some(a);
        }
        if !scopes.is_empty() {
            self.scopes = scopes;
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
        let tenant = if enable { self.tenant().await } else { None };
        let sync = self.sync_state().await;
        let record = GrantRecord::load(&self.opts.paths)?;
        let findings = if enable { Some(self.findings(cancel).await?) } else { None };
        let include = choice.include_adminsdholder || self.opts.flags.include_adminsdholder;
        let mut inp = self.inputs(tenant, sync, record.table(), findings, include);
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
        let backend = self.backend.as_ref().map_err(Clone::clone)?;
        let mut grants = GrantRecord::load(&self.opts.paths)?;
        let mut env = Env {
            ad: &mut self.ad.conn,
            sync: backend,
            paths: &self.opts.paths,
            grants: &mut grants,
            operator: &self.ad.account.dn,
            cancel,
            progress,
            clock: self.opts.clock.as_ref(),
            directory: crate::engine::journal::Directory::of(&self.ad.disc),
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

    /// What recovering the unfinished journal at `path` would do, checked against this
    /// directory (refused when it holds anything a plan could not have produced).
    pub fn inspect_journal(&self, path: &Path) -> Result<apply::JournalView, Error> {
        Ok(apply::inspect(path, &crate::engine::journal::Directory::of(&self.ad.disc))?)
    }

    /// Proves writeback on `user`, bound as the connector account (its password typed into the
    /// wizard, lab mode's, or from the secrets lookup).
    pub async fn canary(&mut self, user: &str, typed: Option<Secret>) -> Result<Canary, Error> {
        // Not the operator, not the connector: resetting either to a forgotten value locks out the
        // very accounts this procedure needs.
        if let Some(a) = self.ad.account(user).await? {
            let who = [
                (Some(&self.ad.account), "the account you are signed in with"),
                (self.connector.as_ref(), "the AD DS connector account"),
            ];
            if let Some((_, what)) =
                who.iter().find(|(acc, _)| acc.is_some_and(|acc| acc.dn.eq_ignore_ascii_case(&a.dn)))
            {
                return Err(engine::EngineError::CanaryRefused { user: a.dn, why: format!("it is {what}") }.into());
            }
        }
        let connector =
            self.connector.clone().ok_or(Error::Missing { input: Input::ConnectorAccount, front: self.opts.front })?;
        let from_env = std::env::var_os(secrets::CONNECTOR_PASSWORD.env_var).is_some();
        let password = match (typed, self.ad.preset_connector_password.clone()) {
            (Some(p), _) => p,
            (None, Some(p)) if !from_env => p,
            _ => secrets::resolve_default(secrets::CONNECTOR_PASSWORD)?,
        };
        let mut as_connector = self.ad.bind_as(&connector, &password).await?;
        let result = apply::canary(&mut self.ad.conn, &self.ad.disc, &mut as_connector, user).await;
        as_connector.close().await;
        Ok(result?)
    }
}
