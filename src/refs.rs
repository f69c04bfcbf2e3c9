//! The reference model every stage speaks, and its serialisations.
//!
//! A [`RefStore`] is a Zarr V2 hierarchy whose chunks are references into other files. It is
//! plain data: scanners build it, the combiner merges it, the reader serves it, and
//! [`json`] turns it into kerchunk JSON and back, [`parquet`] into kerchunk Parquet and back;
//! [`read()`] and [`write()`] choose between the two. This module does no I/O of data files.

pub mod json;
mod model;
pub mod parquet;

use std::path::Path;

pub use model::{
    attr_f64, fill_value_float, fill_value_from_attr, float_attr, ArrayMeta, ArrayRefs, Attrs,
    ChunkManifest, ChunkRef, RefStore, StoreStats, NON_FINITE,
};

use crate::error::{Error, Result};

/// How a store is serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// kerchunk JSON (version 1, consolidated), one file.
    Json,
    /// kerchunk Parquet (fsspec's layout), a directory of `record_size` references per file.
    Parquet {
        /// Chunk references per Parquet file.
        record_size: usize,
    },
}

impl Format {
    /// The format a path's name implies: Parquet (default record size) for a name ending in
    /// `.parq` or `.parquet`, JSON otherwise.
    #[must_use]
    pub fn for_path(path: &Path) -> Self {
        if parquet::is_parquet_name(path) {
            Self::Parquet {
                record_size: parquet::DEFAULT_RECORD_SIZE,
            }
        } else {
            Self::Json
        }
    }
}

/// Reads a store: a local directory is a Parquet store; any other path or url a JSON store
/// (version 0 or 1).
///
/// # Errors
/// [`Error::Io`]/[`Error::Fetch`] when it cannot be read, [`Error::Store`] when it is not a
/// reference store (a data file given instead is named as one).
pub fn read(path_or_url: &str) -> Result<RefStore> {
    if crate::io::is_local_dir(path_or_url) {
        let (_, dir) = crate::io::classify(path_or_url)?;
        return parquet::read(Path::new(&dir), path_or_url);
    }
    let bytes = crate::io::read_all(path_or_url)?;
    if let Some(format) = crate::scan::detect::detect_bytes(&bytes[..bytes.len().min(4096)]) {
        return Err(Error::Store {
            store: path_or_url.to_owned(),
            key: None,
            reason: format!(
                "{format} data, not a reference store: scan it first (chunkref scan, or chunkref build to scan and combine)"
            ),
        });
    }
    json::from_json(&bytes, path_or_url)
}

/// Writes a store in `format`, atomically (a temporary file or directory, then a rename).
///
/// # Errors
/// [`Error::Io`] when it cannot be written.
pub fn write(store: &RefStore, path: &Path, format: Format) -> Result<()> {
    match format {
        Format::Json => json::write(store, path),
        Format::Parquet { record_size } => parquet::write(store, path, record_size),
    }
}
