//! [`SerdeError`]: why a value could not be converted, and where in the value it happened.

use std::fmt;

/// Why a conversion between [`Value`](crate::xmlrpc::Value) and a Rust type failed.
///
/// Every variant carries the path of the offending value inside the converted one, for example
/// `[3].date_end` (element 3 of an array, member `date_end`); the path is empty for the value
/// itself. [`Display`](fmt::Display) puts the path first: `[3].date_end: expected dateTime, found string`.
///
/// Messages name types and quote member names and enum variant names, but never the contents of
/// other strings, so a secret held in a string value cannot leak through an error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SerdeError {
    /// The value has another XML-RPC type than the Rust type needs.
    #[error("{}expected {expected}, found {found}", at(.path))]
    Mismatch {
        /// Where the value sits.
        path: String,
        /// What the Rust type needed (`int`, `dateTime`, `struct Paas`, …).
        expected: String,
        /// What the value was (`string`, `nil`, `int 7`, …).
        found: String,
    },
    /// An integer that does not fit the target type (or a `u64` too large for XML-RPC's `i64`).
    #[error("{}integer {value} is out of range for {target}", at(.path))]
    OutOfRange {
        /// Where the value sits.
        path: String,
        /// The integer, in decimal.
        value: String,
        /// The type it had to fit (`u16`, `i64 (XML-RPC int)`, …).
        target: &'static str,
    },
    /// Anything else: a missing field, an unknown enum variant, a struct member name that is not
    /// a string, a message from a hand-written `Serialize`/`Deserialize` impl.
    #[error("{}{message}", at(.path))]
    Custom {
        /// Where the value sits.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// `"path: "`, or nothing at the root.
fn at(path: &str) -> String {
    let p = path.strip_prefix('.').unwrap_or(path);
    if p.is_empty() { String::new() } else { format!("{p}: ") }
}

impl SerdeError {
    /// The path of the offending value (`[3].date_end`); empty for the converted value itself.
    pub fn path(&self) -> &str {
        let p = match self {
            SerdeError::Mismatch { path, .. }
            | SerdeError::OutOfRange { path, .. }
            | SerdeError::Custom { path, .. } => path,
        };
        p.strip_prefix('.').unwrap_or(p)
    }

    fn path_mut(&mut self) -> &mut String {
        match self {
            SerdeError::Mismatch { path, .. }
            | SerdeError::OutOfRange { path, .. }
            | SerdeError::Custom { path, .. } => path,
        }
    }

    /// Prepends array index `i` to the path (errors travel outwards, so paths grow at the front).
    pub(super) fn in_index(mut self, i: usize) -> Self {
        self.path_mut().insert_str(0, &format!("[{i}]"));
        self
    }

    /// Prepends struct member `name` to the path: `.name`, or `["odd name"]` when the name is not
    /// a plain identifier.
    pub(super) fn in_member(mut self, name: &str) -> Self {
        let plain =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        let seg = if plain { format!(".{name}") } else { format!("[{name:?}]") };
        self.path_mut().insert_str(0, &seg);
        self
    }

    pub(super) fn mismatch(expected: impl Into<String>, found: impl Into<String>) -> Self {
        SerdeError::Mismatch { path: String::new(), expected: expected.into(), found: found.into() }
    }

    pub(super) fn out_of_range(value: impl fmt::Display, target: &'static str) -> Self {
        SerdeError::OutOfRange { path: String::new(), value: value.to_string(), target }
    }

    pub(super) fn custom(message: impl Into<String>) -> Self {
        SerdeError::Custom { path: String::new(), message: message.into() }
    }
}

impl ::serde::ser::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerdeError::custom(msg.to_string())
    }
}

impl ::serde::de::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerdeError::custom(msg.to_string())
    }

    fn invalid_type(unexp: ::serde::de::Unexpected<'_>, exp: &dyn ::serde::de::Expected) -> Self {
        SerdeError::mismatch(exp.to_string(), describe(&unexp))
    }

    fn invalid_value(unexp: ::serde::de::Unexpected<'_>, exp: &dyn ::serde::de::Expected) -> Self {
        SerdeError::custom(format!("invalid value {}, expected {exp}", describe(&unexp)))
    }
}

/// Describes an unexpected value by type only (plus numbers), never by string content.
fn describe(u: &::serde::de::Unexpected<'_>) -> String {
    use ::serde::de::Unexpected as U;
    match u {
        U::Bool(b) => format!("boolean {b}"),
        U::Unsigned(n) => format!("int {n}"),
        U::Signed(n) => format!("int {n}"),
        U::Float(f) => format!("double {f}"),
        U::Char(_) | U::Str(_) => "string".into(),
        U::Bytes(_) => "base64".into(),
        U::Unit | U::Option => "nil".into(),
        U::NewtypeStruct => "newtype struct".into(),
        U::Seq => "array".into(),
        U::Map => "struct".into(),
        U::Enum => "enum".into(),
        U::UnitVariant => "unit variant".into(),
        U::NewtypeVariant => "newtype variant".into(),
        U::TupleVariant => "tuple variant".into(),
        U::StructVariant => "struct variant".into(),
        U::Other(o) => (*o).to_owned(),
    }
}
