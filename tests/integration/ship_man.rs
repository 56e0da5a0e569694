//! `gandish man` prints a roff man page generated from the clap definition, naming every
//! subcommand, and `gandish man COMMAND` prints each subcommand's own page; where groff is
//! installed, each page renders without a warning.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use clap::CommandFactory as _;

fn man(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gandish"))
        .arg("man")
        .args(args)
        .env_remove("GANDI_API_KEY")
        .output()
        .unwrap()
}

fn page(args: &[&str]) -> String {
    let o = man(args);
    assert!(o.status.success(), "gandish man {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8")
}

/// groff's verdict on a page (all warnings on, no output), or `None` where groff is missing.
fn groff_warnings(page: &str) -> Option<String> {
    let mut groff = Command::new("groff")
        // -k: through preconv, as man-db renders a page (the help texts hold UTF-8 such as "→").
        .args(["-k", "-man", "-ww", "-z", "-Tutf8"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    groff.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
    let out = groff.wait_with_output().unwrap();
    assert!(out.status.success(), "groff failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stderr).into_owned())
}

fn subcommands() -> Vec<String> {
    gandish::cli::args::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let page = page(&[]);
    assert!(page.lines().any(|l| l.starts_with(".TH gandish 1")), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section} in\n{page}");
    }
    let names = subcommands();
    assert!(names.len() >= 9 && names.contains(&"man".to_string()), "{names:?}");
    for name in &names {
        // clap_mangen names each as `gandish-NAME(1)` in the SUBCOMMANDS section.
        assert!(page.contains(&format!("gandish\\-{name}(1)")), "{name} is missing from\n{page}");
    }
    assert!(page.contains("\\-\\-api\\-key"), "the global options are listed");
    match groff_warnings(&page) {
        Some(w) => assert!(w.is_empty(), "groff warns: {w}"),
        None => eprintln!("groff is not installed: the roff is not rendered"),
    }
}

#[test]
fn each_subcommand_has_its_own_page_and_a_wrong_name_is_refused() {
    for name in subcommands() {
        let page = page(&[&name]);
        assert!(page.lines().any(|l| l.starts_with(&format!(".TH gandish-{name} 1"))), "{page}");
        assert!(
            page.contains(&format!("\\fBgandish {name}\\fR")),
            "the synopsis names `gandish {name}`:\n{page}"
        );
        if let Some(w) = groff_warnings(&page) {
            assert!(w.is_empty(), "groff warns on gandish-{name}: {w}");
        }
    }
    assert!(page(&["run"]).contains("\\-\\-metrics\\-file"), "run's own options are on its page");
    let o = man(&["nope"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("there is no subcommand \"nope\"") && err.contains("run, eval"), "{err}");
}
