//! `gandish --version` names the commit and build date when built from git and `-vV` gives the
//! details, as cargo does; the build script's own code degrades to the version alone where
//! there is no repository (a package unpacked from crates.io).

use std::path::Path;
use std::process::{Command, Output};

// The very functions `build.rs` runs.
#[allow(dead_code)]
mod version_info {
    include!("../../build/version_info.rs");
}

fn gandish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gandish")).args(args).env_remove("GANDI_API_KEY").output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn head_of_this_checkout() -> Option<String> {
    let o = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_and_the_build_date_from_git() {
    let line = stdout(&gandish(&["--version"]));
    let version = env!("CARGO_PKG_VERSION");
    match head_of_this_checkout() {
        Some(head) => {
            let prefix = format!("gandish {version} ({} ", &head[..9]);
            assert!(line.starts_with(&prefix), "{line:?} should start with {prefix:?}");
            assert!(line.contains(", built 20"), "{line:?}");
        }
        None => assert_eq!(line, format!("gandish {version}\n")),
    }
    assert_eq!(stdout(&gandish(&["-V"])), line, "-V and --version print the same line");
}

#[test]
fn dash_v_capital_v_prints_the_details_as_cargo_does() {
    let details = stdout(&gandish(&["-vV"]));
    let lines: Vec<&str> = details.lines().collect();
    assert!(lines[0].starts_with("gandish "), "{details}");
    assert!(lines.contains(&format!("release: {}", env!("CARGO_PKG_VERSION")).as_str()), "{details}");
    if let Some(head) = head_of_this_checkout() {
        assert!(lines.contains(&format!("commit-hash: {head}").as_str()), "{details}");
        for key in ["commit-date: ", "build-date: "] {
            let value =
                lines.iter().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("{key}{details}"));
            assert!(value.len() == 10 && value.as_bytes()[4] == b'-', "{key}{value}");
        }
    }
    let target = lines.iter().find_map(|l| l.strip_prefix("target: ")).expect("a target line");
    assert!(target.contains('-') && !target.is_empty(), "{details}");
    assert!(lines.contains(&"features: cli, sandbox, script, server"), "{details}");
    assert_eq!(stdout(&gandish(&["--verbose", "--version"])), details);
}

#[test]
fn without_a_repository_the_version_is_the_version_alone() {
    let dir = std::env::temp_dir().join(format!("gandish-no-git-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A folder that is no checkout (the temp dir is not inside this one).
    assert_eq!(version_info::git_info(&dir), None);
    assert_eq!(version_info::version_line("0.1.0", None, "2026-12-08"), "0.1.0");
    std::fs::remove_dir_all(&dir).unwrap();
    // A folder inside a checkout but not its top (as a package unpacked in one) claims nothing.
    if head_of_this_checkout().is_some() {
        assert_eq!(version_info::git_info(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")), None);
        let info = version_info::git_info(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the checkout");
        assert!(info.watch.iter().any(|p| p.ends_with("HEAD")), "{:?}", info.watch);
        assert!(info.watch.iter().all(|p| p.exists()), "{:?}", info.watch);
    }
}

#[test]
fn dates_are_civil_utc_days() {
    assert_eq!(version_info::utc_date(0), "1970-01-01");
    assert_eq!(version_info::utc_date(951_782_400), "2000-02-29");
    assert_eq!(version_info::utc_date(1_796_688_000), "2026-12-08");
    let g =
        version_info::GitInfo { hash: "0123456789abcdef".into(), date: "2026-12-07".into(), watch: vec![] };
    assert_eq!(
        version_info::version_line("0.1.0", Some(&g), "2026-12-08"),
        "0.1.0 (012345678 2026-12-07, built 2026-12-08)"
    );
}
