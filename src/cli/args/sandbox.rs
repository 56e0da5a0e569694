//! The flags of `gandish sandbox`, and the simulator settings they describe.

use std::path::PathBuf;

use clap::Args;

use crate::gandi::ApiKey;
use crate::sandbox::{self, Dataset, SandboxConfig};

/// Flags of `gandish sandbox`.
#[derive(Args, Clone, Debug)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = sandbox::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: String,
    /// The API key clients must send to this sandbox [default: `my 24-character API key`, the
    /// API page's placeholder]. `--api-key KEY` on this command line does the same;
    /// GANDI_API_KEY is never read for it (it may hold a real key, which the banner would show).
    // An `ApiKey`, not a `String`: `Debug` of these flags (and of `Cli`) must never show it.
    #[arg(id = "sandbox_key", long = "key", value_name = "KEY", hide_default_value = true, default_value = sandbox::DEFAULT_API_KEY)]
    pub api_key: ApiKey,
    /// Starting world: seed (the seed document's), demo (seed plus a few dozen) or empty.
    #[arg(long, default_value = "demo", value_parser = parse_dataset)]
    pub dataset: Dataset,
    /// Add N generated instances (deterministic under --seed).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub instances: usize,
    /// Seed for generated instances and fault injection.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Seconds an operation takes from BILL to DONE (0: done in the reply).
    #[arg(long, default_value_t = 3, value_name = "S")]
    pub op_seconds: u64,
    /// Latency added to every call, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency: u64,
    /// Probability (0–1) of answering HTTP 503 before doing anything.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub fail_rate: f64,
    /// Probability (0–1) of applying a call, then closing the connection without a reply.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub lost_reply_rate: f64,
    /// Calls per second per key; above, fault 160004 and nothing applied.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Keep the world in FILE: loaded at start, saved before each reply that changed it.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Accept the size `s+` (later sources add it; the seed lists five sizes).
    #[arg(long)]
    pub allow_s_plus: bool,
    /// Add the later sources' fields to paas.list and paas.info.
    #[arg(long)]
    pub extended_fields: bool,
    /// Refuse a change while another operation on the instance is pending (fault 537567).
    #[arg(long)]
    pub strict: bool,
    /// Accept but ignore this operation.list filter key (repeatable; e.g. `step`), to check a
    /// client against a server that does not apply it.
    #[arg(long, value_name = "KEY")]
    pub ignore_op_filter: Vec<String>,
}

fn parse_dataset(s: &str) -> Result<Dataset, String> {
    s.parse()
}

impl SandboxArgs {
    /// The sandbox settings these flags describe.
    pub fn config(&self) -> SandboxConfig {
        SandboxConfig {
            listen: self.listen.clone(),
            api_key: self.api_key.expose().to_string(),
            dataset: self.dataset,
            instances: self.instances,
            seed: self.seed,
            op_seconds: self.op_seconds,
            latency_ms: self.latency,
            fail_rate: self.fail_rate,
            lost_reply_rate: self.lost_reply_rate,
            rate_limit: self.rate_limit,
            state_file: self.state.clone(),
            allow_s_plus: self.allow_s_plus,
            extended_fields: self.extended_fields,
            strict: self.strict,
            ignored_op_filters: self.ignore_op_filter.clone(),
            ..SandboxConfig::default()
        }
    }
}

/// Long help for `gandish sandbox`.
pub const LONG_ABOUT: &str =
    "Serve the Gandi PaaS simulator (the sandbox) over XML-RPC until Ctrl-C or SIGTERM.

The sandbox is a stateful local copy of the Gandi PaaS API: every paas, paas.vhost, operation,
type, datacenter, snapshot and version method, with Gandi's fault codes, operation lifecycle,
dry-run and vhost ownership checks. It serves /xmlrpc/ (also / and /RPC2) and prints its URL and
the key to use on stderr. The default key is the API page's placeholder `my 24-character API
key`, so the page's snippets run against it verbatim.

Control methods (not Gandi's) take the key first: sandbox.ledger, sandbox.zone.set_txt,
sandbox.clock.advance, sandbox.reset, sandbox.stats. The injection flags (--latency, --fail-rate,
--lost-reply-rate, --rate-limit) simulate a slow or failing network for reliability testing.";
