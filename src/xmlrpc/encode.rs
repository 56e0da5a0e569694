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
    let mut out = String::with_capacity(128);
    out.push_str(DECL);
    out.push_str("<methodResponse>\n<params>\n<param>");
    write_value(&mut out, value, Path::Result)?;
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    Ok(out.into_bytes())
}

/// Encodes a fault response. Never fails: characters XML cannot carry in the fault string are
/// replaced by U+FFFD.
pub fn encode_fault(fault: &Fault) -> Vec<u8> {
    let message: String =
        fault.message.chars().map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' }).collect();
    let value = Fault { code: fault.code, message }.to_value();
    let mut out = String::with_capacity(256);
    out.push_str(DECL);
    out.push_str("<methodResponse>\n<fault>\n");
    write_value(&mut out, &value, Path::Result).expect("a sanitized fault always encodes");
    out.push_str("\n</fault>\n</methodResponse>\n");
    out.into_bytes()
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

/// One step of the walk.
enum Step<'a> {
    /// Write this value; `Seg` says where it sits in its parent.
    Open(&'a Value, Seg<'a>),
    /// Write `<member><name>…</name>`.
    Name(&'a str),
    /// Write `</member>`.
    EndMember,
    /// Write the closing tags of an array or struct and leave it.
    Close(&'static str),
}

/// A path segment, kept only to name where an error is.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Index(usize),
    Member(&'a str),
}

fn write_value(out: &mut String, root: &Value, path: Path) -> Result<(), EncodeError> {
    // `trail` holds the path segments of the open compound values, for error messages.
    let mut trail: Vec<Seg<'_>> = Vec::new();
    let mut stack: Vec<Step<'_>> = vec![Step::Open(root, Seg::Root)];
    while let Some(step) = stack.pop() {
        let (v, seg) = match step {
            Step::Open(v, seg) => (v, seg),
            Step::Name(name) => {
                out.push_str("<member><name>");
                escape_into(out, name).map_err(|(code, index)| EncodeError::IllegalChar {
                    path: format!("{} (member name)", render_path(path, &trail, Seg::Member(name))),
                    code,
                    index,
                })?;
                out.push_str("</name>");
                continue;
            }
            Step::EndMember => {
                out.push_str("</member>");
                continue;
            }
            Step::Close(tag) => {
                out.push_str(tag);
                trail.pop();
                continue;
            }
        };
        let err_path = |trail: &[Seg<'_>]| render_path(path, trail, seg);
        match v {
            Value::Int(i) => {
                if i32::try_from(*i).is_ok() {
                    let _ = write!(out, "<value><int>{i}</int></value>");
                } else {
                    let _ = write!(out, "<value><i8>{i}</i8></value>");
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
                escape_into(out, s).map_err(|(code, index)| EncodeError::IllegalChar {
                    path: err_path(&trail),
                    code,
                    index,
                })?;
                out.push_str("</string></value>");
            }
            Value::Double(d) => {
                if !d.is_finite() {
                    return Err(EncodeError::NonFiniteDouble { path: err_path(&trail), value: *d });
                }
                out.push_str("<value><double>");
                write_double(out, *d);
                out.push_str("</double></value>");
            }
            Value::DateTime(dt) => {
                let _ = write!(out, "<value><dateTime.iso8601>{dt}</dateTime.iso8601></value>");
            }
            Value::Base64(b) => {
                out.push_str("<value><base64>");
                base64::engine::general_purpose::STANDARD.encode_string(b, out);
                out.push_str("</base64></value>");
            }
            Value::Nil => out.push_str("<value><nil/></value>"),
            Value::Array(items) => {
                out.push_str("<value><array><data>");
                trail.push(seg);
                stack.push(Step::Close("</data></array></value>"));
                stack.extend(items.iter().enumerate().rev().map(|(i, c)| Step::Open(c, Seg::Index(i))));
            }
            Value::Struct(s) => {
                out.push_str("<value><struct>");
                trail.push(seg);
                stack.push(Step::Close("</struct></value>"));
                for (name, c) in s.0.iter().rev() {
                    stack.push(Step::EndMember);
                    stack.push(Step::Open(c, Seg::Member(name)));
                    stack.push(Step::Name(name));
                }
            }
        }
    }
    Ok(())
}

fn render_path(path: Path, trail: &[Seg<'_>], last: Seg<'_>) -> String {
    let mut s = match path {
        Path::Param(i) => format!("params[{i}]"),
        Path::Result => "result".to_owned(),
        Path::Value => "value".to_owned(),
    };
    for seg in trail.iter().chain(std::iter::once(&last)) {
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

/// Appends `text` with `&` `<` `>` and CR escaped. Fails with (code point, char index) on a
/// character XML cannot carry.
fn escape_into(out: &mut String, text: &str) -> Result<(), (u32, usize)> {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "&#13;",
            b'\t' | b'\n' => continue,
            0..=0x1F => return Err((u32::from(b), text[..i].chars().count())),
            // U+FFFE and U+FFFF are EF BF BE / EF BF BF in UTF-8.
            0xEF if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) => {
                return Err((0xFFF0 + u32::from(bytes[i + 2] - 0xB0), text[..i].chars().count()));
            }
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&text[start..]);
    Ok(())
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
    fn deep_values_encode_without_recursion() {
        let mut v = Value::Int(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let s = encode_value(&v).unwrap();
        assert_eq!(s.matches("<array>").count(), 100_000);
    }
}
