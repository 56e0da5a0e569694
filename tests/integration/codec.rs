//! The XML-RPC codec against xml-rpc.md: the §2.2 pitfalls, the §3 "Parse" and "Emit" rules and
//! the §4 safety limits, one named test per case.

use std::io::Write as _;

use gandish::xmlrpc::{
    DateTime, DecodeError, EncodeError, Fault, Limits, Struct, Value, decode_call, decode_call_with,
    decode_response, decode_response_with, encode_call, encode_fault, encode_response, encode_value,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn response_doc(value_xml: &str) -> String {
    format!("<methodResponse><params><param>{value_xml}</param></params></methodResponse>")
}

/// Decodes a response that must succeed and hold a value (not a fault).
fn value(value_xml: &str) -> Value {
    match decode_response(response_doc(value_xml).as_bytes()) {
        Ok(Ok(v)) => v,
        other => panic!("{value_xml}: {other:?}"),
    }
}

/// Decodes a response that must be refused.
fn refused(doc: &str) -> DecodeError {
    match decode_response(doc.as_bytes()) {
        Err(e) => e,
        Ok(r) => panic!("accepted {doc:?} as {r:?}"),
    }
}

fn refused_value(value_xml: &str) -> DecodeError {
    refused(&response_doc(value_xml))
}

fn refused_call(doc: &str) -> DecodeError {
    match decode_call(doc.as_bytes()) {
        Err(e) => e,
        Ok(c) => panic!("accepted {doc:?} as {c:?}"),
    }
}

fn round_trip(v: &Value) -> Value {
    decode_response(&encode_response(v).unwrap()).unwrap().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn nested_arrays(depth: usize) -> String {
    format!(
        "{}<value>1</value>{}",
        "<value><array><data>".repeat(depth),
        "</data></array></value>".repeat(depth)
    )
}

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().expect("thread panicked")
}

// ---------------------------------------------------------------------------------------------
// §2.2 pitfalls and §3 "Parse"

#[test]
fn untyped_and_empty_values_are_strings() {
    assert_eq!(value("<value/>"), Value::from(""));
    assert_eq!(value("<value></value>"), Value::from(""));
    assert_eq!(value("<value><string/></value>"), Value::from(""));
    assert_eq!(value("<value><string></string></value>"), Value::from(""));
    assert_eq!(value("<value>plain</value>"), Value::from("plain"));
    assert_eq!(
        value("<value>  spaced \n </value>"),
        Value::from("  spaced \n "),
        "untyped text is kept verbatim"
    );
    assert_eq!(
        value("<value><string>  padded\t</string></value>"),
        Value::from("  padded\t"),
        "strings are never trimmed"
    );
    assert_eq!(value("<value>a&amp;b</value>"), Value::from("a&b"));
    assert_eq!(value("<value>\n  <int>5</int>\n</value>"), Value::Int(5), "formatting around a type element");
}

#[test]
fn self_closing_forms_are_read_and_only_nil_is_written() {
    assert_eq!(value("<value><nil/></value>"), Value::Nil);
    assert_eq!(value("<value><array><data/></array></value>"), Value::Array(vec![]));
    assert_eq!(value("<value><array/></value>"), Value::Array(vec![]));
    assert_eq!(value("<value><struct/></value>"), Value::Struct(Struct::new()));
    let call = decode_call(b"<methodCall><methodName>system.listMethods</methodName><params/></methodCall>")
        .unwrap();
    assert_eq!(call.params, vec![]);

    let v = Value::Array(vec![
        Value::from(""),
        Value::Array(vec![]),
        Value::Struct(Struct::new()),
        Value::Nil,
        Value::Base64(vec![]),
    ]);
    let xml = String::from_utf8(encode_response(&v).unwrap()).unwrap();
    assert_eq!(xml.matches("/>").count(), 1, "only <nil/> is self-closing: {xml}");
    assert!(
        xml.contains("<string></string>") && xml.contains("<data></data>") && xml.contains("<nil/>"),
        "{xml}"
    );
    let call = String::from_utf8(encode_call("system.listMethods", &[]).unwrap()).unwrap();
    assert!(call.contains("<params>\n</params>") && !call.contains("<params/>"), "{call}");
}

#[test]
fn carriage_returns_are_escaped_on_output_and_normalised_on_input() {
    let xml = encode_value(&Value::from("a\r\nb\rc")).unwrap();
    assert_eq!(xml, "<value><string>a&#13;\nb&#13;c</string></value>");
    assert_eq!(round_trip(&Value::from("a\r\nb\rc")), Value::from("a\r\nb\rc"));
    // Raw CRs in the document are line ends (XML end-of-line normalisation); &#13; is a CR.
    assert_eq!(value("<value><string>a\r\nb\rc&#13;d</string></value>"), Value::from("a\nb\nc\rd"));
    assert_eq!(value("<value>x\r\n</value>"), Value::from("x\n"));
    assert_eq!(value("<value><string><![CDATA[a\r\nb]]></string></value>"), Value::from("a\nb"));
}

#[test]
fn control_characters_are_refused_at_encode_naming_where() {
    let illegal = (0u32..0x20).filter(|c| ![0x09, 0x0A, 0x0D].contains(c)).chain([0xFFFE, 0xFFFF]);
    for code in illegal {
        let c = char::from_u32(code).unwrap();
        let v = Value::Struct(
            Struct::new().with("notes", vec![Value::from("ok"), Value::from(format!("ab{c}"))]),
        );
        let e = encode_call("paas.update", &[Value::from("key"), v]).unwrap_err();
        assert_eq!(
            e,
            EncodeError::IllegalChar { path: "params[1].notes[1]".into(), code, index: 2 },
            "U+{code:04X}"
        );
        assert!(e.to_string().contains(&format!("U+{code:04X}")), "{e}");
    }
    // In a member name too, and the message says so.
    let e = encode_response(&Value::Struct(Struct::new().with("a\u{1}", 1))).unwrap_err();
    // The odd name is quoted, so the message carries no raw control character.
    assert!(
        e.to_string().starts_with(r#"result["a\u0001"] (member name): character U+0001 at char 1"#),
        "{e}"
    );
    // Tab, newline and CR are fine, as are characters beyond the BMP.
    assert!(encode_value(&Value::from("\t\n\r😀\u{10FFFF}")).is_ok());
    // A fault never fails: illegal characters become U+FFFD.
    let body = encode_fault(&Fault::new(1, "bad\u{0}byte"));
    assert_eq!(decode_response(&body).unwrap().unwrap_err(), Fault::new(1, "bad\u{FFFD}byte"));
}

#[test]
fn markup_characters_are_escaped_and_entities_resolved() {
    let s = "a & b < c > d ]]> e \"q\" 'a'";
    let xml = encode_value(&Value::from(s)).unwrap();
    assert_eq!(xml, "<value><string>a &amp; b &lt; c &gt; d ]]&gt; e \"q\" 'a'</string></value>");
    assert_eq!(round_trip(&Value::from(s)), Value::from(s));
    let name = "<&>";
    let xml = encode_value(&Value::Struct(Struct::new().with(name, 1))).unwrap();
    assert!(xml.contains("<name>&lt;&amp;&gt;</name>"), "{xml}");
    assert_eq!(
        value("<value>&lt;&gt;&amp;&apos;&quot;&#60;&#x3E;&#x26;&#233;&#x1F600;</value>"),
        Value::from("<>&'\"<>&é😀")
    );
    // UTF-8 is written literally, not as references.
    assert_eq!(encode_value(&Value::from("é😀")).unwrap(), "<value><string>é😀</string></value>");
}

#[test]
fn cdata_is_accepted_and_never_written() {
    assert_eq!(
        value("<value><string><![CDATA[<b>&amp;</b>]]></string></value>"),
        Value::from("<b>&amp;</b>")
    );
    assert_eq!(value("<value><![CDATA[x]]]]><![CDATA[>y]]></value>"), Value::from("x]]>y"));
    assert_eq!(
        value("<value><string>a<![CDATA[<]]>b&amp;<![CDATA[]]>c</string></value>"),
        Value::from("a<b&c")
    );
    assert_eq!(
        value("<value><struct><member><name><![CDATA[k&]]></name><value>1</value></member></struct></value>")
            .get("k&"),
        Some(&Value::from("1"))
    );
    assert!(!encode_value(&Value::from("]]><![CDATA[")).unwrap().contains("<![CDATA["));
}

#[test]
fn entities_split_across_events_are_joined() {
    assert_eq!(value("<value><string>a&amp;b&#x26;c&lt;d</string></value>"), Value::from("a&b&c<d"));
    assert_eq!(value("<value>&amp;&amp;</value>"), Value::from("&&"));
    let v = value(
        "<value><struct><member><name>x&amp;y</name><value><string>&quot;</string></value></member></struct></value>",
    );
    assert_eq!(v.get("x&y"), Some(&Value::from("\"")));
    let call = decode_call(b"<methodCall><methodName>a&#46;b</methodName></methodCall>").unwrap();
    assert_eq!(call.method, "a.b");
    // Numbers, too, may be written with references.
    assert_eq!(value("<value><int>&#49;2</int></value>"), Value::Int(12));
}

#[test]
fn oversized_int_is_an_error_naming_tag_text_and_position() {
    let doc = response_doc("<value><int>2147483648</int></value>");
    let e = refused(&doc);
    let at = doc.find("<int>").unwrap() + "<int>".len();
    match &e {
        DecodeError::Value { tag, text, pos, reason } => {
            assert_eq!((tag.as_str(), text.as_str(), *pos), ("int", "2147483648", at as u64));
            assert!(reason.contains("32-bit range"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "invalid <int> at byte {at}: \"2147483648\" is out of the 32-bit range of <int>; large values must be sent as <i8>"
        )
    );
    assert!(matches!(refused_value("<value><i4>-2147483649</i4></value>"), DecodeError::Value { .. }));
    assert_eq!(value("<value><i4>-2147483648</i4></value>"), Value::Int(i64::from(i32::MIN)));
    assert_eq!(value("<value><int>2147483647</int></value>"), Value::Int(i64::from(i32::MAX)));
    assert_eq!(value("<value><i8>2147483648</i8></value>"), Value::Int(2_147_483_648));
    assert_eq!(value("<value><i8>-9223372036854775808</i8></value>"), Value::Int(i64::MIN));
    assert!(
        refused_value("<value><i8>9223372036854775808</i8></value>")
            .to_string()
            .contains("not a 64-bit integer")
    );
    for bad in ["", "1.0", "0x10", "1 2", "++1", "+-1", "-+1", "--1", "one"] {
        let e = refused_value(&format!("<value><int>{bad}</int></value>"));
        assert!(e.to_string().contains("is not an integer"), "{bad:?}: {e}");
    }
    assert_eq!(value("<value><int> +007 </int></value>"), Value::Int(7), "sign, leading zeros and padding");
    // The encoder picks the tag by range.
    assert_eq!(encode_value(&Value::Int(2_147_483_648)).unwrap(), "<value><i8>2147483648</i8></value>");
}

#[test]
fn doubles_refuse_nan_and_infinity_and_accept_exponents() {
    assert_eq!(value("<value><double>1e3</double></value>"), Value::Double(1000.0));
    assert_eq!(value("<value><double> -1.5E-3 </double></value>"), Value::Double(-0.0015));
    assert_eq!(value("<value><double>+.5</double></value>"), Value::Double(0.5));
    assert_eq!(value("<value><double>7</double></value>"), Value::Double(7.0));
    for bad in ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "", "1,5", "0x1p3", "e5"] {
        let e = refused_value(&format!("<value><double>{bad}</double></value>"));
        assert!(matches!(&e, DecodeError::Value { tag, .. } if tag == "double"), "{bad:?}: {e}");
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = encode_call("m", &[Value::Int(1), Value::Array(vec![Value::Double(bad)])]).unwrap_err();
        assert!(matches!(&e, EncodeError::NonFiniteDouble { path, .. } if path == "params[1][0]"), "{e}");
    }
    let big = encode_value(&Value::Double(1e300)).unwrap();
    let small = encode_value(&Value::Double(-1e-300)).unwrap();
    for xml in [&big, &small] {
        let digits = xml.trim_start_matches("<value><double>").trim_end_matches("</double></value>");
        assert!(digits.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-'), "no exponent: {xml}");
    }
    assert_eq!(round_trip(&Value::Double(1e300)), Value::Double(1e300));
    assert_eq!(round_trip(&Value::Double(-1e-300)), Value::Double(-1e-300));
    assert_eq!(encode_value(&Value::Double(2.0)).unwrap(), "<value><double>2.0</double></value>");
}

#[test]
fn booleans_are_0_or_1_only() {
    assert_eq!(value("<value><boolean>1</boolean></value>"), Value::Bool(true));
    assert_eq!(value("<value><boolean> 0\n</boolean></value>"), Value::Bool(false));
    for bad in ["true", "false", "2", "", "01", "yes"] {
        let e = refused_value(&format!("<value><boolean>{bad}</boolean></value>"));
        assert!(e.to_string().contains("XML-RPC booleans are 0 or 1"), "{bad:?}: {e}");
    }
}

#[test]
fn duplicate_struct_keys_last_one_wins_at_the_first_position() {
    let v = value(
        "<value><struct><member><name>a</name><value><int>1</int></value></member>\
         <member><name>b</name><value><int>2</int></value></member>\
         <member><name>a</name><value><int>3</int></value></member></struct></value>",
    );
    let s = v.as_struct().unwrap();
    assert_eq!(s.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(s.get("a"), Some(&Value::Int(3)));
    // More than 16 members takes the hashing path.
    let mut xml = String::from("<value><struct>");
    for i in 0..40 {
        xml += &format!("<member><name>k{}</name><value><int>{i}</int></value></member>", i % 20);
    }
    xml += "</struct></value>";
    let v = value(&xml);
    assert_eq!(v.as_struct().unwrap().len(), 20);
    assert_eq!(v.get("k0"), Some(&Value::Int(20)));
    assert_eq!(v.as_struct().unwrap().keys().next(), Some("k0"));
}

#[test]
fn numeric_looking_and_padded_member_names_are_kept_exactly() {
    let v = value(
        "<value><struct><member><name>2000</name><value><struct><member><name>04</name><value><struct>\
         <member><name>01</name><value><int>1</int></value></member>\
         <member><name> 1 </name><value><int>2</int></value></member>\
         <member><name></name><value><int>3</int></value></member>\
         </struct></value></member></struct></value></member></struct></value>",
    );
    let day = v.get("2000").unwrap().get("04").unwrap();
    assert_eq!(day.get("01"), Some(&Value::Int(1)));
    assert_eq!(day.get("1"), None);
    assert_eq!(day.get(" 1 "), Some(&Value::Int(2)));
    assert_eq!(day.get(""), Some(&Value::Int(3)));
    assert_eq!(round_trip(&v), v);
}

#[test]
fn faults_tolerate_extra_members_and_a_string_code() {
    let fault = |members: &str| {
        format!("<methodResponse><fault><value><struct>{members}</struct></value></fault></methodResponse>")
    };
    let code = "<member><name>faultCode</name><value><int>4</int></value></member>";
    let text = "<member><name>faultString</name><value><string>Too many params</string></value></member>";
    let cause = "<member><name>faultCause</name><value><struct></struct></value></member>";
    let r = decode_response(fault(&format!("{cause}{text}{code}")).as_bytes()).unwrap();
    assert_eq!(r, Err(Fault::new(4, "Too many params")));
    let string_code = "<member><name>faultCode</name><value><string> 510042 </string></value></member>";
    let r = decode_response(fault(&format!("{string_code}{text}")).as_bytes()).unwrap();
    assert_eq!(r, Err(Fault::new(510_042, "Too many params")));
    for bad in [
        text.to_owned(),
        code.to_owned(),
        format!("{text}<member><name>faultCode</name><value>x</value></member>"),
    ] {
        let e = refused(&fault(&bad));
        assert!(
            e.to_string().contains("a fault must be a struct with an int faultCode and a faultString"),
            "{e}"
        );
    }
    let e = refused("<methodResponse><fault><value><int>1</int></value></fault></methodResponse>");
    assert!(e.to_string().contains("a fault must be a struct"), "{e}");
    // Our own faults round-trip.
    let f = Fault::new(-32601, "method \"x\" not found <here>");
    assert_eq!(decode_response(&encode_fault(&f)).unwrap(), Err(f));
}

#[test]
fn a_response_needs_exactly_one_param() {
    for doc in [
        "<methodResponse><params/></methodResponse>",
        "<methodResponse><params></params></methodResponse>",
        "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>",
    ] {
        let e = refused(doc);
        assert!(matches!(e, DecodeError::Protocol { kind: "methodResponse", .. }), "{doc}: {e:?}");
        assert!(e.to_string().contains("exactly one <param>"), "{e}");
    }
    for doc in ["<methodResponse></methodResponse>", "<methodResponse/>"] {
        assert!(refused(doc).to_string().contains("no <params> or <fault>"), "{doc}");
    }
    let both = "<methodResponse><params><param><value>1</value></param></params><fault><value><struct/></value></fault></methodResponse>";
    assert!(refused(both).to_string().contains("more than one <params> or <fault>"));
    let e = refused("<methodResponse><params><param></param></params></methodResponse>");
    assert!(e.to_string().contains("<param> without a <value>"), "{e}");
}

#[test]
fn iso_8859_1_body_is_transcoded() {
    let body =
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<methodResponse><params><param><value><struct>\
<member><name>caf\xE9</name><value>X\xFF</value></member></struct></value></param></params></methodResponse>";
    let v = decode_response(body).unwrap().unwrap();
    assert_eq!(v.get("café"), Some(&Value::from("Xÿ")));
    let latin1 = b"<?xml version='1.0' encoding='latin-1'?><methodResponse><params><param><value>\xE9t\xE9</value></param></params></methodResponse>";
    assert_eq!(decode_response(latin1).unwrap().unwrap(), Value::from("été"));
    // Without the declaration the same bytes are not UTF-8, and the error says where.
    let undeclared = &latin1[latin1.iter().position(|&b| b == b'>').unwrap() + 1..];
    let at = undeclared.iter().position(|&b| b == 0xE9).unwrap() as u64;
    let e = decode_response(undeclared).unwrap_err();
    assert_eq!(e, DecodeError::Xml { pos: at, message: "invalid UTF-8".into() });
    assert!(e.to_string().contains("invalid UTF-8"), "{e}");
}

#[test]
fn windows_1252_body_is_transcoded() {
    let body = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><methodResponse><params><param><value>\x80 \x93q\x94 \x85 \xE9</value></param></params></methodResponse>";
    assert_eq!(decode_response(body).unwrap().unwrap(), Value::from("€ “q” … é"));
}

#[test]
fn utf16_is_refused_clearly() {
    let doc = response_doc("<value>x</value>");
    let utf16le: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(doc.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let utf16be: Vec<u8> =
        [0xFE, 0xFF].into_iter().chain(doc.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    let no_bom: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let declared = format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?>{doc}").into_bytes();
    for body in [utf16le, utf16be, no_bom, declared] {
        let e = decode_response(&body).unwrap_err();
        assert!(matches!(&e, DecodeError::Encoding(enc) if enc == "UTF-16"), "{e:?}");
        assert!(e.to_string().contains("unsupported encoding \"UTF-16\""), "{e}");
    }
    let e =
        decode_response(format!("<?xml version='1.0' encoding='Shift_JIS'?>{doc}").as_bytes()).unwrap_err();
    assert!(matches!(e, DecodeError::Encoding(_)), "{e:?}");
    // A UTF-8 BOM is fine.
    let bom: Vec<u8> = [0xEF, 0xBB, 0xBF].iter().copied().chain(doc.bytes()).collect();
    assert_eq!(decode_response(&bom).unwrap().unwrap(), Value::from("x"));
}

#[test]
fn gzip_bodies_are_decompressed() {
    let v = Value::Array((0..500).map(|i| Value::from(format!("item {i}"))).collect());
    let body = gzip(&encode_response(&v).unwrap());
    assert_eq!(decode_response(&body).unwrap().unwrap(), v);
    let call = gzip(&encode_call("paas.list", &[Value::from("k")]).unwrap());
    assert_eq!(decode_call(&call).unwrap().method, "paas.list");
    let mut corrupt = body.clone();
    corrupt.truncate(body.len() / 2);
    assert!(matches!(decode_response(&corrupt).unwrap_err(), DecodeError::Gzip(_)));
}

#[test]
fn datetime_variants_are_read_and_the_offset_recorded() {
    let want = DateTime::new(1998, 7, 17, 14, 8, 55).unwrap();
    for text in [
        "19980717T14:08:55",
        "1998-07-17T14:08:55",
        "19980717T140855",
        " 19980717T14:08:55\n",
        "19980717T14:08:55.123456",
    ] {
        let v = value(&format!("<value><dateTime.iso8601>{text}</dateTime.iso8601></value>"));
        assert_eq!(v, Value::DateTime(want), "{text:?}");
        assert_eq!(v.as_datetime().unwrap().offset_minutes, None);
    }
    for (text, offset) in [
        ("1998-07-17T14:08:55.000Z", 0),
        ("19980717T14:08:55+02:00", 120),
        ("19980717T14:08:55-0530", -330),
        ("19980717T14:08:55+01", 60),
    ] {
        let v = value(&format!("<value><dateTime.iso8601>{text}</dateTime.iso8601></value>"));
        let dt = v.as_datetime().unwrap();
        assert_eq!(
            (dt.naive(), dt.offset_minutes),
            (want, Some(offset)),
            "{text}: the clock is kept as written"
        );
    }
    // Apache's ex:dateTime spelling.
    assert_eq!(
        value("<value><ex:dateTime xmlns:ex='e'>1998-07-17T14:08:55</ex:dateTime></value>"),
        Value::DateTime(want)
    );
    for bad in ["19981317T14:08:55", "19980230T00:00:00", "1998071T14:08:55", "yesterday", ""] {
        let e = refused_value(&format!("<value><dateTime.iso8601>{bad}</dateTime.iso8601></value>"));
        assert!(
            matches!(&e, DecodeError::Value { tag, text, .. } if tag == "dateTime.iso8601" && text == bad),
            "{e:?}"
        );
    }
    assert_eq!(
        encode_value(&Value::DateTime(want)).unwrap(),
        "<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>"
    );
}

#[test]
fn wrapped_base64_is_accepted() {
    let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    let plain = base64_std(&data);
    let wrapped: String =
        plain.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n");
    assert_eq!(value(&format!("<value><base64>\n{wrapped}\n</base64></value>")), Value::Base64(data.clone()));
    assert_eq!(
        value("<value><base64>aGVs bG8</base64></value>"),
        Value::Base64(b"hello".to_vec()),
        "spaces, no padding"
    );
    assert_eq!(value("<value><base64></base64></value>"), Value::Base64(vec![]));
    let e = refused_value("<value><base64>a$b=</base64></value>");
    assert!(matches!(&e, DecodeError::Value { tag, .. } if tag == "base64"), "{e:?}");
    let xml = encode_value(&Value::Base64(data.clone())).unwrap();
    assert!(!xml.contains('\n') && xml.contains(&plain), "written unwrapped");
}

fn base64_std(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn namespaced_extension_types_are_matched_by_local_name() {
    let ns = "xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"";
    assert_eq!(value(&format!("<value><ex:i8 {ns}>-9000000000</ex:i8></value>")), Value::Int(-9_000_000_000));
    assert_eq!(value(&format!("<value><ex:nil {ns}/></value>")), Value::Nil);
    assert_eq!(value(&format!("<value><ex:i4 {ns}>3</ex:i4></value>")), Value::Int(3));
    let outer = format!(
        "<methodResponse {ns}><params><param><value><ex:nil/></value></param></params></methodResponse>"
    );
    assert_eq!(
        decode_response(outer.as_bytes()).unwrap().unwrap(),
        Value::Nil,
        "prefix declared on the root"
    );
    let default_ns = "<value><i8 xmlns=\"http://ws.apache.org/xmlrpc/namespaces/extensions\">42</i8></value>";
    assert_eq!(value(default_ns), Value::Int(42));
    assert_eq!(value("<value><nil></nil></value>"), Value::Nil);
    let e = refused_value("<value><nil>x</nil></value>");
    assert!(e.to_string().contains("must be empty"), "{e}");
}

#[test]
fn java_object_extensions_are_refused() {
    let ns = "xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"";
    for tag in ["serializable", "dom"] {
        let e = refused_value(&format!("<value><ex:{tag} {ns}>rO0ABXNyABFqYXZh</ex:{tag}></value>"));
        match &e {
            DecodeError::Value { tag: t, reason, .. } => {
                assert_eq!(t, tag);
                assert_eq!(reason, "is not a supported XML-RPC type");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn method_names_are_validated_on_both_sides() {
    let long_ok = "a".repeat(256);
    for name in ["version.info", "paas.vhost.list", "a_b:c/d", "X9", long_ok.as_str()] {
        let body = encode_call(name, &[]).unwrap();
        assert_eq!(decode_call(&body).unwrap().method, name);
    }
    let too_long = "a".repeat(257);
    for name in ["", "a b", "a<b", "été", "paas.list()", "a\nb", too_long.as_str()] {
        let e = encode_call(name, &[]).unwrap_err();
        assert!(matches!(e, EncodeError::MethodName(_)), "{name:?}");
        let doc = format!("<methodCall><methodName>{}</methodName></methodCall>", name.replace('<', "&lt;"));
        let e = refused_call(&doc);
        assert!(
            e.to_string().contains("method name") || e.to_string().contains("empty <methodName>"),
            "{name:?}: {e}"
        );
    }
    // Surrounding whitespace is formatting.
    assert_eq!(
        decode_call(b"<methodCall><methodName>\n  a.b\n</methodName></methodCall>").unwrap().method,
        "a.b"
    );
    assert!(refused_call("<methodCall><params/></methodCall>").to_string().contains("no <methodName>"));
    assert!(
        refused_call("<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>")
            .to_string()
            .contains("more than one <methodName>")
    );
}

#[test]
fn a_call_takes_at_most_one_params_element() {
    for doc in [
        "<methodCall><methodName>m</methodName><params/><params><param><value>1</value></param></params></methodCall>",
        "<methodCall><methodName>m</methodName><params></params><params></params></methodCall>",
        "<methodCall><methodName>m</methodName><params><param><value>1</value></param></params><params/></methodCall>",
    ] {
        let e = refused_call(doc);
        assert!(e.to_string().contains("more than one <params>"), "{doc}: {e}");
    }
    let c = decode_call(b"<methodCall><methodName>m</methodName></methodCall>").unwrap();
    assert_eq!(c.params, vec![], "<params> may be left out");
}

#[test]
fn documents_must_have_one_root_and_nothing_outside_it() {
    let ok = response_doc("<value>1</value>");
    let e = refused(&format!("{ok}{ok}"));
    assert!(e.to_string().contains("more than one root element"), "{e}");
    let e = refused(&format!("junk{ok}"));
    assert!(e.to_string().contains("text outside the root element"), "{e}");
    let e = refused(&format!("{ok}junk"));
    assert!(e.to_string().contains("text outside the root element"), "{e}");
    let e = refused("<methodResponse><params><param><value>1</value></param></params></methodResponse><x/>");
    assert!(e.to_string().contains("more than one root element"), "{e}");
    let with_extras = format!("<?xml version=\"1.0\"?>\n<!-- c -->{ok}\n<?pi x?>\n<!-- end -->\n");
    assert_eq!(
        decode_response(with_extras.as_bytes()).unwrap().unwrap(),
        Value::from("1"),
        "comments, PIs, whitespace"
    );
    let e = refused("<html><body>502 Bad Gateway</body></html>");
    assert!(e.to_string().contains("expected <methodResponse>, found <html>"), "{e}");
    let e = refused("");
    assert!(e.to_string().contains("empty document"), "{e}");
}

#[test]
fn missing_and_mismatched_end_tags_are_refused() {
    let full = response_doc(
        "<value><struct><member><name>a</name><value><int>1</int></value></member></struct></value>",
    );
    // Every proper prefix of the document is refused, never accepted or panicking.
    for cut in 1..full.len() {
        let part = &full[..cut];
        assert!(decode_response(part.as_bytes()).is_err(), "accepted the prefix {part:?}");
    }
    let e = refused(
        "<methodResponse><params><param><value><int>1</value></int></param></params></methodResponse>",
    );
    assert!(matches!(e, DecodeError::Xml { .. }), "{e:?}");
    assert!(e.to_string().contains("int"), "the message names the open tag: {e}");
    let e = refused("<methodResponse><params><param><value>1</value></param></params>");
    assert!(e.to_string().contains("document ends before its elements close"), "{e}");
    let e =
        refused("<methodResponse><params><param><value>1</value></param></params></methodResponse></extra>");
    assert!(matches!(e, DecodeError::Xml { .. } | DecodeError::Protocol { .. }), "{e:?}");
}

#[test]
fn misplaced_elements_name_the_element_and_its_parent() {
    let e = refused_value("<value><array><value>1</value></array></value>");
    assert!(e.to_string().contains("unexpected <value> inside <array>"), "{e}");
    let e = refused_value("<value><struct><member><value>1</value></member></struct></value>");
    assert!(e.to_string().contains("unexpected <value> inside <member>"), "{e}");
    let e = refused_value("<value><struct><member><name>a</name></member></struct></value>");
    assert!(e.to_string().contains("<member> needs a <name> and a <value>"), "{e}");
    let e = refused_value("<value>text<int>1</int></value>");
    assert!(e.to_string().contains("text mixed with a type element"), "{e}");
    let e = refused_value("<value><int>1</int>text</value>");
    assert!(e.to_string().contains("unexpected text \"text\""), "{e}");
    let e = refused_value("<value><int>1</int><int>2</int></value>");
    assert!(e.to_string().contains("unexpected <int> inside <value>"), "{e}");
    let e = refused_value("<value><int><b>1</b></int></value>");
    assert!(e.to_string().contains("unexpected <b> inside <int>"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// §4 safety

#[test]
fn doctype_is_refused_in_every_form() {
    let body = response_doc("<value>1</value>");
    for doctype in [
        "<!DOCTYPE methodResponse>".to_owned(),
        "<!DOCTYPE methodResponse [<!ENTITY x \"expanded\">]>".to_owned(),
        "<!DOCTYPE methodResponse [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>".to_owned(),
        "<!DOCTYPE methodResponse SYSTEM \"http://example.invalid/x.dtd\">".to_owned(),
    ] {
        let doc =
            format!("<?xml version=\"1.0\"?>\n{doctype}\n{}", body.replace("1</value>", "&x;&xxe;</value>"));
        let e = refused(&doc);
        assert_eq!(e, DecodeError::Doctype { pos: 22 + doctype.len() as u64 }, "{doctype}");
        assert!(e.to_string().starts_with("DOCTYPE declarations are refused"), "{e}");
    }
    let call = "<!DOCTYPE methodCall><methodCall><methodName>a</methodName></methodCall>";
    assert!(matches!(refused_call(call), DecodeError::Doctype { .. }));
}

#[test]
fn billion_laughs_is_refused_without_expanding() {
    let mut doctype = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 { "lol".to_owned() } else { format!("lol{}", i - 1) };
        doctype += &format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10));
    }
    doctype += "]>\n";
    let doc = format!("{doctype}{}", response_doc("<value>&lol9;</value>"));
    assert!(matches!(refused(&doc), DecodeError::Doctype { .. }));
    // Without the DOCTYPE, the reference is just an unknown entity.
    let e = refused_value("<value>&lol9;</value>");
    match &e {
        DecodeError::Entity { name, pos } => {
            assert_eq!(name, "lol9");
            assert!(*pos > 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("entity reference &lol9;"), "{e}");
    assert!(
        matches!(refused_value("<value>&nbsp;</value>"), DecodeError::Entity { .. }),
        "HTML entities too"
    );
}

#[test]
fn illegal_character_references_are_refused() {
    for r in ["&#0;", "&#x1;", "&#x0B;", "&#31;", "&#xFFFE;", "&#xFFFF;", "&#xD800;", "&#x110000;", "&#xZZ;"]
    {
        let e = refused_value(&format!("<value>a{r}b</value>"));
        assert!(matches!(e, DecodeError::Xml { .. }), "{r}: {e:?}");
        let inner = r.trim_start_matches('&').trim_end_matches(';');
        assert!(e.to_string().contains(inner), "{r}: {e}");
    }
    assert_eq!(value("<value>&#9;&#10;&#13;&#xD7FF;&#xE000;</value>"), Value::from("\t\n\r\u{D7FF}\u{E000}"));
}

#[test]
fn raw_control_characters_in_the_document_are_refused_with_their_position() {
    for (c, code) in
        [('\u{0}', 0), ('\u{1}', 1), ('\u{1B}', 0x1B), ('\u{FFFF}', 0xFFFF), ('\u{FFFE}', 0xFFFE)]
    {
        for (open, close) in [("", ""), ("<string>", "</string>"), ("<![CDATA[", "]]>")] {
            let doc = response_doc(
                &format!("<value>{open}ab{c}</value>{close}")
                    .replace(&format!("</value>{close}"), &format!("{close}</value>")),
            );
            let at = doc.find(c).unwrap() as u64;
            let e = refused(&doc);
            assert_eq!(
                e,
                DecodeError::Xml {
                    pos: at,
                    message: format!("character U+{code:04X} is not allowed in XML")
                },
                "{doc:?}"
            );
        }
    }
    let doc = "<methodResponse><params><param><value><struct><member><name>a\u{7}</name><value>1</value></member></struct></value></param></params></methodResponse>";
    assert!(matches!(refused(doc), DecodeError::Xml { .. }), "in member names too");
    let call = "<methodCall><methodName>m</methodName><params><param><value>\u{8}</value></param></params></methodCall>";
    assert!(matches!(refused_call(call), DecodeError::Xml { .. }));
}

#[test]
fn deep_nesting_is_refused_on_a_small_stack() {
    let e = on_small_stack(|| {
        let doc = response_doc(&nested_arrays(100_000));
        decode_response(doc.as_bytes()).unwrap_err()
    });
    assert!(matches!(e, DecodeError::TooDeep { limit: 128, .. }), "{e:?}");
    let e = on_small_stack(|| {
        let s = "<value><struct><member><name>a</name>".repeat(100_000);
        let doc =
            format!("<methodCall><methodName>m</methodName><params><param>{s}</param></params></methodCall>");
        decode_call(doc.as_bytes()).unwrap_err()
    });
    assert!(matches!(e, DecodeError::TooDeep { limit: 128, .. }), "{e:?}");
    assert!(e.to_string().starts_with("nesting deeper than 128 levels at byte "), "{e}");
}

#[test]
fn hand_built_deep_values_drop_clone_format_compare_and_encode_on_a_small_stack() {
    let (debug_len, equal, encoded_arrays) = on_small_stack(|| {
        let build = || {
            let mut v = Value::Int(1);
            for i in 0..100_000 {
                v = if i % 2 == 0 {
                    Value::Array(vec![v])
                } else {
                    Value::Struct(Struct::new().with("k", v))
                };
            }
            v
        };
        let v = build();
        let w = v.clone();
        let debug = format!("{v:?}");
        let equal = v == w && w == build();
        let xml = encode_value(&v).unwrap();
        assert_eq!(v.depth(), 100_000);
        drop(v);
        drop(w);
        (debug.len(), equal, xml.matches("<array>").count())
    });
    assert!(debug_len < 10_000, "Debug output is bounded ({debug_len} bytes)");
    assert!(equal);
    assert_eq!(encoded_arrays, 50_000);
}

#[test]
fn depth_limit_is_configurable() {
    let limits = Limits { max_depth: 5, ..Limits::default() };
    let five = response_doc(&nested_arrays(5));
    let six = response_doc(&nested_arrays(6));
    assert_eq!(decode_response_with(five.as_bytes(), &limits).unwrap().unwrap().depth(), 5);
    let e = decode_response_with(six.as_bytes(), &limits).unwrap_err();
    assert!(matches!(e, DecodeError::TooDeep { limit: 5, .. }), "{e:?}");
    // Structs count too, and siblings do not add up.
    let mixed = "<value><struct><member><name>a</name><value><array><data><value><array><data></data></array></value><value><array><data></data></array></value></data></array></value></member></struct></value>";
    let three = Limits { max_depth: 3, ..Limits::default() };
    let two = Limits { max_depth: 2, ..Limits::default() };
    assert!(decode_response_with(response_doc(mixed).as_bytes(), &three).is_ok());
    assert!(matches!(
        decode_response_with(response_doc(mixed).as_bytes(), &two),
        Err(DecodeError::TooDeep { .. })
    ));
    // Depth 0 allows scalars only.
    let zero = Limits { max_depth: 0, ..Limits::default() };
    assert!(decode_response_with(response_doc("<value>1</value>").as_bytes(), &zero).is_ok());
    assert!(
        decode_response_with(response_doc("<value><array><data/></array></value>").as_bytes(), &zero)
            .is_err()
    );
    let call = format!(
        "<methodCall><methodName>m</methodName><params><param>{}</param></params></methodCall>",
        nested_arrays(6)
    );
    assert!(matches!(decode_call_with(call.as_bytes(), &limits), Err(DecodeError::TooDeep { limit: 5, .. })));
}

#[test]
fn body_cap_applies_before_and_after_gzip() {
    let limits = Limits { max_body: 1 << 20, ..Limits::default() };
    // A gzip bomb: 10 MiB of zeros compresses to about 10 KB.
    let bomb = gzip(&vec![0u8; 10 << 20]);
    assert!(bomb.len() < 64 << 10);
    assert_eq!(decode_response_with(&bomb, &limits).unwrap_err(), DecodeError::TooLarge { limit: 1 << 20 });
    assert_eq!(decode_call_with(&bomb, &limits).unwrap_err(), DecodeError::TooLarge { limit: 1 << 20 });
    // A plain body over the cap.
    let big = encode_response(&Value::from("x".repeat(1 << 20))).unwrap();
    let e = decode_response_with(&big, &limits).unwrap_err();
    assert_eq!(e, DecodeError::TooLarge { limit: 1 << 20 });
    assert_eq!(e.to_string(), "body larger than the 1048576-byte cap");
    // A gzip body whose compressed size is over the cap is refused even if it would inflate
    // to less (incompressible data grows a little under gzip).
    let noise: Vec<u8> = (0..(1u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let xml = encode_response(&Value::Base64(noise)).unwrap();
    let tight = Limits { max_body: xml.len(), ..Limits::default() };
    assert!(decode_response_with(&xml, &tight).is_ok());
    let packed = gzip(&xml);
    let cap = Limits { max_body: packed.len() - 1, ..Limits::default() };
    assert!(matches!(decode_response_with(&packed, &cap), Err(DecodeError::TooLarge { .. })));
    // Exactly at the cap is fine, before and after decompression.
    let small = encode_response(&Value::from("ok")).unwrap();
    let exact = Limits { max_body: small.len(), ..Limits::default() };
    assert!(decode_response_with(&small, &exact).is_ok());
    assert!(decode_response_with(&gzip(&small), &exact).is_ok());
}

#[test]
fn a_huge_text_node_under_the_cap_is_fine() {
    let text = format!("&<{}>é", "abcdefgh".repeat(1 << 20));
    let body = encode_response(&Value::from(text.as_str())).unwrap();
    assert!(body.len() > 8 << 20);
    assert_eq!(decode_response(&body).unwrap().unwrap().as_str(), Some(text.as_str()));
}

// ---------------------------------------------------------------------------------------------
// Error messages

#[test]
fn errors_name_what_was_wrong_and_where() {
    let doc = response_doc(
        "<value><struct><member><name>when</name><value><dateTime.iso8601>2011-13-01T00:00:00</dateTime.iso8601></value></member></struct></value>",
    );
    let e = refused(&doc);
    let at = doc.find("<dateTime.iso8601>").unwrap() + "<dateTime.iso8601>".len();
    assert_eq!(
        e.to_string(),
        format!("invalid <dateTime.iso8601> at byte {at}: \"2011-13-01T00:00:00\" month out of range")
    );

    let doc = "<methodResponse><params><param><value><foo>1</foo></value></param></params></methodResponse>";
    let e = refused(doc);
    assert_eq!(
        e.to_string(),
        format!(
            "invalid <foo> at byte {}: \"\" is not a supported XML-RPC type",
            doc.find("</foo>").unwrap() - 1
        )
    );

    let doc = "<methodResponse><params><param><value><array><data><value>1</value></data><data/></array></value></param></params></methodResponse>";
    let e = refused(doc);
    let at = doc.find("<data/>").unwrap() + "<data/>".len();
    assert_eq!(
        e.to_string(),
        format!("not a valid XML-RPC methodResponse at byte {at}: unexpected <data> inside <array>")
    );

    let doc = "<methodResponse><params><param><value>&bogus;</value></param></params></methodResponse>";
    let e = refused(doc);
    assert!(e.to_string().starts_with("entity reference &bogus; at byte "), "{e}");

    let doc = "<methodResponse><params><param><value>1</valu></param></params></methodResponse>";
    let e = refused(doc);
    match &e {
        DecodeError::Xml { pos, message } => {
            assert!(message.contains("value") && message.contains("valu"), "{message}");
            assert_eq!(*pos as usize, doc.find("</valu>").unwrap(), "{e}");
        }
        other => panic!("{other:?}"),
    }

    let e = encode_call("m", &[Value::Struct(Struct::new().with("list", vec![Value::Double(f64::NAN)]))])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "params[0].list[0]: the double NaN is not finite; XML-RPC doubles must be finite numbers"
    );
}

// ---------------------------------------------------------------------------------------------
// Python's xmlrpc.client as a peer

fn python(script: &str, stdin: &[u8]) -> Vec<u8> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is part of the test environment");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn python_dumps_output_decodes_with_types() {
    let script = r#"
import sys, xmlrpc.client as x
rec = {'s': 'a & <b> ]]>', 'cr': 'l1\r\nl2', 'i': -5, 'b': True, 'd': 1.5, 'e': 1e300, 'n': None,
       'dt': x.DateTime('20130128T12:00:00'), 'bin': x.Binary(bytes(range(256)) * 2), 'arr': [1, 'x', []], 'u': 'é😀', '04': {}}
sys.stdout.buffer.write(x.dumps(([rec],), methodresponse=True, allow_none=True).encode('utf-8'))
"#;
    let body = python(script, b"");
    let v = decode_response(&body).unwrap().unwrap();
    let rec = &v.as_array().unwrap()[0];
    assert_eq!(rec.get("s"), Some(&Value::from("a & <b> ]]>")));
    assert_eq!(
        rec.get("cr"),
        Some(&Value::from("l1\nl2")),
        "Python writes a raw CR, which XML turns into LF"
    );
    assert_eq!(rec.get("i"), Some(&Value::Int(-5)));
    assert_eq!(rec.get("b"), Some(&Value::Bool(true)));
    assert_eq!(rec.get("d"), Some(&Value::Double(1.5)));
    assert_eq!(rec.get("e"), Some(&Value::Double(1e300)), "Python writes an exponent");
    assert_eq!(rec.get("n"), Some(&Value::Nil));
    assert_eq!(rec.get("dt"), Some(&Value::DateTime(DateTime::new(2013, 1, 28, 12, 0, 0).unwrap())));
    let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
    assert_eq!(rec.get("bin"), Some(&Value::Base64(bytes)), "Python wraps base64 at 76 columns");
    assert_eq!(
        rec.get("arr"),
        Some(&Value::Array(vec![Value::Int(1), Value::from("x"), Value::Array(vec![])]))
    );
    assert_eq!(rec.get("u"), Some(&Value::from("é😀")));
    assert_eq!(rec.get("04"), Some(&Value::Struct(Struct::new())));
    assert_eq!(rec.as_struct().unwrap().len(), 12);
}

#[test]
fn python_loads_what_we_encode() {
    let v = Value::Struct(
        Struct::new()
            .with("s", "a & <b> ]]> \r\n é😀")
            .with("i", -5)
            .with("big", Value::Int(1 << 40))
            .with("b", false)
            .with("d", -0.1)
            .with("n", Value::Nil)
            .with("dt", Value::DateTime(DateTime::new(2013, 1, 28, 12, 0, 0).unwrap()))
            .with("bin", Value::Base64(vec![0, 255, 10]))
            .with("arr", vec![Value::Int(1), Value::Array(vec![])]),
    );
    let body = encode_call("paas.update", &[Value::from("key"), v]).unwrap();
    let script = r#"
import sys, json, xmlrpc.client as x
params, method = x.loads(sys.stdin.buffer.read(), use_builtin_types=True)
p = params[1]
out = {'method': method, 'key': params[0], 's': p['s'], 'i': p['i'], 'big': p['big'], 'b': p['b'], 'd': repr(p['d']),
       'n': p['n'], 'dt': p['dt'].isoformat(), 'bin': list(p['bin']), 'arr': p['arr'], 'order': list(p)}
print(json.dumps(out))
"#;
    let out: serde_json::Value = serde_json::from_slice(&python(script, &body)).unwrap();
    let want = serde_json::json!({
        "method": "paas.update", "key": "key", "s": "a & <b> ]]> \r\n é😀", "i": -5, "big": 1u64 << 40, "b": false,
        "d": "-0.1", "n": null, "dt": "2013-01-28T12:00:00", "bin": [0, 255, 10], "arr": [1, []],
        "order": ["s", "i", "big", "b", "d", "n", "dt", "bin", "arr"],
    });
    assert_eq!(out, want);
}
