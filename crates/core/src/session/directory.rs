//! What the fronts read of the directory through a bound [`AdSession`]: the readiness report, an
//! object's DACL, the password test, the scope browser and the account pickers, and what the
//! wizard shows once connected.

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{AdSession, Error};
use crate::ad::directory::{self, Account};
use crate::ad::names::{self, Names};
use crate::ad::{AdError, policy, readiness, writeback};
use crate::secrets::Secret;
use crate::sync_engine::EngineState;
use crate::types::{AccountHit, Readiness, ScopeNode, Verdict};

/// What the directory connection found, as the wizard's Connect your directories shows it.
#[derive(Debug, Clone)]
pub struct DirectoryView {
    /// The forest's DNS name.
    pub forest: String,
    /// The DC's name.
    pub dc: String,
    /// How the connection is protected ("dc1.corp.example.com · Kerberos · sealed").
    pub connection: String,
    /// The domain root.
    pub domain: String,
    /// Every naming context that is a domain (scope candidates).
    pub domains: Vec<String>,
    /// The bound account.
    pub operator: String,
    pub enterprise_admin: bool,
    /// A Domain Admin who is not an Enterprise Admin: the usual near miss.
    pub domain_admin: bool,
    /// Connector account candidates: DNs with their sAMAccountName.
    pub candidates: Vec<(String, String)>,
    /// The one the settings or the sync engine name (never one guessed from its name).
    pub chosen: Option<String>,
    /// Where the chosen one came from, in words.
    pub chosen_source: Option<String>,
}

/// One ACE of `acl show`.
#[derive(Debug, Clone, Serialize)]
pub struct AclLine {
    pub sddl: String,
    pub text: String,
}

/// `acl show`'s document.
#[derive(Debug, Clone, Serialize)]
pub struct AclView {
    pub dn: String,
    pub sddl: String,
    pub inheritance_blocked: bool,
    pub aces: Vec<AclLine>,
}

/// `policy test`'s answer: the account tested and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct PasswordTest {
    pub user: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// `ad access`'s summary: who, where, what the plan would change, and the counts by cause.
#[derive(Debug, Clone, Serialize)]
pub struct AccessSummary {
    pub account: String,
    pub scopes: Vec<String>,
    pub plan_targets: Vec<String>,
    pub counts: crate::ad::access::Counts,
}

impl AdSession {
    /// The DC answering, and the bound account.
    pub fn dc(&self) -> &str {
        &self.disc.dc_name
    }

    /// The forest's DNS name.
    pub fn forest(&self) -> String {
        self.forest.clone()
    }

    /// Which DC answered and how the connection is protected.
    pub fn protection(&self) -> &crate::ad::signin::Protection {
        &self.protection
    }

    /// The scopes the settings name; else the root of each domain the sync engine synchronises
    /// in this forest (where it says); else the root of every domain of the forest, as Microsoft's
    /// `Set-ADSyncPasswordWritebackPermissions` covers every domain by default.
    pub fn default_scopes(&self, state: Option<&EngineState>) -> Vec<String> {
        if !self.settings.scope.is_empty() {
            return self.settings.scope.clone();
        }
        let synced: Vec<String> = state
            .into_iter()
            .flat_map(|s| &s.ad_connectors)
            .filter(|c| c.name.eq_ignore_ascii_case(&self.forest))
            .flat_map(|c| &c.domains)
            .filter_map(|d| self.disc.domains.iter().find(|x| x.dns_name.eq_ignore_ascii_case(d)).map(|x| x.dn.clone()))
            .collect();
        if !synced.is_empty() {
            return synced;
        }
        let mut all: Vec<String> = self.disc.domains.iter().map(|d| d.dn.clone()).collect();
        if all.is_empty() {
            all.push(self.disc.default_naming_context.clone());
        }
        // The bound DC's domain first (the one reached without another sign-in).
        all.sort_by_key(|d| !d.eq_ignore_ascii_case(&self.disc.default_naming_context));
        all
    }

    /// The on-premises readiness report (`ad check`, and the wizard's findings). `connector`
    /// is the account chosen (else the one the settings name); `progress` hears how many objects
    /// the scan has read.
    pub async fn readiness(
        &mut self,
        connector: Option<&str>,
        scopes: &[String],
        now: std::time::SystemTime,
        cancel: &CancellationToken,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<Readiness, Error> {
        let named = connector.map(str::to_string).or_else(|| self.settings.connector_account.clone());
        let found = match &named {
            Some(name) => self.named_account(name).await?,
            None => None,
        };
        let ask = readiness::Ask { named: named.as_deref().map(|name| (name, found.as_ref())), scopes, now };
        let mut report = readiness::check(&mut self.conn, &self.disc, &self.account, ask, cancel, progress).await?;
        report.connection = Some(self.protection.clone());
        Ok(report)
    }

    /// An object's DACL in SDDL and in words (`acl show`).
    pub async fn acl(&mut self, dn: &str) -> Result<AclView, Error> {
        let dacl = writeback::read_dacl(&mut self.conn, dn).await?;
        let ctx = self.disc.sid_context();
        let aces = dacl.sd.dacl.as_ref().map(|d| d.aces.clone()).unwrap_or_default();
        let names = Names::resolve(&mut self.conn, &self.disc, &aces).await?;
        Ok(AclView {
            dn: dacl.dn.clone(),
            sddl: dacl.sd.to_sddl(&ctx),
            inheritance_blocked: dacl.sd.dacl_protected(),
            aces: aces
                .iter()
                .map(|a| AclLine { sddl: crate::ad::sd::sddl::render_ace(a, &ctx), text: names::describe(a, &names) })
                .collect(),
        })
    }

    /// Which users under the scopes (the settings', else each domain's root) `account` can reach for
    /// writeback: now, after the plan that would grant it on those scopes, and after SDProp. Each
    /// user goes to `each` as it is answered. `include_adminsdholder`: the plan grants there too.
    pub async fn access(
        &mut self,
        account: &str,
        include_adminsdholder: bool,
        cancel: &CancellationToken,
        each: &mut (dyn FnMut(crate::ad::access::UserAccess) + Send),
    ) -> Result<AccessSummary, Error> {
        let who = directory::find_account(&mut self.conn, &self.disc, account)
            .await?
            .ok_or_else(|| AdError::NoSuchAccount { name: account.to_string() })?;
        let scopes = self.default_scopes(None);
        if let Some(outside) = scopes.iter().find(|s| self.disc.domain_of(s).is_none()) {
            return Err(AdError::NoSuchObject { dn: outside.clone() }.into());
        }
        let mut plan_targets = Vec::new();
        let plan = |sid: &crate::ad::sd::Sid| {
            let plan = crate::engine::plan::grants(&self.disc, &scopes, include_adminsdholder, sid);
            plan_targets = plan.grants.iter().map(|(dn, _)| dn.clone()).collect();
            plan_targets.dedup();
            plan
        };
        let evaluator = crate::ad::access::for_account(&mut self.conn, &self.disc, &who, &scopes, plan, cancel)
            .await?
            .ok_or_else(|| AdError::BadDescriptor { dn: who.dn.clone(), detail: format!("objectSid {}", who.sid) })?;
        let counts = evaluator.answer_all(&mut self.conn, cancel, each).await?;
        Ok(AccessSummary { account: who.dn, scopes, plan_targets, counts })
    }

    /// Would AD take `password` for `user` (sAMAccountName, UPN or DN)? Tested here against the
    /// policy that applies to the account; nothing is sent to it.
    pub async fn test_password(
        &mut self,
        user: &str,
        password: &Secret,
        now: std::time::SystemTime,
    ) -> Result<PasswordTest, Error> {
        let account = directory::find_account(&mut self.conn, &self.disc, user)
            .await?
            .ok_or_else(|| AdError::NoSuchAccount { name: user.to_string() })?;
        let effective = policy::effective_policy(&mut self.conn, &self.disc, &account.dn).await?;
        let verdict = policy::test_password(&effective, &account, password, Some(now));
        Ok(PasswordTest { user: account.dn, verdict })
    }

    /// A node of the scope browser: how many users are at or below `dn`, and its child OUs and
    /// containers with theirs.
    pub async fn children(&mut self, dn: &str, cancel: &CancellationToken) -> Result<(usize, Vec<ScopeNode>), Error> {
        let users = directory::count_users(&mut self.conn, dn, cancel).await?;
        let children = directory::child_scopes(&mut self.conn, dn, cancel).await?;
        Ok((users, children))
    }

    /// The first `limit` users and gMSAs whose name starts with `text` (the wizard's connector
    /// picker).
    pub async fn find_accounts(&mut self, text: &str, limit: i32) -> Result<Vec<AccountHit>, Error> {
        Ok(directory::search_accounts(&mut self.conn, &self.disc, text, limit, false).await?)
    }

    /// The people whose name starts with `text` who may be a test user (the canary's picker):
    /// no computer, no managed service account, nobody protected or in a group that can take
    /// over a domain.
    pub async fn find_people(&mut self, text: &str, limit: i32) -> Result<Vec<AccountHit>, Error> {
        let hits = directory::search_accounts(&mut self.conn, &self.disc, text, limit, true).await?;
        let mut people = Vec::with_capacity(hits.len());
        for hit in hits {
            if let Some(account) = directory::find_account(&mut self.conn, &self.disc, &hit.dn).await?
                && directory::not_a_person(&mut self.conn, &self.disc, &account).await?.is_none()
            {
                people.push(hit);
            }
        }
        Ok(people)
    }

    /// An account by sAMAccountName, `DOMAIN\name`, UPN or DN.
    pub(crate) async fn account(&mut self, name: &str) -> Result<Option<Account>, Error> {
        Ok(directory::find_account(&mut self.conn, &self.disc, name).await?)
    }

    /// [`Self::account`], taking the settings' connector account looked up while this session
    /// signed in when `name` is that one (once: a later call asks the DC again).
    async fn named_account(&mut self, name: &str) -> Result<Option<Account>, Error> {
        match self.named_connector.take() {
            Some((looked_up, found)) if looked_up == name => Ok(found?),
            _ => self.account(name).await,
        }
    }

    /// What the wizard shows once connected: the DC, the domains, the Enterprise Admins verdict,
    /// the connector account candidates and the one chosen.
    pub async fn view(&mut self, chosen: Option<&Account>, source: Option<&str>) -> Result<DirectoryView, Error> {
        let ea = directory::enterprise_admin(&mut self.conn, &self.disc, &self.account).await?;
        let candidates = directory::connector_candidates(&mut self.conn, &self.disc, chosen)
            .await?
            .into_iter()
            .map(|a| (a.dn, a.sam_account_name))
            .collect();
        Ok(DirectoryView {
            forest: self.forest.clone(),
            dc: self.disc.dc_name.clone(),
            connection: self.protection.said(),
            domain: self.disc.default_naming_context.clone(),
            domains: self.disc.domains.iter().map(|d| d.dn.clone()).collect(),
            operator: self.account.dn.clone(),
            enterprise_admin: ea.enterprise_admin,
            domain_admin: ea.domain_admin,
            candidates,
            chosen: chosen.map(|a| a.dn.clone()),
            chosen_source: source.map(str::to_string),
        })
    }

    /// The AD DS connector account: named in the settings; else the one the sync engine signs in
    /// with (Entra Connect's AD connector for the bound DC's forest, or Cloud Sync's agent
    /// account). With where it came from, in words. Never guessed from a name: anyone who may
    /// create a user could name one `MSOL_x` and be given Reset Password over the domain.
    pub(crate) async fn find_connector(
        &mut self,
        state: Option<&EngineState>,
    ) -> Result<(Option<Account>, Option<String>), Error> {
        if let Some(name) = self.settings.connector_account.clone() {
            let found = self.named_account(&name).await?;
            return Ok((found, Some(format!("named in the settings or with --connector-account ({name})"))));
        }
        if let Some(state) = state {
            let disc = &self.disc;
            // Entra Connect's forest-login-domain is a DNS name; the lab's account is written with
            // the NetBIOS name.
            let here = |domain: &str| {
                disc.domains
                    .iter()
                    .any(|d| d.dns_name.eq_ignore_ascii_case(domain) || d.netbios_name.eq_ignore_ascii_case(domain))
            };
            let ours: Vec<&crate::sync_engine::AdConnector> =
                state.ad_connectors.iter().filter(|c| here(&c.domain) && !c.user.is_empty()).collect();
            if let Some(c) = ours.first() {
                let name = format!("{}\\{}", c.domain, c.user);
                let connector_name = c.name.clone();
                let found = self.account(&name).await?;
                let source = format!("read from the sync engine: AD connector '{connector_name}' signs in as {name}");
                return Ok((found, Some(source)));
            }
            if let Some(agent) = state.agent_account.clone() {
                let found = self.account(&agent).await?;
                return Ok((found, Some(format!("read from the sync engine: the Cloud Sync agent runs as {agent}"))));
            }
        }
        Ok((None, None))
    }

    /// Signs in to a DC of `domain` (another domain of this forest), found in DNS, as this
    /// session signed in: the same account, Kerberos or a password inside TLS, the same CA file
    /// (the DC's own name is checked against its certificate).
    pub(crate) async fn reach_domain(&self, domain: &str) -> Result<AdSession, Error> {
        let sign_in = crate::ad::signin::SignIn {
            place: crate::ad::signin::Place::Forest { name: domain.to_string() },
            trust: crate::ad::TlsTrust {
                ca_file: self.sign_in.trust.ca_file.clone(),
                tls_name: None,
                fingerprint: None,
            },
            domains: self.disc.domains.iter().map(|d| (d.netbios_name.clone(), d.dns_name.clone())).collect(),
            ..self.sign_in.clone()
        };
        let source = format!("a DC of {domain} found in DNS");
        super::connect::reach(sign_in, self.settings.clone(), None, Some(self.forest.clone()), source).await
    }

    /// Signs a second connection in as `account` with `password`, to the DC this session
    /// reached and as it signed in (the canary signs in as the connector).
    pub(crate) async fn bind_as(
        &self,
        account: &crate::ad::directory::Account,
        password: &Secret,
    ) -> Result<crate::ad::AdConnection, Error> {
        // `NETBIOS\sam`: a simple bind takes it, and Kerberos finds its realm among the forest's
        // domains.
        let user = match self.disc.domain_of(&account.dn) {
            Some(d) if !d.netbios_name.is_empty() => format!("{}\\{}", d.netbios_name, account.sam_account_name),
            _ => account.dn.clone(),
        };
        let sign_in = crate::ad::signin::SignIn {
            place: crate::ad::signin::Place::Dc { url: self.protection.url.clone() },
            who: crate::ad::signin::Who::Password { user, password: password.clone() },
            domains: self.disc.domains.iter().map(|d| (d.netbios_name.clone(), d.dns_name.clone())).collect(),
            ..self.sign_in.clone()
        };
        let (conn, _) =
            crate::ad::signin::sign_in(&sign_in, &mut <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng()).await?;
        Ok(conn)
    }
}
