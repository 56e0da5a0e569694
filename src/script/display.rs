//! Text forms of script values that know the runtime's own types.
//!
//! On the Rust side, `Dynamic`'s `Display` shows a custom type nested in a map or an array by its
//! Rust type name. These functions print dates and durations as themselves
//! (`2027-01-31T00:00:00`, `P30D`) at any depth, for hosts that show a script's result. (Inside
//! scripts, `print` already shows nested dates through their `to_debug`: `date("…")`.)
//! [`to_json`] gives the JSON form.

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

/// The value as JSON, for `--json` output: maps become objects, arrays arrays, `()` null; dates
/// and durations become their ISO 8601 strings, blobs base64 strings. A float that JSON cannot
/// carry (NaN, infinities) becomes null. Deeper than 64 levels becomes null.
pub fn to_json(v: &Dynamic) -> serde_json::Value {
    to_json_with(v, &|d| d.to_string())
}

/// [`to_json`] with dates written by `date` (the CLI gives RFC 3339 with the zone's offset).
pub fn to_json_with(v: &Dynamic, date: &dyn Fn(&Date) -> String) -> serde_json::Value {
    to_json_at(v, date, 0)
}

fn to_json_at(v: &Dynamic, date: &dyn Fn(&Date) -> String, depth: usize) -> serde_json::Value {
    use serde_json::Value as J;
    if depth > MAX_DEPTH || v.is_unit() {
        return J::Null;
    }
    if let Ok(i) = v.as_int() {
        return J::from(i);
    }
    if let Ok(b) = v.as_bool() {
        return J::Bool(b);
    }
    if let Ok(f) = v.as_float() {
        return serde_json::Number::from_f64(f).map_or(J::Null, J::Number);
    }
    if let Ok(c) = v.as_char() {
        return J::String(c.to_string());
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return J::String(s.to_string());
    }
    if let Some(d) = v.read_lock::<Date>() {
        return J::String(date(&d));
    }
    if let Some(s) = v.read_lock::<Span>() {
        return J::String(s.to_string());
    }
    if let Some(b) = v.read_lock::<Blob>() {
        use base64::Engine as _;
        return J::String(base64::engine::general_purpose::STANDARD.encode(&*b));
    }
    if let Some(a) = v.read_lock::<Array>() {
        return J::Array(a.iter().map(|i| to_json_at(i, date, depth + 1)).collect());
    }
    if let Some(m) = v.read_lock::<Map>() {
        return J::Object(m.iter().map(|(k, i)| (k.to_string(), to_json_at(i, date, depth + 1))).collect());
    }
    J::String(to_display(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Zone;

    #[test]
    fn nested_dates_and_durations_print_as_themselves() {
        let mut m = Map::new();
        m.insert("date_end".into(), Dynamic::from(Date::parse("2027-01-31", &Zone::UTC).unwrap()));
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
        assert_eq!(
            to_json(&v).to_string(),
            r#"{"date_end":"2027-01-31T00:00:00","left":["P1M",null,3],"name":"Mon PaaS","odd key":true}"#
        );
        assert_eq!(to_json(&Dynamic::from_blob(vec![1, 2, 3])), serde_json::json!("AQID"));
        assert_eq!(to_json(&Dynamic::from_float(f64::NAN)), serde_json::Value::Null);
    }
}
