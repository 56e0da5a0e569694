//! The HTTP/1.1 wire layer of the server: reading request heads and bodies from a socket under
//! deadlines, parsing them strictly enough to be safe, and writing responses.
//!
//! Only what an XML-RPC server needs: no chunked bodies (the server answers 411), no trailers, no
//! upgrades. Bare-LF line ends and a leading empty line are tolerated, as RFC 9112 allows.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use super::http_date::http_date;

/// The largest request head (request line and headers) accepted, in bytes; larger gets 431.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines accepted; more gets 431.
pub(crate) const MAX_HEADERS: usize = 100;
/// How long [`Conn::linger_close`] drains an unread request before closing.
const LINGER: Duration = Duration::from_secs(2);
/// How much [`Conn::linger_close`] drains at most.
const LINGER_BYTES: usize = 1 << 20;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// The HTTP version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// HTTP/1.0: connections close after each response unless the client asks for keep-alive.
    Http10,
    /// HTTP/1.1: connections stay open unless the client sends `Connection: close`.
    Http11,
}

/// A parsed request line and header section.
#[derive(Debug)]
pub(crate) struct RequestHead {
    /// The method, case preserved (HTTP methods are case-sensitive).
    pub method: String,
    /// The request target as sent.
    pub target: String,
    /// The protocol version.
    pub version: Version,
    /// The headers in order; names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The values of every header called `name` (lower case).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The first value of the header called `name` (lower case).
    pub fn get<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.all(name).next()
    }

    /// Whether the comma-separated list header `name` holds `token` (case-insensitive), ignoring
    /// parameters after `;`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.all(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// The path part of the target: the query is dropped and an absolute-form target
    /// (`http://host/path`) is reduced to its path.
    pub fn path(&self) -> &str {
        let mut t = self.target.as_str();
        if let Some(rest) = t.strip_prefix("http://").or_else(|| t.strip_prefix("https://")) {
            t = rest.find('/').map_or("/", |i| &rest[i..]);
        }
        t.split(['?', '#']).next().unwrap_or(t)
    }

    /// Whether the connection may stay open after the response, as far as the client is concerned.
    pub fn client_keeps_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.has_token("connection", "close"),
            Version::Http10 => {
                self.has_token("connection", "keep-alive") && !self.has_token("connection", "close")
            }
        }
    }

    /// Whether the client accepts a gzip-coded response (`Accept-Encoding: gzip`, q not 0).
    pub fn accepts_gzip(&self) -> bool {
        self.all("accept-encoding").flat_map(|v| v.split(',')).any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            if !(coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip")) {
                return false;
            }
            parts.all(|p| {
                let p = p.trim();
                match p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    Some(q) => q.trim().parse::<f32>().is_ok_and(|q| q > 0.0),
                    None => true,
                }
            })
        })
    }
}

/// How the request says its body is framed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyLength {
    /// Neither `Content-Length` nor `Transfer-Encoding`.
    Missing,
    /// A `Transfer-Encoding` (chunked or otherwise), which this server does not read.
    TransferEncoded,
    /// A valid `Content-Length`.
    Length(u64),
}

/// Why a request head was refused. Each maps to an HTTP status.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeadError {
    /// A malformed request line or header (400).
    #[error("malformed request head, line {line}: {reason}")]
    Malformed {
        /// 1-based line of the head.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// The head is longer than [`MAX_HEAD_BYTES`] (431).
    #[error("request head larger than {0} bytes")]
    TooLarge(usize),
    /// More than [`MAX_HEADERS`] header lines (431).
    #[error("more than {0} header lines")]
    TooManyHeaders(usize),
    /// A well-formed HTTP version other than 1.0 and 1.1 (505).
    #[error("HTTP version {0} is not supported; use HTTP/1.1 or HTTP/1.0")]
    Version(String),
}

impl HeadError {
    /// The status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Malformed { .. } => 400,
            HeadError::TooLarge(_) | HeadError::TooManyHeaders(_) => 431,
            HeadError::Version(_) => 505,
        }
    }
}

impl RequestHead {
    /// The body framing, or why `Content-Length` is unusable (400).
    pub fn body_length(&self) -> Result<BodyLength, HeadError> {
        if self.get("transfer-encoding").is_some() {
            return Ok(BodyLength::TransferEncoded);
        }
        let mut found: Option<u64> = None;
        for v in self.all("content-length") {
            // Repeated values in one header (`5, 5`) are allowed if they agree (RFC 9110 §8.6).
            for part in v.split(',') {
                let part = part.trim();
                let bad = || HeadError::Malformed {
                    line: 0,
                    reason: format!("invalid Content-Length {:?}", truncate(v, 40)),
                };
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let n: u64 = part.parse().map_err(|_| bad())?;
                if found.is_some_and(|f| f != n) {
                    return Err(HeadError::Malformed {
                        line: 0,
                        reason: "conflicting Content-Length headers".into(),
                    });
                }
                found = Some(n);
            }
        }
        Ok(found.map_or(BodyLength::Missing, BodyLength::Length))
    }
}

/// Whether `b` may appear in an HTTP token (method, header name).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Parses a complete request head (everything before the empty line; line ends CRLF or LF).
pub(crate) fn parse_head(head: &[u8]) -> Result<RequestHead, HeadError> {
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next().unwrap_or(b"");
    let malformed = |line: usize, reason: String| HeadError::Malformed { line, reason };
    let text = std::str::from_utf8(request_line)
        .map_err(|_| malformed(1, "the request line is not ASCII".into()))?;
    let shown = || format!("{:?}", truncate(text, 80));
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(1, format!("expected `METHOD TARGET HTTP/1.1`, got {}", shown())));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(malformed(1, format!("invalid method in request line {}", shown())));
    }
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(1, format!("invalid request target in {}", shown())));
    }
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.len() == 8
            && v.starts_with("HTTP/")
            && v.as_bytes()[5].is_ascii_digit()
            && v.as_bytes()[6] == b'.'
            && v.as_bytes()[7].is_ascii_digit() =>
        {
            return Err(HeadError::Version(v.to_owned()));
        }
        _ => return Err(malformed(1, format!("invalid HTTP version in request line {}", shown()))),
    };
    let mut headers = Vec::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(HeadError::TooManyHeaders(MAX_HEADERS));
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(malformed(n, "obsolete line folding (a line starting with whitespace)".into()));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(malformed(n, "header line without a colon".into()));
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(malformed(
                n,
                format!("invalid header name {:?}", String::from_utf8_lossy(&name[..name.len().min(40)])),
            ));
        }
        if value.iter().any(|&b| b == 0 || b == b'\r' || (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(malformed(n, "control character in header value".into()));
        }
        // A valid name is ASCII (tchars only), so this borrows, then lower-cases into one copy.
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        // Control characters were refused above, so only spaces and tabs are trimmed here.
        let value = String::from_utf8_lossy(value.trim_ascii()).into_owned();
        headers.push((name, value));
    }
    Ok(RequestHead { method: method.to_owned(), target: target.to_owned(), version, headers })
}

/// Why reading from the connection stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed.
    Timeout,
    /// The peer closed the connection (or shut it down for reading).
    Closed,
    /// Any other socket error.
    Io,
}

/// Why reading a request head failed.
#[derive(Debug)]
pub(crate) enum ReadHeadError {
    /// The connection ended or timed out before any byte of a request arrived.
    Idle,
    /// The connection ended or timed out part-way through the head.
    Partial(ReadError),
    /// The head was refused.
    Bad(HeadError),
}

/// The byte stream a connection runs over: a TCP socket, or an in-memory script of bytes for
/// fuzzing ([`MemWire`]).
pub(crate) trait Wire {
    /// One read that gives up at `deadline`; `Ok(0)` at end of stream.
    fn read_before(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, ReadError>;
    /// Writes all of `data` (and flushes).
    fn write_all(&self, data: &[u8]) -> io::Result<()>;
    /// Writes all of `head` then all of `body`, as if concatenated.
    fn write_all_two(&self, head: &[u8], body: &[u8]) -> io::Result<()> {
        self.write_all(head)?;
        self.write_all(body)
    }
    /// Shuts down the sending side.
    fn shutdown_write(&self);
}

impl Wire for TcpStream {
    fn read_before(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, ReadError> {
        read_before(self, buf, deadline)
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        let mut stream = self;
        Write::write_all(&mut stream, data)?;
        Write::flush(&mut stream)
    }

    fn write_all_two(&self, head: &[u8], body: &[u8]) -> io::Result<()> {
        write_all_two(self, head, body)
    }

    fn shutdown_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

/// An in-memory connection for fuzzing: reads return the scripted input (at most `max_read`
/// bytes at a time, as a network delivers it in pieces), then end of stream; writes are collected.
pub(crate) struct MemWire<'a> {
    input: &'a [u8],
    max_read: usize,
    pos: std::cell::Cell<usize>,
    output: std::cell::RefCell<Vec<u8>>,
    write_shut: std::cell::Cell<bool>,
}

impl<'a> MemWire<'a> {
    /// A connection whose client sends `input`, `max_read` bytes at most per read (0 counts as
    /// 1), and then closes its sending side.
    pub fn new(input: &'a [u8], max_read: usize) -> Self {
        MemWire {
            input,
            max_read: max_read.max(1),
            pos: std::cell::Cell::new(0),
            output: std::cell::RefCell::new(Vec::new()),
            write_shut: std::cell::Cell::new(false),
        }
    }

    /// Everything written so far.
    pub fn into_output(self) -> Vec<u8> {
        self.output.into_inner()
    }
}

impl Wire for MemWire<'_> {
    fn read_before(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, ReadError> {
        if deadline <= Instant::now() {
            return Err(ReadError::Timeout);
        }
        let pos = self.pos.get();
        let n = buf.len().min(self.input.len() - pos).min(self.max_read);
        buf[..n].copy_from_slice(&self.input[pos..pos + n]);
        self.pos.set(pos + n);
        Ok(n)
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        if self.write_shut.get() {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.output.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn shutdown_write(&self) {
        self.write_shut.set(true);
    }
}

/// A buffered reader over a connection, whose every read obeys a deadline.
pub(crate) struct Conn<'a, W: Wire + ?Sized = TcpStream> {
    stream: &'a W,
    /// Received bytes in `buf[..end]`; the rest is room for the next read (kept initialized,
    /// so a read does not zero its room again).
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// End of the received bytes in `buf`.
    end: usize,
}

impl<'a, W: Wire + ?Sized> Conn<'a, W> {
    /// Wraps `stream`.
    pub fn new(stream: &'a W) -> Self {
        Conn::with_buffer(stream, Vec::new())
    }

    /// Wraps `stream`, reading into `buf` (emptied first), whose allocation a connection keeps
    /// from one request to the next; [`Conn::into_buffer`] gives it back.
    pub fn with_buffer(stream: &'a W, buf: Vec<u8>) -> Self {
        Conn { stream, buf, pos: 0, end: 0 }
    }

    /// The read buffer, for [`Conn::with_buffer`] (its bytes are not kept: call this only when
    /// [`Conn::buffered`] is 0). A buffer that one large request grew is dropped.
    pub fn into_buffer(self) -> Vec<u8> {
        if self.buf.len() > 4 * READ_CHUNK { Vec::new() } else { self.buf }
    }

    /// The socket.
    pub fn stream(&self) -> &'a W {
        self.stream
    }

    /// How many received bytes have not been consumed yet (pipelined requests).
    pub fn buffered(&self) -> usize {
        self.end - self.pos
    }

    /// Reads more bytes into the buffer, waiting until `deadline` at most.
    pub fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.pos > 0 && self.pos >= self.end / 2 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK {
            self.buf.resize(self.end + READ_CHUNK, 0);
        }
        let r = self.stream.read_before(&mut self.buf[self.end..], deadline);
        self.end += *r.as_ref().unwrap_or(&0);
        match r {
            Ok(0) => Err(ReadError::Closed),
            other => other,
        }
    }

    /// Reads one request head. `first_byte_deadline` bounds the wait for the request's first
    /// byte; `head_timeout` is then counted from that byte (or from `head_start`, whichever is
    /// earlier, when given), so trickling bytes never extends it.
    pub fn read_head(
        &mut self,
        first_byte_deadline: Instant,
        head_timeout: Duration,
        head_start: Option<Instant>,
    ) -> Result<RequestHead, ReadHeadError> {
        // A leading empty line (left over from a previous request's body) is ignored.
        self.skip_leading_newlines();
        if self.buffered() == 0 {
            self.fill(first_byte_deadline).map_err(|_| ReadHeadError::Idle)?;
            self.skip_leading_newlines();
        }
        let deadline = head_start.unwrap_or_else(Instant::now) + head_timeout;
        let mut scanned = 0;
        loop {
            let avail = &self.buf[self.pos..self.end];
            if let Some(end) = find_head_end(avail, scanned) {
                let head = parse_head(&avail[..end]).map_err(ReadHeadError::Bad);
                self.pos += end;
                return head;
            }
            scanned = avail.len().saturating_sub(3);
            if avail.len() >= MAX_HEAD_BYTES {
                return Err(ReadHeadError::Bad(HeadError::TooLarge(MAX_HEAD_BYTES)));
            }
            self.fill(deadline).map_err(ReadHeadError::Partial)?;
        }
    }

    fn skip_leading_newlines(&mut self) {
        while self.pos < self.end && matches!(self.buf[self.pos], b'\r' | b'\n') {
            self.pos += 1;
        }
    }

    /// Reads exactly `len` body bytes by `deadline`, growing the buffer only as bytes arrive.
    pub fn read_body(&mut self, len: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::with_capacity(len.min(1 << 20));
        let take = self.buffered().min(len);
        body.extend_from_slice(&self.buf[self.pos..self.pos + take]);
        self.pos += take;
        while body.len() < len {
            let old = body.len();
            let want = (len - old).min(1 << 20);
            body.resize(old + want, 0);
            let r = self.stream.read_before(&mut body[old..], deadline);
            body.truncate(old + *r.as_ref().unwrap_or(&0));
            if r? == 0 {
                return Err(ReadError::Closed);
            }
        }
        Ok(body)
    }

    /// Closes the connection gently after an error response sent before the request body was
    /// read: shuts down the sending side (so the client sees the response and then end of file)
    /// and drains what the client is still sending, for a bounded time and amount, so the close
    /// does not turn into a reset that would destroy the response before the client reads it.
    pub fn linger_close(&mut self) {
        self.stream.shutdown_write();
        let deadline = Instant::now() + LINGER;
        let mut scratch = [0u8; 8192];
        let mut total = 0;
        while total < LINGER_BYTES {
            match self.stream.read_before(&mut scratch, deadline) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    }

    /// Reads and drops `len` body bytes by `deadline`.
    pub fn discard(&mut self, len: u64, deadline: Instant) -> Result<(), ReadError> {
        let mut left = len;
        let take = (self.buffered() as u64).min(left);
        self.pos += take as usize;
        left -= take;
        let mut scratch = [0u8; 8192];
        while left > 0 {
            let want = left.min(scratch.len() as u64) as usize;
            match self.stream.read_before(&mut scratch[..want], deadline)? {
                0 => return Err(ReadError::Closed),
                n => left -= n as u64,
            }
        }
        Ok(())
    }
}

/// One `read` that gives up at `deadline`.
fn read_before(mut stream: &TcpStream, buf: &mut [u8], deadline: Instant) -> Result<usize, ReadError> {
    // Bytes already there (the usual case: the event loop saw them, or they came with the
    // head) are taken without setting a timeout first: one system call instead of two.
    #[cfg(target_os = "linux")]
    match rustix::net::recv(stream, &mut *buf, rustix::net::RecvFlags::DONTWAIT) {
        Ok((n, _)) => return Ok(n),
        Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => {}
        Err(e) => return Err(read_error(&e.into())),
    }
    #[cfg(target_os = "linux")]
    super::server::blocking::about_to_block();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::Timeout);
        }
        stream.set_read_timeout(Some(left)).map_err(|_| ReadError::Io)?;
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) => return Err(read_error(&e)),
        }
    }
}

/// What a failed read means for the connection.
fn read_error(e: &io::Error) -> ReadError {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::NotConnected => ReadError::Closed,
        _ => ReadError::Io,
    }
}

/// The length of the head including its terminating empty line, if complete. `from` is where
/// the previous scan stopped, so repeated calls stay linear.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = buf.get(i..)?.iter().position(|&b| b == b'\n') {
        let nl = i + off;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            Some(b'\r') => {}
            None => return None,
            _ => {}
        }
        i = nl + 1;
    }
    None
}

/// The reason phrase for `status`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(super::encode::decimal_digits(n, &mut [0u8; 20]));
}

/// Appends the HTTP-date of `t`, formatted once per second and thread (every reply carries one).
fn push_http_date(out: &mut Vec<u8>, t: SystemTime) {
    thread_local! {
        static LAST: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    LAST.with_borrow_mut(|(at, text)| {
        if *at != secs {
            *text = http_date(t);
            *at = secs;
        }
        out.extend_from_slice(text.as_bytes());
    });
}

/// A response about to be written.
pub(crate) struct Response<'a> {
    /// The status code.
    pub status: u16,
    /// Extra headers (`Content-Length`, `Date`, `Server` and `Connection` are added).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
    /// Whether the connection stays open afterwards.
    pub keep_alive: bool,
    /// The request's version (a kept-alive HTTP/1.0 connection is announced as such).
    pub version: Version,
    /// The time the `Date` header states (`None`: now).
    pub date: Option<SystemTime>,
}

impl Response<'_> {
    /// Writes the response: the head and the body go out together (vectored writes on a
    /// socket), without copying the body.
    pub fn write_to<W: Wire + ?Sized>(&self, stream: &W) -> io::Result<()> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"HTTP/1.1 ");
        push_decimal(&mut out, u64::from(self.status));
        out.push(b' ');
        out.extend_from_slice(reason(self.status).as_bytes());
        out.extend_from_slice(b"\r\nServer: gandish\r\nDate: ");
        push_http_date(&mut out, self.date.unwrap_or_else(SystemTime::now));
        out.extend_from_slice(b"\r\nContent-Length: ");
        push_decimal(&mut out, self.body.len() as u64);
        out.extend_from_slice(b"\r\n");
        for (n, v) in self.headers {
            for part in [n.as_bytes(), b": ", v.as_bytes(), b"\r\n"] {
                out.extend_from_slice(part);
            }
        }
        if !self.keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if self.version == Version::Http10 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        stream.write_all_two(&out, self.body)
    }
}

/// Writes `head` then `body` with vectored writes until both are out.
fn write_all_two(mut stream: &TcpStream, mut head: &[u8], mut body: &[u8]) -> io::Result<()> {
    // What fits in the socket's send buffer goes without waiting; only a reply larger than
    // that (or a client that does not read) makes the thread wait.
    #[cfg(target_os = "linux")]
    {
        use rustix::net::{SendAncillaryBuffer, SendFlags, sendmsg};
        let parts = [io::IoSlice::new(head), io::IoSlice::new(body)];
        let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
        match sendmsg(stream, &parts, &mut SendAncillaryBuffer::default(), flags) {
            Ok(n) => {
                let from_head = n.min(head.len());
                head = &head[from_head..];
                body = &body[n - from_head..];
                if head.is_empty() && body.is_empty() {
                    return Ok(());
                }
            }
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => {}
            Err(e) => return Err(e.into()),
        }
        super::server::blocking::about_to_block();
    }
    while !head.is_empty() || !body.is_empty() {
        match stream.write_vectored(&[io::IoSlice::new(head), io::IoSlice::new(body)]) {
            Ok(0) => {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "the connection took no more bytes"));
            }
            Ok(n) => {
                let from_head = n.min(head.len());
                head = &head[from_head..];
                body = &body[n - from_head..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_python_request_head() {
        let head = b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept-Encoding: gzip\r\n\
                     Content-Type: text/xml\r\nUser-Agent: Python-xmlrpc/3.11\r\nContent-Length: 95\r\n\r\n";
        let end = find_head_end(head, 0).unwrap();
        assert_eq!(end, head.len());
        let h = parse_head(&head[..end]).unwrap();
        assert_eq!((h.method.as_str(), h.path(), h.version), ("POST", "/RPC2", Version::Http11));
        assert_eq!(h.get("content-type"), Some("text/xml"));
        assert_eq!(h.body_length(), Ok(BodyLength::Length(95)));
        assert!(h.accepts_gzip());
        assert!(h.client_keeps_alive());
    }

    #[test]
    fn finds_the_end_with_bare_lf_and_across_scans() {
        assert_eq!(find_head_end(b"GET / HTTP/1.0\n\nbody", 0), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.0\r\nA: b\r\n", 0), None);
        let full = b"GET / HTTP/1.0\r\nA: b\r\n\r\n";
        assert_eq!(find_head_end(full, full.len() - 5), Some(full.len()));
    }

    #[test]
    fn refuses_malformed_heads_naming_the_line() {
        let err = |h: &[u8]| parse_head(h).unwrap_err();
        assert!(matches!(err(b"garbage"), HeadError::Malformed { line: 1, .. }));
        assert!(matches!(err(b"POST /\x01 HTTP/1.1"), HeadError::Malformed { line: 1, .. }));
        assert!(matches!(err(b"POST / HTTP/1.1\r\nNo colon here"), HeadError::Malformed { line: 2, .. }));
        assert!(matches!(err(b"POST / HTTP/1.1\r\nA: b\r\n folded"), HeadError::Malformed { line: 3, .. }));
        assert!(matches!(err(b"POST / HTTP/1.1\r\nBad Name: x"), HeadError::Malformed { line: 2, .. }));
        assert_eq!(err(b"POST / HTTP/2.0").status(), 505);
        let many: Vec<u8> = (0..=MAX_HEADERS).flat_map(|i| format!("\r\nX-{i}: v").into_bytes()).collect();
        let head = [b"POST / HTTP/1.1".as_slice(), &many].concat();
        assert_eq!(err(&head), HeadError::TooManyHeaders(MAX_HEADERS));
    }

    #[test]
    fn content_length_must_be_digits_and_agree() {
        let h = |cl: &str| parse_head(format!("POST / HTTP/1.1\r\n{cl}").as_bytes()).unwrap();
        assert_eq!(h("Content-Length: 7").body_length(), Ok(BodyLength::Length(7)));
        assert_eq!(h("Content-Length: 7, 7").body_length(), Ok(BodyLength::Length(7)));
        assert!(h("Content-Length: -1").body_length().is_err());
        assert!(h("Content-Length: 7, 8").body_length().is_err());
        assert!(h("Content-Length: 99999999999999999999999").body_length().is_err());
        assert_eq!(h("Transfer-Encoding: chunked").body_length(), Ok(BodyLength::TransferEncoded));
        assert_eq!(h("X: y").body_length(), Ok(BodyLength::Missing));
    }

    #[test]
    fn keep_alive_follows_the_version_defaults() {
        let h = |s: &str| parse_head(s.as_bytes()).unwrap().client_keeps_alive();
        assert!(h("POST / HTTP/1.1"));
        assert!(!h("POST / HTTP/1.1\r\nConnection: Close"));
        assert!(!h("POST / HTTP/1.0"));
        assert!(h("POST / HTTP/1.0\r\nConnection: Keep-Alive"));
    }

    #[test]
    fn gzip_acceptance_honours_q_zero() {
        let h = |s: &str| parse_head(format!("POST / HTTP/1.1\r\n{s}").as_bytes()).unwrap().accepts_gzip();
        assert!(h("Accept-Encoding: deflate, gzip;q=0.5"));
        assert!(!h("Accept-Encoding: gzip;q=0"));
        assert!(!h("Accept-Encoding: identity"));
    }

    #[test]
    fn paths_drop_query_and_absolute_form() {
        let p = |t: &str| parse_head(format!("POST {t} HTTP/1.1").as_bytes()).unwrap().path().to_owned();
        assert_eq!(p("/RPC2?x=1"), "/RPC2");
        assert_eq!(p("http://example.com/xmlrpc/"), "/xmlrpc/");
        assert_eq!(p("http://example.com"), "/");
    }
}
