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
    out.clear();
    out.reserve(128);
    out.push_str(DECL);
    out.push_str("<methodResponse>\n<params>\n<param>");
    write_value(out, value, Path::Result)?;
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    Ok(())
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
            Value::Int(i) => {
                if i32::try_from(*i).is_ok() {
                    out.push_str("<value><int>");
                    write_int(out, *i);
                    out.push_str("</int></value>");
                } else {
                    out.push_str("<value><i8>");
                    write_int(out, *i);
                    out.push_str("</i8></value>");
                }
            }
            Value::Bool(b) => {
                out.push_str(if *b {
                    "<value><boolean>1</boolean></value>"
                } else {
                    "<value><boolean>0</boolean></value>"
                });
            }
            Value::String(s) => {
                out.push_str("<value><string>");
                if let Err((code, index)) = escape_into(out, s) {
                    return Err(EncodeError::IllegalChar {
                        path: render_path(path, &frames, seg),
                        code,
                        index,
                    });
                }
                out.push_str("</string></value>");
            }
            Value::Double(d) => {
                if !d.is_finite() {
                    return Err(EncodeError::NonFiniteDouble {
                        path: render_path(path, &frames, seg),
                        value: *d,
                    });
                }
                out.push_str("<value><double>");
                write_double(out, *d);
                out.push_str("</double></value>");
            }
            Value::DateTime(dt) => {
                out.push_str("<value><dateTime.iso8601>");
                write_datetime(out, dt);
                out.push_str("</dateTime.iso8601></value>");
            }
            Value::Base64(b) => {
                out.push_str("<value><base64>");
                base64::engine::general_purpose::STANDARD.encode_string(b, out);
                out.push_str("</base64></value>");
            }
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

fn render_path(path: Path, frames: &[Frame<'_>], last: Seg<'_>) -> String {
    let mut s = match path {
        Path::Param(i) => format!("params[{i}]"),
        Path::Result => "result".to_owned(),
        Path::Value => "value".to_owned(),
    };
    for seg in frames.iter().map(Frame::seg).chain(std::iter::once(last)) {
        match seg {
            Seg::Root => {}
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
            Seg::Member(m) => {
                let _ = write!(s, ".{m}");
            }
        }
    }
    s
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

/// Writes an integer in decimal without going through `core::fmt`.
fn write_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    // A few ASCII digits: pushing them one by one beats validating and copying a slice.
    out.extend(buf[pos..].iter().map(|&b| char::from(b)));
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
            "result[0].b\u{1} (member name): character U+0001 at char 1 cannot be carried by XML; send binary data as base64"
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
    fn deep_values_encode_without_recursion() {
        let mut v = Value::Int(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let s = encode_value(&v).unwrap();
        assert_eq!(s.matches("<array>").count(), 100_000);
    }
}
