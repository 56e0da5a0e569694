//! When an entry is complete: the parser decides, so `fn f() {`, `[1, 2`, `paas::list(` and
//! `let x =` continue on the next line, while an unterminated `"string"` (which cannot continue
//! on the next line in Rhai) and other syntax errors are complete and reported by evaluation.

use rhai::{Engine, LexError, ParseErrorType};

/// What to do with the text typed so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Evaluate it (it may still hold an error, which evaluation reports with a caret).
    Complete,
    /// Read another line and append it.
    Incomplete,
}

/// A parse-only engine: no packages, no strict variables (the parser must not stop at an
/// unknown variable before it reaches the end of the text), no depth limit.
pub fn parser() -> Engine {
    let mut e = Engine::new_raw();
    e.set_max_expr_depths(0, 0);
    e
}

/// Decides whether `input` is a complete entry. `:commands` are always complete. With
/// `blank_line_submits` (at a terminal), an empty last line submits whatever was typed, so no
/// input can trap the user.
pub fn verdict(parser: &Engine, input: &str, blank_line_submits: bool) -> Verdict {
    let trimmed = input.trim_start();
    if trimmed.is_empty() || trimmed.starts_with(':') {
        return Verdict::Complete;
    }
    if blank_line_submits
        && input.contains('\n')
        && input.rsplit('\n').next().is_some_and(|l| l.trim().is_empty())
    {
        return Verdict::Complete;
    }
    // A doc comment belongs to the function that follows it.
    if input.trim_end().rsplit('\n').next().is_some_and(|l| l.trim_start().starts_with("///")) {
        return Verdict::Incomplete;
    }
    let Err(err) = parser.compile(input) else {
        return Verdict::Complete;
    };
    // A missing token is only a reason to read on when the parser ran out of text; `[1, 2 3]`
    // misses a comma in the middle and is an error now.
    let at_end = || match (err.1.line(), err.1.position()) {
        (Some(line), Some(col)) => offset(input, line, col).is_none_or(|o| input[o..].trim().is_empty()),
        _ => true,
    };
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => Verdict::Incomplete,
        ParseErrorType::MissingToken(..) if at_end() => Verdict::Incomplete,
        ParseErrorType::BadInput(LexError::UnterminatedString) => {
            // Only a back-tick string may span lines.
            let opens_backtick = match (err.1.line(), err.1.position()) {
                (Some(line), Some(col)) => {
                    offset(input, line, col).is_some_and(|o| input[o..].starts_with('`'))
                }
                _ => false,
            };
            if opens_backtick { Verdict::Incomplete } else { Verdict::Complete }
        }
        _ => Verdict::Complete,
    }
}

/// The byte offset of 1-based `line` and `col` (in characters), if inside the text.
fn offset(input: &str, line: usize, col: usize) -> Option<usize> {
    let mut start = 0;
    for (i, l) in input.split('\n').enumerate() {
        if i + 1 == line {
            return l.char_indices().nth(col.saturating_sub(1)).map(|(o, _)| start + o);
        }
        start += l.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Verdict {
        verdict(&parser(), s, false)
    }

    #[test]
    fn open_constructs_continue() {
        for s in [
            "fn f() {",
            "if x {",
            "let x = [1, 2",
            "paas::list(",
            "let x =",
            "let m = #{a: 1,",
            "let s = `abc",
            "for p in ps {\n  print(p)",
        ] {
            assert_eq!(v(s), Verdict::Incomplete, "{s:?}");
        }
    }

    #[test]
    fn complete_or_broken_entries_are_evaluated() {
        for s in [
            "1 + 1",
            "let x = 1;",
            "fn f() { 1 }",
            "let s = \"abc",
            "print(\"abc)",
            "let x = ;",
            "let x = [1, 2 3]",
            "let x = [1, 2 3",
            "f(1 2)",
            "x +* 2",
            ":doc paas::list",
            "",
            "fn f(a) {\n  a + 1\n}",
            "undefined_variable + 1",
        ] {
            assert_eq!(v(s), Verdict::Complete, "{s:?}");
        }
    }

    #[test]
    fn a_blank_line_submits_at_a_terminal() {
        assert_eq!(verdict(&parser(), "fn f() {\n", true), Verdict::Complete);
        assert_eq!(verdict(&parser(), "fn f() {\n", false), Verdict::Incomplete);
        assert_eq!(verdict(&parser(), "fn f() {", true), Verdict::Incomplete);
    }
}
