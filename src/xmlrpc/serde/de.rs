//! [`Value`] to Rust values: one [`Deserializer`] over either an owned value (strings and
//! byte buffers are moved out, never copied) or a borrowed one (strings can be borrowed as `&str`).
//!
//! The deserializer recurses once per nesting level of the value. Values from the decoder are at
//! most [`Limits::max_depth`](crate::xmlrpc::Limits::max_depth) (128 by default) deep, so this is
//! bounded; do not feed it hand-built values thousands of levels deep.

use ::serde::de::value::SeqDeserializer;
use ::serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use super::error::SerdeError;
use super::impls::{DATETIME_TOKEN, DateTimeEnum, VALUE_TOKEN, encode_raw_datetime};
use crate::xmlrpc::value::Value;

/// The type name used in error messages (`dateTime` rather than `dateTime.iso8601`).
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "int",
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Double(_) => "double",
        Value::DateTime(_) => "dateTime",
        Value::Base64(_) => "base64",
        Value::Array(_) => "array",
        Value::Struct(_) => "struct",
        Value::Nil => "nil",
    }
}

/// What the deserializer reads from: an owned [`Value`] or a `&Value`.
pub(super) trait Input<'de>: Sized {
    /// A member name: `String` when owned, `&'de str` when borrowed.
    type Key: AsRef<str>;
    /// The elements of an array.
    type Items: ExactSizeIterator<Item = Self>;
    /// The members of a struct.
    type Members: ExactSizeIterator<Item = (Self::Key, Self)>;

    fn get(&self) -> &Value;
    /// Visits a `String` value (moved or borrowed); other values visit `""`.
    fn visit_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, SerdeError>;
    /// Visits a `Base64` value (moved or borrowed); other values visit no bytes.
    fn visit_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, SerdeError>;
    /// The elements of an `Array` (none for other values).
    fn items(self) -> Self::Items;
    /// The members of a `Struct` (none for other values).
    fn members(self) -> Self::Members;
    /// Visits a member name.
    fn visit_key<V: Visitor<'de>>(key: &Self::Key, v: V) -> Result<V::Value, SerdeError>;
}

impl<'de> Input<'de> for Value {
    type Key = String;
    type Items = std::vec::IntoIter<Value>;
    type Members = std::vec::IntoIter<(String, Value)>;

    fn get(&self) -> &Value {
        self
    }
    fn visit_string<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, SerdeError> {
        match &mut self {
            Value::String(s) => v.visit_string(std::mem::take(s)),
            _ => v.visit_str(""),
        }
    }
    fn visit_bytes<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, SerdeError> {
        match &mut self {
            Value::Base64(b) => v.visit_byte_buf(std::mem::take(b)),
            _ => v.visit_bytes(&[]),
        }
    }
    fn items(self) -> Self::Items {
        self.into_array().unwrap_or_default().into_iter()
    }
    fn members(self) -> Self::Members {
        self.into_struct().map(|s| s.into_members()).unwrap_or_default().into_iter()
    }
    fn visit_key<V: Visitor<'de>>(key: &String, v: V) -> Result<V::Value, SerdeError> {
        v.visit_str(key)
    }
}

type BorrowedMembers<'de> = std::iter::Map<
    std::slice::Iter<'de, (String, Value)>,
    fn(&'de (String, Value)) -> (&'de str, &'de Value),
>;

impl<'de> Input<'de> for &'de Value {
    type Key = &'de str;
    type Items = std::slice::Iter<'de, Value>;
    type Members = BorrowedMembers<'de>;

    fn get(&self) -> &Value {
        self
    }
    fn visit_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, SerdeError> {
        v.visit_borrowed_str(self.as_str().unwrap_or(""))
    }
    fn visit_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, SerdeError> {
        v.visit_borrowed_bytes(self.as_bytes().unwrap_or(&[]))
    }
    fn items(self) -> Self::Items {
        self.as_array().unwrap_or(&[]).iter()
    }
    fn members(self) -> Self::Members {
        let members: &'de [(String, Value)] = match self {
            Value::Struct(s) => &s.0,
            _ => &[],
        };
        members.iter().map(|(k, v)| (k.as_str(), v))
    }
    fn visit_key<V: Visitor<'de>>(key: &&'de str, v: V) -> Result<V::Value, SerdeError> {
        v.visit_borrowed_str(key)
    }
}

/// The deserializer over one value.
pub(super) struct De<I>(pub(super) I);

fn mismatch(expected: &str, v: &Value) -> SerdeError {
    SerdeError::mismatch(expected, kind(v))
}

fn visit_array<'de, I: Input<'de>, V: Visitor<'de>>(input: I, visitor: V) -> Result<V::Value, SerdeError> {
    let mut seq = SeqDe { items: input.items(), index: 0 };
    let out = visitor.visit_seq(&mut seq)?;
    let left = seq.items.len();
    if left > 0 {
        return Err(SerdeError::custom(format!(
            "expected an array of {} elements, found {}",
            seq.index,
            seq.index + left
        )));
    }
    Ok(out)
}

fn visit_struct<'de, I: Input<'de>, V: Visitor<'de>>(input: I, visitor: V) -> Result<V::Value, SerdeError> {
    visitor.visit_map(MapDe::<I> { members: input.members(), key: None, value: None })
}

macro_rules! ints {
    ($($method:ident => $visit:ident: $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match self.0.get() {
                Value::Int(i) => match <$t>::try_from(*i) {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(SerdeError::out_of_range(i, stringify!($t))),
                },
                other => Err(mismatch("int", other)),
            }
        }
    )*};
}

impl<'de, I: Input<'de>> Deserializer<'de> for De<I> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::String(_) => self.0.visit_string(visitor),
            Value::Double(d) => visitor.visit_f64(*d),
            Value::DateTime(dt) => visitor.visit_string(dt.to_string()),
            Value::Base64(_) => self.0.visit_bytes(visitor),
            Value::Array(_) => visit_array(self.0, visitor),
            Value::Struct(_) => visit_struct(self.0, visitor),
            Value::Nil => visitor.visit_unit(),
        }
    }

    ints! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Bool(b) => visitor.visit_bool(*b),
            other => Err(mismatch("boolean", other)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Double(d) => visitor.visit_f64(*d),
            Value::Int(i) => visitor.visit_f64(*i as f64),
            other => Err(mismatch("double", other)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Double(d) if d.is_finite() && d.abs() > f64::from(f32::MAX) => {
                Err(SerdeError::custom(format!("double {d} is out of range for f32")))
            }
            Value::Double(d) => visitor.visit_f32(*d as f32),
            Value::Int(i) => visitor.visit_f32(*i as f32),
            other => Err(mismatch("double", other)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::String(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(SerdeError::mismatch("a single character", "a longer or empty string")),
                }
            }
            other => Err(mismatch("a single character", other)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::String(_) => self.0.visit_string(visitor),
            Value::DateTime(dt) => visitor.visit_string(dt.to_string()),
            other => Err(mismatch("string", other)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Base64(_) => self.0.visit_bytes(visitor),
            Value::String(_) => self.0.visit_string(visitor),
            other => Err(mismatch("base64", other)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Nil => visitor.visit_unit(),
            other => Err(mismatch("nil", other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        if name == DATETIME_TOKEN {
            match self.0.get() {
                Value::DateTime(dt) => visitor.visit_bytes(&encode_raw_datetime(dt)),
                Value::String(s) => visitor.visit_str(s),
                other => Err(mismatch("dateTime", other)),
            }
        } else if name == VALUE_TOKEN {
            match self.0.get() {
                Value::DateTime(dt) => visitor.visit_enum(DateTimeEnum(*dt)),
                _ => self.deserialize_any(visitor),
            }
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Array(_) => visit_array(self.0, visitor),
            // So that a plain `Vec<u8>` (which serde reads as a sequence) accepts base64.
            Value::Base64(b) => {
                let mut seq = SeqDeserializer::<_, SerdeError>::new(b.iter().copied());
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            other => Err(mismatch("array", other)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Struct(_) => visit_struct(self.0, visitor),
            other => Err(mismatch("struct", other)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::Struct(_) => visit_struct(self.0, visitor),
            other => Err(mismatch(&format!("struct {name}"), other)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.0.get() {
            Value::String(_) => visitor.visit_enum(UnitVariant(self.0)),
            Value::Struct(s) if s.len() == 1 => {
                let (key, value) = self.0.members().next().expect("one member");
                let variant = key.as_ref().to_owned();
                visitor.visit_enum(Variant::<I> { key, value }).map_err(|e| e.in_member(&variant))
            }
            other => Err(SerdeError::mismatch(
                format!("enum {name} (a variant name, or a struct with one member)"),
                kind(other),
            )),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        drop(self);
        visitor.visit_unit()
    }
}

/// The elements of an array; errors get the element's index prepended to their path.
struct SeqDe<It> {
    items: It,
    index: usize,
}

impl<'de, I: Input<'de>, It: ExactSizeIterator<Item = I>> SeqAccess<'de> for SeqDe<It> {
    type Error = SerdeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        match self.items.next() {
            Some(v) => {
                let i = self.index;
                self.index += 1;
                seed.deserialize(De(v)).map(Some).map_err(|e| e.in_index(i))
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The members of a struct; errors get the member's name prepended to their path.
struct MapDe<'de, I: Input<'de>> {
    members: I::Members,
    key: Option<I::Key>,
    value: Option<I>,
}

impl<'de, I: Input<'de>> MapAccess<'de> for MapDe<'de, I> {
    type Error = SerdeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, SerdeError> {
        let Some((k, v)) = self.members.next() else { return Ok(None) };
        self.value = Some(v);
        let key = self.key.insert(k);
        seed.deserialize(KeyDe::<I>(key)).map(Some).map_err(|e| e.in_member(key.as_ref()))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, SerdeError> {
        let v = self.value.take().ok_or_else(|| SerdeError::custom("struct value read before its name"))?;
        seed.deserialize(De(v)).map_err(|e| match &self.key {
            Some(k) => e.in_member(k.as_ref()),
            None => e,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// A member name as a map key or field identifier. Integer key types parse it.
struct KeyDe<'a, 'de, I: Input<'de>>(&'a I::Key);

macro_rules! int_keys {
    ($($method:ident => $visit:ident: $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match self.0.as_ref().parse::<$t>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(SerdeError::mismatch(concat!("a member name that is a ", stringify!($t)), "another name")),
            }
        }
    )*};
}

impl<'de, I: Input<'de>> Deserializer<'de> for KeyDe<'_, 'de, I> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        I::visit_key(self.0, visitor)
    }

    int_keys! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_enum(self.0.as_ref().into_deserializer())
    }

    ::serde::forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// An enum variant written as its name.
struct UnitVariant<I>(I);

impl<'de, I: Input<'de>> EnumAccess<'de> for UnitVariant<I> {
    type Error = SerdeError;
    type Variant = UnitOnly;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, UnitOnly), SerdeError> {
        Ok((seed.deserialize(De(self.0))?, UnitOnly))
    }
}

struct UnitOnly;

impl<'de> VariantAccess<'de> for UnitOnly {
    type Error = SerdeError;
    fn unit_variant(self) -> Result<(), SerdeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, SerdeError> {
        Err(SerdeError::mismatch("a struct with one member (newtype variant)", "string"))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, SerdeError> {
        Err(SerdeError::mismatch("a struct with one member (tuple variant)", "string"))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, SerdeError> {
        Err(SerdeError::mismatch("a struct with one member (struct variant)", "string"))
    }
}

/// An enum variant written as a one-member struct `{variant: content}`.
struct Variant<'de, I: Input<'de>> {
    key: I::Key,
    value: I,
}

impl<'de, I: Input<'de>> EnumAccess<'de> for Variant<'de, I> {
    type Error = SerdeError;
    type Variant = De<I>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, De<I>), SerdeError> {
        let tag = seed.deserialize(KeyDe::<I>(&self.key))?;
        Ok((tag, De(self.value)))
    }
}

impl<'de, I: Input<'de>> VariantAccess<'de> for De<I> {
    type Error = SerdeError;

    fn unit_variant(self) -> Result<(), SerdeError> {
        match self.0.get() {
            Value::Nil => Ok(()),
            other => Err(mismatch("nil (unit variant)", other)),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, SerdeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_map(visitor)
    }
}
