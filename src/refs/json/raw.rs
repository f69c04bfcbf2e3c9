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
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One part of a reference array: a string, a non-negative integer, or anything else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part<'a> {
    Str(Cow<'a, str>),
    Uint(u64),
    Other(Box<Value>),
}

impl<'de> Deserialize<'de> for Part<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PartVisitor)
    }
}

struct PartVisitor;

impl<'de> Visitor<'de> for PartVisitor {
    type Value = Part<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Part::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Part::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Part::Str(Cow::Owned(s)))
    }
    fn visit_u64<E>(self, x: u64) -> Result<Self::Value, E> {
        Ok(Part::Uint(x))
    }
    fn visit_i64<E>(self, x: i64) -> Result<Self::Value, E> {
        Ok(Part::Other(Box::new(Value::from(x))))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
        Ok(Part::Other(Box::new(Value::from(x))))
    }
    fn visit_bool<E>(self, x: bool) -> Result<Self::Value, E> {
        Ok(Part::Other(Box::new(Value::from(x))))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Part::Other(Box::new(Value::Null)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq))
            .map(|v| Part::Other(Box::new(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|v| Part::Other(Box::new(v)))
    }
}

/// The value of one key of `refs`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue<'a> {
    /// A string: a metadata document's text, or a chunk's bytes (`base64:...` or raw text).
    Text(Cow<'a, str>),
    /// An array: a reference `[url]` or `[url, offset, length]`. Its first three parts, and
    /// how many it has in all.
    Array([Option<Part<'a>>; 3], usize),
    /// Anything else: a metadata document given as a JSON object, or a malformed value.
    Json(Value),
}

impl<'de> Deserialize<'de> for RawValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts: [Option<Part<'de>>; 3] = [None, None, None];
                let mut len = 0;
                while len < parts.len() {
                    let Some(part) = seq.next_element::<Part<'de>>()? else {
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
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(RawValue::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(RawValue::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(RawValue::Text(Cow::Owned(s)))
            }
            fn visit_u64<E>(self, x: u64) -> Result<Self::Value, E> {
                Ok(RawValue::Json(Value::from(x)))
            }
            fn visit_i64<E>(self, x: i64) -> Result<Self::Value, E> {
                Ok(RawValue::Json(Value::from(x)))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
                Ok(RawValue::Json(Value::from(x)))
            }
            fn visit_bool<E>(self, x: bool) -> Result<Self::Value, E> {
                Ok(RawValue::Json(Value::from(x)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(RawValue::Json(Value::Null))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawValue::Json)
            }
        }
        d.deserialize_any(V)
    }
}

impl From<Value> for RawValue<'_> {
    fn from(v: Value) -> Self {
        match v {
            Value::String(s) => RawValue::Text(Cow::Owned(s)),
            other => RawValue::Json(other),
        }
    }
}

/// Key/value entries of a JSON object, in document order.
pub(crate) type Entries<'a> = Vec<(Text<'a>, RawValue<'a>)>;

/// `refs` as read: entries, or the value found instead of an object.
#[derive(Debug)]
pub(crate) enum Refs<'a> {
    Object(Entries<'a>),
    NotAnObject,
}

impl<'de> Deserialize<'de> for Refs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Refs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
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
                Ok(Refs::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Refs::NotAnObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Refs::NotAnObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Refs::NotAnObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Refs::NotAnObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Refs::NotAnObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Refs::NotAnObject)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Refs::NotAnObject)
            }
        }
        d.deserialize_any(V)
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
