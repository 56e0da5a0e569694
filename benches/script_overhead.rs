//! The cost of the script layer: 10,000 `paas::info` calls from a script loop against the
//! in-process sandbox (no added latency), next to the same calls through the typed client.
//!
//! `cargo bench --bench script_overhead` prints the time per call of each and the overhead.
//! Rounds alternate between the two so that machine noise hits both alike; the medians are
//! compared. Wall time includes the sandbox's work and the scheduler's noise, so the CPU time of
//! the calling thread (Linux, from `/proc/thread-self/stat`) is reported as well: it counts only
//! what the caller spends (encoding, HTTP, decoding, and for the script the engine and the
//! conversion into maps), which is where the script layer's cost lies.

use std::time::{Duration, Instant};

use gandish::Runtime;
use gandish::gandi::Gandi;
use gandish::sandbox::{Dataset, SandboxConfig, start};
use gandish::xmlrpc::ClientConfig;

const CALLS: i64 = 10_000;
const ROUNDS: usize = 9;

/// Clock ticks per second for `/proc` times (`getconf CLK_TCK`, usually 100).
fn clock_ticks() -> Option<f64> {
    let out = std::process::Command::new("getconf").arg("CLK_TCK").output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// CPU time (user + system) of the calling thread, if the platform tells it.
fn thread_cpu(ticks: Option<f64>) -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some(Duration::from_secs_f64((utime + stime) / ticks?))
}

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

    let ticks = clock_ticks();
    let cpu = || thread_cpu(ticks);
    let script = || {
        let (t, c) = (Instant::now(), cpu());
        let n = rt.run_ast(&ast).unwrap().as_int().unwrap();
        assert_eq!(n, CALLS);
        rt.clear_calls();
        (t.elapsed(), cpu().zip(c).map(|(a, b)| a - b))
    };
    let typed = || {
        let (t, c) = (Instant::now(), cpu());
        let mut n = 0;
        for _ in 0..CALLS {
            n += gandi.paas_info(1).unwrap().id;
        }
        assert_eq!(n, CALLS);
        (t.elapsed(), cpu().zip(c).map(|(a, b)| a - b))
    };
    let raw = || {
        let (t, c) = (Instant::now(), cpu());
        for _ in 0..CALLS {
            let v = gandi.call("paas.info", vec![1.into()]).unwrap();
            assert!(v.get("id").is_some());
        }
        (t.elapsed(), cpu().zip(c).map(|(a, b)| a - b))
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
    let wall = |v: &[(Duration, Option<Duration>)]| v.iter().map(|x| x.0).collect::<Vec<_>>();
    let cpus = |v: &[(Duration, Option<Duration>)]| v.iter().map(|x| x.1).collect::<Option<Vec<_>>>();
    let show =
        |v: &[Duration]| v.iter().map(|d| format!("{:.0}", per_call(*d))).collect::<Vec<_>>().join(" ");
    println!("{CALLS} paas.info calls per round, {ROUNDS} rounds, median µs per call:");
    let (sw, tw, rw) = (wall(&s), wall(&t), wall(&r));
    println!("  wall  rounds: script [{}] typed [{}] raw [{}]", show(&sw), show(&tw), show(&rw));
    let (sw, tw, rw) = (median(sw), median(tw), median(rw));
    println!(
        "  wall  typed {:7.1}  raw {:7.1}  script {:7.1}  script overhead vs typed {:+.1} %",
        per_call(tw),
        per_call(rw),
        per_call(sw),
        (sw.as_secs_f64() / tw.as_secs_f64() - 1.0) * 100.0
    );
    if let (Some(sc), Some(tc), Some(rc)) = (cpus(&s), cpus(&t), cpus(&r)) {
        let (sc, tc, rc) = (median(sc), median(tc), median(rc));
        println!(
            "  cpu   typed {:7.1}  raw {:7.1}  script {:7.1}  script overhead vs typed {:+.1} %",
            per_call(tc),
            per_call(rc),
            per_call(sc),
            (sc.as_secs_f64() / tc.as_secs_f64() - 1.0) * 100.0
        );
    }
    sandbox.shutdown();
}
