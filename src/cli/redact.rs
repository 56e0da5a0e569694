//! Keeps secrets (the API key) out of everything the command line prints.

use std::borrow::Cow;

/// Replaces every occurrence of the secrets it knows with `[REDACTED]`, in plain text and in the
/// escaped form JSON output would give them.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.needles.len())
    }
}

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

impl Redactor {
    /// A redactor that changes nothing.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret. Empty strings are ignored.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let escaped = serde_json::to_string(secret).expect("a str serializes");
        let escaped = &escaped[1..escaped.len() - 1];
        for s in [secret, escaped] {
            if !self.needles.iter().any(|n| n == s) {
                self.needles.push(s.to_owned());
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every secret replaced.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = Cow::Owned(out.replace(n.as_str(), REDACTED));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_plain_and_json_escaped_forms() {
        let mut r = Redactor::new();
        r.add("s3cr\"et\\key");
        assert_eq!(r.apply("key is s3cr\"et\\key."), "key is [REDACTED].");
        let json = serde_json::to_string("s3cr\"et\\key").unwrap();
        assert_eq!(r.apply(&json), "\"[REDACTED]\"");
        assert_eq!(r.apply("nothing here"), "nothing here");
        assert!(!format!("{r:?}").contains("s3cr"));
    }

    #[test]
    fn empty_secret_changes_nothing() {
        let mut r = Redactor::new();
        r.add("");
        assert_eq!(r.apply("abc"), "abc");
    }
}
