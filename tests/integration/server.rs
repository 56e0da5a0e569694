//! The XML-RPC server against raw HTTP on `TcpStream`s and against Python's `xmlrpc.client`.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use gandish::xmlrpc::{
    CallContext, DateTime, Fault, Handler, Methods, Server, ServerConfig, Struct, Threading, Value,
    ValueWriter, decode_response, encode_call, fault_code,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A handler with a few methods, a reply-dropping method and a switchable `before_request`.
struct TestHandler {
    methods: Methods,
    refuse_with: Mutex<Option<u16>>,
    seen: Mutex<Vec<Vec<Value>>>,
    /// For `gate`: tells the test the call arrived, then waits for the test's go-ahead.
    gate: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
    /// For `rendezvous`: how many calls are inside it now.
    inside: (Mutex<i64>, Condvar),
}

impl TestHandler {
    fn new() -> Arc<TestHandler> {
        let mut m = Methods::new();
        m.add("echo", |params| Ok(Value::Array(params)))
            .add("add", |params| {
                let mut sum = 0i64;
                for (i, p) in params.iter().enumerate() {
                    sum += p.as_i64().ok_or_else(|| {
                        Fault::new(fault_code::INVALID_PARAMS, format!("param {i} is not an int"))
                    })?;
                }
                Ok(Value::Int(sum))
            })
            .add("fail", |_| Err(Fault::new(42, "the method said no")))
            .add("boom", |_| panic!("handler exploded (expected by the test)"))
            .add("nan", |_| Ok(Value::Double(f64::NAN)))
            .add("big", |params| {
                let n = params.first().and_then(Value::as_i64).unwrap_or(5000) as usize;
                Ok(Value::from("xml-rpc ".repeat(n / 8)))
            });
        Arc::new(TestHandler {
            methods: m,
            refuse_with: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
            inside: (Mutex::new(0), Condvar::new()),
        })
    }
}

impl Handler for TestHandler {
    fn call(&self, ctx: &mut CallContext, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        match method {
            "lost" => {
                ctx.drop_reply();
                Ok(Value::from("never sent"))
            }
            "gate" => {
                let (entered, release) = self.gate.lock().unwrap().take().expect("a gate set up");
                entered.send(()).unwrap();
                release.recv_timeout(Duration::from_secs(20)).expect("the test opens the gate");
                Ok(Value::from("passed"))
            }
            "record" => {
                self.seen.lock().unwrap().push(params.clone());
                Ok(Value::Array(params))
            }
            // Blocks until `n` calls are inside at once (so the server must run `n` handler
            // calls concurrently), or faults after 20 s.
            "rendezvous" => {
                let n = params.first().and_then(Value::as_i64).unwrap_or(2);
                let (count, cv) = &self.inside;
                let mut inside = count.lock().unwrap();
                *inside += 1;
                cv.notify_all();
                let (inside, wait) =
                    cv.wait_timeout_while(inside, Duration::from_secs(20), |c| *c < n).unwrap();
                drop(inside);
                if wait.timed_out() {
                    return Err(Fault::new(99, format!("fewer than {n} calls ran at once")));
                }
                Ok(Value::Int(n))
            }
            // Also streamed by `call_into`; these answers are for multicall entries and declines.
            "path" => Ok(Value::from("call")),
            "streamed" => Ok(Value::Array(params)),
            "declined" => Ok(Value::from("declined by call_into, answered by call")),
            _ => self.methods.call(ctx, method, params),
        }
    }

    fn call_into(
        &self,
        _ctx: &mut CallContext,
        method: &str,
        params: &[Value],
        out: &mut ValueWriter<'_>,
    ) -> Option<Result<(), Fault>> {
        match method {
            "path" => {
                out.string("call_into");
            }
            "streamed" => {
                out.begin_array();
                for p in params {
                    out.value(p);
                }
                out.end_array();
            }
            "declined" => {
                out.begin_array().string("written, then discarded");
                return None;
            }
            "stream_fault" => {
                out.begin_array().int(1);
                return Some(Err(Fault::new(7, "streamed no")));
            }
            "stream_nul" => {
                out.begin_array().string("ok").string("a\u{0}b").end_array();
            }
            "stream_unfinished" => {
                out.begin_struct();
            }
            "stream_panic" => {
                out.begin_array();
                panic!("streaming handler exploded (expected by the test)");
            }
            _ => return None,
        }
        Some(Ok(()))
    }

    fn method_names(&self) -> Vec<String> {
        let mut names = self.methods.method_names();
        names.extend(["gate", "lost", "record", "rendezvous"].map(String::from));
        names
    }

    fn before_request(&self, _peer: SocketAddr) -> Option<u16> {
        *self.refuse_with.lock().unwrap()
    }
}

fn start_with(handler: Arc<TestHandler>, config: ServerConfig) -> Server {
    Server::bind("127.0.0.1:0", handler, config).expect("bind a loopback port")
}

fn start() -> (Server, Arc<TestHandler>) {
    let h = TestHandler::new();
    (start_with(h.clone(), ServerConfig::default()), h)
}

/// A parsed HTTP response.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The XML-RPC response in the body (gunzipped if needed).
    fn xmlrpc(&self) -> Result<Value, Fault> {
        assert_eq!(self.status, 200, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("text/xml"));
        decode_response(&self.body).expect("a decodable methodResponse")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP connection.
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: &Server) -> Client {
        Client::connect_to(server.local_addr())
    }

    fn connect_to(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        // A safety net so a broken server fails the test instead of hanging it.
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Client { stream, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn post(&mut self, path: &str, body: &[u8], extra: &str) {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        );
        self.send(&[head.as_bytes(), body].concat());
    }

    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, Fault> {
        self.post("/RPC2", &encode_call(method, params).unwrap(), "");
        self.response().expect("a response").xmlrpc()
    }

    /// Reads one response; `None` if the connection closed first.
    fn response(&mut self) -> Option<Resp> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => panic!("no response within the safety timeout"),
            Err(_) => return None,
        }
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').expect("a header line");
            headers.push((n.to_owned(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        Some(Resp { status, headers, body })
    }

    /// Reads until the server closes the connection (end of file or a reset) and returns what
    /// came before; panics if it stays open.
    fn read_until_closed(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Err(e) if is_timeout(&e) => panic!("the connection is still open"),
            Ok(_) | Err(_) => rest,
        }
    }

    /// Asserts that the server closed the connection, ignoring any bytes before that.
    fn assert_closed(&mut self) {
        self.read_until_closed();
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Runs a Python script with the server URL as `sys.argv[1]` and returns its stdout.
fn python(script: &str, url: &str) -> String {
    let out = Command::new("python3").args(["-c", script, url]).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

fn fault(r: Result<Value, Fault>) -> Fault {
    r.expect_err("a fault")
}

// ---------------------------------------------------------------------------------------------
// Interop with Python
// ---------------------------------------------------------------------------------------------

#[test]
fn python_client_round_trips_every_type() {
    let (server, handler) = start();
    let script = r#"
import sys, datetime, xmlrpc.client as x
p = x.ServerProxy(sys.argv[1], allow_none=True, use_builtin_types=True)
args = [7, True, 2.5, datetime.datetime(2024, 5, 17, 13, 45, 9), b"\x00\xffbin", None,
        {"name": "a&<b>", "list": [1, [2, "x"], {"deep": False}]}, "h\u00e9llo", -2**31, ""]
r = p.record(*args)
assert r == args, r
print(p.add(2, 40))
print(p.echo())
"#;
    let out = python(script, &server.url("/RPC2"));
    assert_eq!(out, "42\n[]\n");
    let seen = handler.seen.lock().unwrap();
    let args = &seen[0];
    assert_eq!(args.len(), 10);
    assert_eq!(args[0], Value::Int(7));
    assert_eq!(args[1], Value::Bool(true));
    assert_eq!(args[2], Value::Double(2.5));
    assert_eq!(args[3], Value::DateTime(DateTime::new(2024, 5, 17, 13, 45, 9).unwrap()));
    assert_eq!(args[4], Value::Base64(b"\x00\xffbin".to_vec()));
    assert_eq!(args[5], Value::Nil);
    let s = args[6].as_struct().unwrap();
    assert_eq!(s.get("name").and_then(Value::as_str), Some("a&<b>"));
    assert_eq!(s.get("list").and_then(Value::as_array).map(<[Value]>::len), Some(3));
    assert_eq!(args[7].as_str(), Some("héllo"));
    assert_eq!(args[8], Value::Int(-(1 << 31)));
    assert_eq!(args[9].as_str(), Some(""));
}

#[test]
fn python_client_sees_faults_introspection_multicall_and_gzip() {
    let (server, _h) = start();
    let script = r#"
import sys, xmlrpc.client as x
p = x.ServerProxy(sys.argv[1])
try:
    p.fail()
except x.Fault as f:
    print(f.faultCode, f.faultString)
try:
    p.nosuch()
except x.Fault as f:
    print(f.faultCode)
print(",".join(p.system.listMethods()))
m = x.MultiCall(p)
m.add(1, 2)
m.echo("a")
print(list(m())[:2])
print(len(p.big(100000)))
"#;
    let out = python(script, &server.url("/RPC2"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "42 the method said no");
    assert_eq!(lines[1], "-32601");
    assert_eq!(
        lines[2],
        "add,big,boom,echo,fail,gate,lost,nan,record,rendezvous,system.listMethods,system.methodHelp,\
         system.methodSignature,system.multicall"
    );
    assert_eq!(lines[3], "[3, ['a']]");
    assert_eq!(lines[4], "100000");
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

#[test]
fn keep_alive_serves_several_calls_on_one_connection() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    assert_eq!(c.call("add", &[1.into(), 2.into()]), Ok(Value::Int(3)));
    assert_eq!(c.call("add", &[3.into(), 4.into()]), Ok(Value::Int(7)));
    // Two pipelined requests in one write.
    let body = encode_call("add", &[5.into(), 6.into()]).unwrap();
    let one = format!("POST /RPC2 HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len());
    let one = [one.as_bytes(), &body].concat();
    c.send(&[one.as_slice(), &one].concat());
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Int(11)));
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Int(11)));
    let stats = server.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.requests, 4);
}

#[test]
fn http_1_0_closes_unless_asked_to_keep_alive() {
    let (server, _h) = start();
    let body = encode_call("add", &[1.into()]).unwrap();
    let req = |extra: &str| {
        [format!("POST /RPC2 HTTP/1.0\r\nContent-Length: {}\r\n{extra}\r\n", body.len()).as_bytes(), &body]
            .concat()
    };
    let mut c = Client::connect(&server);
    c.send(&req("Connection: keep-alive\r\n"));
    let r = c.response().unwrap();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(r.xmlrpc(), Ok(Value::Int(1)));
    c.send(&req(""));
    let r = c.response().unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.xmlrpc(), Ok(Value::Int(1)));
    c.assert_closed();
}

#[test]
fn connection_close_is_honoured() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    c.post("/RPC2", &encode_call("add", &[1.into()]).unwrap(), "Connection: close\r\n");
    let r = c.response().unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.xmlrpc(), Ok(Value::Int(1)));
    c.assert_closed();
}

/// Sends `request` on a fresh connection and returns the response, asserting the server then
/// closes the connection.
fn refused(server: &Server, request: &[u8]) -> Resp {
    let mut c = Client::connect(server);
    c.send(request);
    let r = c.response().expect("an error response");
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed();
    r
}

#[test]
fn non_post_gets_405_with_allow() {
    let (server, _h) = start();
    let r = refused(&server, b"GET /RPC2 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    assert!(r.text().contains("GET"), "{}", r.text());
}

#[test]
fn post_without_content_length_or_chunked_gets_411() {
    let (server, _h) = start();
    let r = refused(&server, b"POST /RPC2 HTTP/1.1\r\nHost: t\r\n\r\n<methodCall/>");
    assert_eq!(r.status, 411);
    assert!(r.text().contains("Content-Length"), "{}", r.text());
    let r = refused(
        &server,
        b"POST /RPC2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 411);
    assert!(r.text().contains("chunked"), "{}", r.text());
}

#[test]
fn oversized_declared_body_gets_413_before_the_body_is_sent() {
    let h = TestHandler::new();
    let config = ServerConfig {
        limits: gandish::xmlrpc::Limits { max_depth: 128, max_body: 1000 },
        // Were the server to wait for the body, the client's safety timeout would fire first.
        body_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let server = start_with(h, config);
    // Only the head is sent; the body never comes.
    let r = refused(&server, b"POST /RPC2 HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n");
    assert_eq!(r.status, 413);
    assert!(r.text().contains("1001") && r.text().contains("1000"), "{}", r.text());
    // Exactly at the cap is fine.
    let body = format!(
        "<methodCall><methodName>echo</methodName><params></params></methodCall>{}",
        " ".repeat(1000)
    );
    let mut c = Client::connect(&server);
    c.post("/RPC2", &body.as_bytes()[..1000], "");
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Array(vec![])));
}

#[test]
fn unknown_path_gets_404_and_configured_paths_are_served() {
    let h = TestHandler::new();
    let config = ServerConfig { paths: vec!["/api".into()], ..ServerConfig::default() };
    let server = start_with(h, config);
    let body = encode_call("add", &[1.into()]).unwrap();
    let mut c = Client::connect(&server);
    c.post("/api?x=1", &body, "");
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Int(1)));
    let req =
        [format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(), &body].concat();
    let r = refused(&server, &req);
    assert_eq!(r.status, 404);
    assert!(r.text().contains("/RPC2"), "{}", r.text());

    // An empty list serves every path.
    let server = start_with(TestHandler::new(), ServerConfig { paths: vec![], ..ServerConfig::default() });
    let mut c = Client::connect(&server);
    c.post("/any/where", &body, "");
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Int(1)));
}

#[test]
fn garbage_and_malformed_heads_get_400() {
    let (server, _h) = start();
    let r = refused(&server, b"\x16\x03\x01 this is not http\r\n\r\n");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("line 1"), "{}", r.text());
    let r = refused(&server, b"POST /RPC2 HTTP/1.1\r\nHost t\r\n\r\n");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("line 2") && r.text().contains("colon"), "{}", r.text());
    let r = refused(&server, b"POST /RPC2 HTTP/1.1\r\nContent-Length: ten\r\n\r\n");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Content-Length"), "{}", r.text());
}

#[test]
fn oversized_head_gets_431() {
    let (server, _h) = start();
    let big = format!("POST /RPC2 HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(refused(&server, big.as_bytes()).status, 431);
    let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
    let req = format!("POST /RPC2 HTTP/1.1\r\n{many}\r\n");
    assert_eq!(refused(&server, req.as_bytes()).status, 431);
}

#[test]
fn expect_100_continue_is_answered() {
    let (server, _h) = start();
    let body = encode_call("add", &[9.into()]).unwrap();
    let mut c = Client::connect(&server);
    c.send(
        format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n", body.len())
            .as_bytes(),
    );
    assert_eq!(c.response().unwrap().status, 100);
    c.send(&body);
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Int(9)));
}

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

#[test]
fn gzip_request_bodies_are_decompressed_under_the_cap() {
    let h = TestHandler::new();
    let config = ServerConfig {
        limits: gandish::xmlrpc::Limits { max_depth: 128, max_body: 4096 },
        ..Default::default()
    };
    let server = start_with(h, config);
    let mut c = Client::connect(&server);
    c.post(
        "/RPC2",
        &gzip(&encode_call("add", &[20.into(), 22.into()]).unwrap()),
        "Content-Encoding: gzip\r\n",
    );
    assert_eq!(c.response().unwrap().xmlrpc(), Ok(Value::Int(42)));

    // Small on the wire, over the cap once decompressed: refused, and the connection goes on.
    let bomb = encode_call("echo", &[Value::from(" ".repeat(100_000))]).unwrap();
    let bomb = gzip(&bomb);
    assert!(bomb.len() < 4096);
    c.post("/RPC2", &bomb, "Content-Encoding: gzip\r\n");
    let r = c.response().unwrap();
    assert_eq!(r.status, 413);
    assert!(r.text().contains("4096"), "{}", r.text());

    let mut c = Client::connect(&server);
    c.post("/RPC2", b"\x1f\x8bnot really gzip", "Content-Encoding: gzip\r\n");
    let r = c.response().unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("gzip"), "{}", r.text());
}

#[test]
fn large_responses_are_gzipped_only_when_accepted() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    let call = encode_call("big", &[5000.into()]).unwrap();
    c.post("/RPC2", &call, "Accept-Encoding: gzip\r\n");
    let r = c.response().unwrap();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let xml = gunzip(&r.body);
    let value = decode_response(&xml).unwrap().unwrap();
    assert_eq!(value.as_str().map(str::len), Some(5000));
    assert!(r.body.len() < xml.len());

    c.post("/RPC2", &call, "");
    let r = c.response().unwrap();
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.xmlrpc().unwrap().as_str().map(str::len), Some(5000));

    // Small responses stay plain even when gzip is accepted.
    c.post("/RPC2", &encode_call("add", &[1.into()]).unwrap(), "Accept-Encoding: gzip\r\n");
    let r = c.response().unwrap();
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.xmlrpc(), Ok(Value::Int(1)));
}

// ---------------------------------------------------------------------------------------------
// XML-RPC
// ---------------------------------------------------------------------------------------------

#[test]
fn system_list_methods_lists_handler_and_system_methods_sorted() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    let names = c.call("system.listMethods", &[]).unwrap();
    let names: Vec<&str> = names.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "add",
            "big",
            "boom",
            "echo",
            "fail",
            "gate",
            "lost",
            "nan",
            "record",
            "rendezvous",
            "system.listMethods",
            "system.methodHelp",
            "system.methodSignature",
            "system.multicall"
        ]
    );
    assert_eq!(c.call("system.methodHelp", &["add".into()]), Ok(Value::from("")));
    assert_eq!(c.call("system.methodSignature", &["add".into()]), Ok(Value::from("undef")));
    assert_eq!(fault(c.call("system.methodHelp", &[])).code, fault_code::INVALID_PARAMS);
}

fn entry(method: &str, params: Vec<Value>) -> Value {
    Value::Struct(Struct::new().with("methodName", method).with("params", Value::Array(params)))
}

#[test]
fn multicall_mixes_results_and_fault_entries() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    let calls = Value::Array(vec![
        entry("add", vec![2.into(), 3.into()]),
        entry("fail", vec![]),
        entry("no.such.method", vec![]),
        entry("system.multicall", vec![Value::Array(vec![entry("add", vec![1.into()])])]),
        Value::Int(5),
        Value::Struct(Struct::new().with("methodName", "add")),
        Value::Struct(Struct::new().with("methodName", "add").with("params", 1)),
        entry("nan", vec![]),
        entry("boom", vec![]),
        entry("system.listMethods", vec![]),
        entry("bad name!", vec![]),
    ]);
    let out = c.call("system.multicall", &[calls]).unwrap();
    let out = out.as_array().unwrap();
    assert_eq!(out.len(), 11);
    let fault_of = |v: &Value| Fault::from_value(v).unwrap_or_else(|| panic!("a fault entry, got {v:?}"));
    assert_eq!(out[0], Value::Array(vec![Value::Int(5)]));
    assert_eq!(fault_of(&out[1]), Fault::new(42, "the method said no"));
    assert_eq!(fault_of(&out[2]).code, fault_code::METHOD_NOT_FOUND);
    let nested = fault_of(&out[3]);
    assert!(nested.message.contains("nested system.multicall"), "{nested:?}");
    assert!(fault_of(&out[4]).message.contains("entry 4"), "{:?}", out[4]);
    // An entry without params is called with none.
    assert_eq!(out[5], Value::Array(vec![Value::Int(0)]));
    assert!(fault_of(&out[6]).message.contains("params"), "{:?}", out[6]);
    let nan = fault_of(&out[7]);
    assert_eq!(nan.code, fault_code::INTERNAL_ERROR);
    assert!(nan.message.contains("not finite"), "{nan:?}");
    assert_eq!(fault_of(&out[8]).code, fault_code::INTERNAL_ERROR);
    assert!(out[9].as_array().unwrap()[0].as_array().unwrap().len() > 4);
    assert_eq!(fault_of(&out[10]).code, fault_code::INVALID_REQUEST);

    // The batch as a whole: wrong shape, or too many calls.
    assert_eq!(fault(c.call("system.multicall", &[1.into()])).code, fault_code::INVALID_PARAMS);
    let too_many = Value::Array((0..1001).map(|_| entry("add", vec![])).collect());
    let f = fault(c.call("system.multicall", &[too_many]));
    assert!(f.message.contains("1001") && f.message.contains("1000"), "{f:?}");
}

#[test]
fn handler_panic_becomes_a_fault_and_the_server_keeps_serving() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    let f = fault(c.call("boom", &[]));
    assert_eq!(f.code, fault_code::INTERNAL_ERROR);
    assert!(f.message.starts_with("internal error"), "{f:?}");
    assert!(!f.message.contains("exploded"), "the panic message leaked: {f:?}");
    // Same connection, then a new one.
    assert_eq!(c.call("add", &[1.into()]), Ok(Value::Int(1)));
    assert_eq!(Client::connect(&server).call("add", &[2.into()]), Ok(Value::Int(2)));
}

#[test]
fn handler_fault_becomes_a_fault_response() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    assert_eq!(c.call("fail", &[]), Err(Fault::new(42, "the method said no")));
    let f = fault(c.call("add", &["x".into()]));
    assert_eq!(f, Fault::new(fault_code::INVALID_PARAMS, "param 0 is not an int"));
}

#[test]
fn call_into_answers_single_calls_and_multicall_entries_go_through_call() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    assert_eq!(c.call("path", &[]), Ok(Value::from("call_into")));
    let out = c.call("system.multicall", &[Value::Array(vec![entry("path", vec![])])]).unwrap();
    assert_eq!(out, Value::Array(vec![Value::Array(vec![Value::from("call")])]));
    // Declining falls back to `call`, and what was written meanwhile is gone.
    c.post("/RPC2", &encode_call("declined", &[]).unwrap(), "");
    let reply = c.response().unwrap();
    assert!(!reply.text().contains("discarded"), "{}", reply.text());
    assert_eq!(reply.xmlrpc(), Ok(Value::from("declined by call_into, answered by call")));
}

#[test]
fn a_streamed_result_is_byte_identical_to_the_value_path() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    let params = vec![
        Value::Int(1 << 40),
        Value::Bool(false),
        Value::from("a&b <c> \r\n \u{e9}"),
        Value::Double(-0.25),
        Value::DateTime(DateTime::parse("19980717T14:08:55").unwrap()),
        Value::Base64(vec![0, 1, 2, 255]),
        Value::Nil,
        Value::Struct(Struct::new().with("k", Value::Array(vec![Value::Struct(Struct::new())]))),
        Value::from("long enough to be gzipped ".repeat(100)),
    ];
    for accept in ["", "Accept-Encoding: gzip\r\n"] {
        let mut body = |method: &str| {
            c.post("/RPC2", &encode_call(method, &params).unwrap(), accept);
            let r = c.response().unwrap();
            assert_eq!(r.header("content-encoding").is_some(), !accept.is_empty());
            r.body
        };
        let (streamed, by_value) = (body("streamed"), body("echo"));
        assert!(streamed == by_value, "the two answers differ (gzip: {})", !accept.is_empty());
    }
    assert_eq!(c.call("streamed", &params), Ok(Value::Array(params)));
}

#[test]
fn call_into_faults_encoding_errors_misuse_and_panics() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    assert_eq!(c.call("stream_fault", &[]), Err(Fault::new(7, "streamed no")));
    let f = fault(c.call("stream_nul", &[]));
    assert_eq!(
        f,
        Fault::new(
            fault_code::INTERNAL_ERROR,
            "internal error: cannot encode the result of stream_nul: result[1]: character U+0000 at char 1 \
             cannot be carried by XML; send binary data as base64"
        )
    );
    let f = fault(c.call("stream_unfinished", &[]));
    assert_eq!(f.code, fault_code::INTERNAL_ERROR);
    assert!(
        f.message.ends_with(
            "result: ValueWriter misuse: the value is unfinished: an array or struct is still open"
        ),
        "{f:?}"
    );
    let f = fault(c.call("stream_panic", &[]));
    assert_eq!(f, Fault::new(fault_code::INTERNAL_ERROR, "internal error in \"stream_panic\""));
    // The connection carries on.
    assert_eq!(c.call("path", &[]), Ok(Value::from("call_into")));
}

#[test]
fn undecodable_calls_get_standard_fault_codes_naming_the_problem() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    let mut ask = |body: &[u8]| {
        c.post("/RPC2", body, "");
        fault(c.response().unwrap().xmlrpc())
    };
    let f = ask(b"<methodCall><methodName>add</methodCall>");
    assert_eq!(f.code, fault_code::PARSE_ERROR);
    assert!(f.message.contains("malformed XML at byte"), "{f:?}");
    let f = ask(b"<methodCall><params></params></methodCall>");
    assert_eq!(f.code, fault_code::INVALID_REQUEST);
    let f = ask(b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><methodCall/>");
    assert!(f.message.contains("DOCTYPE"), "{f:?}");
    let f = ask(b"<methodCall><methodName>no.such</methodName></methodCall>");
    assert_eq!(f.code, fault_code::METHOD_NOT_FOUND);
    let f = ask(b"<methodCall><methodName>bad name</methodName></methodCall>");
    assert_eq!(f.code, fault_code::INVALID_REQUEST);
    assert!(f.message.contains("bad name"), "{f:?}");
    let f = ask(&encode_call("nan", &[]).unwrap());
    assert_eq!(f.code, fault_code::INTERNAL_ERROR);
    assert!(f.message.contains("not finite"), "{f:?}");
}

// ---------------------------------------------------------------------------------------------
// Timeouts, hooks, limits, shutdown
// ---------------------------------------------------------------------------------------------

#[test]
fn slowloris_is_cut_off_by_header_timeout_while_others_are_served() {
    let config = ServerConfig { header_timeout: Duration::from_secs(1), ..ServerConfig::default() };
    let server = start_with(TestHandler::new(), config);
    let mut slow = Client::connect(&server);
    let done = Arc::new(AtomicBool::new(false));
    // The trickler sends one byte every 100 ms for up to 30 s and notes when the server cuts
    // it off. A timer restarted on each byte would never fire.
    let mut writer = slow.stream.try_clone().unwrap();
    let flag = done.clone();
    let trickler = thread::spawn(move || {
        let head = b"POST /RPC2 HTTP/1.1\r\nX-Slow: ".iter().chain(std::iter::repeat(&b'a'));
        for &b in head.take(300) {
            if writer.write_all(&[b]).is_err() || flag.load(Ordering::SeqCst) {
                return true;
            }
            thread::sleep(Duration::from_millis(100));
        }
        false
    });
    // Meanwhile a well-behaved client is served.
    assert_eq!(Client::connect(&server).call("add", &[1.into(), 1.into()]), Ok(Value::Int(2)));
    // The slow connection gets closed (with or without a 408 first).
    slow.assert_closed();
    done.store(true, Ordering::SeqCst);
    assert!(trickler.join().unwrap(), "the trickler ran to its end without being cut off");
}

#[test]
fn drop_reply_closes_without_a_reply() {
    let (server, _h) = start();
    let mut c = Client::connect(&server);
    c.post("/RPC2", &encode_call("lost", &[]).unwrap(), "");
    let rest = c.read_until_closed();
    assert!(rest.is_empty(), "got {:?}", String::from_utf8_lossy(&rest));
    // The server still serves others.
    assert_eq!(Client::connect(&server).call("add", &[3.into()]), Ok(Value::Int(3)));
}

#[test]
fn before_request_status_is_answered_and_keep_alive_survives() {
    let (server, handler) = start();
    let mut c = Client::connect(&server);
    *handler.refuse_with.lock().unwrap() = Some(503);
    c.post("/RPC2", &encode_call("record", &[1.into()]).unwrap(), "");
    let r = c.response().unwrap();
    assert_eq!(r.status, 503);
    assert!(r.body.is_empty());
    *handler.refuse_with.lock().unwrap() = None;
    assert_eq!(c.call("add", &[4.into()]), Ok(Value::Int(4)));
    assert!(handler.seen.lock().unwrap().is_empty(), "the refused call reached the handler");
}

#[test]
fn connections_beyond_the_limit_wait_and_idle_ones_make_room() {
    let config = ServerConfig { max_connections: 2, ..ServerConfig::default() };
    let server = start_with(TestHandler::new(), config);
    let mut a = Client::connect(&server);
    let mut b = Client::connect(&server);
    assert_eq!(a.call("add", &[1.into()]), Ok(Value::Int(1)));
    assert_eq!(b.call("add", &[2.into()]), Ok(Value::Int(2)));
    // Both slots are held by idle keep-alive connections; a third client is still served.
    assert_eq!(Client::connect(&server).call("add", &[3.into()]), Ok(Value::Int(3)));
    assert!(server.stats().connections_open <= 2);
    // Exactly one of the idle connections was closed to make room.
    let closed = |c: &mut Client| {
        c.stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        match c.reader.read(&mut [0u8; 1]) {
            Ok(0) => true,
            Err(e) => !is_timeout(&e),
            Ok(_) => panic!("unexpected bytes on an idle connection"),
        }
    };
    assert!(closed(&mut a) != closed(&mut b), "not exactly one idle connection was closed");
}

#[test]
fn shutdown_closes_idle_connections_joins_and_frees_the_port() {
    let (server, _h) = start();
    let addr = server.local_addr();
    let mut idle = Client::connect(&server);
    assert_eq!(idle.call("add", &[1.into()]), Ok(Value::Int(1)));
    server.shutdown();
    idle.assert_closed();
    assert!(TcpStream::connect(addr).is_err(), "the port still accepts connections");
}

#[test]
fn shutdown_handle_stops_a_waiting_server() {
    let (server, _h) = start();
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let mut c = Client::connect(&server);
    assert_eq!(c.call("add", &[1.into()]), Ok(Value::Int(1)));
    let stopper = thread::spawn(move || handle.shutdown());
    server.wait();
    stopper.join().unwrap();
    c.assert_closed();
    assert!(TcpStream::connect(addr).is_err(), "the port still accepts connections");
}

#[test]
fn shutdown_lets_a_call_in_progress_finish_and_reply() {
    let (server, handler) = start();
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    *handler.gate.lock().unwrap() = Some((entered_tx, release_rx));
    let mut c = Client::connect(&server);
    c.post("/RPC2", &encode_call("gate", &[]).unwrap(), "");
    entered_rx.recv_timeout(Duration::from_secs(20)).expect("the call reached the handler");
    server.shutdown_handle().shutdown();
    release_tx.send(()).unwrap();
    let r = c.response().expect("the reply of the call in progress");
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.xmlrpc(), Ok(Value::from("passed")));
    c.assert_closed();
    server.shutdown();
}

#[test]
fn stalled_bodies_get_408_and_idle_connections_are_closed() {
    let config = ServerConfig {
        body_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let server = start_with(TestHandler::new(), config);
    // Half a body, then nothing.
    let mut c = Client::connect(&server);
    c.send(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\n<methodCall>");
    let r = c.response().expect("a 408");
    assert_eq!(r.status, 408);
    assert!(r.text().contains("body"), "{}", r.text());
    c.assert_closed();
    // A kept-alive connection left idle is closed without a word.
    let mut c = Client::connect(&server);
    assert_eq!(c.call("add", &[1.into()]), Ok(Value::Int(1)));
    assert!(c.read_until_closed().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Threading models
// ---------------------------------------------------------------------------------------------

/// Both models, for the tests that must hold under either.
const MODELS: [Threading; 2] = [Threading::EventLoop, Threading::PerConnection];

#[test]
fn idle_kept_alive_connections_hold_no_thread_in_the_event_loop() {
    for threading in MODELS {
        let config = ServerConfig { threading, workers: 2, ..ServerConfig::default() };
        let server = start_with(TestHandler::new(), config);
        let mut clients: Vec<Client> = (0..40).map(|_| Client::connect(&server)).collect();
        for (i, c) in clients.iter_mut().enumerate() {
            assert_eq!(c.call("add", &[(i as i64).into()]), Ok(Value::Int(i as i64)));
        }
        let stats = server.stats();
        assert_eq!(stats.connections_open, 40, "{threading:?}: {stats:?}");
        if threading == Threading::EventLoop {
            // Two workers, plus any the monitor started for a worker it saw asleep in a request.
            assert!(stats.workers < 20, "{threading:?}: {stats:?}");
        } else {
            assert_eq!(stats.workers, 40, "{threading:?}: {stats:?}");
        }
        // Every idle connection is still served, in any order.
        for (i, c) in clients.iter_mut().enumerate().rev() {
            assert_eq!(c.call("add", &[(i as i64).into(), 1.into()]), Ok(Value::Int(i as i64 + 1)));
        }
    }
}

#[test]
fn workers_blocked_in_calls_are_replaced_so_others_still_run() {
    for threading in MODELS {
        // One worker to start with: six calls can only meet inside the handler if the event loop
        // starts more workers while the first ones are blocked.
        let config = ServerConfig { threading, workers: 1, ..ServerConfig::default() };
        let server = start_with(TestHandler::new(), config);
        let addr = server.local_addr();
        let callers: Vec<_> = (0..6)
            .map(|_| {
                thread::spawn(move || {
                    let mut c = Client::connect_to(addr);
                    c.call("rendezvous", &[6.into()])
                })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.join().unwrap(), Ok(Value::Int(6)), "{threading:?}");
        }
    }
}

#[test]
fn timeouts_and_connection_limits_hold_in_both_models() {
    for threading in MODELS {
        let config = ServerConfig {
            threading,
            max_connections: 2,
            header_timeout: Duration::from_secs(1),
            keep_alive_timeout: Duration::from_secs(1),
            ..ServerConfig::default()
        };
        let server = start_with(TestHandler::new(), config);
        // A connection that never sends a byte is closed after header_timeout.
        let mut silent = Client::connect(&server);
        assert!(silent.read_until_closed().is_empty(), "{threading:?}");
        // A kept-alive connection left idle is closed after keep_alive_timeout.
        let mut idle = Client::connect(&server);
        assert_eq!(idle.call("add", &[1.into()]), Ok(Value::Int(1)));
        assert!(idle.read_until_closed().is_empty(), "{threading:?}");
        // A half head gets 408 after header_timeout.
        let mut half = Client::connect(&server);
        half.send(b"POST /RPC2 HTTP/1.1\r\nContent-");
        assert_eq!(half.response().expect("a 408").status, 408, "{threading:?}");
        // Pipelined requests on one connection are all answered, in order.
        let mut piped = Client::connect(&server);
        let one = encode_call("add", &[1.into()]).unwrap();
        let two = encode_call("add", &[2.into()]).unwrap();
        let req = |b: &[u8]| {
            [format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {}\r\n\r\n", b.len()).as_bytes(), b].concat()
        };
        piped.send(&[req(&one), req(&two)].concat());
        assert_eq!(piped.response().unwrap().xmlrpc(), Ok(Value::Int(1)), "{threading:?}");
        assert_eq!(piped.response().unwrap().xmlrpc(), Ok(Value::Int(2)), "{threading:?}");
        drop(piped);
        // Shutdown closes what is open and frees the port.
        let mut open = Client::connect(&server);
        assert_eq!(open.call("add", &[3.into()]), Ok(Value::Int(3)));
        let addr = server.local_addr();
        server.shutdown();
        open.assert_closed();
        assert!(TcpStream::connect(addr).is_err(), "{threading:?}: the port still accepts connections");
    }
}
