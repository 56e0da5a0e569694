//! A tokio service that embeds gandish: scripts and typed calls run on tokio's blocking pool
//! (`spawn_blocking`), since gandish's client and runtime are blocking by design, and one run is
//! cancelled when it takes too long.
//!
//! Cost: each run ([`Runtime::eval_with_token`] and friends) starts one thread with the
//! runtime's stack size (the script's own, so a deep script cannot overflow a tokio worker), and
//! one `Runtime` is shared by every task (`Arc`), with its connection pool and rate limit. A
//! typed call is one blocking HTTP exchange. Nothing blocks a tokio worker thread.
//!
//! Run it: `cargo run --example tokio_host`.

use std::sync::Arc;
use std::time::Duration;

use gandish::Runtime;
use gandish::gandi::Gandi;
use gandish::sandbox::{Dataset, SandboxConfig, start};
use gandish::script::Error;
use gandish::xmlrpc::{ClientConfig, Struct};

/// What the service saw.
#[derive(Debug)]
pub struct Outcome {
    /// Instances counted by a typed call.
    pub typed_count: i64,
    /// Instances counted by each of the quick scripts.
    pub script_counts: Vec<i64>,
    /// Whether the slow script was stopped by its timeout (and not by anything else).
    pub slow_cancelled: bool,
}

/// Starts a sandbox, serves a few requests from a tokio runtime, and stops.
pub fn run() -> Result<Outcome, Box<dyn std::error::Error>> {
    let sandbox = start(SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: Dataset::Demo,
        op_seconds: 0,
        ..SandboxConfig::default()
    })?;
    let (url, key) = (sandbox.url(), sandbox.api_key().to_string());
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build()?;
    let outcome = tokio.block_on(async {
        let rt = Arc::new(Runtime::builder().endpoint(&url).key(key.as_str()).build()?);
        let gandi = Gandi::new(&url, key.as_str(), ClientConfig::default())?;

        // A typed call.
        let typed_count = tokio::task::spawn_blocking(move || gandi.paas_count(&Struct::new())).await??;

        // Several scripts at once, on one runtime.
        let quick: Vec<_> = (0..4)
            .map(|_| {
                let rt = rt.clone();
                let token = rt.run_token();
                tokio::task::spawn_blocking(move || {
                    rt.eval_with_token(&mut Default::default(), "paas::count()", &token)
                })
            })
            .collect();
        let mut script_counts = Vec::new();
        for task in quick {
            script_counts.push(task.await??.as_int().map_err(|t| format!("a count is a {t}"))?);
        }

        // A run that never ends on its own, given 200 ms: its token stops it, and only it.
        let token = rt.run_token();
        let slow = {
            let (rt, token) = (rt.clone(), token.clone());
            tokio::task::spawn_blocking(move || {
                rt.eval_with_token(&mut Default::default(), "loop { paas::count(); }", &token)
            })
        };
        let mut slow = Box::pin(slow);
        let slow_cancelled = match tokio::time::timeout(Duration::from_millis(200), &mut slow).await {
            Ok(done) => return Err(format!("the endless script ended by itself: {:?}", done?).into()),
            Err(_elapsed) => {
                token.cancel();
                matches!(slow.await?, Err(Error::Cancelled { .. }))
            }
        };
        Ok::<_, Box<dyn std::error::Error>>(Outcome { typed_count, script_counts, slow_cancelled })
    });
    sandbox.shutdown();
    outcome
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = run()?;
    println!(
        "typed count {}, script counts {:?}, slow run cancelled: {}",
        o.typed_count, o.script_counts, o.slow_cancelled
    );
    Ok(())
}
