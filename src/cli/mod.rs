//! The command-line front ends. `main.rs` only calls [`main`].
//!
//! - [`args`]: the clap definitions (one [`args::Command`] variant per subcommand);
//! - [`call`]: `gandish call`;
//! - [`exit`]: exit statuses and the error that carries one;
//! - [`redact`]: keeps the API key out of everything printed;
//! - [`sandbox`]: `gandish sandbox` and the global `--sandbox` flag.

pub mod args;
pub mod call;
pub mod exit;
pub mod interrupt;
pub mod redact;
pub mod repl;
pub mod sandbox;

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;

use clap::Parser as _;

use args::{Cli, Command};
use exit::{CliError, Exit};
use redact::Redactor;

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
    let mut cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            // clap echoes offending values; keep any key given on the command line or in the
            // environment out of its message.
            let text = e.render().to_string();
            let text = secrets_in_argv(&argv).apply(&text).into_owned();
            let code = e.exit_code();
            let _ =
                if e.use_stderr() { write_all(io::stderr(), &text) } else { write_all(io::stdout(), &text) };
            return if code == 0 { Exit::Success } else { Exit::Usage };
        }
    };
    // `--sandbox`: serve the simulator in-process for as long as the command runs.
    let _embedded = if cli.sandbox && !matches!(cli.command, Command::Sandbox(_)) {
        match sandbox::Embedded::start() {
            Ok(embedded) => {
                match &mut cli.command {
                    Command::Call(args) => embedded.point(&mut args.connection),
                    Command::Sandbox(_) => {}
                }
                Some(embedded)
            }
            Err(e) => return report(&Redactor::new(), &e),
        }
    } else {
        None
    };
    let mut redactor = Redactor::new();
    let outcome = match &cli.command {
        Command::Sandbox(args) => return sandbox::run(args.clone()),
        Command::Call(args) => {
            if let Some(k) = args.connection.api_key() {
                redactor.add(k);
            }
            call::run(args)
        }
    };
    match outcome {
        Ok(stdout) => match write_all(io::stdout(), &redactor.apply(&stdout)) {
            Ok(()) => Exit::Success,
            // `gandish call … | head`: the reader went away, which is not a failure.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Success,
            Err(e) => report(&redactor, &CliError::failure(format!("cannot write the output: {e}"))),
        },
        Err(e) => report(&redactor, &e),
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
