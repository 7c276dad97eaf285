//! `status`, `plan`, `apply`, `verify`: the configuration engine on the command line.

use std::path::Path;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::output::{Outcome, Output};
use super::{ActionArgs, ConnectionArgs};
use crate::engine::apply::{self, Progress, Recovery};
use crate::engine::{self, Action, Plan};
use crate::session::{Error, FirstReads, PlanChoice, Session};
use crate::types::Exit;

/// [`open`] for `status` and `verify`: the tenant's check and the sync engine's state are read
/// while the directories are reached.
async fn open_reading(
    config_path: &Path,
    args: &ConnectionArgs,
    lab: &super::LabMode,
) -> Result<(Session, crate::session::FirstReads), Error> {
    let opts = args.options(config_path, lab);
    let cancel = CancellationToken::new();
    Session::open_reading(&opts, super::interactive(&super::print_device_code, &cancel)).await
}

async fn open(
    config_path: &Path,
    args: &ConnectionArgs,
    lab: &super::LabMode,
    want_tenant: bool,
) -> Result<Session, Error> {
    let opts = args.options(config_path, lab);
    let cancel = CancellationToken::new();
    Session::open(&opts, want_tenant, super::interactive(&super::print_device_code, &cancel)).await
}

fn action_of(a: ActionArgs) -> Result<Action, Error> {
    match (a.enable, a.disable) {
        (true, false) => Ok(Action::Enable),
        (false, true) => Ok(Action::Disable),
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
    if p.forests.len() > 1 {
        let names: Vec<&str> = p.forests.iter().map(|f| f.forest.as_str()).collect();
        t.push_str(&format!("Forests: {}\n", names.join(", ")));
    }
    for u in &p.uncovered {
        t.push_str(&format!(
            "Not covered: {}{} — {}; {}\n",
            u.forest,
            if u.left_out { " (left out)" } else { "" },
            u.why,
            u.consequence
        ));
    }
    for (i, s) in p.steps.iter().enumerate() {
        let forest = match (&s.forest, p.forests.len() > 1) {
            (Some(f), true) => format!(" [{f}]"),
            _ => String::new(),
        };
        t.push_str(&format!("{}. {}{forest}\n", i + 1, s.description));
        for c in &s.change() {
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
pub async fn status(
    args: &ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let (mut s, FirstReads { tenant, sync }) = open_reading(config_path, args, lab).await?;
    let mut st = s.status(tenant.clone(), sync).await?;
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
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let action = action_of(action)?;
    let mut s = open(config_path, args, lab, action == Action::Enable).await?;
    let choice = PlanChoice { include_adminsdholder: false, remove_preexisting };
    let p = s.plan(action, choice, &CancellationToken::new()).await?;
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
    if plan.is_empty() {
        return Ok(true);
    }
    ask(&format!("{}Apply these {} change(s)?", plan_text(plan), plan.steps.len()), yes, false)
}

/// Shows `text` and asks y/N on the terminal (yes with `--yes`, the text still shown when
/// `show_anyway`; no terminal and no `--yes` is a usage error: nothing that changes AD runs
/// unconfirmed).
fn ask(text: &str, yes: bool, show_anyway: bool) -> Result<bool, Error> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        if show_anyway {
            eprintln!("{}", super::output::terminal_safe(text));
        }
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("{}", super::output::terminal_safe(text));
        return Err(Error::Usage {
            message: "this changes AD and the sync engine, and there is no terminal to confirm on".into(),
            remedy: "Review what is listed above, then run the same command with --yes.".into(),
        });
    }
    eprint!("{} [y/N] ", super::output::terminal_safe(text.trim_end()));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// `apply`.
pub async fn apply(
    action: ActionArgs,
    opts: ApplyOptions,
    args: &ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let recovering = opts.rollback || opts.resume;
    let action =
        if recovering { if action.enable { Action::Enable } else { Action::Disable } } else { action_of(action)? };
    let enable = action == Action::Enable;
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
    let choice = PlanChoice { include_adminsdholder: false, remove_preexisting: opts.remove_preexisting };
    let plan = if recovering { None } else { Some(s.plan(action, choice, &cancel).await?) };
    s.sync_engine_ready()?;
    let recovery = if recovering {
        let path = s.unfinished()?.ok_or_else(|| Error::Usage {
            message: "there is no unfinished apply to roll back or resume".into(),
            remedy: "Run `status` to see the state.".into(),
        })?;
        let how = if opts.rollback { Recovery::Rollback } else { Recovery::Resume };
        // The journal is read and checked first, and what it would do is shown: a recovery writes
        // what the file says.
        let view = s.inspect_journal(&path).await?;
        let mut text = format!(
            "The unfinished apply in {} ({}) would be {}:\n",
            path.display(),
            if view.action == Action::Enable { "enable" } else { "disable" },
            if how == Recovery::Rollback {
                "rolled back (each begun step undone)"
            } else {
                "resumed (the steps not done made)"
            }
        );
        for line in view.lines() {
            text.push_str(&format!("  {}\n", super::output::shown(&line)));
        }
        if !ask(&text, opts.yes, true)? {
            out.note("Nothing was changed.");
            return Ok(Outcome { exit: Exit::Usage });
        }
        Some((path, how))
    } else {
        None
    };
    if let Some(plan) = &plan
        && !confirm(plan, opts.yes)?
    {
        out.note("Nothing was changed.");
        return Ok(Outcome { exit: Exit::Usage });
    }
    let recovery = recovery.as_ref().map(|(path, how)| (path.as_path(), *how));
    let outcome = s.apply(plan.as_ref(), recovery, opts.start_sync, &cancel, &progress).await?;
    let canary = match &opts.canary {
        Some(user) => Some(s.canary(user, None).await?),
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
    reset: Option<(String, std::time::Duration, bool)>,
    args: &ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    use std::io::IsTerminal;
    if reset.as_ref().is_some_and(|(_, _, show)| *show) && !std::io::stderr().is_terminal() {
        return Err(Error::Usage {
            message: "--show-password shows the new password on a terminal only, and stderr is not one".into(),
            remedy: "Run the command in a terminal (stderr not redirected), or leave --show-password out: the password is then never shown and the user resets it.".into(),
        });
    }
    let (mut s, FirstReads { tenant, sync }) = open_reading(config_path, args, lab).await?;
    let st = s.status(tenant.clone(), sync.clone()).await?;
    let mut checks = Vec::new();
    for target in &st.ad.scopes {
        let missing: Vec<&str> = target.aces.iter().filter(|a| !a.present).map(|a| a.description.as_str()).collect();
        checks.push(Check {
            check: format!("writeback permissions on {} (forest {})", target.dn, target.forest),
            ok: missing.is_empty(),
            detail: if missing.is_empty() { "all present".into() } else { format!("missing: {}", missing.join("; ")) },
        });
    }
    for u in &st.ad.uncovered {
        checks.push(Check {
            check: format!("forest {}, which the sync engine serves, is covered", u.forest),
            ok: false,
            detail: format!("{}; {}", u.why, u.consequence),
        });
    }
    checks.push(match &sync {
        Ok(e) => Check {
            check: "writeback on in the sync engine".into(),
            ok: e.writeback_enabled,
            detail: format!("{} backend", e.backend),
        },
        Err(e) => Check { check: "writeback on in the sync engine".into(), ok: false, detail: e.to_string() },
    });
    checks.push(match &tenant {
        Some(Ok(t)) => Check {
            check: "tenant ready (role, licence, directory sync)".into(),
            ok: t.ready(),
            detail: t.problems.join("; "),
        },
        Some(Err(e)) => {
            Check { check: "tenant ready (role, licence, directory sync)".into(), ok: false, detail: e.message.clone() }
        }
        None => Check { check: "tenant ready".into(), ok: false, detail: "not checked".into() },
    });
    let canary_result = match &canary {
        Some(user) => {
            let c = s.canary(user, None).await?;
            checks.push(Check {
                check: format!("the connector account resets and unlocks {}", c.user),
                ok: c.reset && c.unlock,
                detail: c.detail.clone().unwrap_or_else(|| "ok".into()),
            });
            Some(c)
        }
        None => None,
    };
    let mut trace = match reset {
        Some((user, timeout, show)) => Some(s.reset_test(&user, timeout, show, &CancellationToken::new()).await?),
        None => None,
    };
    let all = checks.iter().all(|c| c.ok) && trace.as_ref().is_none_or(|t| t.reached && t.hops.iter().all(|h| h.ok));
    if let Some(p) = trace.as_mut().and_then(|t| t.password.take()) {
        // Once, on the terminal checked above; dropped (and zeroed) right after.
        eprintln!(
            "The test user's new password (shown once, kept nowhere; they must change it at next sign-in): {}",
            p.expose()
        );
    }
    let mut doc = serde_json::json!({ "state": st.state, "checks": checks, "canary": canary_result });
    if let Some(t) = &trace {
        doc["reset_test"] = serde_json::json!(t);
        doc["hops"] = serde_json::json!(t.hops);
    }
    out.result(&doc, || {
        let mut t = format!("Password writeback: {}\n", st.state);
        for c in &checks {
            t.push_str(&format!("  [{}] {} — {}\n", if c.ok { "ok" } else { "NO" }, c.check, c.detail));
        }
        if let Some(trace) = &trace {
            t.push_str(&format!("Test reset of {}:\n", trace.user));
            for h in &trace.hops {
                t.push_str(&format!(
                    "  [{}] {} ({} ms) — {}\n",
                    if h.ok { "ok" } else { "NO" },
                    h.name,
                    h.ms,
                    h.detail
                ));
                if let Some(r) = &h.remedy {
                    t.push_str(&format!(
                        "        {}{r}\n",
                        h.event_id.map(|e| format!("event {e}: ")).unwrap_or_default()
                    ));
                }
            }
            for n in &trace.not_checked {
                t.push_str(&format!("  [--] not checked: {n}\n"));
            }
        }
        t
    });
    Ok(Outcome { exit: if all { Exit::Ok } else { Exit::No } })
}

/// `diagnose`: the writeback events, explained and grouped.
pub async fn diagnose(
    events: Option<std::path::PathBuf>,
    args: &ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let export = match events {
        Some(file) => {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::Usage {
                message: format!("cannot read {}: {e}", file.display()),
                remedy: "Give a file exported with Get-WinEvent … | ConvertTo-Json.".into(),
            })?;
            Some(writeback_core::session::parse_events(&text).map_err(|why| Error::Usage {
                message: format!("{} is not an event export: {why}", file.display()),
                remedy: "Export with: Get-WinEvent -FilterHashtable @{LogName='Application'; ProviderName='PasswordResetService','ADSync'} | Select-Object Id, ProviderName, @{n='TimeCreated';e={$_.TimeCreated.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')}}, LevelDisplayName, Message | ConvertTo-Json".into(),
            })?)
        }
        None => None,
    };
    let cancel = CancellationToken::new();
    let d = match (open(config_path, args, lab, false).await, export) {
        (Ok(mut s), export) => {
            let now = s.options().clock.now();
            s.troubleshoot(export, now, &cancel).await?
        }
        // An export read where no DC answers: explained, its users not checked.
        (Err(e), Some(list)) => {
            let mut d = writeback_core::events::diagnose(&list);
            d.users_not_checked = Some(format!("no directory to check them against: {e}"));
            d
        }
        (Err(e), None) => return Err(e),
    };
    out.result(&d, || {
        let mut t = format!("{} writeback events\n", d.events.len());
        for g in &d.groups {
            t.push_str(&format!("  {} ×{} (newest {}): {}\n", g.key, g.count, g.newest, g.meaning));
            if !g.remedy.is_empty() {
                t.push_str(&format!("      what to do: {}\n", g.remedy));
            }
        }
        if !d.users.is_empty() {
            t.push_str("Users the events name:\n");
            for u in &d.users {
                t.push_str(&format!("  {} ×{} (newest {}): {}\n", u.name, u.events, u.newest, u.verdict));
            }
        }
        if let Some(why) = &d.users_not_checked {
            t.push_str(&format!("The users the events name were not checked: {why}\n"));
        }
        t
    });
    Ok(Outcome::OK)
}
