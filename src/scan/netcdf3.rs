//! The `NetCDF3` scanner: classic (CDF-1), 64-bit offset (CDF-2) and 64-bit data (CDF-5).
//!
//! Pure Rust: the header is parsed here (see `header.rs`), netCDF-C is not needed. Only the
//! header's bytes are read, plus the bytes of chunks small enough to inline.
//!
//! - **Fixed-size variables**: one chunk covering the whole array at `begin`, of length
//!   `product(shape) * itemsize` (not the header's `vsize`, which is padded and saturates
//!   for variables over 4 GiB).
//! - **Record variables** (first dimension UNLIMITED): one chunk per record, chunk shape
//!   `[1, rest of shape]`, record `i` at `begin + i * recsize`, where `recsize` is the sum of
//!   the record variables' sizes padded to 4 bytes, except when the file has exactly one
//!   record variable: then records are not padded (netCDF-C's rule).
//! - `numrecs` = all ones (a file being written, "streaming"): the records the file holds
//!   whole are counted from its size.
//! - dtypes are big-endian as stored (`>f4`, `>i2`, `|i1`, CDF-5's `|u1`, `>u2`, `>u4`,
//!   `>i8`, `>u8`); `char` arrays are `|S1` with all their dimensions, which xarray joins along
//!   the last one into strings exactly as it does reading the file. No codecs.
//! - `fill_value`: the `_FillValue` attribute when there is one (kept as an attribute too),
//!   null otherwise. netCDF3 data is always fully allocated, so no chunk is missing, and
//!   without `_FillValue` xarray masks nothing, as it does reading the file.
//!
//! Every chunk must lie inside the file: a truncated file is an error naming the variable and
//! the offset.
//!
//! Known differences from kerchunk 0.2.10's `NetCDF3ToZarr` (checked by the interop tests):
//! it cannot read CDF-5 or streaming files, gives a file with exactly one record variable
//! one record too many (referencing bytes past the end of the file), and writes numeric
//! attributes as strings. Byte ranges of the records both read agree.

mod header;

use std::os::unix::fs::FileExt as _;
use std::path::Path;

use serde_json::Value;

use self::header::{Header, NcType, Source, Var};
use super::{file_url, ScanOptions, ScanOutput};
use crate::error::{Error, Result};
use crate::refs::{ArrayMeta, ArrayRefs, ChunkManifest, RefStore};

/// Scans one `NetCDF3` file.
///
/// # Errors
/// Returns [`Error::Io`] when the file cannot be read and [`Error::Scan`] when its header is
/// corrupt or truncated or a variable's data lies past the end of the file.
pub fn scan(path: &Path, options: &ScanOptions) -> Result<ScanOutput> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let read = |offset, length| {
        let mut buf = vec![0u8; length as usize];
        file.read_exact_at(&mut buf, offset)
            .map(|()| buf)
            .map_err(|e| format!("cannot read {length} bytes at byte {offset}: {e}"))
    };
    let url = match &options.url {
        Some(u) => u.clone(),
        None => file_url(path)?,
    };
    scan_source(
        path,
        Source::file(&file, file_len),
        file_len,
        read,
        &url,
        options,
    )
}

/// Scans a `NetCDF3` file held whole in memory, as [`scan`] scans one on disk (the fuzz
/// targets use it). Errors name `name`; references point at `options.url`, else at `name`.
///
/// # Errors
/// Returns [`Error::Scan`] when the header is corrupt or truncated or a variable's data lies
/// past the end of `bytes`.
pub fn scan_bytes(bytes: &[u8], name: &str, options: &ScanOptions) -> Result<ScanOutput> {
    let file_len = bytes.len() as u64;
    let read = |offset: u64, length: u64| {
        offset
            .checked_add(length)
            .and_then(|end| bytes.get(offset as usize..end as usize))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("cannot read {length} bytes at byte {offset}"))
    };
    let url = options.url.as_deref().unwrap_or(name);
    scan_source(
        Path::new(name),
        Source::bytes(bytes),
        file_len,
        read,
        url,
        options,
    )
}

/// The scan of a file of `file_len` bytes whose header `src` reads and whose chunks `read`
/// reads; `path` is the file errors name.
fn scan_source(
    path: &Path,
    mut src: Source<'_>,
    file_len: u64,
    read: impl Fn(u64, u64) -> std::result::Result<Vec<u8>, String>,
    url: &str,
    options: &ScanOptions,
) -> Result<ScanOutput> {
    let scan_error = |variable: Option<&str>, reason: String| Error::Scan {
        path: path.to_owned(),
        variable: variable.map(str::to_owned),
        reason,
    };
    let header = header::parse(&mut src).map_err(|r| scan_error(None, r))?;
    let mut store = RefStore::new();
    let url_index = store.intern_url(url);
    store.groups.insert(String::new(), header.attrs.clone());
    let layout = RecordLayout::of(&header, file_len);
    let mut warnings = Vec::new();
    for var in &header.vars {
        let array = variable(&header, &layout, var, &mut warnings)
            .map_err(|r| scan_error(Some(&var.name), r))?;
        if var.begin < header.len && array.grid().iter().all(|&g| g > 0) {
            return Err(scan_error(
                Some(&var.name),
                format!(
                    "its data begins at byte {}, inside the header (which ends at byte {}): the header is corrupt",
                    var.begin, header.len
                ),
            ));
        }
        let chunks = manifest(
            &array,
            var,
            &layout,
            file_len,
            url_index,
            &read,
            options.inline_threshold,
        )
        .map_err(|r| scan_error(Some(&var.name), r))?;
        store.arrays.insert(
            var.name.clone(),
            ArrayRefs {
                meta: array,
                chunks,
            },
        );
    }
    Ok(ScanOutput { store, warnings })
}

/// Where records lie: the size of one record of all record variables, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RecordLayout {
    record_dim: Option<usize>,
    recsize: u64,
    numrecs: u64,
}

impl RecordLayout {
    fn of(header: &Header, file_len: u64) -> Self {
        let record_dim = header.record_dim();
        let records: Vec<&Var> = header
            .vars
            .iter()
            .filter(|v| record_dim.is_some() && v.dimids.first() == record_dim.as_ref())
            .collect();
        let sizes: Vec<u64> = records
            .iter()
            .map(|v| record_bytes(header, v).unwrap_or(u64::MAX))
            .collect();
        let padded = sizes
            .iter()
            .fold(0u64, |acc, &s| acc.saturating_add(s.saturating_add(3) & !3));
        // netCDF-C (`NC_computeshapes`): when the first record variable is all of a record
        // (exactly one record variable, or the others are empty), records are not padded.
        let recsize = match sizes.first() {
            Some(&first) if first.saturating_add(3) & !3 == padded => first,
            _ => padded,
        };
        let numrecs = header.numrecs.unwrap_or_else(|| {
            // Streaming: count the records the file holds whole.
            let start = records.iter().map(|v| v.begin).min().unwrap_or(file_len);
            file_len
                .saturating_sub(start)
                .checked_div(recsize)
                .unwrap_or(0)
        });
        Self {
            record_dim,
            recsize,
            numrecs,
        }
    }
}

/// Bytes of one record of a record variable (or of the whole of a fixed one), unpadded.
fn record_bytes(header: &Header, var: &Var) -> Option<u64> {
    let skip = usize::from(
        header.record_dim().is_some() && var.dimids.first() == header.record_dim().as_ref(),
    );
    var.dimids
        .iter()
        .skip(skip)
        .map(|&d| header.dims.get(d).map(|d| d.len))
        .try_fold(var.nc_type.size(), |acc, n| acc.checked_mul(n?))
}

/// The Zarr metadata of one variable.
fn variable(
    header: &Header,
    layout: &RecordLayout,
    var: &Var,
    warnings: &mut Vec<String>,
) -> Result<ArrayMeta, String> {
    let mut shape = Vec::with_capacity(var.dimids.len());
    let mut dimensions = Vec::with_capacity(var.dimids.len());
    for (i, &d) in var.dimids.iter().enumerate() {
        let dim = header
            .dims
            .get(d)
            .ok_or_else(|| format!("dimension id {d} does not exist"))?;
        if Some(d) == layout.record_dim {
            if i != 0 {
                return Err(format!(
                    "the record dimension {} is not its first dimension",
                    dim.name
                ));
            }
            shape.push(layout.numrecs);
        } else {
            shape.push(dim.len);
        }
        dimensions.push(dim.name.clone());
    }
    let is_record = layout.record_dim.is_some() && var.dimids.first() == layout.record_dim.as_ref();
    let mut chunks: Vec<u64> = shape.iter().map(|&n| n.max(1)).collect();
    if is_record {
        if let Some(first) = chunks.first_mut() {
            *first = 1;
        }
    }
    let fill_value = fill_value(var, warnings);
    Ok(ArrayMeta {
        shape,
        chunks,
        dtype: var.nc_type.zarr_dtype().to_owned(),
        fill_value,
        filters: Vec::new(),
        compressor: None,
        dimensions,
        attrs: var.attrs.clone(),
    })
}

/// The Zarr `fill_value`: the `_FillValue` attribute when there is one, else null.
fn fill_value(var: &Var, warnings: &mut Vec<String>) -> Value {
    let Some(v) = var.attrs.get("_FillValue") else {
        return Value::Null;
    };
    if var.nc_type == NcType::Char {
        // A fixed string's fill value; xarray applies the attribute itself.
        return Value::Null;
    }
    crate::refs::fill_value_from_attr(v, var.nc_type.is_float()).unwrap_or_else(|| {
        warnings.push(format!(
            "variable {}: _FillValue {v} is not one {} value; fill_value left null",
            var.name,
            var.nc_type.zarr_dtype()
        ));
        Value::Null
    })
}

/// Where each chunk of a variable lies: checked against the file's length, small chunks
/// read (with `read`) and inlined.
fn manifest(
    meta: &ArrayMeta,
    var: &Var,
    layout: &RecordLayout,
    file_len: u64,
    url_index: u32,
    read: impl Fn(u64, u64) -> Result<Vec<u8>, String>,
    inline_threshold: u64,
) -> Result<ChunkManifest, String> {
    let grid = meta.grid();
    let chunk_len = meta
        .chunks
        .iter()
        .try_fold(var.nc_type.size(), |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| format!("its shape {:?} overflows", meta.shape))?;
    let count: u64 = grid.iter().product();
    let is_record = layout.record_dim.is_some() && var.dimids.first() == layout.record_dim.as_ref();
    let stride = if is_record { layout.recsize } else { 0 };
    if count > 0 {
        // The last chunk lies furthest into the file: check it before allocating the grid.
        let last = (count - 1)
            .checked_mul(stride)
            .and_then(|o| o.checked_add(var.begin))
            .and_then(|o| o.checked_add(chunk_len).map(|end| (o, end)));
        match last {
            Some((_, end)) if end <= file_len => {}
            Some((offset, _)) => {
                return Err(format!(
                    "data at byte {offset} (length {chunk_len}) lies past the end of the file ({file_len} bytes): the file is truncated"
                ))
            }
            None => return Err(format!("its data offsets overflow (begin {})", var.begin)),
        }
    }
    let mut manifest = ChunkManifest::new(&grid)?;
    for n in 0..manifest.len() {
        let offset = var.begin + n as u64 * stride;
        if chunk_len <= inline_threshold {
            manifest.set_inline(n, read(offset, chunk_len)?);
        } else {
            manifest.set_range(n, url_index, offset, chunk_len);
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::Attrs;

    fn header(vars: Vec<(NcType, Vec<usize>)>, dims: &[u64]) -> Header {
        Header {
            version: 1,
            numrecs: Some(3),
            dims: dims
                .iter()
                .enumerate()
                .map(|(i, &len)| header::Dim {
                    name: format!("d{i}"),
                    len,
                })
                .collect(),
            attrs: Attrs::new(),
            vars: vars
                .into_iter()
                .enumerate()
                .map(|(i, (nc_type, dimids))| Var {
                    name: format!("v{i}"),
                    dimids,
                    attrs: Attrs::new(),
                    nc_type,
                    vsize: 0,
                    begin: 100 + i as u64,
                })
                .collect(),
            len: 100,
        }
    }

    #[test]
    fn records_are_padded_unless_there_is_one_record_variable() {
        // (time, 3) shorts: 6 bytes, padded to 8; plus a (time) byte: 1, padded to 4.
        let h = header(
            vec![(NcType::Short, vec![0, 1]), (NcType::Byte, vec![0])],
            &[0, 3],
        );
        assert_eq!(RecordLayout::of(&h, 1000).recsize, 12);
        let h = header(vec![(NcType::Short, vec![0, 1])], &[0, 3]);
        assert_eq!(RecordLayout::of(&h, 1000).recsize, 6);
    }

    #[test]
    fn streaming_counts_whole_records() {
        let mut h = header(vec![(NcType::Short, vec![0, 1])], &[0, 3]);
        h.numrecs = None;
        // begin 100, 6-byte records, 20 bytes after begin: 3 whole records
        assert_eq!(RecordLayout::of(&h, 120).numrecs, 3);
    }

    /// A file scanned from memory gives the store of the same file scanned from disk.
    #[test]
    fn bytes_scan_like_the_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/nc3_64bit_offset.nc");
        let options = ScanOptions {
            url: Some("file:///x.nc".into()),
            ..ScanOptions::default()
        };
        let bytes = std::fs::read(&path).unwrap();
        let from_file = scan(&path, &options).unwrap();
        let from_bytes = scan_bytes(&bytes, "x.nc", &options).unwrap();
        assert_eq!(from_file.store, from_bytes.store);
        let err = scan_bytes(&bytes[..bytes.len() - 4], "x.nc", &options).unwrap_err();
        assert!(err.to_string().starts_with("x.nc: "), "{err}");
    }

    #[test]
    fn chunks_past_the_end_are_errors() {
        let h = header(vec![(NcType::Int, vec![0, 1])], &[0, 3]);
        let layout = RecordLayout::of(&h, 1000);
        let var = &h.vars[0];
        let meta = variable(&h, &layout, var, &mut Vec::new()).unwrap();
        assert_eq!(
            (meta.shape.clone(), meta.chunks.clone()),
            (vec![3, 3], vec![1, 3])
        );
        let none = |_, _| Err("no read".to_owned());
        let m = manifest(&meta, var, &layout, 136, 0, none, 0).unwrap();
        assert_eq!(m.len(), 3);
        let err = manifest(&meta, var, &layout, 135, 0, none, 0).unwrap_err();
        assert!(err.contains("byte 124 (length 12)"), "{err}");
    }
}
