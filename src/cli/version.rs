//! `gandish --version` and `gandish -vV`: the version, and where the binary comes from. The
//! build script (`build.rs`) sets the commit and dates when built from a git checkout; from a
//! package they are empty and only the version is shown.

use std::ffi::OsString;

/// What `gandish --version` prints after the name: `0.1.0 (abcdef012 2026-12-08, built
/// 2026-12-08)` from git, `0.1.0` from a package.
pub const LINE: &str = env!("GANDISH_VERSION_LINE");

/// The full commit hash, empty when not built from git.
pub const COMMIT_HASH: &str = env!("GANDISH_COMMIT_HASH");

/// The commit date (`YYYY-MM-DD`), empty when not built from git.
pub const COMMIT_DATE: &str = env!("GANDISH_COMMIT_DATE");

/// The build date (`YYYY-MM-DD`, UTC, or from `SOURCE_DATE_EPOCH`), empty when not built from git.
pub const BUILD_DATE: &str = env!("GANDISH_BUILD_DATE");

/// The cargo features compiled in.
pub fn features() -> Vec<&'static str> {
    let all = [
        ("cli", cfg!(feature = "cli")),
        ("sandbox", cfg!(feature = "sandbox")),
        ("script", cfg!(feature = "script")),
        ("server", cfg!(feature = "server")),
    ];
    all.into_iter().filter(|(_, on)| *on).map(|(name, _)| name).collect()
}

/// The `-vV` details, one `key: value` per line after the version line, as `cargo -vV`
/// prints them. Lines for what is unknown (no git) are left out rather than shown empty.
pub fn details() -> String {
    let mut out = format!("gandish {LINE}\nrelease: {}\n", env!("CARGO_PKG_VERSION"));
    for (key, value) in
        [("commit-hash", COMMIT_HASH), ("commit-date", COMMIT_DATE), ("build-date", BUILD_DATE)]
    {
        if !value.is_empty() {
            out.push_str(&format!("{key}: {value}\n"));
        }
    }
    out.push_str(&format!(
        "target: {}\nprofile: {}\nfeatures: {}\n",
        env!("GANDISH_TARGET"),
        env!("GANDISH_PROFILE"),
        features().join(", ")
    ));
    out
}

/// Whether the command line asks for `-vV` (a version flag and a verbose flag among the
/// options before the subcommand, in any spelling: `-vV`, `-Vv`, `-v -V`, `--verbose
/// --version`). clap would print the short line for `-V` before `-v` is counted, so this is
/// looked at first. The options of a subcommand are not looked at: `gandish eval -vV` is an
/// expression.
pub fn wants_details(argv: &[OsString], subcommands: &[String]) -> bool {
    let (mut version, mut verbose) = (false, false);
    for arg in argv.iter().skip(1) {
        let a = arg.to_string_lossy();
        if a == "--" || subcommands.iter().any(|s| *s == a) {
            break;
        }
        match a.as_ref() {
            "--version" => version = true,
            "--verbose" => verbose = true,
            short if short.starts_with('-') && !short.starts_with("--") => {
                let letters = &short[1..];
                if letters.chars().all(|c| c.is_ascii_alphabetic()) {
                    version |= letters.contains('V');
                    verbose |= letters.contains('v');
                }
            }
            _ => {}
        }
    }
    version && verbose
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("gandish").chain(args.iter().copied()).map(OsString::from).collect()
    }

    #[test]
    fn details_are_asked_for_in_every_spelling_before_the_subcommand() {
        let subs = vec!["eval".to_string(), "run".to_string()];
        for yes in [&["-vV"][..], &["-Vv"], &["-v", "-V"], &["--verbose", "--version"], &["-q", "-vV"]] {
            assert!(wants_details(&argv(yes), &subs), "{yes:?}");
        }
        for no in [&["-V"][..], &["--version"], &["-v"], &["eval", "-vV"], &["--", "-vV"]] {
            assert!(!wants_details(&argv(no), &subs), "{no:?}");
        }
    }

    #[test]
    fn details_name_the_target_and_features() {
        let d = details();
        assert!(d.starts_with(&format!("gandish {LINE}\nrelease: {}\n", env!("CARGO_PKG_VERSION"))), "{d}");
        assert!(d.contains(&format!("target: {}\n", env!("GANDISH_TARGET"))), "{d}");
        assert!(d.contains("features: cli, sandbox, script, server\n"), "{d}");
    }
}
