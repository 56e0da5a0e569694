//! Secret hygiene (issue 7, part 3): with a distinctive API key, every command path of the real
//! binary — success, fault, timeout, `--trace`, `-v`, script errors, a server-side panic, REPL
//! history, a dry-run plan, the bulk report, journal and lock, the configuration file — leaves
//! the key out of stdout, stderr and every file it writes. The key reaches gandish through
//! `GANDI_API_KEY`, `--api-key` and the configuration file across the cases. Also: `Debug` of the
//! public types holding a key never shows it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches};
use gandish::cli::args::Cli;
use gandish::cli::settings::Settings;
use gandish::gandi::{ApiKey, Gandi};
use gandish::sandbox::SandboxConfig;
use gandish::xmlrpc::server::{Methods, Server, ServerConfig};
use gandish::xmlrpc::{ClientConfig, Value};

/// The key under test: distinctive, so that any occurrence is a leak.
const KEY: &str = "KEY-zq7Xw9-hygiene-4242";
/// A fragment of it: a truncated or re-wrapped key is a leak too.
const FRAGMENT: &str = "zq7Xw9";

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn temp_dir(name: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("gandish-hygiene-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `gandish sandbox` in a child process, expecting `key`.
struct Sandbox {
    child: Child,
    url: String,
    _drain: JoinHandle<()>,
}

impl Sandbox {
    fn start(key: &str) -> Sandbox {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gandish"))
            .args(["--no-config", "sandbox", "--listen", "127.0.0.1:0", "--op-seconds", "0", "--key", key])
            .env_remove("GANDI_API_KEY")
            .env_remove("GANDISH_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut url = None;
        let mut seen = String::new();
        for _ in 0..10 {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
            if line.contains("listening on") {
                url = line.split_whitespace().last().map(str::to_string);
                break;
            }
        }
        let url = url.unwrap_or_else(|| panic!("no URL in the sandbox banner: {seen:?}"));
        // Keep reading its stderr so that it never blocks on a full pipe. (The sandbox prints the
        // key it expects on purpose: that banner is not gandish-the-client's output.)
        let drain = std::thread::spawn(move || {
            let _ = std::io::copy(&mut lines, &mut std::io::sink());
        });
        Sandbox { child, url, _drain: drain }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the key reaches gandish.
enum Via<'a> {
    Env,
    Flag,
    /// A configuration file (mode 0600) holding `api_key`.
    Config(&'a Path),
}

/// Written to a directory of its own, apart from the ones scanned for the key.
fn write_config(extra: &str) -> PathBuf {
    let path = temp_dir("config-file").join("config.toml");
    std::fs::write(&path, format!("api_key = \"{KEY}\"\n{extra}")).unwrap();
    set_mode(&path, 0o600);
    path
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn gandish(url: &str, via: Via<'_>, args: &[&str]) -> Command {
    gandish_as(url, KEY, via, args)
}

/// [`gandish`] with another key (`Via::Config` files always hold [`KEY`]).
fn gandish_as(url: &str, key: &str, via: Via<'_>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gandish"));
    for v in [
        "GANDI_API_KEY",
        "GANDI_URL",
        "GANDISH_ENV",
        "GANDISH_CONFIG",
        "GANDISH_STATE_DIR",
        "GANDISH_TIMEOUT",
    ] {
        c.env_remove(v);
    }
    c.env("GANDISH_HISTORY", "").env("NO_COLOR", "1").stdin(Stdio::null());
    match via {
        Via::Env => {
            c.arg("--no-config").env("GANDI_API_KEY", key);
        }
        Via::Flag => {
            c.args(["--no-config", "--api-key", key]);
        }
        Via::Config(path) => {
            c.env("GANDISH_CONFIG", path);
        }
    }
    c.args(["--url", url]).args(args);
    c
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn out(o: Output) -> Out {
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `cmd` and asserts the key is in neither of its outputs.
fn run_clean(mut cmd: Command, what: &str) -> Out {
    let o = out(cmd.output().unwrap());
    for (name, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(
            !text.contains(KEY) && !text.contains(FRAGMENT),
            "{what}: the key leaked on {name}:\n{text}\n(other stream:\n{})",
            if name == "stdout" { &o.stderr } else { &o.stdout }
        );
    }
    o
}

/// Every file under `dir`, recursively, read and checked for the key. Returns how many.
fn files_clean(dir: &Path, what: &str) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            n += files_clean(&path, what);
        } else {
            n += 1;
            file_clean(&path, what);
        }
    }
    n
}

fn file_clean(path: &Path, what: &str) -> String {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(!text.contains(FRAGMENT), "{what}: the key leaked into {}:\n{text}", path.display());
    text
}

/// A raw HTTP server: each request's body goes to `reply`, which gives the whole response
/// (`None`: hold the connection open and never answer). Stopped on drop.
struct RawServer {
    url: String,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    fn start(reply: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let body = read_request(&mut conn);
                match reply(&body) {
                    Some(bytes) => {
                        let _ = conn.write_all(&bytes);
                    }
                    None => held.push(conn),
                }
            }
        });
        RawServer { url: format!("http://{addr}/xmlrpc/"), stop, addr, thread: Some(thread) }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(conn: &mut TcpStream) -> String {
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return String::new(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf[head_end..]).into_owned()
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The first `<string>` of an XML-RPC call: the key, for every Gandi call.
fn first_string(body: &str) -> String {
    body.split_once("<string>")
        .and_then(|(_, rest)| rest.split_once("</string>"))
        .map_or_else(String::new, |(s, _)| s.to_string())
}

fn fault_echoing_the_key(body: &str) -> Vec<u8> {
    let k = first_string(body);
    let xml = format!(
        "<?xml version=\"1.0\"?><methodResponse><fault><value><struct>\
         <member><name>faultCode</name><value><int>510150</int></value></member>\
         <member><name>faultString</name><value><string>Invalid API key {k} (key {k} unknown)</string></value></member>\
         </struct></value></fault></methodResponse>"
    );
    http("200 OK", "text/xml", &xml)
}

/// A script exercising what a script can see: the call's plan entry or error, printed.
const PRINTING_SCRIPT: &str = r#"
let seen = [];
try {
    let r = gandi::invoke("paas.info", [999999]);
    seen.push(`${r}`);
} catch (e) {
    seen.push(`${e}`);
    print(`caught: ${e}`);
}
print(`args: ${ARGS}`);
seen
"#;

#[test]
fn a_success_through_call_eval_and_run_shows_no_key_and_trace_redacts_it() {
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("success");
    let cfg = write_config("");

    let o = run_clean(
        gandish(&sb.url, Via::Env, &["--trace", "-v", "call", "paas.info", "1"]),
        "call --trace -v",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("\"id\": 1"), "{}", o.stdout);
    // (`call` takes --trace but prints no trace lines yet; the scripts below do.)
    assert!(o.stderr.contains("api key: set (environment GANDI_API_KEY)"), "{}", o.stderr);

    let o = run_clean(
        gandish(&sb.url, Via::Flag, &["--trace", "-vv", "eval", "paas::list().len() + paas::info(1).id"]),
        "eval --api-key",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stderr.contains("trace: paas.info [\"[REDACTED]\",1]"),
        "the trace shows the key redacted:\n{}",
        o.stderr
    );
    assert!(o.stderr.contains("api key: set (command line)"), "{}", o.stderr);

    let script = dir.join("ok.rhai");
    std::fs::write(&script, "let n = paas::list().len();\nprint(`instances: ${n}`);\nn").unwrap();
    let o = run_clean(
        gandish(&sb.url, Via::Config(&cfg), &["--trace", "-v", "run", script.to_str().unwrap()]),
        "run with the key in the config file",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("instances: "), "{}", o.stdout);
    assert!(
        o.stderr.contains("[REDACTED]") && o.stderr.contains(&format!("config file {}", cfg.display())),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("warning"), "a 0600 file gets no warning: {}", o.stderr);
    files_clean(&dir, "success");
}

#[test]
fn faults_and_script_errors_show_no_key() {
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("fault");
    let cfg = write_config("");

    let o = run_clean(gandish(&sb.url, Via::Env, &["--trace", "call", "paas.info", "999999"]), "call fault");
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(o.stderr.contains("537542"), "{}", o.stderr);

    let o = run_clean(
        gandish(&sb.url, Via::Flag, &["-v", "eval", "gandi::invoke(\"paas.delete\", [999999])"]),
        "eval fault",
    );
    assert_eq!(o.code, Some(3), "{}", o.stderr);

    let script = dir.join("print.rhai");
    std::fs::write(&script, PRINTING_SCRIPT).unwrap();
    let o = run_clean(
        gandish(&sb.url, Via::Config(&cfg), &["--trace", "run", script.to_str().unwrap(), "x=1"]),
        "a script printing the error it caught",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("caught: ") && o.stdout.contains("537542"), "{}", o.stdout);

    let o = run_clean(gandish(&sb.url, Via::Env, &["eval", "throw \"x\""]), "eval throw");
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(o.stderr.contains("error: x"), "{}", o.stderr);
    let o =
        run_clean(gandish(&sb.url, Via::Flag, &["eval", "paas::info(\"not a number\")"]), "eval type error");
    assert_ne!(o.code, Some(0), "{}", o.stderr);

    // A wrong key: the sandbox expects another one, so the key we send is refused.
    let other = Sandbox::start("some-other-key");
    let o = run_clean(gandish(&other.url, Via::Env, &["--trace", "-v", "call", "paas.list"]), "rejected key");
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    files_clean(&dir, "fault");
}

#[test]
fn a_server_echoing_the_key_in_faults_and_error_pages_is_redacted() {
    let dir = temp_dir("echo");
    let cfg = write_config("");
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let fault = RawServer::start(move |body| {
        assert!(body.contains(KEY), "gandish sends the key: {body}");
        counted.fetch_add(1, Ordering::SeqCst);
        Some(fault_echoing_the_key(body))
    });
    let script = dir.join("print.rhai");
    std::fs::write(&script, PRINTING_SCRIPT).unwrap();
    for (via, args) in [
        (Via::Env, vec!["--trace", "-v", "call", "paas.list"]),
        (Via::Flag, vec!["--trace", "eval", "paas::list()"]),
        (Via::Config(&cfg), vec!["--trace", "--json", "run", script.to_str().unwrap()]),
    ] {
        let o = run_clean(gandish(&fault.url, via, &args), &format!("echoed fault: {args:?}"));
        assert!(
            o.stderr.contains("Invalid API key") || o.stdout.contains("Invalid API key"),
            "the fault text itself is shown: {}{}",
            o.stdout,
            o.stderr
        );
    }
    assert_eq!(requests.load(Ordering::SeqCst), 3);

    let page = RawServer::start(|body| {
        let k = first_string(body);
        Some(http("500 Internal Server Error", "text/html", &format!("<h1>rejected</h1><p>key {k}</p>")))
    });
    let o = run_clean(
        gandish(&page.url, Via::Env, &["--trace", "-vv", "call", "paas.list"]),
        "echoed error page",
    );
    assert_eq!(o.code, Some(4), "{}", o.stderr);
    assert!(o.stderr.contains("500"), "{}", o.stderr);
    files_clean(&dir, "echo");
}

/// Keys of 1, 3, 8 and 24 characters, each a fragment of words gandish prints (`a` and `aas` of
/// `paas`, `nvironme` of `environment`), or a long random one.
const KEYS: [&str; 4] = ["a", "aas", "nvironme", "Z3kQ0a9wXr7Lm2Nb5Vc8Td1Y"];

/// No leak: a long key appears nowhere; a short one never as a whole word (where it is glued
/// to letters it is part of another word, such as `a` in `paas`). No mangling: every
/// `[REDACTED]` stands apart from letters and digits, and the words given are intact.
fn redacted_well(text: &str, key: &str, words: &[&str], what: &str) {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if key.len() >= 16 {
        assert!(!text.contains(key), "{what}: the key leaked:\n{text}");
    } else {
        for (at, _) in text.match_indices(key) {
            let (before, after) = (text[..at].chars().next_back(), text[at + key.len()..].chars().next());
            assert!(glued(before) || glued(after), "{what}: the key {key:?} stands alone at {at}:\n{text}");
        }
    }
    for (at, _) in text.match_indices(REDACTED) {
        let (before, after) = (text[..at].chars().next_back(), text[at + REDACTED.len()..].chars().next());
        assert!(!glued(before) && !glued(after), "{what}: a word was mangled at {at}:\n{text}");
    }
    for w in words {
        assert!(text.contains(w), "{what}: {w:?} is missing or mangled:\n{text}");
    }
}

const REDACTED: &str = "[REDACTED]";

#[test]
fn keys_of_1_3_8_and_24_characters_never_leak_and_never_mangle_words() {
    for key in KEYS {
        let sb = Sandbox::start(key);
        let check = |o: &Out, words: &[&str], what: &str| {
            redacted_well(&o.stdout, key, &[], &format!("{key:?} {what}, stdout"));
            redacted_well(&o.stderr, key, words, &format!("{key:?} {what}, stderr"));
        };
        let o = out(gandish_as(&sb.url, key, Via::Env, &["--trace", "-v", "call", "paas.info", "1"])
            .output()
            .unwrap());
        assert_eq!(o.code, Some(0), "{key:?}: {}", o.stderr);
        assert!(o.stdout.contains("\"id\": 1") && o.stdout.contains("\"name\": "), "{}", o.stdout);
        check(&o, &["api key: set (environment GANDI_API_KEY)", "endpoint: "], "call -v");

        let o = out(gandish_as(
            &sb.url,
            key,
            Via::Flag,
            &["--trace", "-v", "eval", "paas::list().len() + paas::info(1).id"],
        )
        .output()
        .unwrap());
        assert_eq!(o.code, Some(0), "{key:?}: {}", o.stderr);
        check(
            &o,
            &["trace: paas.info [\"[REDACTED]\",1]", "trace: paas.list [\"[REDACTED]\"", "ok"],
            "eval --trace",
        );

        let o = out(gandish_as(&sb.url, key, Via::Env, &["call", "paas.info", "999999"]).output().unwrap());
        assert_eq!(o.code, Some(3), "{key:?}: {}", o.stderr);
        check(&o, &["fault 537542"], "call fault");

        // A server that echoes the key in its fault string, and one that echoes it in an error page.
        let fault = RawServer::start(|body| Some(fault_echoing_the_key(body)));
        for args in [&["--trace", "-v", "call", "paas.list"][..], &["--trace", "eval", "paas::list()"][..]] {
            let o = out(gandish_as(&fault.url, key, Via::Env, args).output().unwrap());
            assert_eq!(o.code, Some(3), "{key:?} {args:?}: {}", o.stderr);
            check(&o, &["Invalid API key [REDACTED] (key [REDACTED] unknown)", "paas.list"], "echoed fault");
        }
        let page = RawServer::start(|body| {
            let k = first_string(body);
            Some(http("500 Internal Server Error", "text/html", &format!("<h1>rejected</h1><p>key {k}</p>")))
        });
        let o =
            out(gandish_as(&page.url, key, Via::Env, &["--trace", "call", "paas.list"]).output().unwrap());
        assert_eq!(o.code, Some(4), "{key:?}: {}", o.stderr);
        check(&o, &["500", "paas.list"], "echoed error page");
    }
}

#[test]
fn a_short_key_is_refused_for_a_remote_endpoint_without_showing_it() {
    for key in ["a", "aas", "abcdefg"] {
        let o = run_clean_of(
            gandish_as("https://rpc.ote.gandi.net/xmlrpc/", key, Via::Env, &["call", "version.info"]),
            key,
        );
        assert_eq!(o.code, Some(2), "{key:?}: {}", o.stderr);
        assert!(o.stderr.contains(&format!("is {} character", key.len())), "{}", o.stderr);
        assert!(o.stderr.contains("only accepted for loopback endpoints"), "{}", o.stderr);
    }
    // Eight characters are enough (the call then fails to connect, which is not the point).
    let o = out(gandish_as(
        "https://127.0.0.2.invalid/",
        "abcdefgh",
        Via::Env,
        &["--timeout", "1", "call", "version.info"],
    )
    .output()
    .unwrap());
    assert!(!o.stderr.contains("loopback endpoints"), "{}", o.stderr);
}

/// The outputs of `cmd`, checked for `key` standing as a whole word.
fn run_clean_of(mut cmd: Command, key: &str) -> Out {
    let o = out(cmd.output().unwrap());
    redacted_well(&o.stdout, key, &[], "stdout");
    redacted_well(&o.stderr, key, &[], "stderr");
    o
}

#[test]
fn a_timeout_shows_no_key() {
    let silent = RawServer::start(|_| None);
    let o = run_clean(
        gandish(&silent.url, Via::Env, &["--timeout", "1", "--trace", "-v", "call", "paas.list"]),
        "call timeout",
    );
    assert_eq!(o.code, Some(4), "{}", o.stderr);
    assert!(o.stderr.to_lowercase().contains("time"), "{}", o.stderr);
    let o = run_clean(
        gandish(&silent.url, Via::Flag, &["--timeout", "1", "eval", "paas::list()"]),
        "eval timeout",
    );
    assert_eq!(o.code, Some(4), "{}", o.stderr);
}

#[test]
fn a_handler_panic_on_the_server_surfaces_as_a_fault_without_the_key() {
    let mut methods = Methods::new();
    methods.add("paas.list", |params: Vec<Value>| -> Result<Value, gandish::xmlrpc::Fault> {
        let key = match params.first() {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        panic!("handler exploded while checking key {key}");
    });
    let server = Server::bind("127.0.0.1:0", Arc::new(methods), ServerConfig::default()).unwrap();
    let url = server.url("/xmlrpc/");
    let cfg = write_config("");
    let o =
        run_clean(gandish(&url, Via::Config(&cfg), &["--trace", "-v", "call", "paas.list"]), "server panic");
    assert_eq!(o.code, Some(3), "the panic came back as a fault: {}", o.stderr);
    assert!(o.stderr.contains("internal error"), "{}", o.stderr);
    let o = run_clean(gandish(&url, Via::Env, &["eval", "paas::list()"]), "server panic, eval");
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    server.shutdown();
}

#[test]
fn a_dry_run_plan_shows_no_key() {
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("plan");
    let script = dir.join("mutate.rhai");
    std::fs::write(
        &script,
        "paas::update(1, #{console: true});\npaas::renew(1, #{duration: \"1m\"});\n\
         let p = gandi::invoke(\"paas.delete\", [2]);\nprint(`entry: ${p}`);\np",
    )
    .unwrap();
    for (via, json) in [(Via::Env, false), (Via::Flag, true)] {
        let mut args = vec!["--dry-run", "--trace"];
        if json {
            args.push("--json");
        }
        args.extend(["run", script.to_str().unwrap()]);
        let o = run_clean(gandish(&sb.url, via, &args), "dry-run plan");
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        let all = format!("{}{}", o.stdout, o.stderr);
        assert!(all.contains("3 changes planned") && all.contains("paas.delete(2)"), "{all}");
        // `print` reaches stdout, or stderr under --json (stdout holds the document alone).
        let printed = if json { &o.stderr } else { &o.stdout };
        assert!(printed.contains("entry: ") && o.stdout.contains("dry_run"), "{all}");
    }
    // Nothing was sent: instance 2 still exists.
    let o = run_clean(gandish(&sb.url, Via::Env, &["call", "paas.info", "2"]), "after the plan");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
}

#[test]
fn the_bulk_report_journal_and_lock_hold_no_key() {
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("bulk");
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let cfg = write_config("json = true\n");
    let report = dir.join("report.json");
    let lock = dir.join("renew.lock");
    let mut cmd = gandish(
        &sb.url,
        Via::Config(&cfg),
        &[
            "--trace",
            "-v",
            "run",
            "std/renew",
            "within_days=30",
            "duration=1m",
            "wait=false",
            "--report",
            report.to_str().unwrap(),
            "--lock",
            lock.to_str().unwrap(),
        ],
    );
    cmd.env("GANDISH_STATE_DIR", &state);
    let o = run_clean(cmd, "std/renew");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let text = file_clean(&report, "the report");
    assert!(text.contains("\"renewed\"") && text.contains("\"rows\""), "{text}");
    file_clean(&lock, "the lock");
    let journals = files_clean(&state, "the state dir");
    assert!(
        state.join("renew.journal").exists() && journals >= 1,
        "the journal is where GANDISH_STATE_DIR says"
    );
    assert!(file_clean(&state.join("renew.journal"), "journal").contains("renew"));
    // A second run with the key from the environment and the same journal: still clean.
    let mut cmd = gandish(
        &sb.url,
        Via::Env,
        &[
            "--json",
            "run",
            "std/renew",
            "within_days=30",
            "duration=1m",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    cmd.env("GANDISH_STATE_DIR", &state);
    let o = run_clean(cmd, "std/renew again");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    files_clean(&dir, "bulk");
}

#[test]
fn the_configuration_file_warnings_and_errors_never_show_the_key() {
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("config");
    // Readable by everyone: a warning naming the file, not the key.
    let cfg = write_config("");
    set_mode(&cfg, 0o644);
    let o =
        run_clean(gandish(&sb.url, Via::Config(&cfg), &["-v", "eval", "paas::list().len()"]), "0644 config");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stderr.contains("warning:") && o.stderr.contains("readable by everyone"), "{}", o.stderr);
    // A key file readable by everyone.
    let key_file = dir.join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    set_mode(&key_file, 0o644);
    let kf = dir.join("kf.toml");
    std::fs::write(&kf, format!("key_file = \"{}\"\n", key_file.display())).unwrap();
    let o = run_clean(gandish(&sb.url, Via::Config(&kf), &["-v", "call", "paas.info", "1"]), "0644 key file");
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stderr.contains("warning:"), "{}", o.stderr);
    // Broken files that hold the key in the offending line or value.
    for (name, text) in [
        ("unquoted.toml", format!("api_key = {KEY}\n")),
        ("array.toml", format!("api_key = [\"{KEY}\"]\n")),
        ("misplaced.toml", format!("json = true\ntimeout = \"{KEY}\"\n")),
        ("unterminated.toml", format!("api_key = \"{KEY}\n")),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        set_mode(&path, 0o600);
        let o = run_clean(gandish(&sb.url, Via::Config(&path), &["eval", "1"]), name);
        assert_eq!(o.code, Some(2), "{name}: {}", o.stderr);
        assert!(
            o.stderr.contains(&format!("configuration file {}: line ", path.display())),
            "{name}: {}",
            o.stderr
        );
    }
    // A key command that fails after printing the key on stdout.
    let kc = dir.join("kc.toml");
    std::fs::write(&kc, format!("key_command = \"echo {KEY}; exit 3\"\n")).unwrap();
    let o = run_clean(gandish(&sb.url, Via::Config(&kc), &["eval", "1"]), "failing key_command");
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("key_command failed"), "{}", o.stderr);
}

#[test]
fn the_piped_repl_redacts_the_key_and_saves_no_history() {
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("repl-piped");
    let history = dir.join("history");
    let mut cmd = gandish(&sb.url, Via::Env, &["--trace", "repl"]);
    cmd.env("GANDISH_HISTORY", &history).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let input = format!("paas::list().len()\nlet k = \"{KEY}\"; k.len()\nk\nthrow k\n\"after\"\n");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Even the key typed in by the user is redacted when it is printed back.
    assert!(!stdout.contains(FRAGMENT) && !stderr.contains(FRAGMENT), "{stdout}\n{stderr}");
    assert!(stdout.contains(&KEY.len().to_string()) && stdout.contains("after"), "{stdout}");
    assert!(stdout.contains("[REDACTED]"), "{stdout}");
    // Piped stdin keeps no history at all.
    assert!(!history.exists(), "a piped REPL wrote history");
}

fn tmux(socket: &str, args: &[&str]) -> Output {
    Command::new("tmux").args(["-L", socket, "-f", "/dev/null"]).args(args).output().unwrap()
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn repl_history_at_a_terminal_never_saves_an_entry_holding_the_key() {
    assert!(
        Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()),
        "tmux is needed for the terminal REPL test (apt-get install tmux; .ci/install-peers does)"
    );
    let sb = Sandbox::start(KEY);
    let dir = temp_dir("repl-tty");
    let history = dir.join("history");
    let cfg = write_config("");
    let socket = format!("gandish-hygiene-{}", std::process::id());
    let repl = format!("{} --url {} repl", quote(env!("CARGO_BIN_EXE_gandish")), quote(&sb.url));
    let cmd = format!(
        "exec env -u GANDI_API_KEY -u GANDI_URL GANDISH_CONFIG={} GANDISH_HISTORY={} sh -c {}",
        quote(&cfg.display().to_string()),
        quote(&history.display().to_string()),
        quote(&format!("{repl}; echo \"[exited $?]\""))
    );
    let o = tmux(&socket, &["new-session", "-d", "-s", "t", "-x", "200", "-y", "50", &cmd]);
    assert!(o.status.success(), "tmux: {}", String::from_utf8_lossy(&o.stderr));
    tmux(&socket, &["set-option", "-t", "t", "remain-on-exit", "on"]);
    let screen =
        || String::from_utf8_lossy(&tmux(&socket, &["capture-pane", "-p", "-t", "t"]).stdout).into_owned();
    let wait = |what: &str, ok: &dyn Fn(&str) -> bool| {
        let start = Instant::now();
        loop {
            let s = screen();
            if ok(&s) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "waiting for {what}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("the prompt", &|s| s.contains("gandish>"));
    for line in ["40 + 2", &format!("let k = \"{KEY}\"; k.len()"), "\"after the key\"", ":quit"] {
        tmux(&socket, &["send-keys", "-t", "t", "-l", line]);
        tmux(&socket, &["send-keys", "-t", "t", "Enter"]);
    }
    let s = wait("the REPL to end", &|s| s.contains("[exited"));
    tmux(&socket, &["kill-server"]);
    assert!(s.contains("[exited 0]") && s.contains("42") && s.contains("after the key"), "{s}");
    let saved = file_clean(&history, "REPL history");
    assert!(
        saved.contains("40 + 2") && saved.contains("after the key"),
        "the other entries are kept: {saved}"
    );
    files_clean(&dir, "REPL dir");
}

#[test]
fn debug_of_public_types_holding_a_key_never_shows_it() {
    fn clean(what: &str, debug: String) {
        assert!(!debug.contains(FRAGMENT), "Debug of {what} shows the key: {debug}");
    }
    let key = ApiKey::new(KEY);
    clean("ApiKey", format!("{key:?} {key:#?}"));
    let gandi = Gandi::new("http://127.0.0.1:9/xmlrpc/", KEY, ClientConfig::default()).unwrap();
    clean("Gandi", format!("{gandi:?} {gandi:#?}"));
    let builder = gandish::Runtime::builder().endpoint("http://127.0.0.1:9/xmlrpc/").key(KEY);
    clean("RuntimeBuilder", format!("{builder:?}"));
    let runtime = builder.build().unwrap();
    clean("Runtime", format!("{runtime:?} {runtime:#?}"));
    clean("Gandi of a Runtime", format!("{:?}", runtime.gandi()));
    let config = SandboxConfig { api_key: KEY.to_string(), ..SandboxConfig::default() };
    clean("SandboxConfig", format!("{config:?} {config:#?}"));
    let mut config = config;
    config.listen = "127.0.0.1:0".to_string();
    let running = gandish::sandbox::start(config).unwrap();
    clean("RunningSandbox", format!("{running:?}"));
    clean("Sandbox", format!("{:?}", running.sandbox()));
    running.shutdown();
    clean("ClientConfig", format!("{:?}", ClientConfig::default()));

    // The CLI's parsed flags (with the key given to both the client and `sandbox --key`), the
    // configuration file and the resolved settings.
    let argv =
        ["gandish", "--no-config", "--api-key", KEY, "--url", "http://127.0.0.1:9/", "sandbox", "--key", KEY];
    let matches = Cli::command().try_get_matches_from(argv).unwrap();
    let cli = Cli::from_arg_matches(&matches).unwrap();
    clean("Cli", format!("{cli:?} {cli:#?}"));
    let file = gandish::cli::config::parse(&format!("api_key = \"{KEY}\"\n"), Path::new("c.toml")).unwrap();
    clean("ConfigFile", format!("{file:?}"));
    let settings = Settings::resolve(&cli.global, &matches, false).unwrap();
    assert_eq!(settings.api_key(), Some(KEY), "the settings do hold the key");
    clean("Settings", format!("{settings:?} {settings:#?}"));
}
