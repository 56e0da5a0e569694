//! `gandish stdlib`: lists the bundled scripts (`stdlib/*.rhai`, run as `std/NAME`) with the
//! summary and arguments their doc header declares.
//!
//! **The doc header convention.** A bundled script starts with `//!` lines:
//!
//! ```text
//! //! Renew every instance that ends within DAYS days.
//! //! Longer description, any number of lines.
//! //! arg days: renew those ending within this many days (default 30)
//! //! arg duration: how long to renew for, e.g. "12m" (default "12m")
//! ```
//!
//! The first `//!` line is the summary; `//! arg NAME: text` lines declare the `ARGS.NAME` the
//! script reads (a text ending in `(default VALUE)` gives its default); the other `//!` lines
//! are the description. The header ends at the first line that is not a `//!` line (blank lines
//! excepted). A script without `//!` lines falls back to its first `//` comment line as the
//! summary, and to its usage line (`//     gandish run std/NAME key=default [key=example]`) for
//! the arguments: a bare `key=value` is a default, a bracketed one an optional argument.

use std::fmt::Write as _;

use super::exit::CliError;
use crate::script::resolver::STDLIB;

/// One argument a bundled script declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgDoc {
    /// The key in `ARGS`.
    pub name: String,
    /// What it means (without the `(default …)` part).
    pub description: String,
    /// The value used when the argument is not given, when the script has one.
    pub default: Option<String>,
}

impl ArgDoc {
    /// An argument from its `//! arg` text: a trailing `(default VALUE)` becomes the default.
    fn declared(name: &str, text: &str) -> ArgDoc {
        let text = text.trim();
        let split = text
            .strip_suffix(')')
            .and_then(|t| t.rfind("(default ").map(|i| (t[..i].trim_end(), &t[i + "(default ".len()..])));
        let (description, default) = match split {
            Some((d, v)) => (d.to_string(), Some(v.trim().to_string())),
            None => (text.to_string(), None),
        };
        ArgDoc { name: name.trim().to_string(), description, default }
    }
}

/// What a bundled script's header says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptDoc {
    /// The first line.
    pub summary: String,
    /// The other lines.
    pub description: Vec<String>,
    /// The declared arguments.
    pub args: Vec<ArgDoc>,
}

/// Reads the doc header of a script.
pub fn parse_header(source: &str) -> ScriptDoc {
    let mut doc = ScriptDoc::default();
    let mut lines = source.lines().peekable();
    if lines.peek().is_some_and(|l| l.starts_with("#!")) {
        lines.next();
    }
    let mut fallback = None;
    for line in lines {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some(rest) = t.strip_prefix("//!") else {
            if fallback.is_none() && doc.summary.is_empty() {
                fallback = t.strip_prefix("//").filter(|s| !s.starts_with('/')).map(|s| s.trim().to_string());
            }
            if doc.summary.is_empty() && t.starts_with("//") {
                continue;
            }
            break;
        };
        // One space after `//!` is the convention; more is indentation (a usage example).
        let kept = rest.strip_prefix(' ').unwrap_or(rest).trim_end();
        let rest = rest.trim();
        if let Some(arg) = rest.strip_prefix("arg ") {
            let (name, desc) = arg.split_once(':').unwrap_or((arg, ""));
            doc.args.push(ArgDoc::declared(name, desc));
        } else if doc.summary.is_empty() {
            doc.summary = rest.to_string();
        } else {
            doc.description.push(kept.to_string());
        }
    }
    if doc.summary.is_empty() {
        // `// std/NAME — summary`: the listing shows the name already.
        let fallback = fallback.unwrap_or_default();
        doc.summary = match fallback.split_once(" — ") {
            Some((name, rest)) if name.starts_with("std/") && !name.contains(' ') => rest.to_string(),
            _ => fallback,
        };
    }
    if doc.args.is_empty() {
        doc.args = usage_args(source);
    }
    doc
}

/// The arguments a `//` usage line shows: `gandish run std/NAME a=1 [b=x]` and its
/// continuation lines (the comment lines up to the next blank comment line). `a=1` is a
/// default; `[b=x]` an optional argument with an example value.
fn usage_args(source: &str) -> Vec<ArgDoc> {
    let mut args: Vec<ArgDoc> = Vec::new();
    let mut in_usage = false;
    for line in source.lines().map(str::trim) {
        let Some(text) = line.strip_prefix("//").map(|t| t.trim_start_matches('!').trim()) else { break };
        let text = match text.find("gandish run std/") {
            Some(i) if !in_usage => {
                in_usage = true;
                &text[i..]
            }
            _ if in_usage && !text.is_empty() => text,
            _ if in_usage => break,
            _ => continue,
        };
        for word in text.split_whitespace() {
            let optional = word.starts_with('[');
            // `gandish`, `run`, `std/NAME` and `|` have no `=`.
            let Some((name, value)) = word.trim_matches(['[', ']']).split_once('=') else { continue };
            if args.iter().any(|a| a.name == name) || name.is_empty() {
                continue;
            }
            let (description, default) = if optional {
                (format!("optional, e.g. {value}"), None)
            } else {
                (String::new(), Some(value.to_string()))
            };
            args.push(ArgDoc { name: name.to_string(), description, default });
        }
    }
    args
}

/// The listing (all scripts, or one in full).
pub fn listing(name: Option<&str>) -> Result<String, CliError> {
    let mut out = String::new();
    let wanted = name.map(|n| n.strip_prefix("std/").unwrap_or(n));
    let mut found = false;
    for (n, text) in STDLIB {
        if wanted.is_some_and(|w| w != *n) {
            continue;
        }
        found = true;
        let doc = parse_header(text);
        let _ = writeln!(out, "std/{n}  {}", doc.summary);
        if wanted.is_some() {
            for l in &doc.description {
                let _ = writeln!(out, "{}", format!("    {l}").trim_end());
            }
        }
        let shown: Vec<(String, &str)> = doc
            .args
            .iter()
            .map(|a| (format!("{}={}", a.name, a.default.as_deref().unwrap_or("…")), a.description.as_str()))
            .collect();
        let width = shown.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0);
        for (name, description) in shown {
            let _ = writeln!(out, "    {}", format!("{name:<width$}  {description}").trim_end());
        }
    }
    if !found {
        let names: Vec<String> = STDLIB.iter().map(|(n, _)| format!("std/{n}")).collect();
        return Err(CliError::usage(format!(
            "there is no bundled script {}; the bundled scripts are: {}",
            name.unwrap_or_default(),
            names.join(", ")
        )));
    }
    Ok(out)
}

/// The listing as one JSON document (`gandish stdlib --json`): an array of
/// `{"name": "std/NAME", "summary", "description": [lines], "args": [{"name", "description",
/// "default"}]}`, or that one object when a NAME is given. `default` is `null` when the script
/// has none.
pub fn listing_json(name: Option<&str>) -> Result<String, CliError> {
    // The same selection, and the same error for an unknown name, as the text listing.
    listing(name)?;
    let wanted = name.map(|n| n.strip_prefix("std/").unwrap_or(n));
    let docs: Vec<serde_json::Value> = STDLIB
        .iter()
        .filter(|(n, _)| wanted.is_none_or(|w| w == *n))
        .map(|(n, text)| {
            let doc = parse_header(text);
            let args: Vec<serde_json::Value> = doc
                .args
                .iter()
                .map(|a| serde_json::json!({"name": a.name, "description": a.description, "default": a.default}))
                .collect();
            serde_json::json!({
                "name": format!("std/{n}"),
                "summary": doc.summary,
                "description": doc.description,
                "args": args,
            })
        })
        .collect();
    let doc = match (wanted, docs.as_slice()) {
        (Some(_), [one]) => one.clone(),
        _ => serde_json::Value::Array(docs),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_gives_summary_description_and_args() {
        let doc = parse_header(
            "#!/usr/bin/env gandish\n//! Renew what ends soon.\n//! Longer text.\n//! arg days: within this many days (default 30)\n//!arg dry:  plan only\n\nlet x = 1;\n//! not header\n",
        );
        assert_eq!(doc.summary, "Renew what ends soon.");
        assert_eq!(doc.description, ["Longer text."]);
        assert_eq!(
            doc.args,
            [
                ArgDoc {
                    name: "days".into(),
                    description: "within this many days".into(),
                    default: Some("30".into())
                },
                ArgDoc { name: "dry".into(), description: "plan only".into(), default: None },
            ]
        );
    }

    #[test]
    fn plain_comments_give_a_summary() {
        let doc = parse_header("// std/util — helpers.\n//\n// more\nfn f() {}\n");
        assert_eq!(doc.summary, "helpers.", "the name is not repeated");
        assert!(doc.args.is_empty());
    }

    #[test]
    fn every_bundled_script_is_listed() {
        let out = listing(None).unwrap();
        for (n, _) in STDLIB {
            assert!(out.contains(&format!("std/{n}  ")), "{out}");
        }
        assert!(listing(Some("nope")).unwrap_err().message.contains("std/util"));
    }
}
