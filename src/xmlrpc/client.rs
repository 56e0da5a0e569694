//! The blocking XML-RPC client, over ureq with rustls.
//!
//! - One [`ureq::Agent`] per [`Client`], with keep-alive; cloning a client shares it.
//! - A connect timeout and a whole-call timeout are always in force (30 s each by default), so a
//!   hung server cannot hang the caller.
//! - Gzip responses are accepted; the body is read with a hard cap ([`Limits::max_body`]) measured
//!   after decompression, so an endless or decompression-bomb body cannot grow memory past it.
//! - TLS through rustls with Mozilla's public roots, plus an optional extra CA file whose
//!   certificates are also accepted as their own trust anchors (a self-signed server certificate
//!   listed in it is trusted, its host name still checked). There is no switch that disables
//!   certificate verification.
//! - Plain `http://` is refused unless the host is a loopback address or
//!   [`ClientConfig::allow_insecure_http`] is set, because API keys travel in the request body.
//! - Redirects are never followed: a POST must not be replayed elsewhere (or turned into a GET).
//! - Proxies from the environment (`HTTPS_PROXY`, `ALL_PROXY`, …, with `NO_PROXY`) are honoured,
//!   except for loopback URLs, which are always reached directly.
//! - A fault sent with a non-200 status and a `text/xml` body is reported as the fault.
//!
//! The client holds no credentials: API keys are ordinary call parameters supplied by the caller.
//!
//! ```no_run
//! use gandish::xmlrpc::{Client, ClientConfig, Value};
//!
//! let client = Client::new("https://rpc.gandi.net/xmlrpc/", ClientConfig::default())?;
//! let info = client.call("version.info", &[Value::from("my 24-character API key")])?;
//! println!("{:?}", info.get("api_version"));
//! # Ok::<(), gandish::xmlrpc::client::Error>(())
//! ```

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ureq::http::{StatusCode, Uri};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector as _, TcpConnector};

use super::decode::{Capped, DecodeError, Limits, decode_response_with, read_capped};
use super::encode::{EncodeError, encode_call};
use super::tls::CaFileConnector;
use super::value::{Fault, Value};

/// The `User-Agent` the client sends: `gandish/<crate version>`.
pub const USER_AGENT: &str = concat!("gandish/", env!("CARGO_PKG_VERSION"));

/// Client settings. Start from [`ClientConfig::default`] and adjust with the `with_*` methods
/// (or assign the public fields).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The longest a whole call may take: connecting, sending, waiting for and reading the reply.
    /// Default 30 s.
    pub timeout: Duration,
    /// The longest establishing a connection (DNS, TCP and TLS) may take. Default 30 s. The
    /// whole-call [`timeout`](ClientConfig::timeout) applies as well.
    pub connect_timeout: Duration,
    /// Decoder limits; `max_body` caps the reply body after decompression. Default
    /// [`Limits::default`] (128 levels, 64 MiB).
    pub limits: Limits,
    /// A PEM file of CA certificates trusted in addition to the public roots; a server presenting
    /// exactly one of them (a self-signed certificate) is trusted too, for the names it holds.
    /// Default none.
    pub extra_ca_file: Option<PathBuf>,
    /// Allows plain `http://` to hosts that are not loopback addresses. Default `false`: the API
    /// key travels in the request body, so it would cross the network in clear text.
    pub allow_insecure_http: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            extra_ca_file: None,
            allow_insecure_http: false,
        }
    }
}

impl ClientConfig {
    /// Sets the whole-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the decoder limits (including the reply body cap).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Trusts the CA certificates in this PEM file in addition to the public roots.
    pub fn with_extra_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_ca_file = Some(path.into());
        self
    }

    /// Allows (or refuses) plain `http://` to non-loopback hosts.
    pub fn with_allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

/// Everything that can go wrong with a call.
///
/// The variants after `Http` tell apart the failures that matter for mutations: whether the request
/// could have reached the server and been applied ([`Error::maybe_applied`]).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a fault (on a 200, or a `text/xml` fault body on another status).
    #[error("{0}")]
    Fault(Fault),
    /// The call could not be encoded (bad method name, NaN, a character XML cannot carry…).
    /// Nothing was sent.
    #[error("cannot encode the call: {0}")]
    Encode(#[from] EncodeError),
    /// The reply could not be decoded, or exceeded the configured limits.
    #[error("bad reply: {0}")]
    Decode(#[from] DecodeError),
    /// The server answered with an HTTP status other than 200 and no XML-RPC fault.
    #[error("HTTP status {status}{} from {url}", reason_suffix(*status))]
    Http {
        /// The status code.
        status: u16,
        /// The server URL.
        url: String,
        /// The start of the reply body (at most 200 characters, control characters removed),
        /// to help diagnose proxies and error pages.
        body_excerpt: String,
    },
    /// A timeout expired. `connecting` tells whether it happened while establishing the
    /// connection (the request was then never sent).
    #[error("{}", timeout_message(*connecting, *limit, url))]
    Timeout {
        /// The server URL.
        url: String,
        /// The timeout that expired.
        limit: Duration,
        /// Whether the connection was still being established.
        connecting: bool,
    },
    /// The connection could not be established (refused, unreachable, unknown host). The request
    /// was never sent.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The server URL.
        url: String,
        /// Why (e.g. `connection refused`).
        message: String,
    },
    /// The connection was closed or reset after it was established and before the whole reply
    /// arrived. The server may or may not have received and applied the call.
    #[error(
        "connection to {url} closed before the reply ({message}); the call may or may not have been applied"
    )]
    ClosedBeforeReply {
        /// The server URL.
        url: String,
        /// The underlying cause (e.g. `peer disconnected`, `connection reset`).
        message: String,
    },
    /// The call was stopped by [`Client::interrupt`] (Ctrl-C): cut off mid-call by closing its
    /// connection (`sent`: the server may or may not have received and applied it), or refused
    /// before sending because the client was interrupted and not yet resumed.
    #[error("{}", if *sent {
        format!("the call to {url} was interrupted; it may or may not have been applied")
    } else {
        format!("the call to {url} was not sent: interrupted")
    })]
    Interrupted {
        /// The server URL.
        url: String,
        /// Whether the request may have gone out.
        sent: bool,
    },
    /// Another transport failure after connecting, such as a malformed HTTP response.
    #[error("transport error with {url}: {message}")]
    Transport {
        /// The server URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The TLS handshake failed, typically because the server's certificate was not trusted.
    #[error("TLS error with {url}: {message}")]
    Tls {
        /// The server URL.
        url: String,
        /// The certificate or handshake problem (e.g. `invalid peer certificate: UnknownIssuer`).
        message: String,
    },
    /// Plain `http://` to a host that is not a loopback address, without
    /// [`ClientConfig::allow_insecure_http`].
    #[error(
        "refusing plain http:// to {host}: the API key would cross the network unencrypted; use https:// or allow it explicitly (allow_insecure_http / --allow-insecure-http)"
    )]
    InsecureUrl {
        /// The URL's host.
        host: String,
    },
    /// The configuration is unusable (bad URL, unreadable or empty CA file).
    #[error("{0}")]
    Config(String),
}

fn reason_suffix(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}

fn timeout_message(connecting: bool, limit: Duration, url: &str) -> String {
    if connecting {
        format!("timed out after {} connecting to {url}", fmt_duration(limit))
    } else {
        format!(
            "timed out after {} waiting for {url}; the call may or may not have been applied",
            fmt_duration(limit)
        )
    }
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{} s", d.as_secs()) } else { format!("{:.3} s", d.as_secs_f64()) }
}

impl Error {
    /// Whether the server answered with a fault.
    pub fn is_fault(&self) -> bool {
        matches!(self, Error::Fault(_))
    }

    /// The fault, if the server answered with one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::Fault(f) => Some(f),
            _ => None,
        }
    }

    /// Whether a timeout expired.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Whether the connection could not be established (the request was never sent).
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Connect { .. })
    }

    /// Whether the connection closed (or was reset) before the whole reply arrived.
    pub fn is_closed_before_reply(&self) -> bool {
        matches!(self, Error::ClosedBeforeReply { .. })
    }

    /// Whether the failure is in the transport or the protocol rather than an answer from the
    /// application: everything except [`Error::Fault`], [`Error::Encode`], [`Error::InsecureUrl`]
    /// and [`Error::Config`].
    pub fn is_transport(&self) -> bool {
        !matches!(self, Error::Fault(_) | Error::Encode(_) | Error::InsecureUrl { .. } | Error::Config(_))
    }

    /// Whether the call may have been applied by the server although no answer says so.
    ///
    /// `true` when the request may have reached the server and no definitive reply came back: a
    /// timeout after connecting, a connection closed before the reply, another transport error
    /// after connecting, a reply that could not be decoded, and a 5xx status without a fault.
    /// `false` when the server answered definitively (a fault, a 4xx status) or the request was
    /// never sent (connect and TLS errors, a connect timeout, encode and configuration errors).
    pub fn maybe_applied(&self) -> bool {
        match self {
            Error::Timeout { connecting, .. } => !connecting,
            Error::ClosedBeforeReply { .. } | Error::Transport { .. } | Error::Decode(_) => true,
            Error::Interrupted { sent, .. } => *sent,
            Error::Http { status, .. } => *status >= 500,
            Error::Fault(_)
            | Error::Encode(_)
            | Error::Connect { .. }
            | Error::Tls { .. }
            | Error::InsecureUrl { .. }
            | Error::Config(_) => false,
        }
    }
}

/// Figures about one call, for tracing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Bytes of the encoded request body (0 if it could not be encoded).
    pub request_bytes: usize,
    /// Bytes of the reply body after decompression (0 if none was read).
    pub response_bytes: usize,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// Wall time from encoding to the decoded reply (or the error).
    pub duration: Duration,
    /// The server's clock as its `Date` header stated it, if a response carried one.
    pub server_date: Option<std::time::SystemTime>,
}

/// A blocking XML-RPC client bound to one server URL.
///
/// `Client` is `Send + Sync`, and cloning it is cheap (it shares one connection pool), so it can be
/// used from several threads at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Replaced by a fresh agent at each [`Client::interrupt`] (the old one is shut down).
    agent: RwLock<ureq::Agent>,
    /// How many times [`Client::interrupt`] was called: a call that sees it change was cut off.
    interrupts: AtomicU64,
    /// Set by [`Client::interrupt`], cleared by [`Client::resume`]: calls fail without sending.
    stopped: AtomicBool,
    url: String,
    config: ClientConfig,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("url", &self.inner.url).field("config", &self.inner.config).finish()
    }
}

impl Client {
    /// A client for `url` (`https://…`, or `http://` to a loopback host).
    ///
    /// Fails with [`Error::Config`] for a URL that is not absolute http(s), that carries
    /// credentials, or when the extra CA file cannot be read or holds no certificate; with
    /// [`Error::InsecureUrl`] for plain `http://` to a non-loopback host. Nothing is sent.
    pub fn new(url: &str, config: ClientConfig) -> Result<Client, Error> {
        check_url(url, config.allow_insecure_http)?;
        if config.timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err(Error::Config("timeouts must be greater than zero".into()));
        }
        let agent = RwLock::new(build_agent(url, &config)?);
        Ok(Client {
            inner: Arc::new(Inner {
                agent,
                interrupts: AtomicU64::new(0),
                stopped: AtomicBool::new(false),
                url: url.to_owned(),
                config,
            }),
        })
    }

    /// Cuts off every call in flight on this client and its clones, by closing their
    /// connections: each fails at once with [`Error::Interrupted`] (which counts as maybe
    /// applied), instead of waiting for the reply or the timeout. Idle connections are closed
    /// too; later calls open new ones. A connection still being established is not cut off
    /// (the connect timeout bounds it). Until [`resume`](Self::resume), new calls fail at once
    /// without sending anything, so that the work being stopped cannot start another slow call.
    pub fn interrupt(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        self.inner.interrupts.fetch_add(1, Ordering::SeqCst);
        let fresh = match build_agent(&self.inner.url, &self.inner.config) {
            Ok(a) => a,
            // The CA file went away since: later calls fail on the agent shut down below, with
            // the same error as the calls interrupted now.
            Err(_) => crate::sync::read(&self.inner.agent).clone(),
        };
        let old = std::mem::replace(&mut *crate::sync::write(&self.inner.agent), fresh);
        old.shutdown();
    }

    /// Lets calls through again after [`interrupt`](Self::interrupt) (a new run starting).
    pub fn resume(&self) {
        self.inner.stopped.store(false, Ordering::SeqCst);
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The settings in force.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Calls `method` with `params` and returns its result; a fault is [`Error::Fault`].
    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, Error> {
        self.call_with_stats(method, params).0
    }

    /// Like [`Client::call`], and also returns sizes and timing of the exchange (for `--trace`).
    pub fn call_with_stats(&self, method: &str, params: &[Value]) -> (Result<Value, Error>, CallStats) {
        let start = Instant::now();
        let mut stats = CallStats::default();
        let result = self.exchange(method, params, &mut stats);
        stats.duration = start.elapsed();
        (result, stats)
    }

    /// [`Client::call_with_stats`] in at most `limit` (when shorter than the configured
    /// whole-call timeout): a caller that retries keeps the whole of its retries within one
    /// timeout this way.
    pub fn call_with_stats_within(
        &self,
        method: &str,
        params: &[Value],
        limit: Duration,
    ) -> (Result<Value, Error>, CallStats) {
        let start = Instant::now();
        let mut stats = CallStats::default();
        let limit = (limit < self.inner.config.timeout).then_some(limit);
        let result = self.exchange_within(method, params, &mut stats, limit);
        stats.duration = start.elapsed();
        (result, stats)
    }

    fn exchange(&self, method: &str, params: &[Value], stats: &mut CallStats) -> Result<Value, Error> {
        self.exchange_within(method, params, stats, None)
    }

    fn exchange_within(
        &self,
        method: &str,
        params: &[Value],
        stats: &mut CallStats,
        limit: Option<Duration>,
    ) -> Result<Value, Error> {
        let body = encode_call(method, params)?;
        stats.request_bytes = body.len();
        let url = &self.inner.url;
        if self.inner.stopped.load(Ordering::SeqCst) {
            return Err(Error::Interrupted { url: url.clone(), sent: false });
        }
        let interrupts = self.inner.interrupts.load(Ordering::SeqCst);
        let agent = crate::sync::read(&self.inner.agent).clone();
        // A failure after `interrupt` is the interruption, whatever the socket reported.
        let cut_off = |e: Error| {
            if self.inner.interrupts.load(Ordering::SeqCst) == interrupts {
                e
            } else {
                Error::Interrupted { url: url.clone(), sent: true }
            }
        };
        let mut request = agent.post(url.as_str()).header("Content-Type", "text/xml");
        if let Some(limit) = limit {
            request = request.config().timeout_global(Some(limit.max(Duration::from_millis(1)))).build();
        }
        let response = request.send(&body[..]).map_err(|e| cut_off(self.transport_error(e)))?;
        let status = response.status().as_u16();
        stats.status = Some(status);
        stats.server_date = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(super::http_date::parse_http_date);
        let is_xml = response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|ct| {
            let ct = ct.trim().to_ascii_lowercase();
            ct.starts_with("text/xml") || ct.starts_with("application/xml")
        });
        let max = self.inner.config.limits.max_body;
        let reader = response.into_body().into_with_config().limit(max as u64).reader();
        let bytes = match read_capped(reader, max) {
            Capped::Body(bytes) => bytes,
            Capped::TooLarge => {
                stats.response_bytes = max;
                return Err(Error::Decode(DecodeError::TooLarge { limit: max }));
            }
            Capped::Failed { error, read } => {
                stats.response_bytes = read;
                return Err(cut_off(self.body_error(error)));
            }
        };
        stats.response_bytes = bytes.len();
        // A close-delimited body cut off by `interrupt` can read as complete.
        if self.inner.interrupts.load(Ordering::SeqCst) != interrupts {
            return Err(Error::Interrupted { url: url.clone(), sent: true });
        }
        if status == 200 {
            return match decode_response_with(&bytes, &self.inner.config.limits) {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(fault)) => Err(Error::Fault(fault)),
                Err(e) => Err(Error::Decode(e)),
            };
        }
        if is_xml && let Ok(Err(fault)) = decode_response_with(&bytes, &self.inner.config.limits) {
            return Err(Error::Fault(fault));
        }
        Err(Error::Http { status, url: url.clone(), body_excerpt: excerpt(&bytes) })
    }

    /// Maps an error from sending the request or receiving the response head.
    fn transport_error(&self, e: ureq::Error) -> Error {
        let url = self.inner.url.clone();
        let config = &self.inner.config;
        match e {
            ureq::Error::Timeout(t) => {
                let connecting = matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve);
                let limit =
                    if connecting { config.connect_timeout.min(config.timeout) } else { config.timeout };
                Error::Timeout { url, limit, connecting }
            }
            ureq::Error::Io(io) => self.io_error(io),
            ureq::Error::HostNotFound => Error::Connect { url, message: "host not found".into() },
            ureq::Error::ConnectionFailed => Error::Connect { url, message: "connection failed".into() },
            ureq::Error::Rustls(r) => Error::Tls { url, message: r.to_string() },
            ureq::Error::Tls(m) => Error::Tls { url, message: m.to_string() },
            ureq::Error::Pem(p) => Error::Tls { url, message: format!("PEM: {p:?}") },
            ureq::Error::TlsRequired => Error::Tls { url, message: "TLS required".into() },
            ureq::Error::BadUri(m) => Error::Config(format!("invalid URL {url:?}: {m}")),
            ureq::Error::ConnectProxyFailed(m) => Error::Connect { url, message: format!("proxy: {m}") },
            ureq::Error::InvalidProxyUrl => Error::Config("invalid proxy URL in the environment".into()),
            ureq::Error::BodyExceedsLimit(n) => {
                Error::Decode(DecodeError::TooLarge { limit: usize::try_from(n).unwrap_or(usize::MAX) })
            }
            ureq::Error::Decompress(_, io) => Error::Decode(DecodeError::Gzip(io.to_string())),
            ureq::Error::LargeResponseHeader(n, max) => Error::Transport {
                url,
                message: format!("response header of {n} bytes exceeds the {max}-byte limit"),
            },
            other => Error::Transport { url, message: other.to_string() },
        }
    }

    fn io_error(&self, io: io::Error) -> Error {
        let url = self.inner.url.clone();
        if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            return Error::Tls { url, message: tls.to_string() };
        }
        use io::ErrorKind as K;
        match io.kind() {
            K::ConnectionRefused => Error::Connect { url, message: "connection refused".into() },
            K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown | K::AddrNotAvailable => {
                Error::Connect { url, message: io.to_string() }
            }
            K::UnexpectedEof => Error::ClosedBeforeReply { url, message: "peer disconnected".into() },
            K::ConnectionReset => Error::ClosedBeforeReply { url, message: "connection reset".into() },
            K::ConnectionAborted => Error::ClosedBeforeReply { url, message: "connection aborted".into() },
            K::BrokenPipe => Error::ClosedBeforeReply { url, message: "broken pipe".into() },
            K::TimedOut => Error::Timeout { url, limit: self.inner.config.timeout, connecting: false },
            _ => Error::Transport { url, message: io.to_string() },
        }
    }

    /// Maps an error from reading the response body (ureq wraps its own errors in `io::Error`).
    fn body_error(&self, e: io::Error) -> Error {
        self.transport_error(ureq::Error::from(e))
    }
}

/// The agent for `url`: timeouts, no redirects, the TLS roots (plus `extra_ca_file`), no proxy
/// for loopback.
fn build_agent(url: &str, config: &ClientConfig) -> Result<ureq::Agent, Error> {
    let mut builder = ureq::Agent::config_builder();
    if url_is_loopback(url) {
        // A proxy from the environment has no business relaying calls to this machine.
        builder = builder.proxy(None);
    }
    let agent = builder
        .timeout_global(Some(config.timeout))
        .timeout_connect(Some(config.connect_timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .build();
    Ok(match &config.extra_ca_file {
        // ureq's default chain (CONNECT proxy, TCP, TLS) with the TLS step that also accepts
        // the CA file's certificates as their own trust anchors (see `super::tls`).
        Some(path) => ureq::Agent::with_parts(
            agent,
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(CaFileConnector::new(path).map_err(Error::Config)?),
            DefaultResolver::default(),
        ),
        None => agent.new_agent(),
    })
}

/// The first 200 characters of a body, as text, with control characters dropped.
fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(800)];
    String::from_utf8_lossy(head)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Checks that `url` is an absolute http(s) URL without credentials, and that plain http goes
/// only to loopback unless allowed.
fn check_url(url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    let bad = |why: &str| Error::Config(format!("invalid URL {url:?}: {why}"));
    let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
    let scheme = uri.scheme_str().ok_or_else(|| bad("it needs a scheme (https://…)"))?;
    let authority = uri.authority().ok_or_else(|| bad("it has no host"))?;
    if authority.as_str().contains('@') {
        return Err(Error::Config(
            "invalid URL: credentials in the URL are not supported (the API key is a call parameter)".into(),
        ));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback_host(host) => Ok(()),
        "http" => Err(Error::InsecureUrl { host: host.to_owned() }),
        other => {
            Err(bad(&format!("unsupported scheme {other:?}; use https:// (or http:// to a loopback host)")))
        }
    }
}

/// Whether `url` (already checked) points at a loopback host.
/// Whether `url` names a loopback host ([`is_loopback_host`]); `false` for a URL that does not
/// parse.
pub fn url_is_loopback(url: &str) -> bool {
    url.parse::<Uri>().ok().and_then(|u| u.host().map(is_loopback_host)).unwrap_or(false)
}

/// Whether `host` (as written in a URL) names the loopback interface: `localhost`,
/// 127.0.0.0/8 or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") || h.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]", "::1"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["192.0.2.1", "10.0.0.1", "localhost.example", "example.com", "[::2]", "128.0.0.1"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn url_checks() {
        assert!(check_url("https://rpc.gandi.net/xmlrpc/", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/RPC2", false).is_ok());
        assert!(check_url("http://[::1]:8080/", false).is_ok());
        assert!(check_url("http://localhost/", false).is_ok());
        match check_url("http://192.0.2.1/xmlrpc/", false) {
            Err(Error::InsecureUrl { host }) => assert_eq!(host, "192.0.2.1"),
            other => panic!("{other:?}"),
        }
        assert!(check_url("http://192.0.2.1/xmlrpc/", true).is_ok());
        for bad in
            ["rpc.gandi.net/xmlrpc/", "ftp://example.com/", "https://user:pw@example.com/", "", "http://"]
        {
            assert!(matches!(check_url(bad, false), Err(Error::Config(_))), "{bad}");
        }
    }

    #[test]
    fn insecure_url_message_names_host_and_option() {
        let msg = Client::new("http://192.0.2.1/x", ClientConfig::default()).unwrap_err().to_string();
        assert!(msg.contains("192.0.2.1") && msg.contains("allow_insecure_http"), "{msg}");
    }

    #[test]
    fn maybe_applied_rules() {
        let url = String::from("u");
        let m = String::from("m");
        let yes = [
            Error::Timeout { url: url.clone(), limit: Duration::from_secs(1), connecting: false },
            Error::ClosedBeforeReply { url: url.clone(), message: m.clone() },
            Error::Http { status: 502, url: url.clone(), body_excerpt: String::new() },
        ];
        let no = [
            Error::Timeout { url: url.clone(), limit: Duration::from_secs(1), connecting: true },
            Error::Connect { url: url.clone(), message: m.clone() },
            Error::Fault(Fault::new(1, "x")),
            Error::Http { status: 404, url: url.clone(), body_excerpt: String::new() },
            Error::Tls { url, message: m },
        ];
        assert!(yes.iter().all(Error::maybe_applied));
        assert!(!no.iter().any(Error::maybe_applied));
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
    }

    #[test]
    fn unreadable_or_empty_ca_file_is_a_config_error() {
        let cfg = ClientConfig::default().with_extra_ca_file("/nonexistent/gandish-ca.pem");
        let e = Client::new("https://example.com/", cfg).unwrap_err();
        assert!(matches!(&e, Error::Config(m) if m.contains("/nonexistent/gandish-ca.pem")), "{e}");

        let dir = std::env::temp_dir().join(format!("gandish-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        let e = Client::new("https://example.com/", ClientConfig::default().with_extra_ca_file(&empty))
            .unwrap_err();
        assert!(matches!(&e, Error::Config(m) if m.contains("no PEM certificate")), "{e}");

        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let e = Client::new("https://example.com/", ClientConfig::default().with_extra_ca_file(&garbage))
            .unwrap_err();
        assert!(matches!(&e, Error::Config(m) if m.contains("unusable")), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn zero_timeout_is_a_config_error() {
        let e = Client::new("https://example.com/", ClientConfig::default().with_timeout(Duration::ZERO));
        assert!(matches!(e, Err(Error::Config(_))));
    }

    #[test]
    fn excerpt_is_short_text() {
        let body = format!("<html>\n{}</html>", "x".repeat(1000));
        let e = excerpt(body.as_bytes());
        assert_eq!(e.chars().count(), 200);
        assert!(e.starts_with("<html> x"));
    }
}
