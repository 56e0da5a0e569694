//! The `:commands`: `:help`, `:doc NAME`, `:vars`, `:funcs [FILTER]`, `:load FILE`,
//! `:json on|off`, `:dry-run on|off`, `:quit`.

use std::path::Path;

use rhai::Dynamic;

use super::session::{Flow, Session};
use crate::script::display::to_debug;

/// Every command: name, arguments, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("help", "", "this list"),
    (
        "doc",
        "NAME",
        "signature and doc comment of a function (paas::renew, len, yours), or a module's functions",
    ),
    ("vars", "", "the variables in scope"),
    (
        "funcs",
        "[FILTER]",
        "your functions and the modules' (with FILTER: every function whose name contains it)",
    ),
    ("load", "FILE", "run a script file here; its variables and functions stay"),
    ("json", "[on|off]", "print results as JSON (as --json does)"),
    ("dry-run", "[on|off]", "plan changes instead of sending them"),
    ("quit", "", "leave (also Ctrl-D)"),
];

const HELP_FOOTER: &str = "\
Anything else is Rhai code: variables and functions stay from one entry to the next.
An open brace, bracket or parenthesis continues on the next line (an empty line submits).
Tab completes modules (paas::), functions, variables and map fields (p.na → p.name).
Ctrl-C cancels a running entry or clears the line; Ctrl-D leaves.";

/// Runs a `:command` line.
pub fn run(s: &mut Session, line: &str) -> Flow {
    let body = line.trim().trim_start_matches(':');
    let (name, arg) = match body.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (body, ""),
    };
    match name {
        "help" | "h" | "?" => help(s),
        "doc" => doc(s, arg),
        "vars" => vars(s),
        "funcs" | "functions" => funcs(s, arg),
        "load" => {
            if arg.is_empty() {
                fail(s, ":load needs a file: :load FILE");
            } else {
                s.load(Path::new(arg));
            }
        }
        "json" => {
            if let Some(on) = switch(s, ":json", arg, s.printer.json) {
                s.printer.json = on;
            }
        }
        "dry-run" | "dryrun" => {
            if let Some(on) = switch(s, ":dry-run", arg, s.rt.dry_run()) {
                s.rt.set_dry_run(on);
            }
        }
        "quit" | "q" | "exit" => return Flow::Quit,
        other => fail(s, &format!("unknown command :{other}; :help lists the commands")),
    }
    Flow::Continue
}

fn fail(s: &mut Session, message: &str) {
    s.failures += 1;
    s.printer.err(&format!("error: {message}\n"));
}

/// `on`/`off` sets; nothing shows the current state.
fn switch(s: &mut Session, name: &str, arg: &str, current: bool) -> Option<bool> {
    match arg {
        "on" | "true" | "1" => Some(true),
        "off" | "false" | "0" => Some(false),
        "" => {
            s.printer.out(&format!("{name} is {}\n", if current { "on" } else { "off" }));
            None
        }
        other => {
            fail(s, &format!("{name} takes on or off, not {other:?}"));
            None
        }
    }
}

fn help(s: &Session) {
    let mut text = String::from("Commands:\n");
    for (name, args, what) in COMMANDS {
        let usage = if args.is_empty() { format!(":{name}") } else { format!(":{name} {args}") };
        text.push_str(&format!("  {usage:<20} {what}\n"));
    }
    text.push_str(&format!("Modules: {}\n", s.catalog.modules().join(", ")));
    text.push_str(HELP_FOOTER);
    text.push('\n');
    s.printer.out(&text);
}

fn doc(s: &mut Session, name: &str) {
    if name.is_empty() {
        return fail(s, ":doc needs a name: :doc paas::renew");
    }
    let overloads = s.catalog.lookup(name);
    if !overloads.is_empty() {
        let mut text = String::new();
        for f in &overloads {
            text.push_str(&f.signature);
            text.push('\n');
        }
        let mut docs: Vec<&str> =
            overloads.iter().map(|f| f.doc.as_str()).filter(|d| !d.is_empty()).collect();
        docs.dedup();
        for d in docs {
            text.push('\n');
            for l in d.lines() {
                text.push_str(&format!("    {l}\n"));
            }
        }
        return s.printer.out(&text);
    }
    if s.catalog.modules().iter().any(|m| m == name) {
        let mut text = format!("module {name}:\n");
        for f in s.catalog.module_functions(name) {
            text.push_str(&format!("  {:<16} {}\n", f.name, f.summary()));
        }
        return s.printer.out(&text);
    }
    fail(s, &format!("no function or module named {name:?} (:funcs {name} searches)"));
}

fn vars(s: &Session) {
    let mut latest: Vec<(&str, bool, &Dynamic)> = Vec::new();
    for (name, constant, value) in s.scope.iter_raw() {
        latest.retain(|(n, _, _)| *n != name);
        latest.push((name, constant, value));
    }
    if latest.is_empty() {
        return s.printer.out("no variables\n");
    }
    latest.sort_by_key(|(n, _, _)| *n);
    let mut text = String::new();
    for (name, constant, value) in latest {
        let mut shown = to_debug(value);
        if shown.chars().count() > 70 {
            shown = shown.chars().take(69).collect::<String>() + "…";
        }
        let kind = if constant { "const " } else { "" };
        let type_name = s.rt.engine().map_type_name(value.type_name());
        text.push_str(&format!("{kind}{name}: {type_name} = {shown}\n"));
    }
    s.printer.out(&text);
}

fn funcs(s: &Session, filter: &str) {
    let mut text = String::new();
    let mut n = 0;
    for f in s.catalog.all() {
        let shown =
            if filter.is_empty() { f.user || f.module.is_some() } else { f.qualified().contains(filter) };
        if shown {
            n += 1;
            let summary = f.summary();
            if summary.is_empty() {
                text.push_str(&format!("{}\n", f.signature));
            } else {
                text.push_str(&format!("{}  // {summary}\n", f.signature));
            }
        }
    }
    if n == 0 {
        text.push_str(&format!("no function matches {filter:?}\n"));
    }
    s.printer.out(&text);
}
