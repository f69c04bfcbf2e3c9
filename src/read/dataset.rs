//! [`Dataset`] and [`Variable`]: lazy arrays over a reference store.
//!
//! Opening a store reads only the store document. A read checks the selection against the
//! shape, prefetches the chunks it touches (ranges of one file coalesced, files in parallel;
//! see [`RefStorage::prefetch`]) and lets zarrs decode them on all cores. Nothing is cached
//! between reads. This module does no byte-level I/O itself ([`crate::io`] and
//! [`super::store`] do) and no CF arithmetic ([`super::cf`] does).

use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use zarrs::array::{Array, ArrayBytes, ArraySubset, ElementOwned};

use super::cf::CfDecoding;
use super::store::RefStorage;
use super::DynArray;
use crate::error::{Error, Result};
use crate::refs::{ArrayMeta, Attrs, RefStore};

/// Variable names listed in a [`Error::NoSuchVariable`] message at most.
const NAMES_IN_ERRORS: usize = 40;

/// Opens a kerchunk reference store from a local path or `file://` url: a JSON store
/// (version 0 or 1), or a Parquet store (a directory, see [`crate::refs::parquet`]).
///
/// # Errors
/// Returns [`Error::Fetch`] when the store cannot be read and [`Error::Store`] when it is not
/// a valid reference store.
pub fn open(path_or_url: impl AsRef<str>) -> Result<Dataset> {
    let location = path_or_url.as_ref();
    let store = crate::refs::read(location)?;
    Ok(Dataset {
        refs: Arc::new(store),
        location: Some(Arc::from(location)),
    })
}

/// A reference store opened for reading: its groups and variables.
#[derive(Debug, Clone)]
pub struct Dataset {
    refs: Arc<RefStore>,
    location: Option<Arc<str>>,
}

impl Dataset {
    /// A dataset over a store held in memory. Relative references resolve against the
    /// current directory; use [`Dataset::with_location`] to resolve them against a store path.
    #[must_use]
    pub fn from_store(store: RefStore) -> Self {
        Self {
            refs: Arc::new(store),
            location: None,
        }
    }

    /// The same dataset, treated as if loaded from `location` (a path or url): relative
    /// references resolve against its directory and errors name it.
    #[must_use]
    pub fn with_location(mut self, location: &str) -> Self {
        self.location = Some(Arc::from(location));
        self
    }

    /// Where the store was loaded from, if it was.
    #[must_use]
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The reference store.
    #[must_use]
    pub fn store(&self) -> &RefStore {
        &self.refs
    }

    /// Paths of all arrays (`"t2m"`, `"grp/v"`), sorted.
    #[must_use]
    pub fn variables(&self) -> Vec<String> {
        self.refs.arrays.keys().cloned().collect()
    }

    /// Paths of all groups (`""` is the root, `"grp/sub"` a nested group), sorted.
    #[must_use]
    pub fn groups(&self) -> Vec<String> {
        self.refs.groups.keys().cloned().collect()
    }

    /// The variable at `name` (`"t2m"`, `"grp/v"`; a leading `/` is ignored).
    ///
    /// # Errors
    /// Returns [`Error::NoSuchVariable`] listing the store's variables when there is none.
    pub fn variable(&self, name: &str) -> Result<Variable> {
        let path = name.trim_start_matches('/');
        let Some(array) = self.refs.arrays.get(path) else {
            let names = self.variables();
            let mut available = names
                .iter()
                .take(NAMES_IN_ERRORS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if let Some(more) = names.len().checked_sub(NAMES_IN_ERRORS).filter(|&m| m > 0) {
                available.push_str(", ... (");
                available.push_str(&more.to_string());
                available.push_str(" more)");
            }
            return Err(Error::NoSuchVariable {
                name: name.to_owned(),
                store: self.location.as_deref().unwrap_or("<memory>").to_owned(),
                available,
            });
        };
        Ok(Variable {
            refs: Arc::clone(&self.refs),
            location: self.location.clone(),
            name: path.to_owned(),
            meta: array.meta.clone(),
        })
    }
}

/// One array of a dataset: its metadata, and lazy reads of any block of it.
#[derive(Debug, Clone)]
pub struct Variable {
    refs: Arc<RefStore>,
    location: Option<Arc<str>>,
    name: String,
    meta: ArrayMeta,
}

/// The kind letter and byte size of a Zarr V2 dtype (`'f', Some(4)` for `<f4`).
fn dtype_kind(dtype: &str) -> (char, Option<usize>) {
    let kind = dtype.chars().nth(1).unwrap_or('?');
    (kind, dtype.get(2..).and_then(|n| n.parse().ok()))
}

impl Variable {
    /// The array's path in the store (`"t2m"`, `"grp/v"`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The array's Zarr metadata as stored.
    #[must_use]
    pub fn meta(&self) -> &ArrayMeta {
        &self.meta
    }

    /// The extent of each dimension (empty for a scalar).
    #[must_use]
    pub fn shape(&self) -> &[u64] {
        &self.meta.shape
    }

    /// The dimension names.
    #[must_use]
    pub fn dims(&self) -> &[String] {
        &self.meta.dimensions
    }

    /// The attributes (without `_ARRAY_DIMENSIONS`).
    #[must_use]
    pub fn attrs(&self) -> &Attrs {
        &self.meta.attrs
    }

    /// Reads the block `ranges` (one per dimension; `&[]` for a scalar) as elements of type `T`,
    /// which must match the dtype (`f32` for `<f4` or `>f4`, `String` for vlen strings ...).
    /// Only the chunks the block touches are fetched; values come out in native byte order.
    ///
    /// # Errors
    /// Returns [`Error::InvalidArgument`] when the ranges do not fit the shape, [`Error::Fetch`]
    /// when a referenced file or range cannot be read, [`Error::Read`] when `T` does not match
    /// the dtype or a chunk does not decode.
    pub fn read<T: ElementOwned>(&self, ranges: &[Range<u64>]) -> Result<ArrayD<T>> {
        let subset = self.subset(ranges)?;
        let (storage, array) = self.open_array(ranges)?;
        array
            .retrieve_array_subset::<ArrayD<T>>(&subset)
            .map_err(|e| self.zarrs_error(&storage, &e))
    }

    /// Reads the whole variable as elements of type `T`.
    ///
    /// # Errors
    /// As [`Variable::read`].
    pub fn read_all<T: ElementOwned>(&self) -> Result<ArrayD<T>> {
        self.read(&self.full())
    }

    /// Reads the block `ranges` in whatever element type the dtype gives.
    ///
    /// # Errors
    /// As [`Variable::read`]; [`Error::Read`] for a dtype chunkref cannot read yet.
    pub fn read_dyn(&self, ranges: &[Range<u64>]) -> Result<DynArray> {
        Ok(match dtype_kind(&self.meta.dtype) {
            ('i', Some(1)) => DynArray::I8(self.read(ranges)?),
            ('u', Some(1)) => DynArray::U8(self.read(ranges)?),
            ('i', Some(2)) => DynArray::I16(self.read(ranges)?),
            ('u', Some(2)) => DynArray::U16(self.read(ranges)?),
            ('i', Some(4)) => DynArray::I32(self.read(ranges)?),
            ('u', Some(4)) => DynArray::U32(self.read(ranges)?),
            ('i', Some(8)) => DynArray::I64(self.read(ranges)?),
            ('u', Some(8)) => DynArray::U64(self.read(ranges)?),
            ('f', Some(2)) => DynArray::F32(self.read::<half::f16>(ranges)?.mapv(f32::from)),
            ('f', Some(4)) => DynArray::F32(self.read(ranges)?),
            ('f', Some(8)) => DynArray::F64(self.read(ranges)?),
            ('b', Some(1)) => DynArray::Bool(self.read(ranges)?),
            ('S', Some(n)) if n > 0 => DynArray::Bytes(self.read_fixed_bytes(ranges, n)?),
            ('O', _) => DynArray::String(self.read(ranges)?),
            _ => {
                return Err(self.read_error(format!(
                    "dtype {} is not supported for reading",
                    self.meta.dtype
                )))
            }
        })
    }

    /// Reads the block `ranges` as `f64` with CF decoding: `_FillValue` and `missing_value`
    /// become NaN, then `value * scale_factor + add_offset` (as xarray and netCDF4-python do).
    ///
    /// # Errors
    /// As [`Variable::read`]; [`Error::Read`] for a non-numeric dtype or a non-numeric CF
    /// attribute.
    pub fn read_decoded(&self, ranges: &[Range<u64>]) -> Result<ArrayD<f64>> {
        let cf = CfDecoding::from_attrs(&self.meta.attrs, &self.meta.dtype)
            .map_err(|r| self.read_error(r))?;
        let raw = self.read_dyn(ranges)?;
        let mut values = raw.to_f64(cf.unsigned).ok_or_else(|| {
            self.read_error(format!(
                "dtype {} is not numeric, so not CF-decodable",
                self.meta.dtype
            ))
        })?;
        cf.apply(&mut values);
        Ok(values)
    }

    fn full(&self) -> Vec<Range<u64>> {
        self.meta.shape.iter().map(|&n| 0..n).collect()
    }

    fn read_error(&self, reason: String) -> Error {
        Error::Read {
            variable: self.name.clone(),
            reason,
        }
    }

    /// The error to report for a zarrs failure: the chunkref error behind it when the storage
    /// recorded one (e.g. a fetch error with its url and range), else zarrs' message.
    fn zarrs_error(&self, storage: &RefStorage, err: &dyn std::fmt::Display) -> Error {
        storage
            .take_error()
            .unwrap_or_else(|| self.read_error(err.to_string()))
    }

    fn subset(&self, ranges: &[Range<u64>]) -> Result<ArraySubset> {
        let shape = &self.meta.shape;
        let bad = |what: String| {
            Error::InvalidArgument(format!(
                "{}: {what} for a variable of shape {shape:?}",
                self.name
            ))
        };
        if ranges.len() != shape.len() {
            return Err(bad(format!("{} ranges given", ranges.len())));
        }
        if let Some(r) = ranges
            .iter()
            .zip(shape)
            .find_map(|(r, &n)| (r.start > r.end || r.end > n).then_some(r))
        {
            return Err(bad(format!(
                "range {}..{} is outside the shape",
                r.start, r.end
            )));
        }
        Ok(ArraySubset::new_with_ranges(ranges))
    }

    /// C-order numbers of the chunks the block `ranges` touches.
    fn touched_chunks(&self, ranges: &[Range<u64>]) -> Vec<usize> {
        let Some(array) = self.refs.arrays.get(&self.name) else {
            return Vec::new();
        };
        let per_dim: Vec<Range<u64>> = ranges
            .iter()
            .zip(&self.meta.chunks)
            .map(|(r, &c)| match c {
                _ if r.is_empty() => 0..0,
                0 => 0..0,
                c => r.start / c..r.end.div_ceil(c),
            })
            .collect();
        let mut out = Vec::new();
        if per_dim.iter().any(Range::is_empty) {
            return out;
        }
        let mut pos: Vec<u64> = per_dim.iter().map(|r| r.start).collect();
        loop {
            out.extend(array.chunks.linear(&pos));
            let Some(d) = (0..pos.len()).rev().find(|&d| pos[d] + 1 < per_dim[d].end) else {
                return out;
            };
            pos[d] += 1;
            for (p, r) in pos.iter_mut().zip(&per_dim).skip(d + 1) {
                *p = r.start;
            }
        }
    }

    /// A zarrs array over a fresh storage for one read; compressed chunks the read touches are
    /// prefetched (uncompressed ones are read partially by zarrs instead).
    fn open_array(&self, ranges: &[Range<u64>]) -> Result<(Arc<RefStorage>, Array<RefStorage>)> {
        let storage = Arc::new(RefStorage::new(
            Arc::clone(&self.refs),
            self.location.clone(),
        ));
        let encoded = !self.meta.filters.is_empty() || self.meta.compressor.is_some();
        if encoded {
            let chunks = self.touched_chunks(ranges);
            if chunks.len() > 1 {
                storage.prefetch(&self.name, &chunks)?;
            }
        }
        let array = Array::open(Arc::clone(&storage), &format!("/{}", self.name))
            .map_err(|e| self.zarrs_error(&storage, &e))?;
        Ok((storage, array))
    }

    fn read_fixed_bytes(&self, ranges: &[Range<u64>], n: usize) -> Result<ArrayD<Vec<u8>>> {
        let subset = self.subset(ranges)?;
        let (storage, array) = self.open_array(ranges)?;
        let bytes: ArrayBytes<'static> = array
            .retrieve_array_subset(&subset)
            .map_err(|e| self.zarrs_error(&storage, &e))?;
        let raw = bytes
            .into_fixed()
            .map_err(|e| self.read_error(e.to_string()))?;
        let values: Vec<Vec<u8>> = raw
            .chunks_exact(n)
            .map(|s| s[..s.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)].to_vec())
            .collect();
        let shape: Vec<usize> = ranges
            .iter()
            .map(|r| usize::try_from(r.end - r.start).unwrap_or(usize::MAX))
            .collect();
        ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| self.read_error(e.to_string()))
    }
}
