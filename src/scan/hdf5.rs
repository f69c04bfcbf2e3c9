//! The HDF5 / `NetCDF4` scanner.
//!
//! Walks every group and dataset of a file and records, per dataset, its Zarr metadata and
//! where each chunk lies:
//! - **chunked** datasets: one reference per allocated chunk, listed in one linear pass
//!   (`H5Dchunk_iter`);
//! - **contiguous** datasets: one range (none if never written);
//! - **compact** datasets, variable-length strings and chunks under the inline threshold:
//!   inlined.
//!
//! Filters map to numcodecs codecs (see `filters.rs`). A chunk HDF5 stored with some filters
//! skipped (a nonzero filter mask, or a partial edge chunk under
//! `H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS`, which HDF5 reports with a zero mask) is read through
//! HDF5, re-encoded with the array's codecs and inlined, never referenced as if filtered.
//!
//! Unwritten data reads as it does through netCDF-C: with a `_FillValue` attribute that value
//! is the Zarr `fill_value` and unwritten chunks are missing keys; without one, `fill_value`
//! is null (so xarray masks nothing, as it does on the file) and, when HDF5 fills with a
//! non-zero value (netCDF's default fills), unwritten chunks are inlined holding it.
//!
//! Dimension names come from dimension scales (`DIMENSION_LIST`) or are `phony_dim_N`.
//! Datasets of a type Zarr cannot hold (compound, enum, ...) are skipped with a warning naming
//! them; a corrupt or truncated file fails the whole scan with an error naming the variable.
//!
//! All HDF5 calls of one scan run under HDF5's global lock: the C library is not thread-safe.
//! Parallel scanning of many files is done by processes (see the CLI), not here. HDF5 shares
//! one open file between all handles of a process, so do not scan a file that netCDF-C or the
//! `hdf5` crate holds open in another thread of the same process.

mod attrs;
mod filters;
mod raw;

use std::collections::HashMap;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use hdf5::{Dataset, Group, LocationType};
use serde_json::{json, Value};

use self::filters::Pipeline;
use self::raw::{Layout, TypeClass, TypeInfo};
use super::{file_url, ScanOptions, ScanOutput};
use crate::error::{Error, Result};
use crate::refs::{ArrayMeta, ArrayRefs, Attrs, ChunkManifest, RefStore};

/// Chunk grids with more slots than this must have at least one written chunk in
/// [`SPARSE_GRID_RATIO`] slots: a manifest costs 20 bytes a slot, written or not, and a corrupt
/// shape must not make a scan allocate gigabytes.
const SPARSE_GRID_SLOTS: u64 = 1 << 24;
/// See [`SPARSE_GRID_SLOTS`].
const SPARSE_GRID_RATIO: u64 = 64;
/// Datasets read whole through HDF5 are compact ones (at most 64 KiB) or small arrays whose
/// filter has no codec (see `ScanOptions::max_inline_array`): a larger size is a corrupt shape.
const MAX_WHOLE_READ: u64 = 1 << 26;
/// Variable-length string arrays with more elements than this are refused (they are read
/// whole and inlined).
const MAX_VLEN_STRINGS: u64 = 1 << 24;

/// netCDF-C marks a dimension without a coordinate variable with this `NAME` attribute.
const DIMENSION_ONLY: &str = "This is a netCDF dimension but not a netCDF variable";
/// netCDF-C renames a variable whose name clashes with a dimension it is not the coordinate of.
const NON_COORD_PREFIX: &str = "_nc4_non_coord_";

/// Scans one HDF5 or `NetCDF4` file.
///
/// # Errors
/// Returns [`Error::Scan`] when HDF5 cannot open the file or a chunk lies outside it
/// (truncated file). Variables that cannot be represented are skipped with a warning instead.
pub fn scan(path: &Path, options: &ScanOptions) -> Result<ScanOutput> {
    let url = match &options.url {
        Some(u) => u.clone(),
        None => file_url(path)?,
    };
    let data = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let file_len = data
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    hdf5::sync::sync(|| {
        hdf5::silence_errors(true);
        let file = hdf5::File::open(path).map_err(|e| Error::Scan {
            path: path.to_owned(),
            variable: None,
            reason: format!("HDF5 cannot open it: {e}"),
        })?;
        let mut scanner = Scanner {
            path,
            options,
            data,
            file_len,
            store: RefStore::new(),
            url_index: 0,
            warnings: Vec::new(),
            phony: HashMap::new(),
            phony_count: 0,
        };
        scanner.url_index = scanner.store.intern_url(&url);
        scanner.walk(&file, "")?;
        scanner.store.add_parent_groups();
        Ok(ScanOutput {
            store: scanner.store,
            warnings: scanner.warnings,
        })
    })
}

struct Scanner<'a> {
    path: &'a Path,
    options: &'a ScanOptions,
    data: std::fs::File,
    file_len: u64,
    store: RefStore,
    url_index: u32,
    warnings: Vec<String>,
    /// Phony dimension names by length, in order of creation.
    phony: HashMap<u64, Vec<String>>,
    phony_count: usize,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Why a dataset did not become an array.
enum Problem {
    /// It cannot be represented (a type or filter Zarr lacks): skip it with a warning naming it.
    Skip(String),
    /// The file is corrupt or truncated here: the whole scan fails, naming the variable.
    Corrupt(String),
}
use Problem::{Corrupt, Skip};

impl Scanner<'_> {
    fn error(&self, variable: Option<&str>, reason: impl Into<String>) -> Error {
        Error::Scan {
            path: self.path.to_owned(),
            variable: variable.map(str::to_owned),
            reason: reason.into(),
        }
    }

    fn walk(&mut self, group: &Group, prefix: &str) -> Result<()> {
        let context = if prefix.is_empty() {
            "/".to_owned()
        } else {
            prefix.to_owned()
        };
        let attrs = attrs::read_attrs(group, &context, &mut self.warnings);
        self.store.groups.insert(prefix.to_owned(), attrs);
        let names = group
            .member_names()
            .map_err(|e| self.error(None, format!("cannot list group {context}: {e}")))?;
        for name in names {
            let path = join(prefix, &name);
            match group.loc_type_by_name(&name) {
                Ok(LocationType::Group) => {
                    let child = group
                        .group(&name)
                        .map_err(|e| self.error(None, format!("cannot open group {path}: {e}")))?;
                    self.walk(&child, &path)?;
                }
                Ok(LocationType::Dataset) => {
                    let ds = group
                        .dataset(&name)
                        .map_err(|e| self.error(Some(&path), format!("cannot open: {e}")))?;
                    match self.dataset(&ds, prefix, &name) {
                        Ok(()) => {}
                        Err(Skip(reason)) => self
                            .warnings
                            .push(format!("variable {path} skipped: {reason}")),
                        Err(Corrupt(reason)) => return Err(self.error(Some(&path), reason)),
                    }
                }
                Ok(_) => {}
                Err(e) => self.warnings.push(format!("{path} skipped: {e}")),
            }
        }
        Ok(())
    }

    fn dataset(
        &mut self,
        ds: &Dataset,
        prefix: &str,
        name: &str,
    ) -> std::result::Result<(), Problem> {
        if is_dimension_only(ds) {
            return Ok(());
        }
        let name = name.strip_prefix(NON_COORD_PREFIX).unwrap_or(name);
        let path = join(prefix, name);
        let tid =
            raw::dataset_type(ds.id()).ok_or_else(|| Skip("cannot read its datatype".into()))?;
        let info = raw::type_info(tid.id());
        if let TypeClass::Other(kind) = info.class {
            return Err(Skip(format!(
                "{kind} datatype is not supported by Zarr V2 references"
            )));
        }
        let shape: Vec<u64> = ds.shape().iter().map(|&n| n as u64).collect();
        let dimensions = self.dimension_names(ds, &shape);
        let mut attrs = attrs::read_attrs(ds, &path, &mut self.warnings);
        let props = raw::CreateProps::of(ds.id())
            .ok_or_else(|| Skip("cannot read its creation properties".into()))?;
        let (fill_value, unwritten_fill) = fill_value(&attrs, &props, tid.id(), &info);
        if info.class == TypeClass::VarString {
            attrs.remove("_FillValue");
        }
        let mut meta = ArrayMeta {
            chunks: shape.iter().map(|&n| n.max(1)).collect(),
            shape,
            dtype: zarr_dtype(&info),
            fill_value,
            filters: Vec::new(),
            compressor: None,
            dimensions,
            attrs,
        };
        let mut chunks = if info.class == TypeClass::VarString {
            Self::var_strings(ds, &mut meta)?
        } else {
            match props.layout() {
                Layout::Compact => Self::whole(ds, tid.id(), &info, &meta)?,
                Layout::Contiguous => self.contiguous(ds, &meta)?,
                Layout::Chunked => self.chunked(ds, &props, tid.id(), &info, &mut meta, &path)?,
                Layout::Other => {
                    return Err(Skip("virtual or unknown layout is not supported".into()))
                }
            }
        };
        if let Some(fill) = unwritten_fill {
            self.fill_unwritten(&mut meta, &mut chunks, &fill, &info, &path);
        }
        self.store.arrays.insert(path, ArrayRefs { meta, chunks });
        Ok(())
    }

    /// Makes unwritten chunks read as HDF5's non-zero fill value although `fill_value` is
    /// null: each becomes one shared inline chunk of that value, encoded with the array's
    /// codecs. Where that is too large or cannot be encoded, the value becomes the Zarr
    /// `fill_value` instead, and a warning says xarray will mask it.
    fn fill_unwritten(
        &mut self,
        meta: &mut ArrayMeta,
        chunks: &mut ChunkManifest,
        fill: &[u8],
        info: &TypeInfo,
        path: &str,
    ) {
        let missing: Vec<usize> = (0..chunks.len())
            .filter(|&n| chunks.is_missing(n))
            .collect();
        if missing.is_empty() {
            return;
        }
        let elements: u64 = meta.chunks.iter().product();
        let encoded = (elements * fill.len() as u64 <= self.options.max_inline_array)
            .then(|| filters::encode(&meta.filters, fill.repeat(elements as usize)));
        if let Some(Ok(chunk)) = encoded {
            let slot = chunks.add_inline(chunk);
            for n in missing {
                chunks.set_inline_slot(n, slot);
            }
            return;
        }
        meta.fill_value = element_value(fill, info);
        self.warnings.push(format!(
            "variable {path}: unwritten chunks read as HDF5's fill value {}, written as the Zarr fill_value, which xarray also masks (the file has no _FillValue attribute)",
            meta.fill_value
        ));
    }

    /// Names of a dataset's dimensions from its dimension scales, or `phony_dim_N`.
    fn dimension_names(&mut self, ds: &Dataset, shape: &[u64]) -> Vec<String> {
        let mut names: Vec<Option<String>> = scale_names(ds, shape.len());
        if shape.is_empty() {
            return Vec::new();
        }
        // A dimension scale (a netCDF coordinate variable) is the dimension it names.
        if shape.len() == 1
            && names[0].is_none()
            && ds.attr("DIMENSION_LIST").is_err()
            && ds.attr("CLASS").is_ok()
        {
            names[0] = Some(basename(&ds.name()).to_owned());
        }
        let mut used: Vec<String> = Vec::new();
        names
            .into_iter()
            .zip(shape)
            .map(|(n, &len)| {
                let name = n.unwrap_or_else(|| self.phony_dim(len, &used));
                used.push(name.clone());
                name
            })
            .collect()
    }

    fn phony_dim(&mut self, len: u64, used: &[String]) -> String {
        let existing = self.phony.entry(len).or_default();
        if let Some(free) = existing.iter().find(|n| !used.contains(n)) {
            return free.clone();
        }
        let name = format!("phony_dim_{}", self.phony_count);
        self.phony_count += 1;
        existing.push(name.clone());
        name
    }

    fn read_at(
        &self,
        offset: u64,
        length: u64,
        variable: &str,
    ) -> std::result::Result<Vec<u8>, Problem> {
        let mut buf = vec![0u8; length as usize];
        self.data.read_exact_at(&mut buf, offset).map_err(|e| {
            Corrupt(format!(
                "cannot read {length} bytes at offset {offset} for {variable}: {e}"
            ))
        })?;
        Ok(buf)
    }

    fn check_range(&self, offset: u64, length: u64) -> std::result::Result<(), Problem> {
        if offset
            .checked_add(length)
            .is_none_or(|end| end > self.file_len)
        {
            return Err(Corrupt(format!(
                "data at offset {offset} (length {length}) lies past the end of the file ({} bytes): the file is truncated",
                self.file_len
            )));
        }
        Ok(())
    }

    /// Variable-length strings live in the global heap: read them and inline one `vlen-utf8` chunk.
    fn var_strings(
        ds: &Dataset,
        meta: &mut ArrayMeta,
    ) -> std::result::Result<ChunkManifest, Problem> {
        let n: u64 = meta.shape.iter().product();
        if n > MAX_VLEN_STRINGS {
            return Err(Skip(format!(
                "{n} variable-length strings are more than can be inlined ({MAX_VLEN_STRINGS})"
            )));
        }
        let strings: Vec<String> = match ds.read_raw::<hdf5::types::VarLenUnicode>() {
            Ok(v) => v.iter().map(|s| s.as_str().to_owned()).collect(),
            Err(_) => ds
                .read_raw::<hdf5::types::VarLenAscii>()
                .map_err(|e| Corrupt(format!("cannot read its strings: {e}")))?
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        };
        meta.dtype = "|O".into();
        meta.fill_value = Value::Null;
        meta.filters = vec![json!({"id": "vlen-utf8"})];
        let mut manifest = single_chunk_manifest(&meta.shape)?;
        if !manifest.is_empty() {
            manifest.set_inline(0, vlen_utf8(&strings));
        }
        Ok(manifest)
    }

    /// A dataset read whole through HDF5 and inlined as one chunk (compact layout, or a filter
    /// no codec decodes).
    fn whole(
        ds: &Dataset,
        tid: hdf5_sys::h5i::hid_t,
        info: &TypeInfo,
        meta: &ArrayMeta,
    ) -> std::result::Result<ChunkManifest, Problem> {
        let nbytes = meta
            .shape
            .iter()
            .product::<u64>()
            .saturating_mul(info.size as u64);
        if nbytes > MAX_WHOLE_READ {
            return Err(Corrupt(format!(
                "its {nbytes} bytes are more than a compact dataset can hold: the shape is corrupt"
            )));
        }
        let bytes = raw::read_bytes(ds.id(), tid, info.size, None).map_err(Corrupt)?;
        let mut manifest = single_chunk_manifest(&meta.shape)?;
        if !manifest.is_empty() {
            manifest.set_inline(0, bytes);
        }
        Ok(manifest)
    }

    fn contiguous(
        &mut self,
        ds: &Dataset,
        meta: &ArrayMeta,
    ) -> std::result::Result<ChunkManifest, Problem> {
        let mut manifest = single_chunk_manifest(&meta.shape)?;
        if let Some((offset, length)) = raw::contiguous_offset(ds.id()) {
            self.check_range(offset, length)?;
            if length <= self.options.inline_threshold {
                manifest.set_inline(0, self.read_at(offset, length, &ds.name())?);
            } else {
                manifest.set_range(0, self.url_index, offset, length);
            }
        }
        Ok(manifest)
    }

    fn chunked(
        &mut self,
        ds: &Dataset,
        props: &raw::CreateProps,
        tid: hdf5_sys::h5i::hid_t,
        info: &TypeInfo,
        meta: &mut ArrayMeta,
        path: &str,
    ) -> std::result::Result<ChunkManifest, Problem> {
        let chunk_shape: Vec<u64> = ds
            .chunk()
            .unwrap_or_default()
            .iter()
            .map(|&c| c as u64)
            .collect();
        if chunk_shape.len() != meta.shape.len() || chunk_shape.contains(&0) {
            return Err(Skip(format!(
                "chunk shape {chunk_shape:?} does not fit shape {:?}",
                meta.shape
            )));
        }
        let codecs = match filters::pipeline(&props.filters(), info.size, filter_available) {
            Pipeline::Codecs(c) => c,
            Pipeline::DecodeWithHdf5 { filter } => {
                let nbytes = meta.shape.iter().product::<u64>() * info.size as u64;
                if nbytes > self.options.max_inline_array {
                    return Err(Skip(format!(
                        "filter {filter} has no Zarr codec, and the array ({nbytes} bytes decoded) is larger than the inline limit ({} bytes)",
                        self.options.max_inline_array
                    )));
                }
                self.warnings.push(format!("variable {path}: filter {filter} has no Zarr codec; its {nbytes} decoded bytes are inlined"));
                return Self::whole(ds, tid, info, meta);
            }
            Pipeline::Unsupported { filter } => {
                return Err(Skip(format!(
                    "filter {filter} is neither a Zarr codec nor available to decode here"
                )));
            }
        };
        meta.chunks = chunk_shape;
        meta.filters = codecs;
        let mut listed: Vec<(Vec<u64>, u32, u64, u64)> = Vec::new();
        ds.chunks_visit(|c| {
            listed.push((c.offset.to_vec(), c.filter_mask, c.addr, c.size));
            0
        })
        .map_err(|e| Corrupt(format!("cannot list chunks: {e}")))?;
        let grid = meta.grid();
        let slots = grid
            .iter()
            .try_fold(1u64, |a, &g| a.checked_mul(g))
            .unwrap_or(u64::MAX);
        if slots > SPARSE_GRID_SLOTS && slots / SPARSE_GRID_RATIO > listed.len() as u64 {
            return Err(Skip(format!(
                "its chunk grid {grid:?} has {slots} chunks of which only {} are written: too sparse for a dense chunk manifest (or a corrupt shape)",
                listed.len()
            )));
        }
        let mut manifest = ChunkManifest::new(&grid).map_err(Skip)?;
        let partial_unfiltered = props.partial_chunks_unfiltered();
        for (offset, mask, addr, size) in listed {
            let is_partial = offset
                .iter()
                .zip(&meta.chunks)
                .zip(&meta.shape)
                .any(|((o, c), n)| o + c > *n);
            let mask = if partial_unfiltered && is_partial && !meta.filters.is_empty() {
                u32::MAX
            } else {
                mask
            };
            let index: Vec<u64> = offset
                .iter()
                .zip(&meta.chunks)
                .map(|(o, c)| o / c)
                .collect();
            let n = manifest.linear(&index).ok_or_else(|| {
                Corrupt(format!(
                    "chunk at {offset:?} lies outside the grid {:?}",
                    manifest.grid()
                ))
            })?;
            if mask != 0 {
                let bytes = Self::reencode_chunk(ds, tid, info, meta, &offset)?;
                manifest.set_inline(n, bytes);
                continue;
            }
            self.check_range(addr, size)?;
            if size <= self.options.inline_threshold {
                manifest.set_inline(n, self.read_at(addr, size, path)?);
            } else {
                manifest.set_range(n, self.url_index, addr, size);
            }
        }
        Ok(manifest)
    }

    /// Reads a chunk stored with some filters skipped through HDF5 and encodes it with the
    /// array's full pipeline, padded to the full chunk shape as Zarr edge chunks are.
    fn reencode_chunk(
        ds: &Dataset,
        tid: hdf5_sys::h5i::hid_t,
        info: &TypeInfo,
        meta: &ArrayMeta,
        start: &[u64],
    ) -> std::result::Result<Vec<u8>, Problem> {
        let count: Vec<u64> = start
            .iter()
            .zip(&meta.chunks)
            .zip(&meta.shape)
            .map(|((&s, &c), &n)| c.min(n.saturating_sub(s)))
            .collect();
        let part =
            raw::read_bytes(ds.id(), tid, info.size, Some((start, &count))).map_err(Corrupt)?;
        let full = pad_to_chunk(&part, &count, &meta.chunks, info.size);
        filters::encode(&meta.filters, full).map_err(|e| {
            Skip(format!(
                "a chunk at {start:?} was stored with filters skipped and {e}"
            ))
        })
    }
}

/// Whether HDF5 (this build) can apply a filter.
fn filter_available(id: i32) -> bool {
    // SAFETY: plain query.
    unsafe { hdf5_sys::h5z::H5Zfilter_avail(id) > 0 }
}

fn is_dimension_only(ds: &Dataset) -> bool {
    let Ok(attr) = ds.attr("NAME") else {
        return false;
    };
    let text = raw::read_fixed_string_attr(attr.id(), 1)
        .ok()
        .and_then(|v| v.into_iter().next());
    let text = text.or_else(|| {
        attr.read_scalar::<hdf5::types::VarLenAscii>()
            .ok()
            .map(|s| s.as_str().to_owned())
    });
    text.is_some_and(|t| t.starts_with(DIMENSION_ONLY))
}

fn basename(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.strip_prefix(NON_COORD_PREFIX).unwrap_or(base)
}

/// Dimension names from `DIMENSION_LIST`: the name of the first scale attached to each dimension.
fn scale_names(ds: &Dataset, ndim: usize) -> Vec<Option<String>> {
    let mut names = vec![None; ndim];
    let Ok(attr) = ds.attr("DIMENSION_LIST") else {
        return names;
    };
    let Ok(lists) = attr.read_raw::<hdf5::types::VarLenArray<hdf5::ObjectReference1>>() else {
        return names;
    };
    for (slot, refs) in names.iter_mut().zip(lists.iter()) {
        if let Some(r) = refs.iter().next() {
            if let Ok(hdf5::ReferencedObject::Dataset(scale)) = ds.dereference(r) {
                *slot = Some(basename(&scale.name()).to_owned());
            }
        }
    }
    names
}

/// A manifest of one chunk covering the whole array (none if the array has no elements).
fn single_chunk_manifest(shape: &[u64]) -> std::result::Result<ChunkManifest, Problem> {
    let grid: Vec<u64> = shape.iter().map(|&n| u64::from(n > 0)).collect();
    ChunkManifest::new(&grid).map_err(Skip)
}

/// The Zarr V2 dtype string of an HDF5 type.
fn zarr_dtype(info: &TypeInfo) -> String {
    let order = if info.size == 1 {
        '|'
    } else if info.big_endian {
        '>'
    } else {
        '<'
    };
    match info.class {
        TypeClass::Int { signed } => {
            format!("{order}{}{}", if signed { 'i' } else { 'u' }, info.size)
        }
        TypeClass::Float => format!("{order}f{}", info.size),
        TypeClass::FixedString => format!("|S{}", info.size),
        TypeClass::VarString => "|O".into(),
        TypeClass::Other(_) => format!("|V{}", info.size),
    }
}

/// What unwritten data reads as.
///
/// With a `_FillValue` attribute, that value is the Zarr `fill_value` (and xarray masks it,
/// as it does reading the file). Without one, `fill_value` is null, so xarray masks nothing,
/// as it does reading the file; if HDF5 fills unwritten data with something other than zero
/// (netCDF's default fill values, or an HDF5 fill value set without the attribute), that
/// element's bytes are returned so the unwritten chunks can be inlined holding it.
fn fill_value(
    attrs: &Attrs,
    props: &raw::CreateProps,
    tid: hdf5_sys::h5i::hid_t,
    info: &TypeInfo,
) -> (Value, Option<Vec<u8>>) {
    if !matches!(info.class, TypeClass::Int { .. } | TypeClass::Float) {
        return (Value::Null, None);
    }
    let float = info.class == TypeClass::Float;
    if let Some(fill) = attrs
        .get("_FillValue")
        .and_then(|v| crate::refs::fill_value_from_attr(v, float))
    {
        return (fill, None);
    }
    let unwritten = props
        .user_fill_value(tid, info.size)
        .filter(|bytes| bytes.iter().any(|&b| b != 0));
    (Value::Null, unwritten)
}

/// Decodes one numeric element stored in the file's byte order.
fn element_value(bytes: &[u8], info: &TypeInfo) -> Value {
    let mut b = [0u8; 8];
    let n = info.size.min(8).min(bytes.len());
    b[..n].copy_from_slice(&bytes[..n]);
    if info.big_endian {
        b[..n].reverse();
    }
    let raw = u64::from_le_bytes(b);
    match (info.class, info.size) {
        (TypeClass::Float, 4) => {
            crate::refs::fill_value_float(f64::from(f32::from_bits(raw as u32)))
        }
        (TypeClass::Float, 8) => crate::refs::fill_value_float(f64::from_bits(raw)),
        (TypeClass::Float, 2) => {
            crate::refs::fill_value_float(f64::from(half::f16::from_bits(raw as u16)))
        }
        (TypeClass::Int { signed: true }, s @ 1..=8) => {
            let shift = 64 - 8 * s as u32;
            Value::from(((raw << shift) as i64) >> shift)
        }
        (TypeClass::Int { signed: false }, _) => Value::from(raw),
        _ => Value::Null,
    }
}

/// numcodecs' `vlen-utf8` encoding: item count, then each item's length and bytes (u32 LE).
fn vlen_utf8(strings: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + strings.iter().map(|s| 4 + s.len()).sum::<usize>());
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for s in strings {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    out
}

/// Copies a C-order block of shape `count` into a zero-padded block of shape `chunk`.
fn pad_to_chunk(part: &[u8], count: &[u64], chunk: &[u64], size: usize) -> Vec<u8> {
    if count == chunk {
        return part.to_vec();
    }
    let total: u64 = chunk.iter().product();
    let mut out = vec![0u8; total as usize * size];
    let rows: u64 = count[..count.len().saturating_sub(1)].iter().product();
    let row_len = *count.last().unwrap_or(&1) as usize * size;
    for r in 0..rows {
        // Position of row r in `count`, then its offset in `chunk`.
        let mut rem = r;
        let mut dst = 0u64;
        let mut stride = 1u64;
        let mut idx = vec![0u64; count.len().saturating_sub(1)];
        for d in (0..idx.len()).rev() {
            idx[d] = rem % count[d];
            rem /= count[d];
        }
        for d in (0..chunk.len()).rev() {
            let i = if d < idx.len() { idx[d] } else { 0 };
            dst += i * stride;
            stride *= chunk[d];
        }
        let dst = dst as usize * size;
        let src = r as usize * row_len;
        out[dst..dst + row_len].copy_from_slice(&part[src..src + row_len]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtypes_follow_numpy() {
        let t = |class, size, big_endian| {
            zarr_dtype(&TypeInfo {
                class,
                size,
                big_endian,
                space_padded: false,
            })
        };
        assert_eq!(t(TypeClass::Float, 4, false), "<f4");
        assert_eq!(t(TypeClass::Int { signed: true }, 2, true), ">i2");
        assert_eq!(t(TypeClass::Int { signed: false }, 1, false), "|u1");
        assert_eq!(t(TypeClass::FixedString, 12, false), "|S12");
    }

    #[test]
    fn fill_bytes_decode_in_their_byte_order() {
        let info = TypeInfo {
            class: TypeClass::Int { signed: true },
            size: 2,
            big_endian: true,
            space_padded: false,
        };
        assert_eq!(element_value(&[0xff, 0xfe], &info), Value::from(-2));
        let info = TypeInfo {
            class: TypeClass::Float,
            size: 4,
            big_endian: false,
            space_padded: false,
        };
        assert_eq!(
            element_value(&f32::NAN.to_le_bytes(), &info),
            Value::from("NaN")
        );
    }

    #[test]
    fn vlen_utf8_layout() {
        assert_eq!(
            vlen_utf8(&["ab".into()]),
            vec![1, 0, 0, 0, 2, 0, 0, 0, b'a', b'b']
        );
    }

    #[test]
    fn edge_blocks_are_padded() {
        // A 1x2 block of u8 in a 2x3 chunk.
        assert_eq!(
            pad_to_chunk(&[1, 2], &[1, 2], &[2, 3], 1),
            vec![1, 2, 0, 0, 0, 0]
        );
        assert_eq!(
            pad_to_chunk(&[1, 2, 3, 4], &[2, 2], &[2, 3], 1),
            vec![1, 2, 0, 3, 4, 0]
        );
    }
}
