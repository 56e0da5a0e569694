//! Command-line arguments (clap derive). New commands add a variant to [`Command`]; the
//! connection flags shared by every command that talks to the API live in [`ConnectionArgs`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::xmlrpc::ClientConfig;

/// The Gandi PaaS XML-RPC endpoint used when neither `--url` nor `GANDI_URL` is given.
pub const DEFAULT_URL: &str = "https://rpc.gandi.net/xmlrpc/";

/// gandish: a scripting runtime for the Gandi PaaS (Simple Hosting) XML-RPC API.
#[derive(Debug, Parser)]
#[command(name = "gandish", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Call one XML-RPC method and print its result as JSON.
    #[command(long_about = CALL_LONG_ABOUT, after_help = CALL_AFTER_HELP)]
    Call(CallArgs),
}

const CALL_LONG_ABOUT: &str = "Call one XML-RPC method and print its result as JSON.

Each ARG is one JSON value: an integer is an int, a number with a fraction or exponent a double,
then string, true/false, null (nil), array and object (struct, member order kept). Two tagged
objects stand for the other types: {\"$datetime\": \"20111014T14:36:30\"} and {\"$base64\": \"AAEC\"}.
Arguments must be valid JSON: a string needs its quotes ('\"text\"' in the shell), and a bare word
is refused rather than guessed at. The result is printed in the same mapping; a double always has
a fraction or exponent (1.0) and a dateTime is always in the compact form.

Unless --raw is given, a configured API key (--api-key or GANDI_API_KEY) is sent as the first
parameter, as every Gandi method expects. The key is never printed.";

const CALL_AFTER_HELP: &str = "Exit status: 0 success, 2 usage error, 3 the server answered a fault \
(printed as `fault CODE: STRING` on stderr), 4 transport or protocol error (connection, TLS, HTTP \
status, timeout, malformed reply).

Examples:
  gandish call version.info
  gandish call paas.list '{\"state\": \"running\"}'
  gandish call --raw --url http://127.0.0.1:8080/RPC2 system.listMethods";

/// The API key: kept out of `Debug` output (the library's secret newtype).
pub use crate::gandi::ApiKey;

/// How to reach the API: shared by every command that calls it.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The XML-RPC endpoint.
    #[arg(long, env = "GANDI_URL", default_value = DEFAULT_URL, value_name = "URL")]
    pub url: String,

    /// The API key, sent as the first parameter of each call. Never printed.
    #[arg(long, env = "GANDI_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<ApiKey>,

    /// Give up on a call after this many seconds (connecting, sending and reading the reply).
    #[arg(long, default_value = "30", value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Also trust the CA certificates in this PEM file (the public roots stay trusted).
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

    /// Allow plain http:// to hosts that are not loopback addresses. The API key would then cross
    /// the network unencrypted.
    #[arg(long)]
    pub allow_insecure_http: bool,
}

impl ConnectionArgs {
    /// The client settings these flags ask for.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::default().with_timeout(self.timeout);
        config.connect_timeout = config.connect_timeout.min(self.timeout);
        config.extra_ca_file = self.ca_file.clone();
        config.allow_insecure_http = self.allow_insecure_http;
        config
    }

    /// The API key, if one is configured and not empty.
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_ref().map(ApiKey::expose).filter(|k| !k.is_empty())
    }
}

/// `--timeout`: positive seconds, fractions allowed, at most a day.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{s} is out of range; give seconds greater than 0 and at most 86400"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `gandish call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// How to reach the API.
    #[command(flatten)]
    pub connection: ConnectionArgs,

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
        let Command::Call(c) = cli.command;
        assert_eq!(c.args, ["-5", "[-1]"]);
    }
}
