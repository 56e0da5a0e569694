//! Scripts stay in their lane: what a script can reach (the configured Gandi endpoint, and any
//! XML-RPC server through `xmlrpc::invoke` under the client's URL rules), what it cannot (files
//! other than `.rhai` modules, processes, `eval`, other network functions), and that runaway
//! scripts (sleeping, nesting values deeper and deeper, one-shot huge allocations) end with a
//! clear error instead of hanging or crashing the host.
//!
//! The limits on loops, recursion, expression depth and growing strings, arrays and maps are in
//! `script_limits.rs`.

use crate::common;
use crate::support::script as support;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RawServer, write_response};
use gandish::Runtime;
use gandish::script::{Error, Limits};
use gandish::xmlrpc::{Methods, Server, ServerConfig, Value};
use rhai::{Dynamic, EvalAltResult, Map};
use support::*;

/// The error map a script caught (`try { … } catch (e) { … }`).
fn caught(rt: &Runtime, call: &str) -> Map {
    let v = rt
        .eval(&format!("let r = \"no error\"; try {{ {call}; }} catch (e) {{ r = e; }} r"))
        .unwrap_or_else(|e| panic!("{call}: {e}"));
    v.clone().try_cast::<Map>().unwrap_or_else(|| panic!("{call} did not fail: {v}"))
}

fn field(m: &Map, k: &str) -> String {
    m.get(k).map(|v| v.to_string()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// What the engine offers.

#[test]
fn the_only_namespaces_are_the_api_modules_and_only_xmlrpc_invoke_takes_a_url() {
    let rt = offline(Limits::default());
    let sigs = rt.engine().gen_fn_signatures(true);
    let mut namespaces: Vec<&str> =
        sigs.iter().filter_map(|s| s.split('(').next()?.split_once("::").map(|(ns, _)| ns)).collect();
    namespaces.sort();
    namespaces.dedup();
    // `bulk` is the bulk engine (issue 6). Its `journal` option is the one file a script can name:
    // the engine appends its own journal records there (SECURITY.md, "What a script can do").
    assert_eq!(
        namespaces,
        ["bulk", "datacenter", "gandi", "op", "paas", "snapshot_profile", "vhost", "xmlrpc"]
    );
    let with_url: Vec<&String> = sigs.iter().filter(|s| s.contains("url")).collect();
    assert_eq!(with_url.len(), 1, "{with_url:?}");
    assert!(with_url[0].starts_with("xmlrpc::invoke(url: string,"), "{with_url:?}");
    // Nothing that names files, processes, the environment or sockets (Rhai has no such package;
    // this fails if one is ever registered, so that it gets a security review).
    let risky =
        ["file", "fs", "open", "exec", "spawn", "command", "process", "shell", "system", "env", "socket"];
    for sig in &sigs {
        let name = sig.split('(').next().unwrap_or("").to_ascii_lowercase();
        let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        assert!(!risky.iter().any(|r| words.contains(r)), "unexpected capability: {sig}");
    }
}

#[test]
fn eval_is_off_even_through_function_pointers() {
    let rt = offline(Limits::default());
    for script in [
        r#"Fn("eval").call("40 + 2")"#,
        r#"call(Fn("eval"), "40 + 2")"#,
        r#"let name = "ev" + "al"; Fn(name).call("40 + 2")"#,
        r#"let name = "ev" + "al"; call(Fn(name), "40 + 2")"#,
    ] {
        let e = rt.eval(script).expect_err(script);
        assert!(e.to_string().contains("eval"), "{script}: {e}");
    }
}

#[test]
fn exit_ends_the_script_not_the_process() {
    let rt = offline(Limits::default());
    assert_eq!(rt.eval("exit(3); 5").unwrap().as_int().unwrap(), 3);
    assert_eq!(rt.eval("40 + 2").unwrap().as_int().unwrap(), 42);
}

// ---------------------------------------------------------------------------------------------
// Files: `import` loads `.rhai` modules and nothing else.

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("gandish-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn import_reads_only_rhai_files_and_names_the_path_it_looked_for() {
    let rt = offline(Limits::default());
    let e = rt.eval("import \"/etc/passwd\" as p; 1").unwrap_err().to_string();
    assert!(e.contains("Module not found") && e.contains("/etc/passwd"), "{e}");
    let e = rt.eval("let p = \"/etc/pass\" + \"wd\"; import p as x; 1").unwrap_err().to_string();
    assert!(e.contains("Module not found"), "{e}");

    // A file that is valid Rhai but not named .rhai is never read, even by its exact name.
    let dir = TempDir::new("sandboxing-import");
    let secret = dir.0.join("notes.txt");
    std::fs::write(&secret, "export const SECRET = \"TOPSECRET\";\n").unwrap();
    let main = dir.0.join("main.rhai");
    std::fs::write(&main, "import \"notes.txt\" as n;\nn::SECRET").unwrap();
    let e = rt.run_file(&main).unwrap_err().to_string();
    assert!(e.contains("Module not found") && !e.contains("TOPSECRET"), "{e}");
    let e = rt.eval(&format!("import {:?} as n; n::SECRET", secret.display().to_string())).unwrap_err();
    assert!(!e.to_string().contains("TOPSECRET"), "{e}");

    // The same code in a .rhai module imports (relative to the script, or by absolute path).
    std::fs::write(dir.0.join("notes.rhai"), "export const SECRET = \"visible\";\n").unwrap();
    std::fs::write(&main, "import \"notes\" as n;\nn::SECRET").unwrap();
    assert_eq!(string(rt.run_file(&main).unwrap()), "visible");
    let abs = dir.0.join("notes.rhai").display().to_string();
    assert_eq!(string(rt.eval(&format!("import {abs:?} as n; n::SECRET")).unwrap()), "visible");
}

// ---------------------------------------------------------------------------------------------
// The network: the Gandi endpoint, and xmlrpc::invoke under the client's rules.

#[test]
fn xmlrpc_invoke_refuses_plain_http_to_remote_hosts_and_other_schemes_before_sending() {
    let rt = offline(Limits::default());
    let e = caught(&rt, r#"xmlrpc::invoke("http://192.0.2.1/RPC2", "system.listMethods", [])"#);
    assert_eq!(field(&e, "kind"), "transport");
    assert!(field(&e, "message").contains("refusing plain http:// to 192.0.2.1"), "{e:?}");
    for (url, why) in [
        ("file:///etc/passwd", "invalid URL"),
        ("ftp://127.0.0.1/", "unsupported scheme \"ftp\""),
        ("https://user:secret@example.com/RPC2", "credentials in the URL are not supported"),
        ("/etc/passwd", "it needs a scheme"),
    ] {
        let e = caught(&rt, &format!("xmlrpc::invoke({url:?}, \"m\", [])"));
        assert_eq!(field(&e, "kind"), "transport", "{url}");
        assert!(field(&e, "message").contains(why), "{url}: {e:?}");
        assert!(!field(&e, "message").contains("secret"), "{url}: {e:?}");
    }
}

#[test]
fn xmlrpc_invoke_sends_only_what_the_script_passes_never_the_api_key() {
    let seen: Arc<Mutex<Vec<Vec<Value>>>> = Arc::default();
    let log = seen.clone();
    let mut m = Methods::new();
    m.add("echo", move |params| {
        log.lock().unwrap().push(params.clone());
        Ok(Value::Array(params))
    });
    let other = Server::bind("127.0.0.1:0", Arc::new(m), ServerConfig::default()).unwrap();
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let v = eval(&rt, &format!(r#"xmlrpc::invoke({:?}, "echo", ["a", 2])"#, other.url("/RPC2")));
    assert_eq!(v.to_string(), r#"["a", 2]"#);
    assert_eq!(*seen.lock().unwrap(), vec![vec![Value::from("a"), Value::Int(2)]]);
    // The Gandi modules, by contrast, put the key first, and only on the configured endpoint.
    assert_eq!(int(&eval(&rt, "gandi::invoke(\"paas.count\")")), 1);
    assert!(rt.calls().iter().all(|c| c.method != "echo"), "xmlrpc::invoke is not a Gandi call");
    other.shutdown();
}

#[test]
fn xmlrpc_invoke_does_not_follow_redirects() {
    let target = RawServer::start(|mut c| {
        if c.read_request().is_some() {
            write_response(&mut c.stream, "200 OK", "text/xml", b"<methodResponse/>");
        }
    });
    let location = target.url();
    let redirector = RawServer::start(move |mut c| {
        if c.read_request().is_some() {
            let head = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = c.stream.write_all(head.as_bytes());
        }
    });
    let rt = offline(Limits::default());
    let e = caught(&rt, &format!(r#"xmlrpc::invoke({:?}, "m", [1])"#, redirector.url()));
    assert_eq!(field(&e, "kind"), "transport");
    assert!(field(&e, "message").contains("307"), "{e:?}");
    assert_eq!(redirector.requests.lock().unwrap().len(), 1);
    assert_eq!(target.connections.load(Ordering::SeqCst), 0, "the redirect was followed");
}

// ---------------------------------------------------------------------------------------------
// Runaway scripts.

#[test]
fn sleep_is_cut_short_by_the_timeout() {
    let rt = offline(Limits::default().with_timeout(Some(Duration::from_millis(200))));
    // Rhai's own sleep would block for the whole half minute, past the 200 ms limit.
    for script in ["sleep(30)", "sleep(30.0)", "sleep(1e300)"] {
        match rt.eval(script) {
            Err(Error::Timeout { limit, position }) => {
                assert_eq!(limit, Duration::from_millis(200));
                assert_eq!(position.line(), Some(1), "{script}");
            }
            other => panic!("{script}: expected a timeout, got {other:?}"),
        }
    }
    assert_eq!(rt.eval("sleep(0); sleep(-5); sleep(0.01); 7").unwrap().as_int().unwrap(), 7);
}

#[test]
fn sleep_is_cut_short_by_cancellation() {
    let rt = Arc::new(offline(Limits::default()));
    let handle = rt.cancel_handle();
    let runner = {
        let rt = rt.clone();
        std::thread::spawn(move || rt.eval("let x = 1;\nsleep(30)"))
    };
    let result = loop {
        handle.cancel();
        if runner.is_finished() {
            break runner.join().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    match result {
        Err(Error::Cancelled { position }) => assert_eq!(position.line(), Some(2)),
        other => panic!("expected a cancellation, got {other:?}"),
    }
}

fn too_deep(e: Error, what: &str) {
    let e = script_error(e);
    assert!(matches!(*e, EvalAltResult::ErrorDataTooLarge(..)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(what) && msg.contains("more than 128 levels"), "{msg}");
}

#[test]
fn values_nested_without_end_do_not_crash_the_host() {
    // 1,500 nested maps: enough to overflow a 2 MiB thread stack when Rhai copies or drops them
    // (the test thread's, before scripts got a thread of their own).
    let rt = offline(Limits::default());
    too_deep(rt.eval("let a = #{}; for i in 0..1500 { a = #{x: a}; } 1").unwrap_err(), "variable `a`");
    // Deeper than 128 levels, a value may not leave the run: as its result, a thrown value or a
    // variable of the caller's scope (which loses it).
    let nest = "let a = []; for i in 0..200 { a = [a]; }";
    too_deep(rt.eval(&format!("{nest} a")).unwrap_err(), "the script's result");
    too_deep(rt.eval(&format!("{nest} throw a")).unwrap_err(), "a thrown value");
    let mut scope = rhai::Scope::new();
    scope.push("kept", 1_i64);
    too_deep(rt.eval_with_scope(&mut scope, &format!("{nest} 1")).unwrap_err(), "variable `a`");
    assert!(scope.get("a").is_none());
    assert_eq!(scope.get_value::<i64>("kept"), Some(1));
    // Values built and dropped inside the run are fine, and so is nesting up to the limit.
    assert_eq!(rt.eval(&format!("fn f() {{ {nest} a }} f().len()")).unwrap().as_int().unwrap(), 1);
    let v = rt.eval("let a = []; for i in 0..127 { a = [a]; } a").unwrap();
    assert!(v.is_array());
}

#[test]
fn one_shot_huge_allocations_are_refused_by_the_size_limits() {
    let rt = offline(Limits::default());
    for script in [
        r#""x".pad(2000000000, "y")"#,
        r#"let s = "x"; s.pad(2000000000, 'y'); s"#,
        "let a = []; a.pad(2000000000, 0); a.len()",
        "blob(2000000000).len()",
        "let b = blob(); b.pad(2000000000, 0); b.len()",
    ] {
        let e = script_error(rt.eval(script).unwrap_err());
        assert!(matches!(*e, EvalAltResult::ErrorDataTooLarge(..)), "{script}: {e:?}");
    }
}

#[test]
fn deeply_nested_json_is_refused_by_the_parser() {
    let rt = offline(Limits::default());
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let text = format!("{}1{}", open.repeat(100_000), close.repeat(100_000));
        let mut scope = rhai::Scope::new();
        scope.push("text", text);
        let e = rt.eval_with_scope(&mut scope, "parse_json(text)").unwrap_err().to_string();
        assert!(e.contains("recursion limit"), "{e}");
    }
    let v: Dynamic = rt.eval(r#"parse_json("{\"a\": [1, {\"b\": 2}]}")"#).unwrap();
    assert_eq!(v.to_string(), "#{\"a\": [1, #{\"b\": 2}]}");
}
