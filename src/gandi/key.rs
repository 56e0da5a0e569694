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

    /// `text` with the key replaced by `[REDACTED]` (for messages that came from elsewhere, such
    /// as a server's fault string), by the rule of [`redact_secret`].
    pub fn redact(&self, text: &str) -> String {
        redact_secret(text, &self.0).into_owned()
    }
}

/// The shortest key gandish sends to an endpoint that is not on this machine. Gandi's keys are
/// 24 characters; a shorter one is a typo or a test key, and a very short one would also be
/// found inside ordinary words of what gandish prints, so that redaction could only replace it
/// where it stands as a whole word.
pub const MIN_REMOTE_KEY_LEN: usize = 8;

/// Secrets at least this many characters long are replaced wherever they appear; shorter ones
/// only where they stand as a whole word (see [`redact_secret`]).
pub const WHOLE_WORD_BELOW: usize = 16;

/// `text` with every occurrence of `secret` replaced by `[REDACTED]`.
///
/// A secret of [`WHOLE_WORD_BELOW`] characters or more is replaced wherever it appears: met
/// inside a longer run of letters, it is still the secret. A shorter one is replaced only where
/// it is not glued to a letter, digit or `_` on a side where it itself begins or ends with one,
/// because a short secret also matches inside ordinary words: with the key `a`, `paas.info
/// failed` must stay as it is, while `invalid key a` becomes `invalid key [REDACTED]`. Empty
/// secrets change nothing.
///
/// ```
/// use gandish::gandi::redact_secret;
///
/// assert_eq!(redact_secret("paas.info failed: key a", "a"), "paas.info failed: key [REDACTED]");
/// assert_eq!(redact_secret("id=k3y;", "k3y"), "id=[REDACTED];");
/// let long = "0123456789abcdefghijklmn";
/// assert_eq!(redact_secret(&format!("x{long}y"), long), "x[REDACTED]y");
/// ```
pub fn redact_secret<'a>(text: &'a str, secret: &str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    if secret.is_empty() || !text.contains(secret) {
        return Cow::Borrowed(text);
    }
    if secret.chars().count() >= WHOLE_WORD_BELOW {
        return Cow::Owned(text.replace(secret, REDACTED));
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let guard_start = secret.chars().next().is_some_and(word);
    let guard_end = secret.chars().next_back().is_some_and(word);
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(found) = text[from..].find(secret) {
        let at = from + found;
        let end = at + secret.len();
        let glued_before = guard_start && text[..at].chars().next_back().is_some_and(word);
        let glued_after = guard_end && text[end..].chars().next().is_some_and(word);
        if glued_before || glued_after {
            // Try again one character on: a whole-word occurrence may overlap this one.
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        out.push_str(&text[copied..at]);
        out.push_str(REDACTED);
        copied = end;
        from = end;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
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
        assert_eq!(ApiKey::new("ab").redact("key ab."), "key [REDACTED].");
    }

    #[test]
    fn short_secrets_are_replaced_as_whole_words_only() {
        let text = "paas.info failed: Invalid API key a (key a unknown)";
        assert_eq!(
            redact_secret(text, "a"),
            "paas.info failed: Invalid API key [REDACTED] (key [REDACTED] unknown)"
        );
        assert_eq!(
            redact_secret("paas aas [aas] \"aas\" aas_x", "aas"),
            "paas [REDACTED] [[REDACTED]] \"[REDACTED]\" aas_x"
        );
        assert_eq!(redact_secret("environment nvironme", "nvironme"), "environment [REDACTED]");
        // An edge that is not a word character needs no boundary on that side.
        assert_eq!(redact_secret("xa-a-a", "a-a"), "xa-[REDACTED]");
        assert_eq!(redact_secret("k=-k1-x", "-k1-"), "k=[REDACTED]x");
        assert_eq!(redact_secret("été é", "é"), "été [REDACTED]");
        assert_eq!(redact_secret("nothing", ""), "nothing");
        assert!(matches!(redact_secret("paas", "a"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn long_secrets_are_replaced_everywhere() {
        let key = "my 24-character API key";
        assert_eq!(key.chars().count(), 23);
        assert_eq!(redact_secret(&format!("Invalid API key {key}!"), key), "Invalid API key [REDACTED]!");
        let k = "Z3kQ0a9wXr7Lm2Nb5Vc8Td1Y";
        assert_eq!(redact_secret(&format!("x{k}y {k}"), k), "x[REDACTED]y [REDACTED]");
    }
}
