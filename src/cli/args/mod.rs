//! Command-line arguments (clap derive). New commands add a variant to [`Command`]; the
//! options every command shares live in [`GlobalArgs`] and are resolved into
//! [`Settings`](super::settings::Settings).

pub mod help;
pub mod run;
pub mod sandbox;
pub mod stdlib;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The help heading of the options every command shares, listed after each command's own.
pub const GLOBAL_HEADING: &str = "Global options";

/// The Gandi PaaS XML-RPC endpoint used when neither `--url` nor `GANDI_URL` is given.
pub const DEFAULT_URL: &str = "https://rpc.gandi.net/xmlrpc/";

/// gandish: a scripting runtime for the Gandi PaaS (Simple Hosting) XML-RPC API.
#[derive(Debug, Parser)]
#[command(
    name = "gandish",
    version = crate::cli::version::LINE,
    about,
    propagate_version = true,
    after_long_help = help::SOURCES_HELP
)]
pub struct Cli {
    /// Settings every command shares (accepted before or after the subcommand).
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do (none: the REPL, when standard input is a terminal).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Which Gandi endpoint `--env` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiEnv {
    /// `https://rpc.gandi.net/xmlrpc/`.
    Production,
    /// OT&E, Gandi's test endpoint: `https://rpc.ote.gandi.net/xmlrpc/`.
    Ote,
}

impl ApiEnv {
    /// The endpoint URL.
    pub fn url(self) -> &'static str {
        match self {
            ApiEnv::Production => crate::gandi::PRODUCTION_URL,
            ApiEnv::Ote => crate::gandi::OTE_URL,
        }
    }
}

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// Colour when standard error is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour (even with `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

/// The global options. Each is `None`/`false` when not given on the command line (or in its
/// environment variable), so that [`Settings`](super::settings::Settings) can fall back to the
/// configuration file.
///
/// In every command's help they come after the command's own options, under their own heading
/// ([`GLOBAL_HEADING`]), as gh lists "Inherited flags". The options read from the environment
/// hide clap's own `[env: X=]` note: their text already says `[env: X; file: …]`, with the
/// configuration file key clap cannot know, and two notes for one variable read as two sources.
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = GLOBAL_HEADING)]
pub struct GlobalArgs {
    /// The XML-RPC endpoint [env: GANDI_URL; file: url; default: production].
    #[arg(long, global = true, env = "GANDI_URL", hide_env = true, value_name = "URL")]
    pub url: Option<String>,

    /// Which Gandi endpoint: production, or ote (Gandi's test endpoint) [env: GANDISH_ENV; file: env].
    #[arg(long, global = true, env = "GANDISH_ENV", hide_env = true, value_enum, value_name = "ENV")]
    pub env: Option<ApiEnv>,

    /// The API key, sent as the first parameter of each call; never printed (for `gandish
    /// sandbox`: the key clients must send, as its --key) [env: GANDI_API_KEY; file: api_key,
    /// key_file or key_command].
    #[arg(long, global = true, env = "GANDI_API_KEY", hide_env = true, value_name = "KEY")]
    pub api_key: Option<ApiKey>,

    /// Start the built-in Gandi sandbox in-process (demo dataset, free loopback port) and point
    /// the command at it with its key: everything runs offline, no key needed.
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// Send no change: creations, updates, renewals, restarts, cancellations and deletions are
    /// printed as a plan instead; `call` sends only methods known to read [file: dry_run].
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Answer yes to confirmation prompts [file: yes].
    #[arg(long, global = true)]
    pub yes: bool,

    /// Print results as JSON: one document on stdout, dates in RFC 3339; a script's print()
    /// goes to stderr [file: json].
    #[arg(long, global = true)]
    pub json: bool,

    /// Give up on a call after this many seconds, its retries included [env: GANDISH_TIMEOUT; file: timeout; default: 30].
    #[arg(long, global = true, env = "GANDISH_TIMEOUT", hide_env = true, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Log each API call on stderr: method, arguments (key redacted), duration and bytes.
    #[arg(long, global = true)]
    pub trace: bool,

    /// When to colour diagnostics [file: color; default: auto, which honours NO_COLOR].
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// Print less: no progress bars, no run headers or notes on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more: where each setting came from, and a summary of the calls made.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The configuration file [env: GANDISH_CONFIG; default: ~/.config/gandish/config.toml on Linux].
    #[arg(long, global = true, env = "GANDISH_CONFIG", hide_env = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read no configuration file (not even one named by --config or GANDISH_CONFIG).
    #[arg(long, global = true)]
    pub no_config: bool,

    /// Also trust the CA certificates in this PEM file (the public roots stay trusted); a
    /// self-signed server certificate listed in it is trusted as is [file: ca_file].
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

    /// Allow plain http:// to hosts that are not loopback addresses. The API key would then cross
    /// the network unencrypted.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Run a script file (or a bundled one, std/NAME) and print its last value.
    #[command(long_about = run::RUN_LONG_ABOUT, after_help = help::EXIT_HELP)]
    Run(run::RunArgs),
    /// Evaluate an expression (or statements) and print the value.
    #[command(after_help = help::EXIT_HELP)]
    Eval(run::EvalArgs),
    /// The interactive read-eval-print loop (also what a bare `gandish` starts on a terminal).
    Repl,
    /// Run a script, then again each time a watched file changes.
    #[command(long_about = watch::LONG_ABOUT)]
    Watch(watch::WatchArgs),
    /// Call one XML-RPC method and print its result as JSON.
    #[command(long_about = CALL_LONG_ABOUT, after_help = CALL_AFTER_HELP)]
    Call(CallArgs),
    /// Serve the Gandi PaaS simulator (the sandbox) over XML-RPC until Ctrl-C or SIGTERM.
    #[command(long_about = sandbox::LONG_ABOUT)]
    Sandbox(sandbox::SandboxArgs),
    /// List the bundled scripts (std/NAME), with their summary and arguments.
    #[command(long_about = stdlib::LONG_ABOUT)]
    Stdlib(stdlib::StdlibArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout: `gandish man > gandish.1`, `gandish man run >
    /// gandish-run.1`.
    Man {
        /// A subcommand whose page to print (gandish-COMMAND(1)); none: gandish(1).
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}
const CALL_LONG_ABOUT: &str = "Call one XML-RPC method and print its result as JSON.

Each ARG is one JSON value: an integer is an int, a number with a fraction or exponent a double,
then string, true/false, null (nil), array and object (struct, member order kept). Two tagged
objects stand for the other types: {\"$datetime\": \"20111014T14:36:30\"} and {\"$base64\": \"AAEC\"}.
Arguments must be valid JSON: a string needs its quotes ('\"text\"' in the shell), and a bare word
is refused rather than guessed at. The result is printed in the same mapping; a double always has
a fraction or exponent (1.0) and a dateTime is always in the compact form.

Unless --raw is given, a configured API key (--api-key or GANDI_API_KEY) is sent as the first
parameter, as every Gandi method expects. The key is never printed.

Under --dry-run, only methods known to read are sent (every list, count and info of the API, \
paas.vhost.get_dns_entries, hosting.metric.query, version.info, system.listMethods/methodSignature/\
methodHelp and sandbox.ledger). Every other method (create, update, delete, renew, restart, \
cancel, and any name gandish does not know) is printed as a plan and not sent; with --json the \
plan is {\"dry_run\": true, \"sent\": false, \"method\", \"args\"}.";

const CALL_AFTER_HELP: &str = "Exit status: 0 success, 2 usage error, 3 the server answered a fault \
(printed as `fault CODE: STRING` on stderr), 4 transport or protocol error (connection, TLS, HTTP \
status, timeout, malformed reply).

Examples:
  gandish call version.info
  gandish call paas.list '{\"state\": \"running\"}'
  gandish call --raw --url http://127.0.0.1:8080/RPC2 system.listMethods";

/// The API key: kept out of `Debug` output (the library's secret newtype).
pub use crate::gandi::ApiKey;

/// `--timeout`: positive seconds, fractions allowed, at most a day.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{s} is out of range; give seconds greater than 0 and at most 86400"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `gandish call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Send the arguments exactly as given, without the API key in front.
    #[arg(long)]
    pub raw: bool,

    /// The method to call, e.g. `paas.list`.
    #[arg(value_name = "METHOD")]
    pub method: String,

    /// The method's arguments, each one JSON value (see above).
    #[arg(value_name = "ARG", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("1").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_timeout("0.5").unwrap(), Duration::from_millis(500));
        for bad in ["0", "-1", "abc", "NaN", "inf", "1e9"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn api_key_debug_is_redacted() {
        let key: ApiKey = "secret-key-123".parse().unwrap();
        assert!(!format!("{key:?}").contains("secret"));
        let cli = Cli::try_parse_from(["gandish", "call", "--api-key", "secret-key-123", "m"]).unwrap();
        assert!(!format!("{cli:?}").contains("secret"));
    }

    #[test]
    fn negative_numbers_are_arguments() {
        let cli = Cli::try_parse_from(["gandish", "call", "m", "-5", "[-1]"]).unwrap();
        let Some(Command::Call(c)) = cli.command else { panic!("expected call") };
        assert_eq!(c.args, ["-5", "[-1]"]);
    }
}
