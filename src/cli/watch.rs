//! `gandish watch`: run a script, then again whenever a watched file changes.

use std::path::PathBuf;

use clap::Args;

use super::exit::{CliError, Exit};
use super::settings::Settings;

/// Long help for `gandish watch`.
pub const LONG_ABOUT: &str = "Run a script, then again each time a watched file changes.";

/// `gandish watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Files or folders to watch (folders recursively, for *.rhai files).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// The script to run (default: the only PATH, when it is a file).
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,

    /// Arguments for the script, in the map ARGS (as for `gandish run`).
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    pub args: Vec<String>,
}

/// Runs the watcher until Ctrl-C.
pub fn run(_args: &WatchArgs, _settings: &Settings) -> Result<Exit, CliError> {
    Err(CliError::failure("gandish watch: not implemented yet"))
}
