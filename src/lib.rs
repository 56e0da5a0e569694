//! gandish: a scripting runtime for the Gandi PaaS (Simple Hosting) XML-RPC API.
//!
//! The crate is layered, and the arrows point one way:
//! - [`xmlrpc`]: the XML-RPC value model, codec, blocking client and server (depends on nothing else);
//! - [`gandi`]: the typed Gandi PaaS client (depends on `xmlrpc`);
//! - `calendar`: the zone model and month arithmetic that `sandbox` and `script` share, on jiff
//!   (depends on `xmlrpc`; with either feature);
//! - [`sandbox`]: a stateful Gandi PaaS simulator served over XML-RPC (depends on `xmlrpc`);
//! - [`script`]: the Rhai runtime: script modules over `gandi`, dates, limits, dry-run plans, and
//!   the embedding API [`Runtime`] (depends on `gandi` and `xmlrpc`);
//! - `cli`: the command-line front ends (the binary's; not part of the library's API).
//!
//! # Features
//!
//! | feature | what it adds | on by default |
//! |---|---|---|
//! | `cli` | the `gandish` binary and its front ends (implies `script` and `sandbox`) | yes |
//! | `script` | the Rhai runtime: [`script`], [`Runtime`], and `pub use rhai` | with `cli` |
//! | `sandbox` | the Gandi PaaS simulator ([`sandbox`]; implies `server`) | with `cli` |
//! | `server` | the XML-RPC server (`xmlrpc::server`) | with `sandbox` |
//!
//! With `default-features = false` a host gets the XML-RPC core ([`xmlrpc`]: values, codec,
//! client) and the typed Gandi client ([`gandi`], with the bulk engine). Add `script` to run
//! scripts, and `sandbox` to test against the simulator:
//!
//! ```toml
//! gandish = { version = "0.1", default-features = false, features = ["script"] }
//! ```
//!
//! # Running a script (features `script` and `sandbox`)
//!
//! [`Runtime`] runs Rhai scripts against the API. Here it talks to the bundled sandbox, started
//! in-process; against Gandi, pass `https://rpc.gandi.net/xmlrpc/` (the default) and your key.
//!
//! ```
//! use gandish::Runtime;
//! use gandish::sandbox::{Dataset, SandboxConfig, start};
//!
//! let sandbox = start(SandboxConfig {
//!     listen: "127.0.0.1:0".into(),
//!     dataset: Dataset::Seed,
//!     op_seconds: 0,
//!     ..SandboxConfig::default()
//! })?;
//! let mut rt = Runtime::builder().endpoint(sandbox.url()).key(sandbox.api_key()).build()?;
//!
//! // The host can add its own functions before running scripts.
//! rt.engine_mut().register_fn("threshold", || 30_i64);
//!
//! let renewed = rt.eval(r#"
//!     let n = 0;
//!     for p in paas::list(#{state: "running"}) {
//!         if p.date_end.days_until() < threshold() { op::wait(paas::renew(p, "12m")); n += 1 }
//!     }
//!     n
//! "#)?;
//! assert_eq!(renewed.as_int().unwrap(), 1);
//!
//! // Dry-run: changes are planned, not sent.
//! rt.set_dry_run(true);
//! rt.eval(r#"paas::delete(1)"#)?;
//! assert_eq!(rt.plan()[0].summary, "delete instance 1");
//!
//! // A Gandi fault is catchable in the script, and reported with its line otherwise.
//! let err = rt.eval("let x = 1;\npaas::info(999)").unwrap_err();
//! assert_eq!(err.line(), Some(2));
//! sandbox.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Hosts
//!
//! One [`Runtime`] serves many runs at once from many threads (it is `Send + Sync`; share it in
//! an `Arc`). Each run gets its own thread, so a run never blocks its caller's executor, and a
//! run can be stopped alone with a [`script::RunToken`] (the runtime-wide
//! [`script::CancelHandle`] stops them all and cuts off the calls in flight). An async host runs
//! scripts and typed calls on its blocking pool: `examples/tokio_host.rs` does it with tokio's
//! `spawn_blocking` and cancels a run on a timeout; `examples/embed.rs` adds a host function.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The binary's, and public only so `main.rs` can reach it: hidden, outside the semver promise,
// and its docs (which link to its private parts) are not checked as the library's.
#[cfg(any(feature = "script", feature = "sandbox"))]
pub mod calendar;
#[cfg(feature = "cli")]
#[doc(hidden)]
#[allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)]
pub mod cli;
pub mod gandi;
mod rng;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "script")]
pub mod script;
mod sync;
pub mod xmlrpc;

/// The Rhai version scripts run on, so a host names `Scope`, `Dynamic` or `Engine` without a
/// `rhai` dependency of its own to keep in step.
#[cfg(feature = "script")]
pub use rhai;
#[cfg(feature = "script")]
pub use script::Runtime;
