//! Keeps secrets (the API key) out of everything the command line prints, by the rule of
//! [`redact_secret`]: long secrets wherever they appear, short ones where they stand as a whole
//! word, so that a short key never mangles the words around it.

use std::borrow::Cow;

use crate::gandi::redact_secret;

/// Replaces the secrets it knows with `[REDACTED]` ([`redact_secret`]), in plain text and in the
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
pub use crate::gandi::REDACTED;

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
            if let Cow::Owned(o) = redact_secret(&out, n) {
                out = Cow::Owned(o);
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
    fn a_short_secret_never_mangles_words() {
        let mut r = Redactor::new();
        r.add("a");
        assert_eq!(r.apply("paas.info failed: key a"), "paas.info failed: key [REDACTED]");
        assert_eq!(r.apply("[\"a\",1]"), "[\"[REDACTED]\",1]");
    }

    #[test]
    fn empty_secret_changes_nothing() {
        let mut r = Redactor::new();
        r.add("");
        assert_eq!(r.apply("abc"), "abc");
    }
}
