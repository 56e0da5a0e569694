//! Who may use a vhost name (reference §6). A vhost needs no proof when its zone is one the
//! account manages on Gandi DNS. Otherwise it needs the TXT record `<label>=<token>` at the
//! vhost's name or at its zone apex, where the apex is the last two labels, the label is the rest
//! (`@` for the apex itself), and the token is the one the dataset fixes for that name (the
//! seed's `vhost.test.fr`) or else the MD5 hex of `<account handle>:<fqdn>` — stable for a given
//! account and vhost.

use md5::{Digest, Md5};

use super::state::State;

/// The zone apex of `fqdn` (its last two labels).
pub fn apex(fqdn: &str) -> &str {
    let mut dots = fqdn.rmatch_indices('.');
    dots.next();
    match dots.next() {
        Some((i, _)) => &fqdn[i + 1..],
        None => fqdn,
    }
}

/// The TXT label of `fqdn`: the part before its apex, or `@`.
pub fn label(fqdn: &str) -> &str {
    let a = apex(fqdn);
    if a.len() == fqdn.len() { "@" } else { &fqdn[..fqdn.len() - a.len() - 1] }
}

/// The ownership token of `fqdn` for this account.
pub fn token(st: &State, fqdn: &str) -> String {
    if let Some(t) = st.tokens.get(fqdn) {
        return t.clone();
    }
    let digest = Md5::digest(format!("{}:{fqdn}", st.account.handle).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The TXT value `<label>=<token>` proving ownership of `fqdn`.
pub fn txt_value(st: &State, fqdn: &str) -> String {
    format!("{}={}", label(fqdn), token(st, fqdn))
}

/// Whether `fqdn` is under a zone the account manages on Gandi DNS.
pub fn managed(st: &State, fqdn: &str) -> bool {
    st.zones.iter().any(|z| fqdn == z || fqdn.strip_suffix(z.as_str()).is_some_and(|p| p.ends_with('.')))
}

/// `None` if the account may use `fqdn`, else the reason (names the missing record).
pub fn ownership_error(st: &State, fqdn: &str) -> Option<String> {
    if managed(st, fqdn) {
        return None;
    }
    let want = txt_value(st, fqdn);
    let found = [fqdn, apex(fqdn)].iter().any(|n| st.txt.get(*n).is_some_and(|vals| vals.contains(&want)));
    if found {
        None
    } else {
        Some(format!(
            "TXT record \"{want}\" not found at {fqdn} or {} (add: 10800 IN TXT \"{want}\")",
            apex(fqdn)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_apexes() {
        assert_eq!(apex("vhost.test.fr"), "test.fr");
        assert_eq!(label("vhost.test.fr"), "vhost");
        assert_eq!(apex("test.fr"), "test.fr");
        assert_eq!(label("test.fr"), "@");
        assert_eq!(label("a.b.example.com"), "a.b");
    }
}
