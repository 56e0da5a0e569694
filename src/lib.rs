//! gandish: a scripting runtime for the Gandi PaaS (Simple Hosting) XML-RPC API.
//!
//! The crate is layered, and the arrows point one way:
//! - [`xmlrpc`]: the XML-RPC value model, codec, blocking client and server (depends on nothing else);
//! - [`gandi`]: the typed Gandi PaaS client (depends on `xmlrpc`);
//! - [`sandbox`]: a stateful Gandi PaaS simulator served over XML-RPC (depends on `xmlrpc`);
//! - [`script`]: the Rhai runtime: script modules over `gandi`, dates, limits, dry-run plans, and
//!   the embedding API [`Runtime`] (depends on `gandi` and `xmlrpc`);
//! - [`cli`]: the command-line front ends.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod gandi;
pub mod sandbox;
pub mod script;
pub mod xmlrpc;

pub use script::Runtime;
