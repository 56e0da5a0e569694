//! The lean build stays lean: the crates a host compiles with `default-features = false` (the
//! XML-RPC core and the typed client), and with `script`, counted by `cargo tree`, may not grow
//! past what was recorded plus a small margin. Also: the types a host shares across threads are
//! `Send + Sync + 'static`.

use std::process::Command;

/// Distinct packages in the normal-dependency tree for these feature flags (gandish included).
fn crates(flags: &[&str]) -> usize {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none"])
        .args(flags)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").to_string())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines.dedup();
    lines.len()
}

#[test]
fn the_lean_build_and_the_script_build_keep_to_their_crate_budgets() {
    // Recorded 2026-12-07: 42 lean (issue 15's target: at most 45), 59 with `script` (at most
    // 75); the default build, with the CLI, has 123.
    let lean = crates(&["--no-default-features"]);
    assert!(lean <= 42 + 3, "the lean build grew to {lean} crates");
    let script = crates(&["--no-default-features", "--features", "script"]);
    assert!(script <= 59 + 3, "the script build grew to {script} crates");
    assert!(lean < script && script < crates(&[]), "features add crates: {lean} < {script}");
}

#[test]
fn what_hosts_share_across_threads_is_send_sync_static() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<gandish::Runtime>();
    shared::<gandish::gandi::Gandi>();
    shared::<gandish::xmlrpc::Client>();
    shared::<gandish::sandbox::RunningSandbox>();
    shared::<gandish::script::CancelHandle>();
    shared::<gandish::gandi::Tracker>();
    shared::<gandish::gandi::bulk::Journal>();
    shared::<gandish::gandi::GandiError>();
    shared::<gandish::xmlrpc::client::Error>();
    shared::<gandish::script::Error>();
    shared::<gandish::script::BuildError>();
    shared::<gandish::sandbox::SandboxError>();
    shared::<gandish::gandi::bulk::BulkError>();
    shared::<gandish::gandi::bulk::JournalError>();
    shared::<gandish::xmlrpc::DecodeError>();
    shared::<gandish::xmlrpc::EncodeError>();
}
