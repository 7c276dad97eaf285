//! `ad check`, `acl show DN`, `policy test USER`.

use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::output::{Outcome, Output};
use super::{AclCommand, AdCommand, PolicyCommand};
use crate::session::{self, Error};
use crate::types::{Exit, FindingKind};

/// A token cancelled by Ctrl-C, so long reads stop cleanly.
fn ctrl_c_token() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            t.cancel();
        }
    });
    token
}

fn list(kind: &FindingKind, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut s = format!("\n{}: {}\n", kind.count(items.len()), kind.remedy);
    for i in items.iter().take(20) {
        s.push_str(&format!("  - {i}\n"));
    }
    if items.len() > 20 {
        s.push_str(&format!("  … and {} more (see --json)\n", items.len() - 20));
    }
    s
}

/// Runs an `ad` command.
pub async fn ad(command: AdCommand, config_path: &Path, lab: &super::LabMode, out: Output) -> Result<Outcome, Error> {
    let connection = match command {
        AdCommand::Check { connection } => connection,
        AdCommand::Access { account, connection } => {
            return access(&account, &connection, config_path, lab, out).await;
        }
    };
    let opts = connection.options(config_path, lab);
    let mut s = session::connect(&opts, None).await?;
    let scopes = s.default_scopes(None);
    let cancel = ctrl_c_token();
    let mut progress = |n: usize| {
        if !out.json && n > 0 {
            eprint!("\r  scanned {n} objects");
        }
    };
    let report = s.readiness(None, &scopes, opts.clock.now(), &cancel, &mut progress).await?;
    if !out.json {
        eprintln!();
    }
    out.result(&report, || {
        let mut t = format!("Domain controller {} — signed in as {}\n", report.dc, report.account);
        if report.enterprise_admin {
            t.push_str("Enterprise Admins: yes\n");
        } else {
            t.push_str(&format!(
                "Enterprise Admins: NO — the account is not a member of {} (directly or nested){}. Use an Enterprise Admin, or ask a forest administrator to add it.\n",
                report.enterprise_admins_sid,
                if report.domain_admin { "; it is a Domain Admin, which is not enough to change permissions across the forest" } else { "" }
            ));
        }
        for d in &report.domains {
            t.push_str(&format!("Domain {} ({}, {})\n", d.dns_name, d.netbios_name, d.dn));
        }
        let p = &report.password_policy;
        t.push_str(&format!("Password policy: at least {} characters, complexity {}, history {}\n", p.min_length, if p.complexity { "on" } else { "off" }, p.history_length));
        match &report.connector_account {
            Some(c) => t.push_str(&format!("Connector account: {} ({}){}\n", c.sam_account_name, c.dn, if c.enabled { "" } else { " — DISABLED" })),
            None => t.push_str("Connector account: not chosen\n"),
        }
        t.push_str(&format!("Scopes: {} — {} users\n", report.scopes.join("; "), report.users_in_scope));
        for (kind, items) in report.findings().each() {
            t.push_str(&list(&kind, items));
        }
        if let Some(a) = &report.access {
            match a.summary() {
                None => t.push_str("\nAccess: after the plan the connector account reaches every user in scope (decided as Windows' access check decides).\n"),
                Some(summary) => {
                    t.push_str(&format!("\nAccess: {summary}.\n"));
                    for u in a.unreachable.iter().take(20) {
                        let (when, answer) = if u.after_plan.reachable { ("after SDProp", &u.after_sdprop) } else { ("after the plan", &u.after_plan) };
                        t.push_str(&format!("  - {} ({when}): {}\n", u.dn, answer_words(answer)));
                    }
                }
            }
        }
        t.push_str(&format!("Password-policy-hints control: {}\n", if report.policy_hints_control { "offered" } else { "not offered" }));
        for w in &report.warnings {
            t.push_str(&format!("warning: {w}\n"));
        }
        t
    });
    Ok(Outcome { exit: if report.enterprise_admin { Exit::Ok } else { Exit::No } })
}

/// `ad access`'s document: the summary and one entry per user.
#[derive(serde::Serialize)]
struct AccessDoc {
    #[serde(flatten)]
    summary: session::AccessSummary,
    users: Vec<crate::types::UserAccess>,
}

fn answer_words(a: &crate::types::AccessAnswer) -> String {
    if a.reachable { "reachable".into() } else { format!("NOT reachable: {}", a.why()) }
}

/// `ad access --as ACCOUNT [--scope DN]`.
async fn access(
    account: &str,
    connection: &super::ConnectionArgs,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let opts = connection.options(config_path, lab);
    let mut s = session::connect(&opts, None).await?;
    let cancel = ctrl_c_token();
    let mut users = Vec::new();
    let summary = s.access(account, connection.include_adminsdholder, &cancel, &mut |u| users.push(u)).await?;
    let doc = AccessDoc { summary, users };
    out.result(&doc, || {
        let c = &doc.summary.counts;
        let mut t = format!("{} users under {} for {}\n", c.users, doc.summary.scopes.join("; "), doc.summary.account);
        for (name, table) in [("now", &c.now), ("after the plan", &c.after_plan), ("after SDProp", &c.after_sdprop)] {
            let mut parts: Vec<String> = table.iter().map(|(k, v)| format!("{v} {k}")).collect();
            parts.sort();
            t.push_str(&format!("  {name}: {}\n", parts.join(", ")));
        }
        for u in doc.users.iter().filter(|u| !(u.now.reachable && u.after_plan.reachable && u.after_sdprop.reachable)) {
            t.push_str(&format!("{}\n", u.dn));
            t.push_str(&format!("    now: {}\n", answer_words(&u.now)));
            t.push_str(&format!("    after the plan: {}\n", answer_words(&u.after_plan)));
            if u.after_sdprop != u.after_plan {
                t.push_str(&format!("    after SDProp: {}\n", answer_words(&u.after_sdprop)));
            }
        }
        t
    });
    Ok(Outcome::OK)
}

/// Runs an `acl` command.
pub async fn acl(command: AclCommand, config_path: &Path, lab: &super::LabMode, out: Output) -> Result<Outcome, Error> {
    let AclCommand::Show { dn, connection } = command;
    let mut s = session::connect(&connection.options(config_path, lab), None).await?;
    let report = s.acl(&dn).await?;
    out.result(&report, || {
        let mut t = format!("{}\n{}\n", report.dn, report.sddl);
        if report.inheritance_blocked {
            t.push_str("Inheritance is blocked on this object.\n");
        }
        for a in &report.aces {
            t.push_str(&format!("  {}\n", a.text));
        }
        t
    });
    Ok(Outcome::OK)
}

/// Runs a `policy` command.
pub async fn policy(
    command: PolicyCommand,
    config_path: &Path,
    lab: &super::LabMode,
    out: Output,
) -> Result<Outcome, Error> {
    let PolicyCommand::Test { user, connection } = command;
    let password = super::read_stdin_secret("New password to test: ")?;
    let opts = connection.options(config_path, lab);
    let mut s = session::connect(&opts, None).await?;
    let report = s.test_password(&user, &password, opts.clock.now()).await?;
    let acceptable = report.verdict.acceptable;
    out.result(&report, || {
        let mut t = if acceptable {
            format!("Acceptable for {}.\n", report.user)
        } else {
            format!("Rejected for {}:\n", report.user)
        };
        for r in &report.verdict.reasons {
            t.push_str(&format!("  - {}\n", r.text));
        }
        for u in &report.verdict.unknown {
            t.push_str(&format!("  (not checked: {u})\n"));
        }
        t
    });
    Ok(Outcome { exit: if acceptable { Exit::Ok } else { Exit::No } })
}
