//! Conversion between XML-RPC [`Value`]s and Rhai [`Dynamic`]s.
//!
//! | XML-RPC | script |
//! |---|---|
//! | struct | object map, keyed by the API's field names |
//! | array | array |
//! | dateTime | `date` ([`Date`], read in the runtime's zone) |
//! | base64 | blob |
//! | nil | `()` |
//! | int / i4 / i8 | `i64` |
//! | double | `f64` |
//! | boolean, string | bool, string |
//!
//! Back to the API, the same table is read right to left; a `char` becomes a one-character
//! string. Anything else (a duration, a function pointer, a host type) is refused with the path of
//! the offending item (`args.vhosts[2]`). Both directions refuse values nested deeper than
//! [`MAX_DEPTH`] instead of overflowing the stack.

use rhai::{Array, Blob, Dynamic, ImmutableString, Map};

use super::date::{Date, Span};
use crate::calendar::Zone;
use crate::xmlrpc::{Struct, Value};

/// The deepest nesting converted in either direction.
pub const MAX_DEPTH: usize = 128;

/// A value that cannot be sent to (or read from) the API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConvertError {
    /// Where in the value: `args`, `args.vhosts[2]`, …
    pub path: String,
    /// What was wrong.
    pub reason: String,
}

/// Converts an API value into a script value. Dates are read in `zone`.
pub fn to_dynamic(value: Value, zone: &Zone) -> Result<Dynamic, ConvertError> {
    to_dynamic_at(value, zone, 0, &mut || "value".to_string())
}

fn to_dynamic_at(
    mut value: Value,
    zone: &Zone,
    depth: usize,
    path: &mut dyn FnMut() -> String,
) -> Result<Dynamic, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError { path: path(), reason: format!("nested deeper than {MAX_DEPTH} levels") });
    }
    Ok(match &mut value {
        Value::Int(i) => Dynamic::from_int(*i),
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Double(f) => Dynamic::from_float(*f),
        Value::String(s) => Dynamic::from(ImmutableString::from(std::mem::take(s))),
        Value::Nil => Dynamic::UNIT,
        Value::DateTime(dt) => {
            let d = Date::from_datetime(dt, zone)
                .map_err(|e| ConvertError { path: path(), reason: e.to_string() })?;
            Dynamic::from(d)
        }
        Value::Base64(bytes) => Dynamic::from_blob(std::mem::take(bytes)),
        Value::Array(items) => {
            let mut out = Array::with_capacity(items.len());
            for (i, item) in std::mem::take(items).into_iter().enumerate() {
                out.push(to_dynamic_at(item, zone, depth + 1, &mut || format!("{}[{i}]", path()))?);
            }
            Dynamic::from_array(out)
        }
        Value::Struct(members) => {
            let mut out = Map::new();
            for (k, v) in std::mem::take(members).into_members() {
                let d = to_dynamic_at(v, zone, depth + 1, &mut || format!("{}.{k}", path()))?;
                out.insert(k.into(), d);
            }
            Dynamic::from_map(out)
        }
    })
}

/// Converts a script value into an API value; `name` starts the path in errors (`args`).
pub fn to_value(value: &Dynamic, name: &str) -> Result<Value, ConvertError> {
    to_value_at(value, 0, &mut || name.to_string())
}

fn to_value_at(
    value: &Dynamic,
    depth: usize,
    path: &mut dyn FnMut() -> String,
) -> Result<Value, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError { path: path(), reason: format!("nested deeper than {MAX_DEPTH} levels") });
    }
    if value.is_unit() {
        return Ok(Value::Nil);
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::Int(i));
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(f) = value.as_float() {
        return Ok(Value::Double(f));
    }
    if let Ok(c) = value.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return Ok(Value::String(s.to_string()));
    }
    if let Some(d) = value.read_lock::<Date>() {
        return Ok(Value::DateTime(d.to_datetime()));
    }
    if let Some(b) = value.read_lock::<Blob>() {
        return Ok(Value::Base64(b.clone()));
    }
    if let Some(items) = value.read_lock::<Array>() {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(to_value_at(item, depth + 1, &mut || format!("{}[{i}]", path()))?);
        }
        return Ok(Value::Array(out));
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut out = Struct::with_capacity(map.len());
        for (k, v) in map.iter() {
            out.insert(k.as_str(), to_value_at(v, depth + 1, &mut || format!("{}.{k}", path()))?);
        }
        return Ok(Value::Struct(out));
    }
    let reason = if value.is::<Span>() {
        "a duration cannot be sent to the API; send a string such as \"12m\" or a date".to_string()
    } else {
        format!("a {} cannot be sent to the API", value.type_name())
    };
    Err(ConvertError { path: path(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlrpc::DateTime;

    #[test]
    fn api_values_round_trip_through_script_values() {
        let dt = DateTime::parse("20111014T14:36:30").unwrap();
        let v = Value::Struct(
            Struct::new()
                .with("id", 1)
                .with("name", "Mon PaaS")
                .with("need_upgrade", true)
                .with("size", 10.5)
                .with("date_end", dt)
                .with("autorenew", Value::Nil)
                .with("blob", Value::Base64(vec![0, 1, 255]))
                .with("servers", Value::Array(vec![Value::Struct(Struct::new().with("id", 7))])),
        );
        let d = to_dynamic(v.clone(), &Zone::EUROPE_PARIS).unwrap();
        let map = d.read_lock::<Map>().unwrap().clone();
        assert_eq!(map["id"].as_int().unwrap(), 1);
        assert!(map["autorenew"].is_unit());
        assert_eq!(map["date_end"].clone_cast::<Date>().to_string(), "2011-10-14T14:36:30");
        assert_eq!(map["blob"].clone_cast::<Blob>(), vec![0, 1, 255]);
        let back = to_value(&d, "args").unwrap();
        // Struct member order follows the map's (sorted) order; compare member by member.
        for (k, want) in v.as_struct().unwrap().iter() {
            assert_eq!(back.get(k), Some(want), "{k}");
        }
    }

    #[test]
    fn refuses_what_the_api_cannot_carry_with_a_path() {
        let mut m = Map::new();
        m.insert(
            "vhosts".into(),
            Dynamic::from_array(vec![Dynamic::from("a"), Dynamic::from(Span::months(1))]),
        );
        let e = to_value(&Dynamic::from_map(m), "args").unwrap_err();
        assert_eq!(e.path, "args.vhosts[1]");
        assert!(e.reason.contains("duration"), "{e}");
    }

    #[test]
    fn deep_values_are_refused_not_overflowed() {
        let mut d = Dynamic::from_array(vec![]);
        for _ in 0..(MAX_DEPTH + 5) {
            d = Dynamic::from_array(vec![d]);
        }
        let e = to_value(&d, "args").unwrap_err();
        assert!(e.reason.contains("deeper than 128"), "{e}");
        let mut v = Value::Array(vec![]);
        for _ in 0..(MAX_DEPTH + 5) {
            v = Value::Array(vec![v]);
        }
        assert!(to_dynamic(v, &Zone::UTC).unwrap_err().reason.contains("deeper"));
    }
}
