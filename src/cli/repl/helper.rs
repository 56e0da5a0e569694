//! The rustyline helper: completion ([`complete`](super::complete), file names after `:load`),
//! hints (signatures, else history), highlighting (matching brackets, dim hints) and the
//! multi-line validator ([`validate`](super::validate)).

use std::borrow::Cow;

use rhai::Engine;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use rustyline::hint::{Hint, Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::catalog::Catalog;
use super::shape::Shape;
use super::validate::{Verdict, parser, verdict};

/// The REPL's line-editor helper. The loop refreshes `catalog` and `vars` after each entry.
#[derive(Helper)]
pub struct ReplHelper {
    /// Functions and modules.
    pub catalog: Catalog,
    /// Variables in scope and their shapes.
    pub vars: Vec<(String, Shape)>,
    /// Whether to colour (brackets, hints).
    pub color: bool,
    parser: Engine,
    files: FilenameCompleter,
    history: HistoryHinter,
    brackets: MatchingBracketHighlighter,
}

impl std::fmt::Debug for ReplHelper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplHelper")
            .field("vars", &self.vars.len())
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

impl ReplHelper {
    /// A helper knowing `catalog`.
    pub fn new(catalog: Catalog, color: bool) -> ReplHelper {
        ReplHelper {
            catalog,
            vars: Vec::new(),
            color,
            parser: parser(),
            files: FilenameCompleter::new(),
            history: HistoryHinter::new(),
            brackets: MatchingBracketHighlighter::new(),
        }
    }
}

/// A hint: a signature (shown only), or the rest of a history entry (→ accepts it).
#[derive(Debug)]
pub struct ReplHint {
    text: String,
    accept: bool,
}

impl Hint for ReplHint {
    fn display(&self) -> &str {
        &self.text
    }
    fn completion(&self) -> Option<&str> {
        self.accept.then_some(self.text.as_str())
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.trim_start().starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        Ok(super::complete::complete(line, pos, &self.catalog, &self.vars))
    }
}

impl Hinter for ReplHelper {
    type Hint = ReplHint;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<ReplHint> {
        if let Some(text) = super::hint::signature_hint(line, pos, &self.catalog) {
            return Some(ReplHint { text, accept: false });
        }
        self.history.hint(line, pos, ctx).map(|text| ReplHint { text, accept: true })
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        if self.color { self.brackets.highlight(line, pos) } else { Cow::Borrowed(line) }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color { Cow::Owned(format!("\x1b[2m{hint}\x1b[0m")) } else { Cow::Borrowed(hint) }
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        self.color && self.brackets.highlight_char(line, pos, kind)
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(match verdict(&self.parser, ctx.input(), true) {
            Verdict::Complete => ValidationResult::Valid(None),
            Verdict::Incomplete => ValidationResult::Incomplete,
        })
    }
}
