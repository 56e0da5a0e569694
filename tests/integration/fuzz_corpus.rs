//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the checks the
//! fuzz targets run (`fuzz/src/lib.rs`, included here), so plain `cargo test` keeps them passing
//! without nightly or cargo-fuzz. Regression inputs for fixed crashes live in the same
//! directories.

#[path = "../../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::path::PathBuf;

/// Runs `check` on every file of `fuzz/corpus/<target>/` and fails naming each file that panics.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{} holds only {} files; the corpus is missing", dir.display(), files.len());
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{} of {} {target} inputs fail: {failed:#?}", failed.len(), files.len());
}

#[test]
fn decode_response_corpus() {
    replay("decode_response", fuzz_checks::decode_response);
}

#[test]
fn decode_call_corpus() {
    replay("decode_call", fuzz_checks::decode_call);
}

#[test]
fn json_args_corpus() {
    replay("json_args", fuzz_checks::json_args);
}

#[test]
fn server_request_corpus() {
    replay("server_request", fuzz_checks::server_request);
}

#[test]
fn the_in_memory_connection_runs_the_server_code() {
    use gandish::xmlrpc::server::fuzz_serve_connection;
    use gandish::xmlrpc::{Value, decode_response, encode_call};

    let call = encode_call("echo", &[Value::Int(41), Value::from("x")]).unwrap();
    let head = format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {}\r\n\r\n", call.len());
    let input = [head.as_bytes(), &call, head.as_bytes(), &call, b"GET / HTTP/1.1\r\n\r\n"].concat();
    let run = |max_read| {
        let out = fuzz_serve_connection(
            fuzz_checks::fuzz_handler(),
            fuzz_checks::fuzz_server_config(),
            &input,
            max_read,
        );
        String::from_utf8(out).unwrap()
    };
    let text = run(usize::MAX);
    // Delivered a byte at a time, the server reads the same requests and gives the same answers
    // (up to the Date header).
    let strip_dates = |t: &str| t.lines().filter(|l| !l.starts_with("Date: ")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip_dates(&run(1)), strip_dates(&text));
    // Two pipelined calls answered in order, then the GET refused and the connection closed.
    let parts: Vec<&str> = text.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(parts.len(), 3, "{text}");
    for part in &parts[..2] {
        assert!(part.starts_with("200 OK\r\n"), "{part}");
        let body = &part[part.find("\r\n\r\n").unwrap() + 4..];
        let expected = Value::Array(vec![Value::Int(41), Value::from("x")]);
        assert_eq!(decode_response(body.as_bytes()).unwrap(), Ok(expected));
    }
    assert!(parts[2].starts_with("405 Method Not Allowed\r\n") && parts[2].contains("Connection: close"));
}
