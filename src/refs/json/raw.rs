//! A kerchunk JSON store as read, before it becomes a [`crate::refs::RefStore`]: keys and
//! values borrowed from the input's bytes wherever the text allows.
//!
//! A combine reads thousands of stores of hundreds of references each; parsing them into
//! `serde_json::Value` trees cost a `String` and a tree node per key and per part of every
//! reference. Here a reference `[url, offset, length]` is read into three fields without
//! allocating, and only metadata documents and unusual values become `Value`s.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A string of the input, borrowed unless it holds escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_str(ValueVisitor::<false>)? {
            RawValue::One(Part::Str(s)) => Ok(Text(s)),
            _ => Err(de::Error::custom("expected a string")),
        }
    }
}

/// One JSON value that is not a reference: a string, a non-negative integer, or anything else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part<'a> {
    Str(Cow<'a, str>),
    Uint(u64),
    Other(Box<Value>),
}

impl Part<'_> {
    /// The value as JSON (for messages).
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Part::Str(s) => Value::from(s.as_ref()),
            Part::Uint(x) => Value::from(*x),
            Part::Other(v) => (**v).clone(),
        }
    }
}

/// The value of one key of `refs`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue<'a> {
    /// One value: a string is a metadata document's text or a chunk's bytes (`base64:...` or
    /// raw text); an object is a metadata document given as JSON; anything else is malformed.
    One(Part<'a>),
    /// An array: a reference `[url]` or `[url, offset, length]`. Its first three parts, and
    /// how many it has in all.
    Array([Option<Part<'a>>; 3], usize),
}

impl<'de> Deserialize<'de> for RawValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor::<true>)
    }
}

impl From<Value> for RawValue<'_> {
    fn from(v: Value) -> Self {
        RawValue::One(match v {
            Value::String(s) => Part::Str(Cow::Owned(s)),
            Value::Number(n) if n.is_u64() => Part::Uint(n.as_u64().unwrap_or_default()),
            other => Part::Other(Box::new(other)),
        })
    }
}

/// One element of a reference array.
struct Element<'a>(Part<'a>);

impl<'de> Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(ValueVisitor::<false>)? {
            RawValue::One(part) => Ok(Element(part)),
            RawValue::Array(..) => Err(de::Error::custom("nested reference")),
        }
    }
}

/// Reads any JSON value: at the top of a `refs` entry (`TOP`) an array is a reference, read
/// part by part; anywhere else it is just a value.
struct ValueVisitor<const TOP: bool>;

impl<'de, const TOP: bool> Visitor<'de> for ValueVisitor<TOP> {
    type Value = RawValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(RawValue::One(Part::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(RawValue::One(Part::Str(Cow::Owned(s.to_owned()))))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(RawValue::One(Part::Str(Cow::Owned(s))))
    }
    fn visit_u64<E>(self, x: u64) -> Result<Self::Value, E> {
        Ok(RawValue::One(Part::Uint(x)))
    }
    fn visit_i64<E>(self, x: i64) -> Result<Self::Value, E> {
        Ok(Value::from(x).into())
    }
    fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
        Ok(Value::from(x).into())
    }
    fn visit_bool<E>(self, x: bool) -> Result<Self::Value, E> {
        Ok(Value::from(x).into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null.into())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawValue::from)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !TOP {
            return Value::deserialize(de::value::SeqAccessDeserializer::new(seq))
                .map(RawValue::from);
        }
        let mut parts: [Option<Part<'de>>; 3] = [None, None, None];
        let mut len = 0;
        while len < parts.len() {
            let Some(Element(part)) = seq.next_element()? else {
                return Ok(RawValue::Array(parts, len));
            };
            parts[len] = Some(part);
            len += 1;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {
            len += 1;
        }
        Ok(RawValue::Array(parts, len))
    }
}

/// Key/value entries of a JSON object, in document order.
pub(crate) type Entries<'a> = Vec<(Text<'a>, RawValue<'a>)>;

/// `refs` as read: its entries, consolidated metadata left out.
#[derive(Debug)]
pub(crate) struct Refs<'a>(pub Entries<'a>);

impl<'de> Deserialize<'de> for Refs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Refs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of references")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    // Consolidated metadata repeats the documents that follow: not read.
                    if key.0 == ".zmetadata" {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    entries.push((key, map.next_value()?));
                }
                Ok(Refs(entries))
            }
        }
        d.deserialize_map(V)
    }
}

/// A whole store document: version 1's `version`, `refs`, `templates` and `gen`, and every
/// other top-level entry (the references of a version 0 store).
#[derive(Debug, Default)]
pub(crate) struct Document<'a> {
    pub version: Option<Value>,
    pub refs: Option<Refs<'a>>,
    pub templates: Option<Value>,
    pub gen: Option<Value>,
    pub top: Entries<'a>,
}

impl<'de> Deserialize<'de> for Document<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a reference store (a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut doc = Document::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    match key.as_ref() {
                        "version" => doc.version = Some(map.next_value()?),
                        "refs" => doc.refs = Some(map.next_value()?),
                        "templates" => doc.templates = Some(map.next_value()?),
                        "gen" => doc.gen = Some(map.next_value()?),
                        _ => doc.top.push((Text(key), map.next_value()?)),
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}
