//! Property tests: every encodable `Value` survives the wire with its types, and the decoder
//! never panics on damaged input.

use gandish::xmlrpc::{
    DateTime, Struct, Value, ValueWriter, decode_call, decode_response, encode_call, encode_response,
    encode_value, from_value, to_value,
};
use proptest::prelude::*;

/// Characters XML 1.0 can carry.
fn xml_char() -> impl Strategy<Value = char> {
    any::<char>().prop_filter("XML-legal", |&c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    })
}

fn xml_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(xml_char(), 0..24).prop_map(|v| v.into_iter().collect()),
        tricky_string(),
        "[a-z0-9_]{0,12}",
    ]
}

/// Strings built from the pieces that trip encoders and decoders up.
fn tricky_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\r".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n".to_owned()),
        Just("&".to_owned()),
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("]]>".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#13;".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("</string>".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("é😀".to_owned()),
        "[a-z]{0,3}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

fn finite_double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |d| d.is_finite()),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(f64::from_bits(1)),
        Just(-f64::from_bits(1)),
        (-1e6f64..1e6),
    ]
}

fn datetime() -> impl Strategy<Value = DateTime> {
    (0u16..=9999, 1u8..=12, 1u8..=31, 0u8..24, 0u8..60, 0u8..=60)
        .prop_filter_map("a real date", |(y, mo, d, h, mi, s)| DateTime::new(y, mo, d, h, mi, s).ok())
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        (i64::from(i32::MIN)..=i64::from(i32::MAX)).prop_map(Value::Int),
        any::<bool>().prop_map(Value::Bool),
        xml_string().prop_map(Value::String),
        finite_double().prop_map(Value::Double),
        datetime().prop_map(Value::DateTime),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Base64),
        Just(Value::Nil),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            // `Struct: FromIterator` keeps one member per name, so generated structs have no duplicates.
            prop::collection::vec((xml_string(), inner), 0..6)
                .prop_map(|members| Value::Struct(members.into_iter().collect::<Struct>())),
        ]
    })
}

/// Values that may not be encodable: strings with any characters (XML-illegal ones included)
/// and doubles that may be NaN or infinite, in names and values alike.
fn dirty_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![xml_string(), any::<String>(), Just("ok\u{0}".to_owned())];
    let leaf = prop_oneof![
        3 => leaf(),
        1 => text.clone().prop_map(Value::String),
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)].prop_map(Value::Double),
    ];
    leaf.prop_recursive(4, 64, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((text.clone(), inner), 0..5)
                .prop_map(|members| Value::Struct(members.into_iter().collect::<Struct>())),
        ]
    })
}

/// Writes `v` through a `ValueWriter`, piece by piece; every third array item (and member value)
/// goes through `ValueWriter::value` whole instead, so both ways of writing meet.
fn write_pieces(w: &mut ValueWriter<'_>, v: &Value) {
    match v {
        Value::Int(i) => {
            w.int(*i);
        }
        Value::Bool(b) => {
            w.boolean(*b);
        }
        Value::String(s) => {
            w.string(s);
        }
        Value::Double(d) => {
            w.double(*d);
        }
        Value::DateTime(dt) => {
            w.datetime(dt);
        }
        Value::Base64(b) => {
            w.base64(b);
        }
        Value::Nil => {
            w.nil();
        }
        Value::Array(items) => {
            w.begin_array();
            for (i, x) in items.iter().enumerate() {
                if i % 3 == 2 {
                    w.value(x);
                } else {
                    write_pieces(w, x);
                }
            }
            w.end_array();
        }
        Value::Struct(s) => {
            w.begin_struct();
            for (i, (name, x)) in s.iter().enumerate() {
                w.member(name);
                if i % 3 == 2 {
                    w.value(x);
                } else {
                    write_pieces(w, x);
                }
            }
            w.end_struct();
        }
    }
}

proptest! {
    #[test]
    fn a_value_writer_gives_the_encoders_bytes_or_its_error(v in dirty_value()) {
        let mut out = String::new();
        let mut w = ValueWriter::new(&mut out);
        write_pieces(&mut w, &v);
        let written = w.finish().map(|()| out);
        // NaN is not equal to itself: compare errors by their messages.
        let want = encode_value(&v);
        match (&written, &want) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            _ => prop_assert!(false, "writer {:?} vs encoder {:?}", written, want),
        }
    }

    #[test]
    fn responses_round_trip_with_types_and_order(v in value()) {
        let body = encode_response(&v).unwrap();
        let back = decode_response(&body).unwrap().unwrap();
        prop_assert_eq!(&back, &v);
        // Byte-identical re-encoding: member order, integer tags and every double's bits survived.
        prop_assert_eq!(encode_response(&back).unwrap(), body);
    }

    #[test]
    fn calls_round_trip(method in "[A-Za-z0-9_.:/]{1,64}", params in prop::collection::vec(value(), 0..4)) {
        let body = encode_call(&method, &params).unwrap();
        let call = decode_call(&body).unwrap();
        prop_assert_eq!(&call.method, &method);
        prop_assert_eq!(&call.params, &params);
        prop_assert_eq!(encode_call(&call.method, &call.params).unwrap(), body);
    }

    #[test]
    fn every_finite_double_round_trips_bit_exactly(d in finite_double()) {
        let back = decode_response(&encode_response(&Value::Double(d)).unwrap()).unwrap().unwrap();
        match back {
            Value::Double(e) => prop_assert_eq!(e.to_bits(), d.to_bits(), "{} came back as {}", d, e),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn markup_heavy_strings_round_trip_as_values_and_member_names(s in tricky_string()) {
        let v = Value::Struct(Struct::new().with(s.as_str(), s.as_str()));
        let back = decode_response(&encode_response(&v).unwrap()).unwrap().unwrap();
        let members: Vec<(&str, &Value)> = back.as_struct().unwrap().iter().collect();
        let want = Value::String(s.clone());
        prop_assert_eq!(members, vec![(s.as_str(), &want)]);
    }

    #[test]
    fn clones_are_exact_copies(v in value()) {
        let c = v.clone();
        prop_assert_eq!(&c, &v);
        prop_assert_eq!(encode_response(&c).unwrap(), encode_response(&v).unwrap(), "order and bits kept");
    }

    #[test]
    fn values_pass_through_serde_unchanged(v in value()) {
        prop_assert_eq!(&to_value(&v).unwrap(), &v);
        prop_assert_eq!(&from_value::<Value>(v.clone()).unwrap(), &v);
    }

    #[test]
    fn damaged_documents_are_refused_or_read_but_never_panic(
        v in value(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let body = encode_response(&v).unwrap();
        let _ = decode_response(&body[..cut.index(body.len())]);
        let mut damaged = body.clone();
        let i = flip.index(damaged.len());
        damaged[i] = byte;
        let _ = decode_response(&damaged);
        let _ = decode_call(&damaged);
    }
}
