//! Our sign-in flows against a certified third-party OAuth server: panva's oidc-provider (npm,
//! installed by the test command), which differs from Entra in its paths, omits `interval`, adds
//! `iss` to the redirect, and needs consent for offline_access. Its pages are filled in as a
//! person would, through its own forms and a cookie jar.

use std::collections::HashMap;
use std::io::BufRead;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use writeback_entra::auth::SignIn;
use writeback_entra::clouds::Endpoints;

struct Oidc {
    child: std::process::Child,
    issuer: String,
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Oidc {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    assert!(dir.join("node_modules/oidc-provider").exists(), "run `npm ci` in tests/oidc (the test command does)");
    let mut child = std::process::Command::new("node")
        .arg("server.mjs")
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut line).unwrap();
    // Keep draining: a closed pipe would kill the server (EPIPE) the next time it writes.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    Oidc { child, issuer: v["issuer"].as_str().unwrap().to_string() }
}

fn endpoints(issuer: &str) -> Endpoints {
    Endpoints {
        authority: issuer.into(),
        graph: issuer.into(),
        graph_resource: "https://graph.microsoft.com".into(),
        authorize: format!("{issuer}/auth"),
        token: format!("{issuer}/token"),
        device: format!("{issuer}/device/auth"),
    }
}

/// A person with a browser: follows redirects, keeps cookies, fills in forms.
struct Person {
    http: reqwest::Client,
    jar: HashMap<String, String>,
    base: String,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(tag[start..].split('"').next()?.to_string())
}

impl Person {
    fn new(base: &str) -> Person {
        Person {
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            jar: HashMap::new(),
            base: base.into(),
        }
    }
    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") { url.to_string() } else { format!("{}{url}", self.base) }
    }
    fn cookies(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn keep(&mut self, resp: &reqwest::Response) {
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap_or("");
            let kv = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = kv.split_once('=') {
                self.jar.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }
    async fn send(&mut self, url: &str, form: Option<Vec<(String, String)>>) -> (Option<String>, String) {
        let req = match form {
            Some(f) => self.http.post(url).form(&f),
            None => self.http.get(url),
        };
        let resp = req.header("cookie", self.cookies()).send().await.unwrap();
        self.keep(&resp);
        let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        (location, resp.text().await.unwrap_or_default())
    }
    /// From `url`, follows redirects and fills in each page's form, until a redirect to `stop`.
    async fn walk(&mut self, url: &str, stop: &str, fill: &HashMap<&str, String>) -> String {
        let mut url = self.absolute(url);
        let mut form = None;
        for _ in 0..20 {
            if url.starts_with(stop) {
                return url;
            }
            let (location, page) = self.send(&url, form.take()).await;
            if let Some(l) = location {
                url = self.absolute(&l);
                continue;
            }
            let Some(start) = page.find("<form") else { return page };
            let end = page[start..].find("</form>").map(|e| start + e).unwrap_or(page.len());
            let html = &page[start..end];
            let tag_end = html.find('>').unwrap_or(html.len());
            let action = attr(&html[..tag_end], "action").unwrap_or_default();
            let mut fields: Vec<(String, String)> = Vec::new();
            for input in html.split("<input").skip(1) {
                let tag = &input[..input.find('>').unwrap_or(input.len())];
                if let Some(name) = attr(tag, "name") {
                    let value = fill.get(name.as_str()).cloned().or_else(|| attr(tag, "value")).unwrap_or_default();
                    fields.push((name, value));
                }
            }
            url = self.absolute(&action);
            form = Some(fields);
        }
        panic!("no redirect to {stop} after 20 steps");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_flows_work_against_a_certified_oauth_server() {
    let oidc = start();
    let sign_in = SignIn::new(endpoints(&oidc.issuer), "unused", "writeback-wizard").unwrap();
    let fill: HashMap<&str, String> = [("login", "alice".to_string()), ("password", "any".to_string())].into();

    // Authorization code + PKCE on a loopback port; the server adds `iss` to the redirect.
    let issuer = oidc.issuer.clone();
    let fill2 = fill.clone();
    let browser = move |url: String| -> Result<(), String> {
        let issuer = issuer.clone();
        let fill = fill2.clone();
        tokio::spawn(async move {
            let mut person = Person::new(&issuer);
            let redirect = reqwest::Url::parse(&url)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .unwrap()
                .1
                .to_string();
            let callback = person.walk(&url, &redirect, &fill).await;
            assert!(callback.contains("code=") && callback.contains("iss="), "{callback}");
            let (_, page) = person.send(&callback, None).await;
            assert!(page.contains("Signed in"), "{page}");
        });
        Ok(())
    };
    let tokens =
        sign_in.browser("127.0.0.1", &browser, &CancellationToken::new(), Duration::from_secs(30)).await.unwrap();
    assert!(!tokens.access.is_empty());
    let refresh = tokens.refresh.clone().expect("offline_access was consented");
    // Its refresh tokens rotate for public clients; ours keeps the newest.
    let again = sign_in.refresh(&refresh).await.unwrap();
    assert!(!again.access.is_empty());

    // Device code: the server omits `interval` (the client waits 5 s by default) and never
    // answers slow_down. The person enters the code on the device page and confirms.
    let flow = sign_in.device().await.unwrap();
    assert_eq!(flow.interval(), Duration::from_secs(5));
    let uri = flow.verification_uri().to_string();
    let mut device_fill = fill.clone();
    device_fill.insert("user_code", flow.user_code().to_string());
    let issuer = oidc.issuer.clone();
    let person = tokio::spawn(async move {
        let mut person = Person::new(&issuer);
        person.walk(&uri, "http://never/", &device_fill).await
    });
    let waits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let w = waits.clone();
    let tokens = flow
        .finish(move |d| {
            w.lock().unwrap().push(d);
            // Real time passes here, a little: the person's browser works in parallel.
            tokio::time::sleep(Duration::from_millis(200))
        })
        .await
        .unwrap();
    assert!(!tokens.access.is_empty());
    let page = person.await.unwrap();
    assert!(page.contains("Sign-in Success") || page.contains("success"), "{page}");
    assert!(waits.lock().unwrap().iter().all(|d| *d == Duration::from_secs(5)), "{:?}", waits.lock().unwrap());
}
