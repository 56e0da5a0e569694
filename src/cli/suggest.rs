//! What rustc adds under an error: "did you mean" for a misspelled name, and a `help:` line for
//! common mistakes. Used for script errors (`eval`, `run`, `watch`) and for a misspelled
//! subcommand.

use rhai::EvalAltResult;

use crate::cli::repl::catalog::Catalog;
use crate::script::{Error, Runtime};

/// The edit distance between `a` and `b` counting a swap of two neighbours as one edit
/// (optimal string alignment), so that `lsit` is one edit from `list`.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `word`, if it is close enough to be what was meant: one edit for
/// short words, two from six characters on, and never the word itself.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = if word.chars().count() >= 6 { 2 } else { 1 };
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// The innermost Rhai error of a script error (through function calls and modules).
fn innermost(e: &Error) -> Option<&EvalAltResult> {
    let Error::Script(err) = e else { return None };
    let mut cur: &EvalAltResult = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _) | EvalAltResult::ErrorInModule(_, inner, _) =
        cur
    {
        cur = inner;
    }
    Some(cur)
}

/// The `help:` lines for a script error, if gandish knows what would fix it (each ends with a
/// newline; empty if none):
///
/// - a date plus or minus a bare number: write a duration, `days(30)`;
/// - an unknown function close to a known one: `did you mean paas::list?`;
/// - a known function called with arguments it does not take: its signatures.
pub fn script_help(e: &Error, rt: &Runtime) -> String {
    let signature = match innermost(e) {
        Some(EvalAltResult::ErrorFunctionNotFound(signature, _)) => signature,
        Some(EvalAltResult::ErrorParsing(rhai::ParseErrorType::ModuleUndefined(module), _)) => {
            let catalog = Catalog::new(rt.engine());
            return closest(module, catalog.modules().iter().map(String::as_str))
                .map(|m| format!("help: did you mean the module `{m}`?\n"))
                .unwrap_or_default();
        }
        _ => return String::new(),
    };
    let (name, args) = match signature.split_once(" (") {
        Some((n, a)) => (n.trim(), a.trim_end_matches(')')),
        None => (signature.trim(), ""),
    };
    let args: Vec<&str> = args.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
    if matches!(name, "+" | "-" | "+=" | "-=")
        && args.len() == 2
        && (args[0] == "date" || args[0].ends_with("Date"))
        && ["i64", "f64"].contains(&args[1])
    {
        let op = &name[..1];
        return format!(
            "help: a number is not a duration: write `date {op} days(30)` (or hours(…), minutes(…), months(…), years(…))\n"
        );
    }
    let catalog = Catalog::new(rt.engine());
    let (module, bare) = match name.rsplit_once("::") {
        Some((m, b)) => (Some(m), b),
        None => (None, name),
    };
    let names = match module {
        Some(m) => catalog.names_in(m),
        None => catalog.global_names(),
    };
    if names.contains(bare) {
        let sigs: Vec<String> = catalog.lookup(name).iter().map(|f| format!("`{}`", f.signature)).collect();
        if sigs.is_empty() {
            return String::new();
        }
        return format!("help: {name} takes: {}\n", sigs.join(", "));
    }
    let qualify = |m: Option<&str>, b: &str| m.map_or_else(|| b.to_string(), |m| format!("{m}::{b}"));
    if let Some(found) = closest(bare, names.iter().copied()) {
        return format!("help: did you mean `{}`?\n", qualify(module, found));
    }
    // A misspelled module the parser let through (a call inside a function body): `paaz::list`.
    if let Some(m) = module
        && !catalog.modules().iter().any(|k| k == m)
        && let Some(found) = closest(m, catalog.modules().iter().map(String::as_str))
        && catalog.names_in(found).contains(bare)
    {
        return format!("help: did you mean `{found}::{bare}`?\n");
    }
    String::new()
}

/// A tip for a subcommand clap did not recognise and had no suggestion for (its own needs a
/// close Jaro match, so `rn` gets none): the closest subcommand, in clap's own layout.
pub fn subcommand_tip(word: &str, subcommands: &[&str]) -> Option<String> {
    let found = closest(word, subcommands.iter().copied()).or_else(|| {
        // A unique subcommand that starts with what was typed (`comp`), as cargo suggests.
        let mut starting = subcommands.iter().filter(|s| s.starts_with(word) && word.len() >= 2);
        match (starting.next(), starting.next()) {
            (Some(s), None) => Some(*s),
            _ => None,
        }
    })?;
    Some(format!("  tip: a similar subcommand exists: '{found}'\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_count_as_one_edit() {
        assert_eq!(distance("lsit", "list"), 1);
        assert_eq!(distance("rn", "run"), 1);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(closest("lsit", ["list", "info", "count"]), Some("list"));
        assert_eq!(closest("xyz", ["list", "info"]), None);
        assert_eq!(closest("restrat", ["restart", "renew"]), Some("restart"));
    }

    #[test]
    fn subcommand_tips() {
        let subs = ["run", "eval", "repl", "watch", "call", "sandbox", "stdlib", "completions"];
        assert_eq!(
            subcommand_tip("rn", &subs).as_deref(),
            Some("  tip: a similar subcommand exists: 'run'\n")
        );
        assert!(subcommand_tip("comp", &subs).unwrap().contains("'completions'"));
        assert_eq!(subcommand_tip("zzzzzz", &subs), None);
    }
}
