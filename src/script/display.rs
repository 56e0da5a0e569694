//! Text forms of script values that know the runtime's own types.
//!
//! On the Rust side, `Dynamic`'s `Display` shows a custom type nested in a map or an array by its
//! Rust type name. These functions print dates and durations as themselves
//! (`2027-01-31T00:00:00`, `P30D`) at any depth, for hosts that show a script's result. (Inside
//! scripts, `print` already shows nested dates through their `to_debug`: `date("…")`.)

use std::fmt::Write as _;

use rhai::{Array, Blob, Dynamic, ImmutableString, Map};

use super::date::{Date, Span};

/// Deeper levels print as `…`.
const MAX_DEPTH: usize = 64;

/// The value as `print` shows it: strings bare at the top level, quoted inside containers.
pub fn to_display(v: &Dynamic) -> String {
    let mut out = String::new();
    write(&mut out, v, false, true, 0);
    out
}

/// The value as `debug` shows it: strings quoted, dates as `date("…")`.
pub fn to_debug(v: &Dynamic) -> String {
    let mut out = String::new();
    write(&mut out, v, true, true, 0);
    out
}

fn key(out: &mut String, k: &str) {
    let plain = !k.is_empty()
        && k.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        out.push_str(k);
    } else {
        let _ = write!(out, "{k:?}");
    }
}

fn write(out: &mut String, v: &Dynamic, debug: bool, top: bool, depth: usize) {
    if depth > MAX_DEPTH {
        out.push('…');
        return;
    }
    if let Some(d) = v.read_lock::<Date>() {
        let _ = if debug { write!(out, "{:?}", *d) } else { write!(out, "{}", *d) };
    } else if let Some(s) = v.read_lock::<Span>() {
        let _ = if debug { write!(out, "{:?}", *s) } else { write!(out, "{}", *s) };
    } else if let Some(s) = v.read_lock::<ImmutableString>() {
        let _ = if debug || !top { write!(out, "{:?}", s.as_str()) } else { write!(out, "{}", s.as_str()) };
    } else if let Some(a) = v.read_lock::<Array>() {
        out.push('[');
        for (i, item) in a.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write(out, item, debug, false, depth + 1);
        }
        out.push(']');
    } else if let Some(m) = v.read_lock::<Map>() {
        out.push_str("#{");
        for (i, (k, item)) in m.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            key(out, k);
            out.push_str(": ");
            write(out, item, debug, false, depth + 1);
        }
        out.push('}');
    } else if let Some(b) = v.read_lock::<Blob>() {
        let _ = write!(out, "blob({} bytes)", b.len());
    } else if v.is_unit() {
        out.push_str("()");
    } else {
        let _ = if debug { write!(out, "{v:?}") } else { write!(out, "{v}") };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::zone::Zone;

    #[test]
    fn nested_dates_and_durations_print_as_themselves() {
        let mut m = Map::new();
        m.insert("date_end".into(), Dynamic::from(Date::parse("2027-01-31", Zone::Utc).unwrap()));
        m.insert("name".into(), "Mon PaaS".into());
        m.insert(
            "left".into(),
            Dynamic::from_array(vec![Dynamic::from(Span::months(1)), Dynamic::UNIT, 3.into()]),
        );
        m.insert("odd key".into(), true.into());
        let v = Dynamic::from_map(m);
        assert_eq!(
            to_display(&v),
            r#"#{date_end: 2027-01-31T00:00:00, left: [P1M, (), 3], name: "Mon PaaS", "odd key": true}"#
        );
        assert_eq!(
            to_debug(&v),
            r#"#{date_end: date("2027-01-31T00:00:00"), left: [duration(P1M), (), 3], name: "Mon PaaS", "odd key": true}"#
        );
        assert_eq!(to_display(&Dynamic::from("plain")), "plain");
    }
}
