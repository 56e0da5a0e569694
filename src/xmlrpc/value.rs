//! The XML-RPC value model: [`Value`], [`Struct`] and [`Fault`].

use std::fmt;

use super::datetime::DateTime;

/// One XML-RPC value.
///
/// Integers are held as `i64` whatever their wire tag (`<int>`, `<i4>`, `<i8>`); the encoder
/// picks `<int>` inside the i32 range and `<i8>` outside it.
///
/// Dropping, cloning, comparing, encoding and `Debug`-printing a deeply nested value never
/// recurse: they walk the tree with a heap stack (and `Debug` stops at 32 levels).
#[derive(Default)]
pub enum Value {
    /// `<int>`, `<i4>` or `<i8>`.
    Int(i64),
    /// `<boolean>` (`0` or `1` on the wire).
    Bool(bool),
    /// `<string>`, or a `<value>` without a type element.
    String(String),
    /// `<double>`; always finite when encoded.
    Double(f64),
    /// `<dateTime.iso8601>`.
    DateTime(DateTime),
    /// `<base64>`.
    Base64(Vec<u8>),
    /// `<array>`.
    Array(Vec<Value>),
    /// `<struct>`, member order kept.
    Struct(Struct),
    /// `<nil/>` (the common extension).
    #[default]
    Nil,
}

impl Value {
    /// The XML-RPC name of this value's type, as used in error messages and
    /// `system.methodSignature` (`int`, `boolean`, `string`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Array(_) => "array",
            Value::Struct(_) => "struct",
            Value::Nil => "nil",
        }
    }

    /// The integer, if this is an `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, if this is a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string slice, if this is a `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The double, if this is a `Double`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// The date, if this is a `DateTime`.
    pub fn as_datetime(&self) -> Option<&DateTime> {
        match self {
            Value::DateTime(d) => Some(d),
            _ => None,
        }
    }

    /// The bytes, if this is `Base64`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Base64(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is an `Array`.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The struct, if this is a `Struct`.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Takes the string out of a `String` value, or gives the value back.
    ///
    /// `Value` implements [`Drop`], so owned values cannot be destructured by move; these
    /// `into_*` helpers do it without copying.
    pub fn into_string(mut self) -> Result<String, Value> {
        match &mut self {
            Value::String(s) => Ok(std::mem::take(s)),
            _ => Err(self),
        }
    }

    /// Takes the elements out of an `Array` value, or gives the value back.
    pub fn into_array(mut self) -> Result<Vec<Value>, Value> {
        match &mut self {
            Value::Array(a) => Ok(std::mem::take(a)),
            _ => Err(self),
        }
    }

    /// Takes the struct out of a `Struct` value, or gives the value back.
    pub fn into_struct(mut self) -> Result<Struct, Value> {
        match &mut self {
            Value::Struct(s) => Ok(std::mem::take(s)),
            _ => Err(self),
        }
    }

    /// Takes the bytes out of a `Base64` value, or gives the value back.
    pub fn into_bytes(mut self) -> Result<Vec<u8>, Value> {
        match &mut self {
            Value::Base64(b) => Ok(std::mem::take(b)),
            _ => Err(self),
        }
    }

    /// Replaces this value with `Nil` and returns what it held.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }

    /// Whether this is `Nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Member `name` of a struct value; `None` for other types or a missing member.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_struct().and_then(|s| s.get(name))
    }

    /// The nesting depth of arrays and structs (a scalar is 0), computed without recursion.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack: Vec<(&Value, usize)> = vec![(self, 0)];
        while let Some((v, d)) = stack.pop() {
            match v {
                Value::Array(a) => {
                    max = max.max(d + 1);
                    stack.extend(a.iter().map(|c| (c, d + 1)));
                }
                Value::Struct(s) => {
                    max = max.max(d + 1);
                    stack.extend(s.iter().map(|(_, c)| (c, d + 1)));
                }
                _ => {}
            }
        }
        max
    }
}

impl PartialEq for Value {
    /// Structural equality; structs compare without regard to member order, doubles by value
    /// (so `NaN != NaN`). Deep values are compared with an explicit stack.
    fn eq(&self, other: &Self) -> bool {
        let mut stack: Vec<(&Value, &Value)> = vec![(self, other)];
        while let Some((a, b)) = stack.pop() {
            match (a, b) {
                (Value::Int(x), Value::Int(y)) if x == y => {}
                (Value::Bool(x), Value::Bool(y)) if x == y => {}
                (Value::String(x), Value::String(y)) if x == y => {}
                (Value::Double(x), Value::Double(y)) if x == y => {}
                (Value::DateTime(x), Value::DateTime(y)) if x == y => {}
                (Value::Base64(x), Value::Base64(y)) if x == y => {}
                (Value::Nil, Value::Nil) => {}
                (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                    stack.extend(x.iter().zip(y.iter()));
                }
                (Value::Struct(x), Value::Struct(y)) if x.len() == y.len() => {
                    for (k, v) in x.iter() {
                        match y.get(k) {
                            Some(w) => stack.push((v, w)),
                            None => return false,
                        }
                    }
                }
                _ => return false,
            }
        }
        true
    }
}

impl Clone for Value {
    /// A deep copy, built with an explicit stack so that any depth clones in constant stack space.
    fn clone(&self) -> Self {
        if let Some(v) = clone_scalar(self) {
            return v;
        }
        let mut stack = vec![CloneFrame::new(self, None)];
        loop {
            let top = stack.last_mut().expect("the stack holds the root until it returns");
            let next = match &mut top.src {
                CloneSrc::Array(it) => it.next().map(|v| (None, v)),
                CloneSrc::Struct(it) => it.next().map(|(k, v)| (Some(k), v)),
            };
            match next {
                Some((key, child)) => match clone_scalar(child) {
                    Some(c) => top.push(key.cloned(), c),
                    None => stack.push(CloneFrame::new(child, key.cloned())),
                },
                None => {
                    let done = stack.pop().expect("non-empty");
                    let key = done.key.clone();
                    let v = done.finish();
                    match stack.last_mut() {
                        Some(parent) => parent.push(key, v),
                        None => return v,
                    }
                }
            }
        }
    }
}

/// A copy of a scalar; `None` for arrays and structs.
fn clone_scalar(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Int(i) => Value::Int(*i),
        Value::Bool(b) => Value::Bool(*b),
        Value::String(s) => Value::String(s.clone()),
        Value::Double(d) => Value::Double(*d),
        Value::DateTime(d) => Value::DateTime(*d),
        Value::Base64(b) => Value::Base64(b.clone()),
        Value::Nil => Value::Nil,
        Value::Array(_) | Value::Struct(_) => return None,
    })
}

enum CloneSrc<'a> {
    Array(std::slice::Iter<'a, Value>),
    Struct(std::slice::Iter<'a, (String, Value)>),
}

/// An array or struct being copied: its remaining source children, the copies made so far and
/// its own member name in the parent struct (if the parent is a struct).
struct CloneFrame<'a> {
    src: CloneSrc<'a>,
    items: Vec<Value>,
    members: Vec<(String, Value)>,
    key: Option<String>,
}

impl<'a> CloneFrame<'a> {
    fn new(v: &'a Value, key: Option<String>) -> Self {
        match v {
            Value::Struct(s) => CloneFrame {
                src: CloneSrc::Struct(s.0.iter()),
                items: Vec::new(),
                members: Vec::with_capacity(s.0.len()),
                key,
            },
            Value::Array(a) => CloneFrame {
                src: CloneSrc::Array(a.iter()),
                items: Vec::with_capacity(a.len()),
                members: Vec::new(),
                key,
            },
            _ => CloneFrame { src: CloneSrc::Array([].iter()), items: Vec::new(), members: Vec::new(), key },
        }
    }

    fn push(&mut self, key: Option<String>, v: Value) {
        match key {
            Some(k) => self.members.push((k, v)),
            None => self.items.push(v),
        }
    }

    fn finish(self) -> Value {
        match self.src {
            CloneSrc::Array(_) => Value::Array(self.items),
            CloneSrc::Struct(_) => Value::Struct(Struct(self.members)),
        }
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        // Only compound values can recurse; move their children onto a heap stack so that
        // a 100,000-deep tree drops in constant stack space.
        let mut stack: Vec<Value> = match self {
            Value::Array(a) if a.iter().any(is_compound) => std::mem::take(a),
            Value::Struct(s) if s.0.iter().any(|(_, v)| is_compound(v)) => {
                std::mem::take(&mut s.0).into_iter().map(|(_, v)| v).collect()
            }
            _ => return,
        };
        // Scalar children are dropped where they are; only compound ones go on the stack.
        while let Some(mut v) = stack.pop() {
            match &mut v {
                Value::Array(a) => stack.extend(std::mem::take(a).into_iter().filter(is_compound)),
                Value::Struct(s) => {
                    stack.extend(std::mem::take(&mut s.0).into_iter().map(|(_, v)| v).filter(is_compound));
                }
                _ => {}
            }
        }
    }
}

fn is_compound(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Struct(_))
}

impl fmt::Debug for Value {
    /// Debug output is bounded: past 32 levels of nesting it prints `…`, so printing a hostile
    /// tree cannot overflow the stack.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_value(self, f, 0)
    }
}

const DEBUG_DEPTH: usize = 32;

fn debug_value(v: &Value, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
    struct D<'a>(&'a Value, usize);
    impl fmt::Debug for D<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            debug_value(self.0, f, self.1)
        }
    }
    match v {
        Value::Int(i) => write!(f, "Int({i})"),
        Value::Bool(b) => write!(f, "Bool({b})"),
        Value::String(s) => write!(f, "String({s:?})"),
        Value::Double(d) => write!(f, "Double({d:?})"),
        Value::DateTime(d) => write!(f, "DateTime({d})"),
        Value::Base64(b) => write!(f, "Base64({} bytes)", b.len()),
        Value::Nil => write!(f, "Nil"),
        Value::Array(_) | Value::Struct(_) if depth >= DEBUG_DEPTH => write!(f, "…"),
        Value::Array(a) => f.debug_list().entries(a.iter().map(|c| D(c, depth + 1))).finish(),
        Value::Struct(s) => f.debug_map().entries(s.iter().map(|(k, c)| (k, D(c, depth + 1)))).finish(),
    }
}

macro_rules! from_impl {
    ($($t:ty => $variant:ident via $conv:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant($conv(v))
            }
        })*
    };
}

from_impl! {
    i32 => Int via i64::from,
    i64 => Int via std::convert::identity,
    u32 => Int via i64::from,
    bool => Bool via std::convert::identity,
    f64 => Double via std::convert::identity,
    String => String via std::convert::identity,
    &str => String via str::to_owned,
    DateTime => DateTime via std::convert::identity,
    Vec<Value> => Array via std::convert::identity,
    Struct => Struct via std::convert::identity,
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

/// An XML-RPC `<struct>`: named members in the order they were written.
///
/// Lookups are linear, which is fastest for the small records XML-RPC APIs return.
/// [`Struct::insert`] replaces an existing member of the same name (last one wins), which is
/// also how the decoder treats duplicate member names.
#[derive(Clone, Default, PartialEq)]
pub struct Struct(pub(crate) Vec<(String, Value)>);

impl Struct {
    /// An empty struct.
    pub fn new() -> Self {
        Struct(Vec::new())
    }

    /// An empty struct with room for `n` members.
    pub fn with_capacity(n: usize) -> Self {
        Struct(Vec::with_capacity(n))
    }

    /// Sets member `name`, replacing an existing one in place. Returns `self` for chaining.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets member `name`, replacing an existing one in place; returns the old value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((name, value));
                None
            }
        }
    }

    #[cfg(feature = "sandbox")]
    /// Appends member `name` without looking for an existing one: for code that builds a struct
    /// from names it knows are distinct (faster than [`Struct::insert`] for large replies).
    pub(crate) fn push_distinct(&mut self, name: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        let name = name.into();
        debug_assert!(self.get(&name).is_none(), "duplicate struct member {name:?}");
        self.0.push((name, value.into()));
        self
    }

    /// Member `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A mutable reference to member `name`, if present.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Removes member `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }

    /// Whether member `name` is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The members in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The member names in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Consumes the struct, yielding its members in order.
    pub fn into_members(self) -> Vec<(String, Value)> {
        self.0
    }

    /// Removes duplicate member names, keeping the last value at the first position.
    pub(crate) fn dedup_last_wins(&mut self) {
        let n = self.0.len();
        if n < 2 {
            return;
        }
        let has_dup = if n <= 16 {
            (1..n).any(|i| self.0[..i].iter().any(|(k, _)| *k == self.0[i].0))
        } else {
            let mut seen = std::collections::HashSet::with_capacity(n);
            !self.0.iter().all(|(k, _)| seen.insert(k.as_str()))
        };
        if !has_dup {
            return;
        }
        let members = std::mem::take(&mut self.0);
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (k, v) in members {
            match index.get(&k) {
                Some(&i) => self.0[i].1 = v,
                None => {
                    index.insert(k.clone(), self.0.len());
                    self.0.push((k, v));
                }
            }
        }
    }
}

impl fmt::Debug for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(k, v)| (k, v))).finish()
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Struct {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut s = Struct::new();
        for (k, v) in iter {
            s.insert(k, v);
        }
        s
    }
}

impl IntoIterator for Struct {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(mut self) -> Self::IntoIter {
        std::mem::take(&mut self.0).into_iter()
    }
}

/// An XML-RPC fault: the `faultCode` and `faultString` a server answers with instead of a result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// `faultCode`.
    pub code: i64,
    /// `faultString`.
    pub message: String,
}

impl Fault {
    /// A fault with this code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Fault { code, message: message.into() }
    }

    /// The fault as the `{faultCode, faultString}` struct that goes on the wire.
    pub fn to_value(&self) -> Value {
        Value::Struct(
            Struct::with_capacity(2).with("faultCode", self.code).with("faultString", self.message.as_str()),
        )
    }

    /// Reads a fault struct. Extra members are ignored and a numeric-string `faultCode` is accepted.
    pub fn from_value(v: &Value) -> Option<Fault> {
        let s = v.as_struct()?;
        let code = match s.get("faultCode")? {
            Value::Int(i) => *i,
            Value::String(t) => t.trim().parse().ok()?,
            _ => return None,
        };
        let message = match s.get("faultString")? {
            Value::String(t) => t.clone(),
            other => format!("{other:?}"),
        };
        Some(Fault { code, message })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault {}: {}", self.code, self.message)
    }
}

impl std::error::Error for Fault {}

/// Standard fault codes from the widely used interoperability proposal (also in Python's `xmlrpc.client`).
pub mod fault_code {
    /// The request was not well-formed XML.
    pub const PARSE_ERROR: i64 = -32700;
    /// The request's encoding is not supported.
    pub const UNSUPPORTED_ENCODING: i64 = -32701;
    /// The request was XML but not a valid XML-RPC call.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The parameters did not fit the method.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The server failed internally.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// An application-level error.
    pub const APPLICATION_ERROR: i64 = -32500;
}
