//! [`ApiKey`]: the Gandi API key as a secret that never prints itself.

use std::fmt;

/// A Gandi API key.
///
/// `Debug` and `Display` print `ApiKey(***)`, never the key; only [`ApiKey::expose`] gives the
/// text, for sending it as the first parameter of a call.
///
/// ```
/// use gandish::gandi::ApiKey;
///
/// let key = ApiKey::new("my 24-character API key");
/// assert_eq!(format!("{key} {key:?}"), "ApiKey(***) ApiKey(***)");
/// assert_eq!(key.expose(), "my 24-character API key");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps `key` as given (Gandi keys are sent verbatim; no length check).
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for sending. Never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the key is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replaces every occurrence of the key in `text` with `[REDACTED]` (for messages that came
    /// from elsewhere, such as a server's fault string). Keys shorter than 4 characters are not
    /// searched for: they would match ordinary words.
    pub fn redact(&self, text: &str) -> String {
        if self.0.chars().count() < 4 || !text.contains(self.0.as_str()) {
            text.to_owned()
        } else {
            text.replace(self.0.as_str(), REDACTED)
        }
    }
}

/// What replaces the key (and passwords) in logs and messages.
pub const REDACTED: &str = "[REDACTED]";

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = std::convert::Infallible;

    /// Any text is a key (for command-line parsers).
    fn from_str(s: &str) -> Result<ApiKey, Self::Err> {
        Ok(ApiKey(s.to_owned()))
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> ApiKey {
        ApiKey(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> ApiKey {
        ApiKey(key.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let key = ApiKey::new("s3cr3t-key-value");
        let shown = format!("{key} {key:?} {:?}", Some(&key));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(key.expose(), "s3cr3t-key-value");
    }

    #[test]
    fn redacts_occurrences() {
        let key = ApiKey::new("s3cr3t-key-value");
        assert_eq!(key.redact("bad key s3cr3t-key-value!"), "bad key [REDACTED]!");
        assert_eq!(key.redact("nothing here"), "nothing here");
        assert_eq!(ApiKey::new("ab").redact("about abba"), "about abba");
    }
}
