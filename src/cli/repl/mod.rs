//! `gandish repl`: an interactive Rhai session against the Gandi API.
//!
//! - Variables and functions persist across entries ([`session`]).
//! - Open braces, brackets and parentheses (and `let x =`) continue on the next line; an
//!   unterminated `"string"` does not, and at a terminal an empty line submits whatever was
//!   typed ([`validate`]).
//! - Tab completes modules, functions, variables and map fields ([`complete`]); hints show
//!   signatures ([`hint`]); `:commands` ([`commands`]).
//! - History in the platform data directory or `GANDISH_HISTORY`, appended after every entry,
//!   never with the API key ([`history`]).
//! - Ctrl-C cancels a running entry, cutting off the call in flight (its answer is never
//!   shown), and clears the line at the prompt; Ctrl-D leaves.
//! - At a terminal, a delete and the first billable change of an entry ask first, unless `yes`
//!   ([`crate::cli::confirm`]; piped, nothing is asked).
//! - With piped stdin: no prompt, no colour, no history; entries are read line by line with the
//!   same multi-line rules (text left open at the end of input is evaluated, and its error
//!   reported); each entry's result is printed as `gandish eval` prints it (with `:json on`,
//!   JSON, `null` for `()`). The exit status is 1 if an entry failed, 130 if
//!   interrupted, else 0.

pub mod catalog;
pub mod commands;
pub mod complete;
pub mod helper;
pub mod hint;
pub mod history;
pub mod output;
pub mod session;
pub mod shape;
pub mod validate;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use rustyline::Editor;
use rustyline::config::{ColorMode, CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;

use self::helper::ReplHelper;
use self::history::History;
use self::output::Printer;
use self::session::{Flow, Session};
use self::validate::Verdict;
use super::confirm::Confirmer;
use super::exit::Exit;
use super::interrupt;
use super::redact::Redactor;
use crate::Runtime;

/// How long after an entry ends a Ctrl-C is still taken as meant for it (and ignored).
const STRAY_INTERRUPT: std::time::Duration = std::time::Duration::from_secs(2);

/// How the REPL runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplOptions {
    /// Results as JSON; `:json on|off` changes it.
    pub json: bool,
    /// Start in dry-run mode; `:dry-run on|off` changes it. (`false` leaves the runtime's own
    /// setting.)
    pub dry_run: bool,
    /// Colours at the terminal (only used when interactive).
    pub color: bool,
    /// No confirmation prompts: destructive calls are sent without asking.
    pub yes: bool,
    /// The history file, instead of `GANDISH_HISTORY` or the data directory.
    pub history: Option<PathBuf>,
    /// A line editor on a terminal (`true`), or lines read from stdin without prompts.
    pub interactive: bool,
}

impl ReplOptions {
    /// Interactive when stdin is a terminal; colours when stdout and stderr are terminals too
    /// and `NO_COLOR` is unset or empty.
    pub fn detect() -> ReplOptions {
        let interactive = std::io::stdin().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color =
            interactive && std::io::stdout().is_terminal() && std::io::stderr().is_terminal() && !no_color;
        ReplOptions { interactive, color, ..ReplOptions::default() }
    }
}

/// Runs the REPL until `:quit`, Ctrl-D or the end of input.
pub fn run(runtime: Runtime, opts: ReplOptions) -> Exit {
    if opts.dry_run {
        runtime.set_dry_run(true);
    }
    let key = runtime.gandi().key().expose().to_string();
    let mut redactor = Redactor::new();
    redactor.add(&key);
    let color = opts.color && opts.interactive;
    let zone = runtime.zone().clone();
    let mut session = Session::new(runtime, Printer::new(opts.json, color, redactor.clone()).with_zone(zone));

    if opts.interactive {
        session.confirmer = Confirmer::install(&session.rt, opts.yes, false);
    }

    if let Err(e) = interrupt::install() {
        eprintln!("warning: {e}; Ctrl-C will not cancel a running entry");
    }
    let busy = session.busy.clone();
    let ended = session.ended.clone();
    let cancel = session.rt.cancel_handle();
    let at_terminal = opts.interactive;
    let _hook = interrupt::on_interrupt(move || {
        if busy.load(Ordering::SeqCst) {
            cancel.cancel();
            return true;
        }
        // At the prompt the line editor reads Ctrl-C as a key, so a signal there comes from
        // elsewhere (SIGTERM, SIGHUP): the process ends as usual (130). Except just after an
        // entry ended: that is a repeated Ctrl-C meant for the entry, and is ignored.
        let recent = crate::sync::lock(&ended).elapsed() < STRAY_INTERRUPT;
        at_terminal && recent
    });

    if opts.interactive {
        let history = History::new(history::path(opts.history.as_deref()), vec![key]);
        interactive(session, history, color)
    } else {
        piped(session)
    }
}

fn interactive(mut session: Session, mut history: History, color: bool) -> Exit {
    let config = Config::builder()
        .max_history_size(history::MAX_ENTRIES)
        .and_then(|b| b.history_ignore_dups(true))
        .map(|b| {
            b.auto_add_history(false)
                .completion_type(CompletionType::List)
                .color_mode(if color { ColorMode::Enabled } else { ColorMode::Disabled })
                .build()
        });
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot set up the line editor: {e}");
            return Exit::Failure;
        }
    };
    let mut rl: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("error: cannot set up the line editor: {e}");
            return Exit::Failure;
        }
    };
    rl.set_helper(Some(ReplHelper::new(session.catalog.clone(), color)));
    history.load(&mut rl);
    session.printer.note(&format!(
        "gandish {} REPL on {}. :help for help, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION"),
        session.rt.gandi().url()
    ));
    loop {
        if let Some(h) = rl.helper_mut() {
            h.catalog = session.catalog.clone();
            h.vars = session.vars();
        }
        let plain = if session.rt.dry_run() { "gandish (dry-run)> " } else { "gandish> " };
        let styled = format!("\x1b[1;32m{}\x1b[0m", plain.trim_end()) + " ";
        let read = if color { rl.readline(&(plain, styled.as_str())) } else { rl.readline(plain) };
        match read {
            Ok(entry) => {
                history.record(&mut rl, &entry);
                if dispatch(&mut session, &entry) == Flow::Quit {
                    break;
                }
            }
            // Ctrl-C at the prompt: the line is dropped, a fresh prompt follows.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: cannot read the input: {e}");
                return Exit::Failure;
            }
        }
    }
    Exit::Success
}

fn piped(mut session: Session) -> Exit {
    let parser = validate::parser();
    let interrupts = interrupt::count();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut entry = String::new();
    loop {
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) => {
                // End of input: text left open is evaluated, so its error is reported.
                if !entry.trim().is_empty() {
                    dispatch(&mut session, &entry);
                }
                break;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: cannot read the input: {e}");
                return Exit::Failure;
            }
        }
        if !entry.is_empty() {
            entry.push('\n');
        }
        entry.push_str(line.trim_end_matches(['\n', '\r']));
        if validate::verdict(&parser, &entry, false) == Verdict::Incomplete {
            continue;
        }
        let flow = dispatch(&mut session, &std::mem::take(&mut entry));
        if interrupt::count() != interrupts {
            return Exit::Interrupted;
        }
        if flow == Flow::Quit {
            break;
        }
    }
    if session.failures > 0 { Exit::Failure } else { Exit::Success }
}

/// One entry: a `:command`, or code for the session.
fn dispatch(session: &mut Session, entry: &str) -> Flow {
    let trimmed = entry.trim();
    if trimmed.starts_with(':') { commands::run(session, trimmed) } else { session.handle(entry) }
}
