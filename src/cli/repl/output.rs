//! What the REPL prints, through [`render`](crate::cli::render) as `gandish eval` does: results
//! on stdout (readable, tables, or JSON with `:json on`), the dry-run plan after them
//! (on stderr in JSON mode, so stdout stays JSON), errors with the source line and a caret and
//! notes on stderr. Everything goes through the redactor, so the API key never shows.
//!
//! Each entry is named `<repl:N>` (its AST's source), so an error inside a function defined by an
//! earlier entry points into that entry's text.

use std::collections::HashMap;
use std::io::{self, Write};

use rhai::{Dynamic, EvalAltResult};

use crate::cli::redact::Redactor;
use crate::cli::render::{Render, Sources, render_error, render_plan, render_value};
use crate::script::{Error, PlanEntry, Zone};

/// The text of the entries (and files) errors may point into.
#[derive(Debug, Default)]
pub struct EntrySources {
    texts: HashMap<String, String>,
    current: Option<String>,
    /// Which entry defined each function (by name).
    functions: HashMap<String, String>,
    /// The entry the error being rendered points into, when it is not the current one.
    pointing_into: Option<String>,
}

impl EntrySources {
    /// Remembers the text of entry `name` and makes it the current one.
    pub fn add(&mut self, name: &str, text: &str) {
        self.texts.insert(name.to_string(), text.to_string());
        self.current = Some(name.to_string());
    }

    /// Forgets an entry that defined no function (nothing can point into it later).
    pub fn forget(&mut self, name: &str) {
        self.texts.remove(name);
    }

    /// Records that entry `name` defined `function`.
    pub fn defined(&mut self, function: &str, name: &str) {
        self.functions.insert(function.to_string(), name.to_string());
    }

    /// Rhai names the running entry as the source of an error inside a function, even when the
    /// function was defined by an earlier entry: find the innermost function the error happened
    /// in and point into the entry that defined it.
    fn point_at(&mut self, e: &Error) {
        self.pointing_into = None;
        let Error::Script(err) = e else { return };
        let mut cur: &EvalAltResult = err;
        let mut innermost_fn = None;
        while let EvalAltResult::ErrorInFunctionCall(name, _, inner, _) = cur {
            innermost_fn = Some(name.as_str());
            cur = inner;
        }
        if let Some(f) = innermost_fn {
            self.pointing_into = self.functions.get(f).cloned();
        }
    }
}

impl Sources for EntrySources {
    fn get(&self, name: Option<&str>) -> Option<(String, String)> {
        let name = match (&self.pointing_into, name) {
            (Some(entry), None) => entry.as_str(),
            (Some(entry), Some(n)) if n.starts_with("<repl:") => entry.as_str(),
            (_, n) => n.or(self.current.as_deref())?,
        };
        if let Some(text) = self.texts.get(name) {
            return Some((name.to_string(), text.clone()));
        }
        // A file (`:load`) or an imported module: read it.
        let text = std::fs::read_to_string(name).ok()?;
        Some((name.to_string(), text))
    }
}

/// Prints for the REPL.
#[derive(Debug)]
pub struct Printer {
    /// Results as JSON (dates in RFC 3339).
    pub json: bool,
    /// ANSI colours on stderr.
    pub color: bool,
    redactor: Redactor,
    zone: Zone,
}

impl Printer {
    /// A printer hiding what `redactor` knows.
    pub fn new(json: bool, color: bool, redactor: Redactor) -> Printer {
        Printer { json, color, redactor, zone: Zone::default() }
    }

    /// Dates in JSON output carry the offset of `zone` (the runtime's).
    pub fn with_zone(mut self, zone: Zone) -> Printer {
        self.zone = zone;
        self
    }

    /// Writes to stdout; a closed stdout (`| head`) is not worth reporting.
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

    /// The value of an entry (nothing for `()` in text mode, `null` in JSON mode) and the changes
    /// it planned in dry-run mode.
    pub fn value(&self, v: &Dynamic, plan: &[PlanEntry]) {
        self.out(&render_value(v, &Render::stdout(self.json, self.zone.clone())));
        self.plan(plan, self.json);
    }

    /// The plan: after the value on stdout, or on stderr (JSON mode, failed entries).
    pub fn plan(&self, plan: &[PlanEntry], to_stderr: bool) {
        let text = render_plan(plan);
        if to_stderr { self.err(&text) } else { self.out(&text) }
    }

    /// A note on stderr (`cancelled`).
    pub fn note(&self, text: &str) {
        if self.color { self.err(&format!("\x1b[2m{text}\x1b[0m\n")) } else { self.err(&format!("{text}\n")) }
    }

    /// An error, with the line it points at and a caret under the column.
    pub fn error(&self, e: &Error, sources: &mut EntrySources) {
        sources.point_at(e);
        self.err(&render_error(e, sources, self.color));
    }
}
