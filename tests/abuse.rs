//! The XML-RPC server under abuse: while hostile clients hold 500 silent connections, trickle
//! headers, send a 1 GiB body, malformed HTTP and XML, deep nesting, entity and gzip bombs and
//! nested multicalls, well-behaved clients keep getting correct answers.
//!
//! The server runs in this test process, so its memory and threads are read from
//! `/proc/self/status` (VmRSS, VmHWM, Threads). Only generous bounds are asserted, never timings;
//! run with `--nocapture` to see the figures.
//!
//! What is served is chosen in one place, [`serve`]: today a small [`Methods`] handler, later the
//! sandbox.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use gandish::xmlrpc::{
    Client, ClientConfig, Fault, Limits, Methods, Server, ServerConfig, Struct, Value, decode_response,
    encode_call, fault_code,
};

/// The tests of this file run one at a time: the /proc figures describe the whole process.
static SERIAL: Mutex<()> = Mutex::new(());

/// The body cap of the server under test.
const MAX_BODY: usize = 1 << 20;

/// Starts the server under test on a free loopback port.
fn serve(config: ServerConfig) -> Server {
    let mut m = Methods::new();
    m.add("add", |params| {
        let mut sum = 0i64;
        for p in &params {
            let n = p.as_i64().ok_or_else(|| Fault::new(fault_code::INVALID_PARAMS, "add takes integers"))?;
            sum = sum.checked_add(n).ok_or_else(|| Fault::new(fault_code::INVALID_PARAMS, "overflow"))?;
        }
        Ok(Value::Int(sum))
    });
    m.add("echo", |params| Ok(Value::Array(params)));
    Server::bind("127.0.0.1:0", Arc::new(m), config).expect("bind 127.0.0.1:0")
}

/// The settings under abuse: the defaults (256 connections), a 1 MiB body cap and a short
/// header timeout so silent and trickling connections are cut quickly.
fn abuse_config() -> ServerConfig {
    ServerConfig {
        limits: Limits { max_depth: 128, max_body: MAX_BODY },
        header_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(5),
        keep_alive_timeout: Duration::from_secs(60),
        max_multicall: 100,
        ..ServerConfig::default()
    }
}

/// Memory and thread figures of this process.
#[derive(Clone, Copy, Debug, Default)]
struct ProcStatus {
    rss_kib: u64,
    hwm_kib: u64,
    threads: u64,
}

fn proc_status() -> ProcStatus {
    let text = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
    };
    ProcStatus { rss_kib: field("VmRSS:"), hwm_kib: field("VmHWM:"), threads: field("Threads:") }
}

/// A connection with generous timeouts, so a stuck server fails the test instead of hanging it.
fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(20)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Sends `request` on a new connection and reads until the server closes it (or 30 s pass);
/// returns the status of the first response and everything read.
fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
    let mut s = connect(addr);
    // The server may answer and close before reading everything (a refused head): ignore write
    // errors and look at what came back.
    let _ = s.write_all(request);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (status_of(&out), out)
}

fn status_of(response: &[u8]) -> u16 {
    std::str::from_utf8(response.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn post(body: &[u8], extra: &str) -> Vec<u8> {
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

/// The XML-RPC answer in a complete HTTP response.
fn xmlrpc_answer(response: &[u8]) -> Result<Value, Fault> {
    let at = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    decode_response(&response[at..]).expect("a well-formed methodResponse")
}

/// A fault answer with `code` whose message contains `needle`.
fn assert_fault(response: &[u8], code: i64, needle: &str) {
    assert_eq!(status_of(response), 200, "{}", String::from_utf8_lossy(response));
    let fault = xmlrpc_answer(response).expect_err("a fault");
    assert_eq!(fault.code, code, "{fault:?}");
    assert!(fault.message.contains(needle), "{fault:?} does not mention {needle:?}");
}

/// Whether the server has closed `s` (end of file or reset), waiting up to 20 s.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 before the close
            Err(e) => {
                return !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut);
            }
        }
    }
}

/// Runs `f` on a scoped thread, counted in `running` while it runs.
fn spawn_attack<'scope, 'env>(
    scope: &'scope thread::Scope<'scope, 'env>,
    running: &'env AtomicUsize,
    f: Box<dyn FnOnce() + Send + 'env>,
) {
    /// Uncounts the attack when it ends, even by a failed assertion.
    struct Done<'a>(&'a AtomicUsize);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    running.fetch_add(1, Ordering::SeqCst);
    scope.spawn(move || {
        let _done = Done(running);
        f();
    });
}

fn multicall_entry(method: &str, params: Vec<Value>) -> Value {
    Value::Struct(Struct::new().with("methodName", method).with("params", Value::Array(params)))
}

/// One good call on `client`, checked: `add(i, 7i)` must be `8i`.
fn good_call(client: &Client, i: i64) {
    let got = client.call("add", &[Value::Int(i), Value::Int(7 * i)]);
    match got {
        Ok(v) => assert_eq!(v, Value::Int(8 * i), "wrong answer to add({i}, {})", 7 * i),
        Err(e) => panic!("a good call failed during the abuse: {e}"),
    }
}

#[test]
fn the_server_keeps_answering_good_clients_under_abuse() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let before = proc_status();
    let config = abuse_config();
    let max_connections = config.max_connections;
    let server = serve(config);
    let addr = server.local_addr();
    let url = server.url("/RPC2");

    let attacks_running = AtomicUsize::new(0);
    let stop_sampling = AtomicBool::new(false);
    let good_calls = AtomicUsize::new(0);
    let peak = Mutex::new((ProcStatus::default(), 0usize)); // (max figures, max server connections)
    let idle_opened = AtomicUsize::new(0);
    let idle_cut = AtomicUsize::new(0);

    thread::scope(|scope| {
        // Sample memory, threads and the server's open connections every 10 ms.
        scope.spawn(|| {
            while !stop_sampling.load(Ordering::SeqCst) {
                let now = proc_status();
                let open = server.stats().connections_open;
                let mut p = peak.lock().unwrap();
                p.0.rss_kib = p.0.rss_kib.max(now.rss_kib);
                p.0.threads = p.0.threads.max(now.threads);
                p.1 = p.1.max(open);
                drop(p);
                thread::sleep(Duration::from_millis(10));
            }
        });

        // Attacks: each counts itself while it runs, so the good clients know when to stop.
        // 500 connections that never send a byte, held open until the server cuts each one (at
        // the header timeout, or earlier to make room for clients that talk).
        spawn_attack(
            scope,
            &attacks_running,
            Box::new(|| {
                let mut held = Vec::new();
                for _ in 0..500 {
                    if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_secs(20)) {
                        held.push(s);
                        idle_opened.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let cut = held.iter_mut().map(closed_by_server).filter(|&c| c).count();
                idle_cut.store(cut, Ordering::SeqCst);
            }),
        );

        // Slowloris: four clients trickling a header byte every 100 ms; each must be cut off
        // (408 or close) long before its 300 bytes are out.
        for _ in 0..4 {
            spawn_attack(
                scope,
                &attacks_running,
                Box::new(|| {
                    let mut s = connect(addr);
                    let head = b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                        .iter()
                        .chain(std::iter::repeat(&b'a'));
                    let mut sent = 0;
                    for &b in head.take(300) {
                        if s.write_all(&[b]).is_err() {
                            break;
                        }
                        sent += 1;
                        thread::sleep(Duration::from_millis(100));
                        // Stop as soon as the server has answered or closed.
                        s.set_nonblocking(true).unwrap();
                        let mut buf = [0u8; 256];
                        let gone = !matches!(s.read(&mut buf), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock);
                        s.set_nonblocking(false).unwrap();
                        if gone {
                            break;
                        }
                    }
                    assert!(sent < 300, "a slowloris client trickled its whole head without being cut off");
                }),
            );
        }

        // A 1 GiB body, declared: the server answers 413 at once and stops reading; the client
        // streams at most 64 MiB and must find the connection closed before that.
        spawn_attack(
            scope,
            &attacks_running,
            Box::new(|| {
                let mut s = connect(addr);
                let head = "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: 1073741824\r\n\r\n";
                s.write_all(head.as_bytes()).unwrap();
                let mut reader = s.try_clone().unwrap();
                let answer = thread::spawn(move || {
                    let mut out = Vec::new();
                    let _ = reader.read_to_end(&mut out);
                    out
                });
                let chunk = vec![b'<'; 64 * 1024];
                let mut streamed = 0usize;
                while streamed < 64 << 20 {
                    if s.write_all(&chunk).is_err() {
                        break;
                    }
                    streamed += chunk.len();
                }
                assert!(streamed < 64 << 20, "the server kept reading a 1 GiB body ({streamed} bytes)");
                let out = answer.join().unwrap();
                assert_eq!(status_of(&out), 413, "{}", String::from_utf8_lossy(&out));
                assert!(String::from_utf8_lossy(&out).contains("1073741824"), "the 413 names the size");
            }),
        );

        // Malformed HTTP.
        spawn_attack(
            scope,
            &attacks_running,
            Box::new(|| {
                let cases: [(&[u8], u16); 6] = [
                    (b"GARBAGE\r\n\r\n", 400),
                    (b"\x00\x01\x02\xff\xfe\r\n\r\n", 400),
                    (b"POST /RPC2 HTTP/1.1\r\nContent-Length: lots\r\n\r\n", 400),
                    (b"POST /RPC2 HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
                    (b"POST /RPC2 HTTP/7.0\r\n\r\n", 505),
                    (
                        b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        411,
                    ),
                ];
                for (request, status) in cases {
                    let (got, out) = exchange(addr, request);
                    assert_eq!(
                        got,
                        status,
                        "{:?} -> {}",
                        String::from_utf8_lossy(request),
                        String::from_utf8_lossy(&out)
                    );
                }
                let huge_head =
                    [b"POST /RPC2 HTTP/1.1\r\nX-Big: ".as_slice(), &vec![b'a'; 64 * 1024], b"\r\n\r\n"]
                        .concat();
                assert_eq!(exchange(addr, &huge_head).0, 431);
            }),
        );

        // Malformed XML, deep nesting, entity bombs, a gzip bomb.
        spawn_attack(
            scope,
            &attacks_running,
            Box::new(|| {
                let (_, out) =
                    exchange(addr, &post(b"<methodCall><methodName>add</methodNam></methodCall>", ""));
                assert_fault(&out, fault_code::PARSE_ERROR, "malformed XML");
                let (_, out) = exchange(addr, &post(b"this is not XML at all", ""));
                assert_fault(&out, fault_code::INVALID_REQUEST, "text outside the root element");
                let (_, out) = exchange(addr, &post(b"<methodCall><params/></methodCall>", ""));
                assert_fault(&out, fault_code::INVALID_REQUEST, "no <methodName>");

                let depth = 20_000;
                let deep = format!(
                    "<methodCall><methodName>echo</methodName><params><param>{}{}</param></params></methodCall>",
                    "<value><array><data>".repeat(depth),
                    "</data></array></value>".repeat(depth)
                );
                assert!(deep.len() < MAX_BODY);
                let (_, out) = exchange(addr, &post(deep.as_bytes(), ""));
                assert_fault(&out, fault_code::INVALID_REQUEST, "nesting deeper than 128");

                let mut bomb =
                    String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
                for i in 1..10 {
                    let prev = if i == 1 { "lol".to_owned() } else { format!("lol{}", i - 1) };
                    bomb.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
                }
                bomb.push_str("]>\n<methodCall><methodName>echo</methodName><params><param><value>&lol9;</value></param></params></methodCall>");
                let (_, out) = exchange(addr, &post(bomb.as_bytes(), ""));
                assert_fault(&out, fault_code::INVALID_REQUEST, "DOCTYPE");
                let undeclared = b"<methodCall><methodName>echo</methodName><params><param><value>&lol9;</value></param></params></methodCall>";
                let (_, out) = exchange(addr, &post(undeclared, ""));
                assert_fault(&out, fault_code::PARSE_ERROR, "&lol9;");

                // 16 MiB of zeros compress to about 16 KiB; decompression stops at the 1 MiB cap.
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                let zeros = vec![0u8; 1 << 20];
                for _ in 0..16 {
                    gz.write_all(&zeros).unwrap();
                }
                let gz = gz.finish().unwrap();
                assert!(gz.len() < MAX_BODY);
                let (status, out) = exchange(addr, &post(&gz, "Content-Encoding: gzip\r\n"));
                assert_eq!(status, 413, "{}", String::from_utf8_lossy(&out));
            }),
        );

        // system.multicall nesting system.multicall, and one over the entry limit.
        spawn_attack(
            scope,
            &attacks_running,
            Box::new(|| {
                let inner = multicall_entry(
                    "system.multicall",
                    vec![Value::Array(vec![multicall_entry("add", vec![1.into()])])],
                );
                let calls = Value::Array(vec![
                    multicall_entry("add", vec![Value::Int(1), Value::Int(2)]),
                    inner,
                    multicall_entry("echo", vec![Value::from("after")]),
                ]);
                let (_, out) = exchange(addr, &post(&encode_call("system.multicall", &[calls]).unwrap(), ""));
                let results = xmlrpc_answer(&out).expect("a multicall result").into_array().unwrap();
                assert_eq!(results.len(), 3);
                assert_eq!(results[0], Value::Array(vec![Value::Int(3)]));
                let nested = Fault::from_value(&results[1]).expect("the nested multicall is a fault entry");
                assert!(nested.message.contains("nested system.multicall is refused"), "{nested:?}");
                assert_eq!(results[2], Value::Array(vec![Value::Array(vec![Value::from("after")])]));

                let many =
                    Value::Array((0..101).map(|i| multicall_entry("add", vec![Value::Int(i)])).collect());
                let (_, out) = exchange(addr, &post(&encode_call("system.multicall", &[many]).unwrap(), ""));
                assert_fault(&out, fault_code::INVALID_PARAMS, "over the limit of 100");
            }),
        );

        // Well-behaved clients, throughout: one on a kept-alive connection, one connecting anew
        // for every call. Each makes at least 20 calls and goes on until every attack is over.
        let good_clients: Vec<_> = [true, false]
            .into_iter()
            .map(|keep_alive| {
                let (url, good_calls, attacks_running) = (&url, &good_calls, &attacks_running);
                scope.spawn(move || {
                    let config = ClientConfig::default().with_timeout(Duration::from_secs(60));
                    let shared = Client::new(url, config.clone()).unwrap();
                    let mut i = 1;
                    while i <= 20 || attacks_running.load(Ordering::SeqCst) > 0 {
                        let client = if keep_alive {
                            shared.clone()
                        } else {
                            Client::new(url, config.clone()).unwrap()
                        };
                        good_call(&client, i);
                        good_calls.fetch_add(1, Ordering::SeqCst);
                        i += 1;
                        // A short pause: the kept-alive connection is idle only briefly, as a
                        // busy client's would be (the server closes the connection idle the
                        // longest when it needs room, which is never this one).
                        thread::sleep(Duration::from_millis(2));
                    }
                })
            })
            .collect();
        for c in good_clients {
            c.join().expect("a good client failed");
        }
        stop_sampling.store(true, Ordering::SeqCst);
    });

    let opened = idle_opened.load(Ordering::SeqCst);
    let cut = idle_cut.load(Ordering::SeqCst);
    let after = proc_status();
    let (peak_figures, peak_open) = *peak.lock().unwrap();
    let stats = server.stats();
    println!(
        "abuse figures: silent connections opened {opened}, cut by the server {cut}; peak server connections {peak_open} \
         (limit {max_connections}); accepted {}; requests {}; good calls {}; \
         VmRSS before {} KiB, peak {} KiB (VmHWM {} KiB), after {} KiB; threads before {}, peak {}, after {}",
        stats.connections_accepted,
        stats.requests,
        good_calls.load(Ordering::SeqCst),
        before.rss_kib,
        peak_figures.rss_kib,
        after.hwm_kib,
        after.rss_kib,
        before.threads,
        peak_figures.threads,
        after.threads,
    );
    // The silent connections: every one was accepted, and the server cut every one.
    assert_eq!(opened, 500, "every silent connection was accepted");
    assert_eq!(cut, 500, "every silent connection was closed by the server");
    assert!(peak_open <= max_connections, "{peak_open} connections open at once");
    assert!(
        // Connection threads, plus the test's own (about 20), plus threads that have freed
        // their slot and are exiting.
        peak_figures.threads <= (max_connections + 128) as u64,
        "{} threads at the peak for a limit of {max_connections} connections",
        peak_figures.threads
    );
    let growth_mib = peak_figures.rss_kib.max(after.hwm_kib).saturating_sub(before.rss_kib) / 1024;
    assert!(growth_mib < 256, "resident memory grew by {growth_mib} MiB");
    server.shutdown();
    let end = proc_status();
    assert!(
        end.threads <= before.threads + 8,
        "threads left behind: {} before, {} after shutdown",
        before.threads,
        end.threads
    );
}

#[test]
fn silent_connections_make_room_for_clients_that_talk() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // A header timeout far longer than the test: the silent connections are never cut by it, so
    // the good clients get through only because silent connections count as idle and the one
    // idle the longest is closed to make room.
    let config = ServerConfig {
        max_connections: 8,
        header_timeout: Duration::from_secs(600),
        keep_alive_timeout: Duration::from_secs(600),
        ..ServerConfig::default()
    };
    let server = serve(config);
    let addr = server.local_addr();
    let url = server.url("/RPC2");
    let silent: Vec<TcpStream> = (0..50).map(|_| connect(addr)).collect();
    let client_config = ClientConfig::default().with_timeout(Duration::from_secs(60));
    let kept = Client::new(&url, client_config.clone()).unwrap();
    for i in 1..=10 {
        good_call(&kept, i);
        good_call(&Client::new(&url, client_config.clone()).unwrap(), i);
    }
    let stats = server.stats();
    assert!(stats.connections_open <= 8, "{stats:?}");
    // Every silent connection was admitted at some point, and the oldest ones were closed.
    assert!(stats.connections_accepted >= 50, "{stats:?}");
    let mut first = silent.into_iter().next().unwrap();
    assert!(closed_by_server(&mut first), "the connection silent the longest is still open");
}
