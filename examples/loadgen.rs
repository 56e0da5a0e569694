//! A small closed-loop HTTP load generator for XML-RPC servers, used by
//! `benches/sandbox_vs_python.py`. Linux only (it uses epoll).
//!
//! It posts one fixed XML-RPC request body over `--connections` keep-alive connections, each
//! sending its next call as soon as the previous reply is in (exactly one call in flight per
//! connection, no pipelining), for a fixed time (`--seconds`) or a fixed number of calls per
//! connection (`--calls`), whichever comes first, and prints one JSON line with the figures.
//!
//! It is cheap per call on purpose, so the server is what gets measured. The connections are
//! non-blocking and driven by `--threads` event-loop threads (default 1), each waiting on its
//! share of them with one epoll set (level-triggered) and moving each connection through a
//! small state machine: write the request, read the head, read `Content-Length` bytes of body
//! (over as many reads as it takes), check the reply, send the next call. A call therefore
//! costs about one `write`, one or a few `read`s and a share of one `epoll_wait`, and no thread
//! blocks in `read` per call (a thread per connection paid a sleep and a wake-up on every call);
//! a loop sleeps in `epoll_wait` only when none of its connections has anything to do.
//!
//! One thread costs the least CPU per call, but while it waits for a CPU every connection waits;
//! when the server shares the cores, 2 threads measured more server calls/s (the benchmark's
//! default, see its docstring).
//!
//! Connecting is the only blocking step, so the event loops never do it: helper threads open
//! the connections (at the start, and again after a reply that closes its connection) and hand
//! them back through a channel and an eventfd, one helper per connection connecting at the
//! same time. A connect can block for seconds: Python's stock server listens with a backlog of
//! 5, so with 8 connections one SYN is often dropped and retried 1 s later; that delays only the
//! connection concerned, as with a thread per connection. Against a keep-alive server the
//! helpers only make the first connections and then sleep.
//!
//! It never decodes the replies during the timed phase. Correctness is still checked:
//! - before timing, one call is decoded with gandish's XML-RPC decoder and must not be a fault
//!   (otherwise exit 2);
//! - during timing, every reply must be HTTP 200 and byte-identical to that first reply (the
//!   benchmark serves fixed data; in a gzip reply the header's timestamp may differ); any other
//!   reply, an I/O error, a connection closed before the reply is complete, bytes after the end
//!   of a reply, or no progress on a call for `--io-timeout` seconds is counted and makes the run
//!   fail (exit 1).
//!
//! A server that answers with `Connection: close` or HTTP/1.0 (Python's stock
//! `SimpleXMLRPCServer`) is reconnected to for the next call; reconnections are counted. The
//! latency of a call runs from its start (connecting included) to the last byte of its reply.
//!
//! ```text
//! loadgen --url http://127.0.0.1:PORT/RPC2 --body-file call.xml --connections 8 --seconds 5
//! ```

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    event_loop::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("loadgen needs Linux (it drives its connections with epoll)");
    std::process::ExitCode::from(2)
}

#[cfg(target_os = "linux")]
mod event_loop {
    use std::fs::File;
    use std::io::{self, ErrorKind, Read, Write};
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
    use std::os::fd::OwnedFd;
    use std::path::PathBuf;
    use std::process::ExitCode;
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    use clap::Parser;
    use gandish::xmlrpc::{Limits, decode_response_with};
    use rustix::buffer::spare_capacity;
    use rustix::event::{EventfdFlags, Timespec, epoll, eventfd};

    /// Command-line flags.
    #[derive(Parser, Debug)]
    #[command(about = "Closed-loop XML-RPC load generator (keep-alive connections driven by epoll)")]
    struct Opts {
        /// Server URL, `http://HOST:PORT/PATH` (loopback or any plain-HTTP address).
        #[arg(long)]
        url: String,
        /// File holding the XML-RPC request body to post on every call.
        #[arg(long)]
        body_file: PathBuf,
        /// Concurrent connections, each with one call in flight at a time.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Event-loop threads the connections are split across.
        #[arg(long, default_value_t = 1)]
        threads: usize,
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
        /// Give up on a call that makes no progress (connecting, writing or reading) for this
        /// many seconds.
        #[arg(long, default_value_t = 30.0)]
        io_timeout: f64,
    }

    /// A problem that stops the run, or fails one call.
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

    /// The head of a reply, once read in full.
    #[derive(Clone, Copy)]
    struct Head {
        status: u16,
        /// Whether the server will close the connection after this reply.
        closes: bool,
        gzip: bool,
        /// Where the body starts in the read buffer.
        body_start: usize,
        body_len: usize,
    }

    impl Head {
        fn end(&self) -> usize {
            self.body_start + self.body_len
        }
    }

    /// The longest reply head accepted.
    const HEAD_MAX: usize = 64 * 1024;
    /// Free space offered to each read while the head is not complete.
    const READ_CHUNK: usize = 16 * 1024;

    /// The bytes of one reply, parsed as they arrive: the head, then `Content-Length` bytes of
    /// body. The buffer is zeroed once and grows to the largest reply seen; it is never shrunk.
    struct ReplyBuf {
        buf: Vec<u8>,
        /// How many bytes of `buf` hold data read.
        filled: usize,
        /// How far the search for the end of the head got.
        scanned: usize,
        head: Option<Head>,
    }

    impl ReplyBuf {
        fn new() -> Self {
            ReplyBuf { buf: vec![0; 64 * 1024], filled: 0, scanned: 0, head: None }
        }

        /// The free space to read into: room for the rest of the body once the head is known
        /// (so a large body needs no more reads than the socket makes it), else `READ_CHUNK`.
        fn spare(&mut self) -> &mut [u8] {
            let need = match self.head {
                Some(h) => h.end().max(self.filled + 1),
                None => self.filled + READ_CHUNK,
            };
            if self.buf.len() < need {
                self.buf.resize(need, 0);
            }
            &mut self.buf[self.filled..]
        }

        /// Takes note of `n` more bytes read into `spare()`; returns the head once the whole
        /// reply is in.
        fn advance(&mut self, n: usize) -> Result<Option<Head>, Failure> {
            self.filled += n;
            if self.head.is_none() {
                let from = self.scanned.saturating_sub(3);
                match find(&self.buf[from..self.filled], b"\r\n\r\n") {
                    Some(i) => self.head = Some(parse_head(&self.buf[..from + i + 4])?),
                    None if self.filled > HEAD_MAX => {
                        return Err(Failure(format!("reply head larger than {} KiB", HEAD_MAX / 1024)));
                    }
                    None => {
                        self.scanned = self.filled;
                        return Ok(None);
                    }
                }
            }
            let head = self.head.expect("set above");
            Ok((self.filled >= head.end()).then_some(head))
        }

        /// The body of the complete reply.
        fn body(&self) -> &[u8] {
            self.head.map_or(&[], |h| &self.buf[h.body_start..h.end()])
        }

        /// How many bytes were read past the end of the complete reply (none in a closed loop).
        fn excess(&self) -> usize {
            self.head.map_or(0, |h| self.filled.saturating_sub(h.end()))
        }

        /// Forgets what was read, ready for the next reply.
        fn clear(&mut self) {
            self.filled = 0;
            self.scanned = 0;
            self.head = None;
        }
    }

    /// Parses a reply head (status line and headers, ending with the blank line).
    fn parse_head(head: &[u8]) -> Result<Head, Failure> {
        let text = std::str::from_utf8(head).map_err(|_| Failure("reply head is not UTF-8".into()))?;
        let mut lines = text.split("\r\n");
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
        let body_len =
            len.ok_or_else(|| Failure(format!("reply without Content-Length (status {status})")))?;
        Ok(Head { status, closes, gzip, body_start: head.len(), body_len })
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    /// Parses `http://host:port/path` into a socket address, the `Host` and the path.
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

    /// One call on a fresh blocking connection: the reference reply's head and body.
    fn probe(t: &Target) -> Result<(Head, Vec<u8>), Failure> {
        let mut stream = TcpStream::connect_timeout(&t.addr, t.io_timeout)?;
        stream.set_read_timeout(Some(t.io_timeout))?;
        stream.set_write_timeout(Some(t.io_timeout))?;
        stream.write_all(&t.request)?;
        let mut rb = ReplyBuf::new();
        loop {
            let n = stream.read(rb.spare())?;
            if n == 0 {
                return Err(Failure("server closed the connection before replying".into()));
            }
            if let Some(head) = rb.advance(n)? {
                return Ok((head, rb.body().to_vec()));
            }
        }
    }

    /// Opens a connection ready for the event loop (no Nagle, non-blocking).
    fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        Ok(stream)
    }

    /// A connection made by helper `.0` for connection `.1`, or why it failed.
    type Connected = (usize, usize, Result<TcpStream, String>);

    /// Connecting helper `id` of one event loop: connects for each connection index it is
    /// sent, hands the stream back and wakes the loop through `wake` (an eventfd). Ends when
    /// the loop hangs up.
    fn connector(
        id: usize,
        addr: SocketAddr,
        timeout: Duration,
        requests: mpsc::Receiver<usize>,
        results: mpsc::Sender<Connected>,
        wake: File,
    ) {
        for index in requests {
            let result = connect(addr, timeout).map_err(|e| format!("connecting to {addr}: {e}"));
            if results.send((id, index, result)).is_err() {
                return;
            }
            // An eventfd write only fails if the counter would overflow, and then the loop is
            // woken anyway.
            let _ = (&wake).write(&1u64.to_ne_bytes());
        }
    }

    /// The connecting helpers of one event loop. A request goes to an idle helper, and a new
    /// one is started when none is idle, so a connect stuck on a full accept queue (a dropped
    /// SYN is retried after 1 s, 3 s, ...) never holds up another connection's.
    struct Connectors {
        addr: SocketAddr,
        timeout: Duration,
        /// Each helper's request channel and thread.
        helpers: Vec<(mpsc::Sender<usize>, thread::JoinHandle<()>)>,
        /// Helpers waiting for a request, the most recently busy last.
        idle: Vec<usize>,
        results: mpsc::Sender<Connected>,
        wake: File,
    }

    impl Connectors {
        /// Asks for a connection for connection `index`.
        fn request(&mut self, index: usize) -> Result<(), Failure> {
            let id = match self.idle.pop() {
                Some(id) => id,
                None => {
                    let id = self.helpers.len();
                    let (tx, rx) = mpsc::channel();
                    let (addr, timeout) = (self.addr, self.timeout);
                    let (results, wake) = (self.results.clone(), self.wake.try_clone()?);
                    let handle = thread::spawn(move || connector(id, addr, timeout, rx, results, wake));
                    self.helpers.push((tx, handle));
                    id
                }
            };
            self.helpers[id].0.send(index).map_err(|_| Failure("a connecting thread is gone".into()))
        }

        /// Hangs up on the helpers and waits for them to return.
        fn stop(self) -> Result<(), Failure> {
            for (requests, handle) in self.helpers {
                drop(requests);
                handle.join().map_err(|_| Failure("a connecting thread panicked".into()))?;
            }
            Ok(())
        }
    }

    /// Where a connection is in its current call.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Phase {
        /// Waiting for the helper thread to connect.
        Connecting,
        /// Writing the request; this many bytes are sent.
        Writing(usize),
        /// Reading the reply.
        Reading,
        /// No more calls on this connection.
        Stopped,
    }

    struct Conn {
        stream: Option<TcpStream>,
        phase: Phase,
        rb: ReplyBuf,
        /// Whether the epoll set also waits for the stream to be writable.
        wants_write: bool,
        /// When the call in flight started (its latency runs from here, connecting included).
        started: Instant,
        /// When the call in flight last moved a byte (for `--io-timeout`).
        last_progress: Instant,
        /// Whether the call in flight is a timed one (it started after the warm-up).
        timed: bool,
        /// Timed calls made.
        calls: u64,
    }

    /// Results of one event-loop thread.
    #[derive(Default)]
    struct Tally {
        warmup_calls: u64,
        calls: u64,
        bad: u64,
        first_bad: Option<String>,
        reconnects: u64,
        /// Per-call latencies in microseconds.
        latencies: Vec<u32>,
        /// When the thread's last connection stopped.
        ended: Option<Instant>,
    }

    /// The epoll token of the helper thread's eventfd (connection tokens are their indices).
    const WAKE_TOKEN: u64 = u64::MAX;
    /// How often calls in flight are checked against `--io-timeout`.
    const TIMEOUT_SCAN: Duration = Duration::from_millis(100);

    /// One event-loop thread and the connections it drives.
    struct EventLoop<'a> {
        target: &'a Target,
        reference: &'a [u8],
        warm_until: Instant,
        deadline: Instant,
        max_calls: Option<u64>,
        epoll: OwnedFd,
        conns: Vec<Conn>,
        /// Connections not yet stopped.
        running: usize,
        connectors: Connectors,
        connected: mpsc::Receiver<Connected>,
        wake: File,
        tally: Tally,
    }

    impl EventLoop<'_> {
        /// Starts the next call on connection `i`, or stops it once the run is over for it.
        fn start_call(&mut self, i: usize) -> Result<(), Failure> {
            let now = Instant::now();
            let timed = now >= self.warm_until;
            let c = &mut self.conns[i];
            if now >= self.deadline || (timed && self.max_calls.is_some_and(|m| c.calls >= m)) {
                c.phase = Phase::Stopped;
                c.stream = None;
                self.running -= 1;
                return Ok(());
            }
            c.started = now;
            c.last_progress = now;
            c.timed = timed;
            if c.stream.is_some() {
                c.phase = Phase::Writing(0);
                self.write(i)
            } else {
                c.phase = Phase::Connecting;
                self.connectors.request(i)
            }
        }

        /// Starts the next call on connection `i`; a call that fails at once is failed.
        fn next_call(&mut self, i: usize) {
            if let Err(e) = self.start_call(i) {
                self.fail(i, e.0);
            }
        }

        /// Counts the call in flight on connection `i` as failed and drops its stream. A failure
        /// in the warm-up stops the connection (the run fails); a timed call is counted and the
        /// connection goes on with its next call, on a new stream.
        fn fail(&mut self, i: usize, problem: String) {
            let now = Instant::now();
            let c = &mut self.conns[i];
            c.stream = None;
            c.wants_write = false;
            c.rb.clear();
            self.tally.bad += 1;
            if !c.timed {
                self.tally.first_bad.get_or_insert(format!("warm-up: {problem}"));
                c.phase = Phase::Stopped;
                self.running -= 1;
                return;
            }
            c.calls += 1;
            self.tally.calls += 1;
            self.tally.latencies.push(micros(now - c.started));
            self.tally.first_bad.get_or_insert(problem);
            // Without a stream, the next call starts by asking for a connection, which cannot
            // fail at once, so this does not recurse further.
            self.next_call(i);
        }

        /// Sets what the epoll set waits for on connection `i`'s stream.
        fn want_write(&mut self, i: usize, write: bool) -> Result<(), Failure> {
            let c = &mut self.conns[i];
            if c.wants_write == write {
                return Ok(());
            }
            let Some(stream) = &c.stream else { return Ok(()) };
            let flags =
                if write { epoll::EventFlags::IN | epoll::EventFlags::OUT } else { epoll::EventFlags::IN };
            epoll::modify(&self.epoll, stream, epoll::EventData::new_u64(i as u64), flags)?;
            c.wants_write = write;
            Ok(())
        }

        /// Writes as much of the request as the socket takes.
        fn write(&mut self, i: usize) -> Result<(), Failure> {
            let request = &self.target.request;
            let c = &mut self.conns[i];
            let Phase::Writing(mut sent) = c.phase else { return Ok(()) };
            let Some(stream) = c.stream.as_mut() else { return Ok(()) };
            loop {
                match stream.write(&request[sent..]) {
                    Ok(0) => return Err(Failure("the server stopped taking the request".into())),
                    Ok(n) => {
                        sent += n;
                        if sent == request.len() {
                            c.phase = Phase::Reading;
                            return self.want_write(i, false);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        c.phase = Phase::Writing(sent);
                        return self.want_write(i, true);
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }

        /// Reads what the socket has of the reply; finishes the call once it is all in.
        fn read(&mut self, i: usize, now: Instant) -> Result<(), Failure> {
            let c = &mut self.conns[i];
            let Some(stream) = c.stream.as_mut() else { return Ok(()) };
            loop {
                let spare = c.rb.spare();
                let room = spare.len();
                match stream.read(spare) {
                    Ok(0) => return Err(Failure("server closed the connection before replying".into())),
                    Ok(n) => {
                        c.last_progress = now;
                        if let Some(head) = c.rb.advance(n)? {
                            return self.finish(i, head);
                        }
                        // A short read emptied the socket: wait for more rather than pay for a
                        // read that would only say so.
                        if n < room {
                            return Ok(());
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }

        /// Checks and counts the complete reply on connection `i`, then starts its next call.
        fn finish(&mut self, i: usize, head: Head) -> Result<(), Failure> {
            let now = Instant::now();
            let c = &mut self.conns[i];
            let excess = c.rb.excess();
            if excess > 0 {
                return Err(Failure(format!("{excess} bytes after the end of a reply")));
            }
            if c.timed {
                c.calls += 1;
                self.tally.calls += 1;
                self.tally.latencies.push(micros(now - c.started));
                let problem = if head.status != 200 {
                    Some(format!("HTTP status {}", head.status))
                } else if !same_reply(c.rb.body(), self.reference, head.gzip) {
                    Some(format!("reply differs from the first one ({} bytes)", head.body_len))
                } else {
                    None
                };
                if let Some(p) = problem {
                    self.tally.bad += 1;
                    self.tally.first_bad.get_or_insert(p);
                }
                if head.closes {
                    self.tally.reconnects += 1;
                }
            } else {
                self.tally.warmup_calls += 1;
            }
            c.rb.clear();
            if head.closes {
                c.stream = None;
                c.wants_write = false;
            }
            self.start_call(i)
        }

        /// A readiness event on connection `i`.
        fn on_ready(&mut self, i: usize, now: Instant) {
            let step = match self.conns.get(i).map(|c| c.phase) {
                Some(Phase::Writing(_)) => self.write(i),
                Some(Phase::Reading) => self.read(i, now),
                _ => Ok(()),
            };
            if let Err(e) = step {
                self.fail(i, e.0);
            }
        }

        /// Takes the connections the helper thread has made and starts their calls' requests.
        fn on_connected(&mut self) {
            let mut counter = [0u8; 8];
            // Resets the eventfd; it is non-blocking, and an empty one is not an error here.
            let _ = (&self.wake).read(&mut counter);
            while let Ok((helper, i, result)) = self.connected.try_recv() {
                self.connectors.idle.push(helper);
                let step = result.map_err(Failure).and_then(|stream| {
                    epoll::add(
                        &self.epoll,
                        &stream,
                        epoll::EventData::new_u64(i as u64),
                        epoll::EventFlags::IN,
                    )?;
                    let c = &mut self.conns[i];
                    c.stream = Some(stream);
                    c.wants_write = false;
                    c.last_progress = Instant::now();
                    c.phase = Phase::Writing(0);
                    self.write(i)
                });
                if let Err(e) = step {
                    self.fail(i, e.0);
                }
            }
        }

        /// Fails the calls that made no progress for `--io-timeout`.
        fn check_timeouts(&mut self, now: Instant) {
            let limit = self.target.io_timeout;
            for i in 0..self.conns.len() {
                let c = &self.conns[i];
                if matches!(c.phase, Phase::Writing(_) | Phase::Reading)
                    && now.saturating_duration_since(c.last_progress) > limit
                {
                    self.fail(
                        i,
                        format!("no progress on a call for {} s (--io-timeout)", limit.as_secs_f64()),
                    );
                }
            }
        }

        /// Runs until every connection has stopped.
        fn run(&mut self) -> Result<(), Failure> {
            for i in 0..self.conns.len() {
                self.next_call(i);
            }
            let mut events: Vec<epoll::Event> = Vec::with_capacity(self.conns.len() + 1);
            let mut next_scan = Instant::now() + TIMEOUT_SCAN;
            while self.running > 0 {
                let wait = next_scan.saturating_duration_since(Instant::now());
                let timeout = Timespec { tv_sec: wait.as_secs() as _, tv_nsec: wait.subsec_nanos() as _ };
                events.clear();
                match epoll::wait(&self.epoll, spare_capacity(&mut events), Some(&timeout)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(Failure(format!("epoll_wait: {e}"))),
                }
                let now = Instant::now();
                for event in &events {
                    let token = event.data.u64();
                    if token == WAKE_TOKEN {
                        self.on_connected();
                    } else {
                        self.on_ready(token as usize, now);
                    }
                }
                if now >= next_scan {
                    self.check_timeouts(now);
                    next_scan = now + TIMEOUT_SCAN;
                }
            }
            Ok(())
        }
    }

    fn micros(d: Duration) -> u32 {
        d.as_micros().min(u128::from(u32::MAX)) as u32
    }

    /// One event-loop thread driving `connections` connections, with its connecting helper.
    fn drive(
        target: &Target,
        reference: &[u8],
        connections: usize,
        warm_until: Instant,
        deadline: Instant,
        max_calls: Option<u64>,
    ) -> Result<Tally, Failure> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = File::from(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?);
        epoll::add(&epoll, &wake, epoll::EventData::new_u64(WAKE_TOKEN), epoll::EventFlags::IN)?;
        let (result_tx, result_rx) = mpsc::channel();
        let connectors = Connectors {
            addr: target.addr,
            timeout: target.io_timeout,
            helpers: Vec::new(),
            idle: Vec::new(),
            results: result_tx,
            wake: wake.try_clone()?,
        };
        let now = Instant::now();
        let conns = (0..connections)
            .map(|_| Conn {
                stream: None,
                phase: Phase::Connecting,
                rb: ReplyBuf::new(),
                wants_write: false,
                started: now,
                last_progress: now,
                timed: false,
                calls: 0,
            })
            .collect();
        let mut lp = EventLoop {
            target,
            reference,
            warm_until,
            deadline,
            max_calls,
            epoll,
            conns,
            running: connections,
            connectors,
            connected: result_rx,
            wake,
            tally: Tally::default(),
        };
        let outcome = lp.run();
        let mut tally = std::mem::take(&mut lp.tally);
        tally.ended = Some(Instant::now());
        lp.connectors.stop()?;
        outcome.map(|()| tally)
    }

    /// Whether `body` is the reference reply. A gzip member's header carries its compression
    /// time (bytes 4–7, MTIME), which Python's server sets on every reply: those bytes are
    /// ignored.
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
        if o.threads == 0 || o.threads > o.connections {
            return Err(Failure(format!(
                "--threads must be 1 to --connections ({}), got {}",
                o.connections, o.threads
            )));
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
        let body =
            std::fs::read(&o.body_file).map_err(|e| Failure(format!("{}: {e}", o.body_file.display())))?;
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
        let (first, reference) = probe(&target)?;
        if first.status != 200 {
            return Err(Failure(format!("the first call got HTTP status {}", first.status)));
        }
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

        // Calls started before `warm_until` are the warm-up; the timed phase runs from then to
        // `deadline`, and each connection's call in flight at the deadline is finished and
        // counted, with the time it took.
        let warm_until = Instant::now() + Duration::from_secs_f64(o.warmup);
        let deadline = warm_until + Duration::from_secs_f64(o.seconds);
        let tallies: Vec<Tally> = thread::scope(|scope| {
            let handles: Vec<_> = (0..o.threads)
                .map(|k| {
                    let share = o.connections / o.threads + usize::from(k < o.connections % o.threads);
                    let (t, r) = (&target, reference.as_slice());
                    scope.spawn(move || drive(t, r, share, warm_until, deadline, o.calls))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| Failure("an event-loop thread panicked".into()))?)
                .collect::<Result<_, Failure>>()
        })?;
        // The rate is calls over the time until the last connection stopped.
        let ended = tallies.iter().filter_map(|t| t.ended).max().unwrap_or(warm_until);
        let elapsed = ended.saturating_duration_since(warm_until).as_secs_f64().max(1e-9);
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

    pub(super) fn main() -> ExitCode {
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
}
