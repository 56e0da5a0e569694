//! The command-line front ends. `main.rs` only calls [`main`].
//!
//! - [`args`]: the clap definitions (one [`args::Command`] variant per subcommand, the shared
//!   [`args::GlobalArgs`]);
//! - [`config`]: the TOML configuration file;
//! - [`settings`]: the resolved settings (flag > environment > file) and the script runtime
//!   they describe ([`settings::runtime`]);
//! - [`render`]: results (tables, JSON), dry-run plans and script errors with a caret;
//! - [`progress`]: the progress spinner while waiting on operations;
//! - [`run`]: `gandish run` (with `--lock` and `--report`) and `gandish eval`;
//! - [`metrics`]: `run --metrics-file`, the Prometheus textfile;
//! - [`watch`]: `gandish watch`;
//! - [`stdlib`]: `gandish stdlib` and the bundled scripts' doc header convention;
//! - [`call`]: `gandish call`;
//! - [`exit`]: exit statuses and the error that carries one;
//! - [`redact`]: keeps the API key out of everything printed;
//! - [`confirm`]: the confirmation rule of `eval`, `run` and the REPL;
//! - [`sandbox`]: `gandish sandbox` and the global `--sandbox` flag;
//! - [`suggest`]: "did you mean" and `help:` lines under errors.
//! - [`version`]: `--version` and `-vV`, from what `build.rs` found.

pub mod args;
pub mod call;
pub mod config;
pub mod confirm;
pub mod exit;
pub mod interrupt;
pub mod metrics;
pub mod progress;
pub mod redact;
pub mod render;
pub mod repl;
pub mod run;
pub mod sandbox;
pub mod settings;
pub mod stdlib;
pub mod suggest;
pub mod version;
pub mod watch;

use std::ffi::OsString;
use std::io::{self, IsTerminal as _};
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use args::{Cli, Command};
use exit::{CliError, Exit};
use redact::Redactor;
use settings::Settings;

/// Runs the gandish command line and returns its exit status.
pub fn main() -> ExitCode {
    run(std::env::args_os()).into()
}

/// Runs the command line on `argv` (program name first), printing to stdout and stderr.
pub fn run<I>(argv: I) -> Exit
where
    I: IntoIterator<Item = OsString>,
{
    let argv: Vec<OsString> = argv.into_iter().collect();
    let names: Vec<String> = Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect();
    if version::wants_details(&argv, &names) {
        return emit(&Redactor::new(), Ok(version::details()));
    }
    let parsed =
        Cli::command().try_get_matches_from(&argv).and_then(|m| Cli::from_arg_matches(&m).map(|c| (m, c)));
    let (matches, cli) = match parsed {
        Ok(x) => x,
        Err(e) => {
            // clap echoes offending values; keep any key given on the command line or in the
            // environment out of its message.
            let mut text = e.render().to_string();
            if let Some(tip) = subcommand_tip(&e) {
                // After clap's first line, where its own tips go.
                let at = text.find("\n\n").map_or(text.len(), |i| i + 2);
                text.insert_str(at, &format!("{tip}\n"));
            }
            let text = secrets_in_argv(&argv).apply(&text).into_owned();
            let code = e.exit_code();
            let _ =
                if e.use_stderr() { write_all(io::stderr(), &text) } else { write_all(io::stdout(), &text) };
            return if code == 0 { Exit::Success } else { Exit::Usage };
        }
    };
    let command = match cli.command {
        Some(Command::Sandbox(mut args)) => {
            // `gandish sandbox --api-key KEY` (the spelling) sets the key the sandbox
            // expects, as `--key` does; only when given on the command line, never from
            // GANDI_API_KEY, which may hold a real key that the banner would then print.
            let from_command_line = matches
                .subcommand_matches("sandbox")
                .and_then(|m| m.value_source("api_key"))
                .or_else(|| matches.value_source("api_key"))
                == Some(clap::parser::ValueSource::CommandLine);
            let explicit_key =
                matches.subcommand_matches("sandbox").and_then(|m| m.value_source("sandbox_key"))
                    == Some(clap::parser::ValueSource::CommandLine);
            if from_command_line
                && !explicit_key
                && let Some(k) = cli.global.api_key.clone()
            {
                args.api_key = k;
            }
            return sandbox::run(args, cli.global.json);
        }
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "gandish", &mut out);
            return emit(&Redactor::new(), Ok(String::from_utf8_lossy(&out).into_owned()));
        }
        Some(Command::Man { command }) => return emit(&Redactor::new(), man_page(command.as_deref())),
        Some(Command::Stdlib(args)) => {
            let name = args.name.as_deref();
            let listing = if cli.global.json { stdlib::listing_json(name) } else { stdlib::listing(name) };
            return emit(&Redactor::new(), listing);
        }
        Some(c) => c,
        None if io::stdin().is_terminal() => Command::Repl,
        None => {
            let _ = write_all(
                io::stderr(),
                "error: no command given and standard input is not a terminal; \
                 run `gandish repl` to read statements from it, or see `gandish --help`\n",
            );
            return Exit::Usage;
        }
    };
    let settings = match Settings::resolve(&cli.global, &matches, true) {
        Ok(s) => s,
        Err(e) => return report(&secrets_in_argv(&argv), &e),
    };
    let redactor = settings.redactor();
    for w in &settings.warnings {
        let _ = write_all(io::stderr(), &format!("{}\n", redactor.apply(w)));
    }
    if settings.verbose > 0 {
        let _ = write_all(io::stderr(), &settings.describe());
    }
    match &command {
        Command::Call(args) => emit(&redactor, call::run(args, &settings)),
        Command::Run(args) => done(&redactor, run::run(args, &settings)),
        Command::Eval(args) => done(&redactor, run::eval(args, &settings)),
        Command::Watch(args) => match watch::run(args, &settings) {
            Ok(exit) => exit,
            Err(e) => report(&redactor, &e),
        },
        Command::Repl => repl(&settings),
        Command::Sandbox(_) | Command::Completions { .. } | Command::Stdlib(_) | Command::Man { .. } => {
            unreachable!("handled above")
        }
    }
}

/// Our tip for an unknown subcommand that clap has none for (see [`suggest::subcommand_tip`]).
fn subcommand_tip(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::InvalidSubcommand || e.get(ContextKind::SuggestedSubcommand).is_some() {
        return None;
    }
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidSubcommand) else { return None };
    let cmd = Cli::command();
    let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).filter(|n| *n != "help").collect();
    suggest::subcommand_tip(word, &names)
}

/// `gandish man [COMMAND]`: gandish(1), or gandish-COMMAND(1), from the clap definition (so a
/// page never drifts from `--help`).
fn man_page(command: Option<&str>) -> Result<String, CliError> {
    let mut cli = Cli::command();
    // Built, so that subcommands carry the propagated version and global options.
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => {
            let Some(sub) = cli.find_subcommand(name) else {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                return Err(CliError::usage(format!(
                    "there is no subcommand {name:?}; the subcommands are: {}",
                    names.join(", ")
                )));
            };
            // clap wants `&'static str` names without its `string` feature; the process prints
            // one page and exits, so leaking two short strings costs nothing.
            let (page_name, bin_name) = (format!("gandish-{name}").leak(), format!("gandish {name}").leak());
            sub.clone().name(&*page_name).bin_name(&*bin_name)
        }
    };
    let mut man = clap_mangen::Man::new(page);
    if !version::COMMIT_DATE.is_empty() {
        man = man.date(version::COMMIT_DATE);
    }
    let mut out = Vec::new();
    man.render(&mut out).map_err(|e| CliError::failure(format!("cannot render the man page: {e}")))?;
    String::from_utf8(out).map_err(|e| CliError::failure(format!("the man page is not UTF-8: {e}")))
}

/// `gandish repl` and a bare `gandish` on a terminal: the runtime the settings describe, and
/// the REPL's options from the settings and the terminal.
fn repl(settings: &Settings) -> Exit {
    let rt = match settings::runtime(settings) {
        Ok(rt) => rt,
        Err(e) => return report(&settings.redactor(), &e),
    };
    let detected = repl::ReplOptions::detect();
    let options = repl::ReplOptions {
        json: settings.json,
        dry_run: settings.dry_run,
        yes: settings.yes,
        color: settings.color && detected.interactive,
        ..detected
    };
    repl::run(rt, options)
}

/// Prints a command's stdout text, or its error.
fn emit(redactor: &Redactor, outcome: Result<String, CliError>) -> Exit {
    match outcome {
        Ok(stdout) => match write_all(io::stdout(), &redactor.apply(&stdout)) {
            Ok(()) => Exit::Success,
            // `gandish call … | head`: the reader went away, which is not a failure.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Success,
            Err(e) => report(redactor, &CliError::failure(format!("cannot write the output: {e}"))),
        },
        Err(e) => report(redactor, &e),
    }
}

/// The status of a command that printed its own output.
fn done(redactor: &Redactor, outcome: Result<(), CliError>) -> Exit {
    match outcome {
        Ok(()) => Exit::Success,
        Err(e) => report(redactor, &e),
    }
}

fn report(redactor: &Redactor, e: &CliError) -> Exit {
    let _ = write_all(io::stderr(), &format!("{}\n", redactor.apply(&e.message)));
    e.exit
}

fn write_all(mut w: impl io::Write, text: &str) -> io::Result<()> {
    w.write_all(text.as_bytes())?;
    w.flush()
}

/// A redactor for the key given as `--api-key KEY`, `--api-key=KEY` or in `GANDI_API_KEY`.
fn secrets_in_argv(argv: &[OsString]) -> Redactor {
    let mut r = Redactor::new();
    if let Some(k) = std::env::var_os("GANDI_API_KEY") {
        r.add(&k.to_string_lossy());
    }
    let mut it = argv.iter().map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--api-key" {
            if let Some(k) = it.next() {
                r.add(&k);
            }
        } else if let Some(k) = a.strip_prefix("--api-key=") {
            r.add(k);
        }
    }
    r
}
