//! The strict encoder: values, calls, responses and faults to XML-RPC bytes.
//!
//! What it writes (see `xml-rpc.md` §3, "Emit"):
//! - always `<?xml version="1.0"?>`, UTF-8, and `<params></params>` even when empty;
//! - `<int>` inside the i32 range, `<i8>` outside it; booleans as `0`/`1`;
//! - doubles in plain decimal, never an exponent; NaN and infinity are an error;
//! - strings always inside `<string>`, with `&` `<` `>` and CR escaped; characters XML cannot carry
//!   are an error naming where they are;
//! - `<nil/>`, dateTime as `YYYYMMDDTHH:MM:SS`, unwrapped standard base64;
//! - expanded empty elements, never CDATA.
//!
//! The encoder walks the value tree with an explicit stack, so depth never overflows the call stack.

use std::fmt::Write as _;

use base64::Engine as _;

use super::datetime::DateTime;
use super::value::{Fault, Value};

/// Why a value could not be encoded. Each variant names where the bad value sits
/// (for example `params[1].vhosts[0]`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// NaN or infinity, which XML-RPC's `<double>` cannot carry.
    #[error("{path}: the double {value} is not finite; XML-RPC doubles must be finite numbers")]
    NonFiniteDouble {
        /// Where the value sits.
        path: String,
        /// The value (`NaN`, `inf` or `-inf`).
        value: f64,
    },
    /// A character XML 1.0 cannot carry, even as a character reference.
    #[error(
        "{path}: character U+{code:04X} at char {index} cannot be carried by XML; send binary data as base64"
    )]
    IllegalChar {
        /// Where the string sits.
        path: String,
        /// The code point.
        code: u32,
        /// Its index, in characters, within the string.
        index: usize,
    },
    /// A method name outside `[A-Za-z0-9_.:/]{1,256}`.
    #[error("invalid method name {0:?}: use 1 to 256 of the characters A-Z a-z 0-9 _ . : /")]
    MethodName(String),
    /// A [`ValueWriter`] was driven out of order (a programming error in the code writing the
    /// value, not bad data): a struct member without [`ValueWriter::member`], an unbalanced
    /// `end_*`, a second value after a complete one, or an unfinished value.
    #[error("{path}: ValueWriter misuse: {problem}")]
    Misuse {
        /// Where the writer was.
        path: String,
        /// What went wrong.
        problem: &'static str,
    },
}

/// Whether `name` is a valid XML-RPC method name: 1–256 characters of `A-Z a-z 0-9 _ . : /`.
pub fn is_valid_method_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'/'))
}

/// Whether `c` is a character XML 1.0 allows in content.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

const DECL: &str = "<?xml version=\"1.0\"?>\n";

/// Encodes a `<methodCall>`.
pub fn encode_call(method: &str, params: &[Value]) -> Result<Vec<u8>, EncodeError> {
    if !is_valid_method_name(method) {
        return Err(EncodeError::MethodName(method.chars().take(300).collect()));
    }
    let mut out = String::with_capacity(128 + 64 * params.len());
    out.push_str(DECL);
    out.push_str("<methodCall>\n<methodName>");
    out.push_str(method);
    out.push_str("</methodName>\n<params>\n");
    for (i, p) in params.iter().enumerate() {
        out.push_str("<param>");
        write_value(&mut out, p, Path::Param(i))?;
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    Ok(out.into_bytes())
}

/// What comes before the result's `<value>` in a successful `<methodResponse>`.
const RESPONSE_HEAD: &str = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>";
/// What comes after it.
const RESPONSE_TAIL: &str = "</param>\n</params>\n</methodResponse>\n";

/// Encodes a successful `<methodResponse>` holding `value`.
pub fn encode_response(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = String::new();
    encode_response_into(&mut out, value)?;
    Ok(out.into_bytes())
}

/// Replaces the contents of `out` with a successful `<methodResponse>` holding `value`, reusing
/// its allocation (the server keeps one buffer per connection). On error `out` holds a partial
/// document.
pub(crate) fn encode_response_into(out: &mut String, value: &Value) -> Result<(), EncodeError> {
    begin_response_into(out);
    write_value(out, value, Path::Result)?;
    end_response_into(out);
    Ok(())
}

/// Replaces the contents of `out` with the start of a successful `<methodResponse>`, up to where
/// its `<value>` goes (write it with [`ValueWriter::for_result`], then call
/// [`end_response_into`]). Together they write exactly what [`encode_response_into`] writes.
pub(crate) fn begin_response_into(out: &mut String) {
    out.clear();
    out.reserve(128);
    out.push_str(RESPONSE_HEAD);
}

/// Ends a `<methodResponse>` started by [`begin_response_into`].
pub(crate) fn end_response_into(out: &mut String) {
    out.push_str(RESPONSE_TAIL);
}

/// Encodes a fault response. Never fails: characters XML cannot carry in the fault string are
/// replaced by U+FFFD.
pub fn encode_fault(fault: &Fault) -> Vec<u8> {
    let mut out = String::new();
    encode_fault_into(&mut out, fault);
    out.into_bytes()
}

/// Replaces the contents of `out` with a fault response (see [`encode_fault`]).
pub(crate) fn encode_fault_into(out: &mut String, fault: &Fault) {
    let message: String =
        fault.message.chars().map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' }).collect();
    let value = Fault { code: fault.code, message }.to_value();
    out.clear();
    out.reserve(256);
    out.push_str(DECL);
    out.push_str("<methodResponse>\n<fault>\n");
    write_value(out, &value, Path::Result).expect("a sanitized fault always encodes");
    out.push_str("\n</fault>\n</methodResponse>\n");
}

/// Encodes one `<value>` element (no declaration), e.g. for tests or logs.
pub fn encode_value(value: &Value) -> Result<String, EncodeError> {
    let mut out = String::new();
    write_value(&mut out, value, Path::Value)?;
    Ok(out)
}

/// Writes one `<value>` element piece by piece into a `String`, for code that produces a large
/// result straight from its own data instead of building a [`Value`] tree first (see
/// [`Handler::call_into`](super::server::Handler::call_into)).
///
/// The rules are the encoder's own, and so are the bytes: writing a value with a `ValueWriter`
/// gives exactly what [`encode_value`] gives for the equivalent [`Value`] (strings escaped, a
/// character XML cannot carry or a non-finite double is an error naming where it sits, e.g.
/// `value[3].name`).
///
/// Calls chain. The first error is kept and every later call does nothing, so a whole record
/// can be written and checked once with [`ValueWriter::finish`] (or [`ValueWriter::error`] on
/// the way). Driving the writer out of order (a struct member without [`ValueWriter::member`],
/// an `end_*` that does not match, a second value after the complete one) is an
/// [`EncodeError::Misuse`]; the writer never panics. After an error, what was appended to the
/// string is a partial document.
///
/// ```
/// use gandish::xmlrpc::encode::ValueWriter;
/// use gandish::xmlrpc::{Struct, Value, encode_value};
///
/// let mut out = String::new();
/// let mut w = ValueWriter::new(&mut out);
/// w.begin_struct().member("id").int(7);
/// w.member("tags").begin_array().string("a&b").string("c").end_array();
/// w.end_struct();
/// w.finish().unwrap();
///
/// let tags = vec![Value::from("a&b"), Value::from("c")];
/// let v = Value::Struct(Struct::new().with("id", 7).with("tags", tags));
/// assert_eq!(out, encode_value(&v).unwrap());
/// ```
pub struct ValueWriter<'a> {
    out: &'a mut String,
    root: Path,
    /// The open arrays and structs, innermost last.
    open: Vec<Open>,
    /// The names of the open members (one per struct whose member is being written), innermost
    /// last; kept only to name where an error is.
    names: String,
    /// Whether the root value has been written completely.
    complete: bool,
    error: Option<EncodeError>,
}

/// An array or struct a [`ValueWriter`] is inside.
#[derive(Clone, Copy)]
enum Open {
    /// `next` is the index of the array's next item.
    Array { next: usize },
    /// `name` is where the open member's name starts in [`ValueWriter::names`]; `None` between
    /// members.
    Struct { name: Option<usize> },
}

impl std::fmt::Debug for ValueWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueWriter")
            .field("at", &self.render())
            .field("complete", &self.complete)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<'a> ValueWriter<'a> {
    /// A writer appending one value to `out` (what is already there is kept). Errors name the
    /// value `value`, as [`encode_value`]'s do.
    pub fn new(out: &'a mut String) -> Self {
        Self::with_root(out, Path::Value)
    }

    #[cfg(feature = "server")]
    /// A writer for a response's result: errors name it `result`, as [`encode_response`]'s do.
    pub(crate) fn for_result(out: &'a mut String) -> Self {
        Self::with_root(out, Path::Result)
    }

    fn with_root(out: &'a mut String, root: Path) -> Self {
        ValueWriter { out, root, open: Vec::new(), names: String::new(), complete: false, error: None }
    }

    /// The first error so far, if any.
    pub fn error(&self) -> Option<&EncodeError> {
        self.error.as_ref()
    }

    /// Whether one whole value has been written (every array and struct closed) without error.
    pub fn is_complete(&self) -> bool {
        self.complete && self.error.is_none()
    }

    /// Ends writing: `Ok` if exactly one whole value was written without error; otherwise the
    /// first error, or [`EncodeError::Misuse`] for a value not written or left unfinished.
    pub fn finish(self) -> Result<(), EncodeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.complete {
            return Ok(());
        }
        let problem = if self.open.is_empty() {
            "no value was written"
        } else {
            "the value is unfinished: an array or struct is still open"
        };
        Err(EncodeError::Misuse { path: self.render(), problem })
    }

    /// An `<int>` (or `<i8>` outside the i32 range), as for [`Value::Int`].
    pub fn int(&mut self, n: i64) -> &mut Self {
        if self.start_value() {
            put_int(self.out, n);
            self.end_value();
        }
        self
    }

    /// A `<boolean>`.
    pub fn boolean(&mut self, b: bool) -> &mut Self {
        if self.start_value() {
            put_bool(self.out, b);
            self.end_value();
        }
        self
    }

    /// A `<string>`, escaped; a character XML cannot carry is an error naming where it is.
    pub fn string(&mut self, s: &str) -> &mut Self {
        if self.start_value() {
            match put_string(self.out, s) {
                Ok(()) => self.end_value(),
                Err((code, index)) => {
                    self.error = Some(EncodeError::IllegalChar { path: self.render(), code, index });
                }
            }
        }
        self
    }

    /// A `<double>` in plain decimal; NaN and infinity are an error.
    pub fn double(&mut self, d: f64) -> &mut Self {
        if self.start_value() {
            match put_double(self.out, d) {
                Ok(()) => self.end_value(),
                Err(()) => self.error = Some(EncodeError::NonFiniteDouble { path: self.render(), value: d }),
            }
        }
        self
    }

    /// A `<dateTime.iso8601>` (`YYYYMMDDTHH:MM:SS`).
    pub fn datetime(&mut self, dt: &DateTime) -> &mut Self {
        if self.start_value() {
            put_datetime(self.out, dt);
            self.end_value();
        }
        self
    }

    /// A `<base64>` (standard alphabet, unwrapped).
    pub fn base64(&mut self, bytes: &[u8]) -> &mut Self {
        if self.start_value() {
            put_base64(self.out, bytes);
            self.end_value();
        }
        self
    }

    /// A `<nil/>`.
    pub fn nil(&mut self) -> &mut Self {
        if self.start_value() {
            self.out.push_str("<value><nil/></value>");
            self.end_value();
        }
        self
    }

    /// A whole [`Value`], written as [`encode_value`] writes it (errors name where it sits
    /// within the writer's value).
    pub fn value(&mut self, v: &Value) -> &mut Self {
        if self.start_value() {
            match write_value(self.out, v, Path::Value) {
                Ok(()) => self.end_value(),
                Err(e) => self.error = Some(self.rebase(e)),
            }
        }
        self
    }

    /// A value encoded earlier, copied as it is.
    pub fn encoded(&mut self, v: &EncodedValue) -> &mut Self {
        if self.start_value() {
            self.out.push_str(&v.0);
            self.end_value();
        }
        self
    }

    /// Opens an `<array>`: its items follow, then [`ValueWriter::end_array`].
    pub fn begin_array(&mut self) -> &mut Self {
        if self.start_value() {
            self.out.push_str("<value><array><data>");
            self.open.push(Open::Array { next: 0 });
        }
        self
    }

    /// Closes the innermost array.
    pub fn end_array(&mut self) -> &mut Self {
        if self.error.is_some() {
            return self;
        }
        if !matches!(self.open.last(), Some(Open::Array { .. })) {
            return self.misuse("end_array() without an open array");
        }
        self.open.pop();
        self.out.push_str("</data></array></value>");
        self.end_value();
        self
    }

    /// Opens a `<struct>`: [`ValueWriter::member`] then a value for each member, then
    /// [`ValueWriter::end_struct`]. Members are written in the order given; the writer does not
    /// look for duplicate names.
    pub fn begin_struct(&mut self) -> &mut Self {
        if self.start_value() {
            self.out.push_str("<value><struct>");
            self.open.push(Open::Struct { name: None });
        }
        self
    }

    /// Starts a member of the innermost struct; its value is the next thing written. The name is
    /// escaped; a character XML cannot carry is an error.
    pub fn member(&mut self, name: &str) -> &mut Self {
        if self.error.is_some() {
            return self;
        }
        let Some(Open::Struct { name: slot @ None }) = self.open.last_mut() else {
            return self.misuse("member() outside a struct, or before the previous member's value");
        };
        *slot = Some(self.names.len());
        self.names.push_str(name);
        self.out.push_str("<member><name>");
        if let Err((code, index)) = escape_into(self.out, name) {
            let path = format!("{} (member name)", self.render());
            self.error = Some(EncodeError::IllegalChar { path, code, index });
            return self;
        }
        self.out.push_str("</name>");
        self
    }

    /// Closes the innermost struct.
    pub fn end_struct(&mut self) -> &mut Self {
        if self.error.is_some() {
            return self;
        }
        match self.open.last() {
            Some(Open::Struct { name: None }) => {}
            Some(Open::Struct { name: Some(_) }) => {
                return self.misuse("end_struct() before the value of the member just named");
            }
            _ => return self.misuse("end_struct() without an open struct"),
        }
        self.open.pop();
        self.out.push_str("</struct></value>");
        self.end_value();
        self
    }

    /// Whether a value may be written now (recording the misuse if not).
    fn start_value(&mut self) -> bool {
        if self.error.is_some() {
            return false;
        }
        match self.open.last() {
            None if self.complete => {
                self.misuse("a second value after the complete one");
                false
            }
            Some(Open::Struct { name: None }) => {
                self.misuse("a struct member's value without its name: call member() first");
                false
            }
            _ => true,
        }
    }

    /// Moves on after a whole value: the root is complete, the array's next index, or the
    /// member closed.
    fn end_value(&mut self) {
        match self.open.last_mut() {
            None => self.complete = true,
            Some(Open::Array { next }) => *next += 1,
            Some(Open::Struct { name }) => {
                if let Some(start) = name.take() {
                    self.names.truncate(start);
                }
                self.out.push_str("</member>");
            }
        }
    }

    fn misuse(&mut self, problem: &'static str) -> &mut Self {
        self.error = Some(EncodeError::Misuse { path: self.render(), problem });
        self
    }

    /// Where the next value goes (or the value being written), e.g. `result[2].name`.
    fn render(&self) -> String {
        let steps = self.open.iter().enumerate().filter_map(|(k, level)| match *level {
            Open::Array { next } => Some(super::path::Step::Index(next)),
            Open::Struct { name: Some(start) } => {
                let end = self.open[k + 1..]
                    .iter()
                    .find_map(|l| match l {
                        Open::Struct { name: Some(s) } => Some(*s),
                        _ => None,
                    })
                    .unwrap_or(self.names.len());
                Some(super::path::Step::Member(&self.names[start..end]))
            }
            Open::Struct { name: None } => None,
        });
        super::path::render(&root_label(self.root), steps)
    }

    /// An error from [`write_value`] on a value written at the writer's current place: its path
    /// (rooted at `value`) is rooted here instead.
    fn rebase(&self, e: EncodeError) -> EncodeError {
        let here = self.render();
        let join = |path: String| format!("{here}{}", path.strip_prefix("value").unwrap_or(&path));
        match e {
            EncodeError::NonFiniteDouble { path, value } => {
                EncodeError::NonFiniteDouble { path: join(path), value }
            }
            EncodeError::IllegalChar { path, code, index } => {
                EncodeError::IllegalChar { path: join(path), code, index }
            }
            other => other,
        }
    }
}

/// One value encoded by the strict encoder, kept to be written again with
/// [`ValueWriter::encoded`] (for example a record that is listed often and changes rarely).
/// It can only be made by the encoder, so writing it keeps the encoder's guarantees.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedValue(String);

impl EncodedValue {
    /// Encodes `v` as [`encode_value`] does.
    pub fn from_value(v: &Value) -> Result<EncodedValue, EncodeError> {
        encode_value(v).map(EncodedValue)
    }

    /// Encodes the one value that `write` writes (errors name it `value`).
    pub fn write(write: impl FnOnce(&mut ValueWriter<'_>)) -> Result<EncodedValue, EncodeError> {
        let mut out = String::new();
        let mut w = ValueWriter::new(&mut out);
        write(&mut w);
        w.finish()?;
        Ok(EncodedValue(out))
    }

    /// The `<value>` element.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EncodedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EncodedValue").field(&self.0).finish()
    }
}

#[derive(Clone, Copy)]
enum Path {
    Param(usize),
    Result,
    Value,
}

/// An array or struct being written: its remaining children and where it sits in its parent.
enum Frame<'a> {
    Array {
        items: std::slice::Iter<'a, Value>,
        /// The index of the next child.
        next: usize,
        seg: Seg<'a>,
    },
    Struct {
        members: std::slice::Iter<'a, (String, Value)>,
        /// Whether a `<member>` is open (its value has been written or is being written).
        open: bool,
        seg: Seg<'a>,
    },
}

impl<'a> Frame<'a> {
    fn seg(&self) -> Seg<'a> {
        match self {
            Frame::Array { seg, .. } | Frame::Struct { seg, .. } => *seg,
        }
    }
}

/// A path segment, kept only to name where an error is.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Index(usize),
    Member(&'a str),
}

fn write_value(out: &mut String, root: &Value, path: Path) -> Result<(), EncodeError> {
    // `frames` holds the open arrays and structs, innermost last; the walk never recurses.
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut pending: Option<(&Value, Seg<'_>)> = Some((root, Seg::Root));
    loop {
        let (v, seg) = match pending.take() {
            Some(next) => next,
            None => {
                let Some(top) = frames.last_mut() else { return Ok(()) };
                let next = match top {
                    Frame::Array { items, next, .. } => items.next().map(|c| {
                        let i = *next;
                        *next += 1;
                        (c, Seg::Index(i))
                    }),
                    Frame::Struct { members, open, .. } => {
                        if *open {
                            out.push_str("</member>");
                            *open = false;
                        }
                        match members.next() {
                            Some((name, c)) => {
                                *open = true;
                                out.push_str("<member><name>");
                                if let Err((code, index)) = escape_into(out, name) {
                                    let at = render_path(path, &frames, Seg::Member(name));
                                    return Err(EncodeError::IllegalChar {
                                        path: format!("{at} (member name)"),
                                        code,
                                        index,
                                    });
                                }
                                out.push_str("</name>");
                                Some((c, Seg::Member(name)))
                            }
                            None => None,
                        }
                    }
                };
                match next {
                    Some(next) => next,
                    None => {
                        let done = frames.pop().expect("the top frame exists");
                        out.push_str(match done {
                            Frame::Array { .. } => "</data></array></value>",
                            Frame::Struct { .. } => "</struct></value>",
                        });
                        continue;
                    }
                }
            }
        };
        match v {
            Value::Int(i) => put_int(out, *i),
            Value::Bool(b) => put_bool(out, *b),
            Value::String(s) => {
                if let Err((code, index)) = put_string(out, s) {
                    return Err(EncodeError::IllegalChar {
                        path: render_path(path, &frames, seg),
                        code,
                        index,
                    });
                }
            }
            Value::Double(d) => {
                if put_double(out, *d).is_err() {
                    return Err(EncodeError::NonFiniteDouble {
                        path: render_path(path, &frames, seg),
                        value: *d,
                    });
                }
            }
            Value::DateTime(dt) => put_datetime(out, dt),
            Value::Base64(b) => put_base64(out, b),
            Value::Nil => out.push_str("<value><nil/></value>"),
            Value::Array(items) => {
                out.push_str("<value><array><data>");
                frames.push(Frame::Array { items: items.iter(), next: 0, seg });
            }
            Value::Struct(s) => {
                out.push_str("<value><struct>");
                frames.push(Frame::Struct { members: s.0.iter(), open: false, seg });
            }
        }
    }
}

/// Writes an `<int>` (or `<i8>` outside the i32 range) `<value>`.
fn put_int(out: &mut String, i: i64) {
    if i32::try_from(i).is_ok() {
        out.push_str("<value><int>");
        write_int(out, i);
        out.push_str("</int></value>");
    } else {
        out.push_str("<value><i8>");
        write_int(out, i);
        out.push_str("</i8></value>");
    }
}

fn put_bool(out: &mut String, b: bool) {
    out.push_str(if b {
        "<value><boolean>1</boolean></value>"
    } else {
        "<value><boolean>0</boolean></value>"
    });
}

/// Writes a `<string>` `<value>`; on a character XML cannot carry, fails with (code point, char
/// index) and leaves a partial element.
fn put_string(out: &mut String, s: &str) -> Result<(), (u32, usize)> {
    out.push_str("<value><string>");
    escape_into(out, s)?;
    out.push_str("</string></value>");
    Ok(())
}

/// Writes a `<double>` `<value>`; fails (writing nothing) on NaN or infinity.
fn put_double(out: &mut String, d: f64) -> Result<(), ()> {
    if !d.is_finite() {
        return Err(());
    }
    out.push_str("<value><double>");
    write_double(out, d);
    out.push_str("</double></value>");
    Ok(())
}

fn put_datetime(out: &mut String, dt: &DateTime) {
    out.push_str("<value><dateTime.iso8601>");
    write_datetime(out, dt);
    out.push_str("</dateTime.iso8601></value>");
}

fn put_base64(out: &mut String, b: &[u8]) {
    out.push_str("<value><base64>");
    base64::engine::general_purpose::STANDARD.encode_string(b, out);
    out.push_str("</base64></value>");
}

/// The name of a path's root, as error messages show it.
fn root_label(path: Path) -> String {
    match path {
        Path::Param(i) => format!("params[{i}]"),
        Path::Result => "result".to_owned(),
        Path::Value => "value".to_owned(),
    }
}

fn render_path(path: Path, frames: &[Frame<'_>], last: Seg<'_>) -> String {
    let steps = frames.iter().map(Frame::seg).chain(std::iter::once(last)).filter_map(|seg| match seg {
        Seg::Root => None,
        Seg::Index(i) => Some(super::path::Step::Index(i)),
        Seg::Member(m) => Some(super::path::Step::Member(m)),
    });
    super::path::render(&root_label(path), steps)
}

/// Bytes that [`escape_into`] must look at: `&` `<` `>`, C0 controls (CR is escaped, TAB and LF
/// pass, the others are refused) and 0xEF, the lead byte of U+FFFE and U+FFFF.
const ATTENTION: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[0xEF] = true;
    t
};

/// Appends `text` with `&` `<` `>` and CR escaped. Fails with (code point, char index) on a
/// character XML cannot carry.
fn escape_into(out: &mut String, text: &str) -> Result<(), (u32, usize)> {
    let bytes = text.as_bytes();
    let mut start = 0;
    // Skip 8 bytes at a time while none of them needs attention (most text needs none).
    let mut i = bytes.chunks_exact(8).take_while(|c| !chunk_needs_attention(c)).count() * 8;
    while i < bytes.len() {
        let b = bytes[i];
        if !ATTENTION[usize::from(b)] {
            i += 1;
            continue;
        }
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "&#13;",
            b'\t' | b'\n' => {
                i += 1;
                continue;
            }
            0..=0x1F => return Err((u32::from(b), text[..i].chars().count())),
            // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8.
            0xEF if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) => {
                return Err((0xFFF0 + u32::from(bytes[i + 2] - 0xB0), text[..i].chars().count()));
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&text[start..i]);
        out.push_str(rep);
        i += 1;
        start = i;
    }
    out.push_str(&text[start..]);
    Ok(())
}

/// Whether any of 8 bytes is one [`ATTENTION`] marks (exact, by the usual SWAR bit tricks).
fn chunk_needs_attention(chunk: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    let x = u64::from_le_bytes(word);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    // A byte below 0x20: `x - 0x20..` borrows into its high bit while the byte's own is clear.
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
    below_space
        || has_zero(x ^ (ONES * u64::from(b'&')))
        || has_zero(x ^ (ONES * u64::from(b'<')))
        || has_zero(x ^ (ONES * u64::from(b'>')))
        || has_zero(x ^ (ONES * 0xEF))
}

/// The decimal digits of `n`, written at the end of `buf`, without going through `core::fmt`.
pub(crate) fn decimal_digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[pos..]
}

/// Writes an integer in decimal without going through `core::fmt`.
fn write_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let digits = decimal_digits(n.unsigned_abs(), &mut buf);
    if n < 0 {
        out.push('-');
    }
    // A few ASCII digits: pushing them one by one beats validating and copying a slice.
    out.extend(digits.iter().map(|&b| char::from(b)));
}

/// Writes `YYYYMMDDTHH:MM:SS` (as `DateTime`'s `Display` does) without going through `core::fmt`.
fn write_datetime(out: &mut String, dt: &DateTime) {
    let fields = [dt.month, dt.day, dt.hour, dt.minute, dt.second];
    if dt.year > 9999 || fields.iter().any(|&f| f > 99) {
        let _ = write!(out, "{dt}");
        return;
    }
    let d = |n: u8| [b'0' + n / 10, b'0' + n % 10];
    let y = dt.year;
    let mut b = [0u8; 17];
    b[..4].copy_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
    ]);
    b[4..6].copy_from_slice(&d(dt.month));
    b[6..8].copy_from_slice(&d(dt.day));
    b[8] = b'T';
    b[9..11].copy_from_slice(&d(dt.hour));
    b[11] = b':';
    b[12..14].copy_from_slice(&d(dt.minute));
    b[14] = b':';
    b[15..17].copy_from_slice(&d(dt.second));
    out.push_str(std::str::from_utf8(&b).unwrap_or_default());
}

/// Writes a finite double in plain decimal with at least one fractional digit.
fn write_double(out: &mut String, d: f64) {
    let start = out.len();
    let _ = write!(out, "{d}");
    if !out[start..].contains('.') {
        out.push_str(".0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlrpc::value::Struct;

    fn enc(v: Value) -> String {
        encode_value(&v).unwrap()
    }

    #[test]
    fn scalars_are_written_strictly() {
        assert_eq!(enc(Value::Int(7)), "<value><int>7</int></value>");
        assert_eq!(enc(Value::Int(1 << 40)), "<value><i8>1099511627776</i8></value>");
        assert_eq!(enc(Value::Int(i64::from(i32::MIN))), "<value><int>-2147483648</int></value>");
        assert_eq!(enc(Value::Double(1.0)), "<value><double>1.0</double></value>");
        assert_eq!(enc(Value::Double(1e-7)), "<value><double>0.0000001</double></value>");
        let big = enc(Value::Double(1e300));
        let digits = big.trim_start_matches("<value><double>").trim_end_matches("</double></value>");
        assert!(digits.starts_with('1') && digits.ends_with(".0") && digits.len() == 303, "{digits}");
        assert_eq!(enc(Value::Bool(true)), "<value><boolean>1</boolean></value>");
        assert_eq!(enc(Value::Nil), "<value><nil/></value>");
        assert_eq!(enc("".into()), "<value><string></string></value>");
        assert_eq!(enc(Value::Base64(vec![0; 100])).matches('\n').count(), 0);
        assert_eq!(enc("a&b<c>d\re".into()), "<value><string>a&amp;b&lt;c&gt;d&#13;e</string></value>");
    }

    #[test]
    fn errors_name_the_place() {
        let v = Value::Struct(Struct::new().with("vhosts", vec![Value::from("ok"), Value::from("a\u{0}b")]));
        let e = encode_call("paas.create", &[Value::from("k"), v]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "params[1].vhosts[1]: character U+0000 at char 1 cannot be carried by XML; send binary data as base64"
        );
        let e = encode_response(&Value::Array(vec![Value::Double(f64::NAN)])).unwrap_err();
        assert!(e.to_string().starts_with("result[0]: the double NaN is not finite"), "{e}");
        let e = encode_value(&"\u{FFFF}".into()).unwrap_err();
        assert!(matches!(e, EncodeError::IllegalChar { code: 0xFFFF, .. }), "{e}");
        let e = encode_call("a<b", &[]).unwrap_err();
        assert!(matches!(e, EncodeError::MethodName(_)));
    }

    #[test]
    fn struct_members_keep_order_and_nest() {
        let v = Value::Struct(
            Struct::new()
                .with("b", 1)
                .with("a", Value::Array(vec![Value::Struct(Struct::new().with("x", true))])),
        );
        assert_eq!(
            enc(v),
            "<value><struct><member><name>b</name><value><int>1</int></value></member>\
             <member><name>a</name><value><array><data><value><struct><member><name>x</name>\
             <value><boolean>1</boolean></value></member></struct></value></data></array></value>\
             </member></struct></value>"
        );
    }

    #[test]
    fn empty_call_has_params() {
        let s = String::from_utf8(encode_call("version.info", &[]).unwrap()).unwrap();
        assert!(s.starts_with("<?xml version=\"1.0\"?>"));
        assert!(s.contains("<params>\n</params>"));
    }

    #[test]
    fn integers_and_datetimes_match_their_display() {
        for n in [0, 7, -7, 10, 99, 100, -2147483648, 2147483647, 1 << 40, i64::MIN, i64::MAX] {
            let mut s = String::new();
            write_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        let dates = [
            (0, 1, 1, 0, 0, 0),
            (1998, 7, 17, 14, 8, 55),
            (2024, 2, 29, 23, 59, 60),
            (9999, 12, 31, 9, 5, 1),
        ];
        for (y, mo, d, h, mi, s) in dates {
            let dt =
                DateTime { year: y, month: mo, day: d, hour: h, minute: mi, second: s, offset_minutes: None };
            let mut out = String::new();
            write_datetime(&mut out, &dt);
            assert_eq!(out, dt.to_string());
        }
        // Out-of-range fields (only constructible directly) still print like Display.
        let odd =
            DateTime { year: 12345, month: 200, day: 1, hour: 0, minute: 0, second: 0, offset_minutes: None };
        let mut out = String::new();
        write_datetime(&mut out, &odd);
        assert_eq!(out, odd.to_string());
    }

    #[test]
    fn the_word_at_a_time_check_agrees_with_the_table() {
        // Every byte value at every position of a word, over a background of plain and of
        // high bytes (UTF-8 continuation bytes are where borrow tricks usually go wrong).
        for background in [b'a', 0x80, 0xBF, 0xFF, b' '] {
            for pos in 0..8 {
                for b in 0..=255u8 {
                    let mut w = [background; 8];
                    w[pos] = b;
                    let expected = w.iter().any(|&x| ATTENTION[usize::from(x)]);
                    assert_eq!(chunk_needs_attention(&w), expected, "{w:?}");
                }
            }
        }
        let mut out = String::new();
        escape_into(&mut out, "plain text, long enough for several words: a&b <c> \u{e9}t\u{e9}").unwrap();
        assert_eq!(out, "plain text, long enough for several words: a&amp;b &lt;c&gt; \u{e9}t\u{e9}");
        assert_eq!(escape_into(&mut String::new(), "0123456789abcdef\u{FFFE}"), Err((0xFFFE, 16)));
        assert_eq!(escape_into(&mut String::new(), "01234567\u{1}"), Err((1, 8)));
    }

    #[test]
    fn member_name_errors_name_the_member() {
        let v = Value::Array(vec![Value::Struct(Struct::new().with("ok", 1).with("b\u{1}", 2))]);
        let e = encode_response(&v).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"result[0]["b\u0001"] (member name): character U+0001 at char 1 cannot be carried by XML; send binary data as base64"#
        );
    }

    #[test]
    fn reused_buffers_hold_only_the_latest_document() {
        let mut buf = String::new();
        encode_response_into(&mut buf, &Value::from("a long first value, longer than the second")).unwrap();
        encode_response_into(&mut buf, &Value::Int(1)).unwrap();
        assert_eq!(buf.into_bytes(), encode_response(&Value::Int(1)).unwrap());
        let mut buf = String::from("leftover");
        encode_fault_into(&mut buf, &Fault::new(4, "x"));
        assert_eq!(buf.into_bytes(), encode_fault(&Fault::new(4, "x")));
    }

    #[test]
    fn a_value_writer_writes_the_encoders_bytes() {
        let mut out = String::from("kept ");
        let mut w = ValueWriter::new(&mut out);
        w.begin_struct().member("n").int(1 << 40).member("a&b").begin_array();
        w.boolean(true).string("x<y").double(0.5).nil().base64(b"hi");
        w.datetime(&DateTime {
            year: 2024,
            month: 1,
            day: 2,
            hour: 3,
            minute: 4,
            second: 5,
            offset_minutes: None,
        });
        w.value(&Value::Struct(Struct::new().with("k", Value::Array(vec![])))).begin_struct().end_struct();
        w.end_array().member("").int(-1).end_struct();
        assert!(w.is_complete());
        w.finish().unwrap();
        let dt = Value::DateTime(DateTime::parse("20240102T03:04:05").unwrap());
        let v = Value::Struct(
            Struct::new()
                .with("n", 1i64 << 40)
                .with(
                    "a&b",
                    vec![
                        Value::Bool(true),
                        "x<y".into(),
                        Value::Double(0.5),
                        Value::Nil,
                        Value::Base64(b"hi".to_vec()),
                        dt,
                        Value::Struct(Struct::new().with("k", Value::Array(vec![]))),
                        Value::Struct(Struct::new()),
                    ],
                )
                .with("", -1),
        );
        assert_eq!(out, format!("kept {}", encode_value(&v).unwrap()));
    }

    #[test]
    fn value_writer_errors_name_the_place_like_the_encoder() {
        let mut out = String::new();
        let mut w = ValueWriter::for_result(&mut out);
        w.begin_array().int(1).begin_struct().member("a").begin_struct().member("b").begin_array();
        w.string("fine").string("no\u{0}");
        let e = w.error().cloned().unwrap();
        assert_eq!(
            e.to_string(),
            "result[1].a.b[1]: character U+0000 at char 2 cannot be carried by XML; send binary data as base64"
        );
        // The first error sticks: later calls write nothing.
        let len = out.len();
        let mut w = ValueWriter::for_result(&mut out);
        w.begin_array().double(f64::INFINITY).int(3).end_array();
        let e = w.finish().unwrap_err();
        assert!(e.to_string().starts_with("result[0]: the double inf is not finite"), "{e}");
        assert_eq!(out.len(), len + "<value><array><data>".len());

        let mut out = String::new();
        let mut w = ValueWriter::new(&mut out);
        w.begin_struct().member("ok").nil().member("x\u{FFFE}");
        assert_eq!(
            w.finish().unwrap_err().to_string(),
            "value[\"x\u{FFFE}\"] (member name): character U+FFFE at char 1 cannot be carried by XML; send binary data as base64"
        );
        // A whole value written inside: its error is placed within the writer's value.
        let inner = Value::Array(vec![Value::Struct(Struct::new().with("d", f64::NAN))]);
        let mut out = String::new();
        let mut w = ValueWriter::for_result(&mut out);
        w.begin_struct().member("outer").begin_array().int(0).value(&inner);
        let e = w.finish().unwrap_err();
        assert_eq!(
            e.to_string(),
            "result.outer[1][0].d: the double NaN is not finite; XML-RPC doubles must be finite numbers"
        );
    }

    #[test]
    fn encoded_values_are_written_as_they_were_encoded() {
        let v = Value::Struct(Struct::new().with("a", vec![Value::from("x&y"), Value::Nil]));
        let kept = EncodedValue::from_value(&v).unwrap();
        let written = EncodedValue::write(|w| {
            w.begin_struct().member("a").begin_array().string("x&y").nil().end_array().end_struct();
        })
        .unwrap();
        assert_eq!(kept, written);
        let mut out = String::new();
        let mut w = ValueWriter::new(&mut out);
        w.begin_array().encoded(&kept).int(1).encoded(&written).end_array();
        w.finish().unwrap();
        assert_eq!(out, encode_value(&Value::Array(vec![v.clone(), Value::Int(1), v])).unwrap());
        // Only whole, valid values are kept.
        let e = EncodedValue::write(|w| {
            w.begin_array().string("\u{0}");
        })
        .unwrap_err();
        assert!(matches!(e, EncodeError::IllegalChar { .. }), "{e}");
        assert!(matches!(
            EncodedValue::write(|w| {
                w.begin_array();
            }),
            Err(EncodeError::Misuse { .. })
        ));
        assert!(EncodedValue::from_value(&Value::Double(f64::NAN)).is_err());
    }

    #[test]
    fn value_writer_misuse_is_an_error_not_a_panic() {
        type Drive = fn(&mut ValueWriter<'_>);
        let cases: [(Drive, &str); 9] = [
            (
                |w| {
                    w.begin_struct().int(1);
                },
                "value: ValueWriter misuse: a struct member's value without its name: call member() first",
            ),
            (
                |w| {
                    w.begin_array().member("a");
                },
                "value[0]: ValueWriter misuse: member() outside a struct, or before the previous member's value",
            ),
            (
                |w| {
                    w.begin_struct().member("a").member("b");
                },
                "value.a: ValueWriter misuse: member() outside a struct, or before the previous member's value",
            ),
            (
                |w| {
                    w.begin_struct().member("a").end_struct();
                },
                "value.a: ValueWriter misuse: end_struct() before the value of the member just named",
            ),
            (
                |w| {
                    w.begin_array().end_struct();
                },
                "value[0]: ValueWriter misuse: end_struct() without an open struct",
            ),
            (
                |w| {
                    w.begin_struct().end_array();
                },
                "value: ValueWriter misuse: end_array() without an open array",
            ),
            (
                |w| {
                    w.int(1).int(2);
                },
                "value: ValueWriter misuse: a second value after the complete one",
            ),
            (|_| {}, "value: ValueWriter misuse: no value was written"),
            (
                |w| {
                    w.begin_array().begin_struct().member("k").begin_array();
                },
                "value[0].k[0]: ValueWriter misuse: the value is unfinished: an array or struct is still open",
            ),
        ];
        for (drive, message) in cases {
            let mut out = String::new();
            let mut w = ValueWriter::new(&mut out);
            drive(&mut w);
            let e = w.finish().unwrap_err();
            assert!(matches!(e, EncodeError::Misuse { .. }), "{e}");
            assert_eq!(e.to_string(), message);
        }
    }

    #[test]
    fn deep_values_encode_without_recursion() {
        let mut v = Value::Int(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let s = encode_value(&v).unwrap();
        assert_eq!(s.matches("<array>").count(), 100_000);
    }
}
