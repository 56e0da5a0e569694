//! Rust values to [`Value`]: the [`Serializer`] behind [`to_value`](super::to_value).

use ::serde::ser::{self, Impossible, Serialize, Serializer};

use super::error::SerdeError;
use super::impls::{DATETIME_TOKEN, decode_raw_datetime};
use crate::xmlrpc::datetime::DateTime;
use crate::xmlrpc::value::{Struct, Value};

/// Serializes into a [`Value`].
pub(super) struct ValueSerializer;

fn int<T: TryInto<i64> + std::fmt::Display + Copy>(v: T) -> Result<Value, SerdeError> {
    v.try_into().map(Value::Int).map_err(|_| SerdeError::out_of_range(v, "an XML-RPC int (i64)"))
}

/// `{variant: value}`.
fn variant_struct(variant: &'static str, value: Value) -> Value {
    let mut s = Struct::with_capacity(1);
    s.0.push((variant.to_owned(), value));
    Value::Struct(s)
}

impl Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerdeError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer<SeqSerializer>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = VariantSerializer<StructSerializer>;

    fn serialize_bool(self, v: bool) -> Result<Value, SerdeError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, SerdeError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, SerdeError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, SerdeError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, SerdeError> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, SerdeError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, SerdeError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, SerdeError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, SerdeError> {
        // Through the shortest decimal form, so 0.1f32 becomes the double 0.1 rather than
        // 0.10000000149011612.
        let d = if v.is_finite() { v.to_string().parse().unwrap_or(f64::from(v)) } else { f64::from(v) };
        Ok(Value::Double(d))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, SerdeError> {
        Ok(Value::Double(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, SerdeError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, SerdeError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, SerdeError> {
        Ok(Value::Base64(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, SerdeError> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, SerdeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, SerdeError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, SerdeError> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, SerdeError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, SerdeError> {
        if name == DATETIME_TOKEN {
            value.serialize(DateTimeCapture).map(Value::DateTime)
        } else {
            value.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, SerdeError> {
        let v = value.serialize(ValueSerializer).map_err(|e| e.in_member(variant))?;
        Ok(variant_struct(variant, v))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, SerdeError> {
        Ok(SeqSerializer(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, SerdeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSerializer, SerdeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<SeqSerializer>, SerdeError> {
        Ok(VariantSerializer { variant, inner: SeqSerializer(Vec::with_capacity(len)) })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer, SerdeError> {
        Ok(MapSerializer { members: Vec::with_capacity(len.unwrap_or(0)), key: None })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<StructSerializer, SerdeError> {
        Ok(StructSerializer(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<StructSerializer>, SerdeError> {
        Ok(VariantSerializer { variant, inner: StructSerializer(Vec::with_capacity(len)) })
    }
}

/// Builds an `Array` (sequences, tuples, tuple structs).
pub(super) struct SeqSerializer(Vec<Value>);

impl SeqSerializer {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        let i = self.0.len();
        self.0.push(value.serialize(ValueSerializer).map_err(|e| e.in_index(i))?);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        Ok(Value::Array(self.0))
    }
}

/// Builds a `Struct` from a struct's fields, in declaration order.
pub(super) struct StructSerializer(Vec<(String, Value)>);

impl ser::SerializeStruct for StructSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        let v = value.serialize(ValueSerializer).map_err(|e| e.in_member(key))?;
        self.0.push((key.to_owned(), v));
        Ok(())
    }
    fn end(self) -> Result<Value, SerdeError> {
        Ok(Value::Struct(Struct(self.0)))
    }
}

/// Builds a `Struct` from a map; keys must serialize as strings (or integers, written in decimal).
/// A key given twice keeps its first position and its last value, as the decoder does.
pub(super) struct MapSerializer {
    members: Vec<(String, Value)>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), SerdeError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        let key = self.key.take().ok_or_else(|| SerdeError::custom("map value serialized before its key"))?;
        let v = value.serialize(ValueSerializer).map_err(|e| e.in_member(&key))?;
        self.members.push((key, v));
        Ok(())
    }
    fn end(self) -> Result<Value, SerdeError> {
        let mut s = Struct(self.members);
        s.dedup_last_wins();
        Ok(Value::Struct(s))
    }
}

/// Wraps a tuple or struct variant's content in `{variant: …}`.
pub(super) struct VariantSerializer<S> {
    variant: &'static str,
    inner: S,
}

impl ser::SerializeTupleVariant for VariantSerializer<SeqSerializer> {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.inner.push(value).map_err(|e| e.in_member(self.variant))
    }
    fn end(self) -> Result<Value, SerdeError> {
        Ok(variant_struct(self.variant, Value::Array(self.inner.0)))
    }
}

impl ser::SerializeStructVariant for VariantSerializer<StructSerializer> {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
            .map_err(|e| e.in_member(self.variant))
    }
    fn end(self) -> Result<Value, SerdeError> {
        Ok(variant_struct(self.variant, Value::Struct(Struct(self.inner.0))))
    }
}

fn key_error(found: &str) -> SerdeError {
    SerdeError::mismatch("a string as struct member name", found)
}

/// Serializes a map key into a member name.
struct KeySerializer;

macro_rules! key_ints {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> Result<String, SerdeError> {
            Ok(v.to_string())
        }
    )*};
}

impl Serializer for KeySerializer {
    type Ok = String;
    type Error = SerdeError;
    type SerializeSeq = Impossible<String, SerdeError>;
    type SerializeTuple = Impossible<String, SerdeError>;
    type SerializeTupleStruct = Impossible<String, SerdeError>;
    type SerializeTupleVariant = Impossible<String, SerdeError>;
    type SerializeMap = Impossible<String, SerdeError>;
    type SerializeStruct = Impossible<String, SerdeError>;
    type SerializeStructVariant = Impossible<String, SerdeError>;

    key_ints!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);

    fn serialize_str(self, v: &str) -> Result<String, SerdeError> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, SerdeError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, SerdeError> {
        v.serialize(self)
    }
    fn serialize_bool(self, _: bool) -> Result<String, SerdeError> {
        Err(key_error("boolean"))
    }
    fn serialize_f32(self, _: f32) -> Result<String, SerdeError> {
        Err(key_error("double"))
    }
    fn serialize_f64(self, _: f64) -> Result<String, SerdeError> {
        Err(key_error("double"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, SerdeError> {
        Err(key_error("bytes"))
    }
    fn serialize_none(self) -> Result<String, SerdeError> {
        Err(key_error("nil"))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String, SerdeError> {
        Err(key_error("option"))
    }
    fn serialize_unit(self) -> Result<String, SerdeError> {
        Err(key_error("nil"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, SerdeError> {
        Err(key_error("unit struct"))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, SerdeError> {
        Err(key_error("enum variant"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerdeError> {
        Err(key_error("array"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerdeError> {
        Err(key_error("tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerdeError> {
        Err(key_error("tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerdeError> {
        Err(key_error("enum variant"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerdeError> {
        Err(key_error("struct"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, SerdeError> {
        Err(key_error("struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerdeError> {
        Err(key_error("enum variant"))
    }
}

/// Receives the payload of the private `DateTime` newtype. It reports itself as not
/// human-readable, so `DateTime`'s `Serialize` hands over its exact raw fields (zone offset
/// included) instead of the compact string other formats get.
struct DateTimeCapture;

fn not_a_datetime() -> SerdeError {
    SerdeError::custom("the private dateTime newtype must hold a dateTime")
}

impl Serializer for DateTimeCapture {
    type Ok = DateTime;
    type Error = SerdeError;
    type SerializeSeq = Impossible<DateTime, SerdeError>;
    type SerializeTuple = Impossible<DateTime, SerdeError>;
    type SerializeTupleStruct = Impossible<DateTime, SerdeError>;
    type SerializeTupleVariant = Impossible<DateTime, SerdeError>;
    type SerializeMap = Impossible<DateTime, SerdeError>;
    type SerializeStruct = Impossible<DateTime, SerdeError>;
    type SerializeStructVariant = Impossible<DateTime, SerdeError>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<DateTime, SerdeError> {
        decode_raw_datetime(v).ok_or_else(not_a_datetime)
    }
    fn serialize_str(self, v: &str) -> Result<DateTime, SerdeError> {
        DateTime::parse(v).map_err(|e| SerdeError::mismatch("dateTime", format!("string ({})", e.reason)))
    }
    fn serialize_bool(self, _: bool) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_i8(self, _: i8) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_i16(self, _: i16) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_i32(self, _: i32) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_i64(self, _: i64) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_u8(self, _: u8) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_u16(self, _: u16) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_u32(self, _: u32) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_u64(self, _: u64) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_f32(self, _: f32) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_f64(self, _: f64) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_char(self, _: char) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_none(self) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_unit(self) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<DateTime, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, SerdeError> {
        Err(not_a_datetime())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerdeError> {
        Err(not_a_datetime())
    }
}
