//! The hooks a host gives [`RuntimeBuilder`](super::RuntimeBuilder): where `print` and
//! `debug` go, and what API calls, waits and bulk runs report. A leaf, so that the runtime's
//! façade and its shared state both use it without importing each other.

use std::sync::Arc;

use rhai::Position;

/// Where `print` output goes.
pub type PrintHook = Arc<dyn Fn(&str) + Send + Sync>;
/// Where `debug` output goes: the text, the script's source (file) and the position.
pub type DebugHook = Arc<dyn Fn(&str, Option<&str>, Position) + Send + Sync>;
/// Told about every API call after it ends (method, params with the key redacted, duration,
/// bytes, outcome), e.g. for a `--trace` log.
pub type CallHook = crate::gandi::CallHook;
/// Told what `op::wait` is doing, e.g. to draw a progress bar.
pub type WaitHook = Arc<dyn Fn(WaitEvent<'_>) + Send + Sync>;

/// What `op::wait` reports to a [`WaitHook`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum WaitEvent<'a> {
    /// A wait for these operation ids begins.
    Started(&'a [i64]),
    /// An operation was polled (after each tick of the tracker).
    Polled(&'a crate::gandi::Operation),
    /// The wait ended (done, failed, timed out or cancelled).
    Finished,
}

/// Told about the progress of `bulk::run` (from its worker threads), e.g. to draw a progress bar.
pub type BulkHook = Arc<dyn Fn(&crate::gandi::bulk::Event<'_>) + Send + Sync>;
