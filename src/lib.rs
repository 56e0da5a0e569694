//! gandish: a scripting runtime for the Gandi PaaS (Simple Hosting) XML-RPC API.
//!
//! The crate is layered, and the arrows point one way:
//! - [`xmlrpc`]: the XML-RPC value model, codec, blocking client and server (depends on nothing else);
//! - [`gandi`]: the typed Gandi PaaS client (depends on `xmlrpc`);
//! - [`sandbox`]: a stateful Gandi PaaS simulator served over XML-RPC (depends on `xmlrpc`);
//! - [`script`]: the Rhai runtime: script modules over `gandi`, dates, limits, dry-run plans, and
//!   the embedding API [`Runtime`] (depends on `gandi` and `xmlrpc`);
//! - [`cli`]: the command-line front ends.
//!
//! # Running a script
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
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod gandi;
pub mod sandbox;
pub mod script;
pub mod xmlrpc;

pub use script::Runtime;
