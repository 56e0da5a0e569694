//! The flags of `gandish stdlib`.

use clap::Args;

/// Long help for `gandish stdlib`.
pub const LONG_ABOUT: &str =
    "List the bundled scripts (run them as `gandish run std/NAME KEY=VALUE…`, or import \
them with `import \"std/NAME\"`), each with its summary and the arguments it reads from ARGS.

A bundled script documents itself with leading `//!` lines: the first is the summary, \
`//! arg NAME: description` declares an argument, the others describe it further.";

/// `gandish stdlib`.
#[derive(Debug, Args)]
pub struct StdlibArgs {
    /// Show only this script (NAME or std/NAME), with its full description.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}
