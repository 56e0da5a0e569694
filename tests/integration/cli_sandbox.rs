//! `gandish sandbox` and the global `--sandbox` flag, end to end through the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn gandish() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gandish"));
    c.env_remove("GANDI_API_KEY").env_remove("GANDI_URL");
    c
}

#[test]
fn sandbox_flag_runs_call_offline_against_the_demo_dataset() {
    let out = gandish().args(["--sandbox", "call", "paas.count"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let count: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(count > 30, "the demo dataset has the seed's instance plus a few dozen: {count}");

    // The flag is global: it may also follow the subcommand.
    let out = gandish().args(["call", "--sandbox", "paas.info", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["name"], "Mon PaaS");
    assert_eq!(info["date_end"]["$datetime"], "20111014T14:36:30");
}

#[test]
fn sandbox_flag_faults_exit_3_with_gandis_message() {
    let out = gandish().args(["--sandbox", "call", "paas.info", "99999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "fault 537542: Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '99999' doesn't exist.]"
    );
}

#[test]
fn sandbox_command_serves_the_seed_session_and_stops_on_sigterm() {
    let mut child = gandish()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--dataset", "seed"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    stderr.read_line(&mut banner).unwrap();
    let url = banner.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/xmlrpc/"), "{banner:?}");
    let mut key_line = String::new();
    stderr.read_line(&mut key_line).unwrap();
    assert_eq!(key_line.trim(), "API key: my 24-character API key");

    // The seed's own Python lines, verbatim apart from the URL.
    let script = format!(
        "import xmlrpc.client as xmlrpclib\n\
         api = xmlrpclib.ServerProxy('{url}', allow_none=True)\n\
         apikey = 'my 24-character API key'\n\
         version = api.version.info(apikey)\n\
         assert api.paas.count(apikey) == 1\n\
         assert api.paas.count(apikey, {{'size': 's'}}) == 0\n\
         assert api.paas.list(apikey, {{'size': 's'}}) == []\n\
         print(version['api_version'], api.paas.info(apikey, 1)['name'])\n"
    );
    let out = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3.3.42 Mon PaaS");

    // SIGTERM stops it cleanly, with status 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(rest.contains("gandish sandbox stopped"), "{rest:?}");
}

#[test]
fn sandbox_command_refuses_bad_settings_as_usage_errors() {
    let out = gandish().args(["sandbox", "--dataset", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = gandish().args(["sandbox", "--listen", "127.0.0.1:0", "--fail-rate", "1.5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn trace_logs_the_call_with_the_key_redacted() {
    let out = gandish().args(["--sandbox", "--trace", "call", "paas.info", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("trace: ")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.starts_with("trace: paas.info [\"[REDACTED]\",1] "), "{line}");
    assert!(line.ends_with(": ok") && line.contains(" B sent, "), "{line}");
    assert!(!stderr.contains("24-character"), "{stderr}");

    let out = gandish().args(["--sandbox", "--trace", "call", "paas.info", "99999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(": fault 537542: "), "{stderr}");
}

/// The key line of a `gandish sandbox` banner, started with `args` and `env`, then stopped.
fn banner_key(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = gandish();
    cmd.args(args).args(["--listen", "127.0.0.1:0"]).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (mut url, mut key) = (String::new(), String::new());
    stderr.read_line(&mut url).unwrap();
    stderr.read_line(&mut key).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    key.trim().to_owned()
}

#[test]
fn sandbox_api_key_sets_the_expected_key_but_the_environment_never_does() {
    assert_eq!(banner_key(&["sandbox", "--api-key", "k-cmdline"], &[]), "API key: k-cmdline");
    assert_eq!(banner_key(&["--api-key", "k-before", "sandbox"], &[]), "API key: k-before");
    assert_eq!(banner_key(&["sandbox", "--key", "k-key"], &[]), "API key: k-key");
    // GANDI_API_KEY may hold a real key: the sandbox never adopts it (its banner prints the key).
    assert_eq!(
        banner_key(&["sandbox"], &[("GANDI_API_KEY", "real-secret-key")]),
        "API key: my 24-character API key"
    );
}
