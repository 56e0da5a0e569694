//! Tables on a terminal (issue 16), through a real pseudo-terminal (tmux): id and name lead,
//! a script's `columns` are kept as given, and a table fits the terminal's width at 80 and 160
//! columns (cells cut with `…`, columns left out named below); written to a pipe, a table is not
//! fitted even when `COLUMNS` is set.

use crate::support::term;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use term::Term;

fn history() -> PathBuf {
    std::env::temp_dir().join(format!("gandish-frontends-tables-{}", std::process::id()))
}

/// The lines gandish printed running `ARGS` on a terminal `columns` wide, wrapped lines joined
/// back (so that a line too wide for the terminal shows as one long line), until it exited 0.
fn table_on_terminal(columns: u16, args: &[&str]) -> Vec<String> {
    let t = Term::command_sized(&history(), args, columns, 60);
    t.wait_for("gandish to finish", |s| s.contains("[exited "));
    let joined = t.tmux(&["capture-pane", "-p", "-J", "-t", "t", "-S", "-2000"]);
    let screen = String::from_utf8_lossy(&joined.stdout).into_owned();
    assert!(screen.contains("[exited 0]"), "{screen}");
    screen
        .lines()
        .map(|l| l.trim_end().to_string())
        .take_while(|l| !l.starts_with("[exited"))
        .filter(|l| !l.is_empty())
        .collect()
}

fn widest(lines: &[String]) -> usize {
    lines.iter().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn header(lines: &[String]) -> Vec<String> {
    lines[0].split_whitespace().map(str::to_string).collect()
}

#[test]
fn paas_list_fits_80_and_160_columns_with_id_and_name_first() {
    let narrow = table_on_terminal(80, &["--sandbox", "eval", "paas::list()"]);
    assert!(widest(&narrow) <= 80, "every line fits 80 columns:\n{}", narrow.join("\n"));
    let cols80 = header(&narrow);
    assert_eq!(cols80[..2], ["id", "name"], "{}", narrow[0]);
    let note = narrow.last().unwrap();
    assert!(note.starts_with('(') && note.contains("more columns") && note.contains("--json"), "{note}");
    assert!(narrow[1].starts_with("--  ----"), "the rule under the header: {}", narrow[1]);
    // Dates are never cut: a text column gives way first.
    assert!(cols80.iter().any(|c| c == "date_end"), "{}", narrow[0]);
    assert!(narrow[2].contains("2011-10-14T14:36:30"), "{}", narrow[2]);

    let wide = table_on_terminal(160, &["--sandbox", "eval", "paas::list()"]);
    assert!(widest(&wide) <= 160, "every line fits 160 columns:\n{}", wide.join("\n"));
    let cols160 = header(&wide);
    assert_eq!(cols160[..2], ["id", "name"]);
    assert!(cols160.len() > cols80.len(), "a wider terminal shows more columns: {cols80:?} / {cols160:?}");
    assert!(widest(&wide) > 80, "and uses the room");
    // The same rows in both: the id column is never cut.
    let ids = |lines: &[String]| -> Vec<String> {
        lines[2..]
            .iter()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.parse::<u32>().is_ok())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(ids(&narrow), ids(&wide));
    assert!(ids(&narrow).len() > 10);
}

#[test]
fn a_reports_own_columns_are_kept_in_order_and_long_cells_are_cut() {
    let note = "y".repeat(150);
    let script = format!(
        r#"let rows = paas::list().map(|p| #{{id: p.id, name: p.name, note: "{note}", state: p.state}});
        #{{columns: ["state", "note", "id"], rows: rows, summary: `${{rows.len()}} instances`}}"#
    );
    let lines = table_on_terminal(80, &["--sandbox", "eval", &script]);
    assert_eq!(header(&lines), ["state", "note", "id"], "{}", lines[0]);
    assert!(widest(&lines) <= 80, "{}", lines.join("\n"));
    assert!(lines[2].contains("yyy…"), "the long cell is cut with an ellipsis: {}", lines[2]);
    assert!(lines.last().unwrap().ends_with(" instances"), "the summary closes the report");
}

#[test]
fn a_pipe_gets_every_column_in_full_even_with_columns_set() {
    let o = Command::new(env!("CARGO_BIN_EXE_gandish"))
        .args(["--no-config", "--sandbox", "eval", "paas::list()"])
        .env("COLUMNS", "40")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("id  name"), "{first}");
    assert!(first.chars().count() > 80 && !text.contains('…') && !text.contains("more columns"), "{text}");
}
