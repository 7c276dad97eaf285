//! Any text, read as up to three SDDL descriptors (a user, its parent, the domain root, one per
//! line): the evaluator never panics, and its answers hold together — a user reached now is
//! reached after the plan (the plan only adds grants), each right it calls held is held by the
//! ACE it names, and SDProp changes nothing for an account it does not protect.
#![no_main]

use writeback_ad::access::{self, Chain, Context, Decision, Plan, Token, User, WRITEBACK};
use writeback_ad::sd;
use writeback_ad::writeback::{self, TargetKind, USER_CLASS};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ctx = sd::SidContext::single(sd::Sid::new(5, vec![21, 1, 2, 3]));
    let sds: Vec<sd::SecurityDescriptor> =
        text.lines().take(3).filter_map(|l| sd::SecurityDescriptor::from_sddl(l, &ctx).ok()).collect();
    if sds.is_empty() {
        return;
    }
    let connector = sd::Sid::new(5, vec![21, 1, 2, 3, 1154]);
    let token = Token::network(connector.clone(), [sd::Sid::new(5, vec![21, 1, 2, 3, 513])]);
    let dns = ["CN=u,OU=p,DC=x", "OU=p,DC=x", "DC=x"];
    let chain = Chain {
        dns: dns[..sds.len()].to_vec(),
        dacls: sds.iter().map(|s| s.dacl.as_ref()).collect(),
        protected: sds.iter().map(|s| s.dacl_protected()).collect(),
    };
    let plan = Plan {
        grants: vec![(
            dns[sds.len() - 1].to_string(),
            writeback::wanted(TargetKind::Scope, &connector).into_iter().map(|w| w.ace).collect(),
        )],
    };
    let user = User { chain: chain.clone(), class: USER_CLASS, sid: Some(connector.clone()), protected_account: false };
    let cx = Context { token: &token, plan: &plan, admin_sd_holder: None, sids: &ctx };
    let a = access::evaluate(&user, &cx);
    if a.now.reachable {
        assert!(a.after_plan.reachable, "the plan only adds grants");
    }
    assert_eq!(a.after_sdprop, a.after_plan, "SDProp leaves an unprotected account alone");
    let aces: Vec<&sd::Ace> = chain.dacls[0].map(|d| d.aces.iter().collect()).unwrap_or_default();
    for right in &WRITEBACK {
        if let Decision::Allowed(i) | Decision::Denied(i) =
            access::decide(aces.iter().copied(), right, USER_CLASS, &token, Some(&connector))
        {
            assert!(i < aces.len());
        }
    }
});
