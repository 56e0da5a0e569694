//! The state of a REPL session and the evaluation of one entry.
//!
//! Variables persist because every entry runs with the same `Scope`. Functions do not live in a
//! scope: each entry's AST is merged into an AST that keeps only function definitions (its
//! statements are cleared after each run), as rhai-repl does.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{AST, Dynamic, Scope};

use super::catalog::Catalog;
use super::confirm::Confirmer;
use super::output::Printer;
use super::shape::{self, Shape};
use crate::Runtime;
use crate::script::Error;

/// Whether the loop goes on after an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next entry.
    Continue,
    /// Leave the REPL (`:quit`).
    Quit,
}

/// A REPL session: the runtime, the scope, the user's functions and the output settings.
pub struct Session {
    /// The runtime entries run in.
    pub rt: Runtime,
    /// Variables kept across entries.
    pub scope: Scope<'static>,
    /// The functions defined so far (no statements).
    pub fns: AST,
    /// The functions known for completion, hints and `:doc`.
    pub catalog: Catalog,
    /// Where results and errors go.
    pub printer: Printer,
    /// How many entries failed.
    pub failures: usize,
    /// Set while an entry runs (Ctrl-C then cancels it instead of ending the process).
    pub busy: Arc<AtomicBool>,
    /// The confirmation policy, when changes need one (reset before each entry).
    pub confirmer: Option<Arc<Confirmer>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("rt", &self.rt)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `rt`.
    pub fn new(rt: Runtime, printer: Printer) -> Session {
        let catalog = Catalog::new(rt.engine());
        Session {
            rt,
            scope: Scope::new(),
            fns: AST::empty(),
            catalog,
            printer,
            failures: 0,
            busy: Arc::new(AtomicBool::new(false)),
            confirmer: None,
        }
    }

    /// The variables in scope with their shapes (for completion).
    pub fn vars(&self) -> Vec<(String, Shape)> {
        shape::of_scope(&self.scope)
    }

    /// Handles one entry: a `:command` or code.
    pub fn handle(&mut self, entry: &str) -> Flow {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            return Flow::Continue;
        }
        if trimmed.starts_with(':') {
            return super::commands::run(self, trimmed);
        }
        let result = self.run(|s| s.rt.compile_with_scope(&s.scope, entry));
        self.report(result, "<repl>", entry);
        Flow::Continue
    }

    /// Runs a script file in the session (`:load`): its variables and functions stay.
    pub fn load(&mut self, path: &Path) {
        let result = self.run(|s| s.rt.compile_file_with_scope(&s.scope, path));
        let source = std::fs::read_to_string(path).unwrap_or_default();
        self.report(result, &path.display().to_string(), &source);
    }

    /// Compiles with `compile`, merges the functions, runs the statements with the scope.
    fn run(&mut self, compile: impl FnOnce(&Self) -> Result<AST, Error>) -> Result<Dynamic, Error> {
        let ast = compile(self)?;
        let defines = ast.iter_functions().next().is_some();
        self.fns += ast;
        if defines {
            self.catalog.set_user(&self.fns);
        }
        if let Some(c) = &self.confirmer {
            c.new_entry();
        }
        self.busy.store(true, Ordering::SeqCst);
        let result = self.rt.run_ast_with_scope(&mut self.scope, &self.fns);
        self.busy.store(false, Ordering::SeqCst);
        self.fns.clear_statements();
        result
    }

    fn report(&mut self, result: Result<Dynamic, Error>, name: &str, source: &str) {
        match result {
            Ok(v) => self.printer.value(&v),
            Err(Error::Cancelled { .. }) => {
                self.failures += 1;
                self.printer.note("cancelled");
            }
            Err(e) => {
                self.failures += 1;
                self.printer.error(&e, name, source);
            }
        }
        self.printer.plan(&self.rt.take_plan());
    }
}
