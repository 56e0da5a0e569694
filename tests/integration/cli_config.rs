//! Configuration precedence (flag > environment > file > default) end to end, with the key never
//! printed. A Python XML-RPC server tells which key it received by answering a label for it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::PyServer;

const FILE_KEY: &str = "file-KEY-0123456789abcdef";
const ENV_KEY: &str = "env-KEY-0123456789abcdef";
const FLAG_KEY: &str = "flag-KEY-0123456789abcdef";
const CMD_KEY: &str = "cmd-KEY-0123456789abcdef";

/// `whoami(key)` answers which key it got, by label (never the key itself).
const SETUP: &str = "LABELS = {'file-KEY-0123456789abcdef': 'file', 'env-KEY-0123456789abcdef': 'env', \
    'flag-KEY-0123456789abcdef': 'flag', 'cmd-KEY-0123456789abcdef': 'cmd'}\n\
    server.register_function(lambda key, *a: LABELS.get(key, 'unknown'), 'whoami')";

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("gandish-config-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_private(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn gandish(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gandish"));
    for v in ["GANDI_API_KEY", "GANDI_URL", "GANDISH_ENV", "GANDISH_TIMEOUT", "NO_COLOR"] {
        c.env_remove(v);
    }
    c.env("GANDISH_CONFIG", config).args(args).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn assert_no_key(o: &Output) {
    let (out, err) = text(o);
    for k in [FILE_KEY, ENV_KEY, FLAG_KEY, CMD_KEY] {
        assert!(!out.contains(k) && !err.contains(k), "a key leaked:\n{out}\n{err}");
    }
}

#[test]
fn the_key_comes_from_the_flag_then_the_environment_then_the_file() {
    let py = PyServer::xmlrpc(SETUP);
    let d = Dir::new("key");
    let cfg = d.0.join("config.toml");
    write_private(&cfg, &format!("api_key = \"{FILE_KEY}\"\nurl = \"{}\"\n", py.url()), 0o600);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["-v", "--trace"];
        all.extend(args);
        all.extend(["eval", "gandi::invoke(\"whoami\")"]);
        let o = gandish(&cfg, &all, env);
        assert_no_key(&o);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        text(&o)
    };
    let (out, err) = run(&[], &[]);
    assert_eq!(out, "file\n");
    assert!(err.contains(&format!("api key: set (config file {})", cfg.display())), "{err}");
    assert!(err.contains(&format!("endpoint: {} (config file", py.url())), "{err}");
    assert!(!err.contains("warning"), "0600 draws no warning: {err}");

    let (out, err) = run(&[], &[("GANDI_API_KEY", ENV_KEY)]);
    assert_eq!(out, "env\n");
    assert!(err.contains("api key: set (environment GANDI_API_KEY)"), "{err}");

    let (out, err) = run(&["--api-key", FLAG_KEY], &[("GANDI_API_KEY", ENV_KEY)]);
    assert_eq!(out, "flag\n");
    assert!(err.contains("api key: set (command line)"), "{err}");
    assert!(err.contains("trace: whoami [\"[REDACTED]\"]"), "{err}");
}

#[test]
fn the_endpoint_comes_from_the_flag_then_the_environment_then_the_file() {
    let d = Dir::new("url");
    let cfg = d.0.join("config.toml");
    write_private(&cfg, "env = \"ote\"\n", 0o600);
    let endpoint = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["-v"];
        all.extend(args);
        all.extend(["eval", "1"]);
        let o = gandish(&cfg, &all, env);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let (_, err) = text(&o);
        err.lines().find(|l| l.starts_with("endpoint: ")).unwrap().to_string()
    };
    assert!(endpoint(&[], &[]).starts_with("endpoint: https://rpc.ote.gandi.net/xmlrpc/ (config file"));
    assert_eq!(
        endpoint(&[], &[("GANDISH_ENV", "production")]),
        "endpoint: https://rpc.gandi.net/xmlrpc/ (environment GANDISH_ENV)"
    );
    assert_eq!(
        endpoint(&[], &[("GANDI_URL", "http://127.0.0.1:9/x")]),
        "endpoint: http://127.0.0.1:9/x (environment GANDI_URL)"
    );
    assert_eq!(
        endpoint(&["--url", "http://127.0.0.1:8/y"], &[("GANDISH_ENV", "production")]),
        "endpoint: http://127.0.0.1:8/y (command line)"
    );
    assert_eq!(endpoint(&["--no-config"], &[]), "endpoint: https://rpc.gandi.net/xmlrpc/ (default)");
    // Two names for the endpoint at the same level is a usage error.
    let o = gandish(&cfg, &["--url", "http://127.0.0.1:8/", "--env", "ote", "eval", "1"], &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn key_command_and_key_file_and_the_permission_warning() {
    let py = PyServer::xmlrpc(SETUP);
    let d = Dir::new("cmd");
    let cfg = d.0.join("config.toml");
    write_private(&cfg, &format!("key_command = \"echo {CMD_KEY}\"\nurl = \"{}\"\n", py.url()), 0o644);
    let o = gandish(&cfg, &["eval", "gandi::invoke(\"whoami\")"], &[]);
    assert_no_key(&o);
    assert_eq!(text(&o), ("cmd\n".to_string(), String::new()), "a command in a readable file is fine");

    write_private(&d.0.join("key"), &format!("{FILE_KEY}\n"), 0o640);
    write_private(&cfg, &format!("key_file = \"key\"\nurl = \"{}\"\n", py.url()), 0o644);
    let o = gandish(&cfg, &["eval", "gandi::invoke(\"whoami\")"], &[]);
    assert_no_key(&o);
    let (out, err) = text(&o);
    assert_eq!(out, "file\n");
    assert_eq!(
        err,
        format!(
            "warning: {k} holds the API key and is readable by its group (mode 640); run: chmod 600 {k}\n",
            k = d.0.join("key").display()
        )
    );

    write_private(&cfg, &format!("api_key = \"{FILE_KEY}\"\nurl = \"{}\"\n", py.url()), 0o644);
    let o = gandish(&cfg, &["eval", "gandi::invoke(\"whoami\")"], &[]);
    assert_no_key(&o);
    let (_, err) = text(&o);
    assert!(err.contains("is readable by everyone (mode 644)"), "{err}");
}

#[test]
fn file_defaults_apply_and_flags_override_them() {
    let d = Dir::new("defaults");
    let cfg = d.0.join("config.toml");
    write_private(&cfg, "json = true\ncolor = \"always\"\n", 0o600);
    let o = gandish(&cfg, &["eval", "#{a: 1}"], &[]);
    assert_eq!(text(&o).0, "{\n  \"a\": 1\n}\n");
    let o = gandish(&cfg, &["eval", "throw \"x\""], &[]);
    assert!(text(&o).1.contains('\x1b'), "colour from the file");
    let o = gandish(&cfg, &["--color", "never", "eval", "throw \"x\""], &[]);
    assert!(!text(&o).1.contains('\x1b'), "the flag beats the file");
}

#[test]
fn a_bad_config_file_is_a_usage_error_naming_it() {
    let d = Dir::new("bad");
    let cfg = d.0.join("config.toml");
    write_private(&cfg, "api_kye = \"x\"\n", 0o600);
    let o = gandish(&cfg, &["eval", "1"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(err.starts_with(&format!("error: configuration file {}:", cfg.display())), "{err}");
    assert!(err.contains("api_kye"), "{err}");
    let o = gandish(&d.0.join("missing.toml"), &["eval", "1"], &[]);
    assert_eq!(o.status.code(), Some(2), "a config file named on purpose must exist");
}
