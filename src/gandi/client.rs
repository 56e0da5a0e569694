//! [`Gandi`]: the typed Gandi PaaS client over [`xmlrpc::Client`](crate::xmlrpc::Client).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::xmlrpc::client::Error as ClientError;
use crate::xmlrpc::{Client, ClientConfig, DecodeError, Fault, Struct, Value};

use super::error::GandiError;
use super::fault::ApiFault;
use super::key::{ApiKey, REDACTED};
use super::params::{CreateParams, RenewParams, UpdateParams, VhostCreateParams, redact_passwords};
use super::throttle::Throttle;
use super::types::{
    ApiRecord, Datacenter, DnsEntries, DryRunError, Instance, InstanceInfo, Operation, PaasType, Snapshot,
    SnapshotProfile, Version, Vhost,
};

/// The production endpoint.
pub const PRODUCTION_URL: &str = "https://rpc.gandi.net/xmlrpc/";

/// The OT&E (test) endpoint.
pub const OTE_URL: &str = "https://rpc.ote.gandi.net/xmlrpc/";

/// The page size [`Gandi::list_all`] asks for (the API's maximum).
pub const PAGE_SIZE: i64 = 500;

/// [`Gandi::list_all`] gives up after this many pages (10 million items), so a server that
/// never sends a short page cannot make it loop forever.
pub const MAX_PAGES: i64 = 20_000;

/// How a call ended, for a [`CallRecord`].
#[derive(Clone, Debug, PartialEq)]
pub enum CallOutcome {
    /// The API answered with a value.
    Ok,
    /// The API answered with a fault.
    Fault {
        /// The fault code.
        code: i64,
        /// The fault string (the key, should it appear, redacted).
        message: String,
    },
    /// No answer: a transport error, with its message (the key redacted).
    Error(String),
}

/// One call, as the call log hook sees it (after the call).
#[derive(Clone, Debug, PartialEq)]
pub struct CallRecord {
    /// The method, e.g. `paas.info`.
    pub method: String,
    /// The params as sent, except that the API key (first) is `"[REDACTED]"`, and so is the
    /// value of any `password` member.
    pub params: Vec<Value>,
    /// Wall time of the call.
    pub duration: Duration,
    /// Bytes of the request body.
    pub request_bytes: usize,
    /// Bytes of the reply body (after decompression).
    pub response_bytes: usize,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// How it ended.
    pub outcome: CallOutcome,
}

/// The call log hook: called after every call (from the calling thread).
pub type CallHook = Arc<dyn Fn(&CallRecord) + Send + Sync>;

/// The Gandi PaaS API client: an [`xmlrpc::Client`](Client) plus the [`ApiKey`], which it
/// prepends to every call.
///
/// `Gandi` is `Send + Sync`, and cloning it is cheap (the connection pool, key and hook are
/// shared), so one client can serve several threads.
///
/// Methods come in two layers:
/// - raw: [`call`](Gandi::call) (any method, key added, answer as a [`Value`]) and
///   [`list_all`](Gandi::list_all) (any `*.list`, paged); the values keep the API's field names
///   and types, which is what scripts see;
/// - typed: one method per PaaS call of the reference catalogue, returning the records of
///   [`types`](super::types). Every record also keeps what it does not model (`extra`) and gives
///   the whole struct back with [`ApiRecord::to_value`].
#[derive(Clone)]
pub struct Gandi {
    client: Client,
    key: ApiKey,
    hook: Option<CallHook>,
    throttle: Option<Arc<Throttle>>,
    /// What the replies' `Date` headers said of the server's clock (shared by clones).
    skew: Arc<ServerSkew>,
}

/// The server's clock minus ours, in seconds, as the last reply with a `Date` header showed.
#[derive(Debug, Default)]
struct ServerSkew {
    known: std::sync::atomic::AtomicBool,
    seconds: std::sync::atomic::AtomicI64,
}

impl ServerSkew {
    fn note(&self, server: SystemTime) {
        use std::sync::atomic::Ordering::Relaxed;
        let signed = |t: SystemTime| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        // The header has whole seconds and was written up to a second before we read it.
        let skew = (signed(server) + 0.5 - signed(SystemTime::now())).round() as i64;
        self.seconds.store(skew, Relaxed);
        self.known.store(true, Relaxed);
    }
}

impl fmt::Debug for Gandi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gandi")
            .field("url", &self.client.url())
            .field("key", &self.key)
            .field("call_log", &self.hook.is_some())
            .field("throttle", &self.throttle)
            .finish()
    }
}

fn filter_arg(filter: &Struct) -> Vec<Value> {
    if filter.is_empty() { Vec::new() } else { vec![Value::Struct(filter.clone())] }
}

impl Gandi {
    /// A client for the API at `url` with `key`. Fails with [`GandiError::Setup`] when
    /// [`Client::new`] does (bad URL, plain http to a non-loopback host, unreadable CA file);
    /// nothing is sent.
    pub fn new(url: &str, key: impl Into<ApiKey>, config: ClientConfig) -> Result<Gandi, GandiError> {
        let client = Client::new(url, config).map_err(GandiError::Setup)?;
        Ok(Gandi::with_client(client, key))
    }

    /// A client over an existing XML-RPC client (sharing its connection pool).
    pub fn with_client(client: Client, key: impl Into<ApiKey>) -> Gandi {
        Gandi { client, key: key.into(), hook: None, throttle: None, skew: Arc::default() }
    }

    /// Paces and retries every call through `throttle` (see [`Throttle`]): rate limit, resends
    /// after rate-limit faults, and resends of read-only calls after transient failures.
    /// Clones share it.
    pub fn with_throttle(mut self, throttle: Arc<Throttle>) -> Gandi {
        self.throttle = Some(throttle);
        self
    }

    /// Sets or removes the throttle.
    pub fn set_throttle(&mut self, throttle: Option<Arc<Throttle>>) {
        self.throttle = throttle;
    }

    /// The throttle, if one is installed.
    pub fn throttle(&self) -> Option<&Arc<Throttle>> {
        self.throttle.as_ref()
    }

    /// Sets the call log hook (see [`CallRecord`]).
    pub fn with_call_log(mut self, hook: CallHook) -> Gandi {
        self.hook = Some(hook);
        self
    }

    /// Sets or removes the call log hook.
    pub fn set_call_log(&mut self, hook: Option<CallHook>) {
        self.hook = hook;
    }

    /// The underlying XML-RPC client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        self.client.url()
    }

    /// The API key (prints as `ApiKey(***)`).
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// The server's time now, as far as this client knows it: our clock corrected by what the
    /// last reply's HTTP `Date` header said (to the second), or our clock alone before any
    /// reply carried one. Time windows the server compares (`>date_created`) use this, so
    /// they hold even when the two clocks disagree.
    pub fn server_now(&self) -> SystemTime {
        use std::sync::atomic::Ordering::Relaxed;
        let now = SystemTime::now();
        if !self.skew.known.load(Relaxed) {
            return now;
        }
        let skew = self.skew.seconds.load(Relaxed);
        let shift = Duration::from_secs(skew.unsigned_abs());
        if skew >= 0 { now + shift } else { now - shift }
    }

    // ---------------------------------------------------------------- raw layer

    /// Calls `method` with the key prepended to `params`, and returns the answer as sent.
    ///
    /// A fault becomes [`GandiError::Fault`] (decoded, naming `method`); anything else that
    /// prevents an answer is [`GandiError::Transport`].
    ///
    /// With a throttle, the client's whole-call timeout ([`ClientConfig::timeout`]) bounds the
    /// call with all its retries, from the first send: each attempt gets what is left of it, and
    /// no retry starts once it has passed (the last error is returned).
    pub fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, GandiError> {
        let mut full = Vec::with_capacity(params.len() + 1);
        full.push(Value::from(self.key.expose()));
        full.extend(params);
        let Some(throttle) = &self.throttle else { return self.send(method, &full, None) };
        let (mut rate_attempts, mut read_attempts) = (0, 0);
        let timeout = self.client.config().timeout;
        let mut deadline = None;
        loop {
            throttle.limiter.acquire();
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + timeout);
            let left = deadline.saturating_duration_since(Instant::now());
            let result = self.send(method, &full, Some(left));
            match &result {
                Ok(_) => throttle.limiter.succeeded(),
                Err(e) => {
                    if let Some(pause) =
                        throttle.after_error(method, e, &mut rate_attempts, &mut read_attempts)
                        && Instant::now() + pause < deadline
                    {
                        std::thread::sleep(pause);
                        continue;
                    }
                }
            }
            return result;
        }
    }

    /// One call with the full params (key first), logged to the hook.
    fn send(&self, method: &str, full: &[Value], within: Option<Duration>) -> Result<Value, GandiError> {
        let (result, stats) = match within {
            Some(limit) => self.client.call_with_stats_within(method, full, limit),
            None => self.client.call_with_stats(method, full),
        };
        if let Some(date) = stats.server_date {
            self.skew.note(date);
        }
        let result = result.map_err(|e| self.error(method, e));
        if let Some(hook) = &self.hook {
            let mut shown = full.to_vec();
            shown[0] = Value::from(REDACTED);
            for p in shown.iter_mut().skip(1) {
                redact_passwords(p);
                self.redact_key_in(p);
            }
            let outcome = match &result {
                Ok(_) => CallOutcome::Ok,
                Err(GandiError::Fault(f)) => CallOutcome::Fault { code: f.code, message: f.message.clone() },
                Err(e) => CallOutcome::Error(e.to_string()),
            };
            hook(&CallRecord {
                method: method.to_owned(),
                params: shown,
                duration: stats.duration,
                request_bytes: stats.request_bytes,
                response_bytes: stats.response_bytes,
                status: stats.status,
                outcome,
            });
        }
        result
    }

    /// Every item of a `*.list` method matching `filter`.
    ///
    /// Without `items_per_page` or `page` in `filter`, pages of [`PAGE_SIZE`] are fetched
    /// (`page` 0, 1, …) until a page comes back short. With either, the one page asked for is
    /// returned as is.
    pub fn list_all(&self, method: &str, filter: &Struct) -> Result<Vec<Value>, GandiError> {
        if filter.contains_key("items_per_page") || filter.contains_key("page") {
            return self.array(method, self.call(method, filter_arg(filter))?);
        }
        let mut all = Vec::new();
        let mut previous_first: Option<Value> = None;
        for page in 0..MAX_PAGES {
            let mut opts = filter.clone();
            opts.insert("items_per_page", PAGE_SIZE);
            opts.insert("page", page);
            let items = self.array(method, self.call(method, vec![Value::Struct(opts)])?)?;
            let n = items.len() as i64;
            if n > PAGE_SIZE {
                return Err(GandiError::BadReply {
                    method: method.to_owned(),
                    reason: format!("page {page} has {n} items although {PAGE_SIZE} were asked for"),
                });
            }
            if n > 0 {
                let first = items[0].clone();
                if previous_first.as_ref() == Some(&first) {
                    return Err(GandiError::BadReply {
                        method: method.to_owned(),
                        reason: format!("page {page} repeats page {}: the server ignores `page`", page - 1),
                    });
                }
                previous_first = Some(first);
            }
            all.extend(items);
            if n < PAGE_SIZE {
                return Ok(all);
            }
        }
        Err(GandiError::BadReply {
            method: method.to_owned(),
            reason: format!("still full pages after {MAX_PAGES} pages; giving up"),
        })
    }

    /// Maps a client error, keeping the key out of every message.
    fn error(&self, method: &str, e: ClientError) -> GandiError {
        match e {
            ClientError::Fault(f) => GandiError::Fault(Box::new(ApiFault::decode(
                method,
                &Fault::new(f.code, self.key.redact(&f.message)),
            ))),
            other => GandiError::Transport { method: method.to_owned(), source: self.redact_error(other) },
        }
    }

    /// Rebuilds a client error whose text would show the key (a server or proxy echoing the
    /// request), with the key replaced.
    fn redact_error(&self, e: ClientError) -> ClientError {
        // Debug shows every field (Display leaves some out, such as an HTTP body excerpt).
        if self.key.is_empty() || !format!("{e:?}").contains(self.key.expose()) {
            return e;
        }
        let r = |s: String| self.key.redact(&s);
        match e {
            ClientError::Http { status, url, body_excerpt } => {
                ClientError::Http { status, url: r(url), body_excerpt: r(body_excerpt) }
            }
            ClientError::Connect { url, message } => {
                ClientError::Connect { url: r(url), message: r(message) }
            }
            ClientError::ClosedBeforeReply { url, message } => {
                ClientError::ClosedBeforeReply { url: r(url), message: r(message) }
            }
            ClientError::Transport { url, message } => {
                ClientError::Transport { url: r(url), message: r(message) }
            }
            ClientError::Tls { url, message } => ClientError::Tls { url: r(url), message: r(message) },
            ClientError::Interrupted { url, sent } => ClientError::Interrupted { url: r(url), sent },
            ClientError::Timeout { url, limit, connecting } => {
                ClientError::Timeout { url: r(url), limit, connecting }
            }
            ClientError::Config(m) => ClientError::Config(r(m)),
            ClientError::InsecureUrl { host } => ClientError::InsecureUrl { host: r(host) },
            ClientError::Decode(DecodeError::Value { tag, text, reason, pos }) => {
                ClientError::Decode(DecodeError::Value { tag, text: r(text), reason: r(reason), pos })
            }
            ClientError::Decode(DecodeError::Xml { pos, message }) => {
                ClientError::Decode(DecodeError::Xml { pos, message: r(message) })
            }
            ClientError::Decode(DecodeError::Protocol { kind, pos, message }) => {
                ClientError::Decode(DecodeError::Protocol { kind, pos, message: r(message) })
            }
            ClientError::Decode(DecodeError::Entity { name, pos }) => {
                ClientError::Decode(DecodeError::Entity { name: r(name), pos })
            }
            // Anything else (an encode error quoting a param, say) keeps its message and whether
            // it may have been applied, in a variant that can carry the redacted text.
            other if other.maybe_applied() => {
                ClientError::Transport { url: r(self.client.url().to_owned()), message: r(other.to_string()) }
            }
            other => ClientError::Config(r(other.to_string())),
        }
    }

    /// Replaces the key wherever a string param contains it (for the call log).
    fn redact_key_in(&self, v: &mut Value) {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::String(s) if s.contains(self.key.expose()) => *s = self.key.redact(s),
                Value::Array(a) => stack.extend(a.iter_mut()),
                Value::Struct(s) => stack.extend(s.0.iter_mut().map(|(_, m)| m)),
                _ => {}
            }
        }
    }

    fn array(&self, method: &str, v: Value) -> Result<Vec<Value>, GandiError> {
        v.into_array().map_err(|v| GandiError::BadReply {
            method: method.to_owned(),
            reason: format!("expected an array, found {}", v.type_name()),
        })
    }

    fn record<T: ApiRecord>(&self, method: &str, v: Value) -> Result<T, GandiError> {
        T::from_api(v).map_err(|source| GandiError::Decode { method: method.to_owned(), index: None, source })
    }

    fn records<T: ApiRecord>(&self, method: &str, items: Vec<Value>) -> Result<Vec<T>, GandiError> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            out.push(T::from_api(item).map_err(|source| GandiError::Decode {
                method: method.to_owned(),
                index: Some(i),
                source,
            })?);
        }
        Ok(out)
    }

    /// One op or an array of ops (the API is inconsistent; reference §10).
    fn ops(&self, method: &str, v: Value) -> Result<Vec<Operation>, GandiError> {
        match v {
            Value::Struct(_) => Ok(vec![self.record(method, v)?]),
            Value::Array(_) => {
                let items = self.array(method, v)?;
                self.records(method, items)
            }
            other => Err(GandiError::BadReply {
                method: method.to_owned(),
                reason: format!(
                    "expected an operation or an array of operations, found {}",
                    other.type_name()
                ),
            }),
        }
    }

    fn int(&self, method: &str, v: Value) -> Result<i64, GandiError> {
        v.as_i64().ok_or_else(|| GandiError::BadReply {
            method: method.to_owned(),
            reason: format!("expected an int, found {}", v.type_name()),
        })
    }

    fn dry_run(&self, method: &str, mut params: Struct) -> Result<Vec<DryRunError>, GandiError> {
        params.insert("--dry-run", true);
        let v = self.call(method, vec![Value::Struct(params)])?;
        self.dry_run_reply(method, v)
    }

    fn dry_run_reply(&self, method: &str, v: Value) -> Result<Vec<DryRunError>, GandiError> {
        match v {
            Value::Array(_) => {
                let items = self.array(method, v)?;
                self.records(method, items)
            }
            other => Err(GandiError::BadReply {
                method: method.to_owned(),
                reason: format!(
                    "a dry run should answer an array of errors, found {} (the call may have been applied)",
                    other.type_name()
                ),
            }),
        }
    }

    fn list_typed<T: ApiRecord>(&self, method: &str, filter: &Struct) -> Result<Vec<T>, GandiError> {
        let items = self.list_all(method, filter)?;
        self.records(method, items)
    }

    fn count(&self, method: &str, filter: &Struct) -> Result<i64, GandiError> {
        let v = self.call(method, filter_arg(filter))?;
        self.int(method, v)
    }

    // ---------------------------------------------------------------- typed layer

    /// `version.info`.
    pub fn version(&self) -> Result<Version, GandiError> {
        let v = self.call("version.info", vec![])?;
        self.record("version.info", v)
    }

    /// `paas.count(filter)`: how many instances match (paging options are ignored by the API).
    pub fn paas_count(&self, filter: &Struct) -> Result<i64, GandiError> {
        self.count("paas.count", filter)
    }

    /// `paas.list(filter)`, every page (see [`Gandi::list_all`]).
    pub fn paas_list(&self, filter: &Struct) -> Result<Vec<Instance>, GandiError> {
        self.list_typed("paas.list", filter)
    }

    /// `paas.info(id)`.
    pub fn paas_info(&self, id: i64) -> Result<InstanceInfo, GandiError> {
        let v = self.call("paas.info", vec![Value::Int(id)])?;
        self.record("paas.info", v)
    }

    /// `paas.create(params)`: the ops (`paas_vm_create`, `paas_disk_create`, `rproxy_create`);
    /// the new instance's id is [`Operation::paas_id`].
    pub fn paas_create(&self, params: &CreateParams) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.create", vec![Value::Struct(params.to_struct())])?;
        self.ops("paas.create", v)
    }

    /// `paas.create(params + '--dry-run': True)`: what would be wrong (empty: it would succeed).
    /// Nothing is created.
    pub fn paas_create_dry_run(&self, params: &CreateParams) -> Result<Vec<DryRunError>, GandiError> {
        self.dry_run("paas.create", params.to_struct())
    }

    /// `paas.update(id, params)`.
    pub fn paas_update(&self, id: i64, params: &UpdateParams) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.update", vec![Value::Int(id), Value::Struct(params.to_struct())])?;
        self.ops("paas.update", v)
    }

    /// `paas.update(id, params + '--dry-run': True)`: what would be wrong (empty: it would
    /// succeed). Nothing changes.
    pub fn paas_update_dry_run(
        &self,
        id: i64,
        params: &UpdateParams,
    ) -> Result<Vec<DryRunError>, GandiError> {
        let mut p = params.to_struct();
        p.insert("--dry-run", true);
        let v = self.call("paas.update", vec![Value::Int(id), Value::Struct(p)])?;
        self.dry_run_reply("paas.update", v)
    }

    /// `paas.renew(id, params + '--dry-run': True)`. Nothing changes.
    pub fn paas_renew_dry_run(&self, id: i64, params: &RenewParams) -> Result<Vec<DryRunError>, GandiError> {
        let mut p = params.to_struct();
        p.insert("--dry-run", true);
        let v = self.call("paas.renew", vec![Value::Int(id), Value::Struct(p)])?;
        self.dry_run_reply("paas.renew", v)
    }

    /// `paas.delete(id)`.
    pub fn paas_delete(&self, id: i64) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.delete", vec![Value::Int(id)])?;
        self.ops("paas.delete", v)
    }

    /// `paas.renew(id, params)`: at DONE, `date_end` moves forward by the duration.
    pub fn paas_renew(&self, id: i64, params: &RenewParams) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.renew", vec![Value::Int(id), Value::Struct(params.to_struct())])?;
        self.ops("paas.renew", v)
    }

    /// `paas.restart(id)`.
    pub fn paas_restart(&self, id: i64) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.restart", vec![Value::Int(id)])?;
        self.ops("paas.restart", v)
    }

    /// `paas.type.count(filter)`.
    pub fn type_count(&self, filter: &Struct) -> Result<i64, GandiError> {
        self.count("paas.type.count", filter)
    }

    /// `paas.type.list(filter)`, every page.
    pub fn type_list(&self, filter: &Struct) -> Result<Vec<PaasType>, GandiError> {
        self.list_typed("paas.type.list", filter)
    }

    /// `paas.vhost.count(filter)`.
    pub fn vhost_count(&self, filter: &Struct) -> Result<i64, GandiError> {
        self.count("paas.vhost.count", filter)
    }

    /// `paas.vhost.list(filter)`, every page.
    pub fn vhost_list(&self, filter: &Struct) -> Result<Vec<Vhost>, GandiError> {
        self.list_typed("paas.vhost.list", filter)
    }

    /// `paas.vhost.info(fqdn)`.
    pub fn vhost_info(&self, fqdn: &str) -> Result<Vhost, GandiError> {
        let v = self.call("paas.vhost.info", vec![Value::from(fqdn)])?;
        self.record("paas.vhost.info", v)
    }

    /// `paas.vhost.create(params)`: one op (`rproxy_update`). Without ownership proof the API
    /// faults 580142 (OBJECT_DNS_TXT / CAUSE_NOTFOUND).
    pub fn vhost_create(&self, params: &VhostCreateParams) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.vhost.create", vec![Value::Struct(params.to_struct())])?;
        self.ops("paas.vhost.create", v)
    }

    /// `paas.vhost.create(params + '--dry-run': True)`.
    pub fn vhost_create_dry_run(&self, params: &VhostCreateParams) -> Result<Vec<DryRunError>, GandiError> {
        self.dry_run("paas.vhost.create", params.to_struct())
    }

    /// `paas.vhost.delete(fqdn)`.
    pub fn vhost_delete(&self, fqdn: &str) -> Result<Vec<Operation>, GandiError> {
        let v = self.call("paas.vhost.delete", vec![Value::from(fqdn)])?;
        self.ops("paas.vhost.delete", v)
    }

    /// `paas.vhost.get_dns_entries({vhost[, paas_id]})`: the records that prove ownership.
    pub fn vhost_dns_entries(&self, fqdn: &str, paas_id: Option<i64>) -> Result<DnsEntries, GandiError> {
        let mut p = Struct::new().with("vhost", fqdn);
        if let Some(id) = paas_id {
            p.insert("paas_id", id);
        }
        let v = self.call("paas.vhost.get_dns_entries", vec![Value::Struct(p)])?;
        self.record("paas.vhost.get_dns_entries", v)
    }

    /// `paas.snapshot.count(filter)`.
    pub fn snapshot_count(&self, filter: &Struct) -> Result<i64, GandiError> {
        self.count("paas.snapshot.count", filter)
    }

    /// `paas.snapshot.list(filter)`, every page.
    pub fn snapshot_list(&self, filter: &Struct) -> Result<Vec<Snapshot>, GandiError> {
        self.list_typed("paas.snapshot.list", filter)
    }

    /// `paas.snapshot.info(id)`.
    pub fn snapshot_info(&self, id: i64) -> Result<Snapshot, GandiError> {
        let v = self.call("paas.snapshot.info", vec![Value::Int(id)])?;
        self.record("paas.snapshot.info", v)
    }

    /// `paas.snapshotprofile.list(filter)`, every page.
    pub fn snapshot_profile_list(&self, filter: &Struct) -> Result<Vec<SnapshotProfile>, GandiError> {
        self.list_typed("paas.snapshotprofile.list", filter)
    }

    /// `operation.info(id)`.
    pub fn operation_info(&self, id: i64) -> Result<Operation, GandiError> {
        let v = self.call("operation.info", vec![Value::Int(id)])?;
        self.record("operation.info", v)
    }

    /// `operation.list(filter)`, every page.
    pub fn operation_list(&self, filter: &Struct) -> Result<Vec<Operation>, GandiError> {
        self.list_typed("operation.list", filter)
    }

    /// `operation.count(filter)`.
    pub fn operation_count(&self, filter: &Struct) -> Result<i64, GandiError> {
        self.count("operation.count", filter)
    }

    /// `operation.cancel(id)`: `true` once cancelled (only possible in BILL or WAIT).
    pub fn operation_cancel(&self, id: i64) -> Result<bool, GandiError> {
        let v = self.call("operation.cancel", vec![Value::Int(id)])?;
        v.as_bool().ok_or_else(|| GandiError::BadReply {
            method: "operation.cancel".into(),
            reason: format!("expected a boolean, found {}", v.type_name()),
        })
    }

    /// `hosting.datacenter.list(filter)`, every page.
    pub fn datacenter_list(&self, filter: &Struct) -> Result<Vec<Datacenter>, GandiError> {
        self.list_typed("hosting.datacenter.list", filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gandi_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Gandi>();
    }

    #[test]
    fn debug_hides_the_key() {
        let g =
            Gandi::new("http://127.0.0.1:9/xmlrpc/", "k3y-that-is-secret", ClientConfig::default()).unwrap();
        let shown = format!("{g:?}");
        assert!(!shown.contains("k3y-that"), "{shown}");
        assert!(shown.contains("127.0.0.1:9"), "{shown}");
    }
}
