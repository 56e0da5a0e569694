//! `Serialize`/`Deserialize` for [`DateTime`], [`Value`] and [`Struct`].
//!
//! `DateTime` travels as a newtype struct with a private name ([`DATETIME_TOKEN`]). The
//! [`Value`] serializer and deserializer recognise it and keep the dateTime (zone offset included);
//! any other format sees a plain newtype around the compact string `YYYYMMDDTHH:MM:SS` (or, in
//! formats that are not human-readable, a short byte string), and reading accepts every form
//! [`DateTime::parse`] does.
//!
//! `Value` travels through another private newtype ([`VALUE_TOKEN`]) so that a `Value` read
//! back from a `Value` keeps its dateTimes as dateTimes; from other formats it reads null as
//! `Nil`, numbers, strings, bytes (as `Base64`), sequences and maps.

use std::fmt;

use ::serde::de::{
    self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use ::serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::xmlrpc::datetime::DateTime;
use crate::xmlrpc::value::{Struct, Value};

/// The private newtype name that marks a [`DateTime`].
pub(super) const DATETIME_TOKEN: &str = "$gandish::xmlrpc::DateTime";
/// The private newtype name that marks a [`Value`].
pub(super) const VALUE_TOKEN: &str = "$gandish::xmlrpc::Value";

const RAW_TAG: [u8; 3] = [0xFF, b'd', b't'];
const RAW_LEN: usize = 13;

/// The exact fields of a dateTime as 13 bytes: a tag that is not UTF-8, then year (2 bytes),
/// month, day, hour, minute, second, an offset flag and the offset (2 bytes).
pub(super) fn encode_raw_datetime(dt: &DateTime) -> [u8; RAW_LEN] {
    let [y0, y1] = dt.year.to_be_bytes();
    let [o0, o1] = dt.offset_minutes.unwrap_or(0).to_be_bytes();
    let [t0, t1, t2] = RAW_TAG;
    [
        t0,
        t1,
        t2,
        y0,
        y1,
        dt.month,
        dt.day,
        dt.hour,
        dt.minute,
        dt.second,
        u8::from(dt.offset_minutes.is_some()),
        o0,
        o1,
    ]
}

/// Reads [`encode_raw_datetime`]'s bytes back, checking every field.
pub(super) fn decode_raw_datetime(b: &[u8]) -> Option<DateTime> {
    if b.len() != RAW_LEN || b[..3] != RAW_TAG {
        return None;
    }
    let mut dt = DateTime::new(u16::from_be_bytes([b[3], b[4]]), b[5], b[6], b[7], b[8], b[9]).ok()?;
    let off = i16::from_be_bytes([b[11], b[12]]);
    dt.offset_minutes = match b[10] {
        0 => None,
        1 if off.abs() < 24 * 60 => Some(off),
        _ => return None,
    };
    Some(dt)
}

/// The payload of the `DateTime` newtype.
struct RawDateTime<'a>(&'a DateTime);

impl Serialize for RawDateTime<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self.0)
        } else {
            s.serialize_bytes(&encode_raw_datetime(self.0))
        }
    }
}

impl Serialize for DateTime {
    /// With [`to_value`](super::to_value): a `Value::DateTime`. With other formats: the string
    /// `YYYYMMDDTHH:MM:SS` (a recorded zone offset is not written), or raw bytes in formats that
    /// are not human-readable.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(DATETIME_TOKEN, &RawDateTime(self))
    }
}

struct DateTimeVisitor;

impl<'de> Visitor<'de> for DateTimeVisitor {
    type Value = DateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dateTime")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime, E> {
        // The reason only, not the text: the error must not echo string contents.
        DateTime::parse(v).map_err(|e| E::custom(format!("expected dateTime, found string ({})", e.reason)))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<DateTime, E> {
        if let Some(dt) = decode_raw_datetime(v) {
            return Ok(dt);
        }
        match std::str::from_utf8(v) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
        }
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<DateTime, D::Error> {
        if d.is_human_readable() { d.deserialize_str(self) } else { d.deserialize_bytes(self) }
    }
}

impl<'de> Deserialize<'de> for DateTime {
    /// From a `Value::DateTime` (exactly), or from a string in any form [`DateTime::parse`]
    /// accepts.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
        d.deserialize_newtype_struct(DATETIME_TOKEN, DateTimeVisitor)
    }
}

impl Serialize for Value {
    /// Each variant as its serde counterpart: `Int` as i64, `Base64` as bytes, `Array` as a
    /// sequence, `Struct` as a map (order kept), `Nil` as unit (JSON `null`), `DateTime` as
    /// [`DateTime`] does. Recurses once per nesting level.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Int(i) => s.serialize_i64(*i),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::String(t) => s.serialize_str(t),
            Value::Double(d) => s.serialize_f64(*d),
            Value::DateTime(dt) => dt.serialize(s),
            Value::Base64(b) => s.serialize_bytes(b),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Struct(st) => st.serialize(s),
            Value::Nil => s.serialize_unit(),
        }
    }
}

impl Serialize for Struct {
    /// A map from member name to value, in member order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an XML-RPC value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {v} is out of range for an XML-RPC int (i64)")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Double(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Base64(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Base64(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            members.push((k, v));
        }
        let mut s = Struct(members);
        s.dedup_last_wins();
        Ok(Value::Struct(s))
    }
    /// Only the `Value` deserializers call this, to hand over a dateTime.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, variant): (String, _) = data.variant()?;
        if tag != DATETIME_TOKEN {
            return Err(de::Error::custom("expected an XML-RPC value, found an enum"));
        }
        variant.newtype_variant::<DateTime>().map(Value::DateTime)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Any self-describing input: null/unit is `Nil`, bytes are `Base64`, maps are `Struct`s
    /// (a repeated key keeps its last value). From a `Value`, the result equals the input,
    /// dateTimes included. Recurses once per nesting level.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Struct {
    /// A map (or a struct) of member names to values.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Struct, D::Error> {
        match Value::deserialize(d)?.into_struct() {
            Ok(s) => Ok(s),
            Err(v) => Err(de::Error::custom(format!("expected struct, found {}", v.type_name()))),
        }
    }
}

/// Hands a dateTime to [`ValueVisitor::visit_enum`] as the variant `DATETIME_TOKEN`.
pub(super) struct DateTimeEnum(pub(super) DateTime);

impl<'de> EnumAccess<'de> for DateTimeEnum {
    type Error = super::SerdeError;
    type Variant = Self;
    fn variant_seed<V: de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Self::Error> {
        let tag = seed.deserialize(de::value::StrDeserializer::<Self::Error>::new(DATETIME_TOKEN))?;
        Ok((tag, self))
    }
}

impl<'de> VariantAccess<'de> for DateTimeEnum {
    type Error = super::SerdeError;
    fn unit_variant(self) -> Result<(), Self::Error> {
        Err(de::Error::custom("a dateTime is not a unit variant"))
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Self::Error> {
        seed.deserialize(de::value::BytesDeserializer::<Self::Error>::new(&encode_raw_datetime(&self.0)))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a dateTime is not a tuple variant"))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a dateTime is not a struct variant"))
    }
}
