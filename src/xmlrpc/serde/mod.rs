//! Serde support: typed Rust values to and from [`Value`].
//!
//! The module is private (its name would clash with the `serde` crate in glob imports); its
//! functions and error are re-exported from [`crate::xmlrpc`], and the mapping is documented on
//! [`to_value`] and [`from_value`].

mod de;
mod error;
mod impls;
mod ser;

use ::serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use error::SerdeError;

use crate::xmlrpc::value::Value;

/// Converts `value` into a [`Value`].
///
/// ```
/// use gandish::xmlrpc::{from_value, to_value, DateTime, Value};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct Instance {
///     id: u32,
///     name: String,
///     date_end: Option<DateTime>,
/// }
///
/// let inst = Instance { id: 7, name: "web".into(), date_end: Some("20121014T14:36:30".parse().unwrap()) };
/// let value = to_value(&inst).unwrap();
/// assert!(matches!(value.get("date_end"), Some(Value::DateTime(_))));
/// assert_eq!(from_value::<Instance>(value).unwrap(), inst);
/// ```
///
/// # Mapping
///
/// | Rust (serde data model) | [`Value`] |
/// |---|---|
/// | `bool` | `Bool` |
/// | all integers | `Int`; a value outside the `i64` range is an error |
/// | `f32`, `f64` | `Double` |
/// | `char`, `str`, `String` | `String` |
/// | bytes (`serialize_bytes`, e.g. `serde_bytes`) | `Base64` |
/// | [`DateTime`](crate::xmlrpc::DateTime) | `DateTime` (zone offset kept) |
/// | `None`, `()`, unit structs | `Nil` |
/// | `Some(x)`, newtype structs | `x` |
/// | sequences, tuples, tuple structs | `Array` |
/// | structs; maps whose keys are strings (or integers, written in decimal) | `Struct`, field order kept |
/// | unit variant `E::A` | `String("A")` |
/// | newtype, tuple and struct variants `E::B(x)` | the one-member struct `{"B": x}` |
/// | [`Value`], [`Struct`](crate::xmlrpc::Struct) | themselves |
///
/// A struct field holding `None` is written as a `Nil` member; add
/// `#[serde(skip_serializing_if = "Option::is_none")]` to leave it out instead.
///
/// # Other formats
///
/// `DateTime`, `Value` and `Struct` also implement `Serialize`/`Deserialize` for other formats: a
/// `DateTime` is the string `YYYYMMDDTHH:MM:SS` in JSON (a recorded zone offset is not written),
/// `Nil` is `null`, `Base64` is an array of byte values.
///
/// # Errors
///
/// Fails on an integer outside the `i64` range, a map key that is not a string or an integer, or
/// an error raised by the type's own `Serialize` impl; the error names where.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, SerdeError> {
    value.serialize(ser::ValueSerializer)
}

/// Converts `value` into a `T`, moving its strings and byte buffers rather than copying them.
///
/// The mapping is the one [`to_value`] documents. Reading back is a little more lenient:
/// - `Nil` and a missing member both read as `None` for an `Option` field;
/// - an `Int` is range-checked against the target integer type, and also reads as `f64`/`f32`;
/// - a `DateTime` also reads as a `String` (its `YYYYMMDDTHH:MM:SS` text), and a `String` reads as a
///   `DateTime` if [`DateTime::parse`](crate::xmlrpc::DateTime::parse) accepts it;
/// - `Base64` reads as `Vec<u8>` as well as through `serde_bytes`;
/// - a map key type that is an integer parses the member name (`"2000"` → `2000`);
/// - unknown struct members are ignored unless the type says `#[serde(deny_unknown_fields)]`.
///
/// Errors ([`SerdeError`]) name the path of the offending value and the types involved, for example
/// `[3].date_end: expected dateTime, found string` or `[0].port: integer 70000 is out of range for u16`.
///
/// # Depth
///
/// Conversion recurses once per level of nesting. Values produced by the decoder are at most
/// [`Limits::max_depth`](crate::xmlrpc::Limits::max_depth) levels deep (128 by default), so this
/// is bounded; a value built by hand thousands of levels deep could exhaust the stack. The same
/// holds for `Value`'s own `Serialize` impl.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, SerdeError> {
    T::deserialize(de::De(value))
}

/// Converts a borrowed `value` into a `T`, which may borrow strings and bytes from it
/// (`&str` and `&[u8]` fields); otherwise as [`from_value`], except that owned strings are copied.
pub fn from_value_ref<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, SerdeError> {
    T::deserialize(de::De(value))
}
