//! A zarrs storage adapter over a [`RefStore`]: Zarr V2 keys in, bytes out.
//!
//! Metadata keys (`.zgroup`, `.zattrs`, `v/.zarray`, `v/.zattrs`) are generated from the model
//! with [`crate::refs::json`], never stored, and adapted to what zarrs accepts (see
//! [`zarray_for_zarrs`]). Chunk keys resolve through [`RefStore::chunk_ref`]: a missing chunk is
//! `Ok(None)`, which zarrs reads as the fill value; inline bytes are served from the store;
//! ranges and whole files are fetched through [`crate::io`].
//!
//! **A key absent from the store is `None`, a referenced file that cannot be read is an error.**
//! This deliberately differs from `zarrs_object_store`, which maps `NotFound` to `None`: for a
//! reference store that would turn a moved or deleted data file into silent fill values.
//!
//! This module does not decode anything (zarrs does) and does not choose what to read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use bytes::Bytes;
use rayon::prelude::*;
use serde_json::{json, Value};
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs::storage::{MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey};

use super::codecs;
use crate::error::{Error, Result};
use crate::io;
use crate::refs::{json as refs_json, ArrayMeta, ArrayRefs, ChunkRef, RefStore};

/// Compressed bytes a single read prefetches at most; chunks beyond it are fetched on demand
/// by zarrs' (parallel) chunk workers instead, so memory stays bounded on very large reads.
pub const PREFETCH_BUDGET: u64 = 512 * 1024 * 1024;

/// A read-only zarrs store serving a reference store's metadata and chunks.
#[derive(Debug)]
pub struct RefStorage {
    refs: Arc<RefStore>,
    location: Option<Arc<str>>,
    prefetched: Mutex<Prefetched>,
    first_error: Mutex<Option<Error>>,
}

/// Chunk bytes fetched ahead of a read, by chunk number, for one array.
#[derive(Debug, Default)]
struct Prefetched {
    array: String,
    chunks: HashMap<usize, Bytes>,
}

/// What a store key names.
enum Key<'a> {
    Doc(Value),
    Chunk(&'a str, &'a ArrayRefs, usize),
    Absent,
}

impl RefStorage {
    /// An adapter over `refs`. `location` is where the store was loaded from: relative
    /// references resolve against its directory, and errors name it.
    #[must_use]
    pub fn new(refs: Arc<RefStore>, location: Option<Arc<str>>) -> Self {
        Self {
            refs,
            location,
            prefetched: Mutex::default(),
            first_error: Mutex::default(),
        }
    }

    /// The store's name in messages: its location, or `<memory>`.
    #[must_use]
    pub fn name(&self) -> &str {
        self.location.as_deref().unwrap_or("<memory>")
    }

    /// The first chunkref error met while serving zarrs, if any. zarrs reports storage errors
    /// as text; this keeps the original [`Error`] (e.g. [`Error::Fetch`] with url and range).
    pub fn take_error(&self) -> Option<Error> {
        self.first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn record(&self, err: Error) -> StorageError {
        let text = err.to_string();
        let mut slot = self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(err);
        }
        StorageError::Other(text)
    }

    fn url(&self, url: &str) -> String {
        io::resolve(url, self.location.as_deref())
    }

    /// Fetches chunks `numbers` of `array` ahead of a read: ranges of one file are coalesced,
    /// files are read in parallel, and at most [`PREFETCH_BUDGET`] bytes are held.
    ///
    /// # Errors
    /// Returns [`Error::Fetch`] when a referenced file or range cannot be read.
    pub fn prefetch(&self, array: &str, numbers: &[usize]) -> Result<()> {
        let Some(refs) = self.refs.arrays.get(array) else {
            return Ok(());
        };
        let mut by_url: HashMap<&str, (Vec<usize>, Vec<Range<u64>>)> = HashMap::new();
        let mut budget = PREFETCH_BUDGET;
        for &n in numbers {
            if let ChunkRef::Range {
                url,
                offset,
                length,
            } = self.refs.chunk_ref(refs, n)
            {
                let Some(rest) = budget.checked_sub(length) else {
                    break;
                };
                budget = rest;
                let entry = by_url.entry(url).or_default();
                entry.0.push(n);
                entry.1.push(offset..offset.saturating_add(length));
            }
        }
        let fetched: Vec<Vec<(usize, Bytes)>> = by_url
            .into_par_iter()
            .map(|(url, (numbers, ranges))| {
                let bytes = io::read_ranges(&self.url(url), &ranges)
                    .map_err(|e| context(e, &format!("variable {array}")))?;
                Ok(numbers.into_iter().zip(bytes).collect())
            })
            .collect::<Result<_>>()?;
        let mut slot = self
            .prefetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        array.clone_into(&mut slot.array);
        slot.chunks = fetched.into_iter().flatten().collect();
        Ok(())
    }

    fn take_prefetched(&self, array: &str, n: usize) -> Option<Bytes> {
        let mut slot = self
            .prefetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.array == array {
            slot.chunks.remove(&n)
        } else {
            None
        }
    }

    fn resolve_key<'a>(&'a self, key: &'a str) -> std::result::Result<Key<'a>, Error> {
        let (parent, last) = key.rsplit_once('/').unwrap_or(("", key));
        let meta_err = |reason: String| Error::Store {
            store: self.name().to_owned(),
            key: Some(key.to_owned()),
            reason,
        };
        let group = self.refs.groups.get(parent);
        let array = self.refs.arrays.get(parent);
        match (last, group, array) {
            (".zgroup", Some(_), _) => Ok(Key::Doc(json!({"zarr_format": 2}))),
            (".zattrs", Some(attrs), _) => Ok(Key::Doc(Value::Object(attrs.clone()))),
            (".zarray", _, Some(a)) => zarray_for_zarrs(&a.meta).map(Key::Doc).map_err(meta_err),
            (".zattrs", _, Some(a)) => Ok(Key::Doc(refs_json::zattrs(&a.meta))),
            (".zgroup" | ".zattrs" | ".zarray" | ".zmetadata" | "zarr.json", _, _) => {
                Ok(Key::Absent)
            }
            _ => Ok(self
                .refs
                .arrays
                .get_key_value(parent)
                .and_then(|(path, a)| {
                    chunk_number(a, last).map(|n| Key::Chunk(path.as_str(), a, n))
                })
                .unwrap_or(Key::Absent)),
        }
    }

    fn chunk_bytes(
        &self,
        array: &str,
        refs: &ArrayRefs,
        n: usize,
        ranges: &[ByteRange],
    ) -> Result<Option<Vec<Slice>>> {
        if let Some(bytes) = self.take_prefetched(array, n) {
            return Ok(Some(slice_all(&bytes, ranges)));
        }
        match self.refs.chunk_ref(refs, n) {
            ChunkRef::Missing => Ok(None),
            ChunkRef::Inline(b) => Ok(Some(slice_all(&Bytes::copy_from_slice(b), ranges))),
            ChunkRef::Whole { url } => Ok(Some(slice_all(&io::read_all(&self.url(url))?, ranges))),
            ChunkRef::Range {
                url,
                offset,
                length,
            } => {
                let within: Vec<Option<Range<u64>>> =
                    ranges.iter().map(|r| to_range(*r, length)).collect();
                let absolute: Vec<Range<u64>> = within
                    .iter()
                    .flatten()
                    .map(|r| offset.saturating_add(r.start)..offset.saturating_add(r.end))
                    .collect();
                let mut fetched = io::read_ranges(&self.url(url), &absolute)?.into_iter();
                let slices = within
                    .iter()
                    .zip(ranges)
                    .map(|(w, r)| match w {
                        Some(_) => fetched.next().ok_or(InvalidByteRangeError::new(*r, length)),
                        None => Err(InvalidByteRangeError::new(*r, length)),
                    })
                    .collect();
                Ok(Some(slices))
            }
        }
    }
}

/// `err` with `what` (a variable or chunk key) put before the reason of a fetch error.
fn context(err: Error, what: &str) -> Error {
    match err {
        Error::Fetch { url, reason } => Error::Fetch {
            url,
            reason: format!("{what}: {reason}"),
        },
        other => other,
    }
}

/// One requested byte range of a value, or why it cannot be served.
type Slice = std::result::Result<Bytes, InvalidByteRangeError>;

/// `range` within a value of `size` bytes, if it lies inside.
fn to_range(range: ByteRange, size: u64) -> Option<Range<u64>> {
    match range {
        ByteRange::FromStart(start, None) => (start <= size).then_some(start..size),
        ByteRange::FromStart(start, Some(len)) => start
            .checked_add(len)
            .filter(|&end| end <= size)
            .map(|end| start..end),
        ByteRange::Suffix(len) => size.checked_sub(len).map(|start| start..size),
    }
}

fn slice_all(bytes: &Bytes, ranges: &[ByteRange]) -> Vec<Slice> {
    let size = bytes.len() as u64;
    ranges
        .iter()
        .map(|r| {
            to_range(*r, size)
                .and_then(|x| {
                    Some(bytes.slice(usize::try_from(x.start).ok()?..usize::try_from(x.end).ok()?))
                })
                .ok_or(InvalidByteRangeError::new(*r, size))
        })
        .collect()
}

/// The C-order number of the chunk with key suffix `suffix` (`"0.3.1"`; `"0"` for a scalar).
fn chunk_number(array: &ArrayRefs, suffix: &str) -> Option<usize> {
    let pos: Vec<u64> = suffix
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let pos: &[u64] = if array.meta.shape.is_empty() && pos == [0] {
        &[]
    } else {
        &pos
    };
    array.chunks.linear(pos)
}

impl ReadableStorageTraits for RefStorage {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> std::result::Result<MaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        let slices = match self.resolve_key(key.as_str()).map_err(|e| self.record(e))? {
            Key::Absent => return Ok(None),
            Key::Doc(doc) => slice_all(&Bytes::from(doc.to_string()), &ranges),
            Key::Chunk(array, refs, n) => match self.chunk_bytes(array, refs, n, &ranges) {
                Ok(Some(slices)) => slices,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.record(context(e, &format!("chunk {}", key.as_str())))),
            },
        };
        Ok(Some(Box::new(
            slices.into_iter().map(|s| s.map_err(StorageError::from)),
        )))
    }

    fn size_key(&self, key: &StoreKey) -> std::result::Result<Option<u64>, StorageError> {
        match self.resolve_key(key.as_str()).map_err(|e| self.record(e))? {
            Key::Absent => Ok(None),
            Key::Doc(doc) => Ok(Some(doc.to_string().len() as u64)),
            Key::Chunk(_, refs, n) => match self.refs.chunk_ref(refs, n) {
                ChunkRef::Missing => Ok(None),
                ChunkRef::Inline(b) => Ok(Some(b.len() as u64)),
                ChunkRef::Range { length, .. } => Ok(Some(length)),
                ChunkRef::Whole { url } => io::size(&self.url(url))
                    .map(Some)
                    .map_err(|e| self.record(e)),
            },
        }
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

/// The `.zarray` document handed to zarrs for `meta`: the stored one, adapted where zarrs
/// differs from numcodecs/zarr-python. The store itself is never changed.
///
/// - `|S<n>` (fixed bytes) is rejected by zarrs: it is presented as raw bits `|V<n>`, with
///   the fill value as `n` bytes;
/// - one-byte dtypes written with a byte order (`<i1`, `>u1`, `<b1`) become `|i1`, `|u1`, `|b1`;
/// - an integral float fill value of an integer dtype (`-9999.0`) becomes an integer;
/// - codec ids replaced by chunkref are renamed ([`codecs::zarrs_id`]), and `zlib`/`gzip`
///   without a level get numcodecs' default level (the level does not matter for decoding).
///
/// A compressor placed in `filters` (kerchunk's layout, which keeps HDF5's filter order) needs
/// no moving: zarrs sorts a V2 chain by codec kind and keeps the order of bytes-to-bytes
/// codecs, so `[shuffle, zlib]` decodes as zlib then unshuffle.
///
/// # Errors
/// Returns a message when a fixed-bytes fill value cannot be represented.
pub fn zarray_for_zarrs(meta: &ArrayMeta) -> std::result::Result<Value, String> {
    let mut doc = refs_json::zarray(meta);
    let dtype = zarrs_dtype(&meta.dtype);
    if let Some(n) = meta
        .dtype
        .strip_prefix("|S")
        .and_then(|n| n.parse::<usize>().ok())
    {
        doc["fill_value"] = fixed_bytes_fill(&meta.fill_value, n)?;
    } else if is_integer(&dtype) {
        doc["fill_value"] = integral_fill(&meta.fill_value);
    }
    doc["dtype"] = Value::String(dtype.into_owned());
    if let Some(Value::Array(filters)) = doc.get_mut("filters") {
        filters.iter_mut().for_each(adapt_codec);
    }
    if let Some(compressor) = doc.get_mut("compressor").filter(|c| c.is_object()) {
        adapt_codec(compressor);
    }
    Ok(doc)
}

/// The dtype zarrs should see for the stored `dtype`.
fn zarrs_dtype(dtype: &str) -> Cow<'_, str> {
    match dtype.as_bytes() {
        [b'|', b'S', ..] => Cow::Owned(format!("|V{}", &dtype[2..])),
        [b'<' | b'>', kind @ (b'i' | b'u' | b'b'), b'1'] => {
            Cow::Owned(format!("|{}1", char::from(*kind)))
        }
        _ => Cow::Borrowed(dtype),
    }
}

fn is_integer(dtype: &str) -> bool {
    matches!(dtype.as_bytes().get(1), Some(b'i' | b'u'))
}

fn integral_fill(fill: &Value) -> Value {
    match fill.as_f64() {
        #[allow(clippy::cast_possible_truncation)]
        Some(f) if !fill.is_i64() && !fill.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
            json!(f as i64)
        }
        _ => fill.clone(),
    }
}

/// A `|S<n>` fill value (null, zero, or base64 as zarr-python writes it) as `n` bytes.
fn fixed_bytes_fill(fill: &Value, n: usize) -> std::result::Result<Value, String> {
    let mut bytes = match fill {
        Value::Null => Vec::new(),
        Value::Number(x) if x.as_u64() == Some(0) => Vec::new(),
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("fill value {s:?} of a |S{n} array is not base64: {e}"))?,
        other => {
            return Err(format!(
                "fill value {other} of a |S{n} array is not supported"
            ))
        }
    };
    if bytes.len() > n {
        return Err(format!(
            "fill value of {} bytes is longer than the |S{n} dtype",
            bytes.len()
        ));
    }
    bytes.resize(n, 0);
    Ok(json!(bytes))
}

fn adapt_codec(codec: &mut Value) {
    let Some(obj) = codec.as_object_mut() else {
        return;
    };
    let Some(id) = obj.get("id").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    if matches!(id.as_str(), "zlib" | "gzip") && !obj.contains_key("level") {
        obj.insert("level".into(), json!(1));
    }
    obj.insert("id".into(), Value::String(codecs::zarrs_id(&id).to_owned()));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::refs::{Attrs, ChunkManifest};

    fn meta(dtype: &str, fill: Value, filters: Vec<Value>) -> ArrayMeta {
        ArrayMeta {
            shape: vec![4],
            chunks: vec![2],
            dtype: dtype.into(),
            fill_value: fill,
            filters,
            compressor: None,
            dimensions: vec!["x".into()],
            attrs: Attrs::new(),
        }
    }

    #[test]
    fn zarray_is_adapted_for_zarrs() {
        let m = meta(
            "|S3",
            json!("YQ=="),
            vec![json!({"id":"zlib"}), json!({"id":"fletcher32"})],
        );
        let doc = zarray_for_zarrs(&m).unwrap();
        assert_eq!(doc["dtype"], "|V3");
        assert_eq!(doc["fill_value"], json!([97, 0, 0]));
        assert_eq!(
            doc["filters"],
            json!([{"id":"zlib","level":1}, {"id":"chunkref.fletcher32"}])
        );
        assert_eq!(
            zarray_for_zarrs(&meta("|S2", Value::Null, vec![])).unwrap()["fill_value"],
            json!([0, 0])
        );
        assert!(zarray_for_zarrs(&meta("|S1", json!("YWJj"), vec![])).is_err());
        assert_eq!(
            zarray_for_zarrs(&meta("<i1", json!(-1), vec![])).unwrap()["dtype"],
            "|i1"
        );
        assert_eq!(
            zarray_for_zarrs(&meta(">i2", json!(-9999.0), vec![])).unwrap()["fill_value"],
            json!(-9999)
        );
        assert_eq!(
            zarray_for_zarrs(&meta("<f4", json!("NaN"), vec![])).unwrap()["fill_value"],
            "NaN"
        );
    }

    /// A store laid out like `zarrs_storage::store_test::store_read` expects, as far as a
    /// reference store can hold it: keys are chunk keys, values inline or in a file.
    fn conformance_store(dir: &std::path::Path) -> RefStorage {
        let file = dir.join("data.bin");
        std::fs::write(&file, [9, 9, 0, 1, 2, 3, 9]).unwrap();
        let mut store = RefStore::new();
        let url = store.intern_url(file.to_str().unwrap());
        let mut chunks = ChunkManifest::new(&[3]).unwrap();
        chunks.set_range(0, url, 2, 4);
        chunks.set_inline(1, vec![0]);
        let m = ArrayMeta {
            shape: vec![3],
            chunks: vec![1],
            ..meta("|u1", Value::Null, vec![])
        };
        store
            .arrays
            .insert("a".into(), ArrayRefs { meta: m, chunks });
        RefStorage::new(Arc::new(store), None)
    }

    #[test]
    fn conformance_read() {
        let dir = tempfile::tempdir().unwrap();
        let s = conformance_store(dir.path());
        let key = |k: &str| StoreKey::new(k).unwrap();
        assert!(s.get(&key("notfound")).unwrap().is_none());
        assert!(s.size_key(&key("notfound")).unwrap().is_none());
        assert!(
            s.get(&key("a/2")).unwrap().is_none(),
            "a missing chunk is None (fill value)"
        );
        assert_eq!(s.get(&key("a/0")).unwrap(), Some(vec![0, 1, 2, 3].into()));
        assert_eq!(s.size_key(&key("a/0")).unwrap(), Some(4));
        assert_eq!(s.size_key(&key("a/1")).unwrap(), Some(1));
        let many: Vec<_> = s
            .get_partial_many(
                &key("a/0"),
                Box::new([ByteRange::FromStart(1, Some(1)), ByteRange::Suffix(1)].into_iter()),
            )
            .unwrap()
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(many, vec![Bytes::from(vec![1]), Bytes::from(vec![3])]);
        assert_eq!(
            s.get_partial(&key("a/0"), ByteRange::FromStart(1, None))
                .unwrap(),
            Some(vec![1, 2, 3].into())
        );
        assert_eq!(
            s.get_partial(&key("a/0"), ByteRange::Suffix(2)).unwrap(),
            Some(vec![2, 3].into())
        );
        assert!(s
            .get_partial(&key("a/0"), ByteRange::FromStart(1, Some(10)))
            .is_err());
        assert!(s
            .get_partial(&key("a/1"), ByteRange::FromStart(1, Some(10)))
            .is_err());
        assert_eq!(
            s.get_partial(&key("notfound"), ByteRange::FromStart(1, Some(10)))
                .unwrap(),
            None
        );
        let zarray: Value =
            serde_json::from_slice(&s.get(&key("a/.zarray")).unwrap().unwrap()).unwrap();
        assert_eq!(zarray["shape"], json!([3]));
        assert!(s.get(&key(".zgroup")).unwrap().is_some());
        assert!(s.get(&key("zarr.json")).unwrap().is_none());
    }

    #[test]
    fn a_missing_file_is_an_error_not_fill() {
        let dir = tempfile::tempdir().unwrap();
        let s = conformance_store(dir.path());
        std::fs::remove_file(dir.path().join("data.bin")).unwrap();
        assert!(s.get(&StoreKey::new("a/0").unwrap()).is_err());
        assert!(matches!(s.take_error(), Some(Error::Fetch { .. })));
    }

    #[test]
    fn prefetched_chunks_are_served_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = conformance_store(dir.path());
        s.prefetch("a", &[0, 1, 2]).unwrap();
        std::fs::remove_file(dir.path().join("data.bin")).unwrap();
        let key = StoreKey::new("a/0").unwrap();
        assert_eq!(s.get(&key).unwrap(), Some(vec![0, 1, 2, 3].into()));
        assert!(
            s.get(&key).is_err(),
            "served from the file again, which is gone"
        );
    }
}
