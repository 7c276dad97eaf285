//! The AD engine against real lab DCs: discovery, accounts, Enterprise Admins, and the writeback
//! permissions granted, proven by the connector account itself, and revoked to the byte.

use ldap3::Mod;
use writeback_ad::directory::{self, Discovery};
use writeback_ad::sd::Sid;
use writeback_ad::writeback::{self, TargetKind};
use writeback_ad::{AdConnection, AdError, ConnectOptions, unicode_pwd};

use crate::support::LabDc;

pub const BASE: &str = "DC=lab,DC=example,DC=test";

pub async fn discover(lab: &LabDc) -> (AdConnection, Discovery) {
    let mut conn = lab.admin().await;
    let disc = directory::discover(&mut conn).await.unwrap();
    (conn, disc)
}

pub async fn connector_sid(conn: &mut AdConnection, disc: &Discovery, lab: &LabDc) -> Sid {
    let account = directory::find_account(conn, disc, &lab.field("connector_account")).await.unwrap().unwrap();
    Sid::parse(&account.sid).unwrap()
}

pub async fn as_connector(lab: &LabDc) -> AdConnection {
    let mut c = AdConnection::connect(&ConnectOptions::new(lab.field("ldap_url"), lab.trust())).await.unwrap();
    c.bind(&format!("LAB\\{}", lab.field("connector_account")), &lab.password("connector_password_file"))
        .await
        .unwrap();
    c
}

/// What the sync engine does on writeback: reset the password, then clear lockoutTime.
pub async fn writeback_as_connector(c: &mut AdConnection, user_dn: &str) -> (Result<(), AdError>, Result<(), AdError>) {
    let pw = writeback_ad::passgen::generate_os(20);
    let reset = c.modify(user_dn, vec![Mod::Replace(b"unicodePwd".to_vec(), [unicode_pwd(&pw)].into())], vec![]).await;
    let unlock = c.modify(user_dn, vec![Mod::Replace(b"lockoutTime".to_vec(), [b"0".to_vec()].into())], vec![]).await;
    (reset, unlock)
}

pub fn denied(r: &Result<(), AdError>) -> bool {
    matches!(r, Err(AdError::Ldap { rc: 50, .. }))
}

#[tokio::test]
async fn discovery_accounts_and_enterprise_admins() {
    let lab = LabDc::up();
    let (mut conn, disc) = discover(&lab).await;
    assert_eq!(disc.default_naming_context, BASE);
    assert_eq!(disc.root_domain_naming_context, BASE);
    assert_eq!(disc.dc_name.to_lowercase(), "dc1.lab.example.test");
    assert_eq!(disc.domains.len(), 1);
    assert_eq!(disc.domains[0].dns_name, "lab.example.test");
    assert_eq!(disc.domains[0].netbios_name, "LAB");
    assert_eq!(disc.domains[0].sid.as_deref(), Some(disc.domain_sid.to_string().as_str()));
    assert_eq!(disc.forest_root_sid, disc.domain_sid);
    assert!(disc.supported_controls.iter().any(|c| c == "1.2.840.113556.1.4.801"), "SD_FLAGS");
    assert!(!disc.policy_hints(), "Samba does not offer the policy-hints control");
    assert_eq!(
        disc.domain_of("CN=x,OU=Sales,OU=Staff,OU=Corp,DC=lab,DC=example,DC=test").map(|d| d.netbios_name.as_str()),
        Some("LAB")
    );

    // Every way of naming an account finds the same one.
    let by_sam = directory::find_account(&mut conn, &disc, "alice.archer").await.unwrap().unwrap();
    for name in ["LAB\\alice.archer", "alice.archer@lab.example.test", &by_sam.dn] {
        assert_eq!(directory::find_account(&mut conn, &disc, name).await.unwrap().as_ref(), Some(&by_sam), "{name}");
    }
    assert_eq!(by_sam.display_name.as_deref(), Some("Alice Archer"));
    assert!(by_sam.enabled && !by_sam.admin_count);
    assert!(directory::find_account(&mut conn, &disc, "no.such.user").await.unwrap().is_none());
    assert!(directory::find_account(&mut conn, &disc, &format!("CN=Nobody,{BASE}")).await.unwrap().is_none());

    // Enterprise Admins through tokenGroups: the Administrator is; Ada (Domain Admins) is not.
    let admin = directory::find_account(&mut conn, &disc, "LAB\\Administrator").await.unwrap().unwrap();
    let check = directory::enterprise_admin(&mut conn, &disc, &admin).await.unwrap();
    assert!(check.enterprise_admin && check.domain_admin);
    assert_eq!(check.enterprise_admins_sid, format!("{}-519", disc.forest_root_sid));
    let ada = directory::find_account(&mut conn, &disc, "ada.admin").await.unwrap().unwrap();
    assert!(ada.admin_count);
    let check = directory::enterprise_admin(&mut conn, &disc, &ada).await.unwrap();
    assert!(!check.enterprise_admin && check.domain_admin);

    // Connector candidates: the MSOL_ account, and a named one first.
    let found = directory::connector_candidates(&mut conn, &disc, None).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].sam_account_name, lab.field("connector_account"));
    assert!(found[0].enabled && !found[0].admin_count);
    assert!(found[0].dn.ends_with(&format!("CN=Users,{BASE}")));
    let canary = directory::find_account(&mut conn, &disc, "wb.canary").await.unwrap().expect("the canary");
    let with_named = directory::connector_candidates(&mut conn, &disc, Some(&canary)).await.unwrap();
    assert_eq!(with_named.len(), 2);
    assert_eq!(with_named[0].sam_account_name, "wb.canary");
    let msol = directory::connector_candidates(&mut conn, &disc, Some(&found[0])).await.unwrap();
    assert_eq!(msol, found, "an MSOL_ account named is listed once");
}

#[tokio::test]
async fn grant_is_proven_by_the_connector_and_revoke_restores_the_bytes() {
    let lab = LabDc::up();
    let (mut conn, disc) = discover(&lab).await;
    let connector = connector_sid(&mut conn, &disc, &lab).await;
    let canary = format!("CN=Writeback Canary,OU=Support,OU=Staff,OU=Corp,{BASE}");
    let legacy_user = format!("CN=Walter Wright,OU=Legacy,OU=Corp,{BASE}");

    // Before: the connector may do neither.
    let mut c = as_connector(&lab).await;
    let (reset, unlock) = writeback_as_connector(&mut c, &canary).await;
    assert!(denied(&reset) && denied(&unlock), "{reset:?} {unlock:?}");

    let before = writeback::read_dacl(&mut conn, BASE).await.unwrap();
    let mut wanted = writeback::wanted(TargetKind::Scope, &connector);
    wanted.extend(writeback::wanted(TargetKind::DomainRoot, &connector));
    let outcome = writeback::grant(&mut conn, BASE, &wanted, &connector).await.unwrap();
    assert_eq!(outcome.before, before.bytes);
    assert_eq!(outcome.added.len(), 8, "the 8 inherit-only ACEs");
    assert_eq!(outcome.preexisting.len(), 1, "Unexpire Password: Authenticated Users hold it on a default domain");
    let after = writeback::read_dacl(&mut conn, BASE).await.unwrap();
    assert_eq!(after.bytes, outcome.after);
    assert!(after.sd.dacl.as_ref().unwrap().is_canonical());
    // Owner, group and SACL were not touched.
    let full_before = conn
        .search_with(
            BASE,
            ldap3::Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![writeback_ad::sd_flags_control(0x0b)],
        )
        .await
        .unwrap();
    let sd_full =
        writeback_ad::sd::SecurityDescriptor::decode(&full_before[0].bin_attrs["nTSecurityDescriptor"][0]).unwrap();
    assert!(sd_full.owner.is_some() && sd_full.sacl.is_some());

    // Granting again changes nothing.
    let again = writeback::grant(&mut conn, BASE, &wanted, &connector).await.unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.before, after.bytes);

    // Proven by the connector itself: reset and unlock the canary.
    let mut c = as_connector(&lab).await;
    let (reset, unlock) = writeback_as_connector(&mut c, &canary).await;
    assert!(reset.is_ok() && unlock.is_ok(), "{reset:?} {unlock:?}");
    // Blocked inheritance: the Legacy OU's users stay out of reach — what breaks writeback there.
    let (reset, _) = writeback_as_connector(&mut c, &legacy_user).await;
    assert!(denied(&reset), "{reset:?}");

    // Revoke exactly what was added: the DACL is byte-identical to before.
    let revoked = writeback::revoke(&mut conn, BASE, &outcome.added).await.unwrap();
    assert_eq!(revoked.removed, 8);
    assert_eq!(revoked.after, before.bytes, "grant then revoke must leave the DACL byte-identical");
    let (reset, unlock) = writeback_as_connector(&mut c, &canary).await;
    assert!(denied(&reset) && denied(&unlock), "after revoke: {reset:?} {unlock:?}");
    // Revoking again is a no-op.
    assert_eq!(writeback::revoke(&mut conn, BASE, &outcome.added).await.unwrap().removed, 0);
}

#[tokio::test]
async fn an_ou_scope_covers_its_users_only_and_adminsdholder_gets_object_aces() {
    let lab = LabDc::up();
    let (mut conn, disc) = discover(&lab).await;
    let connector = connector_sid(&mut conn, &disc, &lab).await;
    let sales = format!("OU=Sales,OU=Staff,OU=Corp,{BASE}");
    let outcome = writeback::grant(&mut conn, &sales, &writeback::wanted(TargetKind::Scope, &connector), &connector)
        .await
        .unwrap();
    assert_eq!(outcome.added.len(), 8);
    let mut c = as_connector(&lab).await;
    assert!(writeback_as_connector(&mut c, &format!("CN=Alice Archer,{sales}")).await.0.is_ok());
    assert!(
        denied(
            &writeback_as_connector(&mut c, &format!("CN=Writeback Canary,OU=Support,OU=Staff,OU=Corp,{BASE}")).await.0
        ),
        "outside the scope"
    );

    // AdminSDHolder: the four rights on the object itself, no inheritance flags.
    let holder = format!("CN=AdminSDHolder,CN=System,{BASE}");
    let granted =
        writeback::grant(&mut conn, &holder, &writeback::wanted(TargetKind::AdminSdHolder, &connector), &connector)
            .await
            .unwrap();
    assert_eq!(granted.added.len(), 4);
    assert!(granted.added.iter().all(|a| a.flags == 0 && a.object_types().1.is_none()));
    let revoked = writeback::revoke(&mut conn, &holder, &granted.added).await.unwrap();
    assert_eq!(revoked.after, granted.before);

    // A DN that does not exist is named as such.
    let err = writeback::read_dacl(&mut conn, &format!("OU=Nowhere,{BASE}")).await.unwrap_err();
    assert!(matches!(err, AdError::NoSuchObject { .. }), "{err}");

    // A restore writes the saved DACL back exactly (the engine's rollback).
    writeback::restore_dacl(&mut conn, &sales, &outcome.before).await.unwrap();
    assert_eq!(writeback::read_dacl(&mut conn, &sales).await.unwrap().bytes, outcome.before);

    // Someone without the right to change permissions is refused, and nothing changes.
    let mut c = as_connector(&lab).await;
    let err = writeback::grant(&mut c, &sales, &writeback::wanted(TargetKind::Scope, &connector), &connector)
        .await
        .unwrap_err();
    assert!(matches!(err, AdError::Ldap { rc: 50, .. }), "{err}");
    assert_eq!(writeback::read_dacl(&mut conn, &sales).await.unwrap().bytes, outcome.before);
}

#[tokio::test]
async fn the_readiness_scan_finds_what_breaks_writeback() {
    use tokio_util::sync::CancellationToken;
    use writeback_ad::scan;
    use writeback_lab::seed;
    let lab = LabDc::up();
    let (mut conn, disc) = discover(&lab).await;
    let connector = connector_sid(&mut conn, &disc, &lab).await;
    let cancel = CancellationToken::new();
    let mut ticks = Vec::new();
    let root = vec![BASE.to_string()];
    let f = scan::scan(&mut conn, &root, Some(&connector), &cancel, &mut |n| ticks.push(n)).await.unwrap();

    let people = conn
        .search(BASE, ldap3::Scope::Subtree, "(&(objectCategory=person)(objectClass=user))", &["cn"])
        .await
        .unwrap();
    assert_eq!(f.users_in_scope, people.len());
    assert!(f.users_in_scope >= seed::STAFF.len() + 3);
    assert!(f.protected_accounts.contains(&format!("{},{BASE}", seed::ADMIN_USER)), "{:?}", f.protected_accounts);
    assert!(f.blocked_inheritance.contains(&format!("{},{BASE}", seed::PROTECTED_OU)), "{:?}", f.blocked_inheritance);
    assert!(!f.blocked_inheritance.iter().any(|d| d.starts_with("OU=Staff")));
    assert_eq!(f.cannot_change_password, vec![format!("{},{BASE}", seed::CANNOT_CHANGE_USER)]);
    assert!(f.explicit_deny.is_empty(), "{:?}", f.explicit_deny);
    assert!(!ticks.is_empty());

    // An explicit deny for the connector on an OU is found; its users are not each listed.
    let engineering = format!("OU=Engineering,OU=Staff,OU=Corp,{BASE}");
    let mut dacl = writeback::read_dacl(&mut conn, &engineering).await.unwrap();
    let mut deny = writeback::wanted(TargetKind::Scope, &connector).remove(0).ace;
    deny.ace_type = writeback_ad::sd::ace::ACCESS_DENIED_OBJECT;
    dacl.sd.dacl.as_mut().unwrap().insert_canonical(deny);
    writeback::write_dacl(&mut conn, &engineering, &dacl.sd).await.unwrap();
    let f = scan::scan(&mut conn, &root, Some(&connector), &cancel, &mut |_| {}).await.unwrap();
    assert_eq!(f.explicit_deny, vec![engineering.clone()]);

    // A narrower scope sees only its users.
    let sales = vec![format!("OU=Sales,OU=Staff,OU=Corp,{BASE}")];
    let f = scan::scan(&mut conn, &sales, Some(&connector), &cancel, &mut |_| {}).await.unwrap();
    assert_eq!(f.users_in_scope, seed::STAFF.iter().filter(|(_, _, ou)| ou.starts_with("OU=Sales")).count());
    assert!(f.protected_accounts.is_empty() && f.blocked_inheritance.is_empty() && f.cannot_change_password.is_empty());
    // Nested scopes count each user once.
    let nested = vec![BASE.to_string(), format!("OU=Corp,{BASE}")];
    assert_eq!(scan::scan(&mut conn, &nested, None, &cancel, &mut |_| {}).await.unwrap().users_in_scope, people.len());

    // A scope that does not exist, and a cancelled scan.
    let err = scan::scan(&mut conn, &[format!("OU=Nowhere,{BASE}")], None, &cancel, &mut |_| {}).await.unwrap_err();
    assert!(matches!(err, AdError::NoSuchObject { .. }), "{err}");
    cancel.cancel();
    let err = scan::scan(&mut conn, &root, None, &cancel, &mut |_| {}).await.unwrap_err();
    assert!(matches!(err, AdError::Cancelled { .. }), "{err}");
    // The connection is still usable after a cancel.
    assert!(conn.read(BASE, &["dc"]).await.unwrap().is_some());
}

#[tokio::test]
async fn a_pipelined_grant_matches_one_at_a_time_and_a_missing_object_stops_it_before_any_write() {
    let lab = LabDc::up();
    let (mut conn, disc) = discover(&lab).await;
    let connector = connector_sid(&mut conn, &disc, &lab).await;
    let wanted = writeback::wanted(TargetKind::Scope, &connector);
    // More objects than the window, and one that already holds the ACEs (nothing written there).
    let parent = format!("OU=Pipe,{BASE}");
    conn.add(&parent, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    let ous: Vec<String> = (0..40).map(|i| format!("OU=P{i:02},{parent}")).collect();
    for ou in &ous {
        conn.add(ou, vec![("objectClass", vec![b"organizationalUnit".to_vec()])]).await.unwrap();
    }
    let held = writeback::grant(&mut conn, &ous[7], &wanted, &connector).await.unwrap();
    let mut before = Vec::new();
    for ou in &ous {
        before.push(writeback::read_dacl(&mut conn, ou).await.unwrap().bytes);
    }
    let out = writeback::grant_many(&conn, ous.clone(), &wanted, &connector).await.unwrap();
    assert_eq!(out.len(), ous.len());
    for (i, (o, ou)) in out.iter().zip(&ous).enumerate() {
        assert_eq!(&o.dn, ou, "answers in the items' order");
        assert_eq!(o.before, before[i]);
        let now = writeback::read_dacl(&mut conn, ou).await.unwrap();
        assert_eq!(now.bytes, o.after, "{ou}");
        if i == 7 {
            assert!(o.added.is_empty() && o.after == o.before, "nothing lacking, nothing written");
        } else {
            assert_eq!(o.added.len(), 8, "{ou}");
            // The same bytes a grant one at a time gives.
            writeback::revoke(&mut conn, ou, &o.added).await.unwrap();
            let single = writeback::grant(&mut conn, ou, &wanted, &connector).await.unwrap();
            assert_eq!(single.after, o.after, "{ou}");
        }
    }
    assert_eq!(held.added.len(), 8);
    // A missing object fails the batch before anything is written.
    let mut with_missing = ous.clone();
    with_missing.push(format!("OU=Nowhere,{parent}"));
    for o in &out {
        writeback::revoke(&mut conn, &o.dn, &wanted.iter().map(|w| w.ace.clone()).collect::<Vec<_>>()).await.unwrap();
    }
    let untouched: Vec<Vec<u8>> = {
        let mut v = Vec::new();
        for ou in &ous {
            v.push(writeback::read_dacl(&mut conn, ou).await.unwrap().bytes);
        }
        v
    };
    let err = writeback::grant_many(&conn, with_missing, &wanted, &connector).await.unwrap_err();
    assert!(matches!(err, writeback_ad::AdError::NoSuchObject { .. }), "{err}");
    for (ou, bytes) in ous.iter().zip(&untouched) {
        assert_eq!(&writeback::read_dacl(&mut conn, ou).await.unwrap().bytes, bytes, "{ou} untouched");
    }
    // More objects than one window holds went through.
    assert!(ous.len() > writeback_ad::WINDOW);
}
