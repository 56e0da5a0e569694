//! `--help` of gandish and of each subcommand (issue 16): snapshots kept as plain files in
//! tests/snapshots/, so a change to any help text shows in review. The options every command
//! shares are listed under their own heading, after the command's own (as gh's "Inherited
//! flags"); each environment variable is named once, in the option's own text, not again by
//! clap as `[env: X=]`.
//!
//! To accept a change on purpose: `GANDISH_UPDATE_SNAPSHOTS=1 cargo test --test frontends_help`,
//! then review the diff of tests/snapshots/.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The subcommands, and `None` for `gandish --help` itself.
const COMMANDS: [Option<&str>; 9] = [
    None,
    Some("run"),
    Some("eval"),
    Some("repl"),
    Some("watch"),
    Some("call"),
    Some("sandbox"),
    Some("stdlib"),
    Some("completions"),
];

/// The variables the global options read.
const ENV_VARS: [&str; 5] =
    ["GANDI_URL", "GANDISH_ENV", "GANDI_API_KEY", "GANDISH_TIMEOUT", "GANDISH_CONFIG"];

fn help(command: Option<&str>) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(command)
        .arg("--help")
        // A fixed width (stdout is a pipe, so clap would otherwise pick its default), and no
        // variable that clap would show the value of.
        .env("COLUMNS", "100")
        .env_remove("GANDI_URL")
        .env_remove("GANDI_API_KEY")
        .env_remove("GANDISH_ENV")
        .env_remove("GANDISH_TIMEOUT")
        .env_remove("GANDISH_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("gandish runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("the help is UTF-8")
}

fn snapshot(command: Option<&str>) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("help-{}.txt", command.unwrap_or("gandish")))
}

#[test]
fn every_help_matches_its_snapshot() {
    let update = std::env::var_os("GANDISH_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for command in COMMANDS {
        let text = help(command);
        let path = snapshot(command);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == text => {}
            Ok(want) => stale.push(format!(
                "{}: differs; first different line: {:?}",
                path.display(),
                want.lines().zip(text.lines()).find(|(a, b)| a != b).map_or("(one is longer)", |(_, b)| b)
            )),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "help snapshots out of date (GANDISH_UPDATE_SNAPSHOTS=1 rewrites them):\n{}",
        stale.join("\n")
    );
}

#[test]
fn global_options_come_after_each_commands_own_under_their_heading() {
    for command in COMMANDS.into_iter().flatten() {
        let text = help(Some(command));
        let own =
            text.find("\nOptions:\n").unwrap_or_else(|| panic!("{command}: no Options heading:\n{text}"));
        let global = text
            .find("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{command}: no Global options:\n{text}"));
        assert!(own < global, "{command}: its own options first");
        let (own_part, global_part) = text.split_at(global);
        for flag in ["--url <URL>", "--api-key <KEY>", "--sandbox", "--json", "--trace", "--no-config"] {
            assert!(global_part.contains(flag), "{command}: {flag} under Global options");
            assert!(
                !own_part.contains(&format!("      {flag}")),
                "{command}: {flag} not among its own options"
            );
        }
    }
}

#[test]
fn each_environment_variable_is_named_once() {
    for command in COMMANDS {
        let text = help(command);
        assert!(!text.contains("=]"), "{command:?}: clap's own [env: X=] note is hidden:\n{text}");
        for var in ENV_VARS {
            assert_eq!(text.matches(&format!("[env: {var}")).count(), 1, "{command:?}: {var}:\n{text}");
        }
    }
}

#[test]
fn sandbox_key_is_the_key_clients_must_send() {
    let text = help(Some("sandbox"));
    let key = text.split("--key <KEY>").nth(1).expect("--key is listed");
    let key = &key[..key.find("\n\n").unwrap_or(key.len())];
    assert!(key.contains("The API key clients must send"), "{key}");
    assert!(!key.contains("gandish sends"), "{key}");
}
