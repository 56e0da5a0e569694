//! Runs the sandbox with the `gandish sandbox` flags (`src/cli/sandbox.rs`), for tests that need
//! it in a child process (e.g. `kill -9`) until the CLI wires `gandish sandbox` itself.
//!
//! `cargo run --example sandbox -- --dataset seed --listen 127.0.0.1:0`

use std::process::ExitCode;

use clap::Parser;
// `src/cli/sandbox.rs` names `crate::sandbox`; this import provides it here.
use gandish::sandbox;

#[path = "../src/cli/sandbox.rs"]
mod cli_sandbox;

/// Serves the Gandi PaaS sandbox.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: cli_sandbox::SandboxArgs,
}

fn main() -> ExitCode {
    cli_sandbox::run(Cli::parse().args)
}
