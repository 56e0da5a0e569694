//! The server's own work per `paas.info` call, without sockets: the sandbox's request path next to
//! Python's `SimpleXMLRPCRequestHandler` serving the same reply, on the same request bytes.
//!
//! `cargo bench --bench server_path` prints the time per call of each and the ratio.
//! - gandish: the whole request path of `xmlrpc::Server` (HTTP head, body, XML-RPC decoding,
//!   the sandbox's `paas.info`, encoding, the response head) over an in-memory connection that
//!   holds [`PIPELINED`] requests back to back, with the demo dataset plus 500 instances (as in
//!   `benches/sandbox_vs_python.py`).
//! - Python: `python3` runs `SimpleXMLRPCRequestHandler` (HTTP/1.1 keep-alive, as the threaded
//!   server in that benchmark) over a fake socket holding the same requests, with a registered
//!   `paas.info` that returns the sandbox's answer (decoded once from the sandbox's reply bytes),
//!   and checks that every reply carries that answer.
//!
//! Rounds alternate between the two; medians are compared. What this leaves out is the kernel:
//! on loopback each call also costs both servers the same TCP send, receive and wake-ups, which
//! is why the end-to-end ratio in `sandbox_vs_python.py` is much lower than this one.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gandish::sandbox::{Sandbox, SandboxConfig};
use gandish::xmlrpc::server::fuzz_serve_connection;
use gandish::xmlrpc::{CallContext, Handler, ServerConfig, Value, encode_call, encode_response};

/// The allocator the `gandish` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Requests per in-memory connection.
const PIPELINED: usize = 2_000;
const ROUNDS: usize = 7;

const PYTHON: &str = r#"
import io, sys, time, xmlrpc.client
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

request = sys.stdin.buffer.read()
n, reply_xml = int(sys.argv[1]), open(sys.argv[2], 'rb').read()
(answer,), _ = xmlrpc.client.loads(reply_xml)

class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass

class Sink:
    """What the handler writes (its wfile): kept, never closed."""
    closed = False
    def __init__(self):
        self.parts = []
    def write(self, b):
        self.parts.append(bytes(b))
        return len(b)
    def flush(self):
        pass
    def close(self):
        pass

class FakeSocket:
    def __init__(self, data):
        self.data, self.sink = data, Sink()
        self.out = self.sink.parts
    def makefile(self, mode, bufsize=-1):
        return io.BytesIO(self.data) if "r" in mode else self.sink
    def sendall(self, b):
        self.out.append(bytes(b))
    def setsockopt(self, *a):
        pass
    def settimeout(self, t):
        pass

server = SimpleXMLRPCServer(("127.0.0.1", 0), bind_and_activate=False, logRequests=False, allow_none=True)
server.register_function(lambda key, paas_id: answer, "paas.info")
data = request * n
t = time.perf_counter()
sock = FakeSocket(data)
Handler(sock, ("127.0.0.1", 40000), server)
elapsed = time.perf_counter() - t
out = b"".join(sock.out)
replies = out.count(b"HTTP/1.1 200")
if replies != n:
    sys.exit(f"python answered {replies} of {n} requests")
body = out.split(b"\r\n\r\n", 1)[1]
body = body[: body.index(b"HTTP/1.1 200")] if b"HTTP/1.1 200" in body else body
if xmlrpc.client.loads(body)[0][0] != answer:
    sys.exit("python's reply differs from the sandbox's answer")
print(elapsed)
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn per_call_us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6 / PIPELINED as f64
}

fn main() {
    let config = SandboxConfig { instances: 500, seed: 1, ..SandboxConfig::default() };
    let key = config.api_key.clone();
    let sandbox = Arc::new(Sandbox::new(config).expect("the sandbox builds"));
    let body = encode_call("paas.info", &[Value::from(key.as_str()), Value::Int(1)]).expect("encodes");
    let mut request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: gandish-bench\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let input = request.repeat(PIPELINED);

    // The sandbox's answer, for Python to serve: through `call`, the Value path.
    let mut ctx = CallContext::new("127.0.0.1:40000".parse().unwrap());
    let params = vec![Value::from(key.as_str()), Value::Int(1)];
    let answer = sandbox.call(&mut ctx, "paas.info", params).expect("paas.info(1) answers");
    let reply_file = std::env::temp_dir().join(format!("gandish-server-path-{}.xml", std::process::id()));
    std::fs::write(&reply_file, encode_response(&answer).expect("encodes")).expect("writes a temp file");

    let ours = || {
        let started = Instant::now();
        let out = fuzz_serve_connection(sandbox.clone(), ServerConfig::default(), &input, 1 << 20);
        let took = started.elapsed();
        let replies = out.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
        assert_eq!(replies, PIPELINED, "gandish answered {replies} of {PIPELINED} requests");
        took
    };
    let python = || {
        let mut child = Command::new("python3")
            .args(["-c", PYTHON, &PIPELINED.to_string(), reply_file.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs (it is on every machine this project supports)");
        child.stdin.take().unwrap().write_all(&request).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "the Python side failed");
        let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("python prints its time");
        Duration::from_secs_f64(secs)
    };

    ours(); // warm-up: allocator, caches
    let (mut g, mut p) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        g.push(ours());
        p.push(python());
    }
    let _ = std::fs::remove_file(&reply_file);
    let (g, p) = (per_call_us(median(g)), per_call_us(median(p)));
    println!(
        "server_path: paas.info, {PIPELINED} requests per connection, median of {ROUNDS} rounds, no sockets"
    );
    println!("  gandish xmlrpc::Server + sandbox  {g:8.2} us/call");
    println!("  Python SimpleXMLRPCRequestHandler {p:8.2} us/call");
    println!("  ratio                             {:8.1}x", p / g);
}
