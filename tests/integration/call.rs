//! `gandish call` end to end: the built binary against Python peers and scripted raw servers.

use crate::common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::{PyServer, RawServer, assert_no_key, closed_port, gandish, stderr, stdout};

const KEY: &str = "k3y-SECRET-0123456789abcd";

/// Echo methods, and `key_ok` which reports whether the first parameter is the test key (so the
/// key itself is never echoed by the happy path).
const SETUP: &str = "KEY = 'k3y-SECRET-0123456789abcd'\n\
    server.register_function(lambda *a: list(a), 'echo')\n\
    server.register_function(lambda *a: [len(a), len(a) > 0 and a[0] == KEY], 'key_ok')\n\
    def boom(*a):\n    raise xmlrpc.client.Fault(510150, 'Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [bad key %s]' % (a[0] if a else ''))\n\
    server.register_function(boom, 'boom')\n\
    server.register_function(lambda n: 'x' * n, 'big')";

#[test]
fn typed_arguments_are_echoed_and_printed_as_tagged_json() {
    let py = PyServer::xmlrpc(SETUP);
    let args = [
        "42",
        "2.5",
        "1.0",
        "true",
        "null",
        "\"text with \\\"quotes\\\"\"",
        "[1, [2, \"x\"], {}]",
        r#"{"zeta": 1, "alpha": {"nested": [false]}}"#,
        r#"{"$datetime": "2011-10-14T14:36:30"}"#,
        r#"{"$base64": "AAEC/w=="}"#,
        "-7",
    ];
    let url = py.url();
    let mut argv = vec!["call", "--url", &url, "echo"];
    argv.extend(args);
    let o = gandish(&argv, &[]);
    assert!(o.status.success(), "{o:?}");
    let expected = r#"[
  42,
  2.5,
  1.0,
  true,
  null,
  "text with \"quotes\"",
  [
    1,
    [
      2,
      "x"
    ],
    {}
  ],
  {
    "zeta": 1,
    "alpha": {
      "nested": [
        false
      ]
    }
  },
  {"$datetime": "20111014T14:36:30"},
  {"$base64": "AAEC/w=="},
  -7
]
"#;
    assert_eq!(stdout(&o), expected);
    assert_eq!(stderr(&o), "");
}

#[test]
fn the_url_comes_from_gandi_url_when_no_flag_is_given() {
    let py = PyServer::xmlrpc(SETUP);
    let o = gandish(&["call", "echo", "1"], &[("GANDI_URL", &py.url())]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  1\n]\n");
    // --url wins over GANDI_URL.
    let dead = format!("http://127.0.0.1:{}/", closed_port());
    let o = gandish(&["call", "--url", &py.url(), "echo", "2"], &[("GANDI_URL", &dead)]);
    assert_eq!(stdout(&o), "[\n  2\n]\n", "{o:?}");
}

#[test]
fn loopback_calls_ignore_proxies_from_the_environment() {
    let py = PyServer::xmlrpc(SETUP);
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let env = [
        ("HTTP_PROXY", proxy.as_str()),
        ("http_proxy", &proxy),
        ("ALL_PROXY", &proxy),
        ("all_proxy", &proxy),
    ];
    let o = gandish(&["call", "--url", &py.url(), "echo", "1"], &env);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  1\n]\n");
}

#[test]
fn the_key_is_prepended_from_the_environment_and_not_with_raw() {
    let py = PyServer::xmlrpc(SETUP);
    let url = py.url();
    let o = gandish(&["call", "--url", &url, "key_ok", "\"x\""], &[("GANDI_API_KEY", KEY)]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  2,\n  true\n]\n");

    let o = gandish(&["call", "--url", &url, "--raw", "key_ok", "\"x\""], &[("GANDI_API_KEY", KEY)]);
    assert_eq!(stdout(&o), "[\n  1,\n  false\n]\n", "{o:?}");

    let o = gandish(&["call", "--url", &url, "--api-key", KEY, "key_ok"], &[]);
    assert_eq!(stdout(&o), "[\n  1,\n  true\n]\n", "{o:?}");

    let o = gandish(&["call", "--url", &url, "key_ok"], &[]);
    assert_eq!(stdout(&o), "[\n  0,\n  false\n]\n", "without a key nothing is prepended: {o:?}");
}

#[test]
fn the_key_is_redacted_when_the_server_echoes_it() {
    let py = PyServer::xmlrpc(SETUP);
    let o = gandish(&["call", "--url", &py.url(), "echo", "1"], &[("GANDI_API_KEY", KEY)]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  \"[REDACTED]\",\n  1\n]\n");
    assert_no_key(&o, KEY);
}

#[test]
fn a_fault_exits_3_with_code_and_string_and_no_key() {
    let py = PyServer::xmlrpc(SETUP);
    let o = gandish(&["call", "--url", &py.url(), "boom"], &[("GANDI_API_KEY", KEY)]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert_eq!(
        stderr(&o),
        "fault 510150: Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [bad key [REDACTED]]\n"
    );
    assert_eq!(stdout(&o), "");
    assert_no_key(&o, KEY);
}

#[test]
fn a_dead_server_exits_4() {
    let url = format!("http://127.0.0.1:{}/RPC2", closed_port());
    let o = gandish(&["call", "--url", &url, "version.info"], &[("GANDI_API_KEY", KEY)]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    let err = stderr(&o);
    assert!(err.starts_with("error: cannot connect to ") && err.contains("refused"), "{err}");
    assert_no_key(&o, KEY);
}

#[test]
fn a_server_that_never_answers_exits_4_after_the_timeout() {
    let server = RawServer::start(|mut conn| {
        let _ = conn.read_request();
        let mut buf = [0u8; 64];
        while matches!(conn.stream.read(&mut buf), Ok(n) if n > 0) {}
    });
    let o =
        gandish(&["call", "--url", &server.url(), "--timeout", "1", "paas.list"], &[("GANDI_API_KEY", KEY)]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    let err = stderr(&o);
    assert!(err.starts_with("error: timed out after 1 s"), "{err}");
    assert_no_key(&o, KEY);
    // The key did go out in the request body: the redaction, not its absence, kept it off screen.
    let body = String::from_utf8(server.requests.lock().unwrap()[0].body.clone()).unwrap();
    assert!(body.contains(KEY));
}

#[test]
fn an_http_error_exits_4() {
    let server = RawServer::start(|mut conn| {
        if conn.read_request().is_some() {
            common::write_response(&mut conn.stream, "503 Service Unavailable", "text/plain", b"down");
        }
    });
    let o = gandish(&["call", "--url", &server.url(), "x"], &[]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(stderr(&o).starts_with("error: HTTP status 503 (Service Unavailable)"), "{}", stderr(&o));
}

#[test]
fn malformed_json_args_exit_2_naming_the_argument() {
    // No server is needed: the arguments are checked before anything is sent.
    let url = format!("http://127.0.0.1:{}/RPC2", closed_port());
    let o = gandish(&["call", "--url", &url, "m", "1", "{\"a\":"], &[("GANDI_API_KEY", KEY)]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).starts_with("error: arg2: invalid JSON"), "{}", stderr(&o));

    let o = gandish(&["call", "--url", &url, "m", "bare"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("argument 1 must be JSON"), "{}", stderr(&o));

    let o = gandish(&["call", "--url", &url, "m", "99999999999999999999"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("outside the 64-bit range"), "{}", stderr(&o));

    let o = gandish(&["call", "--url", &url, "m", r#"[{"$base64": "%%%"}]"#], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).starts_with("error: arg1[0]: invalid $base64"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let o = gandish(&["call"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = gandish(&["call", "--timeout", "soon", "m"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = gandish(&["call", "--url", "http://192.0.2.1/xmlrpc/", "m"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        stderr(&o).contains("192.0.2.1") && stderr(&o).contains("--allow-insecure-http"),
        "{}",
        stderr(&o)
    );
    let o = gandish(&["call", "--url", "http://127.0.0.1:1/", "bad method!"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("invalid method name"), "{}", stderr(&o));
}

#[test]
fn help_never_shows_the_key() {
    let o = gandish(&["call", "--help"], &[("GANDI_API_KEY", KEY)]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("GANDI_API_KEY") && stdout(&o).contains("--api-key"), "{}", stdout(&o));
    assert_no_key(&o, KEY);
}

#[test]
fn a_key_echoed_by_a_clap_error_is_redacted() {
    let o = gandish(&["call", "--api-key", KEY, "--timeout", KEY, "m"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(stderr(&o).contains("[REDACTED]"), "{}", stderr(&o));
    assert_no_key(&o, KEY);
}

#[test]
fn a_closed_stdout_pipe_exits_0() {
    let py = PyServer::xmlrpc(SETUP);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(["call", "--url", &py.url(), "big", "4000000"])
        .env_remove("GANDI_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once, as `| head -c0` would.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stderr(&o), "");
}
