//! Helpers shared by the areas: the binary run fluently (`cmd`), a sandbox for scripts (`script`), the sandbox over raw XML-RPC
//! (`sandbox`), and a terminal driven through tmux (`term`).

pub mod cmd;
pub mod sandbox;
pub mod script;
pub mod term;

use gandish::sandbox::{ClockMode, Dataset, RunningSandbox, SandboxConfig, start};

/// The tests' frozen start: 2024-01-15T12:00:00 UTC (January: no DST change in the months after).
pub const T0: i64 = 1_705_320_000;

/// The seed's world on a clock frozen at [`T0`], operations applied at once, adjusted by `f`,
/// served on a free loopback port.
pub fn frozen_seed_sandbox(f: impl FnOnce(&mut SandboxConfig)) -> RunningSandbox {
    let mut cfg = SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: Dataset::Seed,
        op_seconds: 0,
        clock: ClockMode::Fixed(T0),
        ..SandboxConfig::default()
    };
    f(&mut cfg);
    start(cfg).expect("the sandbox starts")
}
