//! The flags of `gandish run` and `gandish eval`.

use std::path::PathBuf;

use clap::Args;

/// Long help for `gandish run`.
pub const RUN_LONG_ABOUT: &str =
    "Run a script file (or a bundled one, std/NAME: see `gandish stdlib`) and print \
the value of its last expression.

Each KEY=VALUE argument lands in the map ARGS (ARGS.KEY in the script). A VALUE that is a Rhai \
literal is read as one: 42, -1.5, true, false, (), \"text\", 'c', [1, 2], #{a: 1}; anything else \
(web01, 2024-01-31, 12m) is a string. Quote for the shell: name='\"42\"' passes the string \"42\".

--lock FILE takes an exclusive lock on FILE (created if missing, never deleted) for the whole run; \
if another run holds it, gandish exits at once with status 75. --report FILE writes a JSON report \
(dates in RFC 3339, as --json prints results; written to a temporary file then renamed, so readers never see half a file): the \
variable REPORT if the script defines it at top level, else the script's value. A failed run writes \
the report only if REPORT was set before the failure.

Nothing is sent before the run knows it can record it: the --lock file must open and the --report \
folder must take a file before the script starts, and a bulk script's journal must open before its \
first change. Otherwise gandish exits 2, naming the path and the reason.";

/// `gandish run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script: a file, std/NAME for a bundled script, or - to read it from standard input.
    #[arg(value_name = "FILE|std/NAME|-")]
    pub script: String,

    /// Arguments for the script, in the map ARGS.
    #[arg(value_name = "KEY=VALUE")]
    pub args: Vec<String>,

    /// Hold an exclusive lock on FILE while running; exit 75 if another run holds it.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

    /// Write a JSON report to FILE whatever the exit: REPORT if the script sets it, else the
    /// script's value, with `run: {status, exit, error, bulk}` added.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// End the run after DURATION (`90s`, `15m`, `2h`; plain numbers are seconds), cancelling
    /// like Ctrl-C: the call in flight is cut off, and the run exits 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<std::time::Duration>,

    /// Write the run's metrics to FILE (Prometheus text format, for node_exporter's textfile
    /// collector) whatever the exit, except 75: exit status, start, end, duration, calls,
    /// rate-limit faults, bulk items by outcome; labelled by script.
    #[arg(long, value_name = "FILE", alias = "metrics")]
    pub metrics_file: Option<PathBuf>,

    /// How the run's end is told on stderr: text (the error, if any), or json: one JSON line
    /// (event, status, exit, error, duration, calls, counts; key redacted) for Loki or journald.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// With --lock: a lock held for longer than DURATION is reported as stale (its holder looks
    /// stuck), and the run exits 1 instead of 75, so a scheduler sees a failure.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "lock")]
    pub stale_after: Option<std::time::Duration>,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// The error as text, as every command prints it.
    #[default]
    Text,
    /// One JSON object on one line at the end of the run, whatever the exit.
    Json,
}

/// A duration: a number with an optional unit, `s` (the default), `m`, `h` or `d`; at most a
/// year.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d (e.g. 90s, 15m, 2h)")),
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && n * scale <= 366.0 * 86_400.0 => {
            Ok(std::time::Duration::from_secs_f64(n * scale))
        }
        Ok(_) => Err(format!("{text:?}: must be more than 0 and at most a year")),
        Err(_) => Err(format!("{text:?}: expected a number with a unit, e.g. 90s, 15m, 2h")),
    }
}

/// `gandish eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The expression (or statements; the last value is printed).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
}
