//! Where in a value something went wrong, written the same way by every walk of a value tree
//! (the encoder, the JSON mapping): `params[0].vhosts[2]`, with members that are not plain
//! identifiers quoted, `result["a b"]`.

use std::fmt::Write;

/// One step down a value tree.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step<'a> {
    /// An array element.
    Index(usize),
    /// A struct member.
    Member(&'a str),
}

/// `root` followed by `steps`.
pub(crate) fn render<'a>(root: &str, steps: impl IntoIterator<Item = Step<'a>>) -> String {
    let mut out = String::from(root);
    for s in steps {
        match s {
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Step::Member(k) if is_plain(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Member(k) => {
                let _ = write!(out, "[{}]", quote(k));
            }
        }
    }
    out
}

/// Whether `k` reads unambiguously after a dot.
fn is_plain(k: &str) -> bool {
    let mut chars = k.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A JSON string literal for `s`.
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_members_dot_others_quote() {
        let steps = [Step::Member("vhosts"), Step::Index(2), Step::Member("a b"), Step::Member("x-y")];
        assert_eq!(render("params[0]", steps), r#"params[0].vhosts[2]["a b"].x-y"#);
        assert_eq!(render("$", []), "$");
    }
}
