//! The Entra ID engine against the tenant simulator: every sign-in path, Graph retries and
//! paging, the tenant checks, and no token in the logs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use writeback_base::secrets::{MemoryStore, Secret, SecretStore};
use writeback_core::config::Cloud;
use writeback_entra::auth::SignIn;
use writeback_entra::graph::{GraphClient, Sleeper};
use writeback_entra::{EntraError, check, clouds};
use writeback_lab::tenant::{Faults, Fixture};

use crate::tenant::{APP, GA, HIA, Sim, TENANT, VIA_GROUP, hybrid_fixture};

fn sign_in(sim: &Sim) -> SignIn {
    SignIn::new(clouds::endpoints(Cloud::Lab, Some(sim.running.url())), TENANT, APP).unwrap()
}

fn graph(sim: &Sim, token: &Secret) -> GraphClient {
    GraphClient::new(clouds::endpoints(Cloud::Lab, Some(sim.running.url())).graph_v1(), token.clone()).unwrap()
}

/// Records the waits it is asked for, and moves the simulator's clock instead of waiting.
struct ClockSleeper {
    sim_clock: Arc<writeback_base::clock::ManualClock>,
    waits: Mutex<Vec<Duration>>,
}

impl Sleeper for ClockSleeper {
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.waits.lock().unwrap().push(d);
        self.sim_clock.advance(d);
        Box::pin(async {})
    }
}

#[tokio::test]
async fn browser_sign_in_with_pkce_on_a_loopback_port() {
    let sim = Sim::hybrid().await;
    let browser = crate::tenant::form_browser(GA);
    let tokens =
        sign_in(&sim).browser("127.0.0.1", &browser, &CancellationToken::new(), Duration::from_secs(20)).await.unwrap();
    assert!(tokens.refresh.is_some());
    let me = check::me(&graph(&sim, &tokens.access)).await.unwrap();
    assert_eq!(me.user_principal_name, GA.0);

    // Cancel while waiting for the browser.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = sign_in(&sim).browser("127.0.0.1", &|_| Ok(()), &cancel, Duration::from_secs(20)).await.unwrap_err();
    assert!(matches!(err, EntraError::Cancelled));
    // A browser that cannot be opened is said so.
    let err = sign_in(&sim)
        .browser("127.0.0.1", &|_| Err("no display".into()), &CancellationToken::new(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no display"));
}

/// The device authorization endpoint comes from the tenant's discovery document, as Entra's v2.0
/// document names it: moved there (and gone from the usual path), the sign-in still starts.
#[tokio::test]
async fn the_device_endpoint_is_taken_from_discovery() {
    let sim = Sim::hybrid().await;
    sim.running.set_faults(writeback_lab::tenant::Faults { device_endpoint_moved: true, ..Default::default() });
    let doc: serde_json::Value = sim
        .http
        .get(sim.url(&format!("/{TENANT}/v2.0/.well-known/openid-configuration")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["device_authorization_endpoint"].as_str().unwrap().ends_with("/oauth2/v2.0/devicecode-moved"), "{doc}");
    let usual = sim
        .http
        .post(sim.url(&format!("/{TENANT}/oauth2/v2.0/devicecode")))
        .form(&[("client_id", APP)])
        .send()
        .await
        .unwrap();
    assert_eq!(usual.status(), reqwest::StatusCode::NOT_FOUND);
    let flow = sign_in(&sim).device().await.unwrap();
    assert!(!flow.user_code().is_empty());
}

#[tokio::test]
async fn device_code_sign_in_pending_slow_down_approve_and_decline() {
    let sim = Sim::hybrid().await;
    let flow = sign_in(&sim).device().await.unwrap();
    assert_eq!(flow.verification_uri(), sim.url("/devicelogin"));
    assert_eq!(flow.interval(), Duration::from_secs(5));
    assert!(flow.message().contains(flow.user_code()));
    let code = flow.user_code().to_string();
    // The person signs in after the client has polled a few times (each poll moves the clock).
    let clock = sim.clock.clone();
    let polls = Arc::new(Mutex::new(Vec::new()));
    let p = polls.clone();
    let sim_ref = &sim;
    let approve = async {
        // Wait until two polls happened, then approve on the device-login page.
        for _ in 0..200 {
            if p.lock().unwrap().len() >= 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        crate::tenant::device_login(sim_ref, &code, GA, "approve").await
    };
    let sleep = |d: Duration| {
        polls.lock().unwrap().push(d);
        clock.advance(d);
        async { tokio::task::yield_now().await }
    };
    let (tokens, page) = tokio::join!(flow.finish(sleep), approve);
    assert!(page.contains("You have signed in"), "{page}");
    let tokens = tokens.unwrap();
    assert!(check::me(&graph(&sim, &tokens.access)).await.unwrap().cloud_account);
    assert!(polls.lock().unwrap().iter().all(|d| *d >= Duration::from_secs(5)), "{:?}", polls.lock().unwrap());

    // Declined on the page: authorization_declined, which oauth2 does not know, becomes words.
    let flow = sign_in(&sim).device().await.unwrap();
    crate::tenant::device_login(&sim, flow.user_code(), GA, "decline").await;
    let clock = sim.clock.clone();
    let err = flow
        .finish(|d| {
            clock.advance(d);
            async {}
        })
        .await
        .unwrap_err();
    match err {
        EntraError::Aadsts { error, code, .. } => {
            assert_eq!((error.as_str(), code), ("authorization_declined", Some(70000)))
        }
        other => panic!("{other}"),
    }
    // Expired: nobody signs in within the code's life.
    let flow = sign_in(&sim).device().await.unwrap();
    let clock = sim.clock.clone();
    let err = flow
        .finish(|d| {
            clock.advance(d * 40);
            async {}
        })
        .await
        .unwrap_err();
    assert!(matches!(err, EntraError::Aadsts { code: Some(70019), .. }), "{err}");
}

#[tokio::test]
async fn silent_sign_in_rotation_revocation_and_aadsts_words() {
    let sim = Sim::hybrid().await;
    let s = sign_in(&sim);
    let store = MemoryStore::default();
    assert!(s.silent(&store).await.unwrap().is_none(), "nothing saved yet");
    let first = s.password(GA.0, &Secret::new(GA.1)).await.unwrap();
    s.remember(&store, &first).unwrap();
    let again = s.silent(&store).await.unwrap().unwrap();
    assert_ne!(again.refresh, first.refresh, "rotated");
    assert_eq!(store.get(&s.cache_key()).unwrap(), again.refresh, "the successor is saved");
    // Revoked in the tenant: the error says so, and the saved token is gone.
    sim.running.revoke_sessions(GA.0);
    let err = s.silent(&store).await.unwrap_err();
    match &err {
        EntraError::Aadsts { code: Some(50173), words, .. } => assert!(words.contains("revoked")),
        other => panic!("{other}"),
    }
    assert!(store.get(&s.cache_key()).unwrap().is_none());
    // Sign-out forgets.
    s.remember(&store, &first).unwrap();
    s.sign_out(&store).unwrap();
    assert!(store.get(&s.cache_key()).unwrap().is_none());
    // Entra's refusals in words.
    let cases = [
        (Secret::new("wrong"), GA.0, 50126, "wrong"),
        (Secret::new("Mfa-Passw0rd!"), "mfa@contosohybrid.onmicrosoft.com", 50076, "multi-factor"),
        (Secret::new("Dis-Passw0rd!"), "disabled@contosohybrid.onmicrosoft.com", 50057, "disabled"),
    ];
    for (pw, user, code, word) in cases {
        match s.password(user, &pw).await.unwrap_err() {
            EntraError::Aadsts { code: c, words, .. } => {
                assert_eq!(c, Some(code));
                assert!(words.contains(word), "{words}");
            }
            other => panic!("{other}"),
        }
    }
    let unknown_client = SignIn::new(
        clouds::endpoints(Cloud::Lab, Some(sim.running.url())),
        TENANT,
        "00000000-0000-0000-0000-00000000dead",
    )
    .unwrap();
    let err = unknown_client.password(GA.0, &Secret::new(GA.1)).await.unwrap_err();
    assert!(matches!(err, EntraError::Aadsts { code: Some(700016), .. }), "{err}");
    let wrong_tenant =
        SignIn::new(clouds::endpoints(Cloud::Lab, Some(sim.running.url())), "nosuch.example", APP).unwrap();
    assert!(matches!(
        wrong_tenant.password(GA.0, &Secret::new(GA.1)).await.unwrap_err(),
        EntraError::Aadsts { code: Some(90002), .. }
    ));
}

#[tokio::test]
async fn graph_retries_honour_retry_after_within_a_deadline_and_keep_the_request_id() {
    let sim = Sim::hybrid().await;
    let token = sign_in(&sim).password(GA.0, &Secret::new(GA.1)).await.unwrap().access;
    let sleeper = Arc::new(ClockSleeper { sim_clock: sim.clock.clone(), waits: Mutex::new(Vec::new()) });
    sim.running.set_faults(Faults {
        throttle_first: 2,
        unavailable_first: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let g = graph(&sim, &token).with_sleeper(sleeper.clone());
    let me = check::me(&g).await.unwrap();
    assert_eq!(me.user_principal_name, GA.0);
    assert_eq!(*sleeper.waits.lock().unwrap(), vec![Duration::from_secs(7); 3]);
    // A storm longer than the deadline: a typed error, not a hang.
    sim.running.set_faults(Faults { throttle_first: 100, retry_after_secs: 20, ..Faults::default() });
    let g = graph(&sim, &token).with_sleeper(sleeper.clone()).with_deadline(Duration::from_secs(60));
    match check::me(&g).await.unwrap_err() {
        EntraError::Throttled { status: 429, attempts, waited_secs, request_id } => {
            assert_eq!((attempts, waited_secs), (4, 60));
            assert!(!request_id.is_empty());
        }
        other => panic!("{other}"),
    }
    sim.running.set_faults(Faults::default());
    // Graph's error kept whole.
    let g = graph(&sim, &Secret::new("not-a-token"));
    match check::me(&g).await.unwrap_err() {
        e @ EntraError::Graph { .. } => {
            let EntraError::Graph { status, code, request_id, date, .. } = &e else { unreachable!() };
            assert_eq!((*status, code.as_str()), (401, "InvalidAuthenticationToken"));
            assert!(!request_id.is_empty() && !date.is_empty());
            assert!(writeback_base::diagnose::Diagnose::remedy(&e).contains("Sign in again"));
        }
        other => panic!("{other}"),
    }
    // Paging: 25 groups on pages of 10.
    let mut fx = hybrid_fixture();
    fx.page_size = 10;
    for i in 0..25 {
        fx.groups.push(writeback_lab::tenant::fixture::FixtureGroup {
            id: format!("0c000000-0000-4000-8000-{i:012}"),
            display_name: format!("Team {i}"),
            ..Default::default()
        });
        let id = format!("0c000000-0000-4000-8000-{i:012}");
        fx.users[0].groups.push(id);
    }
    let paged = Sim::start(fx).await;
    let token = sign_in(&paged).password(GA.0, &Secret::new(GA.1)).await.unwrap().access;
    assert_eq!(graph(&paged, &token).get_all("/me/memberOf", false).await.unwrap().len(), 26);
}

#[tokio::test]
async fn tenant_checks_roles_licence_and_directory_sync() {
    let sim = Sim::hybrid().await;
    let run = |user: (&'static str, &'static str)| {
        let sim = &sim;
        async move {
            let token = sign_in(sim).password(user.0, &Secret::new(user.1)).await.unwrap().access;
            check::check(&graph(sim, &token), SystemTime::now()).await.unwrap()
        }
    };
    let ga = run(GA).await;
    assert!(ga.role_ok && ga.ready(), "{:?}", ga.problems);
    assert_eq!(ga.roles[0].display_name, "Global Administrator");
    assert!(ga.licence.eligible);
    assert_eq!(ga.licence.granted_by[0].sku_part_number, "EMSPREMIUM");
    assert_eq!(ga.licence.not_counted[0].sku_part_number, "O365_BUSINESS_PREMIUM");
    assert!(ga.directory_sync.enabled && ga.directory_sync.minutes_since_last_sync.is_some());
    assert_eq!(ga.graph_password_writeback_flag, Some(false));
    let hia = run(HIA).await;
    assert!(hia.role_ok && hia.ready());
    assert_eq!(hia.graph_password_writeback_flag, None, "403 for a non-Global Administrator means not available");
    // A role through a role-assignable group is the role: Microsoft's pages do not set them apart.
    let grp = run(VIA_GROUP).await;
    assert!(grp.role_ok && grp.problems.is_empty(), "{:?}", grp.problems);
    assert_eq!(grp.roles_through_groups, vec!["Hybrid Identity Administrator through the group Identity Admins"]);
    // A synced administrator in a managed domain is accepted (event 32009 asks for a managed —
    // cloud-only or password-synchronised — account); one in a federated domain is warned of.
    let managed = run(("synced.managed@contosohybrid.onmicrosoft.com", "Syn-Managed-Passw0rd!")).await;
    assert!(managed.role_ok && !managed.account.cloud_account && managed.problems.is_empty(), "{managed:?}");
    assert!(!managed.warnings.iter().any(|w| w.contains("federated")), "{:?}", managed.warnings);
    let synced = run(("synced@contoso.example", "Syn-Passw0rd!")).await;
    assert!(synced.role_ok && synced.problems.is_empty(), "{:?}", synced.problems);
    // Its domain is federated: named with what it means (a warning, never a failed check).
    assert_eq!(synced.domain_authentication.as_deref(), Some("Federated"));
    assert!(
        synced
            .warnings
            .iter()
            .any(|w| w.starts_with("synced@contoso.example is in a federated domain (contoso.example)")),
        "{:?}",
        synced.warnings
    );
    assert_eq!(ga.domain_authentication.as_deref(), Some("Managed"));
    assert!(!ga.warnings.iter().any(|w| w.contains("federated")) && ga.not_checked.is_empty(), "{ga:?}");
    let plain = run(crate::tenant::PLAIN).await;
    assert!(plain.problems[0].contains("PIM-eligible"), "{:?}", plain.problems);
    // A PIM-eligible administrator holding no reader role: its own eligibility is read with
    // filterByCurrentUser(on='principal'), which the listing by principal (a reader's) is not.
    let eligible = run(("eligible@contosohybrid.onmicrosoft.com", "Pim-Passw0rd!")).await;
    assert_eq!(eligible.eligible_roles, vec!["Global Administrator"], "{eligible:?}");
    assert!(
        eligible.problems[0].contains("is eligible for Global Administrator, not active"),
        "{:?}",
        eligible.problems
    );
    assert!(eligible.not_checked.is_empty(), "{:?}", eligible.not_checked);

    // PIM: a role held only as eligible is named as such, with the way to activate it.
    let pim = run(("pim@contosohybrid.onmicrosoft.com", "Prv-Passw0rd!")).await;
    assert!(!pim.role_ok);
    assert_eq!(pim.eligible_roles, vec!["Hybrid Identity Administrator"]);
    assert!(
        pim.problems[0].contains("is eligible for Hybrid Identity Administrator, not active: activate it in PIM"),
        "{:?}",
        pim.problems
    );
    assert!(!pim.problems.iter().any(|p| p.contains("holds neither")), "{:?}", pim.problems);

    // An app consented before Domain.Read.All: the federation check is "not checked".
    let older = SignIn::new(
        clouds::endpoints(Cloud::Lab, Some(sim.running.url())),
        TENANT,
        "12121212-3434-4565-8787-909090909090",
    )
    .unwrap()
    .password(GA.0, &Secret::new(GA.1))
    .await
    .unwrap()
    .access;
    let c = check::check(&graph(&sim, &older), SystemTime::now()).await.unwrap();
    assert_eq!(c.domain_authentication, None);
    assert!(
        c.not_checked.iter().any(|n| n.contains("federated was not checked") && n.contains("Domain.Read.All")),
        "{:?}",
        c.not_checked
    );

    // No licence, no directory sync.
    let fx =
        Fixture::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tenant-no-licence.json"))
            .unwrap();
    let bare = Sim::start(Fixture { on_premises_sync_enabled: Some(false), ..fx }).await;
    let token = SignIn::new(clouds::endpoints(Cloud::Lab, Some(bare.running.url())), "organizations", "any")
        .unwrap()
        .password("admin@fabrikamstd.onmicrosoft.com", &Secret::new("Fab-Passw0rd!"))
        .await
        .unwrap()
        .access;
    let c = check::check(&graph(&bare, &token), SystemTime::now()).await.unwrap();
    assert!(c.role_ok && !c.ready());
    assert!(!c.licence.eligible);
    assert!(c.problems.iter().any(|p| p.contains("Entra ID P1 or P2")), "{:?}", c.problems);
    assert!(c.problems.iter().any(|p| p.contains("directory synchronisation is not enabled")), "{:?}", c.problems);
}

/// Tracing output captured into a buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_or_password_reaches_the_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let sim = Sim::hybrid().await;
    let s = sign_in(&sim);
    let t = s.password(GA.0, &Secret::new(GA.1)).await.unwrap();
    let store = MemoryStore::default();
    s.remember(&store, &t).unwrap();
    let t2 = s.silent(&store).await.unwrap().unwrap();
    sim.running.set_faults(Faults { throttle_first: 1, retry_after_secs: 1, ..Faults::default() });
    let c = check::check(&graph(&sim, &t2.access), SystemTime::now()).await.unwrap();
    tracing::debug!(?c, ?t2, "done");
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(logs.len() > 200, "tracing captured little: {logs}");
    for secret in [
        t.access.expose(),
        t2.access.expose(),
        t.refresh.as_ref().unwrap().expose(),
        t2.refresh.as_ref().unwrap().expose(),
        GA.1,
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

// Multi-threaded: the simulator must keep serving while the test waits on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_check_and_licences_on_the_command_line() {
    use crate::support::{bin, code, json};
    let home = tempfile::tempdir().unwrap();
    let _down = crate::support::DefaultLabDown(home.path());
    // --lab: the simulator in process, its administrator signed in — never a production token
    // from the environment or the keyring.
    let out = bin(home.path())
        .args(["entra", "check", "--lab", "--json"])
        .env("WRITEBACK_ENTRA_TOKEN", "a-production-token-that-must-not-be-sent")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    for key in ["account", "roles", "role_ok", "licence", "directory_sync"] {
        assert!(doc.get(key).is_some(), "{key}: {doc}");
    }
    assert_eq!(doc["role_ok"], true);
    assert_eq!(doc["licence"]["eligible"], true);
    // A token from the environment, against a separately running simulator: a role through a
    // group is the role (exit 0), and said.
    let sim = Sim::hybrid().await;
    let token = sign_in(&sim).password(VIA_GROUP.0, &Secret::new(VIA_GROUP.1)).await.unwrap().access;
    let out = bin(home.path())
        .args(["entra", "check", "--json", "--cloud", "lab", "--lab-url", sim.running.url(), "--tenant", TENANT])
        .env("WRITEBACK_ENTRA_TOKEN", token.expose())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        json(&out)["roles_through_groups"][0],
        "Hybrid Identity Administrator through the group Identity Admins"
    );
    // No token, no terminal: exit 2 naming the variable.
    let out = bin(home.path())
        .args(["entra", "check", "--json", "--cloud", "lab", "--lab-url", sim.running.url()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(json(&out)["error"]["remedy"].as_str().unwrap().contains("WRITEBACK_ENTRA_TOKEN"));
    // --cloud lab without its URL.
    let out = bin(home.path())
        .args(["entra", "check", "--json", "--cloud", "lab"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);

    // licences --from-file: Graph's answer or a bare array; yes, no, and not a list.
    let fx = hybrid_fixture();
    let skus = fx.subscribed_skus.clone().unwrap();
    let yes = home.path().join("yes.json");
    std::fs::write(&yes, serde_json::json!({"value": skus}).to_string()).unwrap();
    let out = bin(home.path()).args(["licences", "--from-file", yes.to_str().unwrap(), "--json"]).output().unwrap();
    assert_eq!(code(&out), 0);
    let doc = json(&out);
    assert_eq!(doc["granted_by"][0]["sku_part_number"], "EMSPREMIUM");
    for key in ["eligible", "granted_by", "warnings", "reason"] {
        assert!(doc.get(key).is_some(), "{key}");
    }
    let no = home.path().join("no.json");
    std::fs::write(&no, serde_json::json!([skus[1]]).to_string()).unwrap();
    let out = bin(home.path()).args(["licences", "--from-file", no.to_str().unwrap()]).output().unwrap();
    assert_eq!(code(&out), 3);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Microsoft 365 Business Standard includes no Microsoft Entra ID P1 or P2")
    );
    let bad = home.path().join("bad.json");
    std::fs::write(&bad, "{\"skus\": 1}").unwrap();
    let out = bin(home.path()).args(["licences", "--from-file", bad.to_str().unwrap(), "--json"]).output().unwrap();
    assert_eq!(code(&out), 2);
    assert!(json(&out)["error"]["message"].as_str().unwrap().contains("value"));
}

#[tokio::test]
async fn device_code_polling_slows_down_when_told() {
    let sim = Sim::hybrid().await;
    let flow = sign_in(&sim).device().await.unwrap();
    let code = flow.user_code().to_string();
    let clock = sim.clock.clone();
    let waits = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let w = waits.clone();
    let sim_ref = &sim;
    // Time passes at a fifth of the requested waits, so polls come too early: the simulator
    // answers slow_down, and the client must lengthen its interval by 5 s each time.
    let sleep = move |d: Duration| {
        w.lock().unwrap().push(d);
        clock.advance(d / 5);
        async { tokio::task::yield_now().await }
    };
    let approve = async {
        for _ in 0..500 {
            if waits.lock().unwrap().len() >= 4 {
                break;
            }
            tokio::task::yield_now().await;
        }
        crate::tenant::device_login(sim_ref, &code, GA, "approve").await
    };
    let (tokens, _) = tokio::join!(flow.finish(sleep), approve);
    tokens.unwrap();
    let waits = waits.lock().unwrap().clone();
    assert!(waits.windows(2).any(|p| p[1] >= p[0] + Duration::from_secs(5)), "the interval never grew: {waits:?}");
}

/// An answer past the cap (a proxy, a broken server) is refused with a clear error, not read into
/// memory whole.
#[tokio::test]
async fn a_graph_answer_past_the_cap_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let size = writeback_entra::graph::MAX_BODY_BYTES + 1024;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n");
            let _ = s.write_all(head.as_bytes()).await;
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < size {
                let n = chunk.len().min(size - sent);
                if s.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
                sent += n;
            }
        }
    });
    let graph =
        writeback_entra::graph::GraphClient::new(format!("http://127.0.0.1:{port}/v1.0"), Secret::new("t")).unwrap();
    let err = graph.get("/me", false).await.unwrap_err();
    assert!(err.to_string().contains("larger than 8 MiB"), "{err}");
}

/// The redirect URI says `http://localhost:PORT`, which a browser may resolve to 127.0.0.1 or to
/// [::1]: the listener answers on both (RFC 8252 §7.3).
#[tokio::test]
async fn the_sign_in_redirect_is_heard_on_both_loopback_addresses() {
    use tokio::io::AsyncWriteExt;
    use writeback_entra::auth::{Loopback, wait_for_code};
    for addr in ["127.0.0.1", "::1"] {
        let listener = Loopback::bind().await.unwrap();
        if addr == "::1" && !listener.dual_stack() {
            assert!(tokio::net::TcpListener::bind("[::1]:0").await.is_err(), "IPv6 loopback is there, yet unused");
            continue;
        }
        let port = listener.port;
        let send = tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect((addr, port)).await.unwrap();
            s.write_all(b"GET /callback?code=the-code&state=s1 HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
            let mut answer = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut s, &mut answer).await.unwrap();
            answer
        });
        let code =
            tokio::time::timeout(Duration::from_secs(10), wait_for_code(&listener, "s1")).await.unwrap().unwrap();
        assert_eq!(code.expose(), "the-code", "{addr}");
        assert!(send.await.unwrap().contains("Signed in"), "{addr}");
    }
}

/// An administrator's refresh token outlives the run only when asked for (`--remember-sign-in`,
/// the wizard's "Keep me signed in on this server").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_is_kept_in_the_keyring_only_when_asked() {
    use writeback_base::secrets::KeyringStore;
    use writeback_core::config::SettingsOverlay;
    use writeback_core::session::{Front, Interactive, Options, entra, sign_in_for};
    let sim = Sim::hybrid().await;
    let home = tempfile::tempdir().unwrap();
    let flags = SettingsOverlay {
        cloud: Some(Cloud::Lab),
        lab_url: Some(sim.running.url().to_string()),
        tenant: Some(crate::tenant::TENANT.into()),
        client_id: Some(crate::tenant::APP.into()),
        ..SettingsOverlay::default()
    };
    let mut opts = Options::new(home.path().join("settings.toml"), false, Front::Cli, flags);
    let key = sign_in_for(&opts.settings().unwrap(), Front::Cli).unwrap().cache_key();
    let store = KeyringStore;
    let _ = store.delete(&key);
    let browser = crate::tenant::form_browser(crate::tenant::GA);
    let cancel = CancellationToken::new();
    for remember in [false, true] {
        opts.flags.remember_sign_in = remember;
        entra(&opts, Interactive::Browser { open: &browser, cancel: &cancel }).await.unwrap();
        assert_eq!(store.get(&key).unwrap().is_some(), remember, "kept: {remember}");
    }
    store.delete(&key).unwrap();
}
