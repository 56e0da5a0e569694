//! Serde support: typed Rust values to and from `Value`.

use std::collections::{BTreeMap, HashMap};

use gandish::xmlrpc::{
    DateTime, SerdeError, Struct, Value, decode_response, encode_response, from_value, from_value_ref,
    to_value,
};
use serde::{Deserialize, Serialize};

/// A `#[serde(with = ...)]` helper writing `Vec<u8>` with `serialize_bytes`, as `serde_bytes` does.
mod bytes {
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(V)
    }
}

fn dt(s: &str) -> DateTime {
    DateTime::parse(s).unwrap()
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Vhost {
    name: String,
    state: State,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum State {
    Running,
    Halted,
}

/// The 15-member `paas.list` record of xml-rpc.md §6.2.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Paas {
    id: i64,
    name: String,
    catalog_name: String,
    datacenter_id: i32,
    size: String,
    state: State,
    console: String,
    need_upgrade: bool,
    date_start: DateTime,
    date_end: Option<DateTime>,
    date_end_commitment: Option<DateTime>,
    data_disk_additional_size: u32,
    servers: Option<u16>,
    vhosts: Vec<Vhost>,
    user: Option<String>,
}

fn paas(i: i64) -> Paas {
    Paas {
        id: 100_000 + i,
        name: format!("inst{i}"),
        catalog_name: "phpmysql_s".into(),
        datacenter_id: 1,
        size: "s".into(),
        state: if i % 2 == 0 { State::Running } else { State::Halted },
        console: format!("{i}@console.example.net & <co>"),
        need_upgrade: i % 3 == 0,
        date_start: dt("20130128T12:00:00"),
        date_end: if i % 2 == 0 { Some(dt("20140128T12:00:00")) } else { None },
        date_end_commitment: None,
        data_disk_additional_size: 0,
        servers: Some(1),
        vhosts: vec![Vhost { name: format!("www{i}.example.org"), state: State::Running }],
        user: None,
    }
}

#[test]
fn struct_becomes_struct_with_field_order_and_types_kept() {
    let v = to_value(&paas(2)).unwrap();
    let s = v.as_struct().unwrap();
    let names: Vec<&str> = s.keys().collect();
    assert_eq!(names[..4], ["id", "name", "catalog_name", "datacenter_id"]);
    assert_eq!(names.len(), 15);
    assert_eq!(s.get("id"), Some(&Value::Int(100_002)));
    assert_eq!(s.get("state"), Some(&Value::from("running")));
    assert_eq!(s.get("need_upgrade"), Some(&Value::Bool(false)));
    assert_eq!(s.get("date_end"), Some(&Value::DateTime(dt("20140128T12:00:00"))));
    assert_eq!(s.get("date_end_commitment"), Some(&Value::Nil));
    assert_eq!(s.get("servers"), Some(&Value::Int(1)));
    let vhost = &s.get("vhosts").unwrap().as_array().unwrap()[0];
    assert_eq!(vhost.get("name"), Some(&Value::from("www2.example.org")));
}

#[test]
fn records_survive_value_and_the_wire() {
    let records: Vec<Paas> = (0..20).map(paas).collect();
    let v = to_value(&records).unwrap();
    assert_eq!(from_value::<Vec<Paas>>(v.clone()).unwrap(), records);
    assert_eq!(from_value_ref::<Vec<Paas>>(&v).unwrap(), records);
    let wire = encode_response(&v).unwrap();
    let back = decode_response(&wire).unwrap().unwrap();
    assert_eq!(from_value::<Vec<Paas>>(back).unwrap(), records);
}

#[test]
fn scalars_map_as_documented() {
    assert_eq!(to_value(&true).unwrap(), Value::Bool(true));
    assert_eq!(to_value(&-5i8).unwrap(), Value::Int(-5));
    assert_eq!(to_value(&u32::MAX).unwrap(), Value::Int(4_294_967_295));
    assert_eq!(to_value(&(i64::MAX as u64)).unwrap(), Value::Int(i64::MAX));
    assert_eq!(to_value(&i128::from(i64::MIN)).unwrap(), Value::Int(i64::MIN));
    assert_eq!(to_value(&1.5f64).unwrap(), Value::Double(1.5));
    assert_eq!(to_value(&0.1f32).unwrap(), Value::Double(0.1), "f32 goes through its shortest decimal form");
    assert_eq!(to_value(&'é').unwrap(), Value::from("é"));
    assert_eq!(to_value("text").unwrap(), Value::from("text"));
    assert_eq!(to_value(&None::<i32>).unwrap(), Value::Nil);
    assert_eq!(to_value(&Some(3)).unwrap(), Value::Int(3));
    assert_eq!(to_value(&()).unwrap(), Value::Nil);
    assert_eq!(to_value(&(1, "a")).unwrap(), Value::Array(vec![Value::Int(1), Value::from("a")]));
    assert_eq!(to_value(&vec![1u8, 2]).unwrap(), Value::Array(vec![Value::Int(1), Value::Int(2)]));

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Blob(#[serde(with = "bytes")] Vec<u8>);
    let v = to_value(&Blob(vec![0, 255, 7])).unwrap();
    assert_eq!(v, Value::Base64(vec![0, 255, 7]));
    assert_eq!(from_value::<Blob>(v.clone()).unwrap(), Blob(vec![0, 255, 7]));
    assert_eq!(from_value::<Vec<u8>>(v).unwrap(), vec![0, 255, 7], "plain Vec<u8> reads base64 too");

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Unit;
    assert_eq!(to_value(&Unit).unwrap(), Value::Nil);
    assert_eq!(from_value::<Unit>(Value::Nil).unwrap(), Unit);
}

#[test]
fn u64_above_i64_max_is_an_error_naming_the_field() {
    #[derive(Serialize)]
    struct Quota {
        bytes: u64,
    }
    let e = to_value(&vec![Quota { bytes: 1 }, Quota { bytes: u64::MAX }]).unwrap_err();
    assert!(matches!(e, SerdeError::OutOfRange { .. }), "{e:?}");
    assert_eq!(e.path(), "[1].bytes");
    assert_eq!(
        e.to_string(),
        "[1].bytes: integer 18446744073709551615 is out of range for an XML-RPC int (i64)"
    );
    assert!(to_value(&(u128::from(u64::MAX) + 1)).is_err());
}

#[test]
fn maps_need_string_or_integer_keys() {
    let mut m = BTreeMap::new();
    m.insert("b", 2);
    m.insert("a", 1);
    let v = to_value(&m).unwrap();
    assert_eq!(v.as_struct().unwrap().keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(from_value::<BTreeMap<String, i32>>(v).unwrap().get("b"), Some(&2));

    // validator1's nestedStructTest uses numeric-looking names; integer keys are written in decimal.
    let mut years: HashMap<u16, i32> = HashMap::new();
    years.insert(2000, 7);
    let v = to_value(&years).unwrap();
    assert_eq!(v.get("2000"), Some(&Value::Int(7)));
    assert_eq!(from_value::<HashMap<u16, i32>>(v).unwrap(), years);
    let e = from_value::<HashMap<u16, i32>>(Value::Struct(Struct::new().with("04x", 1))).unwrap_err();
    assert!(e.to_string().contains("a member name that is a u16"), "{e}");

    let mut bad = HashMap::new();
    bad.insert((1, 2), "pair");
    let e = to_value(&bad).unwrap_err();
    assert_eq!(e.to_string(), "expected a string as struct member name, found tuple");
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Op {
    Stop,
    Resize(u32),
    Move(String, u8),
    Create { name: String, size: u8 },
}

#[test]
fn enums_are_names_or_one_member_structs() {
    assert_eq!(to_value(&Op::Stop).unwrap(), Value::from("Stop"));
    assert_eq!(to_value(&Op::Resize(3)).unwrap(), Value::Struct(Struct::new().with("Resize", 3)));
    assert_eq!(
        to_value(&Op::Move("dc2".into(), 1)).unwrap(),
        Value::Struct(Struct::new().with("Move", vec![Value::from("dc2"), Value::Int(1)]))
    );
    let create = to_value(&Op::Create { name: "x".into(), size: 2 }).unwrap();
    assert_eq!(
        create,
        Value::Struct(Struct::new().with("Create", Struct::new().with("name", "x").with("size", 2)))
    );
    for op in [Op::Stop, Op::Resize(3), Op::Move("dc2".into(), 1), Op::Create { name: "x".into(), size: 2 }] {
        let v = to_value(&op).unwrap();
        assert_eq!(from_value::<Op>(v.clone()).unwrap(), op);
        assert_eq!(from_value_ref::<Op>(&v).unwrap(), op);
    }
    let e = from_value::<Op>(Value::from("Explode")).unwrap_err();
    assert!(e.to_string().contains("unknown variant `Explode`"), "{e}");
    let e = from_value::<Op>(Value::Int(1)).unwrap_err();
    assert_eq!(e.to_string(), "expected enum Op (a variant name, or a struct with one member), found int");
    let e = from_value::<Op>(Value::Struct(Struct::new().with("Resize", "big"))).unwrap_err();
    assert_eq!(e.to_string(), "Resize: expected int, found string");
    let e = from_value::<Op>(Value::Struct(Struct::new().with("Create", Struct::new().with("name", "x"))))
        .unwrap_err();
    assert_eq!(e.to_string(), "Create: missing field `size`");
}

#[test]
fn datetime_survives_as_a_datetime_with_its_offset() {
    let plain = dt("20111014T14:36:30");
    assert_eq!(to_value(&plain).unwrap(), Value::DateTime(plain));
    let zoned = dt("2011-10-14T14:36:30+02:00");
    let v = to_value(&zoned).unwrap();
    assert_eq!(v.as_datetime().unwrap().offset_minutes, Some(120));
    let back: DateTime = from_value(v.clone()).unwrap();
    assert_eq!(back.offset_minutes, Some(120));
    assert_eq!(back, zoned);
    assert_eq!(from_value_ref::<DateTime>(&v).unwrap(), zoned);
    // Inside a Value, through Value's own Serialize/Deserialize.
    let tree = Value::Array(vec![Value::DateTime(zoned), Value::from("20111014T14:36:30")]);
    assert_eq!(to_value(&tree).unwrap(), tree);
    let copied: Value = from_value(tree.clone()).unwrap();
    assert_eq!(copied, tree);
    assert!(matches!(copied.as_array().unwrap()[1], Value::String(_)), "a string stays a string");
}

#[test]
fn datetime_reads_leniently_and_refuses_other_types() {
    assert_eq!(from_value::<DateTime>(Value::from("2011-10-14T14:36:30Z")).unwrap().offset_minutes, Some(0));
    assert_eq!(from_value::<String>(Value::DateTime(dt("20111014T14:36:30"))).unwrap(), "20111014T14:36:30");
    let e = from_value::<DateTime>(Value::Int(5)).unwrap_err();
    assert_eq!(e.to_string(), "expected dateTime, found int");
    let recs = Value::Array(
        (0..4)
            .map(|i| {
                let mut v = to_value(&paas(i)).unwrap();
                if i == 3 {
                    let mut s = v.into_struct().unwrap();
                    s.insert("date_end", "not a date");
                    v = Value::Struct(s);
                }
                v
            })
            .collect(),
    );
    let e = from_value::<Vec<Paas>>(recs).unwrap_err();
    assert_eq!(e.path(), "[3].date_end");
    assert_eq!(e.to_string(), "[3].date_end: expected dateTime, found string (expected a 4-digit year)");
}

#[test]
fn datetime_in_json_is_the_compact_string() {
    let zoned = dt("2011-10-14T14:36:30+02:00");
    assert_eq!(serde_json::to_string(&zoned).unwrap(), "\"20111014T14:36:30\"");
    let back: DateTime = serde_json::from_str("\"2011-10-14T14:36:30\"").unwrap();
    assert_eq!(back, dt("20111014T14:36:30"));
    let e = serde_json::from_str::<DateTime>("\"yesterday\"").unwrap_err();
    assert!(e.to_string().contains("expected dateTime, found string (expected a 4-digit year)"), "{e}");
    assert!(serde_json::from_str::<DateTime>("12").is_err());
}

#[test]
fn value_to_and_from_json() {
    let v = Value::Struct(
        Struct::new()
            .with("z", Value::Nil)
            .with("a", Value::DateTime(dt("20111014T14:36:30")))
            .with("n", vec![Value::Int(1), Value::Double(2.5), Value::Bool(true)]),
    );
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(json, r#"{"z":null,"a":"20111014T14:36:30","n":[1,2.5,true]}"#);
    let back: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(back.get("z"), Some(&Value::Nil));
    assert_eq!(back.get("a"), Some(&Value::from("20111014T14:36:30")));
    assert_eq!(back.get("n"), v.get("n"));
    let e = serde_json::from_str::<Value>("18446744073709551615").unwrap_err();
    assert!(e.to_string().contains("out of range for an XML-RPC int"), "{e}");
    let s: Struct = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!((s.len(), s.get("a")), (1, Some(&Value::Int(2))), "last duplicate wins");
}

#[test]
fn options_read_nil_and_missing_as_none() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct R {
        a: Option<i32>,
        b: Option<i32>,
        c: Option<i32>,
    }
    let v = Value::Struct(Struct::new().with("a", Value::Nil).with("c", 4));
    assert_eq!(from_value::<R>(v).unwrap(), R { a: None, b: None, c: Some(4) });
}

#[test]
fn integers_are_range_checked_and_widen_to_doubles() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Host {
        port: u16,
    }
    let v = Value::Array(vec![Value::Struct(Struct::new().with("port", 70_000))]);
    let e = from_value::<Vec<Host>>(v).unwrap_err();
    assert_eq!(e.to_string(), "[0].port: integer 70000 is out of range for u16");
    assert!(matches!(e, SerdeError::OutOfRange { .. }));
    assert_eq!(from_value::<i8>(Value::Int(-128)).unwrap(), -128);
    assert!(from_value::<i8>(Value::Int(128)).is_err());
    assert!(from_value::<u64>(Value::Int(-1)).is_err());
    assert_eq!(from_value::<f64>(Value::Int(3)).unwrap(), 3.0);
    assert_eq!(from_value::<f32>(Value::Double(0.5)).unwrap(), 0.5);
    assert!(from_value::<f32>(Value::Double(1e300)).is_err());
    let e = from_value::<i32>(Value::Double(1.0)).unwrap_err();
    assert_eq!(e.to_string(), "expected int, found double");
}

#[test]
fn errors_name_the_path_and_types_but_never_string_contents() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        list: Vec<Inner>,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }
    let v = Value::Struct(Struct::new().with(
        "list",
        vec![
            Value::Struct(Struct::new().with("flag", true)),
            Value::Struct(Struct::new().with("flag", "secret-api-key")),
        ],
    ));
    let e = from_value::<Outer>(v).unwrap_err();
    assert_eq!(e.to_string(), "list[1].flag: expected boolean, found string");
    assert!(!format!("{e:?}").contains("secret"));

    let e = from_value::<Outer>(Value::Struct(Struct::new())).unwrap_err();
    assert_eq!(e.to_string(), "missing field `list`");
    let e = from_value::<Outer>(Value::Nil).unwrap_err();
    assert_eq!(e.to_string(), "expected struct Outer, found nil");
    let e = from_value::<(i32, i32)>(Value::Array(vec![Value::Int(1); 3])).unwrap_err();
    assert_eq!(e.to_string(), "expected an array of 2 elements, found 3");
    // A member name that is not an identifier is quoted.
    let e = from_value::<HashMap<String, i32>>(Value::Struct(Struct::new().with("my key", "x"))).unwrap_err();
    assert_eq!(e.to_string(), "[\"my key\"]: expected int, found string");
    // Errors from visitors that see a string also leave its content out.
    let e = from_value::<char>(Value::from("secret")).unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
}

#[test]
fn unknown_members_are_ignored_unless_denied() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct A {
        x: i32,
    }
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        x: i32,
    }
    let v = Value::Struct(Struct::new().with("x", 1).with("extra", vec![Value::Nil]));
    assert_eq!(from_value::<A>(v.clone()).unwrap(), A { x: 1 });
    let e = from_value::<Strict>(v).unwrap_err();
    assert!(e.to_string().starts_with("extra: unknown field `extra`"), "{e}");
}

#[test]
fn owned_decoding_moves_strings_and_borrowed_decoding_borrows_them() {
    let text = "a long enough string to live on the heap".to_owned();
    let ptr = text.as_ptr();
    let v = Value::Array(vec![Value::Struct(Struct::new().with("name", text))]);
    let borrowed: Vec<HashMap<&str, &str>> = from_value_ref(&v).unwrap();
    assert_eq!(borrowed[0]["name"].as_ptr(), ptr, "from_value_ref borrows");
    #[derive(Deserialize)]
    struct N {
        name: String,
    }
    let owned: Vec<N> = from_value(v).unwrap();
    assert_eq!(owned[0].name.as_ptr(), ptr, "from_value moves the string, it does not copy it");

    let bytes = vec![9u8; 64];
    let bptr = bytes.as_ptr();
    #[derive(Deserialize)]
    struct B(#[serde(with = "bytes")] Vec<u8>);
    let b: B = from_value(Value::Base64(bytes)).unwrap();
    assert_eq!(b.0.as_ptr(), bptr);
}

#[test]
fn value_round_trips_through_serde_unchanged() {
    let v = Value::Struct(
        Struct::new()
            .with("i", i64::MIN)
            .with("b", false)
            .with("d", -0.25)
            .with("t", Value::DateTime(dt("19991231T23:59:59-05:00")))
            .with("bin", Value::Base64(vec![1, 2, 3]))
            .with("nil", Value::Nil)
            .with("arr", vec![Value::Array(vec![]), Value::Struct(Struct::new())]),
    );
    assert_eq!(to_value(&v).unwrap(), v);
    let back: Value = from_value(v.clone()).unwrap();
    assert_eq!(back, v);
    assert_eq!(from_value_ref::<Value>(&v).unwrap(), v);
    let s: Struct = from_value(v.clone()).unwrap();
    assert_eq!(Value::Struct(s), v);
    assert_eq!(
        back.get("t").and_then(Value::as_datetime).unwrap().offset_minutes,
        Some(-300),
        "the offset survives"
    );
}

#[test]
fn newtypes_and_flatten_work() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Id(u32);
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Base {
        id: Id,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Full {
        #[serde(flatten)]
        base: Base,
        when: DateTime,
        #[serde(flatten)]
        rest: BTreeMap<String, Value>,
    }
    let v = Value::Struct(
        Struct::new()
            .with("id", 5)
            .with("when", Value::DateTime(dt("20200101T00:00:00")))
            .with("other", Value::Base64(vec![1])),
    );
    let full: Full = from_value(v).unwrap();
    assert_eq!(full.base.id, Id(5));
    assert_eq!(full.when, dt("20200101T00:00:00"));
    assert_eq!(full.rest.get("other"), Some(&Value::Base64(vec![1])));
    let again = to_value(&full).unwrap();
    assert_eq!(again.get("id"), Some(&Value::Int(5)));
    assert_eq!(again.get("when"), Some(&Value::DateTime(dt("20200101T00:00:00"))));
}

/// A glob import of the xmlrpc module must not shadow the `serde` crate (this file would not
/// compile if it did).
mod glob_import {
    use gandish::xmlrpc::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Probe {
        x: i32,
    }

    #[test]
    fn glob_import_of_xmlrpc_leaves_the_serde_crate_usable() {
        assert_eq!(to_value(&Probe { x: 1 }).unwrap().get("x"), Some(&Value::Int(1)));
    }
}

#[test]
fn buffered_formats_untagged_enums_still_read_datetimes() {
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum When {
        At { at: DateTime },
        Never(()),
    }
    let v = Value::Struct(Struct::new().with("at", Value::DateTime(dt("20200101T10:00:00"))));
    assert_eq!(from_value::<When>(v).unwrap(), When::At { at: dt("20200101T10:00:00") });
    assert_eq!(from_value::<When>(Value::Nil).unwrap(), When::Never(()));
    let e = from_value::<When>(Value::Int(3)).unwrap_err();
    assert!(e.to_string().contains("did not match any variant"), "{e}");
}
