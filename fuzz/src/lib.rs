//! The checks behind the fuzz targets, one function per target.
//!
//! Each function takes the fuzzer's bytes, feeds them to the code under test and asserts the
//! invariants that must hold for every input: no panic, and where the input is accepted, a round
//! trip gives the same value. The fuzz targets in `fuzz_targets/` only call these; the main
//! crate's `tests/fuzz_corpus.rs` includes this file and replays the committed corpora through
//! the same functions, so plain `cargo test` keeps the corpora passing without cargo-fuzz.

use std::sync::Arc;

use gandish::xmlrpc::server::fuzz_serve_connection;
use gandish::xmlrpc::{
    DateTime, Fault, Limits, Methods, ServerConfig, Struct, Value, decode_call_with, decode_response_with,
    encode_call, encode_fault, encode_response, json,
};

/// The limits the decoder targets run under: small, so the fuzzer reaches them.
pub const LIMITS: Limits = Limits { max_depth: 32, max_body: 8 * 1024 };

/// The limits round trips decode their re-encoded bytes under: the same depth, but room for the
/// encoder's longer spelling (`<value>x</value>` becomes `<value><string>x</string></value>`).
const ROUND_TRIP_LIMITS: Limits = Limits { max_depth: LIMITS.max_depth, max_body: 64 << 20 };

/// `decode_response_with` on any bytes; an accepted response re-encodes and decodes to the same
/// value or fault, and a value also survives the tagged-JSON mapping.
pub fn decode_response(data: &[u8]) {
    let Ok(response) = decode_response_with(data, &LIMITS) else { return };
    match response {
        Ok(value) => {
            let bytes = encode_response(&value).expect("a decoded value must re-encode");
            let again = decode_response_with(&bytes, &ROUND_TRIP_LIMITS)
                .expect("a re-encoded response must decode")
                .expect("a re-encoded value must not turn into a fault");
            assert_same(&value, &again, "XML-RPC response round trip");
            json_round_trip(&value);
        }
        Err(fault) => {
            let bytes = encode_fault(&fault);
            let again = decode_response_with(&bytes, &ROUND_TRIP_LIMITS)
                .expect("a re-encoded fault must decode")
                .expect_err("a re-encoded fault must stay a fault");
            assert_eq!(fault, again, "fault round trip");
        }
    }
}

/// `decode_call_with` on any bytes; an accepted call re-encodes and decodes to the same method
/// and parameters.
pub fn decode_call(data: &[u8]) {
    let Ok(call) = decode_call_with(data, &LIMITS) else { return };
    let bytes = encode_call(&call.method, &call.params).expect("a decoded call must re-encode");
    let again = decode_call_with(&bytes, &ROUND_TRIP_LIMITS).expect("a re-encoded call must decode");
    assert_eq!(call.method, again.method, "method name round trip");
    assert_same(&Value::Array(call.params.clone()), &Value::Array(again.params), "call round trip");
    for p in &call.params {
        json_round_trip(p);
    }
}

/// `json::parse` on any UTF-8 text; an accepted value prints, parses back to the same value and
/// prints the same text again; if XML-RPC can carry it, it survives a call round trip too.
pub fn json_args(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = json::parse(text) else { return };
    json_round_trip(&value);
    if let Ok(bytes) = encode_call("fuzz.call", std::slice::from_ref(&value)) {
        let call = decode_call_with(&bytes, &Limits { max_depth: json::MAX_DEPTH, max_body: 64 << 20 })
            .expect("an encoded call must decode");
        assert_eq!(call.params.len(), 1);
        assert_same(&value, &call.params[0], "JSON value through an XML-RPC call");
    }
}

/// Raw bytes as one client connection to the server (HTTP parsing, then XML-RPC decoding and
/// dispatch with `system.multicall`); every answer must be well-framed HTTP, and every 200 answer
/// a well-formed `methodResponse`. A last byte under 32 makes the connection deliver the input in
/// pieces of that many bytes plus one, so heads and bodies split across reads are covered too.
pub fn server_request(data: &[u8]) {
    let max_read = match data.last() {
        Some(&b) if b < 32 => usize::from(b) + 1,
        _ => usize::MAX,
    };
    let output = fuzz_serve_connection(fuzz_handler(), fuzz_server_config(), data, max_read);
    check_responses(&output);
}

/// The handler the server target serves: `echo` (returns its parameters as an array), `fault`
/// (answers the fault `{code, message}` given as its two parameters), `first` (its first
/// parameter, or a fault without one).
pub fn fuzz_handler() -> Arc<Methods> {
    let mut m = Methods::new();
    m.add("echo", |params| Ok(Value::Array(params)));
    m.add("fault", |params| {
        let code = params.first().and_then(Value::as_i64).unwrap_or(1);
        let message = params.get(1).and_then(Value::as_str).unwrap_or("fault").to_owned();
        Err(Fault::new(code, message))
    });
    m.add("first", |mut params| {
        if params.is_empty() {
            Err(Fault::new(-32602, "first takes one parameter"))
        } else {
            Ok(params.swap_remove(0))
        }
    });
    Arc::new(m)
}

/// The server settings of the server target: small limits the fuzzer can reach.
pub fn fuzz_server_config() -> ServerConfig {
    ServerConfig { limits: LIMITS, max_multicall: 50, ..ServerConfig::default() }
}

/// Splits the server's output into responses and checks each: a status line, headers ending in
/// an empty line, a `Content-Length` matching the body that follows, and a decodable
/// `methodResponse` body on every 200.
fn check_responses(mut out: &[u8]) {
    while !out.is_empty() {
        let end = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head ends with CRLF CRLF");
        let head = std::str::from_utf8(&out[..end]).expect("a response head is ASCII");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let rest = &out[end + 4..];
        if status == 100 {
            out = rest;
            continue;
        }
        let mut length = None;
        let mut gzip = false;
        for line in lines {
            let (name, value) = line.split_once(": ").unwrap_or_else(|| panic!("bad header line {line:?}"));
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().expect("a numeric Content-Length"));
            }
            if name.eq_ignore_ascii_case("content-encoding") {
                assert_eq!(value, "gzip");
                gzip = true;
            }
        }
        let length = length.expect("every response has a Content-Length");
        assert!(rest.len() >= length, "a response body is cut short");
        let body = &rest[..length];
        if status == 200 && !body.is_empty() {
            assert!(!gzip || body.starts_with(&[0x1f, 0x8b]));
            let limits = Limits { max_depth: 1024, max_body: 256 << 20 };
            if let Err(e) = decode_response_with(body, &limits) {
                panic!(
                    "the server answered 200 with an undecodable body ({e}): {:?}",
                    String::from_utf8_lossy(body)
                );
            }
        }
        out = &rest[length..];
    }
}

/// Prints `value` as tagged JSON (which must work for every value the decoders produce) and, when
/// the text is unambiguous, parses it back to the same value and the same text.
fn json_round_trip(value: &Value) {
    let text = json::to_string(value).expect("a decoded value prints as JSON");
    let pretty = json::to_string_pretty(value).expect("a decoded value prints as pretty JSON");
    if has_tag_like_struct(value) {
        // A struct whose only member is `$datetime` or `$base64` reads back as the tagged type
        // (documented in xmlrpc::json); there is nothing to compare.
        return;
    }
    let back = json::parse(&text).unwrap_or_else(|e| panic!("printed JSON must parse back ({e}): {text}"));
    assert_same(value, &back, "JSON round trip");
    assert_eq!(json::to_string(&back).expect("prints"), text, "JSON printing is stable");
    let back = json::parse(&pretty).unwrap_or_else(|e| panic!("pretty JSON must parse back ({e}): {pretty}"));
    assert_same(value, &back, "pretty JSON round trip");
}

/// Whether some struct in `value` has a single member whose name starts with `$`.
fn has_tag_like_struct(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Struct(s) => {
                if s.len() == 1 && s.keys().all(|k| k.starts_with('$')) {
                    return true;
                }
                stack.extend(s.iter().map(|(_, v)| v));
            }
            _ => {}
        }
    }
    false
}

/// Asserts `a == b` after dropping dateTime zone offsets, which neither XML-RPC nor the JSON
/// mapping writes (both print the clock fields as received).
fn assert_same(a: &Value, b: &Value, what: &str) {
    let (a, b) = (without_offsets(a), without_offsets(b));
    assert!(a == b, "{what} changed the value:\n{a:?}\n{b:?}");
}

fn without_offsets(v: &Value) -> Value {
    match v {
        Value::DateTime(d) => Value::DateTime(DateTime { offset_minutes: None, ..*d }),
        Value::Array(items) => Value::Array(items.iter().map(without_offsets).collect()),
        Value::Struct(s) => Value::Struct(s.iter().map(|(k, m)| (k, without_offsets(m))).collect::<Struct>()),
        other => other.clone(),
    }
}
