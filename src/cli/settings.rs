//! The resolved global settings ([`Settings`]): flags beat environment variables, which beat
//! the configuration file, which beats the defaults. [`runtime`] builds a script runtime from
//! them.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::args::{ApiEnv, ColorChoice, GlobalArgs};
use super::config::{self, ConfigFile};
use super::exit::CliError;
use super::progress::{BulkTally, Progress};
use super::redact::Redactor;
use super::sandbox::Embedded;
use crate::Runtime;
use crate::gandi::{ApiKey, CallOutcome, CallRecord, MIN_REMOTE_KEY_LEN, PRODUCTION_URL};
use crate::xmlrpc::{ClientConfig, Value, json};

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable (its name).
    Env(&'static str),
    /// The configuration file.
    File(PathBuf),
    /// The embedded sandbox (`--sandbox`).
    Sandbox,
    /// The built-in default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("command line"),
            Source::Env(v) => write!(f, "environment {v}"),
            Source::File(p) => write!(f, "config file {}", p.display()),
            Source::Sandbox => f.write_str("--sandbox"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The settings every command shares, resolved from flags, environment and file.
///
/// `Debug` never shows the key.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// The endpoint.
    pub url: String,
    /// Where [`url`](Self::url) came from.
    pub url_source: Source,
    /// The API key, if any.
    pub key: Option<ApiKey>,
    /// Where [`key`](Self::key) came from.
    pub key_source: Source,
    /// Plan changes instead of sending them.
    pub dry_run: bool,
    /// No confirmation prompts.
    pub yes: bool,
    /// Tagged JSON output.
    pub json: bool,
    /// HTTP timeout of one call.
    pub timeout: Duration,
    /// Log every call on stderr.
    pub trace: bool,
    /// The `--color` choice.
    pub color_choice: ColorChoice,
    /// Whether diagnostics on stderr are coloured (the choice, `NO_COLOR` and the terminal).
    pub color: bool,
    /// `-q`.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
    /// Extra CA file.
    pub ca_file: Option<PathBuf>,
    /// Plain http to remote hosts allowed.
    pub allow_insecure_http: bool,
    /// The configuration file read, if any.
    pub config_path: Option<PathBuf>,
    /// Warnings found while resolving (e.g. a key file readable by others), for stderr.
    pub warnings: Vec<String>,
    /// The embedded sandbox, when `--sandbox` started one (kept alive by the settings).
    pub sandbox: Option<Arc<Embedded>>,
    /// The progress display (hidden unless stderr is a terminal and not `-q`).
    pub progress: Progress,
    /// What the bulk runs got through, for the summary of an interrupted command.
    pub bulk: BulkTally,
    /// Calls made and rate-limit faults, for `run --metrics-file`.
    pub calls: super::metrics::CallTally,
}

fn source(matches: &ArgMatches, id: &str, env: &'static str) -> Option<Source> {
    match matches.value_source(id)? {
        ValueSource::CommandLine => Some(Source::Flag),
        ValueSource::EnvVariable => Some(Source::Env(env)),
        _ => None,
    }
}

impl Settings {
    /// Resolves the settings from the parsed flags (`matches` tells flags from environment
    /// variables). With `global.sandbox` and `start_sandbox`, starts the embedded sandbox and
    /// points the endpoint and key at it.
    pub fn resolve(
        global: &GlobalArgs,
        matches: &ArgMatches,
        start_sandbox: bool,
    ) -> Result<Settings, CliError> {
        let mut warnings = Vec::new();
        // The file.
        let (file, config_path) = if global.no_config {
            (ConfigFile::default(), None)
        } else {
            let (path, must_exist) = match &global.config {
                Some(p) => (Some(p.clone()), true),
                None => (config::default_path(), false),
            };
            match path {
                Some(path) => match config::load(&path, must_exist).map_err(CliError::usage)? {
                    Some(c) => (c, Some(path)),
                    None => (ConfigFile::default(), None),
                },
                None => (ConfigFile::default(), None),
            }
        };
        let file_source = || Source::File(config_path.clone().unwrap_or_default());

        // The endpoint: --url/--env flags, then GANDI_URL/GANDISH_ENV, then the file.
        let url_src = source(matches, "url", "GANDI_URL");
        let env_src = source(matches, "env", "GANDISH_ENV");
        let from_args = |level: fn(&Source) -> bool| -> Result<Option<(String, Source)>, CliError> {
            let u = url_src.as_ref().filter(|s| level(s));
            let e = env_src.as_ref().filter(|s| level(s));
            match (u, e) {
                (Some(us), Some(es)) => Err(CliError::usage(format!(
                    "both a URL ({us}) and --env ({es}) name the endpoint; give one"
                ))),
                (Some(s), None) => Ok(Some((global.url.clone().unwrap_or_default(), s.clone()))),
                (None, Some(s)) => {
                    Ok(Some((global.env.map(ApiEnv::url).unwrap_or_default().to_string(), s.clone())))
                }
                (None, None) => Ok(None),
            }
        };
        let (url, url_source) = match from_args(|s| *s == Source::Flag)? {
            Some(x) => x,
            None => match from_args(|s| matches!(s, Source::Env(_)))? {
                Some(x) => x,
                None => match (&file.url, file.env) {
                    (Some(_), Some(_)) => {
                        return Err(CliError::usage(format!(
                            "{}: both url and env name the endpoint; keep one",
                            config_path.clone().unwrap_or_default().display()
                        )));
                    }
                    (Some(u), None) => (u.clone(), file_source()),
                    (None, Some(e)) => (e.url().to_string(), file_source()),
                    (None, None) => (PRODUCTION_URL.to_string(), Source::Default),
                },
            },
        };

        // The key.
        let (mut key, mut key_source) = match (&global.api_key, source(matches, "api_key", "GANDI_API_KEY")) {
            (Some(k), Some(s)) if !k.is_empty() => (Some(k.clone()), s),
            _ => match &config_path {
                Some(path) => match config::key(&file, path).map_err(CliError::usage)? {
                    Some((k, holder)) => {
                        if let Some(w) = holder.as_deref().and_then(config::permission_warning) {
                            warnings.push(w);
                        }
                        (Some(k), file_source())
                    }
                    None => (None, Source::Default),
                },
                None => (None, Source::Default),
            },
        };

        let timeout = match global.timeout {
            Some(t) => t,
            None => match file.timeout {
                Some(secs) => super::args::parse_timeout(&secs.to_string()).map_err(|e| {
                    CliError::usage(format!(
                        "{}: timeout: {e}",
                        config_path.clone().unwrap_or_default().display()
                    ))
                })?,
                None => Duration::from_secs(30),
            },
        };
        let color_choice = global.color.or(file.color).unwrap_or_default();
        let color = match color_choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && std::io::stderr().is_terminal()
            }
        };
        let mut url = url;
        let mut url_source = url_source;
        let sandbox = if global.sandbox && start_sandbox {
            let embedded = Embedded::start()?;
            url = embedded.url();
            key = Some(ApiKey::new(embedded.api_key()));
            url_source = Source::Sandbox;
            key_source = Source::Sandbox;
            Some(Arc::new(embedded))
        } else {
            None
        };
        if let Some(k) = key.as_ref().map(ApiKey::expose).filter(|k| !k.is_empty()) {
            check_key_length(k, &url, &key_source)?;
        }
        let quiet = global.quiet;
        Ok(Settings {
            url,
            url_source,
            key,
            key_source,
            dry_run: global.dry_run || file.dry_run.unwrap_or(false),
            yes: global.yes || file.yes.unwrap_or(false),
            json: global.json || file.json.unwrap_or(false),
            timeout,
            trace: global.trace,
            color_choice,
            color,
            quiet,
            verbose: global.verbose,
            ca_file: global.ca_file.clone().or(file.ca_file.clone()),
            allow_insecure_http: global.allow_insecure_http,
            config_path,
            warnings,
            sandbox,
            progress: Progress::new(!quiet && std::io::stderr().is_terminal()),
            bulk: BulkTally::default(),
            calls: super::metrics::CallTally::default(),
        })
    }

    /// The HTTP client settings.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::default().with_timeout(self.timeout);
        config.connect_timeout = config.connect_timeout.min(self.timeout);
        config.extra_ca_file = self.ca_file.clone();
        config.allow_insecure_http = self.allow_insecure_http;
        config
    }

    /// The key, if one is configured and not empty.
    pub fn api_key(&self) -> Option<&str> {
        self.key.as_ref().map(ApiKey::expose).filter(|k| !k.is_empty())
    }

    /// A redactor that knows the key.
    pub fn redactor(&self) -> Redactor {
        let mut r = Redactor::new();
        if let Some(k) = self.api_key() {
            r.add(k);
        }
        r
    }

    /// Where each setting came from, one per line (for `-v`); the key is never shown.
    pub fn describe(&self) -> String {
        let key = if self.api_key().is_some() { "set" } else { "not set" };
        format!(
            "endpoint: {} ({})\napi key: {key} ({})\ntimeout: {} s\nconfig file: {}\n",
            self.url,
            self.url_source,
            self.key_source,
            self.timeout.as_secs_f64(),
            self.config_path.as_ref().map_or("none".to_string(), |p| p.display().to_string()),
        )
    }
}

/// Refuses a key shorter than [`MIN_REMOTE_KEY_LEN`] for an endpoint that is not a loopback
/// address: it is not a Gandi key (those are 24 characters), and redaction could only hide it
/// where it stands as a whole word. A local sandbox may use any key. The key itself is never in
/// the message.
fn check_key_length(key: &str, url: &str, source: &Source) -> Result<(), CliError> {
    let len = key.chars().count();
    if len >= MIN_REMOTE_KEY_LEN || crate::xmlrpc::client::url_is_loopback(url) {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "the API key ({source}) is {len} character{} long; Gandi keys are 24, and keys under \
         {MIN_REMOTE_KEY_LEN} characters are only accepted for loopback endpoints (local sandboxes), not {url}",
        if len == 1 { "" } else { "s" }
    )))
}

/// One `--trace` line for a call: method, arguments (key redacted), duration, bytes, outcome.
pub fn trace_line(r: &CallRecord) -> String {
    let mut args = json::to_string(&Value::Array(r.params.clone())).unwrap_or_else(|_| "[…]".into());
    if args.len() > 300 {
        let mut cut = 300;
        while !args.is_char_boundary(cut) {
            cut -= 1;
        }
        args.truncate(cut);
        args.push('…');
    }
    let outcome = match &r.outcome {
        CallOutcome::Ok => "ok".to_string(),
        CallOutcome::Fault { code, message } => format!("fault {code}: {message}"),
        CallOutcome::Error(e) => format!("error: {e}"),
    };
    format!(
        "trace: {} {} {:.1} ms, {} B sent, {} B received: {}",
        r.method,
        args,
        r.duration.as_secs_f64() * 1000.0,
        r.request_bytes,
        r.response_bytes,
        outcome
    )
}

/// Builds a script runtime from the settings: endpoint, key (empty if none: calls then fail with
/// Gandi's authentication fault), timeouts, dry-run, the `--trace` log, the progress display and
/// `print` routed around it.
pub fn runtime(settings: &Settings) -> Result<Runtime, CliError> {
    let mut b = Runtime::builder()
        .endpoint(settings.url.clone())
        .key(settings.key.clone().unwrap_or_default())
        .client_config(settings.client_config())
        .dry_run(settings.dry_run);
    if let Some(dir) = crate::script::default_journal_dir() {
        b = b.journal_dir(dir);
    }
    let progress = settings.progress.clone();
    // With --json, stdout holds the result document alone (as gh and kubectl keep it), so a
    // script's `print` goes to stderr, where people still see it.
    b = if settings.json {
        b.on_print(move |line| progress.eprintln(line))
    } else {
        b.on_print(move |line| progress.println_stdout(line))
    };
    // One hook (the runtime keeps one): the count for the metrics always, the trace if asked.
    let (calls, trace) =
        (settings.calls.clone(), settings.trace.then(|| (settings.redactor(), settings.progress.clone())));
    b = b.on_call(move |r| {
        calls.record(r);
        if let Some((redactor, progress)) = &trace {
            progress.eprintln(&redactor.apply(&trace_line(r)));
        }
    });
    if settings.progress.enabled() {
        let progress = settings.progress.clone();
        b = b.on_wait(move |e| progress.wait_event(e));
    }
    // Always: the tally, and a bulk run's warnings reach stderr even with no progress bar.
    let (progress, tally) = (settings.progress.clone(), settings.bulk.clone());
    b = b.on_bulk(move |e| {
        tally.record(e);
        progress.bulk_event(e);
    });
    b.build().map_err(|e| match e {
        crate::script::BuildError::Client(e) => CliError::usage(e),
        e => CliError::usage(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;
    use clap::{CommandFactory, FromArgMatches};

    fn settings(argv: &[&str], config: &str) -> Result<Settings, CliError> {
        let dir =
            std::env::temp_dir().join(format!("gandish-settings-{}-{}", std::process::id(), argv.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, config).unwrap();
        let mut full = vec!["gandish", "--config", path.to_str().unwrap()];
        full.extend(argv);
        // Only flags: these tests must not depend on the environment of the test process.
        let m = Cli::command().try_get_matches_from(full).unwrap();
        let cli = Cli::from_arg_matches(&m).unwrap();
        let s = Settings::resolve(&cli.global, &m, false);
        std::fs::remove_dir_all(&dir).unwrap();
        s
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let s = settings(&["eval", "1"], "").unwrap();
        assert_eq!((s.url.as_str(), &s.url_source), (PRODUCTION_URL, &Source::Default));
        let s = settings(&["eval", "1"], "env = \"ote\"\ntimeout = 5\njson = true").unwrap();
        assert_eq!(s.url, crate::gandi::OTE_URL);
        assert!(matches!(s.url_source, Source::File(_)));
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert!(s.json);
        let s = settings(
            &["--url", "http://127.0.0.1:1/", "eval", "1", "--timeout", "2"],
            "env = \"ote\"\ntimeout = 5",
        )
        .unwrap();
        assert_eq!((s.url.as_str(), &s.url_source), ("http://127.0.0.1:1/", &Source::Flag));
        assert_eq!(s.timeout, Duration::from_secs(2));
        let e = settings(&["--url", "http://x/", "--env", "ote", "eval", "1"], "").unwrap_err();
        assert!(e.message.contains("give one"), "{}", e.message);
    }

    #[test]
    fn a_short_key_is_refused_unless_the_endpoint_is_loopback() {
        let e = settings(&["--api-key", "abc", "--url", "https://rpc.gandi.net/xmlrpc/", "eval", "1"], "")
            .unwrap_err();
        assert_eq!(e.exit, crate::cli::exit::Exit::Usage);
        assert!(
            e.message.contains("is 3 characters long") && e.message.contains("rpc.gandi.net"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("abc"), "{}", e.message);
        assert!(settings(&["--api-key", "abc", "--url", "http://127.0.0.1:9/", "eval", "1"], "").is_ok());
        assert!(
            settings(&["--api-key", "abcdefgh", "--url", "https://rpc.gandi.net/", "eval", "1"], "").is_ok()
        );
    }

    #[test]
    fn the_key_never_shows_in_debug_or_describe() {
        let s = settings(&["--api-key", "very-secret-key", "eval", "1"], "").unwrap();
        assert_eq!(s.api_key(), Some("very-secret-key"));
        assert!(!format!("{s:?}").contains("very-secret"));
        assert!(!s.describe().contains("very-secret"));
        assert!(s.describe().contains("api key: set (command line)"), "{}", s.describe());
    }
}
