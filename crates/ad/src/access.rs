//! Effective access for password writeback, decided as Windows' access check decides it for a
//! directory object (MS-DTYP 2.5.3.2 with an object type list, MS-ADTS 5.1.3.3): the DACL walked in
//! its stored order, inherit-only ACEs skipped, an ACE counted when its SID is in the token, and
//! for each right the first ACE that names it — itself, its property set, the object's class or
//! everything — decides. No privilege grants writeback's rights, and the owner's implicit rights
//! (READ_CONTROL, WRITE_DAC) are not among them, so the DACL alone decides.
//!
//! Then the same question after a plan (its ACEs inherited down the tree as the DC would copy them,
//! stopped where a DACL is protected) and after SDProp's next run (a protected account takes
//! AdminSDHolder's DACL). docs/permissions.md says where Samba's check differs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use super::sd::ace::{
    self, Ace, AceBody, CONTAINER_INHERIT, INHERIT_ONLY, INHERITED, NO_PROPAGATE_INHERIT, RIGHT_CONTROL_ACCESS,
    RIGHT_WRITE_PROPERTY,
};
use super::sd::{Acl, SecurityDescriptor, Sid, SidContext, sddl};
use super::writeback::{
    CHANGE_PASSWORD, INET_ORG_PERSON_CLASS, LOCKOUT_TIME, PWD_LAST_SET, RESET_PASSWORD, USER_CLASS,
};

/// Property set User-Account-Restrictions (pwdLastSet's attributeSecurityGUID, MS-ADA3 2.175;
/// lockoutTime belongs to none, MS-ADA1 2.373). The lab test reads both from the DC's schema.
pub const USER_ACCOUNT_RESTRICTIONS: Uuid = Uuid::from_u128(0x4c164200_20c0_11d0_a768_00aa006e0529);

/// What every network logon's token carries besides the account and its groups (MS-DTYP 2.4.2.4):
/// Everyone, Authenticated Users, NETWORK, This Organization.
pub const NETWORK_LOGON: [&str; 4] = ["S-1-1-0", "S-1-5-11", "S-1-5-2", "S-1-5-15"];
/// PRINCIPAL_SELF: stands for the object's own SID when the object is the account evaluated.
const PRINCIPAL_SELF: &str = "S-1-5-10";

/// GENERIC_* bits, mapped as the directory maps them (its generic mapping: ALL to 0xF01FF, WRITE to
/// READ_CONTROL | WRITE_PROPERTY | SELF, …).
const GENERIC_ALL: u32 = 0x1000_0000;
const GENERIC_EXECUTE: u32 = 0x2000_0000;
const GENERIC_WRITE: u32 = 0x4000_0000;
const GENERIC_READ: u32 = 0x8000_0000;

/// The token of an account's network logon.
#[derive(Debug, Clone)]
pub struct Token {
    user: Sid,
    sids: HashSet<String>,
}

impl Token {
    /// `user` with its `groups` (its tokenGroups: every group, nested, in the DC's view) and the
    /// SIDs of a network logon.
    pub fn network(user: Sid, groups: impl IntoIterator<Item = Sid>) -> Token {
        let mut sids: HashSet<String> = groups.into_iter().map(|s| s.to_string()).collect();
        sids.insert(user.to_string());
        sids.extend(NETWORK_LOGON.iter().map(|s| s.to_string()));
        Token { user, sids }
    }

    pub fn user(&self) -> &Sid {
        &self.user
    }

    /// Whether the token carries `sid` (PRINCIPAL_SELF aside).
    pub fn holds_sid(&self, sid: &Sid) -> bool {
        self.sids.contains(&sid.to_string())
    }

    fn holds(&self, sid: &Sid, object: Option<&Sid>) -> bool {
        let text = sid.to_string();
        self.sids.contains(&text) || (text == PRINCIPAL_SELF && object == Some(&self.user))
    }
}

/// One right writeback needs on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Right {
    pub name: &'static str,
    pub mask: u32,
    pub guid: Uuid,
    /// The property set the attribute belongs to, if any.
    pub property_set: Option<Uuid>,
}

/// Reset Password, Change Password, write lockoutTime, write pwdLastSet: every one of them, or the
/// user is not reached (ARCHITECTURE: the set Microsoft's tutorial grants; a denied Change Password
/// is "User cannot change password", event 33004).
pub const WRITEBACK: [Right; 4] = [
    Right { name: "Reset Password", mask: RIGHT_CONTROL_ACCESS, guid: RESET_PASSWORD, property_set: None },
    Right { name: "Change Password", mask: RIGHT_CONTROL_ACCESS, guid: CHANGE_PASSWORD, property_set: None },
    Right { name: "Write lockoutTime", mask: RIGHT_WRITE_PROPERTY, guid: LOCKOUT_TIME, property_set: None },
    Right {
        name: "Write pwdLastSet",
        mask: RIGHT_WRITE_PROPERTY,
        guid: PWD_LAST_SET,
        property_set: Some(USER_ACCOUNT_RESTRICTIONS),
    },
];

fn mapped(mask: u32) -> u32 {
    let mut m = mask;
    if mask & GENERIC_ALL != 0 {
        m |= 0x000F_01FF;
    }
    if mask & GENERIC_WRITE != 0 {
        m |= 0x0002_0028;
    }
    if mask & GENERIC_READ != 0 {
        m |= 0x0002_0094;
    }
    if mask & GENERIC_EXECUTE != 0 {
        m |= 0x0002_0004;
    }
    m
}

/// Whether `a` takes part in the check of `right` on an object of class `class` for `token`.
fn names(a: &Ace, right: &Right, class: Uuid, token: &Token, object: Option<&Sid>) -> bool {
    if a.flags & INHERIT_ONLY != 0 {
        return false;
    }
    let (mask, object_type, sid) = match &a.body {
        AceBody::Basic { mask, sid, .. } if matches!(a.ace_type, ace::ACCESS_ALLOWED | ace::ACCESS_DENIED) => {
            (*mask, None, sid)
        }
        AceBody::Object { mask, object_type, sid, .. }
            if matches!(a.ace_type, ace::ACCESS_ALLOWED_OBJECT | ace::ACCESS_DENIED_OBJECT) =>
        {
            (*mask, *object_type, sid)
        }
        // Audit, alarm, callback and conditional ACEs grant nothing here.
        _ => return false,
    };
    mapped(mask) & right.mask != 0
        && object_type.is_none_or(|g| g == right.guid || Some(g) == right.property_set || g == class)
        && token.holds(sid, object)
}

/// The ACE that decides, by its index in `aces`: allowed, denied, or no ACE names the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed(usize),
    Denied(usize),
    NotGranted,
}

/// Whether `token` holds `right` on an object of class `class` (its own SID `object`) whose
/// effective DACL is `aces`, in their stored order.
pub fn decide<'a>(
    aces: impl IntoIterator<Item = &'a Ace>,
    right: &Right,
    class: Uuid,
    token: &Token,
    object: Option<&Sid>,
) -> Decision {
    for (i, a) in aces.into_iter().enumerate() {
        if names(a, right, class, token, object) {
            return if a.is_deny() { Decision::Denied(i) } else { Decision::Allowed(i) };
        }
    }
    Decision::NotGranted
}

/// Why a user is not reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// An ACE denies a right before any grants it.
    Denied,
    /// No ACE grants the right.
    NoGrant,
    /// The plan's grant would reach the user but a protected DACL on the way stops inheritance.
    InheritanceBlocked,
}

impl Cause {
    pub fn words(self) -> &'static str {
        match self {
            Cause::Denied => "an ACE denies it",
            Cause::NoGrant => "no grant reaches it",
            Cause::InheritanceBlocked => "inheritance is blocked on the way",
        }
    }
}

/// One of the three answers for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// The first right missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<&'static str>,
    /// The ACE responsible, in SDDL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sddl: Option<String>,
    /// Where it sits (for an inherited ACE, the object it is inherited from); for a blocked
    /// inheritance, the object whose DACL is protected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
}

impl Answer {
    fn reached() -> Answer {
        Answer { reachable: true, cause: None, right: None, sddl: None, on: None }
    }

    /// Why it is not reached, in words: the cause, the first right missing, and the ACE and where
    /// it sits.
    pub fn why(&self) -> String {
        let mut t = self.cause.map(Cause::words).unwrap_or_default().to_string();
        if let Some(r) = self.right {
            t.push_str(&format!(" ({r})"));
        }
        if let Some(s) = &self.sddl {
            t.push_str(&format!(": {s}"));
        }
        if let Some(on) = &self.on {
            t.push_str(&format!(" on {on}"));
        }
        t
    }
}

/// An ACE of the user's effective DACL with where it comes from: `depth` 0 is the user itself,
/// 1 its parent, and so on.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub ace: std::borrow::Cow<'a, Ace>,
    pub depth: usize,
}

/// The user and its ancestors, nearest first, as far up as they were read.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    /// `[user, parent, grandparent, …]`.
    pub dns: Vec<&'a str>,
    /// Each one's DACL, when it was read.
    pub dacls: Vec<Option<&'a Acl>>,
    /// Whether each one's DACL is protected (takes nothing from its parent).
    pub protected: Vec<bool>,
}

fn same_grant(a: &Ace, b: &Ace) -> bool {
    a.ace_type == b.ace_type && a.sid() == b.sid() && a.mask() == b.mask() && a.object_types() == b.object_types()
}

impl Chain<'_> {
    /// Where the user's ACE `a` sits: 0 for an explicit one; else the nearest ancestor that holds
    /// it explicitly, through ancestors that hold it inherited (1 when none was read).
    pub fn origin(&self, a: &Ace) -> usize {
        if !a.is_inherited() {
            return 0;
        }
        for depth in 1..self.dns.len() {
            let Some(dacl) = self.dacls[depth] else { break };
            match dacl
                .aces
                .iter()
                .find(|p| same_grant(p, a) && p.flags & (CONTAINER_INHERIT | ace::OBJECT_INHERIT) != 0)
            {
                Some(p) if !p.is_inherited() => return depth,
                Some(_) => continue,
                None => break,
            }
        }
        1
    }

    /// The user's DACL as it stands, each ACE with its origin.
    pub fn placed(&self) -> Vec<Placed<'_>> {
        let Some(dacl) = self.dacls.first().copied().flatten() else { return Vec::new() };
        dacl.aces.iter().map(|a| Placed { depth: self.origin(a), ace: std::borrow::Cow::Borrowed(a) }).collect()
    }

    /// The depth of `dn` in the chain (case-insensitive), if it is an ancestor.
    fn depth_of(&self, dn: &str) -> Option<usize> {
        self.dns.iter().position(|d| d.eq_ignore_ascii_case(dn)).filter(|d| *d > 0)
    }

    /// The first object below `depth` (the user included) whose DACL is protected: inheritance
    /// from `depth` stops there.
    fn blocked_below(&self, depth: usize) -> Option<usize> {
        (0..depth).find(|d| self.protected.get(*d).copied().unwrap_or(false))
    }
}

/// A plan's grants: ACEs added on targets, by DN.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub grants: Vec<(String, Vec<Ace>)>,
}

/// Whether an inheritable ACE on an ancestor at `depth` is copied onto an object of `class`, and
/// how it reads there (MS-DTYP 2.5.3.4.2's rules for a container child: CONTAINER_INHERIT carries
/// it; NO_PROPAGATE_INHERIT stops it below the first level; an inherited-object type that is not
/// the child's class copies it inherit-only).
pub fn inherited_copy(a: &Ace, depth: usize, class: Uuid) -> Option<Ace> {
    if a.flags & CONTAINER_INHERIT == 0 || (a.flags & NO_PROPAGATE_INHERIT != 0 && depth > 1) {
        return None;
    }
    let (_, iot) = a.object_types();
    if iot.is_some_and(|g| g != class) {
        return None;
    }
    let mut copy = a.clone();
    copy.flags = (a.flags & !INHERIT_ONLY) | INHERITED;
    Some(copy)
}

/// The verdict over placed ACEs: every writeback right allowed, or the first one missing and why.
fn verdict(
    placed: &[Placed<'_>],
    chain: &Chain<'_>,
    class: Uuid,
    token: &Token,
    object: Option<&Sid>,
    ctx: &SidContext,
) -> Answer {
    for right in &WRITEBACK {
        match decide(placed.iter().map(|p| p.ace.as_ref()), right, class, token, object) {
            Decision::Allowed(_) => continue,
            Decision::Denied(i) => {
                return Answer {
                    reachable: false,
                    cause: Some(Cause::Denied),
                    right: Some(right.name),
                    sddl: Some(sddl::render_ace(&placed[i].ace, ctx)),
                    on: chain.dns.get(placed[i].depth).map(|d| d.to_string()),
                };
            }
            Decision::NotGranted => {
                return Answer {
                    reachable: false,
                    cause: Some(Cause::NoGrant),
                    right: Some(right.name),
                    sddl: None,
                    on: None,
                };
            }
        }
    }
    Answer::reached()
}

/// The class GUID writeback's ACEs are inherited to, from an object's objectClass values.
pub fn class_of(object_classes: &[String]) -> Uuid {
    if object_classes.iter().any(|c| c.eq_ignore_ascii_case("inetOrgPerson")) {
        INET_ORG_PERSON_CLASS
    } else {
        USER_CLASS
    }
}

/// What the evaluation needs to know of one user.
#[derive(Debug, Clone)]
pub struct User<'a> {
    pub chain: Chain<'a>,
    pub class: Uuid,
    pub sid: Option<Sid>,
    /// adminCount=1: SDProp gives it AdminSDHolder's DACL on Windows.
    pub protected_account: bool,
}

/// The three answers for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAccess {
    pub dn: String,
    pub now: Answer,
    pub after_plan: Answer,
    pub after_sdprop: Answer,
}

/// Everything fixed for one evaluation: who, the plan, AdminSDHolder.
pub struct Context<'a> {
    pub token: &'a Token,
    pub plan: &'a Plan,
    /// AdminSDHolder's DN and DACL (with the plan's grants on it, when it has any).
    pub admin_sd_holder: Option<(&'a str, &'a Acl)>,
    pub sids: &'a SidContext,
}

/// The three answers for `user`.
pub fn evaluate(user: &User<'_>, cx: &Context<'_>) -> UserAccess {
    let chain = &user.chain;
    let object = user.sid.as_ref();
    let dn = chain.dns.first().copied().unwrap_or_default().to_string();
    let now_placed = chain.placed();
    let now = verdict(&now_placed, chain, user.class, cx.token, object, cx.sids);

    // After the plan: each grant on an ancestor copied down, placed after what comes from nearer
    // and after its own target's denies (a DACL is stored explicit denies first).
    let mut after = now_placed.clone();
    let mut blocked_at = None;
    for (target, aces) in &cx.plan.grants {
        let Some(depth) = chain.depth_of(target) else { continue };
        let copies: Vec<Ace> = aces.iter().filter_map(|a| inherited_copy(a, depth, user.class)).collect();
        if copies.is_empty() {
            continue;
        }
        if let Some(b) = chain.blocked_below(depth) {
            blocked_at.get_or_insert(b);
            continue;
        }
        let at =
            after.iter().position(|p| p.depth > depth || (p.depth == depth && !p.ace.is_deny())).unwrap_or(after.len());
        for (k, c) in copies.into_iter().enumerate() {
            after.insert(at + k, Placed { ace: std::borrow::Cow::Owned(c), depth });
        }
    }
    let mut after_plan = verdict(&after, chain, user.class, cx.token, object, cx.sids);
    if let (false, Some(Cause::NoGrant), Some(b)) = (after_plan.reachable, after_plan.cause, blocked_at) {
        after_plan.cause = Some(Cause::InheritanceBlocked);
        after_plan.on = chain.dns.get(b).map(|d| d.to_string());
    }

    let after_sdprop = match (user.protected_account, cx.admin_sd_holder) {
        (true, Some((holder, dacl))) => {
            let placed: Vec<Placed<'_>> =
                dacl.aces.iter().map(|a| Placed { ace: std::borrow::Cow::Borrowed(a), depth: 0 }).collect();
            let holder_chain = Chain { dns: vec![holder], dacls: vec![Some(dacl)], protected: vec![true] };
            verdict(&placed, &holder_chain, user.class, cx.token, object, cx.sids)
        }
        _ => after_plan.clone(),
    };
    UserAccess { dn, now, after_plan, after_sdprop }
}

/// AdminSDHolder's DACL as SDProp will copy it: today's, with the plan's grants on it added.
pub fn admin_sd_holder_after(holder: &str, sd: &SecurityDescriptor, plan: &Plan) -> Acl {
    let mut dacl = sd.dacl.clone().unwrap_or_else(|| Acl::new(ace::ACL_REVISION_DS));
    for (target, aces) in &plan.grants {
        if target.eq_ignore_ascii_case(holder) {
            for a in aces {
                if !dacl.contains(a) {
                    dacl.insert_canonical(a.clone());
                }
            }
        }
    }
    dacl
}

/// The users not reached, counted by cause, for each of the three answers.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub users: usize,
    pub now: BTreeMap<String, usize>,
    pub after_plan: BTreeMap<String, usize>,
    pub after_sdprop: BTreeMap<String, usize>,
}

impl Counts {
    /// The users of one answer's table that are not reached.
    pub fn not_reached(table: &BTreeMap<String, usize>) -> usize {
        table.iter().filter(|(k, _)| *k != "reachable").map(|(_, v)| v).sum()
    }

    pub fn merge(&mut self, other: Counts) {
        self.users += other.users;
        for (mine, theirs) in [
            (&mut self.now, other.now),
            (&mut self.after_plan, other.after_plan),
            (&mut self.after_sdprop, other.after_sdprop),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
    }

    pub fn add(&mut self, u: &UserAccess) {
        self.users += 1;
        for (answer, table) in
            [(&u.now, &mut self.now), (&u.after_plan, &mut self.after_plan), (&u.after_sdprop, &mut self.after_sdprop)]
        {
            let key = match answer.cause {
                None => "reachable",
                Some(Cause::Denied) => "denied",
                Some(Cause::NoGrant) => "no_grant",
                Some(Cause::InheritanceBlocked) => "inheritance_blocked",
            };
            *table.entry(key.to_string()).or_default() += 1;
        }
    }
}

/// The DN one level up: what follows the first unescaped comma (RFC 4514 escapes with `\`).
pub fn parent_dn(dn: &str) -> Option<&str> {
    let bytes = dn.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b',' => return Some(dn[i + 1..].trim_start()),
            _ => i += 1,
        }
    }
    None
}

/// Where the evaluation reads: one scope, and the domain root it is under.
#[derive(Debug, Clone, Copy)]
struct Where<'a> {
    scope: &'a str,
    domain_root: &'a str,
}

const CONTAINERS: &str = "(|(objectClass=organizationalUnit)(objectClass=container)(objectClass=domainDNS)(objectClass=builtinDomain)(objectClass=lostAndFound))";
const USERS: &str = "(&(objectCategory=person)(objectClass=user))";

struct Node {
    dacl: Option<Acl>,
    protected: bool,
}

fn node_of(e: &mut ldap3::SearchEntry) -> Result<Node, super::AdError> {
    let sd = super::take_descriptor(e)?;
    Ok(Node { protected: sd.as_ref().is_some_and(SecurityDescriptor::dacl_protected), dacl: sd.and_then(|s| s.dacl) })
}

/// Everything the answers need besides the user itself: the containers' DACLs (the scopes'
/// ancestors up to their domain roots, and every container under them — a few per thousand
/// users), AdminSDHolder's as SDProp will copy it, the token and the plan. Users are then answered
/// one at a time as a search streams them, so memory stays flat in the number of users.
pub struct Evaluator {
    /// Whose access (the account's DN), and under which scopes.
    account: String,
    scopes: Vec<String>,
    nodes: HashMap<String, Node>,
    roots: Vec<String>,
    holders: HashMap<String, Acl>,
    token: Token,
    plan: Plan,
    sids: SidContext,
}

impl Evaluator {
    /// Reads what the answers for `account`'s access under `scopes` need.
    async fn prepare(
        conn: &mut super::AdConnection,
        account: String,
        scopes: &[Where<'_>],
        token: Token,
        plan: Plan,
        sids: SidContext,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Evaluator, super::AdError> {
        use super::{Query, SD_FLAGS_DACL, sd_flags_control};
        let mut nodes: HashMap<String, Node> = HashMap::new();
        let mut holders = HashMap::new();
        let mut roots = Vec::new();
        for at in scopes {
            let mut up = parent_dn(at.scope).filter(|_| !at.scope.eq_ignore_ascii_case(at.domain_root));
            while let Some(dn) = up {
                if let std::collections::hash_map::Entry::Vacant(v) = nodes.entry(dn.to_ascii_lowercase()) {
                    let d = super::writeback::read_dacl(conn, dn).await?;
                    v.insert(Node { protected: d.sd.dacl_protected(), dacl: d.sd.dacl });
                }
                if dn.eq_ignore_ascii_case(at.domain_root) {
                    break;
                }
                up = parent_dn(dn);
            }
            let query = Query {
                base: at.scope,
                scope: ldap3::Scope::Subtree,
                filter: CONTAINERS,
                attrs: &["nTSecurityDescriptor"],
                controls: vec![sd_flags_control(SD_FLAGS_DACL)],
            };
            let read = conn.search_paged(query, cancel, |mut e| {
                let node = node_of(&mut e)?;
                nodes.insert(e.dn.to_ascii_lowercase(), node);
                Ok(())
            });
            missing_scope(read.await, at.scope)?;
            let root = at.domain_root.to_ascii_lowercase();
            if !holders.contains_key(&root) {
                let holder_dn = format!("CN=AdminSDHolder,CN=System,{}", at.domain_root);
                match super::writeback::read_dacl(conn, &holder_dn).await {
                    Ok(d) => {
                        holders.insert(root.clone(), admin_sd_holder_after(&holder_dn, &d.sd, &plan));
                    }
                    Err(super::AdError::NoSuchObject { .. }) => {}
                    Err(e) => return Err(e),
                }
                roots.push(at.domain_root.to_string());
            }
        }
        let scopes = scopes.iter().map(|at| at.scope.to_string()).collect();
        Ok(Evaluator { account, scopes, nodes, roots, holders, token, plan, sids })
    }

    /// The account whose access this answers (its DN).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Answers every user under the scopes as the search streams them, each handed to `each`.
    /// Returns the counts by cause.
    pub async fn answer_all(
        &self,
        conn: &mut super::AdConnection,
        cancel: &tokio_util::sync::CancellationToken,
        each: &mut (dyn FnMut(UserAccess) + Send),
    ) -> Result<Counts, super::AdError> {
        use super::{Query, SD_FLAGS_DACL, sd_flags_control};
        let mut counts = Counts::default();
        for scope in &self.scopes {
            let query = Query {
                base: scope,
                scope: ldap3::Scope::Subtree,
                filter: USERS,
                attrs: &Evaluator::USER_ATTRS,
                controls: vec![sd_flags_control(SD_FLAGS_DACL)],
            };
            let read = conn.search_paged(query, cancel, |mut e| {
                let sd = super::take_descriptor(&mut e)?;
                let answer = self.entry(&e, sd.as_ref());
                counts.add(&answer);
                each(answer);
                Ok(())
            });
            missing_scope(read.await, scope)?;
        }
        Ok(counts)
    }

    /// The attributes a user's search must ask for.
    pub const USER_ATTRS: [&'static str; 4] = ["objectClass", "objectSid", "adminCount", "nTSecurityDescriptor"];

    /// The three answers for the user `dn` with descriptor `sd`, object classes, SID and adminCount.
    pub fn user(
        &self,
        dn: &str,
        sd: Option<&SecurityDescriptor>,
        classes: &[String],
        sid: Option<Sid>,
        admin_count: bool,
    ) -> UserAccess {
        let root = self
            .roots
            .iter()
            .filter(|r| dn.to_ascii_lowercase().ends_with(&r.to_ascii_lowercase()))
            .max_by_key(|r| r.len());
        let mut dns = vec![dn];
        let mut dacls = vec![sd.and_then(|s| s.dacl.as_ref())];
        let mut protected = vec![sd.is_some_and(SecurityDescriptor::dacl_protected)];
        let mut up = parent_dn(dn);
        while let Some(p) = up {
            let Some(n) = self.nodes.get(&p.to_ascii_lowercase()) else { break };
            dns.push(p);
            dacls.push(n.dacl.as_ref());
            protected.push(n.protected);
            if root.is_some_and(|r| p.eq_ignore_ascii_case(r)) {
                break;
            }
            up = parent_dn(p);
        }
        let holder_dn = root.map(|r| format!("CN=AdminSDHolder,CN=System,{r}"));
        let holder = root.and_then(|r| self.holders.get(&r.to_ascii_lowercase()));
        let user = User {
            chain: Chain { dns, dacls, protected },
            class: class_of(classes),
            sid,
            protected_account: admin_count,
        };
        let cx = Context {
            token: &self.token,
            plan: &self.plan,
            admin_sd_holder: holder_dn.as_deref().zip(holder),
            sids: &self.sids,
        };
        evaluate(&user, &cx)
    }

    /// [`Evaluator::user`] for an entry of a search that asked for [`Evaluator::USER_ATTRS`].
    pub fn entry(&self, e: &ldap3::SearchEntry, sd: Option<&SecurityDescriptor>) -> UserAccess {
        let classes = e.attrs.get("objectClass").cloned().unwrap_or_default();
        let sid =
            e.bin_attrs.get("objectSid").and_then(|v| v.first()).and_then(|b| Sid::decode(b, 0).ok()).map(|(s, _)| s);
        let admin_count = e.attrs.get("adminCount").is_some_and(|v| v.iter().any(|x| x == "1"));
        self.user(&e.dn, sd, &classes, sid, admin_count)
    }
}

/// A search under a scope that is not there is named as such (as the readiness scan names it).
fn missing_scope(read: Result<usize, super::AdError>, scope: &str) -> Result<(), super::AdError> {
    match read {
        Ok(_) => Ok(()),
        Err(super::AdError::Ldap { rc: super::rc::NO_SUCH_OBJECT, .. }) => {
            Err(super::AdError::NoSuchObject { dn: scope.to_string() })
        }
        Err(e) => Err(e),
    }
}

/// How many users a scan keeps by name among those writeback will not reach (the rest are
/// counted; `ad access` lists every one).
pub const LISTED: usize = 200;

/// What the readiness scan says of access: the counts by cause, and the first users writeback
/// will not reach after the plan or after SDProp, with the ACE responsible.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessFindings {
    /// Whose access: the connector account's DN.
    pub account: String,
    pub counts: Counts,
    pub unreachable: Vec<UserAccess>,
    /// How many more there are than listed.
    pub more: usize,
}

impl AccessFindings {
    pub fn add(&mut self, u: UserAccess) {
        self.counts.add(&u);
        if !(u.after_plan.reachable && u.after_sdprop.reachable) {
            if self.unreachable.len() < LISTED {
                self.unreachable.push(u);
            } else {
                self.more += 1;
            }
        }
    }

    pub fn merge(&mut self, other: AccessFindings) {
        self.counts.merge(other.counts);
        let room = LISTED.saturating_sub(self.unreachable.len());
        let taken = other.unreachable.len().min(room);
        self.more += other.more + other.unreachable.len() - taken;
        self.unreachable.extend(other.unreachable.into_iter().take(taken));
    }

    /// Users not reached after the plan (and after SDProp), by cause, in words.
    pub fn summary(&self) -> Option<String> {
        let (plan, sdprop) =
            (Counts::not_reached(&self.counts.after_plan), Counts::not_reached(&self.counts.after_sdprop));
        if plan == 0 && sdprop == 0 {
            return None;
        }
        let causes = |t: &BTreeMap<String, usize>| {
            t.iter()
                .filter(|(k, _)| *k != "reachable")
                .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Some(format!(
            "{plan} of {} users in scope writeback will not reach after this plan ({}); after SDProp's next run on Windows, {sdprop} ({}). Each is listed with the ACE responsible by `ad access --as {}`",
            self.counts.users,
            causes(&self.counts.after_plan),
            causes(&self.counts.after_sdprop),
            self.account
        ))
    }
}

impl Plan {
    /// The plan's grants on scopes: the inherit-only ACEs of each, for `connector`.
    pub fn on_scopes(scopes: &[String], connector: &Sid) -> Plan {
        let aces: Vec<Ace> = super::writeback::wanted(super::writeback::TargetKind::Scope, connector)
            .into_iter()
            .map(|w| w.ace)
            .collect();
        Plan { grants: scopes.iter().map(|s| (s.clone(), aces.clone())).collect() }
    }
}

/// The evaluator for `connector` over `scopes` (all in `disc`'s domains) with the plan that grants
/// it there.
pub async fn for_connector(
    conn: &mut super::AdConnection,
    disc: &super::directory::Discovery,
    connector: &super::directory::Account,
    scopes: &[String],
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<Evaluator>, super::AdError> {
    for_account(conn, disc, connector, scopes, |sid| Plan::on_scopes(scopes, sid), cancel).await
}

/// The evaluator for `account` over `scopes` (all in `disc`'s domains), with the plan `plan` makes
/// for the account's SID; `None` when the account's SID does not read as one.
pub async fn for_account(
    conn: &mut super::AdConnection,
    disc: &super::directory::Discovery,
    account: &super::directory::Account,
    scopes: &[String],
    plan: impl FnOnce(&Sid) -> Plan,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Option<Evaluator>, super::AdError> {
    let Ok(sid) = Sid::parse(&account.sid) else { return Ok(None) };
    let token = token_of(conn, &account.dn, sid.clone()).await?;
    let roots: Vec<String> = scopes
        .iter()
        .map(|s| disc.domain_of(s).map(|d| d.dn.clone()).unwrap_or_else(|| disc.default_naming_context.clone()))
        .collect();
    let at: Vec<Where<'_>> =
        scopes.iter().zip(&roots).map(|(scope, root)| Where { scope, domain_root: root }).collect();
    let plan = plan(&sid);
    Evaluator::prepare(conn, account.dn.clone(), &at, token, plan, disc.sid_context(), cancel).await.map(Some)
}

/// The token of `account`'s network logon: its SID, its tokenGroups as the DC computes them, and
/// the network logon's well-known SIDs.
pub async fn token_of(
    conn: &mut super::AdConnection,
    account_dn: &str,
    account_sid: Sid,
) -> Result<Token, super::AdError> {
    let groups = super::directory::token_groups(conn, account_dn).await?;
    Ok(Token::network(account_sid, groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sd::sddl;

    fn ctx() -> SidContext {
        SidContext::single(Sid::parse("S-1-5-21-1-2-3").unwrap())
    }

    const CONNECTOR: &str = "S-1-5-21-1-2-3-1154";
    const GROUP: &str = "S-1-5-21-1-2-3-1158";
    const OTHER: &str = "S-1-5-21-1-2-3-1160";

    fn token() -> Token {
        Token::network(Sid::parse(CONNECTOR).unwrap(), [Sid::parse(GROUP).unwrap()])
    }

    fn aces(text: &str) -> Vec<Ace> {
        let text = text.replace("CONN", CONNECTOR).replace("GRP", GROUP).replace("OTH", OTHER);
        text.split_inclusive(')').map(|a| sddl::parse_one_ace(a, &ctx()).unwrap()).collect()
    }

    fn rights(list: &[Ace]) -> Vec<bool> {
        WRITEBACK.iter().map(|r| matches!(decide(list, r, USER_CLASS, &token(), None), Decision::Allowed(_))).collect()
    }

    const GRANT: &str = "(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;CONN)(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;CONN)(OA;;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;;CONN)(OA;;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;;CONN)";

    #[test]
    fn the_first_ace_naming_a_right_decides_in_the_order_stored() {
        let deny_first = aces(&format!("(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;GRP){GRANT}"));
        assert_eq!(rights(&deny_first), vec![false, true, true, true]);
        assert_eq!(decide(&deny_first, &WRITEBACK[0], USER_CLASS, &token(), None), Decision::Denied(0));
        let allow_first = aces(&format!("{GRANT}(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;GRP)"));
        assert_eq!(rights(&allow_first), vec![true; 4]);
        // A group the connector is not in, inherit-only ACEs and audit ACEs decide nothing.
        let ignored = aces(&format!("(OD;;CR;;;OTH)(D;CIIO;WP;;;CONN){GRANT}"));
        assert_eq!(rights(&ignored), vec![true; 4]);
    }

    #[test]
    fn property_sets_whole_object_and_generic_rights_are_followed() {
        // User-Account-Restrictions holds pwdLastSet, not lockoutTime.
        let set = aces("(OA;;WP;4c164200-20c0-11d0-a768-00aa006e0529;;CONN)");
        assert_eq!(rights(&set), vec![false, false, false, true]);
        // The class's own GUID as object type covers the whole object.
        let class = aces("(OA;;CRWP;bf967aba-0de6-11d0-a285-00aa003049e2;;CONN)");
        assert_eq!(rights(&class), vec![true; 4]);
        // Everyone, Authenticated Users: every network logon carries them.
        assert_eq!(rights(&aces("(A;;CRWP;;;WD)")), vec![true; 4]);
        assert_eq!(rights(&aces("(A;;GA;;;AU)")), vec![true; 4]);
        // Control Access alone is no Write Property (Samba 4.17 differs for object ACEs: see
        // docs/permissions.md).
        assert_eq!(
            rights(&aces("(OA;;CR;;bf967aba-0de6-11d0-a285-00aa003049e2;CONN)")),
            vec![true, true, false, false]
        );
        // A deny on the property set stops pwdLastSet granted on the object.
        let denied_set = aces("(OD;;WP;4c164200-20c0-11d0-a768-00aa006e0529;;WD)(A;;CRWP;;;CONN)");
        assert_eq!(rights(&denied_set), vec![true, true, true, false]);
    }

    #[test]
    fn self_stands_for_the_object_only_when_it_is_the_account() {
        let list = aces("(A;;CRWP;;;PS)");
        let me = Sid::parse(CONNECTOR).unwrap();
        let other = Sid::parse(OTHER).unwrap();
        assert!(matches!(decide(&list, &WRITEBACK[0], USER_CLASS, &token(), Some(&me)), Decision::Allowed(0)));
        assert_eq!(decide(&list, &WRITEBACK[0], USER_CLASS, &token(), Some(&other)), Decision::NotGranted);
    }

    fn plan_on(dn: &str) -> Plan {
        let connector = Sid::parse(CONNECTOR).unwrap();
        Plan {
            grants: vec![(
                dn.to_string(),
                crate::writeback::wanted(crate::writeback::TargetKind::Scope, &connector)
                    .into_iter()
                    .map(|w| w.ace)
                    .collect(),
            )],
        }
    }

    fn answer(
        user: &Acl,
        parent: &Acl,
        root: &Acl,
        protected: [bool; 3],
        plan: &Plan,
        holder: Option<&Acl>,
    ) -> UserAccess {
        let u = User {
            chain: Chain {
                dns: vec!["CN=u,OU=p,DC=x", "OU=p,DC=x", "DC=x"],
                dacls: vec![Some(user), Some(parent), Some(root)],
                protected: protected.to_vec(),
            },
            class: USER_CLASS,
            sid: None,
            protected_account: holder.is_some(),
        };
        let t = token();
        let c = ctx();
        let cx = Context {
            token: &t,
            plan,
            admin_sd_holder: holder.map(|h| ("CN=AdminSDHolder,CN=System,DC=x", h)),
            sids: &c,
        };
        evaluate(&u, &cx)
    }

    fn acl(text: &str) -> Acl {
        let mut a = Acl::new(ace::ACL_REVISION_DS);
        a.aces = if text.is_empty() { Vec::new() } else { aces(text) };
        a
    }

    #[test]
    fn after_the_plan_its_grant_flows_down_unless_blocked_or_denied_nearer() {
        let plan = plan_on("DC=x");
        // Nothing today; the plan's grant on the root reaches the user.
        let a = answer(&acl(""), &acl(""), &acl(""), [false; 3], &plan, None);
        assert_eq!(a.now.cause, Some(Cause::NoGrant));
        assert!(a.after_plan.reachable && a.after_sdprop.reachable);
        // Inheritance blocked on the parent: the cause names where.
        let a = answer(&acl(""), &acl(""), &acl(""), [false, true, false], &plan, None);
        assert_eq!(a.after_plan.cause, Some(Cause::InheritanceBlocked));
        assert_eq!(a.after_plan.on.as_deref(), Some("OU=p,DC=x"));
        // A deny inherited from the parent (nearer than the plan's root) wins, and is named where
        // it sits.
        let parent = acl("(OD;CI;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)");
        let user = acl("(OD;CIID;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)");
        let a = answer(&user, &parent, &acl(""), [false; 3], &plan, None);
        assert_eq!(a.after_plan.cause, Some(Cause::Denied));
        assert_eq!(a.after_plan.on.as_deref(), Some("OU=p,DC=x"));
        assert_eq!(a.after_plan.sddl.as_deref(), Some("(OD;CIID;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)"));
        // The same deny from the root's own level comes after the plan's grant on the parent.
        let plan_parent = plan_on("OU=p,DC=x");
        let root = acl("(OD;CI;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)");
        let parent = acl("(OD;CIID;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)");
        let a = answer(&user, &parent, &root, [false; 3], &plan_parent, None);
        assert_eq!(a.now.cause, Some(Cause::Denied));
        assert_eq!(a.now.on.as_deref(), Some("DC=x"));
        assert!(a.after_plan.reachable, "{a:?}");
    }

    #[test]
    fn after_sdprop_a_protected_account_has_admin_sd_holders_dacl() {
        let plan = plan_on("DC=x");
        let holder = acl("(A;;GA;;;DA)");
        let a = answer(&acl(""), &acl(""), &acl(""), [false; 3], &plan, Some(&holder));
        assert!(a.after_plan.reachable);
        assert_eq!(a.after_sdprop.cause, Some(Cause::NoGrant));
        // With the plan's AdminSDHolder grants copied there, it is reached.
        let mut with = holder.clone();
        for (_, r, g) in crate::writeback::RIGHTS.iter().map(|(n, m, g)| (n, *m, *g)) {
            with.aces.push(Ace::object_allow(0, r, Some(g), None, Sid::parse(CONNECTOR).unwrap()));
        }
        let a = answer(&acl(""), &acl(""), &acl(""), [false; 3], &plan, Some(&with));
        assert!(a.after_sdprop.reachable);
    }

    #[test]
    fn inheritance_follows_the_flags() {
        let a =
            &aces("(OA;CINPIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;CONN)")[0];
        assert!(inherited_copy(a, 1, USER_CLASS).is_some_and(|c| c.flags & INHERIT_ONLY == 0 && c.is_inherited()));
        assert!(inherited_copy(a, 2, USER_CLASS).is_none(), "no-propagate stops below the first level");
        assert!(inherited_copy(a, 1, INET_ORG_PERSON_CLASS).is_none(), "another class");
        let not_inheritable = &aces("(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;CONN)")[0];
        assert!(inherited_copy(not_inheritable, 1, USER_CLASS).is_none());
        assert_eq!(parent_dn("CN=a\\,b,OU=p,DC=x"), Some("OU=p,DC=x"));
        assert_eq!(parent_dn("DC=x"), None);
    }
}
