//! What the REPL prints: results on stdout (readable, or one JSON document per line with
//! `:json on`), errors with the source line and a caret, notes and dry-run plans on stderr.
//! Everything goes through the redactor, so the API key never shows.

use std::io::{self, Write};

use rhai::Dynamic;

use crate::cli::redact::Redactor;
use crate::script::display::{to_debug, to_display, to_json};
use crate::script::{Error, PlanEntry};

/// Prints for the REPL.
#[derive(Debug)]
pub struct Printer {
    /// Results as JSON lines.
    pub json: bool,
    /// ANSI colours on stderr.
    pub color: bool,
    redactor: Redactor,
}

const RED: &str = "\x1b[1;31m";
const BLUE: &str = "\x1b[1;34m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Printer {
    /// A printer that hides `secrets`.
    pub fn new(json: bool, color: bool, redactor: Redactor) -> Printer {
        Printer { json, color, redactor }
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.color { format!("{style}{text}{RESET}") } else { text.to_string() }
    }

    /// Writes to stdout; a closed stdout (`| head`) is not an error worth reporting.
    pub fn out(&self, text: &str) {
        let mut o = io::stdout().lock();
        let _ = o.write_all(self.redactor.apply(text).as_bytes());
        let _ = o.flush();
    }

    /// Writes to stderr.
    pub fn err(&self, text: &str) {
        let mut e = io::stderr().lock();
        let _ = e.write_all(self.redactor.apply(text).as_bytes());
        let _ = e.flush();
    }

    /// The value of an entry: nothing for `()` in text mode; in JSON mode every entry prints one
    /// line (`null` for `()`), so the output lines match the entries.
    pub fn value(&self, v: &Dynamic) {
        if self.json {
            let text = serde_json::to_string(&to_json(v)).unwrap_or_else(|_| "null".into());
            self.out(&format!("{text}\n"));
        } else if !v.is_unit() {
            // Strings are quoted at the top level so `"1"` and `1` differ.
            let text = if v.is_string() { to_debug(v) } else { to_display(v) };
            self.out(&format!("{text}\n"));
        }
    }

    /// A note on stderr (`cancelled`, `planned, not sent: …`).
    pub fn note(&self, text: &str) {
        self.err(&format!("{}\n", self.paint(DIM, text)));
    }

    /// The changes planned in dry-run mode by the last entry.
    pub fn plan(&self, plan: &[PlanEntry]) {
        if plan.is_empty() {
            return;
        }
        let mut text = format!("dry-run: {} change(s) not sent:\n", plan.len());
        for p in plan {
            text.push_str(&format!("  - {} ({})\n", p.summary, p.method));
        }
        self.err(&self.paint(DIM, &text));
    }

    /// An error, with the line of `source` it points at and a caret under the column, like
    /// rustc. `name` names the source (`<repl>` or the file).
    pub fn error(&self, e: &Error, name: &str, source: &str) {
        let mut text = format!("{}: {e}\n", self.paint(RED, "error"));
        if let Some(pos) = e.position()
            && let Some(line_no) = pos.line()
            && let Some(line) = source.split('\n').nth(line_no - 1)
        {
            let col = pos.position().unwrap_or(1).max(1);
            let gutter = " ".repeat(line_no.to_string().len());
            let bar = self.paint(BLUE, "|");
            text.push_str(&format!("{gutter}{} {name}:{line_no}:{col}\n", self.paint(BLUE, "-->")));
            text.push_str(&format!("{gutter} {bar}\n"));
            text.push_str(&format!("{} {bar} {}\n", self.paint(BLUE, &line_no.to_string()), line.trim_end()));
            let pad: String =
                line.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            text.push_str(&format!("{gutter} {bar} {pad}{}\n", self.paint(RED, "^")));
        }
        self.err(&text);
    }
}
