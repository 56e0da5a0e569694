//! A server nobody uses costs no wake-ups: with no connection open, the event loop's monitor
//! thread sleeps until one arrives (its own test binary, so that no other test's server runs in
//! this process). Linux only: elsewhere the server has no event loop.
#![cfg(target_os = "linux")]

use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gandish::xmlrpc::{Methods, Server, ServerConfig, Value};

/// The voluntary context switches (wake-ups after sleeping) of this process's thread named
/// `name`, which must be unique.
fn wakeups_of(name: &str) -> u64 {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        if std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.trim() == name) {
            let status = std::fs::read_to_string(dir.join("status")).unwrap();
            let line = status.lines().find(|l| l.starts_with("voluntary_ctxt_switches:")).unwrap();
            found.push(line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap());
        }
    }
    assert_eq!(found.len(), 1, "expected one thread named {name}");
    found[0]
}

#[test]
fn an_idle_server_does_not_wake_up_and_wakes_for_a_connection() {
    let mut m = Methods::new();
    m.add("ping", |_| Ok(Value::from("pong")));
    let config = ServerConfig { header_timeout: Duration::from_millis(300), ..ServerConfig::default() };
    let server = Server::bind("127.0.0.1:0", Arc::new(m), config).unwrap();
    thread::sleep(Duration::from_millis(100));
    let before = wakeups_of("xmlrpc-monitor");
    thread::sleep(Duration::from_millis(600));
    let idle = wakeups_of("xmlrpc-monitor") - before;
    // A 50 ms tick would be about 12 wake-ups here.
    assert!(idle <= 2, "the monitor of an unused server woke {idle} times in 600 ms");

    // A connection that never sends a byte is still closed after header_timeout: the monitor
    // woke up for it.
    let mut silent = TcpStream::connect(server.local_addr()).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 1];
    let n =
        std::io::Read::read(&mut silent, &mut buf).expect("closed by the server, not by the safety timeout");
    assert_eq!(n, 0);
    server.shutdown();
}
