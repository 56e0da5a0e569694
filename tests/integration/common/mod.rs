//! Shared helpers for integration tests: Python peers and scripted raw HTTP servers, all on
//! 127.0.0.1 with free ports, started and stopped by the test itself.
//!
//! Use from a test file with `mod common;`. Not every test binary uses every helper.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A Python 3 process serving on a loopback port, killed when dropped.
pub struct PyServer {
    child: Child,
    /// The port the script bound.
    pub port: u16,
}

impl PyServer {
    /// Runs `script` with `python3 -u`. The script must bind 127.0.0.1 on port 0 and print the
    /// chosen port, alone on the first line of stdout, once it is ready to accept connections.
    /// Panics (failing the test) if Python does not start or prints no port within 20 s.
    pub fn start(script: &str) -> PyServer {
        let mut child = Command::new("python3")
            .arg("-u")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed to run these tests");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            // Keep draining so the script never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(line)) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the Python peer printed no port (got {other:?}); see its stderr above");
            }
        };
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the Python peer printed {line:?} instead of a port")
        });
        PyServer { child, port }
    }

    /// Starts Python's `SimpleXMLRPCServer` (allow_none, use_builtin_types) on a free port after
    /// running `setup`, Python code that registers functions on `server` (for example
    /// `server.register_function(lambda *a: list(a), "echo")`). Serves `/` and `/RPC2`.
    pub fn xmlrpc(setup: &str) -> PyServer {
        let script = format!(
            "import sys, datetime, xmlrpc.client\n\
             from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler\n\
             class Handler(SimpleXMLRPCRequestHandler):\n\
             \x20   def log_message(self, *a): pass\n\
             server = SimpleXMLRPCServer(('127.0.0.1', 0), requestHandler=Handler, allow_none=True,\n\
             \x20   use_builtin_types=True, logRequests=False)\n\
             {setup}\n\
             print(server.server_address[1], flush=True)\n\
             server.serve_forever()\n"
        );
        PyServer::start(&script)
    }

    /// `http://127.0.0.1:PORT/RPC2`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/RPC2", self.port)
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scripted TCP server on 127.0.0.1: each accepted connection is handed to `handle` on its own
/// thread. The listener lives until the test process exits; handlers should end on their own
/// (for example when the client closes the connection).
pub struct RawServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// Every request head the server read with [`read_request`], in arrival order (shared with
    /// the handlers through [`Conn::requests`]).
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// How many connections were accepted so far.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

/// One accepted connection, with the shared request log.
pub struct Conn {
    /// The socket.
    pub stream: TcpStream,
    /// Where [`Conn::read_request`] records what it read.
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Conn {
    /// Reads one HTTP request (head and Content-Length body) and records it. `None` at EOF.
    pub fn read_request(&mut self) -> Option<Request> {
        let req = read_request(&mut self.stream)?;
        self.requests.lock().unwrap().push(req.clone());
        Some(req)
    }
}

impl RawServer {
    /// Binds 127.0.0.1:0 and serves every connection with `handle`.
    pub fn start<F>(handle: F) -> RawServer
    where
        F: Fn(Conn) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handle = Arc::new(handle);
        let log = requests.clone();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = connections.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let handle = handle.clone();
                let requests = log.clone();
                thread::spawn(move || handle(Conn { stream, requests }));
            }
        });
        RawServer { addr, requests, connections }
    }

    /// `http://127.0.0.1:PORT/RPC2`.
    pub fn url(&self) -> String {
        format!("http://{}/RPC2", self.addr)
    }
}

/// An HTTP request as a raw server read it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request line, e.g. `POST /RPC2 HTTP/1.1`.
    pub line: String,
    /// Header names (lowercased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (Content-Length bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// Reads one request head and its Content-Length body from `stream`; `None` on EOF or error.
pub fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let line = lines.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).ok()?;
    Some(Request { line, headers, body })
}

/// Writes a complete HTTP/1.1 response with a Content-Length body and `Connection: close`.
pub fn write_response(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A throwaway certificate authority and a server certificate it signed, made with the `openssl`
/// command in a fresh temporary directory (removed on drop).
pub struct TestPki {
    /// The directory holding the files.
    pub dir: std::path::PathBuf,
    /// The CA certificate (PEM).
    pub ca_cert: std::path::PathBuf,
    /// The server certificate (PEM), valid for `127.0.0.1` and `localhost`.
    pub server_cert: std::path::PathBuf,
    /// The server's private key (PEM).
    pub server_key: std::path::PathBuf,
}

impl TestPki {
    /// Generates the CA and a server certificate for `subject_alt_names` (openssl syntax, e.g.
    /// `IP:127.0.0.1,DNS:localhost`). Panics if `openssl` fails.
    pub fn generate(subject_alt_names: &str) -> TestPki {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gandish-pki-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = |name: &str| dir.join(name);
        let ext = p("ext.cnf");
        std::fs::write(
            &ext,
            format!(
                "subjectAltName={subject_alt_names}\nbasicConstraints=critical,CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl").args(args).output().expect("the openssl command is needed");
            assert!(
                out.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let s = |path: std::path::PathBuf| path.to_str().unwrap().to_owned();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=gandish test CA"];
        ca.extend(ec);
        let (ca_key, ca_cert) = (s(p("ca.key")), s(p("ca.pem")));
        ca.extend(["-keyout", &ca_key, "-out", &ca_cert]);
        ca.extend([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&ca);
        let (key, csr, cert) = (s(p("server.key")), s(p("server.csr")), s(p("server.pem")));
        let mut req = vec!["req", "-subj", "/CN=gandish test server", "-keyout", &key, "-out", &csr];
        req.extend(ec);
        run(&req);
        let ext_s = s(ext);
        run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            &cert,
            "-extfile",
            &ext_s,
        ]);
        TestPki { ca_cert: p("ca.pem"), server_cert: p("server.pem"), server_key: p("server.key"), dir }
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PyServer {
    /// Like [`PyServer::xmlrpc`], served over TLS with `cert` and `key`.
    pub fn xmlrpc_tls(setup: &str, cert: &std::path::Path, key: &std::path::Path) -> PyServer {
        let setup = format!(
            "import ssl\n\
             ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
             ctx.load_cert_chain({cert:?}, {key:?})\n\
             server.socket = ctx.wrap_socket(server.socket, server_side=True)\n\
             {setup}"
        );
        PyServer::xmlrpc(&setup)
    }
}

/// Reads `r` to its end on a thread, appending what arrives (lossily decoded) to the returned
/// buffer, so a test can poll a child process's output while it runs.
pub fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let b = buf.clone();
    thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

/// Runs the built `gandish` with `args`, stdin closed, and none of the variables it reads for
/// the key, the endpoint, trust or a proxy set, except those in `env`.
pub fn gandish(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gandish"));
    cmd.args(args).stdin(Stdio::null());
    for var in ["GANDI_API_KEY", "GANDI_URL", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run gandish")
}

/// What a command printed on stdout (UTF-8).
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// What a command printed on stderr (UTF-8).
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Asserts that `key` appears in neither of a command's outputs.
pub fn assert_no_key(o: &Output, key: &str) {
    assert!(!stdout(o).contains(key) && !stderr(o).contains(key), "the key leaked: {o:?}");
}
