//! The reference model every stage speaks, and its serialisations.
//!
//! A [`RefStore`] is a Zarr V2 hierarchy whose chunks are references into other files. It is
//! plain data: scanners build it, the combiner merges it, the reader serves it, and
//! [`json`] turns it into kerchunk JSON and back, [`parquet`] into kerchunk Parquet and back. This module does no I/O of data files.

pub mod json;
mod model;
pub mod parquet;

pub use model::{
    attr_f64, fill_value_float, fill_value_from_attr, float_attr, ArrayMeta, ArrayRefs, Attrs,
    ChunkManifest, ChunkRef, RefStore, StoreStats, NON_FINITE,
};
