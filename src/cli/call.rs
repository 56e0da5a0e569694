//! `gandish call`: one XML-RPC call, result printed as JSON.

use crate::gandi::methods::is_known_change;
use crate::gandi::params::redact_passwords;
use crate::gandi::{CallOutcome, CallRecord, is_known_read, redact_secret};
use crate::script::PlanEntry;
use crate::xmlrpc::Struct;
use crate::xmlrpc::client::Error as ClientError;
use crate::xmlrpc::{Client, Value, json};

use super::args::CallArgs;
use super::exit::CliError;
use super::render::render_plan;
use super::settings::Settings;

/// Runs `gandish call` and returns the text to print on stdout (the pretty JSON result with a
/// trailing newline, or under `--dry-run` the plan of a change). The caller redacts and prints
/// it.
pub fn run(args: &CallArgs, settings: &Settings) -> Result<String, CliError> {
    if settings.dry_run && !is_known_read(&args.method) {
        return Ok(plan(args, call_params(args, None)?, settings.json));
    }
    let params = call_params(args, settings.api_key())?;
    let client = Client::new(&settings.url, settings.client_config()).map_err(client_error)?;
    let (result, stats) = client.call_with_stats(&args.method, &params);
    if settings.trace {
        eprintln!("{}", trace(args, settings.api_key(), &params, &result, &stats));
    }
    let result = result.map_err(client_error)?;
    let mut text = json::to_string_pretty(&result)
        .map_err(|e| CliError::transport(format!("the reply cannot be shown as JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// What `--dry-run` prints instead of sending a change (or a method not known to only read):
/// the plan entry, in the form script plans take, or as JSON `{"dry_run": true, "sent": false,
/// "method", "args"}`. The key is not among the arguments shown, and passwords are redacted.
fn plan(args: &CallArgs, mut shown: Vec<Value>, json_output: bool) -> String {
    for a in shown.iter_mut() {
        redact_passwords(a);
    }
    if json_output {
        let mut entry = Struct::new();
        entry.insert("dry_run", true);
        entry.insert("sent", false);
        entry.insert("method", args.method.as_str());
        entry.insert("args", Value::Array(shown));
        let mut text = json::to_string_pretty(&Value::Struct(entry)).unwrap_or_default();
        text.push('\n');
        return text;
    }
    let summary =
        if is_known_change(&args.method) { "call" } else { "call of a method not known to only read" };
    render_plan(&[PlanEntry {
        method: args.method.clone(),
        args: shown,
        summary: summary.into(),
        errors: None,
    }])
}

/// The `--trace` line of the call, in the same form as script calls, with the key redacted.
fn trace(
    args: &CallArgs,
    key: Option<&str>,
    params: &[Value],
    result: &Result<Value, ClientError>,
    stats: &crate::xmlrpc::CallStats,
) -> String {
    let redacted = |v: &Value| match (v.as_str(), key) {
        (Some(s), Some(k)) => Value::from(redact_secret(s, k).into_owned()),
        _ => v.clone(),
    };
    let record = CallRecord {
        method: args.method.clone(),
        params: params.iter().map(redacted).collect(),
        duration: stats.duration,
        request_bytes: stats.request_bytes,
        response_bytes: stats.response_bytes,
        status: stats.status,
        outcome: match result {
            Ok(_) => CallOutcome::Ok,
            Err(ClientError::Fault(f)) => CallOutcome::Fault { code: f.code, message: f.message.clone() },
            Err(e) => CallOutcome::Error(e.to_string()),
        },
    };
    // The server's own text (a fault string, an error page) may echo the key too.
    let line = super::settings::trace_line(&record);
    match key {
        Some(k) => redact_secret(&line, k).into_owned(),
        None => line,
    }
}

/// The parameters to send: the API key first (unless `--raw` or no key), then each ARG as JSON.
pub fn call_params(args: &CallArgs, key: Option<&str>) -> Result<Vec<Value>, CliError> {
    let key = if args.raw { None } else { key };
    let mut params = Vec::with_capacity(args.args.len() + 1);
    params.extend(key.map(Value::from));
    for (i, text) in args.args.iter().enumerate() {
        let value = json::parse_at(text, &format!("arg{}", i + 1)).map_err(|e| arg_error(i, text, e))?;
        params.push(value);
    }
    Ok(params)
}

fn arg_error(i: usize, text: &str, e: json::JsonError) -> CliError {
    let bare_word = text.trim_start().starts_with(|c: char| c.is_alphabetic() || c == '_')
        && !["true", "false", "null"].iter().any(|w| text.trim().starts_with(w));
    match e {
        json::JsonError::Syntax { .. } if bare_word => CliError::usage(format!(
            "{e}\n  argument {} must be JSON; to pass it as a string, quote it: '\"…\"'",
            i + 1
        )),
        e => CliError::usage(e),
    }
}

/// Maps a client error to its exit status and message.
fn client_error(e: ClientError) -> CliError {
    match &e {
        ClientError::Fault(f) => CliError::fault(f),
        ClientError::Encode(_) | ClientError::Config(_) | ClientError::InsecureUrl { .. } => {
            CliError::usage(e)
        }
        _ => CliError::transport(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use crate::cli::exit::Exit;
    use clap::Parser;

    fn call_args(argv: &[&str]) -> CallArgs {
        let mut full = vec!["gandish", "call"];
        full.extend(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Some(Command::Call(c)) => c,
            other => panic!("expected call, got {other:?}"),
        }
    }

    #[test]
    fn key_goes_first_unless_raw() {
        let a = call_args(&["m", "1", "\"s\""]);
        assert_eq!(
            call_params(&a, Some("K")).unwrap(),
            vec![Value::from("K"), Value::Int(1), Value::from("s")]
        );
        let a = call_args(&["--raw", "m", "1"]);
        assert_eq!(call_params(&a, Some("K")).unwrap(), vec![Value::Int(1)]);
        let a = call_args(&["m"]);
        assert_eq!(call_params(&a, None).unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn malformed_args_are_usage_errors_naming_the_argument() {
        let e = call_params(&call_args(&["m", "1", "[1,"]), None).unwrap_err();
        assert_eq!(e.exit, Exit::Usage);
        assert!(e.message.starts_with("error: arg2: invalid JSON"), "{}", e.message);

        let e = call_params(&call_args(&["m", "hello"]), None).unwrap_err();
        assert!(
            e.message.contains("argument 1 must be JSON") && e.message.contains("quote it"),
            "{}",
            e.message
        );

        let e = call_params(&call_args(&["m", r#"{"when": {"$datetime": "nope"}}"#]), None).unwrap_err();
        assert!(e.message.starts_with("error: arg1.when: invalid $datetime"), "{}", e.message);
    }
}
