//! What the script modules share: the Gandi client, the zone and clock, dry-run state, the plan
//! and the call log, the cancellation handle and the wait settings.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::confirm::{ConfirmHook, Decision, Mutation};
use super::limits::CancelHandle;
use super::plan::{CallLog, PlanEntry};
use crate::calendar::Zone;
use crate::gandi::Gandi;
use crate::xmlrpc::{Client, ClientConfig};

/// The clock scripts read with `now()`: the current UTC time in Unix seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

pub(crate) struct Host {
    pub(crate) gandi: Gandi,
    pub(crate) zone: Zone,
    pub(crate) clock: Clock,
    pub(crate) dry_run: AtomicBool,
    pub(crate) plan: Mutex<Vec<PlanEntry>>,
    pub(crate) calls: Arc<Mutex<CallLog>>,
    pub(crate) cancel: CancelHandle,
    pub(crate) wait_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) on_wait: Option<super::hooks::WaitHook>,
    pub(crate) xmlrpc_config: ClientConfig,
    pub(crate) xmlrpc_clients: Mutex<HashMap<String, Client>>,
    /// Pacing and retries of every API call (shared with `gandi`).
    pub(crate) throttle: Arc<crate::gandi::Throttle>,
    /// Whether the host set a rate limit (otherwise bulk runs use Gandi's default).
    pub(crate) rate_configured: AtomicBool,
    pub(crate) on_bulk: Option<super::hooks::BulkHook>,
    /// The exit status a script asked for (`set_exit_code`).
    pub(crate) exit_code: Mutex<Option<i32>>,
    pub(crate) confirm: RwLock<Option<ConfirmHook>>,
    /// Where `bulk::default_journal` puts journals (none: it returns `()`).
    pub(crate) journal_dir: Option<std::path::PathBuf>,
}

pub(crate) use crate::sync::lock;

impl Host {
    pub(crate) fn dry_run(&self) -> bool {
        self.dry_run.load(Ordering::Relaxed)
    }

    /// Asks the confirmation hook, if any, about a change (no hook: send it).
    pub(crate) fn confirm(&self, m: &Mutation) -> Decision {
        let hook = crate::sync::read(&self.confirm).clone();
        hook.map_or(Decision::Send, |h| h(m))
    }

    pub(crate) fn now_local(&self) -> i64 {
        self.zone.to_local((self.clock)())
    }

    /// A client for `url` (cached per URL, sharing connections across calls).
    pub(crate) fn xmlrpc_client(&self, url: &str) -> Result<Client, crate::xmlrpc::client::Error> {
        let mut clients = lock(&self.xmlrpc_clients);
        if let Some(c) = clients.get(url) {
            return Ok(c.clone());
        }
        let c = Client::new(url, self.xmlrpc_config.clone())?;
        if clients.len() < 64 {
            self.cancel.interrupts(&c);
            clients.insert(url.to_string(), c.clone());
        }
        Ok(c)
    }
}
