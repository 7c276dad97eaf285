//! `status`, `plan`, `apply`, `verify`: the configuration engine on the command line.

use std::path::Path;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::output::{Outcome, Output};
use super::session::{self, AdSession, EntraSession};
use super::{ActionArgs, ConnectionArgs};
use crate::ad::directory::{self, Account};
use crate::config::{Cloud, SyncEngineKind};
use crate::engine::apply::{self, Env, Paths, Progress, Recovery};
use crate::engine::{self, Inputs, Plan, journal};
use crate::error::{Error, Exit};
use crate::secrets::{self, Secret};
use crate::sync_engine::{Backend, SyncEngine, adsync::AdSync, lab::LabEngine};

/// Everything the engine commands need (the wizard builds one too, page by page).
pub struct Session {
    /// The directory.
    pub ad: AdSession,
    /// The tenant, when it was wanted.
    pub entra: Option<Result<EntraSession, Error>>,
    /// The sync engine, or why there is none.
    pub backend: Result<Backend, String>,
    /// The connector account, when named or the only candidate.
    pub connector: Option<Account>,
    /// Where the permissions go.
    pub scopes: Vec<String>,
    /// The engine's files.
    pub paths: Paths,
    /// Also grant on AdminSDHolder.
    pub include_adminsdholder: bool,
}

/// Which sync engine the settings name (the lab's when the cloud is the lab).
pub fn kind_of(s: &crate::config::Settings, lab: bool) -> SyncEngineKind {
    s.sync_engine.unwrap_or(if lab || s.cloud == Some(Cloud::Lab) || s.lab_url.is_some() {
        SyncEngineKind::Lab
    } else {
        SyncEngineKind::Adsync
    })
}

async fn open(config_path: &Path, args: &ConnectionArgs, lab: bool, want_tenant: bool) -> Result<Session, Error> {
    let ad = session::connect(config_path, args, lab).await?;
    let kind = kind_of(&ad.settings, lab);
    let entra = if want_tenant || kind == SyncEngineKind::Lab {
        Some(session::entra(config_path, args, lab).await)
    } else {
        None
    };
    let mut s = assemble(ad, entra, lab, config_path).await?;
    s.include_adminsdholder = args.include_adminsdholder;
    Ok(s)
}

/// Puts a session together from a directory connection and (maybe) a tenant sign-in: the sync
/// engine, the connector account, the scopes.
pub async fn assemble(
    mut ad: AdSession,
    entra: Option<Result<EntraSession, Error>>,
    lab: bool,
    config_path: &Path,
) -> Result<Session, Error> {
    let kind = kind_of(&ad.settings, lab);
    let backend = match kind {
        SyncEngineKind::Adsync => Ok(Backend::AdSync(AdSync::default())),
        SyncEngineKind::Lab => match &entra {
            Some(Ok(e)) => match &e.lab_url {
                Some(url) => Ok(Backend::Lab(LabEngine::new(url, e.token.clone()))),
                None => Err("the lab sync engine needs --lab-url (or --lab)".to_string()),
            },
            Some(Err(e)) => Err(format!("the lab sync engine needs a tenant administrator's token: {e}")),
            None => Err("no token for the lab sync engine".into()),
        },
    };
    let connector = match &ad.settings.connector_account {
        Some(name) => directory::find_account(&mut ad.conn, &ad.disc, name).await?,
        None => {
            let found = directory::connector_candidates(&mut ad.conn, &ad.disc, None).await?;
            if found.len() == 1 { found.into_iter().next() } else { None }
        }
    };
    let scopes = if ad.settings.scope.is_empty() {
        vec![ad.disc.default_naming_context.clone()]
    } else {
        ad.settings.scope.clone()
    };
    Ok(Session {
        ad,
        entra,
        backend,
        connector,
        scopes,
        paths: Paths::default_for(config_path.to_path_buf()),
        include_adminsdholder: false,
    })
}

impl Session {
    /// The tenant's readiness, when there is a tenant.
    pub async fn tenant(&self) -> Option<Result<crate::entra::check::EntraCheck, String>> {
        match &self.entra {
            Some(Ok(e)) => Some(
                crate::entra::check::check(&e.graph, std::time::SystemTime::now()).await.map_err(|err| err.to_string()),
            ),
            Some(Err(e)) => Some(Err(e.to_string())),
            None => None,
        }
    }

    /// The sync engine's state.
    pub async fn sync_state(&self) -> Result<crate::sync_engine::EngineState, String> {
        match &self.backend {
            Ok(b) => b.state().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        }
    }

    /// The engine's status, with the tenant and sync-engine answers the caller already has.
    pub async fn status(
        &mut self,
        tenant: Option<Result<crate::entra::check::EntraCheck, String>>,
        sync: Result<crate::sync_engine::EngineState, String>,
        unfinished: Option<std::path::PathBuf>,
    ) -> Result<engine::Status, Error> {
        let granted = self.ad.settings.granted.clone();
        let mut inp = Inputs {
            ad: &mut self.ad.conn,
            disc: &self.ad.disc,
            operator: &self.ad.account,
            connector: self.connector.as_ref(),
            scopes: &self.scopes,
            include_adminsdholder: self.include_adminsdholder,
            tenant,
            sync,
            granted: &granted,
        };
        Ok(engine::status(&mut inp, unfinished).await?)
    }

    /// Plans enabling or disabling.
    pub async fn plan(&mut self, enable: bool, remove_preexisting: bool) -> Result<Plan, Error> {
        let tenant = if enable { self.tenant().await } else { None };
        let sync = self.sync_state().await;
        let granted = self.ad.settings.granted.clone();
        let include = self.include_adminsdholder;
        let mut inp = Inputs {
            ad: &mut self.ad.conn,
            disc: &self.ad.disc,
            operator: &self.ad.account,
            connector: self.connector.as_ref(),
            scopes: &self.scopes,
            include_adminsdholder: include,
            tenant,
            sync,
            granted: &granted,
        };
        Ok(if enable {
            engine::plan_enable(&mut inp).await?
        } else {
            engine::plan_disable(&mut inp, remove_preexisting).await?
        })
    }
}

fn action_of(a: ActionArgs) -> Result<bool, Error> {
    match (a.enable, a.disable) {
        (true, false) => Ok(true),
        (false, true) => Ok(false),
        _ => Err(Error::Usage {
            message: "say --enable or --disable".into(),
            remedy: "Add --enable to turn writeback on, or --disable to turn it off.".into(),
        }),
    }
}

/// A plan as text (the CLI prints it; the wizard's Ready page shows it).
pub fn plan_text(p: &Plan) -> String {
    let mut t = format!(
        "Plan: {}\n",
        if p.action == engine::Action::Enable { "enable password writeback" } else { "disable password writeback" }
    );
    for c in &p.preconditions {
        t.push_str(&format!(
            "  [{}] {}{}\n",
            if c.ok { "ok" } else { "NO" },
            c.check,
            if c.ok { String::new() } else { format!(" — {}", c.remedy) }
        ));
    }
    if p.steps.is_empty() {
        t.push_str("Nothing to change: it is already so.\n");
    }
    for (i, s) in p.steps.iter().enumerate() {
        t.push_str(&format!("{}. {}\n", i + 1, s.description));
        for c in &s.change {
            t.push_str(&format!("     {c}\n"));
        }
    }
    for k in &p.preexisting {
        t.push_str(&format!("  kept: {} {} ({})\n", k.target, k.sddl, k.description));
    }
    for w in &p.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
    t
}

/// `status`.
pub async fn status(args: &ConnectionArgs, config_path: &Path, lab: bool, out: Output) -> Result<Outcome, Error> {
    let mut s = open(config_path, args, lab, true).await?;
    let tenant = s.tenant().await;
    let sync = s.sync_state().await;
    let unfinished = journal::unfinished(&s.paths.state_dir)?;
    let mut st = s.status(tenant.clone(), sync, unfinished).await?;
    if let Some(Err(e)) = &tenant {
        st.missing.push(format!("the tenant could not be checked: {e}"));
    }
    out.result(&st, || {
        let mut t = format!("Password writeback: {}\n", st.state);
        for m in &st.missing {
            t.push_str(&format!("  missing: {m}\n"));
        }
        if let Some(j) = &st.unfinished_journal {
            t.push_str(&format!(
                "An earlier apply did not finish ({}): run `apply --rollback` or `apply --resume`.\n",
                j.display()
            ));
        }
        t
    });
    Ok(Outcome::OK)
}

/// `plan`.
pub async fn plan(
    action: ActionArgs,
    remove_preexisting: bool,
    args: &ConnectionArgs,
    config_path: &Path,
    lab: bool,
    out: Output,
) -> Result<Outcome, Error> {
    let enable = action_of(action)?;
    let mut s = open(config_path, args, lab, enable).await?;
    let p = s.plan(enable, remove_preexisting).await?;
    out.result(&p, || plan_text(&p));
    Ok(Outcome { exit: if p.ready() { Exit::Ok } else { Exit::No } })
}

/// `apply`'s switches.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Do not ask.
    pub yes: bool,
    /// Start a sync cycle afterwards.
    pub start_sync: bool,
    /// Prove writeback on this account afterwards.
    pub canary: Option<String>,
    /// Remove pre-existing ACEs too (disable).
    pub remove_preexisting: bool,
    /// Roll back an unfinished apply.
    pub rollback: bool,
    /// Resume an unfinished apply.
    pub resume: bool,
}

/// `apply`'s JSON document.
#[derive(Debug, Serialize)]
struct ApplyReport {
    applied: Vec<String>,
    verified: bool,
    sync_started: bool,
    canary: Option<apply::Canary>,
    warnings: Vec<String>,
}

fn confirm(plan: &Plan, yes: bool) -> Result<bool, Error> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes || plan.is_empty() {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage {
            message: "apply changes AD and the sync engine, and there is no terminal to confirm on".into(),
            remedy: "Review `plan`, then run `apply` with --yes.".into(),
        });
    }
    eprint!("{}Apply these {} change(s)? [y/N] ", plan_text(plan), plan.steps.len());
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// Binds as the connector account (for the canary), with the password typed into the wizard, or
/// the lab's, or from the secrets lookup.
pub async fn connector_connection(s: &Session, typed: Option<Secret>) -> Result<crate::ad::AdConnection, Error> {
    let connector = s.connector.as_ref().ok_or_else(|| Error::Usage {
        message: "the canary needs the connector account".into(),
        remedy: "Name it with --connector-account.".into(),
    })?;
    let password = match (typed, &s.ad.lab, std::env::var_os(secrets::CONNECTOR_PASSWORD.env_var)) {
        (Some(p), _, _) => p,
        (None, Some(info), None) => {
            let text = std::fs::read_to_string(&info.connector_password_file).map_err(|source| {
                crate::lab::LabError::Io { what: "read", path: info.connector_password_file.clone(), source }
            })?;
            Secret::new(text.trim_end_matches('\n'))
        }
        _ => secrets::resolve_default(secrets::CONNECTOR_PASSWORD)?,
    };
    let mut conn = crate::ad::AdConnection::connect(&s.ad.options).await?;
    conn.bind(&connector.dn, &password).await?;
    Ok(conn)
}

/// `apply`.
pub async fn apply(
    action: ActionArgs,
    opts: ApplyOptions,
    args: &ConnectionArgs,
    config_path: &Path,
    lab: bool,
    out: Output,
) -> Result<Outcome, Error> {
    let recovering = opts.rollback || opts.resume;
    let enable = if recovering { action.enable } else { action_of(action)? };
    let mut s = open(config_path, args, lab, enable && !recovering).await?;
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            c.cancel();
        }
    });
    let json = out.json;
    let progress = move |p: Progress| {
        if !json {
            match p {
                Progress::Started { id } => eprintln!("  {id} …"),
                Progress::Done { id, elapsed_ms } => eprintln!("  {id} done ({elapsed_ms} ms)"),
                Progress::Failed { id, error } => eprintln!("  {id} FAILED: {error}"),
                Progress::Undone { id } => eprintln!("  {id} rolled back"),
                Progress::SyncStarted => eprintln!("  sync cycle started"),
            }
        }
    };
    let plan = if recovering { None } else { Some(s.plan(enable, opts.remove_preexisting).await?) };
    let backend = std::mem::replace(&mut s.backend, Err("in use".into()))
        .map_err(|e| crate::sync_engine::SyncError::Lab { status: 0, detail: e })?;
    let recovery = if recovering {
        let path = journal::unfinished(&s.paths.state_dir)?.ok_or_else(|| Error::Usage {
            message: "there is no unfinished apply to roll back or resume".into(),
            remedy: "Run `status` to see the state.".into(),
        })?;
        Some((path, if opts.rollback { Recovery::Rollback } else { Recovery::Resume }))
    } else {
        None
    };
    if let Some(plan) = &plan
        && !confirm(plan, opts.yes)?
    {
        out.note("Nothing was changed.");
        return Ok(Outcome { exit: Exit::Usage });
    }
    let mut env = Env {
        ad: &mut s.ad.conn,
        sync: &backend,
        paths: &s.paths,
        settings: &mut s.ad.settings,
        operator: &s.ad.account.dn,
        cancel: &cancel,
        progress: &progress,
    };
    let outcome = match (recovery, &plan) {
        (Some((path, how)), _) => apply::recover(&path, how, &mut env).await?,
        (None, Some(plan)) => apply::apply(plan, &mut env, opts.start_sync).await?,
        (None, None) => return Err(Error::Usage { message: "no plan".into(), remedy: String::new() }),
    };
    let canary = match &opts.canary {
        Some(user) => {
            let mut as_connector = connector_connection(&s, None).await?;
            Some(apply::canary(&mut s.ad.conn, &s.ad.disc, &mut as_connector, user).await?)
        }
        None => None,
    };
    let report = ApplyReport {
        applied: outcome.applied,
        verified: outcome.verified,
        sync_started: outcome.sync_started,
        canary,
        warnings: outcome.warnings,
    };
    let canary_ok = report.canary.as_ref().is_none_or(|c| c.reset == enable && c.unlock == enable);
    out.result(&report, || {
        let mut t = if report.applied.is_empty() {
            "Nothing needed changing.\n".to_string()
        } else {
            format!("Applied: {}\n", report.applied.join(", "))
        };
        t.push_str(&format!("Verified: {}\n", if report.verified { "yes" } else { "NO" }));
        if let Some(c) = &report.canary {
            t.push_str(&format!("Canary {}: reset {}, unlock {}\n", c.user, c.reset, c.unlock));
        }
        for w in &report.warnings {
            t.push_str(&format!("warning: {w}\n"));
        }
        t
    });
    Ok(Outcome { exit: if report.verified && canary_ok { Exit::Ok } else { Exit::No } })
}

/// One check of `verify`.
#[derive(Debug, Serialize)]
struct Check {
    check: String,
    ok: bool,
    detail: String,
}

/// `verify`.
pub async fn verify(
    canary: Option<String>,
    args: &ConnectionArgs,
    config_path: &Path,
    lab: bool,
    out: Output,
) -> Result<Outcome, Error> {
    let mut s = open(config_path, args, lab, true).await?;
    let tenant = s.tenant().await;
    let sync = s.sync_state().await;
    let st = s.status(tenant.clone(), sync.clone(), None).await?;
    let mut checks = Vec::new();
    for target in &st.ad.scopes {
        let missing: Vec<&str> = target.aces.iter().filter(|a| !a.present).map(|a| a.description.as_str()).collect();
        checks.push(Check {
            check: format!("writeback permissions on {}", target.dn),
            ok: missing.is_empty(),
            detail: if missing.is_empty() { "all present".into() } else { format!("missing: {}", missing.join("; ")) },
        });
    }
    checks.push(match &sync {
        Ok(e) => Check {
            check: "writeback on in the sync engine".into(),
            ok: e.writeback_enabled,
            detail: format!("{} backend", e.backend),
        },
        Err(e) => Check { check: "writeback on in the sync engine".into(), ok: false, detail: e.clone() },
    });
    checks.push(match &tenant {
        Some(Ok(t)) => Check {
            check: "tenant ready (role, licence, directory sync)".into(),
            ok: t.ready(),
            detail: t.problems.join("; "),
        },
        Some(Err(e)) => {
            Check { check: "tenant ready (role, licence, directory sync)".into(), ok: false, detail: e.clone() }
        }
        None => Check { check: "tenant ready".into(), ok: false, detail: "not checked".into() },
    });
    let canary_result = match &canary {
        Some(user) => {
            let mut as_connector = connector_connection(&s, None).await?;
            let c = apply::canary(&mut s.ad.conn, &s.ad.disc, &mut as_connector, user).await?;
            checks.push(Check {
                check: format!("the connector account resets and unlocks {}", c.user),
                ok: c.reset && c.unlock,
                detail: c.detail.clone().unwrap_or_else(|| "ok".into()),
            });
            Some(c)
        }
        None => None,
    };
    let all = checks.iter().all(|c| c.ok);
    let doc = serde_json::json!({ "state": st.state, "checks": checks, "canary": canary_result });
    out.result(&doc, || {
        let mut t = format!("Password writeback: {}\n", st.state);
        for c in &checks {
            t.push_str(&format!("  [{}] {} — {}\n", if c.ok { "ok" } else { "NO" }, c.check, c.detail));
        }
        t
    });
    Ok(Outcome { exit: if all { Exit::Ok } else { Exit::No } })
}
