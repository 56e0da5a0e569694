//! The lenient, safe decoder: XML-RPC bytes to calls, responses and faults.
//!
//! Lenient in form (see `xml-rpc.md` §3, "Parse"): untyped and empty `<value>`s, `int`/`i4`/`i8`
//! and namespaced `ex:i8`, `nil`/`ex:nil`, whitespace around scalars, CDATA, character
//! references, end-of-line normalisation, dateTime with or without dashes, fraction or zone,
//! line-wrapped base64, an ISO-8859-1 or windows-1252 declared encoding, gzip bodies and faults with
//! extra members.
//!
//! Strict in safety: any DOCTYPE is refused, as is any entity other than the five predefined ones
//! and character references (so entity bombs cannot expand); nesting is limited while parsing
//! ([`Limits::max_depth`]); the body is capped before and after decompression
//! ([`Limits::max_body`]). A call's `methodName` must be 1–256 of `A-Z a-z 0-9 _ . : /`, as the
//! encoder requires. The decoder never recurses, so no input can overflow the stack.

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use quick_xml::events::{BytesRef, Event};
use quick_xml::reader::Reader;

use super::datetime::DateTime;
use super::encode::{is_valid_method_name, is_xml_char};
use super::value::{Fault, Struct, Value};

/// Safety limits applied while decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting of arrays and structs accepted (default 128).
    pub max_depth: usize,
    /// The largest body accepted, in bytes, measured after gzip decompression (default 64 MiB).
    ///
    /// A body refused at the cap costs about the cap in memory while it is read: with the
    /// 64 MiB default, `gandish call` peaked 74 MiB over its 22 MiB baseline on an endless body,
    /// a gzip bomb and a raw gzip body alike (1.15x the cap; 202-232 MiB, 3.2-3.6x, before the
    /// body was read in pieces), as `benches/hostile_body_rss.py` measures. The largest real reply,
    /// a `paas.list` page of 500 instances (the API's maximum) with extended fields, is 665,515
    /// bytes from the sandbox: about 1% of the default.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128, max_body: 64 << 20 }
    }
}

/// Why a document could not be decoded. Positions are byte offsets into the (decompressed,
/// UTF-8) document.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body exceeded [`Limits::max_body`].
    #[error("body larger than the {limit}-byte cap")]
    TooLarge {
        /// The cap in force.
        limit: usize,
    },
    /// Arrays and structs nested deeper than [`Limits::max_depth`].
    #[error("nesting deeper than {limit} levels at byte {pos}")]
    TooDeep {
        /// The limit in force.
        limit: usize,
        /// Where the limit was crossed.
        pos: u64,
    },
    /// A DOCTYPE declaration, which XML-RPC never needs and which carries entity attacks.
    #[error("DOCTYPE declarations are refused (at byte {pos})")]
    Doctype {
        /// Where it started.
        pos: u64,
    },
    /// An entity reference other than the five predefined ones or a character reference.
    #[error(
        "entity reference &{name}; at byte {pos} is refused: only &lt; &gt; &amp; &apos; &quot; and character references are allowed"
    )]
    Entity {
        /// The entity's name.
        name: String,
        /// Where it was.
        pos: u64,
    },
    /// The text is not well-formed XML (or not valid UTF-8).
    #[error("malformed XML at byte {pos}: {message}")]
    Xml {
        /// Where the parser stopped.
        pos: u64,
        /// What it found wrong.
        message: String,
    },
    /// Well-formed XML that is not an XML-RPC document of the expected kind.
    #[error("not a valid XML-RPC {kind} at byte {pos}: {message}")]
    Protocol {
        /// `methodResponse` or `methodCall`.
        kind: &'static str,
        /// Where it went wrong.
        pos: u64,
        /// What was wrong.
        message: String,
    },
    /// A scalar whose text does not fit its type.
    #[error("invalid <{tag}> at byte {pos}: {text:?} {reason}")]
    Value {
        /// The type element.
        tag: String,
        /// Its text (truncated to 64 characters).
        text: String,
        /// Why it was refused.
        reason: String,
        /// Where the element was.
        pos: u64,
    },
    /// A declared encoding that is not supported (UTF-16, say).
    #[error("unsupported encoding {0:?}: gandish reads UTF-8, ISO-8859-1, US-ASCII and windows-1252")]
    Encoding(String),
    /// A gzip body that could not be decompressed.
    #[error("corrupt gzip body: {0}")]
    Gzip(String),
}

/// A decoded `<methodCall>`.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodCall {
    /// `methodName`.
    pub method: String,
    /// The parameters, in order.
    pub params: Vec<Value>,
}

/// A decoded `<methodResponse>`: the value, or the fault the server answered with.
pub type Response = Result<Value, Fault>;

/// Decodes a `<methodResponse>` with the default [`Limits`].
pub fn decode_response(body: &[u8]) -> Result<Response, DecodeError> {
    decode_response_with(body, &Limits::default())
}

/// Decodes a `<methodResponse>` under `limits`. A gzip body is decompressed first.
pub fn decode_response_with(body: &[u8], limits: &Limits) -> Result<Response, DecodeError> {
    let body = gunzip_capped(body, limits.max_body)?;
    let text = to_utf8(&body)?;
    match Parser::new(&text, limits, Kind::Response).run()? {
        Doc::Response(r) => Ok(r),
        Doc::Call(_) => unreachable!("a response parse yields a response"),
    }
}

/// Decodes a `<methodCall>` with the default [`Limits`].
pub fn decode_call(body: &[u8]) -> Result<MethodCall, DecodeError> {
    decode_call_with(body, &Limits::default())
}

/// Decodes a `<methodCall>` under `limits`. A gzip body is decompressed first.
pub fn decode_call_with(body: &[u8], limits: &Limits) -> Result<MethodCall, DecodeError> {
    let body = gunzip_capped(body, limits.max_body)?;
    let text = to_utf8(&body)?;
    match Parser::new(&text, limits, Kind::Call).run()? {
        Doc::Call(c) => Ok(c),
        Doc::Response(_) => unreachable!("a call parse yields a call"),
    }
}

/// Checks `body` against `max`, then decompresses it if it starts with the gzip magic, reading
/// at most `max` bytes of output; a plain body is returned as is.
pub fn gunzip_capped(body: &[u8], max: usize) -> Result<Cow<'_, [u8]>, DecodeError> {
    if body.len() > max {
        Err(DecodeError::TooLarge { limit: max })
    } else if body.starts_with(&[0x1f, 0x8b]) {
        match read_capped(flate2::read::MultiGzDecoder::new(body), max) {
            Capped::Body(out) => Ok(Cow::Owned(out)),
            Capped::TooLarge => Err(DecodeError::TooLarge { limit: max }),
            Capped::Failed { error, .. } => Err(DecodeError::Gzip(error.to_string())),
        }
    } else {
        Ok(Cow::Borrowed(body))
    }
}

/// What [`read_capped`] read.
pub(crate) enum Capped {
    /// The whole body, at most the cap.
    Body(Vec<u8>),
    /// More than the cap was offered; what was read is dropped.
    TooLarge,
    /// Reading failed after `read` bytes.
    Failed {
        /// The reader's error.
        error: std::io::Error,
        /// How many bytes had been read.
        read: usize,
    },
}

/// Reads `r` to its end, refusing more than `max` bytes, so that a hostile body (endless, or a
/// gzip bomb) costs about `max` bytes of memory before it is refused.
///
/// `Read::read_to_end` doubles its buffer and copies it on each growth: a body refused at a
/// 64 MiB cap had reserved 128 MiB with the old 64 MiB still held during the copy, over 3x the
/// cap in resident memory (benches/hostile_body_rss.py). Here the body is read into pieces that
/// grow to 4 MiB and are never copied until the whole body is known to fit; a body that fits is
/// then joined once (a transient 2x of a body under the cap, which real replies are far below).
pub(crate) fn read_capped(mut r: impl Read, max: usize) -> Capped {
    const FIRST_PIECE: usize = 64 << 10;
    const LARGEST_PIECE: usize = 4 << 20;
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let mut chunk = [0u8; 16 << 10];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Capped::Failed { error, read: total },
        };
        if n > max - total {
            return Capped::TooLarge;
        }
        total += n;
        let mut data = &chunk[..n];
        while !data.is_empty() {
            if pieces.last().is_none_or(|p| p.len() == p.capacity()) {
                let size = pieces.last().map_or(FIRST_PIECE, |p| (p.capacity() * 2).min(LARGEST_PIECE));
                pieces.push(Vec::with_capacity(size));
            }
            let Some(piece) = pieces.last_mut() else { break };
            let take = (piece.capacity() - piece.len()).min(data.len());
            piece.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
    }
    Capped::Body(if pieces.len() == 1 { pieces.pop().unwrap_or_default() } else { pieces.concat() })
}

/// Turns the body into UTF-8 text according to its BOM and XML declaration.
fn to_utf8(body: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    // With a byte-order mark, or without one: `<` followed or preceded by a NUL (XML 1.0 appendix F).
    if body.starts_with(&[0xFE, 0xFF])
        || body.starts_with(&[0xFF, 0xFE])
        || body.starts_with(&[b'<', 0])
        || body.starts_with(&[0, b'<'])
    {
        return Err(DecodeError::Encoding("UTF-16".into()));
    }
    let body = body.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(body);
    let enc = declared_encoding(body).map(|e| e.to_ascii_uppercase());
    let utf8 = |b| {
        std::str::from_utf8(b).map(Cow::Borrowed).map_err(|e: std::str::Utf8Error| DecodeError::Xml {
            pos: e.valid_up_to() as u64,
            message: "invalid UTF-8".into(),
        })
    };
    match enc.as_deref() {
        None | Some("UTF-8" | "UTF8") => utf8(body),
        Some(
            "ISO-8859-1" | "ISO8859-1" | "ISO_8859-1" | "LATIN1" | "LATIN-1" | "L1" | "US-ASCII" | "ASCII",
        ) => Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect())),
        Some("WINDOWS-1252" | "CP1252") => Ok(Cow::Owned(body.iter().map(|&b| cp1252(b)).collect())),
        Some(other) => Err(DecodeError::Encoding(other.to_owned())),
    }
}

/// The `encoding` pseudo-attribute of a leading XML declaration, if any.
fn declared_encoding(body: &[u8]) -> Option<&str> {
    let head = body.get(..body.len().min(256))?;
    let s = head.strip_prefix(b"<?xml")?;
    let end = s.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&s[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + 8..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    rest.find(quote).map(|e| &rest[..e])
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
        '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}', '\u{90}',
        '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}',
        '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Response,
    Call,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Response => "methodResponse",
            Kind::Call => "methodCall",
        }
    }
}

enum Doc {
    Response(Response),
    Call(MethodCall),
}

/// Scalar element types.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Scalar {
    Int,
    I8,
    Bool,
    Str,
    Double,
    DateTime,
    Base64,
    Nil,
}

impl Scalar {
    fn from_local(name: &[u8]) -> Option<Scalar> {
        Some(match name {
            b"int" | b"i4" | b"i1" | b"i2" => Scalar::Int,
            b"i8" | b"biginteger" => Scalar::I8,
            b"boolean" => Scalar::Bool,
            b"string" => Scalar::Str,
            b"double" | b"float" => Scalar::Double,
            b"dateTime.iso8601" | b"dateTime" => Scalar::DateTime,
            b"base64" => Scalar::Base64,
            b"nil" => Scalar::Nil,
            _ => return None,
        })
    }
}

/// One open element of the document.
enum Ctx {
    /// The root element.
    Root,
    /// `<methodName>`, collecting text.
    MethodName,
    /// `<params>`.
    Params,
    /// `<param>`, waiting for its value.
    Param(Option<Value>),
    /// `<fault>`, waiting for its value.
    Fault(Option<Value>),
    /// `<value>`: `typed` holds the value of its type element once closed.
    Value { typed: Option<Value> },
    /// A scalar type element collecting text.
    Scalar(Scalar, &'static str, u64),
    /// `<array>`, waiting for `<data>`.
    Array(Option<Vec<Value>>),
    /// `<data>` collecting values.
    Data(Vec<Value>),
    /// `<struct>` collecting members.
    Struct(Vec<(String, Value)>),
    /// `<member>` collecting a name and a value.
    Member(Option<String>, Option<Value>),
    /// `<name>`, collecting text.
    Name,
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    limits: &'a Limits,
    kind: Kind,
    stack: Vec<Ctx>,
    depth: usize,
    /// Text collected for the innermost text-collecting element.
    text: String,
    method: Option<String>,
    params: Vec<Value>,
    result: Option<Response>,
    /// Whether a `<params>` element has been opened (an empty one leaves no other trace).
    params_seen: bool,
    root_done: bool,
    /// Whether the innermost open element collects text (see [`Parser::set_collects`]).
    collects: bool,
    /// Member counts of the structs last closed at each nesting depth, used as the capacity of
    /// the next struct at that depth: lists of like records then grow no vector.
    struct_hints: [usize; HINT_DEPTHS],
}

/// How many nesting depths keep a struct size hint.
const HINT_DEPTHS: usize = 16;
/// The largest capacity a hint asks for.
const MAX_HINT: usize = 256;

const TAG_NAMES: [(&str, Scalar); 8] = [
    ("int", Scalar::Int),
    ("i8", Scalar::I8),
    ("boolean", Scalar::Bool),
    ("string", Scalar::Str),
    ("double", Scalar::Double),
    ("dateTime.iso8601", Scalar::DateTime),
    ("base64", Scalar::Base64),
    ("nil", Scalar::Nil),
];

fn tag_name(s: Scalar) -> &'static str {
    TAG_NAMES.iter().find(|(_, k)| *k == s).map_or("?", |(n, _)| n)
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: &'a Limits, kind: Kind) -> Self {
        let mut reader = Reader::from_str(text);
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.allow_dangling_amp = false;
        cfg.trim_text(false);
        Parser {
            reader,
            limits,
            kind,
            stack: Vec::with_capacity(32),
            depth: 0,
            text: String::new(),
            method: None,
            params: Vec::new(),
            result: None,
            params_seen: false,
            root_done: false,
            collects: false,
            struct_hints: [0; HINT_DEPTHS],
        }
    }

    fn pos(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn protocol(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::Protocol { kind: self.kind.name(), pos: self.pos(), message: message.into() }
    }

    fn run(mut self) -> Result<Doc, DecodeError> {
        loop {
            let event = self.reader.read_event().map_err(|e| DecodeError::Xml {
                pos: self.reader.error_position(),
                message: e.to_string(),
            })?;
            match event {
                Event::Start(e) => {
                    let local = e.local_name();
                    self.open(local.as_ref().as_bytes(), false)?;
                    self.set_collects(self.collecting());
                }
                Event::Empty(e) => {
                    let local = e.local_name();
                    self.open(local.as_ref().as_bytes(), true)?;
                    self.close()?;
                    self.set_collects(false);
                }
                Event::End(_) => {
                    self.close()?;
                    self.set_collects(false);
                }
                Event::Text(t) => {
                    // Fast paths: whitespace between elements is dropped without normalising
                    // it, and text without `\r` needs no end-of-line normalisation (so no copy).
                    let raw: &str = &t;
                    if !self.collects && is_xml_space(raw) {
                        continue;
                    }
                    // The text ends where the reader stands; blanks quick-xml skipped before it
                    // are not part of it.
                    check_chars(raw, self.pos() - raw.len() as u64)?;
                    if raw.as_bytes().contains(&b'\r') {
                        self.on_text(&t.xml10_content())?;
                    } else {
                        self.on_text(raw)?;
                    }
                }
                Event::CData(c) => {
                    let raw: &str = &c;
                    check_chars(raw, self.pos() - (raw.len() + "]]>".len()) as u64)?;
                    if raw.as_bytes().contains(&b'\r') {
                        self.on_text(&c.xml10_content())?;
                    } else {
                        self.on_text(raw)?;
                    }
                }
                Event::GeneralRef(r) => self.on_ref(&r)?,
                Event::DocType(_) => return Err(DecodeError::Doctype { pos: self.pos() }),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !self.root_done {
            return Err(self.protocol(if self.stack.is_empty() {
                "empty document".to_owned()
            } else {
                "document ends before its elements close".to_owned()
            }));
        }
        match self.kind {
            Kind::Response => {
                let r = self.result.take().ok_or_else(|| self.protocol("no <params> or <fault>"))?;
                Ok(Doc::Response(r))
            }
            Kind::Call => {
                let method = self.method.take().ok_or_else(|| self.protocol("no <methodName>"))?;
                Ok(Doc::Call(MethodCall { method, params: std::mem::take(&mut self.params) }))
            }
        }
    }

    /// Records whether the innermost open element collects text, after each start or end tag
    /// (the only events that change the stack). An end tag always leaves a non-collecting element
    /// on top: collecting elements have no child elements, and a `<value>` whose type element
    /// closes holds its value from then on.
    ///
    /// Where no text is collected, quick-xml drops the leading whitespace of text, so
    /// whitespace-only text yields no event at all; where text is collected, it is kept whole.
    /// Non-blank text in the wrong place still arrives (less its leading blanks) and is refused.
    fn set_collects(&mut self, collects: bool) {
        debug_assert_eq!(collects, self.collecting(), "stale text-collecting state");
        self.collects = collects;
        self.reader.config_mut().trim_text_start = !collects;
    }

    fn collecting(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Ctx::Value { typed: None } | Ctx::Scalar(..) | Ctx::Name | Ctx::MethodName)
        )
    }

    fn on_text(&mut self, t: &str) -> Result<(), DecodeError> {
        if self.collects {
            self.text.push_str(t);
            Ok(())
        } else if is_xml_space(t) {
            Ok(())
        } else if self.stack.is_empty() {
            Err(self.protocol("text outside the root element"))
        } else {
            let snippet: String = t.trim().chars().take(40).collect();
            Err(self.protocol(format!("unexpected text {snippet:?}")))
        }
    }

    fn on_ref(&mut self, r: &BytesRef<'_>) -> Result<(), DecodeError> {
        let pos = self.pos();
        let c = if r.is_char_ref() {
            match r.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => c,
                _ => {
                    return Err(DecodeError::Xml {
                        pos,
                        message: format!("character reference &{}; is not a legal XML character", &**r),
                    });
                }
            }
        } else {
            match &**r {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "apos" => '\'',
                "quot" => '"',
                other => return Err(DecodeError::Entity { name: other.chars().take(64).collect(), pos }),
            }
        };
        if self.collects {
            self.text.push(c);
            Ok(())
        } else {
            Err(self.protocol(format!("unexpected character data {c:?}")))
        }
    }

    fn push_compound(&mut self, ctx: Ctx) -> Result<(), DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(DecodeError::TooDeep { limit: self.limits.max_depth, pos: self.pos() });
        }
        self.depth += 1;
        self.stack.push(ctx);
        Ok(())
    }

    fn open(&mut self, name: &[u8], empty: bool) -> Result<(), DecodeError> {
        let unexpected = |p: &Self| {
            let inside = match p.stack.last() {
                None => "the document".to_owned(),
                Some(c) => format!("<{}>", ctx_name(c)),
            };
            p.protocol(format!("unexpected <{}> inside {inside}", String::from_utf8_lossy(name)))
        };
        match self.stack.last_mut() {
            None => {
                if self.root_done {
                    return Err(self.protocol("more than one root element"));
                }
                if name != self.kind.name().as_bytes() {
                    return Err(self.protocol(format!(
                        "expected <{}>, found <{}>",
                        self.kind.name(),
                        String::from_utf8_lossy(name)
                    )));
                }
                self.stack.push(Ctx::Root);
            }
            Some(Ctx::Root) => match (self.kind, name) {
                (Kind::Call, b"methodName") => {
                    if self.method.is_some() {
                        return Err(self.protocol("more than one <methodName>"));
                    }
                    self.text.clear();
                    self.stack.push(Ctx::MethodName);
                }
                (_, b"params") => {
                    if self.result.is_some() || self.params_seen {
                        return Err(self.protocol("more than one <params> or <fault>"));
                    }
                    self.params_seen = true;
                    if empty && self.kind == Kind::Response {
                        return Err(self.protocol("a response's <params> must hold exactly one <param>"));
                    }
                    self.stack.push(Ctx::Params);
                }
                (Kind::Response, b"fault") => {
                    if self.result.is_some() {
                        return Err(self.protocol("more than one <params> or <fault>"));
                    }
                    self.stack.push(Ctx::Fault(None));
                }
                _ => return Err(unexpected(self)),
            },
            Some(Ctx::Params) if name == b"param" => self.stack.push(Ctx::Param(None)),
            Some(Ctx::Param(None) | Ctx::Fault(None) | Ctx::Data(_) | Ctx::Member(Some(_), None))
                if name == b"value" =>
            {
                self.text.clear();
                self.stack.push(Ctx::Value { typed: None });
            }
            Some(Ctx::Value { typed: None }) => {
                if !is_xml_space(&self.text) {
                    return Err(self.protocol("text mixed with a type element inside <value>"));
                }
                self.text.clear();
                match name {
                    b"array" => self.push_compound(Ctx::Array(None))?,
                    b"struct" => {
                        let hint = self.struct_hints.get(self.depth).copied().unwrap_or(0);
                        self.push_compound(Ctx::Struct(Vec::with_capacity(hint)))?;
                    }
                    _ => match Scalar::from_local(name) {
                        Some(s) => {
                            let pos = self.pos();
                            self.stack.push(Ctx::Scalar(s, tag_name(s), pos));
                        }
                        None => {
                            return Err(DecodeError::Value {
                                tag: String::from_utf8_lossy(name).into_owned(),
                                text: String::new(),
                                reason: "is not a supported XML-RPC type".into(),
                                pos: self.pos(),
                            });
                        }
                    },
                }
            }
            Some(Ctx::Array(None)) if name == b"data" => self.stack.push(Ctx::Data(Vec::new())),
            Some(Ctx::Struct(_)) if name == b"member" => self.stack.push(Ctx::Member(None, None)),
            Some(Ctx::Member(None, None)) if name == b"name" => {
                self.text.clear();
                self.stack.push(Ctx::Name);
            }
            _ => return Err(unexpected(self)),
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), DecodeError> {
        let ctx = self.stack.pop().ok_or_else(|| self.protocol("unbalanced end tag"))?;
        match ctx {
            Ctx::Root => {
                self.root_done = true;
                if self.kind == Kind::Response && self.result.is_none() {
                    return Err(self.protocol("no <params> or <fault>"));
                }
            }
            Ctx::MethodName => {
                let name = std::mem::take(&mut self.text);
                let name = name.trim();
                if name.is_empty() {
                    return Err(self.protocol("empty <methodName>"));
                }
                if !is_valid_method_name(name) {
                    let shown: String = name.chars().take(64).collect();
                    return Err(self.protocol(format!(
                        "invalid method name {shown:?}: use 1 to 256 of the characters A-Z a-z 0-9 _ . : /"
                    )));
                }
                self.method = Some(name.to_owned());
            }
            Ctx::Params => {
                if self.kind == Kind::Response {
                    if self.params.len() != 1 {
                        return Err(self.protocol(format!(
                            "a response's <params> must hold exactly one <param>, found {}",
                            self.params.len()
                        )));
                    }
                    self.result = Some(Ok(self.params.pop().unwrap_or_default()));
                }
            }
            Ctx::Param(v) => {
                let v = v.ok_or_else(|| self.protocol("<param> without a <value>"))?;
                self.params.push(v);
            }
            Ctx::Fault(v) => {
                let v = v.ok_or_else(|| self.protocol("<fault> without a <value>"))?;
                let fault = Fault::from_value(&v).ok_or_else(|| {
                    self.protocol("a fault must be a struct with an int faultCode and a faultString")
                })?;
                self.result = Some(Err(fault));
            }
            Ctx::Value { typed } => {
                let v = match typed {
                    Some(v) => {
                        if !is_xml_space(&self.text) {
                            return Err(self.protocol("text mixed with a type element inside <value>"));
                        }
                        v
                    }
                    // Copied out at its exact size; the buffer stays for the next text.
                    None => Value::String(self.text.as_str().to_owned()),
                };
                self.text.clear();
                self.deliver(v)?;
            }
            Ctx::Scalar(kind, tag, pos) => {
                let v = parse_scalar(kind, tag, &self.text, pos)?;
                self.text.clear();
                self.set_typed(v);
            }
            Ctx::Array(data) => {
                self.depth -= 1;
                self.set_typed(Value::Array(data.unwrap_or_default()));
            }
            Ctx::Data(items) => match self.stack.last_mut() {
                Some(Ctx::Array(slot)) => *slot = Some(items),
                _ => return Err(self.protocol("<data> outside <array>")),
            },
            Ctx::Struct(mut members) => {
                self.depth -= 1;
                if let Some(hint) = self.struct_hints.get_mut(self.depth) {
                    *hint = members.len().min(MAX_HINT);
                }
                // A hint that overshot must not leave the value holding the slack.
                if members.capacity() > 4 && members.len() < members.capacity() / 2 {
                    members.shrink_to_fit();
                }
                let mut s = Struct(members);
                s.dedup_last_wins();
                self.set_typed(Value::Struct(s));
            }
            Ctx::Member(name, value) => {
                let (Some(name), Some(value)) = (name, value) else {
                    return Err(self.protocol("<member> needs a <name> and a <value>"));
                };
                match self.stack.last_mut() {
                    Some(Ctx::Struct(members)) => members.push((name, value)),
                    _ => return Err(self.protocol("<member> outside <struct>")),
                }
            }
            Ctx::Name => {
                let name = self.text.as_str().to_owned();
                self.text.clear();
                match self.stack.last_mut() {
                    Some(Ctx::Member(slot @ None, None)) => *slot = Some(name),
                    _ => return Err(self.protocol("misplaced <name>")),
                }
            }
        }
        Ok(())
    }

    /// Stores the value of a type element in its enclosing `<value>`.
    fn set_typed(&mut self, v: Value) {
        if let Some(Ctx::Value { typed }) = self.stack.last_mut() {
            *typed = Some(v);
        }
    }

    /// Hands a finished `<value>` to its parent.
    fn deliver(&mut self, v: Value) -> Result<(), DecodeError> {
        match self.stack.last_mut() {
            Some(Ctx::Param(slot) | Ctx::Fault(slot)) => *slot = Some(v),
            Some(Ctx::Data(items)) => items.push(v),
            Some(Ctx::Member(Some(_), slot @ None)) => *slot = Some(v),
            _ => return Err(self.protocol("misplaced <value>")),
        }
        Ok(())
    }
}

/// Whether `t` is only XML whitespace (space, tab, line feed, carriage return).
fn is_xml_space(t: &str) -> bool {
    t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Refuses characters XML 1.0 does not allow, written literally in text that starts at byte
/// `base` (the decoder must not produce strings the encoder could not write back).
fn check_chars(raw: &str, base: u64) -> Result<(), DecodeError> {
    let bytes = raw.as_bytes();
    let bad = bytes.iter().enumerate().find_map(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' => None,
        0..=0x1F => Some((i, u32::from(b))),
        // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8.
        0xEF if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) => {
            Some((i, 0xFFF0 + u32::from(bytes[i + 2] - 0xB0)))
        }
        _ => None,
    });
    match bad {
        None => Ok(()),
        Some((i, code)) => Err(DecodeError::Xml {
            pos: base + i as u64,
            message: format!("character U+{code:04X} is not allowed in XML"),
        }),
    }
}

fn ctx_name(c: &Ctx) -> &'static str {
    match c {
        Ctx::Root => "root",
        Ctx::MethodName => "methodName",
        Ctx::Params => "params",
        Ctx::Param(_) => "param",
        Ctx::Fault(_) => "fault",
        Ctx::Value { .. } => "value",
        Ctx::Scalar(_, tag, _) => tag,
        Ctx::Array(_) => "array",
        Ctx::Data(_) => "data",
        Ctx::Struct(_) => "struct",
        Ctx::Member(..) => "member",
        Ctx::Name => "name",
    }
}

fn parse_scalar(kind: Scalar, tag: &'static str, text: &str, pos: u64) -> Result<Value, DecodeError> {
    let bad = |reason: &str| DecodeError::Value {
        tag: tag.to_owned(),
        text: text.chars().take(64).collect(),
        reason: reason.to_owned(),
        pos,
    };
    let t = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    Ok(match kind {
        Scalar::Str => Value::String(text.to_owned()),
        Scalar::Int => {
            let n = parse_int(t).ok_or_else(|| bad("is not an integer"))?;
            if i32::try_from(n).is_err() {
                return Err(bad("is out of the 32-bit range of <int>; large values must be sent as <i8>"));
            }
            Value::Int(n)
        }
        Scalar::I8 => Value::Int(parse_int(t).ok_or_else(|| bad("is not a 64-bit integer"))?),
        Scalar::Bool => match t {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            _ => return Err(bad("is not a boolean; XML-RPC booleans are 0 or 1")),
        },
        Scalar::Double => {
            let ok = !t.is_empty()
                && t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
            let d: f64 = if ok {
                t.parse().map_err(|_| bad("is not a number"))?
            } else {
                return Err(bad("is not a number"));
            };
            if !d.is_finite() {
                return Err(bad("is out of the range of a double"));
            }
            Value::Double(d)
        }
        Scalar::DateTime => Value::DateTime(DateTime::parse(t).map_err(|e| bad(e.reason))?),
        Scalar::Base64 => {
            let compact: Cow<'_, str> = if t.bytes().any(|b| b.is_ascii_whitespace()) {
                Cow::Owned(t.chars().filter(|c| !c.is_ascii_whitespace()).collect())
            } else {
                Cow::Borrowed(t)
            };
            Value::Base64(
                BASE64.decode(compact.as_bytes()).map_err(|e| bad(&format!("is not base64 ({e})")))?,
            )
        }
        Scalar::Nil => {
            if !t.is_empty() {
                return Err(bad("must be empty"));
            }
            Value::Nil
        }
    })
}

/// Standard alphabet; padding optional on input.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Parses an optionally signed decimal integer (leading zeros allowed) into an i64.
fn parse_int(t: &str) -> Option<i64> {
    let digits = t.strip_prefix('+').unwrap_or(t);
    // After a `+`, `str::parse` would still accept a second sign (`+-1`).
    if digits.is_empty() || (digits.len() < t.len() && digits.starts_with(['+', '-'])) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most 1000 bytes per read, as a socket may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(1000);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_capped_keeps_bodies_up_to_the_cap_whole_and_refuses_more() {
        let body: Vec<u8> = (0..(9 << 20) + 7).map(|i: usize| (i % 251) as u8).collect();
        for len in [0, 1, 999, 64 << 10, (64 << 10) + 1, (5 << 20) + 3, body.len()] {
            match read_capped(Trickle(&body[..len]), body.len()) {
                Capped::Body(got) => assert!(got == body[..len], "a {len}-byte body came back changed"),
                _ => panic!("a {len}-byte body under the cap was refused"),
            }
        }
        for max in [0, 1, 1000, (4 << 20) + 1, body.len() - 1] {
            assert!(matches!(read_capped(Trickle(&body), max), Capped::TooLarge), "cap {max}");
        }
        let failing = std::io::Read::chain(Trickle(&body[..5000]), FailingReader);
        match read_capped(failing, body.len()) {
            Capped::Failed { error, read } => {
                assert_eq!((error.kind(), read), (std::io::ErrorKind::BrokenPipe, 5000))
            }
            _ => panic!("a failing reader was not reported"),
        }
    }

    struct FailingReader;

    impl Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    fn resp(body: &str) -> Value {
        decode_response(body.as_bytes()).unwrap().unwrap()
    }

    fn one(value_xml: &str) -> Value {
        resp(&format!("<methodResponse><params><param>{value_xml}</param></params></methodResponse>"))
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(one("<value>  spaced  </value>"), Value::from("  spaced  "));
        assert_eq!(one("<value/>"), Value::from(""));
        assert_eq!(one("<value></value>"), Value::from(""));
        assert_eq!(one("<value><string/></value>"), Value::from(""));
        assert_eq!(one("<value><i4> +042 </i4></value>"), Value::Int(42));
        assert_eq!(one("<value><ex:i8 xmlns:ex='x'>-9000000000</ex:i8></value>"), Value::Int(-9_000_000_000));
        assert_eq!(one("<value><ex:nil xmlns:ex='x'/></value>"), Value::Nil);
        assert_eq!(one("<value><string><![CDATA[a<b]]>&#x26;&amp;c</string></value>"), Value::from("a<b&&c"));
        assert_eq!(one("<value><string>a\r\nb\rc&#13;d</string></value>"), Value::from("a\nb\nc\rd"));
        assert_eq!(one("<value><double>1e3</double></value>"), Value::Double(1000.0));
        assert_eq!(one("<value><base64>aGVs\n bG8=\n</base64></value>"), Value::Base64(b"hello".to_vec()));
    }

    #[test]
    fn refusals_say_what_and_where() {
        let e = decode_response(b"<methodResponse><params><param><value><int>99999999999</int></value></param></params></methodResponse>").unwrap_err();
        assert!(e.to_string().contains("out of the 32-bit range"), "{e}");
        let e = decode_response(b"<methodResponse><params/></methodResponse>").unwrap_err();
        assert!(e.to_string().contains("exactly one <param>"), "{e}");
        let e = decode_response(b"<methodResponse><params><param><value><boolean>true</boolean></value></param></params></methodResponse>").unwrap_err();
        assert!(e.to_string().contains("0 or 1"), "{e}");
        let e = decode_response(b"<?xml version='1.0' encoding='UTF-16'?><methodResponse/>").unwrap_err();
        assert!(matches!(e, DecodeError::Encoding(_)), "{e}");
        let e = decode_response(b"<html><body>502</body></html>").unwrap_err();
        assert!(e.to_string().contains("expected <methodResponse>, found <html>"), "{e}");
    }

    #[test]
    fn duplicate_members_last_wins() {
        let v = one(
            "<value><struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct></value>",
        );
        assert_eq!(v.as_struct().unwrap().len(), 1);
        assert_eq!(v.get("a"), Some(&Value::from("2")));
    }

    #[test]
    fn crlf_documents_decode_like_lf_ones() {
        // A Windows peer's document: CRLF between elements and inside values, CR alone too.
        let lf = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n\
                  <name>a</name>\n<value><string>x\ny\nz</string></value>\n</member>\n<member>\n<name>b</name>\n\
                  <value>u\nv</value>\n</member>\n<member>\n<name>c</name>\n<value><string><![CDATA[p\nq]]></string>\
                  </value>\n</member>\n<member>\n<name>d</name>\n<value>\n<int>\n7\n</int>\n</value>\n</member>\n\
                  </struct></value>\n</param>\n</params>\n</methodResponse>\n";
        let crlf = lf.replace('\n', "\r\n").replace("x\r\ny\r\nz", "x\r\ny\rz");
        assert!(crlf.contains("x\r\ny\rz") && !crlf.contains(">\n"), "{crlf}");
        let want = Value::from(
            Struct::new().with("a", "x\ny\nz").with("b", "u\nv").with("c", "p\nq").with("d", Value::Int(7)),
        );
        assert_eq!(resp(lf), want);
        assert_eq!(resp(&crlf), want);
    }

    #[test]
    fn text_around_type_elements_is_still_refused() {
        for (body, want) in [
            ("<value>x<string>s</string></value>", "text mixed with a type element"),
            ("<value>\r\n&amp;<string>s</string></value>", "text mixed with a type element"),
            ("<value><![CDATA[x]]><int>1</int></value>", "text mixed with a type element"),
            ("<value><string>s</string>x</value>", "unexpected text \"x\""),
            ("<value><string>s</string>\r\n<![CDATA[y]]></value>", "unexpected text \"y\""),
        ] {
            let doc = format!("<methodResponse><params><param>{body}</param></params></methodResponse>");
            let e = decode_response(doc.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(want), "{body}: {e}");
        }
        let e = decode_response(
            b"<methodResponse><params>\r\nstray\r\n<param><value/></param></params></methodResponse>",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unexpected text \"stray\""), "{e}");
    }

    #[test]
    fn struct_capacity_follows_the_previous_struct_at_its_depth() {
        fn member(i: usize) -> String {
            format!("<member><name>m{i}</name><value><int>{i}</int></value></member>")
        }
        fn record(n: usize) -> String {
            format!("<value><struct>{}</struct></value>", (0..n).map(member).collect::<String>())
        }
        // Like records, then a big one, then an empty one, then like records again.
        let sizes = [15, 15, 15, 200, 0, 1, 15, 15];
        let body = format!("<value><array><data>{}</data></array></value>", sizes.map(record).concat());
        let v = one(&body);
        let items = v.as_array().unwrap();
        assert_eq!(items.len(), sizes.len());
        for (item, &n) in items.iter().zip(&sizes) {
            let s = item.as_struct().unwrap();
            assert_eq!(s.len(), n);
            for (i, (k, v)) in s.iter().enumerate() {
                assert_eq!((k, v), (format!("m{i}").as_str(), &Value::Int(i as i64)));
            }
            // No struct keeps more than twice its size (nor 4 slots when smaller).
            assert!(s.0.capacity() <= (2 * n).max(4), "{n} members, capacity {}", s.0.capacity());
        }
        // Records after the first of a kind are sized exactly.
        assert_eq!(items[1].as_struct().unwrap().0.capacity(), 15);
        assert_eq!(items[7].as_struct().unwrap().0.capacity(), 15);
    }

    #[test]
    fn names_and_untyped_strings_hold_exactly_their_text() {
        let long = "L".repeat(5000);
        let v = one(&format!(
            "<value><struct><member><name>first</name><value><string>{long}</string></value></member>\
             <member><name>n</name><value>u&amp;v</value></member>\
             <member><name>e</name><value></value></member></struct></value>"
        ));
        let s = v.as_struct().unwrap();
        assert_eq!(s.get("first").and_then(Value::as_str), Some(long.as_str()));
        assert_eq!(s.get("n").and_then(Value::as_str), Some("u&v"));
        assert_eq!(s.get("e").and_then(Value::as_str), Some(""));
        for (name, value) in &s.0 {
            assert_eq!(name.capacity(), name.len(), "{name}");
            if let Value::String(text) = value {
                assert_eq!(text.capacity(), text.len(), "{name}");
            }
        }
    }

    #[test]
    fn blanks_are_skipped_only_where_no_text_is_collected() {
        // Leading blanks of strings, untyped values and names are kept.
        let v =
            one("<value><struct>\n  <member>\n  <name>  n</name>\n  <value>\n  y</value>\n  </member>\n  \
             <member><name>s</name><value><string>\n\t x</string></value></member>\n</struct>\n</value>");
        assert_eq!(v.get("  n"), Some(&Value::from("\n  y")));
        assert_eq!(v.get("s"), Some(&Value::from("\n\t x")));
        // Stray text is refused where it ends, as before, blanks or not.
        for (stray, shown) in [("\n  stray  \n", "\"stray\""), ("x", "\"x\"")] {
            let doc = format!(
                "<methodResponse><params><param><value><struct>{stray}<member><name>a</name><value/></member>\
                 </struct></value></param></params></methodResponse>"
            );
            let at = doc.find("<member>").unwrap();
            let e = decode_response(doc.as_bytes()).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("not a valid XML-RPC methodResponse at byte {at}: unexpected text {shown}"),
                "{stray:?}"
            );
        }
        let e = decode_response(b"<methodResponse><params><param><value><array>\n  &amp;<data/></array></value></param></params></methodResponse>")
            .unwrap_err();
        assert!(e.to_string().contains("unexpected character data '&'"), "{e}");
    }

    #[test]
    fn forbidden_characters_are_placed_exactly_after_skipped_blanks_and_references() {
        for body in [
            "<value><struct>\n  \u{1}<member/></struct></value>",
            "<value><array>\r\n\t\u{1}<data/></array></value>",
            "<value><string>a&amp;b\u{1}</string></value>",
            "<value>  &lt;\u{1}</value>",
            "<value><string><![CDATA[x]]>\n\u{1}</string></value>",
        ] {
            let doc = format!("<methodResponse><params><param>{body}</param></params></methodResponse>");
            let at = doc.find('\u{1}').unwrap() as u64;
            let e = decode_response(doc.as_bytes()).unwrap_err();
            assert_eq!(
                e,
                DecodeError::Xml { pos: at, message: "character U+0001 is not allowed in XML".into() },
                "{body:?}"
            );
        }
    }
}
