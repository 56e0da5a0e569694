//! The blocking client against real peers: Python's `SimpleXMLRPCServer` and scripted raw HTTP
//! servers on 127.0.0.1.

use crate::common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{PyServer, RawServer, closed_port, write_response};
use gandish::xmlrpc::client::{Error, USER_AGENT};
use gandish::xmlrpc::{Client, ClientConfig, DateTime, DecodeError, Limits, Struct, Value, encode_fault};

const ECHO: &str = "server.register_function(lambda *a: list(a), 'echo')\n\
                    server.register_function(lambda *a: a[0], 'first')";

fn client(url: &str) -> Client {
    Client::new(url, ClientConfig::default().with_timeout(Duration::from_secs(20))).unwrap()
}

fn fault_xml(code: i64, message: &str) -> Vec<u8> {
    encode_fault(&gandish::xmlrpc::Fault::new(code, message))
}

#[test]
fn every_type_round_trips_through_python() {
    let py = PyServer::xmlrpc(ECHO);
    let c = client(&py.url());
    let params = vec![
        Value::Int(42),
        Value::Int(-2_147_483_648),
        Value::Bool(true),
        Value::Bool(false),
        Value::from("héllo <&> \"world\"\n\ttab"),
        Value::from(""),
        Value::Double(1.5),
        Value::Double(-0.25),
        Value::Double(1.0),
        Value::DateTime(DateTime::parse("20111014T14:36:30").unwrap()),
        Value::Base64(vec![0, 1, 2, 255, 254, b'<']),
        Value::Base64(Vec::new()),
        Value::Nil,
        Value::Array(vec![Value::Int(1), Value::from("two"), Value::Array(vec![])]),
        Value::Struct(
            Struct::new()
                .with("zeta", 1)
                .with("alpha", Value::Struct(Struct::new().with("inner", Value::Nil)))
                .with("04", "numeric-looking key"),
        ),
        Value::Struct(Struct::new()),
    ];
    let got = c.call("echo", &params).unwrap();
    assert_eq!(got, Value::Array(params.clone()));
    // Each value alone too, so a type that only works inside an array would be caught.
    for p in &params {
        assert_eq!(&c.call("first", std::slice::from_ref(p)).unwrap(), p);
    }
}

#[test]
fn a_fault_is_error_fault_with_code_and_string() {
    let py = PyServer::xmlrpc(
        "def boom(*a):\n    raise xmlrpc.client.Fault(510150, 'Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]')\n\
         server.register_function(boom, 'boom')",
    );
    let c = client(&py.url());
    let e = c.call("boom", &[]).unwrap_err();
    assert!(e.is_fault() && !e.maybe_applied() && !e.is_transport());
    let f = e.fault().unwrap();
    assert_eq!(f.code, 510150);
    assert_eq!(f.message, "Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]");
    // An unknown method is a fault from Python, too.
    let e = c.call("no.such.method", &[]).unwrap_err();
    assert!(e.fault().unwrap().message.contains("no.such.method"), "{e}");
}

#[test]
fn a_fault_on_http_500_is_the_fault() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            let body = fault_xml(4, "Too many parameters.");
            write_response(&mut conn.stream, "500 Internal Server Error", "text/xml; charset=utf-8", &body);
        }
    });
    let e = client(&server.url()).call("x", &[]).unwrap_err();
    let f = e.fault().unwrap_or_else(|| panic!("expected a fault, got {e:?}"));
    assert_eq!((f.code, f.message.as_str()), (4, "Too many parameters."));
}

#[test]
fn a_non_xml_502_is_http_502() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            write_response(&mut conn.stream, "502 Bad Gateway", "text/html", b"<html>bad gateway</html>");
        }
    });
    match client(&server.url()).call("x", &[]).unwrap_err() {
        e @ Error::Http { status: 502, .. } => {
            assert!(e.maybe_applied());
            assert!(e.to_string().contains("502"), "{e}");
            let Error::Http { body_excerpt, .. } = e else { unreachable!() };
            assert_eq!(body_excerpt, "<html>bad gateway</html>");
        }
        other => panic!("expected Http 502, got {other:?}"),
    }
}

#[test]
fn a_404_with_an_html_body_is_http_404_and_not_applied() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            write_response(&mut conn.stream, "404 Not Found", "text/xml", b"<html>nope</html>");
        }
    });
    let e = client(&server.url()).call("x", &[]).unwrap_err();
    assert!(matches!(e, Error::Http { status: 404, .. }), "{e:?}");
    assert!(!e.maybe_applied());
}

#[test]
fn redirects_are_not_followed() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            let _ = conn.stream.write_all(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let e = client(&server.url()).call("x", &[]).unwrap_err();
    assert!(matches!(e, Error::Http { status: 301, .. }), "{e:?}");
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

#[test]
fn a_200_with_malformed_xml_is_a_decode_error() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            write_response(&mut conn.stream, "200 OK", "text/xml", b"<methodResponse><params><param>");
        }
    });
    let e = client(&server.url()).call("x", &[]).unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
    assert!(e.is_transport() && e.maybe_applied());
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = RawServer::start(|mut conn| {
        let _ = conn.read_request();
        // Hold the connection open without answering until the client gives up.
        let mut buf = [0u8; 64];
        while matches!(conn.stream.read(&mut buf), Ok(n) if n > 0) {}
    });
    let cfg = ClientConfig::default().with_timeout(Duration::from_secs(1));
    let e = Client::new(&server.url(), cfg).unwrap().call("x", &[]).unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.maybe_applied(), "a timeout after sending may have been applied");
    assert!(matches!(e, Error::Timeout { connecting: false, limit, .. } if limit == Duration::from_secs(1)));
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let url = format!("http://127.0.0.1:{}/RPC2", closed_port());
    let e = client(&url).call("x", &[]).unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    assert!(!e.maybe_applied() && !e.is_closed_before_reply());
    assert!(e.to_string().contains("refused"), "{e}");
}

#[test]
fn a_connection_closed_after_the_request_is_closed_before_reply() {
    let server = RawServer::start(|mut conn| {
        let _ = conn.read_request();
        // Dropping the stream closes the connection without a reply.
    });
    let e = client(&server.url()).call("x", &[]).unwrap_err();
    assert!(e.is_closed_before_reply(), "{e:?}");
    assert!(e.maybe_applied() && !e.is_connect());
    assert_eq!(server.requests.lock().unwrap().len(), 1, "the request did reach the server");
}

#[test]
fn a_reply_cut_in_the_middle_is_closed_before_reply() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            let _ = conn.stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<methodResponse>",
            );
        }
    });
    let e = client(&server.url()).call("x", &[]).unwrap_err();
    assert!(e.is_closed_before_reply(), "{e:?}");
}

#[test]
fn a_gzip_response_is_decoded() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            let xml = format!(
                "<?xml version=\"1.0\"?><methodResponse><params><param><value><string>{}</string></value></param></params></methodResponse>",
                "gzipped ".repeat(500)
            );
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(xml.as_bytes()).unwrap();
            let body = gz.finish().unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = conn.stream.write_all(head.as_bytes());
            let _ = conn.stream.write_all(&body);
        }
    });
    let (got, stats) = client(&server.url()).call_with_stats("x", &[]);
    assert_eq!(got.unwrap(), Value::from("gzipped ".repeat(500)));
    assert!(stats.response_bytes > 4000, "decoded size is counted: {stats:?}");
    assert_eq!(stats.status, Some(200));
    let reqs = server.requests.lock().unwrap();
    assert!(reqs[0].header("accept-encoding").is_some_and(|v| v.contains("gzip")), "{:?}", reqs[0]);
}

#[test]
fn python_gzips_large_replies_and_the_client_reads_them() {
    // SimpleXMLRPCServer compresses replies over 1,400 bytes when the client accepts gzip.
    let py = PyServer::xmlrpc(
        "class GzipSeen(Handler):\n\
         \x20   gzipped = []\n\
         \x20   def send_header(self, name, value):\n\
         \x20       if name.lower() == 'content-encoding':\n\
         \x20           GzipSeen.gzipped.append(value)\n\
         \x20       super().send_header(name, value)\n\
         server.RequestHandlerClass = GzipSeen\n\
         server.register_function(lambda *a: a[0], 'first')\n\
         server.register_function(lambda: GzipSeen.gzipped, 'encodings')",
    );
    let c = client(&py.url());
    let big = "x".repeat(100_000);
    assert_eq!(c.call("first", &[Value::from(big.as_str())]).unwrap(), Value::from(big));
    assert_eq!(c.call("encodings", &[]).unwrap(), Value::Array(vec![Value::from("gzip")]));
}

fn endless_chunked(mut conn: common::Conn) {
    if conn.read_request().is_none() {
        return;
    }
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n";
    let start = b"<methodResponse><params><param><value><string>";
    let filler = vec![b'a'; 64 * 1024];
    let frame = |data: &[u8]| [format!("{:x}\r\n", data.len()).as_bytes(), data, b"\r\n"].concat();
    if conn.stream.write_all(head.as_bytes()).and_then(|_| conn.stream.write_all(&frame(start))).is_err() {
        return;
    }
    let chunk = frame(&filler);
    while conn.stream.write_all(&chunk).is_ok() {}
    // The client hung up: the loop ends and so does this thread.
}

#[test]
fn an_endless_chunked_body_is_cut_at_the_cap() {
    let server = RawServer::start(endless_chunked);
    let limits = Limits { max_body: 1 << 20, ..Limits::default() };
    let cfg = ClientConfig::default().with_limits(limits).with_timeout(Duration::from_secs(60));
    let (result, stats) = Client::new(&server.url(), cfg).unwrap().call_with_stats("x", &[]);
    match result {
        Err(Error::Decode(DecodeError::TooLarge { limit })) => assert_eq!(limit, 1 << 20),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(stats.response_bytes <= 1 << 20, "{stats:?}");
}

#[test]
fn a_gzip_bomb_is_cut_at_the_cap_after_decompression() {
    // 16 MiB of zeros gzip to about 16 KiB; the cap applies to the decompressed size.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"<methodResponse><params><param><value><string>").unwrap();
    gz.write_all(&vec![b'0'; 16 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let server = RawServer::start(move |mut conn| {
        if conn.read_request().is_some() {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                bomb.len()
            );
            let _ = conn.stream.write_all(head.as_bytes()).and_then(|_| conn.stream.write_all(&bomb));
        }
    });
    let cfg = ClientConfig::default().with_limits(Limits { max_body: 1 << 20, ..Limits::default() });
    let e = Client::new(&server.url(), cfg).unwrap().call("x", &[]).unwrap_err();
    assert!(matches!(e, Error::Decode(DecodeError::TooLarge { limit: 1_048_576 })), "{e:?}");
}

#[test]
fn a_user_agent_of_gandish_version_is_sent() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            let body = gandish::xmlrpc::encode_response(&Value::Bool(true)).unwrap();
            write_response(&mut conn.stream, "200 OK", "text/xml", &body);
        }
    });
    let c = client(&server.url());
    assert_eq!(c.call("system.ping", &[Value::from("k")]).unwrap(), Value::Bool(true));
    let reqs = server.requests.lock().unwrap();
    let req = &reqs[0];
    assert_eq!(USER_AGENT, format!("gandish/{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(req.header("user-agent"), Some(USER_AGENT));
    assert!(req.line.starts_with("POST /RPC2 "), "{}", req.line);
    assert!(req.header("content-type").is_some_and(|v| v.starts_with("text/xml")));
    assert_eq!(req.header("content-length"), Some(req.body.len().to_string().as_str()));
    let call = gandish::xmlrpc::decode_call(&req.body).unwrap();
    assert_eq!(call.method, "system.ping");
    assert_eq!(call.params, vec![Value::from("k")]);
}

#[test]
fn the_user_agent_python_sees_is_gandish() {
    let py = PyServer::xmlrpc(
        "class UA(Handler):\n\
         \x20   def decode_request_content(self, data):\n\
         \x20       UA.seen = self.headers.get('User-Agent')\n\
         \x20       return super().decode_request_content(data)\n\
         server.RequestHandlerClass = UA\n\
         server.register_function(lambda: UA.seen, 'ua')",
    );
    assert_eq!(client(&py.url()).call("ua", &[]).unwrap(), Value::from(USER_AGENT));
}

#[test]
fn plain_http_to_a_non_loopback_host_is_refused_before_connecting() {
    // 192.0.2.1 is TEST-NET-1: the URL check must refuse it without sending anything.
    let e = Client::new("http://192.0.2.1/xmlrpc/", ClientConfig::default()).unwrap_err();
    match &e {
        Error::InsecureUrl { host } => assert_eq!(host, "192.0.2.1"),
        other => panic!("expected InsecureUrl, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("192.0.2.1") && msg.contains("allow-insecure-http"), "{msg}");
    assert!(Client::new("http://example.com/", ClientConfig::default()).is_err());
}

#[test]
fn keep_alive_reuses_one_connection_for_sequential_calls() {
    let server = RawServer::start(|mut conn| {
        while conn.read_request().is_some() {
            let body = gandish::xmlrpc::encode_response(&Value::Int(7)).unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            if conn.stream.write_all(head.as_bytes()).and_then(|_| conn.stream.write_all(&body)).is_err() {
                return;
            }
        }
    });
    let c = client(&server.url());
    for _ in 0..3 {
        assert_eq!(c.call("x", &[]).unwrap(), Value::Int(7));
    }
    assert_eq!(server.requests.lock().unwrap().len(), 3);
    assert_eq!(server.connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_shared_client_serves_several_threads() {
    let py = PyServer::xmlrpc(ECHO);
    let c = std::sync::Arc::new(client(&py.url()));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || c.call("first", &[Value::Int(i)]).unwrap())
        })
        .collect();
    let got: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(got, (0..4).map(Value::Int).collect::<Vec<_>>());
}

#[test]
fn an_encode_error_sends_nothing() {
    let server = RawServer::start(|mut conn| {
        let _ = conn.read_request();
    });
    let c = client(&server.url());
    assert!(matches!(c.call("bad name!", &[]), Err(Error::Encode(_))));
    assert!(matches!(c.call("x", &[Value::Double(f64::NAN)]), Err(Error::Encode(_))));
    // A sent request would have been read (and logged) before the call could return.
    assert!(server.requests.lock().unwrap().is_empty());
}

#[test]
fn tls_to_an_untrusted_certificate_names_the_problem() {
    let pki = common::TestPki::generate("IP:127.0.0.1,DNS:localhost");
    let py = PyServer::xmlrpc_tls(ECHO, &pki.server_cert, &pki.server_key);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let e = client(&url).call("first", &[Value::Int(1)]).unwrap_err();
    match &e {
        Error::Tls { message, .. } => {
            assert_eq!(message, "invalid peer certificate: UnknownIssuer");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(!e.maybe_applied());
    assert!(e.to_string().contains("invalid peer certificate: UnknownIssuer"), "{e}");
}

#[test]
fn tls_with_the_extra_ca_file_succeeds() {
    let pki = common::TestPki::generate("IP:127.0.0.1,DNS:localhost");
    let py = PyServer::xmlrpc_tls(ECHO, &pki.server_cert, &pki.server_key);
    let cfg = ClientConfig::default().with_extra_ca_file(&pki.ca_cert).with_timeout(Duration::from_secs(20));
    for host in ["127.0.0.1", "localhost"] {
        let c = Client::new(&format!("https://{host}:{}/RPC2", py.port), cfg.clone()).unwrap();
        assert_eq!(c.call("first", &[Value::from("over tls")]).unwrap(), Value::from("over tls"));
    }
}

#[test]
fn tls_with_a_certificate_for_another_name_is_refused_even_with_the_ca() {
    let pki = common::TestPki::generate("DNS:other.example");
    let py = PyServer::xmlrpc_tls(ECHO, &pki.server_cert, &pki.server_key);
    let cfg = ClientConfig::default().with_extra_ca_file(&pki.ca_cert);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let e = Client::new(&url, cfg).unwrap().call("first", &[Value::Int(1)]).unwrap_err();
    match &e {
        Error::Tls { message, .. } => {
            assert!(message.contains("certificate not valid for name \"127.0.0.1\""), "{message}")
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn https_to_a_plain_http_server_is_an_error_not_a_hang() {
    let py = PyServer::xmlrpc(ECHO);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let cfg = ClientConfig::default().with_timeout(Duration::from_secs(10));
    let e = Client::new(&url, cfg).unwrap().call("first", &[Value::Int(1)]).unwrap_err();
    assert!(e.is_transport() && !e.is_fault(), "{e:?}");
}

#[test]
fn interrupt_cuts_off_the_call_in_flight_and_refuses_new_ones_until_resumed() {
    // A server that reads each request and answers only once the client hangs up: the first
    // call can only end by being cut off. Later connections get a normal answer.
    let server = RawServer::start(|mut conn| {
        let Some(req) = conn.read_request() else { return };
        if String::from_utf8_lossy(&req.body).contains("hang") {
            let mut rest = Vec::new();
            let _ = conn.stream.read_to_end(&mut rest); // until the client closes
            return;
        }
        let body = gandish::xmlrpc::encode_response(&Value::from("ok")).unwrap();
        write_response(&mut conn.stream, "200 OK", "text/xml", &body);
    });
    let c = client(&server.url());
    let calling = {
        let c = c.clone();
        std::thread::spawn(move || c.call("hang", &[]))
    };
    // Interrupt once the server holds the request.
    for _ in 0..4000 {
        if !server.requests.lock().unwrap().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.requests.lock().unwrap().len(), 1, "the request reached the server");
    c.interrupt();
    let e = calling.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::Interrupted { sent: true, .. }), "{e:?}");
    assert!(e.maybe_applied(), "a call cut off may have been applied");
    assert!(e.to_string().contains("interrupted; it may or may not have been applied"), "{e}");

    // Interrupted: nothing more is sent, and that is not a maybe-applied failure.
    let e = c.call("fine", &[]).unwrap_err();
    assert!(matches!(e, Error::Interrupted { sent: false, .. }) && !e.maybe_applied(), "{e:?}");
    assert_eq!(server.requests.lock().unwrap().len(), 1, "the refused call was not sent");
    c.resume();
    assert_eq!(c.call("fine", &[]).unwrap(), Value::from("ok"));
    assert_eq!(server.requests.lock().unwrap().len(), 2);
}
