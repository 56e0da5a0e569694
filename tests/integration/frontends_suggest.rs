//! Errors that suggest the fix (issue 16): "did you mean" for a misspelled subcommand, script
//! function and module, a `help:` line for a date plus a bare number, and the signatures of a
//! known function called with arguments it does not take. The rustc layout above stays as it
//! was: the hint is the last line.

use std::process::{Command, Output, Stdio};

fn gandish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gandish"))
        .arg("--no-config")
        .args(args)
        .env_remove("GANDI_API_KEY")
        .env_remove("GANDI_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("gandish runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Evaluates `expr` against the embedded sandbox; it must fail with status 1 and `help` as the
/// last line of stderr, below the caret.
fn assert_help(expr: &str, help: &str) {
    let o = gandish(&["--sandbox", "eval", expr]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.last().copied(), Some(help), "{err}");
    assert!(
        lines[lines.len() - 2].trim_start().starts_with("| ") && lines[lines.len() - 2].ends_with('^'),
        "{err}"
    );
}

#[test]
fn a_misspelled_subcommand_gets_the_closest_one() {
    let o = gandish(&["rn", "x.rhai"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: unrecognized subcommand 'rn'\n\n  tip: a similar subcommand exists: 'run'\n"),
        "{err}"
    );
    // clap's own tips, where it has one, are left as they are (and not doubled).
    let err = stderr(&gandish(&["sandbx"]));
    assert_eq!(err.matches("tip:").count(), 1, "{err}");
    assert!(err.contains("'sandbox'"), "{err}");
}

#[test]
fn misspelled_functions_and_modules_get_did_you_mean() {
    assert_help("paas::lsit()", "help: did you mean `paas::list`?");
    assert_help("lenn([1, 2])", "help: did you mean `len`?");
    assert_help("paaz::list()", "help: did you mean the module `paas`?");
}

#[test]
fn a_date_plus_a_number_says_to_write_a_duration() {
    assert_help(
        "let p = paas::info(1); p.date_end + 30",
        "help: a number is not a duration: write `date + days(30)` (or hours(…), minutes(…), months(…), years(…))",
    );
    assert_help(
        "let d = now(); d -= 3; d",
        "help: a number is not a duration: write `date - days(30)` (or hours(…), minutes(…), months(…), years(…))",
    );
}

#[test]
fn a_known_function_with_the_wrong_arguments_shows_its_signatures() {
    assert_help("paas::info(1, 2, 3)", "help: paas::info takes: `paas::info(instance: i64 | Map) -> Map`");
}

#[test]
fn no_hint_when_nothing_is_close() {
    let o = gandish(&["--sandbox", "eval", "paas::zzzzzzzz()"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(!err.contains("help:") && !err.contains("did you mean"), "{err}");
}

#[test]
fn the_repl_gives_the_same_hints() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(["--no-config", "--sandbox", "repl"])
        .env("NO_COLOR", "1")
        .env("GANDISH_HISTORY", std::env::temp_dir().join(format!("gandish-suggest-{}", std::process::id())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"paas::lsit()\nnow() + 1\n").unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(err.contains("help: did you mean `paas::list`?\n"), "{err}");
    assert!(err.contains("help: a number is not a duration: write `date + days(30)`"), "{err}");
}
