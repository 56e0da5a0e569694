//! gandish: a scripting runtime for the Gandi PaaS (Simple Hosting) XML-RPC API.
//!
//! The crate is layered, and the arrows point one way:
//! - [`xmlrpc`]: the XML-RPC value model, codec, blocking client and server (depends on nothing else);
//! - [`cli`]: the command-line front ends.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod script;
pub mod xmlrpc;
