//! Client-side pacing and safe retries: [`Throttle`] = a [`RateLimiter`] + a [`RetryPolicy`].
//!
//! Installed on a [`Gandi`](super::Gandi) client with [`Gandi::with_throttle`](super::Gandi::with_throttle),
//! it makes every call:
//! - wait for the rate limiter (at most N calls in any sliding window of [`WINDOW`]);
//! - on a rate-limit fault (160004, `OBJECT_SERVICE (CAUSE_TOOMANY)`: nothing was applied) back
//!   off, slow the limiter down, and send again;
//! - for read-only methods ([`is_read_only`]) only, retry transient failures ([`is_transient`]:
//!   HTTP 5xx/429, connection refused or reset, timeouts) with exponential backoff.
//!
//! A call that may change something is never resent after an ambiguous failure here; that is
//! the job of the caller, which must first learn whether it was applied (see
//! [`bulk`](super::bulk)).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::error::GandiError;

/// The rate-limit fault code: `OBJECT_SERVICE (CAUSE_TOOMANY)`.
pub const RATE_LIMIT_FAULT: i64 = 160_004;

/// The default pace for bulk work against Gandi, in calls per second. Gandi does not document
/// a limit for the XML-RPC API; its v5 REST API allows 1000 requests per minute per address
/// (16.7/s), so 15/s stays under that with a margin.
pub const DEFAULT_RATE: u32 = 15;

/// The limiter's window: at most `rate` calls are sent in any window of this length. It is a
/// little longer than a second so that a server counting calls per second still sees at most
/// `rate` even when network jitter bunches requests up.
pub const WINDOW: Duration = Duration::from_millis(1050);

/// Whether a method only reads, judged by its name: `*.list`, `*.count`, `*.info`, `*.get_*`,
/// and the introspection methods `system.listMethods`, `system.methodHelp`,
/// `system.methodSignature`. Such calls are safe to resend. `system.multicall` is not: it can
/// carry any call, a renewal included.
pub fn is_read_only(method: &str) -> bool {
    let last = method.rsplit('.').next().unwrap_or(method);
    if method.starts_with("system.") {
        return matches!(last, "listMethods" | "methodHelp" | "methodSignature" | "getCapabilities");
    }
    matches!(last, "list" | "count" | "info") || last.starts_with("get")
}

/// Whether an error is worth retrying for a call that is safe to resend: HTTP 5xx or 429,
/// connection refused or reset, a connection closed before the reply, a timeout, or a
/// rate-limit fault.
pub fn is_transient(e: &GandiError) -> bool {
    use crate::xmlrpc::client::Error as C;
    match e {
        GandiError::Fault(f) => f.code == RATE_LIMIT_FAULT,
        GandiError::Transport { source, .. } => match source {
            C::Http { status, .. } => *status >= 500 || *status == 429,
            C::Timeout { .. } | C::Connect { .. } | C::ClosedBeforeReply { .. } | C::Transport { .. } => true,
            _ => false,
        },
        _ => false,
    }
}

/// Whether an error is a rate-limit fault (160004).
pub fn is_rate_limited(e: &GandiError) -> bool {
    e.fault().is_some_and(|f| f.code == RATE_LIMIT_FAULT)
}

/// How many times, and how patiently, calls are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Resends after a rate-limit fault (any method: nothing was applied). Default 10.
    pub rate_limit_retries: u32,
    /// Resends of a read-only call after a transient failure. Default 4.
    pub read_retries: u32,
    /// The first backoff; it doubles on each retry (with jitter). Default 100 ms.
    pub base_delay: Duration,
    /// The longest backoff. Default 5 s.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            rate_limit_retries: 10,
            read_retries: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { rate_limit_retries: 0, read_retries: 0, ..RetryPolicy::default() }
    }

    /// Sets the number of resends after rate-limit faults.
    pub fn with_rate_limit_retries(mut self, n: u32) -> Self {
        self.rate_limit_retries = n;
        self
    }

    /// Sets the number of resends of read-only calls after transient failures.
    pub fn with_read_retries(mut self, n: u32) -> Self {
        self.read_retries = n;
        self
    }

    /// Sets the first and the longest backoff.
    pub fn with_delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// The pause before retry number `attempt` (0-based): `base · 2^attempt`, capped, with
    /// jitter between half and all of it.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let full = self.base_delay.saturating_mul(1u32 << attempt.min(16)).min(self.max_delay);
        full.mul_f64(0.5 + 0.5 * jitter())
    }
}

/// A number in `[0, 1)` that differs from call to call and thread to thread.
pub(crate) fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
    crate::rng::SplitMix64::new(seed).unit()
}

#[derive(Debug)]
struct LimiterState {
    /// When each call of the current window was let through, oldest first.
    sent: VecDeque<Instant>,
    /// The pace actually allowed (calls per window), lowered after a rate-limit fault and
    /// raised again by successes; `None` follows the configured rate.
    reduced: Option<f64>,
    /// Nobody sends before this (set after a rate-limit fault).
    paused_until: Option<Instant>,
}

/// At most `rate` calls in any sliding window of [`WINDOW`], shared by every thread that uses
/// it.
///
/// This is a token bucket of `rate` tokens in which each token comes back exactly one window
/// after it was spent, so a burst is allowed only while it keeps under the limit: a plain
/// bucket refilling at `rate` per second with any burst capacity would let more than `rate`
/// calls into some second, which a server counting per second rejects.
///
/// After a rate-limit fault ([`RateLimiter::throttled`]) everyone pauses briefly and the pace
/// drops by a quarter (below the configured rate, or below what was being sent without one);
/// each success then raises it a little, back to the configured rate.
#[derive(Debug)]
pub struct RateLimiter {
    /// Calls per window; 0 means no limit.
    rate: AtomicU32,
    state: Mutex<LimiterState>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(None)
    }
}

impl RateLimiter {
    /// A limiter allowing `per_second` calls per [`WINDOW`] (`None` or `Some(0)`: no limit, but
    /// it still slows down after rate-limit faults).
    pub fn new(per_second: Option<u32>) -> Self {
        RateLimiter {
            rate: AtomicU32::new(per_second.unwrap_or(0)),
            state: Mutex::new(LimiterState { sent: VecDeque::new(), reduced: None, paused_until: None }),
        }
    }

    /// Changes the limit (`None`: no limit) from the next call on.
    pub fn set_rate(&self, per_second: Option<u32>) {
        self.rate.store(per_second.unwrap_or(0), Ordering::Relaxed);
        self.lock().reduced = None;
    }

    /// The configured limit in calls per second (`None`: none).
    pub fn rate(&self) -> Option<u32> {
        match self.rate.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        crate::sync::lock(&self.state)
    }

    /// Blocks until a call may be sent, and counts it.
    pub fn acquire(&self) {
        loop {
            let wait = {
                let mut st = self.lock();
                let now = Instant::now();
                while st.sent.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    st.sent.pop_front();
                }
                let configured = self.rate.load(Ordering::Relaxed);
                let allowed = match (st.reduced, configured) {
                    (Some(r), _) => Some(r.max(1.0) as usize),
                    (None, 0) => None,
                    (None, n) => Some(n as usize),
                };
                match st.paused_until {
                    Some(p) if p > now => Some(p - now),
                    _ => match allowed {
                        Some(n) if st.sent.len() >= n => {
                            // The oldest of the last n calls leaves the window first.
                            let oldest = st.sent[st.sent.len() - n];
                            Some(WINDOW.saturating_sub(now.duration_since(oldest)))
                        }
                        _ => {
                            st.sent.push_back(now);
                            // Without a limit only recent history is kept (for `throttled`).
                            if st.sent.len() > 100_000 {
                                st.sent.pop_front();
                            }
                            None
                        }
                    },
                }
            };
            match wait {
                None => return,
                Some(d) => std::thread::sleep(d.max(Duration::from_millis(1))),
            }
        }
    }

    /// A rate-limit fault came back: pause every sender for `pause` and lower the pace.
    pub fn throttled(&self, pause: Duration) {
        let mut st = self.lock();
        let now = Instant::now();
        let in_window = st.sent.iter().filter(|t| now.duration_since(**t) < WINDOW).count() as f64;
        let configured = self.rate.load(Ordering::Relaxed) as f64;
        let current = st.reduced.unwrap_or(if configured > 0.0 { configured } else { in_window });
        st.reduced = Some((current.min(in_window.max(1.0)) * 0.75).max(1.0));
        let until = now + pause;
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }

    /// A call went through: raise a lowered pace a little (back to the configured rate after
    /// enough successes).
    pub fn succeeded(&self) {
        let mut st = self.lock();
        if let Some(r) = st.reduced {
            let configured = self.rate.load(Ordering::Relaxed) as f64;
            let next = r + 0.05;
            st.reduced = if configured > 0.0 && next >= configured { None } else { Some(next) };
        }
    }

    /// The pace currently allowed, in calls per window (`None`: unlimited).
    pub fn current_pace(&self) -> Option<f64> {
        let st = self.lock();
        st.reduced.or(self.rate().map(f64::from))
    }
}

/// Pacing and retries for a [`Gandi`](super::Gandi) client (shared by its clones).
#[derive(Debug, Default)]
pub struct Throttle {
    /// The rate limiter every call waits for.
    pub limiter: RateLimiter,
    /// What is retried, how often.
    pub policy: RetryPolicy,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

impl Throttle {
    /// A throttle with a limit (`None`: none) and a policy.
    pub fn new(per_second: Option<u32>, policy: RetryPolicy) -> Self {
        Throttle { limiter: RateLimiter::new(per_second), policy, ..Throttle::default() }
    }

    /// How many resends it has made so far (rate-limited and transient together).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// How many rate-limit faults it has seen so far.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Decides what to do after a failed call: `Some(pause)` to send again after `pause`.
    /// `rate_attempts` and `read_attempts` count the resends made so far for this call.
    pub(crate) fn after_error(
        &self,
        method: &str,
        e: &GandiError,
        rate_attempts: &mut u32,
        read_attempts: &mut u32,
    ) -> Option<Duration> {
        if is_rate_limited(e) {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
            if *rate_attempts >= self.policy.rate_limit_retries {
                return None;
            }
            let pause = self.policy.backoff(*rate_attempts);
            *rate_attempts += 1;
            self.limiter.throttled(pause);
            self.retries.fetch_add(1, Ordering::Relaxed);
            return Some(pause);
        }
        if is_read_only(method) && is_transient(e) && *read_attempts < self.policy.read_retries {
            let pause = self.policy.backoff(*read_attempts);
            *read_attempts += 1;
            self.retries.fetch_add(1, Ordering::Relaxed);
            return Some(pause);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_methods() {
        for m in
            ["paas.list", "paas.info", "operation.count", "paas.vhost.get_dns_entries", "system.listMethods"]
        {
            assert!(is_read_only(m), "{m}");
        }
        for m in [
            "paas.renew",
            "paas.update",
            "operation.cancel",
            "paas.vhost.create",
            "sandbox.reset",
            "system.multicall",
        ] {
            assert!(!is_read_only(m), "{m}");
        }
    }

    #[test]
    fn backoff_doubles_within_bounds() {
        let p = RetryPolicy::default().with_delays(Duration::from_millis(100), Duration::from_millis(700));
        for attempt in 0..10 {
            let full = (100u64 << attempt).min(700);
            let d = p.backoff(attempt).as_millis() as u64;
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d} ms, full {full}");
        }
    }

    #[test]
    fn limiter_never_lets_more_than_the_rate_into_a_window() {
        let l = RateLimiter::new(Some(5));
        let mut sent = Vec::new();
        for _ in 0..12 {
            l.acquire();
            sent.push(Instant::now());
        }
        // Any 6 consecutive calls span at least one window.
        for w in sent.windows(6) {
            assert!(w[5].duration_since(w[0]) >= WINDOW, "{:?}", w[5].duration_since(w[0]));
        }
    }

    #[test]
    fn throttling_lowers_the_pace_and_successes_restore_it() {
        let l = RateLimiter::new(Some(20));
        for _ in 0..20 {
            l.acquire();
        }
        l.throttled(Duration::from_millis(1));
        let lowered = l.current_pace().unwrap();
        assert!((1.0..20.0).contains(&lowered), "{lowered}");
        for _ in 0..1000 {
            l.succeeded();
        }
        assert_eq!(l.current_pace(), Some(20.0));
        // Without a configured rate, a fault still imposes one (from what was being sent).
        let u = RateLimiter::new(None);
        for _ in 0..8 {
            u.acquire();
        }
        assert_eq!(u.current_pace(), None);
        u.throttled(Duration::from_millis(1));
        assert_eq!(u.current_pace(), Some(6.0));
    }
}
