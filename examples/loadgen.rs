//! A small closed-loop HTTP load generator for XML-RPC servers, used by
//! `benches/sandbox_vs_python.py`.
//!
//! It posts one fixed XML-RPC request body over `--connections` keep-alive connections, one
//! thread each, each sending its next call as soon as the previous reply is in, for a fixed time
//! (`--seconds`) or a fixed number of calls per connection (`--calls`), whichever comes first,
//! and prints one JSON line with the figures.
//!
//! It is cheap per call on purpose, so the server is what gets measured: it never decodes the
//! replies during the timed phase. Correctness is still checked:
//! - before timing, one call is decoded with gandish's XML-RPC decoder and must not be a fault;
//! - during timing, every reply must be HTTP 200 and byte-identical to that first reply (the
//!   benchmark serves fixed data; in a gzip reply the header's timestamp may differ); any other
//!   reply is counted and makes the run fail (exit 1).
//!
//! A server that answers with `Connection: close` or HTTP/1.0 (Python's stock
//! `SimpleXMLRPCServer`) is reconnected to for the next call; reconnections are counted.
//!
//! ```text
//! loadgen --url http://127.0.0.1:PORT/RPC2 --body-file call.xml --connections 8 --seconds 5
//! ```

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use gandish::xmlrpc::{Limits, decode_response_with};

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "Closed-loop XML-RPC load generator (keep-alive, one thread per connection)")]
struct Opts {
    /// Server URL, `http://HOST:PORT/PATH` (loopback or any plain-HTTP address).
    #[arg(long)]
    url: String,
    /// File holding the XML-RPC request body to post on every call.
    #[arg(long)]
    body_file: PathBuf,
    /// Concurrent connections (one thread each).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Length of the timed phase, in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Stop each connection after this many calls even if time remains.
    #[arg(long)]
    calls: Option<u64>,
    /// Untimed warm-up, in seconds, on the same connections before the timed phase.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Send `Accept-Encoding: gzip` (servers then compress large replies).
    #[arg(long)]
    gzip: bool,
    /// Give up on a reply that takes longer than this many seconds.
    #[arg(long, default_value_t = 30.0)]
    io_timeout: f64,
}

/// A problem that stops the run.
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// What the target looks like.
struct Target {
    addr: SocketAddr,
    request: Vec<u8>,
    io_timeout: Duration,
}

/// One reply as read off the wire.
struct Reply {
    status: u16,
    /// Whether the server will close the connection after it.
    closes: bool,
    gzip: bool,
}

/// A keep-alive connection with a reusable read buffer.
struct Conn {
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    body: Vec<u8>,
    reconnects: u64,
}

impl Conn {
    fn new() -> Self {
        Conn { stream: None, buf: Vec::with_capacity(64 * 1024), body: Vec::new(), reconnects: 0 }
    }

    /// Posts the request and reads the reply into `self.body`.
    fn call(&mut self, t: &Target) -> Result<Reply, Failure> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&t.addr, t.io_timeout)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(t.io_timeout))?;
            s.set_write_timeout(Some(t.io_timeout))?;
            self.stream = Some(s);
            self.buf.clear();
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(&t.request)?;
        let reply = read_reply(stream, &mut self.buf, &mut self.body)?;
        if reply.closes {
            self.stream = None;
            self.reconnects += 1;
        }
        Ok(reply)
    }
}

/// Reads one HTTP response (head, then a `Content-Length` body) from `stream`. `buf` keeps bytes
/// read past the end of this response (there are none with a closed loop, but be safe).
fn read_reply(stream: &mut TcpStream, buf: &mut Vec<u8>, body: &mut Vec<u8>) -> Result<Reply, Failure> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(Failure("reply head larger than 64 KiB".into()));
        }
        fill(stream, buf)?;
    };
    let head =
        std::str::from_utf8(&buf[..head_end]).map_err(|_| Failure("reply head is not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure(format!("bad status line {status_line:?}")))?;
    let mut len: Option<usize> = None;
    let mut closes = version != "HTTP/1.1";
    let mut gzip = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            len = Some(value.parse().map_err(|_| Failure(format!("bad Content-Length {value:?}")))?);
        } else if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                closes = true;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                closes = false;
            }
        } else if name.eq_ignore_ascii_case("content-encoding") {
            gzip = value.eq_ignore_ascii_case("gzip");
        }
    }
    let len = len.ok_or_else(|| Failure(format!("reply without Content-Length (status {status})")))?;
    body.clear();
    let have = (buf.len() - head_end).min(len);
    body.extend_from_slice(&buf[head_end..head_end + have]);
    buf.drain(..head_end + have);
    if body.len() < len {
        let old = body.len();
        body.resize(len, 0);
        stream.read_exact(&mut body[old..])?;
    }
    Ok(Reply { status, closes, gzip })
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), Failure> {
    let old = buf.len();
    buf.resize(old + 16 * 1024, 0);
    let n = match stream.read(&mut buf[old..]) {
        Ok(n) => n,
        Err(e) => {
            buf.truncate(old);
            return Err(e.into());
        }
    };
    buf.truncate(old + n);
    if n == 0 {
        return Err(Failure("server closed the connection before replying".into()));
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses `http://host:port/path` into a socket address and the path.
fn parse_url(url: &str) -> Result<(SocketAddr, String, String), Failure> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Failure(format!("--url {url:?}: only http:// URLs are supported")))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| Failure(format!("--url {url:?}: {e}")))?
        .next()
        .ok_or_else(|| Failure(format!("--url {url:?}: no address")))?;
    Ok((addr, hostport.to_owned(), path.to_owned()))
}

/// Per-connection results of the timed phase.
#[derive(Default)]
struct Tally {
    warmup_calls: u64,
    calls: u64,
    bad: u64,
    first_bad: Option<String>,
    reconnects: u64,
    /// Per-call latencies in microseconds.
    latencies: Vec<u32>,
}

fn worker(
    t: &Target,
    reference: &[u8],
    warm_until: Instant,
    stop: &AtomicBool,
    max_calls: Option<u64>,
) -> Tally {
    let mut conn = Conn::new();
    let mut tally = Tally::default();
    while Instant::now() < warm_until && !stop.load(Ordering::Relaxed) {
        if let Err(e) = conn.call(t) {
            tally.bad += 1;
            tally.first_bad = Some(format!("warm-up: {}", e.0));
            return tally;
        }
        tally.warmup_calls += 1;
    }
    conn.reconnects = 0;
    while !stop.load(Ordering::Relaxed) && max_calls.is_none_or(|m| tally.calls < m) {
        let started = Instant::now();
        let result = conn.call(t);
        let micros = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        tally.calls += 1;
        tally.latencies.push(micros);
        let problem = match result {
            Ok(r) if r.status == 200 && same_reply(&conn.body, reference, r.gzip) => None,
            Ok(r) if r.status != 200 => Some(format!("HTTP status {}", r.status)),
            Ok(_) => Some(format!("reply differs from the first one ({} bytes)", conn.body.len())),
            Err(e) => {
                conn.stream = None;
                Some(e.0)
            }
        };
        if let Some(p) = problem {
            tally.bad += 1;
            tally.first_bad.get_or_insert(p);
        }
    }
    tally.reconnects = conn.reconnects;
    tally
}

/// Whether `body` is the reference reply. A gzip member's header carries its compression time
/// (bytes 4–7, MTIME), which Python's server sets on every reply: those bytes are ignored.
fn same_reply(body: &[u8], reference: &[u8], gzip: bool) -> bool {
    if !gzip || body.len() != reference.len() || body.len() < 10 {
        return body == reference;
    }
    body[..4] == reference[..4] && body[8..] == reference[8..]
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn run(o: &Opts) -> Result<bool, Failure> {
    if o.connections == 0 || o.connections > 1024 {
        return Err(Failure(format!("--connections must be 1 to 1024, got {}", o.connections)));
    }
    if !(o.seconds > 0.0 && o.seconds <= 600.0) {
        return Err(Failure(format!("--seconds must be above 0 and at most 600, got {}", o.seconds)));
    }
    if !(0.0..=60.0).contains(&o.warmup) {
        return Err(Failure(format!("--warmup must be 0 to 60 seconds, got {}", o.warmup)));
    }
    if !(o.io_timeout > 0.0 && o.io_timeout <= 600.0) {
        return Err(Failure(format!(
            "--io-timeout must be above 0 and at most 600 seconds, got {}",
            o.io_timeout
        )));
    }
    let body = std::fs::read(&o.body_file).map_err(|e| Failure(format!("{}: {e}", o.body_file.display())))?;
    let (addr, host, path) = parse_url(&o.url)?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gandish-loadgen\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    if o.gzip {
        request.extend_from_slice(b"Accept-Encoding: gzip\r\n");
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(&body);
    let target = Target { addr, request, io_timeout: Duration::from_secs_f64(o.io_timeout) };

    // The reference reply: must be a 200 that decodes to a value, not a fault.
    let mut probe = Conn::new();
    let first = probe.call(&target)?;
    if first.status != 200 {
        return Err(Failure(format!("the first call got HTTP status {}", first.status)));
    }
    let reference = probe.body.clone();
    let xml = if first.gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(reference.as_slice()).read_to_end(&mut out)?;
        out
    } else {
        reference.clone()
    };
    match decode_response_with(&xml, &Limits::default()) {
        Ok(Ok(_)) => {}
        Ok(Err(f)) => return Err(Failure(format!("the first call got fault {}: {}", f.code, f.message))),
        Err(e) => return Err(Failure(format!("the first reply does not decode: {e}"))),
    }
    drop(probe);

    let stop = Arc::new(AtomicBool::new(false));
    let target = Arc::new(target);
    let reference = Arc::new(reference);
    let warm_until = Instant::now() + Duration::from_secs_f64(o.warmup);
    let handles: Vec<_> = (0..o.connections)
        .map(|_| {
            let (t, r, s) = (Arc::clone(&target), Arc::clone(&reference), Arc::clone(&stop));
            let max = o.calls;
            thread::spawn(move || worker(&t, &r, warm_until, &s, max))
        })
        .collect();
    // The timed phase starts when the warm-up ends; every worker stops when it ends.
    let now = Instant::now();
    if warm_until > now {
        thread::sleep(warm_until - now);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(o.seconds);
    while Instant::now() < deadline && !handles.iter().all(|h| h.is_finished()) {
        thread::sleep(Duration::from_millis(5).min(deadline.saturating_duration_since(Instant::now())));
    }
    stop.store(true, Ordering::Relaxed);
    let mut tallies = Vec::new();
    for h in handles {
        tallies.push(h.join().map_err(|_| Failure("a worker thread panicked".into()))?);
    }
    // Calls finished after the deadline (each worker's last one) are counted with the time they
    // took: the rate is calls over the time until the last worker stopped.
    let elapsed = started.elapsed().as_secs_f64();
    let calls: u64 = tallies.iter().map(|t| t.calls).sum();
    // Every call the server saw: the probe, the warm-up and the timed ones.
    let total_calls: u64 = 1 + calls + tallies.iter().map(|t| t.warmup_calls).sum::<u64>();
    let bad: u64 = tallies.iter().map(|t| t.bad).sum();
    let reconnects: u64 = tallies.iter().map(|t| t.reconnects).sum();
    let first_bad = tallies.iter().find_map(|t| t.first_bad.clone());
    let mut lat: Vec<u32> = tallies.into_iter().flat_map(|t| t.latencies).collect();
    lat.sort_unstable();
    let rate = calls as f64 / elapsed;
    println!(
        "{{\"calls\": {calls}, \"total_calls\": {total_calls}, \"seconds\": {elapsed:.3}, \"calls_per_sec\": {rate:.1}, \"bad\": {bad}, \
         \"reconnects\": {reconnects}, \"reply_bytes\": {}, \"gzip\": {}, \"p50_us\": {}, \"p99_us\": {}, \
         \"first_bad\": {}}}",
        reference.len(),
        first.gzip,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        first_bad.map_or("null".to_owned(), |s| format!("{s:?}")),
    );
    Ok(bad == 0 && calls > 0)
}

fn main() -> ExitCode {
    let opts = Opts::parse();
    match run(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("loadgen: some calls failed (see \"bad\" and \"first_bad\")");
            ExitCode::FAILURE
        }
        Err(Failure(msg)) => {
            eprintln!("loadgen: {msg}");
            let _ = io::stderr().flush();
            ExitCode::from(2)
        }
    }
}
