//! One connection to a domain controller: TLS as configured (or none, for a Kerberos bind that
//! seals the connection itself), a Kerberos or a simple bind, timed operations.

use std::collections::HashMap;
use std::time::Duration;

use std::collections::HashSet;

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Mod, Scope, SearchEntry};

use super::tls::{PresentedSlot, TlsTrust, client_config};
use super::{AdError, bind_subcode_words, diagnostic_subcode};
use crate::secrets::Secret;

/// Entries per page of a paged search: AD's default MaxPageSize (a DC with a lower limit answers
/// with pages of its own size), and the size the benchmark's `ldapsearch -E pr=1000` asks for.
pub const PAGE_SIZE: i32 = 1000;

/// How to reach a DC.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `ldaps://host[:port]` (LDAPS) or `ldap://host[:port]` (StartTLS, or in the clear with
    /// `plain`).
    pub url: String,
    /// Which certificate to accept.
    pub trust: TlsTrust,
    /// `ldap://` without TLS: for a Kerberos bind, which seals the connection itself, and for
    /// reading the rootDSE before it. A simple bind is refused on such a connection.
    pub plain: bool,
    /// Limit for connecting and for each operation.
    pub timeout: Duration,
}

impl ConnectOptions {
    /// LDAPS to `url` with the given trust and a 30 s timeout.
    pub fn new(url: impl Into<String>, trust: TlsTrust) -> Self {
        ConnectOptions { url: url.into(), trust, plain: false, timeout: Duration::from_secs(30) }
    }
}

/// What to search for.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// Base DN.
    pub base: &'a str,
    pub scope: Scope,
    /// LDAP filter.
    pub filter: &'a str,
    /// Attributes to return.
    pub attrs: &'a [&'a str],
    /// Request controls (e.g. SD_FLAGS).
    pub controls: Vec<RawControl>,
}

/// An open LDAP connection. Dropping it closes the socket.
#[derive(Debug)]
pub struct AdConnection {
    ldap: Ldap,
    url: String,
    /// TLS protects the connection (LDAPS or StartTLS); without it only a Kerberos bind is made.
    tls: bool,
    timeout: Duration,
    presented: PresentedSlot,
    /// Writes sent that did not answer in time. The DC may still make them: an undo waits for
    /// their answers ([`Self::confirm_writes`]) before it trusts what it reads back. Shared by
    /// every [`Self::handle`] of the connection.
    unconfirmed: std::sync::Arc<std::sync::Mutex<Vec<Unconfirmed>>>,
    /// The rootDSE the sign-in read before binding, kept for the first reader after it (the
    /// rootDSE is the same bound or not: one round trip less).
    kept_root: Option<HashMap<String, Vec<String>>>,
}

/// Requests a pipelined batch keeps in flight on one connection at most.
pub const WINDOW: usize = 16;

/// A write still waiting for the DC's answer.
#[derive(Debug)]
struct Unconfirmed {
    dn: String,
    answer: tokio::task::JoinHandle<Result<ldap3::LdapResult, LdapError>>,
}

enum Transport {
    Ldaps,
    StartTls,
    Plain,
}

impl AdConnection {
    /// Opens the connection (TCP, then TLS as the URL and trust say). No bind yet.
    pub async fn connect(opts: &ConnectOptions) -> Result<AdConnection, AdError> {
        let url = LdapUrl::parse(&opts.url)?;
        let transport = match (url.ldaps, opts.plain) {
            (true, _) => Transport::Ldaps,
            (false, true) => Transport::Plain,
            (false, false) => Transport::StartTls,
        };
        let (config, presented) = client_config(&opts.trust)?;
        let mut settings = LdapConnSettings::new().set_conn_timeout(opts.timeout).set_config(config);
        if matches!(transport, Transport::StartTls) {
            settings = settings.set_starttls(true);
        }
        let timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let started = std::time::Instant::now();
        let tcp = tcp_no_delay(&url.authority(), opts.timeout).await.map_err(|e| connect_error(opts, e, &presented))?;
        let settings = settings
            .set_std_stream(ldap3::StdStream::Tcp(tcp))
            .set_conn_timeout(opts.timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(1)));
        let connected = LdapConnAsync::with_settings(settings, &opts.url).await;
        drop(timed);
        let (conn, ldap) = connected.map_err(|e| connect_error(opts, e, &presented))?;
        ldap3::drive!(conn);
        Ok(AdConnection {
            ldap,
            url: opts.url.clone(),
            tls: !matches!(transport, Transport::Plain),
            timeout: opts.timeout,
            presented,
            unconfirmed: Default::default(),
            kept_root: None,
        })
    }

    /// The SHA-256 fingerprint of the certificate the DC presented, if TLS was used.
    pub fn presented_fingerprint(&self) -> Option<String> {
        self.presented.lock().ok().and_then(|p| p.as_ref().map(|c| c.sha256.clone()))
    }

    /// The URL this connection was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The per-operation timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether TLS protects the connection.
    pub fn has_tls(&self) -> bool {
        self.tls
    }

    /// Simple bind as `DOMAIN\user`, a UPN or a DN, inside TLS only: on a connection without it
    /// the password would cross the network in clear text, so nothing is sent. AD's refusal is
    /// decoded into words.
    pub async fn bind(&mut self, user: &str, password: &Secret) -> Result<(), AdError> {
        if !self.tls {
            return Err(AdError::ClearText { url: self.url.clone() });
        }
        let _timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let result = self
            .ldap
            .with_timeout(self.timeout)
            .simple_bind(user, password.expose())
            .await
            .map_err(|e| self.op_error("bind", e))?;
        if result.rc == super::rc::SUCCESS {
            return Ok(());
        }
        Err(AdError::bind_refused(user, result))
    }

    /// SASL GSSAPI bind with `cred` to the service `ldap/<dc_host>`. On a connection without TLS
    /// ldap3 installs Kerberos' confidentiality layer: every request and answer after it is
    /// signed and sealed. Over TLS it sends the tls-server-end-point channel binding, as a DC
    /// enforcing LDAP channel binding requires. `principal` names the account in messages.
    ///
    /// The GSSAPI calls block while they ask the KDC (a service ticket); ldap3 makes them inside
    /// this future.
    pub async fn kerberos_bind(
        &mut self,
        cred: cross_krb5::Cred,
        dc_host: &str,
        principal: &str,
    ) -> Result<(), AdError> {
        let _timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let spn = format!("ldap/{dc_host}");
        let result = self.ldap.with_timeout(self.timeout).sasl_gssapi_cred_bind(cred, dc_host).await;
        match result {
            Ok(r) if r.rc == super::rc::SUCCESS => Ok(()),
            Ok(r) => Err(AdError::bind_refused(principal, r)),
            Err(LdapError::GssapiOperationError(text)) => Err(AdError::Kerberos {
                problem: super::kerberos::classify(&text, None),
                principal: principal.to_string(),
                spn,
                text,
                clocks: None,
            }),
            Err(e) => Err(self.op_error("Kerberos bind", e)),
        }
    }

    /// A search returning whole entries, attribute names as the server sends them.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, AdError> {
        self.search_with(base, scope, filter, attrs, Vec::new()).await
    }

    /// [`Self::search`] with request controls (e.g. SD_FLAGS).
    pub async fn search_with(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        controls: Vec<RawControl>,
    ) -> Result<Vec<SearchEntry>, AdError> {
        let op = format!("search of '{base}'");
        let _timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let result = self
            .ldap
            .with_controls(controls)
            .with_timeout(self.timeout)
            .search(base, scope, filter, attrs.to_vec())
            .await
            .map_err(|e| self.op_error(&op, e))?;
        let (entries, res) = (result.0, result.1);
        if res.rc != super::rc::SUCCESS {
            return Err(AdError::Ldap { op, rc: res.rc, text: res.text });
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// A subtree search that stops at `limit` entries (the DC's size limit: a picker needs the
    /// first few matches, not all of a large domain). Hitting the limit is not an error.
    pub async fn search_limited(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
        limit: i32,
    ) -> Result<Vec<SearchEntry>, AdError> {
        let op = format!("search of '{base}'");
        let _timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let result = self
            .ldap
            .with_search_options(ldap3::SearchOptions::new().sizelimit(limit))
            .with_timeout(self.timeout)
            .search(base, Scope::Subtree, filter, attrs.to_vec())
            .await
            .map_err(|e| self.op_error(&op, e))?;
        let (entries, res) = (result.0, result.1);
        // The size limit reached: the first `limit` entries came, which is what was asked.
        if res.rc != super::rc::SUCCESS && res.rc != super::rc::SIZE_LIMIT_EXCEEDED {
            return Err(AdError::Ldap { op, rc: res.rc, text: res.text });
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// A paged, streaming search: `on_entry` sees each entry as it arrives (no list of the whole
    /// result is built), referrals are skipped, and `cancel` stops it between entries. Returns
    /// the number of entries seen.
    pub async fn search_paged<F>(
        &mut self,
        query: Query<'_>,
        cancel: &tokio_util::sync::CancellationToken,
        mut on_entry: F,
    ) -> Result<usize, AdError>
    where
        F: FnMut(SearchEntry) -> Result<(), AdError>,
    {
        use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
        let Query { base, scope, filter, attrs, controls } = query;
        let op = format!("paged search of '{base}'");
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(PAGE_SIZE))];
        let timeout = self.timeout;
        let started = std::time::Instant::now();
        let mut stream = self
            .ldap
            .with_controls(controls)
            .with_timeout(timeout)
            .streaming_search_with(adapters, base, scope, filter, attrs)
            .await
            .map_err(|e| self.op_error(&op, e))?;
        let mut seen = 0usize;
        loop {
            let next = tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    // Tell the DC to stop; the answer does not matter.
                    let id = stream.ldap_handle().last_id();
                    let _ = stream.ldap_handle().abandon(id).await;
                    return Err(AdError::Cancelled { op });
                }
                next = stream.next() => next,
            };
            match next {
                Ok(Some(raw)) => {
                    seen += 1;
                    on_entry(SearchEntry::construct(raw))?;
                }
                Ok(None) => break,
                Err(e) => return Err(self.op_error(&op, e)),
            }
        }
        let res = stream.finish().await;
        // One round trip per page (the last page may be short or empty).
        let pages = (seen as u64 / PAGE_SIZE as u64) + 1;
        crate::netstats::record(crate::netstats::Kind::Ldap, pages, started.elapsed());
        if res.rc != super::rc::SUCCESS {
            return Err(AdError::Ldap { op, rc: res.rc, text: res.text });
        }
        Ok(seen)
    }

    /// Adds an entry. Values are bytes so binary attributes (unicodePwd) fit.
    pub async fn add(&mut self, dn: &str, attrs: Vec<(&str, Vec<Vec<u8>>)>) -> Result<(), AdError> {
        let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> =
            attrs.into_iter().map(|(name, values)| (name.as_bytes().to_vec(), values.into_iter().collect())).collect();
        let timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let result = self.ldap.with_timeout(self.timeout).add(dn, attrs).await;
        drop(timed);
        self.check(&format!("add of '{dn}'"), result)
    }

    /// Modifies an entry, with request controls (empty for none).
    pub async fn modify(
        &mut self,
        dn: &str,
        mods: Vec<Mod<Vec<u8>>>,
        controls: Vec<RawControl>,
    ) -> Result<(), AdError> {
        let op = format!("modify of '{dn}'");
        crate::crash::before(crate::crash::Point::LdapWrite);
        let timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        // The write runs on its own task so that, past the timeout, its answer is still awaited
        // (ldap3's own timeout forgets the request; the DC does not).
        let mut ldap = self.ldap.clone();
        let target = dn.to_string();
        let mut answer = tokio::spawn(async move { ldap.with_controls(controls).modify(&target, mods).await });
        let waited = tokio::time::timeout(self.timeout, &mut answer).await;
        drop(timed);
        let result = match waited {
            Ok(joined) => joined.map_err(|e| AdError::Protocol { op: op.clone(), detail: e.to_string() })?,
            Err(_) => {
                self.pending().push(Unconfirmed { dn: dn.to_string(), answer });
                return Err(AdError::Timeout { op, timeout_secs: self.timeout.as_secs() });
            }
        };
        let checked = self.check(&op, result);
        if checked.is_ok() {
            crate::crash::reached(crate::crash::Point::LdapWrite);
        }
        checked
    }

    /// Waits (up to the timeout) for the answers to writes that timed out. Until the DC has
    /// answered one, whether it was made is unknown — it may still land after a read that did not
    /// show it — so an undo asks this first, and fails rather than trust the read.
    pub async fn confirm_writes(&mut self) -> Result<(), AdError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let Some(mut pending) = self.pending().pop() else { return Ok(()) };
            // Answered either way (made or refused): a read now shows what the DC holds.
            if tokio::time::timeout_at(deadline, &mut pending.answer).await.is_err() {
                let dn = pending.dn.clone();
                self.pending().push(pending);
                return Err(AdError::Unconfirmed { dn, waited_secs: 2 * self.timeout.as_secs() });
            }
        }
    }

    /// Reads one entry by DN (`None` when it does not exist).
    pub async fn read(&mut self, dn: &str, attrs: &[&str]) -> Result<Option<SearchEntry>, AdError> {
        match self.search(dn, Scope::Base, "(objectClass=*)", attrs).await {
            Ok(mut entries) => Ok(entries.pop()),
            Err(AdError::Ldap { rc: super::rc::NO_SUCH_OBJECT, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The rootDSE's attributes.
    pub async fn root_dse(&mut self) -> Result<HashMap<String, Vec<String>>, AdError> {
        let entry = self.read("", &["*", "+"]).await?;
        Ok(entry.map(|e| e.attrs).unwrap_or_default())
    }

    /// [`Self::root_dse`], a copy kept for [`Self::kept_root_dse`].
    pub async fn root_dse_kept(&mut self) -> Result<HashMap<String, Vec<String>>, AdError> {
        let root = self.root_dse().await?;
        self.kept_root = Some(root.clone());
        Ok(root)
    }

    /// The rootDSE kept by [`Self::root_dse_kept`] (once), else read now.
    pub async fn kept_root_dse(&mut self) -> Result<HashMap<String, Vec<String>>, AdError> {
        match self.kept_root.take() {
            Some(root) => Ok(root),
            None => self.root_dse().await,
        }
    }

    /// LDAP Who-Am-I (RFC 4532): the authorization identity of this connection, as the DC says it
    /// (`u:DOMAIN\\name` or `dn:…`).
    pub async fn who_am_i(&mut self) -> Result<String, AdError> {
        let timed = crate::netstats::timed(crate::netstats::Kind::Ldap);
        let result = self.ldap.with_timeout(self.timeout).extended(ldap3::exop::WhoAmI).await;
        drop(timed);
        match result {
            Ok(ldap3::result::ExopResult(exop, r)) if r.rc == super::rc::SUCCESS => {
                Ok(String::from_utf8_lossy(exop.val.as_deref().unwrap_or_default()).into_owned())
            }
            Ok(ldap3::result::ExopResult(_, r)) => Err(AdError::Ldap { op: "Who-Am-I".into(), rc: r.rc, text: r.text }),
            Err(e) => Err(self.op_error("Who-Am-I", e)),
        }
    }

    /// The writes still unanswered (a poisoned lock only means a panic elsewhere: the list stands).
    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<Unconfirmed>> {
        self.unconfirmed.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Another handle on this very connection, for requests in flight together: ldap3 multiplexes
    /// a connection's requests by message id. Writes that time out are tracked for all handles.
    pub fn handle(&self) -> AdConnection {
        AdConnection {
            ldap: self.ldap.clone(),
            url: self.url.clone(),
            tls: self.tls,
            timeout: self.timeout,
            presented: self.presented.clone(),
            unconfirmed: self.unconfirmed.clone(),
            kept_root: None,
        }
    }

    /// Runs `op` for each item with up to [`WINDOW`] requests in flight on this connection, each
    /// on its own handle; the answers come back in the items' order.
    pub async fn pipelined<T, R, F, Fut>(&self, items: Vec<T>, op: F) -> Vec<R>
    where
        F: Fn(AdConnection, T) -> Fut,
        Fut: std::future::Future<Output = R>,
    {
        use futures_util::StreamExt;
        futures_util::stream::iter(items).map(|item| op(self.handle(), item)).buffered(WINDOW).collect().await
    }

    /// Raw access for operations this module does not wrap yet (adds, modifies with controls).
    pub fn ldap(&mut self) -> &mut Ldap {
        &mut self.ldap
    }

    /// Turns an ldap3 result into `Ok` or the typed error, for callers using [`Self::ldap`].
    pub fn check(&self, op: &str, result: Result<ldap3::LdapResult, LdapError>) -> Result<(), AdError> {
        match result {
            Ok(r) if r.rc == super::rc::SUCCESS => Ok(()),
            Ok(r) => Err(AdError::Ldap { op: op.to_string(), rc: r.rc, text: r.text }),
            Err(e) => Err(self.op_error(op, e)),
        }
    }

    /// Sends an unbind and closes the connection.
    pub async fn close(mut self) {
        // The DC may already have gone; nothing to do about a failed goodbye.
        let _ = self.ldap.unbind().await;
    }

    fn op_error(&self, op: &str, e: LdapError) -> AdError {
        match e {
            LdapError::Timeout { .. } => AdError::Timeout { op: op.to_string(), timeout_secs: self.timeout.as_secs() },
            LdapError::LdapResult { result } => AdError::Ldap { op: op.to_string(), rc: result.rc, text: result.text },
            // ldap3's words for this ("premature end of search stream") do not say what happened.
            e @ LdapError::EndOfStream => AdError::Protocol {
                op: op.to_string(),
                detail: format!("the connection to the DC closed before its answer was complete ({e})"),
            },
            other => AdError::Protocol { op: op.to_string(), detail: other.to_string() },
        }
    }
}

impl AdError {
    /// A DC's refusal of a bind in words: strongerAuthRequired (a simple bind without TLS where
    /// LDAP signing is required, or a bind without the channel binding a DC enforces), else AD's
    /// sub-code (`data 52e`, …) with its remedy.
    pub fn bind_refused(user: &str, result: ldap3::LdapResult) -> AdError {
        let subcode = diagnostic_subcode(&result.text);
        let (words, remedy) = if result.rc == super::rc::STRONGER_AUTH_REQUIRED {
            (
                "the domain controller requires a stronger sign-in (LDAP signing and sealing, or TLS)".to_string(),
                "Sign in with Kerberos (leave out --ad-simple-bind), which seals the connection; or connect over LDAPS."
                    .to_string(),
            )
        } else {
            subcode.as_deref().and_then(bind_subcode_words).map(|(w, r)| (w.to_string(), r.to_string())).unwrap_or_else(
                || {
                    (
                        "the bind was refused".to_string(),
                        "Check the account name and password, and that the account may sign in.".to_string(),
                    )
                },
            )
        };
        AdError::Bind { user: user.to_string(), rc: result.rc, subcode, words, remedy, text: result.text }
    }
}

/// The TCP connection to the DC, with Nagle's algorithm off: LDAP writes a request and waits
/// for its answer, and a small write held back for the acknowledgement of the one before (which
/// the DC delays, up to 40 ms on Linux and 200 ms on Windows) would cost that on every such
/// write — the TLS handshake's last flight followed by the first request, for one.
async fn tcp_no_delay(address: &str, timeout: Duration) -> Result<std::net::TcpStream, LdapError> {
    let stream = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(connected) => connected?,
        Err(elapsed) => return Err(LdapError::Timeout { elapsed }),
    };
    stream.set_nodelay(true)?;
    Ok(stream.into_std()?)
}

/// An `ldaps://` or `ldap://` URL's parts, the scheme's port when it names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LdapUrl {
    pub ldaps: bool,
    pub host: String,
    pub port: u16,
}

impl LdapUrl {
    pub(crate) fn parse(url: &str) -> Result<LdapUrl, AdError> {
        let bad = || AdError::BadUrl { url: url.to_string() };
        let (ldaps, rest) = if let Some(r) = url.strip_prefix("ldaps://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("ldap://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6.split_once(']').ok_or_else(bad)?;
                (h, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if ldaps => 636,
            None => 389,
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(LdapUrl { ldaps, host: host.to_string(), port })
    }

    /// `host:port`, an IPv6 literal in brackets.
    fn authority(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port),
            false => format!("{}:{}", self.host, self.port),
        }
    }
}

impl std::fmt::Display for LdapUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", if self.ldaps { "ldaps" } else { "ldap" }, self.authority())
    }
}

fn connect_error(opts: &ConnectOptions, e: LdapError, presented: &PresentedSlot) -> AdError {
    let url = &opts.url;
    let cert = presented.lock().ok().and_then(|p| p.clone());
    let presented_text = cert.as_ref().map(|c| {
        c.details().map(|d| d.to_string()).unwrap_or_else(|| format!("a certificate with SHA-256 {}", c.sha256))
    });
    if let LdapError::Io { source } = &e {
        let is_tls = source.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
        if is_tls || cert.is_some() {
            let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or(url);
            let details = cert.as_ref().and_then(|c| c.details());
            // A pinned certificate that is now another one is not "untrusted": it CHANGED.
            if let (Some(pinned), Some(now)) = (opts.trust.fingerprint.as_deref(), details.as_ref())
                && super::tls::normalize_fingerprint(pinned) != super::tls::normalize_fingerprint(&now.sha256)
            {
                return AdError::CertChanged {
                    url: url.to_string(),
                    pinned: pinned.to_string(),
                    certificate: Box::new(now.clone()),
                };
            }
            return AdError::TlsHandshake {
                url: url.to_string(),
                detail: source.to_string(),
                expected: opts.trust.expectation(host),
                presented: presented_text,
                certificate: cert.as_ref().and_then(|c| c.details()).map(Box::new),
            };
        }
    }
    if let LdapError::Timeout { .. } = e {
        return AdError::Connect { url: url.to_string(), detail: "no answer before the timeout".into() };
    }
    AdError::Connect { url: url.to_string(), detail: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_names_its_host_and_port_or_the_schemes() {
        let host_and_port = |url: &str| LdapUrl::parse(url).unwrap().authority();
        assert_eq!(host_and_port("ldaps://dc1.corp.example.com"), "dc1.corp.example.com:636");
        assert_eq!(host_and_port("ldap://dc1.corp.example.com/"), "dc1.corp.example.com:389");
        assert_eq!(host_and_port("ldap://10.0.0.5:3389"), "10.0.0.5:3389");
        assert_eq!(host_and_port("ldaps://[::1]"), "[::1]:636");
        assert_eq!(host_and_port("ldap://[fe80::1]:50389"), "[fe80::1]:50389");
    }

    /// Nagle's algorithm off, and the connection handed to ldap3 works as its own would.
    #[tokio::test]
    async fn the_connection_is_opened_without_nagle() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let stream = tcp_no_delay(&address, Duration::from_secs(5)).await.unwrap();
        assert!(stream.nodelay().unwrap());
        let (_, err) =
            (listener, tcp_no_delay("127.0.0.1:1", Duration::from_secs(5)).await.err().map(|e| e.to_string()));
        assert!(err.is_some(), "a closed port is an error");
    }
}
