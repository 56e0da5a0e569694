//! Tab completion: `:commands`, module names (`pa` → `paas::`), module functions (`paas::l` →
//! `paas::list`), variables in scope, global and user functions, keywords, and the field names
//! of map values in scope (`p.na` → `p.name`, also through nested maps and array items:
//! `ps[0].datacenter.na`).

use std::collections::BTreeSet;

use rustyline::completion::Pair;

use super::catalog::Catalog;
use super::commands::COMMANDS;
use super::shape::{Shape, Step};

/// Rhai's keywords.
const KEYWORDS: &[&str] = &[
    "as", "break", "catch", "const", "continue", "do", "else", "export", "false", "fn", "for", "if",
    "import", "in", "let", "loop", "private", "return", "switch", "this", "throw", "true", "try", "until",
    "while",
];

fn pair(s: impl Into<String>) -> Pair {
    let s = s.into();
    Pair { display: s.clone(), replacement: s }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Completions for the text before `pos`: where the replaced word starts, and the candidates.
/// `:load` paths are completed by the helper (file names), not here.
pub fn complete(line: &str, pos: usize, catalog: &Catalog, vars: &[(String, Shape)]) -> (usize, Vec<Pair>) {
    let before = &line[..pos];
    if let Some(cmd) = before.trim_start().strip_prefix(':') {
        return complete_command(before, pos, cmd, catalog);
    }
    let start = before
        .rfind(|c: char| !(is_ident_char(c) || matches!(c, ':' | '.' | '[' | ']')))
        .map_or(0, |i| i + before[i..].chars().next().map_or(1, char::len_utf8));
    let token = &before[start..];
    if let Some(dot) = token.rfind('.') {
        let prefix = &token[dot + 1..];
        return (pos - prefix.len(), fields(&token[..dot], prefix, vars));
    }
    if let Some((module, prefix)) = token.rsplit_once("::") {
        let names = catalog.names_in(module);
        let c = names.into_iter().filter(|n| n.starts_with(prefix)).map(pair).collect();
        return (pos - prefix.len(), c);
    }
    let prefix = token.trim_start_matches(|c: char| !is_ident_char(c));
    if prefix.is_empty() || prefix.starts_with(|c: char| c.is_ascii_digit()) {
        return (pos, Vec::new());
    }
    let mut names: BTreeSet<String> = BTreeSet::new();
    names.extend(vars.iter().map(|(n, _)| n.clone()));
    names.extend(catalog.modules().iter().map(|m| format!("{m}::")));
    names.extend(catalog.global_names().into_iter().map(str::to_string));
    names.extend(KEYWORDS.iter().map(|k| k.to_string()));
    let c = names.into_iter().filter(|n| n.starts_with(prefix)).map(pair).collect();
    (pos - prefix.len(), c)
}

/// `:co` → `:commands`; `:doc pa` → functions and modules.
fn complete_command(before: &str, pos: usize, cmd: &str, catalog: &Catalog) -> (usize, Vec<Pair>) {
    match cmd.split_once(char::is_whitespace) {
        None => {
            let c = COMMANDS
                .iter()
                .filter(|(name, _, _)| name.starts_with(cmd))
                .map(|(name, _, _)| pair(format!(":{name}")));
            (pos - cmd.len() - 1, c.collect())
        }
        Some(("doc", arg)) => {
            let arg = arg.trim_start();
            let mut names: BTreeSet<String> = catalog.all().map(|f| f.qualified()).collect();
            names.extend(catalog.modules().iter().cloned());
            let c = names.into_iter().filter(|n| n.starts_with(arg)).map(pair).collect();
            (before.len() - arg.len(), c)
        }
        Some((name @ ("json" | "dry-run"), arg)) if !arg.trim_start().contains(' ') => {
            let arg = arg.trim_start();
            let _ = name;
            let c = ["on", "off"].into_iter().filter(|o| o.starts_with(arg)).map(pair).collect();
            (before.len() - arg.len(), c)
        }
        _ => (pos, Vec::new()),
    }
}

/// The keys of the map that `base` (`p`, `ps[0].datacenter`) names, starting with `prefix`.
fn fields(base: &str, prefix: &str, vars: &[(String, Shape)]) -> Vec<Pair> {
    let Some((root, path)) = parse_path(base) else { return Vec::new() };
    let Some((_, shape)) = vars.iter().find(|(n, _)| *n == root) else { return Vec::new() };
    match shape.at(&path) {
        Some(Shape::Map(keys)) => keys
            .keys()
            .filter(|k| k.starts_with(prefix) && k.chars().all(is_ident_char) && !k.is_empty())
            .map(|k| pair(k.as_str()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `ps[0].datacenter` → (`ps`, [Index, Field("datacenter")]); `None` for anything else.
fn parse_path(base: &str) -> Option<(&str, Vec<Step>)> {
    let root_end = base.find(['.', '[']).unwrap_or(base.len());
    let root = &base[..root_end];
    if root.is_empty() || !root.chars().all(is_ident_char) || root.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut path = Vec::new();
    let mut rest = &base[root_end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            path.push(Step::Index);
            rest = &r[close + 1..];
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let field = &r[..end];
            if field.is_empty() || !field.chars().all(is_ident_char) {
                return None;
            }
            path.push(Step::Field(field.to_string()));
            rest = &r[end..];
        } else {
            return None;
        }
    }
    Some((root, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Scope;

    fn setup() -> (Catalog, Vec<(String, Shape)>) {
        let rt = crate::Runtime::builder().endpoint("http://127.0.0.1:9/").key("k").build().unwrap();
        let mut scope = Scope::new();
        let _ = rt.eval_with_scope(
            &mut scope,
            r#"let p = #{name: "a", native: 1, datacenter: #{id: 1, name: "x"}, "odd key": 2}; let ps = [p]; let pages = 3;"#,
        )
        .unwrap();
        (Catalog::new(rt.engine()), super::super::shape::of_scope(&scope))
    }

    fn words(line: &str) -> (usize, Vec<String>) {
        let (c, v) = setup();
        let (start, pairs) = complete(line, line.len(), &c, &v);
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn modules_and_their_functions() {
        assert_eq!(words("paas::l"), (6, vec!["list".to_string()]));
        assert_eq!(words("x = paas::re"), (10, vec!["renew".to_string(), "restart".to_string()]));
        let (start, w) = words("pa");
        assert_eq!(start, 0);
        assert!(w.contains(&"paas::".to_string()), "{w:?}");
        assert!(w.contains(&"pages".to_string()), "variables too: {w:?}");
        assert!(words("vh").1.contains(&"vhost::".to_string()));
    }

    #[test]
    fn fields_of_maps_in_scope() {
        assert_eq!(words("p.na"), (2, vec!["name".to_string(), "native".to_string()]));
        assert_eq!(words("print(p.datacenter.n"), (19, vec!["name".to_string()]));
        assert_eq!(words("ps[0].datacenter.i"), (17, vec!["id".to_string()]));
        assert_eq!(
            words("p.").1,
            ["datacenter", "name", "native"],
            "keys that are not identifiers are left out"
        );
        assert!(words("pages.x").1.is_empty(), "an int has no fields");
        assert!(words("nope.x").1.is_empty());
    }

    #[test]
    fn globals_keywords_and_commands() {
        let w = words("le").1;
        assert!(w.contains(&"len".to_string()) && w.contains(&"let".to_string()), "{w:?}");
        assert!(words("no").1.contains(&"now".to_string()));
        assert_eq!(words(":d"), (0, vec![":doc".to_string(), ":dry-run".to_string()]));
        assert_eq!(words(":doc paas::de"), (5, vec!["paas::delete".to_string()]));
        assert_eq!(words(":json o"), (6, vec!["on".to_string(), "off".to_string()]));
        assert!(words("1 + ").1.is_empty());
    }
}
