//! The state of a REPL session and the evaluation of one entry.
//!
//! Variables persist because every entry runs with the same `Scope`. Functions do not live in a
//! scope: each entry's AST is merged into an AST that keeps only function definitions (its
//! statements are cleared after each run), as rhai-repl does.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rhai::{AST, Dynamic, Scope};

use super::catalog::Catalog;
use super::output::{EntrySources, Printer};
use super::shape::{self, Shape};
use crate::Runtime;
use crate::cli::confirm::Confirmer;
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
    /// When the last entry ended: a Ctrl-C pressed just after an entry ended was meant for it.
    pub ended: Arc<Mutex<Instant>>,
    /// The confirmation policy, when changes need one (reset before each entry).
    pub confirmer: Option<Arc<Confirmer>>,
    /// The entries errors may point into.
    sources: EntrySources,
    /// How many code entries ran (names them `<repl:N>`).
    entries: usize,
    /// [`interrupt::count`](crate::cli::interrupt::count) when the current entry started: a
    /// Ctrl-C since then abandoned its call, so its result is not shown.
    interrupts_at_start: u64,
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
            ended: Arc::new(Mutex::new(Instant::now())),
            confirmer: None,
            sources: EntrySources::default(),
            entries: 0,
            interrupts_at_start: 0,
        }
    }

    /// The variables in scope with their shapes (for completion).
    pub fn vars(&self) -> Vec<(String, Shape)> {
        shape::of_scope(&self.scope)
    }

    /// Handles one entry of code (the REPL's loop sends `:commands` to
    /// [`commands::run`](super::commands::run) instead).
    pub fn handle(&mut self, entry: &str) -> Flow {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            return Flow::Continue;
        }
        self.entries += 1;
        let name = format!("<repl:{}>", self.entries);
        self.sources.add(&name, entry);
        let result = self.run(|s| {
            let mut ast = s.rt.compile_with_scope(&s.scope, entry)?;
            ast.set_source(name.as_str());
            for f in ast.iter_functions() {
                s.sources.defined(f.name, &name);
            }
            Ok(ast)
        });
        let defines = matches!(result, Ok((_, true)));
        self.report(result.map(|(v, _)| v));
        if !defines {
            // Only a function can point back into an entry later.
            self.sources.forget(&name);
        }
        Flow::Continue
    }

    /// Runs a script file in the session (`:load`): its variables and functions stay.
    pub fn load(&mut self, path: &Path) {
        let name = path.display().to_string();
        if let Ok(text) = std::fs::read_to_string(path) {
            self.sources.add(&name, &text);
        }
        let result = self.run(|s| {
            let ast = s.rt.compile_file_with_scope(&s.scope, path)?;
            for f in ast.iter_functions() {
                s.sources.defined(f.name, &name);
            }
            Ok(ast)
        });
        let defines = matches!(result, Ok((_, true)));
        self.report(result.map(|(v, _)| v));
        if !defines {
            self.sources.forget(&name);
        }
    }

    /// Compiles with `compile`, merges the functions, runs the statements with the scope.
    /// Returns the value and whether the code defined functions.
    fn run(
        &mut self,
        compile: impl FnOnce(&mut Self) -> Result<AST, Error>,
    ) -> Result<(Dynamic, bool), Error> {
        let ast = compile(self)?;
        let defines = ast.iter_functions().next().is_some();
        self.fns += ast;
        if defines {
            self.catalog.set_user(&self.fns);
        }
        if let Some(c) = &self.confirmer {
            c.new_run();
        }
        self.interrupts_at_start = crate::cli::interrupt::count();
        self.busy.store(true, Ordering::SeqCst);
        let result = self.rt.run_ast_with_scope(&mut self.scope, &self.fns);
        *crate::sync::lock(&self.ended) = Instant::now();
        self.busy.store(false, Ordering::SeqCst);
        self.fns.clear_statements();
        result.map(|v| (v, defines))
    }

    fn report(&mut self, result: Result<Dynamic, Error>) {
        let plan = self.rt.take_plan();
        // Ctrl-C cut the entry's call off: whatever came back after is not its answer.
        let interrupted = crate::cli::interrupt::count() != self.interrupts_at_start;
        match result {
            _ if interrupted => {
                self.failures += 1;
                self.printer.plan(&plan, true);
                self.printer.note("cancelled");
            }
            Ok(v) => self.printer.value(&v, &plan),
            Err(e) => {
                self.failures += 1;
                self.printer.plan(&plan, true);
                match e {
                    Error::Cancelled { .. } => self.printer.note("cancelled"),
                    e => {
                        self.printer.error(&e, &mut self.sources);
                        // The same `help:` line as `eval` and `run` give.
                        self.printer.err(&crate::cli::suggest::script_help(&e, &self.rt));
                    }
                }
            }
        }
    }
}
