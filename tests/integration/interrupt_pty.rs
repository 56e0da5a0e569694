//! Ctrl-C stops at once (tmux): against a sandbox answering each call after 3 s, Ctrl-C during
//! `eval` exits 130 before the reply comes, printing no result; in the REPL it abandons the call
//! and the REPL goes on; an interrupted `std/renew` says what it applied and what was pending,
//! and the rerun finishes with each renewal applied once.
//!
//! A relay between gandish and the sandbox sees every request and tells whether gandish closed
//! its connection before the reply came: that, not a stopwatch, shows the call was cut off.

use crate::support::term;

use crate::bulk_common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

use bulk_common::{Env, env, temp_path};
use gandish::sandbox::ClockMode;
use term::Term;

/// What the relay saw on one connection.
#[derive(Clone, Debug, Default)]
struct Exchange {
    /// The request bytes gandish sent.
    request: Vec<u8>,
    /// Whether the sandbox's reply reached the relay.
    replied: bool,
    /// Whether gandish closed the connection before the reply reached the relay.
    closed_before_reply: bool,
}

/// A TCP relay on 127.0.0.1 in front of `upstream`, recording each connection.
struct Relay {
    port: u16,
    seen: Arc<Mutex<Vec<Arc<Mutex<Exchange>>>>>,
}

impl Relay {
    fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Arc<Mutex<Exchange>>>>> = Arc::default();
        let log = seen.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let ex = Arc::new(Mutex::new(Exchange::default()));
                log.lock().unwrap().push(ex.clone());
                let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = ex.clone();
                thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match c_in.read(&mut buf) {
                            Ok(0) | Err(_) => {
                                let mut e = up.lock().unwrap();
                                if !e.replied {
                                    e.closed_before_reply = true;
                                }
                                // The sandbox is left to answer, to show the answer is not shown.
                                return;
                            }
                            Ok(n) => {
                                up.lock().unwrap().request.extend_from_slice(&buf[..n]);
                                if s_out.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
                let (mut s_in, mut c_out) = (server, client);
                thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match s_in.read(&mut buf) {
                            Ok(0) | Err(_) => {
                                let _ = c_out.shutdown(Shutdown::Write);
                                return;
                            }
                            Ok(n) => {
                                ex.lock().unwrap().replied = true;
                                if c_out.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Relay { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/xmlrpc/", self.port)
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.seen.lock().unwrap().iter().map(|e| e.lock().unwrap().clone()).collect()
    }

    /// The exchanges whose request calls `method`.
    fn calls(&self, method: &str) -> Vec<Exchange> {
        let needle = format!("<methodName>{method}</methodName>");
        self.exchanges()
            .into_iter()
            .filter(|e| String::from_utf8_lossy(&e.request).contains(&needle))
            .collect()
    }

    /// Polls until a request for `method` has fully arrived (the whole XML body), up to the
    /// terminal's patience.
    fn wait_for_call(&self, t: &Term, method: &str) {
        t.wait_for(&format!("a {method} request at the sandbox"), |_| {
            self.calls(method).iter().any(|e| String::from_utf8_lossy(&e.request).contains("</methodCall>"))
        });
    }
}

/// A sandbox answering every call after 3 s, behind a relay.
fn slow(instances: usize) -> (Env, Relay) {
    let env = env(instances, |c| {
        c.clock = ClockMode::System;
        c.latency_ms = 3000;
    });
    let addr = env.sandbox.as_ref().unwrap().local_addr();
    (env, Relay::start(addr))
}

fn history() -> PathBuf {
    std::env::temp_dir().join(format!("gandish-interrupt-pty-{}", std::process::id()))
}

fn term(url: &str, key: &str, args: &[&str]) -> Term {
    let mut argv = vec!["--url", url, "--api-key", key];
    argv.extend(args);
    Term::command(&history(), &argv)
}

#[test]
fn ctrl_c_during_eval_cuts_the_call_off_and_exits_130_with_no_result() {
    let (env, relay) = slow(0);
    let t = term(&relay.url(), &env.key, &["eval", "paas::count() + 1000"]);
    relay.wait_for_call(&t, "paas.count");
    t.keys(&["C-c"]);
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(screen.contains("interrupted") && screen.contains("[exited 130]"), "{screen}");
    let count = relay.calls("paas.count");
    assert_eq!(count.len(), 1, "one call, not retried");
    assert!(count[0].closed_before_reply, "gandish closed the connection before the reply: {count:?}");
    assert!(
        !screen.lines().any(|l| l.trim().parse::<i64>().is_ok_and(|n| n >= 1000)),
        "no result:\n{screen}"
    );
}

#[test]
fn ctrl_c_in_the_repl_abandons_the_call_and_the_repl_goes_on() {
    let (env, relay) = slow(0);
    let url = relay.url();
    let t = Term::start_with(&history(), &["--url", &url, "--api-key", &env.key]);
    t.at_prompt();
    t.line("paas::count() + 1000");
    relay.wait_for_call(&t, "paas.count");
    t.keys(&["C-c"]);
    t.wait_for("the cancellation", |s| s.contains("cancelled"));
    t.at_prompt();
    // The sandbox's reply comes after the call was abandoned: it never reaches the screen.
    t.wait_for("the sandbox to have answered", |_| relay.calls("paas.count")[0].replied);
    t.entry("40 + 2");
    let screen = t.wait_for("the REPL to answer", |s| s.lines().any(|l| l.trim() == "42"));
    assert!(
        !screen.lines().any(|l| l.trim().parse::<i64>().is_ok_and(|n| n >= 1000)),
        "no result:\n{screen}"
    );
    assert!(relay.calls("paas.count")[0].closed_before_reply, "the call was cut off");
    // Calls work again after an interruption.
    t.line("paas::count() + 1000");
    t.wait_for("the next call's answer", |s| s.lines().any(|l| l.trim() == "1000"));
    assert_eq!(relay.calls("paas.count").len(), 2);
}

#[test]
fn an_interrupted_renew_prints_its_summary_and_the_rerun_applies_each_renewal_once() {
    let (env, relay) = slow(40);
    let (due, _) = env.split_by_window_now(30);
    assert!(due.len() >= 3, "{} due", due.len());
    let journal = temp_path("interrupted-renew");
    let j = format!("journal={}", journal.display());
    let args = ["--yes", "run", "std/renew", "parallel=2", "rate=0", "settle_ms=0", &j];
    let t = term(&relay.url(), &env.key, &args);
    relay.wait_for_call(&t, "paas.renew");
    t.keys(&["C-c"]);
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(screen.contains("[exited 130]") && screen.contains("interrupted"), "{screen}");
    assert!(
        screen.contains(&format!("of {}", due.len())) && screen.contains("renew: "),
        "the summary:\n{screen}"
    );
    assert!(screen.contains("run the same command again to finish"), "{screen}");
    let cut = relay.calls("paas.renew");
    assert!(cut.iter().any(|e| e.closed_before_reply), "a renewal was cut off in flight: {cut:?}");
    drop(t);

    // The rerun, straight to the sandbox: every due instance renewed exactly once in all (the
    // cut-off renewals were applied by the sandbox, and are not sent again).
    let o = env.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let counts = env.ledger_counts("paas_vm_renew");
    for id in &due {
        assert_eq!(counts.get(id), Some(&1), "instance {id}: renewed {:?} times", counts.get(id));
    }
    assert_eq!(counts.len(), due.len());
}
