//! The in-memory reference store: groups, arrays, and one dense chunk manifest per array.
//!
//! Chunk references are held column-wise (url index, offset, length) as `VirtualiZarr`'s
//! `ChunkManifest` does, so a store of millions of chunks costs 20 bytes a chunk, not a
//! `String` key and a JSON value each. Chunk keys are computed when serialising.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// Attributes of a group or array: JSON values.
///
/// JSON has no NaN or infinities, and `serde_json::Value` cannot hold them, but attributes do
/// (`_FillValue = NaN`). Such a float is held as a one-entry object `{"$nonfinite": "NaN"}`
/// (or `"Infinity"`, `"-Infinity"`): see [`float_attr`] and [`attr_f64`]. The JSON writer turns
/// it into the bare `NaN` token zarr-python and xarray read as a float, and the reader turns
/// such tokens back.
pub type Attrs = serde_json::Map<String, Value>;

/// The key of the object that stands for a non-finite float attribute value.
pub const NON_FINITE: &str = "$nonfinite";

/// A float attribute value: a JSON number, or the non-finite marker.
#[must_use]
pub fn float_attr(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        let token = if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        serde_json::json!({ NON_FINITE: token })
    }
}

/// A float as a Zarr V2 `.zarray` `fill_value`: a number, or `"NaN"`, `"Infinity"`,
/// `"-Infinity"` (the V2 spec's strings; attributes use [`float_attr`] instead).
#[must_use]
pub fn fill_value_float(x: f64) -> Value {
    if x.is_nan() {
        Value::from("NaN")
    } else if x.is_infinite() {
        Value::from(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        Value::from(x)
    }
}

/// The Zarr V2 `fill_value` a `_FillValue` attribute gives an array of a float or an integer
/// dtype, or `None` when the attribute is not one value of that kind.
#[must_use]
pub fn fill_value_from_attr(attr: &Value, float_dtype: bool) -> Option<Value> {
    let x = attr_f64(attr);
    if float_dtype {
        x.map(fill_value_float)
    } else if attr.is_i64() || attr.is_u64() {
        Some(attr.clone())
    } else {
        x.filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
            .map(|x| Value::from(x as i64))
    }
}

/// The number an attribute value holds: a JSON number or a non-finite marker.
#[must_use]
pub fn attr_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Object(o) if o.len() == 1 => match o.get(NON_FINITE)?.as_str()? {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// The url-index value of a chunk that was never written (reads as the fill value).
const MISSING: u32 = u32::MAX;
/// The url-index value of a chunk whose bytes are inline; its offset indexes `inline`.
const INLINE: u32 = u32::MAX - 1;
/// The most chunk slots one manifest may hold (20 bytes each, written or not: 5 GiB).
const MAX_SLOTS: usize = 1 << 28;
/// The length value of a reference to a whole file rather than a range of it.
const WHOLE_FILE: u64 = u64::MAX;

/// What a chunk key refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkRef<'a> {
    /// Never written: the chunk reads as the array's fill value.
    Missing,
    /// The chunk's encoded bytes, held in the store.
    Inline(&'a [u8]),
    /// `length` bytes of `url` starting at byte `offset`.
    Range {
        /// The file holding the chunk.
        url: &'a str,
        /// Byte offset of the chunk in the file.
        offset: u64,
        /// Length of the chunk in bytes (its stored, encoded size).
        length: u64,
    },
    /// The whole of `url` is the chunk.
    Whole {
        /// The file that is the chunk.
        url: &'a str,
    },
}

/// The Zarr V2 metadata of one array: what `.zarray` and `.zattrs` say.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayMeta {
    /// Extent of each dimension (empty for a scalar).
    pub shape: Vec<u64>,
    /// Chunk extent of each dimension (empty for a scalar).
    pub chunks: Vec<u64>,
    /// Zarr V2 dtype string as stored, e.g. `<f4`, `>i2`, `|S12`, `|O`.
    pub dtype: String,
    /// What a missing chunk reads as: a JSON number, `"NaN"`, `"Infinity"`, `"-Infinity"`,
    /// a base64 string for fixed strings, or null.
    pub fill_value: Value,
    /// Codec configurations applied in order (numcodecs JSON, e.g. `{"id":"zlib","level":4}`).
    pub filters: Vec<Value>,
    /// The compressor, applied after the filters; chunkref writes `None` and puts every codec
    /// in `filters`, which keeps the HDF5 pipeline order exact.
    pub compressor: Option<Value>,
    /// Dimension names (`_ARRAY_DIMENSIONS`), one per dimension.
    pub dimensions: Vec<String>,
    /// Attributes, without `_ARRAY_DIMENSIONS`.
    pub attrs: Attrs,
}

impl ArrayMeta {
    /// The number of chunks along each dimension: `ceil(shape / chunks)`.
    #[must_use]
    pub fn grid(&self) -> Vec<u64> {
        self.shape
            .iter()
            .zip(&self.chunks)
            .map(|(&n, &c)| if c == 0 { 0 } else { n.div_ceil(c) })
            .collect()
    }

    /// The size in bytes of one element, when the dtype has a fixed size.
    #[must_use]
    pub fn item_size(&self) -> Option<usize> {
        self.dtype.get(2..).and_then(|n| n.parse().ok())
    }
}

/// Where each chunk of one array lies: dense columns over the chunk grid in C order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChunkManifest {
    grid: Vec<u64>,
    url: Vec<u32>,
    offset: Vec<u64>,
    length: Vec<u64>,
    inline: Vec<Vec<u8>>,
}

impl ChunkManifest {
    /// A manifest over `grid` (chunks per dimension) with every chunk missing.
    ///
    /// # Errors
    /// Returns a message when the grid has more chunks than memory can index.
    pub fn new(grid: &[u64]) -> Result<Self, String> {
        let n = grid
            .iter()
            .try_fold(1u64, |acc, &g| acc.checked_mul(g))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= MAX_SLOTS)
            .ok_or_else(|| format!("chunk grid {grid:?} is too large"))?;
        Ok(Self {
            grid: grid.to_vec(),
            url: vec![MISSING; n],
            offset: vec![0; n],
            length: vec![0; n],
            inline: Vec::new(),
        })
    }

    /// The number of chunks along each dimension.
    #[must_use]
    pub fn grid(&self) -> &[u64] {
        &self.grid
    }

    /// The number of chunk slots (present or missing).
    #[must_use]
    pub fn len(&self) -> usize {
        self.url.len()
    }

    /// Whether the grid has no chunk slots.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.url.is_empty()
    }

    /// The C-order number of the chunk at grid position `index`, if inside the grid.
    #[must_use]
    pub fn linear(&self, index: &[u64]) -> Option<usize> {
        if index.len() != self.grid.len() {
            return None;
        }
        let mut n: u64 = 0;
        for (&i, &g) in index.iter().zip(&self.grid) {
            if i >= g {
                return None;
            }
            n = n * g + i;
        }
        usize::try_from(n).ok()
    }

    /// The grid position of the chunk with C-order number `n`.
    #[must_use]
    pub fn position(&self, mut n: usize) -> Vec<u64> {
        let mut pos = vec![0; self.grid.len()];
        for (p, &g) in pos.iter_mut().zip(&self.grid).rev() {
            let g = g.max(1) as usize;
            *p = (n % g) as u64;
            n /= g;
        }
        pos
    }

    /// The Zarr V2 key suffix of the chunk with C-order number `n` (`"0.3.1"`; `"0"` for a scalar).
    #[must_use]
    pub fn key(&self, n: usize) -> String {
        let pos = self.position(n);
        if pos.is_empty() {
            return "0".to_owned();
        }
        let parts: Vec<String> = pos.iter().map(u64::to_string).collect();
        parts.join(".")
    }

    fn set(&mut self, n: usize, url: u32, offset: u64, length: u64) {
        self.url[n] = url;
        self.offset[n] = offset;
        self.length[n] = length;
    }

    /// Marks chunk `n` as never written.
    pub fn set_missing(&mut self, n: usize) {
        self.set(n, MISSING, 0, 0);
    }

    /// Stores chunk `n`'s encoded bytes inline.
    pub fn set_inline(&mut self, n: usize, bytes: Vec<u8>) {
        let slot = self.add_inline(bytes);
        self.set_inline_slot(n, slot);
    }

    /// Adds inline bytes that several chunks may share; returns their slot.
    pub fn add_inline(&mut self, bytes: Vec<u8>) -> u64 {
        self.inline.push(bytes);
        self.inline.len() as u64 - 1
    }

    /// Points chunk `n` at inline bytes added with [`Self::add_inline`].
    pub fn set_inline_slot(&mut self, n: usize, slot: u64) {
        self.set(n, INLINE, slot, 0);
    }

    /// Whether chunk `n` was never written.
    #[must_use]
    pub fn is_missing(&self, n: usize) -> bool {
        self.url.get(n).is_none_or(|&u| u == MISSING)
    }

    /// Points chunk `n` at `length` bytes from `offset` of the url with index `url`.
    pub fn set_range(&mut self, n: usize, url: u32, offset: u64, length: u64) {
        self.set(n, url, offset, length);
    }

    /// Points chunk `n` at the whole file with url index `url`.
    pub fn set_whole(&mut self, n: usize, url: u32) {
        self.set(n, url, 0, WHOLE_FILE);
    }

    /// The url index of chunk `n`, or `None` if it is missing or inline.
    #[must_use]
    pub fn url_index(&self, n: usize) -> Option<u32> {
        let u = *self.url.get(n)?;
        (u != MISSING && u != INLINE).then_some(u)
    }

    /// Makes chunk `n` what chunk `from` of `other` is (a range, a whole file, inline bytes
    /// or missing), with `other`'s url indices mapped through `url_map`.
    pub fn copy_chunk(&mut self, n: usize, other: &ChunkManifest, from: usize, url_map: &[u32]) {
        match other.url[from] {
            MISSING => self.set_missing(n),
            INLINE => {
                let bytes = other.inline[other.offset[from] as usize].clone();
                self.set_inline(n, bytes);
            }
            u => self.set(
                n,
                url_map[u as usize],
                other.offset[from],
                other.length[from],
            ),
        }
    }

    /// Whether chunk `n` of `self` and chunk `m` of `other` are the same reference (same url
    /// through the maps, range, or inline bytes).
    #[must_use]
    pub fn same_chunk(
        &self,
        n: usize,
        map: &[u32],
        other: &ChunkManifest,
        m: usize,
        other_map: &[u32],
    ) -> bool {
        match (self.url[n], other.url[m]) {
            (MISSING, MISSING) => true,
            (INLINE, INLINE) => {
                self.inline[self.offset[n] as usize] == other.inline[other.offset[m] as usize]
            }
            (a, b) if a != MISSING && a != INLINE && b != MISSING && b != INLINE => {
                map[a as usize] == other_map[b as usize]
                    && self.offset[n] == other.offset[m]
                    && self.length[n] == other.length[m]
            }
            _ => false,
        }
    }

    /// Replaces every url index `i` by `map[i]` (used when stores are merged).
    pub fn remap_urls(&mut self, map: &[u32]) {
        for u in &mut self.url {
            if *u != MISSING && *u != INLINE {
                *u = map[*u as usize];
            }
        }
    }
}

/// An array's metadata and chunk manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayRefs {
    /// What `.zarray` and `.zattrs` say.
    pub meta: ArrayMeta,
    /// Where each chunk lies.
    pub chunks: ChunkManifest,
}

impl ArrayRefs {
    /// A small array stored whole in one inline chunk, uncompressed, with no fill value
    /// (coordinates written by a scanner or a combine).
    ///
    /// # Errors
    /// Returns a message when the shape has more chunks than memory can index.
    pub fn inline(
        shape: Vec<u64>,
        dtype: &str,
        dimensions: Vec<String>,
        attrs: Attrs,
        bytes: Vec<u8>,
    ) -> Result<Self, String> {
        let meta = ArrayMeta {
            chunks: shape.clone(),
            shape,
            dtype: dtype.to_owned(),
            fill_value: Value::Null,
            filters: vec![],
            compressor: None,
            dimensions,
            attrs,
        };
        let mut chunks = ChunkManifest::new(&meta.grid())?;
        chunks.set_inline(0, bytes);
        Ok(Self { meta, chunks })
    }
}

/// Counts that `info` and scan summaries report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    /// Number of arrays.
    pub variables: usize,
    /// Chunks present (referenced or inline).
    pub chunks: u64,
    /// Chunks stored inline.
    pub inline_chunks: u64,
    /// Bytes referenced in data files (ranges only) plus inline bytes.
    pub bytes: u64,
}

/// A Zarr V2 hierarchy whose chunks are references: the unit scan produces, combine merges
/// and read serves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefStore {
    /// Groups by path (`""` is the root, `"grp/sub"` a nested group) with their attributes.
    pub groups: BTreeMap<String, Attrs>,
    /// Arrays by path (`"t2m"`, `"grp/v"`).
    pub arrays: BTreeMap<String, ArrayRefs>,
    urls: Vec<String>,
    url_index: HashMap<String, u32>,
}

impl RefStore {
    /// An empty store with only the root group.
    #[must_use]
    pub fn new() -> Self {
        let mut store = Self::default();
        store.groups.insert(String::new(), Attrs::new());
        store
    }

    /// The index of `url` in the url table, adding it if new.
    pub fn intern_url(&mut self, url: &str) -> u32 {
        if let Some(&i) = self.url_index.get(url) {
            return i;
        }
        let i = self.urls.len() as u32;
        self.urls.push(url.to_owned());
        self.url_index.insert(url.to_owned(), i);
        i
    }

    /// The url table, in the order urls were first interned.
    #[must_use]
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Numbers the urls in the order chunks first use them (arrays by path, chunks in C
    /// order), dropping unused ones: stores with the same references get the same url table
    /// however they were assembled.
    pub fn renumber_urls(&mut self) {
        let mut map = vec![u32::MAX; self.urls.len()];
        let mut order = Vec::new();
        for array in self.arrays.values() {
            for n in 0..array.chunks.len() {
                if let Some(u) = array.chunks.url_index(n) {
                    if map[u as usize] == u32::MAX {
                        map[u as usize] = order.len() as u32;
                        order.push(u);
                    }
                }
            }
        }
        let urls: Vec<String> = order
            .iter()
            .map(|&u| self.urls[u as usize].clone())
            .collect();
        for array in self.arrays.values_mut() {
            array.chunks.remap_urls(&map);
        }
        self.url_index = urls
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), i as u32))
            .collect();
        self.urls = urls;
    }

    /// A store of the one array `path` of `self` (with the urls it needs), to read it without
    /// copying the rest.
    #[must_use]
    pub fn only_array(&self, path: &str) -> Option<RefStore> {
        let array = self.arrays.get(path)?;
        let mut out = RefStore::new();
        let map: Vec<u32> = self.urls.iter().map(|u| out.intern_url(u)).collect();
        let mut chunks = ChunkManifest::new(array.chunks.grid()).ok()?;
        for n in 0..array.chunks.len() {
            chunks.copy_chunk(n, &array.chunks, n, &map);
        }
        out.arrays.insert(
            path.to_owned(),
            ArrayRefs {
                meta: array.meta.clone(),
                chunks,
            },
        );
        Some(out)
    }

    /// Rewrites every url with `f` (e.g. to replace a local prefix by a remote one).
    pub fn map_urls(&mut self, f: impl Fn(&str) -> String) {
        let old = std::mem::take(&mut self.urls);
        self.url_index.clear();
        let map: Vec<u32> = old.iter().map(|u| self.intern_url(&f(u))).collect();
        for array in self.arrays.values_mut() {
            array.chunks.remap_urls(&map);
        }
    }

    /// What chunk `n` of `array` refers to.
    #[must_use]
    pub fn chunk_ref<'a>(&'a self, array: &'a ArrayRefs, n: usize) -> ChunkRef<'a> {
        let m = &array.chunks;
        match m.url.get(n).copied() {
            None | Some(MISSING) => ChunkRef::Missing,
            Some(INLINE) => m
                .inline
                .get(m.offset[n] as usize)
                .map_or(ChunkRef::Missing, |b| ChunkRef::Inline(b)),
            Some(u) => {
                let Some(url) = self.urls.get(u as usize) else {
                    return ChunkRef::Missing;
                };
                if m.length[n] == WHOLE_FILE {
                    ChunkRef::Whole { url }
                } else {
                    ChunkRef::Range {
                        url,
                        offset: m.offset[n],
                        length: m.length[n],
                    }
                }
            }
        }
    }

    /// Counts of arrays, chunks and bytes.
    #[must_use]
    pub fn stats(&self) -> StoreStats {
        let mut s = StoreStats {
            variables: self.arrays.len(),
            ..StoreStats::default()
        };
        for array in self.arrays.values() {
            let a = self.array_stats(array);
            s.chunks += a.chunks;
            s.inline_chunks += a.inline_chunks;
            s.bytes += a.bytes;
        }
        s
    }

    /// Counts of chunks and bytes of one array (`variables` is 1).
    #[must_use]
    pub fn array_stats(&self, array: &ArrayRefs) -> StoreStats {
        let mut s = StoreStats {
            variables: 1,
            ..StoreStats::default()
        };
        for n in 0..array.chunks.len() {
            match self.chunk_ref(array, n) {
                ChunkRef::Missing => {}
                ChunkRef::Inline(b) => {
                    s.chunks += 1;
                    s.inline_chunks += 1;
                    s.bytes += b.len() as u64;
                }
                ChunkRef::Range { length, .. } => {
                    s.chunks += 1;
                    s.bytes += length;
                }
                ChunkRef::Whole { .. } => s.chunks += 1,
            }
        }
        s
    }

    /// Adds every group that is a parent of an array or group path and missing so far.
    pub fn add_parent_groups(&mut self) {
        let paths: Vec<String> = self
            .arrays
            .keys()
            .chain(self.groups.keys())
            .cloned()
            .collect();
        for path in paths {
            let mut parent = path.as_str();
            while let Some((p, _)) = parent.rsplit_once('/') {
                self.groups.entry(p.to_owned()).or_default();
                parent = p;
            }
            self.groups.entry(String::new()).or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_floats_in_fill_values_and_attributes() {
        assert_eq!(fill_value_float(f64::NAN), Value::from("NaN"));
        assert_eq!(
            fill_value_float(f64::NEG_INFINITY),
            Value::from("-Infinity")
        );
        assert_eq!(fill_value_float(1.5), Value::from(1.5));
        assert_eq!(
            float_attr(f64::INFINITY),
            serde_json::json!({"$nonfinite": "Infinity"})
        );
        assert!(attr_f64(&float_attr(f64::NAN)).is_some_and(f64::is_nan));
        assert_eq!(attr_f64(&float_attr(2.5)), Some(2.5));
        let nan = float_attr(f64::NAN);
        assert_eq!(fill_value_from_attr(&nan, true), Some(Value::from("NaN")));
        assert_eq!(
            fill_value_from_attr(&Value::from(-9), false),
            Some(Value::from(-9))
        );
        assert_eq!(
            fill_value_from_attr(&Value::from(-9.0), false),
            Some(Value::from(-9))
        );
        assert_eq!(fill_value_from_attr(&Value::from(0.5), false), None);
        assert_eq!(fill_value_from_attr(&Value::from("x"), true), None);
    }

    #[test]
    fn keys_and_positions_are_c_order() {
        let m = ChunkManifest::new(&[2, 3, 4]).unwrap();
        assert_eq!(m.len(), 24);
        assert_eq!(m.key(0), "0.0.0");
        assert_eq!(m.key(5), "0.1.1");
        assert_eq!(m.key(23), "1.2.3");
        assert_eq!(m.linear(&[1, 2, 3]), Some(23));
        assert_eq!(m.linear(&[2, 0, 0]), None);
        let scalar = ChunkManifest::new(&[]).unwrap();
        assert_eq!(scalar.len(), 1);
        assert_eq!(scalar.key(0), "0");
    }

    #[test]
    fn refs_round_trip_through_the_columns() {
        let mut store = RefStore::new();
        let u = store.intern_url("file:///a.nc");
        assert_eq!(store.intern_url("file:///a.nc"), u);
        let mut chunks = ChunkManifest::new(&[4]).unwrap();
        chunks.set_range(0, u, 10, 20);
        chunks.set_inline(1, vec![1, 2]);
        chunks.set_whole(3, u);
        let meta = ArrayMeta {
            shape: vec![4],
            chunks: vec![1],
            dtype: "<i2".into(),
            fill_value: Value::Null,
            filters: vec![],
            compressor: None,
            dimensions: vec!["x".into()],
            attrs: Attrs::new(),
        };
        let array = ArrayRefs { meta, chunks };
        assert_eq!(
            store.chunk_ref(&array, 0),
            ChunkRef::Range {
                url: "file:///a.nc",
                offset: 10,
                length: 20
            }
        );
        assert_eq!(store.chunk_ref(&array, 1), ChunkRef::Inline(&[1, 2]));
        assert_eq!(store.chunk_ref(&array, 2), ChunkRef::Missing);
        assert_eq!(
            store.chunk_ref(&array, 3),
            ChunkRef::Whole {
                url: "file:///a.nc"
            }
        );
        store.arrays.insert("v".into(), array);
        let s = store.stats();
        assert_eq!((s.chunks, s.inline_chunks, s.bytes), (3, 1, 22));
    }
}
