//! Hints: the signature of the function being called (`paas::renew(` shows
//! `paas::renew(instance: i64 | Map, duration: String) -> Array`), or of the function name under
//! the cursor.

use super::catalog::Catalog;

/// The most overloads shown in one hint.
const MAX_SHOWN: usize = 2;

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == ':'
}

/// The name of the innermost call still open before the end of `text` (`paas::info(p.id, f(x)`
/// → `paas::info`), skipping string contents.
fn open_call(text: &str) -> Option<&str> {
    let mut opens: Vec<usize> = Vec::new();
    let mut in_string: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                in_string = None;
            }
            continue;
        }
        match c {
            '"' | '`' | '\'' => in_string = Some(c),
            '(' => opens.push(i),
            ')' => {
                opens.pop();
            }
            _ => {}
        }
    }
    let open = *opens.last()?;
    let before = &text[..open];
    let start = before.rfind(|c: char| !is_name_char(c)).map_or(0, |i| i + 1);
    let name = &before[start..];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit() || c == ':')).then_some(name)
}

/// The hint for `line` with the cursor at `pos` (only at the end of the line).
pub fn signature_hint(line: &str, pos: usize, catalog: &Catalog) -> Option<String> {
    if pos < line.len() || line.trim_start().starts_with(':') {
        return None;
    }
    let word_start = line.rfind(|c: char| !is_name_char(c)).map_or(0, |i| i + 1);
    let word = &line[word_start..];
    // After a dot the word is a field (or a method), not the global function of that name.
    let after_dot = line[..word_start].ends_with('.');
    let name = if !word.is_empty() && !after_dot && !catalog.lookup(word).is_empty() {
        word
    } else {
        open_call(line)?
    };
    let overloads = catalog.lookup(name);
    if overloads.is_empty() {
        return None;
    }
    let mut shown: Vec<&str> = overloads.iter().take(MAX_SHOWN).map(|f| f.signature.as_str()).collect();
    shown.dedup();
    let more = overloads.len().saturating_sub(MAX_SHOWN);
    let mut hint = format!("   {}", shown.join("  |  "));
    if more > 0 {
        hint.push_str(&format!("  (+{more} more, :doc {name})"));
    }
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let rt = crate::Runtime::builder().endpoint("http://127.0.0.1:9/").key("k").build().unwrap();
        Catalog::new(rt.engine())
    }

    #[test]
    fn the_open_call_is_found() {
        assert_eq!(open_call("paas::info("), Some("paas::info"));
        assert_eq!(open_call("let x = paas::renew(p, f(1), "), Some("paas::renew"));
        assert_eq!(open_call("print(\"(\" + x"), Some("print"));
        assert_eq!(open_call("f(1)"), None);
        assert_eq!(open_call("(1 + "), None);
    }

    #[test]
    fn signatures_as_hints() {
        let c = catalog();
        let h = signature_hint("paas::renew(p, ", 15, &c).unwrap();
        assert!(h.contains("paas::renew(instance: i64 | Map, duration: String) -> Array"), "{h}");
        let h = signature_hint("paas::delete", 12, &c).unwrap();
        assert!(h.contains("paas::delete(instance: i64 | Map) -> Map"), "{h}");
        assert_eq!(signature_hint("paas::delete", 3, &c), None, "only at the end of the line");
        assert_eq!(signature_hint("nothing_here(", 13, &c), None);
        assert_eq!(signature_hint(":doc paas::list(", 16, &c), None);
        assert!(signature_hint("name", 4, &c).is_some(), "the global function `name`");
        assert_eq!(signature_hint("p.name", 6, &c), None, "a field, not the function");
    }
}
