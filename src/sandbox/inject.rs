//! Fault injection for reliability work: latency on every call, HTTP 503 at a given rate
//! (before anything is done), lost replies at a given rate (the call is applied, then the
//! connection closes without a reply), and a per-key calls-per-second limit (fault 160004,
//! nothing applied).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::xmlrpc::Fault;

use super::fault::{code, fault};
use super::rng::Rng;

/// The injection settings and their mutable bits.
#[derive(Debug)]
pub struct Injector {
    latency: Duration,
    fail_rate: f64,
    lost_reply_rate: f64,
    rate_limit: Option<u32>,
    rng: Mutex<Rng>,
    /// Per key: start of the current one-second window and calls accepted in it.
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Injector {
    /// Settings from the config (`seed` makes the random choices reproducible).
    pub fn new(
        latency_ms: u64,
        fail_rate: f64,
        lost_reply_rate: f64,
        rate_limit: Option<u32>,
        seed: u64,
    ) -> Self {
        Injector {
            latency: Duration::from_millis(latency_ms),
            fail_rate,
            lost_reply_rate,
            rate_limit,
            rng: Mutex::new(Rng::new(seed ^ 0x1A7E_C7ED)),
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn roll(&self, p: f64) -> bool {
        p > 0.0 && crate::sync::lock(&self.rng).chance(p)
    }

    /// `Some(503)` for a request to fail before anything is done.
    pub fn http_failure(&self) -> Option<u16> {
        self.roll(self.fail_rate).then_some(503)
    }

    /// Sleeps the configured latency.
    pub fn delay(&self) {
        if !self.latency.is_zero() {
            crate::xmlrpc::server::about_to_block();
            std::thread::sleep(self.latency);
        }
    }

    /// Whether this reply should be lost.
    pub fn lose_reply(&self) -> bool {
        self.roll(self.lost_reply_rate)
    }

    /// Counts a call for `key`; fault 160004 when over the limit (the call is then not counted).
    pub fn admit(&self, key: &str) -> Result<(), Fault> {
        let Some(limit) = self.rate_limit else { return Ok(()) };
        let now = Instant::now();
        let mut w = crate::sync::lock(&self.windows);
        if w.len() > 4096 {
            w.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(1));
        }
        let entry = w.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(1) {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            return Err(fault(
                code::TOO_MANY,
                format_args!("rate limit of {limit} calls per second exceeded"),
            ));
        }
        entry.1 += 1;
        Ok(())
    }
}
