//! The cost of the script layer: 10,000 `paas::info` calls from a script loop against the
//! in-process sandbox (no added latency), next to the same calls through the typed client.
//!
//! `cargo bench --bench script_overhead` prints the time per call of each and the overhead.
//! Rounds alternate between the two so that machine noise hits both alike; the medians are
//! compared.

use std::time::{Duration, Instant};

use gandish::Runtime;
use gandish::gandi::Gandi;
use gandish::sandbox::{Dataset, SandboxConfig, start};
use gandish::xmlrpc::ClientConfig;

const CALLS: i64 = 10_000;
const ROUNDS: usize = 9;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn per_call(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6 / CALLS as f64
}

fn main() {
    let sandbox = start(SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: Dataset::Seed,
        op_seconds: 0,
        latency_ms: 0,
        ..SandboxConfig::default()
    })
    .expect("sandbox starts");
    let gandi = Gandi::new(&sandbox.url(), sandbox.api_key(), ClientConfig::default()).unwrap();
    let rt = Runtime::builder().gandi(gandi.clone()).build().unwrap();
    let ast = rt
        .compile(&format!("let n = 0; for i in 0..{CALLS} {{ let p = paas::info(1); n += p.id }} n"))
        .unwrap();

    let script = || {
        let t = Instant::now();
        let n = rt.run_ast(&ast).unwrap().as_int().unwrap();
        assert_eq!(n, CALLS);
        rt.clear_calls();
        t.elapsed()
    };
    let typed = || {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..CALLS {
            n += gandi.paas_info(1).unwrap().id;
        }
        assert_eq!(n, CALLS);
        t.elapsed()
    };
    let raw = || {
        let t = Instant::now();
        for _ in 0..CALLS {
            let v = gandi.call("paas.info", vec![1.into()]).unwrap();
            assert!(v.get("id").is_some());
        }
        t.elapsed()
    };

    // Warm up connections and caches.
    script();
    typed();
    let (mut s, mut t, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        s.push(script());
        t.push(typed());
        r.push(raw());
    }
    let show =
        |v: &[Duration]| v.iter().map(|d| format!("{:.0}", per_call(*d))).collect::<Vec<_>>().join(" ");
    println!("rounds (µs/call): script [{}] typed [{}] raw [{}]", show(&s), show(&t), show(&r));
    let (s, t, r) = (median(s), median(t), median(r));
    println!("{CALLS} paas.info calls, median of {ROUNDS} rounds:");
    println!("  typed client (Gandi::paas_info):  {:8.1} µs/call", per_call(t));
    println!("  raw client (Gandi::call):         {:8.1} µs/call", per_call(r));
    println!("  script loop (paas::info):         {:8.1} µs/call", per_call(s));
    println!(
        "  script overhead vs typed client:  {:+.1} %",
        (s.as_secs_f64() / t.as_secs_f64() - 1.0) * 100.0
    );
    sandbox.shutdown();
}
