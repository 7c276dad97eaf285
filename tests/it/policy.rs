//! The password tester against what a real DC accepts. Samba enforces length and character
//! kinds on a reset (not Windows' name rules, nor history or minimum age on an admin reset), so the
//! differential test compares exactly those, on users under the domain policy and under a PSO.

use ldap3::Mod;
use writeback_ad::policy::{self, PolicySource};
use writeback_ad::{AdError, directory, unicode_pwd};
use writeback_base::secrets::Secret;

use crate::ad_engine::discover;
use crate::support::LabDc;

#[tokio::test]
async fn policies_are_read_and_the_tester_agrees_with_the_dc() {
    let lab = LabDc::up();
    let (mut conn, disc) = discover(&lab).await;

    let domain = policy::domain_policy(&mut conn, &disc).await.unwrap();
    assert_eq!(domain.source, PolicySource::Domain { dn: disc.default_naming_context.clone() });
    assert_eq!((domain.min_length, domain.complexity, domain.history_length), (7, true, 24), "Samba's defaults");

    let sales = directory::find_account(&mut conn, &disc, "alice.archer").await.unwrap().unwrap();
    let finance = directory::find_account(&mut conn, &disc, "amir.abbasi").await.unwrap().unwrap();
    assert_eq!(policy::effective_policy(&mut conn, &disc, &sales.dn).await.unwrap(), domain);
    let pso = policy::effective_policy(&mut conn, &disc, &finance.dn).await.unwrap();
    assert_eq!(pso.min_length, 14);
    assert!(
        matches!(&pso.source, PolicySource::Pso { dn, precedence: 10 } if dn.starts_with("CN=Finance Strict Passwords"))
    );

    // None of these holds a name of either user, so only length and character kinds decide.
    let grid = [
        "Ab1!",
        "Abcdef1",
        "abcdefgh",
        "ABCDEFG1",
        "abcdefg1",
        "abcd!fg1",
        "Qwerty12345678",
        "qwertyuiopasdf",
        "Qwertyuiopasd!",
        "Straße12",
        "ÄÖÜäöü12",
        "пароль1!x",
        "密码密码密码1a",
        "        1aA",
        "Pa ss wo rd",
        "Zz9~Zz9~Zz9~Zz9~",
        "0123456789012345",
        "!!!!!!!!aaaaaaaa",
        "UPPERlower",
        "UPPERlower2",
        "Ünïcödé-Lönger-14",
    ];
    let mut disagreements = Vec::new();
    for user in [&sales, &finance] {
        let effective = policy::effective_policy(&mut conn, &disc, &user.dn).await.unwrap();
        for pw in grid {
            let secret = Secret::new(pw);
            // No clock: Samba does not hold an administrator's reset to the minimum age (each
            // reset here renews pwdLastSet), so the comparison is of length and character kinds.
            let verdict = policy::test_password(&effective, user, &secret, None);
            assert!(
                verdict.reasons.iter().all(|r| r.rule == "too_short" || r.rule == "not_complex"),
                "{pw} hits a name rule"
            );
            let reset = conn
                .modify(&user.dn, vec![Mod::Replace(b"unicodePwd".to_vec(), [unicode_pwd(&secret)].into())], vec![])
                .await;
            let accepted = match &reset {
                Ok(()) => true,
                Err(AdError::Ldap { rc: 19 | 53, text, .. }) if text.contains("0000052D") => false,
                Err(other) => panic!("{pw}: unexpected {other}"),
            };
            if accepted != verdict.acceptable {
                disagreements.push(format!(
                    "{} / {pw:?}: DC {accepted}, tester {} {:?}",
                    user.sam_account_name, verdict.acceptable, verdict.reasons
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
