//! Troubleshooting: the sync server's writeback events explained, and the users they name checked
//! against their DCs — in scope, protected, reachable by the connector account as Windows decides
//! it, and old enough a password for the policy's minimum age.

use tokio_util::sync::CancellationToken;

use super::{Error, Session};
use crate::ad::{access, policy, sd::SecurityDescriptor};
use crate::events::{Diagnosis, NamedUser};
use crate::sync_engine::WinEvent;

impl Session {
    /// `diagnose` and the wizard's Troubleshoot task: `events` (an export), else the sync server's
    /// own, explained and grouped, each user they name checked against its DC.
    pub async fn troubleshoot(
        &mut self,
        events: Option<Vec<WinEvent>>,
        now: std::time::SystemTime,
        cancel: &CancellationToken,
    ) -> Result<Diagnosis, Error> {
        let list = match events {
            Some(list) => list,
            None => self.sync_events().await?,
        };
        let mut d = crate::events::diagnose(&list);
        if let Err(e) = self.check_named(&mut d.users, now, cancel).await {
            d.users_not_checked = Some(e.to_string());
        }
        Ok(d)
    }

    async fn check_named(
        &mut self,
        users: &mut [NamedUser],
        now: std::time::SystemTime,
        cancel: &CancellationToken,
    ) -> Result<(), Error> {
        for f in &mut self.forests {
            let mut evaluator: Option<Option<access::Evaluator>> = None;
            for u in users.iter_mut().filter(|u| u.dn.is_none()) {
                let Some(account) = f.ad.account(&u.name).await? else { continue };
                let in_scope = f.scopes.iter().any(|s| {
                    let (dn, s) = (account.dn.to_ascii_lowercase(), s.to_ascii_lowercase());
                    dn == s || dn.ends_with(&format!(",{s}"))
                });
                let mut words = Vec::new();
                if !in_scope {
                    words.push("outside writeback's scopes: no grant is meant to reach it".to_string());
                }
                if account.admin_count {
                    words.push("protected (adminCount=1): Microsoft's writeback does not serve it".to_string());
                }
                let reachable = match &f.connector {
                    Some(connector) => {
                        if evaluator.is_none() {
                            let home = f.ad.disc.default_naming_context.to_ascii_lowercase();
                            let mine: Vec<String> = f
                                .scopes
                                .iter()
                                .filter(|s| f.ad.disc.domain_of(s).is_some_and(|d| d.dn.to_ascii_lowercase() == home))
                                .cloned()
                                .collect();
                            evaluator = Some(
                                access::for_connector(&mut f.ad.conn, &f.ad.disc, connector, &mine, cancel).await?,
                            );
                        }
                        match evaluator.as_ref().and_then(Option::as_ref) {
                            Some(ev) => {
                                let entries =
                                    f.ad.conn
                                        .search_with(
                                            &account.dn,
                                            ldap3::Scope::Base,
                                            "(objectClass=*)",
                                            &access::Evaluator::USER_ATTRS,
                                            vec![crate::ad::sd_flags_control(crate::ad::SD_FLAGS_DACL)],
                                        )
                                        .await?;
                                entries.into_iter().next().map(|mut e| {
                                    let sd = e
                                        .bin_attrs
                                        .remove("nTSecurityDescriptor")
                                        .and_then(|mut v| v.pop())
                                        .and_then(|b| SecurityDescriptor::decode(&b).ok());
                                    let answer = ev.entry(&e, sd.as_ref()).now;
                                    if !answer.reachable {
                                        words.push(format!("the connector account cannot reach it: {}", answer.why()));
                                    }
                                    answer.reachable
                                })
                            }
                            None => None,
                        }
                    }
                    None => None,
                };
                let effective = policy::effective_policy(&mut f.ad.conn, &f.ad.disc, &account.dn).await?;
                let young = policy::too_young(account.pwd_last_set, effective.min_age_secs, now).is_some();
                if young {
                    words.push(format!(
                        "its password is younger than the minimum age of its policy ({}): a reset is refused until then",
                        policy::span(effective.min_age_secs)
                    ));
                }
                u.verdict = if words.is_empty() {
                    "in scope, reachable by the connector account, old enough a password: nothing here stops writeback for it".into()
                } else {
                    words.join("; ")
                };
                u.dn = Some(account.dn.clone());
                u.in_scope = Some(in_scope);
                u.protected = Some(account.admin_count);
                u.reachable = reachable;
                u.password_too_young = Some(young);
            }
        }
        for u in users.iter_mut().filter(|u| u.dn.is_none()) {
            u.verdict = "not found in the connected forests (a cloud-only user, or a forest not connected)".into();
        }
        Ok(())
    }
}
